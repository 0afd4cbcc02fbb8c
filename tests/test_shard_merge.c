/*
 * tests/test_shard_merge.c - `verify --shard K/N` and `ropecheck merge`
 * (issue 16): the shards of a run, merged, are the unsharded run's result:
 * the same cases in the same order, each with every figure (verdicts,
 * maxima, percentiles, histograms, worst elements and their replay lines)
 * equal, the same summary, the same JUnit and the same exit status; only
 * timings differ. Incomplete, overlapping or mismatched shards are
 * refused with exit 2 and write nothing.
 *
 * The run: scalar (passes) and the position-plus-one gate mutant (fails), --quick
 * (8 spec cases each), in 3 shards: 16 cases, so every shard holds cases
 * of both. Files are written in a mkdtemp directory, removed at the end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "gate_mutant_paths.h"

#define RC_TEST_TMPDIR_TEMPLATE "/tmp/rc_shardXXXXXX"
#include "test_tmpdir.h"

TestSuite(shard_merge, .init = rc_tmpdir_make, .fini = rc_tmpdir_remove);

/* The suite's directory: every file the test writes goes there. */
static const char *path(char *buf, size_t len, const char *name)
{
    return rc_tmpdir_path(buf, len, name);
}

/* verify of the test's run; shard NULL: unsharded. Returns the exit code. */
static int run_verify(const char *shard, const char *json, const char *junit)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--plugin",
                          GATE_MUTANT_POSITION_PLUS_ONE_PATH, "--quick", "--seed", "3", "--json", json,
                          "--junit", junit, "-q", NULL, NULL, NULL};
    if (shard) {
        argv[13] = "--shard";
        argv[14] = shard;
    }
    cli_result r = cli_run(argv);
    cr_log_info("verify %s: exit %d\n%s%s", shard ? shard : "", r.status, r.out, r.err);
    const int status = r.status;
    cli_result_free(&r);
    return status;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    cr_assert(f, "cannot open %s", p);
    char *buf = malloc(1 << 22);
    cr_assert(buf);
    const size_t n = fread(buf, 1, (1 << 22) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Timings differ from run to run: every "seconds" member removed. */
static void drop_seconds(cJSON *o)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, "seconds");
    cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            drop_seconds(c);
    }
}

/* JUnit with every time="..." attribute blanked. */
static void drop_times(char *xml)
{
    for (char *p = strstr(xml, "time=\""); p; p = strstr(p + 6, "time=\"")) {
        char *q = strchr(p + 6, '"');
        if (q)
            memset(p + 6, '0', (size_t)(q - p - 6));
    }
}

static cJSON *load(const char *p)
{
    char *text = slurp(p);
    cJSON *j = cJSON_Parse(text);
    free(text);
    cr_assert(j, "%s is not JSON", p);
    return j;
}

Test(shard_merge, merged_shards_equal_the_unsharded_run)
{
    char full[256], full_x[256], s[3][256], sx[3][256], m[256], mx[256];
    const int full_rc = run_verify(NULL, path(full, sizeof full, "full.json"),
                                   path(full_x, sizeof full_x, "full.xml"));
    cr_assert_eq(full_rc, 1, "the run has a failing port: exit %d", full_rc);
    for (int k = 0; k < 3; k++) {
        char name[32], xname[32], shard[8];
        snprintf(name, sizeof name, "s%d.json", k + 1);
        snprintf(xname, sizeof xname, "s%d.xml", k + 1);
        snprintf(shard, sizeof shard, "%d/3", k + 1);
        const int rc = run_verify(shard, path(s[k], sizeof s[k], name),
                                  path(sx[k], sizeof sx[k], xname));
        cr_expect(rc == 0 || rc == 1, "shard %s: exit %d", shard, rc);
    }
    /* Given in another order than 1, 2, 3: the order of the files is free. */
    const char *argv[] = {"merge", "-o", path(m, sizeof m, "m.json"), "--junit",
                          path(mx, sizeof mx, "m.xml"), s[2], s[0], s[1], NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, full_rc, "merge: exit %d, the unsharded run %d\n%s%s", r.status,
                 full_rc, r.out, r.err);
    cr_expect(strstr(r.out, "16 cases from 3 shards: 8 pass, 8 fail"), "%s", r.out);
    cli_result_free(&r);

    cJSON *a = load(full), *b = load(m);
    static const char *const same[] = {"verify", "summary", "run_argv", "seed", "positions",
                                       "gate_positions_below", "schema_version", "kind"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(a, same[i]);
        cJSON *y = cJSON_GetObjectItemCaseSensitive(b, same[i]);
        drop_seconds(x);
        drop_seconds(y);
        cr_expect(x && cJSON_Compare(x, y, 1), "merged \"%s\" differs from the unsharded run's",
                  same[i]);
    }
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(b, "shard"));
    cr_expect_eq(cJSON_GetObjectItemCaseSensitive(b, "merged_shards")->valuedouble, 3.0);
    cJSON_Delete(a);
    cJSON_Delete(b);

    char *xa = slurp(full_x), *xb = slurp(mx);
    drop_times(xa);
    drop_times(xb);
    cr_expect_str_eq(xb, xa, "the merged JUnit differs from the unsharded run's");
    free(xa);
    free(xb);
}

/* One line naming the problem, exit 2, and no output written. */
static void expect_refused(const char *const *files, const char *why)
{
    char out[256];
    const char *argv[12] = {"merge", "-o", path(out, sizeof out, "refused.json")};
    int n = 3;
    for (; *files && n < 11; files++)
        argv[n++] = *files;
    argv[n] = NULL;
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 2, "%s: exit %d\n%s", why, r.status, r.err);
    cr_expect(strstr(r.err, why) != NULL, "no '%s' in:\n%s", why, r.err);
    FILE *f = fopen(out, "r");
    cr_expect_null(f, "a refused merge wrote %s", out);
    if (f)
        fclose(f);
    cli_result_free(&r);
}

Test(shard_merge, incomplete_overlapping_or_mismatched_shards_are_refused)
{
    char s1[256], s2[256], x2[256], other[256], full[256], junk[256], xml[256];
    run_verify("1/2", path(s1, sizeof s1, "s1.json"), path(xml, sizeof xml, "1.xml"));
    run_verify("2/2", path(s2, sizeof s2, "s2.json"), path(xml, sizeof xml, "2.xml"));
    run_verify(NULL, path(full, sizeof full, "full.json"), path(xml, sizeof xml, "f.xml"));
    /* A shard of another run: another seed. */
    const char *argv[] = {"verify", "--impl", "scalar", "--plugin", GATE_MUTANT_POSITION_PLUS_ONE_PATH,
                          "--quick", "--seed", "4", "--shard", "2/2", "--json",
                          path(other, sizeof other, "other.json"), "-q", NULL};
    cli_result r = cli_run(argv);
    cli_result_free(&r);
    FILE *f = fopen(path(junk, sizeof junk, "junk.json"), "w");
    cr_assert(f);
    fputs("{\"schema\": \"ropecheck.results\"", f);
    fclose(f);
    /* A shard whose cases were edited out: its case 1 is gone. */
    cJSON *j = load(s2);
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(j, "verify"), 0);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    f = fopen(path(x2, sizeof x2, "cut.json"), "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    free(text);

    /* A header claiming 10^12 cases: refused before any table that large. */
    char huge[256];
    j = load(s1);
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shard");
    cJSON_ReplaceItemInObjectCaseSensitive(sh, "count", cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObjectCaseSensitive(sh, "index", cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObjectCaseSensitive(sh, "cases_total", cJSON_CreateNumber(1e12));
    text = cJSON_Print(j);
    cJSON_Delete(j);
    f = fopen(path(huge, sizeof huge, "huge.json"), "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    free(text);

    expect_refused((const char *[]){huge, NULL},
                   "the files hold 8 cases, the run has 1000000000000");
    expect_refused((const char *[]){s1, NULL}, "shard 2 of 2 is missing");
    expect_refused((const char *[]){s1, s2, s2, NULL}, "shard 2 of 2 is given twice");
    expect_refused((const char *[]){s1, other, NULL}, "are shards of different runs");
    expect_refused((const char *[]){s1, full, NULL}, "not a shard");
    expect_refused((const char *[]){s1, junk, NULL}, "not a ropecheck verify result");
    expect_refused((const char *[]){s1, x2, NULL}, "the files hold 15 cases, the run has 16");
}

Test(shard_merge, bad_shard_options_are_usage_errors)
{
    static const char *const bad[] = {"0/3", "4/3", "3", "a/b", "1/0", "1/65537", "/3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {"verify", "--impl", "scalar", "--quick", "--shard", bad[i], NULL};
        cli_result r = cli_run(argv);
        cr_expect_eq(r.status, 2, "--shard %s: exit %d", bad[i], r.status);
        cr_expect(strstr(r.err, "--shard") != NULL, "%s", r.err);
        cli_result_free(&r);
    }
    const char *req[] = {"verify", "--impl", "scalar", "--quick", "--shard", "1/2",
                         "--require", "f32", NULL};
    cli_result r = cli_run(req);
    cr_expect_eq(r.status, 2, "--require with --shard: exit %d", r.status);
    cr_expect(strstr(r.err, "--require judges a whole run"), "%s", r.err);
    cli_result_free(&r);
}
