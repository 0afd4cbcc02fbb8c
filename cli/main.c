/*
 * cli/main.c - the `ropecheck` command: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "core/registry.h"
#include "core/text_escape.h"
#include "ropecheck/plugin.h"

static const char usage_text[] =
    "usage: ropecheck COMMAND [options]\n"
    "\n"
    "ropecheck judges implementations of Rotary Position Embedding (RoPE) against\n"
    "an exact MPFR reference and reports their error in ULP.\n"
    "\n"
    "commands:\n"
    "  verify    run implementations and judge every output (verify --help)\n"
    "  prove     check them against the RoFormer paper's theory (prove --help)\n"
    "  bench     time implementations against the machine's own limits (bench --help)\n"
    "  report    write report.html and report.md from result JSON (report --help)\n"
    "  sweep     judge every position of a range for one case, resumable (sweep --help)\n"
    "  merge     join the --json files of verify --shard K/N runs (merge --help)\n"
    "  list      show the implementations and whether they can run here\n"
    "  version   print the version and plug-in ABI version\n"
    "  help CMD  the same as CMD --help\n"
    "\n"
    "A vendor's port: build a shared library against include/ropecheck/plugin.h,\n"
    "then `ropecheck verify --plugin ./libport.so`.\n";

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    /* A plug-in's destructors would run at exit() in this process, after
     * the results are written: one that crashes would turn a complete,
     * passing run into a signal. With plug-ins loaded the process ends
     * here, its output flushed, without running them. */
    if (rc_plugins_were_loaded()) {
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    return rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return RC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "verify") == 0)
        return rc_cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return rc_cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "prove") == 0)
        return rc_cmd_prove(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return rc_cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return rc_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return rc_cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return rc_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2) {
            rc_cli_error(cmd, "unexpected argument '%s'", argv[2]);
            return RC_EXIT_USAGE;
        }
        printf("ropecheck %s (plug-in ABI %u)\n", ROPECHECK_VERSION, RC_ABI_VERSION);
        return RC_EXIT_PASS;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        /* `help verify` is `verify --help`; anything more is a typo. */
        if (argc == 3 && strcmp(cmd, "help") == 0) {
            static const char *const cmds[] = {"verify", "prove", "bench", "report", "merge",
                                               "sweep", "list"};
            for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
                if (strcmp(argv[2], cmds[i]) == 0) {
                    char help_flag[] = "--help";
                    char *sub[] = {argv[0], argv[2], help_flag, NULL};
                    return dispatch(3, sub);
                }
            rc_cli_error("help", "unknown command '%s' (one of: verify, prove, "
                            "bench, report, merge, sweep, list)",
                    argv[2]);
            return RC_EXIT_USAGE;
        }
        if (argc > 2) {
            rc_cli_error(cmd, "unexpected argument '%s'", argv[2]);
            return RC_EXIT_USAGE;
        }
        fputs(usage_text, stdout);
        return RC_EXIT_PASS;
    }
    char shown[256];
    rc_escape_text(cmd, shown, sizeof shown);
    fprintf(stderr, "ropecheck: unknown command '%s'\n\n%s", shown, usage_text);
    return RC_EXIT_USAGE;
}
