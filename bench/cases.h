/*
 * bench/cases.h - the shapes and workloads every implementation is timed on.
 *
 * Shapes are real models' attention layers. A case rotates the queries and
 * the keys of one layer at once (q heads + kv heads in one tensor), which is
 * what an inference engine applies RoPE to; values are never rotated.
 */
#ifndef ROPECHECK_BENCH_CASES_H
#define ROPECHECK_BENCH_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/rope.h"

typedef struct rcb_shape {
    const char *name;  /* command-line name */
    const char *model; /* what it is */
    int32_t q_heads, kv_heads, head_dim, rotary_dim;
    double base;
    rc_layout layout;
} rcb_shape;

typedef struct rcb_mode {
    const char *name;   /* decode-b1, ..., prefill-32768 */
    int64_t tokens;     /* tokens in the tensor */
    int decode;         /* 1: one token per sequence at a long position */
    int long_only;      /* only with --long (memory and time) */
} rcb_mode;

/* Decode tokens sit near this position (a 128k context). */
#define RCB_DECODE_POSITION 131071

size_t rcb_shape_count(void);
const rcb_shape *rcb_shape_get(size_t i);
size_t rcb_mode_count(void);
const rcb_mode *rcb_mode_get(size_t i);

/* Position of token t in a tensor of `mode`: prefill 0..T-1; decode: a
 * batch of sequences of different lengths just below RCB_DECODE_POSITION. */
int64_t rcb_position(const rcb_mode *mode, int64_t t);

#endif
