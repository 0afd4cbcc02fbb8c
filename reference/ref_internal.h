/*
 * reference/ref_internal.h - pieces of the MPFR oracle shared between its
 * own files and its tests; not part of the library's interface.
 *
 * Precision conventions follow MPFR: EXP(x) is the exponent with
 * 2^(EXP(x)-1) <= |x| < 2^EXP(x), and an approximation b "with error err"
 * means |b - x| <= 2^(EXP(b) - err), as for mpfr_can_round.
 */
#ifndef ROPECHECK_REF_INTERNAL_H
#define ROPECHECK_REF_INTERNAL_H

#include <stdint.h>

#include <mpfr.h>

#include "core/dd.h"
#include "ropecheck/rope.h"

/* theta_i = base^(-2i/r) at prec(rop) = w, computed as rootn(base^(-n), q)
 * with n/q = 2i/r in lowest terms, each step rounded to nearest. Relative
 * error < 3 * 2^-w (README.md, "theta"); exact when base^-n and theta both
 * fit in w bits (i = 0; base 16, r = 4). base > 0 finite, 0 <= i < r/2.
 * Needs MPFR's default exponent range (base^-n may reach 2^(+-2^20)). */
void rc_ref_theta_mpfr(mpfr_ptr rop, double base, int rotary_dim, int i);

/* Correct rounding to a dtype, decided on an enclosure: if every real in
 * [b - 2^(EXP(b)-err), b + 2^(EXP(b)-err)] rounds (rc_ref_round_to_dtype)
 * to the same value, store it in *rounded and return 1; else return 0.
 * Rounding to nearest is monotone, so comparing the two ends (widened
 * outward) decides it for the whole interval, subnormals and overflow
 * included; an interval that reaches zero or changes sign is never
 * certain (the sign of a zero result would be unknown). b must be a
 * nonzero finite number (else 0 is returned). */
int rc_ref_round_certain(mpfr_srcptr b, mpfr_exp_t err, rc_dtype t, double *rounded);

/* The same decision for several dtypes over one enclosure (the enclosure
 * is built once): returns 1 only if all n are certain, filling rounded[k]
 * for types[k] (rounded[] is unspecified when it returns 0). */
int rc_ref_round_certain_n(mpfr_srcptr b, mpfr_exp_t err, int n, const rc_dtype *types,
                           double *rounded);

/* The precision of the oracle's exact value (reference.h, rc_ref_elem):
 * hi + lo is the exact result rounded once to RC_REF_EXACT_BITS bits
 * (with the double's smallest quantum 2^-1074 as its floor). A fixed,
 * canonical rounding, so that the MPFR path and the fast path, which
 * know the exact value to different accuracies, store identical bits. */
#define RC_REF_EXACT_BITS 80
#define RC_REF_EXACT_EMIN (-1074 + RC_REF_EXACT_BITS - 1)

/* The dtype a fast-path value is also rounded to: precision 0 for f64
 * (its rounding is RN53 itself), else p <= 24, emin and the largest
 * finite value (overflow gives Inf). */
typedef struct rc_dd_target {
    int precision;
    int emin;
    double max_finite;
} rc_dd_target;

/* The target for dtype t (rc_dtype_format's numbers). */
rc_dd_target rc_dd_target_of(rc_dtype t);

/* From an enclosure v (normalized, v.hi != 0) with error err >= 0, decide
 * for every real x within err of v: exact = (RN53(x), RN80(x) - RN53(x)),
 * the canonical exact value, and *rounded = RN_t(x). 1 when all are
 * certain, 0 when it cannot prove them (never a wrong 1); in double
 * arithmetic only (ref_round_dd_inline.h). */
int rc_ref_certify_dd(rc_dd v, double err, rc_dtype t, rc_dd *exact, double *rounded);

/* rc_ref_round_certain_n (n may be 0), and on the same enclosure the
 * canonical exact value (RC_REF_EXACT_BITS): exact->hi = RN53(x),
 * exact->lo = RN80(x) - exact->hi (0 when hi is infinite). 1 only when
 * every one is certain. */
int rc_ref_exact_certain(mpfr_srcptr b, mpfr_exp_t err, int n, const rc_dtype *types,
                         double *rounded, rc_dd *exact);

/* For an exactly known x: RN_80(x) - hi (0 for hi infinite or x zero). */
double rc_ref_exact_lo(mpfr_srcptr x, double hi);

#endif /* ROPECHECK_REF_INTERNAL_H */
