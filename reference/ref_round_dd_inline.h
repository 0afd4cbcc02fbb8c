/*
 * reference/ref_round_dd_inline.h - decide the oracle's roundings from a
 * double-double enclosure, in double arithmetic only (the fast path's
 * counterpart of rc_ref_round_certain, which works on MPFR numbers).
 * Inline so that ref_fast.c compiles it into its FMA and baseline builds;
 * ref_round_dd.c exports it for the tests (rc_ref_certify_dd).
 *
 * Given v = h + l (normalized, h = v.hi != 0) and E >= 0, every real x
 * with |x - v| <= E has the same RN53(x), RN80(x) and RN_T(x) when
 *   (1) [|v| - E, |v| + E] lies strictly inside one binade [2^e, 2^(e+1)):
 *       one quantum per format holds for all of it, and zero is excluded;
 *   (2) for RN53: |l| + E < ulp53/2, so RN53(x) = h for every x (a
 *       normalized double-double has |l| <= ulp53/2; the rare pair where
 *       this fails goes to MPFR);
 *   (3) for RN80 and RN_T: x/q is farther than E/q from every
 *       half-integer, q the format's quantum in that binade.
 * Every floating-point step below is exact or covered by a margin of
 * 2^-50 (relative on E, absolute on the grid position), so "certain" is a
 * proof; "not certain" only sends the pair to MPFR.
 */
#ifndef ROPECHECK_REF_ROUND_DD_INLINE_H
#define ROPECHECK_REF_ROUND_DD_INLINE_H

#include <math.h>

#include "core/pow2.h"
#include "reference/ref_internal.h"

/* Binades the fast path decides: every quantum below (down to 2^(e-79))
 * is a normal double and every scale factor 2^-qe is one too. */
#define RC_DD_EMIN (-900)
#define RC_DD_EMAX 1000

static inline int rc_certify_dd_inline(rc_dd v, double err, const rc_dd_target *t,
                                       rc_dd *exact, double *rounded)
{
    if (!(v.hi != 0.0) || !isfinite(v.hi) || !isfinite(v.lo) || !(err >= 0.0) || isinf(err))
        return 0;
    const double sign = v.hi < 0.0 ? -1.0 : 1.0;
    const double h = fabs(v.hi);
    const double l = sign * v.lo;

    /* (1) The binade of |v|: h = f 2^k with f in [0.5, 1), so e = k - 1,
     * except at h = 2^(k-1) with l < 0, where |v| lies just below. */
    int is_pow2;
    int e = rc_exponent_of(h, &is_pow2) - 1;
    if (is_pow2 && l < 0.0)
        e -= 1;
    if (e < RC_DD_EMIN || e > RC_DD_EMAX)
        return 0;
    const double p2e = rc_pow2_normal(e);
    /* h - 2^e and 2^(e+1) - h are exact (Sterbenz: h in [2^e, 2^(e+1)]);
     * each final sum rounds once (relative 2^-53), covered by err_up. */
    const double err_up = err * (1.0 + 0x1p-50);
    if (!((h - p2e) + l > err_up) || !((2.0 * p2e - h) - l > err_up))
        return 0;

    /* (2) RN53 = h: |l| + E < ulp53/2 = 2^(e-53); the sum rounds once. */
    if (!(fabs(l) + err_up < rc_pow2_normal(e - 53) * (1.0 - 0x1p-50)))
        return 0;

    /* (3) RN80: quantum q = 2^(e-79); h is on that grid (a multiple of
     * 2^(e-52)), so only l/q (exact, |l/q| <= 2^26) has a fraction. */
    const double y = l * rc_pow2_normal(79 - e);
    const double n = rc_nearest_int(y);
    const double fr = y - n; /* exact */
    if (!(0.5 - fabs(fr) > err * rc_pow2_normal(79 - e) + 0x1p-50))
        return 0;
    exact->hi = sign * h;
    exact->lo = sign * n * rc_pow2_normal(e - 79); /* RN80(x) - h, exact */

    /* (3) RN_T for a format of at most 24 bits (none for f64: RN53). */
    if (t->precision == 0) {
        *rounded = exact->hi;
        return 1;
    }
    int qe = e - t->precision + 1;
    if (qe < t->emin - t->precision + 1)
        qe = t->emin - t->precision + 1; /* T's subnormal range */
    const double yh = h * rc_pow2_normal(-qe); /* exact */
    const double yl = l * rc_pow2_normal(-qe); /* |yl| < 2^-29: l is that far below q */
    const double n1 = rc_nearest_int(yh);
    double frt = (yh - n1) + yl; /* yh - n1 exact; the sum rounds by 2^-54 */
    double adj = 0.0;
    if (frt > 0.5) {
        adj = 1.0;
        frt -= 1.0; /* exact (Sterbenz) */
    } else if (frt < -0.5) {
        adj = -1.0;
        frt += 1.0;
    }
    if (!(0.5 - fabs(frt) > err * rc_pow2_normal(-qe) + 0x1p-50))
        return 0;
    double x = (n1 + adj) * rc_pow2_normal(qe); /* exact: a p-bit integer times 2^qe */
    if (x > t->max_finite)
        x = INFINITY; /* RNE: the largest finite value is odd, the tie goes up */
    *rounded = sign * x;
    return 1;
}

#endif /* ROPECHECK_REF_ROUND_DD_INLINE_H */
