/*
 * impls/neon/neon.c - RoPE with AArch64 Advanced SIMD (NEON): the scalar
 * port's arithmetic on two double lanes.
 *
 * ANGLES. Per token, sin/cos of every pair come from the shared exact-angle
 * code (impls/common/exact_angle.h) with impls/scalar's bits, filled two
 * pairs at a time by impls/neon/sincos_row_neon.c (a lane-by-lane
 * transcription of the scalar row), once per token, reused by every head:
 * speed must not come from cheaper angles. Two registry entries share
 * this code, as avx2 and avx512 do:
 * "neon" computes each token's angles just before rotating its heads
 * (fused); "neon-table" first fills a table for every position of the
 * call, then rotates all tokens x heads from it. The state, the rows, both
 * strategies and the loop over tokens and heads are
 * impls/common/port_state.h's (rc_angle_mode, rc_port_apply); this file
 * holds the head kernels, which read the plain cos/sin rows only (LD2/ST2
 * do the interleaving, so no il[] rows are asked for).
 *
 * ROTATION. Every operation of impls/scalar/scalar.c, in the same order,
 * with the same fmas (vfmaq_f64(acc, a, c) is fma(a, c, acc)), on
 * float64x2_t; built with -ffp-contract=off so the compiler adds no fusion
 * of its own. So the results are scalar's bits and scalar.c's error
 * analysis holds unchanged: about 0.5 pair ULP for f32/f16/bf16 (rounded
 * once from a double within 2^-25 ulp of exact), <= ~1.92 for f64.
 * Widening f32/f16/bf16 to double is exact (FCVTL; bf16 is a shift).
 * Narrowing a double once to f16/bf16: FCVTXN rounds to f32 with
 * round-to-odd, then FCVTN (f16) or an integer round-to-nearest-even
 * (bf16) rounds to the 16-bit type. Round-to-odd to >= p + 2 bits followed
 * by one round-to-nearest equals a single round-to-nearest (Boldo and
 * Melquiond, IEEE TC 2008); f32's 24 bits exceed 11 + 2 and 8 + 2, and its
 * range covers f16's and bf16's (bf16 subnormals lie on a grid 2^16 times
 * coarser than f32's), as impls/avx2 argues for the same trick.
 *
 * F16/BF16 AT F32 WIDTH. Four pairs per vector are rotated in f32 and
 * each result certified to be the double path's bits, or the four are
 * done in double (impls/common/certified_f32.h; rotate_16). Checked bit
 * for bit against scalar under qemu (tests/test_runner's aarch64 suite);
 * not timed on an ARM core.
 *
 * LAYOUTS. half: pair i is (i, i + r/2): contiguous loads of a's and b's.
 * interleaved: (2i, 2i + 1): LD2/ST2 split and rejoin them. A pair that
 * does not fill a vector (the tail) goes through scalar.c's per-pair code
 * (impls/common/rotate_pair.h).
 *
 * Special values (f64): as scalar.c, a pair whose double-double result is
 * not finite is recomputed with the plain fma formula, lane by lane.
 *
 * Thread safety: no static mutable state; the rows live in the state.
 */
#include "impls/neon/neon.h"

#include <arm_neon.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "impls/common/certified_f32.h"
#include "impls/common/port_state.h"
#include "impls/neon/sincos_row_neon.h"
#include "impls/common/rotate_pair.h"

static rc_status neon_prepare(const rc_spec *spec, void **state)
{
    return rc_port_state_create(spec, RC_ANGLES_FUSED, RC_ROWS_F32, rc_sincos_row_neon, state);
}

static rc_status neon_prepare_table(const rc_spec *spec, void **state)
{
    return rc_port_state_create(spec, RC_ANGLES_TABLE, RC_ROWS_F32, rc_sincos_row_neon, state);
}

/* ---- one pair, scalar.c's code (tails) ----------------------------------- */

static void pair_f32(const rc_port_state *st, const float *in, float *out, int64_t i,
                     int64_t ia, int64_t ib)
{
    const double a = in[ia], b = in[ib];
    double x, y;
    rc_rotate_pair_d(a, b, st->cos_hi[i], st->sin_hi[i], &x, &y);
    out[ia] = (float)x;
    out[ib] = (float)y;
}

/* scalar.c's rotate_f64 for one pair (a, b) -> (*x, *y). */
static void pair_f64_values(const rc_port_state *st, int64_t i, double a, double b, double *xo,
                            double *yo)
{
    rc_rotate_pair_f64(a, b, st->cos_hi[i], st->cos_lo[i], st->sin_hi[i], st->sin_lo[i], xo, yo);
}

/* ---- vector kernels ------------------------------------------------------ */

/* x = fma(a, c, -(b*s)), y = fma(a, s, b*c), lane by lane. */
static inline void rot2(float64x2_t a, float64x2_t b, float64x2_t c, float64x2_t s,
                        float64x2_t *x, float64x2_t *y)
{
    *x = vfmaq_f64(vnegq_f64(vmulq_f64(b, s)), a, c);
    *y = vfmaq_f64(vmulq_f64(b, c), a, s);
}

static void rotate_f32(const rc_port_state *st, const void *vin, void *vout)
{
    const float *in = vin;
    float *out = vout;
    const int64_t n = st->rotary_dim / 2;
    const int inter = st->layout == RC_LAYOUT_INTERLEAVED;
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float32x2_t av, bv;
        if (inter) {
            float32x2x2_t v = vld2_f32(in + 2 * i);
            av = v.val[0];
            bv = v.val[1];
        } else {
            av = vld1_f32(in + i);
            bv = vld1_f32(in + i + n);
        }
        float64x2_t x, y;
        rot2(vcvt_f64_f32(av), vcvt_f64_f32(bv), vld1q_f64(st->cos_hi + i),
             vld1q_f64(st->sin_hi + i), &x, &y);
        float32x2_t xf = vcvt_f32_f64(x), yf = vcvt_f32_f64(y); /* RN, once */
        if (inter) {
            float32x2x2_t w = {{xf, yf}};
            vst2_f32(out + 2 * i, w);
        } else {
            vst1_f32(out + i, xf);
            vst1_f32(out + i + n, yf);
        }
    }
    for (; i < n; i++)
        pair_f32(st, in, out, i, inter ? 2 * i : i, inter ? 2 * i + 1 : i + n);
}

/* Four 16-bit values to f32, exactly (FCVTL; bf16 is a shift). */
static inline float32x4_t widen16_f32(rc_dtype t, uint16x4_t u)
{
    return t == RC_DTYPE_F16 ? vcvt_f32_f16(vreinterpret_f16_u16(u))
                             : vreinterpretq_f32_u32(vshll_n_u16(u, 16));
}

/* Four 16-bit values to doubles, exactly: lo gets lanes 0-1, hi 2-3. */
static inline void widen16(rc_dtype t, uint16x4_t u, float64x2_t *lo, float64x2_t *hi)
{
    float32x4_t f = widen16_f32(t, u);
    *lo = vcvt_f64_f32(vget_low_f32(f));
    *hi = vcvt_high_f64_f32(f);
}

/* Four f32 to the 16-bit type, to nearest even: FCVTN (under the default
 * FPCR) for f16, integer arithmetic for bf16. Used by the double path
 * (narrow16) and by the certificate (certify4). */
static inline uint16x4_t f32_to_16(rc_dtype t, float32x4_t f)
{
    if (t == RC_DTYPE_F16)
        return vreinterpret_u16_f16(vcvt_f16_f32(f));
    uint32x4_t u = vreinterpretq_u32_f32(f);
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    uint32x4_t rn = vshrq_n_u32(vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7FFF), lsb)), 16);
    /* NaN: keep sign and top payload bits, force quiet (never rounds to
     * Inf). */
    uint32x4_t nan = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
    uint32x4_t is_num = vceqq_f32(f, f);
    return vmovn_u32(vbslq_u32(is_num, rn, nan));
}

/* Four doubles to the 16-bit type with one rounding (see the header):
 * round-to-odd to f32, then round-to-nearest-even to 16 bits. */
static inline uint16x4_t narrow16(rc_dtype t, float64x2_t lo, float64x2_t hi)
{
    return f32_to_16(t, vcvtx_high_f32_f64(vcvtx_f32_f64(lo), hi));
}

/* ---- f16/bf16 at f32 width, certified (impls/common/certified_f32.h) ----
 * impls/avx2's design on four f32 lanes (no directed rounding either: the
 * interval is r -/+ 2E rounded to nearest; bf16 by the certificate's
 * integer form), against the half layout's f32 rows in both layouts (LD2
 * splits interleaved pairs). A refused vector of four pairs is done in
 * double, as below. */

/* The f16 certificate for four results r with bounds e: 1 when every r is
 * finite and RN(r - 2e), RN(r + 2e) round to the same values (to *bits). */
static inline int certify4(rc_dtype t, float32x4_t r, float32x4_t e, uint16x4_t *bits)
{
    const float32x4_t e2 = vaddq_f32(e, e);
    const uint16x4_t rl = f32_to_16(t, vsubq_f32(r, e2)), rh = f32_to_16(t, vaddq_f32(r, e2));
    const uint32x4_t finite = vcltq_f32(vabsq_f32(r), vdupq_n_f32(INFINITY));
    *bits = rl;
    return vminvq_u32(finite) == UINT32_MAX && vminv_u16(vceq_u16(rl, rh)) == UINT16_MAX;
}

/* The bf16 certificate in integer form (certified_f32.h, BF16 KEYS) for
 * four results r with bound e: the keys (bits(|r| - 2e) + 0x7FFF) ^
 * (bits(|r| + 2e) + 0x8000), or-ed with all ones where r is not finite;
 * their high halves are all zero exactly where the lanes are certified. */
static inline uint32x4_t bf16_keys4(float32x4_t r, float32x4_t e2)
{
    const float32x4_t ar = vabsq_f32(r);
    const uint32x4_t lo = vaddq_u32(vreinterpretq_u32_f32(vsubq_f32(ar, e2)), vdupq_n_u32(0x7FFF));
    const uint32x4_t hi = vaddq_u32(vreinterpretq_u32_f32(vaddq_f32(ar, e2)), vdupq_n_u32(0x8000));
    const uint32x4_t finite = vcltq_f32(ar, vdupq_n_f32(INFINITY));
    return vornq_u32(veorq_u32(lo, hi), finite);
}

/* E = RN(|A| W0 + RN(|B| W1 + floor)) (vfmaq_f32(acc, p, q) = fma(p, q, acc)). */
static inline float32x4_t bound4(float32x4_t aa, const float *w0, float32x4_t ab, const float *w1)
{
    return vfmaq_f32(vfmaq_f32(vdupq_n_f32(RC_CERT_FLOOR), ab, vld1q_f32(w1)), aa,
                     vld1q_f32(w0));
}

/* Pairs i .. i+3 (a, b: their 16-bit inputs) at f32 width: 1 with *xu, *yu
 * certified, 0 when the caller must do them in double. */
static inline int pairs4_f32(const rc_port_state *st, rc_dtype t, uint16x4_t au, uint16x4_t bu,
                             int64_t i, uint16x4_t *xu, uint16x4_t *yu)
{
    const float32x4_t a = widen16_f32(t, au), b = widen16_f32(t, bu);
    const float32x4_t c = vld1q_f32(st->r32[0] + i), s = vld1q_f32(st->r32[1] + i);
    /* x = fma(a, c, -(b*s)), y = fma(a, s, b*c): scalar.c's order. */
    const float32x4_t x = vfmaq_f32(vnegq_f32(vmulq_f32(b, s)), a, c);
    const float32x4_t y = vfmaq_f32(vmulq_f32(b, c), a, s);
    /* One bound for x and y (F32 ROWS: weights of max(|c|, |s|)). */
    const float32x4_t e = bound4(vabsq_f32(a), st->r32[2] + i, vabsq_f32(b), st->r32[3] + i);
    if (t == RC_DTYPE_BF16) {
        const float32x4_t e2 = vaddq_f32(e, e);
        const uint32x4_t keys = vorrq_u32(bf16_keys4(x, e2), bf16_keys4(y, e2));
        if (vmaxvq_u32(vshrq_n_u32(keys, 16)) != 0)
            return 0;
        /* No midpoint near: to nearest is + 0x8000 whatever the tie rule. */
        *xu = vaddhn_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x8000));
        *yu = vaddhn_u32(vreinterpretq_u32_f32(y), vdupq_n_u32(0x8000));
        return 1;
    }
    return certify4(t, x, e, xu) & certify4(t, y, e, yu);
}

static void rotate_16(const rc_port_state *st, const void *vin, void *vout)
{
    const uint16_t *in = vin;
    uint16_t *out = vout;
    const int64_t n = st->rotary_dim / 2;
    const int inter = st->layout == RC_LAYOUT_INTERLEAVED;
    const rc_dtype t = st->dtype;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint16x4_t au, bu;
        if (inter) {
            uint16x4x2_t v = vld2_u16(in + 2 * i);
            au = v.val[0];
            bu = v.val[1];
        } else {
            au = vld1_u16(in + i);
            bu = vld1_u16(in + i + n);
        }
        uint16x4_t xu, yu;
        if (!st->r32[0] || !pairs4_f32(st, t, au, bu, i, &xu, &yu)) {
            float64x2_t a0, a1, b0, b1, x0, x1, y0, y1;
            widen16(t, au, &a0, &a1);
            widen16(t, bu, &b0, &b1);
            rot2(a0, b0, vld1q_f64(st->cos_hi + i), vld1q_f64(st->sin_hi + i), &x0, &y0);
            rot2(a1, b1, vld1q_f64(st->cos_hi + i + 2), vld1q_f64(st->sin_hi + i + 2), &x1,
                 &y1);
            xu = narrow16(t, x0, x1);
            yu = narrow16(t, y0, y1);
        }
        if (inter) {
            uint16x4x2_t w = {{xu, yu}};
            vst2_u16(out + 2 * i, w);
        } else {
            vst1_u16(out + i, xu);
            vst1_u16(out + i + n, yu);
        }
    }
    for (; i < n; i++)
        rc_rotate_elems(t, in, out, inter ? 2 * i : i, inter ? 2 * i + 1 : i + n, st->cos_hi[i],
                        st->sin_hi[i]);
}

/* rc_rotate_dd (impls/common/rotate_pair.h) on two lanes: error-free products, one rounding. */
static inline float64x2_t rotate_dd2(float64x2_t a, float64x2_t b, float64x2_t ch,
                                     float64x2_t cl, float64x2_t sh, float64x2_t sl)
{
    float64x2_t ph = vmulq_f64(a, ch), pl = vfmaq_f64(vnegq_f64(ph), a, ch);
    float64x2_t qh = vmulq_f64(b, sh), ql = vfmaq_f64(vnegq_f64(qh), b, sh);
    float64x2_t nq = vnegq_f64(qh);
    float64x2_t s = vaddq_f64(ph, nq);
    float64x2_t bb = vsubq_f64(s, ph);
    float64x2_t e = vaddq_f64(vsubq_f64(ph, vsubq_f64(s, bb)), vsubq_f64(nq, bb));
    float64x2_t lo = vaddq_f64(vsubq_f64(pl, ql), e);
    lo = vfmaq_f64(lo, a, cl);
    lo = vfmaq_f64(lo, vnegq_f64(b), sl);
    return vaddq_f64(s, lo);
}

static void rotate_f64(const rc_port_state *st, const void *vin, void *vout)
{
    const double *in = vin;
    double *out = vout;
    const int64_t n = st->rotary_dim / 2;
    const int inter = st->layout == RC_LAYOUT_INTERLEAVED;
    const float64x2_t tiny = vdupq_n_f64(RC_F64_TINY), up = vdupq_n_f64(RC_F64_UP),
                      down = vdupq_n_f64(RC_F64_DOWN);
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t a, b;
        if (inter) {
            float64x2x2_t v = vld2q_f64(in + 2 * i);
            a = v.val[0];
            b = v.val[1];
        } else {
            a = vld1q_f64(in + i);
            b = vld1q_f64(in + i + n);
        }
        const float64x2_t ch = vld1q_f64(st->cos_hi + i), cl = vld1q_f64(st->cos_lo + i);
        const float64x2_t sh = vld1q_f64(st->sin_hi + i), sl = vld1q_f64(st->sin_lo + i);
        /* |a| < tiny and |b| < tiny (FACLT), as scalar.c's `scaled`. */
        const uint64x2_t scaled = vandq_u64(vcaltq_f64(a, tiny), vcaltq_f64(b, tiny));
        const float64x2_t as = vbslq_f64(scaled, vmulq_f64(a, up), a);
        const float64x2_t bs = vbslq_f64(scaled, vmulq_f64(b, up), b);
        float64x2_t x = rotate_dd2(as, bs, ch, cl, sh, sl);
        float64x2_t y = rotate_dd2(bs, as, ch, cl, vnegq_f64(sh), vnegq_f64(sl));
        x = vbslq_f64(scaled, vmulq_f64(x, down), x);
        y = vbslq_f64(scaled, vmulq_f64(y, down), y);
        double xs[2], ys[2];
        vst1q_f64(xs, x);
        vst1q_f64(ys, y);
        if (!isfinite(xs[0]) || !isfinite(ys[0]) || !isfinite(xs[1]) || !isfinite(ys[1])) {
            double av[2], bv[2];
            vst1q_f64(av, a);
            vst1q_f64(bv, b);
            for (int k = 0; k < 2; k++)
                if (!isfinite(xs[k]) || !isfinite(ys[k]))
                    pair_f64_values(st, i + k, av[k], bv[k], &xs[k], &ys[k]);
        }
        if (inter) {
            float64x2x2_t w = {{vld1q_f64(xs), vld1q_f64(ys)}};
            vst2q_f64(out + 2 * i, w);
        } else {
            vst1q_f64(out + i, vld1q_f64(xs));
            vst1q_f64(out + i + n, vld1q_f64(ys));
        }
    }
    for (; i < n; i++)
        rc_port_pair_f64(st, in, out, i, inter ? 2 * i : i, inter ? 2 * i + 1 : i + n);
}

/* Passthrough channels: 16 bytes at a time, then what is left. */
static inline void copy_bytes(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8((uint8_t *)d + i, vld1q_u8((const uint8_t *)s + i));
    rc_port_copy_rest(d, s, i, n, 8);
}

RC_PORT_TOKEN_FN(, token_f32, rotate_f32, copy_bytes)
RC_PORT_TOKEN_FN(, token_f64, rotate_f64, copy_bytes)
RC_PORT_TOKEN_FN(, token_16, rotate_16, copy_bytes)

static rc_status neon_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    static const rc_port_token_fn tokens[RC_DTYPE_COUNT] = {
        [RC_DTYPE_F32] = token_f32,
        [RC_DTYPE_F64] = token_f64,
        [RC_DTYPE_F16] = token_16,
        [RC_DTYPE_BF16] = token_16,
    };
    rc_port_state *st = state;
    return rc_port_apply(st, st ? tokens[st->dtype] : NULL, in, out, positions, direction);
}

const rc_impl rc_impl_neon = {
    .abi_version = RC_ABI_VERSION,
    .name = "neon",
    .description = "AArch64 NEON, fused angles: exact angle per token (double-double, shared "
                   "with scalar) for all its heads; 2-lane double rotation, rounded once",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = NULL,
    .prepare = neon_prepare,
    .apply = neon_apply,
    .release = rc_port_state_destroy,
};

const rc_impl rc_impl_neon_table = {
    .abi_version = RC_ABI_VERSION,
    .name = "neon-table",
    .description = "AArch64 NEON, table angles: exact cos/sin table of all positions of the "
                   "call, then all tokens x heads; 2-lane double rotation, rounded once",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = NULL,
    .prepare = neon_prepare_table,
    .apply = neon_apply,
    .release = rc_port_state_destroy,
};
