/*
 * cli/merge_slices.h - the token ranges of one case (verify --shard with
 * more shards than cases) joined into the case the unsharded run writes.
 *
 * WHY EXACT. Each range ran the implementation on the whole case (the same
 * call, so the same outputs) and judged its own tokens into a mergeable
 * state (harness/verify_partial.h): sums, earliest-first locations and
 * histograms (reference/metrics.h). Merged in token order, the state is
 * the one a single pass over every token builds, and the verdict, every
 * maximum, count, quantile, histogram bin and located element come from
 * it by the same code verify uses. Only two things are not the unsharded
 * run's: the timings (summed) and the diagnosis of a failing case, which is
 * the first failing range's, made from that range's outputs and labelled
 * so.
 */
#ifndef ROPECHECK_CLI_MERGE_SLICES_H
#define ROPECHECK_CLI_MERGE_SLICES_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* parts[0..n): the case's ranges in token order, each a case object of a
 * shard's "verify" array. Returns the merged case object (the caller
 * owns it), or NULL with err. */
cJSON *rc_merge_slices(const cJSON *const *parts, int64_t n, int64_t positions_below,
                       char *err, size_t err_len);

#endif
