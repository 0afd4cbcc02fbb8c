/*
 * reference/ref_round_dd.c - decide a rounding from a double-double
 * enclosure, in double arithmetic only (the fast path's counterpart of
 * rc_ref_round_certain, which works on MPFR numbers).
 *
 * Given v = v.hi + v.lo (normalized) and E >= 0, every real x with
 * |x - v| <= E rounds to the same number of a format (p, emin) when
 *   (1) [|v| - E, |v| + E] lies strictly inside one binade [2^e, 2^(e+1))
 *       (so one quantum q = 2^max(e - p + 1, emin - p + 1) holds for all
 *       of it, and the interval excludes zero), and
 *   (2) |v|/q is farther than E/q from every half-integer.
 * Both are tested with margins that cover the roundings of the test
 * itself (each step below says which), so a "certain" answer is a proof;
 * a "not certain" answer only sends the element to MPFR.
 */
#include <math.h>

#include "core/pow2.h"
#include "reference/ref_internal.h"

/* (2) for one format, given |v| = h + l in the binade [2^e, 2^(e+1)). */
static int grid_certain(double h, double l, double err, int e, int precision, int emin,
                        double sign, rc_dd_rounding *out)
{
    /* The quantum; h/q and l/q scale by a power of two: exact, except
     * that l/q may underflow by 2^-1075, inside the 2^-50 margin. */
    const int qe = e - precision + 1 > emin - precision + 1 ? e - precision + 1
                                                             : emin - precision + 1;
    const double yh = rc_scale2(h, -qe);
    const double yl = rc_scale2(l, -qe);
    /* y - rint(y) is exact for a double (below 2^52 both lie on y's own
     * grid; above, y is a multiple of 1/2), and |yl| <= 2^(p-53) + 1. */
    const double n1 = rint(yh);
    const double n2 = rint(yl);
    double fr = (yh - n1) + (yl - n2); /* |fr| <= 1, one rounding: 2^-53 */
    double adj = 0.0;
    if (fr > 0.5) {
        adj = 1.0;
        fr -= 1.0; /* exact (Sterbenz) */
    } else if (fr < -0.5) {
        adj = -1.0;
        fr += 1.0;
    }
    /* 0.5 - |fr| rounds by at most 2^-54; with fr's own 2^-53 and the
     * underflow above, 2^-50 covers every rounding of this test. */
    if (!(0.5 - fabs(fr) > rc_scale2(err, -qe) + 0x1p-50))
        return 0;
    /* The rounded value n q = n1 q + (n2 + adj) q: both products exact. */
    out->big = sign * rc_scale2(n1, qe);
    out->rest = sign * rc_scale2(n2 + adj, qe);
    out->on_grid_of_hi = yh >= 0x1p53; /* then n1 == yh: big is v.hi */
    return 1;
}

int rc_ref_round_dd_certain_n(rc_dd v, double err, int n, const int *precision,
                              const int *emin, rc_dd_rounding *out)
{
    if (!(v.hi != 0.0) || !isfinite(v.hi) || !isfinite(v.lo) || !(err >= 0.0) || isinf(err))
        return 0;
    const int neg = v.hi < 0.0;
    const double h = fabs(v.hi);
    const double l = neg ? -v.lo : v.lo;

    /* (1) The binade of |v|: h = f 2^k with f in [0.5, 1), so e = k - 1,
     * except at h = 2^(k-1) with l < 0, where |v| lies just below. */
    int is_pow2;
    const int k = rc_exponent_of(h, &is_pow2);
    int e = k - 1;
    if (is_pow2 && l < 0.0)
        e -= 1;
    const double p2e = rc_pow2(e);
    /* h - 2^e and 2^(e+1) - h are exact (Sterbenz: h in [2^e, 2^(e+1)]);
     * each final sum rounds once, relative u = 2^-53, which the factor
     * (1 + 2^-50) on err covers: A > err (1 + 2^-50) implies the exact
     * sum exceeds err. */
    const double below = (h - p2e) + l;
    const double above = (2.0 * p2e - h) - l;
    const double err_up = err * (1.0 + 0x1p-50);
    if (!(below > err_up) || !(above > err_up))
        return 0;
    const double sign = neg ? -1.0 : 1.0;
    for (int j = 0; j < n; j++)
        if (!grid_certain(h, l, err, e, precision[j], emin[j], sign, &out[j]))
            return 0;
    return 1;
}

int rc_ref_round_dd_certain(rc_dd v, double err, int precision, int emin, rc_dd_rounding *out)
{
    return rc_ref_round_dd_certain_n(v, err, 1, &precision, &emin, out);
}
