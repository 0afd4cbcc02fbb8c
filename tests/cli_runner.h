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
void cli_result_free(cli_result *r);
/* Number of '\n'-terminated lines in s. */
int cli_count_lines(const char *s);

#endif
