/*
 * tests/test_python_runner.c - `--python` end to end: the Python runner
 * (python/ropecheck_runner) serving the test package tests/python/ropepkg
 * through the real `ropecheck` command, with the interpreter CMake found
 * (ROPECHECK_PYTHON). Skipped, with the reason, when that interpreter has
 * no numpy.
 *
 * A correct numpy port passes the default coverage matrix in the dtypes it
 * declares; the angle in float32 fails at long positions; a callable that
 * raises is BROKEN with its message; print() cannot corrupt the protocol;
 * a table the callable reports is measured (a float32 table: at most half
 * an f32 ulp, by construction); the scaling family reaches the callable.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_runner.h"

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

/* Every test: the test package's directory (the runner imports from the
 * working directory) and the interpreter; skipped without numpy. */
static void setup(void)
{
    cr_assert_eq(chdir(RC_PYTHON_TESTS_DIR), 0, "chdir %s", RC_PYTHON_TESTS_DIR);
    cr_assert_eq(setenv("ROPECHECK_PYTHON", RC_PYTHON3, 1), 0);
    /* No __pycache__ written into the source tree by the runs below. */
    cr_assert_eq(setenv("PYTHONDONTWRITEBYTECODE", "1", 1), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import numpy' >/dev/null 2>&1", RC_PYTHON3);
    if (system(cmd) != 0)
        cr_skip_test("numpy is not installed for %s (Debian: python3-numpy)", RC_PYTHON3);
}

TestSuite(python_runner, .init = setup);

Test(python_runner, numpy_port_passes_the_default_matrix)
{
    const char *argv[] = {"verify", "--python", "ropepkg.rope:apply", "--dtype", "f32,f16",
                          "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    /* 9 cells; the mrope cell through runner protocol 4 (multi_axis) */
    cr_expect(strstr(r.out, "56 cases: 56 pass, 0 fail"), "%s", r.out);
    cli_result_free(&r);
}

Test(python_runner, float32_angle_fails_at_long_positions)
{
    const char *argv[] = {"verify", "--python", "ropepkg.rope:apply_f32_angle", "--dtype", "f32",
                          "--layout", "half", "--positions", "131071", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "apply_f32_angle f32   half        forward  FAIL"), "%s", r.out);
    cli_result_free(&r);
}

Test(python_runner, a_raising_callable_is_broken_with_its_message)
{
    const char *argv[] = {"verify", "--python", "ropepkg.rope:raises", "--dtype", "f32",
                          "--layout", "half", "--quick", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "boom"), "the exception's text is the reason: %s", r.out);
    cli_result_free(&r);
}

Test(python_runner, printing_does_not_corrupt_the_protocol)
{
    const char *argv[] = {"verify", "--python", "ropepkg.rope:prints", "--dtype", "f32",
                          "--quick", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "2 cases: 2 pass"), "%s", r.out);
    cli_result_free(&r);
}

/* apply_f32_table reports theta rounded to float32, as a framework's f32
 * inv_freq is: each entry is within half an f32 ulp of the exact one
 * (round to nearest), so the figure is at most 0.5. It also computes with
 * that table, so its angles drift at long positions: a FAIL named
 * angle-precision, replayable with --python. */
Test(python_runner, the_reported_table_is_measured)
{
    char dir[] = "/tmp/rc_py_tableXXXXXX", json[600];
    cr_assert(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/r.json", dir);
    const char *argv[] = {"verify", "--python", "ropepkg.rope:apply_f32_table", "--dtype",
                          "f32", "--layout", "half", "--quick", "--json", json, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "cause angle-precision"), "%s", r.out);
    cr_expect(strstr(r.out, "--python 'ropepkg.rope:apply_f32_table'"), "%s", r.out);
    const char *line = strstr(r.out, "its own frequency table: max error ");
    double ulp = -1;
    cr_assert(line && sscanf(line, "its own frequency table: max error %lf", &ulp) == 1, "%s",
              r.out);
    cr_expect(ulp >= 0.0 && ulp <= 0.5, "an f32-rounded table is %g f32 ulp off", ulp);
    FILE *f = fopen(json, "r");
    cr_assert(f);
    char buf[1 << 16];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cr_expect(strstr(buf, "\"own_table\""), "the JSON carries it");
    cli_result_free(&r);
    /* An f32-rounded table is one HF's float32 inv_freq can be (within
     * RC_PROFILE_TABLE_SLACK of its faithful band): under --profile hf the
     * band is computed from it, and the reason says so. */
    const char *prof[] = {"verify", "--python", "ropepkg.rope:apply_f32_table", "--profile",
                          "hf", "--dtype", "f32", "--layout", "half", "--quick", "--quiet", NULL};
    r = run(prof);
    cr_expect(strstr(r.out, "from the profile's band (given its own table)"), "%s%s", r.out,
              r.err);
    cli_result_free(&r);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

/* Protocol 3 sends the scaling family: the callable in spec_check.py
 * refuses (raises) unless the spec it got names yarn with factor 4 and
 * original context 4096, exactly what the command line says. */
Test(python_runner, the_scaling_family_reaches_the_callable)
{
    const char *argv[] = {"verify", "--python", "ropepkg.spec_check:expects_yarn", "--dtype",
                          "f32", "--layout", "half", "--scaling", "yarn:factor=4,original=4096",
                          "--quick", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cli_result_free(&r);
    const char *none[] = {"verify", "--python", "ropepkg.spec_check:expects_yarn", "--dtype",
                          "f32", "--layout", "half", "--quick", "--quiet", NULL};
    r = run(none);
    cr_expect_eq(r.status, 3, "without the family it raises: exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "expected yarn"), "%s", r.out);
    cli_result_free(&r);
}

Test(python_runner, a_module_that_does_not_import_is_named)
{
    const char *argv[] = {"verify", "--python", "ropepkg.no_such_module:apply", "--quick",
                          "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "exit %d", r.status);
    cr_expect(strstr(r.err, "no_such_module"), "%s", r.err);
    cli_result_free(&r);
}

/* Real torch (the runner's torch mode), HF's arithmetic (ropepkg/hf_torch.py:
 * transformers' operations, not transformers itself): inside the hf
 * profile's band in every dtype, judged given the inv_freq it reports;
 * the same port fails the exact judge with the f32-angle finding.
 * Skipped without torch. */
Test(python_runner, hf_arithmetic_on_real_torch_matches_the_hf_profile)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", RC_PYTHON3);
    if (system(cmd) != 0)
        cr_skip_test("torch is not installed for %s (Debian: python3-torch)", RC_PYTHON3);
    char dir[] = "/tmp/rc_py_hfXXXXXX", json[600];
    cr_assert(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/r.json", dir);
    const char *prof[] = {"verify", "--python", "ropepkg.hf_torch:apply --tensors torch",
                          "--profile", "hf", "--dtype", "all", "--layout", "all", "--json",
                          json, NULL};
    cli_result r = run(prof);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "8 cases: 8 pass"), "%s", r.out);
    FILE *f = fopen(json, "r");
    cr_assert(f);
    static char buf[1 << 20];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cr_expect(strstr(buf, "\"profile_given_table\":\ttrue"),
              "the band started from the reported table");
    cli_result_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    const char *exact[] = {"verify", "--python", "ropepkg.hf_torch:apply --tensors torch",
                           "--dtype", "f32", "--layout", "half", "--quick", "--quiet", NULL};
    r = run(exact);
    cr_expect_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "cause angle-precision"), "%s", r.out);
    cli_result_free(&r);
}

/* Real transformers (python/ropecheck_runner/hf.py: its LlamaRotaryEmbedding
 * built from the model's own config.json, apply_rotary_pos_emb) inside the
 * hf band in all four dtypes for the presets whose RoPE is Llama's (and
 * Qwen2's YaRN, Llama 3.1's llama3 table); given llama-3-8b's config for
 * llama-3.1-8b (no llama3 table) it fails, and the reason names the
 * table. Needs an interpreter with torch and transformers:
 * $ROPECHECK_TEST_HF_PYTHON, else the one CMake found; skipped otherwise. */
static const char *hf_python(void)
{
    const char *p = getenv("ROPECHECK_TEST_HF_PYTHON");
    return p && *p ? p : RC_PYTHON3;
}

static void use_config(const char *model)
{
    char path[600];
    snprintf(path, sizeof path, "%s/../data/configs/%s.json", RC_PYTHON_TESTS_DIR, model);
    cr_assert_eq(setenv("ROPECHECK_HF_CONFIG", path, 1), 0);
}

Test(python_runner, real_transformers_inside_the_hf_band)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import torch, transformers' >/dev/null 2>&1",
             hf_python());
    if (system(cmd) != 0)
        cr_skip_test("torch and transformers are not both installed for %s (set "
                     "ROPECHECK_TEST_HF_PYTHON to an interpreter that has them)",
                     hf_python());
    cr_assert_eq(setenv("ROPECHECK_PYTHON", hf_python(), 1), 0);
    static const char *const models[] = {"llama-3-8b", "llama-3.1-8b", "qwen2-7b",
                                         "qwen2-7b-instruct-yarn"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        use_config(models[i]);
        const char *argv[] = {"verify", "--python", "ropecheck_runner.hf:apply --tensors torch",
                              "--model", models[i], "--profile", "hf", "--dtype", "all",
                              "--quiet", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 0, "%s: exit %d\n%s%s", models[i], r.status, r.out, r.err);
        cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s: %s", models[i], r.out);
        cli_result_free(&r);
    }
    use_config("llama-3-8b");
    const char *wrong[] = {"verify", "--python", "ropecheck_runner.hf:apply --tensors torch",
                           "--model", "llama-3.1-8b", "--profile", "hf", "--dtype", "f32",
                           "--quiet", NULL};
    cli_result r = run(wrong);
    cr_expect_eq(r.status, 1, "the wrong config: exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "not this spec's table"), "%s", r.out);
    cli_result_free(&r);
}

/* Real transformers' outputs, recorded (tests/data/golden/hf-transformers,
 * PROVENANCE.md) and replayed by ropepkg.golden:replay in numpy mode:
 * inside the hf band for four models in f32, f64 and f16, without torch;
 * the same outputs fail the exact judge (transformers computes the angle
 * in float32), so the recordings are not trivially exact. */
Test(python_runner, golden_transformers_outputs_lie_in_the_hf_band)
{
    static const char *const models[] = {"llama-3-8b", "llama-3.1-8b", "qwen2-7b",
                                         "qwen2-7b-instruct-yarn"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const char *argv[] = {"verify", "--python", "ropepkg.golden:replay", "--model",
                              models[i], "--profile", "hf", "--dtype", "f32,f64,f16", "--heads",
                              "1", "--positions", "0:2,4095,131071,1048575,16777217,2147483647",
                              "--seed", "1", "--quiet", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 0, "%s: exit %d\n%s%s", models[i], r.status, r.out, r.err);
        cr_expect(strstr(r.out, "3 cases: 3 pass"), "%s: %s", models[i], r.out);
        cli_result_free(&r);
    }
    const char *exact[] = {"verify", "--python", "ropepkg.golden:replay", "--model",
                           "llama-3.1-8b", "--dtype", "f32", "--heads", "1", "--positions",
                           "0:2,4095,131071,1048575,16777217,2147483647", "--seed", "1",
                           "--quiet", NULL};
    cli_result r = run(exact);
    cr_expect_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "cause angle-precision"), "%s", r.out);
    cli_result_free(&r);
}

/* The second recording (PROVENANCE.md): transformers 5.25 on PyPI's torch
 * 2.15 dispatching to its AVX-512 kernels, every preset that has a Llama
 * RoPE and the shapes issue 15 lists (head_dim 96 and 256, llama3 at base
 * 1e4, dynamic NTK), in all four dtypes, bf16 replayed as bits. Each must
 * lie in the hf band; bf16 without the profile must fail (its f32 angle),
 * so the bf16 replay is not vacuous. */
#define PYPI_GOLDEN "../data/golden/hf-transformers/pypi-torch2.15-transformers5.25"
#define GOLDEN_POSITIONS "0:2,4095,131071,1048575,16777217,2147483647"
Test(python_runner, golden_pypi_transformers_outputs_lie_in_the_hf_band)
{
    cr_assert_eq(setenv("ROPECHECK_GOLDEN_DIR", PYPI_GOLDEN, 1), 0);
    static const char *const specs[][6] = {
        {"--model", "llama-3-8b"},
        {"--model", "llama-3.1-8b"},
        {"--model", "qwen2-7b"},
        {"--model", "qwen2-7b-instruct-yarn"},
        {"--model", "phi-2"},
        {"--model", "gpt-neox-20b"},
        {"--model", "phi-3-mini-128k"},
        {"--layout", "half", "--head-dim", "96", "--base", "10000"},
        {"--layout", "half", "--head-dim", "256", "--base", "10000"},
        {"--layout", "half", "--base", "10000", "--scaling",
         "llama3:factor=8,low=1,high=4,original=8192"},
        {"--layout", "half", "--base", "10000", "--scaling", "dynamic:factor=2,original=4096"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const char *argv[32] = {"verify", "--python", "ropepkg.golden:replay", "--profile", "hf",
                                "--dtype", "f32,f64,f16,bf16", "--heads", "1", "--positions",
                                GOLDEN_POSITIONS, "--seed", "1", "--quiet"};
        size_t n = 14;
        for (size_t k = 0; k < 6 && specs[i][k]; k++)
            argv[n++] = specs[i][k];
        argv[n] = NULL;
        cli_result r = run(argv);
        cr_expect_eq(r.status, 0, "%s %s: exit %d\n%s%s", specs[i][0], specs[i][1], r.status,
                     r.out, r.err);
        cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s %s: %s", specs[i][0], specs[i][1], r.out);
        cli_result_free(&r);
    }
    const char *exact[] = {"verify",     "--python", "ropepkg.golden:replay", "--model",
                           "llama-3-8b", "--dtype",  "bf16",
                           "--heads",    "1",        "--positions",
                           GOLDEN_POSITIONS, "--seed", "1", "--quiet", NULL};
    cli_result r = run(exact);
    cr_expect_eq(r.status, 1, "exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "1 cases: 0 pass, 1 fail"), "%s", r.out);
    cli_result_free(&r);
    cr_assert_eq(unsetenv("ROPECHECK_GOLDEN_DIR"), 0);
}

/* transformers' M-RoPE path (Qwen2-VL's Qwen2VLRotaryEmbedding, contiguous
 * sections; Qwen3-VL's Qwen3VLTextRotaryEmbedding, interleaved), recorded
 * on tuple positions (text, an image block, large unequal tuples) through
 * runner protocol 4, replayed in numpy mode: each pair lies in the hf band
 * at its own axis's position in all four dtypes, the profile's model of
 * that path (DESIGN.md, "Multi-axis RoPE"); without the profile the same
 * outputs fail. */
#define AXES_GOLDEN_POSITIONS "0:2,5/9/700,grid:1/2/2@3,4095/4096/4097,131071/7/65535," \
                              "16777217/3/2147483647,2147483647/2147483646/2147483645"
Test(python_runner, golden_transformers_mrope_lies_in_the_hf_band)
{
    cr_assert_eq(setenv("ROPECHECK_GOLDEN_DIR", PYPI_GOLDEN, 1), 0);
    static const char *const models[] = {"qwen2-vl-7b", "qwen3-vl-8b"};
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = {"verify", "--python", "ropepkg.golden:replay", "--profile", "hf",
                              "--model", models[i], "--dtype", "f32,f64,f16,bf16", "--heads",
                              "1", "--positions", AXES_GOLDEN_POSITIONS, "--seed", "1",
                              "--quiet", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 0, "%s: exit %d\n%s%s", models[i], r.status, r.out, r.err);
        cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s: %s", models[i], r.out);
        cli_result_free(&r);
        const char *exact[] = {"verify", "--python", "ropepkg.golden:replay", "--model",
                               models[i], "--dtype", "f32,bf16", "--heads", "1", "--positions",
                               AXES_GOLDEN_POSITIONS, "--seed", "1", "--quiet", NULL};
        r = run(exact);
        cr_expect_eq(r.status, 1, "%s: exit %d\n%s", models[i], r.status, r.out);
        cr_expect(strstr(r.out, "2 cases: 0 pass, 2 fail"), "%s", r.out);
        cli_result_free(&r);
    }
    cr_assert_eq(unsetenv("ROPECHECK_GOLDEN_DIR"), 0);
}

/* The hf and vllm call shapes (python/ropecheck_runner/signatures.py):
 * functions that take cos and sin, built by the runner the frameworks'
 * way. With the frameworks' own arithmetic they sit on the hf profile's
 * prediction (distance 0) in every dtype numpy carries, the vllm shape in
 * both layouts, the hf shape in the half layout only (the interleaved one
 * is not offered); a sign error or an off-by-one cache row fails; the
 * f32 angle fails the exact gate; a key rotated otherwise than the query
 * is BROKEN with that reason. */
static void expect_signature_run(const char *fn, const char *profile, int status,
                                 const char *want)
{
    char spec[200];
    snprintf(spec, sizeof spec, "ropepkg.signatures:%s", fn);
    const char *argv[] = {"verify", "--python", spec, "--quick", "--quiet", "--profile",
                          profile, NULL};
    if (!profile)
        argv[5] = NULL;
    cli_result r = run(argv);
    cr_expect_eq(r.status, status, "%s: exit %d\n%s%s", fn, r.status, r.out, r.err);
    cr_expect(strstr(r.out, want) != NULL, "%s: no '%s' in\n%s", fn, want, r.out);
    cli_result_free(&r);
}

Test(python_runner, hf_and_vllm_signatures_are_judged_under_the_profile)
{
    expect_signature_run("apply_hf", "hf", 0, "8 cases: 3 pass, 0 fail, 5 skip");
    expect_signature_run("apply_hf", "hf", 0, "apply_hf     f32   interleaved forward  skip "
                                              "    layout not offered");
    expect_signature_run("apply_vllm", "hf", 0, "8 cases: 6 pass, 0 fail, 2 skip");
    expect_signature_run("apply_hf_broken", "hf", 1, "8 cases: 0 pass, 3 fail, 5 skip");
    expect_signature_run("apply_vllm_broken", "hf", 1, "8 cases: 0 pass, 6 fail, 2 skip");
    expect_signature_run("apply_vllm", NULL, 1, "cause angle-precision");
    expect_signature_run("apply_hf_k_differs", "hf", 3, "q and k are rotated differently");
}
