/*
 * core/pair_layout.h - which channels form pair i in each layout (rope.h):
 * (2i, 2i + 1) interleaved, (i, i + r/2) half. One definition for the
 * reference, the profiles, the verdicts' diagnosis and the proofs.
 */
#ifndef ROPECHECK_CORE_PAIR_LAYOUT_H
#define ROPECHECK_CORE_PAIR_LAYOUT_H

#include "ropecheck/rope.h"

/* The channels of pair i (0 <= i < rotary_dim / 2). */
static inline void rc_pair_channels(rc_layout layout, int rotary_dim, int i, int *ca, int *cb)
{
    *ca = layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
    *cb = layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + rotary_dim / 2;
}

/* The pair channel ch (0 <= ch < rotary_dim) belongs to. */
static inline int rc_channel_pair(rc_layout layout, int rotary_dim, int ch)
{
    if (layout == RC_LAYOUT_INTERLEAVED)
        return ch / 2;
    return ch < rotary_dim / 2 ? ch : ch - rotary_dim / 2;
}

#endif /* ROPECHECK_CORE_PAIR_LAYOUT_H */
