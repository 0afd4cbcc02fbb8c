/*
 * tests/mutants_gate/gate_mutants.c - broken ports for the CI gate (issue
 * 13): each is the built-in scalar port (correct in every dtype, layout,
 * direction, partial rotary, stride, in place and scaling) with exactly
 * one realistic defect of the kind found in public framework bug reports.
 * The default `ropecheck verify --plugin` and `ropecheck prove --plugin`
 * must fail every one of them and name the defect as the cause. The
 * last two are right on a state's first call and wrong on its later ones
 * (cos/sin rows kept under the wrong key): the history check
 * (harness/guarded_call.h) is what must see them.
 *
 * One module per defect: GATE_DEFECT (a compile definition) selects it.
 * The defects act where a real port makes them: in the frequency table it
 * builds at prepare, in the per-token angle row (the row function of
 * impls/common/port_state.h), in how it reads the tensor views, or in
 * what it does after rotating.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "core/dd.h"
#include "core/dtype_convert.h"
#include "impls/common/exact_angle.h"
#include "impls/common/port_state.h"
#include "impls/scalar/scalar.h"
#include "reference/reference.h"
#include "ropecheck/plugin.h"

/* Macros, not an enum: GATE_DEFECT is compared in #if. */
#define GATE_WRONG_BASE             1 /* ignores spec->base and its table: base 10000 */
#define GATE_PARTIAL_EXPONENT       2 /* theta_i = base^(-2i/head_dim), not /rotary_dim */
#define GATE_PASSTHROUGH_ZEROED     3 /* channels >= rotary_dim set to 0 */
#define GATE_IGNORES_HEAD_STRIDE    4 /* heads assumed packed: head_stride = head_dim */
#define GATE_SPARSE_POSITIONS       5 /* every 384th position gets position m-1's angles */
#define GATE_IGNORES_DIRECTION      6 /* RC_INVERSE rotates forward */
#define GATE_UNSUPPORTED_ALL        7 /* prepare() refuses everything */
#define GATE_TOKEN_INDEX            8 /* rotates token t by t, not by positions[t] */
#define GATE_LAST_TOKEN_UNWRITTEN   9 /* the last token is never written */
#define GATE_APPROX_SINE           10 /* sin/cos from short Taylor series of the reduced angle */
#define GATE_POSITION_PLUS_ONE     11 /* rotates by positions[t] + 1 */
#define GATE_POSITION_F32          12 /* the position rounded to float first */
#define GATE_ANGLE_F32             13 /* the angle m*theta_i computed in float */
#define GATE_RADIAL_SCALE          14 /* every rotated pair scaled by 1 + 2^-9 */
#define GATE_APPLY_REFUSES         15 /* prepare() accepts, apply() refuses */
#define GATE_LAYOUT_SWAPPED        16 /* pairs channels with the other layout */
#define GATE_SPECIALS_ZEROED       17 /* NaN and Inf outputs replaced by 0 */
#define GATE_TAIL_SWAPPED          18 /* the last token: cos and sin swapped (a tail typo) */
#define GATE_ODD_HEAD_SWAPPED      19 /* heads two at a time; an odd last head's tail path
                                         has cos and sin swapped */
#define GATE_INF_SATURATED         20 /* +-Inf outputs saturated to the largest finite value
                                         (a saturating store); NaN kept */
#define GATE_ROWS_NEVER_RENEWED    21 /* cos/sin rows kept from the state's first call and
                                         reused by every later call of that size */
#define GATE_ROWS_KEYED_WITHOUT_DIRECTION \
                                   22 /* kept rows reused for the same positions in either
                                         direction (a backward pass after the forward) */

#ifndef GATE_DEFECT
#error "GATE_DEFECT must name one defect"
#endif

#define SPARSE_PERIOD 384

__attribute__((unused)) static void exact_row(int64_t m, int inverse, int half, const double *th, const double *tl,
                      rc_dd alpha, double *ch, double *sh, double *cl, double *sl)
{
    rc_exact_sincos_row(m, inverse, half, th, tl, alpha, ch, sh, cl, sl);
}

#if GATE_DEFECT == GATE_APPROX_SINE
/* sin and cos of x in [-pi, pi] by Taylor series to x^9 and x^8: accurate
 * near 0, off by up to ~7e-3 near +-pi. The error depends on the reduced
 * angle only, never on the position. */
static void approx_sincos(double x, double *s, double *c)
{
    double x2 = x * x;
    *s = x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))));
    *c = 1 - x2 / 2 * (1 - x2 / 12 * (1 - x2 / 30 * (1 - x2 / 56)));
}
#endif

/* The defective row: the exact one for a wrong position, or a wrong
 * function of the right angle. */
__attribute__((unused)) static void defect_row(int64_t m, int inverse, int half, const double *th, const double *tl,
                       rc_dd alpha, double *ch, double *sh, double *cl, double *sl)
{
#if GATE_DEFECT == GATE_SPARSE_POSITIONS
    exact_row(m > 0 && m % SPARSE_PERIOD == 0 ? m - 1 : m, inverse, half, th, tl, alpha, ch, sh,
              cl, sl);
#elif GATE_DEFECT == GATE_IGNORES_DIRECTION
    (void)inverse;
    exact_row(m, 0, half, th, tl, alpha, ch, sh, cl, sl);
#elif GATE_DEFECT == GATE_POSITION_PLUS_ONE
    exact_row(m + 1, inverse, half, th, tl, alpha, ch, sh, cl, sl);
#elif GATE_DEFECT == GATE_POSITION_F32
    exact_row((int64_t)(float)m, inverse, half, th, tl, alpha, ch, sh, cl, sl);
#elif GATE_DEFECT == GATE_APPROX_SINE || GATE_DEFECT == GATE_ANGLE_F32
    const double sign = inverse ? -1.0 : 1.0;
    for (int i = 0; i < half; i++) {
        double s, c;
#if GATE_DEFECT == GATE_APPROX_SINE
        /* The exact angle reduced to [-pi, pi] (from the exact sine and
         * cosine), then the short series. */
        double es, ec;
        rc_exact_sincos_scaled(m, th[i], tl[i], (rc_dd){1.0, 0.0}, &es, &ec);
        approx_sincos(atan2(es, ec), &s, &c);
#else
        float phi = (float)m * (float)th[i];
        s = sin((double)phi);
        c = cos((double)phi);
#endif
        double a = alpha.hi + alpha.lo;
        ch[i] = a * c;
        sh[i] = sign * a * s;
        if (cl && sl) {
            cl[i] = 0.0;
            sl[i] = 0.0;
        }
    }
#else
    exact_row(m, inverse, half, th, tl, alpha, ch, sh, cl, sl);
#endif
}

#if GATE_DEFECT == GATE_TAIL_SWAPPED || GATE_DEFECT == GATE_ODD_HEAD_SWAPPED
/* The row with cos and sin exchanged: what a hand-written tail loop gets
 * when it passes its two arguments in the wrong order. */
static void swapped_row(int64_t m, int inverse, int half, const double *th, const double *tl,
                        rc_dd alpha, double *ch, double *sh, double *cl, double *sl)
{
    exact_row(m, inverse, half, th, tl, alpha, sh, ch, sl, cl);
}

/* The tail path: tokens t0.. and heads h0.. of the call, n_tokens x
 * n_heads of them, rotated with the swapped row (positions start at t0). */
static rc_status tail_with_swapped_row(void *state, const rc_tensor *in, const rc_tensor *out,
                                       int64_t t0, int64_t n_tokens, int64_t h0, int64_t n_heads,
                                       const int64_t *positions, rc_direction direction)
{
    rc_port_state *ps = state;
    const size_t es = rc_dtype_size(ps->dtype);
    rc_tensor it = *in, ot = *out;
    it.n_tokens = ot.n_tokens = n_tokens;
    it.n_heads = ot.n_heads = n_heads;
    it.data = (char *)in->data + (size_t)(t0 * in->token_stride + h0 * in->head_stride) * es;
    ot.data = (char *)out->data + (size_t)(t0 * out->token_stride + h0 * out->head_stride) * es;
    ps->row = swapped_row;
    const rc_status s = rc_impl_scalar.apply(state, &it, &ot, positions, direction);
    ps->row = defect_row;
    return s;
}
#endif

static rc_status gate_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
#if GATE_DEFECT == GATE_UNSUPPORTED_ALL
    (void)spec;
    return RC_ERR_UNSUPPORTED;
#else
    rc_spec s = *spec;
    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
#if GATE_DEFECT == GATE_WRONG_BASE || GATE_DEFECT == GATE_PARTIAL_EXPONENT
    /* The port builds its own table, as most do, from the wrong formula. */
    for (int i = 0; i < spec->rotary_dim / 2; i++) {
        rc_dd t = GATE_DEFECT == GATE_WRONG_BASE
                      ? rc_ref_theta_dd(10000.0, spec->rotary_dim, i)
                      : rc_ref_theta_dd(spec->base, spec->head_dim, i);
        hi[i] = t.hi;
        lo[i] = t.lo;
    }
    s.theta_hi = hi;
    s.theta_lo = lo;
#elif GATE_DEFECT == GATE_LAYOUT_SWAPPED
    s.layout = spec->layout == RC_LAYOUT_HALF ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF;
#endif
    (void)hi;
    (void)lo;
    rc_status st = rc_impl_scalar.prepare(&s, state);
    if (st == RC_OK && *state)
        ((rc_port_state *)*state)->row = defect_row;
    return st;
#endif
}

static rc_status gate_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    rc_tensor i2 = *in, o2 = *out;
    const rc_port_state *st = state;
    (void)st;
#if GATE_DEFECT == GATE_APPLY_REFUSES
    (void)positions;
    (void)direction;
    return RC_ERR_UNSUPPORTED;
#endif
#if GATE_DEFECT == GATE_IGNORES_HEAD_STRIDE
    i2.head_stride = st->head_dim;
    o2.head_stride = st->head_dim;
#elif GATE_DEFECT == GATE_LAST_TOKEN_UNWRITTEN
    if (i2.n_tokens > 1) {
        i2.n_tokens--;
        o2.n_tokens--;
    }
#endif
#if GATE_DEFECT == GATE_ROWS_NEVER_RENEWED || GATE_DEFECT == GATE_ROWS_KEYED_WITHOUT_DIRECTION
    /* The scalar port keeps a call's rows with its positions and direction
     * (impls/common/port_state.h) and reuses them only when both match:
     * the defect rewrites that key before the call, so the port believes
     * it. Never renewed: any call of the kept size matches. Keyed without
     * the direction: a call at the kept positions matches either way. */
    rc_port_state *ks = state;
    const size_t key_bytes = (size_t)in->n_tokens * (size_t)ks->n_axes * sizeof *positions;
    if (ks->kept_tokens == in->n_tokens && ks->kept_positions &&
        (GATE_DEFECT == GATE_ROWS_NEVER_RENEWED ||
         memcmp(ks->kept_positions, positions, key_bytes) == 0)) {
        memcpy(ks->kept_positions, positions, key_bytes);
        ks->kept_direction = direction;
    }
#endif
    int64_t token_pos[4096];
#if GATE_DEFECT == GATE_TOKEN_INDEX
    if (in->n_tokens > 4096)
        return RC_ERR_UNSUPPORTED;
    for (int64_t t = 0; t < in->n_tokens; t++)
        token_pos[t] = t;
    positions = token_pos;
#endif
    (void)token_pos;
#if GATE_DEFECT == GATE_TAIL_SWAPPED
    /* The body rotates all tokens but the last; the "tail" the last. */
    rc_status s = RC_OK;
    const int64_t last = in->n_tokens - 1;
    if (last > 0) {
        i2.n_tokens = o2.n_tokens = last;
        s = rc_impl_scalar.apply(state, &i2, &o2, positions, direction);
    }
    if (s == RC_OK)
        s = tail_with_swapped_row(state, in, out, last, 1, 0, in->n_heads, positions + last,
                                  direction);
#elif GATE_DEFECT == GATE_ODD_HEAD_SWAPPED
    /* The body rotates heads in pairs; an odd count leaves one head for
     * the tail path (one head of one: the whole call). */
    rc_status s = RC_OK;
    const int64_t paired = in->n_heads & ~(int64_t)1;
    if (paired) {
        i2.n_heads = o2.n_heads = paired;
        s = rc_impl_scalar.apply(state, &i2, &o2, positions, direction);
    }
    if (s == RC_OK && paired < in->n_heads)
        s = tail_with_swapped_row(state, in, out, 0, in->n_tokens, paired, 1, positions,
                                  direction);
#else
    rc_status s = rc_impl_scalar.apply(state, &i2, &o2, positions, direction);
#endif
#if GATE_DEFECT == GATE_SPECIALS_ZEROED
    /* "Sanitizing" the output: every NaN or Inf becomes 0. */
    for (int64_t t = 0; s == RC_OK && t < out->n_tokens; t++)
        for (int64_t h = 0; h < out->n_heads; h++)
            for (int c = 0; c < st->head_dim; c++) {
                int64_t idx = t * out->token_stride + h * out->head_stride + c;
                if (!isfinite(rc_elem_load(st->dtype, out->data, idx)))
                    rc_elem_store(st->dtype, out->data, idx, 0.0);
            }
#endif
#if GATE_DEFECT == GATE_INF_SATURATED
    /* A saturating conversion on the way out: +-Inf becomes +-max. */
    static const double largest[RC_DTYPE_COUNT] = {
        [RC_DTYPE_F32] = 0x1.fffffep127, [RC_DTYPE_F64] = 0x1.fffffffffffffp1023,
        [RC_DTYPE_F16] = 65504.0, [RC_DTYPE_BF16] = 0x1.fep127};
    for (int64_t t = 0; s == RC_OK && t < out->n_tokens; t++)
        for (int64_t h = 0; h < out->n_heads; h++)
            for (int c = 0; c < st->head_dim; c++) {
                int64_t idx = t * out->token_stride + h * out->head_stride + c;
                const double v = rc_elem_load(st->dtype, out->data, idx);
                if (isinf(v))
                    rc_elem_store(st->dtype, out->data, idx, v > 0 ? largest[st->dtype]
                                                                   : -largest[st->dtype]);
            }
#endif
#if GATE_DEFECT == GATE_PASSTHROUGH_ZEROED || GATE_DEFECT == GATE_RADIAL_SCALE
    if (s == RC_OK && st->dtype == RC_DTYPE_F32) {
        for (int64_t t = 0; t < out->n_tokens; t++)
            for (int64_t h = 0; h < out->n_heads; h++) {
                float *row = (float *)out->data + t * out->token_stride + h * out->head_stride;
#if GATE_DEFECT == GATE_PASSTHROUGH_ZEROED
                for (int c = st->rotary_dim; c < st->head_dim; c++)
                    row[c] = 0.0f;
#else
                for (int c = 0; c < st->rotary_dim; c++)
                    row[c] *= 1.0f + 0x1p-9f;
#endif
            }
    }
#endif
    return s;
}

#if GATE_DEFECT == GATE_UNSUPPORTED_ALL
/* ABI 3: the port's own reason, shown with the skip. */
static void gate_explain(const void *state, char *why, size_t why_len)
{
    (void)state;
    snprintf(why, why_len, "no kernel for head_dim %s (test mutant)", "any");
}
#endif

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

static const rc_impl gate_mutant = {
    .abi_version = RC_ABI_VERSION,
    .name = GATE_NAME,
    .description = "test mutant: one realistic defect (tests/mutants_gate)",
#if GATE_DEFECT == GATE_PASSTHROUGH_ZEROED || GATE_DEFECT == GATE_RADIAL_SCALE
    /* The defect is written for f32 storage; such a port offers f32. */
    .caps = RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING,
#else
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING,
#endif
    .available = NULL,
    .prepare = gate_prepare,
    .apply = gate_apply,
    .release = rc_port_state_destroy,
#if GATE_DEFECT == GATE_UNSUPPORTED_ALL
    .explain = gate_explain,
#endif
};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &gate_mutant;
}
