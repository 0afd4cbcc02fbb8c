/*
 * tests/test_cuda.c - the CUDA implementations ("cuda": table mode,
 * "cuda-fused") through the rc_impl ABI, against the MPFR reference.
 *
 * Without a CUDA device (CI, most machines of this project) every test is
 * SKIPPED with the impl's own reason ("no CUDA device", or "built without
 * CUDA ..."), and ctest reports the binary as Skipped, never as passed
 * (tests/CMakeLists.txt: SKIP_REGULAR_EXPRESSION). The kernels' arithmetic
 * is tested on every run by tests/test_cuda_math.c; this file tests what
 * only a GPU can: launch geometry, copies, and that the device computes
 * the shared angle code (impls/common/sincos_dd.h) with the host's bits.
 *
 * What is checked, for each impl:
 *   reference: f32/f16/bf16, both layouts, both directions, full and
 *     partial rotary (d=128 r=128, d=80 r=32, d=6 r=2), strided views with
 *     gaps, in place and out of place; positions 0, 1, 2^31 - 1, 2^53 - 1
 *     and random below 2^31; many heads and tokens so the grid-stride
 *     loops run more than one block. Each rotated element's pair ULP is
 *     within the bound below; passthrough channels keep their bits; no gap
 *     byte changes; `in` is unchanged out of place; in place gives out of
 *     place's bits.
 *   f64_unsupported: prepare() refuses f64 with RC_ERR_UNSUPPORTED.
 *   rejects_bad_calls: a position past RC_MAX_POSITION, in place with
 *     unequal strides: RC_ERR_INVALID and nothing written.
 *
 * BOUND (impls/cuda/cuda_rotate_math.h): the device's double sin/cos are
 * within U = 2 ulp (CUDA's documented maximum), so the double result is
 * within 11.7 * 2^-53 * N of exact, < 2^-25.4 ulp_T(N) for f32 (coarser
 * types: less); one rounding adds 1/2. Gate: 0.5 + 2^-20 at every m < 2^53.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "impls/cuda/cuda.h"
#include "reference/metrics.h"
#include "reference/reference.h"

#define GATE (0.5 + 0x1p-20)

static uint64_t test_seed(const char *what)
{
    char who[64];
    snprintf(who, sizeof who, "test_cuda %s", what);
    return rc_test_seed(who, 20261123u);
}

/* Skip, with the impl's reason, when it cannot run here. */
static void require(const rc_impl *impl)
{
    char why[160] = "";
    if (!impl->available(why, sizeof why))
        cr_skip_test("%s: %s", impl->name, why);
}

typedef struct gcase {
    int d, r;
    rc_layout layout;
    rc_dtype dtype;
    rc_direction dir;
    int64_t n_tokens, n_heads;
    int64_t token_stride, head_stride;
    int inplace;
} gcase;

typedef struct gbufs {
    size_t bytes;
    unsigned char *in, *out, *out_init, *is_view;
    int64_t *pos;
} gbufs;

static void gbufs_free(gbufs *b)
{
    free(b->in);
    free(b->out);
    free(b->out_init);
    free(b->is_view);
    free(b->pos);
}

static int64_t position_of(rc_rng *g, int64_t t)
{
    static const int64_t fixed[] = {0, 1, 2147483647, 9007199254740991};
    return t < 4 ? fixed[t] : (int64_t)rc_rng_below(g, 2147483648u);
}

/* Inputs from the seed; applies `impl`; checks gaps and `in`. */
static void run_impl(const rc_impl *impl, const gcase *c, uint64_t seed, gbufs *b)
{
    const size_t es = rc_dtype_size(c->dtype);
    const size_t n = (size_t)((c->n_tokens - 1) * c->token_stride +
                              (c->n_heads - 1) * c->head_stride + c->d);
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
        b->in[i] = (unsigned char)(0xA5 ^ (i * 7));
    for (int64_t t = 0; t < c->n_tokens; t++) {
        b->pos[t] = position_of(&g, t);
        for (int64_t h = 0; h < c->n_heads; h++)
            for (int ch = 0; ch < c->d; ch++) {
                const size_t idx = (size_t)(t * c->token_stride + h * c->head_stride + ch);
                double x = ldexp(1.0 + rc_rng_uniform(&g), (int)rc_rng_below(&g, 8) - 4);
                rc_elem_store(c->dtype, b->in, (int64_t)idx, (rc_rng_next(&g) & 1) ? -x : x);
                b->is_view[idx] = 1;
            }
    }
    if (c->inplace)
        memcpy(b->out, b->in, b->bytes);
    else
        for (size_t i = 0; i < b->bytes; i++)
            b->out[i] = (unsigned char)(0x3C ^ (i * 13));
    memcpy(b->out_init, b->out, b->bytes);
    unsigned char *in_copy = malloc(b->bytes);
    cr_assert(in_copy);
    memcpy(in_copy, b->in, b->bytes);

    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
    rc_ref_theta_table(1e4, c->r, hi, lo);
    rc_spec spec = {c->d, c->r, 1e4, c->layout, c->dtype, hi, lo, NULL, 0.0, 0.0, 0, NULL, 0};
    void *st = NULL;
    rc_status s = impl->prepare(&spec, &st);
    cr_assert_eq(s, RC_OK, "%s prepare: %s", impl->name, rc_status_name(s));
    rc_tensor tin = {c->inplace ? b->out : b->in, c->n_tokens, c->n_heads, c->token_stride,
                     c->head_stride};
    rc_tensor tout = {b->out, c->n_tokens, c->n_heads, c->token_stride, c->head_stride};
    s = impl->apply(st, &tin, &tout, b->pos, c->dir);
    impl->release(st);
    cr_assert_eq(s, RC_OK, "%s apply: %s", impl->name, rc_status_name(s));
    if (!c->inplace)
        cr_assert(memcmp(in_copy, b->in, b->bytes) == 0, "%s: input modified", impl->name);
    free(in_copy);
    for (size_t i = 0; i < n; i++)
        if (!b->is_view[i])
            cr_assert(memcmp(b->out + i * es, b->out_init + i * es, es) == 0,
                      "%s: element %zu, in a stride gap, was written", impl->name, i);
}

static void check_reference(const rc_impl *impl)
{
    require(impl);
    const uint64_t seed = test_seed(impl->name);
    static const rc_dtype dtypes[] = {RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16};
    static const int shapes[][2] = {{128, 128}, {80, 32}, {6, 2}};
    for (int di = 0; di < 3; di++)
        for (int si = 0; si < 3; si++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++)
                for (int dir = 0; dir < RC_DIRECTION_COUNT; dir++)
                    for (int inplace = 0; inplace < 2; inplace++) {
                        const int d = shapes[si][0], r = shapes[si][1];
                        /* 40 heads (Llama-3-8B q + kv) with 3-element gaps,
                         * 2 more per token: more threads than one block. */
                        gcase c = {d, r, (rc_layout)l, dtypes[di], (rc_direction)dir, 12, 40,
                                   40 * (d + 3) + 2, d + 3, inplace};
                        gbufs b;
                        run_impl(impl, &c, seed, &b);
                        const size_t es = rc_dtype_size(c.dtype);
                        if (inplace) {
                            gcase o = c;
                            o.inplace = 0;
                            gbufs bo;
                            run_impl(impl, &o, seed, &bo);
                            for (size_t i = 0; i < b.bytes / es; i++)
                                if (b.is_view[i])
                                    cr_assert(memcmp(b.out + i * es, bo.out + i * es, es) == 0,
                                              "%s: in place differs at %zu", impl->name, i);
                            gbufs_free(&bo);
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
                                    if (el[ch].kind == RC_ELEM_PASSTHROUGH) {
                                        cr_assert_eq(rc_elem_bits(c.dtype, b.out, base + ch),
                                                     rc_elem_bits(c.dtype, b.in, base + ch),
                                                     "%s: passthrough channel %d changed",
                                                     impl->name, ch);
                                        continue;
                                    }
                                    const double got = rc_elem_load(c.dtype, b.out, base + ch);
                                    const double pu =
                                        rc_ulp_error(c.dtype, got, el[ch].exact, el[ch].pair_norm);
                                    cr_assert(pu <= GATE,
                                              "%s %s %s d=%d r=%d %s%s: m=%lld head %lld ch %d: "
                                              "pair ulp %.4g > %.6g",
                                              impl->name, rc_dtype_name(c.dtype),
                                              rc_layout_name(c.layout), d, r,
                                              rc_direction_name(c.dir),
                                              inplace ? " in place" : "", (long long)b.pos[t],
                                              (long long)h, ch, pu, GATE);
                                }
                            }
                        rc_ref_destroy(ref);
                        gbufs_free(&b);
                    }
}

static void check_f64_unsupported(const rc_impl *impl)
{
    require(impl);
    double hi[32], lo[32];
    rc_ref_theta_table(1e4, 64, hi, lo);
    rc_spec spec = {64, 64, 1e4, RC_LAYOUT_HALF, RC_DTYPE_F64, hi, lo, NULL, 0.0, 0.0, 0, NULL, 0};
    void *st = NULL;
    cr_assert_eq(impl->prepare(&spec, &st), RC_ERR_UNSUPPORTED);
    cr_assert_null(st);
    cr_assert_eq(impl->caps & RC_CAP_F64, 0);
}

static void check_rejects(const rc_impl *impl)
{
    require(impl);
    /* N leaves room for the wider token stride of `odd` below, so even a
     * port that wrongly accepted it would stay inside the arrays. */
    enum { D = 8, T = 2, H = 2, N = T * H * D + 8 };
    double hi[D / 2], lo[D / 2];
    rc_ref_theta_table(1e4, D, hi, lo);
    rc_spec spec = {D, D, 1e4, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32, hi, lo, NULL, 0.0, 0.0, 0, NULL, 0};
    void *st = NULL;
    cr_assert_eq(impl->prepare(&spec, &st), RC_OK);
    float in[N], out[N], before_in[N], before_out[N];
    for (int i = 0; i < N; i++) {
        in[i] = before_in[i] = (float)(i + 1);
        out[i] = before_out[i] = -1.0f;
    }
    rc_tensor tin = {in, T, H, H * D, D};
    rc_tensor tout = {out, T, H, H * D, D};
    int64_t bad[T] = {0, RC_MAX_POSITION + 1};
    cr_assert_eq(impl->apply(st, &tin, &tout, bad, RC_FORWARD), RC_ERR_INVALID);
    cr_assert(memcmp(out, before_out, sizeof out) == 0, "%s wrote on a rejected call",
              impl->name);
    int64_t ok[T] = {0, 5};
    /* in place (same data) with a token stride unlike tin's */
    rc_tensor odd = {in, T, H, H * D + 4, D};
    cr_assert_eq(impl->apply(st, &tin, &odd, ok, RC_FORWARD), RC_ERR_INVALID);
    cr_assert(memcmp(in, before_in, sizeof in) == 0, "%s wrote on a rejected call",
              impl->name);
    impl->release(st);
}

Test(cuda, reference_table) { check_reference(&rc_impl_cuda); }
Test(cuda, reference_fused) { check_reference(&rc_impl_cuda_fused); }
Test(cuda, f64_unsupported_table) { check_f64_unsupported(&rc_impl_cuda); }
Test(cuda, f64_unsupported_fused) { check_f64_unsupported(&rc_impl_cuda_fused); }
Test(cuda, rejects_bad_calls_table) { check_rejects(&rc_impl_cuda); }
Test(cuda, rejects_bad_calls_fused) { check_rejects(&rc_impl_cuda_fused); }
