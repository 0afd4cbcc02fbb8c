/*
 * tests/test_sincos_row.c - the SIMD angle-row fillers against the scalar
 * row (rc_exact_sincos_row), bit for bit, dav1d checkasm style: the
 * vector code is a lane-by-lane transcription (impls/avx2/
 * sincos_row_avx2.c), so any difference at all is a bug, and there is no
 * tolerance to derive.
 *
 * Inputs cover what the ports can be handed: positions of every
 * magnitude up to 2^53 - 1 (RC_MAX_POSITION) and the hard positions near
 * multiples of pi/4; theta tables of bases 1.5 .. 1e7, with a random low
 * word, plus the non-monotone tables scaling families produce (a random
 * factor per pair); output scales 1 and random; both directions; double
 * and double-double rows; row lengths 1 .. 67 (vector tails).
 *
 * On x86 the avx2 filler runs where the CPU has AVX2 and FMA (it is also
 * the avx512 ports' filler); otherwise the test is skipped with the
 * reason. The NEON filler is the same transcription for AArch64; it runs
 * under qemu through the runner (tests/test_runner.c), whose scalar and
 * neon figures must agree.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "impls/avx2/avx2.h"
#include "impls/avx2/sincos_row_avx2.h"
#include "impls/common/exact_angle.h"

#define MAX_HALF 67

static uint64_t test_seed(void)
{
    const char *s = getenv("ROPECHECK_SEED");
    uint64_t seed = (s && *s) ? strtoull(s, NULL, 0) : 20261123u;
    fprintf(stderr, "test_sincos_row: seed %llu (set ROPECHECK_SEED to change)\n",
            (unsigned long long)seed);
    return seed;
}

typedef void (*row_fn)(int64_t m, int direction_inverse, int half, const double *theta_hi,
                       const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                       double *cos_lo, double *sin_lo);

/* A position of random magnitude: uniform bit length 0..53. */
static int64_t draw_position(rc_rng *g)
{
    const unsigned bits = (unsigned)rc_rng_below(g, 54);
    return bits == 0 ? 0 : (int64_t)(rc_rng_next(g) >> (64 - bits));
}

static void draw_thetas(rc_rng *g, int half, double *hi, double *lo)
{
    const double base = pow(10.0, 0.18 + 6.82 * rc_rng_uniform(g)); /* 1.5 .. 1e7 */
    const int scaled = rc_rng_below(g, 2) == 0;
    for (int i = 0; i < half; i++) {
        double t = pow(base, -(double)i / half);
        if (scaled) /* a per-pair factor, as llama3/longrope tables have */
            t /= 1.0 + 63.0 * rc_rng_uniform(g);
        hi[i] = t;
        lo[i] = t * 0x1p-53 * (rc_rng_uniform(g) - 0.5);
    }
}

/* Compares `fn` with the scalar row on one draw; returns 1 if equal. */
static int compare_row(row_fn fn, const char *name, int64_t m, int inverse, int half,
                       const double *th, const double *tl, rc_dd alpha, int dd)
{
    double want[4][MAX_HALF], got[4][MAX_HALF];
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    rc_exact_sincos_row(m, inverse, half, th, tl, alpha, want[0], want[1], dd ? want[2] : NULL,
                        dd ? want[3] : NULL);
    fn(m, inverse, half, th, tl, alpha, got[0], got[1], dd ? got[2] : NULL, dd ? got[3] : NULL);
    static const char *const row_name[4] = {"cos_hi", "sin_hi", "cos_lo", "sin_lo"};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < half; i++)
            if (memcmp(&want[k][i], &got[k][i], sizeof(double)) != 0) {
                cr_log_error("%s: m=%lld theta=%a%+a alpha=%a%+a %s %s row, pair %d of %d: "
                             "%s %a, scalar %a",
                             name, (long long)m, th[i], tl[i], alpha.hi, alpha.lo,
                             inverse ? "inverse" : "forward", dd ? "double-double" : "double",
                             i, half, row_name[k], got[k][i], want[k][i]);
                return 0;
            }
    return 1;
}

static void check_filler(row_fn fn, const char *name)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 0x726f77, 0);
    double th[MAX_HALF], tl[MAX_HALF];
    long rows = 0;
    for (int it = 0; it < 20000; it++) {
        const int half = 1 + (int)rc_rng_below(&g, MAX_HALF);
        draw_thetas(&g, half, th, tl);
        rc_dd alpha = {1.0, 0.0};
        if (rc_rng_below(&g, 3) == 0) {
            alpha.hi = 0.5 + 1.5 * rc_rng_uniform(&g);
            alpha.lo = alpha.hi * 0x1p-54 * (rc_rng_uniform(&g) - 0.5);
        }
        const int64_t m = it < 64 ? (int64_t)it : draw_position(&g);
        cr_assert(compare_row(fn, name, m, it & 1, half, th, tl, alpha, (it >> 1) & 1),
                  "%s row differs from the scalar row (see the log line above)", name);
        rows++;
    }
    /* The largest position, and theta = 1 at positions whose angle lands
     * next to a multiple of pi/4 (the reduction's cancellations). */
    const int64_t edge[] = {(int64_t)1 << 31, ((int64_t)1 << 31) - 1, ((int64_t)1 << 53) - 1,
                            355, 710, 1065, 103993, 833719, 1146408, 4272943, 5419351};
    for (size_t e = 0; e < sizeof edge / sizeof edge[0]; e++) {
        double one_hi[8], one_lo[8];
        for (int i = 0; i < 8; i++) {
            one_hi[i] = ldexp(1.0, -i);
            one_lo[i] = 0.0;
        }
        for (int dd = 0; dd < 2; dd++)
            cr_assert(compare_row(fn, name, edge[e], 0, 8, one_hi, one_lo,
                                  (rc_dd){1.0, 0.0}, dd),
                      "%s row differs from the scalar row at m = %lld", name,
                      (long long)edge[e]);
        rows += 2;
    }
    fprintf(stderr, "test_sincos_row: %s: %ld rows equal to the scalar row bit for bit\n",
            name, rows);
}

Test(sincos_row, avx2_filler_matches_scalar_row)
{
    char why[160] = "";
    if (!rc_impl_avx2.available(why, sizeof why))
        cr_skip_test("avx2 row filler: %s", why);
    check_filler(rc_sincos_row_avx2, "avx2");
}
