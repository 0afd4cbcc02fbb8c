/*
 * tests/test_sincos_dd.c - impls/common/sincos_dd.h against MPFR.
 *
 * The header derives, for a normalized double-double r with |r.hi| < 4.95:
 *   |S - sin(r)|, |C - cos(r)| <= 0.494u + 2^-102   (the double-doubles)
 *   |S.hi - sin(r)|, ...       <= 0.994u + 2^-102   (their high words)
 * with u = 2^-53. These are the tolerances (SIN_DD_BOUND, SIN_HI_BOUND);
 * each test prints the worst error it saw as a fraction of u, so a
 * regression that eats the margin shows before it fails.
 *
 * Inputs: random r over the whole range with a random normalized low
 * word; the quarter-turn boundaries (odd multiples of pi/4, where |x|
 * reaches its maximum rho and j changes) and the multiples of pi/2 (where
 * x -> 0 and the reduction cancels), each approached to a few ulps; tiny
 * r; r = 0 and signed zeros.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_seed.h"
#include "core/rng.h"
#include "impls/common/sincos_dd.h"

#define U 0x1p-53
#define SIN_DD_BOUND (0.494 * U + 0x1p-102)
#define SIN_HI_BOUND (0.994 * U + 0x1p-102)

static uint64_t test_seed(void)
{
    return rc_test_seed("test_sincos_dd", 20261123u);
}

typedef struct worst {
    double dd, hi; /* max errors seen, absolute */
    rc_dd at;      /* argument of the worst dd error */
    long n;
} worst;

/* |a + b - v| with v exact at 300 bits: the sums are exact there. */
static double err_dd(mpfr_srcptr v, double a, double b)
{
    mpfr_t d;
    mpfr_init2(d, 300);
    mpfr_sub_d(d, v, a, MPFR_RNDN);
    mpfr_sub_d(d, d, b, MPFR_RNDN);
    double e = fabs(mpfr_get_d(d, MPFR_RNDN));
    mpfr_clear(d);
    return e;
}

static void check(rc_dd r, worst *w)
{
    mpfr_t x, vs, vc;
    mpfr_inits2(300, x, vs, vc, (mpfr_ptr)0);
    mpfr_set_d(x, r.hi, MPFR_RNDN);
    mpfr_add_d(x, x, r.lo, MPFR_RNDN); /* exact: 300 bits hold any normalized pair here */
    mpfr_sin_cos(vs, vc, x, MPFR_RNDN);
    rc_dd s, c;
    rc_sincos_dd(r, &s, &c);
    const double es = err_dd(vs, s.hi, s.lo), ec = err_dd(vc, c.hi, c.lo);
    const double hs = err_dd(vs, s.hi, 0.0), hc = err_dd(vc, c.hi, 0.0);
    cr_assert(es <= SIN_DD_BOUND && ec <= SIN_DD_BOUND,
              "r = %a + %a: dd errors sin %.4g u, cos %.4g u > bound %.4g u", r.hi, r.lo, es / U,
              ec / U, SIN_DD_BOUND / U);
    cr_assert(hs <= SIN_HI_BOUND && hc <= SIN_HI_BOUND,
              "r = %a + %a: high-word errors sin %.4g u, cos %.4g u > bound %.4g u", r.hi, r.lo,
              hs / U, hc / U, SIN_HI_BOUND / U);
    /* The pairs come back normalized: lo is within half an ulp of hi. */
    cr_assert(s.hi + s.lo == s.hi && c.hi + c.lo == c.hi, "r = %a: result not normalized", r.hi);
    if (fmax(es, ec) > w->dd) {
        w->dd = fmax(es, ec);
        w->at = r;
    }
    w->hi = fmax(w->hi, fmax(hs, hc));
    w->n++;
    mpfr_clears(x, vs, vc, (mpfr_ptr)0);
}

/* r.hi plus a random low word in [-ulp/2, ulp/2]. */
static rc_dd with_random_lo(rc_rng *rng, double hi)
{
    const double half_ulp = 0.5 * (nextafter(fabs(hi), INFINITY) - fabs(hi));
    rc_dd r = {hi, (2.0 * rc_rng_uniform(rng) - 1.0) * half_ulp};
    if (hi == 0.0)
        r.lo = 0.0;
    return r;
}

static void report(const char *what, const worst *w)
{
    fprintf(stderr,
            "test_sincos_dd: %s: %ld arguments, worst dd error %.4f u (bound %.3f u) at %a + "
            "%a, worst high-word error %.4f u (bound %.3f u)\n",
            what, w->n, w->dd / U, SIN_DD_BOUND / U, w->at.hi, w->at.lo, w->hi / U,
            SIN_HI_BOUND / U);
}

Test(sincos_dd, random_over_the_reduced_range)
{
    rc_rng rng;
    rc_rng_seed3(&rng, test_seed(), 1, 0);
    worst w = {0};
    for (int i = 0; i < 200000; i++) {
        const double hi = (2.0 * rc_rng_uniform(&rng) - 1.0) * 4.94;
        check(with_random_lo(&rng, hi), &w);
    }
    report("uniform |r| < 4.94", &w);
}

/* k*pi/4 for k = -6..6, as the double nearest it, then stepped by up to
 * 64 ulps either way: the odd k are where |x| is largest (and j flips
 * between neighbours), the even k where x cancels to nearly nothing. */
Test(sincos_dd, quarter_turn_boundaries)
{
    rc_rng rng;
    rc_rng_seed3(&rng, test_seed(), 2, 0);
    mpfr_t q;
    mpfr_init2(q, 300);
    worst w = {0};
    for (int k = -6; k <= 6; k++) {
        mpfr_const_pi(q, MPFR_RNDN);
        mpfr_mul_si(q, q, k, MPFR_RNDN);
        mpfr_div_ui(q, q, 4, MPFR_RNDN);
        const double base = mpfr_get_d(q, MPFR_RNDN);
        double hi = base;
        for (int s = 0; s < 64; s++)
            hi = nextafter(hi, -INFINITY);
        for (int s = 0; s < 129; s++) {
            if (fabs(hi) < 4.95)
                check(with_random_lo(&rng, hi), &w);
            /* the pair closest to k*pi/4: lo = RN(k*pi/4 - hi) */
            mpfr_sub_d(q, q, hi, MPFR_RNDN);
            rc_dd r = {hi, mpfr_get_d(q, MPFR_RNDN)};
            mpfr_add_d(q, q, hi, MPFR_RNDN);
            if (fabs(hi) < 4.95 && r.hi + r.lo == r.hi)
                check(r, &w);
            hi = nextafter(hi, INFINITY);
        }
    }
    mpfr_clear(q);
    report("within 64 ulps of k*pi/4, |k| <= 6", &w);
}

Test(sincos_dd, tiny_and_zero_arguments)
{
    rc_rng rng;
    rc_rng_seed3(&rng, test_seed(), 3, 0);
    worst w = {0};
    for (int e = -1074; e <= 0; e += 3) {
        /* subnormal below e = -1022 */
        const double hi = ldexp(1.0 + rc_rng_uniform(&rng), e) * (e & 1 ? -1.0 : 1.0);
        check(with_random_lo(&rng, hi), &w);
    }
    rc_dd pz = {0.0, 0.0}, nz = {-0.0, 0.0};
    check(pz, &w);
    check(nz, &w);
    rc_dd s, c;
    rc_sincos_dd(pz, &s, &c);
    cr_assert(s.hi == 0.0 && !signbit(s.hi) && c.hi == 1.0 && c.lo == 0.0,
              "sin/cos(+0) must be exactly (+0, 1), got (%a, %a)", s.hi, c.hi);
    report("tiny |r| and zeros", &w);
}

/* The constants are pinned to their definitions, computed here in MPFR:
 * the error analysis of the header assumes RN(1/n!) coefficients, RN(2/pi)
 * and a pi/2 split whose two words carry 107 bits. A one-ulp change of any
 * of them would leave most random inputs within the bounds above (the
 * high-order terms are tiny near 0), so it is checked directly. */
static double rn_inverse_factorial(unsigned n, int negative)
{
    mpfr_t f;
    mpfr_init2(f, 256);
    mpfr_fac_ui(f, n, MPFR_RNDN); /* exact: n! < 2^256 for n <= 57 */
    mpfr_ui_div(f, 1, f, MPFR_RNDN);
    if (negative)
        mpfr_neg(f, f, MPFR_RNDN);
    double d = mpfr_get_d(f, MPFR_RNDN);
    mpfr_clear(f);
    return d;
}

Test(sincos_dd, coefficients_are_the_correctly_rounded_series)
{
    const double sin_k[] = {RC_SIN_K1, RC_SIN_K2, RC_SIN_K3, RC_SIN_K4,
                            RC_SIN_K5, RC_SIN_K6, RC_SIN_K7, RC_SIN_K8};
    for (unsigned k = 1; k <= 8; k++)
        cr_expect_eq(sin_k[k - 1], rn_inverse_factorial(2 * k + 1, k & 1),
                     "RC_SIN_K%u = %a, RN(%s1/%u!) = %a", k, sin_k[k - 1], k & 1 ? "-" : "",
                     2 * k + 1, rn_inverse_factorial(2 * k + 1, k & 1));
    const double cos_k[] = {RC_COS_K2, RC_COS_K3, RC_COS_K4, RC_COS_K5,
                            RC_COS_K6, RC_COS_K7, RC_COS_K8, RC_COS_K9};
    for (unsigned k = 2; k <= 9; k++)
        cr_expect_eq(cos_k[k - 2], rn_inverse_factorial(2 * k, k & 1),
                     "RC_COS_K%u = %a, RN(%s1/%u!) = %a", k, cos_k[k - 2], k & 1 ? "-" : "",
                     2 * k, rn_inverse_factorial(2 * k, k & 1));

    mpfr_t pi, t;
    mpfr_inits2(320, pi, t, (mpfr_ptr)0);
    mpfr_const_pi(pi, MPFR_RNDN);
    mpfr_ui_div(t, 2, pi, MPFR_RNDN);
    cr_expect_eq(RC_2_OVER_PI, mpfr_get_d(t, MPFR_RNDN), "RC_2_OVER_PI is RN(2/pi)");
    mpfr_div_2ui(t, pi, 1, MPFR_RNDN); /* pi/2 */
    double p0 = mpfr_get_d(t, MPFR_RNDN);
    cr_expect_eq(RC_PIO2_P0, p0, "RC_PIO2_P0 is RN(pi/2)");
    mpfr_sub_d(t, t, p0, MPFR_RNDN);
    cr_expect_eq(RC_PIO2_P1, mpfr_get_d(t, MPFR_RNDN), "RC_PIO2_P1 is RN(pi/2 - P0)");
    mpfr_clears(pi, t, (mpfr_ptr)0);
}
