/*
 * harness/runner_client.c - drive ropecheck-runner over pipes; see
 * runner_client.h for the lifetime and failure rules and
 * runner/PROTOCOL.md for the frames.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "harness/runner_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "core/spec_check.h"
#include "harness/runner_decode.h"
#include "runner/protocol.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

/* The hello is small (names and descriptions); anything larger is not a
 * runner talking. */
#define HELLO_MAX_PAYLOAD (1u << 20)

typedef struct slot {
    rc_impl impl;
    rc_runner_offer o; /* as the hello offered it (runner_decode.h) */
} slot;

typedef struct note_page {
    char text[1024];
} note_page;

static char *g_command;
static char g_arch[32];
static slot g_slots[RC_RUNNER_MAX_IMPLS];
static size_t g_n;
static note_page *g_note;

/* ---- small helpers ------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void set_note(const char *fmt, ...)
{
    if (!g_note)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_note->text, sizeof g_note->text, fmt, ap);
    va_end(ap);
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
static void describe_status(int st, char *out, size_t len)
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

typedef struct proc {
    pid_t pid;
    int to;   /* its stdin */
    int from; /* its stdout */
} proc;

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

static int spawn(const char *command, proc *p, char *err, size_t err_len)
{
    int in[2], out[2];
    p->pid = -1;
    p->to = p->from = -1;
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
static void stop(proc *p, double grace_s, char *how, size_t how_len)
{
    if (p->to >= 0)
        close(p->to);
    if (p->from >= 0)
        close(p->from);
    p->to = p->from = -1;
    if (p->pid <= 0)
        return;
    int st = 0;
    double end = now_s() + grace_s;
    pid_t r;
    while ((r = waitpid(p->pid, &st, WNOHANG)) == 0 && now_s() < end) {
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
            describe_status(st, how, how_len);
    }
    /* Whatever it started may still run (a shell that forked): end it. */
    kill(-p->pid, SIGKILL);
    p->pid = -1;
}

/* Reads exactly n bytes. deadline <= 0: no limit. 0 on success, 1 on EOF
 * (*got tells how far it came), -1 on an error, -2 at the deadline. */
static int read_exact(int fd, unsigned char *buf, size_t n, double deadline, size_t *got)
{
    *got = 0;
    while (*got < n) {
        if (deadline > 0) {
            double left = deadline - now_s();
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
static int write_all(int fd, const unsigned char *p, size_t n)
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

/* Reads one frame of the expected type: 0 with a malloc'ed payload, or -1
 * with the reason in err. `what` names the frame ("hello", "reply"). A
 * runner that ended is reaped here so the reason says how it died. */
static int read_frame(proc *p, uint32_t type, uint64_t max_len, double deadline, const char *what,
                      unsigned char **payload, size_t *len, char *err, size_t err_len)
{
    unsigned char hdr[RCRP_HEADER_BYTES];
    size_t got;
    *payload = NULL;
    int r = read_exact(p->from, hdr, sizeof hdr, deadline, &got);
    if (r == -2) {
        snprintf(err, err_len, "runner sent no %s within the time limit", what);
        stop(p, 0, NULL, 0);
        return -1;
    }
    if (r != 0) {
        char how[160];
        stop(p, 5.0, how, sizeof how);
        if (got == 0)
            snprintf(err, err_len, "runner died before its %s: %s", what, how);
        else
            snprintf(err, err_len, "runner sent a malformed %s (truncated header) and %s", what,
                     how);
        return -1;
    }
    uint32_t magic = rcrp_get_u32(hdr), t = rcrp_get_u32(hdr + 4);
    uint64_t n = rcrp_get_u64(hdr + 8);
    if (magic != RCRP_MAGIC) {
        snprintf(err, err_len,
                 "runner sent a malformed %s (bad magic 0x%08x; is the command a "
                 "ropecheck-runner?)", what, (unsigned)magic);
        stop(p, 0, NULL, 0);
        return -1;
    }
    if (t != type) {
        snprintf(err, err_len, "runner sent a malformed %s (frame type %u, length %llu)", what,
                 (unsigned)t, (unsigned long long)n);
        stop(p, 0, NULL, 0);
        return -1;
    }
    if (n > max_len) {
        /* Refused before any allocation: the request bounds the answer. */
        snprintf(err, err_len,
                 "runner sent a malformed %s (length %llu; at most %llu bytes can answer this "
                 "request)", what, (unsigned long long)n, (unsigned long long)max_len);
        stop(p, 0, NULL, 0);
        return -1;
    }
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) {
        snprintf(err, err_len, "out of memory for the runner's %s", what);
        stop(p, 0, NULL, 0);
        return -1;
    }
    r = read_exact(p->from, buf, (size_t)n, deadline, &got);
    if (r != 0) {
        char how[160] = "timed out";
        free(buf);
        if (r == -2)
            stop(p, 0, NULL, 0);
        else
            stop(p, 5.0, how, sizeof how);
        snprintf(err, err_len, "runner sent a malformed %s (truncated payload) and %s", what, how);
        return -1;
    }
    *payload = buf;
    *len = (size_t)n;
    return 0;
}

/* ---- the proxies -------------------------------------------------------- */

typedef struct proxy_state {
    size_t slot;
    proc p;
    rc_spec spec;
    double *theta; /* hi then lo, r/2 each */
} proxy_state;

static int proxy_available(size_t i, char *why, size_t why_len)
{
    if (!g_slots[i].o.available && why && why_len)
        snprintf(why, why_len, "%s (on the runner, %s)", g_slots[i].o.why, g_arch);
    return g_slots[i].o.available;
}

static rc_status proxy_prepare(size_t i, const rc_spec *spec, void **state)
{
    char err[512];
    if (!spec || !state || !g_command)
        return RC_ERR_INVALID;
    *state = NULL;
    if (rc_spec_check(spec->head_dim, spec->rotary_dim, spec->base, err, sizeof err) != 0 ||
        !spec->theta_hi || !spec->theta_lo)
        return RC_ERR_INVALID;
    proxy_state *s = calloc(1, sizeof *s);
    size_t half = (size_t)spec->rotary_dim / 2;
    double *theta = malloc(2 * half * sizeof *theta);
    if (!s || !theta) {
        free(s);
        free(theta);
        return RC_ERR_NOMEM;
    }
    memcpy(theta, spec->theta_hi, half * sizeof *theta);
    memcpy(theta + half, spec->theta_lo, half * sizeof *theta);
    s->slot = i;
    s->spec = *spec;
    s->spec.scaling = NULL; /* valid only during prepare; the runner needs only table + scale */
    s->theta = theta;

    /* A fresh runner for this call; its hello must still offer us. The
     * guarded call's time limit bounds the wait. */
    unsigned char *payload = NULL;
    size_t len = 0;
    rc_runner_offer seen[RC_RUNNER_MAX_IMPLS];
    size_t n = 0;
    char arch[32];
    int ok = spawn(g_command, &s->p, err, sizeof err) == 0 &&
             read_frame(&s->p, RCRP_HELLO, HELLO_MAX_PAYLOAD, 0, "hello", &payload, &len, err,
                        sizeof err) == 0 &&
             rc_runner_parse_hello(payload, len, arch, sizeof arch, seen, &n, err,
                                   sizeof err) == 0;
    free(payload);
    int listed = 0;
    for (size_t k = 0; ok && k < n; k++)
        listed |= strcmp(seen[k].name, g_slots[i].o.name) == 0;
    if (ok && !listed)
        snprintf(err, sizeof err, "runner no longer offers '%s'", g_slots[i].o.name);
    if (!ok || !listed) {
        set_note("%s", err);
        stop(&s->p, 0, NULL, 0);
        free(theta);
        free(s);
        return RC_ERR_DEVICE;
    }
    *state = s;
    return RC_OK;
}

static void put_i64(rcrp_out *o, int64_t v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    rcrp_write_u64(o, u);
}

static rc_status fail_device(proxy_state *s, const char *msg)
{
    set_note("%s", msg);
    stop(&s->p, 0, NULL, 0);
    return RC_ERR_DEVICE;
}

static rc_status proxy_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction direction)
{
    proxy_state *s = state;
    char err[512];
    if (!s || !in || !out || !positions || s->p.pid <= 0)
        return RC_ERR_INVALID;
    const size_t esize = rc_dtype_size(s->spec.dtype);
    size_t in_ext, out_ext;
    if (!in->data || !out->data ||
        rc_shape_check(in->n_tokens, in->n_heads, s->spec.head_dim, in->token_stride,
                       in->head_stride, esize, &in_ext, err, sizeof err) != 0 ||
        rc_shape_check(out->n_tokens, out->n_heads, s->spec.head_dim, out->token_stride,
                       out->head_stride, esize, &out_ext, err, sizeof err) != 0 ||
        in->n_tokens != out->n_tokens || in->n_heads != out->n_heads)
        return RC_ERR_INVALID;
    const int inplace = in->data == out->data;
    const size_t half = (size_t)s->spec.rotary_dim / 2;

    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_APPLY);
    rcrp_write_str(&o, g_slots[s->slot].o.name);
    rcrp_write_u32(&o, (uint32_t)s->spec.head_dim);
    rcrp_write_u32(&o, (uint32_t)s->spec.rotary_dim);
    rcrp_write_u64(&o, rcrp_bits_of(s->spec.base));
    rcrp_write_u32(&o, (uint32_t)s->spec.layout);
    rcrp_write_u32(&o, (uint32_t)s->spec.dtype);
    rcrp_write_u32(&o, (uint32_t)direction);
    rcrp_write_u32(&o, inplace ? 1u : 0u);
    put_i64(&o, in->n_tokens);
    put_i64(&o, in->n_heads);
    put_i64(&o, in->token_stride);
    put_i64(&o, in->head_stride);
    put_i64(&o, out->token_stride);
    put_i64(&o, out->head_stride);
    for (size_t k = 0; k < 2 * half; k++)
        rcrp_write_u64(&o, rcrp_bits_of(s->theta[k]));
    /* Protocol 2: the output scale (rope.h; 0 means 1). */
    rcrp_write_u64(&o, rcrp_bits_of(s->spec.out_scale_hi));
    rcrp_write_u64(&o, rcrp_bits_of(s->spec.out_scale_lo));
    for (int64_t t = 0; t < in->n_tokens; t++)
        put_i64(&o, positions[t]);
    rcrp_write_u64(&o, in_ext);
    rcrp_write_bytes(&o, in->data, in_ext);
    if (!inplace) {
        rcrp_write_u64(&o, out_ext);
        rcrp_write_bytes(&o, out->data, out_ext);
    }
    rcrp_frame_end(&o);
    if (o.failed) {
        free(o.p);
        return RC_ERR_NOMEM;
    }
    int wrc = write_all(s->p.to, o.p, o.len);
    free(o.p);

    unsigned char *payload = NULL;
    size_t len = 0;
    const size_t want_out = inplace ? in_ext : out_ext;
    /* Even when the write failed, read: the reason (how it died) comes
     * from reaping it there. The request bounds the reply's length, so a
     * runner cannot make the host allocate more than the answer needs. */
    if (read_frame(&s->p, RCRP_RESULT, rc_runner_reply_max_len(want_out, in_ext, inplace), 0,
                   "reply", &payload, &len, err, sizeof err) != 0) {
        set_note("%s%s", err, wrc != 0 ? " (while receiving the request)" : "");
        return RC_ERR_DEVICE;
    }
    rc_runner_reply r;
    rc_status ret;
    if (rc_runner_decode_reply(payload, len, want_out, in_ext, inplace, &r) != 0) {
        ret = fail_device(s, "runner sent a malformed reply (lengths or flags do not match the "
                             "request)");
    } else {
        if (r.out_len)
            memcpy(out->data, r.out, r.out_len);
        /* What the port wrote into its input goes where the harness's
         * audit looks, so it is reported exactly as an in-process port's. */
        if (r.in)
            memcpy(in->data, r.in, r.in_len);
        ret = (rc_status)r.status;
        if (ret != RC_OK && r.message[0])
            set_note("runner refused the request: %s", r.message);
        else if (ret != RC_OK && ret != RC_ERR_UNSUPPORTED)
            set_note("the remote implementation returned %s", rc_status_name(ret));
    }
    free(payload);
    return ret;
}

static void proxy_release(void *state)
{
    proxy_state *s = state;
    if (!s)
        return;
    if (s->p.pid > 0) {
        char how[160];
        stop(&s->p, 5.0, how, sizeof how);
    }
    free(s->theta);
    free(s);
}

/* rc_impl has no context pointer, so each slot gets its own entry points
 * that pass its index on. */
#define RC_SLOT_FNS(i)                                                                    \
    static int avail_##i(char *why, size_t why_len)                                       \
    {                                                                                     \
        return proxy_available(i, why, why_len);                                          \
    }                                                                                     \
    static rc_status prepare_##i(const rc_spec *spec, void **state)                       \
    {                                                                                     \
        return proxy_prepare(i, spec, state);                                             \
    }
RC_SLOT_FNS(0)
RC_SLOT_FNS(1)
RC_SLOT_FNS(2)
RC_SLOT_FNS(3)
RC_SLOT_FNS(4)
RC_SLOT_FNS(5)
RC_SLOT_FNS(6)
RC_SLOT_FNS(7)

static int (*const avail_fns[RC_RUNNER_MAX_IMPLS])(char *, size_t) = {
    avail_0, avail_1, avail_2, avail_3, avail_4, avail_5, avail_6, avail_7};
static rc_status (*const prepare_fns[RC_RUNNER_MAX_IMPLS])(const rc_spec *, void **) = {
    prepare_0, prepare_1, prepare_2, prepare_3, prepare_4, prepare_5, prepare_6, prepare_7};

/* ---- the public functions ----------------------------------------------- */

int rc_runner_open(const char *command, double timeout_s, char *err, size_t err_len)
{
    rc_runner_close();
    if (!command || !*command) {
        snprintf(err, err_len, "--runner needs a command");
        return -1;
    }
    void *m = mmap(NULL, sizeof(note_page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, err_len, "mmap: %s", strerror(errno));
        return -1;
    }
    g_note = m;
    g_note->text[0] = '\0';
    g_command = strdup(command);
    if (!g_command) {
        snprintf(err, err_len, "out of memory");
        rc_runner_close();
        return -1;
    }

    proc p;
    unsigned char *payload = NULL;
    size_t len = 0;
    char why[512];
    rc_runner_offer offers[RC_RUNNER_MAX_IMPLS];
    double deadline = now_s() + (timeout_s > 0 ? timeout_s : 60.0);
    int ok = spawn(command, &p, why, sizeof why) == 0 &&
             read_frame(&p, RCRP_HELLO, HELLO_MAX_PAYLOAD, deadline, "hello", &payload, &len, why,
                        sizeof why) == 0 &&
             rc_runner_parse_hello(payload, len, g_arch, sizeof g_arch, offers, &g_n, why,
                                   sizeof why) == 0;
    free(payload);
    if (p.pid > 0)
        stop(&p, ok ? 5.0 : 0.0, NULL, 0);
    if (!ok) {
        snprintf(err, err_len, "runner `%s`: %s", command, why);
        rc_runner_close();
        return -1;
    }
    for (size_t i = 0; i < g_n; i++) {
        slot *s = &g_slots[i];
        s->o = offers[i];
        s->impl.caps = offers[i].caps;
        /* Prefix the runner's architecture: "[runner, aarch64] ...". */
        char desc[sizeof s->o.description];
        memcpy(desc, s->o.description, sizeof desc);
        size_t k = (size_t)snprintf(s->o.description, sizeof s->o.description,
                                    "[runner, %.24s] ", g_arch);
        if (k < sizeof s->o.description)
            memcpy(s->o.description + k, desc,
                   strnlen(desc, sizeof s->o.description - k - 1) + 1);
        s->o.description[sizeof s->o.description - 1] = '\0';
        s->impl.abi_version = RC_ABI_VERSION;
        s->impl.name = s->o.name;
        s->impl.description = s->o.description;
        s->impl.available = avail_fns[i];
        s->impl.prepare = prepare_fns[i];
        s->impl.apply = proxy_apply;
        s->impl.release = proxy_release;
    }
    return 0;
}

size_t rc_runner_count(void)
{
    return g_n;
}

const rc_impl *rc_runner_get(size_t i)
{
    return i < g_n ? &g_slots[i].impl : NULL;
}

const rc_impl *rc_runner_find(const char *name)
{
    for (size_t i = 0; i < g_n; i++)
        if (strcmp(g_slots[i].o.name, name) == 0)
            return &g_slots[i].impl;
    return NULL;
}

const char *rc_runner_arch(void)
{
    return g_arch;
}

int rc_runner_take_note(char *buf, size_t len)
{
    if (!g_note || !g_note->text[0])
        return 0;
    snprintf(buf, len, "%s", g_note->text);
    g_note->text[0] = '\0';
    return 1;
}

void rc_runner_close(void)
{
    if (g_note)
        munmap(g_note, sizeof(note_page));
    g_note = NULL;
    free(g_command);
    g_command = NULL;
    g_n = 0;
    g_arch[0] = '\0';
    memset(g_slots, 0, sizeof g_slots);
}
