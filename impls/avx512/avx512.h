/* impls/avx512/avx512.h - the AVX-512 (F, BW, VL, DQ) + F16C implementation. */
#ifndef ROPECHECK_IMPL_AVX512_H
#define ROPECHECK_IMPL_AVX512_H

#include "ropecheck/plugin.h"

/* Always defined; when the compiler could not build the AVX-512 code,
 * available() says so and prepare() returns RC_ERR_UNSUPPORTED. */
extern const rc_impl rc_impl_avx512;       /* fused angles: per token */
extern const rc_impl rc_impl_avx512_table; /* table angles: all positions first */

/* Test entry, not in the registry: rc_impl_avx512 with bf16 done as on a
 * CPU without AVX512-BF16 (the kernels' integer path), so that path is
 * tested on CPUs that have the instruction too (tests/test_certified.c,
 * tests/test_simd_avx512.c). */
extern const rc_impl rc_impl_avx512_int_bf16;

/* The kernels' narrowing store, exported for tests/test_narrow.c: rounds
 * in[0..7] once to t (f32, f16, bf16) into out[0..7] of that type, as the
 * head kernels do; bf16_instruction: bf16 through AVX512-BF16's
 * conversion, as the kernels store bf16 where the CPU has it. RC_OK, or
 * RC_ERR_UNSUPPORTED where the code was not built or the CPU lacks what
 * was asked (never executes an instruction then). */
rc_status rc_avx512_store8(rc_dtype t, int bf16_instruction, const double in[8], void *out);

#endif
