/*
 * core/spec_check.c - input validation for specs, shapes and positions.
 * Sizes are computed with overflow checks: a tensor whose byte count does
 * not fit in size_t is an input error, never a wrapped allocation.
 */
#include "core/spec_check.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

int rc_spec_check(int64_t head_dim, int64_t rotary_dim, double base, char *err, size_t err_len)
{
    if (head_dim < 2 || head_dim > RC_MAX_HEAD_DIM || head_dim % 2 != 0) {
        snprintf(err, err_len, "head_dim %" PRId64 " must be even and in [2, %d]", head_dim,
                 RC_MAX_HEAD_DIM);
        return -1;
    }
    if (rotary_dim < 2 || rotary_dim > head_dim || rotary_dim % 2 != 0) {
        snprintf(err, err_len, "rotary_dim %" PRId64 " must be even and in [2, head_dim=%" PRId64
                 "]", rotary_dim, head_dim);
        return -1;
    }
    if (!(base > 0.0) || !isfinite(base)) {
        snprintf(err, err_len, "base %g must be positive and finite", base);
        return -1;
    }
    return 0;
}

/* a*b + c into *out, or -1 on overflow of int64 (all operands >= 0). */
static int mul_add_checked(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    if (a != 0 && b > (INT64_MAX - c) / a)
        return -1;
    *out = a * b + c;
    return 0;
}

int rc_shape_check(int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t token_stride,
                   int64_t head_stride, size_t elem_size, size_t *bytes, char *err,
                   size_t err_len)
{
    if (n_tokens < 1) {
        snprintf(err, err_len, "token count %" PRId64 " must be at least 1", n_tokens);
        return -1;
    }
    if (n_heads < 1) {
        snprintf(err, err_len, "head count %" PRId64 " must be at least 1", n_heads);
        return -1;
    }
    if (head_stride < head_dim) {
        snprintf(err, err_len, "head stride %" PRId64 " is less than head_dim %" PRId64,
                 head_stride, head_dim);
        return -1;
    }
    /* Heads of one token must not overlap the next token. */
    int64_t token_extent;
    if (mul_add_checked(n_heads - 1, head_stride, head_dim, &token_extent) != 0 ||
        token_stride < token_extent) {
        snprintf(err, err_len,
                 "token stride %" PRId64 " is less than one token's extent (%" PRId64
                 " heads x stride %" PRId64 ")",
                 token_stride, n_heads, head_stride);
        return -1;
    }
    int64_t elems;
    if (mul_add_checked(n_tokens - 1, token_stride, token_extent, &elems) != 0 ||
        (uint64_t)elems > SIZE_MAX / elem_size || (uint64_t)elems > (uint64_t)INT64_MAX / 8) {
        snprintf(err, err_len,
                 "%" PRId64 " tokens x %" PRId64 " heads x %" PRId64
                 " channels overflows the addressable size",
                 n_tokens, n_heads, head_dim);
        return -1;
    }
    *bytes = (size_t)elems * elem_size;
    return 0;
}

int rc_positions_check(const int64_t *positions, int64_t n, char *err, size_t err_len)
{
    for (int64_t t = 0; t < n; t++) {
        if (positions[t] < 0 || positions[t] > RC_MAX_POSITION) {
            snprintf(err, err_len, "position %" PRId64 " (token %" PRId64
                     ") is outside [0, 2^53-1]", positions[t], t);
            return -1;
        }
    }
    return 0;
}

static int view_ok(int64_t head_dim, size_t elem_size, const rc_tensor *t)
{
    char why[160];
    size_t bytes;
    return t->data && rc_shape_check(t->n_tokens, t->n_heads, head_dim, t->token_stride,
                                     t->head_stride, elem_size, &bytes, why, sizeof why) == 0;
}

rc_status rc_apply_args_check(int64_t head_dim, size_t elem_size, const rc_tensor *in,
                              const rc_tensor *out, const int64_t *positions,
                              rc_direction direction, int *empty)
{
    return rc_apply_args_check_axes(head_dim, elem_size, in, out, positions, 1, direction, empty);
}

rc_status rc_apply_args_check_axes(int64_t head_dim, size_t elem_size, const rc_tensor *in,
                                   const rc_tensor *out, const int64_t *positions,
                                   int32_t n_axes, rc_direction direction, int *empty)
{
    char why[160];
    *empty = 0;
    if (!in || !out || (direction != RC_FORWARD && direction != RC_INVERSE))
        return RC_ERR_INVALID;
    if (in->n_tokens != out->n_tokens || in->n_heads != out->n_heads || in->n_tokens < 0 ||
        in->n_heads < 0)
        return RC_ERR_INVALID;
    if (in->n_tokens == 0 || in->n_heads == 0) {
        *empty = 1;
        return RC_OK;
    }
    if (!positions || !view_ok(head_dim, elem_size, in) || !view_ok(head_dim, elem_size, out))
        return RC_ERR_INVALID;
    if (in->data == out->data &&
        (in->token_stride != out->token_stride || in->head_stride != out->head_stride))
        return RC_ERR_INVALID;
    /* Every position before anything is written: n_axes per token. */
    if (n_axes < 1 || n_axes > RC_MAX_AXES || in->n_tokens > INT64_MAX / n_axes ||
        rc_positions_check(positions, in->n_tokens * n_axes, why, sizeof why) != 0)
        return RC_ERR_INVALID;
    return RC_OK;
}

rc_status rc_prepare_spec_check(const rc_spec *spec)
{
    char why[160];
    if (!spec ||
        rc_spec_check(spec->head_dim, spec->rotary_dim, spec->base, why, sizeof why) != 0)
        return RC_ERR_INVALID;
    if ((unsigned)spec->layout >= RC_LAYOUT_COUNT || (unsigned)spec->dtype >= RC_DTYPE_COUNT)
        return RC_ERR_INVALID;
    if (!spec->theta_hi || !spec->theta_lo)
        return RC_ERR_INVALID;
    for (int32_t i = 0; i < spec->rotary_dim / 2; i++)
        if (!(spec->theta_hi[i] > 0.0) || !isfinite(spec->theta_hi[i]) ||
            !isfinite(spec->theta_lo[i]))
            return RC_ERR_INVALID;
    /* ABI 4's axes: 0 or 1 means one; more need a map onto them. */
    if (spec->n_axes < 0 || spec->n_axes > RC_MAX_AXES)
        return RC_ERR_INVALID;
    if (spec->n_axes > 1) {
        if (!spec->pair_axis)
            return RC_ERR_INVALID;
        for (int32_t i = 0; i < spec->rotary_dim / 2; i++)
            if (spec->pair_axis[i] >= spec->n_axes)
                return RC_ERR_INVALID;
    }
    if (spec->freq_period < 0 || spec->freq_period > spec->rotary_dim / 2)
        return RC_ERR_INVALID;
    /* ABI 2's output scale: 0 means 1 (rope.h); otherwise positive. */
    if (spec->out_scale_hi != 0.0 &&
        (!(spec->out_scale_hi > 0.0) || !isfinite(spec->out_scale_hi) ||
         !isfinite(spec->out_scale_lo)))
        return RC_ERR_INVALID;
    return RC_OK;
}
