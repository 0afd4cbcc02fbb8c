/*
 * impls/common/exact_angle.h - the RoPE angle phi = m * theta_i, reduced
 * modulo 2*pi in double-double, and its cosine and sine to about one
 * double ulp.
 *
 * Header-only and RC_HOSTDEV (core/dd.h), so the CPU ports and the CUDA
 * kernels compute the same angle with the same arithmetic.
 *
 * WHY: a plain double angle (double)m * theta rounds theta once, and that
 * relative error 2^-53 is multiplied by m: at m = 2^31 the angle is off by
 * up to 2^-22 rad, several f32 ulps of the rotated pair. Here theta is the
 * double-double theta_hi + theta_lo from rc_spec (about 106 bits), the
 * product with m is error-free, and the reduction subtracts k*2*pi with
 * 2*pi held to about 161 bits, so the angle's error stays near 2^-106 of
 * |m*theta| and its sine and cosine are within about half a double ulp.
 *
 * ALGORITHM (u = 2^-53, x = m*(theta_hi + theta_lo), X = m*theta_hi)
 *   p = two_prod(m, theta_hi)            exact: p.hi + p.lo = m*theta_hi
 *   q = m * theta_lo                     rounded
 *   k = nearbyint(p.hi * (1/(2*pi)))     any integer works; this one keeps
 *                                        |R| small, R = x - 2*pi*k
 *   A = two_prod(k, C0), B = two_prod(k, C1)   exact
 *   c = k * C2                           rounded
 *   r = ((p - A) - B) + (q - c)          three accurate double-double adds
 * where C0 + C1 + C2 is 2*pi to about 2^-161 (|2*pi - C0 - C1 - C2| is
 * 2.3e-49; the constants are RN of the successive remainders, generated
 * with MPFR and checked against it in tests/test_exact_angle.c).
 *
 * DOMAIN. Positions are integers 0 <= m <= 2^53 - 1 (RC_MAX_POSITION), so
 * m is exact as a double and m >= 0. For theta_hi <= 1 (base >= 1, every
 * model) X < 2^53, so |p.hi/(2*pi)| < 2^50.4 and |k| < 2^51: k is an exact
 * integer and k*C0, k*C1 are exact products (no overflow, no underflow).
 * The computed quotient p.hi*(1/(2*pi)) is off by at most 0.125 (its own
 * rounding; ulp <= 2^-2 below 2^51) + 0.16 (the 2^-53 relative error of
 * the constant 1/(2*pi) times 2^50.4) < 0.29, so |k - x/(2*pi)| <= 0.79 and
 * |R| <= 0.79*2*pi < 4.95. For larger X (base < 1) the reduction is still
 * a valid one, but |R| and the bound below grow with X.
 *
 * ERROR OF THE REDUCED ANGLE, |r - R| (for X <= 2^53, so u*X <= 1)
 *   q:      |q - m*theta_lo| <= u*|m*theta_lo| <= u^2*X, since
 *           |theta_lo| <= ulp(theta_hi)/2 <= u*theta_hi; also |q| <= u*X.
 *   q - c:  one rounding, <= u*(|q| + |c|) <= u^2*X + 2^-109, as
 *           |c| <= |k*C2|*(1 + u) < 2^51 * 2^-107 = 2^-56.
 *   c:      |c - k*C2| <= u*|k*C2| < 2^-109.
 *   2*pi:   |k| * 2.3e-49 <= 2^51 * 2^-161.3: below 2^-110.
 *   adds:   core/dd.h's rc_dd_add is Joldes-Muller-Popescu's
 *           AccurateDWPlusDW: relative error <= 3u^2 + 13u^3 of the EXACT
 *           sum, however much cancels. The three exact sums are each
 *           |R| + (terms of size <= |m*theta_lo| + |k*C1| <= 1.4*u*X + 3u)
 *           + their predecessors' tiny errors, so together they add at
 *           most 3*3.01*u^2*(|R| + 1.4*u*X + 3u) <= u^2*(9.03*|R| + 12.7).
 *   total:  |r - R| <= u^2 * (2*X + 9.03*|R| + 13.1) <= u^2 * (2*X + 58)
 *           = 2^-106 * (2*X + 58), using |R| < 4.95 and u*X <= 1.
 * r comes back normalized: |r.lo| <= ulp(r.hi)/2 <= u*|r.hi| < 4.95*u.
 * Not included above, because it is the input's error, not this code's:
 * theta_hi + theta_lo differs from the true theta_i by about 2^-106
 * relative (the host's table), which moves the angle by that times m.
 *
 * SINE AND COSINE (rc_exact_sincos_dd). rc_sincos_dd
 * (impls/common/sincos_dd.h) of the reduced double-double r: a quarter-turn
 * reduction and two polynomials, no libm call, so a port that transcribes
 * it lane for lane (the SIMD ports' row fillers) gets these exact bits.
 * Its results are double-doubles within 0.494*u + 2^-102 of sin(r) and
 * cos(r); rc_exact_sincos returns their high words, within 0.994*u +
 * 2^-102. In the terms this analysis used when the values came from libm
 * (U = libm's error in ulps, <= 1 for glibc, giving (U + 0.5)*u + 18u^2
 * and U*u + 18u^2): the polynomial is as good as U = 0.5, so every bound
 * below and in the ports, stated for U <= 1, holds with room.
 *
 * WHAT IT GIVES
 *   f32/f16/bf16 (ulp of the pair norm N is > N*2^-24, 2^-11, 2^-8): the
 *     rotated pair moves by at most N times the (c, s) vector error,
 *     sqrt(2)*(U + 0.5)*u < 3u for U <= 1, plus N times the angle error,
 *     2^-106*(2X + 58) + 2^-106*X (table) <= 2^-50.4: together below 2^-25.6
 *     f32 ulp for every X <= 2^53. Rotating in double and rounding once
 *     then gives 0.5 ulp plus about 2^-25 (impls/scalar/scalar.c). For
 *     comparison, the f32 gate of 1 ulp leaves half an ulp, ~2^-25 rad of
 *     angle, beyond the rounding: this code's angle is 2^25 times closer.
 *   f64 (ulp(N) > N*u): the (c, s) vector error sqrt(2)*U*u (dd variant)
 *     costs sqrt(2)*U ulp of N, the angle error (2X + 58)*2^-106 costs
 *     (2X + 58)*2^-53 ulp: negligible below m = 2^31 (2^-21 ulp), about 2
 *     ulp at X = 2^53, where the input theta's own 2^-106 relative error
 *     adds another ~1. See impls/scalar/scalar.c for the rotation.
 */
#ifndef ROPECHECK_IMPLS_COMMON_EXACT_ANGLE_H
#define ROPECHECK_IMPLS_COMMON_EXACT_ANGLE_H

#include <math.h>
#include <stdint.h>

#include "core/dd.h"
#include "impls/common/sincos_dd.h"

/* 2*pi = C0 + C1 + C2 + (2.2e-49): each constant is the double nearest to
 * what the ones before leave (MPFR, 400 bits; checked by the test). */
#define RC_2PI_C0 0x1.921fb54442d18p+2
#define RC_2PI_C1 0x1.1a62633145c07p-52
#define RC_2PI_C2 (-0x1.f1976b7ed8fbcp-108)
/* RN(1/(2*pi)): only picks k, so its accuracy affects |R|, not the error. */
#define RC_INV_2PI 0x1.45f306dc9c883p-3

/* m*(theta_hi + theta_lo) - 2*pi*k for an integer k chosen so that the
 * result lies in about [-pi, pi] (|result| < 4.95 always, see above), as a
 * normalized double-double. Requires 0 <= m <= 2^53 - 1. */
RC_HOSTDEV rc_dd rc_exact_angle(int64_t m, double theta_hi, double theta_lo)
{
    const double md = (double)m; /* exact: m < 2^53 */
    rc_dd p = rc_two_prod(md, theta_hi);
    double q = md * theta_lo;
    double k = nearbyint(p.hi * RC_INV_2PI);
    rc_dd a = rc_two_prod(k, RC_2PI_C0);
    rc_dd b = rc_two_prod(k, RC_2PI_C1);
    double c = k * RC_2PI_C2;
    rc_dd r = rc_dd_add(p, rc_dd_neg(a));
    r = rc_dd_add(r, rc_dd_neg(b));
    rc_dd t = {q - c, 0.0};
    return rc_dd_add(r, t);
}

/* sin and cos of m*theta as double-doubles, normalized, each within
 * 0.494 * 2^-53 + 2^-102 of the exact value for the angle rc_exact_angle
 * returns (impls/common/sincos_dd.h). */
RC_HOSTDEV void rc_exact_sincos_dd(int64_t m, double theta_hi, double theta_lo, rc_dd *s, rc_dd *c)
{
    rc_sincos_dd(rc_exact_angle(m, theta_hi, theta_lo), s, c);
}

/* The same rounded to doubles (the high words), each within
 * 0.994 * 2^-53 + 2^-102. */
RC_HOSTDEV void rc_exact_sincos(int64_t m, double theta_hi, double theta_lo, double *s, double *c)
{
    rc_dd sd, cd;
    rc_exact_sincos_dd(m, theta_hi, theta_lo, &sd, &cd);
    *s = sd.hi;
    *c = cd.hi;
}

/*
 * OUTPUT SCALE. A scaled spec (rope.h: YaRN's and LongRoPE's attention
 * factor alpha, rc_spec out_scale_hi/lo) multiplies every rotated channel
 * by alpha. Folding alpha into cos and sin, alpha*cos and alpha*sin, makes
 * it free per element: the rotation is unchanged and runs on the scaled
 * row. Cost in accuracy, relative to the output's norm alpha*N:
 *   double row (f32/f16/bf16): c' = RN(c * alpha_hi) adds one rounding (u)
 *     and alpha_hi's own u/2, so the (c, s) vector error above grows from
 *     sqrt(2)*(U + 0.5)*u to sqrt(2)*(U + 2)*u < 5u: still ~2^-26 of an f32
 *     ulp of alpha*N;
 *   dd row (f64): rc_dd_mul adds <= 5*2^-106 relative, far below U*u.
 * alpha == 1 (every unscaled spec) skips the multiplication, so unscaled
 * results are bit-identical to what they were before scaling existed.
 */
RC_HOSTDEV int rc_scale_is_one(rc_dd alpha)
{
    return alpha.hi == 1.0 && alpha.lo == 0.0;
}

/* alpha*sin and alpha*cos of m*theta as doubles (see OUTPUT SCALE). */
RC_HOSTDEV void rc_exact_sincos_scaled(int64_t m, double theta_hi, double theta_lo, rc_dd alpha,
                                       double *s, double *c)
{
    rc_exact_sincos(m, theta_hi, theta_lo, s, c);
    if (!rc_scale_is_one(alpha)) {
        *s *= alpha.hi;
        *c *= alpha.hi;
    }
}

/* alpha*sin and alpha*cos of m*theta as double-doubles (OUTPUT SCALE). */
RC_HOSTDEV void rc_exact_sincos_dd_scaled(int64_t m, double theta_hi, double theta_lo,
                                          rc_dd alpha, rc_dd *s, rc_dd *c)
{
    rc_exact_sincos_dd(m, theta_hi, theta_lo, s, c);
    if (!rc_scale_is_one(alpha)) {
        *s = rc_dd_mul(*s, alpha);
        *c = rc_dd_mul(*c, alpha);
    }
}

/* alpha*cos/alpha*sin of every pair i < half at position m: the row a port
 * computes once per token and shares across heads. RC_INVERSE negates sin
 * (exact; sin is odd, so this is the rotation by -phi). With cos_lo/sin_lo
 * non-NULL the double-double values (rc_exact_sincos_dd, for an f64
 * rotation) are split into hi and lo arrays; else plain doubles. alpha is
 * the spec's output scale ({1, 0} when unscaled). */
RC_HOSTDEV void rc_exact_sincos_row(int64_t m, int direction_inverse, int half,
                                    const double *theta_hi, const double *theta_lo, rc_dd alpha,
                                    double *cos_hi, double *sin_hi, double *cos_lo,
                                    double *sin_lo)
{
    const double sign = direction_inverse ? -1.0 : 1.0;
    for (int i = 0; i < half; i++) {
        if (cos_lo && sin_lo) {
            rc_dd s, c;
            rc_exact_sincos_dd_scaled(m, theta_hi[i], theta_lo[i], alpha, &s, &c);
            cos_hi[i] = c.hi;
            cos_lo[i] = c.lo;
            sin_hi[i] = sign * s.hi;
            sin_lo[i] = sign * s.lo;
        } else {
            double s, c;
            rc_exact_sincos_scaled(m, theta_hi[i], theta_lo[i], alpha, &s, &c);
            cos_hi[i] = c;
            sin_hi[i] = sign * s;
        }
    }
}

#endif /* ROPECHECK_IMPLS_COMMON_EXACT_ANGLE_H */
