/*
 * cli/run_record.h - everything one `ropecheck verify` run produced, in the
 * shape the writers (table, JSON, JUnit) read.
 */
#ifndef ROPECHECK_CLI_RUN_RECORD_H
#define ROPECHECK_CLI_RUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/verify.h"
#include "harness/verify_partial.h"
#include "reference/table_error.h"

typedef struct rc_case_record {
    const char *impl_name;
    const char *plugin_path; /* NULL for built-ins */
    const char *cell;        /* the coverage-matrix cell (cli/coverage.h); NULL: the
                                single spec of the options */
    const char *positions_spec; /* the --positions text this case ran */
    const char *axes_spec;      /* multi-axis: the map as --axes takes it, e.g.
                                   "mrope:16,24,24"; NULL: one axis */
    const char *rope_kind;      /* "global" / "local" of a model with two RoPEs
                                   (Gemma 3), replayed as --rope-kind; NULL */
    int64_t case_index;         /* in the whole run (the same with and without --shard) */
    rc_verify_case vcase;
    rc_verify_result result;
    /* A token range of the case (verify --shard, more shards than cases):
     * slice slice_index of slice_count, tokens [vcase.judge_t0, judge_t1),
     * whose mergeable state the JSON carries; NULL: the whole case. */
    rc_verify_partial *partial;
    int64_t slice_index, slice_count;
} rc_case_record;

typedef struct rc_run_record {
    int argc;
    char **argv;
    uint64_t seed;
    const char *positions_spec;
    int64_t n_tokens;
    const int64_t *positions;
    rc_gate gate;
    rc_case_record *cases;
    size_t n_cases, cases_cap;
    const char *runner; /* --runner COMMAND, or NULL: implementations ran here */
    const char *python; /* --python SPEC (runner is then its command), or NULL */
    const char *model_replay; /* " --hf-config F --context L" etc., or "" / NULL */
    int axes_replay;          /* the axes came from --axes (not a config): replay it */
    size_t n_cells;           /* > 0: the default coverage matrix ran */
    int64_t shard_k, shard_n; /* --shard K/N; 0/0: the whole run */
    int64_t cases_total;      /* cases of the whole run (all shards) */
} rc_run_record;

/* The command that replays the case k element at loc: the same options with
 * --positions set to that element's token's position, or its tuple
 * (inputs depend only on seed, positions and head, so the element sees
 * identical inputs). Writes at most len bytes; returns buf. */
char *rc_replay_command(const rc_run_record *run, const rc_case_record *k,
                        const rc_elem_loc *loc, char *buf, size_t len);

/* The located elements of a result, in the JSON's order: worst pair,
 * worst component, first passthrough mismatch, first special mismatch
 * (NULL where there is none). */
#define RC_CASE_LOCS 4
void rc_case_locs(const rc_verify_result *r, const rc_elem_loc *locs[RC_CASE_LOCS]);
/* A location as the JSON holds it, with its replay command. */
cJSON *rc_loc_json(const rc_elem_loc *l, const char *replay);
/* A judged case's figures into its JSON object o: the summaries, the
 * histogram, the counters, the reference's path counts and the located
 * elements (replays[i] for locs[i]). Shared by verify and merge. */
void rc_case_results_json(cJSON *o, const rc_verify_result *r, const char *oracle,
                          const char *const replays[RC_CASE_LOCS]);

/* What a run computes: argv less the per-invocation options (shard.h),
 * as a JSON array: the same for every shard of a run and for a resumed
 * sweep (its checkpoint's identity). */
cJSON *rc_run_argv_json(int argc, char *const *argv);

int rc_results_write_json(const char *path, const rc_run_record *run, char *err, size_t err_len);
int rc_results_write_junit(const char *path, const rc_run_record *run, char *err,
                           size_t err_len);

/* One <testcase> of the JUnit file, whatever it was read from (a run here,
 * or the cases of merged shards' JSON: cli/cmd_merge.c). */
typedef struct rc_junit_case {
    const char *impl, *name;
    double seconds;
    rc_verdict verdict;
    const char *message;
    const char *replay; /* FAIL: the worst case's replay command, or "" */
} rc_junit_case;

/* A case's name in the JUnit file: "[CELL ]DTYPE/LAYOUT/DIRECTION dD rR[ inplace]". */
void rc_junit_case_name(const char *cell, const char *dtype, const char *layout,
                        const char *direction, int head_dim, int rotary_dim, int inplace,
                        char *buf, size_t len);
int rc_junit_write(const char *path, const rc_junit_case *cases, size_t n, char *err,
                   size_t err_len);

#endif
