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

/* How far `got` lies outside [lo, hi], in ULP of T at the pair norm
 * (metrics.h's pair-ULP scale): 0 inside the band. NaN when the band is
 * NaN (a special-value pair: judged by the exact reference), +Inf when
 * got is NaN or infinite against a finite band. */
double rc_profile_band_distance(rc_dtype t, double got, double lo, double hi, rc_dd pair_norm);

#endif /* ROPECHECK_REFERENCE_PROFILE_BAND_H */
