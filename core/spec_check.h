/*
 * core/spec_check.h - validate what a user asked for, with one clear line
 * for each way it can be wrong. The CLI turns a failure into exit 2.
 */
#ifndef ROPECHECK_SPEC_CHECK_H
#define ROPECHECK_SPEC_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/rope.h"

/* head_dim even in [2, RC_MAX_HEAD_DIM]; rotary_dim even in [2, head_dim];
 * base > 0 and finite. 0 if valid, else -1 with the reason in err. */
int rc_spec_check(int64_t head_dim, int64_t rotary_dim, double base, char *err, size_t err_len);

/* n_tokens >= 1, n_heads >= 1, and a [n_tokens][n_heads][head_dim] tensor
 * of `elem_size`-byte elements with the given strides (>= the packed ones)
 * fits in size_t bytes without overflow. On success *bytes is the extent of
 * the view in bytes: from the first element to one past the last. */
int rc_shape_check(int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t token_stride,
                   int64_t head_stride, size_t elem_size, size_t *bytes, char *err,
                   size_t err_len);

/* Every position in [0, RC_MAX_POSITION]. */
int rc_positions_check(const int64_t *positions, int64_t n, char *err, size_t err_len);

/* The checks every built-in prepare() makes: spec non-NULL, head_dim,
 * rotary_dim and base valid (rc_spec_check), a known layout and dtype,
 * a theta table of r/2 positive, finite entries (the domain of
 * impls/common/exact_angle.h), an output scale that is 0 (none) or
 * positive and finite, and n_axes in 0 .. RC_MAX_AXES with, above 1, a
 * pair_axis map of r/2 entries below it. RC_OK or RC_ERR_INVALID. */
rc_status rc_prepare_spec_check(const rc_spec *spec);

/* The checks every built-in apply() makes before touching memory, so each
 * port does not repeat them: in/out non-NULL with equal token and head
 * counts, valid views of head_dim elements of elem_size bytes, equal
 * strides when in place, a known direction, every position in range.
 * Returns RC_OK (with *empty = 1 when there is nothing to do) or
 * RC_ERR_INVALID. */
rc_status rc_apply_args_check(int64_t head_dim, size_t elem_size, const rc_tensor *in,
                              const rc_tensor *out, const int64_t *positions,
                              rc_direction direction, int *empty);

/* The same with n_axes (1 .. RC_MAX_AXES) positions per token, every one
 * of the n_tokens * n_axes checked. */
rc_status rc_apply_args_check_axes(int64_t head_dim, size_t elem_size, const rc_tensor *in,
                                   const rc_tensor *out, const int64_t *positions,
                                   int32_t n_axes, rc_direction direction, int *empty);

#endif /* ROPECHECK_SPEC_CHECK_H */
