/*
 * tests/random_axes.h - a seeded multi-axis map for tests: one of each
 * builder of core/axes.h (contiguous sections, interleaved, 2-D vision,
 * a single axis) or an arbitrary map of up to RC_MAX_AXES axes, for r
 * rotary channels. Shared by tests/test_ref_axes.c and
 * tests/test_ports_axes.c.
 */
#ifndef ROPECHECK_TESTS_RANDOM_AXES_H
#define ROPECHECK_TESTS_RANDOM_AXES_H

#include <criterion/criterion.h>

#include "core/axes.h"
#include "core/rng.h"

static inline void rc_test_random_axes(rc_rng *g, int r, rc_axes *a)
{
    char err[200];
    const int pairs = r / 2;
    switch (rc_rng_next(g) % 5) {
    case 0: {
        int32_t s[3] = {(int32_t)(rc_rng_next(g) % (uint64_t)(pairs + 1)), 0, 0};
        s[1] = (int32_t)(rc_rng_next(g) % (uint64_t)(pairs - s[0] + 1));
        s[2] = pairs - s[0] - s[1];
        cr_assert_eq(rc_axes_sections(s, 3, r, a, err, sizeof err), 0, "%s", err);
        return;
    }
    case 1: {
        int32_t s[3] = {pairs - 2 * (pairs / 3), pairs / 3, pairs / 3};
        cr_assert_eq(rc_axes_interleaved(s, 3, r, a, err, sizeof err), 0, "%s", err);
        return;
    }
    case 2:
        if (r % 4 == 0) {
            cr_assert_eq(rc_axes_vision2d(r, a, err, sizeof err), 0, "%s", err);
            return;
        }
        /* fall through */
    case 3:
        cr_assert_eq(rc_axes_single(r, a, err, sizeof err), 0, "%s", err);
        return;
    default: /* any map at all, up to four axes */
        cr_assert_eq(rc_axes_single(r, a, err, sizeof err), 0, "%s", err);
        a->n_axes = 1 + (int32_t)(rc_rng_next(g) % RC_MAX_AXES);
        for (int i = 0; i < pairs; i++)
            a->pair_axis[i] = (uint8_t)(rc_rng_next(g) % (uint64_t)a->n_axes);
    }
}

#endif /* ROPECHECK_TESTS_RANDOM_AXES_H */
