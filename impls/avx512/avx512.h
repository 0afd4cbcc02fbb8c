/* impls/avx512/avx512.h - the AVX-512 (F, BW, VL, DQ) + F16C implementation. */
#ifndef ROPECHECK_IMPL_AVX512_H
#define ROPECHECK_IMPL_AVX512_H

#include "ropecheck/plugin.h"

/* Always defined; when the compiler could not build the AVX-512 code,
 * available() says so and prepare() returns RC_ERR_UNSUPPORTED. */
extern const rc_impl rc_impl_avx512;       /* fused angles: per token */
extern const rc_impl rc_impl_avx512_table; /* table angles: all positions first */

#endif
