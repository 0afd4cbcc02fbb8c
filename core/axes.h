/*
 * core/axes.h - RoPE over several position axes: which axis each pair
 * rotates by (multimodal M-RoPE, 2-D vision RoPE). DESIGN.md, "Multi-axis
 * RoPE", derives the maps from the models' public definitions.
 *
 * A token has positions (p_0, .., p_{A-1}), A = n_axes <= RC_MAX_AXES; pair
 * i rotates by phi_i = p_{axis(i)} * theta_i instead of m * theta_i. One
 * axis (A = 1, every pair on axis 0) is the ordinary RoPE. The maps below
 * are the ones the model families define; each is checked against what
 * real transformers computes (tests/test_axes.c, tests/data/axes).
 */
#ifndef ROPECHECK_CORE_AXES_H
#define ROPECHECK_CORE_AXES_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/rope.h"

typedef struct rc_axes {
    int32_t n_axes;                         /* 1 .. RC_MAX_AXES */
    int32_t n_pairs;                        /* rotary_dim / 2 */
    uint8_t pair_axis[RC_MAX_HEAD_DIM / 2]; /* pair i's axis, < n_axes */
    int32_t freq_period;                    /* 0, or the frequencies restart every
                                               freq_period pairs (rc_spec's field;
                                               vision2d: r/4) */
} rc_axes;

/* One axis: every pair on axis 0 (ordinary RoPE). */
int rc_axes_single(int32_t rotary_dim, rc_axes *out, char *err, size_t err_len);

/* Contiguous sections (Qwen2-VL, Qwen2.5-VL: rope_scaling.mrope_section,
 * e.g. 16, 24, 24 for head_dim 128): pairs [0, s_0) on axis 0, the next s_1
 * on axis 1, and so on; the sections must add up to rotary_dim / 2. The
 * second half of the channels (rotate_half's partners) follows its pair. */
int rc_axes_sections(const int32_t *sections, int n_sections, int32_t rotary_dim, rc_axes *out,
                     char *err, size_t err_len);

/* Interleaved (Qwen3-VL: mrope_interleaved, mrope_section e.g. 24, 20, 20):
 * pair i is on axis k in {1, 2} when i mod 3 == k and i < 3 * s_k, else on
 * axis 0; three sections adding up to rotary_dim / 2 (s_0 itself is not
 * read, as in transformers). */
int rc_axes_interleaved(const int32_t *sections, int n_sections, int32_t rotary_dim,
                        rc_axes *out, char *err, size_t err_len);

/* The 2-D vision RoPE of Qwen2-VL's vision tower: the first rotary_dim / 4
 * pairs on axis 0 (patch row), the rest on axis 1 (column); rotary_dim a
 * multiple of 4. Its frequencies restart per axis (rc_axes_vision2d_exponent). */
int rc_axes_vision2d(int32_t rotary_dim, rc_axes *out, char *err, size_t err_len);

/* The frequency exponent of pair i in the 2-D vision RoPE:
 * theta_i = base^(-2j / (r/2)) with j = i mod (r/4), written as the
 * fraction num/den = 2j / (r/2). */
void rc_axes_vision2d_exponent(int32_t rotary_dim, int32_t i, int64_t *num, int64_t *den);

/* Whether axis k's position differs from every earlier axis's: the
 * multi-axis row code (the reference, impls/common/port_state.c) runs once
 * per distinct position of a token and serves there every pair whose axis
 * sits at it, so a text token (all positions equal) costs one run. */
static inline int rc_axes_position_is_new(const int64_t *pos, int32_t k)
{
    for (int32_t j = 0; j < k; j++)
        if (pos[j] == pos[k])
            return 0;
    return 1;
}

/* map[0 .. n-1] as runs, "pairs 0..15 axis 0, 16..39 axis 1, ...", into
 * buf; cut with ", ..." when it does not fit (an interleaved map has a
 * run per pair). For findings that show a map. */
void rc_axes_runs(const uint8_t *map, int n, char *buf, size_t len);

/* A map recovered from outputs: mask[ch], ch < rotary_dim, holds the axes
 * channel ch was seen to follow (rc_ref_axis_fits, intersected over heads).
 * Per pair, the axes both its channels follow: none for one channel
 * (unexplained), none in common (split: the map applied to channels, not
 * pairs), or some; found[i] is then the spec's axis when it is among them,
 * else the lowest (0xFF for unexplained or split pairs). */
typedef struct rc_axes_recovered {
    int unexplained, first_unexplained; /* pairs with a channel no axis explains */
    int split, first_split;             /* pairs whose channels share no axis */
    int wrong, first_wrong;             /* pairs on one axis, not the spec's */
    uint8_t found[RC_MAX_HEAD_DIM / 2];
} rc_axes_recovered;

void rc_axes_recover(const rc_axes *spec, rc_layout layout, const unsigned *mask,
                     rc_axes_recovered *out);

/* The lowest axis in a bit set (0 for an empty one). */
int rc_axes_lowest(unsigned set);

/* 0 when every pair's axis is below n_axes and n_pairs matches rotary_dim,
 * else -1 with the reason. */
int rc_axes_check(const rc_axes *a, int32_t rotary_dim, char *err, size_t err_len);

#endif /* ROPECHECK_CORE_AXES_H */
