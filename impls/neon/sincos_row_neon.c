/*
 * impls/neon/sincos_row_neon.c - the exact angle row on two double lanes.
 *
 * A transcription of impls/common/exact_angle.h (rc_exact_angle,
 * rc_exact_sincos_row) and impls/common/sincos_dd.h (rc_sincos_dd), as
 * impls/avx2/sincos_row_avx2.c is for x86: each scalar operation becomes
 * the same lane operation. The fused forms: fma(a, b, c) is
 * vfmaq_f64(c, a, b); fma(-j, P, x) = RN(x - j*P) is vfmsq_f64(x, j, P);
 * fma(a, b, -p) is vfmaq_f64(-p, a, b). nearbyint is FRINTN (to nearest,
 * ties to even); the quarter turns are bit selects and sign-bit xors.
 * Built with -ffp-contract=off. So the error analysis of those headers
 * holds unchanged and the row is the scalar row's bits.
 */
#include "impls/neon/sincos_row_neon.h"

#include <arm_neon.h>
#include <stddef.h>

#include "impls/common/exact_angle.h"

typedef struct v2dd {
    float64x2_t hi, lo;
} v2dd;

static inline v2dd v_two_sum(float64x2_t a, float64x2_t b)
{
    const float64x2_t s = vaddq_f64(a, b);
    const float64x2_t bb = vsubq_f64(s, a);
    const float64x2_t e = vaddq_f64(vsubq_f64(a, vsubq_f64(s, bb)), vsubq_f64(b, bb));
    return (v2dd){s, e};
}

static inline v2dd v_fast_two_sum(float64x2_t a, float64x2_t b)
{
    const float64x2_t s = vaddq_f64(a, b);
    return (v2dd){s, vsubq_f64(b, vsubq_f64(s, a))};
}

static inline v2dd v_two_prod(float64x2_t a, float64x2_t b)
{
    const float64x2_t p = vmulq_f64(a, b);
    return (v2dd){p, vfmaq_f64(vnegq_f64(p), a, b)};
}

static inline v2dd v_dd_add(v2dd x, v2dd y)
{
    const v2dd s = v_two_sum(x.hi, y.hi);
    const v2dd t = v_two_sum(x.lo, y.lo);
    const float64x2_t c = vaddq_f64(s.lo, t.hi);
    const v2dd v = v_fast_two_sum(s.hi, c);
    const float64x2_t w = vaddq_f64(t.lo, v.lo);
    return v_fast_two_sum(v.hi, w);
}

static inline v2dd v_dd_mul(v2dd x, float64x2_t yh, float64x2_t yl)
{
    const v2dd p = v_two_prod(x.hi, yh);
    float64x2_t t = vmulq_f64(x.hi, yl);
    t = vfmaq_f64(t, x.lo, yh);
    return v_fast_two_sum(p.hi, vaddq_f64(p.lo, t));
}

static inline v2dd v_neg(v2dd x)
{
    return (v2dd){vnegq_f64(x.hi), vnegq_f64(x.lo)};
}

/* rc_exact_angle. */
static inline v2dd v_exact_angle(float64x2_t md, float64x2_t th, float64x2_t tl)
{
    const v2dd p = v_two_prod(md, th);
    const float64x2_t q = vmulq_f64(md, tl);
    const float64x2_t k = vrndnq_f64(vmulq_f64(p.hi, vdupq_n_f64(RC_INV_2PI)));
    const v2dd a = v_two_prod(k, vdupq_n_f64(RC_2PI_C0));
    const v2dd b = v_two_prod(k, vdupq_n_f64(RC_2PI_C1));
    const float64x2_t c = vmulq_f64(k, vdupq_n_f64(RC_2PI_C2));
    v2dd r = v_dd_add(p, v_neg(a));
    r = v_dd_add(r, v_neg(b));
    return v_dd_add(r, (v2dd){vsubq_f64(q, c), vdupq_n_f64(0.0)});
}

static inline float64x2_t v_horner(float64x2_t z, float64x2_t p, double k)
{
    return vfmaq_f64(vdupq_n_f64(k), p, z);
}

/* Where bit `bit` of q is set, flip the sign of x. */
static inline float64x2_t v_negate_where(float64x2_t x, int64x2_t q, int64_t bit)
{
    const uint64x2_t m = vtstq_s64(q, vdupq_n_s64(bit));
    const uint64x2_t sign = vandq_u64(m, vdupq_n_u64(0x8000000000000000ull));
    return vreinterpretq_f64_u64(veorq_u64(vreinterpretq_u64_f64(x), sign));
}

/* rc_sincos_dd. */
static inline void v_sincos_dd(v2dd r, v2dd *s_out, v2dd *c_out)
{
    const float64x2_t j = vrndnq_f64(vmulq_f64(r.hi, vdupq_n_f64(RC_2_OVER_PI)));
    const float64x2_t t = vfmsq_f64(r.hi, j, vdupq_n_f64(RC_PIO2_P0));
    const float64x2_t l = vfmsq_f64(r.lo, j, vdupq_n_f64(RC_PIO2_P1));
    const v2dd x = v_two_sum(t, l);
    const float64x2_t z = vmulq_f64(x.hi, x.hi);

    float64x2_t ps = vdupq_n_f64(RC_SIN_K8);
    ps = v_horner(z, ps, RC_SIN_K7);
    ps = v_horner(z, ps, RC_SIN_K6);
    ps = v_horner(z, ps, RC_SIN_K5);
    ps = v_horner(z, ps, RC_SIN_K4);
    ps = v_horner(z, ps, RC_SIN_K3);
    ps = v_horner(z, ps, RC_SIN_K2);
    ps = v_horner(z, ps, RC_SIN_K1);
    const float64x2_t y = vmulq_f64(vmulq_f64(x.hi, z), ps);

    float64x2_t pc = vdupq_n_f64(RC_COS_K9);
    pc = v_horner(z, pc, RC_COS_K8);
    pc = v_horner(z, pc, RC_COS_K7);
    pc = v_horner(z, pc, RC_COS_K6);
    pc = v_horner(z, pc, RC_COS_K5);
    pc = v_horner(z, pc, RC_COS_K4);
    pc = v_horner(z, pc, RC_COS_K3);
    pc = v_horner(z, pc, RC_COS_K2);
    const float64x2_t w = vmulq_f64(vmulq_f64(z, z), pc);
    const float64x2_t zl = vfmaq_f64(vnegq_f64(z), x.hi, x.hi);
    const float64x2_t half = vdupq_n_f64(0.5);
    const v2dd one = v_two_sum(vdupq_n_f64(1.0), vnegq_f64(vmulq_f64(half, z)));
    const float64x2_t cl = vaddq_f64(vsubq_f64(one.lo, vmulq_f64(half, zl)), w);

    const v2dd sv = v_fast_two_sum(x.hi, vfmaq_f64(y, x.lo, vaddq_f64(one.hi, cl)));
    const v2dd cv = v_fast_two_sum(one.hi, vfmaq_f64(cl, vnegq_f64(x.lo), vaddq_f64(x.hi, y)));

    /* q = ((int)j + 4) & 3: swap where q & 1, negate sin where q & 2,
     * cos where (q + 1) & 2. */
    const int64x2_t q = vandq_s64(vaddq_s64(vcvtq_s64_f64(j), vdupq_n_s64(4)), vdupq_n_s64(3));
    const uint64x2_t swap = vtstq_s64(q, vdupq_n_s64(1));
    const int64x2_t q1 = vaddq_s64(q, vdupq_n_s64(1));
    s_out->hi = v_negate_where(vbslq_f64(swap, cv.hi, sv.hi), q, 2);
    s_out->lo = v_negate_where(vbslq_f64(swap, cv.lo, sv.lo), q, 2);
    c_out->hi = v_negate_where(vbslq_f64(swap, sv.hi, cv.hi), q1, 2);
    c_out->lo = v_negate_where(vbslq_f64(swap, sv.lo, cv.lo), q1, 2);
}

void rc_sincos_row_neon(int64_t m, int direction_inverse, int half, const double *theta_hi,
                        const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                        double *cos_lo, double *sin_lo)
{
    const int dd = cos_lo && sin_lo;
    const int scaled = !rc_scale_is_one(alpha);
    const float64x2_t md = vdupq_n_f64((double)m);
    const float64x2_t ah = vdupq_n_f64(alpha.hi), al = vdupq_n_f64(alpha.lo);
    int i = 0;
    for (; i + 2 <= half; i += 2) {
        v2dd s, c;
        v_sincos_dd(v_exact_angle(md, vld1q_f64(theta_hi + i), vld1q_f64(theta_lo + i)), &s, &c);
        if (dd) {
            if (scaled) {
                s = v_dd_mul(s, ah, al);
                c = v_dd_mul(c, ah, al);
            }
            if (direction_inverse) /* sign * x, sign = -1: an exact flip */
                s = v_neg(s);
            vst1q_f64(cos_hi + i, c.hi);
            vst1q_f64(cos_lo + i, c.lo);
            vst1q_f64(sin_hi + i, s.hi);
            vst1q_f64(sin_lo + i, s.lo);
        } else {
            float64x2_t sh = s.hi, ch = c.hi;
            if (scaled) {
                sh = vmulq_f64(sh, ah);
                ch = vmulq_f64(ch, ah);
            }
            vst1q_f64(cos_hi + i, ch);
            vst1q_f64(sin_hi + i, direction_inverse ? vnegq_f64(sh) : sh);
        }
    }
    if (i < half)
        rc_exact_sincos_row(m, direction_inverse, half - i, theta_hi + i, theta_lo + i, alpha,
                            cos_hi + i, sin_hi + i, dd ? cos_lo + i : NULL, dd ? sin_lo + i : NULL);
}
