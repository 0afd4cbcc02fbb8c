/*
 * tests/test_exact_angle.c - impls/common/exact_angle.h against MPFR: the
 * 2*pi constants, the reduced angle m*theta mod 2*pi for random positions
 * and frequencies, the hard positions of tests/data/hard_positions.txt
 * (m near a multiple of pi/4 with theta = 1), and sin/cos of the angle.
 *
 * Tolerances are the header's bounds, restated where used:
 *   reduced angle:  |r - (x mod 2*pi)| <= 2^-106 * (2X + 58), X = m*theta_hi
 *   sin/cos:        <= 0.994 * 2^-53 + 2^-102 + angle error as doubles,
 *                   0.494 * 2^-53 + 2^-102 + angle error as double-doubles
 *                   (impls/common/sincos_dd.h; tests/test_sincos_dd.c
 *                   checks those bounds on their own).
 * The angle error passes to sin and cos unamplified (|d sin/dx| <= 1).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/rng.h"
#include "impls/common/exact_angle.h"
#include "reference/reference.h"

#ifndef RC_HARD_POSITIONS_FILE
#error "RC_HARD_POSITIONS_FILE must name tests/data/hard_positions.txt"
#endif

/* Precision of the MPFR side: m*(theta_hi + theta_lo) is exact in 53 + the
 * span of theta_hi + theta_lo bits (< 53 + 53 + 1100 in the worst case
 * with a tiny theta_lo, ~110 here), and 2*pi*k with |k| < 2^51 needs 2*pi
 * to 2^-(106 + 60) absolute to judge a 2^-106 error: 1200 bits covers
 * both with room. */
#define PREC 1200

#define U 0x1p-53
/* sincos_dd.h's bounds on sin and cos of the reduced angle, in u. */
#define SINCOS_HI_US 0.994
#define SINCOS_DD_US 0.494

static uint64_t test_seed(void)
{
    return rc_test_seed("test_exact_angle", 20261123u);
}

/* The header's bound on |r - R| (see exact_angle.h, ERROR OF THE REDUCED
 * ANGLE), for X = m*theta_hi <= 2^53. */
static double angle_bound(int64_t m, double theta_hi)
{
    double X = (double)m * theta_hi;
    return 0x1p-106 * (2.0 * X + 58.0);
}

/* |(r.hi + r.lo) - x| modulo 2*pi, exactly enough: the difference is
 * brought into [-pi, pi] by removing the nearest multiple of 2*pi. */
static double angle_error(rc_dd r, mpfr_srcptr x, mpfr_srcptr two_pi)
{
    mpfr_t d, k;
    mpfr_inits2(PREC, d, k, (mpfr_ptr)0);
    mpfr_set_d(d, r.hi, MPFR_RNDN);
    mpfr_add_d(d, d, r.lo, MPFR_RNDN); /* exact at PREC */
    mpfr_sub(d, d, x, MPFR_RNDN);
    mpfr_div(k, d, two_pi, MPFR_RNDN);
    mpfr_rint(k, k, MPFR_RNDN);
    mpfr_mul(k, k, two_pi, MPFR_RNDN);
    mpfr_sub(d, d, k, MPFR_RNDN);
    double e = fabs(mpfr_get_d(d, MPFR_RNDN));
    mpfr_clears(d, k, (mpfr_ptr)0);
    return e;
}

/* x = m * (theta_hi + theta_lo), exactly. */
static void exact_product(mpfr_ptr x, int64_t m, double th, double tl)
{
    mpfr_t t;
    mpfr_init2(t, PREC);
    cr_assert_eq(mpfr_set_d(t, th, MPFR_RNDN), 0);
    cr_assert_eq(mpfr_add_d(t, t, tl, MPFR_RNDN), 0, "theta_hi + theta_lo not exact");
    cr_assert_eq(mpfr_mul_si(x, t, (long)m, MPFR_RNDN), 0, "m*theta not exact");
    mpfr_clear(t);
}

typedef struct angle_stats {
    double worst_ratio; /* max of error / bound */
    int64_t worst_m;
    double worst_theta;
    long n;
} angle_stats;

/* Checks rc_exact_angle and both sincos variants at (m, th, tl). */
static void check_one(int64_t m, double th, double tl, mpfr_srcptr two_pi, angle_stats *st)
{
    mpfr_t x, vs, vc, v;
    mpfr_init2(x, PREC);
    /* sin/cos only need ~2^-110 absolute: 200 bits (MPFR reduces the
     * exact 1200-bit argument itself). */
    mpfr_inits2(200, vs, vc, v, (mpfr_ptr)0);
    exact_product(x, m, th, tl);

    rc_dd r = rc_exact_angle(m, th, tl);
    double bound = angle_bound(m, th);
    double err = angle_error(r, x, two_pi);
    cr_assert(err <= bound, "m=%lld theta=%a+%a: angle error %.3g > bound %.3g", (long long)m,
              th, tl, err, bound);
    /* Range and normalization the header promises. */
    cr_assert(fabs(r.hi) < 4.95, "m=%lld: |r.hi| = %g", (long long)m, fabs(r.hi));
    cr_assert(fabs(r.lo) <= 0.5 * (nextafter(fabs(r.hi), INFINITY) - fabs(r.hi)) ||
                  r.hi == 0.0,
              "m=%lld: r not normalized (%a, %a)", (long long)m, r.hi, r.lo);
    double ratio = err / bound;
    if (ratio > st->worst_ratio) {
        st->worst_ratio = ratio;
        st->worst_m = m;
        st->worst_theta = th;
    }
    st->n++;

    /* sin/cos of the exact (unreduced) x: the angle error counts too. */
    double s, c;
    rc_dd sd, cd;
    rc_exact_sincos(m, th, tl, &s, &c);
    rc_exact_sincos_dd(m, th, tl, &sd, &cd);
    const double tol = SINCOS_HI_US * U + 0x1p-102 + bound;
    const double tol_dd = SINCOS_DD_US * U + 0x1p-102 + bound;
    mpfr_sin_cos(vs, vc, x, MPFR_RNDN);
    mpfr_sub_d(v, vs, s, MPFR_RNDN);
    double es = fabs(mpfr_get_d(v, MPFR_RNDN));
    mpfr_sub_d(v, vs, sd.hi, MPFR_RNDN);
    mpfr_sub_d(v, v, sd.lo, MPFR_RNDN);
    double esd = fabs(mpfr_get_d(v, MPFR_RNDN));
    mpfr_sub_d(v, vc, c, MPFR_RNDN);
    double ec = fabs(mpfr_get_d(v, MPFR_RNDN));
    mpfr_sub_d(v, vc, cd.hi, MPFR_RNDN);
    mpfr_sub_d(v, v, cd.lo, MPFR_RNDN);
    double ecd = fabs(mpfr_get_d(v, MPFR_RNDN));
    cr_assert(es <= tol && ec <= tol, "m=%lld theta=%a: sin err %.3g, cos err %.3g > %.3g",
              (long long)m, th, es, ec, tol);
    cr_assert(esd <= tol_dd && ecd <= tol_dd,
              "m=%lld theta=%a: dd sin err %.3g, cos err %.3g > %.3g", (long long)m, th, esd,
              ecd, tol_dd);
    mpfr_clears(x, vs, vc, v, (mpfr_ptr)0);
}

static void two_pi_init(mpfr_ptr two_pi)
{
    mpfr_init2(two_pi, PREC);
    mpfr_const_pi(two_pi, MPFR_RNDN);
    mpfr_mul_2ui(two_pi, two_pi, 1, MPFR_RNDN);
}

Test(exact_angle, two_pi_constants_match_mpfr)
{
    mpfr_t two_pi, rem, inv;
    two_pi_init(two_pi);
    mpfr_inits2(PREC, rem, inv, (mpfr_ptr)0);
    mpfr_set(rem, two_pi, MPFR_RNDN);
    const double c[3] = {RC_2PI_C0, RC_2PI_C1, RC_2PI_C2};
    for (int i = 0; i < 3; i++) {
        /* Each constant is the double nearest to what the earlier ones
         * leave of 2*pi. */
        double want = mpfr_get_d(rem, MPFR_RNDN);
        cr_expect_eq(c[i], want, "C%d = %a, MPFR says %a", i, c[i], want);
        mpfr_sub_d(rem, rem, c[i], MPFR_RNDN); /* exact at PREC */
    }
    /* What is left: 2.2e-49 < 2^-161 (the header's 2.3e-49 for k*tau). */
    double left = fabs(mpfr_get_d(rem, MPFR_RNDN));
    cr_expect(left < 2.3e-49 && left < 0x1p-161, "2*pi - C0 - C1 - C2 = %g", left);
    mpfr_ui_div(inv, 1, two_pi, MPFR_RNDN);
    cr_expect_eq(RC_INV_2PI, mpfr_get_d(inv, MPFR_RNDN));
    mpfr_clears(two_pi, rem, inv, (mpfr_ptr)0);
}

/* A random theta in [2^-24, 1): an MPFR number with 160 random bits,
 * split into its nearest double and the double nearest to the rest. */
static void random_theta(rc_rng *rng, double *th, double *tl)
{
    mpfr_t t, w;
    mpfr_inits2(160, t, w, (mpfr_ptr)0);
    mpfr_set_ui(t, 0, MPFR_RNDN);
    for (int j = 0; j < 3; j++) {
        mpfr_set_ui_2exp(w, (unsigned long)(rc_rng_next(rng) >> 11), -53 * (j + 1), MPFR_RNDN);
        mpfr_add(t, t, w, MPFR_RNDN);
    }
    /* t uniform in [0, 1): scale by a random power of two in [2^-24, 1]. */
    mpfr_mul_2si(t, t, -(long)rc_rng_below(rng, 24), MPFR_RNDN);
    if (mpfr_cmp_d(t, 0x1p-24) < 0)
        mpfr_add_d(t, t, 0x1p-24, MPFR_RNDN);
    *th = mpfr_get_d(t, MPFR_RNDN);
    mpfr_sub_d(w, t, *th, MPFR_RNDN);
    *tl = mpfr_get_d(w, MPFR_RNDN);
    mpfr_clears(t, w, (mpfr_ptr)0);
}

static void random_positions(int64_t max_exclusive, int label_bits)
{
    mpfr_t two_pi;
    two_pi_init(two_pi);
    rc_rng rng;
    rc_rng_seed3(&rng, test_seed(), 100 + (uint64_t)label_bits, 0);
    angle_stats st = {0};
    for (int i = 0; i < 20000; i++) {
        double th, tl;
        random_theta(&rng, &th, &tl);
        int64_t m;
        if (i % 2 == 0) {
            m = (int64_t)rc_rng_below(&rng, (uint64_t)max_exclusive);
        } else {
            /* log-uniform, so small positions are as well covered */
            int bits = 1 + (int)rc_rng_below(&rng, (uint64_t)label_bits);
            m = (int64_t)rc_rng_below(&rng, (uint64_t)1 << bits);
        }
        check_one(m, th, tl, two_pi, &st);
    }
    /* Also the frequencies a real model uses: Llama-3 (base 500000, r =
     * 128), from the reference's theta table. */
    for (int i = 0; i < 64; i++) {
        rc_dd t = rc_ref_theta_dd(500000.0, 128, i);
        for (int j = 0; j < 20; j++)
            check_one((int64_t)rc_rng_below(&rng, (uint64_t)max_exclusive), t.hi, t.lo, two_pi,
                      &st);
        check_one(max_exclusive - 1, t.hi, t.lo, two_pi, &st);
    }
    fprintf(stderr,
            "test_exact_angle: m < 2^%d: %ld cases, worst angle error %.3g of the bound "
            "(m=%lld theta=%a)\n",
            label_bits, st.n, st.worst_ratio, (long long)st.worst_m, st.worst_theta);
    mpfr_clear(two_pi);
}

Test(exact_angle, random_positions_below_2p31)
{
    random_positions((int64_t)1 << 31, 31);
}

Test(exact_angle, random_positions_below_2p53)
{
    random_positions((int64_t)1 << 53, 53);
}

Test(exact_angle, edges)
{
    mpfr_t two_pi;
    two_pi_init(two_pi);
    angle_stats st = {0};
    /* m = 0, the largest position, theta = 1 and the smallest table
     * entries; positions that are exact multiples of small powers. */
    const int64_t ms[] = {0, 1, 2, 3, 7, 1023, 4095, 131071, (int64_t)1 << 31,
                          ((int64_t)1 << 53) - 1, ((int64_t)1 << 52) + 1};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        check_one(ms[i], 1.0, 0.0, two_pi, &st);
        rc_dd t = rc_ref_theta_dd(10000.0, 128, 63);
        check_one(ms[i], t.hi, t.lo, two_pi, &st);
        t = rc_ref_theta_dd(1e6, 128, 1);
        check_one(ms[i], t.hi, t.lo, two_pi, &st);
    }
    rc_dd r = rc_exact_angle(0, 0.5, 1e-20);
    cr_expect(r.hi == 0.0 && r.lo == 0.0, "m = 0 gives angle 0 exactly");
    mpfr_clear(two_pi);
}

/* Reads tests/data/hard_positions.txt: one integer per line, '#' starts a
 * comment. Returns the count, filling at most cap entries. */
static size_t read_hard_positions(int64_t *out, size_t cap)
{
    FILE *f = fopen(RC_HARD_POSITIONS_FILE, "r");
    cr_assert(f, "cannot open %s: %s", RC_HARD_POSITIONS_FILE, strerror(errno));
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n')
            continue;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 0);
        cr_assert(errno == 0 && end != p, "bad line in hard_positions.txt: %s", line);
        cr_assert(n < cap, "too many hard positions");
        out[n++] = (int64_t)v;
    }
    fclose(f);
    return n;
}

Test(exact_angle, hard_positions_near_multiples_of_pi_over_4)
{
    int64_t ms[128];
    size_t n = read_hard_positions(ms, 128);
    cr_assert(n >= 20, "expected the convergents of pi/4 up to 2^53, read %zu", n);
    mpfr_t two_pi, q, d;
    two_pi_init(two_pi);
    mpfr_inits2(PREC, q, d, (mpfr_ptr)0);
    rc_rng rng;
    rc_rng_seed3(&rng, test_seed(), 7, 0);
    angle_stats st = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t m = ms[i];
        cr_assert(m > 0 && m <= RC_MAX_POSITION, "position %lld out of range", (long long)m);
        /* Provenance: m is within 1/m of a multiple of pi/4 (a convergent
         * p/q of pi/4 has |q*pi/4 - p| < 1/q, and q > m). */
        mpfr_div_2ui(q, two_pi, 3, MPFR_RNDN); /* pi/4 */
        mpfr_set_si(d, (long)m, MPFR_RNDN);
        mpfr_div(d, d, q, MPFR_RNDN);
        mpfr_rint(d, d, MPFR_RNDN);
        mpfr_mul(d, d, q, MPFR_RNDN);
        mpfr_sub_si(d, d, (long)m, MPFR_RNDN);
        double dist = fabs(mpfr_get_d(d, MPFR_RNDN));
        cr_expect(dist < 1.0 / (double)m, "m=%lld is %g from a multiple of pi/4, not < 1/m",
                  (long long)m, dist);
        /* theta_0 = 1 exactly, the neighbours, and random frequencies. */
        for (int64_t dm = -1; dm <= 1; dm++)
            check_one(m + dm, 1.0, 0.0, two_pi, &st);
        for (int j = 0; j < 8; j++) {
            double th, tl;
            random_theta(&rng, &th, &tl);
            check_one(m, th, tl, two_pi, &st);
        }
    }
    fprintf(stderr,
            "test_exact_angle: %zu hard positions: worst angle error %.3g of the bound "
            "(m=%lld theta=%a)\n",
            n, st.worst_ratio, (long long)st.worst_m, st.worst_theta);
    mpfr_clears(two_pi, q, d, (mpfr_ptr)0);
}

/* The test above would catch a reduction with a double 2*pi: show that
 * it is needed, i.e. the naive double angle misses the bound at a hard
 * position, so the bound is not vacuous. */
Test(exact_angle, naive_angle_fails_the_bound)
{
    mpfr_t two_pi, x;
    two_pi_init(two_pi);
    mpfr_init2(x, PREC);
    const int64_t m = 6027843377079719; /* from hard_positions.txt */
    exact_product(x, m, 1.0, 0.0);
    double naive = fmod((double)m, RC_2PI_C0); /* exact fmod, but by a double 2*pi */
    rc_dd r = {naive, 0.0};
    double err = angle_error(r, x, two_pi);
    cr_expect(err > 1000.0 * angle_bound(m, 1.0),
              "reducing by a double 2*pi should be off by ~m*2^-51: err %g", err);
    mpfr_clears(two_pi, x, (mpfr_ptr)0);
}
