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

/* 1 when profile p models spec: a framework profile, a valid spec, a
 * dtype and a scaling family the framework has (ggml: f32 and f16, no
 * YaRN/LongRoPE/llama3/table; hf: no explicit table). 0 otherwise: such a
 * case has nothing to match and is skipped, not judged. */
int rc_profile_models(rc_profile p, const rc_spec *spec);

/* A predictor for one spec (its scaling included; the theta table in the
 * spec is ignored, the profile computes its own the framework's way).
 * NULL when !rc_profile_models(p, spec), or out of memory. */
rc_profile_ref *rc_profile_ref_create(rc_profile p, const rc_spec *spec);
void rc_profile_ref_destroy(rc_profile_ref *p);

/* One head at position m: for every channel c < head_dim, pred[c] is the
 * framework's result with correctly rounded elementary functions, and
 * lo[c] <= pred[c] <= hi[c] bound every result with faithful ones.
 * Passthrough channels: pred = lo = hi = the input. A pair with a NaN or
 * Inf input gets NaN in all three (its outputs are judged by class:
 * rc_profile_ref_special_classes).
 * `in` holds head_dim values exact in the spec's dtype. 0, or -1 for an
 * invalid argument. */
int rc_profile_ref_head(rc_profile_ref *p, int64_t m, rc_direction dir, const double *in,
                        double *pred, double *lo, double *hi);

/* The classes a special output (a pair with a NaN or Inf input) is judged
 * by: IEEE arithmetic makes such an output NaN, +Inf, -Inf or finite, and
 * which one follows the signs (and zeros) of the cos and sin it meets. */
enum {
    RC_CLASS_FINITE = 1u,
    RC_CLASS_POS_INF = 2u,
    RC_CLASS_NEG_INF = 4u,
    RC_CLASS_NAN = 8u,
};
unsigned rc_value_class(double x); /* one RC_CLASS_* bit */

/* For every channel of a pair with a NaN or Inf input, classes[c] gets the
 * RC_CLASS_* bits of every result the framework's operations can give with
 * cos and sin anywhere in their bands (each band's ends, its prediction,
 * and zero when the band straddles it: the class of the result changes
 * only with their signs, zeros and, for overflow, their largest
 * magnitude); other channels get 0. Under a profile this, not the exact
 * angle's signs, decides a special value: a framework whose own angle has
 * a sine of the other sign than the exact one gives the other infinity
 * (ggml around m = 1e6), and where its band straddles zero either is its.
 * 0, or -1 for an invalid argument (as rc_profile_ref_head). */
int rc_profile_ref_special_classes(rc_profile_ref *p, int64_t m, rc_direction dir,
                                   const double *in, unsigned *classes);

#endif /* ROPECHECK_REFERENCE_PROFILE_H */
