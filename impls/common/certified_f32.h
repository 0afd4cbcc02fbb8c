/*
 * impls/common/certified_f32.h - the f16/bf16 rotation at f32 width,
 * certified per element to give scalar's bits, or refused (and then done
 * in double, as scalar does).
 *
 * WHY. Scalar (impls/common/rotate_pair.h) rotates f16/bf16 data widened to
 * double, x_d = RN64(a*c - RN64(b*s)) with c, s the double cos/sin rows,
 * then rounds x_d once to the type: RN16(x_d) (RN16: to nearest even in
 * f16 or bf16). On SIMD units an f32 lane costs half a double lane, and
 * f16/bf16 data are exact in f32, so most of the work can be done in f32
 * if every result can be shown to equal RN16(x_d).
 *
 * THE F32 ROTATION. c32 = RN32(c), s32 = RN32(s) (the F32 ROWS of
 * port_state.h), then with the same fmas as scalar:
 *   x32 = RN32(a*c32 - RN32(b*s32)),   y32 = RN32(a*s32 + RN32(b*c32)).
 *
 * THE BOUND. Per result r = RN32(A*R0 + RN32(B*R1)), the shape of both x
 * (A = a, R0 = c32, B = b, R1 = -s32) and y (a, s32, b, c32) and of every
 * lane of the interleaved kernels. Let u = 2^-24, and take rows whose
 * entries are each 0 (the double entry exactly 0) or a normal f32 of at
 * least RC_CERT_MIN_ROW = 2^-100 (a token with any other entry is never
 * served here: r32[0] is NULL). Each RN32 errs by at most u|v| (also
 * u|RN32(v)|) plus 2^-150 in the subnormal range, so against scalar's x_d:
 *   rows:       |A R0 + B R1 - (exact double rows)| <= u (|A||R0| + |B||R1|)
 *   product:    |RN32(B R1) - B R1|                 <= u |B||R1| + 2^-150
 *   final:      |r - (A R0 + RN32(B R1))|           <= u |r| + 2^-150
 *   scalar:     |x_d - exact with double rows|      <= 2^-51 S + 2^-1073
 * with S = |A||R0| + |B||R1|; and |r| <= (1 + u)^2 S + 2^-149, so
 *   D = |r - x_d| <= (1 + u)^2 u (2|A||R0| + 3|B||R1|) + 2^-51 S + 2^-148.
 * The kernels compute, with weights read from the rows (rc_cert_weights:
 * W0 = RN32(2 v |R0|), W1 = RN32(3 v |R1|), v = 2^-24 (1 + 2^-17); exact
 * in double before that one rounding, and normal since |R| >= 2^-100),
 *   E = RN32(|A| W0 + RN32(|B| W1 + 2^-126))        (two fmas)
 * Both sums are >= 2^-126 (RC_CERT_FLOOR), so each RN32 loses at most a
 * relative u:
 *   E >= (1 - u)^3 (1 + 2^-17) u (2|A||R0| + 3|B||R1|) + (1 - u) 2^-126
 *     >= (1 + 2^-18) u (2|A||R0| + 3|B||R1|) + 2^-127 >= D,
 * the 2^-18 u S covering scalar's 2^-51 S. E >= 2^-126 always, by
 * monotonicity. (Measured on bench data, Llama-3 f16: a first bound of
 * 4 u S refused 5.8% of vectors, u (|A||R0| + 2|B||R1| + |r|) 3.1% at
 * three more operations per result; this one sits between at two.)
 * The half layout's kernels compute one E for x and y, with both |R0| and
 * |R1| replaced by m = max(|c32|, |s32|) (rows W0(m), W1(m)): every term
 * only grows, so it bounds both, at half the operations and rows
 * (measured 3-7% faster than two bounds, though a little wider).
 *
 * THE CERTIFICATE. lo <= r - E and hi >= r + E (AVX-512: the
 * subtraction rounded down and the addition rounded up; units without
 * directed rounding use 2E rounded to nearest: RN32(r -/+ 2E) lies beyond
 * r -/+ (2E(1 - u) - u|r| - 2^-150), past D since E >= u|r|). Then
 * x_d lies in [lo, hi], and RN16 is monotonic, so
 *   RN16(lo) == RN16(hi) (the same bits)  implies  RN16(x_d) == RN16(lo),
 * which is scalar's result, bit for bit. Where the two differ (x_d within
 * about 2^-22 relative of a rounding boundary of the type: a few percent of
 * f16 vectors), or the result is not finite, the vector is done in double.
 *
 * BF16 KEYS (the certificate in integer form, for units without a bf16
 * conversion: avx2, neon, avx512 without AVX512-BF16). bf16 is the high
 * half of f32, so on the bits v
 * of a magnitude, down(v) = (v + 0x7FFF) >> 16 and up(v) = (v + 0x8000)
 * >> 16 are rounding to nearest with ties toward and away from zero: both
 * monotonic, equal to each other and to RN16 except at the midpoints
 * (low half 0x8000), where down < up. With m_lo <= |x_d| <= m_hi the
 * interval of magnitudes (|r| -/+ 2E rounded to nearest, or |r| - E
 * rounded down and |r| + E rounded up, as above; an r whose interval
 * reaches below 0 makes m_lo negative, its sign bit set):
 *   down(m_lo) == up(m_hi)  iff  no midpoint lies in [m_lo, m_hi]
 * (a midpoint m in it would give down(m_lo) <= down(m) < up(m) <=
 * up(m_hi); without one RN16 is constant there), and then RN16(|x_d|) =
 * RN16(|r|) = up(|r|), with x_d of r's sign: scalar's bits are r's sign
 * and (bits(|r|) + 0x8000) >> 16, whichever tie rule. The kernels test
 * the high half of (bits(m_lo) + 0x7FFF) ^ (bits(m_hi) + 0x8000) for zero,
 * with all ones or-ed in where r is not finite. The refusals below hold
 * as they stand: E >= 2^-126 puts a zero or subnormal r's m_lo at or below
 * 0 (its sign bit set, or +0 with a key whose high half is 0 against
 * m_hi >= 2^-125, whose high half is not).
 *
 * SPECIAL CASES, all refused (never certified):
 *   - a zero interval end: E >= 2^-126 > 0, so an r of 0 or below 2^-126
 *     gives lo < 0 < hi, whose RN16 differ in sign. This also keeps lo and
 *     hi out of the f32 subnormals that AVX512-BF16's conversion reads as
 *     zero: if |r| >= 2^-126 the end nearer 0 rounds to 0 or a subnormal
 *     while the other is normal.
 *   - NaN/Inf inputs, or a product that overflows f32 (bf16 data): r is
 *     then not finite (Inf * 0, Inf - Inf, Inf +/- finite; an overflowed
 *     RN32(B R1) makes r infinite or NaN), and the kernels refuse every
 *     lane whose r is not finite. A finite r has finite A and B, so E is
 *     finite or +Inf (then lo = -Inf, hi = +Inf: refused). With r and E
 *     finite an end that rounds to +/-Inf is a genuine overflow and the
 *     monotonicity argument holds as it stands. So no NaN ever reaches the
 *     rounding (the integer bf16 rounding would not keep one a NaN).
 *   - Subnormal f16/bf16 data: exact in f32; covered by the 2^-150 terms.
 *
 * tests/near_boundary.h (run by tests/test_certified.c for the x86 ports
 * and tests/test_runner.c for NEON) drives the kernels with pairs whose
 * x_d lies within 8 f32 ulps of a rounding boundary of the type, a fifth
 * of them inside the certificate's width, and checks scalar's bits (a
 * bound a quarter as wide as derived fails it; one half as wide does not).
 */
#ifndef ROPECHECK_IMPLS_COMMON_CERTIFIED_F32_H
#define ROPECHECK_IMPLS_COMMON_CERTIFIED_F32_H

#include <math.h>

#define RC_CERT_FLOOR 0x1p-126f
#define RC_CERT_MIN_ROW 0x1p-100f

/* One row entry rounded to f32 into *e32; 0 when the analysis above does
 * not cover it (nonzero and below RC_CERT_MIN_ROW in f32, or beyond the f32
 * range). */
static inline int rc_cert_row_entry(double e, float *e32)
{
    const float f = (float)e;
    *e32 = f;
    return e == 0.0 || (isfinite(f) && fabsf(f) >= RC_CERT_MIN_ROW);
}

/* The bound's weight of a row entry e32 (rc_cert_row_entry said yes) as
 * R0 (k = 2) or R1 (k = 3): RN32(k |e32| 2^-24 (1 + 2^-17)); the product
 * is exact in double (24 + 2 + 18 bits), so one rounding. */
static inline float rc_cert_weight(float e32, int k)
{
    return (float)((double)fabsf(e32) * (double)k * 0x1p-24 * (1.0 + 0x1p-17));
}

#endif /* ROPECHECK_IMPLS_COMMON_CERTIFIED_F32_H */
