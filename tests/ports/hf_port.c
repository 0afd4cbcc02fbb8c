/*
 * tests/ports/hf_port.c - Hugging Face transformers' RoPE
 * (modeling_rope_utils.py _compute_{default,linear_scaling,llama3,yarn}
 * _parameters, LlamaRotaryEmbedding.forward, apply_rotary_pos_emb)
 * transcribed for one head with C floats for PyTorch's f32 tensors, C
 * doubles and the C library's log for Python floats, and the frameworks'
 * f16/bf16 rounding. Test-only.
 */
#include <math.h>

#include "core/dtype_convert.h"
#include "tests/ports/ports.h"

#define PY_PI 3.141592653589793

/* A PyTorch elementwise result stored in dtype t (computed in f32 for
 * the half types). */
static double to_dtype_from_f32(rc_dtype t, float x)
{
    if (t == RC_DTYPE_F16)
        return rc_f16_to_double(rc_port_f32_to_f16(x));
    if (t == RC_DTYPE_BF16)
        return rc_bf16_to_double(rc_port_f32_to_bf16(x));
    return (double)x;
}

/* get_mscale(scale, mscale) */
static double get_mscale(double scale, double mscale)
{
    return scale <= 1 ? 1.0 : 0.1 * mscale * log(scale) + 1.0;
}

static double corr_dim(double num_rot, int dim, double base, double l0)
{
    return (dim * log(l0 / (num_rot * 2 * PY_PI))) / (2 * log(base));
}

static int inv_freq_table(const rc_spec *spec, float *inv, float *attention)
{
    const int dim = spec->rotary_dim, n = dim / 2;
    const rc_scaling *sc = spec->scaling;
    const rc_scaling_type type = sc ? sc->type : RC_SCALING_NONE;
    const float base = (float)spec->base;
    double attention_factor = 1.0;
    for (int i = 0; i < n; i++)
        inv[i] = 1.0f / powf(base, (float)(2 * i) / (float)dim);
    switch (type) {
    case RC_SCALING_NONE:
        break;
    case RC_SCALING_LINEAR:
        for (int i = 0; i < n; i++)
            inv[i] /= (float)sc->factor;
        break;
    case RC_SCALING_LLAMA3: {
        const double old = (double)sc->original_context;
        const double low_wl = old / sc->low_freq_factor, high_wl = old / sc->high_freq_factor;
        for (int i = 0; i < n; i++) {
            const float wavelen = (float)(2 * PY_PI) / inv[i];
            float llama = wavelen > (float)low_wl ? inv[i] / (float)sc->factor : inv[i];
            const float sm = ((float)old / wavelen - (float)sc->low_freq_factor) /
                             (float)(sc->high_freq_factor - sc->low_freq_factor);
            const float t1 = (1.0f - sm) * llama;
            const float t2 = t1 / (float)sc->factor;
            const float t3 = sm * llama;
            const float smoothed = t2 + t3;
            const int medium = !(wavelen < (float)high_wl) && !(wavelen > (float)low_wl);
            inv[i] = medium ? smoothed : llama;
        }
        break;
    }
    case RC_SCALING_YARN: {
        const double s = sc->factor, l0 = (double)sc->original_context;
        if (sc->attention_factor > 0)
            attention_factor = sc->attention_factor;
        else if (sc->mscale > 0 && sc->mscale_all_dim > 0)
            attention_factor = get_mscale(s, sc->mscale) / get_mscale(s, sc->mscale_all_dim);
        else
            attention_factor = get_mscale(s, 1.0);
        double low = corr_dim(sc->beta_fast > 0 ? sc->beta_fast : 32, dim, spec->base, l0);
        double high = corr_dim(sc->beta_slow > 0 ? sc->beta_slow : 1, dim, spec->base, l0);
        if (sc->truncate) {
            low = floor(low);
            high = ceil(high);
        }
        low = low > 0 ? low : 0;
        high = high < dim - 1 ? high : dim - 1;
        if (low == high)
            high += 0.001;
        for (int i = 0; i < n; i++) {
            const float pos_freqs = powf(base, (float)(2 * i) / (float)dim);
            const float extrap = 1.0f / pos_freqs;
            const float interp = 1.0f / ((float)s * pos_freqs);
            float ramp = ((float)i - (float)low) / (float)(high - low);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            const float ef = 1.0f - ramp;
            const float t1 = interp * (1.0f - ef);
            const float t2 = extrap * ef;
            inv[i] = t1 + t2;
        }
        break;
    }
    default:
        return -1;
    }
    *attention = (float)attention_factor;
    return 0;
}

int rc_hf_port_head(const rc_spec *spec, int64_t pos, int forward, const double *in, double *out)
{
    float inv[RC_MAX_HEAD_DIM / 2], attention;
    if (inv_freq_table(spec, inv, &attention) != 0)
        return -1;
    const rc_dtype t = spec->dtype;
    const int n = spec->rotary_dim / 2;
    const float p = (float)pos; /* position_ids.float() */
    for (int i = 0; i < n; i++) {
        const float freq = inv[i] * p;
        const float c32 = cosf(freq) * attention;
        const float s32 = (forward ? sinf(freq) : -sinf(freq)) * attention;
        const int ca = spec->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
        const int cb = spec->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + n;
        const double a = in[ca], b = in[cb];
        if (t == RC_DTYPE_F64) { /* cos/sin cast up exactly; f64 arithmetic */
            const double c = c32, s = s32;
            const double ac = a * c, nbs = -b * s, bc = b * c, as = a * s;
            out[ca] = ac + nbs;
            out[cb] = bc + as;
        } else { /* f32 natively; f16/bf16 computed in f32, each result rounded */
            const float c = (float)to_dtype_from_f32(t, c32);
            const float s = (float)to_dtype_from_f32(t, s32);
            const float ac = (float)to_dtype_from_f32(t, (float)a * c);
            const float nbs = (float)to_dtype_from_f32(t, -(float)b * s);
            const float bc = (float)to_dtype_from_f32(t, (float)b * c);
            const float as = (float)to_dtype_from_f32(t, (float)a * s);
            out[ca] = to_dtype_from_f32(t, ac + nbs);
            out[cb] = to_dtype_from_f32(t, bc + as);
        }
    }
    for (int c = spec->rotary_dim; c < spec->head_dim; c++)
        out[c] = in[c];
    return 0;
}
