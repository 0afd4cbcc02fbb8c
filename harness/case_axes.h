/*
 * harness/case_axes.h - a verify case's positions, one axis or several.
 *
 * A case with c->axes set (n_axes >= 2: multimodal M-RoPE, 2-D vision
 * RoPE; DESIGN.md, "Multi-axis RoPE") holds n_axes positions per token,
 * token-major, as apply() receives them; every other case holds one. The
 * harness reads positions only through these, so each of its questions
 * (which position a pair rotates by, whether a token is gated, which
 * inputs it gets) has one answer for both kinds of case.
 */
#ifndef ROPECHECK_HARNESS_CASE_AXES_H
#define ROPECHECK_HARNESS_CASE_AXES_H

#include <stdint.h>

#include "core/axes.h"
#include "harness/verify.h"

/* Positions per token: 1, or the map's n_axes. */
static inline int32_t rc_case_n_axes(const rc_verify_case *c)
{
    return c->axes && c->axes->n_axes >= 2 ? c->axes->n_axes : 1;
}

/* Token t's positions (rc_case_n_axes of them). */
static inline const int64_t *rc_case_pos(const rc_verify_case *c, int64_t t)
{
    return c->positions + t * rc_case_n_axes(c);
}

/* The position pair i of token t rotates by. */
static inline int64_t rc_case_pair_pos(const rc_verify_case *c, int64_t t, int32_t pair)
{
    const int32_t a = rc_case_n_axes(c);
    return a == 1 ? c->positions[t] : c->positions[t * a + c->axes->pair_axis[pair]];
}

/* Token t's largest position: a token is gated (reference/GATES.md) when
 * every pair's angle is, i.e. when this is below positions_below. */
static inline int64_t rc_case_pos_max(const rc_verify_case *c, int64_t t)
{
    const int32_t a = rc_case_n_axes(c);
    const int64_t *p = rc_case_pos(c, t);
    int64_t m = p[0];
    for (int32_t k = 1; k < a; k++)
        m = p[k] > m ? p[k] : m;
    return m;
}

/* Token t's smallest position. */
static inline int64_t rc_case_pos_min(const rc_verify_case *c, int64_t t)
{
    const int32_t a = rc_case_n_axes(c);
    const int64_t *p = rc_case_pos(c, t);
    int64_t m = p[0];
    for (int32_t k = 1; k < a; k++)
        m = p[k] < m ? p[k] : m;
    return m;
}

/* The key token t's inputs are drawn from (harness/input_gen.h): its
 * position with one axis, so every earlier case keeps its inputs; with
 * several, the tuple folded into one word (a bijection of no use to
 * anybody but reproducible from the tuple, which the replay line gives). */
static inline int64_t rc_case_input_key(const rc_verify_case *c, int64_t t)
{
    const int32_t a = rc_case_n_axes(c);
    const int64_t *p = rc_case_pos(c, t);
    if (a == 1)
        return p[0];
    uint64_t k = (uint64_t)a;
    for (int32_t i = 0; i < a; i++)
        k = k * 0x9E3779B97F4A7C15u + (uint64_t)p[i];
    return (int64_t)(k >> 1);
}

#endif /* ROPECHECK_HARNESS_CASE_AXES_H */
