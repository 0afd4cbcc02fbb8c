/*
 * core/pow2.h - exact powers of two and binary exponents from a double's
 * bits, for the per-element paths of the oracle and the metrics, where
 * libm's ldexp and frexp (function calls with full special-case handling)
 * cost a quarter of the time.
 */
#ifndef ROPECHECK_CORE_POW2_H
#define ROPECHECK_CORE_POW2_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^e for -1022 <= e <= 1023. */
static inline double rc_pow2_normal(int e)
{
    const uint64_t bits = (uint64_t)(e + 1023) << 52;
    double r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

/* 2^e for -1074 <= e <= 1023 (subnormal powers included), else what
 * ldexp(1, e) gives (0 or Inf). */
static inline double rc_pow2(int e)
{
    if (e >= -1022 && e <= 1023)
        return rc_pow2_normal(e);
    return ldexp(1.0, e);
}

/* x * 2^e for |e| <= 2044, with the same result as ldexp(x, e) whenever
 * that result is normal or zero-free of rounding (two exact steps). */
static inline double rc_scale2(double x, int e)
{
    if (e > 1023)
        return x * rc_pow2_normal(1023) * rc_pow2_normal(e - 1023);
    if (e < -1022)
        return x * rc_pow2_normal(-1022) * rc_pow2_normal(e + 1022);
    return x * rc_pow2_normal(e);
}

/* For x finite and nonzero: k with |x| = f 2^k, f in [0.5, 1) (frexp's
 * exponent), and whether f == 0.5 (|x| a power of two). */
static inline int rc_exponent_of(double x, int *is_pow2)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    const int biased = (int)(bits >> 52) & 0x7ff;
    if (biased == 0) { /* subnormal: rare, let libm normalize it */
        int k;
        *is_pow2 = fabs(frexp(x, &k)) == 0.5;
        return k;
    }
    *is_pow2 = (bits & ((UINT64_C(1) << 52) - 1)) == 0;
    return biased - 1022;
}

/* The integer nearest to y (ties to even, in the default rounding mode),
 * as rint(y) gives, without a libm call (rint is an instruction only from
 * SSE4.1 on). From 2^52 on every double is an integer; below, adding and
 * removing 2^52 (same sign) leaves exactly the rounded value, since the
 * sum lies where the spacing is 1. A zero result may lose the sign of a
 * negative zero (nothing here depends on it). Needs strict IEEE
 * evaluation (no -ffast-math, which ropecheck never uses). */
static inline double rc_nearest_int(double y)
{
    if (!(fabs(y) < 0x1p52))
        return y; /* an integer (or Inf, NaN) */
    const double s = copysign(0x1p52, y);
    return (y + s) - s;
}

#endif /* ROPECHECK_CORE_POW2_H */
