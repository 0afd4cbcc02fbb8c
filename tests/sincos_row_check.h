/*
 * tests/sincos_row_check.h - compares a SIMD angle-row filler with the
 * scalar row (rc_exact_sincos_row), bit for bit, dav1d checkasm style: the
 * fillers (impls/avx2/sincos_row_avx2.c, impls/neon/sincos_row_neon.c) are
 * lane-by-lane transcriptions, so any difference at all is a bug and there
 * is no tolerance to derive.
 *
 * Plain C with no test framework and no MPFR, so that both the Criterion
 * test (tests/test_sincos_row.c, x86) and the program cross-built for
 * AArch64 and run under qemu (tests/sincos_row_check_main.c) use it.
 *
 * Inputs cover what the ports can be handed: positions 0..63 and of every
 * magnitude up to 2^53 - 1 (RC_MAX_POSITION); theta tables of bases
 * 1.5 .. 1e7 with a random low word, half of them with a random factor per
 * pair (the non-monotone tables of llama3/longrope scaling); output scales
 * 1 and random; both directions; double and double-double rows; row
 * lengths 1 .. 67 (vector tails); then theta = 2^-i at the largest
 * positions and at positions whose angle lands next to a multiple of pi/4.
 */
#ifndef ROPECHECK_TESTS_SINCOS_ROW_CHECK_H
#define ROPECHECK_TESTS_SINCOS_ROW_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "impls/common/exact_angle.h"

#define RC_ROW_CHECK_MAX_HALF 67

typedef void (*rc_row_check_fn)(int64_t m, int direction_inverse, int half,
                                const double *theta_hi, const double *theta_lo, rc_dd alpha,
                                double *cos_hi, double *sin_hi, double *cos_lo, double *sin_lo);

/* A position of random magnitude: uniform bit length 0..53. */
static int64_t rc_row_check_position(rc_rng *g)
{
    const unsigned bits = (unsigned)rc_rng_below(g, 54);
    return bits == 0 ? 0 : (int64_t)(rc_rng_next(g) >> (64 - bits));
}

static void rc_row_check_thetas(rc_rng *g, int half, double *hi, double *lo)
{
    const double base = pow(10.0, 0.18 + 6.82 * rc_rng_uniform(g)); /* 1.5 .. 1e7 */
    const int scaled = rc_rng_below(g, 2) == 0;
    for (int i = 0; i < half; i++) {
        double t = pow(base, -(double)i / half);
        if (scaled)
            t /= 1.0 + 63.0 * rc_rng_uniform(g);
        hi[i] = t;
        lo[i] = t * 0x1p-53 * (rc_rng_uniform(g) - 0.5);
    }
}

/* One row: 1 if `fn` gives the scalar row's bits, else 0 with the first
 * differing entry described on `log`. */
static int rc_row_check_one(rc_row_check_fn fn, const char *name, int64_t m, int inverse,
                            int half, const double *th, const double *tl, rc_dd alpha, int dd,
                            FILE *log)
{
    double want[4][RC_ROW_CHECK_MAX_HALF], got[4][RC_ROW_CHECK_MAX_HALF];
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    rc_exact_sincos_row(m, inverse, half, th, tl, alpha, want[0], want[1], dd ? want[2] : NULL,
                        dd ? want[3] : NULL);
    fn(m, inverse, half, th, tl, alpha, got[0], got[1], dd ? got[2] : NULL, dd ? got[3] : NULL);
    static const char *const row_name[4] = {"cos_hi", "sin_hi", "cos_lo", "sin_lo"};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < half; i++)
            if (memcmp(&want[k][i], &got[k][i], sizeof(double)) != 0) {
                fprintf(log,
                        "%s: m=%lld theta=%a%+a alpha=%a%+a %s %s row, pair %d of %d: %s %a, "
                        "scalar %a\n",
                        name, (long long)m, th[i], tl[i], alpha.hi, alpha.lo,
                        inverse ? "inverse" : "forward", dd ? "double-double" : "double", i,
                        half, row_name[k], got[k][i], want[k][i]);
                return 0;
            }
    return 1;
}

/* Every draw (see the header); returns the number of rows that differ
 * (0: all equal) and prints a summary line on `log`. */
static long rc_row_check(rc_row_check_fn fn, const char *name, uint64_t seed, FILE *log)
{
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x726f77, 0);
    double th[RC_ROW_CHECK_MAX_HALF], tl[RC_ROW_CHECK_MAX_HALF];
    long rows = 0, bad = 0;
    for (int it = 0; it < 20000; it++) {
        const int half = 1 + (int)rc_rng_below(&g, RC_ROW_CHECK_MAX_HALF);
        rc_row_check_thetas(&g, half, th, tl);
        rc_dd alpha = {1.0, 0.0};
        if (rc_rng_below(&g, 3) == 0) {
            alpha.hi = 0.5 + 1.5 * rc_rng_uniform(&g);
            alpha.lo = alpha.hi * 0x1p-54 * (rc_rng_uniform(&g) - 0.5);
        }
        const int64_t m = it < 64 ? (int64_t)it : rc_row_check_position(&g);
        bad += !rc_row_check_one(fn, name, m, it & 1, half, th, tl, alpha, (it >> 1) & 1, log);
        rows++;
    }
    /* The largest positions, and positions whose angle (theta = 1) lands
     * next to a multiple of pi/4: the reduction's cancellations. */
    const int64_t edge[] = {(int64_t)1 << 31, ((int64_t)1 << 31) - 1, ((int64_t)1 << 53) - 1,
                            355, 710, 1065, 103993, 833719, 1146408, 4272943, 5419351};
    double pow2[8], zero[8];
    for (int i = 0; i < 8; i++) {
        pow2[i] = ldexp(1.0, -i);
        zero[i] = 0.0;
    }
    for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++)
        for (int dd = 0; dd < 2; dd++) {
            const rc_dd one = {1.0, 0.0};
            bad += !rc_row_check_one(fn, name, edge[e], 0, 8, pow2, zero, one, dd, log);
            rows++;
        }
    fprintf(log, "sincos row check: %s: %ld of %ld rows equal to the scalar row bit for bit "
                 "(seed %llu)\n",
            name, rows - bad, rows, (unsigned long long)seed);
    return bad;
}

#endif /* ROPECHECK_TESTS_SINCOS_ROW_CHECK_H */
