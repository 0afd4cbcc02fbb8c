/*
 * impls/avx2/sincos_row_avx2.h - rc_exact_sincos_row (impls/common/
 * exact_angle.h) four pairs at a time with AVX2 + FMA: the same
 * operations in the same order on double lanes, so the same bits.
 * impls/avx2 and impls/avx512 fill their angle rows with it
 * (rc_port_state's row filler); tests/test_simd.c compares it with the
 * scalar row bit for bit.
 */
#ifndef ROPECHECK_IMPLS_AVX2_SINCOS_ROW_AVX2_H
#define ROPECHECK_IMPLS_AVX2_SINCOS_ROW_AVX2_H

#include <stdint.h>

#include "core/dd.h"

/* Same contract and results as rc_exact_sincos_row; only call it on a
 * CPU with AVX2 and FMA (rc_impl_avx2.available says so). */
void rc_sincos_row_avx2(int64_t m, int direction_inverse, int half, const double *theta_hi,
                        const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                        double *cos_lo, double *sin_lo);

#endif /* ROPECHECK_IMPLS_AVX2_SINCOS_ROW_AVX2_H */
