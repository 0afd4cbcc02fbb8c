/*
 * impls/avx2/avx2.c - RoPE with AVX2 + FMA + F16C: the scalar port's
 * arithmetic, four pairs at a time.
 *
 * ANGLES. Per token, sin/cos of every pair come from the shared exact-angle
 * code (impls/common/exact_angle.h) with the same bits as impls/scalar:
 * speed must not come from cheaper angles. The row is filled four pairs
 * at a time by impls/avx2/sincos_row_avx2.c, a lane-by-lane transcription
 * of the scalar row (tests/test_sincos_row.c compares them bit for bit).
 * They are computed once per token into
 * the state's rows and reused by every head. Two strategies, two registry
 * entries sharing this code: "avx2" computes each token's angles just
 * before rotating its heads (fused); "avx2-table" first fills a table for
 * every position of the call, then rotates all tokens x heads from it, as
 * frameworks do with a cos/sin cache. The state, the rows, both strategies
 * and the loop over tokens and heads are impls/common/port_state.h's
 * (rc_angle_mode, rc_port_apply); this file holds the head kernels.
 *
 * ROTATION. Every operation of impls/scalar/scalar.c is done here in the
 * same order on double lanes, with the same fmas, so the results are the
 * same bits and scalar.c's error analysis applies unchanged:
 *   f32, f16, bf16: inputs widened exactly to double, x = fma(a, c, -(b*s)),
 *     y = fma(a, s, b*c), rounded once to the type: about 0.5 pair ULP
 *     (within 2^-24 ulp of correctly rounded).
 *   f64: a*c - b*s with error-free products and one final rounding
 *     (rc_rotate_dd of impls/common/rotate_pair.h), <= ~1.92 pair ULP below m = 2^31.
 * Rounding a double once to f16/bf16 without a double-to-half instruction:
 * first to f32 with round-to-odd (RO), then to the 16-bit type to nearest.
 * RO to a format with at least p + 2 bits followed by RN to p bits equals
 * a single RN (Boldo-Melquiond, "Emulation of FMA and correctly rounded
 * sums: proved algorithms using rounding to odd", IEEE TC 2008); f32 has 24
 * bits >= 11 + 2 and 8 + 2, and its exponent range covers f16's and bf16's
 * (bf16 subnormals sit on a grid 2^16 times coarser than f32's).
 *
 * F16/BF16 AT F32 WIDTH. Eight pairs per vector are rotated in f32 and
 * each result certified to be the double path's bits, or the vector is
 * done in double (impls/common/certified_f32.h; the kernels below). In
 * cache (Zen 4, Llama-3 shape) that is 2.3x faster for f16 and 2.5x for
 * bf16 than the double path with its round-to-odd store.
 *
 * LAYOUTS. half: pair i is (i, i + r/2), so four a's and four b's are two
 * contiguous loads. interleaved: (2i, 2i+1); a vector [a0 b0 a1 b1] is
 * rotated against rows arranged the same way (il[], port_state.h:
 * INTERLEAVED ROWS), so no shuffles across 128-bit lanes are needed. Pairs
 * that do not fill a vector (the tail) go through the per-pair code, which
 * is scalar.c's (rc_rotate_elems, impls/common/rotate_pair.h).
 *
 * Thread safety: no static mutable state; the rows live in the state,
 * which the ABI never uses from two calls at once.
 */
#include "impls/avx2/avx2.h"

#include <stdio.h>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "impls/avx2/sincos_row_avx2.h"
#include "impls/common/certified_f32.h"
#include "impls/common/port_state.h"
#include "impls/common/rotate_pair.h"

/* The kernels are written once for the three narrow types and
 * instantiated per type; forcing inlining turns the dtype switch in the
 * load/store helpers into straight-line code. */
#if defined(__GNUC__)
#define RC_INLINE static inline __attribute__((always_inline))
#else
#define RC_INLINE static inline
#endif

/* F16C from CPUID leaf 1 (ECX bit 29): not every compiler's
 * __builtin_cpu_supports knows the name. Its registers are the AVX ones,
 * whose OS support the avx2 check already covers. */
static int cpu_has_f16c(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ecx & (1u << 29)) != 0;
}

static int avx2_available(char *why, size_t why_len)
{
    __builtin_cpu_init();
    const char *missing = !__builtin_cpu_supports("avx2")  ? "avx2"
                          : !__builtin_cpu_supports("fma")  ? "fma"
                          : !cpu_has_f16c() ? "f16c"
                                                            : NULL;
    if (!missing)
        return 1;
    if (why && why_len)
        snprintf(why, why_len, "CPU lacks %s", missing);
    return 0;
}

static rc_status prepare_mode(const rc_spec *spec, void **state, rc_angle_mode mode)
{
    char why[160];
    if (!spec || !state)
        return RC_ERR_INVALID;
    *state = NULL;
    /* Never run AVX2 code on a CPU without it, whoever calls us. */
    if (!avx2_available(why, sizeof why))
        return RC_ERR_UNSUPPORTED;
    return rc_port_state_create(spec, mode, RC_ROWS_INTERLEAVED | RC_ROWS_F32, rc_sincos_row_avx2,
                                state);
}

static rc_status avx2_prepare(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, RC_ANGLES_FUSED);
}

static rc_status avx2_prepare_table(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, RC_ANGLES_TABLE);
}

/* ---- narrow types: four elements <-> four double lanes ---- */

/* 32-bit lanes 0, 2, 4, 6 of a 256-bit mask: a 4 x 64 mask as 4 x 32. */
RC_INLINE __m128i narrow_mask(__m256d m)
{
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(m), idx));
}

/* Double to f32 rounding to odd: of the two f32 values around x, the one
 * with an odd significand, unless x is exact. From f = RN(x): if x was
 * exact or f is odd, f is it; otherwise it is f's neighbour on x's side,
 * one step in the sign-magnitude bit pattern (toward zero if RN went away
 * from zero, else away). Works across the subnormal range, at zero
 * (+-0 -> +-smallest subnormal) and at overflow (Inf -> FLT_MAX); NaN and
 * Inf compare as exact and pass through. */
RC_INLINE __m128 cvt_pd_ps_odd(__m256d x)
{
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    const __m128i one = _mm_set1_epi32(1);
    const __m128 f = _mm256_cvtpd_ps(x);
    const __m256d back = _mm256_cvtps_pd(f);
    const __m128i inexact = narrow_mask(_mm256_cmp_pd(back, x, _CMP_NEQ_OQ));
    const __m128i away = narrow_mask(
        _mm256_cmp_pd(_mm256_and_pd(back, absmask), _mm256_and_pd(x, absmask), _CMP_GT_OQ));
    const __m128i fb = _mm_castps_si128(f);
    const __m128i even = _mm_cmpeq_epi32(_mm_and_si128(fb, one), _mm_setzero_si128());
    /* step = away ? -1 : +1, applied where inexact and even. */
    const __m128i step = _mm_and_si128(_mm_and_si128(inexact, even), _mm_or_si128(away, one));
    return _mm_castsi128_ps(_mm_add_epi32(fb, step));
}

/* f32 bits to bf16 bits, to nearest even; NaN stays NaN (quieted). In the
 * low 16 bits of each 32-bit lane. */
RC_INLINE __m128i f32_to_bf16_rne(__m128 f)
{
    const __m128i b = _mm_castps_si128(f);
    const __m128i lsb = _mm_and_si128(_mm_srli_epi32(b, 16), _mm_set1_epi32(1));
    const __m128i rounded =
        _mm_srli_epi32(_mm_add_epi32(_mm_add_epi32(b, _mm_set1_epi32(0x7FFF)), lsb), 16);
    const __m128i quiet = _mm_or_si128(_mm_srli_epi32(b, 16), _mm_set1_epi32(0x0040));
    const __m128i abs = _mm_and_si128(b, _mm_set1_epi32(0x7FFFFFFF));
    const __m128i nan = _mm_cmpgt_epi32(abs, _mm_set1_epi32(0x7F800000));
    return _mm_blendv_epi8(rounded, quiet, nan);
}

/* Elements idx .. idx+3 of an array of type t, exactly, as doubles. */
RC_INLINE __m256d load4(rc_dtype t, const void *base, int64_t idx)
{
    switch (t) {
    case RC_DTYPE_F16: {
        const __m128i h = _mm_loadl_epi64((const __m128i *)((const uint16_t *)base + idx));
        return _mm256_cvtps_pd(_mm_cvtph_ps(h));
    }
    case RC_DTYPE_BF16: {
        const __m128i h = _mm_loadl_epi64((const __m128i *)((const uint16_t *)base + idx));
        return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(h), 16)));
    }
    default:
        return _mm256_cvtps_pd(_mm_loadu_ps((const float *)base + idx));
    }
}

/* Round four doubles once to type t and store them at idx .. idx+3. */
RC_INLINE void store4(rc_dtype t, void *base, int64_t idx, __m256d v)
{
    switch (t) {
    case RC_DTYPE_F16: {
        const __m128i h = _mm_cvtps_ph(cvt_pd_ps_odd(v), _MM_FROUND_TO_NEAREST_INT);
        _mm_storel_epi64((__m128i *)((uint16_t *)base + idx), h);
        break;
    }
    case RC_DTYPE_BF16: {
        const __m128i w = f32_to_bf16_rne(cvt_pd_ps_odd(v));
        _mm_storel_epi64((__m128i *)((uint16_t *)base + idx), _mm_packus_epi32(w, w));
        break;
    }
    default:
        _mm_storeu_ps((float *)base + idx, _mm256_cvtpd_ps(v));
        break;
    }
}

/* half layout: a = channels i..i+3, b = i+n..i+n+3, against the rows
 * cos_hi, sin_hi (the caller reads st's pointers once: a store through
 * out may alias st as far as the compiler knows, and reloading them per
 * vector measured 6% slower in cache, f32 Llama-3 shape). Both loads come
 * before both stores, and iterations touch disjoint channels, so in place
 * is safe. */
RC_INLINE void half_pairs4(const double *cos_hi, const double *sin_hi, rc_dtype t, const void *in,
                           void *out, int64_t i, int64_t n)
{
    const __m256d a = load4(t, in, i), b = load4(t, in, i + n);
    const __m256d c = _mm256_loadu_pd(cos_hi + i), s = _mm256_loadu_pd(sin_hi + i);
    /* x = fma(a, c, -(b*s)); y = fma(a, s, b*c): scalar.c's order. */
    const __m256d x = _mm256_fmsub_pd(a, c, _mm256_mul_pd(b, s));
    const __m256d y = _mm256_fmadd_pd(a, s, _mm256_mul_pd(b, c));
    store4(t, out, i, x);
    store4(t, out, i + n, y);
}

/* Pairs i0 .. r/2 - 1 of a half-layout head in double. */
RC_INLINE void head_half_narrow_from(const rc_port_state *st, rc_dtype t, const void *in,
                                     void *out, int64_t i)
{
    const int64_t n = st->rotary_dim / 2;
    const double *const cos_hi = st->cos_hi, *const sin_hi = st->sin_hi;
    for (; i + 4 <= n; i += 4)
        half_pairs4(cos_hi, sin_hi, t, in, out, i, n);
    for (; i < n; i++)
        rc_rotate_elems(t, in, out, i, i + n, st->cos_hi[i], st->sin_hi[i]);
}

RC_INLINE void head_half_narrow(const rc_port_state *st, rc_dtype t, const void *in, void *out)
{
    head_half_narrow_from(st, t, in, out, 0);
}

/* interleaved layout: channels 2i .. 2i+3 hold pairs i, i+1; il0, il1:
 * st->il[0], st->il[1] (read once by the caller, as for half_pairs4). */
RC_INLINE void interleaved_pairs2(const double *il0, const double *il1, rc_dtype t,
                                  const void *in, void *out, int64_t i)
{
    const __m256d v = load4(t, in, 2 * i);           /* a0 b0 a1 b1 */
    const __m256d a = _mm256_movedup_pd(v);          /* a0 a0 a1 a1 */
    const __m256d b = _mm256_permute_pd(v, 0xF);     /* b0 b0 b1 b1 */
    const __m256d cs = _mm256_loadu_pd(il0 + 2 * i); /* c0 s0 .. */
    const __m256d sc = _mm256_loadu_pd(il1 + 2 * i); /* -s0 c0 .. */
    store4(t, out, 2 * i, _mm256_fmadd_pd(a, cs, _mm256_mul_pd(b, sc)));
}

RC_INLINE void head_interleaved_narrow_from(const rc_port_state *st, rc_dtype t, const void *in,
                                            void *out, int64_t i)
{
    const int64_t n = st->rotary_dim / 2;
    const double *const il0 = st->il[0], *const il1 = st->il[1];
    for (; i + 2 <= n; i += 2)
        interleaved_pairs2(il0, il1, t, in, out, i);
    for (; i < n; i++)
        rc_rotate_elems(t, in, out, 2 * i, 2 * i + 1, st->cos_hi[i], st->sin_hi[i]);
}

RC_INLINE void head_interleaved_narrow(const rc_port_state *st, rc_dtype t, const void *in,
                                       void *out)
{
    head_interleaved_narrow_from(st, t, in, out, 0);
}

/* ---- f16/bf16 at f32 width, certified (impls/common/certified_f32.h) ----
 * impls/avx512's design on eight f32 lanes, with two differences. AVX2 has
 * no directed rounding, so the interval is r -/+ 2E rounded to nearest
 * (certified_f32.h, THE CERTIFICATE); and no bf16 conversion, so bf16 uses
 * the certificate's integer form (BF16 KEYS there: measured 0.38 -> 0.28
 * ns per element in cache, Llama-3 shape, against rounding both interval
 * ends to bf16 in integer arithmetic). A refused vector is done in double
 * at once (AVX2 has no 16-bit masked store to defer it as avx512 does). */

/* Eight f16/bf16 elements, exactly, as f32. */
RC_INLINE __m256 load8_ps(rc_dtype t, const void *base, int64_t idx)
{
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + idx));
    if (t == RC_DTYPE_F16)
        return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The f16 certificate for eight results r with bounds e: 1 when every r
 * is finite and RN(r - 2e), RN(r + 2e) round to the same f16 values
 * (F16C, to nearest even), which go to *bits. */
RC_INLINE int certify8_f16(__m256 r, __m256 e, __m128i *bits)
{
    const __m256 e2 = _mm256_add_ps(e, e);
#define RC_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    const __m128i rl = _mm256_cvtps_ph(_mm256_sub_ps(r, e2), RC_NEAREST);
    const __m128i rh = _mm256_cvtps_ph(_mm256_add_ps(r, e2), RC_NEAREST);
#undef RC_NEAREST
    const __m256 absr = _mm256_and_ps(r, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
    const int finite =
        _mm256_movemask_ps(_mm256_cmp_ps(absr, _mm256_set1_ps(INFINITY), _CMP_LT_OQ));
    *bits = rl;
    return finite == 0xFF && _mm_movemask_epi8(_mm_cmpeq_epi16(rl, rh)) == 0xFFFF;
}

RC_INLINE __m256 abs8(__m256 v)
{
    return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
}

/* E = RN(|A| W0 + RN(|B| W1 + floor)) (certified_f32.h). */
RC_INLINE __m256 bound8(__m256 aa, const float *w0, __m256 ab, const float *w1)
{
    return _mm256_fmadd_ps(aa, _mm256_loadu_ps(w0),
                           _mm256_fmadd_ps(ab, _mm256_loadu_ps(w1),
                                           _mm256_set1_ps(RC_CERT_FLOOR)));
}

/* The bf16 certificate in integer form (certified_f32.h, BF16 KEYS) for
 * eight results r with bound e: the lanes' keys
 * (bits(|r| - 2e) + 0x7FFF) ^ (bits(|r| + 2e) + 0x8000), whose high
 * halves are all zero exactly where no bf16 midpoint lies in the
 * interval of magnitudes, or all ones for a lane whose r is not finite. */
RC_INLINE __m256i bf16_keys8(__m256 r, __m256 e2)
{
    const __m256 ar = abs8(r);
    const __m256i lo = _mm256_add_epi32(_mm256_castps_si256(_mm256_sub_ps(ar, e2)),
                                        _mm256_set1_epi32(0x7FFF));
    const __m256i hi = _mm256_add_epi32(_mm256_castps_si256(_mm256_add_ps(ar, e2)),
                                        _mm256_set1_epi32(0x8000));
    const __m256 inf = _mm256_cmp_ps(ar, _mm256_set1_ps(INFINITY), _CMP_NLT_UQ);
    return _mm256_or_si256(_mm256_xor_si256(lo, hi), _mm256_castps_si256(inf));
}

/* Eight certified bf16 results (no midpoint near any) in the low 16 bits
 * of their lanes: rounding to nearest is then (bits + 0x8000) >> 16
 * whatever the tie rule. */
RC_INLINE __m256i bf16_near8(__m256 r)
{
    return _mm256_srli_epi32(_mm256_add_epi32(_mm256_castps_si256(r), _mm256_set1_epi32(0x8000)),
                             16);
}

/* Sixteen certified bf16 results, x's eight to *xb, y's to *yb. */
RC_INLINE void bf16_round16(__m256 x, __m256 y, __m128i *xb, __m128i *yb)
{
    /* packus interleaves 128-bit halves: x0-3 y0-3 | x4-7 y4-7. */
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(bf16_near8(x), bf16_near8(y)),
                                               0xD8);
    *xb = _mm256_castsi256_si128(p);
    *yb = _mm256_extracti128_si256(p, 1);
}

/* Pairs i .. i+7 of the half layout at f32 width: 1 when all sixteen
 * results were certified and stored, 0 (nothing stored) otherwise. */
RC_INLINE int half_pairs8_f32(const rc_port_state *st, rc_dtype t, const void *in, void *out,
                              int64_t i, int64_t n)
{
    const __m256 a = load8_ps(t, in, i), b = load8_ps(t, in, i + n);
    const __m256 c = _mm256_loadu_ps(st->r32[0] + i), s = _mm256_loadu_ps(st->r32[1] + i);
    const __m256 x = _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s));
    const __m256 y = _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c));
    const __m256 aa = abs8(a), ab = abs8(b);
    /* One bound for x and y (F32 ROWS: weights of max(|c|, |s|)). */
    const __m256 e = bound8(aa, st->r32[2] + i, ab, st->r32[3] + i);
    __m128i xb, yb;
    if (t == RC_DTYPE_BF16) {
        const __m256 e2 = _mm256_add_ps(e, e);
        const __m256i keys = _mm256_or_si256(bf16_keys8(x, e2), bf16_keys8(y, e2));
        if (!_mm256_testz_si256(keys, _mm256_set1_epi32((int)0xFFFF0000u)))
            return 0;
        bf16_round16(x, y, &xb, &yb);
        _mm_storeu_si128((__m128i *)((uint16_t *)out + i), xb);
        _mm_storeu_si128((__m128i *)((uint16_t *)out + i + n), yb);
        return 1;
    }
    const int ok = certify8_f16(x, e, &xb) & certify8_f16(y, e, &yb);
    if (!ok)
        return 0;
    _mm_storeu_si128((__m128i *)((uint16_t *)out + i), xb);
    _mm_storeu_si128((__m128i *)((uint16_t *)out + i + n), yb);
    return 1;
}

/* Channels 2i .. 2i+7 (pairs i .. i+3) of the interleaved layout at f32
 * width; as half_pairs8_f32. */
RC_INLINE int interleaved_pairs4_f32(const rc_port_state *st, rc_dtype t, const void *in,
                                     void *out, int64_t i)
{
    const __m256 v = load8_ps(t, in, 2 * i); /* a0 b0 .. a3 b3 */
    const __m256 a = _mm256_moveldup_ps(v);   /* a0 a0 .. a3 a3 */
    const __m256 b = _mm256_movehdup_ps(v);   /* b0 b0 .. b3 b3 */
    const __m256 r = _mm256_fmadd_ps(a, _mm256_loadu_ps(st->r32[0] + 2 * i),
                                     _mm256_mul_ps(b, _mm256_loadu_ps(st->r32[1] + 2 * i)));
    const __m256 e = bound8(abs8(a), st->r32[2] + 2 * i, abs8(b), st->r32[3] + 2 * i);
    __m128i rb;
    if (t == RC_DTYPE_BF16) {
        if (!_mm256_testz_si256(bf16_keys8(r, _mm256_add_ps(e, e)),
                                _mm256_set1_epi32((int)0xFFFF0000u)))
            return 0;
        const __m256i rr = bf16_near8(r);
        rb = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(rr, rr), 0x08));
    } else if (!certify8_f16(r, e, &rb)) {
        return 0;
    }
    _mm_storeu_si128((__m128i *)((uint16_t *)out + 2 * i), rb);
    return 1;
}

/* f16/bf16 heads: eight pairs (four interleaved) at a time at f32 width,
 * a refused vector and the pairs that do not fill one in double; the
 * whole head in double for a token whose f32 rows are not usable. */
RC_INLINE void head_half_certified(const rc_port_state *st, rc_dtype t, const void *in,
                                   void *out)
{
    const int64_t n = st->rotary_dim / 2;
    int64_t i = 0;
    if (st->r32[0])
        for (; i + 8 <= n; i += 8)
            if (!half_pairs8_f32(st, t, in, out, i, n)) {
                half_pairs4(st->cos_hi, st->sin_hi, t, in, out, i, n);
                half_pairs4(st->cos_hi, st->sin_hi, t, in, out, i + 4, n);
            }
    head_half_narrow_from(st, t, in, out, i);
}

RC_INLINE void head_interleaved_certified(const rc_port_state *st, rc_dtype t, const void *in,
                                          void *out)
{
    const int64_t n = st->rotary_dim / 2;
    int64_t i = 0;
    if (st->r32[0])
        for (; i + 4 <= n; i += 4)
            if (!interleaved_pairs4_f32(st, t, in, out, i)) {
                interleaved_pairs2(st->il[0], st->il[1], t, in, out, i);
                interleaved_pairs2(st->il[0], st->il[1], t, in, out, i + 2);
            }
    head_interleaved_narrow_from(st, t, in, out, i);
}

RC_INLINE void head_half_f32(const rc_port_state *st, const void *in, void *out)
{
    head_half_narrow(st, RC_DTYPE_F32, in, out);
}
RC_INLINE void head_half_f16(const rc_port_state *st, const void *in, void *out)
{
    head_half_certified(st, RC_DTYPE_F16, in, out);
}
RC_INLINE void head_half_bf16(const rc_port_state *st, const void *in, void *out)
{
    head_half_certified(st, RC_DTYPE_BF16, in, out);
}
RC_INLINE void head_il_f32(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_narrow(st, RC_DTYPE_F32, in, out);
}
RC_INLINE void head_il_f16(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_certified(st, RC_DTYPE_F16, in, out);
}
RC_INLINE void head_il_bf16(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_certified(st, RC_DTYPE_BF16, in, out);
}

/* ---- f64 ---- */

/* rc_rotate_dd (impls/common/rotate_pair.h) on four lanes, operation for operation. */
RC_INLINE __m256d rotate_dd4(__m256d a, __m256d b, __m256d ch, __m256d cl, __m256d sh,
                             __m256d sl)
{
    const __m256d p = _mm256_mul_pd(a, ch);
    const __m256d pe = _mm256_fmsub_pd(a, ch, p); /* fma(a, ch, -p) */
    const __m256d q = _mm256_mul_pd(b, sh);
    const __m256d qe = _mm256_fmsub_pd(b, sh, q);
    /* two_sum(p, -q), with -q an exact sign flip (signed zeros too) */
    const __m256d nq = _mm256_xor_pd(q, _mm256_set1_pd(-0.0));
    const __m256d s = _mm256_add_pd(p, nq);
    const __m256d bb = _mm256_sub_pd(s, p);
    const __m256d e = _mm256_add_pd(_mm256_sub_pd(p, _mm256_sub_pd(s, bb)), _mm256_sub_pd(nq, bb));
    __m256d lo = _mm256_add_pd(_mm256_sub_pd(pe, qe), e);
    lo = _mm256_fmadd_pd(a, cl, lo);
    lo = _mm256_fnmadd_pd(b, sl, lo); /* fma(-b, sl, lo) */
    return _mm256_add_pd(s, lo);
}

/* Lanes where both |p| and |q| are below 2^-900: scalar.c scales them. */
RC_INLINE __m256d tiny_mask(__m256d p, __m256d q)
{
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    const __m256d tiny = _mm256_set1_pd(RC_F64_TINY);
    return _mm256_and_pd(_mm256_cmp_pd(_mm256_and_pd(p, absmask), tiny, _CMP_LT_OQ),
                         _mm256_cmp_pd(_mm256_and_pd(q, absmask), tiny, _CMP_LT_OQ));
}

/* 1 if all four lanes are finite. */
RC_INLINE int all_finite(__m256d x)
{
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    const __m256d big = _mm256_set1_pd(0x1.fffffffffffffp+1023);
    return _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(x, absmask), big, _CMP_LE_OQ)) == 0xF;
}

/* rotate_dd4 with scalar.c's scaling of tiny pairs. */
RC_INLINE __m256d rotate_scaled4(__m256d p, __m256d q, __m256d ch, __m256d cl, __m256d sh,
                                 __m256d sl)
{
    const __m256d m = tiny_mask(p, q);
    const __m256d up = _mm256_set1_pd(RC_F64_UP), down = _mm256_set1_pd(RC_F64_DOWN);
    const __m256d ps = _mm256_blendv_pd(p, _mm256_mul_pd(p, up), m);
    const __m256d qs = _mm256_blendv_pd(q, _mm256_mul_pd(q, up), m);
    const __m256d r = rotate_dd4(ps, qs, ch, cl, sh, sl);
    return _mm256_blendv_pd(r, _mm256_mul_pd(r, down), m);
}

RC_INLINE void head_half_f64(const rc_port_state *st, const void *vin, void *vout)
{
    const double *in = vin;
    double *out = vout;
    const int64_t n = st->rotary_dim / 2;
    const __m256d signbit = _mm256_set1_pd(-0.0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d a = _mm256_loadu_pd(in + i), b = _mm256_loadu_pd(in + i + n);
        const __m256d ch = _mm256_loadu_pd(st->cos_hi + i), cl = _mm256_loadu_pd(st->cos_lo + i);
        const __m256d sh = _mm256_loadu_pd(st->sin_hi + i), sl = _mm256_loadu_pd(st->sin_lo + i);
        const __m256d x = rotate_scaled4(a, b, ch, cl, sh, sl);
        const __m256d y = rotate_scaled4(b, a, ch, cl, _mm256_xor_pd(sh, signbit),
                                         _mm256_xor_pd(sl, signbit));
        if (all_finite(x) && all_finite(y)) {
            _mm256_storeu_pd(out + i, x);
            _mm256_storeu_pd(out + i + n, y);
        } else {
            /* Rare (NaN/Inf input, overflow): scalar.c's per-pair code,
             * which nothing stored yet has disturbed. */
            for (int64_t k = i; k < i + 4; k++)
                rc_port_pair_f64(st, in, out, k, k, k + n);
        }
    }
    for (; i < n; i++)
        rc_port_pair_f64(st, in, out, i, i, i + n);
}

RC_INLINE void head_il_f64(const rc_port_state *st, const void *vin, void *vout)
{
    const double *in = vin;
    double *out = vout;
    const int64_t n = st->rotary_dim / 2;
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const __m256d v = _mm256_loadu_pd(in + 2 * i); /* a0 b0 a1 b1 */
        const __m256d w = _mm256_permute_pd(v, 0x5);   /* b0 a0 b1 a1 */
        const __m256d r = rotate_scaled4(
            v, w, _mm256_loadu_pd(st->il[0] + 2 * i), _mm256_loadu_pd(st->il[1] + 2 * i),
            _mm256_loadu_pd(st->il[2] + 2 * i), _mm256_loadu_pd(st->il[3] + 2 * i));
        if (all_finite(r)) {
            _mm256_storeu_pd(out + 2 * i, r);
        } else {
            for (int64_t k = i; k < i + 2; k++)
                rc_port_pair_f64(st, in, out, k, 2 * k, 2 * k + 1);
        }
    }
    for (; i < n; i++)
        rc_port_pair_f64(st, in, out, i, 2 * i, 2 * i + 1);
}

/* ---- apply ---- */

/* Passthrough channels: 32 bytes at a time, then what is left. */
RC_INLINE void copy_bytes(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(d + i), _mm256_loadu_si256((const __m256i *)(s + i)));
    rc_port_copy_rest(d, s, i, n, 16);
}

RC_PORT_TOKEN_FN(, token_half_f32, head_half_f32, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_f64, head_half_f64, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_f16, head_half_f16, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_bf16, head_half_bf16, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f32, head_il_f32, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f64, head_il_f64, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f16, head_il_f16, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_bf16, head_il_bf16, copy_bytes)

static rc_port_token_fn pick_token_fn(rc_layout l, rc_dtype t)
{
    static rc_port_token_fn const half[RC_DTYPE_COUNT] = {token_half_f32, token_half_f64,
                                                          token_half_f16, token_half_bf16};
    static rc_port_token_fn const il[RC_DTYPE_COUNT] = {token_il_f32, token_il_f64, token_il_f16,
                                                        token_il_bf16};
    return l == RC_LAYOUT_HALF ? half[t] : il[t];
}

static rc_status avx2_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    rc_port_state *st = state;
    return rc_port_apply(st, st ? pick_token_fn(st->layout, st->dtype) : NULL, in, out, positions,
                         direction);
}

const rc_impl rc_impl_avx2 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx2",
    .description = "x86-64 AVX2+FMA+F16C, fused angles: "
                   "exact angle per token (double-double, shared with scalar) for all its "
                   "heads; 4-lane double rotation, rounded once",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = avx2_available,
    .prepare = avx2_prepare,
    .apply = avx2_apply,
    .release = rc_port_state_destroy,
};

const rc_impl rc_impl_avx2_table = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx2-table",
    .description = "x86-64 AVX2+FMA+F16C, table angles: "
                   "exact cos/sin table of all positions of the call, then all tokens x "
                   "heads; 4-lane double rotation, rounded once",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = avx2_available,
    .prepare = avx2_prepare_table,
    .apply = avx2_apply,
    .release = rc_port_state_destroy,
};

#else /* the compiler could not target AVX2: an honest, unavailable entry */

static int avx2_available(char *why, size_t why_len)
{
    if (why && why_len)
        snprintf(why, why_len, "not built: compiler lacks -mavx2 -mfma -mf16c");
    return 0;
}

static rc_status avx2_prepare(const rc_spec *spec, void **state)
{
    if (state)
        *state = NULL;
    return RC_ERR_UNSUPPORTED;
}

static rc_status avx2_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    return RC_ERR_UNSUPPORTED;
}

const rc_impl rc_impl_avx2 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx2",
    .description = "x86-64 AVX2+FMA+F16C (not built by this compiler)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS,
    .available = avx2_available,
    .prepare = avx2_prepare,
    .apply = avx2_apply,
    .release = NULL,
};

const rc_impl rc_impl_avx2_table = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx2-table",
    .description = "x86-64 AVX2+FMA+F16C table angles (not built by this compiler)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS,
    .available = avx2_available,
    .prepare = avx2_prepare,
    .apply = avx2_apply,
    .release = NULL,
};

#endif
