/*
 * tests/mutants_proofs - deliberately wrong RoPE implementations, each
 * with one defect the paper's oracles (proofs/) must name. In-process
 * rc_impl structs, f32 only, otherwise as exact as the scalar port (exact
 * angle from the host's double-double theta, rotation in double, one
 * rounding), so the defect is the only thing the oracles can see.
 */
#ifndef ROPECHECK_MUTANTS_PROOFS_H
#define ROPECHECK_MUTANTS_PROOFS_H

#include "ropecheck/plugin.h"

/* Base 500000 instead of the spec's (Llama 3's base under a 1e4 spec). */
extern const rc_impl rc_mutant_wrong_base;
/* Pairs channels with the other layout (half for interleaved and back). */
extern const rc_impl rc_mutant_layout_swapped;
/* Rotates by -m*theta when asked for forward. */
extern const rc_impl rc_mutant_clockwise;
/* theta_i = base^(-2(i+1)/r). */
extern const rc_impl rc_mutant_exponent_off_by_one;
/* The angle m*theta rounded to binary16 before sin/cos. */
extern const rc_impl rc_mutant_angle_f16;
/* Pair 3 uses sin where cos belongs and back. */
extern const rc_impl rc_mutant_sincos_swapped_pair3;
/* RC_INVERSE ignored: rotates forward. */
extern const rc_impl rc_mutant_ignores_direction;
/* RC_INVERSE rotates the pairs from RC_MUTANT_LATE_PAIR on forward. */
extern const rc_impl rc_mutant_ignores_direction_late;
/* Every rotated pair scaled by 1.001. */
extern const rc_impl rc_mutant_radial_scale;

/* A cos/sin cache with one stale row: position rc_mutant_stale_position
 * is rotated by the angle of the position before it (the row was never
 * written and still holds its neighbour's copy). Set the position before
 * calling; every other position is exact. */
extern const rc_impl rc_mutant_stale_row;
/* The angle reduced modulo pi with the quadrant's sign lost: outputs
 * negated wherever m*theta_i is nearer an odd multiple of pi. */
extern const rc_impl rc_mutant_half_turn;
extern int64_t rc_mutant_stale_position;
/* Pairs below rc_mutant_split_pair scaled by RC_MUTANT_RADIAL (a radial
 * error; turned rc_mutant_scaled_turn rad further too, 0 by default), the
 * others turned RC_MUTANT_EXTRA_TURN rad further (an angle error of the
 * same size): the share of radial failures is set by the split, their
 * radial-to-angle ratio by the scaled turn. */
/* Every position m rotated as m + rc_mutant_shift (2 by default): a
 * position offset other than one. */
extern const rc_impl rc_mutant_shifted;
extern int rc_mutant_shift;
extern const rc_impl rc_mutant_split_radial;
extern int rc_mutant_split_pair;
extern double rc_mutant_scaled_turn;
#define RC_MUTANT_EXTRA_TURN 1e-3
#define RC_MUTANT_WRONG_BASE 500000.0
#define RC_MUTANT_SWAPPED_PAIR 3
#define RC_MUTANT_RADIAL 1.001
#define RC_MUTANT_LATE_PAIR 5

#endif
