/*
 * tests/test_hostile.c - plug-ins that attack the host (tests/mutants/
 * mutant_hostile.c) are contained by the guarded child (issue 14, item 2):
 * the host survives, finishes, keeps its table its own, and still judges
 * the other implementation of the run (scalar). Positions stay below 2^12,
 * where the mutants' double-angle baseline is within every gate.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli_runner.h"
#include "mutant_paths.h"

#define RUN_WITH(path)                                                                      \
    {"verify", "--impl", "scalar", "--plugin", path, "--quick", "--dtype", "f32", "--layout", \
     "half", "--positions", "0:63,4095", "--quiet", NULL}

static cli_result run(const char *const *argv)
{
    cli_result r = cli_run(argv);
    cr_log_info("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

/* A row "scalar <spaces> f32 half forward pass ..." (the name column is as
 * wide as the longest name of the run). */
static void expect_scalar_judged(const cli_result *r)
{
    int found = 0;
    for (const char *p = r->out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char name[64], dtype[8], layout[16], dir[16], verdict[16];
        if (sscanf(p, "%63s %7s %15s %15s %15s", name, dtype, layout, dir, verdict) == 5 &&
            strcmp(name, "scalar") == 0 && strcmp(verdict, "pass") == 0)
            found = 1;
    }
    cr_expect(found, "scalar is still judged:\n%s", r->out);
}

/* A grandchild that hangs holding stdout must not keep a caller that reads
 * ropecheck's output through a pipe waiting: the call's process group is
 * killed with it. */
Test(hostile, forked_grandchild_does_not_hold_the_pipe)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "timeout 120 sh -c '\"%s\" verify --impl scalar --plugin \"%s\" --quick --dtype "
             "f32 --layout half --positions 0:63 --quiet | cat >/dev/null'",
             ROPECHECK_BIN, MUTANT_FORK_HANG_PATH);
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pipe closed: status %d", st);
}

Test(hostile, kill_of_the_process_group_stays_in_the_child)
{
    const char *argv[] = RUN_WITH(MUTANT_KILL_GROUP_PATH);
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "the port is BROKEN, the host survives: exit %d", r.status);
    expect_scalar_judged(&r);
    cr_expect(strstr(r.out, "kill_group   f32   half        forward  BROKEN"), "%s", r.out);
    cli_result_free(&r);
}

Test(hostile, printed_output_is_captured_and_escaped)
{
    const char *argv[] = RUN_WITH(MUTANT_PRINTS_PATH);
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d", r.status);
    expect_scalar_judged(&r);
    /* Exactly one scalar row: the forged one never reaches stdout. */
    int rows = 0;
    for (const char *p = r.out; (p = strstr(p, "\nscalar ")); p++)
        rows++;
    cr_expect_eq(rows, 1, "forged rows in stdout:\n%s", r.out);
    cr_expect(strchr(r.out, '\033') == NULL, "an escape sequence reached stdout");
    cr_expect(strchr(r.err, '\033') == NULL, "an escape sequence reached stderr unescaped");
    cr_expect(strstr(r.err, "output of prints (f32 half forward): \\e[31mhostile stderr"),
              "%s", r.err);
    cli_result_free(&r);
}

Test(hostile, huge_allocation_stays_within_the_limit, .timeout = 300)
{
#ifdef RC_TEST_SANITIZED
    /* No address-space cap under ASan (its shadow is terabytes), and its
     * allocator grants 64 GiB: touching it would exhaust this machine. */
    cr_skip_test("sanitizer build: the address-space limit is not applied");
#endif
    const char *argv[] = RUN_WITH(MUTANT_HUGE_ALLOC_PATH);
    cli_result r = run(argv);
    /* Under the address-space cap malloc fails and the port goes on. */
    cr_expect_eq(r.status, 0, "exit %d", r.status);
    expect_scalar_judged(&r);
    cli_result_free(&r);
}

/* Attacks while loading (tests/mutants/mutant_loader.c): the plug-in is
 * loaded in a guarded child first, so each is that plug-in's BROKEN (exit
 * 3) and scalar, named in the same run, is still judged. */
static void expect_broken_load(const char *path, const char *why)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--plugin", path, "--quick", "--dtype",
                          "f32", "--layout", "half", "--positions", "0:7", "--timeout", "5",
                          "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "%s: exit %d", path, r.status);
    expect_scalar_judged(&r);
    cr_expect(strstr(r.out, "BROKEN while loading: ") && strstr(r.out, why), "%s: %s", path,
              r.out);
    cli_result_free(&r);
}

Test(hostile_load, constructor_exit) { expect_broken_load(MUTANT_CTOR_EXIT_PATH, "exited with code 0"); }
/* A crash, as this build reports it: under AddressSanitizer, an
 * instrumented plug-in's load may re-arm ASan's own SIGSEGV handler, which
 * prints its report and exits with code 1 instead (harness/guarded_call.c
 * names that case): then only the BROKEN load itself is required. */
#ifdef RC_TEST_SANITIZED
#define CRASHED "BROKEN while loading: "
#else
#define CRASHED "SIGSEGV"
#endif

Test(hostile_load, constructor_crash) { expect_broken_load(MUTANT_CTOR_CRASH_PATH, CRASHED); }
Test(hostile_load, constructor_hang) { expect_broken_load(MUTANT_CTOR_HANG_PATH, "no answer in 5 s"); }
Test(hostile_load, entry_crash) { expect_broken_load(MUTANT_ENTRY_CRASH_PATH, CRASHED); }
Test(hostile_load, entry_garbage) { expect_broken_load(MUTANT_ENTRY_GARBAGE_PATH, CRASHED); }
Test(hostile_load, bad_description)
{
    expect_broken_load(MUTANT_BAD_DESCRIPTION_PATH, CRASHED);
}

/* A destructor that crashes after a complete, passing run: the host's
 * status stays the run's (its process ends without running it). */
Test(hostile_load, destructor_crash_does_not_change_the_status)
{
    const char *argv[] = {"verify", "--plugin", MUTANT_DTOR_CRASH_PATH, "--quick", "--dtype",
                          "f32", "--layout", "half", "--positions", "0:7", "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 0, "exit %d", r.status);
    cli_result_free(&r);
}

/* Two implementations of one name would be merged in JUnit and reports:
 * refused, with the reason. The copy lives in its own temporary dir. */
Test(hostile_load, duplicate_names_are_refused)
{
    char dir[] = "/tmp/rc_dup_XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char copy[128], cmd[512];
    snprintf(copy, sizeof copy, "%s/again.so", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", MUTANT_PRINTS_PATH, copy);
    cr_assert_eq(system(cmd), 0);
    const char *argv[] = {"verify", "--plugin", MUTANT_PRINTS_PATH, "--plugin", copy, "--quick",
                          "--quiet", NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 2, "exit %d", r.status);
    cr_expect(strstr(r.err, "like another implementation of this run"), "%s", r.err);
    cli_result_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir); /* our mkdtemp directory */
    cr_expect_eq(system(cmd), 0);
}

/* A port whose work lands after apply() returned (a thread, an
 * unsynchronised kernel): the output is judged as it was at the return,
 * and the late write makes the port BROKEN with where it wrote. */
Test(hostile, write_after_apply_returned_is_broken)
{
    const char *argv[] = RUN_WITH(MUTANT_LATE_WRITE_PATH);
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "exit %d", r.status);
    expect_scalar_judged(&r);
    cr_expect(strstr(r.out, "late_write   f32   half        forward  BROKEN   late_write: wrote "
                            "token 0 head 0 channel 0") &&
                  strstr(r.out, "after apply() returned"),
              "%s", r.out);
    cli_result_free(&r);
}

/* An available() reason with escape sequences and a newline that forges a
 * row: shown escaped, on its own row, in verify and in list. */
Test(hostile, available_reason_is_escaped)
{
    const char *argv[] = RUN_WITH(MUTANT_ESCAPES_PATH);
    cli_result r = run(argv);
    cr_expect(strchr(r.out, '\033') == NULL && strchr(r.err, '\033') == NULL,
              "an escape sequence reached the terminal");
    int rows = 0;
    for (const char *p = r.out; (p = strstr(p, "\nscalar ")); p++)
        rows++;
    cr_expect_eq(rows, 1, "forged rows in stdout:\n%s", r.out);
    cr_expect(strstr(r.out, "unavailable: \\e[2J\\e[Hgone\\nscalar") != NULL, "%s", r.out);
    cli_result_free(&r);

    const char *list[] = {"list", "--plugin", MUTANT_ESCAPES_PATH, NULL};
    r = run(list);
    cr_expect_eq(r.status, 0);
    cr_expect(strchr(r.out, '\033') == NULL, "%s", r.out);
    cr_expect(strstr(r.out, "escapes: unavailable (\\e[2J") != NULL, "%s", r.out);
    cli_result_free(&r);
}

/* A descriptor field that cannot be shown or honoured is a load error:
 * exit 2, one line naming the field, nothing run. */
static void expect_refused_descriptor(const char *path, const char *why)
{
    const char *argv[] = {"verify", "--impl", "scalar", "--plugin", path, "--quick", "--quiet",
                          NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 2, "%s: exit %d", path, r.status);
    cr_expect_eq(cli_count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, why) != NULL, "%s", r.err);
    cr_expect(strchr(r.err, '\033') == NULL, "%s", r.err);
    cli_result_free(&r);
}

Test(hostile_load, description_with_escapes_is_refused)
{
    expect_refused_descriptor(MUTANT_ESCAPE_DESCRIPTION_PATH, "description has control characters");
}

Test(hostile_load, caps_with_undefined_bits_are_refused)
{
    expect_refused_descriptor(MUTANT_UNKNOWN_CAPS_PATH, "caps has bits no ABI version defines");
}

/* Values echoed back in an error are escaped: a newline or an escape
 * sequence in an argument cannot add a line or drive the terminal. */
Test(hostile, echoed_arguments_are_escaped)
{
    const char *cases[][6] = {
        {"verify", "--impl", "sca\nlar\033[2J", NULL},
        {"verify", "--dtype", "f32\nscalar pass", NULL},
        {"prove", "--seed", "1\033]0;title\007", NULL},
        {"bench", "--shape", "x\ny", NULL},
        {"ver\nify", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_result r = run(cases[i]);
        cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
        cr_expect(strchr(r.err, '\033') == NULL && strchr(r.err, '\007') == NULL,
                  "case %zu: a control character reached stderr: %s", i, r.err);
        const char *first = strchr(r.err, '\n');
        cr_expect(first && (first[1] == '\0' || first[1] == '\n'),
                  "case %zu: the echoed value split the line: %s", i, r.err);
        cli_result_free(&r);
    }
}

/* `list` shows a plug-in that breaks while loading as BROKEN, lists the
 * rest, and exits 3: listing is not a pass. */
Test(hostile_load, list_reports_a_broken_load_with_exit_3)
{
    const char *argv[] = {"list", "--plugin", MUTANT_BAD_DESCRIPTION_PATH, NULL};
    cli_result r = run(argv);
    cr_expect_eq(r.status, 3, "exit %d", r.status);
    cr_expect(strstr(r.out, "BROKEN while loading") && strstr(r.out, "scalar: available"), "%s",
              r.out);
    cli_result_free(&r);
}
