/*
 * tests/mutants_scaling/mutants_scaling.c - one correct f32 port with a
 * switch per published scaling bug (mutants_scaling.h). Each wrong table
 * is computed in prepare(), in double, from spec->scaling, the way the
 * buggy framework code computes it (the formulas are next to each bug
 * below; names as in Hugging Face's rope_scaling), on top of the exact
 * plain table rc_ref_theta_dd: the bug is then the only error, not the
 * double arithmetic.
 */
#include "tests/mutants_scaling/mutants_scaling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd.h"
#include "core/dtype_convert.h"
#include "impls/common/exact_angle.h"
#include "impls/common/rotate_pair.h"
#include "reference/reference.h"

/* 2*pi as the double nearest it: Llama 3's wavelength 2*pi/theta in
 * framework code is a double (or f32) computation too. */
#define SM_TWO_PI 6.283185307179586

typedef enum bug {
    BUG_THETA_BF16,
    BUG_SINCOS_F16,
    BUG_ALPHA_MISSING,
    BUG_ALPHA_TWICE,
    BUG_LLAMA3_DROPPED,
    BUG_LLAMA3_HARD_CUT,
    BUG_LLAMA3_WRONG_L0,
    BUG_DYNAMIC_INTDIV
} bug;

typedef struct mstate {
    bug b;
    int32_t d, r;
    rc_layout layout;
    rc_dd alpha;
    double *hi, *lo;
} mstate;

/* Llama 3 (Meta's Llama 3.1 release; HF _compute_llama3_parameters): with
 * wavelen = 2*pi/theta, low_wl = L0/low_freq_factor, high_wl =
 * L0/high_freq_factor, theta/s above low_wl, theta below high_wl, and in
 * between (1 - sm)*theta/s + sm*theta, sm = (L0/wavelen - low)/(high - low).
 * Returned as the multiplier of theta. */
static double llama3_multiplier(double theta, double s, double l0, double low, double high)
{
    const double wavelen = SM_TWO_PI / theta;
    if (wavelen > l0 / low)
        return 1.0 / s;
    if (wavelen < l0 / high)
        return 1.0;
    const double sm = (l0 / wavelen - low) / (high - low);
    return (1.0 - sm) / s + sm;
}

/* The (wrong) table of bugs 5-8; RC_ERR_UNSUPPORTED for another family. */
static rc_status wrong_table(const rc_spec *spec, bug b, double *hi, double *lo)
{
    const rc_scaling *sc = spec->scaling;
    const int half = spec->rotary_dim / 2;
    const rc_scaling_type want = b == BUG_DYNAMIC_INTDIV ? RC_SCALING_DYNAMIC_NTK
                                                         : RC_SCALING_LLAMA3;
    if (!sc || sc->type != want)
        return RC_ERR_UNSUPPORTED;
    double base = spec->base;
    if (b == BUG_DYNAMIC_INTDIV && sc->context > sc->original_context) {
        /* base * ((s*L) / L0 - (s - 1))^(r/(r-2)) with (s*L) / L0 an
         * integer division, as in code that keeps lengths in integers. */
        const int64_t q = (int64_t)(sc->factor * (double)sc->context) / sc->original_context;
        const double r = spec->rotary_dim;
        base *= pow((double)q - (sc->factor - 1.0), r / (r - 2.0));
    }
    for (int i = 0; i < half; i++) {
        rc_dd t = rc_ref_theta_dd(base, spec->rotary_dim, i); /* plain, exact */
        double k = 1.0;
        if (b == BUG_LLAMA3_HARD_CUT) /* the ramp replaced by one cut at L0/low */
            k = SM_TWO_PI / t.hi > (double)sc->original_context / sc->low_freq_factor
                    ? 1.0 / sc->factor
                    : 1.0;
        else if (b == BUG_LLAMA3_WRONG_L0) /* L0 = max_position = L0 * s */
            k = llama3_multiplier(t.hi, sc->factor, (double)sc->original_context * sc->factor,
                                  sc->low_freq_factor, sc->high_freq_factor);
        if (k != 1.0)
            t = rc_dd_mul_d(t, k);
        hi[i] = t.hi;
        lo[i] = t.lo;
    }
    return RC_OK;
}

static rc_status sm_prepare(const rc_spec *spec, void **state, bug b)
{
    *state = NULL;
    if (spec->dtype != RC_DTYPE_F32)
        return RC_ERR_UNSUPPORTED;
    const int half = spec->rotary_dim / 2;
    mstate *st = calloc(1, sizeof *st);
    if (!st)
        return RC_ERR_NOMEM;
    st->hi = malloc((size_t)half * sizeof(double));
    st->lo = malloc((size_t)half * sizeof(double));
    if (!st->hi || !st->lo) {
        free(st->hi);
        free(st->lo);
        free(st);
        return RC_ERR_NOMEM;
    }
    st->b = b;
    st->d = spec->head_dim;
    st->r = spec->rotary_dim;
    st->layout = spec->layout;
    /* rope.h: out_scale_hi == 0 means 1. */
    st->alpha.hi = spec->out_scale_hi == 0.0 ? 1.0 : spec->out_scale_hi;
    st->alpha.lo = spec->out_scale_hi == 0.0 ? 0.0 : spec->out_scale_lo;
    rc_status rs = RC_OK;
    switch (b) {
    case BUG_LLAMA3_DROPPED:
    case BUG_LLAMA3_HARD_CUT:
    case BUG_LLAMA3_WRONG_L0:
    case BUG_DYNAMIC_INTDIV:
        rs = wrong_table(spec, b, st->hi, st->lo);
        break;
    default:
        memcpy(st->hi, spec->theta_hi, (size_t)half * sizeof(double));
        memcpy(st->lo, spec->theta_lo, (size_t)half * sizeof(double));
        break;
    }
    if (b == BUG_THETA_BF16) /* inv_freq = (...).to(torch.bfloat16) */
        for (int i = 0; i < half; i++) {
            st->hi[i] = rc_round_to_dtype(RC_DTYPE_BF16, st->hi[i]);
            st->lo[i] = 0.0;
        }
    if (b == BUG_ALPHA_MISSING)
        st->alpha = (rc_dd){1.0, 0.0};
    if (b == BUG_ALPHA_TWICE)
        st->alpha = rc_dd_mul(st->alpha, st->alpha);
    if (rs != RC_OK) {
        free(st->hi);
        free(st->lo);
        free(st);
        return rs;
    }
    *state = st;
    return RC_OK;
}

static void sm_release(void *state)
{
    mstate *st = state;
    if (!st)
        return;
    free(st->hi);
    free(st->lo);
    free(st);
}

static rc_status sm_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                          const int64_t *positions, rc_direction dir)
{
    const mstate *st = state;
    const int half = st->r / 2;
    const int step = st->layout == RC_LAYOUT_INTERLEAVED ? 2 : 1;
    const int off = st->layout == RC_LAYOUT_INTERLEAVED ? 1 : half;
    for (int64_t t = 0; t < in->n_tokens; t++) {
        const int64_t m = positions[t];
        for (int64_t h = 0; h < in->n_heads; h++) {
            const float *x = (const float *)in->data + t * in->token_stride + h * in->head_stride;
            float *y = (float *)out->data + t * out->token_stride + h * out->head_stride;
            float tmp[RC_MAX_HEAD_DIM]; /* in place: read everything first */
            memcpy(tmp, x, (size_t)st->d * sizeof(float));
            for (int i = 0; i < half; i++) {
                double s, c;
                if (st->b == BUG_SINCOS_F16) {
                    /* cos/sin cached in f16, then scaled (HF: cos * scaling). */
                    rc_exact_sincos(m, st->hi[i], st->lo[i], &s, &c);
                    s = rc_round_to_dtype(RC_DTYPE_F16, s) * st->alpha.hi;
                    c = rc_round_to_dtype(RC_DTYPE_F16, c) * st->alpha.hi;
                } else {
                    rc_exact_sincos_scaled(m, st->hi[i], st->lo[i], st->alpha, &s, &c);
                }
                if (dir == RC_INVERSE)
                    s = -s;
                const int ia = i * step, ib = ia + off;
                double xa, xb;
                rc_rotate_pair_d(tmp[ia], tmp[ib], c, s, &xa, &xb);
                y[ia] = (float)xa;
                y[ib] = (float)xb;
            }
            for (int ch = st->r; ch < st->d; ch++)
                y[ch] = tmp[ch];
        }
    }
    return RC_OK;
}

#define SMUTANT(ident, bugv, label, desc)                                                  \
    static rc_status ident##_prepare(const rc_spec *spec, void **state)                   \
    {                                                                                      \
        return sm_prepare(spec, state, bugv);                                              \
    }                                                                                      \
    const rc_impl rc_smutant_##ident = {RC_ABI_VERSION,                                    \
                                        label,                                             \
                                        desc,                                              \
                                        RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | \
                                            RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE |       \
                                            RC_CAP_STRIDED | RC_CAP_SCALING,               \
                                        NULL,                                              \
                                        ident##_prepare,                                   \
                                        sm_apply,                                          \
                                        sm_release, NULL};

SMUTANT(theta_bf16, BUG_THETA_BF16, "smutant-theta-bf16", "inverse frequencies rounded to bf16")
SMUTANT(sincos_f16, BUG_SINCOS_F16, "smutant-sincos-f16", "cos/sin table kept in f16")
SMUTANT(alpha_missing, BUG_ALPHA_MISSING, "smutant-alpha-missing",
        "attention factor (output scale) ignored")
SMUTANT(alpha_twice, BUG_ALPHA_TWICE, "smutant-alpha-twice", "attention factor applied twice")
SMUTANT(llama3_dropped, BUG_LLAMA3_DROPPED, "smutant-llama3-dropped",
        "llama3 scaling dropped: plain base^(-2i/r)")
SMUTANT(llama3_hard_cut, BUG_LLAMA3_HARD_CUT, "smutant-llama3-hard-cut",
        "llama3 ramp replaced by a hard cut at L0/low_freq_factor")
SMUTANT(llama3_wrong_l0, BUG_LLAMA3_WRONG_L0, "smutant-llama3-wrong-l0",
        "llama3 table with original context L0 * factor")
SMUTANT(dynamic_intdiv, BUG_DYNAMIC_INTDIV, "smutant-dynamic-intdiv",
        "dynamic NTK base from the integer quotient (s*L)/L0")
