/*
 * tests/test_proofs_scaling.c - the oracles (proofs/) and verify with
 * frequency scaling (issue 8): the scalar port passes every oracle with
 * every family; each test-only port with a published scaling bug
 * (tests/mutants_scaling, loaded as plug-ins) fails rotation
 * identification with the finding that names its bug, and fails verify.
 *
 * Specs are the models' (rope fields of their config.json): Llama-3.1-8B
 * (llama3: base 5e5, s = 8, low 1, high 4, L0 8192), Qwen2-7B-Instruct
 * with YaRN (base 1e6, s = 4, L0 32768, beta 32/1, alpha = 0.1 ln 4 + 1),
 * and a dynamic NTK spec (base 1e4, s = 2, L0 4096, L = 10000) where the
 * integer quotient (s*L)/L0 = 4 differs from 4.88 and from the static
 * NTK factor: base' = base * 3^(r/(r-2)) instead of base * 3.88^(r/(r-2)).
 * The tests compare verdicts and finding texts only; the oracles derive
 * their own tolerances (proofs/rotation.c, OUTPUT SCALE).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/registry.h"
#include "impls/builtins.h"
#include "core/rng.h"
#include "harness/verify.h"
#include "mutant_paths.h"
#include "proofs/proofs.h"
#include "scaling_mutant_paths.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_proofs_scaling", 20261123u);
}

static void log_result(const char *what, const rc_impl *impl, const rc_proof_result *r)
{
    fprintf(stderr, "%s %s [%s]: %s, %s = %.4g%s%s\n", what, impl->name, rc_dtype_name(r->dtype),
            rc_proof_verdict_name(r->verdict), r->figure_name, r->figure,
            r->error[0] ? "; " : "", r->error);
    for (int i = 0; i < r->n_findings; i++)
        fprintf(stderr, "    finding: %s\n", r->findings[i].text);
    if (r->findings_dropped)
        fprintf(stderr, "    (%d more findings dropped)\n", r->findings_dropped);
}

/* ------------------------------------------------------------------ */
/* The families */

static const rc_scaling llama31 = {.type = RC_SCALING_LLAMA3,
                                   .factor = 8.0,
                                   .original_context = 8192,
                                   .low_freq_factor = 1.0,
                                   .high_freq_factor = 4.0};
static const rc_scaling qwen2_yarn = {.type = RC_SCALING_YARN,
                                      .factor = 4.0,
                                      .original_context = 32768,
                                      .beta_fast = 32.0,
                                      .beta_slow = 1.0,
                                      .truncate = 1};
static const rc_scaling dyn_ntk = {.type = RC_SCALING_DYNAMIC_NTK,
                                   .factor = 2.0,
                                   .original_context = 4096,
                                   .context = 10000};
static const rc_scaling linear4 = {.type = RC_SCALING_LINEAR, .factor = 4.0};
static const rc_scaling ntk4 = {.type = RC_SCALING_NTK, .factor = 4.0};

static rc_proof_spec make_spec(int d, int r, double base, rc_layout layout, int dtype,
                               const rc_scaling *sc)
{
    rc_proof_spec s = {.head_dim = d,
                       .rotary_dim = r,
                       .base = base,
                       .layout = layout,
                       .dtype = dtype,
                       .gate_pair = 0.0,
                       .scaling = sc};
    return s;
}

static rc_proof_spec llama31_spec(void)
{
    return make_spec(128, 128, 500000.0, RC_LAYOUT_HALF, -1, &llama31);
}

static rc_proof_spec qwen2_spec(void)
{
    return make_spec(128, 128, 1e6, RC_LAYOUT_HALF, -1, &qwen2_yarn);
}

static rc_proof_spec dyn_spec(void)
{
    return make_spec(128, 128, 10000.0, RC_LAYOUT_INTERLEAVED, -1, &dyn_ntk);
}

/* ------------------------------------------------------------------ */
/* The scalar port passes every oracle with every family. */

/* Gate positions: below 2^31. */
#define GATED_MAX ((int64_t)2147483647)

static const rc_impl *scalar(void)
{
    const rc_impl *s = rc_builtin_find("scalar");
    cr_assert_not_null(s);
    return s;
}

static void expect_all_oracles_pass(const rc_proof_spec *s, const char *what)
{
    const rc_impl *im = scalar();
    rc_rotation_id *id = malloc(sizeof *id);
    rc_abel_result *ab = malloc(sizeof *ab);
    rc_linattn_result *la = malloc(sizeof *la);
    cr_assert(id && ab && la);
    const uint64_t seed = test_seed();

    cr_assert_eq(rc_prove_rotation(im, s, id), 0, "%s: %s", what, id->res.error);
    log_result(what, im, &id->res);
    cr_expect_eq(id->res.verdict, RC_PROOF_PASS, "%s: scalar fails rotation: %s", what,
                 id->res.n_findings ? id->res.findings[0].text : id->res.error);
    cr_expect_eq(id->n_pairs, s->rotary_dim / 2, "%s", what);
    cr_expect_eq(id->direction_found, 1, "%s", what);

    rc_proof_result rel;
    cr_assert_eq(rc_prove_relative(im, s, seed, 100, GATED_MAX, &rel), 0, "%s: %s", what,
                 rel.error);
    log_result(what, im, &rel);
    cr_expect_eq(rel.verdict, RC_PROOF_PASS, "%s: scalar fails Eq. 16: %s", what,
                 rel.n_findings ? rel.findings[0].text : "");

    cr_assert_eq(rc_prove_abel(im, s, seed, 32, GATED_MAX, 16, ab), 0, "%s: %s", what,
                 ab->res.error);
    log_result(what, im, &ab->res);
    cr_expect_eq(ab->res.verdict, RC_PROOF_PASS, "%s: scalar fails Abel: %s", what,
                 ab->res.n_findings ? ab->res.findings[0].text : "");
    cr_expect(ab->max_score_ratio <= 1.0, "%s", what);

    cr_assert_eq(rc_prove_linear_attention(im, s, seed, 32, 3, GATED_MAX, la), 0, "%s: %s",
                 what, la->res.error);
    log_result(what, im, &la->res);
    cr_expect_eq(la->res.verdict, RC_PROOF_PASS, "%s: scalar fails linear attention: %s", what,
                 la->res.n_findings ? la->res.findings[0].text : "");
    free(id);
    free(ab);
    free(la);
}

Test(scaled_scalar, llama3_f64_and_f32)
{
    rc_proof_spec s = llama31_spec();
    expect_all_oracles_pass(&s, "llama3 f64");
    s.dtype = RC_DTYPE_F32;
    expect_all_oracles_pass(&s, "llama3 f32");
}

Test(scaled_scalar, yarn_f64_and_f32)
{
    rc_proof_spec s = qwen2_spec();
    expect_all_oracles_pass(&s, "yarn f64");
    s.dtype = RC_DTYPE_F32;
    s.layout = RC_LAYOUT_INTERLEAVED;
    expect_all_oracles_pass(&s, "yarn f32");
}

/* The 16-bit dtypes: alpha > 1 moves outputs into the next binade, which
 * the tolerances' ulp(max(1, alpha) N) accounts for. */
Test(scaled_scalar, yarn_f16_bf16)
{
    rc_proof_spec s = make_spec(64, 48, 1e6, RC_LAYOUT_HALF, RC_DTYPE_F16, &qwen2_yarn);
    expect_all_oracles_pass(&s, "yarn f16");
    s.dtype = RC_DTYPE_BF16;
    expect_all_oracles_pass(&s, "yarn bf16");
}

Test(scaled_scalar, dynamic_linear_ntk)
{
    rc_proof_spec s = dyn_spec();
    expect_all_oracles_pass(&s, "dynamic");
    s = make_spec(64, 48, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, &linear4);
    expect_all_oracles_pass(&s, "linear");
    s = make_spec(64, 64, 10000.0, RC_LAYOUT_INTERLEAVED, -1, &ntk4);
    expect_all_oracles_pass(&s, "ntk");
}

/* LongRoPE (long factors, L > L0: alpha = sqrt(1 + ln s / ln L0)) and an
 * explicit table, with made-up but valid per-pair lists. */
Test(scaled_scalar, longrope_and_table)
{
    enum { R = 32, H = R / 2 };
    double shortf[H], longf[H], table[H];
    for (int i = 0; i < H; i++) {
        shortf[i] = 1.0 + 0.05 * i;
        longf[i] = 1.0 + 0.9 * i;
        table[i] = pow(0.5, i) * (1.0 + 0.01 * i);
    }
    const rc_scaling lr = {.type = RC_SCALING_LONGROPE,
                           .factor = 32.0,
                           .original_context = 4096,
                           .context = 131072,
                           .short_factor = shortf,
                           .long_factor = longf};
    rc_proof_spec s = make_spec(R, R, 10000.0, RC_LAYOUT_HALF, -1, &lr);
    expect_all_oracles_pass(&s, "longrope");
    const rc_scaling tb = {.type = RC_SCALING_TABLE, .table = table};
    s = make_spec(R + 8, R, 10000.0, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32, &tb);
    expect_all_oracles_pass(&s, "table");
}

/* A port without RC_CAP_SCALING is skipped for a scaled spec, and says so. */
Test(scaled_scalar, no_cap_is_skipped)
{
    rc_plugin pl;
    char err[256];
    cr_assert_eq(rc_plugin_load(MUTANT_WRONG_PATH, &pl, err, sizeof err), 0, "%s", err);
    cr_assert(!(rc_impl_caps(pl.impl) & RC_CAP_SCALING));
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    rc_proof_spec s = llama31_spec();
    rc_prove_rotation(pl.impl, &s, id);
    log_result("rotation", pl.impl, &id->res);
    cr_expect_eq(id->res.verdict, RC_PROOF_SKIPPED);
    cr_expect(strstr(id->res.error, "does not offer frequency scaling"), "%s", id->res.error);
    free(id);
    rc_plugin_unload(&pl);
}

/* ------------------------------------------------------------------ */
/* The mutants */

typedef struct mcase {
    const char *path;
    rc_proof_spec (*spec)(void);
    const rc_scaling *sc;
    const char *phrase; /* the finding that names the bug */
} mcase;

static const mcase cases[] = {
    {SCALING_MUTANT_THETA_BF16_PATH, llama31_spec, &llama31,
     "the inverse frequencies were rounded to bf16"},
    {SCALING_MUTANT_SINCOS_F16_PATH, llama31_spec, &llama31,
     "the cos/sin table is kept in f16"},
    {SCALING_MUTANT_ALPHA_MISSING_PATH, qwen2_spec, &qwen2_yarn,
     "radial scale 1 on every pair; expected the yarn attention factor 1.13863 (alpha): it "
     "is missing"},
    {SCALING_MUTANT_ALPHA_TWICE_PATH, qwen2_spec, &qwen2_yarn,
     "= alpha^2 on every pair: the yarn attention factor 1.13863 is applied twice"},
    {SCALING_MUTANT_LLAMA3_DROPPED_PATH, llama31_spec, &llama31,
     "every pair matches plain base^(-2i/r) frequencies: the llama3 scaling is missing"},
    {SCALING_MUTANT_LLAMA3_HARD_CUT_PATH, llama31_spec, &llama31,
     "match plain base^(-2i/r) frequencies, not the llama3 ramp"},
    {SCALING_MUTANT_LLAMA3_WRONG_L0_PATH, llama31_spec, &llama31,
     "pairs 29-45 match llama3 scaling with original context 65536 (L0 * 8 instead of 8192), "
     "not the llama3 table"},
    {SCALING_MUTANT_DYNAMIC_INTDIV_PATH, dyn_spec, &dyn_ntk,
     "match dynamic NTK with s*L/L0 = 4.88281 floored to 4 (integer division)"},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static void load(const char *path, rc_plugin *pl)
{
    char err[256];
    cr_assert_eq(rc_plugin_load(path, pl, err, sizeof err), 0, "%s: %s", path, err);
    cr_assert(rc_impl_caps(pl->impl) & RC_CAP_SCALING, "%s", pl->impl->name);
}

Test(scaled_mutants, rotation_names_the_bug)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    for (int c = 0; c < NCASES; c++) {
        rc_plugin pl;
        load(cases[c].path, &pl);
        rc_proof_spec s = cases[c].spec();
        cr_assert_eq(rc_prove_rotation(pl.impl, &s, id), 0, "%s: %s", pl.impl->name,
                     id->res.error);
        log_result("rotation", pl.impl, &id->res);
        cr_expect_eq(id->res.verdict, RC_PROOF_FAIL, "%s passes rotation identification",
                     pl.impl->name);
        cr_expect(rc_proof_has_finding(&id->res, cases[c].phrase), "%s: no finding with '%s'",
                  pl.impl->name, cases[c].phrase);
        rc_plugin_unload(&pl);
    }
    free(id);
}

/* Every mutant's outputs miss the exact scaled values by far more than
 * the f32 gate, at positions up to the scaled context. */
Test(scaled_mutants, verify_fails)
{
    enum { T = 64, HEADS = 2 };
    const uint64_t seed = test_seed();
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x534d5554ull /* "SMUT" */, 0);
    int64_t pos[T];
    for (int t = 0; t < T; t++)
        pos[t] = (int64_t)rc_rng_below(&g, 131072);
    pos[0] = 131071;
    rc_gate gate;
    rc_gate_default(&gate);
    rc_verify_result *res = malloc(sizeof *res);
    cr_assert_not_null(res);
    for (int c = 0; c < NCASES; c++) {
        rc_plugin pl;
        load(cases[c].path, &pl);
        const rc_proof_spec s = cases[c].spec();
        rc_verify_case vc;
        memset(&vc, 0, sizeof vc);
        vc.impl = pl.impl;
        vc.head_dim = s.head_dim;
        vc.rotary_dim = s.rotary_dim;
        vc.base = s.base;
        vc.layout = s.layout;
        vc.dtype = RC_DTYPE_F32;
        vc.direction = RC_FORWARD;
        vc.n_tokens = T;
        vc.n_heads = HEADS;
        vc.positions = pos;
        vc.seed = seed;
        vc.timeout_s = 60.0;
        vc.scaling = cases[c].sc;
        const rc_verdict v = rc_verify_run(&vc, &gate, res);
        fprintf(stderr, "verify %s (%s): %s, max pair ulp %.4g; %s\n", pl.impl->name,
                rc_scaling_type_name(cases[c].sc->type), rc_verdict_name(v), res->pair.max,
                res->reason);
        cr_expect_eq(v, RC_VERDICT_FAIL, "%s: %s (%s)", pl.impl->name, rc_verdict_name(v),
                     res->reason);
        /* The same case passes on the scalar port: the failure is the bug. */
        vc.impl = scalar();
        const rc_verdict vs = rc_verify_run(&vc, &gate, res);
        cr_expect_eq(vs, RC_VERDICT_PASS, "scalar on %s: %s (%s)",
                     rc_scaling_type_name(cases[c].sc->type), rc_verdict_name(vs), res->reason);
        rc_plugin_unload(&pl);
    }
    free(res);
}

/* A table no family explains: the scalar port with pairs 5 and 6 of the
 * llama3 table multiplied by 1.01. Those pairs match neither the llama3
 * table nor any candidate the family finder knows (plain, other factors,
 * other contexts): the finding says "no known table", never a candidate's
 * name. */
static rc_status odd_pairs_prepare(const rc_spec *spec, void **state)
{
    double hi[RC_MAX_HEAD_DIM / 2], lo[RC_MAX_HEAD_DIM / 2];
    const int half = spec->rotary_dim / 2;
    for (int i = 0; i < half; i++) {
        hi[i] = spec->theta_hi[i];
        lo[i] = spec->theta_lo[i];
        if (i == 5 || i == 6) {
            hi[i] *= 1.01;
            lo[i] = 0.0;
        }
    }
    rc_spec s = *spec;
    s.theta_hi = hi;
    s.theta_lo = lo;
    return scalar()->prepare(&s, state);
}

static rc_status odd_pairs_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                 const int64_t *positions, rc_direction dir)
{
    return scalar()->apply(state, in, out, positions, dir);
}

static void odd_pairs_release(void *state)
{
    scalar()->release(state);
}

Test(scaled_mutants, unexplained_pairs_match_no_known_table)
{
    const rc_impl odd = {RC_ABI_VERSION, "odd-pairs", "pairs 5, 6 of the table x 1.01",
                         rc_impl_caps(scalar()), NULL, odd_pairs_prepare, odd_pairs_apply,
                         odd_pairs_release, NULL};
    rc_proof_spec s = llama31_spec();
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    cr_assert_eq(rc_prove_rotation(&odd, &s, id), 0, "%s", id->res.error);
    log_result("rotation", &odd, &id->res);
    cr_expect_eq(id->res.verdict, RC_PROOF_FAIL);
    cr_expect(rc_proof_has_finding(&id->res, "pairs 5-6 match no known table"),
              "the two pairs are named as unexplained");
    free(id);
}
