/*
 * impls/cuda/cuda_rotate_math.h - the per-element arithmetic of the CUDA
 * kernels, as RC_HOSTDEV functions (core/dd.h): `__host__ __device__` under
 * nvcc, plain `static inline` in C.
 *
 * WHY a header: no GPU is needed to test arithmetic. The kernels in
 * cuda_kernels.cu are thin index loops around these functions, and
 * tests/test_cuda_math.c compiles this same header as C and checks every
 * function against the MPFR reference on every CI run. What only a GPU can
 * test is the launch geometry and the copies: the angles' sine and cosine
 * come from impls/common/sincos_dd.h, not the device's libm, so they are
 * the host's bits too.
 *
 * THE ARITHMETIC is impls/scalar/scalar.c's for f32, f16 and bf16:
 *   per token: cos/sin of every pair from the shared exact angle
 *     (impls/common/exact_angle.h, rc_exact_sincos), sin negated for
 *     RC_INVERSE (exact; sin is odd);
 *   per pair: a' = fma(a, c, -(b*s)), b' = fma(a, s, b*c) in double, then
 *     one round-to-nearest-even store to the element type.
 * The kernels are compiled with --fmad=false, so nvcc contracts no other
 * product into an fma: the device runs these operations exactly as
 * written, which is what the host tests check.
 *
 * ERROR (u = 2^-53, N = ||(a, b)||): scalar.c derives eta <= 10.2u*N for
 * the double result with U <= 1, U being the sine and cosine's error in
 * ulps; impls/common/sincos_dd.h's, used on host and device alike, has
 * U < 0.5. (Before it, the device used CUDA's sin/cos, documented at most
 * 2 ulp; the bound below, eta <= 11.7u*N = 2^-49.4 N for U = 2, was
 * derived for that and still holds.) f32's ulp(N) is
 * > N*2^-24, so the double result is within 2^-25.4 ulp(N) of exact and the
 * single rounding gives a pair error <= 0.5 + 2^-25.4 < 0.5 + 2^-20 ulp,
 * at every position m < 2^53 (exact_angle.h's angle bound holds there).
 * f16 and bf16 have coarser ulps, so the same bound holds with more room.
 *
 * f64 is not offered. It was left out when the device's U was 2 (the
 * derivable f64 bound of scalar.c's rotation was then ~3.3 ulp, above the
 * default f64 gate of 3); with sincos_dd.h that obstacle is gone, but an
 * f64 kernel (scalar.c's double-double rotation) has not been written and
 * could not be run on a GPU yet.
 *
 * ROUNDING TO f16/bf16 is done here from the double in ONE step (never via
 * float, which would round twice), with integer-valued double arithmetic
 * only: frexp, ldexp (exact scalings) and rint (round to nearest even in
 * the default mode on both host and device). The test compares it with
 * core/dtype_convert.c bit for bit.
 */
#ifndef ROPECHECK_IMPLS_CUDA_ROTATE_MATH_H
#define ROPECHECK_IMPLS_CUDA_ROTATE_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/dd.h"
#include "impls/common/exact_angle.h"
#include "impls/common/rotate_pair.h"
#include "ropecheck/rope.h"

/* Channels of pair i (0 <= i < half = r/2): interleaved (2i, 2i+1),
 * half layout (i, i + r/2). */
RC_HOSTDEV void rc_cuda_pair_channels(rc_layout layout, int32_t half, int32_t i, int32_t *ia,
                                      int32_t *ib)
{
    if (layout == RC_LAYOUT_INTERLEAVED) {
        *ia = 2 * i;
        *ib = 2 * i + 1;
    } else {
        *ia = i;
        *ib = i + half;
    }
}

/* alpha*cos and alpha*sin of pair i's angle at position m (alpha: the
 * spec's output scale, 1 when unscaled; exact_angle.h, OUTPUT SCALE);
 * inverse rotates by -phi. */
RC_HOSTDEV void rc_cuda_token_sincos(int64_t m, double theta_hi, double theta_lo, double alpha,
                                     int inverse, double *c, double *s)
{
    double sn, cs;
    rc_dd a = {alpha, 0.0};
    rc_exact_sincos_scaled(m, theta_hi, theta_lo, a, &sn, &cs);
    *c = cs;
    *s = inverse ? -sn : sn;
}

/* The raw bits of a double, and back (memcpy: defined in C and C++, and a
 * plain register move on the device). */
RC_HOSTDEV uint64_t rc_cuda_bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* binary16 bits -> double, exact. */
RC_HOSTDEV double rc_cuda_f16_to_double(uint16_t h)
{
    const int e = (h >> 10) & 0x1f;
    const int f = h & 0x3ff;
    double mag;
    if (e == 0)
        mag = ldexp((double)f, -24); /* zero or subnormal */
    else if (e == 31)
        mag = f ? (double)NAN : (double)INFINITY;
    else
        mag = ldexp((double)(1024 + f), e - 25);
    return (h & 0x8000) ? -mag : mag;
}

/* bfloat16 bits -> double, exact: they are the top half of a binary32. */
RC_HOSTDEV double rc_cuda_bf16_to_double(uint16_t h)
{
    const uint32_t w = (uint32_t)h << 16;
    float f;
    memcpy(&f, &w, sizeof f);
    return (double)f;
}

/* x rounded once, to nearest with ties to even, to the 16-bit binary
 * format with precision p (implicit bit counted), normal exponents
 * emin..emax, bias emax: gradual underflow, overflow to infinity, NaN to a
 * quiet NaN of the same sign.
 *
 * With e' = max(e, emin) for |x| in [2^e, 2^(e+1)), q = rint(|x| *
 * 2^(p-1-e')) is the rounded significand in units of the result's ulp
 * 2^(e'-p+1): an integer in [2^(p-1), 2^p] for normals, [0, 2^(p-1)] for
 * subnormals. The scaling is exact (a power of two, no underflow), so rint
 * is the only rounding. The encoding ((e' + bias - 1) << (p-1)) + q is then
 * right in every case: a normal significand's leading bit adds the 1 to
 * the exponent field, q = 2^p carries into the next binade (and from emax
 * into the infinity pattern), and q = 2^(p-1) from a subnormal is the
 * smallest normal. */
RC_HOSTDEV uint16_t rc_cuda_round_16(double x, int p, int emin, int emax)
{
    const uint16_t sign = (rc_cuda_bits_of(x) >> 63) ? 0x8000u : 0u;
    const int fbits = p - 1;
    const uint16_t inf = (uint16_t)(((emax + emax + 1) & 0xff) << fbits);
    /* (2*emax + 1) is the all-ones exponent field (31 for f16, 255 for
     * bf16); the mask keeps the shift within 16 bits. */
    const double ax = fabs(x);
    if (isnan(x))
        return (uint16_t)(sign | inf | (1u << (fbits - 1)));
    if (ax == 0.0)
        return sign;
    if (isinf(x)) /* frexp leaves the exponent of an infinity unspecified */
        return (uint16_t)(sign | inf);
    int ex;
    (void)frexp(ax, &ex); /* ax = f * 2^ex, f in [0.5, 1): e = ex - 1 */
    int e = ex - 1;
    if (e > emax)
        return (uint16_t)(sign | inf);
    if (e < emin)
        e = emin;
    const double q = rint(ldexp(ax, fbits - e));
    const uint32_t enc = ((uint32_t)(e + emax - 1) << fbits) + (uint32_t)q;
    return (uint16_t)(sign | enc);
}

RC_HOSTDEV uint16_t rc_cuda_double_to_f16(double x)
{
    return rc_cuda_round_16(x, 11, -14, 15);
}

RC_HOSTDEV uint16_t rc_cuda_double_to_bf16(double x)
{
    return rc_cuda_round_16(x, 8, -126, 127);
}

/* Channel c of a head row, exactly as a double. */
RC_HOSTDEV double rc_cuda_load(rc_dtype t, const void *row, int32_t c)
{
    switch (t) {
    case RC_DTYPE_F32:
        return (double)((const float *)row)[c];
    case RC_DTYPE_F16:
        return rc_cuda_f16_to_double(((const uint16_t *)row)[c]);
    default: /* RC_DTYPE_BF16 */
        return rc_cuda_bf16_to_double(((const uint16_t *)row)[c]);
    }
}

/* Round x once (RNE) to the type and store it as channel c. (float)x is
 * the IEEE conversion on the host and cvt.rn.f32.f64 on the device, both
 * round to nearest even with subnormals (nvcc's default -ftz=false). */
RC_HOSTDEV void rc_cuda_store(rc_dtype t, void *row, int32_t c, double x)
{
    switch (t) {
    case RC_DTYPE_F32:
        ((float *)row)[c] = (float)x;
        break;
    case RC_DTYPE_F16:
        ((uint16_t *)row)[c] = rc_cuda_double_to_f16(x);
        break;
    default: /* RC_DTYPE_BF16 */
        ((uint16_t *)row)[c] = rc_cuda_double_to_bf16(x);
        break;
    }
}

/* Rotate pair i of one head: load both, then store both (so in place is
 * safe: one thread owns the pair). */
RC_HOSTDEV void rc_cuda_rotate_pair(rc_dtype t, rc_layout layout, int32_t half, int32_t i,
                                    const void *src, void *dst, double c, double s)
{
    int32_t ia, ib;
    rc_cuda_pair_channels(layout, half, i, &ia, &ib);
    const double a = rc_cuda_load(t, src, ia);
    const double b = rc_cuda_load(t, src, ib);
    double x, y;
    rc_rotate_pair_d(a, b, c, s, &x, &y);
    rc_cuda_store(t, dst, ia, x);
    rc_cuda_store(t, dst, ib, y);
}

/* Work item j of one head, the unit a kernel thread executes: j < r/2
 * rotates pair j with cos_row[j], sin_row[j]; r/2 <= j < r/2 + (d - r)
 * copies passthrough channel r + (j - r/2) bit for bit (an integer copy:
 * NaN payloads and signalling NaNs survive). A head has
 * rc_cuda_head_items(d, r) items. */
RC_HOSTDEV int32_t rc_cuda_head_items(int32_t head_dim, int32_t rotary_dim)
{
    return rotary_dim / 2 + (head_dim - rotary_dim);
}

RC_HOSTDEV void rc_cuda_head_item(rc_dtype t, rc_layout layout, int32_t rotary_dim, int32_t j,
                                  const void *src, void *dst, const double *cos_row,
                                  const double *sin_row)
{
    const int32_t half = rotary_dim / 2;
    if (j < half) {
        rc_cuda_rotate_pair(t, layout, half, j, src, dst, cos_row[j], sin_row[j]);
        return;
    }
    const int32_t ch = rotary_dim + (j - half);
    if (src == dst)
        return; /* in place: already where it belongs */
    if (t == RC_DTYPE_F32)
        ((uint32_t *)dst)[ch] = ((const uint32_t *)src)[ch];
    else
        ((uint16_t *)dst)[ch] = ((const uint16_t *)src)[ch];
}

/* The position pair i of token t rotates by (rope.h, ABI 4): positions[t]
 * with one axis; with n_axes >= 2 the token has n_axes positions,
 * token-major, and pair i takes the one on its axis. */
RC_HOSTDEV int64_t rc_cuda_pair_position(const int64_t *pos, int64_t t, int32_t i,
                                         int32_t n_axes, const uint8_t *pair_axis)
{
    return n_axes >= 2 ? pos[t * n_axes + pair_axis[i]] : pos[t];
}

/* The thread-to-work maps of the kernels, shared with the host test's
 * emulation. Table entry g of [n_tokens][half]: token t, pair i. */
RC_HOSTDEV void rc_cuda_table_index(int64_t g, int32_t half, int64_t *t, int32_t *i)
{
    *t = g / half;
    *i = (int32_t)(g - *t * half);
}

/* Work item g of [n_tokens][n_heads][items]: consecutive g are consecutive
 * items of one head (coalesced accesses), then the next head, then the
 * next token. The fused kernel passes g < n_heads * items (t = 0). */
RC_HOSTDEV void rc_cuda_item_index(int64_t g, int32_t items, int64_t n_heads, int64_t *t,
                                   int64_t *h, int32_t *j)
{
    const int64_t row = g / items;
    *j = (int32_t)(g - row * items);
    *t = row / n_heads;
    *h = row - *t * n_heads;
}

/* The same map in 32-bit arithmetic, which the kernels use when the launch
 * has fewer than 2^31 items (every real shape): a 64-bit division is a
 * long subroutine on a GPU, two of them per item cost about as much as
 * the item's memory traffic. */
RC_HOSTDEV void rc_cuda_item_index32(uint32_t g, uint32_t items, uint32_t n_heads, uint32_t *t,
                                     uint32_t *h, uint32_t *j)
{
    const uint32_t row = g / items;
    *j = g - row * items;
    *t = row / n_heads;
    *h = row - *t * n_heads;
}

/* A launch over q and k treats their heads as one axis, q's n_heads0
 * first: head h is q's head h, or k's head h - n_heads0. Returns 0 for q,
 * 1 for k. */
RC_HOSTDEV int rc_cuda_split_head(int64_t h, int64_t n_heads0, int64_t *hh)
{
    const int second = h >= n_heads0;
    *hh = second ? h - n_heads0 : h;
    return second;
}

/* Element offset of head (t, h) in a strided view (rc_tensor's rule). */
RC_HOSTDEV int64_t rc_cuda_head_offset(int64_t token, int64_t head, int64_t token_stride,
                                       int64_t head_stride)
{
    return token * token_stride + head * head_stride;
}

#endif /* ROPECHECK_IMPLS_CUDA_ROTATE_MATH_H */
