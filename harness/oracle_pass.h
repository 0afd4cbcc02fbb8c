/*
 * harness/oracle_pass.h - a case's inputs and exact reference, a block of
 * tokens at a time, on several threads (verify --jobs N).
 *
 * Why the result cannot depend on N: each thread has its own rc_ref, and
 * every stored field of an element is a fixed function of (spec, position,
 * direction, inputs) - the canonical exact value, its roundings and the
 * pair norm (reference/README.md) - whichever thread, and whichever of the
 * oracle's paths, computed it. A consumer (harness/verify.c) judges each
 * head on the thread that computed it, into that thread's own mergeable
 * state (harness/verify_partial.h); the states merge into the one-thread
 * state whatever N, because every statistic is a sum, a histogram, or a
 * location chosen by value and then by smallest index.
 */
#ifndef ROPECHECK_ORACLE_PASS_H
#define ROPECHECK_ORACLE_PASS_H

#include <stdint.h>

#include "harness/verify.h"
#include "reference/reference.h"

typedef struct rc_oracle_pass rc_oracle_pass;

/* For case c with jobs >= 1 threads (clamped to RC_ORACLE_MAX_JOBS), blocks
 * of block_tokens tokens. NULL when out of memory or the spec is invalid. */
#define RC_ORACLE_MAX_JOBS 256
rc_oracle_pass *rc_oracle_pass_create(const rc_verify_case *c, int jobs, int64_t block_tokens);
void rc_oracle_pass_destroy(rc_oracle_pass *p);

/* Also compute each rotated element's pair and component ULP against the
 * exact value (reference/metrics.h) from the implementation's output view,
 * on the same threads (the exact profile only: a band is the caller's). */
void rc_oracle_pass_set_output(rc_oracle_pass *p, const void *out_data, int64_t token_stride,
                               int64_t head_stride);

/* Called by the worker that computed head h of token t, right after it
 * (and its metrics), with the worker's index 0..jobs-1: per-worker state
 * needs no lock. A worker sees its tokens in increasing order. */
typedef void (*rc_oracle_consumer)(void *ctx, int worker, int64_t t, int64_t h);
void rc_oracle_pass_set_consumer(rc_oracle_pass *p, rc_oracle_consumer fn, void *ctx);
/* The threads it uses (jobs after clamping). */
int rc_oracle_pass_jobs(const rc_oracle_pass *p);

/* Tokens per block for a case: about 2^18 elements, at least one token. */
int64_t rc_oracle_block_tokens(const rc_verify_case *c);

/* Inputs and reference elements of tokens [t0, t1), t1 - t0 <= the block
 * size. A thread that cannot be started leaves its share to the caller's
 * thread: slower, never different. */
void rc_oracle_pass_run(rc_oracle_pass *p, int64_t t0, int64_t t1);

/* Head h of token t of the last block (t0 <= t < t1): head_dim inputs and
 * elements. */
const double *rc_oracle_pass_in(const rc_oracle_pass *p, int64_t t, int64_t h);
const rc_ref_elem *rc_oracle_pass_elems(const rc_oracle_pass *p, int64_t t, int64_t h);
/* With an output view set: head h of token t's pair and component ULPs
 * (meaningful for RC_ELEM_ROTATED elements); else NULL. */
const double *rc_oracle_pass_pair_ulp(const rc_oracle_pass *p, int64_t t, int64_t h);
const double *rc_oracle_pass_component_ulp(const rc_oracle_pass *p, int64_t t, int64_t h);

/* The oracles' statistics, summed over the threads (max for precision). */
void rc_oracle_pass_stats(const rc_oracle_pass *p, rc_ref_stats *out);

/* The jobs --jobs defaults to: the processors online, at least 1. */
int rc_default_jobs(void);

#endif /* ROPECHECK_ORACLE_PASS_H */
