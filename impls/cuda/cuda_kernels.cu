/*
 * impls/cuda/cuda_kernels.cu - the CUDA kernels and the runtime calls
 * around them (the backend of cuda_impl.c, interface in cuda_backend.h).
 *
 * Every per-element operation is a call into cuda_rotate_math.h, which the
 * host test suite checks against the MPFR reference; this file only maps
 * threads to work items and moves memory.
 *
 * WORK DECOMPOSITION. A head of d channels has r/2 + (d - r) work items
 * (a rotated pair, or one passthrough channel; rc_cuda_head_items).
 *   table mode: table_kernel computes cos/sin for [n_tokens][r/2] (one
 *     thread per entry) into device memory; rotate_kernel then runs one
 *     thread per (token, head, item), consecutive threads on consecutive
 *     items of a head, so a warp reads consecutive pairs (interleaved:
 *     adjacent elements; half layout: a run of a's and a run of b's):
 *     coalesced. Two launches per call.
 *   fused mode: fused_kernel, one block per token (grid-stride), computes
 *     that token's r/2 cos/sin into shared memory, then the block's
 *     threads sweep (head, item) the same way. One launch per call.
 * rc_cuda_backend_run_device (device pointers) takes q and optionally k
 * with the same tokens: their heads form one axis (q's, then k's), so both
 * are rotated by the same launch and share one table / one sin/cos pass.
 * Loads are per element (scalar); wider vector loads are left for when a
 * GPU can measure whether they pay (see impls/cuda/README.md).
 *
 * MEMORY. The rc_impl ABI hands over host pointers, so apply() copies the
 * input extent to the device and the output extent back (out of place, the
 * output extent is first copied in too, so the stride gaps go back
 * unchanged). Timings through the ABI therefore include the transfers.
 * Device buffers are kept in the context and grown as needed.
 */
#include <cuda_runtime.h>

#include <stdio.h>
#include <stdlib.h>

#include "impls/cuda/cuda_backend.h"
#include "impls/cuda/cuda_rotate_math.h"

/* What CMakeLists.txt builds (CUDA_ARCHITECTURES "80-real;90"), for the
 * message when a GPU has no image; keep the two in step. */
#define RC_CUDA_ARCH_LIST "sm_80, sm_90 + compute_90 PTX"

/* Threads per block, and a grid cap (grid-stride loops cover the rest). */
#define RC_CUDA_BLOCK 256
#define RC_CUDA_MAX_BLOCKS (1 << 20)

struct rc_cuda_ctx {
    int fused;
    int32_t head_dim;
    int32_t rotary_dim;
    rc_layout layout;
    rc_dtype dtype;
    double *d_theta_hi; /* r/2 each */
    double *d_theta_lo;
    double alpha; /* output scale (hi word: CUDA offers no f64) */
    int32_t n_axes;     /* ABI 4: positions per token (1: one) */
    uint8_t *d_pair_axis; /* n_axes >= 2: r/2 entries on the device */
    /* Grown on demand, freed in destroy. */
    void *d_in;
    size_t d_in_cap;
    void *d_out;
    size_t d_out_cap;
    int64_t *d_pos;
    size_t d_pos_cap;
    double *d_table; /* cos then sin, n_tokens * r/2 each (table mode) */
    size_t d_table_cap;
};

/* A strided view on the device. */
struct dev_view {
    const char *src;
    char *dst;
    int64_t src_token_stride, src_head_stride;
    int64_t dst_token_stride, dst_head_stride;
};

/* One launch's work: the heads of v[0] (q), then those of v[1] (k, when
 * given), as one head axis of n_heads = n_heads0 + k's heads. */
struct dev_job {
    dev_view v[2];
    int64_t n_heads0;
    int64_t n_heads;
};

__global__ void table_kernel(const int64_t *pos, int32_t n_axes, const uint8_t *pair_axis,
                             int64_t n_tokens, const double *theta_hi,
                             const double *theta_lo, double alpha, int32_t half, int inverse,
                             double *cos_tab,
                             double *sin_tab)
{
    const int64_t n = n_tokens * half;
    for (int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; g < n;
         g += (int64_t)gridDim.x * blockDim.x) {
        int64_t t;
        int32_t i;
        rc_cuda_table_index(g, half, &t, &i);
        rc_cuda_token_sincos(rc_cuda_pair_position(pos, t, i, n_axes, pair_axis), theta_hi[i],
                             theta_lo[i], alpha, inverse, &cos_tab[g], &sin_tab[g]);
    }
}

/* One (token, head, item) of the job: the body both rotation kernels share. */
__device__ __forceinline__ void do_item(rc_dtype dtype, rc_layout layout, int32_t rotary_dim,
                                        size_t esize, const dev_job &jb, int64_t t, int64_t h,
                                        int32_t j, const double *cos_row, const double *sin_row)
{
    int64_t hh;
    const int second = rc_cuda_split_head(h, jb.n_heads0, &hh);
    /* Field by field with selects: indexing jb.v[second] with a run-time
     * index would copy the whole parameter struct to local memory (ptxas:
     * a 112-byte stack frame per thread). */
    dev_view v;
    v.src = second ? jb.v[1].src : jb.v[0].src;
    v.dst = second ? jb.v[1].dst : jb.v[0].dst;
    v.src_token_stride = second ? jb.v[1].src_token_stride : jb.v[0].src_token_stride;
    v.src_head_stride = second ? jb.v[1].src_head_stride : jb.v[0].src_head_stride;
    v.dst_token_stride = second ? jb.v[1].dst_token_stride : jb.v[0].dst_token_stride;
    v.dst_head_stride = second ? jb.v[1].dst_head_stride : jb.v[0].dst_head_stride;
    const char *s =
        v.src + (size_t)rc_cuda_head_offset(t, hh, v.src_token_stride, v.src_head_stride) * esize;
    char *d =
        v.dst + (size_t)rc_cuda_head_offset(t, hh, v.dst_token_stride, v.dst_head_stride) * esize;
    rc_cuda_head_item(dtype, layout, rotary_dim, j, s, d, cos_row, sin_row);
}

__global__ void rotate_kernel(rc_dtype dtype, rc_layout layout, int32_t head_dim,
                              int32_t rotary_dim, int64_t n_tokens, size_t esize, dev_job jb,
                              const double *cos_tab, const double *sin_tab)
{
    const int32_t half = rotary_dim / 2;
    const int32_t items = rc_cuda_head_items(head_dim, rotary_dim);
    const int64_t n = n_tokens * jb.n_heads * items;
    if (n < ((int64_t)1 << 31)) {
        /* 32-bit indices: g + stride < 2^31 + 2^28 cannot wrap. */
        const uint32_t stride = gridDim.x * blockDim.x;
        for (uint32_t g = blockIdx.x * blockDim.x + threadIdx.x; g < (uint32_t)n; g += stride) {
            uint32_t t, h, j;
            rc_cuda_item_index32(g, (uint32_t)items, (uint32_t)jb.n_heads, &t, &h, &j);
            do_item(dtype, layout, rotary_dim, esize, jb, t, h, (int32_t)j,
                    cos_tab + (size_t)t * half, sin_tab + (size_t)t * half);
        }
        return;
    }
    for (int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; g < n;
         g += (int64_t)gridDim.x * blockDim.x) {
        int64_t t, h;
        int32_t j;
        rc_cuda_item_index(g, items, jb.n_heads, &t, &h, &j);
        do_item(dtype, layout, rotary_dim, esize, jb, t, h, j, cos_tab + t * half,
                sin_tab + t * half);
    }
}

__global__ void fused_kernel(rc_dtype dtype, rc_layout layout, int32_t head_dim,
                             int32_t rotary_dim, int64_t n_tokens, size_t esize, dev_job jb,
                             const int64_t *pos, int32_t n_axes, const uint8_t *pair_axis,
                             const double *theta_hi, const double *theta_lo,
                             double alpha, int inverse)
{
    extern __shared__ double smem[]; /* cos[r/2], then sin[r/2] */
    const int32_t half = rotary_dim / 2;
    const int32_t items = rc_cuda_head_items(head_dim, rotary_dim);
    double *cs = smem;
    double *sn = smem + half;
    const int64_t n = jb.n_heads * items;
    for (int64_t t = blockIdx.x; t < n_tokens; t += gridDim.x) {
        for (int32_t i = threadIdx.x; i < half; i += blockDim.x)
            rc_cuda_token_sincos(rc_cuda_pair_position(pos, t, i, n_axes, pair_axis),
                                 theta_hi[i], theta_lo[i], alpha, inverse, &cs[i], &sn[i]);
        __syncthreads();
        if (n < ((int64_t)1 << 31)) {
            for (uint32_t g = threadIdx.x; g < (uint32_t)n; g += blockDim.x) {
                uint32_t t0, h, j; /* t0 = 0: g < n */
                rc_cuda_item_index32(g, (uint32_t)items, (uint32_t)jb.n_heads, &t0, &h, &j);
                do_item(dtype, layout, rotary_dim, esize, jb, t, h, (int32_t)j, cs, sn);
            }
        } else {
            for (int64_t g = threadIdx.x; g < n; g += blockDim.x) {
                int64_t t0, h;
                int32_t j;
                rc_cuda_item_index(g, items, jb.n_heads, &t0, &h, &j);
                do_item(dtype, layout, rotary_dim, esize, jb, t, h, j, cs, sn);
            }
        }
        __syncthreads(); /* the next token overwrites cs, sn */
    }
}

static unsigned grid_for(int64_t n_threads)
{
    int64_t b = (n_threads + RC_CUDA_BLOCK - 1) / RC_CUDA_BLOCK;
    if (b < 1)
        b = 1;
    return (unsigned)(b > RC_CUDA_MAX_BLOCKS ? RC_CUDA_MAX_BLOCKS : b);
}

extern "C" int rc_cuda_backend_available(char *why, size_t why_len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
        snprintf(why, why_len, "no CUDA device");
        return 0;
    }
    if (e != cudaSuccess) {
        /* No driver at all (cudaErrorInsufficientDriver with driver
         * version 0, the CI case) is plainly "no CUDA device"; a driver
         * that is there but fails keeps the runtime's word for why. */
        int drv = 0;
        if (cudaDriverGetVersion(&drv) == cudaSuccess && drv == 0)
            snprintf(why, why_len, "no CUDA device");
        else
            snprintf(why, why_len, "no CUDA device (%s, driver version %d)", cudaGetErrorName(e),
                     drv);
        (void)cudaGetLastError();
        return 0;
    }
    /* A device exists: is there an image of the kernels for it? */
    cudaFuncAttributes attr;
    e = cudaFuncGetAttributes(&attr, rotate_kernel);
    if (e != cudaSuccess) {
        int dev = 0, major = 0, minor = 0;
        (void)cudaGetDevice(&dev);
        (void)cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
        (void)cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
        snprintf(why, why_len, "no kernel image for this GPU (sm_%d%d; built for %s): %s", major,
                 minor, RC_CUDA_ARCH_LIST, cudaGetErrorName(e));
        return 0;
    }
    return 1;
}

/* The error paths: clear the runtime's last (non-sticky) error so the next
 * call starts clean, and report a device error. Buffers stay in the
 * context; destroy frees them. */
static rc_status device_error(void)
{
    (void)cudaGetLastError();
    return RC_ERR_DEVICE;
}

static rc_status grow(void **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return RC_OK;
    if (*buf)
        cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    if (cudaMalloc(buf, need) != cudaSuccess) {
        *buf = NULL;
        (void)cudaGetLastError();
        return RC_ERR_NOMEM;
    }
    *cap = need;
    return RC_OK;
}

extern "C" rc_status rc_cuda_backend_create(const rc_spec *spec, int fused, rc_cuda_ctx **out)
{
    *out = NULL;
    rc_cuda_ctx *ctx = (rc_cuda_ctx *)calloc(1, sizeof *ctx);
    if (!ctx)
        return RC_ERR_NOMEM;
    ctx->fused = fused;
    ctx->head_dim = spec->head_dim;
    ctx->rotary_dim = spec->rotary_dim;
    ctx->layout = spec->layout;
    ctx->dtype = spec->dtype;
    ctx->alpha = spec->out_scale_hi != 0.0 ? spec->out_scale_hi : 1.0; /* rope.h: 0 means 1 */
    const size_t tbytes = (size_t)(spec->rotary_dim / 2) * sizeof(double);
    if (cudaMalloc((void **)&ctx->d_theta_hi, tbytes) != cudaSuccess ||
        cudaMalloc((void **)&ctx->d_theta_lo, tbytes) != cudaSuccess ||
        cudaMemcpy(ctx->d_theta_hi, spec->theta_hi, tbytes, cudaMemcpyHostToDevice) !=
            cudaSuccess ||
        cudaMemcpy(ctx->d_theta_lo, spec->theta_lo, tbytes, cudaMemcpyHostToDevice) !=
            cudaSuccess) {
        rc_cuda_backend_destroy(ctx);
        return device_error();
    }
    ctx->n_axes = spec->n_axes >= 2 && spec->pair_axis ? spec->n_axes : 1;
    if (ctx->n_axes >= 2) { /* the map, read per pair by the sin/cos kernels */
        const size_t mbytes = (size_t)(spec->rotary_dim / 2);
        if (cudaMalloc((void **)&ctx->d_pair_axis, mbytes) != cudaSuccess ||
            cudaMemcpy(ctx->d_pair_axis, spec->pair_axis, mbytes, cudaMemcpyHostToDevice) !=
                cudaSuccess) {
            rc_cuda_backend_destroy(ctx);
            return device_error();
        }
    }
    *out = ctx;
    return RC_OK;
}

static dev_view view_of(const rc_cuda_dev_tensor *x)
{
    dev_view v;
    v.src = (const char *)x->in.data;
    v.dst = (char *)x->out.data;
    v.src_token_stride = x->in.token_stride;
    v.src_head_stride = x->in.head_stride;
    v.dst_token_stride = x->out.token_stride;
    v.dst_head_stride = x->out.head_stride;
    return v;
}

extern "C" rc_status rc_cuda_backend_run_device(rc_cuda_ctx *ctx, const rc_cuda_dev_tensor *q,
                                                const rc_cuda_dev_tensor *k,
                                                const int64_t *d_positions,
                                                rc_direction direction)
{
    const size_t esize = ctx->dtype == RC_DTYPE_F32 ? 4 : 2;
    const int32_t half = ctx->rotary_dim / 2;
    const int inverse = direction == RC_INVERSE;
    const int64_t n_tokens = q->in.n_tokens;
    dev_job jb;
    jb.v[0] = view_of(q);
    jb.v[1] = k ? view_of(k) : jb.v[0];
    jb.n_heads0 = q->in.n_heads;
    jb.n_heads = q->in.n_heads + (k ? k->in.n_heads : 0);
    const int64_t items = rc_cuda_head_items(ctx->head_dim, ctx->rotary_dim);
    if (ctx->fused) {
        const int64_t nb = n_tokens < RC_CUDA_MAX_BLOCKS ? n_tokens : RC_CUDA_MAX_BLOCKS;
        const size_t smem = 2 * (size_t)half * sizeof(double); /* <= 8 KiB: r <= 1024 */
        fused_kernel<<<(unsigned)nb, RC_CUDA_BLOCK, smem>>>(
            ctx->dtype, ctx->layout, ctx->head_dim, ctx->rotary_dim, n_tokens, esize, jb,
            d_positions, ctx->n_axes, ctx->d_pair_axis, ctx->d_theta_hi, ctx->d_theta_lo,
            ctx->alpha, inverse);
    } else {
        const size_t entries = (size_t)n_tokens * (size_t)half;
        rc_status st;
        if ((st = grow((void **)&ctx->d_table, &ctx->d_table_cap,
                       2 * entries * sizeof(double))) != RC_OK)
            return st;
        double *cos_tab = ctx->d_table, *sin_tab = ctx->d_table + entries;
        table_kernel<<<grid_for((int64_t)entries), RC_CUDA_BLOCK>>>(
            d_positions, ctx->n_axes, ctx->d_pair_axis, n_tokens, ctx->d_theta_hi,
            ctx->d_theta_lo, ctx->alpha, half, inverse, cos_tab, sin_tab);
        if (cudaGetLastError() != cudaSuccess)
            return device_error();
        rotate_kernel<<<grid_for(n_tokens * jb.n_heads * items), RC_CUDA_BLOCK>>>(
            ctx->dtype, ctx->layout, ctx->head_dim, ctx->rotary_dim, n_tokens, esize, jb,
            cos_tab, sin_tab);
    }
    if (cudaGetLastError() != cudaSuccess)
        return device_error();
    return RC_OK;
}

extern "C" rc_status rc_cuda_backend_apply(rc_cuda_ctx *ctx, const rc_tensor *in, size_t in_bytes,
                                           const rc_tensor *out, size_t out_bytes,
                                           const int64_t *positions, rc_direction direction)
{
    const int inplace = in->data == out->data;
    const size_t pos_bytes = (size_t)in->n_tokens * (size_t)ctx->n_axes * sizeof(int64_t);
    rc_status st;
    if ((st = grow(&ctx->d_in, &ctx->d_in_cap, in_bytes)) != RC_OK)
        return st;
    if (!inplace && (st = grow(&ctx->d_out, &ctx->d_out_cap, out_bytes)) != RC_OK)
        return st;
    if ((st = grow((void **)&ctx->d_pos, &ctx->d_pos_cap, pos_bytes)) != RC_OK)
        return st;
    if (cudaMemcpy(ctx->d_in, in->data, in_bytes, cudaMemcpyHostToDevice) != cudaSuccess ||
        cudaMemcpy(ctx->d_pos, positions, pos_bytes, cudaMemcpyHostToDevice) != cudaSuccess)
        return device_error();
    if (!inplace &&
        cudaMemcpy(ctx->d_out, out->data, out_bytes, cudaMemcpyHostToDevice) != cudaSuccess)
        return device_error();
    rc_cuda_dev_tensor x;
    x.in = *in;
    x.in.data = ctx->d_in;
    x.out = *out;
    x.out.data = inplace ? ctx->d_in : ctx->d_out;
    if ((st = rc_cuda_backend_run_device(ctx, &x, NULL, ctx->d_pos, direction)) != RC_OK)
        return st;
    /* The copy back waits for the kernels and reports their faults. */
    if (cudaMemcpy(out->data, x.out.data, out_bytes, cudaMemcpyDeviceToHost) != cudaSuccess)
        return device_error();
    return RC_OK;
}

extern "C" void rc_cuda_backend_destroy(rc_cuda_ctx *ctx)
{
    if (!ctx)
        return;
    cudaFree(ctx->d_theta_hi);
    cudaFree(ctx->d_theta_lo);
    cudaFree(ctx->d_in);
    cudaFree(ctx->d_out);
    cudaFree(ctx->d_pos);
    cudaFree(ctx->d_table);
    cudaFree(ctx->d_pair_axis);
    free(ctx);
}
