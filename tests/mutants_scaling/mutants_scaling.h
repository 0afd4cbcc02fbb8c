/*
 * tests/mutants_scaling - test-only RoPE ports with the published
 * frequency-scaling bugs (issue 8), one bug each. Otherwise each is a
 * correct ABI-2 port with RC_CAP_SCALING: exact angle from a double-double
 * theta (impls/common/exact_angle.h), the rotation of
 * impls/common/rotate_pair.h in double, times the output scale, one
 * rounding to f32. So the bug is the only thing verify and the oracles
 * (proofs/) can see, and they must name it.
 *
 * Built as plug-ins (one module per mutant, tests/mutants_scaling/
 * CMakeLists.txt); paths in scaling_mutant_paths.h.
 */
#ifndef ROPECHECK_MUTANTS_SCALING_H
#define ROPECHECK_MUTANTS_SCALING_H

#include "ropecheck/plugin.h"

/* 1. The host's theta_i rounded to bf16 before use (inv_freq in bf16). */
extern const rc_impl rc_smutant_theta_bf16;
/* 2. cos and sin rounded to f16 (a cos/sin cache kept in fp16). */
extern const rc_impl rc_smutant_sincos_f16;
/* 3. The output scale ignored (YaRN's attention factor dropped). */
extern const rc_impl rc_smutant_alpha_missing;
/* 4. The output scale applied twice (alpha^2). */
extern const rc_impl rc_smutant_alpha_twice;
/* 5. Llama 3 scaling dropped: plain base^(-2i/r). Llama 3 specs only. */
extern const rc_impl rc_smutant_llama3_dropped;
/* 6. Llama 3 ramp replaced by a hard cut at L0/low_freq_factor. */
extern const rc_impl rc_smutant_llama3_hard_cut;
/* 7. Llama 3 table with L0 * factor as the original context. */
extern const rc_impl rc_smutant_llama3_wrong_l0;
/* 8. Dynamic NTK base from the integer quotient (s*L)/L0. Dynamic NTK
 *    specs only. */
extern const rc_impl rc_smutant_dynamic_intdiv;

#endif
