/*
 * cli/partial_json.c - a comparison state to JSON and back (partial_json.h).
 */
#include "cli/partial_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json_num.h"

static void add_int(cJSON *o, const char *key, int64_t v)
{
    cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_raw(cJSON *o, const char *key, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    rc_json_add_bits(o, key, u);
}

/* A location as the results hold it, plus the doubles a "%a" cannot give
 * back (a NaN's payload: an output never written is the fill pattern) as
 * raw bits. */
static cJSON *state_loc_json(const rc_elem_loc *l, const char *replay)
{
    cJSON *o = rc_loc_json(l, replay);
    add_raw(o, "input_raw", l->in_self);
    add_raw(o, "partner_input_raw", l->in_partner);
    add_raw(o, "got_raw", l->got);
    return o;
}

static cJSON *acc_json(const rc_error_acc *acc, const char *replay)
{
    cJSON *o = cJSON_CreateObject();
    rc_error_summary s;
    rc_error_acc_summarize(acc, &s);
    rc_json_add_hex(o, "gate", s.gate);
    add_int(o, "bits", rc_error_acc_bits(acc));
    add_int(o, "over_gate", s.over_gate);
    const size_t n = rc_error_acc_bins(acc, NULL, 0);
    rc_error_bin *bins = malloc((n ? n : 1) * sizeof *bins);
    cJSON *arr = cJSON_AddArrayToObject(o, "bins");
    if (!bins) { /* an empty "bins" with a count is refused when read */
        add_int(o, "count", s.count);
        return o;
    }
    rc_error_acc_bins(acc, bins, n);
    for (size_t i = 0; i < n; i++) {
        char max[64];
        snprintf(max, sizeof max, "%a", bins[i].max);
        cJSON *b = cJSON_CreateArray();
        cJSON_AddItemToArray(b, cJSON_CreateNumber(bins[i].key));
        cJSON_AddItemToArray(b, cJSON_CreateNumber((double)bins[i].count));
        cJSON_AddItemToArray(b, cJSON_CreateString(max));
        cJSON_AddItemToArray(arr, b);
    }
    free(bins);
    add_int(o, "count", s.count);
    if (s.has_worst)
        cJSON_AddItemToObject(o, "worst", state_loc_json(&s.worst, replay));
    return o;
}

cJSON *rc_partial_to_json(const rc_verify_partial *p, const rc_verify_result *r,
                          const char *const replays[RC_CASE_LOCS])
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "tokens", p->tokens);
    rc_json_add_hex(o, "gate_pair", p->gate_pair);
    rc_json_add_hex(o, "gate_component", p->gate_component);
    cJSON_AddItemToObject(o, "pair", acc_json(p->pair, replays[0]));
    cJSON_AddItemToObject(o, "component", acc_json(p->component, replays[1]));
    cJSON_AddItemToObject(o, "pair_beyond", acc_json(p->pair_beyond, ""));
    cJSON *byp = cJSON_AddArrayToObject(o, "by_position");
    for (int b = 0; b < RC_POSITION_BUCKETS; b++) {
        if (!p->by_position[b])
            continue;
        cJSON *e = acc_json(p->by_position[b], "");
        add_int(e, "bucket", b);
        cJSON_AddItemToArray(byp, e);
    }
    cJSON *hist = cJSON_AddArrayToObject(o, "histogram");
    for (int k = 0; k < RC_HIST_BINS; k++)
        cJSON_AddItemToArray(hist, cJSON_CreateNumber((double)p->pair_histogram[k]));
    add_int(o, "passthrough_mismatches", p->passthrough_mismatches);
    if (p->passthrough_mismatches > 0)
        cJSON_AddItemToObject(o, "passthrough_first", state_loc_json(&p->passthrough_first,
                                                                     replays[2]));
    add_int(o, "special_elements", p->special_elements);
    add_int(o, "special_mismatches", p->special_mismatches);
    if (p->special_mismatches > 0)
        cJSON_AddItemToObject(o, "special_first", state_loc_json(&p->special_first, replays[3]));
    add_int(o, "special_first_classes", p->special_first_classes);
    add_int(o, "unwritten", p->unwritten);
    add_int(o, "ziv_retries", (int64_t)p->ziv_retries);
    add_int(o, "uncertified", (int64_t)p->uncertified);
    add_int(o, "pairs_fast", (int64_t)p->ref_pairs_fast);
    add_int(o, "pairs_mpfr", (int64_t)p->ref_pairs_mpfr);
    rc_json_add_hex(o, "impl_seconds", p->impl_seconds);
    rc_json_add_hex(o, "reference_seconds", p->reference_seconds);
    cJSON_AddStringToObject(o, "cause", p->cause);
    cJSON_AddStringToObject(o, "finding", p->finding);
    add_int(o, "diag_position_lo", p->diag_position_lo);
    add_int(o, "diag_position_hi", p->diag_position_hi);
    add_int(o, "profile_given_table", r->profile_given_table);
    rc_json_add_hex(o, "profile_table_excess", r->profile_table_excess);
    add_int(o, "profile_table_worst", r->profile_table_worst);
    return o;
}

/* ---- reading back ---- */

typedef struct reader {
    char *err;
    size_t err_len;
    const char *where; /* the object being read, for the message */
    int bad;
} reader;

static const cJSON *field(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v && !rd->bad) {
        snprintf(rd->err, rd->err_len, "%s: \"%s\" is missing", rd->where, key);
        rd->bad = 1;
    }
    return v;
}

static void fail(reader *rd, const char *key, const char *what)
{
    if (!rd->bad)
        snprintf(rd->err, rd->err_len, "%s: \"%s\" is not %s", rd->where, key, what);
    rd->bad = 1;
}

/* A JSON integer in [lo, hi] (exact in a double: |v| <= 2^53). */
static int64_t get_int(reader *rd, const cJSON *o, const char *key, int64_t lo, int64_t hi)
{
    const cJSON *v = field(rd, o, key);
    if (!v)
        return 0;
    const double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi && d == floor(d) && fabs(d) <= 0x1p53)) {
        fail(rd, key, "an integer in range");
        return 0;
    }
    return (int64_t)d;
}

static double parse_hex(const char *s, int *ok)
{
    char *end;
    errno = 0;
    const double d = s ? strtod(s, &end) : NAN;
    *ok = s && *s && *end == '\0' && errno != ERANGE;
    return d;
}

/* A double written "%a" (or "inf", "nan"). */
static double get_hex(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = field(rd, o, key);
    if (!v)
        return 0.0;
    int ok = 0;
    const double d = cJSON_IsString(v) ? parse_hex(v->valuestring, &ok) : 0.0;
    if (!ok)
        fail(rd, key, "a double written %a");
    return d;
}

static uint64_t get_bits(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = field(rd, o, key);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    const unsigned long long u = s && strncmp(s, "0x", 2) == 0 ? strtoull(s, &end, 16) : 0;
    if (!s || !end || *end != '\0' || end == s + 2 || errno == ERANGE)
        fail(rd, key, "bits written 0x...");
    return (uint64_t)u;
}

static const char *get_str(reader *rd, const cJSON *o, const char *key)
{
    const cJSON *v = field(rd, o, key);
    if (v && !cJSON_IsString(v)) {
        fail(rd, key, "a string");
        return "";
    }
    return v ? v->valuestring : "";
}

static void read_loc(reader *rd, const cJSON *o, rc_elem_loc *l, const char **replay)
{
    memset(l, 0, sizeof *l);
    if (!cJSON_IsObject(o)) {
        fail(rd, "location", "an object");
        return;
    }
    l->position = get_int(rd, o, "position", 0, ((int64_t)1 << 53) - 1);
    const cJSON *tuple = cJSON_GetObjectItemCaseSensitive(o, "positions");
    if (tuple) { /* a multi-axis token's positions (results schema 1.6) */
        const int n = cJSON_IsArray(tuple) ? cJSON_GetArraySize(tuple) : 0;
        if (n < 2 || n > RC_MAX_AXES) {
            fail(rd, "positions", "an array of 2 .. 4 positions");
            return;
        }
        l->n_axes = n;
        for (int a = 0; a < n; a++) {
            const cJSON *e = cJSON_GetArrayItem(tuple, a);
            const double v = cJSON_IsNumber(e) ? e->valuedouble : -1.0;
            if (!(v >= 0 && v <= 0x1p53 - 1 && v == floor(v))) {
                fail(rd, "positions", "integers in [0, 2^53 - 1]");
                return;
            }
            l->positions[a] = (int64_t)v;
        }
    }
    l->token = get_int(rd, o, "token", 0, INT64_MAX);
    l->head = (int32_t)get_int(rd, o, "head", 0, INT32_MAX);
    l->channel = (int32_t)get_int(rd, o, "channel", 0, INT32_MAX);
    l->partner = (int32_t)get_int(rd, o, "partner_channel", 0, INT32_MAX);
    l->in_self = get_hex(rd, o, "input");
    l->in_self_bits = get_bits(rd, o, "input_bits");
    l->in_partner = get_hex(rd, o, "partner_input");
    l->in_partner_bits = get_bits(rd, o, "partner_input_bits");
    l->got = get_hex(rd, o, "got");
    l->got_bits = get_bits(rd, o, "got_bits");
    l->exact.hi = get_hex(rd, o, "exact_hi");
    l->exact.lo = get_hex(rd, o, "exact_lo");
    l->rounded = get_hex(rd, o, "correctly_rounded");
    l->banded = cJSON_HasObjectItem(o, "profile_prediction");
    if (l->banded) {
        l->band_pred = get_hex(rd, o, "profile_prediction");
        l->band_lo = get_hex(rd, o, "band_lo");
        l->band_hi = get_hex(rd, o, "band_hi");
    }
    if (cJSON_HasObjectItem(o, "got_raw")) { /* a state's: exact even for a NaN */
        const uint64_t raw[3] = {get_bits(rd, o, "input_raw"), get_bits(rd, o, "partner_input_raw"),
                                 get_bits(rd, o, "got_raw")};
        memcpy(&l->in_self, &raw[0], sizeof l->in_self);
        memcpy(&l->in_partner, &raw[1], sizeof l->in_partner);
        memcpy(&l->got, &raw[2], sizeof l->got);
    }
    l->pair_ulp = get_hex(rd, o, "pair_ulp_hex");
    l->component_ulp = get_hex(rd, o, "component_ulp_hex");
    *replay = get_str(rd, o, "replay");
}

int rc_loc_from_json(const cJSON *o, rc_elem_loc *l, char *err, size_t err_len)
{
    reader rd = {err, err_len, "location", 0};
    const char *replay;
    read_loc(&rd, o, l, &replay);
    return rd.bad ? -1 : 0;
}

/* An accumulator; NULL after a reader error. */
static rc_error_acc *read_acc(reader *rd, const cJSON *o, const char *name, const char **replay)
{
    const char *outer = rd->where;
    rd->where = name;
    rc_error_acc *acc = NULL;
    rc_error_bin *bins = NULL;
    *replay = "";
    const double gate = get_hex(rd, o, "gate");
    const int bits = (int)get_int(rd, o, "bits", 0, RC_ERROR_ACC_MAX_BITS);
    const int64_t over = get_int(rd, o, "over_gate", 0, INT64_MAX);
    const int64_t count = get_int(rd, o, "count", 0, INT64_MAX);
    const cJSON *arr = field(rd, o, "bins");
    const int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
    if (!rd->bad && n < 0)
        fail(rd, "bins", "an array");
    if (!rd->bad && !(bins = malloc((size_t)(n ? n : 1) * sizeof *bins)))
        fail(rd, "bins", "in memory (out of memory)");
    int i = 0;
    const cJSON *b, *walk = rd->bad ? NULL : arr;
    cJSON_ArrayForEach(b, walk)
    {
        const cJSON *k = cJSON_GetArrayItem(b, 0), *c = cJSON_GetArrayItem(b, 1),
                    *m = cJSON_GetArrayItem(b, 2);
        int ok = 0;
        const double max = cJSON_IsString(m) ? parse_hex(m->valuestring, &ok) : 0.0;
        if (cJSON_GetArraySize(b) != 3 || !cJSON_IsNumber(k) || !cJSON_IsNumber(c) || !ok ||
            !(k->valuedouble >= 0 && k->valuedouble < 4294967296.0) ||
            k->valuedouble != floor(k->valuedouble) || !(c->valuedouble >= 1) ||
            c->valuedouble > 0x1p53 || c->valuedouble != floor(c->valuedouble)) {
            fail(rd, "bins", "[key, count, \"max\"] triples");
            break;
        }
        bins[i++] = (rc_error_bin){(uint32_t)k->valuedouble, (int64_t)c->valuedouble, max};
    }
    rc_elem_loc worst;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "worst");
    if (w && !rd->bad)
        read_loc(rd, w, &worst, replay);
    if (!rd->bad) {
        acc = rc_error_acc_restore(gate, bits, over, bins, (size_t)n, w ? &worst : NULL);
        rc_error_summary s;
        if (acc)
            rc_error_acc_summarize(acc, &s);
        /* the worst location holds the maximum (NaN counted as +Inf) */
        double wv = strcmp(name, "component") == 0 ? worst.component_ulp : worst.pair_ulp;
        wv = isnan(wv) ? INFINITY : wv;
        if (!acc || s.count != count || (w && !(wv == s.max))) {
            rc_error_acc_destroy(acc);
            acc = NULL;
            fail(rd, "bins", "a histogram of this count, over-gate count and worst value");
        }
    }
    free(bins);
    rd->where = outer;
    return acc;
}

int rc_partial_from_json(const cJSON *state, rc_verify_partial *p, rc_verify_result *r,
                         const char *replays[RC_CASE_LOCS], char *err, size_t err_len)
{
    reader rd = {err, err_len, "state", 0};
    memset(p, 0, sizeof *p);
    for (int i = 0; i < RC_CASE_LOCS; i++)
        replays[i] = "";
    if (!cJSON_IsObject(state)) {
        snprintf(err, err_len, "state: not an object");
        return -1;
    }
    p->gate_pair = get_hex(&rd, state, "gate_pair");
    p->gate_component = get_hex(&rd, state, "gate_component");
    p->tokens = get_int(&rd, state, "tokens", 0, INT64_MAX);
    const char *unused;
    if (!rd.bad) {
        p->pair = read_acc(&rd, field(&rd, state, "pair"), "pair", &replays[0]);
        p->component = read_acc(&rd, field(&rd, state, "component"), "component", &replays[1]);
        p->pair_beyond = read_acc(&rd, field(&rd, state, "pair_beyond"), "pair_beyond", &unused);
    }
    const cJSON *byp = field(&rd, state, "by_position"), *e;
    if (!rd.bad && !cJSON_IsArray(byp))
        fail(&rd, "by_position", "an array");
    const cJSON *walk = rd.bad ? NULL : byp;
    cJSON_ArrayForEach(e, walk)
    {
        const int b = (int)get_int(&rd, e, "bucket", 0, RC_POSITION_BUCKETS - 1);
        if (rd.bad)
            break;
        if (p->by_position[b]) {
            fail(&rd, "bucket", "given once");
            break;
        }
        p->by_position[b] = read_acc(&rd, e, "by_position", &unused);
    }
    const cJSON *hist = field(&rd, state, "histogram");
    if (!rd.bad && cJSON_GetArraySize(hist) != RC_HIST_BINS)
        fail(&rd, "histogram", "34 counts");
    for (int k = 0; k < RC_HIST_BINS && !rd.bad; k++) {
        const cJSON *c = cJSON_GetArrayItem(hist, k);
        if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0) || c->valuedouble > 0x1p53 ||
            c->valuedouble != floor(c->valuedouble))
            fail(&rd, "histogram", "34 counts");
        else
            p->pair_histogram[k] = (int64_t)c->valuedouble;
    }
    p->passthrough_mismatches = get_int(&rd, state, "passthrough_mismatches", 0, INT64_MAX);
    if (!rd.bad && p->passthrough_mismatches > 0)
        read_loc(&rd, field(&rd, state, "passthrough_first"), &p->passthrough_first,
                 &replays[2]);
    p->special_elements = get_int(&rd, state, "special_elements", 0, INT64_MAX);
    p->special_mismatches = get_int(&rd, state, "special_mismatches", 0, p->special_elements);
    if (!rd.bad && p->special_mismatches > 0)
        read_loc(&rd, field(&rd, state, "special_first"), &p->special_first, &replays[3]);
    p->special_first_classes = (unsigned)get_int(&rd, state, "special_first_classes", 0, 15);
    p->unwritten = get_int(&rd, state, "unwritten", 0, INT64_MAX);
    p->ziv_retries = (uint64_t)get_int(&rd, state, "ziv_retries", 0, INT64_MAX);
    p->uncertified = (uint64_t)get_int(&rd, state, "uncertified", 0, INT64_MAX);
    p->ref_pairs_fast = (uint64_t)get_int(&rd, state, "pairs_fast", 0, INT64_MAX);
    p->ref_pairs_mpfr = (uint64_t)get_int(&rd, state, "pairs_mpfr", 0, INT64_MAX);
    p->impl_seconds = get_hex(&rd, state, "impl_seconds");
    p->reference_seconds = get_hex(&rd, state, "reference_seconds");
    const char *cause = get_str(&rd, state, "cause");
    const char *finding = get_str(&rd, state, "finding");
    if (!rd.bad && (strlen(cause) >= sizeof p->cause || strlen(finding) >= sizeof p->finding))
        fail(&rd, "cause", "of a length verify writes");
    if (!rd.bad) {
        snprintf(p->cause, sizeof p->cause, "%s", cause);
        snprintf(p->finding, sizeof p->finding, "%s", finding);
    }
    p->diag_position_lo = get_int(&rd, state, "diag_position_lo", 0, INT64_MAX);
    p->diag_position_hi = get_int(&rd, state, "diag_position_hi", 0, INT64_MAX);
    r->profile_given_table = (int)get_int(&rd, state, "profile_given_table", 0, 1);
    r->profile_table_excess = get_hex(&rd, state, "profile_table_excess");
    r->profile_table_worst = (int)get_int(&rd, state, "profile_table_worst", 0, INT32_MAX);
    /* the accumulators' gates are the state's (a state whose gates
     * disagree with its histograms is not one verify wrote) */
    if (!rd.bad) {
        rc_error_summary sp, sc;
        rc_error_acc_summarize(p->pair, &sp);
        rc_error_acc_summarize(p->component, &sc);
        if (!(sp.gate == p->gate_pair || (isinf(sp.gate) && isinf(p->gate_pair))) ||
            !(sc.gate == p->gate_component || (isinf(sc.gate) && isinf(p->gate_component))))
            fail(&rd, "gate_pair", "the gate of its histograms");
    }
    if (rd.bad) {
        rc_verify_partial_free(p);
        return -1;
    }
    return 0;
}
