/*
 * tests/test_runner.c - the target runner (--runner, runner/PROTOCOL.md)
 * end to end.
 *
 * Suite runner (host, x86 or whatever builds the suite): the host's own
 * ropecheck-runner through --runner gives exactly the figures of the same
 * implementations in process; a runner that crashes, hangs, writes
 * garbage or exits is BROKEN (exit 3) with a message that says which, and
 * leaves no process behind.
 *
 * Suite runner_neon (built as test_runner_neon, RC_TEST_NEON): the NEON
 * port cross-built for AArch64 (tools/build-aarch64.sh) and run under
 * qemu-user passes every gate, as "neon" (fused angles) and "neon-table"
 * (a table of the call's positions first), and its figures equal the
 * AArch64 scalar port's (it does scalar's arithmetic in scalar's order). Without
 * qemu-aarch64 or the cross compiler these tests are skipped, which ctest
 * reports as Skipped (SKIP_REGULAR_EXPRESSION), never as passed.
 *
 * No tolerances here: the gates are ropecheck's defaults
 * (reference/GATES.md) and the comparisons are of identical text.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "ropecheck/plugin.h"
#include "runner/protocol.h"
#if defined(RC_TEST_NEON)
#include "harness/runner_client.h"
#include "near_boundary.h"
#include "test_seed.h"
#endif

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

/* stdout minus the first `skip` columns of every line: the impl name
 * column, so two implementations' tables can be compared. */
static char *strip_columns(const char *s, size_t skip)
{
    char *out = malloc(strlen(s) + 1), *w = out;
    cr_assert(out);
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        if (len > skip) {
            memcpy(w, s + skip, len - skip);
            w += len - skip;
        }
        *w++ = '\n';
        s += len + (eol ? 1 : 0);
    }
    *w = '\0';
    return out;
}

#ifndef RC_TEST_NEON

#define SMALL "--heads", "2", "--head-dim", "32", "--positions", "0:7,100,4095,2147483647", \
              "--quiet"

Test(runner, host_runner_gives_the_in_process_figures)
{
    /* scalar and avx2 (when this CPU has AVX2: otherwise both sides say
     * unavailable), every dtype and layout, both directions, partial
     * rotary, strided: the table must be the same text. */
    const char *local[] = {"verify", "--impl", "scalar,avx2", "--dtype", "all", "--layout",
                           "all", "--direction", "forward,inverse", "--rotary-dim", "22",
                           "--stride-pad", "3", SMALL, NULL};
    const char *remote[] = {"verify", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "scalar,avx2",
                            "--dtype", "all", "--layout", "all", "--direction",
                            "forward,inverse", "--rotary-dim", "22", "--stride-pad", "3", SMALL,
                            NULL};
    cli_result a = run(local), b = run(remote);
    cr_expect_eq(a.status, 0);
    cr_expect_eq(b.status, a.status);
    cr_expect_str_eq(b.out, a.out);
    cli_result_free(&a);
    cli_result_free(&b);
}

Test(runner, host_runner_inplace_passes)
{
    const char *argv[] = {"verify", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "scalar",
                          "--dtype", "f32,bf16", "--inplace", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s", r.out);
    cli_result_free(&r);
}

Test(runner, prove_through_the_runner)
{
    const char *argv[] = {"prove", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "scalar",
                          "--layout", "half", "--head-dim", "32", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "rotation"), "%s", r.out);
    cli_result_free(&r);
}

Test(runner, unknown_name_is_a_usage_error)
{
    const char *argv[] = {"verify", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "nosuch", SMALL,
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "does not offer 'nosuch'"), "%s", r.err);
    cli_result_free(&r);
}

/* A broken runner before its hello: exit 3, the reason on stderr. */
Test(runner, list_shows_what_the_runner_carries)
{
    const char *argv[] = {"list", "--runner", ROPECHECK_RUNNER_BIN, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "scalar: available ([runner,") != NULL, "%s", r.out);
    cli_result_free(&r);
}

Test(runner, results_record_the_runner_and_replays_use_it)
{
    char json[] = "/tmp/rc_runner_jsonXXXXXX";
    close(mkstemp(json));
    /* A gate below scalar's 0.5 ULP makes the case fail, so a replay line
     * is printed; it must carry --runner to reproduce the case. */
    const char *argv[] = {"verify", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "scalar",
                          "--dtype", "f32", "--layout", "half", "--gate", "pair=0.25",
                          "--json", json, SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 1);
    char want[1024];
    snprintf(want, sizeof want, "--runner '%s'", ROPECHECK_RUNNER_BIN);
    cr_expect(strstr(r.out, "replay worst") && strstr(r.out, want), "%s", r.out);
    FILE *f = fopen(json, "rb");
    cr_assert(f);
    char buf[1 << 16];
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    const cJSON *runner = cJSON_GetObjectItem(root, "runner");
    cr_expect(cJSON_IsString(runner) && strcmp(runner->valuestring, ROPECHECK_RUNNER_BIN) == 0,
              "the results JSON names the runner command");
    cJSON_Delete(root);
    unlink(json);
    cli_result_free(&r);
}

static void expect_broken_at_hello(const char *command, const char *timeout, const char *what)
{
    const char *argv[] = {"verify", "--runner", command, "--impl", "scalar", "--dtype", "f32",
                          "--timeout", timeout, SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "exit %d for `%s`", r.status, command);
    cr_expect(strstr(r.err, "BROKEN") && strstr(r.err, what), "`%s`: wanted '%s' in:\n%s",
              command, what, r.err);
    cli_result_free(&r);
}

Test(runner, runner_that_crashes_is_broken)
{
    expect_broken_at_hello("sh -c 'kill -SEGV $$'", "10", "runner died before its hello");
    expect_broken_at_hello("sh -c 'kill -SEGV $$'", "10", "SIGSEGV");
}

Test(runner, runner_that_hangs_is_broken_at_the_limit)
{
    time_t t0 = time(NULL);
    expect_broken_at_hello("sleep 100", "1", "no hello within the time limit");
    /* 1 s limit plus start-up; far below sleep's 100 s. */
    cr_expect_lt(time(NULL) - t0, 30);
}

Test(runner, runner_that_writes_garbage_is_broken)
{
    expect_broken_at_hello("echo garbage", "10", "malformed hello");
}

/* 1 if a process whose command line holds "--inject" then `what` is
 * alive (a runner the client failed to end). */
static int injected_runner_alive(const char *what)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i + 9 + strlen(what) < n; i++)
            if (memcmp(buf + i, "--inject", 9) == 0 && strcmp(buf + i + 9, what) == 0)
                found = 1;
    }
    closedir(d);
    return found;
}

/* A runner that greets correctly, then misbehaves on each request: every
 * case is BROKEN with the reason, the run reports all of them, exit 3. */
static void expect_broken_in_apply(const char *inject, const char *what)
{
    char command[1024];
    snprintf(command, sizeof command, "%s --inject %s", ROPECHECK_RUNNER_BIN, inject);
    const char *argv[] = {"verify", "--runner", command, "--impl", "scalar", "--dtype",
                          "f32,f64", "--layout", "half", "--timeout", "2", SMALL, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "--inject %s: exit %d", inject, r.status);
    cr_expect(strstr(r.out, "2 cases: 0 pass, 0 fail, 0 skip, 2 broken"), "%s", r.out);
    cr_expect(strstr(r.out, what), "--inject %s: wanted '%s' in:\n%s", inject, what, r.out);
    /* Its end is asynchronous (the supervisor gets SIGTERM when the
     * guarded child is killed, then kills the group): allow 5 s. */
    int alive = 1;
    for (int i = 0; i < 100 && (alive = injected_runner_alive(inject)); i++) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    cr_expect(!alive, "a runner (--inject %s) outlived its call by 5 s", inject);
    cli_result_free(&r);
}

static void write_frame_file(const char *dir, const char *name, const rcrp_out *o);

/* Lines in a file (how many times a wrapper script started the runner). */
static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The runner command behind a wrapper that logs every start to DIR/starts. */
static void logged_command(char *cmd, size_t len, const char *dir, const char *args)
{
    snprintf(cmd, len, "echo start >> '%s/starts'; exec '%s' %s", dir, ROPECHECK_RUNNER_BIN,
             args);
}

/* Protocol 3: one runner process serves the whole run (every case of
 * verify, every probe of prove), not one per call. */
Test(runner, one_runner_process_serves_the_whole_run)
{
    char dir[] = "/tmp/rc_runner_startsXXXXXX", cmd[1024], starts[600];
    cr_assert(mkdtemp(dir));
    snprintf(starts, sizeof starts, "%s/starts", dir);
    logged_command(cmd, sizeof cmd, dir, "");
    const char *v[] = {"verify", "--runner", cmd, "--impl", "scalar", "--dtype", "f32,f64",
                       "--layout", "all", SMALL, NULL};
    cli_result r = run(v);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s", r.out);
    cr_expect_eq(count_lines(starts), 1, "4 cases, one runner start");
    cli_result_free(&r);
    unlink(starts);

    const char *p[] = {"prove", "--runner", cmd, "--impl", "scalar", "--dtype", "f32",
                       "--layout", "half", NULL};
    r = run(p);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_eq(count_lines(starts), 1, "every probe of prove, one runner start");
    cli_result_free(&r);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

/* A runner that crashes in the middle of a run takes only the case it
 * was serving: the host starts a fresh one for the next case. Here each
 * runner serves one request and crashes on its second: pass, BROKEN,
 * pass, BROKEN, with two runner starts. */
Test(runner, a_runner_that_crashes_mid_run_is_restarted)
{
    char dir[] = "/tmp/rc_runner_restartXXXXXX", cmd[1024], starts[600];
    cr_assert(mkdtemp(dir));
    snprintf(starts, sizeof starts, "%s/starts", dir);
    logged_command(cmd, sizeof cmd, dir, "--inject segv --inject-after 1");
    const char *v[] = {"verify", "--runner", cmd, "--impl", "scalar", "--dtype", "f32,f64",
                       "--layout", "all", "--timeout", "10", SMALL, NULL};
    cli_result r = run(v);
    cr_expect_eq(r.status, 3, "exit %d", r.status);
    cr_expect(strstr(r.out, "4 cases: 2 pass, 0 fail, 0 skip, 2 broken"), "%s", r.out);
    cr_expect(strstr(r.out, "runner died before its reply: "), "%s", r.out);
    cr_expect_eq(count_lines(starts), 2, "one start, one restart after the crash");
    cli_result_free(&r);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

/* A version-2 runner still works (no scaling fields, no table); one that
 * announces a version this host does not speak is refused by name. */
Test(runner, older_runners_work_and_unknown_versions_are_named)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --protocol 2", ROPECHECK_RUNNER_BIN);
    const char *v[] = {"verify", "--runner", cmd, "--impl", "scalar", "--dtype", "f32,bf16",
                       "--scaling", "yarn:factor=4,original=4096", SMALL, NULL};
    cli_result r = run(v);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "4 cases: 4 pass"), "%s", r.out);
    cli_result_free(&r);

    char dir[] = "/tmp/rc_runner_versionXXXXXX";
    cr_assert(mkdtemp(dir));
    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_HELLO);
    rcrp_write_u32(&o, 9);
    rcrp_write_str(&o, "x86_64");
    rcrp_write_u32(&o, 1);
    rcrp_write_str(&o, "scalar");
    rcrp_write_str(&o, "a runner from the future");
    rcrp_write_u64(&o, RC_CAP_KNOWN);
    rcrp_write_u32(&o, 1);
    rcrp_write_str(&o, "");
    rcrp_frame_end(&o);
    write_frame_file(dir, "hello.bin", &o);
    free(o.p);
    snprintf(cmd, sizeof cmd, "cat '%s/hello.bin'", dir);
    const char *w[] = {"verify", "--runner", cmd, "--impl", "scalar", SMALL, NULL};
    r = run(w);
    cr_expect_eq(r.status, 3, "exit %d", r.status);
    cr_expect(strstr(r.err, "runner speaks protocol version 9; this ropecheck speaks 2 to 4"),
              "%s", r.err);
    cli_result_free(&r);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

/* Multi-axis RoPE travels in protocol 4 (the map, n_axes positions per
 * token): the runner's ports give the in-process figures; a version-3
 * runner does not offer it, and the cases skip with the cap's reason. */
Test(runner, multi_axis_through_the_runner)
{
    const char *local[] = {"verify", "--impl", "scalar", "--axes", "mrope:16,24,24",
                           "--dtype", "f32,bf16", "--quiet", NULL};
    const char *remote[] = {"verify", "--runner", ROPECHECK_RUNNER_BIN, "--impl", "scalar",
                            "--axes", "mrope:16,24,24", "--dtype", "f32,bf16", "--quiet", NULL};
    cli_result a = run(local), b = run(remote);
    cr_expect_eq(a.status, 0, "%s", a.out);
    cr_expect_eq(b.status, 0, "%s%s", b.out, b.err);
    char *sa = strip_columns(a.out, 12), *sb = strip_columns(b.out, 12);
    cr_expect_str_eq(sb, sa, "the runner's figures are the in-process ones");
    free(sa);
    free(sb);
    cli_result_free(&a);
    cli_result_free(&b);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --protocol 3", ROPECHECK_RUNNER_BIN);
    const char *old[] = {"verify", "--runner", cmd, "--impl", "scalar", "--axes",
                         "mrope:16,24,24", "--dtype", "f32", "--quiet", NULL};
    cli_result r = run(old);
    cr_expect_eq(r.status, 4, "nothing judged: exit %d\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "multi-axis positions not offered (RC_CAP_MULTI_AXIS"), "%s", r.out);
    cli_result_free(&r);
}

Test(runner, crash_during_apply)
{
    expect_broken_in_apply("segv", "runner died before its reply");
#ifdef RC_TEST_SANITIZED
    /* The sanitized runner's ASan catches the SIGSEGV, reports it on
     * stderr and exits with status 1 instead of dying of the signal. */
    expect_broken_in_apply("segv", "exited with status 1");
#else
    expect_broken_in_apply("segv", "SIGSEGV");
#endif
}

Test(runner, hang_during_apply)
{
    expect_broken_in_apply("hang", "timeout: no answer in 2 s");
}

Test(runner, garbage_reply)
{
    expect_broken_in_apply("garbage", "malformed reply (bad magic");
}

Test(runner, exit_during_apply)
{
    expect_broken_in_apply("exit", "exited with status 7");
}

/* Writes o's frame to dir/name. */
static void write_frame_file(const char *dir, const char *name, const rcrp_out *o)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f && !o->failed, "cannot write %s", path);
    cr_assert_eq(fwrite(o->p, 1, o->len, f), o->len);
    fclose(f);
}

/* A fake runner that greets correctly (one implementation, "scalar"),
 * then answers the first request with a RESULT header announcing a 2^35-
 * byte payload (32 GiB) it never sends. The host must refuse the length
 * at the header, before any allocation: the longest reply a request can
 * get is its output (and input) extent plus a message string. Without
 * that bound the host tried to malloc the 32 GiB (out of memory in the
 * guarded child's address-space limit, or, without one, a wait for bytes
 * that never come until the time limit). */
Test(runner, announced_reply_beyond_the_request_is_malformed)
{
    char dir[] = "/tmp/rc_fake_runnerXXXXXX";
    cr_assert(mkdtemp(dir));
    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_HELLO);
    rcrp_write_u32(&o, RCRP_VERSION);
    rcrp_write_str(&o, "x86_64");
    rcrp_write_u32(&o, 1);
    rcrp_write_str(&o, "scalar");
    rcrp_write_str(&o, "a fake runner announcing a 32 GiB reply");
    rcrp_write_u64(&o, RC_CAP_KNOWN);
    rcrp_write_u32(&o, 1);
    rcrp_write_str(&o, "");
    rcrp_frame_end(&o);
    write_frame_file(dir, "hello.bin", &o);
    /* The header alone: magic, type RESULT, length 2^35. */
    rcrp_frame_begin(&o, RCRP_RESULT);
    rcrp_put_u64(o.p + 8, (uint64_t)1 << 35);
    write_frame_file(dir, "reply.bin", &o);
    free(o.p);
    char script[512];
    snprintf(script, sizeof script, "%s/runner.sh", dir);
    FILE *f = fopen(script, "w");
    cr_assert(f);
    /* At start-up the host reads the hello and closes stdin (no request
     * comes): exit then. Otherwise answer the request's header, and keep
     * reading so the host's write never fails. */
    fprintf(f, "cat '%s/hello.bin'\n"
               "n=$(head -c 16 | wc -c)\n"
               "[ \"$n\" -eq 16 ] || exit 0\n"
               "cat '%s/reply.bin'\n"
               "exec cat >/dev/null\n", dir, dir);
    fclose(f);
    char command[600];
    snprintf(command, sizeof command, "sh '%s'", script);
    const char *argv[] = {"verify", "--runner", command, "--impl", "scalar", "--dtype", "f32",
                          "--layout", "half", "--timeout", "20", SMALL, NULL};
    time_t t0 = time(NULL);
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "a runner announcing a 32 GiB reply is BROKEN (exit 3)");
    cr_expect(strstr(r.out, "1 cases: 0 pass, 0 fail, 0 skip, 1 broken"), "%s", r.out);
    cr_expect(strstr(r.out, "malformed reply (length 34359738368; at most "), "%s", r.out);
    /* Refused at once, not at the 20 s time limit. */
    cr_expect_lt(time(NULL) - t0, 15);
    /* The reason is one line. */
    const char *why = strstr(r.out, "malformed reply");
    cr_expect(why && strchr(why, '\n') && !strstr(strchr(why, '\n') + 1, "malformed reply"),
              "%s", r.out);
    cli_result_free(&r);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

/* The runner's side of the same rule: an APPLY frame whose announced
 * length is not the one its head's shape implies ends the runner (exit 2,
 * PROTOCOL.md) before it allocates the payload. Here 2^30 tokens and a
 * 2^35-byte frame of which only the head arrives: the runner used to
 * allocate the 32 GiB ("out of memory" where it could not; elsewhere a
 * wait for bytes that never come). */
Test(runner, runner_refuses_a_request_length_its_shape_does_not_imply)
{
    char dir[] = "/tmp/rc_runner_frameXXXXXX";
    cr_assert(mkdtemp(dir));
    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_APPLY);
    rcrp_write_str(&o, "scalar");
    rcrp_write_u32(&o, 8); /* head_dim */
    rcrp_write_u32(&o, 8); /* rotary_dim */
    rcrp_write_u64(&o, rcrp_bits_of(10000.0));
    for (int i = 0; i < 4; i++) /* layout, dtype, direction, inplace */
        rcrp_write_u32(&o, 0);
    const int64_t shape[6] = {(int64_t)1 << 30, 1, 8, 8, 8, 8};
    for (int i = 0; i < 6; i++)
        rcrp_write_u64(&o, (uint64_t)shape[i]);
    rcrp_write_u32(&o, 0); /* version 3: scaling family none */
    rcrp_write_u32(&o, 0); /* version 3: no per-pair factors */
    rcrp_write_u32(&o, 0); /* version 4: one position per token */
    rcrp_write_u32(&o, 0); /* version 4: no frequency period */
    rcrp_frame_end(&o);
    rcrp_put_u64(o.p + 8, (uint64_t)1 << 35);
    write_frame_file(dir, "apply.bin", &o);
    free(o.p);
    char cmd[1024], err_path[600];
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "'%s' < '%s/apply.bin' > /dev/null 2> '%s'", ROPECHECK_RUNNER_BIN,
             dir, err_path);
    time_t t0 = time(NULL);
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "runner status %d", st);
    cr_expect_lt(time(NULL) - t0, 15);
    FILE *f = fopen(err_path, "r");
    cr_assert(f);
    char msg[1024] = "";
    msg[fread(msg, 1, sizeof msg - 1, f)] = '\0';
    fclose(f);
    cr_expect(strstr(msg, "malformed APPLY frame: payload length does not match the shape"),
              "%s", msg);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    cr_expect_eq(system(rm), 0);
}

#else /* RC_TEST_NEON: the NEON port under qemu-user */

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* Cross-builds the runner (tools/build-aarch64.sh: fast when up to date)
 * into this build tree and returns the --runner command, or skips. */
static const char *neon_runner(void)
{
    static char command[2048];
    if (!have("qemu-aarch64"))
        cr_skip_test("qemu-aarch64 not installed (apt-get install qemu-user)");
    if (!have("aarch64-linux-gnu-gcc"))
        cr_skip_test("aarch64-linux-gnu-gcc not installed (apt-get install "
                     "gcc-aarch64-linux-gnu libc6-dev-arm64-cross)");
    char build[2048];
    /* flock: the tests run in parallel and share the build. */
    snprintf(build, sizeof build,
             "flock '%s.lock' '%s/tools/build-aarch64.sh' '%s' >/dev/null 2>&1", RC_AARCH64_DIR,
             RC_SOURCE_DIR, RC_AARCH64_DIR);
    cr_assert_eq(system(build), 0, "cross build failed: %s", build);
    snprintf(command, sizeof command,
             "qemu-aarch64 -L /usr/aarch64-linux-gnu %s/runner/ropecheck-runner", RC_AARCH64_DIR);
    return command;
}

/* The cross build is shared by the tests below: one at a time. */
TestSuite(runner_neon, .timeout = 600);

#define NEON_ALL "--dtype", "all", "--layout", "interleaved,half", "--direction", \
                 "forward,inverse", "--quiet"

/* verify --impl `impl` over NEON_ALL and the `extra` arguments (NULL or
 * NULL-terminated): every case passes (without spec options that is the
 * default coverage matrix, 9 cells x 16 dtype/layout/direction cases). */
static void expect_all_pass(const char *impl, const char *const *extra)
{
    const char *cmd = neon_runner();
    const char *argv[32] = {"verify", "--runner", cmd, "--impl", impl, NEON_ALL};
    size_t n = 0;
    while (argv[n])
        n++;
    for (size_t i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "%s", impl);
    int cases = 0, pass = -1;
    const char *summary = strstr(r.out, " cases: ");
    while (summary && summary > r.out && summary[-1] >= '0' && summary[-1] <= '9')
        summary--;
    cr_expect(summary && sscanf(summary, "%d cases: %d pass", &cases, &pass) == 2 &&
                  cases == pass && cases >= 16,
              "%s: every case passes: %s", impl, r.out);
    cli_result_free(&r);
}

static const char *const partial_inplace_strided[] = {
    "--head-dim", "64", "--rotary-dim", "46", "--inplace", "--stride-pad", "5", NULL};

Test(runner_neon, every_dtype_layout_and_direction_passes)
{
    expect_all_pass("neon", NULL);
}

Test(runner_neon, partial_rotary_inplace_strided_passes)
{
    expect_all_pass("neon", partial_inplace_strided);
}

/* neon-table: the same kernels fed from a table of every position of the
 * call (impls/common/port_state.h, RC_ANGLES_TABLE). */
Test(runner_neon, table_every_dtype_layout_and_direction_passes)
{
    expect_all_pass("neon-table", NULL);
}

Test(runner_neon, table_partial_rotary_inplace_strided_passes)
{
    expect_all_pass("neon-table", partial_inplace_strided);
}

Test(runner_neon, same_figures_as_aarch64_scalar)
{
    /* rotary 14 = 7 pairs: vector chunks plus a scalar tail in every
     * dtype; NaN/Inf pairs too. Bit-identical outputs give identical
     * tables; any differing bit would move a figure or the worst place
     * (not a proof of identity, a strong check of it). Both angle
     * strategies: the rows are the same, so the bits must be too. */
    const char *cmd = neon_runner();
    const char *sa[] = {"verify", "--runner", cmd, "--impl", "scalar", NEON_ALL, "--head-dim",
                        "18", "--rotary-dim", "14", "--specials", NULL};
    cli_result s = run(sa);
    cr_expect_eq(s.status, 0);
    char *ss = strip_columns(s.out, 12);
    const char *impls[] = {"neon", "neon-table"};
    for (int i = 0; i < 2; i++) {
        const char *na[] = {"verify", "--runner", cmd, "--impl", impls[i], NEON_ALL,
                            "--head-dim", "18", "--rotary-dim", "14", "--specials", NULL};
        cli_result n = run(na);
        cr_expect_eq(n.status, 0, "%s", impls[i]);
        char *ns = strip_columns(n.out, 12);
        cr_expect_str_eq(ns, ss, "%s", impls[i]);
        free(ns);
        cli_result_free(&n);
    }
    free(ss);
    cli_result_free(&s);
}

/* M-RoPE (protocol 4) on NEON under qemu: both maps, every dtype, layout
 * and direction. */
Test(runner_neon, multi_axis_passes)
{
    static const char *const contiguous[] = {"--axes", "mrope:16,24,24", NULL};
    static const char *const interleaved[] = {"--axes", "mrope-interleaved:24,20,20", NULL};
    expect_all_pass("neon", contiguous);
    expect_all_pass("neon-table", interleaved);
}

Test(runner_neon, scaled_models_pass_both_directions)
{
    /* The scaled table and the attention factor travel in protocol 2:
     * llama3 (table only) and YaRN (table and alpha) at the scaled context. */
    const char *cmd = neon_runner();
    const char *models[] = {"llama-3.1-8b", "qwen2-7b-instruct-yarn"};
    for (int i = 0; i < 2; i++) {
        const char *argv[] = {"verify", "--runner", cmd, "--impl", "neon", "--model", models[i],
                              "--direction", "forward,inverse", "--positions", "random:131071",
                              "--tokens", "64", "--quiet", NULL};
        cli_result r = run(argv);
        cr_expect_eq(r.status, 0, "%s", models[i]);
        cr_expect(strstr(r.out, "8 cases: 8 pass"), "%s: %s", models[i], r.out);
        cli_result_free(&r);
    }
}

Test(runner_neon, prove_passes)
{
    const char *cmd = neon_runner();
    const char *argv[] = {"prove", "--runner", cmd, "--impl", "neon", "--head-dim", "32", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0);
    cli_result_free(&r);
}

/* The NEON f16/bf16 kernels that rotate at f32 width and certify each
 * result, on inputs next to the types' rounding boundaries
 * (tests/near_boundary.h): every element must be the host scalar's bits
 * (scalar's arithmetic is IEEE operations and fma, the same bits on every
 * architecture; runner_neon's other tests compare the figures with the
 * target's own scalar). Both angle strategies. */
static void neon_near_boundaries(rc_dtype dtype)
{
    const char *cmd = neon_runner();
    char err[512];
    cr_assert_eq(rc_runner_open(cmd, 120.0, err, sizeof err), 0, "%s: %s", cmd, err);
    const rc_impl *ports[2] = {rc_runner_find("neon"), rc_runner_find("neon-table")};
    cr_assert(ports[0] && ports[1], "the runner offers no neon / neon-table");
    char who[64];
    snprintf(who, sizeof who, "test_runner_neon near boundaries %s", rc_dtype_name(dtype));
    near_boundary_suite(ports, 2, dtype, rc_test_seed(who, 20261204u));
    rc_runner_close();
}

Test(runner_neon, f16_certified_near_boundaries) { neon_near_boundaries(RC_DTYPE_F16); }
Test(runner_neon, bf16_certified_near_boundaries) { neon_near_boundaries(RC_DTYPE_BF16); }

/* The NEON angle-row filler gives the scalar row's bits
 * (tests/sincos_row_check.h), run on the target under qemu. */
Test(runner_neon, angle_rows_are_the_scalar_rows_bits)
{
    (void)neon_runner(); /* skips without qemu or the cross compiler; builds */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "qemu-aarch64 -L /usr/aarch64-linux-gnu %s/runner/ropecheck-row-check 2>&1",
             RC_AARCH64_DIR);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL, "cannot run %s", cmd);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    const int status = pclose(p);
    cr_log_info("%s", out);
    cr_assert_eq(status, 0, "%s failed:\n%s", cmd, out);
    cr_assert(strstr(out, "rows equal to the scalar row") != NULL, "%s", out);
}

#endif
