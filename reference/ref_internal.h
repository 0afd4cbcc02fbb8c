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

#endif /* ROPECHECK_REF_INTERNAL_H */
