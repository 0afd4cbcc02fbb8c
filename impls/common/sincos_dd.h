/*
 * impls/common/sincos_dd.h - sine and cosine of a reduced angle r
 * (|r| < 5, a double-double from rc_exact_angle), as double-doubles, by a
 * quarter-turn reduction and two polynomials: straight-line arithmetic
 * that every SIMD port transcribes lane for lane, so a vector row of
 * angles has the same bits as this scalar code (no libm call whose
 * result would differ between libraries, ISAs and the CUDA device).
 *
 * Header-only and RC_HOSTDEV (core/dd.h). u = 2^-53 throughout; "RN"
 * is one rounding to nearest, whose error is at most u*|result|.
 *
 * ALGORITHM
 *   j = RN-to-integer(r.hi * 2/pi)            |j| <= 3 since |r.hi| < 4.95
 *   t = fma(-j, P0, r.hi)                      EXACT (below)
 *   l = fma(-j, P1, r.lo)                      one rounding
 *   (x, xl) = two_sum(t, l)                    x = x.hi, normalized
 *   z = RN(x*x)
 *   y = RN(RN(x*z) * ps(z)),  ps(z) = sum_{k=1..8} (-1)^k z^(k-1)/(2k+1)!
 *   w = RN(RN(z*z) * pc(z)),  pc(z) = sum_{k=2..9} (-1)^k z^(k-2)/(2k)!
 *     (Horner with fma, coefficients RN(1/n!))
 *   sin(x) = x + y                             kept as a double-double
 *   cos(x) = two_sum(1, -z/2) + ((e - zl/2) + w), zl = fma(x, x, -z)
 *   xl enters to first order: sin += xl*cos(x), cos -= xl*sin(x)
 *   then (sin, cos) of r = (sin, cos) of x turned by j quarter turns.
 * P0 + P1 is pi/2 to 2^-107.4 relative (P0, P1 = RC_2PI_C0/4, RC_2PI_C1/4
 * of exact_angle.h, exact scalings), 2/pi is RN(2/pi).
 *
 * WHY t IS EXACT. j*P0 is a multiple of 2^-52 (P0 in [1, 2)). If j = 0,
 * t = r.hi. Otherwise |r.hi| > 0.78, so r.hi is a multiple of 2^-53, and
 * |r.hi - j*P0| <= pi/4 + 2^-50 < 1 (j is r.hi*2/pi rounded, itself
 * within 2^-50 of the exact quotient): a multiple of 2^-53 below 1 has at
 * most 53 significant bits, so the fma's one rounding is exact.
 *
 * ERROR (absolute; rho = pi/4 + 2^-50 >= |x|; the terms are maxima over
 * |x| <= rho, worked out with rho^2 <= 0.617, rho^3 <= 0.4845)
 *   reduction: l's rounding <= u * 2^-50, the omitted j*(pi/2 - P0 - P1)
 *     <= 3 * 2^-109.4, xl's second-order terms xl^2/2 <= 2^-107:
 *     together below 2^-102, i.e. 2^-49 u.
 *   sine, x + y against sin(x):
 *     truncation after x^17: rho^19/19! <= 2^-63.4 = 0.0008u;
 *     coefficients RN(1/n!): u * (sinh(rho) - rho) <= 0.0834u;
 *     ps: the last fma's rounding u/6, the inner terms' and z's errors
 *       <= 0.0105u: |ps~ - ps| <= 0.178u, with |ps| <= 1/6;
 *     RN(x*z) within 2*rho^3*u(1 + u) <= 0.969u of x^3;
 *     y = RN(x3*ps): 0.969u/6 + rho^3 * 0.178u + rho^3/6 * u <= 0.329u;
 *     the xl term: fma(xl, cos~, y) rounds once, <= u * |y + xl cos| <=
 *       0.0809u, and cos~'s error times |xl| <= 2^-105.
 *     Total: |S - sin(x + xl)| <= 0.494u.
 *   cosine, against cos(x):
 *     truncation after x^18: rho^20/20! <= 2^-68;
 *     coefficients: u * (cosh(rho) - 1 - rho^2/2) <= 0.0162u;
 *     pc: u/24 + 0.002u <= 0.0437u, with |pc| <= 1/24;
 *     RN(z*z) within 3.01 rho^4 u <= 1.146u of x^4;
 *     w: 1.146u/24 + rho^4 * 0.0437u + rho^4/24 * u <= 0.081u;
 *     1 - x^2/2 is exact as two_prod, a halving and two_sum; (e - zl/2)
 *       rounds below 2^-106; adding w and then the xl term round once
 *       each on values below 0.0160 in size: <= 0.032u.
 *     Total: |C - cos(x + xl)| <= 0.130u.
 *   Quarter turns are swaps and sign flips: exact.
 * So, for S, C the double-double results and r = r.hi + r.lo exactly,
 *     |S - sin(r)|, |C - cos(r)| <= 0.494u + 2^-102 < 0.5u,
 * and their rounded high words (RN of the double-double, |value| <= 1,
 * so within u/2 of it) are within 1.0u. tests/test_exact_angle.c checks
 * both bounds against MPFR, with rho's end points and 2^-60-small x
 * included. For comparison, glibc's sin and cos promise 1 ulp (<= 2u on
 * [0.5, 1)): exact_angle.h's earlier analysis assumed U = 1 and remains a
 * valid (loose) bound with these figures.
 */
#ifndef ROPECHECK_IMPLS_COMMON_SINCOS_DD_H
#define ROPECHECK_IMPLS_COMMON_SINCOS_DD_H

#include <math.h>

#include "core/dd.h"

/* pi/2 = P0 + P1 + 2^-107.4 relative: 2*pi's C0, C1 (exact_angle.h)
 * divided by 4, which is exact. */
#define RC_PIO2_P0 0x1.921fb54442d18p+0
#define RC_PIO2_P1 0x1.1a62633145c07p-54
#define RC_2_OVER_PI 0x1.45f306dc9c883p-1

/* RN((-1)^k / (2k+1)!), k = 1..8: sin(x) = x + x^3 * ps(x^2). */
#define RC_SIN_K1 (-0x1.5555555555555p-3)
#define RC_SIN_K2 0x1.1111111111111p-7
#define RC_SIN_K3 (-0x1.a01a01a01a01ap-13)
#define RC_SIN_K4 0x1.71de3a556c734p-19
#define RC_SIN_K5 (-0x1.ae64567f544e4p-26)
#define RC_SIN_K6 0x1.6124613a86d09p-33
#define RC_SIN_K7 (-0x1.ae7f3e733b81fp-41)
#define RC_SIN_K8 0x1.952c77030ad4ap-49

/* RN((-1)^k / (2k)!), k = 2..9: cos(x) = 1 - x^2/2 + x^4 * pc(x^2). */
#define RC_COS_K2 0x1.5555555555555p-5
#define RC_COS_K3 (-0x1.6c16c16c16c17p-10)
#define RC_COS_K4 0x1.a01a01a01a01ap-16
#define RC_COS_K5 (-0x1.27e4fb7789f5cp-22)
#define RC_COS_K6 0x1.1eed8eff8d898p-29
#define RC_COS_K7 (-0x1.93974a8c07c9dp-37)
#define RC_COS_K8 0x1.ae7f3e733b81fp-45
#define RC_COS_K9 (-0x1.6827863b97d97p-53)

/* sin and cos of r = r.hi + r.lo, |r.hi| < 4.95, |r.lo| <= ulp(r.hi)/2,
 * each within 0.5u of exact as double-doubles (see the header). */
RC_HOSTDEV void rc_sincos_dd(rc_dd r, rc_dd *s_out, rc_dd *c_out)
{
    const double j = nearbyint(r.hi * RC_2_OVER_PI);
    const double t = fma(-j, RC_PIO2_P0, r.hi);
    const double l = fma(-j, RC_PIO2_P1, r.lo);
    const rc_dd x = rc_two_sum(t, l);
    const double z = x.hi * x.hi;

    double ps = RC_SIN_K8;
    ps = fma(ps, z, RC_SIN_K7);
    ps = fma(ps, z, RC_SIN_K6);
    ps = fma(ps, z, RC_SIN_K5);
    ps = fma(ps, z, RC_SIN_K4);
    ps = fma(ps, z, RC_SIN_K3);
    ps = fma(ps, z, RC_SIN_K2);
    ps = fma(ps, z, RC_SIN_K1);
    const double y = (x.hi * z) * ps;

    double pc = RC_COS_K9;
    pc = fma(pc, z, RC_COS_K8);
    pc = fma(pc, z, RC_COS_K7);
    pc = fma(pc, z, RC_COS_K6);
    pc = fma(pc, z, RC_COS_K5);
    pc = fma(pc, z, RC_COS_K4);
    pc = fma(pc, z, RC_COS_K3);
    pc = fma(pc, z, RC_COS_K2);
    const double w = (z * z) * pc;
    const double zl = fma(x.hi, x.hi, -z); /* z + zl = x.hi^2 exactly */
    const rc_dd one = rc_two_sum(1.0, -0.5 * z);
    const double cl = (one.lo - 0.5 * zl) + w;

    /* First-order terms of x.lo, against the doubles sin(x.hi) ~ x.hi + y
     * and cos(x.hi) ~ one.hi + cl (their errors times |x.lo| <= u*rho are
     * below 2^-105). |x.hi| >= |x.hi^3/6| and one.hi >= 0.69, so the
     * fast two-sums' ordering holds. */
    const rc_dd sv = rc_fast_two_sum(x.hi, fma(x.lo, one.hi + cl, y));
    const rc_dd cv = rc_fast_two_sum(one.hi, fma(-x.lo, x.hi + y, cl));

    /* Quarter turns: r = x + q*pi/2 with q = j mod 4. */
    const int q = ((int)j + 4) & 3;
    const rc_dd a = (q & 1) ? cv : sv; /* sin(r) up to sign */
    const rc_dd b = (q & 1) ? sv : cv; /* cos(r) up to sign */
    *s_out = (q & 2) ? rc_dd_neg(a) : a;
    *c_out = ((q + 1) & 2) ? rc_dd_neg(b) : b;
}

#endif /* ROPECHECK_IMPLS_COMMON_SINCOS_DD_H */
