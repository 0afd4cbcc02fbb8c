/*
 * impls/cuda/cuda_bench.cu - CUDA-event timing of the kernels on device
 * pointers (rc_cuda_backend_bench, cuda_backend.h), without the host
 * copies the rc_impl ABI forces on apply(). Used by ropecheck-cuda-bench
 * (cuda_bench_main.c).
 *
 * WHAT IS TIMED. One call = rc_cuda_backend_run_device on q and k (one
 * rotation launch; table mode adds the table launch). `batch` calls are
 * enqueued between two events, so that launch latency is amortized as it
 * is in a model's stream of kernels; the figure is the median over `reps`
 * such sets, divided by `batch`. The probe, timed the same way in the same
 * run, is cudaMemcpyAsync device-to-device of the q + k bytes: it reads and
 * writes as many bytes as the out-of-place rotation does, so
 * probe_us / call_us is the fraction of the machine's copy speed reached.
 * Inputs are a finite byte pattern (0x3c in every byte: 0.0115 in f32,
 * 1.06 in f16, 0.0115 in bf16): timing does not depend on values here.
 */
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>

#include "impls/cuda/cuda_backend.h"

/* The status as a word; rc_status_name lives in the ropecheck library,
 * which this shared library does not link. */
static const char *status_word(rc_status s)
{
    switch (s) {
    case RC_OK:
        return "ok";
    case RC_ERR_UNSUPPORTED:
        return "unsupported";
    case RC_ERR_INVALID:
        return "invalid";
    case RC_ERR_NOMEM:
        return "out of device memory";
    case RC_ERR_DEVICE:
        return "device error";
    default:
        return "internal error";
    }
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Runs `op` batch times between two events, reps times; median in us. */
template <typename Op>
static cudaError_t time_median(int reps, int batch, Op op, double *us, rc_status *st)
{
    cudaEvent_t a = NULL, b = NULL;
    float *ms = (float *)malloc((size_t)reps * sizeof *ms);
    cudaError_t e = ms ? cudaSuccess : cudaErrorMemoryAllocation;
    if (e == cudaSuccess)
        e = cudaEventCreate(&a);
    if (e == cudaSuccess)
        e = cudaEventCreate(&b);
    for (int w = 0; e == cudaSuccess && *st == RC_OK && w < batch; w++) /* warm-up */
        *st = op();
    for (int r = 0; e == cudaSuccess && *st == RC_OK && r < reps; r++) {
        e = cudaEventRecord(a);
        for (int i = 0; e == cudaSuccess && *st == RC_OK && i < batch; i++)
            *st = op();
        if (e == cudaSuccess)
            e = cudaEventRecord(b);
        if (e == cudaSuccess)
            e = cudaEventSynchronize(b);
        if (e == cudaSuccess)
            e = cudaEventElapsedTime(&ms[r], a, b);
    }
    if (e == cudaSuccess && *st == RC_OK) {
        qsort(ms, (size_t)reps, sizeof *ms, cmp_float);
        *us = 1000.0 * (double)ms[reps / 2] / batch;
    }
    if (a)
        cudaEventDestroy(a);
    if (b)
        cudaEventDestroy(b);
    free(ms);
    return e;
}

extern "C" rc_status rc_cuda_backend_bench(const rc_cuda_bench_case *c, rc_cuda_bench_result *out,
                                           char *why, size_t why_len)
{
    const rc_spec *sp = c->spec;
    const size_t es = sp->dtype == RC_DTYPE_F32 ? 4 : 2;
    const size_t qn = (size_t)(c->n_tokens * c->q_heads * sp->head_dim);
    const size_t kn = (size_t)(c->n_tokens * c->k_heads * sp->head_dim);
    const size_t bytes = (qn + kn) * es;
    char *in = NULL, *outb = NULL;
    int64_t *pos = NULL;
    rc_cuda_ctx *ctx = NULL;
    rc_status st = RC_OK;
    cudaError_t e = cudaSuccess;
    if (c->reps < 1 || c->batch < 1) {
        snprintf(why, why_len, "reps and batch must be >= 1");
        return RC_ERR_INVALID;
    }
    if ((st = rc_cuda_backend_create(sp, c->fused, &ctx)) != RC_OK) {
        snprintf(why, why_len, "creating the context: %s", status_word(st));
        return st;
    }
    e = cudaMalloc((void **)&in, bytes);
    if (e == cudaSuccess)
        e = cudaMalloc((void **)&outb, bytes);
    if (e == cudaSuccess)
        e = cudaMalloc((void **)&pos, (size_t)c->n_tokens * sizeof *pos);
    if (e == cudaSuccess)
        e = cudaMemcpy(pos, c->positions, (size_t)c->n_tokens * sizeof *pos,
                       cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        e = cudaMemset(in, 0x3c, bytes);
    if (e == cudaSuccess)
        e = cudaMemset(outb, 0, bytes);
    if (e == cudaSuccess) {
        rc_cuda_dev_tensor q, k;
        q.in.data = in;
        q.in.n_tokens = c->n_tokens;
        q.in.n_heads = c->q_heads;
        q.in.token_stride = c->q_heads * sp->head_dim;
        q.in.head_stride = sp->head_dim;
        q.out = q.in;
        q.out.data = outb;
        k.in = q.in;
        k.in.data = in + qn * es;
        k.in.n_heads = c->k_heads;
        k.in.token_stride = c->k_heads * sp->head_dim;
        k.out = k.in;
        k.out.data = outb + qn * es;
        e = time_median(
            c->reps, c->batch,
            [&]() { return rc_cuda_backend_run_device(ctx, &q, &k, pos, RC_FORWARD); },
            &out->call_us, &st);
        if (e == cudaSuccess && st == RC_OK)
            e = time_median(
                c->reps, c->batch,
                [&]() {
                    return cudaMemcpyAsync(outb, in, bytes, cudaMemcpyDeviceToDevice) ==
                                   cudaSuccess
                               ? RC_OK
                               : RC_ERR_DEVICE;
                },
                &out->probe_us, &st);
    }
    out->bytes = 2.0 * (double)bytes;
    if (e != cudaSuccess)
        snprintf(why, why_len, "CUDA: %s", cudaGetErrorString(e));
    else if (st != RC_OK)
        snprintf(why, why_len, "%s", status_word(st));
    cudaFree(in);
    cudaFree(outb);
    cudaFree(pos);
    rc_cuda_backend_destroy(ctx);
    return e != cudaSuccess ? RC_ERR_DEVICE : st;
}
