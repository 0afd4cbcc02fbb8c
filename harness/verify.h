/*
 * harness/verify.h - one verification case: run an implementation (guarded)
 * on reproducible inputs, compute every output exactly with the reference,
 * measure the errors, and give a verdict against a gate.
 */
#ifndef ROPECHECK_VERIFY_H
#define ROPECHECK_VERIFY_H

#include <stdint.h>

#include "core/axes.h"
#include "harness/guarded_call.h"
#include "reference/metrics.h"
#include "reference/profile.h"
#include "reference/table_error.h"
#include "ropecheck/plugin.h"

/* Error thresholds. An implementation passes a case when, over elements at
 * positions below positions_below, max pair ULP <= pair[dtype] and max
 * component ULP <= component[dtype] (Inf: not gated), passthrough channels
 * are bit-exact and special values follow the rules in reference.h. */
typedef struct rc_gate {
    double pair[RC_DTYPE_COUNT];
    double component[RC_DTYPE_COUNT];
    int64_t positions_below;
} rc_gate;

/* The default gates, derived in reference/GATES.md:
 * pair ULP f32 2, f64 3, f16 1, bf16 1; component not gated; positions
 * below 2^31. */
void rc_gate_default(rc_gate *g);

/* The gates against a framework profile's band (reference/PROFILES.md):
 * pair ULP 2 for every dtype, positions below 2^31. */
void rc_gate_profile(rc_gate *g);

typedef struct rc_verify_case {
    const rc_impl *impl;
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    rc_layout layout;
    rc_dtype dtype;
    rc_direction direction;
    int64_t n_tokens;
    int64_t n_heads;
    const int64_t *positions; /* n_tokens entries; n_tokens * n_axes with axes */
    /* Several position axes per token (core/axes.h; NULL or n_axes 1: one):
     * pair i rotates by positions[t * n_axes + axes->pair_axis[i]]. Read
     * through harness/case_axes.h. Cases with it are skipped for
     * implementations without RC_CAP_MULTI_AXIS. */
    const rc_axes *axes;
    int inplace;              /* out->data == in->data */
    int64_t stride_pad;       /* extra elements after each head and token */
    int with_specials;        /* NaN/Inf in some pairs */
    uint64_t seed;
    double timeout_s;
    /* Frequency scaling (NULL: none). The host builds the scaled theta
     * table and the output scale from it (reference/scaling.h); cases
     * with scaling are skipped for implementations without
     * RC_CAP_SCALING. */
    const rc_scaling *scaling;
    /* What the outputs are judged against: RC_PROFILE_EXACT (the exact
     * real result, the default) or a framework profile's band
     * (reference/profile.h); the gate is then the profile's. */
    rc_profile profile;
    /* Called during the reference pass (may be NULL): every 16 tokens and
     * at the end, or once a block of tokens with jobs > 1. */
    void (*progress)(void *ctx, int64_t done, int64_t total);
    void *progress_ctx;
    /* Optional: after the call, the frequency table the implementation
     * reported using (runner protocol 3), n entries into out, n returned
     * (0: none). Under the hf profile a reported table replaces the
     * profile's model of it (profile_band.h, rc_profile_ref_use_table). */
    size_t (*own_table)(double *out, size_t max);
    /* 1: the oracle computes every pair in MPFR (--oracle mpfr), instead of
     * its certified fast path with MPFR where that cannot decide; both
     * give identical verdicts and figures (reference/README.md). */
    int oracle_mpfr;
    /* Threads for the reference pass (harness/oracle_pass.h): 0 or 1 is
     * one; results are identical for every value. */
    int jobs;
    /* Judge only tokens [judge_t0, judge_t1) (both 0: all). The
     * implementation is still called on the whole case, so its outputs are
     * those of the unsplit call; verify --shard judges a case's token
     * ranges on different machines (harness/verify_partial.h). */
    int64_t judge_t0, judge_t1;
    /* Added to the token index of every reported location: a sweep's
     * chunk is tokens token_base.. of the whole range (cli/sweep.h). */
    int64_t token_base;
    /* 1: every call of the implementation reaches a fresh state (a
     * runner's APPLY is a prepare + apply + release on the target), so
     * the history check (harness/guarded_call.h) has nothing to find and
     * is not made. 0, the default: it is made. */
    int fresh_state_per_call;
} rc_verify_case;

typedef enum rc_verdict {
    RC_VERDICT_PASS = 0,
    RC_VERDICT_FAIL,    /* gate failed */
    RC_VERDICT_SKIP,    /* unavailable, or a combination it does not offer */
    RC_VERDICT_BROKEN,  /* crashed, hung, wrote out of bounds, modified input */
    RC_VERDICT_ERROR    /* the harness itself failed (out of memory, fork) */
} rc_verdict;

const char *rc_verdict_name(rc_verdict v);

/* The capability bits (plugin.h) a case exercises: its dtype and layout,
 * and inverse, partial rotary, in place, strided and scaling when it uses
 * them. An implementation must offer all of them to be called. */
uint64_t rc_verify_case_caps(const rc_verify_case *c);

/* Positions are grouped by binade for error-against-position figures:
 * bucket 0 holds m = 0, bucket b >= 1 holds 2^(b-1) <= m < 2^b. */
#define RC_POSITION_BUCKETS 54

typedef struct rc_position_bucket {
    int64_t count;     /* rotated elements seen in this bucket */
    double max, p50, p99;
} rc_position_bucket;

/* Pair-ULP histogram over gated positions, in binades: bin 0 holds
 * [0, 2^-8), bin k (1..32) holds [2^(k-9), 2^(k-8)), bin 33 [2^24, Inf]. */
#define RC_HIST_BINS 34

typedef struct rc_verify_result {
    rc_verdict verdict;
    char reason[640];             /* why: the gate that failed, the crash, the skip */
    /* FAIL: the most likely cause, checked against the outputs
     * (harness/diagnose.h): a stable identifier ("wrong-base",
     * "sparse-positions", ...) and the sentence with its evidence. */
    int profile_given_table;      /* the hf band was computed from the table
                                     the implementation reported */
    double profile_table_excess;  /* a reported table outside what the
                                     framework's arithmetic gives (f32 ulps,
                                     rc_profile_table_excess), else 0 */
    int profile_table_worst;      /* its pair */
    /* The frequency table the implementation reported (c->own_table: runner
     * protocol 3), rotary_dim/2 entries, against the exact table: */
    int has_own_table;
    rc_table_error own_table;
    char cause[40];
    char finding[640];
    rc_call_result call;
    double gate_pair, gate_component;
    int64_t positions_below;
    rc_error_summary pair;        /* rotated elements at gated positions */
    rc_error_summary component;
    rc_error_summary pair_beyond; /* positions >= positions_below (reported only) */
    rc_position_bucket pair_by_position[RC_POSITION_BUCKETS]; /* all positions */
    int64_t pair_histogram[RC_HIST_BINS];
    int64_t passthrough_mismatches;
    rc_elem_loc passthrough_first;
    int64_t special_elements;
    int64_t special_mismatches;
    rc_elem_loc special_first;
    unsigned special_first_classes; /* under a profile: the RC_CLASS_* bits it
                                       allows there (profile.h); else 0 */
    int64_t unwritten;            /* elements still holding the fill pattern */
    uint64_t ziv_retries, uncertified;
    uint64_t ref_pairs_fast, ref_pairs_mpfr; /* the oracle's two paths */
    double impl_seconds, reference_seconds;
} rc_verify_result;

/* How a guarded call's outcome (res->call) becomes a verdict: 1 when the
 * call returned RC_OK and the outputs are to be judged; otherwise 0 with
 * res->verdict and res->reason set: a refusal by prepare() is SKIP, a
 * refusal by apply() after prepare() accepted is FAIL (apply-refused),
 * another status, a crash, a hang, an exit, an out-of-bounds, input or
 * late write is BROKEN, and a harness failure is ERROR (never the port's
 * verdict). Part of rc_verify_run; exposed so each mapping is tested. */
int rc_verify_call_verdict(const rc_verify_case *c, rc_verify_result *res);

/* Runs the case. Returns the verdict (also in out->verdict). */
rc_verdict rc_verify_run(const rc_verify_case *c, const rc_gate *gate, rc_verify_result *out);

#endif /* ROPECHECK_VERIFY_H */
