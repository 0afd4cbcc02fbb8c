/*
 * reference/ref_theta.c - the frequencies theta_i = base^(-2i/r) in MPFR.
 *
 * -2i/r is usually not a binary number (r = 96 gives thirds), so mpfr_pow
 * with a rounded exponent would compute the wrong power. Instead, with
 * n/q = 2i/r in lowest terms, theta_i = (base^-n)^(1/q): an integer power
 * (mpfr_pow_si, correctly rounded) followed by a q-th root (mpfr_rootn_ui,
 * correctly rounded). With u = 2^-w at precision w:
 *   P = base^-n (1 + d1), |d1| <= u;
 *   rootn(P) = theta (1 + d1)^(1/q) (1 + d2), |d2| <= u,
 * and |(1 + d)^(1/q) - 1| <= |d| for q >= 1 (concavity), so the relative
 * error is at most (1 + u)^2 - 1 = 2u + u^2 < 3u (ref_rotate.c relies on 3u).
 * Both steps are exact when their results fit in w bits (base 16, r = 4:
 * 16^-1 = 1/16, sqrt = 1/4); theta is then exact.
 */
#include <stdint.h>

#include <math.h>

#include "reference/ref_internal.h"
#include "reference/reference.h"

/* Working precision of the double-double table: 3 * 2^-256 relative is far
 * below the 2^-106 the dd representation itself keeps. */
#define THETA_DD_PREC 256

static int gcd_int(int a, int b)
{
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

void rc_ref_theta_mpfr(mpfr_ptr rop, double base, int rotary_dim, int i)
{
    if (i == 0) {
        mpfr_set_ui(rop, 1, MPFR_RNDN); /* base^0, exactly */
        return;
    }
    int g = gcd_int(2 * i, rotary_dim);
    long n = (2 * i) / g;
    unsigned long q = (unsigned long)(rotary_dim / g);

    mpfr_t b, p;
    mpfr_init2(b, 53); /* a double is exact in 53 bits */
    mpfr_init2(p, mpfr_get_prec(rop));
    mpfr_set_d(b, base, MPFR_RNDN);
    mpfr_pow_si(p, b, -n, MPFR_RNDN);
    mpfr_rootn_ui(rop, p, q, MPFR_RNDN);
    mpfr_clear(p);
    mpfr_clear(b);
}

static int theta_args_ok(double base, int rotary_dim)
{
    return isfinite(base) && base > 0.0 && rotary_dim >= 2 && rotary_dim % 2 == 0;
}

rc_dd rc_ref_theta_dd(double base, int rotary_dim, int i)
{
    rc_dd r = {NAN, NAN};
    if (!theta_args_ok(base, rotary_dim) || i < 0 || i >= rotary_dim / 2)
        return r;

    mpfr_t t, diff;
    mpfr_init2(t, THETA_DD_PREC);
    mpfr_init2(diff, THETA_DD_PREC);
    rc_ref_theta_mpfr(t, base, rotary_dim, i);
    r.hi = mpfr_get_d(t, MPFR_RNDN);
    if (isinf(r.hi)) {
        r.lo = 0.0; /* theta beyond the double range (base < 2^-1024 r/(r-2)) */
    } else {
        /* t - hi is exact in THETA_DD_PREC bits when hi is normal: both are
         * multiples of ulp_w(t) and |t - hi| <= ulp_53(t)/2. */
        mpfr_sub_d(diff, t, r.hi, MPFR_RNDN);
        r.lo = mpfr_get_d(diff, MPFR_RNDN);
    }
    mpfr_clear(diff);
    mpfr_clear(t);
    return r;
}

void rc_ref_theta_table(double base, int rotary_dim, double *hi, double *lo)
{
    for (int i = 0; i < rotary_dim / 2; i++) {
        rc_dd t = rc_ref_theta_dd(base, rotary_dim, i);
        hi[i] = t.hi;
        lo[i] = t.lo;
    }
}
