/*
 * harness/verify_partial.h - the mergeable state of a case's comparison.
 *
 * One verify case is judged from statistics over its elements. When the
 * elements are judged in parts - the token ranges of `verify --shard`,
 * run on other machines, or the chunks of `ropecheck sweep`, run one after
 * another and checkpointed - each part fills one of these, and parts merge
 * (in token order) into exactly the state one pass over all the elements
 * would have: every counter is a sum, every "first" location the earliest
 * part's, every accumulator a mergeable histogram (reference/metrics.h).
 * The verdict and the figures come from the merged state only.
 */
#ifndef ROPECHECK_VERIFY_PARTIAL_H
#define ROPECHECK_VERIFY_PARTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "harness/verify.h"

typedef struct rc_verify_partial {
    double gate_pair, gate_component;
    int64_t tokens;                 /* judged so far */
    rc_error_acc *pair, *component, *pair_beyond;
    rc_error_acc *by_position[RC_POSITION_BUCKETS]; /* NULL until used */
    int64_t pair_histogram[RC_HIST_BINS];
    int64_t passthrough_mismatches;
    rc_elem_loc passthrough_first;
    int64_t special_elements, special_mismatches;
    rc_elem_loc special_first;
    unsigned special_first_classes;
    int64_t unwritten;
    uint64_t ziv_retries, uncertified, ref_pairs_fast, ref_pairs_mpfr;
    double impl_seconds, reference_seconds;
    /* The first diagnosis (harness/diagnose.h), made on the part where the
     * state so far first failed, and the positions that part judged. */
    char cause[40];
    char finding[640];
    int64_t diag_position_lo, diag_position_hi;
} rc_verify_partial;

/* An empty state for a case judged against these gates. 0, or -1 when out
 * of memory (p is then empty and may be freed). */
int rc_verify_partial_init(rc_verify_partial *p, double gate_pair, double gate_component);
void rc_verify_partial_free(rc_verify_partial *p);

/* The accumulator of position bucket b, made on first use (NULL: no memory). */
rc_error_acc *rc_verify_partial_bucket(rc_verify_partial *p, int b);

/* Adds `later` to into (in any order: every first and worst location is
 * the one of smallest index among equals, reference/metrics.h). 0, or -1:
 * other gates, or out of memory (into is then unusable). */
int rc_verify_partial_merge(rc_verify_partial *into, const rc_verify_partial *later);

/* The case's figures and verdict from the state: res already holds the
 * call's outcome and the gates (rc_verify_run_part); fills the summaries
 * and counters, judges, and takes the state's diagnosis on a FAIL. */
void rc_verify_partial_result(const rc_verify_partial *p, const rc_verify_case *c,
                              rc_verify_result *res);

/* The verdict and its reason from res's figures (c gives the profile). */
void rc_verify_judge(rc_profile profile, rc_verify_result *res);

/* Puts prefix before the text in buf (size bytes), cutting the end of the
 * text if they do not fit: "positions A..B: " before a reason, the range a
 * finding was made on before it. */
void rc_verify_text_prepend(char *buf, size_t size, const char *prefix);

/* A result whose diagnosis came from one part of the case (a sweep's
 * chunk, a shard's token range) says so before its finding: "(diagnosed on
 * one part of the case, its positions in LO..HI) ". */
void rc_verify_partial_label_finding(const rc_verify_partial *p, rc_verify_result *res);

/* Runs case c and judges its tokens [c->judge_t0, c->judge_t1) (all when
 * both are 0) into p. Returns 1 when outputs were judged (the verdict then
 * comes from rc_verify_partial_result, after any further parts), 0 when
 * res->verdict is already final: a skip, a crash or hang, a refusal, an
 * invalid case, a harness error. */
int rc_verify_run_part(const rc_verify_case *c, const rc_gate *gate, rc_verify_result *res,
                       rc_verify_partial *p);

#endif
