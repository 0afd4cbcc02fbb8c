/*
 * tests/test_oracle_cli.c - `verify --oracle` and `--jobs` (issue 16)
 * change how fast the exact reference is computed, never a verdict or a
 * figure: the JSON of runs with --oracle mpfr --jobs 1, --oracle fast
 * --jobs 1 and --oracle fast --jobs 3 are equal once the timings and the
 * oracle's own bookkeeping (the "reference" object: which path, its pair
 * counts) are removed. The run: scalar (passes) and the position-plus-one
 * gate mutant (fails: worst cases, replay lines and a diagnosis to
 * compare), --quick, and a YaRN model (scaled frequencies, an output
 * scale) at random positions up to 2^31. Shards made with different
 * --jobs and --oracle merge. Files live in a mkdtemp directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "gate_mutant_paths.h"

#define RC_TEST_TMPDIR_TEMPLATE "/tmp/rc_oracleXXXXXX"
#include "test_tmpdir.h"

TestSuite(oracle_cli, .init = rc_tmpdir_make, .fini = rc_tmpdir_remove);

/* The suite's directory: every file the test writes goes there. */
static const char *path(char *buf, size_t len, const char *name)
{
    return rc_tmpdir_path(buf, len, name);
}

static cJSON *load(const char *p)
{
    FILE *f = fopen(p, "rb");
    cr_assert(f, "cannot open %s", p);
    char *buf = malloc(1 << 23);
    cr_assert(buf);
    const size_t n = fread(buf, 1, (1 << 23) - 1, f);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    cr_assert(j, "%s is not JSON", p);
    return j;
}

/* Remove what may differ: timings, and the oracle's own bookkeeping. */
static void drop_run_specific(cJSON *o)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, "seconds");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "reference");
    cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            drop_run_specific(c);
    }
}

/* The first case's reference object: "oracle" and the pair counts. */
static void expect_oracle(cJSON *run, const char *oracle, int any_fast)
{
    cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(run, "verify"), 0);
    cJSON *ref = cJSON_GetObjectItemCaseSensitive(c, "reference");
    cr_assert(ref, "no reference object");
    cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(ref, "oracle")->valuestring, oracle);
    const double fast = cJSON_GetObjectItemCaseSensitive(ref, "pairs_fast")->valuedouble;
    const double mpfr = cJSON_GetObjectItemCaseSensitive(ref, "pairs_mpfr")->valuedouble;
    if (any_fast)
        cr_expect(fast > mpfr, "the fast path decided %g pairs, MPFR %g", fast, mpfr);
    else
        cr_expect(fast == 0.0 && mpfr > 0.0, "--oracle mpfr: fast %g, mpfr %g", fast, mpfr);
}

static int run(const char *const *spec, const char *oracle, const char *jobs, const char *json,
               const char *shard)
{
    const char *argv[40];
    int n = 0;
    argv[n++] = "verify";
    for (int i = 0; spec[i]; i++)
        argv[n++] = spec[i];
    const char *tail[] = {"--oracle", oracle, "--jobs", jobs, "--json", json, "-q"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        argv[n++] = tail[i];
    if (shard) {
        argv[n++] = "--shard";
        argv[n++] = shard;
    }
    argv[n] = NULL;
    cli_result r = cli_run(argv);
    cr_log_info("verify --oracle %s --jobs %s: exit %d\n%s%s", oracle, jobs, r.status, r.out,
                r.err);
    const int status = r.status;
    cli_result_free(&r);
    return status;
}

static void same_run(const char *const *spec, const char *tag)
{
    static const char *const modes[][2] = {{"mpfr", "1"}, {"fast", "1"}, {"fast", "3"}};
    cJSON *runs[3];
    int status[3];
    for (int k = 0; k < 3; k++) {
        char p[256], name[64];
        snprintf(name, sizeof name, "%s-%s-%s.json", tag, modes[k][0], modes[k][1]);
        status[k] = run(spec, modes[k][0], modes[k][1], path(p, sizeof p, name), NULL);
        runs[k] = load(p);
        expect_oracle(runs[k], modes[k][0], k > 0);
    }
    for (int k = 1; k < 3; k++) {
        cr_expect_eq(status[k], status[0], "%s: exit %d with --oracle %s --jobs %s, %d with mpfr",
                     tag, status[k], modes[k][0], modes[k][1], status[0]);
        static const char *const same[] = {"verify", "summary"};
        for (size_t i = 0; i < 2; i++) {
            cJSON *x = cJSON_GetObjectItemCaseSensitive(runs[0], same[i]);
            cJSON *y = cJSON_GetObjectItemCaseSensitive(runs[k], same[i]);
            drop_run_specific(x);
            drop_run_specific(y);
            cr_expect(x && cJSON_Compare(x, y, 1), "%s: \"%s\" differs with --oracle %s --jobs %s",
                      tag, same[i], modes[k][0], modes[k][1]);
        }
    }
    for (int k = 0; k < 3; k++)
        cJSON_Delete(runs[k]);
}

Test(oracle_cli, oracle_and_jobs_change_no_figure)
{
    const char *quick[] = {"--impl", "scalar", "--plugin", GATE_MUTANT_POSITION_PLUS_ONE_PATH,
                           "--quick", "--seed", "5", NULL};
    same_run(quick, "quick");
    const char *yarn[] = {"--impl", "scalar", "--model", "qwen2-7b-instruct-yarn", "--heads", "3",
                          "--positions", "random:2147483647,0:3", "--tokens", "40",
                          "--dtype", "f32,f64,bf16", "--specials", "--seed", "9", NULL};
    same_run(yarn, "yarn");
}

Test(oracle_cli, shards_with_other_jobs_and_oracle_merge)
{
    const char *spec[] = {"--impl", "scalar", "--quick", "--dtype", "f32", "--seed", "2", NULL};
    char s1[256], s2[256], m[256];
    cr_assert_eq(run(spec, "mpfr", "1", path(s1, sizeof s1, "s1.json"), "1/2"), 0);
    cr_assert_eq(run(spec, "fast", "2", path(s2, sizeof s2, "s2.json"), "2/2"), 0);
    const char *argv[] = {"merge", "-o", path(m, sizeof m, "m.json"), s1, s2, NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 0, "merge: exit %d\n%s%s", r.status, r.out, r.err);
    cli_result_free(&r);
}

Test(oracle_cli, bad_oracle_or_jobs_are_usage_errors)
{
    static const char *const bad[][2] = {{"--oracle", "exact"}, {"--oracle", ""},
                                         {"--jobs", "0"},       {"--jobs", "257"},
                                         {"--jobs", "two"},     {"--jobs", "-1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {"verify", "--impl", "scalar", "--quick", bad[i][0], bad[i][1], NULL};
        cli_result r = cli_run(argv);
        cr_expect_eq(r.status, 2, "%s '%s': exit %d", bad[i][0], bad[i][1], r.status);
        cr_expect(strstr(r.err, bad[i][0]) != NULL, "%s", r.err);
        cli_result_free(&r);
    }
}
