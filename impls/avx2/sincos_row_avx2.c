/*
 * impls/avx2/sincos_row_avx2.c - the exact angle row on four double lanes.
 *
 * A transcription of impls/common/exact_angle.h (rc_exact_angle,
 * rc_exact_sincos_row) and impls/common/sincos_dd.h (rc_sincos_dd):
 * every scalar operation becomes the same operation on a lane, every fma
 * an fma (fma(a, b, -c) is _mm256_fmsub_pd(a, b, c), one rounding either
 * way), nearbyint is a round-to-nearest-even instruction, and the
 * quarter-turn swaps and sign flips are blends and sign-bit xors. The
 * file is built with -ffp-contract=off, so no other fusion happens. The
 * error analysis of those headers therefore holds unchanged, and the row
 * matches the scalar one bit for bit (tests/test_simd.c).
 *
 * Why it exists: the row is computed once per token and shared by its
 * heads, yet with libm's sin/cos it took more than half of this port's
 * time per token on Llama-3-8B shapes (40 heads); in four lanes it is a
 * small part, and the port went from 0.45 to 0.78 of the streaming probe
 * at prefill (ropecheck bench, f32).
 */
#include "impls/avx2/sincos_row_avx2.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>
#include <stddef.h>

#include "impls/common/exact_angle.h"

#if defined(__GNUC__)
#define RC_INLINE static inline __attribute__((always_inline))
#else
#define RC_INLINE static inline
#endif

typedef struct v4dd {
    __m256d hi, lo;
} v4dd;

RC_INLINE __m256d vneg(__m256d x)
{
    return _mm256_xor_pd(x, _mm256_set1_pd(-0.0));
}

/* core/dd.h, lane by lane. */
RC_INLINE v4dd v_two_sum(__m256d a, __m256d b)
{
    const __m256d s = _mm256_add_pd(a, b);
    const __m256d bb = _mm256_sub_pd(s, a);
    const __m256d e = _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(s, bb)), _mm256_sub_pd(b, bb));
    return (v4dd){s, e};
}

RC_INLINE v4dd v_fast_two_sum(__m256d a, __m256d b)
{
    const __m256d s = _mm256_add_pd(a, b);
    return (v4dd){s, _mm256_sub_pd(b, _mm256_sub_pd(s, a))};
}

RC_INLINE v4dd v_two_prod(__m256d a, __m256d b)
{
    const __m256d p = _mm256_mul_pd(a, b);
    return (v4dd){p, _mm256_fmsub_pd(a, b, p)};
}

RC_INLINE v4dd v_dd_add(v4dd x, v4dd y)
{
    const v4dd s = v_two_sum(x.hi, y.hi);
    const v4dd t = v_two_sum(x.lo, y.lo);
    const __m256d c = _mm256_add_pd(s.lo, t.hi);
    const v4dd v = v_fast_two_sum(s.hi, c);
    const __m256d w = _mm256_add_pd(t.lo, v.lo);
    return v_fast_two_sum(v.hi, w);
}

RC_INLINE v4dd v_dd_mul(v4dd x, __m256d yh, __m256d yl)
{
    const v4dd p = v_two_prod(x.hi, yh);
    __m256d t = _mm256_mul_pd(x.hi, yl);
    t = _mm256_fmadd_pd(x.lo, yh, t);
    return v_fast_two_sum(p.hi, _mm256_add_pd(p.lo, t));
}

RC_INLINE __m256d v_nearbyint(__m256d x)
{
    return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* rc_exact_angle. */
RC_INLINE v4dd v_exact_angle(__m256d md, __m256d th, __m256d tl)
{
    const v4dd p = v_two_prod(md, th);
    const __m256d q = _mm256_mul_pd(md, tl);
    const __m256d k = v_nearbyint(_mm256_mul_pd(p.hi, _mm256_set1_pd(RC_INV_2PI)));
    const v4dd a = v_two_prod(k, _mm256_set1_pd(RC_2PI_C0));
    const v4dd b = v_two_prod(k, _mm256_set1_pd(RC_2PI_C1));
    const __m256d c = _mm256_mul_pd(k, _mm256_set1_pd(RC_2PI_C2));
    v4dd r = v_dd_add(p, (v4dd){vneg(a.hi), vneg(a.lo)});
    r = v_dd_add(r, (v4dd){vneg(b.hi), vneg(b.lo)});
    return v_dd_add(r, (v4dd){_mm256_sub_pd(q, c), _mm256_setzero_pd()});
}

RC_INLINE __m256d v_horner(__m256d z, __m256d p, double k)
{
    return _mm256_fmadd_pd(p, z, _mm256_set1_pd(k));
}

/* rc_sincos_dd. */
RC_INLINE void v_sincos_dd(v4dd r, v4dd *s_out, v4dd *c_out)
{
    const __m256d j = v_nearbyint(_mm256_mul_pd(r.hi, _mm256_set1_pd(RC_2_OVER_PI)));
    const __m256d t = _mm256_fnmadd_pd(j, _mm256_set1_pd(RC_PIO2_P0), r.hi); /* fma(-j, P0, hi) */
    const __m256d l = _mm256_fnmadd_pd(j, _mm256_set1_pd(RC_PIO2_P1), r.lo);
    const v4dd x = v_two_sum(t, l);
    const __m256d z = _mm256_mul_pd(x.hi, x.hi);

    __m256d ps = _mm256_set1_pd(RC_SIN_K8);
    ps = v_horner(z, ps, RC_SIN_K7);
    ps = v_horner(z, ps, RC_SIN_K6);
    ps = v_horner(z, ps, RC_SIN_K5);
    ps = v_horner(z, ps, RC_SIN_K4);
    ps = v_horner(z, ps, RC_SIN_K3);
    ps = v_horner(z, ps, RC_SIN_K2);
    ps = v_horner(z, ps, RC_SIN_K1);
    const __m256d y = _mm256_mul_pd(_mm256_mul_pd(x.hi, z), ps);

    __m256d pc = _mm256_set1_pd(RC_COS_K9);
    pc = v_horner(z, pc, RC_COS_K8);
    pc = v_horner(z, pc, RC_COS_K7);
    pc = v_horner(z, pc, RC_COS_K6);
    pc = v_horner(z, pc, RC_COS_K5);
    pc = v_horner(z, pc, RC_COS_K4);
    pc = v_horner(z, pc, RC_COS_K3);
    pc = v_horner(z, pc, RC_COS_K2);
    const __m256d w = _mm256_mul_pd(_mm256_mul_pd(z, z), pc);
    const __m256d zl = _mm256_fmsub_pd(x.hi, x.hi, z);
    const __m256d half = _mm256_set1_pd(0.5);
    const v4dd one = v_two_sum(_mm256_set1_pd(1.0), vneg(_mm256_mul_pd(half, z)));
    const __m256d cl = _mm256_add_pd(_mm256_sub_pd(one.lo, _mm256_mul_pd(half, zl)), w);

    const v4dd sv =
        v_fast_two_sum(x.hi, _mm256_fmadd_pd(x.lo, _mm256_add_pd(one.hi, cl), y));
    const v4dd cv = v_fast_two_sum(
        one.hi, _mm256_fmadd_pd(vneg(x.lo), _mm256_add_pd(x.hi, y), cl));

    /* q = ((int)j + 4) & 3 per lane, as 64-bit masks: swap where q & 1,
     * negate sin where q & 2, cos where (q + 1) & 2. */
    const __m128i q = _mm_and_si128(_mm_add_epi32(_mm256_cvtpd_epi32(j), _mm_set1_epi32(4)),
                                    _mm_set1_epi32(3));
    const __m128i one32 = _mm_set1_epi32(1), two32 = _mm_set1_epi32(2);
    const __m256d swap = _mm256_castsi256_pd(
        _mm256_cvtepi32_epi64(_mm_cmpeq_epi32(_mm_and_si128(q, one32), one32)));
    const __m256d neg_s = _mm256_castsi256_pd(
        _mm256_cvtepi32_epi64(_mm_cmpeq_epi32(_mm_and_si128(q, two32), two32)));
    const __m256d neg_c = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(
        _mm_cmpeq_epi32(_mm_and_si128(_mm_add_epi32(q, one32), two32), two32)));
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d fs = _mm256_and_pd(neg_s, sign), fc = _mm256_and_pd(neg_c, sign);
    s_out->hi = _mm256_xor_pd(_mm256_blendv_pd(sv.hi, cv.hi, swap), fs);
    s_out->lo = _mm256_xor_pd(_mm256_blendv_pd(sv.lo, cv.lo, swap), fs);
    c_out->hi = _mm256_xor_pd(_mm256_blendv_pd(cv.hi, sv.hi, swap), fc);
    c_out->lo = _mm256_xor_pd(_mm256_blendv_pd(cv.lo, sv.lo, swap), fc);
}

void rc_sincos_row_avx2(int64_t m, int direction_inverse, int half, const double *theta_hi,
                        const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                        double *cos_lo, double *sin_lo)
{
    const int dd = cos_lo && sin_lo;
    const int scaled = !rc_scale_is_one(alpha);
    const __m256d md = _mm256_set1_pd((double)m);
    const __m256d ah = _mm256_set1_pd(alpha.hi), al = _mm256_set1_pd(alpha.lo);
    /* sign * x with sign = -1 is an exact sign flip, as a xor here. */
    const __m256d dir = _mm256_set1_pd(direction_inverse ? -0.0 : 0.0);
    int i = 0;
    for (; i + 4 <= half; i += 4) {
        v4dd s, c;
        v_sincos_dd(v_exact_angle(md, _mm256_loadu_pd(theta_hi + i), _mm256_loadu_pd(theta_lo + i)),
                    &s, &c);
        if (dd) {
            if (scaled) {
                s = v_dd_mul(s, ah, al);
                c = v_dd_mul(c, ah, al);
            }
            _mm256_storeu_pd(cos_hi + i, c.hi);
            _mm256_storeu_pd(cos_lo + i, c.lo);
            _mm256_storeu_pd(sin_hi + i, _mm256_xor_pd(s.hi, dir));
            _mm256_storeu_pd(sin_lo + i, _mm256_xor_pd(s.lo, dir));
        } else {
            __m256d sh = s.hi, ch = c.hi;
            if (scaled) {
                sh = _mm256_mul_pd(sh, ah);
                ch = _mm256_mul_pd(ch, ah);
            }
            _mm256_storeu_pd(cos_hi + i, ch);
            _mm256_storeu_pd(sin_hi + i, _mm256_xor_pd(sh, dir));
        }
    }
    if (i < half)
        rc_exact_sincos_row(m, direction_inverse, half - i, theta_hi + i, theta_lo + i, alpha,
                            cos_hi + i, sin_hi + i, dd ? cos_lo + i : NULL, dd ? sin_lo + i : NULL);
}

#else /* the compiler cannot target AVX2 + FMA */

#include "impls/common/exact_angle.h"

/* The avx2 ports then report themselves unavailable and never call this;
 * it exists so that the symbol resolves, and gives the scalar row. */
void rc_sincos_row_avx2(int64_t m, int direction_inverse, int half, const double *theta_hi,
                        const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                        double *cos_lo, double *sin_lo)
{
    rc_exact_sincos_row(m, direction_inverse, half, theta_hi, theta_lo, alpha, cos_hi, sin_hi,
                        cos_lo, sin_lo);
}

#endif
