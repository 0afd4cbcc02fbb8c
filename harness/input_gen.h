/*
 * harness/input_gen.h - the test inputs: one head's channel values, drawn
 * reproducibly from (seed, position, head).
 *
 * Values are exact in the dtype (drawn as doubles, then rounded to it).
 * The mix is chosen to exercise what breaks ports: magnitudes spread over
 * 2^-8..2^8, pairs whose two components differ by up to 2^20 in size (one
 * component then nearly cancels), exact zeros, and sign changes. With
 * specials on, about one pair in eight carries a NaN or an Inf.
 */
#ifndef ROPECHECK_INPUT_GEN_H
#define ROPECHECK_INPUT_GEN_H

#include <stdint.h>

#include "ropecheck/rope.h"

void rc_input_gen_head(uint64_t seed, int64_t position, int64_t head, rc_dtype dtype,
                       int head_dim, int with_specials, double *out);

#endif /* ROPECHECK_INPUT_GEN_H */
