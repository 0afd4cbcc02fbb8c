/*
 * tests/fuzz/test_fuzz_regressions.c - every fuzz harness of tests/fuzz,
 * linked into one Criterion binary of the normal build, replays the
 * inputs saved for it: tests/fuzz/regressions/<harness>/ (what fuzzing
 * once crashed, kept so the bug stays fixed) and the seed corpus
 * tests/fuzz/corpus/<harness>/. A harness checks its parser's properties
 * and aborts when one fails, which Criterion reports as a crash; under
 * the sanitizer build (build-asan) a bad access is caught too. No clang or
 * libFuzzer needed: CI's gcc builds run this every time.
 *
 * Each harness is compiled with FUZZ_ENTRY renamed to fuzz_<harness>_one
 * (tests/fuzz/CMakeLists.txt). Below them, plain tests of the bugs the
 * fuzzing found, spelled out.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/gate_parse.h"
#include "cli/positions.h"
#include "cli/scaling_parse.h"
#include "harness/runner_decode.h"
#include "runner/protocol.h"

#define HARNESS(name) int fuzz_##name##_one(const uint8_t *data, size_t size);
HARNESS(model_config)
HARNESS(gate)
HARNESS(positions)
HARNESS(scaling_spec)
HARNESS(scaling_table)
HARNESS(runner_hello)
HARNESS(runner_reply)
HARNESS(runner_request)
HARNESS(bench_json)

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs `one` on every file of RC_FUZZ_DIR/sub/harness, in name order;
 * returns how many. */
static size_t replay(const char *sub, const char *harness,
                     int (*one)(const uint8_t *, size_t))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/%s", RC_FUZZ_DIR, sub, harness);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
            cr_assert(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        cr_assert(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        cr_assert(buf);
        cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        /* Shown if the harness aborts: which input it was. */
        fprintf(stderr, "%s: %s\n", harness, path);
        one(buf, (size_t)len);
        free(buf);
        free(names[i]);
    }
    free(names);
    return n;
}

#define REPLAY_TEST(name)                                                                  \
    Test(fuzz_regressions, name)                                                           \
    {                                                                                      \
        size_t n = replay("regressions", #name, fuzz_##name##_one);                        \
        n += replay("corpus", #name, fuzz_##name##_one);                                   \
        cr_expect_gt(n, 0, "no inputs for harness " #name " under %s", RC_FUZZ_DIR);       \
    }
REPLAY_TEST(model_config)
REPLAY_TEST(gate)
REPLAY_TEST(positions)
REPLAY_TEST(scaling_spec)
REPLAY_TEST(scaling_table)
REPLAY_TEST(runner_hello)
REPLAY_TEST(runner_reply)
REPLAY_TEST(runner_request)
REPLAY_TEST(bench_json)

/* ---- the bugs fuzzing found, as plain tests ------------------------------ */

/* The host reads a reply no longer than its request allows: status, flags,
 * the output (and, out of place, the input) with their lengths, and a
 * message string. 2^35 bytes is far beyond any of them. */
Test(fuzz_found, reply_bound_follows_the_request)
{
    const rc_runner_expect a = {4096, 4096, 1, 2, 64}, b = {4096, 1000, 0, 2, 64},
                           c = {4096, 1000, 0, 3, 64}, huge = {SIZE_MAX, SIZE_MAX, 0, 3, 64};
    uint64_t in_place = rc_runner_reply_max_len(&a);
    uint64_t out_of_place = rc_runner_reply_max_len(&b);
    cr_expect_eq(in_place, 4 + 4 + 8 + 4096 + 2 + RCRP_MAX_STRING);
    cr_expect_eq(out_of_place, 4 + 4 + 8 + 4096 + 8 + 1000 + 2 + RCRP_MAX_STRING);
    /* Version 3: the table's count and at most half entries. */
    cr_expect_eq(rc_runner_reply_max_len(&c), out_of_place + 4 + 8 * 64);
    cr_expect_lt(out_of_place, (uint64_t)1 << 35);
    cr_expect_eq(rc_runner_reply_max_len(&huge), RCRP_MAX_PAYLOAD);
}

/* Writes text to a fresh temporary file; its path goes into path[64]. */
static void temp_file(char path[64], const char *text, size_t len)
{
    snprintf(path, 64, "/tmp/rc_fuzz_regressionXXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* harness gate: a gate file's positions_below beyond int64 was converted
 * with (int64_t), undefined behaviour (UBSan: "outside the range of
 * representable values"); it is an error now, like the command line's
 * positions-below=99999999999999999999, and so is a non-integer. */
Test(fuzz_found, gate_file_positions_below_beyond_int64)
{
    static const char *const bad[] = {
        "{\"positions_below\": 777777777777777777777777777777777771}",
        "{\"positions_below\": 1e300}", "{\"positions_below\": 9223372036854775808}",
        "{\"positions_below\": 2.5}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64], err[256];
        temp_file(path, bad[i], strlen(bad[i]));
        rc_gate g;
        rc_gate_default(&g);
        cr_expect_eq(rc_gate_parse(path, &g, err, sizeof err), -1, "%s accepted", bad[i]);
        cr_expect(strstr(err, "positions_below must be a positive integer"), "%s", err);
        cr_expect_eq(g.positions_below, (int64_t)1 << 31, "%s changed the gate", bad[i]);
        unlink(path);
    }
    char path[64], err[256];
    const char *ok = "{\"positions_below\": 9007199254740992}";
    temp_file(path, ok, strlen(ok));
    rc_gate g;
    rc_gate_default(&g);
    cr_expect_eq(rc_gate_parse(path, &g, err, sizeof err), 0, "%s", err);
    cr_expect_eq(g.positions_below, (int64_t)1 << 53);
    unlink(path);
}

/* harness positions: a grid item without sizes ("grid:@5") handed the
 * tuple reader an empty string, which looked at its last character, one
 * before the buffer (UBSan: index 18446744073709551615), found within the
 * first 20,000 executions of the three-axis parse. It is "an empty
 * position" now, as "1//3" is. */
Test(fuzz_found, positions_grid_without_sizes)
{
    static const char *const bad[] = {"grid:@5", "0:15,grid:@,22:29", "grid:@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t *pos = NULL, n = 0;
        char err[256] = "";
        cr_expect_eq(rc_positions_parse_axes(bad[i], 3, -1, 1, &pos, &n, err, sizeof err), -1,
                     "%s accepted", bad[i]);
        cr_expect(strstr(err, "empty position") || strstr(err, "not a decimal integer"),
                  "%s: %s", bad[i], err);
        free(pos);
    }
}

/* harness scaling_table: a numbers file (--scaling table:@F, short=@F,
 * long=@F) with a NUL byte was read up to the NUL of each line, what
 * followed it ignored unseen ("1\n2\n3\0...\321\n" gave 1, 2, 3). It is
 * refused now, naming the line; an empty file still reports its count. */
Test(fuzz_found, scaling_numbers_file_with_a_nul_byte)
{
    static const char nul_tail[] = "1\n2\n3\0\0\0\321\n";
    static const char nul_mid[] = "1\n0.5\0 # and anything after it\n";
    const struct {
        const char *text;
        size_t len;
        int32_t expect;
    } bad[] = {{nul_tail, sizeof nul_tail - 1, 3}, {nul_mid, sizeof nul_mid - 1, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64], err[512];
        temp_file(path, bad[i].text, bad[i].len);
        double *v = NULL;
        cr_expect_eq(rc_scaling_read_numbers(path, "table", bad[i].expect, &v, err, sizeof err),
                     -1, "file %zu accepted", i);
        cr_expect(v == NULL);
        cr_expect(strstr(err, "holds a NUL byte"), "%s", err);
        rc_scaling sc;
        char spec[128];
        snprintf(spec, sizeof spec, "table:@%s", path);
        cr_expect_eq(rc_scaling_parse(spec, 2 * bad[i].expect, &sc, err, sizeof err), -1);
        unlink(path);
    }
    char path[64], err[512];
    temp_file(path, "", 0);
    double *v = NULL;
    cr_expect_eq(rc_scaling_read_numbers(path, "table", 2, &v, err, sizeof err), -1);
    cr_expect(strstr(err, "holds 0 numbers"), "%s", err);
    unlink(path);
    temp_file(path, "1\n0x1p-3 # hex\n", 15);
    cr_expect_eq(rc_scaling_read_numbers(path, "table", 2, &v, err, sizeof err), 0, "%s", err);
    cr_expect(v && v[0] == 1.0 && v[1] == 0.125);
    free(v);
    unlink(path);
}
