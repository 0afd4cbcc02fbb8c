/*
 * cli/merge_slices.c - one case from its token ranges (merge_slices.h).
 */
#include "cli/merge_slices.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/partial_json.h"
#include "cli/run_record.h"

/* The keys a range's object holds about its own tokens only: replaced. */
static int is_range_key(const char *k)
{
    static const char *const keys[] = {
        "slice", "state", "verdict", "reason", "cause", "finding", "call", "pair_ulp",
        "component_ulp", "pair_ulp_beyond_gate_range", "pair_ulp_by_position",
        "pair_ulp_histogram", "passthrough_mismatches", "special_values", "unwritten_elements",
        "reference", "worst_pair", "worst_component", "first_passthrough_mismatch",
        "first_special_mismatch"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

/* A range that was not judged (a skip, a crash, an error) decides the
 * case: the first such range's object, without its range. */
static cJSON *unjudged_case(const cJSON *part)
{
    cJSON *o = cJSON_Duplicate(part, 1);
    if (o)
        cJSON_DeleteItemFromObjectCaseSensitive(o, "slice");
    return o;
}

static const char *str_in(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    v = b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The merged object: part 0's description of the case, then the merged
 * verdict and figures, in the order verify writes them. */
static cJSON *case_object(const cJSON *first, const rc_verify_result *res,
                          const char *const replays[RC_CASE_LOCS])
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, first)
    {
        if (strcmp(it->string, "verdict") == 0) {
            cJSON_AddStringToObject(o, "verdict", rc_verdict_name(res->verdict));
            cJSON_AddStringToObject(o, "reason", res->reason);
            if (res->cause[0]) {
                cJSON_AddStringToObject(o, "cause", res->cause);
                cJSON_AddStringToObject(o, "finding", res->finding);
            }
            /* the call: the same in every range; its time summed */
            cJSON *call = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(first, "call"), 1);
            if (call) {
                cJSON_ReplaceItemInObjectCaseSensitive(call, "seconds",
                                                       cJSON_CreateNumber(res->impl_seconds));
                cJSON_AddItemToObject(o, "call", call);
            }
            const char *oracle = str_in(first, "reference", "oracle");
            rc_case_results_json(o, res, oracle ? oracle : "fast", replays);
        } else if (!is_range_key(it->string)) {
            cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
        }
    }
    return o;
}

/* A range's own maxima (NaN: no located worst) and mismatch counts. */
typedef struct range_own {
    double pair_max, component_max;
    int64_t passthrough, special;
} range_own;

cJSON *rc_merge_slices(const cJSON *const *parts, int64_t n, int64_t positions_below,
                       char *err, size_t err_len)
{
    if (n < 1 || n > (1 << 20)) {
        snprintf(err, err_len, "%lld token ranges", (long long)n);
        return NULL;
    }
    for (int64_t j = 0; j < n; j++)
        if (!cJSON_GetObjectItemCaseSensitive(parts[j], "state"))
            return unjudged_case(parts[j]);
    rc_verify_partial *st = calloc((size_t)n, sizeof *st);
    const char *(*rp)[RC_CASE_LOCS] = calloc((size_t)n, sizeof *rp);
    /* each range's own figures, taken before range 0's state grows into
     * the merged one: which range each located element comes from */
    range_own *own = calloc((size_t)n, sizeof *own);
    rc_verify_result *res = calloc(1, sizeof *res), scratch;
    cJSON *out = NULL;
    int64_t loaded = 0;
    if (!st || !rp || !res || !own) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (; loaded < n; loaded++) {
        const cJSON *sl = cJSON_GetObjectItemCaseSensitive(parts[loaded], "slice");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(sl, "token_lo");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(sl, "token_hi");
        char why[300];
        if (rc_partial_from_json(cJSON_GetObjectItemCaseSensitive(parts[loaded], "state"),
                                 &st[loaded], loaded ? &scratch : res, rp[loaded], why,
                                 sizeof why) != 0) {
            snprintf(err, err_len, "token range %lld: %s", (long long)loaded, why);
            goto done;
        }
        rc_error_summary sp, sc;
        rc_error_acc_summarize(st[loaded].pair, &sp);
        rc_error_acc_summarize(st[loaded].component, &sc);
        own[loaded] = (range_own){.pair_max = sp.has_worst ? sp.max : NAN,
                                  .component_max = sc.has_worst ? sc.max : NAN,
                                  .passthrough = st[loaded].passthrough_mismatches,
                                  .special = st[loaded].special_mismatches};
        if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) ||
            (double)st[loaded].tokens != hi->valuedouble - lo->valuedouble) {
            snprintf(err, err_len, "token range %lld: its state did not judge its tokens",
                     (long long)loaded);
            loaded++;
            goto done;
        }
        if (loaded && rc_verify_partial_merge(&st[0], &st[loaded]) != 0) {
            snprintf(err, err_len, "token range %lld: judged against other gates, or out of "
                     "memory", (long long)loaded);
            loaded++;
            goto done;
        }
    }
    rc_verify_case vc = {0};
    const char *profile = str_in(parts[0], "profile", NULL);
    if (!profile || rc_profile_parse(profile, &vc.profile) != 0) {
        snprintf(err, err_len, "the case's \"profile\" is missing or unknown");
        goto done;
    }
    res->gate_pair = st[0].gate_pair;
    res->gate_component = st[0].gate_component;
    res->positions_below = positions_below;
    res->call.outcome = RC_CALL_OK;
    rc_verify_partial_result(&st[0], &vc, res);
    /* Each located element is the earliest range's that holds it (the
     * merge keeps the first of equal maxima), with that range's replay. */
    const char *replays[RC_CASE_LOCS] = {"", "", "", ""};
    for (int64_t j = n - 1; j >= 0; j--) {
        if (own[j].pair_max == res->pair.max)
            replays[0] = rp[j][0];
        if (own[j].component_max == res->component.max)
            replays[1] = rp[j][1];
        if (own[j].passthrough > 0)
            replays[2] = rp[j][2];
        if (own[j].special > 0)
            replays[3] = rp[j][3];
    }
    rc_verify_partial_label_finding(&st[0], res); /* made from one range's outputs */
    out = case_object(parts[0], res, replays);
    if (!out)
        snprintf(err, err_len, "out of memory");
done:
    for (int64_t j = 0; st && j < loaded; j++)
        rc_verify_partial_free(&st[j]);
    free(st);
    free(rp);
    free(own);
    free(res);
    return out;
}
