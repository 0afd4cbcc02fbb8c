/*
 * reference/scaling.h - the frequency-scaling families (rope.h,
 * rc_scaling) computed exactly in MPFR from their defining formulas.
 * Sources and the formulas: reference/scaling.c and reference/SCALING.md.
 *
 * Contract shared with reference/ref_theta.c (ref_rotate.c's Ziv bound
 * relies on it): at precision w = prec(rop) the result T satisfies
 * |T - x| < 3 * 2^-w * |x| for the exact value x. Discrete decisions in a
 * family (YaRN's floor/ceil of the correction range, Llama 3's wavelength
 * bands, dynamic NTK's and LongRoPE's L > L0) are made on the exact values.
 */
#ifndef ROPECHECK_REFERENCE_SCALING_H
#define ROPECHECK_REFERENCE_SCALING_H

#include <mpfr.h>

#include "core/dd.h"
#include "ropecheck/rope.h"

/* theta_i of the scaled family (sc may be NULL: plain base^(-2i/r)) at
 * prec(rop). base > 0 finite, r even >= 2, 0 <= i < r/2, sc valid for r
 * (core/scaling.h rc_scaling_check). */
void rc_ref_freq_mpfr(mpfr_ptr rop, double base, int rotary_dim, const rc_scaling *sc, int i);

/* The output scale alpha (YaRN, LongRoPE attention factor; exactly 1 for
 * every other family and for sc == NULL) at prec(rop), same contract. */
void rc_ref_out_scale_mpfr(mpfr_ptr rop, const rc_scaling *sc);

/* The table the host hands to implementations: hi + lo within 2^-104
 * relative of theta_i, for every i < r/2. */
void rc_ref_freq_table(double base, int rotary_dim, const rc_scaling *sc, double *hi,
                       double *lo);

/* The same with rc_spec's freq_period P > 0: entry i is entry i mod P of
 * the table of rotary dimension 2P (the 2-D vision RoPE's per-axis
 * tables); P = 0 is rc_ref_freq_table. */
void rc_ref_freq_table_period(double base, int rotary_dim, const rc_scaling *sc, int period,
                              double *hi, double *lo);

/* The frequencies every port and the exact-angle analysis are built for
 * (impls/common/exact_angle.h, DOMAIN): each theta_i of the (scaled)
 * table in [2^-1000, 1], so that m*theta_i < 2^53 for every position and
 * the double-double table stays normal. A base below 1, a linear factor
 * below 1 or a base like 1e-300 leaves it. 0, or -1 with one line in err
 * naming the first frequency outside. */
#define RC_FREQ_MIN 0x1p-1000
#define RC_FREQ_MAX 1.0
int rc_ref_freq_check(double base, int rotary_dim, const rc_scaling *sc, char *err,
                      size_t err_len);

/* alpha as a double-double within 2^-104 relative. */
rc_dd rc_ref_out_scale_dd(const rc_scaling *sc);

#endif /* ROPECHECK_REFERENCE_SCALING_H */
