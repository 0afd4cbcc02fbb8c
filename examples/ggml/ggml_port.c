/*
 * examples/ggml/ggml_port.c - real ggml (ggml_rope_ext on ggml's CPU
 * backend) as a ropecheck plug-in, to judge a framework side by side with
 * the ports: `ropecheck verify --plugin libggml_port.so --profile ggml`
 * says whether what ggml computes is what the ggml profile predicts, and
 * without --profile how far it is from the exact rotation; `ropecheck
 * bench --plugin libggml_port.so --baseline ggml` times a port against it.
 *
 * Built against a ggml the user already has (examples/ggml/build.sh; the
 * README there says where to get one): only ggml.h and ggml-cpu.h, and
 * the libraries ggml, ggml-base and ggml-cpu.
 *
 * What it offers is what ggml's CPU RoPE does: f32 and f16, the NORMAL
 * (interleaved pairs) and NEOX (half) modes, partial rotary (n_dims <
 * head_dim, the rest passed through), the inverse through
 * ggml_rope_ext_back, any strides and in place (through a packed copy).
 * Not offered: scaling families (ggml's YaRN and llama.cpp's frequency
 * factors are not the rc_spec families), f64 and bf16 (ggml's rope has no
 * such kernels). ggml's positions are int32: a call with a position above
 * 2^31 - 1 is refused with that reason (the default matrix stays below).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-cpu.h"
#include "ggml.h"
#include "ropecheck/plugin.h"

typedef struct ggml_port {
    int head_dim, rotary_dim, mode;
    enum ggml_type type;
    size_t elem;
    float base;
    char why[160];
} ggml_port;

static rc_status port_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    if ((spec->dtype != RC_DTYPE_F32 && spec->dtype != RC_DTYPE_F16) || spec->scaling)
        return RC_ERR_UNSUPPORTED;
    ggml_port *p = calloc(1, sizeof *p);
    if (!p)
        return RC_ERR_NOMEM;
    p->head_dim = spec->head_dim;
    p->rotary_dim = spec->rotary_dim;
    p->mode = spec->layout == RC_LAYOUT_HALF ? GGML_ROPE_TYPE_NEOX : GGML_ROPE_TYPE_NORMAL;
    p->type = spec->dtype == RC_DTYPE_F32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    p->elem = spec->dtype == RC_DTYPE_F32 ? 4 : 2;
    /* ggml takes the base as a float, as llama.cpp passes rope_freq_base. */
    p->base = (float)spec->base;
    *state = p;
    return RC_OK;
}

/* Copies n_tokens x n_heads heads of head_dim elements between a strided
 * view and a packed buffer (to_packed: view -> packed). */
static void copy_heads(const ggml_port *p, const rc_tensor *t, void *packed, int to_packed)
{
    const size_t row = (size_t)p->head_dim * p->elem;
    for (int64_t tok = 0; tok < t->n_tokens; tok++)
        for (int64_t h = 0; h < t->n_heads; h++) {
            char *view = (char *)t->data +
                         (size_t)(tok * t->token_stride + h * t->head_stride) * p->elem;
            char *pk = (char *)packed + (size_t)(tok * t->n_heads + h) * row;
            memcpy(to_packed ? pk : view, to_packed ? view : pk, row);
        }
}

static rc_status port_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction dir)
{
    ggml_port *p = state;
    for (int64_t t = 0; t < in->n_tokens; t++)
        if (positions[t] > INT32_MAX) {
            snprintf(p->why, sizeof p->why,
                     "position %lld: ggml's positions are int32 (at most 2147483647)",
                     (long long)positions[t]);
            return RC_ERR_UNSUPPORTED;
        }
    const size_t n = (size_t)(in->n_tokens * in->n_heads * p->head_dim);
    /* Room for three tensors, the graph and ggml's bookkeeping. */
    struct ggml_init_params ip = {
        .mem_size = 2 * n * p->elem + (size_t)in->n_tokens * 4 + ggml_graph_overhead() +
                    8 * ggml_tensor_overhead() + (1u << 16),
        .mem_buffer = NULL,
        .no_alloc = false,
    };
    struct ggml_context *ctx = ggml_init(ip);
    if (!ctx)
        return RC_ERR_NOMEM;
    struct ggml_tensor *x =
        ggml_new_tensor_3d(ctx, p->type, p->head_dim, in->n_heads, in->n_tokens);
    struct ggml_tensor *pos = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, in->n_tokens);
    copy_heads(p, in, x->data, 1);
    int32_t *pd = pos->data;
    for (int64_t t = 0; t < in->n_tokens; t++)
        pd[t] = (int32_t)positions[t];
    /* Defaults of llama.cpp without scaling: freq_scale 1, no YaRN
     * (ext_factor 0), attention factor 1. */
    struct ggml_tensor *y =
        dir == RC_INVERSE
            ? ggml_rope_ext_back(ctx, x, pos, NULL, p->rotary_dim, p->mode, 0, p->base, 1.0f,
                                 0.0f, 1.0f, 0.0f, 0.0f)
            : ggml_rope_ext(ctx, x, pos, NULL, p->rotary_dim, p->mode, 0, p->base, 1.0f, 0.0f,
                            1.0f, 0.0f, 0.0f);
    struct ggml_cgraph *gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, y);
    const enum ggml_status st = ggml_graph_compute_with_ctx(ctx, gf, 1);
    if (st == GGML_STATUS_SUCCESS)
        copy_heads(p, out, y->data, 0);
    ggml_free(ctx);
    return st == GGML_STATUS_SUCCESS ? RC_OK
           : st == GGML_STATUS_ALLOC_FAILED ? RC_ERR_NOMEM
                                             : RC_ERR_INTERNAL;
}

static void port_release(void *state)
{
    free(state);
}

static void port_explain(const void *state, char *why, size_t why_len)
{
    const ggml_port *p = state;
    snprintf(why, why_len, "%s", p && p->why[0] ? p->why : "ggml's graph did not compute");
}

static const rc_impl ggml_impl = {
    .abi_version = RC_ABI_VERSION,
    .name = "ggml",
    .description = "ggml's CPU RoPE (ggml_rope_ext / ggml_rope_ext_back), one thread",
    .caps = RC_CAP_F32 | RC_CAP_F16 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |
            RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE | RC_CAP_STRIDED,
    .prepare = port_prepare,
    .apply = port_apply,
    .release = port_release,
    .explain = port_explain,
};

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

const rc_impl *ropecheck_plugin_v1(void)
{
    return &ggml_impl;
}
