/*
 * tests/test_results_files.c - results files are replaced whole or not at
 * all (cli/safe_file.h): a write that fails (a file-size limit, a target
 * that is no regular file, a missing directory) exits 2 with one line and
 * leaves an earlier file byte-for-byte as it was; nothing blocks on a
 * FIFO; inputs are read with a cap and from regular files only. Every
 * file this test writes lies in its own temporary directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_runner.h"

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/rc_results_XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir); /* our own mkdtemp directory only */
    if (strncmp(dir, "/tmp/rc_results_", 16) == 0)
        cr_expect_eq(system(cmd), 0);
}

TestSuite(results_files, .init = make_dir, .fini = remove_dir);

static char *path_in(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

#define QUICK "verify", "--impl", "scalar", "--quick", "--dtype", "f32", "--layout", "half", \
              "--quiet"

Test(results_files, targets_that_are_not_regular_files_are_refused_up_front)
{
    const char *fifo = path_in("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *subdir = path_in("subdir");
    cr_assert_eq(mkdir(subdir, 0700), 0);
    const char *missing = path_in("no/such/dir/out.json");
    const char *targets[] = {fifo, subdir, missing};
    const char *opts[] = {"--json", "--junit"};
    for (size_t t = 0; t < 3; t++)
        for (size_t o = 0; o < 2; o++) {
            const char *argv[] = {QUICK, opts[o], targets[t], NULL};
            cli_result r = cli_run(argv); /* a FIFO must not block: refused */
            cr_expect_eq(r.status, 2, "%s %s: exit %d", opts[o], targets[t], r.status);
            cr_expect_eq(cli_count_lines(r.err), 1, "one line: %s", r.err);
            cli_result_free(&r);
        }
    const char *bench[] = {"bench", "--impl", "scalar", "--json", fifo, "--quiet", NULL};
    cli_result r = cli_run(bench);
    cr_expect_eq(r.status, 2, "bench --json FIFO: exit %d %s", r.status, r.err);
    cli_result_free(&r);
}

Test(results_files, a_failed_write_keeps_the_old_file_whole)
{
    const char *json = path_in("v.json"), *xml = path_in("v.xml");
    const char *first[] = {QUICK, "--json", json, "--junit", xml, NULL};
    cli_result r = cli_run(first);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cli_result_free(&r);
    size_t jn, xn;
    char *jold = read_all(json, &jn), *xold = read_all(xml, &xn);
    cr_assert(jold && xold && jn > 1024, "the JSON must exceed the limit below (%zu)", jn);

    /* A larger run whose files cannot be written under the limit. */
    const char *second[] = {QUICK, "--positions", "0:31", "--json", json, "--junit", xml, NULL};
    /* A 1 KiB file-size limit: the new JSON cannot be written whole. */
    cli_result lim = cli_run_limited(second, 1024);
    int status = lim.status;
    cli_result_free(&lim);
    cr_expect_eq(status, 2, "exit %d (a write error is exit 2, never a signal)", status);
    size_t jn2, xn2;
    char *jnew = read_all(json, &jn2), *xnew = read_all(xml, &xn2);
    cr_expect(jn2 == jn && memcmp(jold, jnew, jn) == 0, "the old JSON is unchanged");
    /* The JUnit file is small enough to fit under the limit: it is then
     * replaced, whole (each file is atomic on its own). */
    cr_expect(xnew && xn2 > 0 && strstr(xnew, "</testsuites>") != NULL,
              "the JUnit file is a whole document: %.*s", (int)xn2, xnew ? xnew : "");
    free(jold);
    free(xold);
    free(jnew);
    free(xnew);

    /* No temporary file is left behind. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^v\\.')\"", dir);
    cr_expect_eq(system(cmd), 0, "stray files in %s", dir);
}

/* Inputs are read with a size cap and only from regular files: a FIFO
 * would block forever, /dev/zero-like input would fill memory. */
Test(results_files, inputs_are_bounded_and_regular)
{
    const char *fifo = path_in("in.fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const char *big = path_in("big.json");
    FILE *f = fopen(big, "w");
    cr_assert(f != NULL);
    cr_assert_eq(ftruncate(fileno(f), (off_t)64 << 20), 0); /* sparse: 64 MiB of zeros */
    fclose(f);
    char table_fifo[160], table_big[160];
    snprintf(table_fifo, sizeof table_fifo, "table:@%s", fifo);
    snprintf(table_big, sizeof table_big, "table:@%s", big);
    const char *const cases[][2] = {
        {"--hf-config", fifo}, {"--hf-config", big}, {"--scaling", table_fifo},
        {"--scaling", table_big},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {QUICK, cases[i][0], cases[i][1], NULL};
        cli_result r = cli_run(argv);
        cr_expect_eq(r.status, 2, "%s %s: exit %d", cases[i][0], cases[i][1], r.status);
        cr_expect(strstr(r.err, "not a regular file") || strstr(r.err, "bytes, more than"),
                  "%s %s: %s", cases[i][0], cases[i][1], r.err);
        cr_expect_eq(cli_count_lines(r.err), 1, "one line: %s", r.err);
        cli_result_free(&r);
    }
}
