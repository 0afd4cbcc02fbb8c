/*
 * harness/runner_client.h - the host side of --runner: implementations
 * that live in another program (ropecheck-runner, runner/PROTOCOL.md),
 * perhaps on another machine or under an emulator, presented as ordinary
 * rc_impl structs so verify and prove run them through the same guarded
 * code paths as built-ins and plug-ins.
 *
 * LIFETIME. rc_runner_open() starts the command once, in the calling
 * process, reads its hello (name, caps and availability of each
 * implementation, the protocol version: 2 and 3 are spoken) and keeps it
 * running for the whole run: every guarded call (a forked child) sends
 * its request over the pipes it inherited, so a Python runner imports
 * numpy or torch once per run, not once per case. When a call ends with
 * the runner failed or half way through an exchange (it crashed, hung,
 * sent a malformed frame, or the child was killed), the host stops it
 * after that call and starts a fresh one before the next (checking that
 * it offers the same implementations): a crash or hang still takes only
 * its own case, and nothing half-written carries over. The hooks that do
 * this are harness/guarded_call.h's rc_guarded_set_hooks.
 *
 * FAILURES. A runner that dies, sends a malformed frame or refuses a
 * request makes the proxy return RC_ERR_DEVICE (verdict BROKEN, exit 3);
 * the one-line reason ("runner died: killed by SIGSEGV", "runner sent a
 * malformed reply (bad magic 0x...)") goes to a page shared with the
 * parent, read with rc_runner_take_note(). A runner that hangs is killed
 * by the guarded call's time limit (TIMEOUT, BROKEN); the runner process
 * itself dies with its parent (PR_SET_PDEATHSIG on Linux) and its process
 * group is killed on every error path.
 *
 * One runner per process (the command line has one --runner): the state
 * is process-wide.
 */
#ifndef ROPECHECK_RUNNER_CLIENT_H
#define ROPECHECK_RUNNER_CLIENT_H

#include <stddef.h>

#include "ropecheck/plugin.h"

/* Most implementations one runner may offer. */
#define RC_RUNNER_MAX_IMPLS 8

/* Starts `command` with /bin/sh -c, reads its hello within timeout_s
 * seconds and stops it. 0 on success; -1 with one line in err when the
 * runner cannot be started, dies, hangs or speaks something else. */
int rc_runner_open(const char *command, double timeout_s, char *err, size_t err_len);

/* The remote implementations (valid after a successful rc_runner_open). */
size_t rc_runner_count(void);
const rc_impl *rc_runner_get(size_t i);
const rc_impl *rc_runner_find(const char *name);
/* The runner's architecture as it announced it, e.g. "aarch64". */
const char *rc_runner_arch(void);

/* The protocol version the runner speaks (2 or 3). */
unsigned rc_runner_version(void);

/* How many runner processes this run started (1 unless one failed). */
unsigned long rc_runner_starts(void);

/* Copies the reason the last failed remote call recorded (in whatever
 * child made it) into buf and clears it. Returns 1 if there was one. */
int rc_runner_take_note(char *buf, size_t len);

/* Version 3: the frequency table the implementation reported with its
 * last reply (its own theta_i, e.g. a framework's inv_freq) into
 * out[0..n), n returned (0: none, or more than max). Every call starts
 * without one, so a table never outlives its reply. rc_verify_case's
 * own_table hook. */
size_t rc_runner_peek_table(double *out, size_t max);

/* Forgets the runner (frees the shared page). */
void rc_runner_close(void);

#endif /* ROPECHECK_RUNNER_CLIENT_H */
