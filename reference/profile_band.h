/*
 * reference/profile_band.h - additions to profile.h for this issue's
 * profiles (kept apart so profile.h stays as agreed; proposed to be folded
 * into it): a creation option, and the distance of a result to a band.
 */
#ifndef ROPECHECK_REFERENCE_PROFILE_BAND_H
#define ROPECHECK_REFERENCE_PROFILE_BAND_H

#include "core/dd.h"
#include "reference/profile.h"

/* Also widen the per-spec constants (the powf of the frequency table,
 * ggml's theta_scale) to both neighbours, not only the per-element
 * cos/sin. Sound for any faithful libm but, at long positions, too wide
 * to tell a framework from the exact rotation (PROFILES.md, "Which
 * functions are widened"). */
#define RC_PROFILE_FAITHFUL_TABLE 1u

/* rc_profile_ref_create with options (0 = the default profile). */
rc_profile_ref *rc_profile_ref_create_ex(rc_profile p, const rc_spec *spec, unsigned flags);

/* Judge the rest of the pipeline given the framework's own frequency
 * table: the hf profile takes inv_freq[0..n) as the exact values the
 * framework multiplied by (what a runner reports with protocol 3), in
 * place of its own model of how they were computed (torch's vectorised
 * pow is not correctly rounded, llama3's and dynamic NTK's tables pass
 * through more f32 operations than the profile models). The angle, cos
 * and sin, the casts and the rotation stay the profile's. The table
 * itself is measured against the exact one apart (table_error.h). 0, or
 * -1 (nothing changed) for ggml (whose angles are not a table), a count
 * other than rotary_dim/2, or an entry that is not finite and positive. */
int rc_profile_ref_use_table(rc_profile_ref *p, const double *inv_freq, size_t n);

/* How far a reported table lies outside every table the framework's own
 * arithmetic can give for this spec: the hf profile's table with every
 * pow widened to both neighbours (RC_PROFILE_FAITHFUL_TABLE), entry by
 * entry, in f32 ulps of the nearer end (0 inside); *worst gets the pair.
 * A table built for another base, family or factor lies thousands of ulps
 * out; a faithful framework a few roundings at most (see
 * RC_PROFILE_TABLE_SLACK). -1 when the profile has no table model (ggml,
 * or a case it does not model) or the count is not rotary_dim / 2. */
double rc_profile_table_excess(rc_profile p, const rc_spec *spec, const double *inv_freq,
                               size_t n, int *worst);

/* The largest excess (f32 ulps) a reported table may have and still be
 * used: the profile models each table operation with one rounding, while
 * a framework may spend two on it (torch computes scalar / tensor as the
 * tensor's reciprocal times the scalar); llama3's table has the most such
 * operations, three (2*pi / inv_freq, L0 / wavelen, the blend's division),
 * each off by at most one ulp more: 3, plus one for the final rounding. A
 * wrong base moves theta_i by (2i/r) ln(B'/B) relative: 0.1% of the base is
 * already ~1,700 ulps at the last pair. */
#define RC_PROFILE_TABLE_SLACK 4.0

/* How far `got` lies outside [lo, hi], in ULP of T at the pair norm
 * (metrics.h's pair-ULP scale): 0 inside the band. NaN when the band is
 * NaN (a special-value pair: judged by class, rc_profile_ref_special_classes),
 * +Inf when got is NaN or infinite against a finite band. */
double rc_profile_band_distance(rc_dtype t, double got, double lo, double hi, rc_dd pair_norm);

/* The component error under a profile: how far `got` lies outside
 * [lo, hi] in ulps of the band's nearest end, as the exact mode measures
 * against the exact value (0 inside). Where that end is exactly zero (a
 * cancellation in the framework's arithmetic; an exact rotation of
 * nonzero inputs never is) ulp(0) is the smallest subnormal, and the
 * figure would say 1e39 for an output one rounding away: there the ulp of
 * the output itself is the scale, so the figure stays below 2^p (p the
 * format's precision), as a relative error should. NaN got: +Inf. */
double rc_profile_band_component(rc_dtype t, double got, double lo, double hi);

#endif /* ROPECHECK_REFERENCE_PROFILE_BAND_H */
