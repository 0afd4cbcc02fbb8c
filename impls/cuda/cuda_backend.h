/*
 * impls/cuda/cuda_backend.h - the C interface of cuda_kernels.cu, used
 * only by cuda_impl.c. Everything that touches the CUDA runtime lives
 * behind it, so the C side needs no CUDA headers (and builds without
 * nvcc). Arguments are validated by cuda_impl.c before these are called.
 */
#ifndef ROPECHECK_IMPLS_CUDA_BACKEND_H
#define ROPECHECK_IMPLS_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/rope.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if a CUDA device is present and the kernels have an image for it;
 * otherwise 0 and a reason ("no CUDA device", ...). */
int rc_cuda_backend_available(char *why, size_t why_len);

typedef struct rc_cuda_ctx rc_cuda_ctx;

/* fused = 0: table mode (a sin/cos table kernel, then the rotation
 * kernel); fused = 1: one kernel, each block computes its token's sin/cos
 * into shared memory and rotates every head. The spec's theta table is
 * copied to the device, and with n_axes >= 2 (ABI 4) its pair_axis map:
 * positions then hold n_axes per token, each pair taking its axis's
 * (rc_cuda_pair_position). */
rc_status rc_cuda_backend_create(const rc_spec *spec, int fused, rc_cuda_ctx **out);

/* Host pointers in, host pointers out (the rc_impl ABI): copies the view's
 * extent to the device, runs the kernel(s), copies the output extent back.
 * `in_bytes`, `out_bytes`: the extents from rc_shape_check. */
rc_status rc_cuda_backend_apply(rc_cuda_ctx *ctx, const rc_tensor *in, size_t in_bytes,
                                const rc_tensor *out, size_t out_bytes,
                                const int64_t *positions, rc_direction direction);

/* A tensor on the device: in and out views (out.data == in.data: in
 * place, equal strides), the same n_tokens and n_heads. */
typedef struct rc_cuda_dev_tensor {
    rc_tensor in;
    rc_tensor out;
} rc_cuda_dev_tensor;

/* Device pointers: rotates q and, when k is not NULL, k (the same tokens
 * and d_positions, a device array of n_tokens * the spec's n_axes) in the same launch. Asynchronous on
 * the default stream; errors of the kernels show at the next synchronizing
 * call. Arguments must already be valid (cuda_impl.c checks them). */
rc_status rc_cuda_backend_run_device(rc_cuda_ctx *ctx, const rc_cuda_dev_tensor *q,
                                     const rc_cuda_dev_tensor *k, const int64_t *d_positions,
                                     rc_direction direction);

void rc_cuda_backend_destroy(rc_cuda_ctx *ctx);

/* One benchmark case (cuda_bench.cu): q and k of n_tokens tokens, packed
 * [n_tokens][heads][head_dim], rotated out of place on device pointers by
 * rc_cuda_backend_run_device, timed with CUDA events; next to it, in the
 * same run, a device-to-device cudaMemcpy of the same bytes (it reads and
 * writes as many as the rotation does): the probe. */
typedef struct rc_cuda_bench_case {
    const rc_spec *spec; /* dtype f32, f16 or bf16 */
    int fused;
    int64_t n_tokens, q_heads, k_heads;
    const int64_t *positions; /* host, n_tokens */
    int reps;                 /* timed sets, each of `batch` calls */
    int batch;
} rc_cuda_bench_case;

typedef struct rc_cuda_bench_result {
    double call_us;  /* median over the sets of (set time / batch) */
    double probe_us; /* the same for the copy probe */
    double bytes;    /* read + written per call: 2 * (q + k) bytes */
} rc_cuda_bench_result;

/* RC_OK, or an error with a reason in why. */
rc_status rc_cuda_backend_bench(const rc_cuda_bench_case *c, rc_cuda_bench_result *out,
                                char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif /* ROPECHECK_IMPLS_CUDA_BACKEND_H */
