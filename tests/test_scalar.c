/*
 * tests/test_scalar.c - the scalar implementation against the MPFR
 * reference: every dtype and layout, partial rotary shapes from real
 * models, strides with gaps, in place, inverse, inverse(forward(x)),
 * positions up to 2^31 (the gate) and up to 2^53 (hard positions
 * included), special values and bit-exact passthrough.
 *
 * BOUNDS (derived in impls/scalar/scalar.c and exact_angle.h; u = 2^-53,
 * U = 1 bounds the sine and cosine's error in ulps (sincos_dd.h: 0.494),
 * X = the largest m*theta, theta_0 = 1 so X = the largest position):
 *   f32, f16, bf16: pair ULP <= 0.5 + 2^-24 for every m < 2^53. (The
 *     double result is within 2^-25.6 ulp_T(N) of exact; one rounding.)
 *     This is stricter than the gate asked of scalar (1 ulp, faithful).
 *   f64: pair ULP <= 0.5 + sqrt(2)*U + 43u + delta/u, where the angle
 *     error delta <= u^2*(2X + 58) (reduction) + u^2*X (the host's
 *     double-double theta, RN of an MPFR value: |theta - hi - lo| <=
 *     ulp(lo)/2 <= 2^-106 theta): about 1.92 below 2^31 and 4.9 at 2^53.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/registry.h"
#include "impls/builtins.h"
#include "core/rng.h"
#include "core/scaling.h"
#include "impls/scalar/scalar.h"
#include "reference/metrics.h"
#include "reference/reference.h"
#include "reference/scaling.h"

#ifndef RC_HARD_POSITIONS_FILE
#error "RC_HARD_POSITIONS_FILE must name tests/data/hard_positions.txt"
#endif

#define U 0x1p-53
/* The error of the f64 path's sine and cosine, in u, as double-doubles:
 * impls/common/sincos_dd.h derives |S - sin|, |C - cos| <= 0.494u +
 * 2^-102 = (0.494 + 2^-49)u, which tests/test_sincos_dd.c checks against
 * MPFR. (It used to be glibc's 1 ulp, when libm computed them.) */
#define SINCOS_U 0.49401
/* sqrt(2) rounded up (SQRT2_UP is not C11): bounds only grow with it. */
#define SQRT2_UP 1.4142135623730951

static uint64_t seed_value(void)
{
    return rc_test_seed("test_scalar", 20261123u);
}

static uint64_t test_seed(void)
{
    return seed_value();
}

/* The derived bounds above, for positions up to max_m. */
static double pair_bound(rc_dtype t, double max_m)
{
    if (t != RC_DTYPE_F64)
        return 0.5 + 0x1p-24;
    double delta_over_u = U * (3.0 * max_m + 58.0);
    return 0.5 + SQRT2_UP * SINCOS_U + 43.0 * U + delta_over_u;
}

typedef struct shape {
    const char *name;
    int d, r;
    double base;
} shape;

static const shape SHAPES[] = {
    {"llama3-d128", 128, 128, 500000.0},
    {"neox-r24-d96", 96, 24, 10000.0},
    {"phi2-r32-d80", 80, 32, 10000.0},
    {"gptj-r64-d256", 256, 64, 10000.0},
};

/* ---- inputs ------------------------------------------------------------ */

/* sign * [1, 2) * 2^e rounded to t: exact in t. */
static double value_with_exp(rc_rng *g, rc_dtype t, int e)
{
    double x = ldexp(1.0 + rc_rng_uniform(g), e);
    if (rc_rng_next(g) & 1)
        x = -x;
    return rc_round_to_dtype(t, x);
}

/* Exponent range of "tiny" values: the subnormals and the bottom of the
 * normals of t (for f64 also the range where scalar scales by 2^600). */
static int tiny_exp(rc_rng *g, rc_dtype t)
{
    switch (t) {
    case RC_DTYPE_F32: return -149 + (int)rc_rng_below(g, 30);
    case RC_DTYPE_F16: return -24 + (int)rc_rng_below(g, 12);
    case RC_DTYPE_BF16: return -133 + (int)rc_rng_below(g, 14);
    default: return -1074 + (int)rc_rng_below(g, 180);
    }
}

/* One pair (a, b): mostly independent magnitudes 2^-8..2^8 (so one may be
 * 2^16 times the other: cancellation for the component, not for the pair
 * metric), sometimes a zero, equal magnitudes, or both tiny. */
static void random_pair(rc_rng *g, rc_dtype t, double *a, double *b)
{
    unsigned kind = (unsigned)rc_rng_below(g, 100);
    if (kind < 88) {
        *a = value_with_exp(g, t, -8 + (int)rc_rng_below(g, 17));
        *b = value_with_exp(g, t, -8 + (int)rc_rng_below(g, 17));
    } else if (kind < 92) {
        *a = value_with_exp(g, t, -8 + (int)rc_rng_below(g, 17));
        *b = 0.0;
        if (kind & 1) {
            *b = *a;
            *a = 0.0;
        }
    } else if (kind < 95) {
        *a = value_with_exp(g, t, -3);
        *b = (kind & 1) ? *a : -*a;
    } else {
        *a = value_with_exp(g, t, tiny_exp(g, t));
        *b = value_with_exp(g, t, tiny_exp(g, t));
    }
}

/* A passthrough value: random, or a NaN with a payload, or an infinity,
 * so "bit-exact" is checked where a float copy would change bits. */
static void store_passthrough(rc_rng *g, rc_dtype t, void *buf, int64_t idx)
{
    unsigned kind = (unsigned)rc_rng_below(g, 8);
    uint64_t r = rc_rng_next(g);
    switch (t) {
    case RC_DTYPE_F32: {
        uint32_t bits = kind == 0 ? (0x7f800001u | (uint32_t)(r & 0x3fffffu)) /* sNaN */
                                  : kind == 1 ? 0xffc00000u | (uint32_t)(r & 0x3fffffu)
                                              : 0u;
        if (bits) {
            memcpy((float *)buf + idx, &bits, 4);
            return;
        }
        break;
    }
    case RC_DTYPE_F64: {
        uint64_t bits = kind == 0 ? (0x7ff0000000000001ull | (r & 0x7ffffffffffffull))
                                  : kind == 1 ? 0xfff8000000000000ull | (r & 0x7ffffffffffffull)
                                              : 0u;
        if (bits) {
            memcpy((double *)buf + idx, &bits, 8);
            return;
        }
        break;
    }
    case RC_DTYPE_F16:
    case RC_DTYPE_BF16: {
        uint16_t nan = t == RC_DTYPE_F16 ? 0x7c01 : 0x7f81; /* signaling, payload 1 */
        if (kind <= 1) {
            ((uint16_t *)buf)[idx] = (uint16_t)(nan | (kind ? 0x8000u : 0u) | (r & 0x3u));
            return;
        }
        break;
    }
    default: break;
    }
    rc_elem_store(t, buf, idx, value_with_exp(g, t, -8 + (int)rc_rng_below(g, 17)));
}

/* ---- one run of scalar, checked against the reference ------------------ */

typedef struct run_cfg {
    const shape *sh;
    rc_dtype dtype;
    rc_layout layout;
    rc_direction dir;
    int64_t n_tokens, n_heads;
    const int64_t *positions;
    int64_t in_token_stride, in_head_stride;   /* 0: packed */
    int64_t out_token_stride, out_head_stride; /* 0: packed; ignored in place */
    int in_place;
    uint64_t stream; /* RNG stream for the inputs */
    double bound;    /* max pair ULP allowed */
    const rc_scaling *scaling; /* NULL: none */
} run_cfg;

typedef struct run_result {
    double max_pair;
    int64_t worst_pos, worst_token, worst_head;
    int32_t worst_ch;
    int64_t elements;
} run_result;

static void spec_for(const run_cfg *c, rc_spec *spec, double *th, double *tl)
{
    /* As the host fills it (harness/verify.c): the scaled table and the
     * output scale alpha when the spec is scaled. */
    rc_ref_freq_table(c->sh->base, c->sh->r, c->scaling, th, tl);
    const rc_dd alpha = rc_ref_out_scale_dd(c->scaling);
    spec->scaling = c->scaling;
    spec->out_scale_hi = alpha.hi;
    spec->out_scale_lo = alpha.lo;
    spec->head_dim = c->sh->d;
    spec->rotary_dim = c->sh->r;
    spec->base = c->sh->base;
    spec->layout = c->layout;
    spec->dtype = c->dtype;
    spec->theta_hi = th;
    spec->theta_lo = tl;
}

static int64_t view_extent(int64_t n_tokens, int64_t n_heads, int64_t ts, int64_t hs, int64_t d)
{
    return (n_tokens - 1) * ts + (n_heads - 1) * hs + d;
}

/* 1 where element k of the buffer belongs to the view. */
static unsigned char *view_mask(int64_t extent, int64_t n_tokens, int64_t n_heads, int64_t ts,
                                int64_t hs, int64_t d)
{
    unsigned char *mask = calloc((size_t)extent, 1);
    cr_assert(mask);
    for (int64_t t = 0; t < n_tokens; t++)
        for (int64_t h = 0; h < n_heads; h++)
            memset(mask + t * ts + h * hs, 1, (size_t)d);
    return mask;
}

static run_result run_and_check(const run_cfg *c)
{
    const int64_t d = c->sh->d, r = c->sh->r, T = c->n_tokens, H = c->n_heads;
    const size_t es = rc_dtype_size(c->dtype);
    const int64_t ihs = c->in_head_stride ? c->in_head_stride : d;
    const int64_t its = c->in_token_stride ? c->in_token_stride : H * ihs;
    int64_t ohs = c->out_head_stride ? c->out_head_stride : d;
    int64_t ots = c->out_token_stride ? c->out_token_stride : H * ohs;
    if (c->in_place) {
        ohs = ihs;
        ots = its;
    }
    const int64_t iext = view_extent(T, H, its, ihs, d);
    const int64_t oext = view_extent(T, H, ots, ohs, d);

    /* Canary bytes in every gap: scalar must not write them. */
    unsigned char *in = malloc((size_t)iext * es);
    unsigned char *saved = malloc((size_t)iext * es);
    cr_assert(in && saved);
    memset(in, 0xA5, (size_t)iext * es);
    rc_rng g;
    rc_rng_seed3(&g, seed_value(), c->stream, (uint64_t)c->dtype * 16 + (uint64_t)c->layout);
    const int64_t half = r / 2;
    for (int64_t t = 0; t < T; t++)
        for (int64_t h = 0; h < H; h++) {
            int64_t base = t * its + h * ihs;
            for (int64_t i = 0; i < half; i++) {
                int64_t ca = c->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                int64_t cb = c->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half;
                double a, b;
                random_pair(&g, c->dtype, &a, &b);
                rc_elem_store(c->dtype, in, base + ca, a);
                rc_elem_store(c->dtype, in, base + cb, b);
            }
            for (int64_t ch = r; ch < d; ch++)
                store_passthrough(&g, c->dtype, in, base + ch);
        }
    memcpy(saved, in, (size_t)iext * es);

    unsigned char *out = in;
    if (!c->in_place) {
        out = malloc((size_t)oext * es);
        cr_assert(out);
        memset(out, 0x5A, (size_t)oext * es);
    }

    double *th = malloc((size_t)half * sizeof(double));
    double *tl = malloc((size_t)half * sizeof(double));
    cr_assert(th && tl);
    rc_spec spec;
    spec_for(c, &spec, th, tl);
    void *state = NULL;
    cr_assert_eq(rc_impl_scalar.prepare(&spec, &state), RC_OK);
    rc_tensor tin = {in, T, H, its, ihs};
    rc_tensor tout = {out, T, H, ots, ohs};
    rc_status st = rc_impl_scalar.apply(state, &tin, &tout, c->positions, c->dir);
    cr_assert_eq(st, RC_OK, "apply: %s", rc_status_name(st));
    if (c->in_place) {
        /* In place must give the same bits as out of place (both loads
         * happen before either store). */
        unsigned char *again = malloc((size_t)iext * es);
        cr_assert(again);
        memset(again, 0xA5, (size_t)iext * es);
        rc_tensor tsaved = {saved, T, H, its, ihs}, tagain = {again, T, H, its, ihs};
        cr_assert_eq(rc_impl_scalar.apply(state, &tsaved, &tagain, c->positions, c->dir), RC_OK);
        cr_assert(memcmp(again, in, (size_t)iext * es) == 0,
                  "in place differs from out of place");
        free(again);
    }
    rc_impl_scalar.release(state);

    /* Against the reference, head by head. */
    const double alpha = rc_ref_out_scale_dd(c->scaling).hi;
    rc_ref *ref = rc_ref_create(&spec);
    cr_assert(ref);
    double inv[RC_MAX_HEAD_DIM];
    rc_ref_elem elems[RC_MAX_HEAD_DIM];
    run_result res = {0};
    for (int64_t t = 0; t < T; t++)
        for (int64_t h = 0; h < H; h++) {
            const int64_t ib = t * its + h * ihs, ob = t * ots + h * ohs;
            for (int64_t ch = 0; ch < d; ch++)
                inv[ch] = rc_elem_load(c->dtype, saved, ib + ch);
            cr_assert_eq(rc_ref_rotate_head(ref, c->positions[t], c->dir, inv, elems), 0);
            for (int64_t ch = 0; ch < d; ch++) {
                const rc_ref_elem *e = &elems[ch];
                if (e->kind == RC_ELEM_PASSTHROUGH) {
                    cr_assert_eq(rc_elem_bits(c->dtype, out, ob + ch),
                                 rc_elem_bits(c->dtype, saved, ib + ch),
                                 "%s %s: passthrough channel %lld changed (token %lld head %lld)",
                                 c->sh->name, rc_dtype_name(c->dtype), (long long)ch,
                                 (long long)t, (long long)h);
                    continue;
                }
                cr_assert_eq(e->kind, RC_ELEM_ROTATED, "inputs here are finite");
                cr_assert(e->certified);
                if (c->scaling) {
                    /* The judge's unit is ulp(alpha*N), N = ||(a, b)||: hypot
                     * is within 1 ulp, the product one rounding, pair_norm.hi
                     * within half an ulp of exact; an ulp is at most 2^-52
                     * relative, or 2^-1074 among subnormals. So 2^-50
                     * relative plus 2^-1072 is ample, and any other alpha
                     * (1 included) is far outside it. */
                    const double want = alpha * hypot(inv[ch], inv[e->partner]);
                    cr_assert(fabs(e->pair_norm.hi - want) <= 0x1p-50 * want + 0x1p-1072,
                              "%s: pair norm %a, alpha*||(a, b)|| = %a (alpha %a)",
                              c->sh->name, e->pair_norm.hi, want, alpha);
                }
                double got = rc_elem_load(c->dtype, out, ob + ch);
                double pu = rc_ulp_error(c->dtype, got, e->exact, e->pair_norm);
                res.elements++;
                if (pu > res.max_pair || isnan(pu)) {
                    res.max_pair = isnan(pu) ? INFINITY : pu;
                    res.worst_pos = c->positions[t];
                    res.worst_token = t;
                    res.worst_head = h;
                    res.worst_ch = (int32_t)ch;
                }
                cr_assert(pu <= c->bound,
                          "%s %s %s %s: pair ULP %.6g > %.6g at position %lld head %lld ch %lld: "
                          "in (%a, %a) got %a exact %a%+a",
                          c->sh->name, rc_dtype_name(c->dtype), rc_layout_name(c->layout),
                          rc_direction_name(c->dir), pu, c->bound, (long long)c->positions[t],
                          (long long)h, (long long)ch, inv[ch], inv[e->partner], got,
                          e->exact.hi, e->exact.lo);
            }
        }
    rc_ref_destroy(ref);

    /* Nothing outside the view written; the input left alone. */
    unsigned char *mask = view_mask(oext, T, H, ots, ohs, d);
    for (int64_t k = 0; k < oext; k++)
        if (!mask[k])
            for (size_t byte = 0; byte < es; byte++)
                cr_assert_eq(out[(size_t)k * es + byte], c->in_place ? 0xA5 : 0x5A,
                             "gap element %lld was written", (long long)k);
    free(mask);
    if (!c->in_place) {
        cr_assert(memcmp(in, saved, (size_t)iext * es) == 0, "the input was modified");
        free(out);
    }
    free(in);
    free(saved);
    free(th);
    free(tl);
    return res;
}

/* ---- position sets ----------------------------------------------------- */

static void random_positions(rc_rng *g, int64_t *p, int64_t n, int max_bits)
{
    for (int64_t t = 0; t < n; t++) {
        if (t % 2 == 0) {
            p[t] = (int64_t)rc_rng_below(g, (uint64_t)1 << max_bits);
        } else {
            int bits = 1 + (int)rc_rng_below(g, (uint64_t)max_bits);
            p[t] = (int64_t)rc_rng_below(g, (uint64_t)1 << bits);
        }
    }
}

static size_t read_hard_positions(int64_t *out, size_t cap)
{
    FILE *f = fopen(RC_HARD_POSITIONS_FILE, "r");
    cr_assert(f, "cannot open %s: %s", RC_HARD_POSITIONS_FILE, strerror(errno));
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f) && n < cap) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *end;
        long long v = strtoll(line, &end, 0);
        if (end != line)
            out[n++] = (int64_t)v;
    }
    fclose(f);
    return n;
}

/* ---- accuracy sweeps --------------------------------------------------- */

typedef struct sweep_report {
    double max_pair[RC_DTYPE_COUNT];
    int64_t worst_pos[RC_DTYPE_COUNT];
} sweep_report;

/* Every dtype x layout x shape at the given positions. The full-rotary
 * shape runs 64 tokens x 4 heads, the partial ones 16 x 2 (they only add
 * the passthrough and the other pairings). */
static void sweep(const char *label, const int64_t *pos64, int64_t n64, double max_m,
                  uint64_t stream)
{
    sweep_report rep;
    memset(&rep, 0, sizeof rep);
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++)
            for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
                run_cfg c = {0};
                c.sh = &SHAPES[s];
                c.dtype = (rc_dtype)dt;
                c.layout = (rc_layout)lay;
                c.dir = RC_FORWARD;
                c.n_tokens = s == 0 ? n64 : (n64 < 16 ? n64 : 16);
                c.n_heads = s == 0 ? 4 : 2;
                c.positions = pos64;
                c.stream = stream + s;
                c.bound = pair_bound(c.dtype, max_m);
                run_result r = run_and_check(&c);
                if (r.max_pair > rep.max_pair[dt]) {
                    rep.max_pair[dt] = r.max_pair;
                    rep.worst_pos[dt] = r.worst_pos;
                }
            }
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        fprintf(stderr,
                "test_scalar: %-28s %-4s max pair ULP %.6f (bound %.6f; worst at m=%lld)\n",
                label, rc_dtype_name((rc_dtype)dt), rep.max_pair[dt],
                pair_bound((rc_dtype)dt, max_m), (long long)rep.worst_pos[dt]);
}

Test(scalar, accuracy_positions_below_2p31, .timeout = 600)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 1, 0);
    int64_t pos[64];
    random_positions(&g, pos, 64, 31);
    pos[0] = 0;
    pos[1] = 1;
    pos[2] = ((int64_t)1 << 31) - 1;
    sweep("random m < 2^31", pos, 64, 0x1p31, 1000);
}

Test(scalar, accuracy_positions_below_2p53, .timeout = 600)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 2, 0);
    int64_t pos[64];
    random_positions(&g, pos, 64, 53);
    /* The hard positions (theta_0 = 1 lands near multiples of pi/4) and
     * the top of the range. */
    size_t nh = read_hard_positions(pos, 40);
    cr_assert(nh > 20);
    pos[nh] = RC_MAX_POSITION;
    pos[nh + 1] = RC_MAX_POSITION - 1;
    pos[nh + 2] = ((int64_t)1 << 52) + 1;
    sweep("random+hard m < 2^53", pos, 64, 0x1p53, 2000);
}

Test(scalar, accuracy_fixed_positions)
{
    /* The positions DESIGN.md quotes ggml's f32 errors at (1.4e2, 7.5e3,
     * 1.7e5 pair ULP), one token each, every head the same position. */
    const int64_t fixed[] = {100, 4095, 131071};
    for (int k = 0; k < 3; k++) {
        int64_t pos[8];
        for (int t = 0; t < 8; t++)
            pos[t] = fixed[k];
        char label[64];
        snprintf(label, sizeof label, "fixed m = %lld", (long long)fixed[k]);
        sweep(label, pos, 8, (double)fixed[k], 3000 + (uint64_t)k * 10);
    }
}

/* ---- layouts of memory: strides, in place, inverse --------------------- */

static void positions_for(int64_t *pos, int64_t n, uint64_t stream)
{
    rc_rng g;
    rc_rng_seed3(&g, seed_value(), stream, 0);
    random_positions(&g, pos, n, 31);
}

Test(scalar, strided_views_with_gaps)
{
    (void)test_seed();
    int64_t pos[12];
    positions_for(pos, 12, 10);
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++) {
            run_cfg c = {0};
            c.sh = &SHAPES[1]; /* partial rotary: passthrough beside gaps */
            c.dtype = (rc_dtype)dt;
            c.layout = (rc_layout)lay;
            c.n_tokens = 12;
            c.n_heads = 3;
            c.positions = pos;
            c.in_head_stride = c.sh->d + 5;
            c.in_token_stride = 3 * (c.sh->d + 5) + 7;
            c.out_head_stride = c.sh->d + 1;
            c.out_token_stride = 3 * (c.sh->d + 1) + 3;
            c.stream = 20;
            c.bound = pair_bound(c.dtype, 0x1p31);
            run_and_check(&c);
            /* Gaps only between tokens, packed output. */
            c.in_head_stride = 0;
            c.in_token_stride = 3 * c.sh->d + 1;
            c.out_head_stride = 0;
            c.out_token_stride = 0;
            run_and_check(&c);
        }
}

Test(scalar, in_place_matches_out_of_place)
{
    (void)test_seed();
    int64_t pos[10];
    positions_for(pos, 10, 11);
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++)
            for (int s = 0; s < 4; s++) {
                run_cfg c = {0};
                c.sh = &SHAPES[s];
                c.dtype = (rc_dtype)dt;
                c.layout = (rc_layout)lay;
                c.dir = (rc_direction)(s & 1);
                c.n_tokens = 10;
                c.n_heads = 2;
                c.positions = pos;
                c.in_place = 1;
                c.in_head_stride = c.sh->d + 4; /* with gaps, which stay 0xA5 */
                c.in_token_stride = 2 * (c.sh->d + 4) + 2;
                c.stream = 30;
                c.bound = pair_bound(c.dtype, 0x1p31);
                run_and_check(&c);
            }
}

Test(scalar, inverse_direction)
{
    (void)test_seed();
    int64_t pos[24];
    positions_for(pos, 24, 12);
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++)
            for (int s = 0; s < 4; s++) {
                run_cfg c = {0};
                c.sh = &SHAPES[s];
                c.dtype = (rc_dtype)dt;
                c.layout = (rc_layout)lay;
                c.dir = RC_INVERSE;
                c.n_tokens = 24;
                c.n_heads = 2;
                c.positions = pos;
                c.stream = 40;
                c.bound = pair_bound(c.dtype, 0x1p31);
                run_and_check(&c);
            }
}

/*
 * inverse(forward(x)) against x, in ulp_T(N), N = ||(a, b)|| of the input.
 * Both directions use the same computed (c, s), s negated.
 * f32/f16/bf16: forward errors |e_j| <= (0.5 + 2^-24) ulp(N), so
 *   ||e|| <= sqrt(2)*(0.5 + 2^-24) ulp(N); the inverse in double gives
 *   v = (c^2 + s^2) x + R^T e + (double rounding, < 2^-25 ulp(N)), and
 *   |c^2 + s^2 - 1| < 2^-50: |v_i - x_i| <= D = 0.7071 + 2^-23 ulp(N).
 *   Rounding v_i to T: x_i is itself in T at distance <= D, so the nearest
 *   T value is within 2D: bound sqrt(2) + 2^-22.
 * f64: (c, s) are double-doubles with error <= sqrt(2)*(U*u + 18u^2) as a
 *   vector, so |c^2 + s^2 - 1| <= 2*sqrt(2)*U*u + 2^-100 and that term is
 *   <= 2*sqrt(2)*U ulp(N) (uN < ulp(N)); ||R^T e|| <= sqrt(2)*(0.5 + 17u)
 *   ulp(N)*(1 + 2^-50); low-order terms < 17u^2 N: D <= 2*sqrt(2)*U +
 *   0.7072. The last rounding adds at most ulp(v_i)/2 <= ulp(N) (v_i may
 *   exceed N's binade): bound 2*sqrt(2)*U + 1.7072.
 */
static double roundtrip_bound(rc_dtype t)
{
    if (t != RC_DTYPE_F64)
        return SQRT2_UP + 0x1p-22;
    return 2.0 * SQRT2_UP * SINCOS_U + 1.7072;
}

/* ulp_T(sqrt(a^2 + b^2)) with the norm from MPFR (its binade must be
 * exact: hypot in double can round up to a power of two). */
static double pair_ulp_scale(rc_dtype t, double a, double b, rc_dd *norm)
{
    mpfr_t x, y, n;
    mpfr_inits2(160, x, y, n, (mpfr_ptr)0);
    mpfr_set_d(x, a, MPFR_RNDN);
    mpfr_set_d(y, b, MPFR_RNDN);
    mpfr_hypot(n, x, y, MPFR_RNDN);
    norm->hi = mpfr_get_d(n, MPFR_RNDN);
    mpfr_sub_d(n, n, norm->hi, MPFR_RNDN);
    norm->lo = mpfr_get_d(n, MPFR_RNDN);
    mpfr_clears(x, y, n, (mpfr_ptr)0);
    return rc_ulp_of(t, *norm);
}

Test(scalar, inverse_of_forward_returns_input)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 13, 0);
    const int64_t T = 32, H = 2;
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
        for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++) {
            const shape *sh = &SHAPES[lay == 0 ? 3 : 0];
            const rc_dtype t = (rc_dtype)dt;
            const int64_t d = sh->d, half = sh->r / 2, n = T * H * d;
            const size_t es = rc_dtype_size(t);
            int64_t pos[32];
            random_positions(&g, pos, T, 31);
            pos[0] = RC_MAX_POSITION; /* no position limit on this bound */
            unsigned char *x = malloc((size_t)n * es), *y = malloc((size_t)n * es);
            unsigned char *z = malloc((size_t)n * es);
            cr_assert(x && y && z);
            for (int64_t k = 0; k < n; k += 2) {
                double a, b;
                random_pair(&g, t, &a, &b);
                rc_elem_store(t, x, k, a);
                rc_elem_store(t, x, k + 1, b);
            }
            double th[RC_MAX_HEAD_DIM / 2], tl[RC_MAX_HEAD_DIM / 2];
            run_cfg c = {.sh = sh, .dtype = t, .layout = (rc_layout)lay};
            rc_spec spec;
            spec_for(&c, &spec, th, tl);
            void *state;
            cr_assert_eq(rc_impl_scalar.prepare(&spec, &state), RC_OK);
            rc_tensor tx = {x, T, H, H * d, d}, ty = {y, T, H, H * d, d}, tz = {z, T, H, H * d, d};
            cr_assert_eq(rc_impl_scalar.apply(state, &tx, &ty, pos, RC_FORWARD), RC_OK);
            cr_assert_eq(rc_impl_scalar.apply(state, &ty, &tz, pos, RC_INVERSE), RC_OK);
            rc_impl_scalar.release(state);
            double worst = 0.0;
            for (int64_t k0 = 0; k0 < n; k0 += d)
                for (int64_t i = 0; i < half; i++) {
                    int64_t ia = k0 + (lay == RC_LAYOUT_INTERLEAVED ? 2 * i : i);
                    int64_t ib = k0 + (lay == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half);
                    double a = rc_elem_load(t, x, ia), b = rc_elem_load(t, x, ib);
                    rc_dd norm;
                    (void)pair_ulp_scale(t, a, b, &norm);
                    for (int which = 0; which < 2; which++) {
                        int64_t k = which ? ib : ia;
                        rc_dd exact = {which ? b : a, 0.0};
                        double e = rc_ulp_error(t, rc_elem_load(t, z, k), exact, norm);
                        if (e > worst)
                            worst = e;
                        cr_assert(e <= roundtrip_bound(t),
                                  "%s %s: round trip off by %.4g ulp (> %.4g), pair (%a, %a)",
                                  rc_dtype_name(t), rc_layout_name((rc_layout)lay), e,
                                  roundtrip_bound(t), a, b);
                    }
                }
            fprintf(stderr, "test_scalar: round trip %-4s %-11s max %.4f ulp(N) (bound %.4f)\n",
                    rc_dtype_name(t), rc_layout_name((rc_layout)lay), worst, roundtrip_bound(t));
            free(x);
            free(y);
            free(z);
        }
}

/* ---- special values, validation, registry ------------------------------ */

Test(scalar, special_values_follow_ieee)
{
    /* Pairs with NaN or Inf: NaN where the reference's IEEE formula gives
     * NaN, the same infinity where it gives one. */
    const double vals[][2] = {{NAN, 1.0}, {1.0, NAN}, {INFINITY, 1.0}, {-INFINITY, 0.5},
                              {1.0, INFINITY}, {INFINITY, INFINITY}, {INFINITY, 0.0}};
    const int np = (int)(sizeof vals / sizeof vals[0]);
    const int64_t positions[] = {0, 1, 12345, 2000000000};
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++) {
        const rc_dtype t = (rc_dtype)dt;
        const shape sh = {"special", 2 * np, 2 * np, 10000.0};
        double th[RC_MAX_HEAD_DIM / 2], tl[RC_MAX_HEAD_DIM / 2];
        run_cfg c = {.sh = &sh, .dtype = t, .layout = RC_LAYOUT_INTERLEAVED};
        rc_spec spec;
        spec_for(&c, &spec, th, tl);
        rc_ref *ref = rc_ref_create(&spec);
        cr_assert(ref);
        for (int p = 0; p < 4; p++) {
            unsigned char in[2 * 7 * 8], out[2 * 7 * 8];
            double inv[2 * 7];
            for (int k = 0; k < np; k++) {
                rc_elem_store(t, in, 2 * k, vals[k][0]);
                rc_elem_store(t, in, 2 * k + 1, vals[k][1]);
            }
            for (int k = 0; k < 2 * np; k++)
                inv[k] = rc_elem_load(t, in, k);
            void *state;
            cr_assert_eq(rc_impl_scalar.prepare(&spec, &state), RC_OK);
            rc_tensor ti = {in, 1, 1, 2 * np, 2 * np}, to = {out, 1, 1, 2 * np, 2 * np};
            cr_assert_eq(rc_impl_scalar.apply(state, &ti, &to, &positions[p], RC_FORWARD), RC_OK);
            rc_impl_scalar.release(state);
            rc_ref_elem e[2 * 7];
            cr_assert_eq(rc_ref_rotate_head(ref, positions[p], RC_FORWARD, inv, e), 0);
            for (int k = 0; k < 2 * np; k++) {
                double got = rc_elem_load(t, out, k), want = e[k].exact.hi;
                cr_assert_eq(e[k].kind, RC_ELEM_SPECIAL);
                if (isnan(want))
                    cr_expect(isnan(got), "%s m=%lld ch %d: want NaN, got %a", rc_dtype_name(t),
                              (long long)positions[p], k, got);
                else if (isinf(want))
                    cr_expect(got == want, "%s m=%lld ch %d: want %a, got %a", rc_dtype_name(t),
                              (long long)positions[p], k, want, got);
                else
                    cr_expect(isfinite(got), "%s ch %d: want finite %a, got %a",
                              rc_dtype_name(t), k, want, got);
            }
        }
        rc_ref_destroy(ref);
    }
}

Test(scalar, f64_overflow_gives_infinity)
{
    /* |a| = |b| = DBL_MAX at 45 degrees-ish: a' = a c - b s overflows for
     * a = -b. The error-free path would produce NaN (Inf - Inf in its
     * low words); scalar falls back to the IEEE formula. */
    double th[1], tl[1];
    rc_ref_theta_table(10000.0, 2, th, tl);
    rc_spec spec = {2, 2, 10000.0, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F64, th, tl, NULL, 0.0, 0.0, 0, NULL, 0};
    void *state;
    cr_assert_eq(rc_impl_scalar.prepare(&spec, &state), RC_OK);
    double in[2] = {0x1.fffffffffffffp+1023, -0x1.fffffffffffffp+1023}, out[2];
    const int64_t m = 1; /* theta_0 = 1: cos 0.54, sin 0.84 */
    rc_tensor ti = {in, 1, 1, 2, 2}, to = {out, 1, 1, 2, 2};
    cr_assert_eq(rc_impl_scalar.apply(state, &ti, &to, &m, RC_FORWARD), RC_OK);
    rc_impl_scalar.release(state);
    /* a' = DBL_MAX*(0.54 + 0.84) overflows; b' = DBL_MAX*(0.84 - 0.54) fits. */
    cr_expect(isinf(out[0]) && out[0] > 0, "a' = %a", out[0]);
    /* b'/DBL_MAX = sin 1 - cos 1 = 0.3012: the fallback's b*c and fma
     * round by <= u*(0.54 + 0.31), its sin and cos are within 1.5u each
     * (exact_angle.h, U = 1), the division here adds 0.5u*0.31 and the
     * test's own sin(1) - cos(1) <= 2.5u: all below 7u. */
    cr_expect(isfinite(out[1]) &&
                  fabs(out[1] / in[0] - (sin(1.0) - cos(1.0))) <= 7.0 * U,
              "b' = %a", out[1]);
}

Test(scalar, rejects_invalid_specs_and_calls)
{
    double th[64], tl[64];
    rc_ref_theta_table(10000.0, 128, th, tl);
    rc_spec ok = {128, 128, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, th, tl, NULL, 0.0, 0.0, 0, NULL, 0};
    void *state = (void *)1;
    rc_spec s = ok;
    s.head_dim = 127;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    cr_expect_null(state, "state cleared on failure");
    s = ok;
    s.rotary_dim = 130;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    s = ok;
    s.rotary_dim = 0;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    s = ok;
    s.base = 0.0;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    s = ok;
    s.base = NAN;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    s = ok;
    s.theta_lo = NULL;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);
    s = ok;
    s.dtype = RC_DTYPE_COUNT;
    cr_expect_eq(rc_impl_scalar.prepare(&s, &state), RC_ERR_INVALID);

    cr_assert_eq(rc_impl_scalar.prepare(&ok, &state), RC_OK);
    float buf[2 * 128], out[2 * 128];
    for (int i = 0; i < 256; i++)
        buf[i] = out[i] = (float)i;
    rc_tensor t = {buf, 2, 1, 128, 128}, o = {out, 2, 1, 128, 128};
    int64_t bad[2] = {5, -1};
    cr_expect_eq(rc_impl_scalar.apply(state, &t, &o, bad, RC_FORWARD), RC_ERR_INVALID);
    bad[1] = RC_MAX_POSITION + 1;
    cr_expect_eq(rc_impl_scalar.apply(state, &t, &o, bad, RC_FORWARD), RC_ERR_INVALID);
    for (int i = 0; i < 256; i++)
        cr_expect_eq(out[i], (float)i, "nothing written on a rejected call");
    int64_t good[2] = {5, 6};
    rc_tensor narrow = {buf, 2, 1, 128, 64}; /* heads would overlap */
    cr_expect_eq(rc_impl_scalar.apply(state, &narrow, &o, good, RC_FORWARD), RC_ERR_INVALID);
    rc_tensor skew = {buf, 2, 1, 130, 128}; /* in place with other strides */
    cr_expect_eq(rc_impl_scalar.apply(state, &skew, &t, good, RC_FORWARD), RC_ERR_INVALID);
    cr_expect_eq(rc_impl_scalar.apply(state, &t, &o, good, (rc_direction)7), RC_ERR_INVALID);
    rc_tensor empty = {buf, 0, 1, 128, 128};
    cr_expect_eq(rc_impl_scalar.apply(state, &empty, &empty, good, RC_FORWARD), RC_OK);
    rc_impl_scalar.release(state);
}

Test(scalar, registered_and_well_formed)
{
    char err[160];
    cr_expect_eq(rc_builtin_find("scalar"), &rc_impl_scalar);
    cr_expect_eq(rc_builtin_get(0), &rc_impl_scalar, "scalar is first, the fallback");
    cr_expect_eq(rc_impl_check(&rc_impl_scalar, err, sizeof err), 0, "%s", err);
    const uint64_t want = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |
                          RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE | RC_CAP_STRIDED;
    cr_expect_eq(rc_impl_scalar.caps & want, want);
}

/*
 * Every scaling family, and an output scale alpha above and below 1
 * (YaRN's and LongRoPE's attention factor), held to the same tight bound
 * as the plain spec. impls/scalar/scalar.c, "Output scale": alpha is
 * folded into the cos/sin row and the bounds hold with N replaced by
 * alpha*N, the (c, s) term becoming sqrt(2)*(U + 2)*u:
 *   f32, f16, bf16: 0.5 + 2^-24 (the extra 2u is far below 2^-25 ulp(N));
 *   f64: 0.5 + sqrt(2)*(U + 2) + 43u + delta/u, about 4.03 below 2^31.
 * A judge that measured in ulp(N) rather than ulp(alpha*N) would see up to
 * twice the error at alpha = 1.7 (fails the bound) but less at alpha = 0.6
 * (a bound cannot see that), so run_and_check also checks the unit itself:
 * every element's pair norm is alpha*N.
 */
static double scaled_pair_bound(rc_dtype t, double max_m)
{
    if (t != RC_DTYPE_F64)
        return 0.5 + 0x1p-24;
    return 0.5 + SQRT2_UP * (SINCOS_U + 2.0) + 43.0 * U + U * (3.0 * max_m + 58.0);
}

Test(scalar, every_scaling_family_and_output_scale_tight)
{
    (void)test_seed();
    static double short_f[64], long_f[64], table[64];
    for (int i = 0; i < 64; i++) {
        short_f[i] = 1.0 + 0.013 * i;
        long_f[i] = 1.1 + 0.5 * i;
        table[i] = pow(500000.0, -i / 64.0) * (1.0 + i / 128.0);
    }
    const rc_scaling fam[] = {
        {.type = RC_SCALING_LINEAR, .factor = 4.0},
        {.type = RC_SCALING_NTK, .factor = 8.0},
        {.type = RC_SCALING_DYNAMIC_NTK, .factor = 2.0, .original_context = 4096,
         .context = 16384},
        {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096, .beta_fast = 32,
         .beta_slow = 1, .truncate = 1},
        {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096, .beta_fast = 32,
         .beta_slow = 1, .truncate = 1, .attention_factor = 1.7},
        {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096, .beta_fast = 32,
         .beta_slow = 1, .truncate = 1, .attention_factor = 0.6},
        {.type = RC_SCALING_LLAMA3, .factor = 8.0, .original_context = 8192,
         .low_freq_factor = 1.0, .high_freq_factor = 4.0},
        {.type = RC_SCALING_LONGROPE, .factor = 32.0, .original_context = 4096,
         .context = 131072, .short_factor = short_f, .long_factor = long_f,
         .attention_factor = 1.7},
        {.type = RC_SCALING_LONGROPE, .factor = 32.0, .original_context = 4096, .context = 2048,
         .short_factor = short_f, .long_factor = long_f, .attention_factor = 0.6},
        {.type = RC_SCALING_TABLE, .table = table},
    };
    const int n_tokens = 48, n_heads = 2;
    int64_t pos[48];
    positions_for(pos, n_tokens, 50);
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        char err[256] = "";
        cr_assert(rc_scaling_check(&fam[f], SHAPES[0].r, err, sizeof err) == 0, "family %zu: %s",
                  f, err);
        const double alpha = rc_ref_out_scale_dd(&fam[f]).hi;
        for (int dt = 0; dt < RC_DTYPE_COUNT; dt++)
            for (int lay = 0; lay < RC_LAYOUT_COUNT; lay++) {
                run_cfg c = {0};
                c.sh = &SHAPES[0]; /* d 128, r 128: 64 pairs, as the tables above */
                c.dtype = (rc_dtype)dt;
                c.layout = (rc_layout)lay;
                c.dir = (rc_direction)((f + (size_t)lay) & 1);
                c.n_tokens = n_tokens;
                c.n_heads = n_heads;
                c.positions = pos;
                c.stream = 60 + f;
                c.scaling = &fam[f];
                c.bound = scaled_pair_bound(c.dtype, 0x1p31);
                run_result r = run_and_check(&c);
                fprintf(stderr, "test_scalar: %-9s alpha %.3f %-4s %-11s max pair ULP %.4f "
                                "(bound %.4f)\n",
                        rc_scaling_type_name(fam[f].type), alpha, rc_dtype_name(c.dtype),
                        rc_layout_name(c.layout), r.max_pair, c.bound);
            }
    }
}
