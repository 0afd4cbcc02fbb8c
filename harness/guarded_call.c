/*
 * harness/guarded_call.c - call an implementation in a forked child with a
 * wall-clock limit, then tell the caller what happened.
 *
 * The child runs prepare -> apply -> release on tensors in shared guarded
 * buffers and writes the status into a small shared report page. The
 * parent waits (polling waitpid with sleeps growing from 100 us to 10 ms,
 * so fast calls return fast and slow ones cost little CPU), kills at the
 * limit and always reaps. A child that returned is then audited: canaries,
 * stride gaps of the output, the input of an out-of-place call, positions.
 *
 * Sanitizer builds: the child replaces SIGSEGV/SIGBUS handlers with its
 * own recording one (then the default action), so a fault is reported as
 * CRASHED even under AddressSanitizer, which honours a later sigaction
 * while allow_user_segv_handler is set (its default). What a sanitizer
 * catches itself (UBSan's NULL store, ASan's heap overflow in an
 * instrumented port, or any fault with allow_user_segv_handler=0) ends in
 * a report and exit code 1: that is EXITED, with a hint to read stderr.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, sigaltstack, SIGSYS on glibc */

#include "harness/guarded_call.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/dtype_convert.h"
#include "core/registry.h"
#include "core/text_escape.h"
#include "harness/guarded_view.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

typedef enum step {
    STEP_NONE,
    STEP_LOAD,
    STEP_AVAILABLE,
    STEP_PREPARE,
    STEP_APPLY,
    STEP_EXPLAIN,
    STEP_RELEASE
} step;

static const char *step_name(int s)
{
    switch (s) {
    case STEP_LOAD: return "loading the plug-in (its constructors, its entry function)";
    case STEP_AVAILABLE: return "available()";
    case STEP_PREPARE: return "prepare()";
    case STEP_APPLY: return "apply()";
    case STEP_EXPLAIN: return "explain()";
    case STEP_RELEASE: return "release()";
    default: return "start-up";
    }
}

#define REPORT_MAGIC 0x52435250u /* "RCRP": set last, after the fields */
#define WHY_CAP 256

/* The page the child writes and the parent reads after reaping. */
typedef struct shared_report {
    volatile uint32_t magic;
    volatile int step;        /* what the child is doing now */
    volatile int status_step; /* which step returned `status` */
    volatile int status;
    volatile int available;
    volatile int fault_signal; /* set by the child's fault handler */
    volatile int fault_by_kernel; /* a real fault (si_addr valid), not kill/raise */
    volatile uintptr_t fault_addr;
    volatile int published; /* apply() returned RC_OK and its output was copied */
    /* The history check (rc_guarded_apply_history): the second state's
     * call now under way (1-4; 0: none), whether its four calls ran and
     * which call's output `later` holds, or that the child had no memory
     * for it. */
    volatile int history_call;
    volatile int history_ran;
    volatile int history_later_call;
    volatile int history_nomem;
    volatile int history_moved_positions; /* the call that wrote its positions; 0: none */
    char why[WHY_CAP];
} shared_report;

const char *rc_call_outcome_name(rc_call_outcome o)
{
    switch (o) {
    case RC_CALL_OK: return "ok";
    case RC_CALL_STATUS: return "status";
    case RC_CALL_CRASHED: return "crashed";
    case RC_CALL_TIMEOUT: return "timeout";
    case RC_CALL_EXITED: return "exited";
    case RC_CALL_OUT_OF_BOUNDS: return "out_of_bounds";
    case RC_CALL_INPUT_MODIFIED: return "input_modified";
    case RC_CALL_LATE_WRITE: return "late_write";
    case RC_CALL_HARNESS_ERROR: return "harness_error";
    case RC_CALL_HISTORY: return "history";
    }
    return "unknown";
}

/* "SIGSEGV" etc.; other signals as "signal N" in the caller's buffer. */
static const char *signal_label(int sig, char buf[24])
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGHUP: return "SIGHUP";
#ifdef SIGTRAP
    case SIGTRAP: return "SIGTRAP";
#endif
#ifdef SIGSYS
    case SIGSYS: return "SIGSYS";
#endif
#ifdef SIGXCPU
    case SIGXCPU: return "SIGXCPU";
#endif
    default: snprintf(buf, 24, "signal %d", sig); return buf;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void result_init(rc_call_result *res)
{
    memset(res, 0, sizeof *res);
    res->outcome = RC_CALL_OK;
    res->status = RC_OK;
}

#if defined(__GNUC__)
static rc_call_outcome finish(rc_call_result *res, rc_call_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

static rc_call_outcome finish(rc_call_result *res, rc_call_outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    res->outcome = o;
    return o;
}

/* ---- the child ---------------------------------------------------------- */

static shared_report *volatile child_report;

/* Records where the fault happened, then dies of the same signal: with
 * SA_RESETHAND the disposition is back to default and SA_NODEFER leaves
 * the signal unblocked, so raise() terminates the child right here. Only
 * async-signal-safe work (plain stores, raise). */
static void fault_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    shared_report *rep = child_report;
    if (rep) {
        /* si_addr means something only for faults the kernel raised. */
        rep->fault_by_kernel = info && info->si_code > 0;
        rep->fault_addr = rep->fault_by_kernel ? (uintptr_t)info->si_addr : 0;
        rep->fault_signal = sig;
    }
    raise(sig);
}

/* A stack for the fault handler, so even a stack overflow gets reported
 * (without it the kernel kills the child with SIGSEGV anyway). */
static unsigned char alt_stack[64 * 1024];

static void child_setup(shared_report *rep, pid_t parent)
{
#ifdef __linux__
    /* If the parent dies (Ctrl-C, a crash) the child must not hang on. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(125);
#else
    (void)parent;
#endif
    child_report = rep;

    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, NULL);

    /* Whatever handlers the host installed (a test framework, a sanitizer)
     * must not run in the child: record and die for faults, default for
     * the other fatal signals. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    static const int fatal[] = {SIGILL, SIGFPE, SIGABRT,
#ifdef SIGTRAP
                                SIGTRAP,
#endif
#ifdef SIGSYS
                                SIGSYS,
#endif
    };
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGSEGV);
    sigaddset(&unblock, SIGBUS);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        signal(fatal[i], SIG_DFL);
        sigaddset(&unblock, fatal[i]);
    }
    /* A host's cleanup handler for Ctrl-C or kill must not run in the
     * child; an ignored one stays ignored (so does SIGPIPE, untouched). */
    static const int polite[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof polite / sizeof polite[0]; i++) {
        struct sigaction old;
        if (sigaction(polite[i], NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_IGN)
            continue;
        signal(polite[i], SIG_DFL);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* ---- containment: process group, limits, captured output ---------------- */

/* Address space a call may add to what the host has mapped at fork time,
 * and CPU seconds beyond its wall-clock limit (rc_guarded_set_limits). */
static size_t limit_extra_bytes = (size_t)8 << 30;

void rc_guarded_set_limits(size_t extra_address_space_bytes)
{
    limit_extra_bytes = extra_address_space_bytes;
}

size_t rc_guarded_limit_bytes(void)
{
    return limit_extra_bytes;
}

#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif

/* In the child: its own process group (a kill(0, ...) or a forked
 * grandchild stays inside it and dies with it), its address space capped
 * at what it has now plus the allowance (a runaway allocation fails there,
 * not in the host's machine), CPU time capped near the wall-clock limit,
 * and stdout/stderr into the capture file. */
static void child_contain(int capture_fd, double timeout_s)
{
    setpgid(0, 0);
    struct rlimit rl;
#ifndef RC_ASAN /* ASan reserves terabytes of shadow: no address-space cap */
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm && fscanf(statm, "%lu", &pages) == 1 && limit_extra_bytes > 0) {
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)limit_extra_bytes;
        rl.rlim_cur = rl.rlim_max = cap;
        setrlimit(RLIMIT_AS, &rl);
    }
    if (statm)
        fclose(statm);
#endif
    if (timeout_s > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)timeout_s + 2;
        setrlimit(RLIMIT_CPU, &rl);
    }
    if (capture_fd >= 0) {
        dup2(capture_fd, STDOUT_FILENO);
        dup2(capture_fd, STDERR_FILENO);
        close(capture_fd);
    }
}

/* Up to len - 1 bytes the child wrote, control characters escaped (a port
 * must not be able to move the cursor or forge a table row); one final
 * newline is dropped, as the line is shown on one line of its own. */
static void read_capture(int fd, char *out, size_t len)
{
    out[0] = '\0';
    if (fd < 0 || len < 8)
        return;
    char raw[1024];
    ssize_t n = pread(fd, raw, sizeof raw, 0);
    if (n <= 0)
        return;
    if (raw[n - 1] == '\n')
        n--;
    rc_escape_bytes(raw, (size_t)n, out, len);
}

/* A reason a port wrote into the shared page (available(), explain()),
 * never trusted to be terminated or printable. */
static void escape_port_text(const char page[WHY_CAP], char *out, size_t out_len)
{
    rc_escape_bytes(page, strnlen(page, WHY_CAP), out, out_len);
}

typedef void (*child_body_fn)(void *ctx, shared_report *rep);

/* ---- the parent --------------------------------------------------------- */

typedef struct child_outcome {
    int wstatus;
    int timed_out;
    double seconds;
} child_outcome;

/* Forks, runs body in the child and waits at most timeout_s (no limit if
 * timeout_s is not > 0). 0 when the child was reaped, -1 (with a reason in
 * res) when the harness itself failed. */
static int run_child(child_body_fn body, void *ctx, shared_report *rep, double timeout_s,
                     child_outcome *co, rc_call_result *res)
{
    memset(co, 0, sizeof *co);
    memset((void *)rep, 0, sizeof *rep);

    /* A SIGCHLD set to SIG_IGN makes the kernel reap children itself and
     * waitpid would lose the status: restore the default while we wait. */
    struct sigaction old_chld, dfl_chld;
    memset(&dfl_chld, 0, sizeof dfl_chld);
    dfl_chld.sa_handler = SIG_DFL;
    sigemptyset(&dfl_chld.sa_mask);
    int restore_chld = 0;
    if (sigaction(SIGCHLD, NULL, &old_chld) == 0 && old_chld.sa_handler == SIG_IGN) {
        sigaction(SIGCHLD, &dfl_chld, NULL);
        restore_chld = 1;
    }

    /* Buffered output would otherwise be flushed twice (or lost). */
    fflush(stdout);
    fflush(stderr);

    /* What the implementation prints goes to this anonymous file, read
     * back after the call: never into ropecheck's own table. */
    FILE *capture = tmpfile();
    int capture_fd = capture ? fileno(capture) : -1;
    pid_t parent = getpid();
    double start = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        if (restore_chld)
            sigaction(SIGCHLD, &old_chld, NULL);
        if (capture)
            fclose(capture);
        finish(res, RC_CALL_HARNESS_ERROR, "fork failed: %s", strerror(e));
        return -1;
    }
    if (pid == 0) {
        child_setup(rep, parent);
        child_contain(capture_fd, timeout_s);
        body(ctx, rep);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    setpgid(pid, pid); /* also here: no window in which a kill misses it */

    long sleep_ns = 100000; /* 100 us, doubling up to 10 ms */
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            int e = errno;
            kill(pid, SIGKILL);
            if (restore_chld)
                sigaction(SIGCHLD, &old_chld, NULL);
            finish(res, RC_CALL_HARNESS_ERROR, "waitpid failed: %s", strerror(e));
            return -1;
        }
        double elapsed = now_s() - start;
        if (timeout_s > 0 && elapsed >= timeout_s) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            co->timed_out = 1;
            break;
        }
        long ns = sleep_ns;
        if (timeout_s > 0) {
            double left = timeout_s - elapsed;
            if (left * 1e9 < (double)ns)
                ns = (long)(left * 1e9) + 1;
        }
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
        sleep_ns = sleep_ns < 5000000 ? 2 * sleep_ns : 10000000;
    }
    co->seconds = now_s() - start;
    co->wstatus = st;
    /* Whatever the call left running in its group (a forked grandchild
     * holding our stdout, a thread's process) ends with it. */
    kill(-pid, SIGKILL);
    read_capture(capture_fd, res->output, sizeof res->output);
    if (capture)
        fclose(capture);
    if (restore_chld)
        sigaction(SIGCHLD, &old_chld, NULL);
    return 0;
}

/* ---- describing what went wrong ----------------------------------------- */

typedef struct named_buf {
    const rc_guarded_buf *buf;
    const char *name;
} named_buf;

/* Addresses this low are a NULL pointer plus an offset. */
#define NULL_ZONE 65536u

/* Where a faulting address lies: a guard page of one of our buffers, near
 * NULL, or elsewhere. */
static void describe_addr(uintptr_t a, const named_buf *bufs, size_t n, char *out, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < n; i++) {
        const rc_guarded_buf *b = bufs[i].buf;
        if (!b || !b->map)
            continue;
        uintptr_t map = (uintptr_t)b->map, data = (uintptr_t)b->data;
        uintptr_t end = data + b->len;
        if (a >= map && a < map + page) {
            snprintf(out, len, "data-%zu of the %s buffer (its leading guard page)",
                     (size_t)(data - a), bufs[i].name);
            return;
        }
        if (a >= map + b->map_len - page && a < map + b->map_len) {
            snprintf(out, len, "end+%zu of the %s buffer (its trailing guard page)",
                     (size_t)(a - end), bufs[i].name);
            return;
        }
    }
    if (a < NULL_ZONE)
        snprintf(out, len, "near NULL");
    else
        snprintf(out, len, "outside the harness's buffers");
}

static rc_call_outcome classify_abnormal(const child_outcome *co, const shared_report *rep,
                                         double timeout_s, const named_buf *bufs, size_t nbufs,
                                         rc_call_result *res)
{
    char where_buf[160];
    const char *where = step_name(rep->step);
    if (rep->history_call && rep->step == STEP_APPLY) {
        snprintf(where_buf, sizeof where_buf, "%s (call %d of a second state, the history check)",
                 where, (int)rep->history_call);
        where = where_buf;
    }
    if (co->timed_out)
        return finish(res, RC_CALL_TIMEOUT, "no answer in %g s (killed during %s)", timeout_s,
                      where);
    if (WIFSIGNALED(co->wstatus)) {
        int sig = WTERMSIG(co->wstatus);
        char label[24];
        res->signal = sig;
        const char *desc = strsignal(sig);
        int recorded = (sig == SIGSEGV || sig == SIGBUS) && rep->fault_signal == sig;
        if (recorded && rep->fault_by_kernel) {
            char place[160];
            describe_addr(rep->fault_addr, bufs, nbufs, place, sizeof place);
            return finish(res, RC_CALL_CRASHED, "%s (%s) in %s at 0x%llx, %s: likely %s",
                          signal_label(sig, label), desc ? desc : "?", where,
                          (unsigned long long)rep->fault_addr, place,
                          rep->fault_addr < NULL_ZONE ? "a NULL pointer dereference"
                                                      : "an out-of-bounds access");
        }
        if (recorded)
            return finish(res, RC_CALL_CRASHED, "%s (%s) in %s, sent by kill() or raise()",
                          signal_label(sig, label), desc ? desc : "?", where);
        /* Not seen by the handler (e.g. a stack overflow past the signal
         * stack): still most likely a bad access. */
        if (sig == SIGSEGV || sig == SIGBUS)
            return finish(res, RC_CALL_CRASHED, "%s (%s) in %s: likely out-of-bounds access",
                          signal_label(sig, label), desc ? desc : "?", where);
        return finish(res, RC_CALL_CRASHED, "%s (%s) in %s", signal_label(sig, label),
                      desc ? desc : "?", where);
    }
    int code = WIFEXITED(co->wstatus) ? WEXITSTATUS(co->wstatus) : -1;
    /* ASan and UBSan (with -fno-sanitize-recover) print a report and exit
     * with code 1 rather than die of a signal: point at their report. */
    if (code == 1)
        return finish(res, RC_CALL_EXITED,
                      "exited with code 1 during %s without reporting (as a sanitizer does "
                      "after a report: see stderr)",
                      where);
    return finish(res, RC_CALL_EXITED, "exited with code %d during %s without reporting", code,
                  where);
}

/* ---- rc_guarded_apply --------------------------------------------------- */

typedef struct apply_ctx {
    const rc_impl *impl;
    const rc_spec *spec;
    const rc_tensor *in, *out;
    /* Writable: the history check puts its own positions there, and the
     * fresh call's back. */
    int64_t *positions;
    rc_direction dir;
    /* The output buffer (writable: the history check puts the view back
     * between calls), and a shared copy of it taken the moment apply()
     * returns: what the port returned, whatever its threads do later. */
    unsigned char *out_bytes;
    size_t out_len;
    unsigned char *published;
    /* The history check (NULL later: off): the output view's geometry,
     * the positions' count, and whether the other direction is offered. */
    unsigned char *later;
    size_t n_pos;
    const rc_view_geom *out_g;
    int other_direction;
} apply_ctx;

/* The positions of history call 1 (rc_guarded_apply_history): tokens 1..
 * with every axis's position's lowest bit flipped; a call of one token,
 * token 0's. */
static void history_positions(int64_t *pos, const int64_t *orig, size_t n_pos, int64_t n_tokens)
{
    const size_t per_token = n_tokens > 0 ? n_pos / (size_t)n_tokens : 0;
    const size_t first = n_tokens > 1 ? per_token : 0;
    for (size_t k = 0; k < n_pos; k++)
        pos[k] = k < first ? orig[k] : orig[k] ^ 1;
}

/* How the second state's calls ended: RC_OK, or the first status other
 * than RC_OK, the step and call that returned it, and the port's words. */
typedef struct history_end {
    rc_status status;
    int step, call;
    char why[WHY_CAP];
} history_end;

/* The port's own words on a status (ABI 3), always terminated. */
static void explain_into(const rc_impl *impl, const void *state, char why[WHY_CAP])
{
    memset(why, 0, WHY_CAP);
    if (impl->abi_version >= 3u && impl->explain) {
        impl->explain(state, why, WHY_CAP);
        why[WHY_CAP - 1] = '\0';
    }
}

/* The second state's four calls (guarded_call.h), before the call on the
 * fresh state; *end says how they ended. The state is released and the
 * views and positions put back as they were on every path. */
static void history_calls(const apply_ctx *c, shared_report *rep, history_end *end)
{
    memset(end, 0, sizeof *end);
    end->status = RC_OK;
    const size_t pos_bytes = sizeof(int64_t) * c->n_pos;
    unsigned char *view0 = malloc(c->out_len ? c->out_len : 1);
    int64_t *pos0 = malloc(pos_bytes ? pos_bytes : 1), *given = malloc(pos_bytes ? pos_bytes : 1);
    if (!view0 || !pos0 || !given) {
        free(view0);
        free(pos0);
        free(given);
        rep->history_nomem = 1;
        return;
    }
    memcpy(view0, c->out_bytes, c->out_len);
    memcpy(pos0, c->positions, pos_bytes);
    void *state = NULL;
    rep->step = STEP_PREPARE;
    rc_status st = c->impl->prepare(c->spec, &state);
    int at = STEP_PREPARE, call = 0;
    const rc_direction other = c->dir == RC_FORWARD ? RC_INVERSE : RC_FORWARD;
    for (int k = 1; st == RC_OK && k <= 4; k++) {
        if (k == 2 && !c->other_direction)
            continue;
        rc_view_copy_elements(c->out_g, c->out_bytes, view0);
        if (k == 1)
            history_positions(given, pos0, c->n_pos, c->in->n_tokens);
        else
            memcpy(given, pos0, pos_bytes);
        memcpy(c->positions, given, pos_bytes);
        rep->history_call = call = k;
        rep->step = STEP_APPLY;
        at = STEP_APPLY;
        st = c->impl->apply(state, c->in, c->out, c->positions, k == 2 ? other : c->dir);
        if (memcmp(c->positions, given, pos_bytes) != 0) {
            /* Left as the port wrote them, for the audit to see: putting
             * them back would hide a write to the input. */
            rep->history_moved_positions = k;
            break;
        }
        if (st == RC_OK &&
            (k == 3 || (k == 4 && memcmp(c->later, c->out_bytes, c->out_len) != 0))) {
            /* Call 4's output is kept only where it differs from call 3's. */
            memcpy(c->later, c->out_bytes, c->out_len);
            rep->history_later_call = k;
        }
    }
    if (st != RC_OK) {
        rep->step = STEP_EXPLAIN;
        explain_into(c->impl, state, end->why);
        end->status = st;
        end->step = at;
        end->call = call;
    }
    /* Released (after a prepare() that worked) before the views are put
     * back: what its release() writes (work it finishes only then) is
     * undone too, and the fresh state's call, the same code, shows it to
     * the audit. */
    if (at == STEP_APPLY && c->impl->release) {
        rep->step = STEP_RELEASE;
        c->impl->release(state);
    }
    rep->history_call = 0;
    rep->history_ran = st == RC_OK && !rep->history_moved_positions;
    rc_view_copy_elements(c->out_g, c->out_bytes, view0);
    if (!rep->history_moved_positions)
        memcpy(c->positions, pos0, pos_bytes);
    free(view0);
    free(pos0);
    free(given);
}

static void apply_body(void *p, shared_report *rep)
{
    const apply_ctx *c = p;
    history_end hist = {.status = RC_OK};
    if (c->later)
        history_calls(c, rep, &hist);
    void *state = NULL;
    rep->step = STEP_PREPARE;
    rc_status st = c->impl->prepare(c->spec, &state);
    rep->status_step = STEP_PREPARE;
    if (st == RC_OK) {
        rep->step = STEP_APPLY;
        st = c->impl->apply(state, c->in, c->out, c->positions, c->dir);
        rep->status_step = STEP_APPLY;
        if (st == RC_OK && c->published) {
            memcpy(c->published, c->out_bytes, c->out_len);
            rep->published = 1;
        }
    }
    if (st != RC_OK) {
        rep->step = STEP_EXPLAIN;
        char why[WHY_CAP];
        explain_into(c->impl, state, why);
        memcpy(rep->why, why, sizeof why);
    }
    if (rep->status_step == STEP_APPLY) {
        rep->step = STEP_RELEASE;
        if (c->impl->release)
            c->impl->release(state);
    }
    if (st == RC_OK && hist.status != RC_OK) {
        /* Only the second state failed: its status, and which call. A port
         * that refuses every call is reported for the fresh call above,
         * as without the check. */
        st = hist.status;
        rep->status_step = hist.step;
        rep->history_call = hist.call;
        memcpy(rep->why, hist.why, sizeof hist.why);
    }
    rep->status = (int)st;
    rep->magic = REPORT_MAGIC;
}

/* Index of the first byte where a and b differ; n if none. memcmp over
 * chunks first: buffers are megabytes and almost always equal. */
static size_t first_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
    const size_t chunk = 65536;
    for (size_t base = 0; base < n; base += chunk) {
        size_t len = n - base < chunk ? n - base : chunk;
        if (memcmp(a + base, b + base, len) == 0)
            continue;
        for (size_t i = base; i < base + len; i++)
            if (a[i] != b[i])
                return i;
    }
    return n;
}

/* What the buffers held before the call, for the audit: the gap bytes of
 * the output (packed one after another), the whole input of an
 * out-of-place call, the positions. The output view itself is the
 * caller's business (it prefilled it) and is neither copied nor touched. */
typedef struct snapshot {
    rc_byte_range *gaps;
    size_t n_gaps;
    unsigned char *gap_bytes, *in, *pos;
} snapshot;

static void snapshot_free(snapshot *s)
{
    free(s->gaps);
    free(s->gap_bytes);
    free(s->in);
    free(s->pos);
}

static unsigned char *copy_of(const rc_guarded_buf *b)
{
    unsigned char *c = malloc(b->len ? b->len : 1);
    if (c && b->len)
        memcpy(c, b->data, b->len);
    return c;
}

/* 0 on success, -1 if out of memory. */
static int snapshot_take(snapshot *s, const rc_guarded_buf *in_buf, const rc_guarded_buf *out_buf,
                         const rc_view_geom *out_g, const rc_guarded_buf *pos_buf)
{
    memset(s, 0, sizeof *s);
    s->gaps = rc_view_gaps(out_g, out_buf->len, &s->n_gaps);
    if (!s->gaps)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < s->n_gaps; i++)
        total += s->gaps[i].end - s->gaps[i].start;
    s->gap_bytes = malloc(total ? total : 1);
    if (!s->gap_bytes)
        return -1;
    unsigned char *p = s->gap_bytes;
    for (size_t i = 0; i < s->n_gaps; i++) {
        size_t len = s->gaps[i].end - s->gaps[i].start;
        memcpy(p, out_buf->data + s->gaps[i].start, len);
        p += len;
    }
    if (in_buf != out_buf && !(s->in = copy_of(in_buf)))
        return -1;
    return (s->pos = copy_of(pos_buf)) ? 0 : -1;
}

/* The audit of a child that returned. Returns RC_CALL_OK if nothing
 * outside the output view changed. */
static rc_call_outcome audit(const rc_guarded_buf *in_buf, const rc_view_geom *in_g,
                             const rc_guarded_buf *out_buf, const rc_view_geom *out_g,
                             const rc_guarded_buf *pos_buf, const snapshot *snap,
                             const named_buf *bufs, size_t nbufs, rc_call_result *res)
{
    char why[256];
    for (size_t i = 0; i < nbufs; i++)
        if (!rc_guarded_buf_canaries_intact(bufs[i].buf, why, sizeof why))
            return finish(res, RC_CALL_OUT_OF_BOUNDS, "%s buffer: %s", bufs[i].name, why);

    const unsigned char *before = snap->gap_bytes;
    for (size_t i = 0; i < snap->n_gaps; i++) {
        size_t start = snap->gaps[i].start, len = snap->gaps[i].end - start;
        size_t k = first_diff(out_buf->data + start, before, len);
        before += len;
        if (k == len)
            continue;
        char where[160];
        rc_view_locate(out_g, start + k, where, sizeof where);
        return finish(res, RC_CALL_OUT_OF_BOUNDS,
                      "wrote %s (byte offset %zu of the %s buffer), which is not part of the "
                      "output view",
                      where, start + k, in_buf == out_buf ? "input/output" : "output");
    }
    if (in_buf != out_buf) {
        size_t k = first_diff(in_buf->data, snap->in, in_buf->len);
        if (k < in_buf->len) {
            char where[160];
            rc_view_locate(in_g, k, where, sizeof where);
            return finish(res, RC_CALL_INPUT_MODIFIED,
                          "out-of-place call changed its input at %s (byte offset %zu)", where, k);
        }
    }
    size_t k = first_diff(pos_buf->data, snap->pos, pos_buf->len);
    if (k < pos_buf->len)
        return finish(res, RC_CALL_INPUT_MODIFIED, "changed positions[%zu] (byte offset %zu)",
                      k / sizeof(int64_t), k);
    return RC_CALL_OK;
}

/* Writes between apply()'s return and the child's end (a thread or an
 * asynchronous kernel still running: the port returned before its work
 * was done). Every such write is seen: the child's threads die with it,
 * and the copy in `published` was taken at the return. */
static rc_call_outcome late_write_audit(const rc_guarded_buf *out_buf, const rc_view_geom *out_g,
                                        const unsigned char *published, int was_published,
                                        rc_call_result *res)
{
    if (published && was_published) {
        const size_t k = first_diff(out_buf->data, published, out_buf->len);
        if (k < out_buf->len) {
            char where[160];
            rc_view_locate(out_g, k, where, sizeof where);
            return finish(res, RC_CALL_LATE_WRITE,
                          "wrote %s (byte offset %zu) after apply() returned: work still "
                          "running at the return (a thread or an unsynchronised kernel)",
                          where, k);
        }
    }
    return finish(res, RC_CALL_OK, "ok");
}

static void unmap_published(unsigned char *published, size_t len)
{
    if (published)
        munmap(published, len);
}

static rc_guarded_hook_fn g_before_call, g_after_call;

void rc_guarded_set_hooks(rc_guarded_hook_fn before, rc_guarded_hook_fn after)
{
    g_before_call = before;
    g_after_call = after;
}

static shared_report *report_map(void)
{
    void *m = mmap(NULL, sizeof(shared_report), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* What the history check found (rc_guarded_apply_history), after every
 * other audit passed: RC_CALL_OK when the second state's calls 3 and 4
 * gave the fresh state's bytes. */
static rc_call_outcome history_audit(const shared_report *rep, const unsigned char *fresh,
                                     const unsigned char *later, size_t len,
                                     const rc_view_geom *out_g, rc_dtype dtype,
                                     rc_call_result *res)
{
    if (rep->history_moved_positions) /* the audit saw it unless the port wrote them back */
        return finish(res, RC_CALL_INPUT_MODIFIED,
                      "changed its positions during call %d of a second state (the history "
                      "check)",
                      (int)rep->history_moved_positions);
    if (rep->history_nomem)
        return finish(res, RC_CALL_HARNESS_ERROR, "out of memory for the history check");
    if (!rep->history_ran)
        return finish(res, RC_CALL_HARNESS_ERROR, "the history check did not run");
    size_t k = first_diff(later, fresh, len);
    if (k == len)
        return RC_CALL_OK;
    /* Named: the first element whose values differ (a signed zero or a NaN
     * payload differs in its bytes only: named only when nothing else
     * does), and how many elements differ at all. */
    const size_t esize = rc_dtype_size(dtype);
    int64_t n_diff = 0, first_value = -1, first_byte = -1;
    for (int64_t t = 0; t < out_g->n_tokens; t++)
        for (int64_t h = 0; h < out_g->n_heads; h++)
            for (int64_t ch = 0; ch < out_g->head_dim; ch++) {
                const size_t at =
                    out_g->offset +
                    (size_t)(t * out_g->token_stride + h * out_g->head_stride + ch) * esize;
                if (memcmp(fresh + at, later + at, esize) == 0)
                    continue;
                const int64_t e = (int64_t)(at / esize);
                const double a = rc_elem_load(dtype, fresh, e), b = rc_elem_load(dtype, later, e);
                n_diff++;
                if (first_byte < 0 || (int64_t)at < first_byte)
                    first_byte = (int64_t)at;
                if (a != b && !(isnan(a) && isnan(b)) &&
                    (first_value < 0 || (int64_t)at < first_value))
                    first_value = (int64_t)at;
            }
    if (first_value >= 0)
        k = (size_t)first_value;
    else if (first_byte >= 0)
        k = (size_t)first_byte;
    char where[160];
    rc_view_locate(out_g, k, where, sizeof where);
    const int64_t e = (int64_t)(k / esize);
    const int call = rep->history_later_call;
    return finish(res, RC_CALL_HISTORY, "%s is %.9g on a fresh state but %.9g%s %s (%lld %s)",
                  where, rc_elem_load(dtype, fresh, e), rc_elem_load(dtype, later, e),
                  first_value < 0 ? " (the bytes differ: a signed zero or a NaN's payload)" : "",
                  call == 3 ? "after the state's calls at other positions (lowest bit "
                              "flipped) and in the other direction"
                            : "when the state repeats its previous call",
                  (long long)n_diff, n_diff == 1 ? "element differs" : "elements differ");
}

static rc_call_outcome guarded_apply(const rc_impl *impl, const rc_spec *spec,
                                     rc_guarded_buf *in_buf, const rc_tensor *in,
                                     rc_guarded_buf *out_buf, const rc_tensor *out,
                                     const rc_guarded_buf *pos_buf, rc_direction dir,
                                     double timeout_s, int history, rc_call_result *res)
{
    rc_call_result local;
    if (!res)
        res = &local;
    result_init(res);

    if (!impl || !impl->prepare || !impl->apply)
        return finish(res, RC_CALL_HARNESS_ERROR, "no implementation, prepare() or apply()");
    if (!spec || !in_buf || !out_buf || !pos_buf || !in || !out)
        return finish(res, RC_CALL_HARNESS_ERROR, "missing spec, buffer or view");
    size_t esize = rc_dtype_size(spec->dtype);
    if (esize == 0 || spec->head_dim < 1 || spec->head_dim > RC_MAX_HEAD_DIM)
        return finish(res, RC_CALL_HARNESS_ERROR, "spec has an invalid dtype or head_dim %d",
                      (int)spec->head_dim);
    if (pos_buf == in_buf || pos_buf == out_buf)
        return finish(res, RC_CALL_HARNESS_ERROR, "positions share a buffer with a tensor");

    char err[200];
    rc_view_geom in_g, out_g;
    if (rc_view_geom_init(&in_g, in_buf, in, spec->head_dim, esize, err, sizeof err) != 0)
        return finish(res, RC_CALL_HARNESS_ERROR, "input view: %s", err);
    if (rc_view_geom_init(&out_g, out_buf, out, spec->head_dim, esize, err, sizeof err) != 0)
        return finish(res, RC_CALL_HARNESS_ERROR, "output view: %s", err);
    if (in->n_tokens != out->n_tokens || in->n_heads != out->n_heads)
        return finish(res, RC_CALL_HARNESS_ERROR, "input and output views differ in shape");
    if (in_buf == out_buf &&
        (in->data != out->data || in->token_stride != out->token_stride ||
         in->head_stride != out->head_stride))
        return finish(res, RC_CALL_HARNESS_ERROR,
                      "one buffer for input and output but the views are not identical");
    if ((uint64_t)in->n_tokens > pos_buf->len / sizeof(int64_t))
        return finish(res, RC_CALL_HARNESS_ERROR, "position buffer holds fewer than %lld entries",
                      (long long)in->n_tokens);

    named_buf bufs[3];
    size_t nbufs = 0;
    bufs[nbufs++] = (named_buf){out_buf, in_buf == out_buf ? "input/output" : "output"};
    if (in_buf != out_buf)
        bufs[nbufs++] = (named_buf){in_buf, "input"};
    bufs[nbufs++] = (named_buf){pos_buf, "positions"};

    snapshot snap;
    int snapped = snapshot_take(&snap, in_buf, out_buf, &out_g, pos_buf);
    shared_report *rep = report_map();
    if (snapped != 0 || !rep) {
        snapshot_free(&snap);
        if (rep)
            munmap(rep, sizeof *rep);
        return finish(res, RC_CALL_HARNESS_ERROR, "out of memory for snapshots");
    }

    /* The output as apply() returned it, and (history) as the second
     * state's call 3 or 4 left it. */
    unsigned char *published = NULL, *later = NULL;
    if (out_buf->len) {
        void *m = mmap(NULL, out_buf->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        void *l = history ? mmap(NULL, out_buf->len, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0)
                          : NULL;
        if (m == MAP_FAILED || l == MAP_FAILED) {
            if (m != MAP_FAILED)
                munmap(m, out_buf->len);
            if (l && l != MAP_FAILED)
                munmap(l, out_buf->len);
            snapshot_free(&snap);
            munmap(rep, sizeof *rep);
            return finish(res, RC_CALL_HARNESS_ERROR, "out of memory for the output's copy");
        }
        published = m;
        later = l;
    }
    const int32_t n_axes = spec->n_axes >= 2 ? spec->n_axes : 1;
    apply_ctx ctx = {impl, spec, in, out, (int64_t *)pos_buf->data, dir,
                     out_buf->data, out_buf->len, published,
                     later, (size_t)in->n_tokens * (size_t)n_axes, &out_g,
                     dir == RC_INVERSE || (rc_impl_caps(impl) & RC_CAP_INVERSE)};
    child_outcome co;
    if (g_before_call)
        g_before_call(impl, timeout_s);
    const int child_rc = run_child(apply_body, &ctx, rep, timeout_s, &co, res);
    if (g_after_call)
        g_after_call(impl, timeout_s);
    if (child_rc != 0) {
        snapshot_free(&snap);
        unmap_published(published, out_buf->len);
        unmap_published(later, out_buf->len);
        munmap(rep, sizeof *rep);
        return res->outcome;
    }
    res->seconds = co.seconds;

    rc_call_outcome o;
    if (!co.timed_out && WIFEXITED(co.wstatus) && WEXITSTATUS(co.wstatus) == 0 &&
        rep->magic == REPORT_MAGIC) {
        res->status = (rc_status)rep->status;
        /* A write out of bounds or to the input outranks the status: an
         * implementation that scribbled and then said "unsupported" must
         * not be reported as merely skipped. */
        o = audit(in_buf, &in_g, out_buf, &out_g, pos_buf, &snap, bufs, nbufs, res);
        if (o == RC_CALL_OK && res->status != RC_OK) {
            res->status_in_apply = rep->status_step == STEP_APPLY;
            char why[WHY_CAP], which[120] = "";
            escape_port_text(rep->why, why, sizeof why);
            if (rep->history_call)
                snprintf(which, sizeof which,
                         " (call %d of a second state, the history check: "
                         "include/ropecheck/plugin.h, STATE)",
                         (int)rep->history_call);
            o = finish(res, RC_CALL_STATUS, "%s returned %s%s%s%s", step_name(rep->status_step),
                       rc_status_name(res->status), which, why[0] ? ": " : "", why);
        }
        else if (o == RC_CALL_OK)
            o = late_write_audit(out_buf, &out_g, published, rep->published, res);
        if (o == RC_CALL_OK && history && later)
            o = history_audit(rep, published, later, out_buf->len, &out_g, spec->dtype, res);
    } else {
        o = classify_abnormal(&co, rep, timeout_s, bufs, nbufs, res);
    }
    snapshot_free(&snap);
    unmap_published(published, out_buf->len);
    unmap_published(later, out_buf->len);
    munmap(rep, sizeof *rep);
    return o;
}

rc_call_outcome rc_guarded_apply(const rc_impl *impl, const rc_spec *spec,
                                 rc_guarded_buf *in_buf, const rc_tensor *in,
                                 rc_guarded_buf *out_buf, const rc_tensor *out,
                                 const rc_guarded_buf *pos_buf, rc_direction dir,
                                 double timeout_s, rc_call_result *res)
{
    return guarded_apply(impl, spec, in_buf, in, out_buf, out, pos_buf, dir, timeout_s, 0, res);
}

rc_call_outcome rc_guarded_apply_history(const rc_impl *impl, const rc_spec *spec,
                                         rc_guarded_buf *in_buf, const rc_tensor *in,
                                         rc_guarded_buf *out_buf, const rc_tensor *out,
                                         const rc_guarded_buf *pos_buf, rc_direction dir,
                                         double timeout_s, rc_call_result *res)
{
    return guarded_apply(impl, spec, in_buf, in, out_buf, out, pos_buf, dir, timeout_s, 1, res);
}

/* ---- rc_guarded_available ----------------------------------------------- */

typedef struct avail_ctx {
    const rc_impl *impl;
    size_t why_len;
} avail_ctx;

static void available_body(void *p, shared_report *rep)
{
    const avail_ctx *c = p;
    rep->step = STEP_AVAILABLE;
    rep->available = c->impl->available(rep->why, c->why_len);
    rep->magic = REPORT_MAGIC;
}

int rc_guarded_available(const rc_impl *impl, double timeout_s, char *why, size_t why_len,
                         rc_call_result *res)
{
    rc_call_result local;
    if (!res)
        res = &local;
    result_init(res);
    char scratch[1];
    if (!why || why_len == 0) {
        why = scratch;
        why_len = sizeof scratch;
    }
    why[0] = '\0';

    if (!impl) {
        finish(res, RC_CALL_HARNESS_ERROR, "no implementation");
        snprintf(why, why_len, "no implementation");
        return 0;
    }
    if (!impl->available) {
        finish(res, RC_CALL_OK, "no available() check: always available");
        return 1;
    }
    shared_report *rep = report_map();
    if (!rep) {
        finish(res, RC_CALL_HARNESS_ERROR, "mmap failed: %s", strerror(errno));
        snprintf(why, why_len, "harness error: %s", res->detail);
        return 0;
    }
    /* The implementation writes into the shared page; at most what both the
     * page and the caller can hold. */
    avail_ctx ctx = {impl, why_len < WHY_CAP ? why_len : WHY_CAP};
    child_outcome co;
    if (run_child(available_body, &ctx, rep, timeout_s, &co, res) != 0) {
        snprintf(why, why_len, "harness error: %s", res->detail);
        munmap(rep, sizeof *rep);
        return 0;
    }
    res->seconds = co.seconds;

    int ok = 0;
    if (!co.timed_out && WIFEXITED(co.wstatus) && WEXITSTATUS(co.wstatus) == 0 &&
        rep->magic == REPORT_MAGIC) {
        ok = rep->available != 0;
        if (!ok) {
            /* Never trust the implementation to have terminated it. */
            char reason[WHY_CAP];
            escape_port_text(rep->why, reason, ctx.why_len);
            if (reason[0] == '\0')
                snprintf(reason, sizeof reason, "available() returned 0 without a reason");
            snprintf(why, why_len, "%s", reason);
        }
        finish(res, RC_CALL_OK, ok ? "available" : "not available");
    } else {
        named_buf none[1] = {{NULL, ""}};
        char label[24];
        classify_abnormal(&co, rep, timeout_s, none, 0, res);
        if (res->outcome == RC_CALL_CRASHED)
            snprintf(why, why_len, "available() crashed: %s", signal_label(res->signal, label));
        else if (res->outcome == RC_CALL_TIMEOUT)
            snprintf(why, why_len, "available() did not answer in %g s", timeout_s);
        else if (WIFEXITED(co.wstatus))
            snprintf(why, why_len, "available() exited with code %d", WEXITSTATUS(co.wstatus));
        else
            snprintf(why, why_len, "available() %s", res->detail);
    }
    munmap(rep, sizeof *rep);
    return ok;
}

/* ---- rc_guarded_probe_plugin -------------------------------------------- */

typedef struct probe_ctx {
    const char *path;
} probe_ctx;

/* In the child: everything the host's own load will do (dlopen, which runs
 * the plug-in's constructors; the entry function; the descriptor check,
 * whose string reads fault on a bad pointer), so that whatever kills,
 * hangs or exits happens here. Reaching the end sets available = 1. */
static void probe_body(void *p, shared_report *rep)
{
    const probe_ctx *c = p;
    rep->step = STEP_LOAD;
    void *h = dlopen(c->path, RTLD_NOW | RTLD_LOCAL);
    void *sym = h ? dlsym(h, RC_PLUGIN_SYMBOL) : NULL;
    if (sym) {
        rc_plugin_entry_fn entry;
        memcpy(&entry, &sym, sizeof entry);
        const rc_impl *impl = entry();
        char why[WHY_CAP] = "";
        if (rc_impl_check(impl, why, sizeof why) == 0) {
            /* The description is printed by list and the reports. */
            volatile size_t n = impl->description ? strlen(impl->description) : 0;
            (void)n;
        }
    }
    /* Finished without dying: the host's own load is safe to run, and a
     * clean refusal (no library, no symbol, NULL or another ABI version)
     * is reported there with its precise message, as bad input. */
    rep->available = 1;
    rep->magic = REPORT_MAGIC;
}

int rc_guarded_probe_plugin(const char *path, double timeout_s, char *why, size_t why_len,
                            rc_call_result *res)
{
    rc_call_result local;
    if (!res)
        res = &local;
    result_init(res);
    shared_report *rep = report_map();
    if (!rep) {
        snprintf(why, why_len, "out of memory for the probe");
        return -1;
    }
    /* As rc_plugin_load: a bare name is a file here, not a library search. */
    char bare[4096];
    if (!strchr(path, '/')) {
        snprintf(bare, sizeof bare, "./%s", path);
        path = bare;
    }
    probe_ctx ctx = {path};
    child_outcome co;
    int rc = -1;
    if (run_child(probe_body, &ctx, rep, timeout_s, &co, res) != 0) {
        snprintf(why, why_len, "%s", res->detail);
    } else if (!co.timed_out && WIFEXITED(co.wstatus) && WEXITSTATUS(co.wstatus) == 0 &&
               rep->magic == REPORT_MAGIC) {
        rc = 0;
    } else {
        classify_abnormal(&co, rep, timeout_s, NULL, 0, res);
        snprintf(why, why_len, "%s", res->detail);
    }
    munmap(rep, sizeof *rep);
    return rc;
}
