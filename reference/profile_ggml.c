/*
 * reference/profile_ggml.c - the `ggml` profile's constants and angles:
 * ggml-cpu's ggml_compute_forward_rope_f32/f16 with ggml_rope_cache_init
 * and rope_yarn (ops.cpp), for ext_factor == 0 (no YaRN ramp), step by
 * step in f32. The steps are listed in PROFILES.md.
 */
#include <stdint.h>

#include "reference/profile_internal.h"

#define F32 RC_DTYPE_F32

void rc_prof_ggml_table(const rc_spec *spec, int faithful_table, rc_prof_table *tab)
{
    const rc_scaling *sc = spec->scaling;
    const rc_scaling_type type = sc ? sc->type : RC_SCALING_NONE; /* none or linear */
    tab->n_pairs = spec->rotary_dim / 2;
    /* theta_scale = powf(freq_base, -2.0f/n_dims) */
    const rc_pv base_f = rc_pv_point((double)(float)spec->base);
    const rc_pv e = rc_pv_div(F32, rc_pv_point(-2.0), rc_pv_point((double)spec->rotary_dim));
    tab->theta_scale = rc_pf_pow(base_f, e, faithful_table);
    /* llama.cpp: freq_scale = 1.0f / rope_scaling_factor, both f32 */
    tab->freq_scale = rc_pv_point(1.0);
    if (type == RC_SCALING_LINEAR)
        tab->freq_scale = rc_pv_div(F32, rc_pv_point(1.0), rc_pv_point((double)(float)sc->factor));
    tab->attn = rc_pv_point(1.0); /* attn_factor = 1.0f: mscale unchanged */
}

void rc_prof_ggml_angles(const rc_prof_table *tab, int64_t m, rc_pv *c, rc_pv *s)
{
    /* ggml_rope_cache_init(p, ...): the int position passed as float theta_base */
    rc_pv theta = rc_pv_point((double)(float)m);
    for (int i = 0; i < tab->n_pairs; i++) {
        /* rope_yarn(theta/ff, ...) with ff = 1.0f: theta_interp = freq_scale * theta_extrap */
        const rc_pv t = rc_pv_mul(F32, tab->freq_scale, theta);
        /* cosf(theta) * mscale, sinf(theta) * mscale */
        c[i] = rc_pv_mul(F32, rc_pf_cos(t, 1), tab->attn);
        s[i] = rc_pv_mul(F32, rc_pf_sin(t, 1), tab->attn);
        theta = rc_pv_mul(F32, theta, tab->theta_scale); /* theta *= theta_scale */
    }
}
