/*
 * reference/profile_hf.c - the `hf` profile's frequency table and angles:
 * Hugging Face transformers' modeling_rope_utils.py (the
 * _compute_*_parameters functions) and LlamaRotaryEmbedding.forward, step
 * by step as PyTorch rounds them. The steps are listed in PROFILES.md;
 * each comment below names the Python expression it models.
 *
 * PyTorch conventions used throughout: a Python scalar combined with an
 * f32 tensor is converted to f32 and the operation is an f32 operation
 * (type promotion keeps the tensor's dtype); Python-level arithmetic on
 * scalars is IEEE double.
 */
#include <math.h>
#include <stdint.h>

#include "reference/profile_internal.h"

#define F32 RC_DTYPE_F32
/* Python's math.pi: the double nearest pi. */
#define RC_PY_PI 3.141592653589793

static rc_pv f32c(double x) { return rc_pv_point((double)(float)x); }

/* get_mscale(scale, mscale) = 0.1 * mscale * math.log(scale) + 1.0 */
static double yarn_get_mscale(double scale, double mscale)
{
    if (scale <= 1.0)
        return 1.0;
    return 0.1 * mscale * rc_pd_log(scale) + 1.0;
}

/* find_correction_dim: (dim * math.log(L0 / (num_rot * 2 * math.pi))) /
 * (2 * math.log(base)), evaluated left to right in double. */
static double yarn_corr_dim(double num_rot, int dim, double base, double l0)
{
    const double den = num_rot * 2.0 * RC_PY_PI;
    return ((double)dim * rc_pd_log(l0 / den)) / (2.0 * rc_pd_log(base));
}

void rc_prof_hf_table(const rc_spec *spec, int faithful_table, rc_prof_table *tab)
{
    const int r = spec->rotary_dim, n = r / 2;
    const rc_scaling *sc = spec->scaling;
    const rc_scaling_type type = sc ? sc->type : RC_SCALING_NONE;
    const int ft = faithful_table;
    double base = spec->base;
    double attention = 1.0; /* Python float */

    if (type == RC_SCALING_NTK) /* _compute_ntk_parameters: base * factor ** (dim / (dim - 2)) */
        base = base * rc_pd_pow(sc->factor, (double)r / (double)(r - 2));
    if (type == RC_SCALING_DYNAMIC_NTK && sc->context > sc->original_context) {
        /* base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2)),
         * seq_len = the sequence length once it exceeds max_pos. */
        const double s = sc->factor;
        const double t = (s * (double)sc->context / (double)sc->original_context) - (s - 1.0);
        base = base * rc_pd_pow(t, (double)r / (double)(r - 2));
    }

    tab->n_pairs = n;
    tab->theta_scale = tab->freq_scale = rc_pv_point(1.0);
    const rc_pv base_f = f32c(base); /* `base ** tensor`: the scalar becomes f32 */
    for (int i = 0; i < n; i++) {
        /* torch.arange(0, dim, 2).float() / dim: exact integers, one f32 division */
        const rc_pv e = rc_pv_div(F32, rc_pv_point(2.0 * i), rc_pv_point((double)r));
        const rc_pv pw = rc_pf_pow(base_f, e, ft); /* base ** (...) in f32 */
        rc_pv inv;
        if (type == RC_SCALING_LONGROPE) {
            /* 1.0 / (ext_factors * base**inv_freq_shape), ext_factors an f32 tensor */
            const double *ext = sc->context > sc->original_context ? sc->long_factor
                                                                   : sc->short_factor;
            inv = rc_pv_div(F32, rc_pv_point(1.0), rc_pv_mul(F32, f32c(ext[i]), pw));
        } else {
            inv = rc_pv_div(F32, rc_pv_point(1.0), pw); /* 1.0 / pos_freqs */
        }
        tab->inv_freq[i] = inv;
    }

    if (type == RC_SCALING_LINEAR) {
        /* inv_freq /= factor (an f32 division on the CPU; see PROFILES.md
         * for CUDA's multiplication by the reciprocal). */
        for (int i = 0; i < n; i++)
            tab->inv_freq[i] = rc_pv_div(F32, tab->inv_freq[i], f32c(sc->factor));
    } else if (type == RC_SCALING_YARN) {
        const double s = sc->factor;
        const double l0 = (double)sc->original_context;
        if (sc->attention_factor > 0)
            attention = sc->attention_factor;
        else if (sc->mscale > 0 && sc->mscale_all_dim > 0)
            attention = yarn_get_mscale(s, sc->mscale) / yarn_get_mscale(s, sc->mscale_all_dim);
        else
            attention = yarn_get_mscale(s, 1.0);
        /* beta_fast > beta_slow > 0: rc_scaling_check (the config reader
         * fills transformers' defaults 32 and 1 before that). */
        double low = yarn_corr_dim(sc->beta_fast, r, spec->base, l0);
        double high = yarn_corr_dim(sc->beta_slow, r, spec->base, l0);
        if (sc->truncate) {
            low = floor(low);
            high = ceil(high);
        }
        low = fmax(low, 0.0);
        high = fmin(high, (double)(r - 1));
        if (low == high)
            high += 0.001; /* "Prevent singularity" */
        const rc_pv lo_f = f32c(low), span_f = f32c(high - low);
        const rc_pv s_f = f32c(s);
        for (int i = 0; i < n; i++) {
            /* pos_freqs recomputed as in the table loop above (same steps) */
            const rc_pv pw = rc_pf_pow(base_f, rc_pv_div(F32, rc_pv_point(2.0 * i),
                                                         rc_pv_point((double)r)), ft);
            const rc_pv extrap = rc_pv_div(F32, rc_pv_point(1.0), pw);
            const rc_pv interp = rc_pv_div(F32, rc_pv_point(1.0), rc_pv_mul(F32, s_f, pw));
            /* linear_ramp_factor: clamp((arange(dim//2) - min) / (max - min), 0, 1) */
            rc_pv ramp = rc_pv_div(F32, rc_pv_sub(F32, rc_pv_point((double)i), lo_f), span_f);
            ramp.p = fmin(fmax(ramp.p, 0.0), 1.0);
            ramp.lo = fmin(fmax(ramp.lo, 0.0), 1.0);
            ramp.hi = fmin(fmax(ramp.hi, 0.0), 1.0);
            const rc_pv ef = rc_pv_sub(F32, rc_pv_point(1.0), ramp); /* extrapolation factor */
            /* interp * (1 - ef) + extrap * ef */
            const rc_pv t1 = rc_pv_mul(F32, interp, rc_pv_sub(F32, rc_pv_point(1.0), ef));
            const rc_pv t2 = rc_pv_mul(F32, extrap, ef);
            tab->inv_freq[i] = rc_pv_add(F32, t1, t2);
        }
    } else if (type == RC_SCALING_LLAMA3) {
        const double l0 = (double)sc->original_context;
        const rc_pv fac = f32c(sc->factor);
        const double lfw = l0 / sc->low_freq_factor; /* low_freq_wavelen */
        const double hfw = l0 / sc->high_freq_factor;
        const rc_pv two_pi = f32c(2.0 * RC_PY_PI);
        for (int i = 0; i < n; i++) {
            const rc_pv inv = tab->inv_freq[i];
            const rc_pv wl = rc_pv_div(F32, two_pi, inv); /* 2 * math.pi / inv_freq */
            /* The comparisons with the Python thresholds (f32 after promotion). */
            const double lfw_f = (double)(float)lfw, hfw_f = (double)(float)hfw;
            const rc_pv scaled = rc_pv_div(F32, inv, fac);
            /* inv_freq_llama = where(wavelen > low_freq_wavelen, inv/factor, inv) */
            rc_pv llama = wl.p > lfw_f ? scaled : inv;
            if (wl.lo <= lfw_f && wl.hi > lfw_f) { /* either branch within the band */
                llama.lo = fmin(scaled.lo, inv.lo);
                llama.hi = fmax(scaled.hi, inv.hi);
            }
            /* smooth = (old_context_len / wavelen - low) / (high - low) */
            const rc_pv sm = rc_pv_div(
                F32, rc_pv_sub(F32, rc_pv_div(F32, f32c(l0), wl), f32c(sc->low_freq_factor)),
                f32c(sc->high_freq_factor - sc->low_freq_factor));
            /* (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama */
            const rc_pv a = rc_pv_div(F32, rc_pv_mul(F32, rc_pv_sub(F32, rc_pv_point(1.0), sm), llama),
                                      fac);
            const rc_pv smoothed = rc_pv_add(F32, a, rc_pv_mul(F32, sm, llama));
            /* is_medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen) */
            const int med_p = !(wl.p < hfw_f) && !(wl.p > lfw_f);
            const int med_lo = !(wl.lo < hfw_f) && !(wl.lo > lfw_f);
            const int med_hi = !(wl.hi < hfw_f) && !(wl.hi > lfw_f);
            rc_pv out = med_p ? smoothed : llama;
            if (med_lo != med_p || med_hi != med_p || (wl.lo < hfw_f) != (wl.hi < hfw_f)) {
                out.lo = fmin(smoothed.lo, llama.lo);
                out.hi = fmax(smoothed.hi, llama.hi);
            }
            tab->inv_freq[i] = out;
        }
    } else if (type == RC_SCALING_LONGROPE) {
        if (sc->attention_factor > 0) {
            attention = sc->attention_factor;
        } else if (sc->factor > 1.0) {
            /* math.sqrt(1 + math.log(factor) / math.log(original_max_position_embeddings)) */
            attention = sqrt(1.0 + rc_pd_log(sc->factor) / rc_pd_log((double)sc->original_context));
        }
    }
    /* cos * self.attention_scaling: the Python float becomes f32. */
    tab->attn = f32c(attention);
}

void rc_prof_hf_angles(const rc_prof_table *tab, int64_t m, rc_pv *c, rc_pv *s)
{
    /* position_ids.float(): int64 -> f32, rounded above 2^24 */
    const rc_pv pos = f32c((double)m);
    for (int i = 0; i < tab->n_pairs; i++) {
        /* inv_freq @ position_ids (an inner dimension of 1: one rounded product) */
        const rc_pv f = rc_pv_mul(F32, tab->inv_freq[i], pos);
        /* emb.cos() * self.attention_scaling, in f32 (per-element: widened) */
        c[i] = rc_pv_mul(F32, rc_pf_cos(f, 1), tab->attn);
        s[i] = rc_pv_mul(F32, rc_pf_sin(f, 1), tab->attn);
    }
}
