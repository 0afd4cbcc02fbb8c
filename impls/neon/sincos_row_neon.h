/*
 * impls/neon/sincos_row_neon.h - rc_exact_sincos_row (impls/common/
 * exact_angle.h) two pairs at a time with AArch64 Advanced SIMD: the same
 * operations in the same order on double lanes, so the same bits. The
 * neon ports fill their angle rows with it (rc_port_state's row filler).
 */
#ifndef ROPECHECK_IMPLS_NEON_SINCOS_ROW_NEON_H
#define ROPECHECK_IMPLS_NEON_SINCOS_ROW_NEON_H

#include <stdint.h>

#include "core/dd.h"

/* Same contract and results as rc_exact_sincos_row. */
void rc_sincos_row_neon(int64_t m, int direction_inverse, int half, const double *theta_hi,
                        const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                        double *cos_lo, double *sin_lo);

#endif /* ROPECHECK_IMPLS_NEON_SINCOS_ROW_NEON_H */
