/*
 * core/dtype_convert.h - exact loads and correctly rounded stores for the
 * four element types, and their floating-point formats.
 *
 * Every f16, bf16 and f32 value is exactly a double, so loads are exact.
 * Stores round a double to the type once, to nearest with ties to even,
 * with gradual underflow and overflow to infinity; NaN stays NaN (quiet).
 */
#ifndef ROPECHECK_CORE_DTYPE_CONVERT_H
#define ROPECHECK_CORE_DTYPE_CONVERT_H

#include <stdint.h>

#include "ropecheck/rope.h"

/* A binary floating-point format: precision p counts the implicit bit;
 * normal numbers are 1.f * 2^e with emin <= e <= emax. The smallest
 * subnormal is 2^(emin - p + 1). */
typedef struct rc_format {
    int precision;
    int emin;
    int emax;
} rc_format;

/* NULL for an invalid dtype. */
const rc_format *rc_dtype_format(rc_dtype t);

double rc_f16_to_double(uint16_t bits);
uint16_t rc_double_to_f16(double x);
double rc_bf16_to_double(uint16_t bits);
uint16_t rc_double_to_bf16(double x);

/* Element `index` of an array of type t, exactly as a double. */
double rc_elem_load(rc_dtype t, const void *base, int64_t index);

/* Round x to type t (once, RNE) and store it as element `index`. */
void rc_elem_store(rc_dtype t, void *base, int64_t index, double x);

/* x rounded to type t and widened back: what storing then loading gives. */
double rc_round_to_dtype(rc_dtype t, double x);

/* The raw bits of element `index`, zero-extended (for hex replay data). */
uint64_t rc_elem_bits(rc_dtype t, const void *base, int64_t index);

#endif /* ROPECHECK_CORE_DTYPE_CONVERT_H */
