/* cli/commands.h - the subcommands of `ropecheck` and their exit codes. */
#ifndef ROPECHECK_CLI_COMMANDS_H
#define ROPECHECK_CLI_COMMANDS_H

enum {
    RC_EXIT_PASS = 0,   /* every case that ran passed its gate */
    RC_EXIT_FAIL = 1,   /* a gate failed */
    RC_EXIT_USAGE = 2,  /* bad usage or input (one line on stderr) */
    RC_EXIT_BROKEN = 3, /* an implementation crashed, hung or wrote out of bounds */
    /* Nothing was judged: an implementation ran no case at all (everything
     * skipped or refused), or lacks a capability --require asked for. A
     * CI gate must never read that as a pass. */
    RC_EXIT_NOTHING_JUDGED = 4
};

/* --timeout's range, for every command that runs ports: below 0.1 s a fork
 * and a page-fault storm alone can time out, and verdicts would be random
 * rather than the port's; a day is longer than any legitimate call. */
#define RC_TIMEOUT_MIN_S 0.1
#define RC_TIMEOUT_MAX_S 86400.0

int rc_cmd_verify(int argc, char **argv);
int rc_cmd_list(int argc, char **argv);
int rc_cmd_prove(int argc, char **argv);
int rc_cmd_bench(int argc, char **argv);
int rc_cmd_report(int argc, char **argv);
int rc_cmd_merge(int argc, char **argv);
int rc_cmd_sweep(int argc, char **argv);

#endif
