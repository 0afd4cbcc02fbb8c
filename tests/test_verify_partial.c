/*
 * tests/test_verify_partial.c - the claim of harness/verify_partial.h: a
 * case judged in token ranges, each range into its own state, the states
 * merged in token order, gives exactly the result of rc_verify_run over
 * the whole case.
 *
 * Each case (scalar in every dtype and layout, with and without special
 * values, partial rotary, inverse, the hf profile; gate mutants that fail)
 * runs once whole, then in 2..7 seeded token ranges (judge_t0/judge_t1).
 * About half of the ranges' states go through JSON (cli/partial_json.h:
 * rc_partial_to_json, printed, parsed, rc_partial_from_json) before the
 * merge, as a shard's or a sweep checkpoint's state does. Every figure of
 * the merged result must equal the whole run's: verdict, reason, the
 * summaries with their worst locations (doubles compared bit for bit),
 * the per-position buckets, the histogram, the passthrough, special and
 * unwritten counters with their first locations. The finding is not
 * compared (the whole case's diagnosis sees every token; a part's only its
 * own): a failing merged result must carry a cause when the whole one
 * does, and both are printed when they differ.
 *
 * Positions are random with 0 and positions >= 2^31 among them (so
 * pair_beyond is filled under the default positions_below), 40..200
 * tokens, 1..4 heads. The seed is ROPECHECK_SEED's (tests/test_seed.h).
 *
 * Also: merging states of different gates is refused, and damaged JSON
 * states (a missing key, a bin count that contradicts "count", a
 * histogram of 33 counts) are refused with a message naming the field.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/partial_json.h"
#include "core/registry.h"
#include "gate_mutant_paths.h"
#include "harness/verify.h"
#include "harness/verify_partial.h"
#include "impls/builtins.h"
#include "test_seed.h"

#define WHO "test_verify_partial"

static uint64_t test_seed(void)
{
    return rc_test_seed(WHO, 20261125u);
}

/* splitmix64: one stream per case, from the seed and the case's name. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t uniform(uint64_t *s, int64_t lo, int64_t hi) /* [lo, hi] */
{
    return lo + (int64_t)(next_u64(s) % (uint64_t)(hi - lo + 1));
}

static uint64_t name_hash(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

/* ------------------------------------------------------------------ */
/* Comparison, field by field, doubles bit for bit */

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

#define EXPECT_INT(what, field, a, b)                                                           \
    cr_expect_eq((long long)(a), (long long)(b), "%s: %s differs: whole %lld, merged %lld",      \
                 what, field, (long long)(a), (long long)(b))

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

#define EXPECT_DBL(what, field, a, b)                                                           \
    cr_expect(same_bits((a), (b)), "%s: %s differs: whole %a (0x%016llx), merged %a (0x%016llx)", \
              what, field, (double)(a), (unsigned long long)bits_of(a), (double)(b),             \
              (unsigned long long)bits_of(b))


static void expect_loc(const char *what, const char *name, const rc_elem_loc *w,
                       const rc_elem_loc *m)
{
    char f[96];
#define L_INT(x)                                                                                \
    do {                                                                                        \
        snprintf(f, sizeof f, "%s." #x, name);                                                  \
        EXPECT_INT(what, f, w->x, m->x);                                                        \
    } while (0)
#define L_DBL(x)                                                                                \
    do {                                                                                        \
        snprintf(f, sizeof f, "%s." #x, name);                                                  \
        EXPECT_DBL(what, f, w->x, m->x);                                                        \
    } while (0)
    L_INT(token);
    L_INT(position);
    L_INT(head);
    L_INT(channel);
    L_INT(partner);
    L_DBL(in_self);
    L_DBL(in_partner);
    L_INT(in_self_bits);
    L_INT(in_partner_bits);
    L_DBL(got);
    L_INT(got_bits);
    L_DBL(exact.hi);
    L_DBL(exact.lo);
    L_DBL(rounded);
    L_INT(banded);
    L_DBL(band_pred);
    L_DBL(band_lo);
    L_DBL(band_hi);
    L_DBL(pair_ulp);
    L_DBL(component_ulp);
#undef L_INT
#undef L_DBL
}

static void expect_summary(const char *what, const char *name, const rc_error_summary *w,
                           const rc_error_summary *m)
{
    char f[96];
#define S_INT(x)                                                                                \
    do {                                                                                        \
        snprintf(f, sizeof f, "%s." #x, name);                                                  \
        EXPECT_INT(what, f, w->x, m->x);                                                        \
    } while (0)
#define S_DBL(x)                                                                                \
    do {                                                                                        \
        snprintf(f, sizeof f, "%s." #x, name);                                                  \
        EXPECT_DBL(what, f, w->x, m->x);                                                        \
    } while (0)
    S_INT(count);
    S_DBL(max);
    S_DBL(p50);
    S_DBL(p99);
    S_DBL(p999);
    S_DBL(gate);
    S_INT(over_gate);
    S_INT(has_worst);
#undef S_INT
#undef S_DBL
    if (w->has_worst && m->has_worst) {
        snprintf(f, sizeof f, "%s.worst", name);
        expect_loc(what, f, &w->worst, &m->worst);
    }
}

static void expect_same_result(const char *what, const rc_verify_result *w,
                               const rc_verify_result *m)
{
    cr_expect_eq(w->verdict, m->verdict, "%s: verdict differs: whole %s, merged %s", what,
                 rc_verdict_name(w->verdict), rc_verdict_name(m->verdict));
    cr_expect_str_eq(w->reason, m->reason, "%s: reason differs:\n  whole:  %s\n  merged: %s",
                     what, w->reason, m->reason);
    EXPECT_DBL(what, "gate_pair", w->gate_pair, m->gate_pair);
    EXPECT_DBL(what, "gate_component", w->gate_component, m->gate_component);
    EXPECT_INT(what, "positions_below", w->positions_below, m->positions_below);
    expect_summary(what, "pair", &w->pair, &m->pair);
    expect_summary(what, "component", &w->component, &m->component);
    expect_summary(what, "pair_beyond", &w->pair_beyond, &m->pair_beyond);
    for (int b = 0; b < RC_POSITION_BUCKETS; b++) {
        char f[64];
        const rc_position_bucket *x = &w->pair_by_position[b], *y = &m->pair_by_position[b];
        snprintf(f, sizeof f, "pair_by_position[%d].count", b);
        EXPECT_INT(what, f, x->count, y->count);
        snprintf(f, sizeof f, "pair_by_position[%d].max", b);
        EXPECT_DBL(what, f, x->max, y->max);
        snprintf(f, sizeof f, "pair_by_position[%d].p50", b);
        EXPECT_DBL(what, f, x->p50, y->p50);
        snprintf(f, sizeof f, "pair_by_position[%d].p99", b);
        EXPECT_DBL(what, f, x->p99, y->p99);
    }
    for (int k = 0; k < RC_HIST_BINS; k++) {
        char f[64];
        snprintf(f, sizeof f, "pair_histogram[%d]", k);
        EXPECT_INT(what, f, w->pair_histogram[k], m->pair_histogram[k]);
    }
    EXPECT_INT(what, "passthrough_mismatches", w->passthrough_mismatches,
               m->passthrough_mismatches);
    if (w->passthrough_mismatches > 0 && m->passthrough_mismatches > 0)
        expect_loc(what, "passthrough_first", &w->passthrough_first, &m->passthrough_first);
    EXPECT_INT(what, "special_elements", w->special_elements, m->special_elements);
    EXPECT_INT(what, "special_mismatches", w->special_mismatches, m->special_mismatches);
    if (w->special_mismatches > 0 && m->special_mismatches > 0)
        expect_loc(what, "special_first", &w->special_first, &m->special_first);
    EXPECT_INT(what, "special_first_classes", w->special_first_classes,
               m->special_first_classes);
    EXPECT_INT(what, "unwritten", w->unwritten, m->unwritten);
    EXPECT_INT(what, "ref_pairs_fast + ref_pairs_mpfr", w->ref_pairs_fast + w->ref_pairs_mpfr,
               m->ref_pairs_fast + m->ref_pairs_mpfr);
    EXPECT_INT(what, "profile_given_table", w->profile_given_table, m->profile_given_table);
    /* The diagnosis: a part's sees only its tokens, so the cause may be
     * another (or the same words with other evidence). */
    if (m->verdict == RC_VERDICT_FAIL && w->cause[0])
        cr_expect(m->cause[0] != '\0', "%s: the whole case's failure has cause %s (%s), the "
                  "merged one none", what, w->cause, w->finding);
    if (strcmp(w->cause, m->cause) != 0 || strcmp(w->finding, m->finding) != 0)
        fprintf(stderr, "%s: diagnosis differs (allowed):\n  whole:  [%s] %s\n  merged: [%s] %s\n",
                what, w->cause, w->finding, m->cause, m->finding);
}

/* ------------------------------------------------------------------ */
/* A state through JSON and back, as a shard's results file carries it */

static void json_round_trip(const char *what, rc_verify_partial *p, const rc_verify_result *r)
{
    static const char *const empty[RC_CASE_LOCS] = {"", "", "", ""};
    cJSON *j = rc_partial_to_json(p, r, empty);
    cr_assert_not_null(j, "%s: rc_partial_to_json", what);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cr_assert_not_null(text);
    cJSON *back = cJSON_Parse(text);
    cJSON_free(text);
    cr_assert_not_null(back, "%s: the state's JSON does not parse", what);
    rc_verify_partial q;
    rc_verify_result *scratch = calloc(1, sizeof *scratch);
    cr_assert_not_null(scratch);
    const char *replays[RC_CASE_LOCS];
    char err[256] = "";
    cr_assert_eq(rc_partial_from_json(back, &q, scratch, replays, err, sizeof err), 0,
                 "%s: its own state refused: %s", what, err);
    cJSON_Delete(back);
    cr_expect_eq(q.tokens, p->tokens, "%s: tokens after JSON", what);
    cr_expect(same_bits(q.gate_pair, p->gate_pair) && same_bits(q.gate_component, p->gate_component),
              "%s: gates after JSON", what);
    cr_expect_str_eq(q.cause, p->cause, "%s: cause after JSON", what);
    cr_expect_str_eq(q.finding, p->finding, "%s: finding after JSON", what);
    cr_expect_eq(q.diag_position_lo, p->diag_position_lo, "%s: diag_position_lo", what);
    cr_expect_eq(q.diag_position_hi, p->diag_position_hi, "%s: diag_position_hi", what);
    cr_expect_eq(scratch->profile_given_table, r->profile_given_table, "%s", what);
    free(scratch);
    rc_verify_partial_free(p);
    *p = q;
}

/* ------------------------------------------------------------------ */
/* The cases */

typedef struct tcase {
    const char *name;
    const char *plugin; /* NULL: the built-in scalar */
    rc_dtype dtype;
    rc_layout layout;
    rc_direction direction;
    int partial_rotary; /* rotary_dim < head_dim */
    int with_specials;
    rc_profile profile;
    double component_gate; /* > 0: gate components too (default: Inf) */
    int stride_pad, inplace;
    int64_t token_base;
    int expect; /* the verdict it must get; -1: either */
} tcase;

/* One draw of the case: its shape, positions and cut points from the
 * seed, the case's name and rep. */
static void run_once(const tcase *tc, const rc_impl *impl, int rep)
{
    const uint64_t seed = test_seed();
    uint64_t s = seed ^ name_hash(tc->name) ^ (0xD1B54A32D192ED03ull * (uint64_t)(rep + 1));

    /* The shape */
    static const int dims[] = {8, 16, 32, 64};
    const int head_dim = dims[uniform(&s, 0, 3)];
    const int rotary_dim = tc->partial_rotary ? 2 * (int)uniform(&s, 1, head_dim / 2 - 1)
                                              : head_dim;
    const int64_t n = uniform(&s, 40, 200);
    const int64_t heads = uniform(&s, 1, 4);

    /* Positions: mostly small and medium, some 0, some >= 2^31 (beyond
     * the gate's positions_below); the last token is a gated one, so a
     * defect there (last_token_unwritten) is judged by the gate. */
    int64_t *pos = malloc(sizeof *pos * (size_t)n);
    cr_assert_not_null(pos);
    for (int64_t t = 0; t < n; t++) {
        switch (uniform(&s, 0, 9)) {
        case 0: pos[t] = 0; break;
        case 1:
        case 2: pos[t] = ((int64_t)1 << 31) + uniform(&s, 0, ((int64_t)1 << 40)); break;
        case 3: pos[t] = uniform(&s, 0, ((int64_t)1 << 31) - 1); break;
        case 4: pos[t] = uniform(&s, 0, 1 << 20); break;
        default: pos[t] = uniform(&s, 0, 8192); break;
        }
    }
    pos[uniform(&s, 0, n / 2)] = 0;
    pos[uniform(&s, n / 2, n - 2)] = (int64_t)1 << 31; /* exactly the first beyond */
    pos[uniform(&s, 0, n - 2)] = ((int64_t)1 << 31) + uniform(&s, 1, (int64_t)1 << 45);
    pos[n - 1] = uniform(&s, 1, 100000);

    rc_verify_case c = {.impl = impl, .head_dim = head_dim, .rotary_dim = rotary_dim,
                        .base = 10000.0, .layout = tc->layout, .dtype = tc->dtype,
                        .direction = tc->direction, .n_tokens = n, .n_heads = heads,
                        .positions = pos, .inplace = tc->inplace, .stride_pad = tc->stride_pad,
                        .with_specials = tc->with_specials, .seed = next_u64(&s),
                        .timeout_s = 30, .profile = tc->profile, .jobs = 2,
                        .token_base = tc->token_base};
    rc_gate gate;
    if (tc->profile == RC_PROFILE_EXACT)
        rc_gate_default(&gate);
    else
        rc_gate_profile(&gate);
    if (tc->component_gate > 0)
        gate.component[tc->dtype] = tc->component_gate;

    /* The cut points: k in 1..6, distinct, sorted */
    const int k = (int)uniform(&s, 1, 6);
    int64_t cuts[8];
    int nc = 0;
    while (nc < k) {
        const int64_t x = uniform(&s, 1, n - 1);
        int dup = 0;
        for (int i = 0; i < nc; i++)
            dup |= cuts[i] == x;
        if (!dup)
            cuts[nc++] = x;
    }
    for (int i = 1; i < nc; i++) /* insertion sort */
        for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            const int64_t tmp = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = tmp;
        }
    int64_t bounds[10];
    bounds[0] = 0;
    for (int i = 0; i < nc; i++)
        bounds[i + 1] = cuts[i];
    bounds[nc + 1] = n;
    const int nr = nc + 1;

    char what[256];
    int at = snprintf(what, sizeof what, "%s #%d (seed %llu, %lld tokens, %lld heads, d%d r%d, ranges",
                      tc->name, rep, (unsigned long long)seed, (long long)n, (long long)heads,
                      head_dim, rotary_dim);
    for (int i = 0; i < nr && at > 0 && (size_t)at < sizeof what; i++)
        at += snprintf(what + at, sizeof what - (size_t)at, " [%lld,%lld)", (long long)bounds[i],
                       (long long)bounds[i + 1]);
    if (at > 0 && (size_t)at < sizeof what)
        snprintf(what + at, sizeof what - (size_t)at, ")");

    /* The whole case */
    rc_verify_result *whole = calloc(1, sizeof *whole);
    rc_verify_result *first = calloc(1, sizeof *first);
    rc_verify_result *later = calloc(1, sizeof *later);
    cr_assert(whole && first && later);
    rc_verify_run(&c, &gate, whole);
    cr_assert(whole->verdict == RC_VERDICT_PASS || whole->verdict == RC_VERDICT_FAIL,
              "%s: the whole case was not judged: %s: %s", what, rc_verdict_name(whole->verdict),
              whole->reason);
    if (tc->expect >= 0)
        cr_expect_eq(whole->verdict, (rc_verdict)tc->expect, "%s: verdict %s: %s", what,
                     rc_verdict_name(whole->verdict), whole->reason);
    cr_assert_gt(whole->pair_beyond.count, 0, "%s: no element beyond positions_below", what);
    cr_assert_gt(whole->pair.count, 0, "%s: no gated element", what);
    /* --jobs: each thread judges its tokens into its own state and the
     * states merge (harness/verify.c): every figure, the diagnosis too, is
     * the one-thread run's, whatever the number of threads. */
    for (int jobs = 1; jobs <= 5; jobs += 2) {
        rc_verify_case cj = c;
        cj.jobs = jobs;
        rc_verify_result *rj = calloc(1, sizeof *rj);
        cr_assert(rj);
        rc_verify_run(&cj, &gate, rj);
        char wj[300];
        snprintf(wj, sizeof wj, "%s, --jobs %d against --jobs 2", what, jobs);
        expect_same_result(wj, whole, rj);
        cr_expect_str_eq(whole->finding, rj->finding, "%s: finding differs", wj);
        free(rj);
    }

    /* The ranges, each into its own state, half of them through JSON */
    rc_verify_partial merged;
    int rounds = 0;
    for (int i = 0; i < nr; i++) {
        rc_verify_case ci = c;
        ci.judge_t0 = bounds[i];
        ci.judge_t1 = bounds[i + 1];
        rc_verify_partial p;
        cr_assert_eq(rc_verify_partial_init(&p, gate.pair[c.dtype], gate.component[c.dtype]), 0);
        rc_verify_result *ri = i == 0 ? first : later;
        cr_assert_eq(rc_verify_run_part(&ci, &gate, ri, &p), 1,
                     "%s: range %d not judged: %s: %s", what, i, rc_verdict_name(ri->verdict),
                     ri->reason);
        cr_expect_eq(p.tokens, bounds[i + 1] - bounds[i], "%s: range %d tokens", what, i);
        if (next_u64(&s) & 1) {
            char rw[300];
            snprintf(rw, sizeof rw, "%s range %d", what, i);
            json_round_trip(rw, &p, ri);
            rounds++;
        }
        if (i == 0) {
            merged = p;
        } else {
            cr_assert_eq(rc_verify_partial_merge(&merged, &p), 0, "%s: merge of range %d", what,
                         i);
            rc_verify_partial_free(&p);
        }
    }
    cr_expect_eq(merged.tokens, n, "%s: merged tokens", what);
    rc_verify_partial_result(&merged, &c, first);
    fprintf(stderr, "%s: %s%s%s, %d of %d ranges through JSON; pair max %a, beyond %lld\n", what,
            rc_verdict_name(whole->verdict), whole->cause[0] ? " cause " : "", whole->cause,
            rounds, nr, whole->pair.max, (long long)whole->pair_beyond.count);
    expect_same_result(what, whole, first);

    rc_verify_partial_free(&merged);
    free(whole);
    free(first);
    free(later);
    free(pos);
}

/* Each case is drawn REPS times (other shapes, positions and cuts). */
#define REPS 5

static void run_case(const tcase *tc)
{
    rc_plugin pl = {0};
    const rc_impl *impl;
    if (tc->plugin) {
        char err[256];
        cr_assert_eq(rc_plugin_load(tc->plugin, &pl, err, sizeof err), 0, "%s: %s", tc->plugin,
                     err);
        impl = pl.impl;
    } else {
        impl = rc_builtin_find("scalar");
        cr_assert_not_null(impl);
    }
    for (int rep = 0; rep < REPS; rep++)
        run_once(tc, impl, rep);
    if (tc->plugin)
        rc_plugin_unload(&pl);
}

#define PASS_ RC_VERDICT_PASS
#define FAIL_ RC_VERDICT_FAIL

Test(verify_partial, scalar_f32_half)
{
    run_case(&(tcase){.name = "scalar f32 half", .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_HALF, .expect = PASS_});
}

Test(verify_partial, scalar_f32_interleaved_specials)
{
    run_case(&(tcase){.name = "scalar f32 interleaved specials", .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_INTERLEAVED, .with_specials = 1, .expect = PASS_});
}

Test(verify_partial, scalar_f64_half_specials_partial)
{
    run_case(&(tcase){.name = "scalar f64 half specials partial-rotary", .dtype = RC_DTYPE_F64,
                      .layout = RC_LAYOUT_HALF, .with_specials = 1, .partial_rotary = 1,
                      .token_base = 5000, .expect = PASS_});
}

Test(verify_partial, scalar_f64_interleaved_inverse)
{
    run_case(&(tcase){.name = "scalar f64 interleaved inverse", .dtype = RC_DTYPE_F64,
                      .layout = RC_LAYOUT_INTERLEAVED, .direction = RC_INVERSE,
                      .expect = PASS_});
}

Test(verify_partial, scalar_f16_half_inverse_partial)
{
    run_case(&(tcase){.name = "scalar f16 half inverse partial-rotary", .dtype = RC_DTYPE_F16,
                      .layout = RC_LAYOUT_HALF, .direction = RC_INVERSE, .partial_rotary = 1,
                      .expect = PASS_});
}

Test(verify_partial, scalar_f16_interleaved_specials_strided_inplace)
{
    run_case(&(tcase){.name = "scalar f16 interleaved specials strided in-place",
                      .dtype = RC_DTYPE_F16, .layout = RC_LAYOUT_INTERLEAVED,
                      .with_specials = 1, .stride_pad = 3, .inplace = 1, .expect = PASS_});
}

Test(verify_partial, scalar_bf16_half_specials)
{
    run_case(&(tcase){.name = "scalar bf16 half specials", .dtype = RC_DTYPE_BF16,
                      .layout = RC_LAYOUT_HALF, .with_specials = 1, .expect = PASS_});
}

Test(verify_partial, scalar_bf16_interleaved_partial)
{
    run_case(&(tcase){.name = "scalar bf16 interleaved partial-rotary", .dtype = RC_DTYPE_BF16,
                      .layout = RC_LAYOUT_INTERLEAVED, .partial_rotary = 1, .expect = PASS_});
}

/* Correctly rounded components score up to 0.5 ulp: a component gate of
 * 1/4 fails on the component figures alone (over_gate merged). */
Test(verify_partial, scalar_f32_component_gate)
{
    run_case(&(tcase){.name = "scalar f32 half component gate 0.25", .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_HALF, .component_gate = 0.25, .expect = FAIL_});
}

/* The hf profile: the scalar port is exact, not HF's f32 arithmetic; the
 * verdict is whichever the band gives, judged the same either way. */
Test(verify_partial, scalar_f32_hf_profile)
{
    run_case(&(tcase){.name = "scalar f32 half hf profile", .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_HALF, .profile = RC_PROFILE_HF, .expect = -1});
}

Test(verify_partial, scalar_f32_hf_profile_specials)
{
    run_case(&(tcase){.name = "scalar f32 half hf profile specials", .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_HALF, .profile = RC_PROFILE_HF, .with_specials = 1,
                      .expect = -1});
}

Test(verify_partial, mutant_position_plus_one)
{
    run_case(&(tcase){.name = "gate mutant position_plus_one f32 half",
                      .plugin = GATE_MUTANT_POSITION_PLUS_ONE_PATH, .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_HALF, .expect = FAIL_});
}

Test(verify_partial, mutant_passthrough_zeroed)
{
    /* (passthrough_zeroed, like radial_scale, offers f32 only) */
    run_case(&(tcase){.name = "gate mutant passthrough_zeroed f32 interleaved partial-rotary",
                      .plugin = GATE_MUTANT_PASSTHROUGH_ZEROED_PATH, .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_INTERLEAVED, .partial_rotary = 1, .expect = FAIL_});
}

Test(verify_partial, mutant_specials_zeroed)
{
    run_case(&(tcase){.name = "gate mutant specials_zeroed bf16 half specials",
                      .plugin = GATE_MUTANT_SPECIALS_ZEROED_PATH, .dtype = RC_DTYPE_BF16,
                      .layout = RC_LAYOUT_HALF, .with_specials = 1, .expect = FAIL_});
}

Test(verify_partial, mutant_last_token_unwritten)
{
    run_case(&(tcase){.name = "gate mutant last_token_unwritten f16 interleaved",
                      .plugin = GATE_MUTANT_LAST_TOKEN_UNWRITTEN_PATH, .dtype = RC_DTYPE_F16,
                      .layout = RC_LAYOUT_INTERLEAVED, .expect = FAIL_});
}

Test(verify_partial, mutant_inf_saturated)
{
    run_case(&(tcase){.name = "gate mutant inf_saturated f32 interleaved specials inverse",
                      .plugin = GATE_MUTANT_INF_SATURATED_PATH, .dtype = RC_DTYPE_F32,
                      .layout = RC_LAYOUT_INTERLEAVED, .direction = RC_INVERSE,
                      .with_specials = 1, .expect = FAIL_});
}

/* ------------------------------------------------------------------ */
/* Refusals */

/* A small judged state of scalar f32 (specials, a position beyond the
 * gate), for the refusal tests. */
static void small_state(rc_verify_partial *p, rc_verify_result *r, const rc_gate *gate)
{
    static const int64_t positions[] = {0, 1, 7, 100, 4095, ((int64_t)1 << 31) + 5, 65536, 3};
    const rc_verify_case c = {.impl = rc_builtin_find("scalar"), .head_dim = 16,
                              .rotary_dim = 12, .base = 10000.0, .layout = RC_LAYOUT_HALF,
                              .dtype = RC_DTYPE_F32, .direction = RC_FORWARD,
                              .n_tokens = (int64_t)(sizeof positions / sizeof positions[0]),
                              .n_heads = 2, .positions = positions, .with_specials = 1,
                              .seed = test_seed(), .timeout_s = 30, .jobs = 1};
    cr_assert_eq(rc_verify_partial_init(p, gate->pair[c.dtype], gate->component[c.dtype]), 0);
    cr_assert_eq(rc_verify_run_part(&c, gate, r, p), 1, "%s", r->reason);
}

Test(verify_partial, merge_refuses_other_gates)
{
    rc_gate g1, g2;
    rc_gate_default(&g1);
    rc_gate_default(&g2);
    g2.pair[RC_DTYPE_F32] = 1.0;
    rc_verify_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);

    /* empty states: another pair gate, another component gate */
    rc_verify_partial a, b;
    cr_assert_eq(rc_verify_partial_init(&a, 2.0, INFINITY), 0);
    cr_assert_eq(rc_verify_partial_init(&b, 1.0, INFINITY), 0);
    cr_expect_eq(rc_verify_partial_merge(&a, &b), -1, "pair gates 2 and 1 merged");
    rc_verify_partial_free(&a);
    rc_verify_partial_free(&b);
    cr_assert_eq(rc_verify_partial_init(&a, 2.0, INFINITY), 0);
    cr_assert_eq(rc_verify_partial_init(&b, 2.0, 4.0), 0);
    cr_expect_eq(rc_verify_partial_merge(&a, &b), -1, "component gates Inf and 4 merged");
    rc_verify_partial_free(&a);
    rc_verify_partial_free(&b);

    /* judged states under the two gates, both orders; the same gate merges */
    small_state(&a, r, &g1);
    small_state(&b, r, &g2);
    cr_expect_eq(rc_verify_partial_merge(&a, &b), -1, "states of gates 2 and 1 merged");
    rc_verify_partial_free(&a);
    rc_verify_partial_free(&b);
    small_state(&a, r, &g2);
    small_state(&b, r, &g1);
    cr_expect_eq(rc_verify_partial_merge(&a, &b), -1, "states of gates 1 and 2 merged");
    rc_verify_partial_free(&a);
    rc_verify_partial_free(&b);
    small_state(&a, r, &g1);
    small_state(&b, r, &g1);
    cr_expect_eq(rc_verify_partial_merge(&a, &b), 0, "states of one gate refused");
    cr_expect_eq(a.tokens, 2 * b.tokens);
    rc_verify_partial_free(&a);
    rc_verify_partial_free(&b);
    free(r);
}

/* Reads `state` back; expects -1 and an error naming every one of the
 * words in `names` (NULL-terminated). */
static void expect_refused(const char *damage, const cJSON *state, const char *const *names)
{
    rc_verify_partial q;
    rc_verify_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    const char *replays[RC_CASE_LOCS];
    char err[256] = "";
    const int rc = rc_partial_from_json(state, &q, r, replays, err, sizeof err);
    fprintf(stderr, "%s: %d: %s\n", damage, rc, err);
    cr_expect_eq(rc, -1, "%s: accepted", damage);
    if (rc == 0)
        rc_verify_partial_free(&q);
    for (; *names; names++)
        cr_expect(strstr(err, *names) != NULL, "%s: the error does not name %s: %s", damage,
                  *names, err);
    free(r);
}

Test(verify_partial, damaged_states_refused)
{
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_partial p;
    rc_verify_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    small_state(&p, r, &gate);
    static const char *const empty[RC_CASE_LOCS] = {"", "", "", ""};
    cJSON *good = rc_partial_to_json(&p, r, empty);
    cr_assert_not_null(good);

    { /* undamaged: read back */
        rc_verify_partial q;
        const char *replays[RC_CASE_LOCS];
        char err[256] = "";
        cr_assert_eq(rc_partial_from_json(good, &q, r, replays, err, sizeof err), 0, "%s", err);
        cr_expect_eq(q.tokens, p.tokens);
        rc_verify_partial_free(&q);
    }
    { /* a top-level key deleted */
        cJSON *s = cJSON_Duplicate(good, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(s, "unwritten");
        expect_refused("no \"unwritten\"", s, (const char *const[]){"\"unwritten\"", NULL});
        cJSON_Delete(s);
    }
    { /* a histogram's key deleted */
        cJSON *s = cJSON_Duplicate(good, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "pair"),
                                                "count");
        expect_refused("no pair \"count\"", s, (const char *const[]){"pair", "\"count\"", NULL});
        cJSON_Delete(s);
    }
    { /* a bin's count that contradicts "count" */
        cJSON *s = cJSON_Duplicate(good, 1);
        cJSON *bins = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "pair"),
                                                       "bins");
        cr_assert(cJSON_GetArraySize(bins) > 0, "the state's pair histogram is empty");
        cJSON *cnt = cJSON_GetArrayItem(cJSON_GetArrayItem(bins, 0), 1);
        cr_assert(cJSON_IsNumber(cnt));
        cJSON_SetNumberValue(cnt, cnt->valuedouble + 1);
        expect_refused("pair bin count + 1", s, (const char *const[]){"pair", "\"bins\"", NULL});
        cJSON_Delete(s);
    }
    { /* the same in a by_position bucket */
        cJSON *s = cJSON_Duplicate(good, 1);
        cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "by_position"), 0);
        cJSON *bins = cJSON_GetObjectItemCaseSensitive(e, "bins");
        cr_assert(cJSON_GetArraySize(bins) > 0);
        cJSON *cnt = cJSON_GetArrayItem(cJSON_GetArrayItem(bins, 0), 1);
        cJSON_SetNumberValue(cnt, cnt->valuedouble + 1);
        expect_refused("by_position bin count + 1", s,
                       (const char *const[]){"by_position", "\"bins\"", NULL});
        cJSON_Delete(s);
    }
    { /* a histogram of 33 counts */
        cJSON *s = cJSON_Duplicate(good, 1);
        cJSON *hist = cJSON_GetObjectItemCaseSensitive(s, "histogram");
        cr_assert_eq(cJSON_GetArraySize(hist), RC_HIST_BINS);
        cJSON_DeleteItemFromArray(hist, RC_HIST_BINS - 1);
        expect_refused("histogram of 33", s, (const char *const[]){"\"histogram\"", NULL});
        cJSON_Delete(s);
    }
    cJSON_Delete(good);
    rc_verify_partial_free(&p);
    free(r);
}
