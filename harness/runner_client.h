/*
 * harness/runner_client.h - the host side of --runner: implementations
 * that live in another program (ropecheck-runner, runner/PROTOCOL.md),
 * perhaps on another machine or under an emulator, presented as ordinary
 * rc_impl structs so verify and prove run them through the same guarded
 * code paths as built-ins and plug-ins.
 *
 * LIFETIME. rc_runner_open() starts the command once, in the calling
 * process, to read its hello (name, caps and availability of each
 * implementation) and stops it again. After that every guarded call
 * starts its own runner process: the proxy's prepare() starts it inside
 * the forked child, apply() sends one request and reads the reply,
 * release() closes its stdin and reaps it. So a runner that crashes or
 * hangs takes only the call it serves with it, and no state leaks from
 * one case to the next. The cost is one process start per case (a few ms
 * natively, ~20-50 ms under qemu-user, a connection under ssh), small
 * next to the MPFR reference of a case.
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

/* Copies the reason the last failed remote call recorded (in whatever
 * child made it) into buf and clears it. Returns 1 if there was one. */
int rc_runner_take_note(char *buf, size_t len);

/* Forgets the runner (frees the shared page). */
void rc_runner_close(void);

#endif /* ROPECHECK_RUNNER_CLIENT_H */
