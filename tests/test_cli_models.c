/*
 * tests/test_cli_models.c - `ropecheck verify` with a model's RoPE, end to
 * end: the acceptance commands (a Hugging Face config with llama3
 * scaling, the YaRN and LongRoPE presets) pass for the exact ports; broken
 * configs and contradictions stop with exit 2 and the field named; a
 * framework profile tells the exact port from the framework it models.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_runner.h"
#include "mutant_paths.h"
#include "scaling_mutant_paths.h"

#define CONFIG(name) RC_CONFIGS_DIR "/" name

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

static void expect_all_pass(const char *const *argv, const char *summary)
{
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, summary), "expected '%s' in:\n%s", summary, r.out);
    cli_result_free(&r);
}

Test(cli_models, llama31_config_passes_to_the_scaled_context)
{
    /* The acceptance command; positions up to the scaled 131072. */
    const char *argv[] = {"verify", "--impl", "scalar", "--hf-config",
                          CONFIG("llama-3.1-8b.json"), "--positions", "random:131071",
                          "--quiet", NULL};
    expect_all_pass(argv, "4 cases: 4 pass");
}

Test(cli_models, yarn_and_longrope_presets_pass_both_directions)
{
    const char *models[] = {"qwen2-7b-instruct-yarn", "phi-3-mini-128k"};
    for (int i = 0; i < 2; i++) {
        const char *argv[] = {"verify", "--impl", "scalar", "--model", models[i],
                              "--positions", "random:131071", "--tokens", "64",
                              "--direction", "forward,inverse", "--quiet", NULL};
        expect_all_pass(argv, "8 cases: 8 pass");
    }
}

Test(cli_models, hand_written_scaling_passes_and_replays_with_its_context)
{
    /* dynamic NTK depends on the sequence length: the replay line must pin
     * it, or replaying one position would verify another table. */
    const char *argv[] = {"verify", "--impl", "scalar", "--scaling",
                          "dynamic:factor=2,original=4096", "--positions", "random:16383",
                          "--dtype", "f32", "--gate", "pair=0.3", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "a 0.3 gate must fail a correctly rounded port (max ~0.5)");
    cr_expect(strstr(r.out, "--scaling 'dynamic:factor=2,original=4096'") &&
                  strstr(r.out, "--context "),
              "%s", r.out);
    cli_result_free(&r);
}

Test(cli_models, broken_configs_exit_2_naming_the_field)
{
    static const struct { const char *file, *phrase; } cases[] = {
        {"bad/unknown-rope-type.json", "rope"},
        {"bad/yarn-missing-factor.json", "factor"},
        {"bad/llama3-missing-low-freq-factor.json", "low_freq_factor"},
        {"bad/longrope-short-factor-length.json", "short_factor"},
        {"bad/invalid-json.json", "JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {"verify", "--impl", "scalar", "--hf-config",
                              NULL, NULL};
        char path[512];
        snprintf(path, sizeof path, "%s/%s", RC_CONFIGS_DIR, cases[i].file);
        argv[4] = path;
        cli_result r = run(argv);
        cr_expect_eq(r.status, 2, "%s: exit %d", cases[i].file, r.status);
        cr_expect(strstr(r.err, cases[i].phrase), "%s: '%s' not in: %s", cases[i].file,
                  cases[i].phrase, r.err);
        cli_result_free(&r);
    }
}

/* Models with more than one RoPE: an M-RoPE config verifies on tuple
 * positions (its map from mrope_section), and a Gemma 3 config verifies
 * both its RoPEs, each labelled, each replayable alone with --rope-kind. */
Test(cli_models, second_ropes_are_verified_and_labelled)
{
    char path[512];
    snprintf(path, sizeof path, "%s/multi/qwen2-vl-7b-mrope.json", RC_CONFIGS_DIR);
    const char *mrope[] = {"verify", "--impl", "scalar", "--hf-config", path, "--dtype", "f32",
                           "--quiet", NULL};
    cli_result r = run(mrope);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "1 cases: 1 pass"), "%s", r.out);
    cli_result_free(&r);

    snprintf(path, sizeof path, "%s/multi/gemma-3-4b-two-ropes.json", RC_CONFIGS_DIR);
    const char *gemma[] = {"verify", "--impl", "scalar", "--hf-config", path,
                           "--dtype", "f32", "--quiet", NULL};
    r = run(gemma);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "scalar       global"), "the global RoPE's row:\n%s", r.out);
    cr_expect(strstr(r.out, "scalar       local"), "the local RoPE's row:\n%s", r.out);
    cr_expect(strstr(r.out, "2 cases: 2 pass"), "%s", r.out);
    cli_result_free(&r);
    const char *local[] = {"verify", "--impl", "scalar", "--hf-config", path, "--rope-kind",
                           "local", "--dtype", "f32", "--quiet", NULL};
    r = run(local);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "scalar       local") && !strstr(r.out, "global"), "%s", r.out);
    cli_result_free(&r);
    const char *one[] = {"verify", "--impl", "scalar", "--model", "llama-3-8b", "--rope-kind",
                         "local", NULL};
    r = run(one);
    cr_expect_eq(r.status, 2, "exit %d", r.status);
    cr_expect(strstr(r.err, "--rope-kind local: the model has one RoPE"), "%s", r.err);
    cli_result_free(&r);
}

Test(cli_models, contradictions_and_unknown_models_exit_2)
{
    const char *a[] = {"verify", "--impl", "scalar", "--model", "llama-3.1-8b", "--base",
                       "10000", NULL};
    cli_result r = run(a);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--base") && strstr(r.err, "contradicts"), "%s", r.err);
    cli_result_free(&r);

    const char *b[] = {"verify", "--model", "llama-9", NULL};
    r = run(b);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "llama-3.1-8b"), "the known names are listed: %s", r.err);
    cli_result_free(&r);

    const char *c[] = {"verify", "--model", "llama-3.1-8b", "--scaling", "linear:factor=2",
                       NULL};
    r = run(c);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--scaling contradicts"), "%s", r.err);
    cli_result_free(&r);

    const char *d[] = {"verify", "--impl", "scalar", "--context", "4096", NULL};
    r = run(d);
    cr_expect_eq(r.status, 2, "--context without a family that uses it");
    cli_result_free(&r);

    /* YaRN's correction range divides by ln(base). */
    const char *e[] = {"verify", "--impl", "scalar", "--base", "1", "--scaling",
                       "yarn:factor=4,original=4096", NULL};
    r = run(e);
    cr_expect_eq(r.status, 2, "yarn with base 1");
    cr_expect(strstr(r.err, "base != 1"), "%s", r.err);
    cli_result_free(&r);
}

Test(cli_models, ggml_profile_tells_the_exact_port_from_ggml)
{
    /* At position 131071 ggml's f32 angle is off by ~2e5 pair ULP
     * (reference/PROFILES.md), so the exact port lies far outside ggml's
     * band; at position 0..3 every angle is exact in f32 too... except
     * cos/sin rounding, which the band covers, so the port passes there. */
    const char *far[] = {"verify", "--impl", "scalar", "--profile", "ggml", "--dtype", "f32",
                         "--layout", "half", "--positions", "131071", "--quiet", NULL};
    cli_result r = run(far);
    cr_expect_eq(r.status, 1, "exit %d", r.status);
    cr_expect(strstr(r.out, "from the profile's band") && strstr(r.out, "--profile ggml"),
              "%s", r.out);
    cli_result_free(&r);

    const char *bf16[] = {"verify", "--impl", "scalar", "--profile", "ggml", "--dtype", "bf16",
                          "--layout", "half", "--quiet", NULL};
    r = run(bf16);
    /* Every case skipped: nothing judged (exit 4), never a pass. */
    cr_expect_eq(r.status, 4, "exit %d", r.status);
    cr_expect(strstr(r.out, "does not model") && strstr(r.out, "nothing judged"),
              "ggml has no bf16 RoPE: a skip, and nothing judged: %s", r.out);
    cli_result_free(&r);
}

/* ggml's own RoPE (the transcription, as a plug-in) matches the ggml
 * profile at long positions, special values included: there ggml's angle
 * and the exact one can have sines of opposite signs, so an infinite
 * input gives the other infinity, and the profile (not the exact angle)
 * decides which is right. The same port fails the exact judge, and the
 * exact port fails the profile (its infinities follow the exact angle). */
Test(cli_models, ggml_port_passes_the_ggml_profile_with_specials)
{
    const char *prof[] = {"verify", "--plugin", PORT_GGML_PATH, "--profile", "ggml", "--specials", "--dtype", "f32,f16",
                          "--positions", "0:3,131071,1000000:1000063,2147483647",
                          "--quiet", NULL};
    cli_result r = run(prof);
    cr_expect_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "FAIL") == NULL, "%s", r.out);
    cli_result_free(&r);

    /* Inside the band every figure is 0: the pair distance and the
     * component one alike (rc_profile_band_component). */
    char dir[] = "/tmp/rc_ggml_jsonXXXXXX", json[600];
    cr_assert(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/r.json", dir);
    const char *js[] = {"verify", "--plugin", PORT_GGML_PATH, "--profile", "ggml", "--dtype",
                        "f32,f16", "--layout", "half", "--positions", "0:3,131071,1000000",
                        "--json", json, "--quiet", NULL};
    r = run(js);
    cr_expect_eq(r.status, 0, "exit %d\n%s", r.status, r.out);
    cli_result_free(&r);
    FILE *f = fopen(json, "r");
    cr_assert(f);
    static char buf[1 << 20];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    cr_assert(root);
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "verify"))
    {
        n++;
        const cJSON *pair = cJSON_GetObjectItem(c, "pair_ulp"),
                    *comp = cJSON_GetObjectItem(c, "component_ulp");
        cr_expect(pair && comp && cJSON_GetObjectItem(pair, "max")->valuedouble == 0.0 &&
                      cJSON_GetObjectItem(comp, "max")->valuedouble == 0.0,
                  "case %d: pair and component distances are 0 inside the band", n);
    }
    cr_expect_eq(n, 2);
    cJSON_Delete(root);
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);

    const char *exact[] = {"verify", "--plugin", PORT_GGML_PATH, "--specials", "--dtype", "f32", "--positions", "131071", "--quiet",
                           NULL};
    r = run(exact);
    cr_expect_eq(r.status, 1, "ggml's f32 angle fails the exact judge: exit %d\n%s", r.status,
                 r.out);
    cli_result_free(&r);
}

/* The published scaling bugs through the command line: each mutant fails
 * verify (exit 1) and prove names what it did. */
Test(cli_models, scaling_mutants_fail_verify_and_prove_names_them)
{
    static const struct { const char *path, *model, *finding; } cases[] = {
        {SCALING_MUTANT_LLAMA3_DROPPED_PATH, "llama-3.1-8b",
         "the llama3 scaling is missing"},
        {SCALING_MUTANT_LLAMA3_HARD_CUT_PATH, "llama-3.1-8b", "not the llama3 ramp"},
        {SCALING_MUTANT_ALPHA_MISSING_PATH, "qwen2-7b-instruct-yarn", "it is missing"},
        {SCALING_MUTANT_ALPHA_TWICE_PATH, "qwen2-7b-instruct-yarn", "applied twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *v[] = {"verify", "--plugin", cases[i].path, "--model", cases[i].model,
                           "--dtype", "f32", "--positions", "random:131071", "--tokens", "32",
                           "--quiet", NULL};
        cli_result r = run(v);
        cr_expect_eq(r.status, 1, "%s: verify exit %d", cases[i].path, r.status);
        cli_result_free(&r);
        const char *p[] = {"prove", "--plugin", cases[i].path, "--model", cases[i].model,
                           "--dtype", "f32", NULL};
        r = run(p);
        cr_expect_eq(r.status, 1, "%s: prove exit %d", cases[i].path, r.status);
        cr_expect(strstr(r.out, cases[i].finding), "%s: '%s' not in:\n%s", cases[i].path,
                  cases[i].finding, r.out);
        cli_result_free(&r);
    }
}
