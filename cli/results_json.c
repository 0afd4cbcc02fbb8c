/*
 * cli/results_json.c - the results file of `ropecheck verify`, written with
 * cJSON. Schema "ropecheck.results" version 1.0; reports (bench/, reports/)
 * read it. Non-finite numbers, which JSON lacks, are written as the strings
 * "inf", "-inf" and "nan"; floating-point inputs also as exact hex ("%a")
 * and raw bits so a worst case can be replayed bit-for-bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cjson/cJSON.h>

#include "cli/json_num.h"
#include "cli/partial_json.h"
#include "cli/safe_file.h"
#include "cli/shard.h"
#include "cli/run_record.h"
#include "core/scaling.h"
#include "ropecheck/plugin.h"

#define RC_RESULTS_SCHEMA "ropecheck.results"
/* 1.1: cell, positions, cause, finding; 1.2: a location's profile_prediction,
 * band_lo and band_hi under a profile (exact_hi is then the exact value,
 * no longer the prediction); 1.3: run_argv, each case's case_index, and
 * "shard" for a --shard run (cli/cmd_merge.c joins shards); 1.4: the
 * reference's oracle and its two paths' counts; 1.5: quantiles at a stated
 * resolution (reference/metrics.h), a location's pair_ulp_hex and
 * component_ulp_hex, and a case's "slice" and "state" when a shard judged
 * one token range of it; 1.6: multi-axis cases, their "axes" (kind, map) and
 * a location's "positions" (the token's tuple); 1.7: the call outcome
 * "history" (harness/guarded_call.h, the history check) */
#define RC_RESULTS_SCHEMA_VERSION "1.7"



static cJSON *summary_json(const rc_error_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)s->count);
    rc_json_add_num(o, "max", s->max);
    rc_json_add_num(o, "p50", s->p50);
    rc_json_add_num(o, "p99", s->p99);
    rc_json_add_num(o, "p999", s->p999);
    rc_json_add_num(o, "gate", s->gate);
    cJSON_AddNumberToObject(o, "over_gate", (double)s->over_gate);
    return o;
}

cJSON *rc_loc_json(const rc_elem_loc *l, const char *replay)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "position", (double)l->position);
    if (l->n_axes >= 2) { /* 1.6: a multi-axis token's positions, position its pair's */
        cJSON *p = cJSON_AddArrayToObject(o, "positions");
        for (int32_t k = 0; k < l->n_axes; k++)
            cJSON_AddItemToArray(p, cJSON_CreateNumber((double)l->positions[k]));
    }
    cJSON_AddNumberToObject(o, "token", (double)l->token);
    cJSON_AddNumberToObject(o, "head", l->head);
    cJSON_AddNumberToObject(o, "channel", l->channel);
    cJSON_AddNumberToObject(o, "partner_channel", l->partner);
    rc_json_add_hex(o, "input", l->in_self);
    rc_json_add_bits(o, "input_bits", l->in_self_bits);
    rc_json_add_hex(o, "partner_input", l->in_partner);
    rc_json_add_bits(o, "partner_input_bits", l->in_partner_bits);
    rc_json_add_hex(o, "got", l->got);
    rc_json_add_bits(o, "got_bits", l->got_bits);
    rc_json_add_hex(o, "exact_hi", l->exact.hi);
    rc_json_add_hex(o, "exact_lo", l->exact.lo);
    rc_json_add_hex(o, "correctly_rounded", l->rounded);
    if (l->banded) {
        /* Under a profile: the framework's predicted result and the band
         * the distances (pair_ulp, component_ulp) are measured from. */
        rc_json_add_hex(o, "profile_prediction", l->band_pred);
        rc_json_add_hex(o, "band_lo", l->band_lo);
        rc_json_add_hex(o, "band_hi", l->band_hi);
    }
    /* exact: "%a" of the value, so a state read back (cli/partial_json.c)
     * is the same double */
    rc_json_add_hex(o, "pair_ulp_hex", l->pair_ulp);
    rc_json_add_hex(o, "component_ulp_hex", l->component_ulp);
    rc_json_add_num(o, "pair_ulp", l->pair_ulp);
    rc_json_add_num(o, "component_ulp", l->component_ulp);
    cJSON_AddStringToObject(o, "replay", replay);
    return o;
}

void rc_case_results_json(cJSON *o, const rc_verify_result *r, const char *oracle,
                          const char *const replays[RC_CASE_LOCS])
{
    cJSON_AddItemToObject(o, "pair_ulp", summary_json(&r->pair));
    cJSON_AddItemToObject(o, "component_ulp", summary_json(&r->component));
    if (r->pair_beyond.count > 0)
        cJSON_AddItemToObject(o, "pair_ulp_beyond_gate_range", summary_json(&r->pair_beyond));
    cJSON *byp = cJSON_AddArrayToObject(o, "pair_ulp_by_position");
    for (int b = 0; b < RC_POSITION_BUCKETS; b++) {
        const rc_position_bucket *pb = &r->pair_by_position[b];
        if (pb->count == 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        /* [lo, hi): bucket 0 is m = 0, bucket b is [2^(b-1), 2^b). */
        cJSON_AddNumberToObject(e, "position_lo", b == 0 ? 0.0 : ldexp(1.0, b - 1));
        cJSON_AddNumberToObject(e, "position_hi", ldexp(1.0, b));
        cJSON_AddNumberToObject(e, "count", (double)pb->count);
        rc_json_add_num(e, "max", pb->max);
        rc_json_add_num(e, "p50", pb->p50);
        rc_json_add_num(e, "p99", pb->p99);
        cJSON_AddItemToArray(byp, e);
    }
    cJSON *hist = cJSON_AddObjectToObject(o, "pair_ulp_histogram");
    cJSON *edges = cJSON_AddArrayToObject(hist, "edges");
    cJSON *counts = cJSON_AddArrayToObject(hist, "counts");
    /* Bin k covers [edges[k], edges[k+1]); the last edge is "inf". */
    cJSON_AddItemToArray(edges, cJSON_CreateNumber(0));
    for (int bin = 1; bin < RC_HIST_BINS; bin++)
        cJSON_AddItemToArray(edges, cJSON_CreateNumber(ldexp(1.0, bin - 9)));
    cJSON_AddItemToArray(edges, cJSON_CreateString("inf"));
    for (int bin = 0; bin < RC_HIST_BINS; bin++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)r->pair_histogram[bin]));
    cJSON_AddNumberToObject(o, "passthrough_mismatches", (double)r->passthrough_mismatches);
    cJSON *sp = cJSON_AddObjectToObject(o, "special_values");
    cJSON_AddNumberToObject(sp, "elements", (double)r->special_elements);
    cJSON_AddNumberToObject(sp, "mismatches", (double)r->special_mismatches);
    cJSON_AddNumberToObject(o, "unwritten_elements", (double)r->unwritten);
    cJSON *ref = cJSON_AddObjectToObject(o, "reference");
    /* How the oracle got there (not a figure of the port: the fast and the
     * MPFR path store identical bits, so only these and the time differ). */
    cJSON_AddStringToObject(ref, "oracle", oracle);
    cJSON_AddNumberToObject(ref, "pairs_fast", (double)r->ref_pairs_fast);
    cJSON_AddNumberToObject(ref, "pairs_mpfr", (double)r->ref_pairs_mpfr);
    cJSON_AddNumberToObject(ref, "ziv_retries", (double)r->ziv_retries);
    cJSON_AddNumberToObject(ref, "uncertified", (double)r->uncertified);
    cJSON_AddNumberToObject(ref, "seconds", r->reference_seconds);
    const rc_elem_loc *locs[RC_CASE_LOCS];
    rc_case_locs(r, locs);
    static const char *const keys[RC_CASE_LOCS] = {"worst_pair", "worst_component",
                                                   "first_passthrough_mismatch",
                                                   "first_special_mismatch"};
    for (int i = 0; i < RC_CASE_LOCS; i++)
        if (locs[i])
            cJSON_AddItemToObject(o, keys[i], rc_loc_json(locs[i], replays[i]));
}

void rc_case_locs(const rc_verify_result *r, const rc_elem_loc *locs[RC_CASE_LOCS])
{
    locs[0] = r->pair.has_worst ? &r->pair.worst : NULL;
    locs[1] = r->component.has_worst ? &r->component.worst : NULL;
    locs[2] = r->passthrough_mismatches > 0 ? &r->passthrough_first : NULL;
    locs[3] = r->special_mismatches > 0 ? &r->special_first : NULL;
}

static cJSON *case_json(const rc_run_record *run, const rc_case_record *k)
{
    const rc_verify_case *c = &k->vcase;
    const rc_verify_result *r = &k->result;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "impl", k->impl_name);
    if (k->plugin_path)
        cJSON_AddStringToObject(o, "plugin", k->plugin_path);
    else
        cJSON_AddNullToObject(o, "plugin");
    if (k->cell)
        cJSON_AddStringToObject(o, "cell", k->cell);
    if (k->positions_spec)
        cJSON_AddStringToObject(o, "positions", k->positions_spec);
    cJSON_AddNumberToObject(o, "case_index", (double)k->case_index);
    if (k->slice_count > 1) {
        /* One token range of the case (verify --shard with more shards
         * than cases): cli/cmd_merge.c joins the ranges. */
        cJSON *sl = cJSON_AddObjectToObject(o, "slice");
        cJSON_AddNumberToObject(sl, "index", (double)k->slice_index);
        cJSON_AddNumberToObject(sl, "count", (double)k->slice_count);
        cJSON_AddNumberToObject(sl, "token_lo", (double)c->judge_t0);
        cJSON_AddNumberToObject(sl, "token_hi", (double)c->judge_t1);
    }
    cJSON_AddStringToObject(o, "dtype", rc_dtype_name(c->dtype));
    cJSON_AddStringToObject(o, "layout", rc_layout_name(c->layout));
    cJSON_AddStringToObject(o, "direction", rc_direction_name(c->direction));
    cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(o, "rotary_dim", c->rotary_dim);
    cJSON_AddNumberToObject(o, "base", c->base);
    cJSON_AddNumberToObject(o, "heads", (double)c->n_heads);
    cJSON_AddNumberToObject(o, "tokens", (double)c->n_tokens);
    cJSON_AddBoolToObject(o, "inplace", c->inplace);
    cJSON_AddNumberToObject(o, "stride_pad", (double)c->stride_pad);
    cJSON_AddBoolToObject(o, "specials", c->with_specials);
    char scaling[512];
    rc_scaling_describe(c->scaling, scaling, sizeof scaling);
    cJSON_AddStringToObject(o, "scaling", scaling);
    if (c->axes && c->axes->n_axes >= 2) { /* 1.6 */
        cJSON *ax = cJSON_AddObjectToObject(o, "axes");
        cJSON_AddStringToObject(ax, "spec", k->axes_spec ? k->axes_spec : "");
        cJSON_AddNumberToObject(ax, "n_axes", c->axes->n_axes);
        cJSON *pa = cJSON_AddArrayToObject(ax, "pair_axis");
        for (int32_t i = 0; i < c->axes->n_pairs; i++)
            cJSON_AddItemToArray(pa, cJSON_CreateNumber(c->axes->pair_axis[i]));
    }
    if (r->has_own_table) {
        /* Schema 1.2: the implementation's own frequency table (runner
         * protocol 3) against the exact one. */
        const rc_table_error *tb = &r->own_table;
        cJSON *t = cJSON_AddObjectToObject(o, "own_table");
        cJSON_AddNumberToObject(t, "entries", (double)tb->n);
        rc_json_add_num(t, "max_f32_ulp", tb->max_f32_ulp);
        rc_json_add_num(t, "max_rel_error", tb->max_rel);
        cJSON_AddNumberToObject(t, "worst_pair", tb->worst);
        rc_json_add_hex(t, "worst_got", tb->worst_got);
        rc_json_add_hex(t, "worst_exact", tb->worst_exact);
    }
    cJSON_AddStringToObject(o, "profile", rc_profile_name(c->profile));
    if (r->profile_given_table) /* 1.2: the band used the implementation's own table */
        cJSON_AddBoolToObject(o, "profile_given_table", 1);
    cJSON_AddStringToObject(o, "verdict", rc_verdict_name(r->verdict));
    cJSON_AddStringToObject(o, "reason", r->reason);
    if (r->cause[0]) {
        cJSON_AddStringToObject(o, "cause", r->cause);
        cJSON_AddStringToObject(o, "finding", r->finding);
    }
    if (r->verdict == RC_VERDICT_SKIP) {
        return o;
    }
    cJSON *call = cJSON_AddObjectToObject(o, "call");
    cJSON_AddStringToObject(call, "outcome", rc_call_outcome_name(r->call.outcome));
    cJSON_AddStringToObject(call, "detail", r->call.detail);
    if (r->call.output[0])
        cJSON_AddStringToObject(call, "output", r->call.output);
    cJSON_AddNumberToObject(call, "signal", r->call.signal);
    cJSON_AddNumberToObject(call, "seconds", r->impl_seconds);
    /* Statistics only for outputs that were compared: not for a crash, nor
     * for a FAIL by apply() refusing (nothing was written). */
    if ((r->verdict != RC_VERDICT_PASS && r->verdict != RC_VERDICT_FAIL) ||
        r->call.outcome != RC_CALL_OK)
        return o;
    const rc_elem_loc *locs[RC_CASE_LOCS];
    rc_case_locs(r, locs);
    char replays[RC_CASE_LOCS][1024];
    const char *rp[RC_CASE_LOCS];
    for (int i = 0; i < RC_CASE_LOCS; i++)
        rp[i] = locs[i] ? rc_replay_command(run, k, locs[i], replays[i],
                                            sizeof replays[i])
                        : "";
    rc_case_results_json(o, r, k->vcase.oracle_mpfr ? "mpfr" : "fast", rp);
    if (k->partial) /* its mergeable state, which `ropecheck merge` joins */
        cJSON_AddItemToObject(o, "state", rc_partial_to_json(k->partial, r, rp));
    return o;
}

static void add_host(cJSON *root)
{
    cJSON *host = cJSON_AddObjectToObject(root, "host");
    struct utsname u;
    if (uname(&u) == 0) {
        cJSON_AddStringToObject(host, "machine", u.machine);
        cJSON_AddStringToObject(host, "system", u.sysname);
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon[strcspn(colon, "\n")] = '\0';
            cJSON_AddStringToObject(host, "cpu", colon + 2);
            break;
        }
    }
    if (f)
        fclose(f);
}

cJSON *rc_run_argv_json(int argc, char *const *argv)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0, w = 1; i < argc; i += w)
        if (!rc_shard_ignored_option(argv, argc, i, &w))
            cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    return a;
}

int rc_results_write_json(const char *path, const rc_run_record *run, char *err, size_t err_len)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", RC_RESULTS_SCHEMA);
    cJSON_AddStringToObject(root, "schema_version", RC_RESULTS_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "kind", "verify");
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "name", "ropecheck");
    cJSON_AddStringToObject(tool, "version", ROPECHECK_VERSION);
    cJSON_AddNumberToObject(tool, "abi_version", RC_ABI_VERSION);
    cJSON *argv = cJSON_AddArrayToObject(root, "argv");
    for (int i = 0; i < run->argc; i++)
        cJSON_AddItemToArray(argv, cJSON_CreateString(run->argv[i]));
    /* What the run computes: argv less the per-invocation options
     * (shard.h); every shard of one run has the same. */
    cJSON_AddItemToObject(root, "run_argv", rc_run_argv_json(run->argc, run->argv));
    if (run->shard_n) {
        cJSON *sh = cJSON_AddObjectToObject(root, "shard");
        cJSON_AddNumberToObject(sh, "index", (double)run->shard_k);
        cJSON_AddNumberToObject(sh, "count", (double)run->shard_n);
        cJSON_AddNumberToObject(sh, "cases_total", (double)run->cases_total);
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)run->seed);
    cJSON_AddStringToObject(root, "seed", seed);
    add_host(root);
    if (run->runner)
        cJSON_AddStringToObject(root, "runner", run->runner);
    else
        cJSON_AddNullToObject(root, "runner");
    cJSON *pos = cJSON_AddObjectToObject(root, "positions");
    cJSON_AddStringToObject(pos, "spec", run->positions_spec);
    cJSON_AddNumberToObject(pos, "count", (double)run->n_tokens);
    cJSON_AddNumberToObject(root, "gate_positions_below", (double)run->gate.positions_below);

    int counts[RC_VERDICT_ERROR + 1] = {0};
    cJSON *cases = cJSON_AddArrayToObject(root, "verify");
    for (size_t i = 0; i < run->n_cases; i++) {
        cJSON_AddItemToArray(cases, case_json(run, &run->cases[i]));
        counts[run->cases[i].result.verdict]++;
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "cases", (double)run->n_cases);
    for (int v = 0; v <= RC_VERDICT_ERROR; v++) {
        static const char *const keys[] = {"pass", "fail", "skip", "broken", "error"};
        cJSON_AddNumberToObject(sum, keys[v], counts[v]);
    }

    int rc = rc_json_write_file(path, root, err, err_len);
    cJSON_Delete(root);
    return rc;
}
