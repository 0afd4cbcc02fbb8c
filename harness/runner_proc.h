/*
 * harness/runner_proc.h - one ropecheck-runner process, as the host sees
 * it: started with /bin/sh -c COMMAND behind a supervisor that leads its
 * process group and dies with the host (PR_SET_PDEATHSIG), frames read
 * with a deadline, stopped (stdin closed, then the group killed) with a
 * sentence saying how it ended. No protocol state: runner_client.c keeps
 * the session.
 */
#ifndef ROPECHECK_RUNNER_PROC_H
#define ROPECHECK_RUNNER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rc_runner_proc {
    pid_t pid;   /* the supervisor (leads the runner's process group); -1: none */
    int to;      /* its stdin */
    int from;    /* its stdout */
    int reaped;  /* rc_runner_running() saw it end: wstatus holds how */
    int wstatus;
} rc_runner_proc;

/* Monotonic seconds. */
double rc_runner_now(void);

/* Starts `command`. 0, or -1 with one line in err (pipe or fork failed;
 * a command that does not exist still starts: the shell says 127). */
int rc_runner_spawn(const char *command, rc_runner_proc *p, char *err, size_t err_len);

/* Closes its pipes (a healthy runner then exits), waits up to grace_s,
 * then kills its process group; how (if not NULL) gets "killed by
 * SIGSEGV", "exited with status 7", "did not exit; killed". p->pid is -1
 * afterwards. Only the process that started it may call this. */
void rc_runner_stop(rc_runner_proc *p, double grace_s, char *how, size_t how_len);

/* 1 while it runs; 0 once it ended (reaped, how kept for rc_runner_stop)
 * or when there is none. */
int rc_runner_running(rc_runner_proc *p);

/* "killed by SIGSEGV", "exited with status 2 (see its message on stderr)". */
void rc_runner_describe_status(int wstatus, char *out, size_t len);

/* Writes everything; SIGPIPE is ignored meanwhile so a dead runner is an
 * EPIPE here, not the death of the caller. 0, or -1 with errno. */
int rc_runner_write_all(int fd, const unsigned char *p, size_t n);

/* Why rc_runner_read_frame failed. */
typedef enum rc_runner_read_fail {
    RC_RUNNER_READ_BAD = 0, /* a malformed frame (magic, type, length) */
    RC_RUNNER_READ_ENDED,   /* end of file: the runner closed its output or died */
    RC_RUNNER_READ_TIMEOUT  /* nothing complete before the deadline */
} rc_runner_read_fail;

/* Reads one frame of the expected type from fd: 0 with a malloc'ed
 * payload, or -1 with *fail and one line in err (`what` names the frame:
 * "hello", "reply"). A frame longer than max_len is refused before any
 * allocation. deadline <= 0: no limit (the guarded call's bounds it). For
 * RC_RUNNER_READ_ENDED the caller that can reap the runner appends how it
 * ended. Never stops the runner itself. */
int rc_runner_read_frame(int fd, uint32_t type, uint64_t max_len, double deadline,
                         const char *what, unsigned char **payload, size_t *len,
                         rc_runner_read_fail *fail, char *err, size_t err_len);

#endif /* ROPECHECK_RUNNER_PROC_H */
