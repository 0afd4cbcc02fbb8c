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

/* The protocol version this runner speaks: RCRP_VERSION, or 2 with
 * --protocol 2 (to test that a host still serves version-2 runners). */
static uint32_t g_version = RCRP_VERSION;

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
    rcrp_write_u32(&o, g_version);
    rcrp_write_str(&o, RUNNER_ARCH);
    rcrp_write_u32(&o, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        char why[256] = "";
        int avail = list[i]->available ? list[i]->available(why, sizeof why) : 1;
        why[sizeof why - 1] = '\0';
        rcrp_write_str(&o, list[i]->name);
        rcrp_write_str(&o, list[i]->description);
        /* Before version 4 APPLY carries one position per token: no
         * multi-axis offer then, whatever the port could do. */
        rcrp_write_u64(&o, g_version >= 4 ? list[i]->caps : list[i]->caps & ~RC_CAP_MULTI_AXIS);
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
    if (g_version >= 3)
        rcrp_write_u32(&o, 0u); /* version 3: no table of its own (the ports
                                   here use the host's exact table) */
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
    return rcrp_i64_of(u);
}

/* ---- decoding an APPLY (pure: no I/O, no exit) ---------------------------
 *
 * WHY in pieces: serve() reads an APPLY's head first and checks the
 * frame's announced length against what the head's shape implies before
 * it allocates the payload, so a corrupted or hostile length cannot make
 * the runner allocate (or read) more than the request itself. The same
 * functions decode the whole payload, and tests/fuzz feeds them bytes. */

/* The fixed fields after the name: head_dim, rotary_dim (u32), base
 * (u64), layout, dtype, direction, inplace (u32), six i64; version 3 adds
 * the scaling family and n_factors (u32), version 4 n_axes and
 * freq_period (u32). */
#define APPLY_FIXED_BYTES_V2 (4u + 4u + 8u + 4u * 4u + 6u * 8u)
#define APPLY_FIXED_BYTES                                                                      \
    (APPLY_FIXED_BYTES_V2 + (g_version >= 3 ? 8u : 0u) + (g_version >= 4 ? 8u : 0u))
/* The longest head: the name string at its longest, then the fields. */
#define APPLY_HEAD_MAX (2u + RCRP_MAX_STRING + APPLY_FIXED_BYTES_V2 + 16u)

/* An APPLY's head: the name and every field before the theta table. */
typedef struct apply_head {
    char name[128];
    int32_t head_dim, rotary_dim;
    double base;
    uint32_t layout, dtype, direction, inplace;
    int64_t shape[6]; /* tokens, heads, in strides, out strides */
    uint32_t family, n_factors; /* version 3 (else 0) */
    uint32_t n_axes, freq_period; /* version 4 (else 0): multi-axis RoPE */
} apply_head;

typedef enum apply_verdict {
    APPLY_OK,       /* decoded and checked */
    APPLY_REFUSE,   /* well-formed but not servable: answer status 2 with why */
    APPLY_MALFORMED /* the framing is wrong: die with why */
} apply_verdict;

/* A decoded, checked request. theta and positions are malloc'ed; in_src
 * and out_src point into the payload. apply_req_free releases it. */
typedef struct apply_req {
    const rc_impl *impl;
    rc_spec spec;
    rc_direction direction;
    int inplace;
    int64_t shape[6];
    size_t in_extent, out_extent;
    double *theta;
    int64_t *positions;
    const unsigned char *in_src, *out_src;
    rc_scaling scaling;   /* version 3: the family (spec.scaling points here
                             unless it is none) */
    double *factors;      /* version 3: short then long, n_factors each */
    uint8_t pair_axis[RC_MAX_HEAD_DIM / 2]; /* version 4, n_axes >= 2 */
} apply_req;

static void apply_req_free(apply_req *r)
{
    free(r->theta);
    free(r->positions);
    free(r->factors);
    r->theta = NULL;
    r->positions = NULL;
    r->factors = NULL;
}

/* Decodes the head from the first len bytes of a payload. APPLY_OK with
 * *used (its bytes), or APPLY_MALFORMED when they do not hold one. */
static apply_verdict decode_head(const unsigned char *p, size_t len, apply_head *h, size_t *used,
                                 char *why, size_t why_len)
{
    rcrp_in in = {p, len, 0, 0};
    memset(h, 0, sizeof *h);
    /* The name: at most RCRP_MAX_STRING bytes (PROTOCOL.md), which bounds
     * the head serve() reads before it knows the length is right. */
    if (len >= 2 && rcrp_get_u16(p) > RCRP_MAX_STRING) {
        snprintf(why, why_len, "implementation name longer than %u bytes", RCRP_MAX_STRING);
        return APPLY_MALFORMED;
    }
    rcrp_read_str(&in, h->name, sizeof h->name);
    h->head_dim = (int32_t)rcrp_read_u32(&in);
    h->rotary_dim = (int32_t)rcrp_read_u32(&in);
    h->base = rcrp_double_of(rcrp_read_u64(&in));
    h->layout = rcrp_read_u32(&in);
    h->dtype = rcrp_read_u32(&in);
    h->direction = rcrp_read_u32(&in);
    h->inplace = rcrp_read_u32(&in);
    for (int i = 0; i < 6; i++)
        h->shape[i] = i64_of(rcrp_read_u64(&in));
    if (g_version >= 3) {
        h->family = rcrp_read_u32(&in);
        h->n_factors = rcrp_read_u32(&in);
    }
    if (g_version >= 4) {
        h->n_axes = rcrp_read_u32(&in);
        h->freq_period = rcrp_read_u32(&in);
    }
    if (in.bad) {
        snprintf(why, why_len, "truncated header");
        return APPLY_MALFORMED;
    }
    *used = in.at;
    return APPLY_OK;
}

/* Checks a head (head_bytes long) against what this runner carries.
 * APPLY_OK with the implementation, both extents and the payload length
 * the shape implies; APPLY_REFUSE or APPLY_MALFORMED with why. */
static apply_verdict check_head(const apply_head *h, size_t head_bytes,
                                const rc_impl *const *list, size_t n_list,
                                const rc_impl **impl, size_t *in_extent, size_t *out_extent,
                                uint64_t *payload_len, char *why, size_t why_len)
{
    *impl = NULL;
    for (size_t i = 0; i < n_list; i++)
        if (strcmp(list[i]->name, h->name) == 0)
            *impl = list[i];
    if (!*impl) {
        snprintf(why, why_len, "this runner does not carry '%s'", h->name);
        return APPLY_REFUSE;
    }
    if (h->layout >= RC_LAYOUT_COUNT || h->dtype >= RC_DTYPE_COUNT ||
        h->direction >= RC_DIRECTION_COUNT || h->inplace > 1u) {
        snprintf(why, why_len, "bad layout, dtype, direction or in-place flag");
        return APPLY_REFUSE;
    }
    if (h->family >= RC_SCALING_TYPE_COUNT) {
        snprintf(why, why_len, "unknown scaling family %u", (unsigned)h->family);
        return APPLY_REFUSE;
    }
    if (rc_spec_check(h->head_dim, h->rotary_dim, h->base, why, why_len) != 0)
        return APPLY_REFUSE;
    if (h->n_axes > RC_MAX_AXES || h->freq_period > (uint32_t)h->rotary_dim / 2) {
        snprintf(why, why_len, "%u axes, frequency period %u: at most %d axes and r/2 pairs",
                 (unsigned)h->n_axes, (unsigned)h->freq_period, RC_MAX_AXES);
        return APPLY_REFUSE;
    }
    const size_t esize = rc_dtype_size((rc_dtype)h->dtype);
    const int64_t *shape = h->shape;
    if (rc_shape_check(shape[0], shape[1], h->head_dim, shape[2], shape[3], esize, in_extent,
                       why, why_len) ||
        rc_shape_check(shape[0], shape[1], h->head_dim, shape[4], shape[5], esize, out_extent,
                       why, why_len))
        return APPLY_REFUSE;
    const uint64_t per_token = h->n_axes >= 2 ? h->n_axes : 1; /* positions */
    if ((uint64_t)shape[0] > RCRP_MAX_PAYLOAD / 32 ||
        (h->inplace && (shape[2] != shape[4] || shape[3] != shape[5]))) {
        snprintf(why, why_len, "inconsistent shape");
        return APPLY_MALFORMED;
    }
    /* The buffers alone would exceed any frame: the length cannot match. */
    if ((uint64_t)*in_extent > RCRP_MAX_PAYLOAD || (uint64_t)*out_extent > RCRP_MAX_PAYLOAD) {
        snprintf(why, why_len, "buffer lengths do not match the shape");
        return APPLY_MALFORMED;
    }
    /* Every term is below 2^37: the sum cannot overflow. */
    const uint64_t half = (uint64_t)h->rotary_dim / 2;
    if (h->n_factors != 0 && h->n_factors != half) {
        snprintf(why, why_len, "%u scaling factors for %u pairs", (unsigned)h->n_factors,
                 (unsigned)half);
        return APPLY_MALFORMED;
    }
    uint64_t n = (uint64_t)head_bytes + 16 * half /* theta hi, lo */ + 16 /* out scale */ +
                 8 * per_token * (uint64_t)shape[0] /* positions */ + 8 +
                 (uint64_t)*in_extent;
    if (h->n_axes >= 2) /* version 4: the map */
        n += half;
    if (g_version >= 3) /* the family's parameters and factors */
        n += RCRP_SCALING_PARAM_BYTES + 16 * (uint64_t)h->n_factors;
    if (!h->inplace)
        n += 8 + (uint64_t)*out_extent;
    *payload_len = n;
    return APPLY_OK;
}

/* Decodes a whole APPLY payload. APPLY_OK with *req filled (release it
 * with apply_req_free), APPLY_REFUSE or APPLY_MALFORMED with why (and
 * nothing to free). */
static apply_verdict decode_apply(const unsigned char *payload, size_t len,
                                  const rc_impl *const *list, size_t n_list, apply_req *req,
                                  char *why, size_t why_len)
{
    memset(req, 0, sizeof *req);
    apply_head h;
    size_t head_bytes = 0;
    apply_verdict v = decode_head(payload, len, &h, &head_bytes, why, why_len);
    uint64_t want_len = 0;
    if (v == APPLY_OK)
        v = check_head(&h, head_bytes, list, n_list, &req->impl, &req->in_extent,
                       &req->out_extent, &want_len, why, why_len);
    if (v != APPLY_OK)
        return v;
    if (want_len != (uint64_t)len) {
        snprintf(why, why_len, "buffer lengths do not match the shape");
        return APPLY_MALFORMED;
    }
    rcrp_in in = {payload, len, head_bytes, 0};
    rc_spec *spec = &req->spec;
    spec->scaling = NULL; /* version 2: the family stays on the host */
    spec->head_dim = h.head_dim;
    spec->rotary_dim = h.rotary_dim;
    spec->base = h.base;
    spec->layout = (rc_layout)h.layout;
    spec->dtype = (rc_dtype)h.dtype;
    req->direction = (rc_direction)h.direction;
    req->inplace = h.inplace != 0;
    memcpy(req->shape, h.shape, sizeof req->shape);
    const int64_t n_tokens = h.shape[0];

    /* Both sizes are bounded by len, which matched the shape. */
    const size_t half = (size_t)spec->rotary_dim / 2;
    req->theta = malloc(2 * half * sizeof *req->theta);
    const size_t per_token = h.n_axes >= 2 ? h.n_axes : 1;
    req->positions = malloc((size_t)n_tokens * per_token * sizeof *req->positions);
    if (!req->theta || !req->positions) {
        apply_req_free(req);
        snprintf(why, why_len, "out of memory");
        return APPLY_MALFORMED;
    }
    for (size_t i = 0; i < 2 * half; i++)
        req->theta[i] = rcrp_double_of(rcrp_read_u64(&in));
    spec->out_scale_hi = rcrp_double_of(rcrp_read_u64(&in));
    spec->out_scale_lo = rcrp_double_of(rcrp_read_u64(&in));
    if (g_version >= 3) {
        /* The family, for ports that build their own table; the ports
         * carried here use the exact one, so it is only passed on. */
        rc_scaling *sc = &req->scaling;
        rcrp_read_scaling(&in, sc);
        sc->type = (rc_scaling_type)h.family;
        if (h.n_factors) {
            req->factors = malloc(2 * (size_t)h.n_factors * sizeof *req->factors);
            if (!req->factors) {
                apply_req_free(req);
                snprintf(why, why_len, "out of memory");
                return APPLY_MALFORMED;
            }
            for (size_t i = 0; i < 2 * (size_t)h.n_factors; i++)
                req->factors[i] = rcrp_double_of(rcrp_read_u64(&in));
            sc->short_factor = req->factors;
            sc->long_factor = req->factors + h.n_factors;
        }
        if (sc->type == RC_SCALING_TABLE)
            sc->table = req->theta; /* the frequencies are theta itself */
        if (sc->type != RC_SCALING_NONE)
            spec->scaling = sc;
    }
    if (h.n_axes >= 2) { /* version 4: the map, each pair's axis below n_axes */
        const unsigned char *map = rcrp_take(&in, half);
        for (size_t i = 0; map && i < half; i++) {
            if (map[i] >= h.n_axes) {
                apply_req_free(req);
                snprintf(why, why_len, "pair %zu on axis %u of %u", i, (unsigned)map[i],
                         (unsigned)h.n_axes);
                return APPLY_REFUSE;
            }
            req->pair_axis[i] = map[i];
        }
        spec->n_axes = (int32_t)h.n_axes;
        spec->pair_axis = req->pair_axis;
    }
    spec->freq_period = (int32_t)h.freq_period;
    for (int64_t t = 0; t < n_tokens * (int64_t)per_token; t++)
        req->positions[t] = i64_of(rcrp_read_u64(&in));
    spec->theta_hi = req->theta;
    spec->theta_lo = req->theta + half;

    /* The buffers as the host has them: the input's extent, then (out of
     * place) the output's, gaps included, so what the port writes into a
     * gap goes back and the host's audit sees it. */
    uint64_t in_len = rcrp_read_u64(&in);
    req->in_src = in_len == req->in_extent ? rcrp_take(&in, req->in_extent) : NULL;
    uint64_t out_len = req->inplace ? 0 : rcrp_read_u64(&in);
    req->out_src = req->inplace || out_len != req->out_extent
                       ? NULL
                       : rcrp_take(&in, req->out_extent);
    if (in.bad || in.at != in.len || in_len != req->in_extent ||
        (!req->inplace && out_len != req->out_extent)) {
        apply_req_free(req);
        snprintf(why, why_len, "buffer lengths do not match the shape");
        return APPLY_MALFORMED;
    }
    return APPLY_OK;
}

/* ---- serving ------------------------------------------------------------ */

/* One decoded APPLY: run prepare + apply + release on copies of its
 * buffers and answer. */
static void run_apply(const apply_req *req)
{
    const int inplace = req->inplace;
    const size_t in_extent = req->in_extent, out_extent = req->out_extent;
    /* Own copies: a malloc'ed block is aligned for every element type,
     * which the frame's bytes are not. */
    unsigned char *inb = malloc(in_extent ? in_extent : 1);
    unsigned char *outb = inplace ? inb : malloc(out_extent ? out_extent : 1);
    unsigned char *in_copy = inplace ? NULL : malloc(in_extent ? in_extent : 1);
    if (!inb || !outb || (!inplace && !in_copy))
        die("out of memory for the tensors%s", "");
    memcpy(inb, req->in_src, in_extent);
    if (!inplace) {
        memcpy(outb, req->out_src, out_extent);
        memcpy(in_copy, req->in_src, in_extent);
    }
    const int64_t *shape = req->shape;
    rc_tensor tin = {inb, shape[0], shape[1], shape[2], shape[3]};
    rc_tensor tout = {outb, shape[0], shape[1], shape[4], shape[5]};

    void *state = NULL;
    const rc_impl *impl = req->impl;
    rc_status st = impl->prepare(&req->spec, &state);
    if (st == RC_OK) {
        st = impl->apply(state, &tin, &tout, req->positions, req->direction);
        if (impl->release)
            impl->release(state);
    }
    int changed = !inplace && memcmp(inb, in_copy, in_extent) != 0;
    send_result((uint32_t)st, st == RC_OK || changed ? outb : NULL,
                st == RC_OK || changed ? (inplace ? in_extent : out_extent) : 0,
                changed ? inb : NULL, in_extent, "");
    free(inb);
    if (!inplace) {
        free(outb);
        free(in_copy);
    }
}

/* One APPLY payload, whole: decode, run, answer. Malformed framing
 * (lengths that do not add up) is fatal; a well-formed request that makes
 * no sense is refused with a reason. */
static void handle_apply(const unsigned char *payload, size_t len, const rc_impl *const *list,
                         size_t n_list)
{
    apply_req req;
    char why[256];
    switch (decode_apply(payload, len, list, n_list, &req, why, sizeof why)) {
    case APPLY_OK:
        run_apply(&req);
        apply_req_free(&req);
        break;
    case APPLY_REFUSE: refuse(why); break;
    case APPLY_MALFORMED: die("malformed APPLY frame: %s", why);
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

/* Reads and drops n bytes of stdin (the rest of a refused request). */
static void skip_payload(uint64_t n)
{
    unsigned char buf[1 << 14];
    while (n) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (read_full(buf, k) != 0)
            die("malformed input: %s", "truncated payload");
        n -= k;
    }
}

static void serve(const rc_impl *const *list, size_t n, inject what, long inject_after)
{
    send_hello(list, n);
    for (long served = 0;; served++) {
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
        /* The head first (a few KiB at most): the payload is allocated
         * only once its length is the one the head's shape implies. */
        unsigned char head[APPLY_HEAD_MAX];
        size_t head_len = len < 2 ? (size_t)len : 2;
        if (read_full(head, head_len) != 0)
            die("malformed input: %s", "truncated payload");
        if (head_len == 2) {
            size_t want = 2 + (size_t)rcrp_get_u16(head) + APPLY_FIXED_BYTES;
            if (want > APPLY_HEAD_MAX)
                want = 2; /* decode_head names the fault */
            head_len = len < want ? (size_t)len : want;
            if (read_full(head + 2, head_len - 2) != 0)
                die("malformed input: %s", "truncated payload");
        }
        if (what != INJECT_NONE && served >= inject_after) {
            skip_payload(len - head_len);
            do_injection(what);
        }
        apply_head h;
        const rc_impl *impl;
        size_t used = 0, in_ext, out_ext;
        uint64_t want_len = 0;
        char why[256];
        apply_verdict v = decode_head(head, head_len, &h, &used, why, sizeof why);
        if (v == APPLY_OK)
            v = check_head(&h, used, list, n, &impl, &in_ext, &out_ext, &want_len, why,
                           sizeof why);
        if (v == APPLY_MALFORMED)
            die("malformed APPLY frame: %s", why);
        if (v == APPLY_REFUSE) {
            skip_payload(len - head_len);
            refuse(why);
            continue;
        }
        if (want_len != len)
            die("malformed APPLY frame: %s", "payload length does not match the shape");
        unsigned char *payload = malloc(len ? (size_t)len : 1);
        if (!payload)
            die("out of memory for a %s-byte frame", "large");
        memcpy(payload, head, head_len);
        if (read_full(payload + head_len, (size_t)len - head_len) != 0)
            die("malformed input: %s", "truncated payload");
        handle_apply(payload, (size_t)len, list, n);
        free(payload);
    }
}

static const char usage[] =
    "usage: ropecheck-runner [--impl NAME[,NAME]] [--protocol 2|3|4]\n"
    "                        [--inject segv|hang|garbage|exit [--inject-after N]]\n"
    "       ropecheck-runner --list\n"
    "Serves the protocol of runner/PROTOCOL.md on stdin/stdout for ropecheck's\n"
    "--runner option. --impl limits what it offers (default: everything built in).\n"
    "--protocol 2 or 3 speaks an earlier version (default 4).\n"
    "--inject makes it misbehave on the first request, or after N served ones\n"
    "(for testing the host).\n";

#ifndef ROPECHECK_RUNNER_NO_MAIN /* tests/fuzz includes this file for its decoders */
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
    long inject_after = 0;
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
        } else if (strcmp(argv[i], "--inject-after") == 0 && i + 1 < argc) {
            char *end;
            inject_after = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || inject_after < 0)
                die("--inject-after takes a count >= 0, not '%s'", argv[i]);
        } else if (strcmp(argv[i], "--protocol") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "2") == 0)
                g_version = 2;
            else if (strcmp(v, "3") == 0)
                g_version = 3;
            else if (strcmp(v, "4") == 0)
                g_version = 4;
            else
                die("--protocol takes 2, 3 or 4, not '%s'", v);
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
        printf("ropecheck-runner, protocol %u, %s\n", (unsigned)g_version, RUNNER_ARCH);
        for (size_t i = 0; i < n; i++) {
            char why[256] = "";
            int avail = list[i]->available ? list[i]->available(why, sizeof why) : 1;
            printf("  %-10s %-12s %s\n", list[i]->name, avail ? "available" : "unavailable",
                   avail ? list[i]->description : why);
        }
        return 0;
    }
    serve(list, n, what, inject_after);
    return 0;
}
#endif /* ROPECHECK_RUNNER_NO_MAIN */
