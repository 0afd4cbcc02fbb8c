/*
 * cli/shard.h - `--shard K/N`: a run split into N deterministic shares of
 * its cases, for N independent invocations (GNU parallel, a Slurm job
 * array, a CI matrix), and what `ropecheck merge` needs to join them.
 */
#ifndef ROPECHECK_CLI_SHARD_H
#define ROPECHECK_CLI_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define RC_SHARD_MAX 65536

/* "K/N", 1 <= K <= N <= RC_SHARD_MAX, decimal. 0, or -1 with err. */
int rc_shard_parse(const char *s, int64_t *k, int64_t *n, char *err, size_t err_len);

/* The shares. With at least as many cases as shards, shard K holds case i
 * when i mod N = K-1 (whole cases). With fewer cases C than shards, every
 * case is cut into S = ceil(N / C) token ranges (at most one per token):
 * the units, case by case and range by range, are numbered u = 0, 1, ...,
 * and shard K holds unit u when u mod N = K-1. A range judges its tokens
 * only; the implementation is called on the whole case in each
 * (harness/verify_partial.h), so every range sees the same outputs. */
int64_t rc_shard_slices(int64_t shard_n, int64_t cases_total, int64_t n_tokens);
/* Tokens [*t0, *t1) of range j of S over n_tokens. */
void rc_shard_slice_tokens(int64_t j, int64_t slices, int64_t n_tokens, int64_t *t0, int64_t *t1);

/* 1 when argv[i] is an option that does not change what a run computes
 * (--shard, --json, --junit, --quiet, -q, --jobs, --oracle, --checkpoint); *width is 2 when its value is
 * the next word, else 1. Shards of one run differ only in these. */
int rc_shard_ignored_option(char *const *argv, int argc, int i, int *width);

#endif
