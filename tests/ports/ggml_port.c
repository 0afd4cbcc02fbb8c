/*
 * tests/ports/ggml_port.c - ggml-cpu's RoPE (ops.cpp: rope_yarn,
 * ggml_rope_cache_init, the rotate loop of ggml_compute_forward_rope_f32
 * and _f16) transcribed for one head, with ext_factor = 0 and
 * attn_factor = 1 (plain and linear scaling). Test-only.
 */
#include <math.h>

#include "core/dtype_convert.h"
#include "tests/ports/ports.h"

static void rope_yarn(float theta_extrap, float freq_scale, float mscale, float *cos_theta,
                      float *sin_theta)
{
    const float theta_interp = freq_scale * theta_extrap;
    const float theta = theta_interp; /* ext_factor == 0: no ramp */
    *cos_theta = cosf(theta) * mscale;
    *sin_theta = sinf(theta) * mscale;
}

static void rope_cache_init(float theta_base, float freq_scale, int ne0, float mscale,
                            float *cache, float sin_sign, float theta_scale)
{
    float theta = theta_base;
    for (int i0 = 0; i0 < ne0; i0 += 2) {
        const float ff = 1.0f; /* no freq_factors tensor */
        rope_yarn(theta / ff, freq_scale, mscale, &cache[i0 + 0], &cache[i0 + 1]);
        cache[i0 + 1] *= sin_sign;
        theta *= theta_scale;
    }
}

static float load(rc_dtype t, double x)
{
    return (float)x; /* f16 -> f32 and f32 -> f32 are exact */
}

static double store(rc_dtype t, float x)
{
    return t == RC_DTYPE_F16 ? rc_f16_to_double(rc_port_f32_to_f16(x)) : (double)x;
}

void rc_ggml_port_head(rc_dtype t, int head_dim, int n_dims, int neox, float freq_base,
                       float freq_scale, int32_t pos, int forward, int fused, const double *in,
                       double *out)
{
    float cache[RC_MAX_HEAD_DIM];
    const float theta_scale = powf(freq_base, -2.0f / n_dims);
    const float sin_sign = forward ? 1.0f : -1.0f;
    const int64_t p = pos;
    rope_cache_init((float)p, freq_scale, head_dim, 1.0f, cache, sin_sign, theta_scale);
    /* rotate_pairs: NORMAL pairs (i0, i0+1), NEOX (i0/2, i0/2 + n_dims/2) */
    const int n_offset = neox ? n_dims / 2 : 1;
    for (int i0 = 0; i0 < n_dims; i0 += 2) {
        const int ic = neox ? i0 / 2 : i0;
        const float cos_theta = cache[i0 + 0];
        const float sin_theta = cache[i0 + 1];
        const float x0 = load(t, in[ic]);
        const float x1 = load(t, in[ic + n_offset]);
        if (fused) {
            out[ic] = store(t, fmaf(x0, cos_theta, -(x1 * sin_theta)));
            out[ic + n_offset] = store(t, fmaf(x0, sin_theta, x1 * cos_theta));
        } else {
            out[ic] = store(t, x0 * cos_theta - x1 * sin_theta);
            out[ic + n_offset] = store(t, x0 * sin_theta + x1 * cos_theta);
        }
    }
    for (int i0 = n_dims; i0 < head_dim; i0++)
        out[i0] = in[i0];
}
