/*
 * cli/cmd_report.c - `ropecheck report RESULTS.json... -o DIR`: hands the
 * work to reports/ropecheck_report.py (Python 3 + matplotlib).
 *
 * Why a separate interpreter: the figures need matplotlib, which C cannot
 * offer. Which python3: Debian installs python3-matplotlib for
 * /usr/bin/python3, while the python3 first on PATH may be another one
 * (pyenv, a venv) without it; so each candidate is asked to import
 * matplotlib and the first that can runs the script. The script's exit
 * status is ours (0 written, 2 bad input).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_error.h"
#include "cli/data_dir.h"
#include "cli/commands.h"

#ifndef ROPECHECK_REPORTS_DIR
#error "ROPECHECK_REPORTS_DIR (the source tree's reports/ folder) must be defined"
#endif

static const char usage_text[] =
    "usage: ropecheck report RESULTS.json... -o DIR [--baseline NAME]\n"
    "\n"
    "Writes DIR/report.html (one self-contained file, figures inline) and\n"
    "DIR/report.md (figures as PNG files beside it) from the JSON that\n"
    "`verify --json`, `prove --json` and `bench --json` write. A summary table\n"
    "comes first: per implementation the worst verdict and pair ULP, the case\n"
    "counts, the worst proof, and the fraction of the streaming probe cold and hot.\n"
    "\n"
    "  --baseline NAME   ratio columns (GB/s over NAME's, same case, cold and hot);\n"
    "                    default: the baseline bench --baseline recorded, if any\n"
    "\n"
    "Needs Python 3 with matplotlib (tools/setup-debian.sh installs it). Tried in\n"
    "order: $ROPECHECK_PYTHON, /usr/bin/python3, python3 on PATH.\n"
    "ropecheck_report.py is looked for in $ROPECHECK_REPORTS_DIR, then in an\n"
    "installed tree (BINDIR/../share/ropecheck/reports), then in the source tree\n"
    "this ropecheck was built from (" ROPECHECK_REPORTS_DIR ").\n"
    "\n"
    "Exit status: 0 written, 2 bad usage or input (a file of another major schema\n"
    "version, invalid JSON, a missing file).\n";

/* Runs `python -c "import matplotlib"` with its output silenced: 1 if it works. */
static int has_matplotlib(const char *python)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp(python, python, "-c", "import matplotlib", (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int rc_cmd_report(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return RC_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return RC_EXIT_PASS;
        }

    char dir[4096], script[4200];
    if (!rc_data_dir("ROPECHECK_REPORTS_DIR", "reports", ROPECHECK_REPORTS_DIR, dir, sizeof dir) ||
        (size_t)snprintf(script, sizeof script, "%s/ropecheck_report.py", dir) >= sizeof script ||
        access(script, R_OK) != 0) {
        rc_cli_error("report", "cannot read '%s/ropecheck_report.py' (set ROPECHECK_REPORTS_DIR "
                "to the reports/ folder of the source tree, or of PREFIX/share/ropecheck)", dir);
        return RC_EXIT_USAGE;
    }

    const char *candidates[] = {getenv("ROPECHECK_PYTHON"), "/usr/bin/python3", "python3"};
    const char *python = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !python; i++)
        if (candidates[i] && *candidates[i] && has_matplotlib(candidates[i]))
            python = candidates[i];
    if (!python) {
        rc_cli_error("report", "no python3 with matplotlib found (tried "
                "$ROPECHECK_PYTHON, /usr/bin/python3, python3; install python3-matplotlib, "
                "e.g. with tools/setup-debian.sh)");
        return RC_EXIT_USAGE;
    }

    /* argv[0] is "report"; the script gets the rest unchanged. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        rc_cli_error("report", "out of memory");
        return RC_EXIT_USAGE;
    }
    args[0] = (char *)python;
    args[1] = script;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    fflush(stdout);
    fflush(stderr);
    execvp(python, args);
    rc_cli_error("report", "cannot run %s", python);
    free(args);
    return RC_EXIT_USAGE;
}
