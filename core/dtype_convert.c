/*
 * core/dtype_convert.c - exact loads and once-rounded stores for f32, f64,
 * f16 and bf16; the names of dtypes, layouts, directions and statuses.
 *
 * f16 and bf16 are encoded straight from the double's bits (one rounding).
 * Going through float first would round twice and can miss a tie by one
 * ULP. Integer arithmetic only, so the rounding mode does not matter.
 */
#include "core/dtype_convert.h"

#include <math.h>
#include <string.h>

static const rc_format formats[RC_DTYPE_COUNT] = {
    [RC_DTYPE_F32] = {24, -126, 127},
    [RC_DTYPE_F64] = {53, -1022, 1023},
    [RC_DTYPE_F16] = {11, -14, 15},
    [RC_DTYPE_BF16] = {8, -126, 127},
};

const rc_format *rc_dtype_format(rc_dtype t)
{
    if ((unsigned)t >= RC_DTYPE_COUNT)
        return NULL;
    return &formats[t];
}

/* Encode x in a 16-bit IEEE-style format with precision p (implicit bit
 * included) and maximum exponent emax (bias emax, emin = 1 - emax), by
 * integer operations on the double's bits: keep the top p-1 fraction bits
 * (fewer for subnormals) and round the dropped bits to nearest, ties to
 * even. A carry out of the fraction increments the exponent field, which
 * is exactly right, also into infinity at the top. */
static uint16_t encode16(double x, int p, int emax)
{
    const int mant_bits = p - 1;
    const int emin = 1 - emax;
    const unsigned exp_max = (1u << (15 - mant_bits)) - 1u;
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    const uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
    const int e_field = (int)((b >> 52) & 0x7FF);
    const uint64_t frac = b & 0x000FFFFFFFFFFFFFull;

    if (e_field == 0x7FF) {
        if (!frac)
            return (uint16_t)(sign | (exp_max << mant_bits));
        /* NaN: keep the top payload bits, force quiet so it stays a NaN. */
        uint16_t payload = (uint16_t)(frac >> (52 - mant_bits));
        return (uint16_t)(sign | (exp_max << mant_bits) | (1u << (mant_bits - 1)) | payload);
    }
    if (e_field == 0)
        return sign; /* zero or a double subnormal: far below half the smallest subnormal */
    const int e = e_field - 1023;          /* x = 1.frac * 2^e */
    if (e > emax)
        return (uint16_t)(sign | (exp_max << mant_bits)); /* >= 2^(emax+1): Inf */
    const uint64_t sig = frac | (1ull << 52); /* 53-bit significand */
    /* Bits to drop: 52 - mant_bits for normals, more below 2^emin. */
    int drop = 52 - mant_bits + (e < emin ? emin - e : 0);
    if (drop > 54)
        return sign; /* below half the smallest subnormal: rounds to zero */
    uint64_t kept = sig >> drop;
    const uint64_t rest = sig & ((1ull << drop) - 1);
    const uint64_t half = 1ull << (drop - 1);
    if (rest > half || (rest == half && (kept & 1u)))
        kept++;
    uint32_t bits;
    if (e < emin)
        bits = (uint32_t)kept; /* subnormal; a carry to 2^mant_bits is the smallest normal */
    else
        bits = ((uint32_t)(e + emax) << mant_bits) + (uint32_t)kept - (1u << mant_bits);
    return (uint16_t)(sign | bits);
}

/* 2^(emin - mant_bits), the smallest subnormal, as a double (exact). */
static double smallest_subnormal(int p, int emax)
{
    uint64_t b = (uint64_t)(1023 + (1 - emax) - (p - 1)) << 52;
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double decode16(uint16_t bits, int p, int emax)
{
    const int mant_bits = p - 1;
    const unsigned exp_field = (bits & 0x7FFFu) >> mant_bits;
    const unsigned exp_max = (1u << (15 - mant_bits)) - 1u;
    const uint64_t mant = bits & ((1u << mant_bits) - 1u);
    const uint64_t sign = (uint64_t)(bits & 0x8000u) << 48;
    uint64_t b;
    if (exp_field == exp_max) {
        b = sign | (0x7FFull << 52) | (mant << (52 - mant_bits));
        if (mant)
            b |= 1ull << 51; /* quiet */
    } else if (exp_field == 0) {
        double v = (double)mant * smallest_subnormal(p, emax); /* exact */
        return (bits & 0x8000u) ? -v : v;
    } else {
        b = sign | ((uint64_t)((int)exp_field - emax + 1023) << 52) | (mant << (52 - mant_bits));
    }
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

double rc_f16_to_double(uint16_t bits) { return decode16(bits, 11, 15); }
uint16_t rc_double_to_f16(double x) { return encode16(x, 11, 15); }
double rc_bf16_to_double(uint16_t bits) { return decode16(bits, 8, 127); }
uint16_t rc_double_to_bf16(double x) { return encode16(x, 8, 127); }

double rc_elem_load(rc_dtype t, const void *base, int64_t index)
{
    switch (t) {
    case RC_DTYPE_F32: return (double)((const float *)base)[index];
    case RC_DTYPE_F64: return ((const double *)base)[index];
    case RC_DTYPE_F16: return rc_f16_to_double(((const uint16_t *)base)[index]);
    case RC_DTYPE_BF16: return rc_bf16_to_double(((const uint16_t *)base)[index]);
    default: return NAN;
    }
}

void rc_elem_store(rc_dtype t, void *base, int64_t index, double x)
{
    switch (t) {
    case RC_DTYPE_F32: ((float *)base)[index] = (float)x; break;
    case RC_DTYPE_F64: ((double *)base)[index] = x; break;
    case RC_DTYPE_F16: ((uint16_t *)base)[index] = rc_double_to_f16(x); break;
    case RC_DTYPE_BF16: ((uint16_t *)base)[index] = rc_double_to_bf16(x); break;
    default: break;
    }
}

double rc_round_to_dtype(rc_dtype t, double x)
{
    switch (t) {
    case RC_DTYPE_F32: return (double)(float)x;
    case RC_DTYPE_F64: return x;
    case RC_DTYPE_F16: return rc_f16_to_double(rc_double_to_f16(x));
    case RC_DTYPE_BF16: return rc_bf16_to_double(rc_double_to_bf16(x));
    default: return NAN;
    }
}

uint64_t rc_elem_bits(rc_dtype t, const void *base, int64_t index)
{
    switch (t) {
    case RC_DTYPE_F32: {
        uint32_t b;
        memcpy(&b, (const float *)base + index, sizeof b);
        return b;
    }
    case RC_DTYPE_F64: {
        uint64_t b;
        memcpy(&b, (const double *)base + index, sizeof b);
        return b;
    }
    case RC_DTYPE_F16:
    case RC_DTYPE_BF16: return ((const uint16_t *)base)[index];
    default: return 0;
    }
}
