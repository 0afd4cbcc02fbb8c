/*
 * tests/test_cli_prove.c - `ropecheck prove` end to end: scalar passes
 * every oracle; a float-angle port fails with a named finding; a crashing
 * port is reported as broken (exit 3); the JSON carries Figure 2.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "mutant_paths.h"

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

Test(cli_prove, scalar_passes_every_oracle_and_json_has_figure2)
{
    char json[] = "/tmp/rc_proveXXXXXX";
    close(mkstemp(json));
    const char *argv[] = {"prove", "--impl", "scalar", "--head-dim", "64", "--json", json, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "FAIL") == NULL, "%s", r.out);
    FILE *f = fopen(json, "rb");
    cr_assert(f);
    char buf[1 << 16];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    cr_assert(root, "prove JSON parses");
    cr_expect_str_eq(cJSON_GetObjectItem(root, "kind")->valuestring, "prove");
    /* 2 layouts x 4 checks. */
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "prove")), 8);
    const cJSON *fig = cJSON_GetObjectItem(root, "figure2");
    const cJSON *v = cJSON_GetObjectItem(fig, "relative_upper_bound");
    cr_assert_eq(cJSON_GetArraySize(v), 257);
    /* At distance 0 every S_j = j, so (2/r) sum_{j=1}^{r/2} j = (r/2 + 1)/2:
     * 16.5 for r = 64, exactly. */
    cr_expect_eq(cJSON_GetArrayItem(v, 0)->valuedouble, 16.5);
    cJSON_Delete(root);
    unlink(json);
    cli_result_free(&r);
}

/* No spec option: the coverage matrix, every row labelled with its spec;
 * --quick (or any spec option) keeps the single spec. */
static int count_checks(const char *json, const char *spec)
{
    FILE *f = fopen(json, "rb");
    cr_assert(f);
    static char buf[1 << 20];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    cr_assert(root, "prove JSON parses");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "prove"))
    {
        const cJSON *sp = cJSON_GetObjectItem(c, "spec");
        cr_assert(cJSON_IsString(sp), "every check names its spec");
        n += spec == NULL || strcmp(sp->valuestring, spec) == 0;
    }
    cJSON_Delete(root);
    return n;
}

Test(cli_prove, default_runs_the_coverage_matrix)
{
    char json[] = "/tmp/rc_proveXXXXXX";
    close(mkstemp(json));
    const char *argv[] = {"prove", "--impl", "scalar", "--json", json, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    /* 3 specs x 2 layouts x 4 checks. */
    cr_expect_eq(count_checks(json, NULL), 24);
    cr_expect_eq(count_checks(json, "d128/r128/b10000"), 8);
    cr_expect_eq(count_checks(json, "d96/r24/b500000"), 8);
    cr_expect_eq(count_checks(json, "d80/r32/b31415.9265"), 8);
    cr_expect(strstr(r.out, "scalar       d96/r24/b500000     half        rotation"), "%s", r.out);
    cli_result_free(&r);
    const char *quick[] = {"prove", "--impl", "scalar", "--quick", "--json", json, NULL};
    r = run(quick);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(count_checks(json, "d128/r128/b10000"), 8);
    cr_expect_eq(count_checks(json, NULL), 8);
    cli_result_free(&r);
    unlink(json);
}

/* mutant_unsupported offers every dtype but its prepare() declines all
 * but f32. Asked for f64 it is judged on nothing: exit 4 with one line on
 * stderr, never 0. Left to choose, prove falls back to f32 and judges it. */
Test(cli_prove, nothing_judged_exits_4)
{
    const char *argv[] = {"prove", "--plugin", MUTANT_UNSUPPORTED_PATH, "--quick", "--dtype",
                          "f64", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 4);
    cr_expect(strstr(r.err, "nothing judged") != NULL, "%s", r.err);
    cr_expect_eq(cli_count_lines(r.err), 1, "%s", r.err);
    cli_result_free(&r);
    const char *fallback[] = {"prove", "--plugin", MUTANT_UNSUPPORTED_PATH, "--quick",
                              "--layout", "half", NULL};
    r = run(fallback);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "half        rotation   f32   pass") != NULL, "%s", r.out);
    cli_result_free(&r);
}

/* An empty ROPECHECK_SEED is a typo, not seed 0: one line, exit 2 (as
 * verify and bench). */
Test(cli_prove, empty_seed_is_a_usage_error)
{
    setenv("ROPECHECK_SEED", "", 1); /* this test's process only (Criterion forks) */
    const char *argv[] = {"prove", "--impl", "scalar", "--quick", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(cli_count_lines(r.err), 1, "%s", r.err);
    cli_result_free(&r);
}

Test(cli_prove, float_angle_is_named)
{
    const char *argv[] = {"prove", "--plugin", MUTANT_WRONG_PATH, "--layout", "half",
                          "--dtype", "f32", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.out, "FAIL") && strstr(r.out, "    - "), "a finding is listed:\n%s",
              r.out);
    cli_result_free(&r);
}

Test(cli_prove, crash_is_broken_not_fatal)
{
    const char *argv[] = {"prove", "--plugin", MUTANT_CRASH_PATH, "--impl", "scalar",
                          "--layout", "half", "--head-dim", "32", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3);
    cr_expect(strstr(r.out, "BROKEN") &&
                  strstr(r.out, "scalar       d32/r32/b10000 half        linear"),
              "scalar still ran after the crash:\n%s", r.out);
    cli_result_free(&r);
}

Test(cli_prove, bad_input_exits_2)
{
    const char *argv[] = {"prove", "--head-dim", "7", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(cli_count_lines(r.err), 1, "%s", r.err);
    cli_result_free(&r);
}

/* Outside the rotation oracle's domain (frequencies so small that a pair's
 * turn stays under the tolerance at every probe position, here base 1e300)
 * a rotation cannot be told from pass-through: the check says so and
 * skips, rather than blaming a correct port ("rotary_dim is 12"), and the
 * other oracles still judge. */
Test(cli_prove, rotation_outside_its_domain_skips_with_the_reason)
{
    const char *argv[] = {"prove", "--impl", "scalar", "--base", "1e300", "--layout", "half",
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "rotation   -     skip") != NULL &&
                  strstr(r.out, "cannot be told from pass-through") != NULL,
              "%s", r.out);
    cr_expect(strstr(r.out, "relative   f64   pass") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "rotary_dim is") == NULL && strstr(r.out, "FAIL") == NULL, "%s",
              r.out);
    cli_result_free(&r);
}

#include "proof_mutant_paths.h"

/* Issue 4's acceptance: every mutant makes `ropecheck prove` exit 1 with
 * the finding that names its defect. */
static void expect_named(const char *path, const char *layout, const char *phrase)
{
    const char *argv[] = {"prove", "--plugin", path, "--layout", layout, "--head-dim", "64",
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "%s", path);
    cr_expect(strstr(r.out, phrase) != NULL, "want '%s' from %s:\n%s", phrase, path, r.out);
    cli_result_free(&r);
}

Test(cli_prove, mutant_wrong_base)
{
    expect_named(PROOF_MUTANT_WRONG_BASE_PATH, "interleaved", "wrong base");
}

Test(cli_prove, mutant_layouts_swapped)
{
    expect_named(PROOF_MUTANT_LAYOUT_SWAPPED_PATH, "interleaved",
                 "channels pair as half, spec says interleaved");
}

Test(cli_prove, mutant_clockwise)
{
    expect_named(PROOF_MUTANT_CLOCKWISE_PATH, "half", "rotation is clockwise");
}

Test(cli_prove, mutant_exponent_off_by_one)
{
    expect_named(PROOF_MUTANT_EXPONENT_OFF_BY_ONE_PATH, "half",
                 "frequency schedule off by one exponent step");
}

Test(cli_prove, mutant_angle_f16)
{
    expect_named(PROOF_MUTANT_ANGLE_F16_PATH, "half", "not the arithmetic progression");
}

Test(cli_prove, mutant_sincos_swapped)
{
    expect_named(PROOF_MUTANT_SINCOS_SWAPPED_PAIR3_PATH, "half", "pair 3: sin and cos swapped");
}

Test(cli_prove, mutant_radial_scale)
{
    expect_named(PROOF_MUTANT_RADIAL_SCALE_PATH, "half", "radial scale 1.001");
}

Test(cli_prove, mutant_ignores_direction)
{
    expect_named(PROOF_MUTANT_IGNORES_DIRECTION_PATH, "half", "RC_INVERSE is not the inverse");
}
