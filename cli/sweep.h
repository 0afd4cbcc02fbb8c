/*
 * cli/sweep.h - `ropecheck sweep`: every position of a range for one
 * case, judged in chunks, in memory that does not grow with the range,
 * resumable.
 *
 * The range lo..hi is cut into chunks of `chunk` consecutive positions;
 * each chunk is one call of the implementation (the case with those
 * positions as its tokens) and is judged into one mergeable state
 * (harness/verify_partial.h), in order. So the result depends on the
 * range, the chunk size and the case only: never on when the run was
 * interrupted, nor on --jobs.
 *
 * Checkpoint: the state after the last whole chunk, written atomically
 * (cli/safe_file.h) at most every few seconds and when interrupted; a run
 * given the same command finds it and continues with the next chunk. A
 * checkpoint of another run (its run_argv, seed or tool version differ) is
 * refused, never mixed in. SIGINT or SIGTERM: the chunk under way
 * finishes, the checkpoint is written, the run exits 130; a second signal
 * ends it at once (the checkpoint on disk is the previous one, whole).
 */
#ifndef ROPECHECK_CLI_SWEEP_H
#define ROPECHECK_CLI_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/verify.h"
#include "harness/verify_partial.h"

#define RC_SWEEP_DEFAULT_CHUNK 4096
#define RC_SWEEP_MAX_CHUNK ((int64_t)1 << 20)

typedef struct rc_sweep {
    rc_verify_case vcase;   /* the case; positions and n_tokens are set per chunk */
    int64_t lo, hi;         /* the positions lo..hi of the whole sweep */
    int64_t t0, t1;         /* the offsets this run judges: [t0, t1) of hi - lo + 1 */
    int64_t chunk;          /* positions per chunk */
    const char *checkpoint; /* NULL: none */
    const cJSON *identity;  /* what a checkpoint must match (run_argv, seed, tool) */
    int tty, quiet;
} rc_sweep;

/* `sweep --help`. */
extern const char rc_sweep_usage[];

/* "A:B" with 0 <= A <= B <= 2^53 - 1. 0, or -1 with err. */
int rc_sweep_range_parse(const char *spec, int64_t *lo, int64_t *hi, char *err, size_t len);

/* Runs the sweep. Returns 0 with res (and *part, the merged state, which
 * the caller frees with rc_verify_partial_free, or NULL when the verdict
 * came from a call that could not be judged), 130 when interrupted (the
 * checkpoint written), or 2 with err (a bad checkpoint, out of memory). */
int rc_sweep_run(const rc_sweep *s, const rc_gate *gate, rc_verify_result *res,
                 rc_verify_partial **part, char *err, size_t err_len);

#endif
