/*
 * cli/python_runner.c - the runner command behind --python
 * (python_runner.h).
 */
#include "cli/python_runner.h"

#include <stdio.h>
#include <string.h>

#include "cli/data_dir.h"
#include "cli/shell_quote.h"

#ifndef ROPECHECK_PYTHON_DIR
#define ROPECHECK_PYTHON_DIR "python"
#endif

/* Appends text; 0, or -1 when out is full. */
static int append(char *out, size_t out_len, size_t *at, const char *text)
{
    const size_t n = strlen(text);
    if (n >= out_len - *at)
        return -1;
    memcpy(out + *at, text, n + 1);
    *at += n;
    return 0;
}

int rc_runner_option(const char *which, const char *arg, const char **runner, char *err,
                     size_t err_len)
{
    static char command[4096];
    if (*runner) {
        snprintf(err, err_len, "give one of --runner and --python, once");
        return -1;
    }
    if (strcmp(which, "python") != 0) {
        *runner = arg;
        return 0;
    }
    if (rc_python_runner_command(arg, command, sizeof command, err, err_len) != 0)
        return -1;
    *runner = command;
    return 0;
}

int rc_python_runner_command(const char *spec, char *out, size_t out_len, char *err,
                             size_t err_len)
{
    if (!spec || !spec[strspn(spec, " \t")]) {
        snprintf(err, err_len, "--python needs MODULE:FUNCTION (e.g. mypkg.rope:apply)");
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)spec; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, err_len, "--python: a control character (0x%02x) in the spec", *p);
            return -1;
        }
    /* The package directory first on PYTHONPATH (the user's own path
     * after it), the interpreter from $ROPECHECK_PYTHON, exec so the
     * runner is the shell's process. Every word single-quoted: /bin/sh
     * reads them back verbatim. */
    char word[1200], pkg_dir[1024];
    size_t at = 0;
    out[0] = '\0';
    if (!rc_data_dir(NULL, "python", ROPECHECK_PYTHON_DIR, pkg_dir, sizeof pkg_dir) ||
        rc_shell_quote(pkg_dir, word, sizeof word) >= sizeof word ||
        append(out, out_len, &at, "PYTHONPATH=") || append(out, out_len, &at, word) ||
        append(out, out_len, &at,
               "${PYTHONPATH:+:$PYTHONPATH} exec \"${ROPECHECK_PYTHON:-python3}\" -m "
               "ropecheck_runner"))
        goto too_long;
    char copy[1024];
    if (strlen(spec) >= sizeof copy)
        goto too_long;
    strcpy(copy, spec);
    for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save))
        if (rc_shell_quote(w, word, sizeof word) >= sizeof word ||
            append(out, out_len, &at, " ") || append(out, out_len, &at, word))
            goto too_long;
    return 0;
too_long:
    snprintf(err, err_len, "--python: the spec is too long");
    return -1;
}
