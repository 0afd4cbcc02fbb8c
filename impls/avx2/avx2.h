/* impls/avx2/avx2.h - the AVX2 + FMA + F16C implementation (x86-64). */
#ifndef ROPECHECK_IMPL_AVX2_H
#define ROPECHECK_IMPL_AVX2_H

#include "ropecheck/plugin.h"

/* Always defined; when the compiler could not build the AVX2 code,
 * available() says so and prepare() returns RC_ERR_UNSUPPORTED. */
extern const rc_impl rc_impl_avx2;       /* fused angles: per token */
extern const rc_impl rc_impl_avx2_table; /* table angles: all positions first */

#endif
