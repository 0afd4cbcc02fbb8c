/*
 * tests/test_ref_axes.c - the oracle for multi-axis RoPE
 * (rc_ref_rotate_head_axes) against the single-axis oracle.
 *
 * Pairs are independent, so a head at tuple positions must be, element for
 * element and bit for bit, the single-axis head at each pair's own
 * position: for every pair i, rc_ref_rotate_head(pos[axis(i)]) restricted
 * to pair i's two channels. Checked on seeded random heads (all dtypes,
 * both layouts, partial rotary, both directions, special values), axis
 * maps of every builder plus arbitrary ones, tuples with repeated and
 * distinct components (text tokens have all components equal), with the
 * certified fast path on and off; then the refusals.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "random_axes.h"
#include "test_seed.h"
#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "reference/reference.h"

static rc_ref *make_ref(int d, int r, double base, rc_layout l, rc_dtype t)
{
    rc_spec s = {d, r, base, l, t, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    rc_ref *ref = rc_ref_create(&s);
    cr_assert(ref != NULL, "rc_ref_create(d=%d r=%d)", d, r);
    return ref;
}

static int same_elem(const rc_ref_elem *a, const rc_ref_elem *b)
{
    return memcmp(&a->exact, &b->exact, sizeof a->exact) == 0 &&
           memcmp(&a->rounded, &b->rounded, sizeof a->rounded) == 0 &&
           memcmp(&a->pair_norm, &b->pair_norm, sizeof a->pair_norm) == 0 &&
           a->partner == b->partner && a->kind == b->kind && a->certified == b->certified;
}

/* A value of dtype t, exactly, mostly ordinary, sometimes special. */
static double draw(rc_rng *g, rc_dtype t)
{
    const uint64_t u = rc_rng_next(g);
    if (u % 29 == 0)
        return (u >> 8) % 3 == 0 ? NAN : (u >> 8) % 3 == 1 ? INFINITY : 0.0;
    const double x = (2.0 * rc_rng_uniform(g) - 1.0) * ldexp(1.0, (int)(u % 9) - 4);
    return rc_round_to_dtype(t, x);
}

static int64_t draw_position(rc_rng *g)
{
    const uint64_t u = rc_rng_next(g);
    switch (u % 4) {
    case 0: return (int64_t)(u >> 2) % 64;
    case 1: return (int64_t)(u >> 2) % 2147483648;
    case 2: return (int64_t)((u >> 11) & (uint64_t)RC_MAX_POSITION);
    default: return 0;
    }
}

Test(ref_axes, each_pair_is_the_single_axis_result_at_its_position)
{
    const uint64_t seed = rc_test_seed("test_ref_axes", 20261204u);
    rc_rng g;
    rc_rng_seed3(&g, seed, 18, 0);
    static const int shapes[][2] = {{128, 128}, {96, 24}, {80, 32}, {64, 64}, {8, 4}, {6, 6}};
    int judged = 0, text_like = 0;
    for (int trial = 0; trial < 240; trial++) {
        const int *sh = shapes[trial % 6];
        const int d = sh[0], r = sh[1];
        const rc_dtype t = (rc_dtype)(rc_rng_next(&g) % RC_DTYPE_COUNT);
        const rc_layout l = (rc_layout)(rc_rng_next(&g) % RC_LAYOUT_COUNT);
        const rc_direction dir = (rc_direction)(rc_rng_next(&g) % RC_DIRECTION_COUNT);
        const double base = trial % 3 ? 10000.0 : 1e6;
        rc_axes a;
        rc_test_random_axes(&g, r, &a);
        int64_t pos[RC_MAX_AXES];
        const int all_equal = trial % 5 == 0;
        for (int k = 0; k < a.n_axes; k++)
            pos[k] = all_equal && k ? pos[0] : draw_position(&g);
        if (a.n_axes > 2 && trial % 7 == 1)
            pos[2] = pos[0]; /* two axes at one position, a third elsewhere */
        text_like += all_equal;
        double in[RC_MAX_HEAD_DIM];
        for (int c = 0; c < d; c++)
            in[c] = draw(&g, t);
        for (int fast = 0; fast <= 1; fast++) {
            rc_ref *ref = make_ref(d, r, base, l, t);
            rc_ref *single = make_ref(d, r, base, l, t);
            rc_ref_set_fast_path(ref, fast);
            rc_ref_set_fast_path(single, fast);
            rc_ref_elem got[RC_MAX_HEAD_DIM], want[RC_MAX_HEAD_DIM];
            cr_assert_eq(rc_ref_rotate_head_axes(ref, &a, pos, dir, in, got), 0);
            for (int k = 0; k < a.n_axes; k++) {
                cr_assert_eq(rc_ref_rotate_head(single, pos[k], dir, in, want), 0);
                for (int i = 0; i < r / 2; i++) {
                    if (a.pair_axis[i] != k)
                        continue;
                    const int ca = l == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                    const int cb = l == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + r / 2;
                    cr_assert(same_elem(&got[ca], &want[ca]) && same_elem(&got[cb], &want[cb]),
                              "trial %d (seed %llu) %s %s d=%d r=%d fast=%d: pair %d on axis %d "
                              "at %lld differs from the single-axis oracle there",
                              trial, (unsigned long long)seed, rc_dtype_name(t), rc_layout_name(l),
                              d, r, fast, i, k, (long long)pos[k]);
                }
            }
            for (int c = r; c < d; c++)
                cr_assert(same_elem(&got[c], &want[c]), "passthrough channel %d", c);
            rc_ref_destroy(ref);
            rc_ref_destroy(single);
            judged++;
        }
    }
    cr_expect_eq(judged, 480);
    cr_expect_gt(text_like, 0);
}

Test(ref_axes, refuses_bad_arguments)
{
    rc_ref *ref = make_ref(8, 8, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32);
    rc_axes a, other;
    char err[200];
    cr_assert_eq(rc_axes_sections((const int32_t[]){2, 2}, 2, 8, &a, err, sizeof err), 0);
    cr_assert_eq(rc_axes_single(6, &other, err, sizeof err), 0);
    const double in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    rc_ref_elem out[8];
    const int64_t ok[2] = {3, 5}, negative[2] = {3, -1}, huge[2] = {RC_MAX_POSITION + 1, 0};
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, ok, RC_FORWARD, in, out), 0);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &other, ok, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, negative, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, huge, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, ok, (rc_direction)2, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, NULL, ok, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, NULL, RC_FORWARD, in, out), -1);
    a.pair_axis[0] = 3;
    cr_expect_eq(rc_ref_rotate_head_axes(ref, &a, ok, RC_FORWARD, in, out), -1);
    rc_ref_destroy(ref);
}
