/*
 * impls/cuda/cuda_impl.c - the rc_impl structs "cuda" (table mode) and
 * "cuda-fused" (fused mode): argument checks on the host, then the CUDA
 * backend (cuda_kernels.cu via cuda_backend.h).
 *
 * Built with ROPECHECK_HAVE_CUDA when CMake found nvcc; without it both
 * impls stay registered and say so: available() reports "built without
 * CUDA (nvcc not found at configure time)" and prepare() returns
 * RC_ERR_UNSUPPORTED, so `ropecheck list` is honest either way.
 *
 * Accuracy and the arithmetic: impls/cuda/cuda_rotate_math.h (f32, f16,
 * bf16; pair error <= 0.5 + 2^-20 ulp at every position; f64 not offered).
 * Timing through this ABI includes the host<->device copies of apply().
 */
#include "impls/cuda/cuda.h"

#include <math.h>
#include <stdio.h>

#include "core/spec_check.h"

#ifdef ROPECHECK_HAVE_CUDA
#include "impls/cuda/cuda_backend.h"
#endif

#define CUDA_CAPS                                                                           \
    (RC_CAP_F32 | RC_CAP_F16 | RC_CAP_BF16 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |           \
     RC_CAP_PARTIAL_ROTARY | RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING |             \
     RC_CAP_MULTI_AXIS)

#ifdef ROPECHECK_HAVE_CUDA

#include <stdlib.h>

/* What apply() needs on the host side, around the device context. */
typedef struct cuda_state {
    int32_t head_dim;
    int32_t n_axes; /* positions per token (ABI 4) */
    rc_dtype dtype;
    rc_cuda_ctx *ctx;
} cuda_state;

static int cuda_available(char *why, size_t why_len)
{
    return rc_cuda_backend_available(why, why_len);
}

static rc_status prepare_mode(const rc_spec *spec, void **state, int fused)
{
    char why[160];
    if (!state)
        return RC_ERR_INVALID;
    *state = NULL;
    rc_status valid = rc_prepare_spec_check(spec);
    if (valid != RC_OK)
        return valid;
    if (spec->dtype == RC_DTYPE_F64)
        return RC_ERR_UNSUPPORTED; /* see cuda_rotate_math.h */
    if (!rc_cuda_backend_available(why, sizeof why))
        return RC_ERR_UNSUPPORTED;
    cuda_state *st = malloc(sizeof *st);
    if (!st)
        return RC_ERR_NOMEM;
    st->head_dim = spec->head_dim;
    st->n_axes = spec->n_axes >= 2 ? spec->n_axes : 1;
    st->dtype = spec->dtype;
    rc_status rs = rc_cuda_backend_create(spec, fused, &st->ctx);
    if (rs != RC_OK) {
        free(st);
        return rs;
    }
    *state = st;
    return RC_OK;
}

static rc_status cuda_prepare(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, 0);
}

static rc_status cuda_fused_prepare(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, 1);
}

static rc_status cuda_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    cuda_state *st = state;
    if (!st)
        return RC_ERR_INVALID;
    const size_t esize = rc_dtype_size(st->dtype);
    int empty = 0;
    rc_status rs = rc_apply_args_check_axes(st->head_dim, esize, in, out, positions,
                                            st->n_axes, direction, &empty);
    if (rs != RC_OK || empty)
        return rs;
    /* The byte extents of both views, for the copies (already valid). */
    char why[160];
    size_t in_bytes = 0, out_bytes = 0;
    if (rc_shape_check(in->n_tokens, in->n_heads, st->head_dim, in->token_stride,
                       in->head_stride, esize, &in_bytes, why, sizeof why) != 0 ||
        rc_shape_check(out->n_tokens, out->n_heads, st->head_dim, out->token_stride,
                       out->head_stride, esize, &out_bytes, why, sizeof why) != 0)
        return RC_ERR_INVALID;
    return rc_cuda_backend_apply(st->ctx, in, in_bytes, out, out_bytes, positions, direction);
}

static void cuda_release(void *state)
{
    cuda_state *st = state;
    if (!st)
        return;
    rc_cuda_backend_destroy(st->ctx);
    free(st);
}

#else /* !ROPECHECK_HAVE_CUDA */

static int cuda_available(char *why, size_t why_len)
{
    snprintf(why, why_len, "built without CUDA (nvcc not found at configure time)");
    return 0;
}

static rc_status cuda_prepare(const rc_spec *spec, void **state)
{
    (void)spec;
    if (state)
        *state = NULL;
    return RC_ERR_UNSUPPORTED;
}

static rc_status cuda_fused_prepare(const rc_spec *spec, void **state)
{
    return cuda_prepare(spec, state);
}

/* Never reached: prepare() refuses every spec. */
static rc_status cuda_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    (void)state;
    (void)in;
    (void)out;
    (void)positions;
    (void)direction;
    return RC_ERR_UNSUPPORTED;
}

#define cuda_release NULL

#endif

const rc_impl rc_impl_cuda = {
    .abi_version = RC_ABI_VERSION,
    .name = "cuda",
    .description = "CUDA, table mode: cos/sin table kernel (exact angle), then rotation kernel; "
                   "double rotation, rounded once; host buffers copied to/from the device",
    .caps = CUDA_CAPS,
    .available = cuda_available,
    .prepare = cuda_prepare,
    .apply = cuda_apply,
    .release = cuda_release,
};

const rc_impl rc_impl_cuda_fused = {
    .abi_version = RC_ABI_VERSION,
    .name = "cuda-fused",
    .description = "CUDA, fused: one kernel, per-token cos/sin (exact angle) in shared memory; "
                   "double rotation, rounded once; host buffers copied to/from the device",
    .caps = CUDA_CAPS,
    .available = cuda_available,
    .prepare = cuda_fused_prepare,
    .apply = cuda_apply,
    .release = cuda_release,
};
