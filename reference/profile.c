/*
 * reference/profile.c - framework profiles (profile.h): the predictor
 * object and the rotation of one head in the framework's arithmetic. The
 * frequency tables and angles are in profile_hf.c and profile_ggml.c; the
 * rounding points of each profile are listed in PROFILES.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/pair_layout.h"
#include "core/scaling.h"
#include "core/spec_check.h"
#include "reference/metrics.h"
#include "reference/profile.h"
#include "reference/profile_band.h"
#include "reference/profile_internal.h"

struct rc_profile_ref {
    rc_profile profile;
    int32_t head_dim, rotary_dim;
    rc_layout layout;
    rc_dtype dtype;
    rc_prof_table tab;
    rc_pv *c, *s;     /* cos/sin (f32, before any cast) of cached_m */
    int64_t cached_m; /* -1: none */
};

static const char *const profile_names[RC_PROFILE_COUNT] = {"exact", "hf", "ggml"};

const char *rc_profile_name(rc_profile p)
{
    return (p >= 0 && p < RC_PROFILE_COUNT) ? profile_names[p] : "?";
}

int rc_profile_parse(const char *s, rc_profile *out)
{
    for (int i = 0; s != NULL && i < RC_PROFILE_COUNT; i++)
        if (strcmp(s, profile_names[i]) == 0) {
            *out = (rc_profile)i;
            return 0;
        }
    return -1;
}

/* The dtypes each framework's RoPE takes: ggml's CPU rope has f32 and f16
 * kernels only; PyTorch all four. */
static int dtype_supported(rc_profile p, rc_dtype t)
{
    if (p == RC_PROFILE_GGML)
        return t == RC_DTYPE_F32 || t == RC_DTYPE_F16;
    return 1;
}

/* The scaling families each framework's table code has (rc_prof_*_table
 * are called only for these): ggml's YaRN (ext_factor, corr_dims, its own
 * mscale) and llama.cpp's frequency-factor tensors are not modelled, and
 * transformers has no explicit-table rope_type. */
static int family_modelled(rc_profile p, const rc_scaling *sc)
{
    const rc_scaling_type type = sc ? sc->type : RC_SCALING_NONE;
    if (p == RC_PROFILE_GGML)
        return type == RC_SCALING_NONE || type == RC_SCALING_LINEAR;
    return type != RC_SCALING_TABLE;
}

int rc_profile_models(rc_profile p, const rc_spec *spec)
{
    char err[160];
    return spec != NULL && (p == RC_PROFILE_HF || p == RC_PROFILE_GGML) &&
           rc_spec_check(spec->head_dim, spec->rotary_dim, spec->base, err, sizeof err) == 0 &&
           spec->layout >= 0 && spec->layout < RC_LAYOUT_COUNT && spec->dtype >= 0 &&
           spec->dtype < RC_DTYPE_COUNT && dtype_supported(p, spec->dtype) &&
           rc_scaling_check(spec->scaling, spec->rotary_dim, err, sizeof err) == 0 &&
           family_modelled(p, spec->scaling);
}

rc_profile_ref *rc_profile_ref_create_ex(rc_profile p, const rc_spec *spec, unsigned flags)
{
    if (!rc_profile_models(p, spec))
        return NULL;
    rc_profile_ref *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    const int n = spec->rotary_dim / 2;
    r->profile = p;
    r->head_dim = spec->head_dim;
    r->rotary_dim = spec->rotary_dim;
    r->layout = spec->layout;
    r->dtype = spec->dtype;
    r->cached_m = -1;
    r->tab.inv_freq = calloc((size_t)n, sizeof *r->tab.inv_freq);
    r->c = calloc((size_t)n, sizeof *r->c);
    r->s = calloc((size_t)n, sizeof *r->s);
    const int ft = (flags & RC_PROFILE_FAITHFUL_TABLE) != 0;
    if (r->tab.inv_freq == NULL || r->c == NULL || r->s == NULL) {
        rc_profile_ref_destroy(r);
        return NULL;
    }
    if (p == RC_PROFILE_HF)
        rc_prof_hf_table(spec, ft, &r->tab);
    else
        rc_prof_ggml_table(spec, ft, &r->tab);
    return r;
}

int rc_profile_ref_use_table(rc_profile_ref *r, const double *inv_freq, size_t n)
{
    if (r == NULL || inv_freq == NULL || r->profile != RC_PROFILE_HF ||
        n != (size_t)r->rotary_dim / 2)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(inv_freq[i] > 0.0) || !isfinite(inv_freq[i]))
            return -1;
    for (size_t i = 0; i < n; i++)
        r->tab.inv_freq[i] = rc_pv_point(inv_freq[i]);
    r->cached_m = -1; /* the angles follow the new table */
    return 0;
}

double rc_profile_table_excess(rc_profile p, const rc_spec *spec, const double *inv_freq,
                               size_t n, int *worst)
{
    *worst = 0;
    if (p != RC_PROFILE_HF || spec == NULL || inv_freq == NULL ||
        n != (size_t)spec->rotary_dim / 2)
        return -1.0;
    rc_profile_ref *r = rc_profile_ref_create_ex(p, spec, RC_PROFILE_FAITHFUL_TABLE);
    if (r == NULL)
        return -1.0;
    double max = 0.0;
    for (size_t i = 0; i < n; i++) {
        const rc_pv b = r->tab.inv_freq[i];
        const double t = inv_freq[i];
        double ex = 0.0;
        if (!(t > 0.0) || !isfinite(t))
            ex = INFINITY;
        else if (t < b.lo)
            ex = (b.lo - t) / rc_ulp_of(RC_DTYPE_F32, (rc_dd){b.lo, 0.0});
        else if (t > b.hi)
            ex = (t - b.hi) / rc_ulp_of(RC_DTYPE_F32, (rc_dd){b.hi, 0.0});
        if (ex > max) {
            max = ex;
            *worst = (int)i;
        }
    }
    rc_profile_ref_destroy(r);
    return max;
}

rc_profile_ref *rc_profile_ref_create(rc_profile p, const rc_spec *spec)
{
    return rc_profile_ref_create_ex(p, spec, 0);
}

void rc_profile_ref_destroy(rc_profile_ref *r)
{
    if (r == NULL)
        return;
    free(r->tab.inv_freq);
    free(r->c);
    free(r->s);
    free(r);
}

/* One elementwise PyTorch operation in dtype t: f16/bf16 tensors are
 * computed in f32 and the result rounded to t; f32/f64 natively. */
static rc_pv hf_mul(rc_dtype t, rc_pv x, rc_pv y)
{
    if (t == RC_DTYPE_F16 || t == RC_DTYPE_BF16)
        return rc_pv_to(t, rc_pv_mul(RC_DTYPE_F32, x, y));
    return rc_pv_mul(t, x, y);
}

static rc_pv hf_add(rc_dtype t, rc_pv x, rc_pv y)
{
    if (t == RC_DTYPE_F16 || t == RC_DTYPE_BF16)
        return rc_pv_to(t, rc_pv_add(RC_DTYPE_F32, x, y));
    return rc_pv_add(t, x, y);
}

/* hf: cos/sin cast to the input dtype (.to(dtype=x.dtype)), then
 * q*cos + rotate_half(q)*sin with rotate_half giving (-b, a):
 * a' = a*c + (-b)*s, b' = b*c + a*s, each product and the sum rounded. */
static void hf_pair(rc_dtype t, double a, double b, rc_pv c32, rc_pv s32, rc_pv out[2])
{
    const rc_pv c = rc_pv_to(t, c32), s = rc_pv_to(t, s32);
    const rc_pv pa = rc_pv_point(a), pb = rc_pv_point(b);
    out[0] = hf_add(t, hf_mul(t, pa, c), hf_mul(t, rc_pv_neg(pb), s));
    out[1] = hf_add(t, hf_mul(t, pb, c), hf_mul(t, pa, s));
}

/* ggml rotate: x0*cos - x1*sin, x0*sin + x1*cos in f32, the f16 kernel
 * storing the f32 result rounded to f16 (inputs load exactly). */
static void ggml_pair(rc_dtype t, double a, double b, rc_pv c, rc_pv s, rc_pv out[2])
{
    const rc_dtype w = RC_DTYPE_F32;
    const rc_pv pa = rc_pv_point(a), pb = rc_pv_point(b);
    out[0] = rc_pv_to(t, rc_pv_sub(w, rc_pv_mul(w, pa, c), rc_pv_mul(w, pb, s)));
    out[1] = rc_pv_to(t, rc_pv_add(w, rc_pv_mul(w, pa, s), rc_pv_mul(w, pb, c)));
}

/* The framework's cos/sin of position m (computed once per position). */
static int angles_at(rc_profile_ref *r, int64_t m, rc_direction dir)
{
    if (m < 0 || m > RC_MAX_POSITION || (dir != RC_FORWARD && dir != RC_INVERSE))
        return -1;
    if (m != r->cached_m) {
        if (r->profile == RC_PROFILE_HF)
            rc_prof_hf_angles(&r->tab, m, r->c, r->s);
        else
            rc_prof_ggml_angles(&r->tab, m, r->c, r->s);
        r->cached_m = m;
    }
    return 0;
}


/* Pair i's sine in direction dir. Inverse: hf has none; defined as the
 * rotation with sin negated. ggml's backward pass multiplies the cached
 * sin by sin_sign = -1. Negation is exact, so both are this. */
static rc_pv sine_for(const rc_profile_ref *r, int i, rc_direction dir)
{
    return dir == RC_INVERSE ? rc_pv_neg(r->s[i]) : r->s[i];
}

/* One pair rotated by the framework's own steps. */
static void framework_pair(const rc_profile_ref *r, double a, double b, rc_pv c, rc_pv s,
                           rc_pv out[2])
{
    if (r->profile == RC_PROFILE_HF)
        hf_pair(r->dtype, a, b, c, s, out);
    else
        ggml_pair(r->dtype, a, b, c, s, out);
}

int rc_profile_ref_head(rc_profile_ref *r, int64_t m, rc_direction dir, const double *in,
                        double *pred, double *lo, double *hi)
{
    if (r == NULL || in == NULL || pred == NULL || lo == NULL || hi == NULL ||
        angles_at(r, m, dir) != 0)
        return -1;
    const int n = r->rotary_dim / 2;
    for (int i = 0; i < n; i++) {
        int ca, cb;
        rc_pair_channels(r->layout, r->rotary_dim, i, &ca, &cb);
        const double a = in[ca], b = in[cb];
        if (!isfinite(a) || !isfinite(b)) {
            pred[ca] = lo[ca] = hi[ca] = pred[cb] = lo[cb] = hi[cb] = NAN;
            continue;
        }
        rc_pv out[2];
        framework_pair(r, a, b, r->c[i], sine_for(r, i, dir), out);
        pred[ca] = out[0].p;
        lo[ca] = out[0].lo;
        hi[ca] = out[0].hi;
        pred[cb] = out[1].p;
        lo[cb] = out[1].lo;
        hi[cb] = out[1].hi;
    }
    for (int c = r->rotary_dim; c < r->head_dim; c++)
        pred[c] = lo[c] = hi[c] = in[c];
    return 0;
}

unsigned rc_value_class(double x)
{
    if (isnan(x))
        return RC_CLASS_NAN;
    if (isinf(x))
        return x > 0 ? RC_CLASS_POS_INF : RC_CLASS_NEG_INF;
    return RC_CLASS_FINITE;
}

/* The points of a band at which a special output's class can change: its
 * ends (the largest magnitudes, for overflow), its prediction, and zero
 * when the band straddles it. Returns how many (at most 4). */
static int sign_points(rc_pv v, double pts[4])
{
    int n = 0;
    pts[n++] = v.p;
    pts[n++] = v.lo;
    pts[n++] = v.hi;
    if (v.lo < 0.0 && v.hi > 0.0)
        pts[n++] = 0.0;
    return n;
}

int rc_profile_ref_special_classes(rc_profile_ref *r, int64_t m, rc_direction dir,
                                   const double *in, unsigned *classes)
{
    if (r == NULL || in == NULL || classes == NULL || angles_at(r, m, dir) != 0)
        return -1;
    memset(classes, 0, sizeof *classes * (size_t)r->head_dim);
    const int n = r->rotary_dim / 2;
    for (int i = 0; i < n; i++) {
        int ca, cb;
        rc_pair_channels(r->layout, r->rotary_dim, i, &ca, &cb);
        const double a = in[ca], b = in[cb];
        if (isfinite(a) && isfinite(b))
            continue;
        double cp[4], sp[4];
        const int nc = sign_points(r->c[i], cp);
        const int ns = sign_points(sine_for(r, i, dir), sp);
        for (int j = 0; j < nc; j++)
            for (int k = 0; k < ns; k++) {
                /* The framework's own steps on exact points: plain IEEE
                 * arithmetic with its roundings (and so its overflows). */
                rc_pv out[2];
                framework_pair(r, a, b, rc_pv_point(cp[j]), rc_pv_point(sp[k]), out);
                classes[ca] |= rc_value_class(out[0].p);
                classes[cb] |= rc_value_class(out[1].p);
            }
    }
    return 0;
}

double rc_profile_band_component(rc_dtype t, double got, double lo, double hi)
{
    if (isnan(lo) || isnan(hi))
        return NAN;
    const rc_dd near = {got < lo ? lo : got > hi ? hi : got, 0.0};
    const rc_dd scale = {near.hi != 0.0 ? near.hi : got, 0.0};
    return rc_ulp_error(t, got, near, scale);
}

double rc_profile_band_distance(rc_dtype t, double got, double lo, double hi, rc_dd pair_norm)
{
    if (isnan(lo) || isnan(hi))
        return NAN;
    if (!isfinite(got))
        return (got == lo || got == hi) ? 0.0 : INFINITY;
    double d = 0.0;
    if (got < lo)
        d = lo - got;
    else if (got > hi)
        d = got - hi;
    return d / rc_ulp_of(t, pair_norm);
}
