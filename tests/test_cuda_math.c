/*
 * tests/test_cuda_math.c - the CUDA kernels' per-element arithmetic
 * (impls/cuda/cuda_rotate_math.h), compiled here as plain C and run on the
 * CPU on every CI run, with or without a GPU.
 *
 * What is checked:
 *   f16_bf16_loads: every one of the 65536 bit patterns loads to the same
 *     double as core/dtype_convert.c (NaN: both NaN).
 *   f16_bf16_stores: the one-step double -> f16/bf16 rounding agrees bit
 *     for bit with core/dtype_convert.c at every representable value, at
 *     every midpoint between neighbours (the ties), one double ulp either
 *     side of each midpoint, beyond the overflow threshold, in the
 *     subnormal range, for NaN, and for random doubles over a wide range.
 *   reference: a host emulation of the kernels' work decomposition
 *     (per-token cos/sin table via rc_cuda_token_sincos, then every
 *     (token, head, item) via rc_cuda_head_item at rc_cuda_head_offset)
 *     against the MPFR reference: f32/f16/bf16, both layouts, both
 *     directions, full and partial rotary, strided views with gaps, in
 *     place and out of place; positions 0, 1, 2^31 - 1, random below 2^31,
 *     2^53 - 1. Each rotated element's pair ULP is within the bound below;
 *     passthrough channels keep their bits; no gap byte is written; `in`
 *     is unchanged out of place; in place gives out of place's bits.
 *     The fused kernel's decomposition (emulate_fused) gives the
 *     table mode's bits, gaps and input untouched likewise.
 *   q_and_k_one_launch: q and k rotated as one head axis (the device entry
 *     point's single launch) give the bits of two separate calls.
 *   item_index32: the kernels' 32-bit thread-to-item map agrees with the
 *     64-bit one (used above 2^31 items).
 *   matches_scalar: the same emulation gives impls/scalar's bits on the
 *     same inputs (the same operations, the angles included),
 *     special values included (NaN, Inf, overflow, subnormal results).
 *
 * BOUND (pair ULP, derived in cuda_rotate_math.h and scalar.c): the double
 * result is within 10.2 * 2^-53 * N of exact for U = 1 (the angles' sine
 * and cosine, impls/common/sincos_dd.h, have U < 0.5 on host and device),
 * N the pair norm; ulp_T(N) > N * 2^-24 for f32
 * (coarser for f16, bf16), so that is < 2^-25.4 ulp; one rounding adds at
 * most 1/2. Gate: 0.5 + 2^-20, valid for every m < 2^53 (exact_angle.h).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "impls/cuda/cuda_rotate_math.h"
#include "impls/scalar/scalar.h"
#include "reference/metrics.h"
#include "reference/reference.h"

#define GATE (0.5 + 0x1p-20)

static uint64_t test_seed(const char *what)
{
    char who[64];
    snprintf(who, sizeof who, "test_cuda_math %s", what);
    return rc_test_seed(who, 20261123u);
}

/* ---- conversions ------------------------------------------------------ */

/* Through rc_cuda_store, the dispatch the kernels call. */
static uint16_t cuda_store16(rc_dtype t, double x)
{
    uint16_t row[2] = {0, 0}; /* room for the (untaken) f32 branch */
    rc_cuda_store(t, row, 0, x);
    return row[0];
}

static uint16_t core_store16(rc_dtype t, double x)
{
    return t == RC_DTYPE_F16 ? rc_double_to_f16(x) : rc_double_to_bf16(x);
}

static double core_load16(rc_dtype t, uint16_t h)
{
    return t == RC_DTYPE_F16 ? rc_f16_to_double(h) : rc_bf16_to_double(h);
}

static int is_nan16(rc_dtype t, uint16_t h)
{
    return isnan(core_load16(t, h));
}

static void expect_store(rc_dtype t, double x)
{
    uint16_t got = cuda_store16(t, x), want = core_store16(t, x);
    if (is_nan16(t, want)) {
        cr_assert(is_nan16(t, got), "%s store of %a: got 0x%04x, want a NaN", rc_dtype_name(t),
                  x, got);
        return;
    }
    cr_assert_eq(got, want, "%s store of %a: got 0x%04x, want 0x%04x", rc_dtype_name(t), x, got,
                 want);
}

Test(cuda_math, f16_bf16_loads)
{
    const rc_dtype types[] = {RC_DTYPE_F16, RC_DTYPE_BF16};
    for (int k = 0; k < 2; k++) {
        const rc_dtype t = types[k];
        for (uint32_t h = 0; h < 65536u; h++) {
            /* Room for a float: rc_cuda_load's f32 branch (not taken)
             * reads 4 bytes, and gcc's bounds check sees it. */
            uint16_t row[2] = {(uint16_t)h, 0};
            const uint16_t b = row[0];
            double got = rc_cuda_load(t, row, 0), want = core_load16(t, b);
            if (isnan(want)) {
                cr_assert(isnan(got), "%s load 0x%04x: not NaN", rc_dtype_name(t), b);
                continue;
            }
            /* Compare bits: distinguishes -0 from +0. */
            cr_assert_eq(rc_cuda_bits_of(got), rc_cuda_bits_of(want),
                         "%s load 0x%04x: %a, want %a", rc_dtype_name(t), b, got, want);
        }
    }
}

Test(cuda_math, f16_bf16_stores)
{
    const rc_dtype types[] = {RC_DTYPE_F16, RC_DTYPE_BF16};
    for (int k = 0; k < 2; k++) {
        const rc_dtype t = types[k];
        /* Every finite value v and the midpoint to its upper neighbour
         * (the next bit pattern up in magnitude; from the largest finite
         * value that is the overflow threshold), and one double ulp either
         * side of the midpoint. */
        for (uint32_t h = 0; h < 65536u; h++) {
            const double v = core_load16(t, (uint16_t)h);
            if (!isfinite(v))
                continue;
            expect_store(t, v);
            const double w = core_load16(t, (uint16_t)(h + 1));
            if (isnan(w) || (h & 0x7fffu) == 0x7fffu)
                continue;
            /* (h + 1) stays in the same sign half here, and is the next
             * value away from zero, or the infinity after the largest. */
            const double next = isinf(w) ? 2.0 * v - core_load16(t, (uint16_t)(h - 1)) : w;
            const double mid = v + (next - v) / 2; /* exact: few bits */
            expect_store(t, mid);
            expect_store(t, nextafter(mid, 0.0));
            expect_store(t, nextafter(mid, copysign(INFINITY, mid)));
        }
        expect_store(t, NAN);
        expect_store(t, -NAN);
        expect_store(t, INFINITY);
        expect_store(t, -INFINITY);
        expect_store(t, 0x1p-1074);
        expect_store(t, -0x1p-1074);
        expect_store(t, 0x1.fffffffffffffp1023);
        expect_store(t, 1e300);
        /* Random doubles, exponents -160..+140: every regime of both. */
        rc_rng g;
        rc_rng_seed3(&g, test_seed("stores"), 16, (uint64_t)t);
        for (int i = 0; i < 400000; i++) {
            double x = ldexp(1.0 + rc_rng_uniform(&g), (int)rc_rng_below(&g, 301) - 160);
            expect_store(t, (rc_rng_next(&g) & 1) ? -x : x);
        }
    }
}

/* rc_cuda_rotate_pair must round its double results once: with a = 1,
 * b = 0 it stores x = fma(1, c, -(0*s)) = c and y = fma(1, s, 0*c) = s
 * exactly, so c and s just off a midpoint of the output type (where a
 * detour through float, or any second rounding, goes wrong for f16 and
 * bf16) must land where core's correctly rounded store puts them. */
Test(cuda_math, rotate_pair_rounds_once)
{
    const rc_dtype types[] = {RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16};
    rc_rng g;
    rc_rng_seed3(&g, test_seed("rounds_once"), 17, 0);
    for (int k = 0; k < 3; k++) {
        const rc_dtype t = types[k];
        const rc_format *f = rc_dtype_format(t);
        for (int i = 0; i < 20000; i++) {
            /* A midpoint of the type in [1/2, 1) (|c|, |s| <= 1), nudged by
             * less than float's half ulp so that RN to float would land on
             * it: 2^-40 relative. */
            const double v = rc_round_to_dtype(t, ldexp(1.0 + rc_rng_uniform(&g), -1));
            const double mid = v + ldexp(1.0, -1 - f->precision);
            const double c = mid * (1.0 + ((rc_rng_next(&g) & 1) ? 0x1p-40 : -0x1p-40));
            const double s = -nextafter(mid, 2.0);
            unsigned char src[16] = {0}, dst[16] = {0};
            /* interleaved pair 0: channels 0 (a) and 1 (b) */
            rc_cuda_store(t, src, 0, 1.0);
            rc_cuda_store(t, src, 1, 0.0);
            rc_cuda_rotate_pair(t, RC_LAYOUT_INTERLEAVED, 1, 0, src, dst, c, s);
            unsigned char want[16] = {0};
            rc_elem_store(t, want, 0, c);
            rc_elem_store(t, want, 1, s);
            cr_assert(memcmp(dst, want, 2 * rc_dtype_size(t)) == 0,
                      "%s: rotate_pair stored (%a, %a) as (0x%llx, 0x%llx), want (0x%llx, 0x%llx)",
                      rc_dtype_name(t), c, s, (unsigned long long)rc_elem_bits(t, dst, 0),
                      (unsigned long long)rc_elem_bits(t, dst, 1),
                      (unsigned long long)rc_elem_bits(t, want, 0),
                      (unsigned long long)rc_elem_bits(t, want, 1));
        }
    }
}

/* ---- the kernel emulation --------------------------------------------- */

typedef struct mcase {
    int d, r;
    rc_layout layout;
    rc_dtype dtype;
    rc_direction dir;
    int64_t n_tokens, n_heads;
    int64_t token_stride, head_stride; /* elements */
    int inplace;
    int specials;
    int fused; /* emulate fused_kernel instead of table + rotate */
} mcase;

static size_t extent(const mcase *c)
{
    return (size_t)((c->n_tokens - 1) * c->token_stride + (c->n_heads - 1) * c->head_stride +
                    c->d);
}

/* What the table kernel and the rotation kernel do, thread by thread, in
 * the kernels' own order (any order gives the same result: items are
 * independent). */
static void emulate(const mcase *c, const double *theta_hi, const double *theta_lo,
                    const int64_t *pos, const void *src, void *dst)
{
    const int32_t half = c->r / 2;
    const int32_t items = rc_cuda_head_items(c->d, c->r);
    const size_t es = rc_dtype_size(c->dtype);
    double *cs = malloc((size_t)c->n_tokens * (size_t)half * sizeof *cs);
    double *sn = malloc((size_t)c->n_tokens * (size_t)half * sizeof *sn);
    cr_assert(cs && sn);
    for (int64_t g = 0; g < c->n_tokens * half; g++) {
        int64_t t;
        int32_t i;
        rc_cuda_table_index(g, half, &t, &i);
        rc_cuda_token_sincos(pos[t], theta_hi[i], theta_lo[i], 1.0, c->dir == RC_INVERSE, &cs[g],
                             &sn[g]);
    }
    /* the kernel's 32-bit path: these launches are far below 2^31 items */
    for (uint32_t g = 0; g < (uint32_t)(c->n_tokens * c->n_heads * items); g++) {
        uint32_t t, h, j;
        rc_cuda_item_index32(g, (uint32_t)items, (uint32_t)c->n_heads, &t, &h, &j);
        const char *s =
            (const char *)src + (size_t)rc_cuda_head_offset(t, h, c->token_stride, c->head_stride) * es;
        char *d = (char *)dst + (size_t)rc_cuda_head_offset(t, h, c->token_stride, c->head_stride) * es;
        rc_cuda_head_item(c->dtype, c->layout, c->r, (int32_t)j, s, d, cs + (size_t)t * half,
                          sn + (size_t)t * half);
    }
    free(cs);
    free(sn);
}

/* What fused_kernel does: per token, its r/2 cos/sin (the block's shared
 * memory), then every (head, item) with t0 = 0 from rc_cuda_item_index. */
static void emulate_fused(const mcase *c, const double *theta_hi, const double *theta_lo,
                          const int64_t *pos, const void *src, void *dst)
{
    const int32_t half = c->r / 2;
    const int32_t items = rc_cuda_head_items(c->d, c->r);
    const size_t es = rc_dtype_size(c->dtype);
    double cs[RC_MAX_HEAD_DIM / 2], sn[RC_MAX_HEAD_DIM / 2];
    for (int64_t t = 0; t < c->n_tokens; t++) {
        for (int32_t i = 0; i < half; i++)
            rc_cuda_token_sincos(pos[t], theta_hi[i], theta_lo[i], 1.0, c->dir == RC_INVERSE, &cs[i],
                                 &sn[i]);
        for (int64_t g = 0; g < c->n_heads * items; g++) {
            int64_t t0, h;
            int32_t j;
            rc_cuda_item_index(g, items, c->n_heads, &t0, &h, &j);
            cr_assert_eq(t0, 0);
            const size_t off = (size_t)rc_cuda_head_offset(t, h, c->token_stride, c->head_stride) * es;
            rc_cuda_head_item(c->dtype, c->layout, c->r, j, (const char *)src + off,
                              (char *)dst + off, cs, sn);
        }
    }
}

static double draw(rc_rng *g, rc_dtype t, int specials)
{
    if (specials && rc_rng_below(g, 8) == 0) {
        static const double f32_edges[] = {NAN, INFINITY, -INFINITY, 0x1.fffffep127, -0x1p127,
                                           0x1p-149, 0x1p-130, 0.0, -0.0, 0x1p-126};
        static const double f16_edges[] = {NAN, INFINITY, -INFINITY, 65504.0, -65504.0,
                                           0x1p-24, 0x1p-20, -0x1.8p-17, 0.0, 0x1p-14};
        static const double bf16_edges[] = {NAN, INFINITY, -INFINITY, 0x1.fep127, -0x1p127,
                                            0x1p-133, 0x1p-128, 0.0, -0.0, 0x1p-126};
        const double *e = t == RC_DTYPE_F32 ? f32_edges : t == RC_DTYPE_F16 ? f16_edges : bf16_edges;
        return e[rc_rng_below(g, 10)];
    }
    double x = ldexp(1.0 + rc_rng_uniform(g), (int)rc_rng_below(g, 8) - 4);
    return rc_round_to_dtype(t, (rc_rng_next(g) & 1) ? -x : x);
}

/* Exponent that moves [2^-4, 2^4) to the bottom of the type's range, so
 * some results are subnormal. */
static int tiny_exponent(rc_dtype t)
{
    return t == RC_DTYPE_F16 ? -18 : -130;
}

static int64_t position_of(rc_rng *g, int64_t t)
{
    static const int64_t fixed[] = {0, 1, 2147483647, 9007199254740991};
    if (t < 4)
        return fixed[t];
    return (int64_t)rc_rng_below(g, 2147483648u);
}

typedef struct bufs {
    size_t bytes;
    unsigned char *in, *out, *out_init;
    unsigned char *is_view; /* per element */
    int64_t *pos;
} bufs;

static void bufs_free(bufs *b)
{
    free(b->in);
    free(b->out);
    free(b->out_init);
    free(b->is_view);
    free(b->pos);
}

/* Inputs from the seed (the same for every call with the same case). */
static void make_inputs(const mcase *c, uint64_t seed, bufs *b)
{
    const size_t n = extent(c), es = rc_dtype_size(c->dtype);
    rc_rng g;
    rc_rng_seed3(&g, seed, (uint64_t)c->d * 1000 + (uint64_t)c->r,
                 (uint64_t)c->dtype * 16 + (uint64_t)c->layout * 4 + (uint64_t)c->dir);
    b->bytes = n * es;
    b->in = malloc(b->bytes);
    b->out = malloc(b->bytes);
    b->out_init = malloc(b->bytes);
    b->is_view = calloc(n, 1);
    b->pos = malloc((size_t)c->n_tokens * sizeof *b->pos);
    cr_assert(b->in && b->out && b->out_init && b->is_view && b->pos);
    for (size_t i = 0; i < b->bytes; i++)
        b->in[i] = (unsigned char)(0xA5 ^ (i * 7)); /* gap pattern */
    for (int64_t t = 0; t < c->n_tokens; t++) {
        b->pos[t] = position_of(&g, t);
        for (int64_t h = 0; h < c->n_heads; h++) {
            const int tiny = rc_rng_below(&g, 4) == 0;
            for (int ch = 0; ch < c->d; ch++) {
                const size_t idx = (size_t)(t * c->token_stride + h * c->head_stride + ch);
                double v = draw(&g, c->dtype, c->specials);
                if (tiny)
                    v = rc_round_to_dtype(c->dtype, ldexp(v, tiny_exponent(c->dtype)));
                rc_elem_store(c->dtype, b->in, (int64_t)idx, v);
                b->is_view[idx] = 1;
            }
        }
    }
    if (c->inplace)
        memcpy(b->out, b->in, b->bytes);
    else
        for (size_t i = 0; i < b->bytes; i++)
            b->out[i] = (unsigned char)(0x3C ^ (i * 13));
    memcpy(b->out_init, b->out, b->bytes);
}

/* Runs the emulation on a case; checks gaps and `in` preservation. */
static void run_emulation(const mcase *c, uint64_t seed, bufs *b)
{
    const size_t es = rc_dtype_size(c->dtype);
    make_inputs(c, seed, b);
    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
    rc_ref_theta_table(1e4, c->r, hi, lo);
    unsigned char *in_copy = malloc(b->bytes);
    cr_assert(in_copy);
    memcpy(in_copy, b->in, b->bytes);
    if (c->fused)
        emulate_fused(c, hi, lo, b->pos, c->inplace ? b->out : b->in, b->out);
    else
        emulate(c, hi, lo, b->pos, c->inplace ? b->out : b->in, b->out);
    if (!c->inplace)
        cr_assert(memcmp(in_copy, b->in, b->bytes) == 0, "input modified out of place");
    free(in_copy);
    for (size_t i = 0; i < b->bytes / es; i++)
        if (!b->is_view[i])
            cr_assert(memcmp(b->out + i * es, b->out_init + i * es, es) == 0,
                      "element %zu, in a stride gap, was written", i);
}

static const rc_dtype dtypes[] = {RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16};

/* (d, r): full rotary, partial (Phi/GPT-NeoX style), the smallest. */
static const int shapes[][2] = {{64, 64}, {80, 32}, {6, 2}};

Test(cuda_math, reference)
{
    const uint64_t seed = test_seed("reference");
    for (int di = 0; di < 3; di++)
        for (int si = 0; si < 3; si++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++)
                for (int dir = 0; dir < RC_DIRECTION_COUNT; dir++)
                    for (int inplace = 0; inplace < 2; inplace++) {
                        const int d = shapes[si][0], r = shapes[si][1];
                        mcase c = {d, r, (rc_layout)l, dtypes[di], (rc_direction)dir, 6, 3,
                                   /* gaps: 5 elements after each head, 3 per token */
                                   3 * (d + 5) + 3, d + 5, inplace, 0, 0};
                        bufs b;
                        run_emulation(&c, seed, &b);
                        /* The fused kernel's decomposition gives the same
                         * bits (same operations, other order). */
                        {
                            mcase fc = c;
                            fc.fused = 1;
                            bufs bf;
                            run_emulation(&fc, seed, &bf);
                            cr_assert(memcmp(b.out, bf.out, b.bytes) == 0,
                                      "fused emulation differs from table emulation");
                            bufs_free(&bf);
                        }
                        /* out of place must equal in place bit for bit */
                        if (inplace) {
                            mcase o = c;
                            o.inplace = 0;
                            bufs bo;
                            run_emulation(&o, seed, &bo);
                            const size_t es = rc_dtype_size(c.dtype);
                            for (size_t i = 0; i < b.bytes / es; i++)
                                if (b.is_view[i])
                                    cr_assert(memcmp(b.out + i * es, bo.out + i * es, es) == 0,
                                              "in place differs from out of place at %zu", i);
                            bufs_free(&bo);
                        }
                        rc_spec spec = {d, r, 1e4, c.layout, c.dtype, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
                        rc_ref *ref = rc_ref_create(&spec);
                        cr_assert(ref);
                        double inv[RC_MAX_HEAD_DIM];
                        rc_ref_elem el[RC_MAX_HEAD_DIM];
                        for (int64_t t = 0; t < c.n_tokens; t++)
                            for (int64_t h = 0; h < c.n_heads; h++) {
                                const int64_t base = t * c.token_stride + h * c.head_stride;
                                for (int ch = 0; ch < d; ch++)
                                    inv[ch] = rc_elem_load(c.dtype, b.in, base + ch);
                                cr_assert_eq(rc_ref_rotate_head(ref, b.pos[t], c.dir, inv, el), 0);
                                for (int ch = 0; ch < d; ch++) {
                                    const rc_ref_elem *e = &el[ch];
                                    if (e->kind == RC_ELEM_PASSTHROUGH) {
                                        cr_assert_eq(rc_elem_bits(c.dtype, b.out, base + ch),
                                                     rc_elem_bits(c.dtype, b.in, base + ch),
                                                     "passthrough channel %d changed", ch);
                                        continue;
                                    }
                                    const double got = rc_elem_load(c.dtype, b.out, base + ch);
                                    const double pu =
                                        rc_ulp_error(c.dtype, got, e->exact, e->pair_norm);
                                    cr_assert(pu <= GATE,
                                              "%s %s d=%d r=%d %s: m=%lld ch=%d pair ulp %.4g > "
                                              "%.6g (got %a, exact %a)",
                                              rc_dtype_name(c.dtype), rc_layout_name(c.layout), d,
                                              r, rc_direction_name(c.dir), (long long)b.pos[t], ch,
                                              pu, GATE, got, e->exact.hi);
                                }
                            }
                        rc_ref_destroy(ref);
                        bufs_free(&b);
                    }
}

Test(cuda_math, matches_scalar)
{
    const uint64_t seed = test_seed("matches_scalar");
    for (int di = 0; di < 3; di++)
        for (int si = 0; si < 3; si++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++)
                for (int dir = 0; dir < RC_DIRECTION_COUNT; dir++) {
                    const int d = shapes[si][0], r = shapes[si][1];
                    mcase c = {d, r, (rc_layout)l, dtypes[di], (rc_direction)dir, 16, 4,
                               4 * d + 1, d, 0, 1, 0};
                    bufs b;
                    run_emulation(&c, seed, &b);
                    /* scalar on the same input, into a fresh output */
                    unsigned char *so = malloc(b.bytes);
                    cr_assert(so);
                    memcpy(so, b.out_init, b.bytes);
                    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
                    rc_ref_theta_table(1e4, r, hi, lo);
                    rc_spec spec = {d, r, 1e4, c.layout, c.dtype, hi, lo, NULL, 0.0, 0.0, 0, NULL, 0};
                    void *st = NULL;
                    cr_assert_eq(rc_impl_scalar.prepare(&spec, &st), RC_OK);
                    rc_tensor tin = {b.in, c.n_tokens, c.n_heads, c.token_stride, c.head_stride};
                    rc_tensor tout = {so, c.n_tokens, c.n_heads, c.token_stride, c.head_stride};
                    cr_assert_eq(rc_impl_scalar.apply(st, &tin, &tout, b.pos, c.dir), RC_OK);
                    rc_impl_scalar.release(st);
                    const size_t es = rc_dtype_size(c.dtype);
                    for (size_t i = 0; i < b.bytes / es; i++) {
                        const double x = rc_elem_load(c.dtype, b.out, (int64_t)i);
                        const double y = rc_elem_load(c.dtype, so, (int64_t)i);
                        if (b.is_view[i] && isnan(x) && isnan(y))
                            continue; /* NaN payloads are not specified */
                        cr_assert(memcmp(b.out + i * es, so + i * es, es) == 0,
                                  "%s %s d=%d r=%d %s: element %zu: cuda math %a, scalar %a",
                                  rc_dtype_name(c.dtype), rc_layout_name(c.layout), d, r,
                                  rc_direction_name(c.dir), i, x, y);
                    }
                    free(so);
                    bufs_free(&b);
                }
}

/* rc_cuda_backend_run_device with q and k: one launch over one head axis
 * (q's heads, then k's, rc_cuda_split_head) must give what two separate
 * calls give, each tensor with its own strides. */
Test(cuda_math, q_and_k_one_launch)
{
    const uint64_t seed = test_seed("q_and_k");
    const rc_dtype types[] = {RC_DTYPE_F32, RC_DTYPE_BF16};
    for (int di = 0; di < 2; di++)
        for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
            const int d = 64, r = 32;
            mcase q = {d, r, (rc_layout)l, types[di], RC_INVERSE, 7, 3, 3 * (d + 6) + 1, d + 6,
                       0, 0, 0};
            mcase k = {d, r, (rc_layout)l, types[di], RC_INVERSE, 7, 2, 2 * d, d, 0, 0, 0};
            bufs bq, bk;
            make_inputs(&q, seed, &bq);
            make_inputs(&k, seed ^ 0x5a5a, &bk);
            memcpy(bk.pos, bq.pos, (size_t)q.n_tokens * sizeof *bq.pos); /* same tokens */
            double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
            rc_ref_theta_table(1e4, r, hi, lo);
            /* expected: one call per tensor */
            unsigned char *eq = malloc(bq.bytes), *ek = malloc(bk.bytes);
            cr_assert(eq && ek);
            memcpy(eq, bq.out_init, bq.bytes);
            memcpy(ek, bk.out_init, bk.bytes);
            emulate(&q, hi, lo, bq.pos, bq.in, eq);
            emulate(&k, hi, lo, bq.pos, bk.in, ek);
            /* one job: the table, then every (token, q-or-k head, item) */
            const int32_t half = r / 2, items = rc_cuda_head_items(d, r);
            const size_t es = rc_dtype_size(q.dtype);
            double cs[7 * 16], sn[7 * 16];
            for (int64_t g = 0; g < q.n_tokens * half; g++) {
                int64_t t;
                int32_t i;
                rc_cuda_table_index(g, half, &t, &i);
                rc_cuda_token_sincos(bq.pos[t], hi[i], lo[i], 1.0, 1, &cs[g], &sn[g]);
            }
            const int64_t heads = q.n_heads + k.n_heads;
            for (int64_t g = 0; g < q.n_tokens * heads * items; g++) {
                int64_t t, h, hh;
                int32_t j;
                rc_cuda_item_index(g, items, heads, &t, &h, &j);
                const int second = rc_cuda_split_head(h, q.n_heads, &hh);
                const mcase *c = second ? &k : &q;
                bufs *b = second ? &bk : &bq;
                const size_t off =
                    (size_t)rc_cuda_head_offset(t, hh, c->token_stride, c->head_stride) * es;
                rc_cuda_head_item(c->dtype, c->layout, r, j, b->in + off, b->out + off,
                                  cs + t * half, sn + t * half);
            }
            cr_assert(memcmp(bq.out, eq, bq.bytes) == 0, "q differs in the joint launch");
            cr_assert(memcmp(bk.out, ek, bk.bytes) == 0, "k differs in the joint launch");
            free(eq);
            free(ek);
            bufs_free(&bq);
            bufs_free(&bk);
        }
}

/* The kernels' 32-bit index map (launches below 2^31 items) must agree
 * with the 64-bit one: every g below 200000 for assorted (items, heads),
 * and g just below 2^31. */
Test(cuda_math, item_index32)
{
    static const uint32_t shapes2[][2] = {{64, 40}, {1, 1}, {65, 3}, {512, 128}, {8, 1}, {7, 9}};
    for (size_t s = 0; s < sizeof shapes2 / sizeof shapes2[0]; s++) {
        const uint32_t items = shapes2[s][0], heads = shapes2[s][1];
        for (uint32_t k = 0; k < 200000u + 64u; k++) {
            const uint32_t g = k < 200000u ? k : 0x7fffffffu - (k - 200000u);
            uint32_t t, h, j;
            int64_t t64, h64;
            int32_t j64;
            rc_cuda_item_index32(g, items, heads, &t, &h, &j);
            rc_cuda_item_index((int64_t)g, (int32_t)items, (int64_t)heads, &t64, &h64, &j64);
            cr_assert(t == t64 && h == h64 && (int32_t)j == j64,
                      "g=%u items=%u heads=%u: (%u,%u,%u) vs (%lld,%lld,%d)", g, items, heads, t,
                      h, j, (long long)t64, (long long)h64, j64);
        }
    }
}

Test(cuda_math, pair_channels)
{
    /* The index maps of rope.h: interleaved (2i, 2i+1), half (i, i + r/2);
     * together the pairs cover channels 0..r-1 once each. */
    for (int32_t r = 2; r <= 16; r += 2)
        for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
            int seen[16] = {0};
            for (int32_t i = 0; i < r / 2; i++) {
                int32_t a, b;
                rc_cuda_pair_channels((rc_layout)l, r / 2, i, &a, &b);
                cr_assert_eq(a, l == RC_LAYOUT_INTERLEAVED ? 2 * i : i);
                cr_assert_eq(b, l == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + r / 2);
                seen[a]++;
                seen[b]++;
            }
            for (int32_t ch = 0; ch < r; ch++)
                cr_assert_eq(seen[ch], 1, "r=%d layout %d: channel %d covered %d times", r, l, ch,
                             seen[ch]);
        }
}

/* Multi-axis RoPE (ABI 4): the sin/cos kernels take each pair's position
 * on its axis (rc_cuda_pair_position); emulated both ways (table: entry g
 * of [n_tokens][half]; fused: a token's row at a time) on M-RoPE maps with
 * tuples of unequal positions, the outputs must be the scalar port's bit
 * for bit (scalar is checked against the oracle at these gates). */
Test(cuda_math, multi_axis_matches_scalar)
{
    const uint64_t seed = test_seed("multi_axis");
    const int d = 64, r = 64, half = r / 2;
    const int64_t n_tokens = 9, n_heads = 2;
    char err[256];
    rc_axes maps[2];
    const int32_t sec[3] = {8, 12, 12}, il[3] = {12, 10, 10};
    cr_assert_eq(rc_axes_sections(sec, 3, r, &maps[0], err, sizeof err), 0, "%s", err);
    cr_assert_eq(rc_axes_interleaved(il, 3, r, &maps[1], err, sizeof err), 0, "%s", err);
    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
    rc_ref_theta_table(1e4, r, hi, lo);
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x4d524f50u, 0);
    int64_t pos[9 * 3];
    for (int64_t k = 0; k < n_tokens * 3; k++)
        pos[k] = k < 3 ? 7 : (int64_t)rc_rng_below(&g, 2147483648u); /* token 0: text */
    for (int mi = 0; mi < 2; mi++)
        for (int di = 0; di < 3; di++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
                const rc_dtype t = dtypes[di];
                const size_t es = rc_dtype_size(t), n = (size_t)(n_tokens * n_heads * d);
                unsigned char *in = malloc(n * es), *tab = malloc(n * es), *fus = malloc(n * es),
                              *sc = malloc(n * es);
                cr_assert(in && tab && fus && sc);
                for (size_t i = 0; i < n; i++)
                    rc_elem_store(t, in, (int64_t)i, draw(&g, t, 0));
                const int32_t items = rc_cuda_head_items(d, r);
                double cs[9 * RC_MAX_HEAD_DIM / 2], sn[9 * RC_MAX_HEAD_DIM / 2];
                for (int64_t e = 0; e < n_tokens * half; e++) { /* table_kernel */
                    int64_t tk;
                    int32_t i;
                    rc_cuda_table_index(e, half, &tk, &i);
                    rc_cuda_token_sincos(rc_cuda_pair_position(pos, tk, i, 3, maps[mi].pair_axis),
                                         hi[i], lo[i], 1.0, 0, &cs[e], &sn[e]);
                }
                for (int64_t e = 0; e < n_tokens * n_heads * items; e++) { /* rotate_kernel */
                    int64_t tk, h;
                    int32_t j;
                    rc_cuda_item_index(e, items, n_heads, &tk, &h, &j);
                    const size_t off = (size_t)rc_cuda_head_offset(tk, h, n_heads * d, d) * es;
                    rc_cuda_head_item(t, (rc_layout)l, r, j, (const char *)in + off,
                                      (char *)tab + off, cs + tk * half, sn + tk * half);
                }
                for (int64_t tk = 0; tk < n_tokens; tk++) { /* fused_kernel */
                    double fc[RC_MAX_HEAD_DIM / 2], fs[RC_MAX_HEAD_DIM / 2];
                    for (int32_t i = 0; i < half; i++)
                        rc_cuda_token_sincos(
                            rc_cuda_pair_position(pos, tk, i, 3, maps[mi].pair_axis), hi[i],
                            lo[i], 1.0, 0, &fc[i], &fs[i]);
                    for (int64_t e = 0; e < n_heads * items; e++) {
                        int64_t t0, h;
                        int32_t j;
                        rc_cuda_item_index(e, items, n_heads, &t0, &h, &j);
                        const size_t off = (size_t)rc_cuda_head_offset(tk, h, n_heads * d, d) * es;
                        rc_cuda_head_item(t, (rc_layout)l, r, j, (const char *)in + off,
                                          (char *)fus + off, fc, fs);
                    }
                }
                rc_spec spec = {d, r, 1e4, (rc_layout)l, t, hi, lo, NULL, 0.0, 0.0, 3,
                                maps[mi].pair_axis, 0};
                void *st = NULL;
                cr_assert_eq(rc_impl_scalar.prepare(&spec, &st), RC_OK);
                rc_tensor tin = {in, n_tokens, n_heads, n_heads * d, d};
                rc_tensor tout = {sc, n_tokens, n_heads, n_heads * d, d};
                cr_assert_eq(rc_impl_scalar.apply(st, &tin, &tout, pos, RC_FORWARD), RC_OK);
                rc_impl_scalar.release(st);
                cr_expect(memcmp(tab, sc, n * es) == 0, "map %d %s %s: table emulation differs "
                          "from scalar", mi, rc_dtype_name(t), rc_layout_name((rc_layout)l));
                cr_expect(memcmp(fus, sc, n * es) == 0, "map %d %s %s: fused emulation differs "
                          "from scalar", mi, rc_dtype_name(t), rc_layout_name((rc_layout)l));
                free(in);
                free(tab);
                free(fus);
                free(sc);
            }
}
