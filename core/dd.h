/*
 * core/dd.h - double-double ("unevaluated sum") arithmetic: just the
 * error-free transformations the exact-angle code and the metrics need.
 *
 * Header-only and usable from C, C++ and CUDA (RC_HOSTDEV), so the CPU
 * ports, the CUDA kernels and the host tests run the same arithmetic.
 * Requires a hardware fma (or a correct libm fma) and round-to-nearest.
 */
#ifndef ROPECHECK_CORE_DD_H
#define ROPECHECK_CORE_DD_H

#include <math.h>

#ifdef __CUDACC__
#define RC_HOSTDEV __host__ __device__ __forceinline__
#else
#define RC_HOSTDEV static inline
#endif

/* hi + lo exactly, with |lo| <= ulp(hi)/2 when normalized. */
typedef struct rc_dd {
    double hi;
    double lo;
} rc_dd;

/* s + e == a + b exactly (Knuth's TwoSum; no ordering precondition). */
RC_HOSTDEV rc_dd rc_two_sum(double a, double b)
{
    double s = a + b;
    double bb = s - a;
    double e = (a - (s - bb)) + (b - bb);
    rc_dd r = {s, e};
    return r;
}

/* s + e == a + b exactly, requires |a| >= |b| or a == 0 (Dekker). */
RC_HOSTDEV rc_dd rc_fast_two_sum(double a, double b)
{
    double s = a + b;
    double e = b - (s - a);
    rc_dd r = {s, e};
    return r;
}

/* p + e == a * b exactly (barring underflow), via one fma. */
RC_HOSTDEV rc_dd rc_two_prod(double a, double b)
{
    double p = a * b;
    double e = fma(a, b, -p);
    rc_dd r = {p, e};
    return r;
}

/* (x.hi + x.lo) + (y.hi + y.lo), relative error about 2^-104 (the
 * "accurate" double-double addition, Joldes-Muller-Popescu Alg. 6). */
RC_HOSTDEV rc_dd rc_dd_add(rc_dd x, rc_dd y)
{
    rc_dd s = rc_two_sum(x.hi, y.hi);
    rc_dd t = rc_two_sum(x.lo, y.lo);
    double c = s.lo + t.hi;
    rc_dd v = rc_fast_two_sum(s.hi, c);
    double w = t.lo + v.lo;
    return rc_fast_two_sum(v.hi, w);
}

/* (x.hi + x.lo) * y for a double y, relative error about 2^-104. */
RC_HOSTDEV rc_dd rc_dd_mul_d(rc_dd x, double y)
{
    rc_dd p = rc_two_prod(x.hi, y);
    double lo = fma(x.lo, y, p.lo);
    return rc_fast_two_sum(p.hi, lo);
}

/* (x.hi + x.lo) * (y.hi + y.lo), relative error <= 5 * 2^-106 for
 * normalized inputs (Joldes-Muller-Popescu, DWTimesDW, Alg. 10). */
RC_HOSTDEV rc_dd rc_dd_mul(rc_dd x, rc_dd y)
{
    rc_dd p = rc_two_prod(x.hi, y.hi);
    double t = x.hi * y.lo;
    t = fma(x.lo, y.hi, t);
    return rc_fast_two_sum(p.hi, p.lo + t);
}

RC_HOSTDEV rc_dd rc_dd_neg(rc_dd x)
{
    rc_dd r = {-x.hi, -x.lo};
    return r;
}

#endif /* ROPECHECK_CORE_DD_H */
