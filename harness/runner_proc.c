/*
 * harness/runner_proc.c - one runner process (runner_proc.h): start it
 * behind a supervisor, read and write frames with a deadline, stop it and
 * say how it ended.
 */
#define _DEFAULT_SOURCE

#include "harness/runner_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "runner/protocol.h"

double rc_runner_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *signal_name(int sig, char buf[16])
{
    static const struct { int sig; const char *name; } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGILL, "SIGILL"}, {SIGFPE, "SIGFPE"},
        {SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGPIPE, "SIGPIPE"},
        {SIGINT, "SIGINT"}, {SIGHUP, "SIGHUP"}, {SIGTRAP, "SIGTRAP"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, 16, "signal %d", sig);
    return buf;
}

/* "killed by SIGSEGV", "exited with status 2"; a shell reports a child's
 * death by signal N as status 128 + N, so say that too. */
void rc_runner_describe_status(int st, char *out, size_t len)
{
    char b[16];
    if (WIFSIGNALED(st)) {
        snprintf(out, len, "killed by %s", signal_name(WTERMSIG(st), b));
    } else if (WIFEXITED(st)) {
        int code = WEXITSTATUS(st);
        if (code > 128 && code < 128 + 65)
            snprintf(out, len, "exited with status %d (a shell's way of saying killed by %s)",
                     code, signal_name(code - 128, b));
        else if (code == 127)
            snprintf(out, len, "exited with status 127 (command not found?)");
        else
            snprintf(out, len, "exited with status %d (see its message on stderr)", code);
    } else {
        snprintf(out, len, "ended with wait status %d", st);
    }
}

/* ---- the runner process ------------------------------------------------- */

/* SIGTERM (our parent died) or SIGKILL for the whole group. */
static void kill_group(int sig)
{
    (void)sig;
    kill(0, SIGKILL);
}

/* The process between us and the shell. WHY: a guarded call that hangs
 * is ended with SIGKILL, which runs no cleanup, and `sh -c` need not exec
 * its command (dash does not), so a death signal set on the shell alone
 * would orphan the runner. This supervisor leads the runner's process
 * group, gets SIGTERM when its parent dies (PR_SET_PDEATHSIG) and then
 * kills the group; otherwise it waits for the shell and ends the way the
 * shell ended, so the caller can say "killed by SIGSEGV". */
static _Noreturn void supervise(const char *command, pid_t parent)
{
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kill_group;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != parent)
        kill_group(0);
    signal(SIGPIPE, SIG_DFL);
    pid_t sh = fork();
    if (sh < 0)
        _exit(126);
    if (sh == 0) {
        signal(SIGTERM, SIG_DFL);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    /* Only the shell holds the pipes from now on, so its end is seen as
     * end of file by the caller. */
    close(STDIN_FILENO);
    close(STDOUT_FILENO);
    int st;
    while (waitpid(sh, &st, 0) < 0)
        if (errno != EINTR)
            _exit(126);
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 126);
}

int rc_runner_spawn(const char *command, rc_runner_proc *p, char *err, size_t err_len)
{
    int in[2], out[2];
    p->pid = -1;
    p->to = p->from = -1;
    p->reaped = 0;
    p->wstatus = 0;
    if (pipe(in) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe(out) != 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        close(in[0]);
        close(in[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_len, "fork: %s", strerror(errno));
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        supervise(command, parent);
    }
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    p->pid = pid;
    p->to = in[1];
    p->from = out[0];
    return 0;
}

/* Stops the runner: closes its stdin (a healthy runner then exits), waits
 * up to grace_s, then kills its process group. Writes how it ended. */
void rc_runner_stop(rc_runner_proc *p, double grace_s, char *how, size_t how_len)
{
    if (p->to >= 0)
        close(p->to);
    if (p->from >= 0)
        close(p->from);
    p->to = p->from = -1;
    if (p->pid <= 0)
        return;
    int st = p->wstatus;
    double end = rc_runner_now() + grace_s;
    pid_t r = p->reaped ? p->pid : 0;
    while (r == 0 && (r = waitpid(p->pid, &st, WNOHANG)) == 0 && rc_runner_now() < end) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
        while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR) {
        }
        if (how)
            snprintf(how, how_len, "did not exit; killed");
    } else if (how) {
        if (r < 0)
            snprintf(how, how_len, "could not be reaped: %s", strerror(errno));
        else
            rc_runner_describe_status(st, how, how_len);
    }
    /* Whatever it started may still run (a shell that forked): end it. */
    kill(-p->pid, SIGKILL);
    p->pid = -1;
    p->reaped = 0;
}

int rc_runner_running(rc_runner_proc *p)
{
    if (p->pid <= 0)
        return 0;
    if (p->reaped)
        return 0;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->reaped = 1; /* keep how it ended for rc_runner_stop */
        p->wstatus = st;
        return 0;
    }
    return 1;
}

/* Reads exactly n bytes. deadline <= 0: no limit. 0 on success, 1 on EOF
 * (*got tells how far it came), -1 on an error, -2 at the deadline. */
static int read_exact(int fd, unsigned char *buf, size_t n, double deadline, size_t *got)
{
    *got = 0;
    while (*got < n) {
        if (deadline > 0) {
            double left = deadline - rc_runner_now();
            if (left <= 0)
                return -2;
            struct pollfd pf = {fd, POLLIN, 0};
            int pr = poll(&pf, 1, (int)(left * 1000) + 1);
            if (pr < 0 && errno != EINTR)
                return -1;
            if (pr <= 0)
                continue;
        }
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 1;
        *got += (size_t)r;
    }
    return 0;
}

/* Writes everything; SIGPIPE is ignored meanwhile so a dead runner is an
 * EPIPE here, not the death of the caller. 0, or -1 with errno. */
int rc_runner_write_all(int fd, const unsigned char *p, size_t n)
{
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    int rc = 0;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    int e = errno;
    sigaction(SIGPIPE, &old, NULL);
    errno = e;
    return rc;
}

int rc_runner_read_frame(int fd, uint32_t type, uint64_t max_len, double deadline,
                         const char *what, unsigned char **payload, size_t *len,
                         rc_runner_read_fail *fail, char *err, size_t err_len)
{
    unsigned char hdr[RCRP_HEADER_BYTES];
    size_t got;
    *payload = NULL;
    *fail = RC_RUNNER_READ_BAD;
    int r = read_exact(fd, hdr, sizeof hdr, deadline, &got);
    if (r == -2) {
        *fail = RC_RUNNER_READ_TIMEOUT;
        snprintf(err, err_len, "runner sent no %s within the time limit", what);
        return -1;
    }
    if (r != 0) {
        *fail = RC_RUNNER_READ_ENDED;
        if (got == 0)
            snprintf(err, err_len, "runner died before its %s", what);
        else
            snprintf(err, err_len, "runner sent a malformed %s (truncated header), then ended",
                     what);
        return -1;
    }
    uint32_t magic = rcrp_get_u32(hdr), t = rcrp_get_u32(hdr + 4);
    uint64_t n = rcrp_get_u64(hdr + 8);
    if (magic != RCRP_MAGIC) {
        snprintf(err, err_len,
                 "runner sent a malformed %s (bad magic 0x%08x; is the command a "
                 "ropecheck-runner?)", what, (unsigned)magic);
        return -1;
    }
    if (t != type) {
        snprintf(err, err_len, "runner sent a malformed %s (frame type %u, length %llu)", what,
                 (unsigned)t, (unsigned long long)n);
        return -1;
    }
    if (n > max_len) {
        /* Refused before any allocation: the request bounds the answer. */
        snprintf(err, err_len,
                 "runner sent a malformed %s (length %llu; at most %llu bytes can answer this "
                 "request)", what, (unsigned long long)n, (unsigned long long)max_len);
        return -1;
    }
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) {
        snprintf(err, err_len, "out of memory for the runner's %s", what);
        return -1;
    }
    r = read_exact(fd, buf, (size_t)n, deadline, &got);
    if (r != 0) {
        free(buf);
        *fail = r == -2 ? RC_RUNNER_READ_TIMEOUT : RC_RUNNER_READ_ENDED;
        snprintf(err, err_len, "runner sent a malformed %s (truncated payload), then %s", what,
                 r == -2 ? "nothing more within the time limit" : "ended");
        return -1;
    }
    *payload = buf;
    *len = (size_t)n;
    return 0;
}
