/*
 * cli/python_runner.h - `--python SPEC`: the runner command that serves
 * Python callables through python/ropecheck_runner (runner/PROTOCOL.md),
 * so `ropecheck verify --python mypkg.rope:apply` is `--runner` with the
 * right interpreter, package path and quoting.
 */
#ifndef ROPECHECK_CLI_PYTHON_RUNNER_H
#define ROPECHECK_CLI_PYTHON_RUNNER_H

#include <stddef.h>

/* The help text every command that takes --python prints for it. */
#define RC_PYTHON_OPTION_HELP                                                              \
    "  --python SPEC         Python callables served by python/ropecheck_runner in one\n"  \
    "                        process: SPEC is MODULE:FUNCTION [...] and the runner's\n"    \
    "                        options (e.g. 'mypkg.rope:apply --tensors torch'); the\n"     \
    "                        interpreter is $ROPECHECK_PYTHON or python3\n"

/* Builds into out the /bin/sh command that runs
 * `${ROPECHECK_PYTHON:-python3} -m ropecheck_runner WORD...` with the
 * repository's python/ directory first on PYTHONPATH, SPEC split at blanks
 * into words, each single-quoted. 0, or -1 with one line in err: an empty
 * SPEC, a control character, or a command longer than out. */
int rc_python_runner_command(const char *spec, char *out, size_t out_len, char *err,
                             size_t err_len);

/* One of --runner COMMAND / --python SPEC (which = "runner" or "python")
 * into *runner: the command itself, or the one --python builds (kept in
 * storage of this file: one per process). 0, or -1 with one line in err
 * (both options given, or a bad spec). */
int rc_runner_option(const char *which, const char *arg, const char **runner, char *err,
                     size_t err_len);

#endif /* ROPECHECK_CLI_PYTHON_RUNNER_H */
