/*
 * tests/mutants/port_ggml.c - not a mutant: ggml's CPU RoPE (the test-only
 * transcription tests/ports/ggml_port.c, with the C library's powf, cosf,
 * sinf) as a plug-in, so the whole `verify --profile ggml` path, special
 * values included, is exercised on what ggml really computes. f32 and f16,
 * both layouts, both directions, partial rotary, strides, no scaling.
 */
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "tests/mutants/mutant_common.h"
#include "tests/ports/ports.h"

/* mutant_common.c's baseline is linked in but not used. */
const mutant_hooks mutant_defect = {0};

typedef struct ggml_state {
    rc_spec spec;
} ggml_state;

static rc_status ggml_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    if ((spec->dtype != RC_DTYPE_F32 && spec->dtype != RC_DTYPE_F16) || spec->scaling ||
        spec->rotary_dim < 2 || spec->rotary_dim % 2 || spec->rotary_dim > spec->head_dim ||
        spec->head_dim > RC_MAX_HEAD_DIM || (unsigned)spec->layout >= RC_LAYOUT_COUNT)
        return RC_ERR_UNSUPPORTED;
    ggml_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return RC_ERR_NOMEM;
    s->spec = *spec;
    s->spec.theta_hi = s->spec.theta_lo = NULL; /* ggml computes its own */
    *state = s;
    return RC_OK;
}

static rc_status ggml_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    const ggml_state *s = state;
    const rc_spec *sp = &s->spec;
    const int d = sp->head_dim;
    double x[RC_MAX_HEAD_DIM], y[RC_MAX_HEAD_DIM];
    if ((unsigned)direction >= RC_DIRECTION_COUNT)
        return RC_ERR_INVALID;
    for (int64_t tok = 0; tok < in->n_tokens; tok++) {
        if (positions[tok] > INT32_MAX)
            return RC_ERR_UNSUPPORTED; /* ggml positions are int32 */
        for (int64_t h = 0; h < in->n_heads; h++) {
            const int64_t ib = tok * in->token_stride + h * in->head_stride;
            const int64_t ob = tok * out->token_stride + h * out->head_stride;
            for (int c = 0; c < d; c++)
                x[c] = rc_elem_load(sp->dtype, in->data, ib + c);
            rc_ggml_port_head(sp->dtype, d, sp->rotary_dim, sp->layout == RC_LAYOUT_HALF,
                              (float)sp->base, 1.0f, (int32_t)positions[tok],
                              direction == RC_FORWARD, 0, x, y);
            for (int c = 0; c < sp->rotary_dim; c++)
                rc_elem_store(sp->dtype, out->data, ob + c, y[c]);
            /* Pass-through channels as raw bytes (NaN payloads survive). */
            const size_t es = rc_dtype_size(sp->dtype);
            if (in->data != out->data && d > sp->rotary_dim)
                memcpy((unsigned char *)out->data + (size_t)(ob + sp->rotary_dim) * es,
                       (const unsigned char *)in->data + (size_t)(ib + sp->rotary_dim) * es,
                       (size_t)(d - sp->rotary_dim) * es);
        }
    }
    return RC_OK;
}

static void ggml_release(void *state)
{
    free(state);
}

static const rc_impl impl = {RC_ABI_VERSION, "port_ggml",
                             "test port: ggml's CPU RoPE transcribed (f32/f16, libm cosf/sinf)",
                             RC_CAP_F32 | RC_CAP_F16 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |
                                 RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE | RC_CAP_STRIDED,
                             NULL, ggml_prepare, ggml_apply, ggml_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
