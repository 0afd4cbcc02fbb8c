/*
 * cli/partial_json.h - a case's mergeable comparison state
 * (harness/verify_partial.h) as JSON, written into a shard's results
 * ("state" of a case slice) and a sweep's checkpoint, and read back by
 * `ropecheck merge` and a resumed sweep.
 *
 * Read back bit for bit: every double as "%a" (or "inf"), every count as a
 * JSON integer, every location whole. What cannot come from this writer
 * (a histogram bin outside its key, an over-gate count the bins rule out,
 * a missing field) is refused with the field's name: merge and resume
 * never guess.
 */
#ifndef ROPECHECK_CLI_PARTIAL_JSON_H
#define ROPECHECK_CLI_PARTIAL_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cli/run_record.h"

/* p's state with the fields of r that come from the call rather than the
 * elements (the profile's table verdict); replays[i] belongs to the
 * location i of rc_case_locs (the state's own). */
cJSON *rc_partial_to_json(const rc_verify_partial *p, const rc_verify_result *r,
                          const char *const replays[RC_CASE_LOCS]);

/* The inverse: p made (rc_verify_partial_init) and filled, those fields of
 * r set, replays[i] pointing into `state` (valid while it lives; "" where
 * there is no location). 0, or -1 with err (p then freed). */
int rc_partial_from_json(const cJSON *state, rc_verify_partial *p, rc_verify_result *r,
                         const char *replays[RC_CASE_LOCS], char *err, size_t err_len);

/* A location from its JSON (rc_loc_json). 0, or -1 naming the bad field. */
int rc_loc_from_json(const cJSON *o, rc_elem_loc *l, char *err, size_t err_len);

#endif
