/*
 * examples/plugin/example_port.c - a complete, correct vendor plug-in: the
 * template README.md's "How a vendor plugs in a port" builds.
 *
 *   cc -O2 -shared -fPIC -I ropecheck/include -I ropecheck \
 *      -o libexample_port.so examples/plugin/example_port.c -lm
 *   ropecheck verify --plugin ./libexample_port.so
 *
 * It offers f32 in both layouts, forward and inverse, partial rotary,
 * in place and strided. The angle comes from impls/common/exact_angle.h
 * (header-only: copy it and core/dd.h into your tree if you like), the
 * rotation is done in double and rounded once to f32, which keeps the max
 * pair error near 0.5 ULP at every position below 2^31.
 */
#include <stdlib.h>
#include <string.h>

#include "impls/common/exact_angle.h"
#include "ropecheck/plugin.h"

typedef struct port_state {
    int head_dim, rotary_dim;
    rc_layout layout;
    double *theta_hi, *theta_lo; /* r/2 each, copied: the spec's table is borrowed */
    double *cos_m, *sin_m;       /* per-token scratch, r/2 each */
} port_state;

static void port_release(void *p)
{
    port_state *s = p;
    if (!s)
        return;
    free(s->theta_hi);
    free(s);
}

static rc_status port_prepare(const rc_spec *spec, void **state)
{
    if (spec->dtype != RC_DTYPE_F32)
        return RC_ERR_UNSUPPORTED;
    size_t half = (size_t)spec->rotary_dim / 2;
    port_state *s = calloc(1, sizeof *s);
    double *tables = malloc(4 * half * sizeof *tables); /* one block for all four */
    if (!s || !tables) {
        free(s);
        free(tables);
        return RC_ERR_NOMEM;
    }
    s->head_dim = spec->head_dim;
    s->rotary_dim = spec->rotary_dim;
    s->layout = spec->layout;
    s->theta_hi = tables;
    s->theta_lo = tables + half;
    s->cos_m = tables + 2 * half;
    s->sin_m = tables + 3 * half;
    memcpy(s->theta_hi, spec->theta_hi, half * sizeof *tables);
    memcpy(s->theta_lo, spec->theta_lo, half * sizeof *tables);
    *state = s;
    return RC_OK;
}

static rc_status port_apply(void *p, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction dir)
{
    port_state *s = p;
    const int half = s->rotary_dim / 2;
    /* Pair i is channels (lo, lo + step): interleaved (2i, 2i+1), half (i, i+r/2). */
    const int stride_i = s->layout == RC_LAYOUT_INTERLEAVED ? 2 : 1;
    const int step = s->layout == RC_LAYOUT_INTERLEAVED ? 1 : half;
    const float *src = in->data;
    float *dst = out->data;
    for (int64_t t = 0; t < in->n_tokens; t++) {
        for (int i = 0; i < half; i++) {
            rc_exact_sincos(positions[t], s->theta_hi[i], s->theta_lo[i], &s->sin_m[i],
                            &s->cos_m[i]);
            if (dir == RC_INVERSE)
                s->sin_m[i] = -s->sin_m[i];
        }
        for (int64_t h = 0; h < in->n_heads; h++) {
            const float *x = src + t * in->token_stride + h * in->head_stride;
            float *y = dst + t * out->token_stride + h * out->head_stride;
            for (int i = 0; i < half; i++) {
                int j = i * stride_i, k = j + step;
                double a = x[j], b = x[k]; /* read both before writing (in place) */
                y[j] = (float)(a * s->cos_m[i] - b * s->sin_m[i]);
                y[k] = (float)(a * s->sin_m[i] + b * s->cos_m[i]);
            }
            if (y != x) /* passthrough channels, bit-exact */
                memcpy(y + s->rotary_dim, x + s->rotary_dim,
                       sizeof(float) * (size_t)(s->head_dim - s->rotary_dim));
        }
    }
    return RC_OK;
}

static const rc_impl example_port = {
    .abi_version = RC_ABI_VERSION,
    .name = "example_port",
    .description = "examples/plugin: f32, exact angle, double rotation",
    .caps = RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED,
    .available = NULL,
    .prepare = port_prepare,
    .apply = port_apply,
    .release = port_release,
};

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

const rc_impl *ropecheck_plugin_v1(void)
{
    return &example_port;
}
