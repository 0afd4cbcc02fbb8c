/*
 * impls/avx512/avx512.c - RoPE with AVX-512 (F, BW, VL, DQ) + FMA + F16C:
 * impls/avx2's design on eight double lanes.
 *
 * ANGLES: per token, sin/cos of every pair from the shared exact-angle
 * code (impls/common/exact_angle.h), scalar's bits, filled four pairs at a
 * time by impls/avx2/sincos_row_avx2.c (AVX-512 CPUs have AVX2 and FMA;
 * the row is shared by every head, so wider lanes would gain little and
 * add code this project cannot run without an AVX-512 machine); reused
 * by every head of the token; "avx512-table" instead fills a table for all
 * positions of the call first. State, rows, both strategies and the loop
 * over tokens and heads: impls/common/port_state.h (rc_angle_mode,
 * rc_port_apply); this file holds the head kernels.
 *
 * ROTATION: every operation of impls/scalar/scalar.c in the same order on
 * double lanes with the same fmas, so results are scalar's bits and its
 * error analysis holds (f32/f16/bf16 ~0.5 pair ULP, f64 <= ~1.92 below
 * m = 2^31). Double to f16/bf16 is one rounding: double -> f32 rounding to
 * odd (truncate with the instruction's embedded rounding mode, then set
 * the last bit if any of the 29 dropped significand bits is set), then
 * f32 -> f16/bf16 to nearest (F16C; for bf16 AVX512-BF16's instruction
 * where the CPU has it, else integer arithmetic); see impls/avx2/avx2.c
 * for why that equals a single rounding. tests/test_narrow.c checks the
 * store at every f16/bf16 tie.
 *
 * BF16 AT F32 WIDTH: sixteen pairs per vector rotated in f32 against f32
 * rows (port_state.h, F32 ROWS), each result certified to be scalar's
 * bits or refused (impls/common/certified_f32.h: error bound, interval
 * rounded outward with embedded rounding, both ends rounding to the same
 * value); refused pairs (under 1% of vectors on bench data) go through
 * the double path above afterwards. The kernels are written for f16 too,
 * but f16 stays on the double path: on Zen 4 (the only AVX-512 core
 * measured) the certified f16 kernel ran at the double path's speed in
 * cache (the certificate, with four 512-bit VCVTPS2PH per vector, costs
 * as much as the rotation it checks, and ~4% of f16 vectors are refused)
 * and slower out of cache (the f32 rows are more bytes per token), while
 * bf16, whose double-path store is dearer, gains 1.8x in cache (with
 * VCVTNE2PS2BF16 converting the interval ends of x and y, 32 lanes, in two
 * instructions instead of four). To be measured again on an Intel core.
 * An integer form of the f16 certificate (BF16 KEYS' argument with f16's
 * 13-bit cut and a test that both interval ends lie in [2^-14, 2^16):
 * one VCVTPS2PH per result instead of three) was no faster on Zen 4
 * either: 0.222 ns per element in cache against the double path's 0.218
 * (Llama-3 shape), and on AVX2 0.31 against its two conversions' 0.26;
 * the integer operations cost what the conversions did.
 *
 * LAYOUTS: half = contiguous a's and b's; interleaved = [a0 b0 a1 b1 ..]
 * against rows laid out the same way (il[], port_state.h: INTERLEAVED
 * ROWS). Tails (pairs that do not fill a vector) of f32/f16/bf16 heads go
 * through the same arithmetic with masked loads and stores (load8_first);
 * f64 tails use scalar.c's per-pair code (rc_port_pair_f64).
 *
 * Never executed without avx512_available() saying yes: prepare() checks
 * it too. Thread safety: no static mutable state.
 */
#include "impls/avx512/avx512.h"

#include <stdio.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__FMA__) && defined(__F16C__)

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#include "impls/avx2/sincos_row_avx2.h"
#include "impls/common/certified_f32.h"
#include "impls/common/port_state.h"
#include "impls/common/rotate_pair.h"

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

static int avx512_available(char *why, size_t why_len)
{
    __builtin_cpu_init();
    const char *missing = !__builtin_cpu_supports("avx512f")    ? "avx512f"
                          : !__builtin_cpu_supports("avx512bw") ? "avx512bw"
                          : !__builtin_cpu_supports("avx512vl") ? "avx512vl"
                          : !__builtin_cpu_supports("avx512dq") ? "avx512dq"
                          : !__builtin_cpu_supports("avx2")     ? "avx2"
                          : !__builtin_cpu_supports("fma")      ? "fma"
                          : !cpu_has_f16c()     ? "f16c"
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
    if (!avx512_available(why, sizeof why))
        return RC_ERR_UNSUPPORTED;
    /* f32 rows for bf16 only: f16 stays on the double path (BF16 AT F32
     * WIDTH in the header). */
    const unsigned rows =
        RC_ROWS_INTERLEAVED | (spec->dtype == RC_DTYPE_BF16 ? RC_ROWS_F32 : 0u);
    return rc_port_state_create(spec, mode, rows, rc_sincos_row_avx2, state);
}

static rc_status avx512_prepare(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, RC_ANGLES_FUSED);
}

static rc_status avx512_prepare_table(const rc_spec *spec, void **state)
{
    return prepare_mode(spec, state, RC_ANGLES_TABLE);
}

/* ---- narrow types: eight elements <-> eight double lanes ---- */

/* Double to f32 rounding to odd: truncate (embedded rounding, no MXCSR
 * change), then set the last bit where that was inexact. For |x| >= 2^-126
 * (x a normal double, and the result f32-normal or overflowing) the bits
 * truncation drops are exactly the low 29 of x's significand, so one
 * integer test says "inexact" (two instructions fewer than converting
 * back and comparing). Beyond FLT_MAX truncation gives FLT_MAX, already
 * odd; Inf passes exact; a NaN may get its last payload bit set, which no
 * f16/bf16 conversion reads. Below 2^-126 (an f32-subnormal result) the
 * test misses dropped bits: harmless for f16, whose smallest rounding
 * boundary is 2^-25 (every such x rounds to a signed zero either way), and
 * bf16's store checks for it (store8). */
RC_INLINE __m256 cvt_pd_ps_odd(__m512d x)
{
    const __m256 t = _mm512_cvt_roundpd_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask8 inexact =
        _mm512_test_epi64_mask(_mm512_castpd_si512(x), _mm512_set1_epi64(0x1FFFFFFF));
    const __m256i tb = _mm256_castps_si256(t);
    return _mm256_castsi256_ps(_mm256_mask_or_epi32(tb, inexact, tb, _mm256_set1_epi32(1)));
}

/* The same, exact for every x (also f32-subnormal results): convert back
 * and compare. NaN and Inf compare unequal-ordered false, so they pass
 * unchanged. */
RC_INLINE __m256 cvt_pd_ps_odd_any(__m512d x)
{
    const __m256 t = _mm512_cvt_roundpd_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask8 inexact = _mm512_cmp_pd_mask(_mm512_cvtps_pd(t), x, _CMP_NEQ_OQ);
    const __m256i tb = _mm256_castps_si256(t);
    return _mm256_castsi256_ps(_mm256_mask_or_epi32(tb, inexact, tb, _mm256_set1_epi32(1)));
}

/* Whether a lane of x is nonzero and below 2^-126 in magnitude (the bf16
 * subnormal range, where cvt_pd_ps_odd's test is not enough). */
RC_INLINE int any_below_f32_normal(__m512d x)
{
    const __m512d a = _mm512_abs_pd(x);
    return (_mm512_cmp_pd_mask(a, _mm512_set1_pd(0x1p-126), _CMP_LT_OQ) &
            _mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_NEQ_OQ)) != 0;
}

/* f32 bits to bf16 bits (low 16 of each lane), nearest even, NaN quieted. */
RC_INLINE __m256i f32_to_bf16_rne(__m256 f)
{
    const __m256i b = _mm256_castps_si256(f);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x0040));
    const __m256i abs = _mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
    return _mm256_blendv_epi8(rounded, quiet, nan);
}

/* Double to bf16 bits, one rounding (odd to f32, then nearest even). */
RC_INLINE __m128i bf16_of8(__m512d v)
{
    const __m256 odd = any_below_f32_normal(v) ? cvt_pd_ps_odd_any(v) : cvt_pd_ps_odd(v);
    return _mm256_cvtepi32_epi16(f32_to_bf16_rne(odd));
}

/* The kernels' element kinds: the dtypes, plus bf16 stored through
 * AVX512-BF16's f32 -> bf16 instruction (VCVTNEPS2BF16: nearest even, NaN
 * quieted as f32_to_bf16_rne does, but f32-subnormal inputs read as zero,
 * so vectors with any value below 2^-126 take bf16_of8). Selected at run
 * time where the CPU has AVX512-BF16 (pick_head_fn). */
#define RC_BF16_NE ((rc_dtype)RC_DTYPE_COUNT)

__attribute__((target("avx512bf16"))) static inline __m128i bf16_of8_ne(__m512d v)
{
    if (any_below_f32_normal(v))
        return bf16_of8(v);
    return (__m128i)_mm256_cvtneps_pbh(cvt_pd_ps_odd(v));
}

static int cpu_has_avx512bf16(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16");
}

RC_INLINE __m512d load8(rc_dtype t, const void *base, int64_t idx)
{
    switch (t) {
    case RC_DTYPE_F16: {
        const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + idx));
        return _mm512_cvtps_pd(_mm256_cvtph_ps(h));
    }
    case RC_DTYPE_BF16:
    case RC_BF16_NE: {
        const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + idx));
        return _mm512_cvtps_pd(
            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
    }
    default:
        return _mm512_cvtps_pd(_mm256_loadu_ps((const float *)base + idx));
    }
}

RC_INLINE void store8(rc_dtype t, void *base, int64_t idx, __m512d v)
{
    switch (t) {
    case RC_DTYPE_F16: {
        const __m128i h = _mm256_cvtps_ph(cvt_pd_ps_odd(v), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)((uint16_t *)base + idx), h);
        break;
    }
    case RC_DTYPE_BF16:
        _mm_storeu_si128((__m128i *)((uint16_t *)base + idx), bf16_of8(v));
        break;
    case RC_BF16_NE:
        _mm_storeu_si128((__m128i *)((uint16_t *)base + idx), bf16_of8_ne(v));
        break;
    default:
        _mm256_storeu_ps((float *)base + idx, _mm512_cvtpd_ps(v));
        break;
    }
}

/* The first k < 8 elements (mask (1 << k) - 1): AVX-512's masked loads
 * and stores neither read nor write the other lanes' memory (no fault past
 * the end of a buffer), and a masked-out lane loads 0, whose rotation is
 * 0 and is never stored. Tails of a head go through these instead of the
 * per-pair scalar code: partial rotary (GPT-NeoX's 12 pairs) has a tail
 * on every head. */
RC_INLINE __m512d load8_first(rc_dtype t, const void *base, int64_t idx, __mmask8 k)
{
    switch (t) {
    case RC_DTYPE_F16: {
        const __m128i h = _mm_maskz_loadu_epi16(k, (const uint16_t *)base + idx);
        return _mm512_cvtps_pd(_mm256_cvtph_ps(h));
    }
    case RC_DTYPE_BF16:
    case RC_BF16_NE: {
        const __m128i h = _mm_maskz_loadu_epi16(k, (const uint16_t *)base + idx);
        return _mm512_cvtps_pd(
            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
    }
    default:
        return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, (const float *)base + idx));
    }
}

RC_INLINE void store8_first(rc_dtype t, void *base, int64_t idx, __m512d v, __mmask8 k)
{
    switch (t) {
    case RC_DTYPE_F16:
        _mm_mask_storeu_epi16((uint16_t *)base + idx, k,
                              _mm256_cvtps_ph(cvt_pd_ps_odd(v), _MM_FROUND_TO_NEAREST_INT));
        break;
    case RC_DTYPE_BF16:
        _mm_mask_storeu_epi16((uint16_t *)base + idx, k, bf16_of8(v));
        break;
    case RC_BF16_NE:
        _mm_mask_storeu_epi16((uint16_t *)base + idx, k, bf16_of8_ne(v));
        break;
    default:
        _mm256_mask_storeu_ps((float *)base + idx, k, _mm512_cvtpd_ps(v));
        break;
    }
}

rc_status rc_avx512_store8(rc_dtype t, int bf16_instruction, const double in[8], void *out)
{
    if (!in || !out || !avx512_available(NULL, 0) || t == RC_DTYPE_F64 ||
        (unsigned)t >= RC_DTYPE_COUNT)
        return RC_ERR_UNSUPPORTED;
    if (bf16_instruction && (t != RC_DTYPE_BF16 || !cpu_has_avx512bf16()))
        return RC_ERR_UNSUPPORTED;
    store8(bf16_instruction ? RC_BF16_NE : t, out, 0, _mm512_loadu_pd(in));
    return RC_OK;
}

/* One vector of up to eight pairs i.. of the half layout; k selects the
 * pairs (0xFF: all eight). */
RC_INLINE void half_pairs8(const rc_port_state *st, rc_dtype t, const void *in, void *out,
                           int64_t i, int64_t n, __mmask8 k)
{
    const __m512d a = load8_first(t, in, i, k), b = load8_first(t, in, i + n, k);
    const __m512d c = _mm512_maskz_loadu_pd(k, st->cos_hi + i);
    const __m512d s = _mm512_maskz_loadu_pd(k, st->sin_hi + i);
    const __m512d x = _mm512_fmsub_pd(a, c, _mm512_mul_pd(b, s));
    const __m512d y = _mm512_fmadd_pd(a, s, _mm512_mul_pd(b, c));
    store8_first(t, out, i, x, k);
    store8_first(t, out, i + n, y, k);
}

/* The body keeps plain loads and stores and only the tail goes through
 * half_pairs8: with an all-ones mask the masked path measured 5-10% slower
 * in cache for f16 (NeoX-20B here; the interleaved kernel likewise). */
RC_INLINE void head_half_narrow(const rc_port_state *st, rc_dtype t, const void *in, void *out)
{
    const int64_t n = st->rotary_dim / 2;
    /* Row pointers read once: as far as the compiler knows, a store
     * through out may change st. */
    const double *const cos_hi = st->cos_hi, *const sin_hi = st->sin_hi;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d a = load8(t, in, i), b = load8(t, in, i + n);
        const __m512d c = _mm512_loadu_pd(cos_hi + i), s = _mm512_loadu_pd(sin_hi + i);
        const __m512d x = _mm512_fmsub_pd(a, c, _mm512_mul_pd(b, s));
        const __m512d y = _mm512_fmadd_pd(a, s, _mm512_mul_pd(b, c));
        store8(t, out, i, x);
        store8(t, out, i + n, y);
    }
    if (t == RC_DTYPE_F32 && i + 4 <= n) {
        /* Four pairs at 256 bits before the masked tail (GPT-NeoX's 12:
         * 8 + 4 and no mask): measured 15% faster on NeoX-20B f32 in
         * cache than those four in the masked vector. */
        const float *a = (const float *)in + i;
        float *o = (float *)out + i;
        const __m256d av = _mm256_cvtps_pd(_mm_loadu_ps(a)), bv = _mm256_cvtps_pd(_mm_loadu_ps(a + n));
        const __m256d c = _mm256_loadu_pd(cos_hi + i), s = _mm256_loadu_pd(sin_hi + i);
        _mm_storeu_ps(o, _mm256_cvtpd_ps(_mm256_fmsub_pd(av, c, _mm256_mul_pd(bv, s))));
        _mm_storeu_ps(o + n, _mm256_cvtpd_ps(_mm256_fmadd_pd(av, s, _mm256_mul_pd(bv, c))));
        i += 4;
    }
    if (i < n)
        half_pairs8(st, t, in, out, i, n, (__mmask8)((1u << (n - i)) - 1));
}

/* One vector of up to four pairs i.. of the interleaved layout; k selects
 * their channels (0xFF: all four pairs). */
RC_INLINE void interleaved_pairs4(const rc_port_state *st, rc_dtype t, const void *in,
                                  void *out, int64_t i, __mmask8 k)
{
    const __m512d v = load8_first(t, in, 2 * i, k); /* a0 b0 .. a3 b3 */
    const __m512d a = _mm512_movedup_pd(v);        /* a0 a0 .. a3 a3 */
    const __m512d b = _mm512_permute_pd(v, 0xFF);  /* b0 b0 .. b3 b3 */
    const __m512d cs = _mm512_maskz_loadu_pd(k, st->il[0] + 2 * i);
    const __m512d sc = _mm512_maskz_loadu_pd(k, st->il[1] + 2 * i);
    store8_first(t, out, 2 * i, _mm512_fmadd_pd(a, cs, _mm512_mul_pd(b, sc)), k);
}

RC_INLINE void head_interleaved_narrow(const rc_port_state *st, rc_dtype t, const void *in,
                                       void *out)
{
    const int64_t n = st->rotary_dim / 2;
    const double *const il0 = st->il[0], *const il1 = st->il[1]; /* read once, as above */
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m512d v = load8(t, in, 2 * i);          /* a0 b0 .. a3 b3 */
        const __m512d a = _mm512_movedup_pd(v);         /* a0 a0 .. a3 a3 */
        const __m512d b = _mm512_permute_pd(v, 0xFF);   /* b0 b0 .. b3 b3 */
        const __m512d cs = _mm512_loadu_pd(il0 + 2 * i);
        const __m512d sc = _mm512_loadu_pd(il1 + 2 * i);
        store8(t, out, 2 * i, _mm512_fmadd_pd(a, cs, _mm512_mul_pd(b, sc)));
    }
    if (i < n)
        interleaved_pairs4(st, t, in, out, i, (__mmask8)((1u << (2 * (n - i))) - 1));
}

/* ---- f16/bf16 at f32 width, certified (impls/common/certified_f32.h) ---- */

/* Sixteen f16/bf16 elements (the first k of them; k = 0xFFFF for all,
 * which the compiler turns into a plain load), exactly as f32. */
RC_INLINE __m512 load16(rc_dtype t, const void *base, int64_t idx, __mmask16 k)
{
    const uint16_t *p = (const uint16_t *)base + idx;
    const __m256i h = k == 0xFFFF ? _mm256_loadu_si256((const __m256i *)p)
                                  : _mm256_maskz_loadu_epi16(k, p);
    if (t == RC_DTYPE_F16)
        return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

RC_INLINE void store16(void *base, int64_t idx, __m256i v, __mmask16 k)
{
    uint16_t *p = (uint16_t *)base + idx;
    if (k == 0xFFFF)
        _mm256_storeu_si256((__m256i *)p, v);
    else
        _mm256_mask_storeu_epi16(p, k, v);
}

__attribute__((target("avx512bf16"))) static inline __m256i bf16_of16_ne(__m512 v)
{
    return (__m256i)_mm512_cvtneps_pbh(v);
}

/* Thirty-two f32 to bf16 bits in one instruction (VCVTNE2PS2BF16): lanes
 * 0-15 from lo, 16-31 from hi. */
__attribute__((target("avx512bf16"))) static inline __m512i bf16_of32_ne(__m512 lo, __m512 hi)
{
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* f32 to the type's bits, to nearest even: F16C for f16, AVX512-BF16's
 * VCVTNEPS2BF16 for RC_BF16_NE (f32 subnormals read as zero, which the
 * certificate tolerates, certified_f32.h). Only for those two: bf16
 * without the instruction takes the certificate's integer form instead
 * (bf16_keys_ok16, bf16_near16), and never reaches here. */
RC_INLINE __m256i round16(rc_dtype t, __m512 v)
{
    if (t == RC_DTYPE_F16)
        return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return bf16_of16_ne(v);
}

/* The certificate of certified_f32.h for sixteen results r with bounds e:
 * the lanes whose r is finite and whose interval [r - e rounded down,
 * r + e rounded up] rounds to one value of the type, which goes to *bits. */
RC_INLINE __mmask16 certify16(rc_dtype t, __m512 r, __m512 e, __m256i *bits)
{
    const __m512 lo = _mm512_sub_round_ps(r, e, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 hi = _mm512_add_round_ps(r, e, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
    const __m256i rl = round16(t, lo), rh = round16(t, hi);
    /* fpclass 0x99: QNaN, SNaN, +Inf, -Inf. */
    const __mmask16 finite = (__mmask16)~_mm512_fpclass_ps_mask(r, 0x99);
    *bits = rl;
    return _mm256_mask_cmpeq_epi16_mask(finite, rl, rh);
}

/* |v| */
RC_INLINE __m512 abs16(__m512 v)
{
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF)));
}

/* The bound E = RN(|A| W0 + RN(|B| W1 + floor)) of certified_f32.h. */
RC_INLINE __m512 bound16(__m512 aa, __m512 w0, __m512 ab, __m512 w1)
{
    return _mm512_fmadd_ps(aa, w0, _mm512_fmadd_ps(ab, w1, _mm512_set1_ps(RC_CERT_FLOOR)));
}

/* The bf16 certificate in integer form (certified_f32.h, BF16 KEYS) for
 * sixteen results r with bounds e, the interval of magnitudes |r| - e
 * rounded down, |r| + e rounded up: the lanes whose r is finite and whose
 * keys (bits(lo) + 0x7FFF) ^ (bits(hi) + 0x8000) have a zero high half.
 * Without AVX512-BF16 this replaces rounding both ends to bf16 in integer
 * arithmetic (measured 0.286 -> 0.213 ns/element in cache, Llama-3
 * shape, through rc_impl_avx512_int_bf16 on Zen 4). */
RC_INLINE __mmask16 bf16_keys_ok16(__m512 r, __m512 e)
{
    const __m512 ar = abs16(r);
    const __m512i lo = _mm512_add_epi32(
        _mm512_castps_si512(_mm512_sub_round_ps(ar, e, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)),
        _mm512_set1_epi32(0x7FFF));
    const __m512i hi = _mm512_add_epi32(
        _mm512_castps_si512(_mm512_add_round_ps(ar, e, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)),
        _mm512_set1_epi32(0x8000));
    /* fpclass 0x99: QNaN, SNaN, +Inf, -Inf. */
    const __mmask16 finite = (__mmask16)~_mm512_fpclass_ps_mask(r, 0x99);
    return _mm512_mask_testn_epi32_mask(finite, _mm512_xor_si512(lo, hi),
                                        _mm512_set1_epi32((int)0xFFFF0000u));
}

/* Sixteen certified bf16 results: no midpoint near, so to nearest is
 * + 0x8000 whatever the tie rule (certified_f32.h, BF16 KEYS). */
RC_INLINE __m256i bf16_near16(__m512 r)
{
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(
        _mm512_add_epi32(_mm512_castps_si512(r), _mm512_set1_epi32(0x8000)), 16));
}

/* Pairs i .. i+15 of the half layout (k: which of them) at f32 width:
 * stores the pairs whose x and y are both certified and returns the
 * others of k, which the caller does in double. In place (inplace 1) a
 * pair is stored whole or not at all, so its inputs are still there for
 * that; out of place every pair of k is stored, the refused ones to be
 * overwritten (plain stores: measured 5% faster in cache than masked ones,
 * bf16 Llama-3 shape on Zen 4). */
RC_INLINE __mmask16 half_pairs16_f32(const rc_port_state *st, rc_dtype t, const void *in, void *out,
                               int64_t i, int64_t n, __mmask16 k, int inplace)
{
    const __m512 a = load16(t, in, i, k), b = load16(t, in, i + n, k);
    const __m512 c = _mm512_maskz_loadu_ps(k, st->r32[0] + i);
    const __m512 s = _mm512_maskz_loadu_ps(k, st->r32[1] + i);
    const __m512 x = _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s));
    const __m512 y = _mm512_fmadd_ps(a, s, _mm512_mul_ps(b, c));
    const __m512 aa = abs16(a), ab = abs16(b);
    /* One bound for x and y (the half layout's weights take the larger of
     * |c|, |s|: F32 ROWS). */
    const __m512 e = bound16(aa, _mm512_maskz_loadu_ps(k, st->r32[2] + i), ab,
                             _mm512_maskz_loadu_ps(k, st->r32[3] + i));
    if (t == RC_BF16_NE) {
        /* certify16 for x and y at once: the four interval ends in two
         * conversions of 32 lanes ([x | y] low ends, then high ends) and
         * one compare. */
#define RC_DOWN (_MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
#define RC_UP (_MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)
        const __m512i lo =
            bf16_of32_ne(_mm512_sub_round_ps(x, e, RC_DOWN), _mm512_sub_round_ps(y, e, RC_DOWN));
        const __m512i hi =
            bf16_of32_ne(_mm512_add_round_ps(x, e, RC_UP), _mm512_add_round_ps(y, e, RC_UP));
#undef RC_DOWN
#undef RC_UP
        const __mmask32 finite = ~((__mmask32)_mm512_fpclass_ps_mask(x, 0x99) |
                                   (__mmask32)_mm512_fpclass_ps_mask(y, 0x99) << 16);
        const __mmask32 same = _mm512_mask_cmpeq_epi16_mask(finite, lo, hi);
        const __mmask16 ok = (__mmask16)(same & (same >> 16)) & k;
        store16(out, i, _mm512_castsi512_si256(lo), inplace ? ok : k);
        store16(out, i + n, _mm512_extracti64x4_epi64(lo, 1), inplace ? ok : k);
        return (__mmask16)(k & ~ok);
    }
    __m256i xb, yb;
    __mmask16 ok;
    if (t == RC_DTYPE_BF16) {
        ok = bf16_keys_ok16(x, e) & bf16_keys_ok16(y, e) & k;
        xb = bf16_near16(x);
        yb = bf16_near16(y);
    } else {
        ok = certify16(t, x, e, &xb) & certify16(t, y, e, &yb) & k;
    }
    store16(out, i, xb, inplace ? ok : k);
    store16(out, i + n, yb, inplace ? ok : k);
    return (__mmask16)(k & ~ok);
}

/* Channels 2i .. 2i+15 (pairs i .. i+7) of the interleaved layout at f32
 * width against the interleaved f32 rows; as half_pairs16_f32, the
 * returned mask by channel (both channels of a refused pair set). */
RC_INLINE __mmask16 interleaved_pairs8_f32(const rc_port_state *st, rc_dtype t, const void *in,
                                     void *out, int64_t i, __mmask16 k)
{
    const __m512 v = load16(t, in, 2 * i, k); /* a0 b0 .. a7 b7 */
    const __m512 a = _mm512_moveldup_ps(v);    /* a0 a0 .. a7 a7 */
    const __m512 b = _mm512_movehdup_ps(v);    /* b0 b0 .. b7 b7 */
    const __m512 cs = _mm512_maskz_loadu_ps(k, st->r32[0] + 2 * i);
    const __m512 sc = _mm512_maskz_loadu_ps(k, st->r32[1] + 2 * i);
    const __m512 w0 = _mm512_maskz_loadu_ps(k, st->r32[2] + 2 * i);
    const __m512 w1 = _mm512_maskz_loadu_ps(k, st->r32[3] + 2 * i);
    const __m512 r = _mm512_fmadd_ps(a, cs, _mm512_mul_ps(b, sc));
    const __m512 e = bound16(abs16(a), w0, abs16(b), w1);
    __m256i rb;
    __mmask16 ok;
    if (t == RC_DTYPE_BF16) {
        ok = bf16_keys_ok16(r, e);
        rb = bf16_near16(r);
    } else {
        ok = certify16(t, r, e, &rb);
    }
    ok &= (__mmask16)(ok >> 1) & 0x5555; /* a pair: both its channels */
    ok = (__mmask16)((ok | (ok << 1)) & k);
    store16(out, 2 * i, rb, ok);
    return (__mmask16)(k & ~ok);
}

/* f16/bf16 heads: sixteen pairs (eight interleaved) at a time at f32
 * width, storing the certified pairs; then the refused ones in double
 * (half_pairs8, interleaved_pairs4: scalar's arithmetic), after the loop,
 * so that the loop has no data-dependent branch (a refusal is rare and
 * unpredictable: a branch per vector cost more than the work it skipped).
 * The whole head in double for a token whose f32 rows are not usable
 * (r32[0] NULL). Heads have at most RC_MAX_HEAD_DIM / 2 pairs, so
 * RC_MAX_HEAD_DIM / 16 vectors. */
RC_INLINE void head_half_certified(const rc_port_state *st, rc_dtype t, const void *in,
                                   void *out)
{
    if (!st->r32[0]) {
        head_half_narrow(st, t, in, out);
        return;
    }
    const int64_t n = st->rotary_dim / 2;
    __mmask16 refused[RC_MAX_HEAD_DIM / 32 + 1];
    __mmask16 any = 0;
    int64_t v = 0, i = 0;
    if (in == out) {
        for (; i + 16 <= n; i += 16, v++)
            any |= refused[v] = half_pairs16_f32(st, t, in, out, i, n, 0xFFFF, 1);
    } else {
        for (; i + 16 <= n; i += 16, v++)
            any |= refused[v] = half_pairs16_f32(st, t, in, out, i, n, 0xFFFF, 0);
    }
    if (i < n)
        any |= refused[v++] = half_pairs16_f32(st, t, in, out, i, n,
                                                (__mmask16)((1u << (n - i)) - 1), 1);
    if (!any)
        return;
    for (int64_t w = 0; w < v; w++) {
        if (refused[w] & 0xFF)
            half_pairs8(st, t, in, out, 16 * w, n, (__mmask8)refused[w]);
        if (refused[w] >> 8)
            half_pairs8(st, t, in, out, 16 * w + 8, n, (__mmask8)(refused[w] >> 8));
    }
}

RC_INLINE void head_interleaved_certified(const rc_port_state *st, rc_dtype t, const void *in,
                                          void *out)
{
    if (!st->r32[0]) {
        head_interleaved_narrow(st, t, in, out);
        return;
    }
    const int64_t n = st->rotary_dim / 2;
    __mmask16 refused[RC_MAX_HEAD_DIM / 16 + 1];
    __mmask16 any = 0;
    int64_t v = 0, i = 0;
    for (; i + 8 <= n; i += 8, v++)
        any |= refused[v] = interleaved_pairs8_f32(st, t, in, out, i, 0xFFFF);
    if (i < n)
        any |= refused[v++] = interleaved_pairs8_f32(st, t, in, out, i,
                                                      (__mmask16)((1u << (2 * (n - i))) - 1));
    if (!any)
        return;
    for (int64_t w = 0; w < v; w++) {
        if (refused[w] & 0xFF)
            interleaved_pairs4(st, t, in, out, 8 * w, (__mmask8)refused[w]);
        if (refused[w] >> 8)
            interleaved_pairs4(st, t, in, out, 8 * w + 4, (__mmask8)(refused[w] >> 8));
    }
}

RC_INLINE void head_half_f32(const rc_port_state *st, const void *in, void *out)
{
    head_half_narrow(st, RC_DTYPE_F32, in, out);
}
RC_INLINE void head_half_f16(const rc_port_state *st, const void *in, void *out)
{
    head_half_narrow(st, RC_DTYPE_F16, in, out);
}
RC_INLINE void head_half_bf16(const rc_port_state *st, const void *in, void *out)
{
    head_half_certified(st, RC_DTYPE_BF16, in, out);
}
RC_INLINE void head_half_bf16_ne(const rc_port_state *st, const void *in, void *out)
{
    head_half_certified(st, RC_BF16_NE, in, out);
}
RC_INLINE void head_il_bf16_ne(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_certified(st, RC_BF16_NE, in, out);
}
RC_INLINE void head_il_f32(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_narrow(st, RC_DTYPE_F32, in, out);
}
RC_INLINE void head_il_f16(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_narrow(st, RC_DTYPE_F16, in, out);
}
RC_INLINE void head_il_bf16(const rc_port_state *st, const void *in, void *out)
{
    head_interleaved_certified(st, RC_DTYPE_BF16, in, out);
}

/* ---- f64 ---- */

RC_INLINE __m512d rotate_dd8(__m512d a, __m512d b, __m512d ch, __m512d cl, __m512d sh,
                             __m512d sl)
{
    const __m512d p = _mm512_mul_pd(a, ch);
    const __m512d pe = _mm512_fmsub_pd(a, ch, p);
    const __m512d q = _mm512_mul_pd(b, sh);
    const __m512d qe = _mm512_fmsub_pd(b, sh, q);
    const __m512d nq = _mm512_xor_pd(q, _mm512_set1_pd(-0.0));
    const __m512d s = _mm512_add_pd(p, nq);
    const __m512d bb = _mm512_sub_pd(s, p);
    const __m512d e = _mm512_add_pd(_mm512_sub_pd(p, _mm512_sub_pd(s, bb)), _mm512_sub_pd(nq, bb));
    __m512d lo = _mm512_add_pd(_mm512_sub_pd(pe, qe), e);
    lo = _mm512_fmadd_pd(a, cl, lo);
    lo = _mm512_fnmadd_pd(b, sl, lo);
    return _mm512_add_pd(s, lo);
}

RC_INLINE __m512d rotate_scaled8(__m512d p, __m512d q, __m512d ch, __m512d cl, __m512d sh,
                                 __m512d sl)
{
    const __m512d tiny = _mm512_set1_pd(RC_F64_TINY);
    const __mmask8 m = _mm512_cmp_pd_mask(_mm512_abs_pd(p), tiny, _CMP_LT_OQ) &
                       _mm512_cmp_pd_mask(_mm512_abs_pd(q), tiny, _CMP_LT_OQ);
    const __m512d up = _mm512_set1_pd(RC_F64_UP), down = _mm512_set1_pd(RC_F64_DOWN);
    const __m512d ps = _mm512_mask_mul_pd(p, m, p, up);
    const __m512d qs = _mm512_mask_mul_pd(q, m, q, up);
    const __m512d r = rotate_dd8(ps, qs, ch, cl, sh, sl);
    return _mm512_mask_mul_pd(r, m, r, down);
}

RC_INLINE int all_finite8(__m512d x)
{
    const __m512d big = _mm512_set1_pd(0x1.fffffffffffffp+1023);
    return _mm512_cmp_pd_mask(_mm512_abs_pd(x), big, _CMP_LE_OQ) == 0xFF;
}

RC_INLINE void head_half_f64(const rc_port_state *st, const void *vin, void *vout)
{
    const double *in = vin;
    double *out = vout;
    const int64_t n = st->rotary_dim / 2;
    const __m512d signbit = _mm512_set1_pd(-0.0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m512d a = _mm512_loadu_pd(in + i), b = _mm512_loadu_pd(in + i + n);
        const __m512d ch = _mm512_loadu_pd(st->cos_hi + i), cl = _mm512_loadu_pd(st->cos_lo + i);
        const __m512d sh = _mm512_loadu_pd(st->sin_hi + i), sl = _mm512_loadu_pd(st->sin_lo + i);
        const __m512d x = rotate_scaled8(a, b, ch, cl, sh, sl);
        const __m512d y = rotate_scaled8(b, a, ch, cl, _mm512_xor_pd(sh, signbit),
                                         _mm512_xor_pd(sl, signbit));
        if (all_finite8(x) && all_finite8(y)) {
            _mm512_storeu_pd(out + i, x);
            _mm512_storeu_pd(out + i + n, y);
        } else {
            for (int64_t k = i; k < i + 8; k++)
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
    for (; i + 4 <= n; i += 4) {
        const __m512d v = _mm512_loadu_pd(in + 2 * i); /* a0 b0 .. a3 b3 */
        const __m512d w = _mm512_permute_pd(v, 0x55);  /* b0 a0 .. b3 a3 */
        const __m512d r = rotate_scaled8(
            v, w, _mm512_loadu_pd(st->il[0] + 2 * i), _mm512_loadu_pd(st->il[1] + 2 * i),
            _mm512_loadu_pd(st->il[2] + 2 * i), _mm512_loadu_pd(st->il[3] + 2 * i));
        if (all_finite8(r)) {
            _mm512_storeu_pd(out + 2 * i, r);
        } else {
            for (int64_t k = i; k < i + 4; k++)
                rc_port_pair_f64(st, in, out, k, 2 * k, 2 * k + 1);
        }
    }
    for (; i < n; i++)
        rc_port_pair_f64(st, in, out, i, 2 * i, 2 * i + 1);
}

/* ---- apply ---- */

/* Passthrough channels: 64 bytes at a time, the rest in one masked move
 * (AVX512BW byte masks touch no byte past the end). */
RC_INLINE void copy_bytes(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(d + i, _mm512_loadu_si512(s + i));
    if (i < n) {
        const __mmask64 k = (__mmask64)(~0ull >> (64 - (n - i)));
        _mm512_mask_storeu_epi8(d + i, k, _mm512_maskz_loadu_epi8(k, s + i));
    }
}

RC_PORT_TOKEN_FN(, token_half_f32, head_half_f32, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_f64, head_half_f64, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_f16, head_half_f16, copy_bytes)
RC_PORT_TOKEN_FN(, token_half_bf16, head_half_bf16, copy_bytes)
RC_PORT_TOKEN_FN(__attribute__((target("avx512bf16"))), token_half_bf16_ne, head_half_bf16_ne,
                 copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f32, head_il_f32, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f64, head_il_f64, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_f16, head_il_f16, copy_bytes)
RC_PORT_TOKEN_FN(, token_il_bf16, head_il_bf16, copy_bytes)
RC_PORT_TOKEN_FN(__attribute__((target("avx512bf16"))), token_il_bf16_ne, head_il_bf16_ne,
                 copy_bytes)

/* bf16_instruction: bf16 through AVX512-BF16 where the CPU has it (0: as
 * on a CPU without it, rc_impl_avx512_int_bf16). */
static rc_port_token_fn pick_token_fn(rc_layout l, rc_dtype t, int bf16_instruction)
{
    static rc_port_token_fn const half[RC_DTYPE_COUNT] = {token_half_f32, token_half_f64,
                                                          token_half_f16, token_half_bf16};
    static rc_port_token_fn const il[RC_DTYPE_COUNT] = {token_il_f32, token_il_f64, token_il_f16,
                                                        token_il_bf16};
    if (t == RC_DTYPE_BF16 && bf16_instruction && cpu_has_avx512bf16())
        return l == RC_LAYOUT_HALF ? token_half_bf16_ne : token_il_bf16_ne;
    return l == RC_LAYOUT_HALF ? half[t] : il[t];
}

static rc_status avx512_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                              const int64_t *positions, rc_direction direction)
{
    rc_port_state *st = state;
    return rc_port_apply(st, st ? pick_token_fn(st->layout, st->dtype, 1) : NULL, in, out,
                         positions, direction);
}

static rc_status avx512_apply_int_bf16(void *state, const rc_tensor *in, const rc_tensor *out,
                                       const int64_t *positions, rc_direction direction)
{
    rc_port_state *st = state;
    return rc_port_apply(st, st ? pick_token_fn(st->layout, st->dtype, 0) : NULL, in, out,
                         positions, direction);
}

/* What every entry below offers (the test entry stands in for the port,
 * so it offers exactly the same). */
#define AVX512_CAPS                                                                            \
    (RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |         \
     RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS)

const rc_impl rc_impl_avx512 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512",
    .description = "x86-64 AVX-512 F/BW/VL/DQ+FMA+F16C (+BF16 where present), fused angles: "
                   "exact angle per token (double-double, shared with scalar) for all its "
                   "heads; 8-lane double rotation, rounded once",
    .caps = AVX512_CAPS,
    .available = avx512_available,
    .prepare = avx512_prepare,
    .apply = avx512_apply,
    .release = rc_port_state_destroy,
};

const rc_impl rc_impl_avx512_table = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512-table",
    .description = "x86-64 AVX-512 F/BW/VL/DQ+FMA+F16C (+BF16 where present), table angles: "
                   "exact cos/sin table of all positions of the call, then all tokens x "
                   "heads; 8-lane double rotation, rounded once",
    .caps = AVX512_CAPS,
    .available = avx512_available,
    .prepare = avx512_prepare_table,
    .apply = avx512_apply,
    .release = rc_port_state_destroy,
};

const rc_impl rc_impl_avx512_int_bf16 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512-int-bf16",
    .description = "avx512 with bf16 done as on a CPU without AVX512-BF16 (test entry)",
    .caps = AVX512_CAPS,
    .available = avx512_available,
    .prepare = avx512_prepare,
    .apply = avx512_apply_int_bf16,
    .release = rc_port_state_destroy,
};

#else /* the compiler could not target AVX-512: an honest, unavailable entry */

rc_status rc_avx512_store8(rc_dtype t, int bf16_instruction, const double in[8], void *out)
{
    (void)t, (void)bf16_instruction, (void)in, (void)out;
    return RC_ERR_UNSUPPORTED;
}

static int avx512_available(char *why, size_t why_len)
{
    if (why && why_len)
        snprintf(why, why_len, "not built: compiler lacks -mavx512f/bw/vl/dq -mfma -mf16c");
    return 0;
}

static rc_status avx512_prepare(const rc_spec *spec, void **state)
{
    if (state)
        *state = NULL;
    return RC_ERR_UNSUPPORTED;
}

static rc_status avx512_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                              const int64_t *positions, rc_direction direction)
{
    return RC_ERR_UNSUPPORTED;
}

const rc_impl rc_impl_avx512 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512",
    .description = "x86-64 AVX-512 F/BW/VL/DQ+FMA+F16C (not built by this compiler)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS,
    .available = avx512_available,
    .prepare = avx512_prepare,
    .apply = avx512_apply,
    .release = NULL,
};

const rc_impl rc_impl_avx512_table = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512-table",
    .description = "x86-64 AVX-512 F/BW/VL/DQ+FMA+F16C table angles (not built by this compiler)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS,
    .available = avx512_available,
    .prepare = avx512_prepare,
    .apply = avx512_apply,
    .release = NULL,
};

const rc_impl rc_impl_avx512_int_bf16 = {
    .abi_version = RC_ABI_VERSION,
    .name = "avx512-int-bf16",
    .description = "avx512 with bf16 as without AVX512-BF16 (test entry; not built by this "
                   "compiler)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS,
    .available = avx512_available,
    .prepare = avx512_prepare,
    .apply = avx512_apply,
    .release = NULL,
};

#endif
