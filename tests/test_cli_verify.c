/*
 * tests/test_cli_verify.c - `ropecheck verify` end to end: the issue's
 * acceptance command passes; every broken mutant is reported as what it is
 * with the right exit status while the other implementations still run;
 * the JSON and JUnit files are well formed and carry the replay data.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "mutant_paths.h"

/* Small runs: positions chosen so a double-angle baseline (the mutants'
 * correct part) is within every gate: below 2^12 its angle error is
 * < 2^12 * 2^-53 rad, far under the f32 gate's slack (reference/GATES.md). */
#define SMALL "--heads", "2", "--head-dim", "32", "--positions", "0:7,100,4095", "--quiet"

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

Test(cli_verify, issue_acceptance_command_passes)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--dtype", "f32", "--layout", "half",
                          "--head-dim", "128", "--heads", "4", "--tokens", "256",
                          "--positions", "random:2147483647", "--seed", "7", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d:\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "1 cases: 1 pass"), "%s", r.out);
    cli_result_free(&r);
}

Test(cli_verify, crash_is_reported_and_the_run_goes_on)
{
    const char *argv[] = {"verify", "--plugin", MUTANT_CRASH_PATH, "--impl", "scalar",
                          "--dtype", "f32", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3);
    /* Both layouts of scalar ran and passed after (or before) the crash. */
    cr_expect(strstr(r.out, "2 pass") && strstr(r.out, "2 broken"), "%s", r.out);
    cr_expect(strstr(r.out, "SIGSEGV") || strstr(r.out, "crash"), "%s", r.out);
    cli_result_free(&r);
}

Test(cli_verify, hang_is_killed_at_the_timeout)
{
    const char *argv[] = {"verify", "--plugin", MUTANT_HANG_PATH, "--dtype", "f32",
                          "--layout", "half", "--timeout", "1", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3);
    cr_expect(strstr(r.out, "BROKEN") && strstr(r.out, "timeout"), "%s", r.out);
    cli_result_free(&r);
}

static void expect_broken(const char *path, const char *phrase, int strided)
{
    const char *argv[24] = {"verify", "--plugin", path, "--dtype", "f32", "--layout", "half",
                            SMALL};
    size_t n = 0;
    while (argv[n])
        n++;
    if (strided) {
        argv[n++] = "--stride-pad";
        argv[n++] = "4";
    }
    argv[n] = NULL;
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "%s", path);
    /* phrase may list alternatives separated by '|'. */
    int found = 0;
    char alts[128];
    snprintf(alts, sizeof alts, "%s", phrase);
    for (char *save = NULL, *p = strtok_r(alts, "|", &save); p; p = strtok_r(NULL, "|", &save))
        found |= strstr(r.out, p) != NULL;
    cr_expect(strstr(r.out, "BROKEN") && found, "want '%s' in:\n%s", phrase, r.out);
    cli_result_free(&r);
}

Test(cli_verify, write_past_the_end_is_caught)
{
    /* One element past the end lands in the canary slack or on the guard
     * page, depending on the buffer's alignment: either is a catch. */
    expect_broken(MUTANT_OOB_PATH, "SIGSEGV|above", 0);
}

Test(cli_verify, write_below_the_start_is_caught)
{
    expect_broken(MUTANT_OOB_BELOW_PATH, "below", 0);
}

Test(cli_verify, write_into_a_stride_gap_is_caught)
{
    expect_broken(MUTANT_OOB_GAP_PATH, "gap", 1);
}

Test(cli_verify, writing_the_input_is_caught)
{
    expect_broken(MUTANT_WRITES_INPUT_PATH, "input", 0);
}

Test(cli_verify, early_exit_is_caught)
{
    expect_broken(MUTANT_EXIT_PATH, "exit", 0);
}

Test(cli_verify, float_angle_fails_the_gate_at_long_positions)
{
    const char *argv[] = {"verify", "--plugin", MUTANT_WRONG_PATH, "--dtype", "f32",
                          "--layout", "half", "--positions", "131071", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.out, "FAIL") && strstr(r.out, "replay worst"), "%s", r.out);
    cli_result_free(&r);
}

Test(cli_verify, unsupported_combinations_are_skipped_not_failed)
{
    const char *argv[] = {"verify", "--plugin", MUTANT_UNSUPPORTED_PATH, "--dtype", "f32,f64",
                          "--layout", "half", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "1 pass") && strstr(r.out, "1 skip"), "%s", r.out);
    cli_result_free(&r);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}

Test(cli_verify, json_and_junit_carry_the_verdicts_and_replay_data)
{
    char json[] = "/tmp/rc_cli_jsonXXXXXX", junit[] = "/tmp/rc_cli_junitXXXXXX";
    close(mkstemp(json));
    close(mkstemp(junit));
    const char *argv[] = {"verify", "--impl", "scalar", "--plugin", MUTANT_WRONG_PATH,
                          "--dtype", "f32", "--layout", "interleaved", "--positions",
                          "5,131071", "--heads", "2", "--quiet", "--json", json, "--junit",
                          junit, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1);
    char *text = read_file(json);
    cJSON *root = cJSON_Parse(text);
    cr_assert(root, "results JSON does not parse");
    cr_expect_str_eq(cJSON_GetObjectItem(root, "schema")->valuestring, "ropecheck.results");
    cr_expect_str_eq(cJSON_GetObjectItem(root, "schema_version")->valuestring, "1.7");
    const cJSON *cases = cJSON_GetObjectItem(root, "verify");
    cr_assert_eq(cJSON_GetArraySize(cases), 2);
    int saw_fail = 0, saw_pass = 0, index = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *verdict = cJSON_GetObjectItem(c, "verdict")->valuestring;
        /* 1.3: unsharded, a case's index is its place in the file. */
        cr_expect_eq(cJSON_GetObjectItem(c, "case_index")->valuedouble, (double)index++);
        const cJSON *worst = cJSON_GetObjectItem(c, "worst_pair");
        cr_assert(worst, "every judged case names its worst element");
        const char *replay = cJSON_GetObjectItem(worst, "replay")->valuestring;
        cr_expect(strstr(replay, "--seed") && strstr(replay, "--positions"), "%s", replay);
        cr_expect(cJSON_GetObjectItem(worst, "input_bits") != NULL);
        cr_expect(cJSON_GetObjectItem(worst, "exact_hi") != NULL);
        if (strcmp(verdict, "FAIL") == 0) {
            saw_fail = 1;
            cr_expect_eq(cJSON_GetObjectItem(worst, "position")->valuedouble, 131071.0);
        }
        saw_pass |= strcmp(verdict, "pass") == 0;
    }
    cr_expect(saw_fail && saw_pass);
    cJSON_Delete(root);
    free(text);
    char *xml = read_file(junit);
    cr_assert(xml);
    cr_expect(strstr(xml, "<testsuite name=\"scalar\"") && strstr(xml, "<failure"), "%s", xml);
    free(xml);
    unlink(json);
    unlink(junit);
    cli_result_free(&r);
}

static double hex_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    cr_assert(cJSON_IsString(v), "%s is a hex string", key);
    return strtod(v->valuestring, NULL);
}

/* Under a profile the worst element carries the exact value under its own
 * name and the framework's band under another. The scalar port is
 * correctly rounded, so its output must equal "correctly_rounded"; at
 * position 131071 it lies outside ggml's band, so "got" is outside
 * [band_lo, band_hi], which holds "profile_prediction". In exact mode no
 * band members appear. */
Test(cli_verify, json_under_a_profile_names_the_exact_value_and_the_band_apart)
{
    for (int banded = 0; banded < 2; banded++) {
        char json[] = "/tmp/rc_cli_jsonXXXXXX";
        close(mkstemp(json));
        const char *argv[] = {"verify", "--impl", "scalar", "--dtype", "f32", "--layout", "half",
                              "--positions", "131071", "--quiet", "--json", json,
                              banded ? "--profile" : NULL, "ggml", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, banded ? 1 : 0, "exit %d", r.status);
        char *text = read_file(json);
        cJSON *root = cJSON_Parse(text);
        cr_assert(root, "results JSON does not parse");
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "verify"))
        {
            const cJSON *w = cJSON_GetObjectItem(c, "worst_pair");
            cr_assert(w);
            const double got = hex_member(w, "got");
            cr_expect_eq(got, hex_member(w, "correctly_rounded"),
                         "scalar is correctly rounded: got %a", got);
            if (!banded) {
                cr_expect(cJSON_GetObjectItem(w, "band_lo") == NULL);
                cr_expect(cJSON_GetObjectItem(w, "profile_prediction") == NULL);
                continue;
            }
            const double lo = hex_member(w, "band_lo"), hi = hex_member(w, "band_hi");
            const double pred = hex_member(w, "profile_prediction");
            cr_expect(lo <= pred && pred <= hi, "[%a, %a] holds %a", lo, hi, pred);
            cr_expect(got < lo || got > hi, "the exact port is outside ggml's band");
            cr_expect(fabs(got - hex_member(w, "exact_hi")) < fabs(got - pred),
                      "exact_hi is the exact value, not the prediction");
        }
        cJSON_Delete(root);
        free(text);
        unlink(json);
        cli_result_free(&r);
    }
}

Test(cli_verify, list_names_every_builtin_and_its_availability)
{
    const char *argv[] = {"list", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "scalar") && strstr(r.out, "available"), "%s", r.out);
    cli_result_free(&r);
}

/* The README's vendor template passes every gate it offers, at the
 * positions of the default run and near 2^31, in place and strided. */
Test(cli_verify, readme_example_plugin_passes)
{
    const char *argv[] = {"verify", "--plugin", EXAMPLE_PORT_PATH, "--direction",
                          "forward,inverse", "--head-dim", "80", "--rotary-dim", "32",
                          "--inplace", "--stride-pad", "2", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    /* f32 x 2 layouts x 2 directions pass; the other 3 dtypes are skipped. */
    cr_expect(strstr(r.out, "16 cases: 4 pass, 0 fail, 12 skip"), "%s", r.out);
    cli_result_free(&r);
}

/* A gate below what scalar reaches (~0.5 pair ULP) must fail it: the gate
 * is really applied, and the failure names the count over it. */
Test(cli_verify, stricter_gate_fails_scalar)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--dtype", "f32", "--layout", "half",
                          "--gate", "pair=0.25", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.out, "> gate 0.25"), "%s", r.out);
    cli_result_free(&r);
}
