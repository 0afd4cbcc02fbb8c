/*
 * runner/runner.c - ropecheck-runner: runs the implementations built into
 * it on requests read from stdin and writes the outputs to stdout, in the
 * protocol of runner/PROTOCOL.md. The host (ropecheck verify/prove with
 * --runner) computes the exact reference and the verdict; this program
 * only computes, so it needs nothing beyond libc and libm and can be
 * cross-built for a board or an emulator.
 *
 * WHY a separate program: the port under test may only run on another
 * machine (an AArch64 board, qemu-user), where MPFR and the harness need
 * not exist. Anything malformed on stdin ends the program with a message
 * on stderr and exit status 2: the host sees the death and reports it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/spec_check.h"
#include "impls/scalar/scalar.h"
#include "runner/protocol.h"
#if defined(__x86_64__) || defined(__i386__)
#include "impls/avx2/avx2.h"
#define RUNNER_HAS_AVX2 1
#endif
#if defined(__aarch64__)
#include "impls/neon/neon.h"
#define RUNNER_HAS_NEON 1
#endif

#if defined(__aarch64__)
#define RUNNER_ARCH "aarch64"
#elif defined(__x86_64__)
#define RUNNER_ARCH "x86_64"
#elif defined(__i386__)
#define RUNNER_ARCH "i386"
#elif defined(__arm__)
#define RUNNER_ARCH "arm"
#elif defined(__riscv)
#define RUNNER_ARCH "riscv"
#elif defined(__powerpc64__)
#define RUNNER_ARCH "ppc64"
#else
#define RUNNER_ARCH "unknown"
#endif

static const rc_impl *const carried[] = {
    &rc_impl_scalar,
#ifdef RUNNER_HAS_AVX2
    &rc_impl_avx2,
#endif
#ifdef RUNNER_HAS_NEON
    &rc_impl_neon,
    &rc_impl_neon_table,
#endif
};
#define N_CARRIED (sizeof carried / sizeof carried[0])

/* Test hooks (--inject), so the host's handling of a broken runner can be
 * exercised with a runner that is otherwise correct: what to do instead
 * of answering the first APPLY. */
typedef enum inject { INJECT_NONE, INJECT_SEGV, INJECT_HANG, INJECT_GARBAGE, INJECT_EXIT } inject;

static _Noreturn void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "ropecheck-runner: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static const rc_impl *find_carried(const char *name)
{
    for (size_t i = 0; i < N_CARRIED; i++)
        if (strcmp(carried[i]->name, name) == 0)
            return carried[i];
    return NULL;
}

/* Reads exactly n bytes; 0 on success, 1 on a clean EOF before the first
 * byte, -1 on EOF in the middle or an error. */
static int read_full(unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(STDIN_FILENO, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return got == 0 && r == 0 ? 1 : -1;
        got += (size_t)r;
    }
    return 0;
}

static void write_full(const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("cannot write to stdout: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

static void send_hello(const rc_impl *const *list, size_t n)
{
    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_HELLO);
    rcrp_write_u32(&o, RCRP_VERSION);
    rcrp_write_str(&o, RUNNER_ARCH);
    rcrp_write_u32(&o, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        char why[256] = "";
        int avail = list[i]->available ? list[i]->available(why, sizeof why) : 1;
        why[sizeof why - 1] = '\0';
        rcrp_write_str(&o, list[i]->name);
        rcrp_write_str(&o, list[i]->description);
        rcrp_write_u64(&o, list[i]->caps);
        rcrp_write_u32(&o, avail ? 1u : 0u);
        rcrp_write_str(&o, avail ? "" : why);
    }
    rcrp_frame_end(&o);
    if (o.failed)
        die("out of memory%s", "");
    write_full(o.p, o.len);
    free(o.p);
}

static void send_result(uint32_t status, const unsigned char *out, size_t out_len,
                        const unsigned char *in, size_t in_len, const char *msg)
{
    rcrp_out o = {0};
    rcrp_frame_begin(&o, RCRP_RESULT);
    rcrp_write_u32(&o, status);
    rcrp_write_u32(&o, in ? RCRP_FLAG_INPUT_CHANGED : 0u);
    rcrp_write_u64(&o, out_len);
    rcrp_write_bytes(&o, out, out_len);
    if (in) {
        rcrp_write_u64(&o, in_len);
        rcrp_write_bytes(&o, in, in_len);
    }
    rcrp_write_str(&o, msg);
    rcrp_frame_end(&o);
    if (o.failed)
        die("out of memory for a reply%s", "");
    write_full(o.p, o.len);
    free(o.p);
}

/* A refused request: the host reports it (status INVALID, with why). */
static void refuse(const char *why)
{
    send_result(RC_ERR_INVALID, NULL, 0, NULL, 0, why);
}

static int64_t i64_of(uint64_t u)
{
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* One APPLY: decode, run prepare + apply + release, answer. Malformed
 * framing (lengths that do not add up) is fatal; a well-formed request
 * that makes no sense is refused with a reason. */
static void handle_apply(const unsigned char *payload, size_t len, const rc_impl *const *list,
                         size_t n_list)
{
    rcrp_in in = {payload, len, 0, 0};
    char name[128], why[256];
    rcrp_read_str(&in, name, sizeof name);
    rc_spec spec;
    spec.scaling = NULL; /* the family stays on the host (PROTOCOL.md) */
    spec.head_dim = (int32_t)rcrp_read_u32(&in);
    spec.rotary_dim = (int32_t)rcrp_read_u32(&in);
    spec.base = rcrp_double_of(rcrp_read_u64(&in));
    uint32_t layout = rcrp_read_u32(&in), dtype = rcrp_read_u32(&in);
    uint32_t direction = rcrp_read_u32(&in), inplace = rcrp_read_u32(&in);
    int64_t shape[6];
    for (int i = 0; i < 6; i++)
        shape[i] = i64_of(rcrp_read_u64(&in));
    if (in.bad)
        die("malformed APPLY frame: %s", "truncated header");

    const rc_impl *impl = NULL;
    for (size_t i = 0; i < n_list; i++)
        if (strcmp(list[i]->name, name) == 0)
            impl = list[i];
    if (!impl) {
        snprintf(why, sizeof why, "this runner does not carry '%s'", name);
        refuse(why);
        return;
    }
    if (layout >= RC_LAYOUT_COUNT || dtype >= RC_DTYPE_COUNT || direction >= RC_DIRECTION_COUNT ||
        inplace > 1u) {
        refuse("bad layout, dtype, direction or in-place flag");
        return;
    }
    if (rc_spec_check(spec.head_dim, spec.rotary_dim, spec.base, why, sizeof why) != 0) {
        refuse(why);
        return;
    }
    spec.layout = (rc_layout)layout;
    spec.dtype = (rc_dtype)dtype;
    const size_t esize = rc_dtype_size(spec.dtype);
    const int64_t n_tokens = shape[0], n_heads = shape[1];
    size_t in_extent, out_extent;
    if (rc_shape_check(n_tokens, n_heads, spec.head_dim, shape[2], shape[3], esize, &in_extent,
                       why, sizeof why) ||
        rc_shape_check(n_tokens, n_heads, spec.head_dim, shape[4], shape[5], esize, &out_extent,
                       why, sizeof why)) {
        refuse(why);
        return;
    }
    if ((uint64_t)n_tokens > RCRP_MAX_PAYLOAD / 8 || (inplace && (shape[2] != shape[4] ||
                                                                  shape[3] != shape[5])))
        die("malformed APPLY frame: %s", "inconsistent shape");

    const size_t half = (size_t)spec.rotary_dim / 2;
    double *theta = malloc(2 * half * sizeof *theta);
    int64_t *positions = malloc((size_t)n_tokens * sizeof *positions);
    if (!theta || !positions)
        die("out of memory%s", "");
    for (size_t i = 0; i < 2 * half; i++)
        theta[i] = rcrp_double_of(rcrp_read_u64(&in));
    spec.out_scale_hi = rcrp_double_of(rcrp_read_u64(&in));
    spec.out_scale_lo = rcrp_double_of(rcrp_read_u64(&in));
    for (int64_t t = 0; t < n_tokens; t++)
        positions[t] = i64_of(rcrp_read_u64(&in));
    spec.theta_hi = theta;
    spec.theta_lo = theta + half;

    /* The buffers as the host has them: the input's extent, then (out of
     * place) the output's, gaps included, so what the port writes into a
     * gap goes back and the host's audit sees it. */
    uint64_t in_len = rcrp_read_u64(&in);
    const unsigned char *in_src = rcrp_take(&in, (size_t)in_len);
    uint64_t out_len = inplace ? 0 : rcrp_read_u64(&in);
    const unsigned char *out_src = inplace ? NULL : rcrp_take(&in, (size_t)out_len);
    if (in.bad || in.at != in.len || in_len != in_extent || (!inplace && out_len != out_extent))
        die("malformed APPLY frame: %s", "buffer lengths do not match the shape");

    /* Own copies: a malloc'ed block is aligned for every element type,
     * which the frame's bytes are not. */
    unsigned char *inb = malloc(in_extent ? in_extent : 1);
    unsigned char *outb = inplace ? inb : malloc(out_extent ? out_extent : 1);
    unsigned char *in_copy = inplace ? NULL : malloc(in_extent ? in_extent : 1);
    if (!inb || !outb || (!inplace && !in_copy))
        die("out of memory for the tensors%s", "");
    memcpy(inb, in_src, in_extent);
    if (!inplace) {
        memcpy(outb, out_src, out_extent);
        memcpy(in_copy, in_src, in_extent);
    }
    rc_tensor tin = {inb, n_tokens, n_heads, shape[2], shape[3]};
    rc_tensor tout = {outb, n_tokens, n_heads, shape[4], shape[5]};

    void *state = NULL;
    rc_status st = impl->prepare(&spec, &state);
    if (st == RC_OK) {
        st = impl->apply(state, &tin, &tout, positions, (rc_direction)direction);
        if (impl->release)
            impl->release(state);
    }
    int changed = !inplace && memcmp(inb, in_copy, in_extent) != 0;
    send_result((uint32_t)st, st == RC_OK || changed ? outb : NULL,
                st == RC_OK || changed ? (inplace ? in_extent : out_extent) : 0,
                changed ? inb : NULL, in_extent, "");
    free(theta);
    free(positions);
    free(inb);
    if (!inplace) {
        free(outb);
        free(in_copy);
    }
}

static void do_injection(inject what)
{
    switch (what) {
    case INJECT_SEGV: raise(SIGSEGV); break;
    case INJECT_HANG:
        for (;;)
            pause();
    case INJECT_GARBAGE: write_full((const unsigned char *)"garbage, not a frame\n", 21); exit(0);
    case INJECT_EXIT: exit(7);
    case INJECT_NONE: break;
    }
}

static void serve(const rc_impl *const *list, size_t n, inject what)
{
    send_hello(list, n);
    for (;;) {
        unsigned char hdr[RCRP_HEADER_BYTES];
        int r = read_full(hdr, sizeof hdr);
        if (r == 1)
            return; /* the host closed our stdin: done */
        if (r < 0)
            die("malformed input: %s", "truncated frame header");
        uint32_t magic = rcrp_get_u32(hdr), type = rcrp_get_u32(hdr + 4);
        uint64_t len = rcrp_get_u64(hdr + 8);
        if (magic != RCRP_MAGIC)
            die("malformed input: %s", "bad magic (is the host speaking this protocol?)");
        if (type != RCRP_APPLY)
            die("malformed input: %s", "unexpected frame type");
        if (len > RCRP_MAX_PAYLOAD || len > SIZE_MAX)
            die("malformed input: %s", "payload length beyond the limit");
        unsigned char *payload = malloc(len ? (size_t)len : 1);
        if (!payload)
            die("out of memory for a %s-byte frame", "large");
        if (read_full(payload, (size_t)len) != 0)
            die("malformed input: %s", "truncated payload");
        if (what != INJECT_NONE)
            do_injection(what);
        handle_apply(payload, (size_t)len, list, n);
        free(payload);
    }
}

static const char usage[] =
    "usage: ropecheck-runner [--impl NAME[,NAME]] [--inject segv|hang|garbage|exit]\n"
    "       ropecheck-runner --list\n"
    "Serves the protocol of runner/PROTOCOL.md on stdin/stdout for ropecheck's\n"
    "--runner option. --impl limits what it offers (default: everything built in).\n"
    "--inject makes it misbehave on the first request (for testing the host).\n";

int main(int argc, char **argv)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    if (first != 1)
        die("tensor bytes travel little-endian; this %s machine is big-endian", RUNNER_ARCH);

    const rc_impl *list[N_CARRIED];
    size_t n = 0;
    inject what = INJECT_NONE;
    int list_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            list_only = 1;
        } else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc) {
            char *names = argv[++i], *save = NULL;
            for (char *nm = strtok_r(names, ",", &save); nm; nm = strtok_r(NULL, ",", &save)) {
                const rc_impl *impl = find_carried(nm);
                if (!impl)
                    die("this runner does not carry '%s' (--list shows what it does)", nm);
                int dup = 0;
                for (size_t k = 0; k < n; k++)
                    dup |= list[k] == impl;
                if (!dup)
                    list[n++] = impl;
            }
        } else if (strcmp(argv[i], "--inject") == 0 && i + 1 < argc) {
            const char *w = argv[++i];
            what = strcmp(w, "segv") == 0      ? INJECT_SEGV
                   : strcmp(w, "hang") == 0    ? INJECT_HANG
                   : strcmp(w, "garbage") == 0 ? INJECT_GARBAGE
                   : strcmp(w, "exit") == 0    ? INJECT_EXIT
                                               : (die("unknown --inject '%s'", w), INJECT_NONE);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            die("bad argument '%s'", argv[i]);
        }
    }
    if (n == 0)
        for (size_t i = 0; i < N_CARRIED; i++)
            list[n++] = carried[i];
    if (list_only) {
        printf("ropecheck-runner, protocol %u, %s\n", RCRP_VERSION, RUNNER_ARCH);
        for (size_t i = 0; i < n; i++) {
            char why[256] = "";
            int avail = list[i]->available ? list[i]->available(why, sizeof why) : 1;
            printf("  %-10s %-12s %s\n", list[i]->name, avail ? "available" : "unavailable",
                   avail ? list[i]->description : why);
        }
        return 0;
    }
    serve(list, n, what);
    return 0;
}
