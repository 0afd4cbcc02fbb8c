/*
 * tests/test_cli_args.c - the --positions and --gate languages, parsed
 * directly (cli/positions.c, cli/gate_parse.c).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_seed.h"
#include "cli/coverage.h"
#include "cli/gate_parse.h"
#include "cli/positions.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_cli_args", 7u);
}

Test(positions, explicit_items_and_ranges_expand_in_order)
{
    int64_t *p, n;
    char err[256];
    cr_assert_eq(rc_positions_parse("5,0:3,131071", -1, 1, &p, &n, err, sizeof err), 0, "%s", err);
    int64_t want[] = {5, 0, 1, 2, 3, 131071};
    cr_assert_eq(n, 6);
    for (int i = 0; i < 6; i++)
        cr_expect_eq(p[i], want[i]);
    free(p);
}

Test(positions, random_fills_the_requested_tokens_within_range_reproducibly)
{
    uint64_t seed = test_seed();
    int64_t *p, *q, n, nq;
    char err[256];
    cr_assert_eq(rc_positions_parse("7,random:1000", 300, seed, &p, &n, err, sizeof err), 0);
    cr_assert_eq(rc_positions_parse("7,random:1000", 300, seed, &q, &nq, err, sizeof err), 0);
    cr_assert_eq(n, 300);
    cr_expect_eq(p[0], 7);
    int distinct_hi = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_expect(p[i] >= 0 && p[i] <= 1000, "p[%lld] = %lld", (long long)i, (long long)p[i]);
        cr_expect_eq(p[i], q[i], "same seed, same draws");
        distinct_hi |= p[i] > 500;
    }
    /* 299 uniform draws all <= 500 has probability 2^-299. */
    cr_expect(distinct_hi);
    free(p);
    free(q);
}

Test(positions, lograndom_covers_small_and_large_scales)
{
    int64_t *p, n;
    char err[256];
    cr_assert_eq(rc_positions_parse("lograndom:2147483647", 2000, test_seed(), &p, &n, err,
                                    sizeof err), 0);
    int small = 0, large = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_expect(p[i] >= 0 && p[i] <= 2147483647);
        small += p[i] < 1000;
        large += p[i] > 100000000;
    }
    /* Log-uniform over ~21.5 e-folds: P(m < 1000) ~ 6.9/21.5 ~ 0.32 and
     * P(m > 1e8) ~ 3.07/21.5 ~ 0.14; with 2000 draws both counts are far
     * (> 10 sigma) above 100. */
    cr_expect(small > 100 && large > 100, "small %d large %d", small, large);
    free(p);
}

Test(positions, default_random_count_and_limits)
{
    int64_t *p, n;
    char err[256];
    cr_assert_eq(rc_positions_parse("random:10", -1, 1, &p, &n, err, sizeof err), 0);
    cr_expect_eq(n, RC_DEFAULT_RANDOM_TOKENS);
    free(p);
    cr_expect_eq(rc_positions_parse("9007199254740991", -1, 1, &p, &n, err, sizeof err), 0);
    cr_expect_eq(p[0], 9007199254740991LL);
    free(p);
    cr_expect_eq(rc_positions_parse("random:1,random:2", -1, 1, &p, &n, err, sizeof err), -1);
    cr_expect_eq(rc_positions_parse("", -1, 1, &p, &n, err, sizeof err), -1);
    cr_expect_eq(rc_positions_parse("1,2,3", 2, 1, &p, &n, err, sizeof err), -1);
}

Test(gate, string_items_set_one_or_all_dtypes)
{
    rc_gate g;
    rc_gate_default(&g);
    char err[256];
    cr_assert_eq(rc_gate_parse("pair=0.75,f16:component=4,positions-below=4096", &g, err,
                               sizeof err), 0, "%s", err);
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        cr_expect_eq(g.pair[t], 0.75);
    cr_expect_eq(g.component[RC_DTYPE_F16], 4.0);
    cr_expect(isinf(g.component[RC_DTYPE_F32]));
    cr_expect_eq(g.positions_below, 4096);
    cr_expect_eq(rc_gate_parse("pair=-1", &g, err, sizeof err), -1);
    /* A gate over no position gates nothing: never accepted. */
    static const char *const no_range[] = {"positions-below=0", "positions-below=-5",
                                           "positions-below=", "positions-below=1e3",
                                           "positions-below=99999999999999999999"};
    for (size_t i = 0; i < sizeof no_range / sizeof no_range[0]; i++) {
        rc_gate_default(&g);
        cr_expect_eq(rc_gate_parse(no_range[i], &g, err, sizeof err), -1, "%s accepted",
                     no_range[i]);
        cr_expect_eq(g.positions_below, (int64_t)1 << 31, "%s changed the gate", no_range[i]);
    }
    cr_expect_eq(rc_gate_parse("positions-below=1", &g, err, sizeof err), 0, "%s", err);
    cr_expect_eq(g.positions_below, 1);
    cr_expect_eq(rc_gate_parse("f8:pair=1", &g, err, sizeof err), -1);
    cr_expect_eq(rc_gate_parse("pair", &g, err, sizeof err), -1);
}

/* The string form is read as strictly as every other option (issue 14):
 * no blanks, signs, hex floats, spelled-out infinities or empty items;
 * "inf" alone means no limit. Nothing is changed by a refused gate. */
Test(gate, string_form_is_strict)
{
    static const char *const bad[] = {
        "pair= 1",      "pair=+1",        "pair=0x1p0",  "pair=1.5x",       "pair=infinity",
        "pair=nan",     "pair=1e999",     "pair=1,",     ",pair=1",         "pair=1,,component=2",
        "",             "positions-below=+5", "positions-below= 5", "positions-below=0x10",
        /* Unknown metrics on both sides of "positions-below" in strcmp order. */
        "norm=1",       "tail=1",         "zz=1",        "positions=1",     "positions-belowx=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc_gate g;
        rc_gate_default(&g);
        const rc_gate before = g;
        char err[256] = "";
        cr_expect_eq(rc_gate_parse(bad[i], &g, err, sizeof err), -1, "'%s' accepted", bad[i]);
        cr_expect(err[0] != '\0', "'%s': no reason", bad[i]);
        cr_expect(memcmp(&g, &before, sizeof g) == 0 || strchr(bad[i], ',') != NULL,
                  "'%s' changed the gate", bad[i]);
    }
    rc_gate g;
    rc_gate_default(&g);
    char err[256];
    cr_assert_eq(rc_gate_parse("f32:component=inf,pair=2.5e-1", &g, err, sizeof err), 0, "%s",
                 err);
    cr_expect(isinf(g.component[RC_DTYPE_F32]) && g.pair[RC_DTYPE_F16] == 0.25);
}

Test(gate, json_file)
{
    char path[] = "/tmp/rc_gateXXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("{\"f32\": {\"pair\": 1.5, \"component\": 64}, \"bf16\": {\"pair\": 0.9},"
          " \"positions_below\": 65536}", f);
    fclose(f);
    rc_gate g;
    rc_gate_default(&g);
    char err[256];
    cr_assert_eq(rc_gate_parse(path, &g, err, sizeof err), 0, "%s", err);
    cr_expect_eq(g.pair[RC_DTYPE_F32], 1.5);
    cr_expect_eq(g.component[RC_DTYPE_F32], 64.0);
    cr_expect_eq(g.pair[RC_DTYPE_BF16], 0.9);
    cr_expect_eq(g.pair[RC_DTYPE_F64], 3.0, "unnamed dtypes keep their defaults");
    cr_expect_eq(g.positions_below, 65536);
    f = fopen(path, "w");
    fputs("{\"f32\": {\"norm\": 1}}", f);
    fclose(f);
    cr_expect_eq(rc_gate_parse(path, &g, err, sizeof err), -1);
    static const char *const no_range[] = {"{\"positions_below\": 0}",
                                           "{\"positions_below\": 0.5}",
                                           "{\"positions_below\": -1}",
                                           "{\"positions_below\": \"4096\"}",
                                           "{\"positions_below\": 1e19}",
                                           "{\"positions_below\": 2.5}",
                                           /* twice: cJSON and Python disagree */
                                           "{\"positions_below\": 5, \"positions_below\": 6}",
                                           "{\"f32\": {\"pair\": 1}, \"f32\": {\"pair\": 2}}",
                                           "{\"f32\": {\"pair\": 1, \"pair\": 2}}",
                                           /* a metric that is not a number >= 0 */
                                           "{\"f32\": {\"pair\": -1}}",
                                           "{\"f16\": {\"component\": \"2\"}}",
                                           "{\"bf16\": {\"pair\": null}}"};
    for (size_t i = 0; i < sizeof no_range / sizeof no_range[0]; i++) {
        f = fopen(path, "w");
        fputs(no_range[i], f);
        fclose(f);
        cr_expect_eq(rc_gate_parse(path, &g, err, sizeof err), -1, "%s accepted", no_range[i]);
    }
    unlink(path);
}

/* ---- the default matrix is the one reference/COVERAGE.md documents ---- */

/* The table row of cell `name` in COVERAGE.md, split at '|' into at most
 * 8 trimmed fields; the number found. */
static int coverage_row(const char *md, const char *name, char fields[8][256])
{
    char want[64];
    snprintf(want, sizeof want, "\n| %s |", name);
    const char *row = strstr(md, want);
    cr_assert_not_null(row, "COVERAGE.md has no row for cell '%s'", name);
    row += 1; /* at the leading bar */
    const char *end = strchr(row, '\n');
    int n = 0;
    for (const char *p = row; p < end && n < 8;) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        if (!bar || bar + 1 >= end)
            break;
        const char *q = bar + 1, *next = memchr(q, '|', (size_t)(end - q));
        if (!next)
            break;
        while (q < next && *q == ' ')
            q++;
        const char *r = next;
        while (r > q && r[-1] == ' ')
            r--;
        snprintf(fields[n++], 256, "%.*s", (int)(r - q), q);
        p = next;
    }
    return n;
}

/* Every cell against its documented row: shape, base, heads, the number
 * of tokens its positions expand to, directions and view. The doc is the
 * contract (cli/coverage.h): a cell changes only with its table. */
Test(coverage, cells_match_the_documented_table)
{
    FILE *f = fopen(RC_COVERAGE_MD, "r");
    cr_assert_not_null(f, "%s", RC_COVERAGE_MD);
    static char md[1 << 16];
    size_t len = fread(md, 1, sizeof md - 1, f);
    fclose(f);
    md[len] = '\0';
    cr_assert(rc_coverage_count() >= 8);
    for (size_t i = 0; i < rc_coverage_count(); i++) {
        const rc_coverage_cell *c = rc_coverage_get(i);
        char fl[8][256];
        cr_assert_eq(coverage_row(md, c->name, fl), 8, "row of %s", c->name);
        char shape[64];
        snprintf(shape, sizeof shape, "%d / %d", (int)c->head_dim, (int)c->rotary_dim);
        cr_expect_str_eq(fl[1], shape, "%s: head_dim / rotary_dim", c->name);
        cr_expect_eq(strtod(fl[2], NULL), c->base, "%s: base %s", c->name, fl[2]);
        cr_expect_eq(strtoll(fl[3], NULL, 10), c->heads, "%s: heads", c->name);
        int64_t *pos = NULL, n = 0;
        char err[256];
        cr_assert_eq(rc_positions_parse_axes(c->positions, c->axes ? 3 : 1, c->tokens, 1, &pos,
                                             &n, err, sizeof err),
                     0, "%s: %s", c->name, err);
        free(pos);
        cr_expect_eq(strtoll(fl[4], NULL, 10), n, "%s: tokens", c->name);
        char dirs[32];
        snprintf(dirs, sizeof dirs, "%s%s%s", c->forward ? "forward" : "",
                 c->forward && c->inverse ? ", " : "", c->inverse ? "inverse" : "");
        cr_expect_str_eq(fl[6], dirs, "%s: directions", c->name);
        const char *view = c->inplace          ? "output = input"
                           : c->stride_pad > 0 ? "unused elements after every head and token"
                           : c->specials       ? "NaN and Inf"
                                               : "packed";
        cr_expect(strstr(fl[7], view) != NULL, "%s: view '%s' (want '%s')", c->name, fl[7], view);
        if (c->stride_pad > 0) {
            char pad[32];
            snprintf(pad, sizeof pad, "%lld unused", (long long)c->stride_pad);
            cr_expect(strstr(fl[7], pad) != NULL, "%s: stride pad", c->name);
        }
        cr_expect(c->bug_classes && strlen(c->bug_classes) > 20,
                  "%s: every cell says which bugs it exists for", c->name);
        /* ... and says it as the doc does, to the letter. */
        const char *sect = strstr(md, "\n## What each cell is for\n");
        cr_assert_not_null(sect, "COVERAGE.md has no 'What each cell is for' section");
        char row[512];
        snprintf(row, sizeof row, "\n| %s | %s |\n", c->name, c->bug_classes);
        cr_expect(strstr(sect, row) != NULL, "%s: COVERAGE.md's reason differs from '%s'",
                  c->name, c->bug_classes);
    }
}
