/*
 * tests/test_verify_axes.c - multi-axis RoPE through `ropecheck verify`
 * and `ropecheck prove` (issue 18): tuple positions from --positions and
 * from the default generator (text tokens, an image grid, large and
 * log-random tuples) pass for every CPU port on contiguous and interleaved
 * M-RoPE maps and the 2-D vision map; every classic M-RoPE mistake
 * (tests/mutants_axes) fails verify with its named cause and prove with
 * its named finding; the JSON and the replay line carry the tuple; bad
 * tuples exit 2.
 *
 * Randomized: the log-random tuples come from ROPECHECK_SEED (printed).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "axes_mutant_paths.h"
#include "cli_runner.h"

#define RC_TEST_TMPDIR_TEMPLATE "/tmp/rc_verify_axesXXXXXX"
#include "test_tmpdir.h"

TestSuite(verify_axes, .init = rc_tmpdir_make, .fini = rc_tmpdir_remove);

static const char *seed(void)
{
    return cli_test_seed("test_verify_axes");
}

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

/* Every built-in (unavailable ones skip) on the map, every dtype and
 * layout, both directions, default tuple positions: all pass at the
 * default gates with max pair ULP 0.5 (the single-axis oracle per pair). */
static void ports_pass(const char *axes)
{
    const char *argv[] = {"verify", "--axes", axes, "--head-dim", "128", "--direction",
                          "forward,inverse", "--seed", seed(), "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "%s: exit %d\n%s%s", axes, r.status, r.out, r.err);
    cr_expect(strstr(r.out, " 0 fail, "), "%s", r.out);
    /* f32, f16, bf16 correctly rounded; f64 within its gate (GATES.md:
     * its rotation in double-double gives up to ~0.6). */
    int rows = 0;
    for (const char *p = strstr(r.out, "  pass  "); p; p = strstr(p + 1, "  pass  ")) {
        const char *line = p;
        while (line > r.out && line[-1] != '\n')
            line--;
        double max_pair = -1;
        cr_expect_eq(sscanf(p, "  pass %lf", &max_pair), 1);
        const int f64 = strstr(line, " f64 ") != NULL && strstr(line, " f64 ") < p;
        cr_expect(max_pair <= (f64 ? 3.0 : 0.5), "%s: max pair ULP %g:\n%.*s", axes, max_pair,
                  (int)(strchr(p, '\n') - line), line);
        rows++;
    }
    cr_expect(rows >= 16, "%s: %d passing rows (scalar alone has 16):\n%s", axes, rows, r.out);
    cli_result_free(&r);
}

Test(verify_axes, ports_pass_contiguous_mrope, .timeout = 600)
{
    ports_pass("mrope:16,24,24");
}

Test(verify_axes, ports_pass_interleaved_mrope, .timeout = 600)
{
    ports_pass("mrope-interleaved:24,20,20");
}

/* A mutant on a map fails with the cause; `also` lists causes equally
 * true of it (may be named too), every other cause is wrong. */
static void mutant_fails(const char *path, const char *axes, const char *layout,
                         const char *cause)
{
    const char *argv[] = {"verify", "--plugin", path, "--axes", axes, "--layout", layout,
                          "--dtype", "f32,bf16", "--seed", seed(), "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "%s: exit %d\n%s%s", path, r.status, r.out, r.err);
    char want[96];
    snprintf(want, sizeof want, "    cause %s:", cause);
    int n = 0;
    for (const char *p = strstr(r.out, "    cause "); p; p = strstr(p + 1, "    cause ")) {
        cr_expect(strncmp(p, want, strlen(want)) == 0, "%s: another cause than %s: %.160s",
                  path, cause, p);
        n++;
    }
    cr_expect(n > 0, "%s: no cause named:\n%s", path, r.out);
    cli_result_free(&r);
}

Test(verify_axes, axes_ignored_is_named)
{
    mutant_fails(AXES_MUTANT_IGNORED_PATH, "mrope:16,24,24", "half,interleaved",
                 "mrope-axes-ignored");
}

Test(verify_axes, axes_swapped_is_named)
{
    mutant_fails(AXES_MUTANT_SWAPPED_PATH, "mrope:16,24,24", "half,interleaved",
                 "mrope-axes-swapped");
}

Test(verify_axes, sections_misassigned_is_named)
{
    /* The contiguous layout of the interleaved map's counts. */
    mutant_fails(AXES_MUTANT_CONTIGUOUS_PATH, "mrope-interleaved:24,20,20", "half,interleaved",
                 "mrope-sections");
}

Test(verify_axes, wrong_half_is_named)
{
    mutant_fails(AXES_MUTANT_WRONG_HALF_PATH, "mrope:16,24,24", "half", "mrope-wrong-half");
}

Test(verify_axes, text_tokens_without_equal_positions_are_named)
{
    mutant_fails(AXES_MUTANT_TEXT_ZERO_PATH, "mrope:16,24,24", "half,interleaved",
                 "mrope-text-positions");
}

Test(verify_axes, axis_major_positions_are_named)
{
    mutant_fails(AXES_MUTANT_AXIS_MAJOR_PATH, "mrope:16,24,24", "half,interleaved",
                 "mrope-positions-axis-major");
}

/* The default run (the coverage matrix, no spec option) catches every
 * M-RoPE mistake in its mrope cell, named, and nothing else fails: a CI
 * job that runs `verify --plugin` alone gates a multi-axis port. (The
 * contiguous-layout mutant is right on the cell's contiguous map; the
 * interleaved maps catch it: sections_misassigned_is_named.) */
Test(verify_axes, default_matrix_catches_each_mistake, .timeout = 900)
{
    static const struct {
        const char *path, *cause;
    } m[] = {
        {AXES_MUTANT_IGNORED_PATH, "mrope-axes-ignored"},
        {AXES_MUTANT_SWAPPED_PATH, "mrope-axes-swapped"},
        {AXES_MUTANT_WRONG_HALF_PATH, "mrope-wrong-half"},
        {AXES_MUTANT_TEXT_ZERO_PATH, "mrope-text-positions"},
        {AXES_MUTANT_AXIS_MAJOR_PATH, "mrope-positions-axis-major"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        const char *argv[] = {"verify", "--plugin", m[i].path, "--dtype", "f32", "--seed",
                              seed(), "--quiet", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 1, "%s: exit %d\n%s", m[i].path, r.status, r.out);
        cr_expect(strstr(r.out, "coverage matrix of 9 cells"), "%s", r.out);
        char want[96];
        snprintf(want, sizeof want, "    cause %s:", m[i].cause);
        cr_expect(strstr(r.out, want), "%s: '%s' not named:\n%s", m[i].path, m[i].cause, r.out);
        /* every failing row is in the mrope cell */
        for (const char *p = strstr(r.out, " FAIL "); p; p = strstr(p + 1, " FAIL ")) {
            const char *line = p;
            while (line > r.out && line[-1] != '\n')
                line--;
            const char *cell = strstr(line, " mrope ");
            cr_expect(cell && cell < p, "%s: a failure outside the mrope cell: %.*s",
                      m[i].path, (int)(strchr(p, '\n') - line), line);
        }
        cli_result_free(&r);
    }
}

/* The mutants are right on a one-axis spec (no map to get wrong), so the
 * failures above are the map's. */
Test(verify_axes, mutants_pass_one_axis)
{
    const char *argv[] = {"verify", "--plugin", AXES_MUTANT_SWAPPED_PATH, "--plugin",
                          AXES_MUTANT_CONTIGUOUS_PATH, "--quick", "--seed", seed(), "--quiet",
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d\n%s", r.status, r.out);
    cli_result_free(&r);
}

/* The JSON's case carries the map, its worst location the token's tuple;
 * the replay line gives the tuple and the map, and replays the failure. */
Test(verify_axes, json_and_replay_carry_the_tuple)
{
    char json[300];
    rc_tmpdir_path(json, sizeof json, "out.json");
    const char *argv[] = {"verify", "--plugin", AXES_MUTANT_SWAPPED_PATH, "--axes",
                          "mrope:16,24,24", "--dtype", "f32", "--layout", "half",
                          "--positions", "5/9/700,0:3", "--seed", seed(), "--quiet", "--json",
                          json, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    const char *replay = strstr(r.out, "--positions 5/9/700 --seed ");
    cr_expect(replay && strstr(replay, "--axes mrope:16,24,24"), "%s", r.out);
    cli_result_free(&r);
    FILE *f = fopen(json, "rb");
    cr_assert(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    cr_assert(root);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "verify"), 0);
    cJSON *ax = cJSON_GetObjectItem(c0, "axes");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ax, "spec")), "mrope:16,24,24");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ax, "pair_axis")), 64);
    cJSON *worst = cJSON_GetObjectItem(c0, "worst_pair");
    cJSON *tuple = cJSON_GetObjectItem(worst, "positions");
    cr_assert_eq(cJSON_GetArraySize(tuple), 3, "%s", text);
    cr_expect_eq(cJSON_GetArrayItem(tuple, 2)->valuedouble, 700);
    cJSON_Delete(root);
}

/* Tuples that do not fit the spec are usage errors, each with its reason. */
Test(verify_axes, bad_tuples_exit_2)
{
    static const struct {
        const char *axes, *positions, *phrase;
    } bad[] = {
        {"mrope:16,24,24", "1/2", "has 2 positions; the spec has 3 axes"},
        {"mrope:16,24,24", "1/2/3/4", "more than the spec's 3 axes"},
        {"mrope:16,24,24", "1//3", "empty position"},
        {"mrope:16,24,24", "1/-2/3", "negative"},
        {"mrope:16,24,24", "grid:2/2/2@", "not a decimal integer"},
        {"mrope:16,24,24", "grid:0/2/2@5", "every size must be >= 1"},
        {"mrope:16,24,20", "1/2/3", "add up to 60 pairs"},
        {"mrope:x", "1/2/3", "not a number of pairs"},
        {"spiral:3", "1/2/3", "one of mrope:S0,S1,S2"},
        {NULL, "1/2/3", "tuples need a multi-axis spec"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {"verify", "--impl", "scalar", "--positions", bad[i].positions,
                              bad[i].axes ? "--axes" : "--quick", bad[i].axes, NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 2, "%s %s: exit %d", bad[i].axes, bad[i].positions, r.status);
        cr_expect(strstr(r.err, bad[i].phrase), "%s %s: '%s' not in: %s", bad[i].axes,
                  bad[i].positions, bad[i].phrase, r.err);
        cli_result_free(&r);
    }
}

/* The 2-D vision RoPE (frequencies restarting per axis) on an image grid. */
Test(verify_axes, vision2d_passes, .timeout = 600)
{
    const char *argv[] = {"verify", "--axes", "vision2d", "--head-dim", "80", "--positions",
                          "grid:16/16@0,lograndom:2147483647", "--seed", seed(), "--quiet",
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, " 0 fail, "), "%s", r.out);
    cli_result_free(&r);
}

/* prove: the built-ins pass the axes check (and the one-axis checks on
 * text tokens); each mutant fails it with its finding. */
static void prove_names(const char *path, const char *axes, const char *phrase)
{
    const char *argv[] = {"prove", path ? "--plugin" : "--impl", path ? path : "scalar",
                          "--axes", axes, "--layout", "half", "--seed", seed(), NULL};
    cli_result r = run(argv);
    const char *row = strstr(r.out, " axes  ");
    cr_assert(row, "%s: no axes row:\n%s%s", axes, r.out, r.err);
    if (!phrase) {
        cr_expect_eq(r.status, 0, "exit %d\n%s", r.status, r.out);
        cr_expect(strstr(row, " pass "), "%s", r.out);
    } else {
        cr_expect_eq(r.status, 1, "%s: exit %d\n%s", path, r.status, r.out);
        cr_expect(strstr(row, " FAIL "), "%s", r.out);
        cr_expect(strstr(row, phrase), "%s: '%s' not in the axes findings:\n%s", path, phrase,
                  row);
    }
    cli_result_free(&r);
}

Test(verify_axes, prove_passes_the_ports, .timeout = 600)
{
    prove_names(NULL, "mrope:16,24,24", NULL);
    prove_names(NULL, "mrope-interleaved:24,20,20", NULL);
    prove_names(NULL, "vision2d", NULL);
}

Test(verify_axes, prove_names_each_mistake, .timeout = 600)
{
    prove_names(AXES_MUTANT_IGNORED_PATH, "mrope:16,24,24", "the axes are ignored");
    prove_names(AXES_MUTANT_SWAPPED_PATH, "mrope:16,24,24", "axes 1 and 2 exchanged");
    prove_names(AXES_MUTANT_CONTIGUOUS_PATH, "mrope-interleaved:24,20,20",
                "sections misassigned");
    prove_names(AXES_MUTANT_WRONG_HALF_PATH, "mrope:16,24,24", "rotate by different axes");
    prove_names(AXES_MUTANT_TEXT_ZERO_PATH, "mrope:16,24,24",
                "a text token must carry its position on every axis");
    prove_names(AXES_MUTANT_AXIS_MAJOR_PATH, "mrope:16,24,24", "positions read axis-major");
}

/* What does not take multi-axis specs yet says so (exit 2), rather than
 * judging one axis: shards (merge cannot rebuild the map) and sweeps. */
Test(verify_axes, shards_and_sweeps_refuse_axes)
{
    const char *shard[] = {"verify", "--impl", "scalar", "--axes", "mrope:16,24,24", "--shard",
                           "1/2", NULL};
    cli_result r = run(shard);
    cr_expect_eq(r.status, 2, "exit %d", r.status);
    cr_expect(strstr(r.err, "--shard does not take multi-axis specs yet"), "%s", r.err);
    cli_result_free(&r);
    const char *sweep[] = {"sweep", "--impl", "scalar", "--axes", "mrope:16,24,24",
                           "--positions", "0:10", "--dtype", "f32", "--layout", "half",
                           "--direction", "forward", NULL};
    r = run(sweep);
    cr_expect_eq(r.status, 2, "exit %d", r.status);
    cr_expect(strstr(r.err, "a sweep walks one position axis"), "%s", r.err);
    cli_result_free(&r);
}
