/*
 * reference/profile_internal.h - pieces shared by the framework profiles
 * (profile.c, profile_fn.c, profile_hf.c, profile_ggml.c); not part of the
 * library's interface.
 *
 * A profile value is a triple: the prediction p (every step rounded as the
 * framework rounds it, elementary functions correctly rounded) and the
 * band [lo, hi] of every value the same steps give when each per-element
 * elementary function returns either neighbour of its exact value. All
 * three are values of the step's working format held in doubles.
 *
 * Basic operations (+ - * /, conversions) are correctly rounded in IEEE
 * arithmetic and rounding to nearest is monotone, so on a band the result
 * of x op y is bounded by the rounded results at the endpoint
 * combinations; that is what rc_pv_add/sub/mul/div compute. Operands that
 * are really the same quantity (cos and sin of one angle) are treated as
 * independent: the band is then an enclosure, sound but not always tight.
 */
#ifndef ROPECHECK_REFERENCE_PROFILE_INTERNAL_H
#define ROPECHECK_REFERENCE_PROFILE_INTERNAL_H

#include <stdint.h>

#include "reference/profile.h"
#include "ropecheck/rope.h"

typedef struct rc_pv {
    double p, lo, hi;
} rc_pv;

/* A value known exactly (a constant, an input). */
static inline rc_pv rc_pv_point(double x)
{
    rc_pv v = {x, x, x};
    return v;
}

/* Rounding to a working format w: RC_DTYPE_F32 and F64 are the formats the
 * frameworks compute in; F16/BF16 the storage formats they round to. */
double rc_pv_round(rc_dtype w, double x);

/* x op y rounded to w at p and at every endpoint combination. x and y hold
 * values of w (or of a narrower format), so for w = f32 the double
 * operation followed by one rounding to f32 is the f32 operation: products
 * of two f32 values are exact in double, and sums and quotients rounded
 * first to double then to f32 round as once (53 >= 2*24 + 2, Figueroa's
 * condition for innocuous double rounding). For w = f64 the double
 * operation is the f64 operation. */
rc_pv rc_pv_add(rc_dtype w, rc_pv x, rc_pv y);
rc_pv rc_pv_sub(rc_dtype w, rc_pv x, rc_pv y);
rc_pv rc_pv_mul(rc_dtype w, rc_pv x, rc_pv y);
rc_pv rc_pv_div(rc_dtype w, rc_pv x, rc_pv y);
/* Round every part to t (a conversion: monotone). */
rc_pv rc_pv_to(rc_dtype t, rc_pv x);
static inline rc_pv rc_pv_neg(rc_pv x)
{
    rc_pv v = {-x.p, -x.hi, -x.lo};
    return v;
}

/* Elementary functions of f32 values, as a faithful f32 libm may return
 * them: p is the correctly rounded result (MPFR at 24 bits), [lo, hi]
 * spans both directed roundings over x's band. `faithful` = 0 pins the
 * result to p (lo = hi = p), used for the per-spec constants (see
 * PROFILES.md, "Which functions are widened"). cos/sin include the
 * interior extremum when the band contains one. */
rc_pv rc_pf_cos(rc_pv x, int faithful);
rc_pv rc_pf_sin(rc_pv x, int faithful);
rc_pv rc_pf_pow(rc_pv base, rc_pv e, int faithful);

/* Double-precision (Python float) scalars, correctly rounded to double:
 * log, pow, sqrt. Python's math.log and ** call the C library's double
 * functions; see PROFILES.md for why these are not widened. */
double rc_pd_log(double x);
double rc_pd_pow(double x, double y);

/* The f32 frequency table and output scale of a profile. */
typedef struct rc_prof_table {
    int32_t n_pairs;
    rc_pv *inv_freq; /* hf: inv_freq[i]; unused by ggml */
    rc_pv theta_scale; /* ggml: powf(base, -2/r) */
    rc_pv freq_scale;  /* ggml: 1/factor for linear scaling, else 1 */
    rc_pv attn;        /* f32 factor multiplying cos and sin */
} rc_prof_table;

/* Fill the table the framework's way, for a spec rc_profile_models
 * accepts (its scaling family is one the framework has: profile.c,
 * family_modelled). tab->inv_freq holds n_pairs entries (allocated by
 * the caller). */
void rc_prof_hf_table(const rc_spec *spec, int faithful_table, rc_prof_table *tab);
void rc_prof_ggml_table(const rc_spec *spec, int faithful_table, rc_prof_table *tab);

/* cos and sin of pair i at position m, as the framework computes them in
 * f32 before any cast (ggml: angle by repeated multiplication, computed
 * for every pair at once into c[], s[]; hf: inv_freq * (float)m). */
void rc_prof_hf_angles(const rc_prof_table *tab, int64_t m, rc_pv *c, rc_pv *s);
void rc_prof_ggml_angles(const rc_prof_table *tab, int64_t m, rc_pv *c, rc_pv *s);

#endif /* ROPECHECK_REFERENCE_PROFILE_INTERNAL_H */
