/*
 * tests/test_ports_axes.c - multi-axis RoPE (rope.h, ABI 4) in the CPU
 * ports: scalar, avx2 and avx512 in both angle strategies (neon is the same
 * port_state code, checked under qemu through the runner's own tests).
 *
 * Every port against the multi-axis oracle (rc_ref_rotate_head_axes) at
 * the gates test_simd.c derives for the single-axis ports, which hold pair
 * by pair here: a port's row for pair i is the single-axis row at that
 * pair's position (impls/common/port_state.h, MULTI-AXIS), so the pair's
 * error analysis is unchanged. Narrow types: 0.5 + 2^-20 pair ULP; f64:
 * 1.1987 below 2^31. The SIMD ports must also equal scalar bit for bit.
 * Cases: seeded shapes (partial rotary, tails), dtypes, layouts,
 * directions, axis maps of every builder and arbitrary ones, tuples with
 * equal and distinct components, several calls on one state (kept rows
 * keyed by every component). Then: equal components are the single-axis
 * result exactly, and the ABI's refusals.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "random_axes.h"
#include "test_seed.h"
#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/registry.h"
#include "core/spec_check.h"
#include "core/rng.h"
#include "impls/avx2/avx2.h"
#include "impls/avx512/avx512.h"
#include "impls/scalar/scalar.h"
#include "reference/metrics.h"
#include "reference/reference.h"

#define GATE_NARROW (0.5 + 0x1p-20)
#define GATE_F64 1.1987 /* tests/test_simd.c derives it (U = 0.494, m < 2^31) */

static const rc_impl *const ports[] = {&rc_impl_scalar, &rc_impl_avx2, &rc_impl_avx2_table,
                                       &rc_impl_avx512, &rc_impl_avx512_table};

typedef struct mcase {
    int d, r, n_tokens, n_heads;
    rc_dtype dtype;
    rc_layout layout;
    rc_direction dir;
    double base;
    rc_axes axes;
    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
    int64_t pos[8 * RC_MAX_AXES];
    size_t elems;
    unsigned char *in;
} mcase;

static rc_spec spec_of(const mcase *c)
{
    rc_spec s = {.head_dim = c->d, .rotary_dim = c->r, .base = c->base, .layout = c->layout,
                 .dtype = c->dtype, .theta_hi = c->hi, .theta_lo = c->lo,
                 .n_axes = c->axes.n_axes, .pair_axis = c->axes.pair_axis};
    return s;
}

static void draw_positions(rc_rng *g, mcase *c)
{
    const int a = c->axes.n_axes;
    for (int t = 0; t < c->n_tokens; t++) {
        const int text = rc_rng_next(g) % 4 == 0; /* every component equal */
        for (int k = 0; k < a; k++)
            c->pos[t * a + k] = text && k ? c->pos[t * a]
                                          : (int64_t)(rc_rng_next(g) % 2147483648u);
    }
}

static void make_case(rc_rng *g, int trial, mcase *c)
{
    static const int shapes[][2] = {{128, 128}, {96, 24}, {80, 32}, {38, 30}, {20, 10}, {6, 2}};
    memset(c, 0, sizeof *c);
    c->d = shapes[trial % 6][0];
    c->r = shapes[trial % 6][1];
    c->n_tokens = 1 + (int)(rc_rng_next(g) % 8);
    c->n_heads = 1 + (int)(rc_rng_next(g) % 3);
    c->dtype = (rc_dtype)(rc_rng_next(g) % RC_DTYPE_COUNT);
    c->layout = (rc_layout)(rc_rng_next(g) % RC_LAYOUT_COUNT);
    c->dir = (rc_direction)(rc_rng_next(g) % RC_DIRECTION_COUNT);
    c->base = trial % 2 ? 10000.0 : 1e6;
    rc_ref_theta_table(c->base, c->r, c->hi, c->lo);
    rc_test_random_axes(g, c->r, &c->axes);
    if (c->axes.n_axes == 1) { /* a section list may leave one axis: make it two */
        c->axes.n_axes = 2;
        c->axes.pair_axis[0] = 1;
    }
    draw_positions(g, c);
    c->elems = (size_t)(c->n_tokens * c->n_heads * c->d);
    c->in = malloc(c->elems * rc_dtype_size(c->dtype));
    cr_assert(c->in);
    for (size_t i = 0; i < c->elems; i++)
        rc_elem_store(c->dtype, c->in, (int64_t)i,
                      (2.0 * rc_rng_uniform(g) - 1.0) * (double)(1 + rc_rng_next(g) % 8));
}

static rc_tensor view(const mcase *c, void *data)
{
    rc_tensor t = {data, c->n_tokens, c->n_heads, (int64_t)c->n_heads * c->d, c->d};
    return t;
}

/* out (n_tokens x n_heads x d of c's dtype) against the oracle. */
static void check_oracle(const rc_impl *impl, const mcase *c, const int64_t *pos,
                         const unsigned char *out, int trial)
{
    rc_spec s = spec_of(c);
    rc_ref *ref = rc_ref_create(&s);
    cr_assert(ref);
    const double gate = c->dtype == RC_DTYPE_F64 ? GATE_F64 : GATE_NARROW;
    double x[RC_MAX_HEAD_DIM];
    rc_ref_elem e[RC_MAX_HEAD_DIM];
    const int a = c->axes.n_axes;
    for (int t = 0; t < c->n_tokens; t++)
        for (int h = 0; h < c->n_heads; h++) {
            const int64_t base = ((int64_t)t * c->n_heads + h) * c->d;
            for (int ch = 0; ch < c->d; ch++)
                x[ch] = rc_elem_load(c->dtype, c->in, base + ch);
            cr_assert_eq(rc_ref_rotate_head_axes(ref, &c->axes, pos + t * a, c->dir, x, e), 0);
            for (int ch = 0; ch < c->d; ch++) {
                const int64_t idx = base + ch;
                if (e[ch].kind == RC_ELEM_PASSTHROUGH) {
                    cr_assert_eq(rc_elem_bits(c->dtype, out, idx), rc_elem_bits(c->dtype, c->in, idx));
                    continue;
                }
                const double got = rc_elem_load(c->dtype, out, idx);
                const double u = rc_ulp_error(c->dtype, got, e[ch].exact, e[ch].pair_norm);
                cr_assert(u <= gate,
                          "%s trial %d %s %s d=%d r=%d %d axes: pair ULP %.4g > %.4g at token %d "
                          "head %d channel %d",
                          impl->name, trial, rc_dtype_name(c->dtype), rc_layout_name(c->layout),
                          c->d, c->r, a, u, gate, t, h, ch);
            }
        }
    rc_ref_destroy(ref);
}

/* One call of impl on state: returns the output buffer (malloc'd). */
static unsigned char *call(const rc_impl *impl, void *state, const mcase *c, const int64_t *pos)
{
    unsigned char *out = calloc(c->elems, rc_dtype_size(c->dtype));
    cr_assert(out);
    rc_tensor tin = view(c, c->in), tout = view(c, out);
    cr_assert_eq(impl->apply(state, &tin, &tout, pos, c->dir), RC_OK, "%s", impl->name);
    return out;
}

Test(ports_axes, every_port_meets_the_gate_and_equals_scalar)
{
    const uint64_t seed = rc_test_seed("test_ports_axes", 20261204u);
    int ran[sizeof ports / sizeof ports[0]] = {0};
    for (size_t p = 0; p < sizeof ports / sizeof ports[0]; p++) {
        const rc_impl *impl = ports[p];
        char why[160];
        if (impl->available && !impl->available(why, sizeof why)) {
            cr_log_info("%s: skipped here (%s)", impl->name, why);
            continue;
        }
        cr_assert(rc_impl_caps(impl) & RC_CAP_MULTI_AXIS, "%s does not offer multi-axis",
                  impl->name);
        rc_rng g;
        rc_rng_seed3(&g, seed, 0x6178, 0); /* every port sees the same cases */
        for (int trial = 0; trial < 96; trial++) {
            mcase *c = malloc(sizeof *c);
            cr_assert(c);
            make_case(&g, trial, c);
            rc_spec s = spec_of(c);
            void *state = NULL, *sstate = NULL;
            cr_assert_eq(impl->prepare(&s, &state), RC_OK);
            cr_assert_eq(rc_impl_scalar.prepare(&s, &sstate), RC_OK);
            /* Three calls on one state: the tuples, the tuples with one
             * component of one token moved (kept rows must see it), and
             * the tuples again. */
            int64_t moved[8 * RC_MAX_AXES];
            memcpy(moved, c->pos, sizeof moved);
            moved[(c->n_tokens - 1) * c->axes.n_axes + c->axes.n_axes - 1] += 1;
            const int64_t *seq[3] = {c->pos, moved, c->pos};
            for (int k = 0; k < 3; k++) {
                unsigned char *out = call(impl, state, c, seq[k]);
                check_oracle(impl, c, seq[k], out, trial);
                unsigned char *want = call(&rc_impl_scalar, sstate, c, seq[k]);
                cr_assert(memcmp(out, want, c->elems * rc_dtype_size(c->dtype)) == 0,
                          "%s trial %d call %d: not scalar's bits", impl->name, trial, k);
                free(out);
                free(want);
            }
            impl->release(state);
            rc_impl_scalar.release(sstate);
            free(c->in);
            free(c);
            ran[p]++;
        }
    }
    cr_expect_eq(ran[0], 96, "scalar must always run");
}

/* Components all equal: the single-axis spec's result, bit for bit. */
Test(ports_axes, equal_components_are_ordinary_rope)
{
    const uint64_t seed = rc_test_seed("test_ports_axes equal", 20261204u);
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x6179, 0);
    for (int trial = 0; trial < 24; trial++) {
        mcase *c = malloc(sizeof *c);
        cr_assert(c);
        make_case(&g, trial, c);
        int64_t single[8];
        for (int t = 0; t < c->n_tokens; t++) {
            single[t] = c->pos[t * c->axes.n_axes];
            for (int k = 1; k < c->axes.n_axes; k++)
                c->pos[t * c->axes.n_axes + k] = single[t];
        }
        rc_spec multi = spec_of(c), one = spec_of(c);
        one.n_axes = 0;
        one.pair_axis = NULL;
        void *sm = NULL, *so = NULL;
        cr_assert_eq(rc_impl_scalar.prepare(&multi, &sm), RC_OK);
        cr_assert_eq(rc_impl_scalar.prepare(&one, &so), RC_OK);
        unsigned char *a = call(&rc_impl_scalar, sm, c, c->pos);
        unsigned char *b = call(&rc_impl_scalar, so, c, single);
        cr_assert(memcmp(a, b, c->elems * rc_dtype_size(c->dtype)) == 0, "trial %d", trial);
        free(a);
        free(b);
        rc_impl_scalar.release(sm);
        rc_impl_scalar.release(so);
        free(c->in);
        free(c);
    }
}

Test(ports_axes, abi_and_argument_refusals)
{
    /* An ABI-3 struct cannot promise bit 21: it is not read from one. */
    rc_impl old = rc_impl_scalar;
    old.abi_version = 3;
    cr_expect_eq(rc_impl_caps(&old) & RC_CAP_MULTI_AXIS, 0);
    cr_expect(rc_impl_caps(&rc_impl_scalar) & RC_CAP_MULTI_AXIS);

    double hi[4], lo[4];
    rc_ref_theta_table(10000.0, 8, hi, lo);
    uint8_t map[4] = {0, 1, 1, 0};
    rc_spec s = {.head_dim = 8, .rotary_dim = 8, .base = 10000.0, .layout = RC_LAYOUT_HALF,
                 .dtype = RC_DTYPE_F32, .theta_hi = hi, .theta_lo = lo, .n_axes = 2,
                 .pair_axis = map};
    void *st = NULL;
    rc_spec bad = s;
    bad.n_axes = RC_MAX_AXES + 1;
    cr_expect_eq(rc_impl_scalar.prepare(&bad, &st), RC_ERR_INVALID);
    bad = s;
    bad.pair_axis = NULL;
    cr_expect_eq(rc_impl_scalar.prepare(&bad, &st), RC_ERR_INVALID);
    bad = s;
    bad.n_axes = -1;
    cr_expect_eq(rc_impl_scalar.prepare(&bad, &st), RC_ERR_INVALID);
    uint8_t wide[4] = {0, 2, 1, 0};
    bad = s;
    bad.pair_axis = wide;
    cr_expect_eq(rc_impl_scalar.prepare(&bad, &st), RC_ERR_INVALID);

    /* The one-axis check is the n_axes = 1 case of the checker. */
    {
        float a[8] = {0}, b[8];
        rc_tensor ta = {a, 1, 1, 8, 8}, tb = {b, 1, 1, 8, 8};
        const int64_t p1[1] = {7}, bad1[1] = {-7};
        int empty = 1;
        cr_expect_eq(rc_apply_args_check(8, 4, &ta, &tb, p1, RC_FORWARD, &empty), RC_OK);
        cr_expect_eq(empty, 0);
        cr_expect_eq(rc_apply_args_check(8, 4, &ta, &tb, bad1, RC_FORWARD, &empty),
                     RC_ERR_INVALID);
        cr_expect_eq(rc_apply_args_check_axes(8, 4, &ta, &tb, p1, 0, RC_FORWARD, &empty),
                     RC_ERR_INVALID);
    }
    cr_assert_eq(rc_impl_scalar.prepare(&s, &st), RC_OK);
    float in[16] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8}, out[16];
    rc_tensor tin = {in, 2, 1, 8, 8}, tout = {out, 2, 1, 8, 8};
    const int64_t ok[4] = {1, 2, 3, 4}, far[4] = {1, 2, 3, -4};
    cr_expect_eq(rc_impl_scalar.apply(st, &tin, &tout, ok, RC_FORWARD), RC_OK);
    /* The last token's second component is checked too. */
    cr_expect_eq(rc_impl_scalar.apply(st, &tin, &tout, far, RC_FORWARD), RC_ERR_INVALID);
    rc_impl_scalar.release(st);
}
