/*
 * impls/common/rotate_pair.h - the rotation of one pair, in double, as
 * every port computes it. scalar.c does all its work here; the SIMD ports
 * (avx2, avx512, neon) use it for tails and mirror it lane by lane, and
 * the CUDA kernels call it: keeping one copy is what keeps their outputs
 * bit-identical to scalar's (tests/test_simd.c, the NEON runner test and
 * test_cuda_math check that).
 *
 * Header-only and RC_HOSTDEV (core/dd.h). The arithmetic relies on
 * explicit fma() and on the compiler not contracting anything else
 * (ISO C mode, or -ffp-contract=off where a folder sets ISA flags).
 * The last two functions, one pair read from and written to a head's
 * channels, are host only: the CPU ports' per-pair code (tails, special
 * values), on core/dtype_convert.c's loads and stores.
 */
#ifndef ROPECHECK_ROTATE_PAIR_H
#define ROPECHECK_ROTATE_PAIR_H

#include <math.h>

#include "core/dd.h"

/* x = a*c - b*s, y = a*s + b*c with one rounded product each and one
 * fma: the rotation of f32/f16/bf16 data widened to double, rounded once
 * to the dtype afterwards (reference/GATES.md: <= 0.5 + 2^-24 ulp). */
RC_HOSTDEV void rc_rotate_pair_d(double a, double b, double c, double s, double *x, double *y)
{
    *x = fma(a, c, -(b * s));
    *y = fma(a, s, b * c);
}

/* a*(ch + cl) - b*(sh + sl) with one final rounding. p and q are exact
 * products, h an exact two_sum; the five low-order terms p.lo, q.lo, h.lo,
 * a*cl, b*sl total at most u*(3|a| + 3|b|) <= 3*sqrt(2)*u*N (|cl|, |sl| <=
 * u: normalized), so their four roundings cost < 4u * 3*sqrt(2)*u*N <
 * 17u^2*N; then hi + lo rounds once. */
RC_HOSTDEV double rc_rotate_dd(double a, double b, double ch, double cl, double sh, double sl)
{
    rc_dd p = rc_two_prod(a, ch);
    rc_dd q = rc_two_prod(b, sh);
    rc_dd h = rc_two_sum(p.hi, -q.hi);
    double lo = (p.lo - q.lo) + h.lo;
    lo = fma(a, cl, lo);
    lo = fma(-b, sl, lo);
    return h.hi + lo;
}

/* Pairs with both |a|, |b| below RC_F64_TINY are rotated at RC_F64_UP
 * times their size (exact) and scaled back, so the error-free products
 * keep their low parts above the subnormal range. */
#define RC_F64_TINY 0x1p-900
#define RC_F64_UP 0x1p600
#define RC_F64_DOWN 0x1p-600

/* The f64 rotation of one pair with cos/sin as double-doubles:
 * a' = a*c - b*s and b' = a*s + b*c = b*c - a*(-s), each rounded once.
 * NaN/Inf inputs or an overflow: the error-free transforms would turn Inf
 * into NaN, so the plain formula's IEEE arithmetic decides instead. */
RC_HOSTDEV void rc_rotate_pair_f64(double a, double b, double ch, double cl, double sh, double sl,
                                   double *xo, double *yo)
{
    const int scaled = fabs(a) < RC_F64_TINY && fabs(b) < RC_F64_TINY;
    const double as = scaled ? a * RC_F64_UP : a, bs = scaled ? b * RC_F64_UP : b;
    double x = rc_rotate_dd(as, bs, ch, cl, sh, sl);
    double y = rc_rotate_dd(bs, as, ch, cl, -sh, -sl);
    if (scaled) {
        x *= RC_F64_DOWN;
        y *= RC_F64_DOWN;
    }
    if (!isfinite(x) || !isfinite(y))
        rc_rotate_pair_d(a, b, ch + cl, sh + sl, &x, &y);
    *xo = x;
    *yo = y;
}

#ifndef __CUDACC__
#include <stdint.h>

#include "core/dtype_convert.h"

/* Channels ia, ib of a head of type t (f32, f16, bf16): exact loads,
 * rc_rotate_pair_d, one rounding on each store. Both loads come before
 * either store, so in place is safe. */
static inline void rc_rotate_elems(rc_dtype t, const void *in, void *out, int64_t ia, int64_t ib,
                                   double c, double s)
{
    const double a = rc_elem_load(t, in, ia), b = rc_elem_load(t, in, ib);
    double x, y;
    rc_rotate_pair_d(a, b, c, s, &x, &y);
    rc_elem_store(t, out, ia, x);
    rc_elem_store(t, out, ib, y);
}

/* Channels ia, ib of an f64 head through rc_rotate_pair_f64. */
static inline void rc_rotate_elems_f64(const double *in, double *out, int64_t ia, int64_t ib,
                                       double ch, double cl, double sh, double sl)
{
    rc_rotate_pair_f64(in[ia], in[ib], ch, cl, sh, sl, &out[ia], &out[ib]);
}
#endif /* !__CUDACC__ */

#endif /* ROPECHECK_ROTATE_PAIR_H */
