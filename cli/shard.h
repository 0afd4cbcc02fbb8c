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

/* 1 when argv[i] is an option that does not change what a run computes
 * (--shard, --json, --junit, --quiet, -q, --jobs, --oracle); *width is 2 when its value is
 * the next word, else 1. Shards of one run differ only in these. */
int rc_shard_ignored_option(char *const *argv, int argc, int i, int *width);

#endif
