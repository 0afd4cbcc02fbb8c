/*
 * reference/ref_round.c - round an MPFR number once to f32/f64/f16/bf16,
 * and decide whether an approximation's rounding is certain.
 *
 * Written independently of core/dtype_convert.c (which rounds doubles with
 * frexp/rint) so each can check the other: here the value is scaled onto
 * the integer grid of its binade, rounded with mpfr_roundeven, scaled back.
 * No global MPFR state (exponent range, flags) is touched.
 */
#include <stdint.h>

#include <math.h>

#include "core/dtype_convert.h"
#include "reference/ref_internal.h"
#include "reference/reference.h"

/* Working values up to this precision live on the stack (no malloc in the
 * per-element path); the Ziv loop starts at 256 bits. */
#define RC_REF_STACK_PREC 256

double rc_ref_round_to_dtype(mpfr_srcptr x, rc_dtype t)
{
    const rc_format *f = rc_dtype_format(t);
    if (f == NULL || mpfr_nan_p(x))
        return NAN;
    const int neg = mpfr_signbit(x) != 0;
    if (mpfr_inf_p(x))
        return neg ? -INFINITY : INFINITY;
    if (mpfr_zero_p(x))
        return neg ? -0.0 : 0.0;

    const long p = f->precision;
    const long qmin = (long)f->emin - p + 1; /* smallest subnormal 2^qmin */
    const mpfr_exp_t e = mpfr_get_exp(x);    /* 2^(e-1) <= |x| < 2^e */

    /* |x| >= 2^(emax+1): above every finite value and the overflow
     * midpoint, so infinity (also keeps the scaling below in int range). */
    if (e - 1 > f->emax)
        return neg ? -INFINITY : INFINITY;
    /* |x| < 2^(qmin-1), below half the smallest subnormal: zero. */
    if (e < qmin)
        return neg ? -0.0 : 0.0;

    /* Spacing of the format in x's binade: 2^(e-p) for normal numbers,
     * the fixed subnormal step 2^qmin below 2^emin. */
    long qe = (long)e - p;
    if (qe < qmin)
        qe = qmin;

    /* First round |x| to odd at 64 bits (truncate; if inexact, force the
     * last bit to 1): every value and midpoint of the format near x is a
     * multiple of 2^(qe-1) >= 2^(e-p-1), i.e. has at most p + 1 <= 62
     * bits here, so it is an even 64-bit number and y lies strictly on the
     * same side of it as x (Boldo-Melquiond round-to-odd); an exact tie is
     * kept exactly. This keeps the work in a fixed-size stack variable. */
    MPFR_DECL_INIT(y, 64);
    if (mpfr_abs(y, x, MPFR_RNDZ) != 0 && mpfr_min_prec(y) < 64)
        mpfr_nextabove(y); /* even and inexact: the odd neighbour above */

    /* y / 2^qe < 2^p: scale exactly (a power of two), round to an integer
     * with ties to even, which is RNE in the format. The integer fits in
     * 64 bits: it is at most 2^p. */
    mpfr_mul_2si(y, y, -qe, MPFR_RNDN);
    mpfr_roundeven(y, y);
    double k = mpfr_get_d(y, MPFR_RNDN); /* integer <= 2^p <= 2^53: exact */

    double v = ldexp(k, (int)qe); /* exact: a p-bit integer times 2^qe in range */
    /* Rounding up may reach 2^(emax+1): that is the overflow midpoint or
     * above (the largest finite value has an odd significand, so the tie
     * goes up), hence infinity. */
    if (v >= ldexp(1.0, f->emax + 1))
        v = INFINITY;
    return neg ? -v : v;
}

/* Bitwise equality of two non-NaN doubles (keeps -0 apart from +0). */
static int same_double(double x, double y)
{
    return x == y && signbit(x) == signbit(y);
}

int rc_ref_round_certain(mpfr_srcptr b, mpfr_exp_t err, rc_dtype t, double *rounded)
{
    return rc_ref_round_certain_n(b, err, 1, &t, rounded);
}

/* x rounded once to RC_REF_EXACT_BITS bits, with 2^-1074 as the smallest
 * quantum (ref_internal.h), into r (precision RC_REF_EXACT_BITS). */
static void round_to_exact_format(mpfr_ptr r, mpfr_srcptr x)
{
    if (!mpfr_regular_p(x) || (long)mpfr_get_exp(x) - 1 >= RC_REF_EXACT_EMIN) {
        mpfr_set(r, x, MPFR_RNDN); /* normal: MPFR's own RNE at 80 bits */
        return;
    }
    /* Below 2^emin the quantum is 2^-1074: |x| 2^1074 < 2^80, so scale
     * (exact), round to an integer with ties to even, scale back. */
    MPFR_DECL_INIT(t, RC_REF_STACK_PREC);
    /* Exact when prec(x) <= 256; beyond, round to odd at 256 bits: the
     * integers and midpoints near t have at most 81 bits, so t stays on
     * the same side of each (Boldo-Melquiond), ties included. */
    if (mpfr_mul_2si(t, x, 1074, MPFR_RNDZ) != 0 && mpfr_min_prec(t) < RC_REF_STACK_PREC) {
        if (mpfr_sgn(t) > 0)
            mpfr_nextabove(t); /* the odd neighbour away from zero */
        else
            mpfr_nextbelow(t);
    }
    mpfr_roundeven(r, t); /* < 2^79: fits in 80 bits */
    mpfr_mul_2si(r, r, -1074, MPFR_RNDN);
}

double rc_ref_exact_lo(mpfr_srcptr x, double hi)
{
    if (isinf(hi) || !mpfr_regular_p(x))
        return 0.0; /* beyond the double range, or an exact zero: (hi, 0) */
    MPFR_DECL_INIT(r, RC_REF_EXACT_BITS);
    round_to_exact_format(r, x);
    /* RN80(x) - hi: both are multiples of x's 80-bit quantum (or of
     * 2^-1074) and |difference| <= ulp53(x)/2 + ulp80(x)/2, so it has at
     * most 28 significant bits: exact at 128, and as a double. */
    MPFR_DECL_INIT(diff, 128);
    mpfr_sub_d(diff, r, hi, MPFR_RNDN);
    return mpfr_get_d(diff, MPFR_RNDN);
}

/* Both ends of the enclosure rounded to 80 bits agree: then every real
 * between does (RN is monotone), and *lo is RN80 - hi. */
static int exact_lo_on_ends(mpfr_srcptr lo_end, mpfr_srcptr hi_end, double hi, double *lo)
{
    if (isinf(hi)) {
        *lo = 0.0; /* beyond the double range: (hi, 0) */
        return 1;
    }
    MPFR_DECL_INIT(r0, RC_REF_EXACT_BITS);
    MPFR_DECL_INIT(r1, RC_REF_EXACT_BITS);
    round_to_exact_format(r0, lo_end);
    round_to_exact_format(r1, hi_end);
    if (!mpfr_equal_p(r0, r1))
        return 0;
    *lo = rc_ref_exact_lo(r0, hi); /* r0 is on the grid: rounds to itself */
    return 1;
}

/* Every rounding decided on one enclosure b +- 2^(EXP(b) - err): the n
 * dtypes into rounded[], and, when exact is not NULL, the canonical exact
 * value (RN53 and RN80 - RN53). */
static int decide_on_enclosure(mpfr_srcptr b, mpfr_exp_t err, int n, const rc_dtype *types,
                               double *rounded, rc_dd *exact)
{
    if (!mpfr_regular_p(b))
        return 0;
    /* Ends at precision >= prec(b), on the stack in the common case. */
    const mpfr_prec_t pr = mpfr_get_prec(b);
    MPFR_DECL_INIT(lo_s, RC_REF_STACK_PREC);
    MPFR_DECL_INIT(hi_s, RC_REF_STACK_PREC);
    MPFR_DECL_INIT(d, 2);
    mpfr_t lo_h, hi_h;
    mpfr_ptr lo = lo_s, hi = hi_s;
    if (pr > RC_REF_STACK_PREC) {
        mpfr_init2(lo_h, pr);
        mpfr_init2(hi_h, pr);
        lo = lo_h;
        hi = hi_h;
    }
    /* d = 2^(EXP(b) - err), rounded up in case it leaves MPFR's exponent
     * range; the ends are rounded outward. Both only widen the interval. */
    mpfr_set_ui_2exp(d, 1, mpfr_get_exp(b) - err, MPFR_RNDU);
    mpfr_sub(lo, b, d, MPFR_RNDD);
    mpfr_add(hi, b, d, MPFR_RNDU);

    int ok = mpfr_sgn(lo) != 0 && mpfr_sgn(lo) == mpfr_sgn(hi);
    for (int k = 0; ok && k < n; k++) {
        /* For f64, MPFR's own correctly rounded conversion (gradual
         * underflow included) is the same function and much cheaper. */
        double rl = types[k] == RC_DTYPE_F64 ? mpfr_get_d(lo, MPFR_RNDN)
                                             : rc_ref_round_to_dtype(lo, types[k]);
        double rh = types[k] == RC_DTYPE_F64 ? mpfr_get_d(hi, MPFR_RNDN)
                                             : rc_ref_round_to_dtype(hi, types[k]);
        /* RN is monotone: equal at both ends means equal in between. */
        ok = same_double(rl, rh);
        if (ok)
            rounded[k] = rl;
    }
    if (ok && exact != NULL) {
        rc_dd x = {mpfr_get_d(lo, MPFR_RNDN), 0.0};
        ok = same_double(x.hi, mpfr_get_d(hi, MPFR_RNDN)) && exact_lo_on_ends(lo, hi, x.hi, &x.lo);
        if (ok)
            *exact = x;
    }
    if (pr > RC_REF_STACK_PREC) {
        mpfr_clear(hi_h);
        mpfr_clear(lo_h);
    }
    return ok;
}

int rc_ref_round_certain_n(mpfr_srcptr b, mpfr_exp_t err, int n, const rc_dtype *types,
                           double *rounded)
{
    return decide_on_enclosure(b, err, n, types, rounded, NULL);
}

int rc_ref_exact_certain(mpfr_srcptr b, mpfr_exp_t err, int n, const rc_dtype *types,
                         double *rounded, rc_dd *exact)
{
    return decide_on_enclosure(b, err, n, types, rounded, exact);
}
