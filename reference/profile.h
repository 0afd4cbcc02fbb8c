/*
 * reference/profile.h - framework profiles: what a framework's own RoPE
 * computes, with its intermediate roundings, so a port can be gated on
 * matching the framework it replaces (DESIGN.md, "profiles"). The `exact`
 * profile is the MPFR reference itself (reference.h); this file adds:
 *
 *   hf    Hugging Face transformers (PyTorch): inverse frequencies and the
 *         angle in f32, cos/sin in f32 times the attention factor, cast to
 *         the input dtype, then q*cos + rotate_half(q)*sin in that dtype.
 *   ggml  ggml's CPU RoPE: theta_scale = powf(base, -2/r), the angle by
 *         repeated f32 multiplication, f32 cosf/sinf of the unreduced
 *         angle, rotation in f32.
 *
 * Each profile's rounding points and its gate are written down in
 * reference/PROFILES.md. The prediction uses correctly rounded elementary
 * functions; a real framework's libm is only faithful (within 1 ulp), so
 * for each element the profile gives the band [lo, hi] of every result the
 * framework's sequence of operations can produce when each elementary
 * function result is either neighbour of the exact value. A port matches
 * the profile when its output lies in the band (distance measured in pair
 * ULP, reference/metrics.h).
 */
#ifndef ROPECHECK_REFERENCE_PROFILE_H
#define ROPECHECK_REFERENCE_PROFILE_H

#include <stdint.h>

#include "ropecheck/rope.h"

typedef enum rc_profile {
    RC_PROFILE_EXACT = 0,
    RC_PROFILE_HF = 1,
    RC_PROFILE_GGML = 2,
    RC_PROFILE_COUNT
} rc_profile;

const char *rc_profile_name(rc_profile p);            /* "exact", "hf", "ggml" */
int rc_profile_parse(const char *s, rc_profile *out); /* 0, or -1 if unknown */

typedef struct rc_profile_ref rc_profile_ref;

/* A predictor for one spec (its scaling included; the theta table in the
 * spec is ignored, the profile computes its own the framework's way).
 * NULL for RC_PROFILE_EXACT, an invalid spec, or out of memory. */
rc_profile_ref *rc_profile_ref_create(rc_profile p, const rc_spec *spec);
void rc_profile_ref_destroy(rc_profile_ref *p);

/* One head at position m: for every channel c < head_dim, pred[c] is the
 * framework's result with correctly rounded elementary functions, and
 * lo[c] <= pred[c] <= hi[c] bound every result with faithful ones.
 * Passthrough channels: pred = lo = hi = the input. NaN/Inf inputs give
 * NaN in all three (special values are judged by the exact reference).
 * `in` holds head_dim values exact in the spec's dtype. 0, or -1 for an
 * invalid argument. */
int rc_profile_ref_head(rc_profile_ref *p, int64_t m, rc_direction dir, const double *in,
                        double *pred, double *lo, double *hi);

#endif /* ROPECHECK_REFERENCE_PROFILE_H */
