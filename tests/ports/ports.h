/*
 * tests/ports/ports.h - test-only transcriptions of two frameworks' RoPE
 * in plain C with the C library's powf/cosf/sinf, used by test_profile.c
 * to check that the `hf` and `ggml` profiles (reference/profile.h) bound
 * what the frameworks compute. Not rc_impl plug-ins: one head at a time.
 */
#ifndef ROPECHECK_TESTS_PORTS_H
#define ROPECHECK_TESTS_PORTS_H

#include <stdint.h>

#include "ropecheck/rope.h"

/* float -> binary16 bits, round to nearest even: the FP16 library's
 * fp16_ieee_from_fp32_value, which both ggml (without F16C) and PyTorch
 * (c10::detail) use. */
uint16_t rc_port_f32_to_f16(float f);
/* float -> bfloat16 bits, round to nearest even (c10::BFloat16). */
uint16_t rc_port_f32_to_bf16(float f);

/* ggml-cpu rope (ops.cpp, ext_factor = 0): one head of head_dim values at
 * position pos, n_dims = rotary_dim, neox = 1 for the NEOX (half) layout.
 * in/out hold values exact in the dtype (f32 or f16) as doubles. With
 * fused = 1 the first output of each pair is fmaf(x0, cos, -(x1*sin)) and
 * the second fmaf(x0, sin, x1*cos): the contraction a compiler may make. */
void rc_ggml_port_head(rc_dtype t, int head_dim, int n_dims, int neox, float freq_base,
                       float freq_scale, int32_t pos, int forward, int fused, const double *in,
                       double *out);

/* Hugging Face LlamaRotaryEmbedding + apply_rotary_pos_emb for one head
 * (half layout: rotate_half; interleaved applies the same arithmetic to
 * (2i, 2i+1)), inv_freq per the spec's scaling (none, linear, llama3,
 * yarn). Inverse negates sin. 0, or -1 for a family not transcribed. */
int rc_hf_port_head(const rc_spec *spec, int64_t pos, int forward, const double *in,
                    double *out);

#endif /* ROPECHECK_TESTS_PORTS_H */
