/*
 * tests/cli_runner.h - run the built `ropecheck` command in a child and
 * capture its exit status, stdout and stderr (through temporary files, so
 * a large output cannot deadlock a pipe).
 */
#ifndef ROPECHECK_TESTS_CLI_RUNNER_H
#define ROPECHECK_TESTS_CLI_RUNNER_H

#include <stddef.h>

typedef struct cli_result {
    int status;    /* exit code, or 128 + signal */
    char *out;     /* malloc'd, NUL-terminated */
    char *err;
} cli_result;

/* argv is NULL-terminated and excludes the program name. */
cli_result cli_run(const char *const *argv);
/* The same with a file-size limit (RLIMIT_FSIZE, bytes; 0: none) on the
 * command: a results file larger than that cannot be written. */
cli_result cli_run_limited(const char *const *argv, long fsize_limit);
void cli_result_free(cli_result *r);
/* The seed of a randomized test: $ROPECHECK_SEED (a non-negative integer;
 * an empty or malformed value ends the test binary with status 2) or 1,
 * printed once on stderr (where a failing ctest run shows it). */
const char *cli_test_seed(const char *who);
/* Number of '\n'-terminated lines in s. */
int cli_count_lines(const char *s);

#endif
