/*
 * core/dtype_convert.c - exact loads and once-rounded stores for f32, f64,
 * f16 and bf16; the names of dtypes, layouts, directions and statuses.
 *
 * f16 and bf16 are encoded straight from the double (one rounding). Going
 * through float first would round twice and can miss a tie by one ULP.
 * Requires the default rounding mode (to nearest, ties to even) for rint().
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
 * included) and maximum exponent emax (bias emax, emin = 1 - emax). */
static uint16_t encode16(double x, int p, int emax)
{
    const int mant_bits = p - 1;
    const int emin = 1 - emax;
    const uint16_t sign = signbit(x) ? 0x8000u : 0u;
    const uint16_t exp_all_ones = (uint16_t)(((1u << (15 - mant_bits)) - 1u) << mant_bits);

    if (isnan(x)) {
        /* Keep the top payload bits; force quiet so it stays a NaN. */
        uint64_t b;
        memcpy(&b, &x, sizeof b);
        uint16_t payload = (uint16_t)((b >> (52 - mant_bits)) & ((1u << mant_bits) - 1u));
        return (uint16_t)(sign | exp_all_ones | (1u << (mant_bits - 1)) | payload);
    }
    double a = fabs(x);
    /* Halfway between the largest finite value (2 - 2^(1-p)) * 2^emax and
     * 2^(emax+1): that midpoint and above round to infinity (the largest
     * finite value has an odd significand, so the tie goes up). */
    double overflow_at = ldexp(2.0 - ldexp(1.0, -p), emax);
    if (a >= overflow_at)
        return (uint16_t)(sign | exp_all_ones);
    if (a < ldexp(1.0, emin)) {
        /* Subnormal (or zero): count units of the smallest subnormal. A
         * result of 2^mant_bits is the smallest normal, encoded the same. */
        double units = rint(ldexp(a, mant_bits - emin));
        return (uint16_t)(sign | (uint16_t)units);
    }
    int e2;
    frexp(a, &e2);           /* a = f * 2^e2, f in [0.5, 1) */
    int e = e2 - 1;          /* a = 1.f * 2^e */
    double sig = rint(ldexp(a, mant_bits - e)); /* in [2^mb, 2^(mb+1)] */
    /* A significand that rounded up to 2^(mb+1) carries into the exponent
     * field by plain addition. */
    uint32_t bits = ((uint32_t)(e + emax) << mant_bits) + (uint32_t)sig - (1u << mant_bits);
    return (uint16_t)(sign | bits);
}

static double decode16(uint16_t bits, int p, int emax)
{
    const int mant_bits = p - 1;
    const int emin = 1 - emax;
    const unsigned exp_field = (bits & 0x7FFFu) >> mant_bits;
    const unsigned exp_max = (1u << (15 - mant_bits)) - 1u;
    const unsigned mant = bits & ((1u << mant_bits) - 1u);
    double v;
    if (exp_field == exp_max)
        v = mant ? NAN : INFINITY;
    else if (exp_field == 0)
        v = ldexp((double)mant, emin - mant_bits);
    else
        v = ldexp((double)(mant | (1u << mant_bits)), (int)exp_field - emax - mant_bits);
    return (bits & 0x8000u) ? -v : v;
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
