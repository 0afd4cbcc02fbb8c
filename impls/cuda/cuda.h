/*
 * impls/cuda/cuda.h - the CUDA implementations (cuda_impl.c):
 *   "cuda"       table mode: a kernel fills a [n_tokens][r/2] cos/sin
 *                table in device memory, a second rotates every head;
 *   "cuda-fused" one kernel: each block computes its token's cos/sin into
 *                shared memory, then rotates all of that token's heads.
 * Always defined; without nvcc at configure time, or without a device at
 * run time, available() says why and prepare() returns RC_ERR_UNSUPPORTED.
 */
#ifndef ROPECHECK_IMPL_CUDA_H
#define ROPECHECK_IMPL_CUDA_H

#include "ropecheck/plugin.h"

extern const rc_impl rc_impl_cuda;
extern const rc_impl rc_impl_cuda_fused;

#endif
