/*
 * harness/runner_client.c - drive one ropecheck-runner for a whole run;
 * see runner_client.h for the lifetime and failure rules and
 * runner/PROTOCOL.md for the frames.
 *
 * Who does what. The host process starts the runner and reads its hello
 * (rc_runner_open, and again in before_call after a failure). Each guarded
 * call forks a child that runs the proxies below: they use the pipes the
 * child inherited, and record in a page shared with the host whether the
 * exchange finished (SESSION_CLEAN), is in progress (SESSION_BUSY: the
 * child was killed mid-exchange) or failed (SESSION_LOST). The host's
 * after_call hook (harness/guarded_call.h) reaps a runner that failed and
 * completes the note with how it ended; its before_call hook starts a
 * fresh runner for the next call. Only the host ever reaps the runner.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "harness/runner_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/spec_check.h"
#include "harness/guarded_call.h"
#include "harness/runner_decode.h"
#include "harness/runner_proc.h"
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

typedef enum session_state {
    SESSION_CLEAN = 0, /* no exchange in progress: the next request may go */
    SESSION_BUSY,      /* a request went out and its reply was not read */
    SESSION_LOST       /* the runner failed (died, malformed frame): restart */
} session_state;

/* Shared between the host and its guarded children. */
typedef struct shared_page {
    char text[1024];        /* the note: why the last call failed */
    int state;              /* session_state */
    int ended;              /* SESSION_LOST by end of file: the host appends how */
    int unavailable;        /* the host could not (re)start the runner: text says why */
    uint32_t n_table;       /* the last reply's own frequency table (version 3) */
    double table[RC_MAX_HEAD_DIM / 2];
} shared_page;

static char *g_command;
static char g_arch[32];
static slot g_slots[RC_RUNNER_MAX_IMPLS];
static size_t g_n;
static uint32_t g_version;   /* the runner's protocol version */
static shared_page *g_shared;
static rc_runner_proc g_live = {-1, -1, -1, 0, 0}; /* host only */
static unsigned long g_starts; /* runner processes started this run */

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void set_note(const char *fmt, ...)
{
    if (!g_shared)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_shared->text, sizeof g_shared->text, fmt, ap);
    va_end(ap);
}

/* ---- starting a runner (host only) -------------------------------------- */

/* Starts the command and reads its hello within timeout_s. 0 with the
 * offers, or -1 with one line in err (the runner is stopped then). */
static int start_runner(double timeout_s, char *arch, size_t arch_len, rc_runner_offer *offers,
                        size_t *n, uint32_t *version, char *err, size_t err_len)
{
    unsigned char *payload = NULL;
    size_t len = 0;
    char why[512];
    rc_runner_read_fail fail = RC_RUNNER_READ_BAD;
    const double deadline = rc_runner_now() + (timeout_s > 0 ? timeout_s : 60.0);
    if (rc_runner_spawn(g_command, &g_live, why, sizeof why) != 0) {
        snprintf(err, err_len, "%s", why);
        return -1;
    }
    g_starts++;
    int ok = rc_runner_read_frame(g_live.from, RCRP_HELLO, HELLO_MAX_PAYLOAD, deadline, "hello",
                                  &payload, &len, &fail, why, sizeof why) == 0 &&
             rc_runner_parse_hello(payload, len, version, arch, arch_len, offers, n, why,
                                   sizeof why) == 0;
    free(payload);
    if (ok)
        return 0;
    char how[160] = "";
    rc_runner_stop(&g_live, fail == RC_RUNNER_READ_ENDED ? 5.0 : 0.0, how, sizeof how);
    /* Whatever the lengths, never truncated silently by the compiler's
     * reckoning: the pieces are joined by hand. */
    snprintf(err, err_len, "%s", why);
    if (fail == RC_RUNNER_READ_ENDED) {
        const size_t k = strnlen(err, err_len);
        if (k + 2 < err_len)
            snprintf(err + k, err_len - k, ": %.*s", (int)(err_len - k - 3), how);
    }
    return -1;
}

/* A fresh runner after a failure: the same implementations, the same
 * version, or the calls that follow cannot be served. */
static int restart_runner(double timeout_s, char *err, size_t err_len)
{
    char arch[32];
    rc_runner_offer seen[RC_RUNNER_MAX_IMPLS];
    size_t n = 0;
    uint32_t version = 0;
    if (start_runner(timeout_s, arch, sizeof arch, seen, &n, &version, err, err_len) != 0)
        return -1;
    const char *missing = NULL;
    for (size_t i = 0; i < g_n && !missing; i++) {
        int listed = 0;
        for (size_t k = 0; k < n; k++)
            listed |= strcmp(seen[k].name, g_slots[i].o.name) == 0;
        if (!listed)
            missing = g_slots[i].o.name;
    }
    if (missing || version != g_version) {
        if (missing)
            snprintf(err, err_len, "the restarted runner no longer offers '%s'", missing);
        else
            snprintf(err, err_len, "the restarted runner speaks protocol %u, not %u",
                     (unsigned)version, (unsigned)g_version);
        rc_runner_stop(&g_live, 0.0, NULL, 0);
        return -1;
    }
    return 0;
}

static int is_ours(const rc_impl *impl)
{
    for (size_t i = 0; i < g_n; i++)
        if (impl == &g_slots[i].impl)
            return 1;
    return 0;
}

/* Host, before every guarded call: a clean, running runner for a call to
 * one of ours (restarted after a failure). If none can be had the call's
 * proxies report why. */
static void before_call(const rc_impl *impl, double timeout_s)
{
    if (!g_shared || !is_ours(impl))
        return;
    g_shared->n_table = 0;
    if (g_shared->state == SESSION_CLEAN && !g_shared->unavailable &&
        rc_runner_running(&g_live))
        return;
    if (g_live.pid > 0)
        rc_runner_stop(&g_live, 0.0, NULL, 0);
    char err[512];
    g_shared->state = SESSION_CLEAN;
    g_shared->ended = 0;
    g_shared->unavailable = 0;
    if (restart_runner(timeout_s, err, sizeof err) != 0) {
        g_shared->unavailable = 1;
        set_note("runner could not be restarted: %s", err);
    }
}

/* Host, after every guarded call: a runner the call left failed or half
 * way through an exchange is stopped now (the next call gets a fresh
 * one), and a death the child saw as end of file is said in full. */
static void after_call(const rc_impl *impl, double timeout_s)
{
    (void)timeout_s;
    if (!g_shared || !is_ours(impl) || g_shared->state == SESSION_CLEAN)
        return;
    char how[160] = "";
    rc_runner_stop(&g_live, g_shared->ended ? 5.0 : 0.0, how, sizeof how);
    if (g_shared->ended) {
        const size_t k = strnlen(g_shared->text, sizeof g_shared->text);
        snprintf(g_shared->text + k, sizeof g_shared->text - k, ": %s", how);
    }
}

/* ---- the proxies (in the guarded child) --------------------------------- */

typedef struct proxy_state {
    size_t slot;
    rc_spec spec;
    double *theta;      /* hi then lo, r/2 each */
    rc_scaling scaling; /* version 3: the family, its factors copied below */
    double *factors;    /* short then long, n_factors each */
    uint32_t n_factors;
    uint8_t pair_axis[RC_MAX_HEAD_DIM / 2]; /* version 4: the map, copied */
} proxy_state;

static void proxy_free(proxy_state *s)
{
    if (!s)
        return;
    free(s->theta);
    free(s->factors);
    free(s);
}

static int proxy_available(size_t i, char *why, size_t why_len)
{
    if (!g_slots[i].o.available && why && why_len)
        snprintf(why, why_len, "%s (on the runner, %s)", g_slots[i].o.why, g_arch);
    return g_slots[i].o.available;
}

/* Keeps what the request needs: the spec and its table (valid only during
 * prepare), and for version 3 the family with its per-pair factors. */
static rc_status proxy_prepare(size_t i, const rc_spec *spec, void **state)
{
    char err[512];
    if (!spec || !state || !g_command || !g_shared)
        return RC_ERR_INVALID;
    *state = NULL;
    if (rc_spec_check(spec->head_dim, spec->rotary_dim, spec->base, err, sizeof err) != 0 ||
        !spec->theta_hi || !spec->theta_lo)
        return RC_ERR_INVALID;
    if (g_shared->unavailable)
        return RC_ERR_DEVICE; /* the note says why */
    const size_t half = (size_t)spec->rotary_dim / 2;
    proxy_state *s = calloc(1, sizeof *s);
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
    s->spec.scaling = NULL;
    s->theta = theta;
    if (spec->n_axes >= 2 && spec->pair_axis) { /* valid during prepare only */
        memcpy(s->pair_axis, spec->pair_axis, half);
        s->spec.pair_axis = s->pair_axis;
    } else {
        s->spec.n_axes = 0;
        s->spec.pair_axis = NULL;
    }
    if (spec->scaling) {
        s->scaling = *spec->scaling;
        s->scaling.short_factor = s->scaling.long_factor = s->scaling.table = NULL;
        if (spec->scaling->short_factor && spec->scaling->long_factor) {
            s->factors = malloc(2 * half * sizeof *s->factors);
            if (!s->factors) {
                proxy_free(s);
                return RC_ERR_NOMEM;
            }
            memcpy(s->factors, spec->scaling->short_factor, half * sizeof *s->factors);
            memcpy(s->factors + half, spec->scaling->long_factor, half * sizeof *s->factors);
            s->n_factors = (uint32_t)half;
        }
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

/* The APPLY frame (PROTOCOL.md) in the runner's version. */
static void encode_apply(const proxy_state *s, const rc_tensor *in, const rc_tensor *out,
                         const int64_t *positions, rc_direction direction, int inplace,
                         size_t in_ext, size_t out_ext, rcrp_out *o)
{
    const size_t half = (size_t)s->spec.rotary_dim / 2;
    rcrp_frame_begin(o, RCRP_APPLY);
    rcrp_write_str(o, g_slots[s->slot].o.name);
    rcrp_write_u32(o, (uint32_t)s->spec.head_dim);
    rcrp_write_u32(o, (uint32_t)s->spec.rotary_dim);
    rcrp_write_u64(o, rcrp_bits_of(s->spec.base));
    rcrp_write_u32(o, (uint32_t)s->spec.layout);
    rcrp_write_u32(o, (uint32_t)s->spec.dtype);
    rcrp_write_u32(o, (uint32_t)direction);
    rcrp_write_u32(o, inplace ? 1u : 0u);
    put_i64(o, in->n_tokens);
    put_i64(o, in->n_heads);
    put_i64(o, in->token_stride);
    put_i64(o, in->head_stride);
    put_i64(o, out->token_stride);
    put_i64(o, out->head_stride);
    if (g_version >= 3) {
        rcrp_write_u32(o, (uint32_t)s->scaling.type);
        rcrp_write_u32(o, s->n_factors);
    }
    const int32_t n_axes = s->spec.n_axes >= 2 ? s->spec.n_axes : 1;
    if (g_version >= 4) { /* multi-axis RoPE */
        rcrp_write_u32(o, n_axes >= 2 ? (uint32_t)n_axes : 0u);
        rcrp_write_u32(o, (uint32_t)s->spec.freq_period);
    }
    for (size_t k = 0; k < 2 * half; k++)
        rcrp_write_u64(o, rcrp_bits_of(s->theta[k]));
    /* Protocol 2: the output scale (rope.h; 0 means 1). */
    rcrp_write_u64(o, rcrp_bits_of(s->spec.out_scale_hi));
    rcrp_write_u64(o, rcrp_bits_of(s->spec.out_scale_lo));
    if (g_version >= 3) {
        rcrp_write_scaling(o, &s->scaling);
        for (size_t k = 0; k < 2 * (size_t)s->n_factors; k++)
            rcrp_write_u64(o, rcrp_bits_of(s->factors[k]));
    }
    if (g_version >= 4 && n_axes >= 2)
        rcrp_write_bytes(o, s->pair_axis, half);
    for (int64_t t = 0; t < in->n_tokens * n_axes; t++)
        put_i64(o, positions[t]);
    rcrp_write_u64(o, in_ext);
    rcrp_write_bytes(o, in->data, in_ext);
    if (!inplace) {
        rcrp_write_u64(o, out_ext);
        rcrp_write_bytes(o, out->data, out_ext);
    }
    rcrp_frame_end(o);
}

/* The runner failed during this call: the host restarts it afterwards. */
static rc_status lost(int ended, const char *msg)
{
    g_shared->ended = ended;
    g_shared->state = SESSION_LOST;
    set_note("%s", msg);
    return RC_ERR_DEVICE;
}

static rc_status proxy_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                             const int64_t *positions, rc_direction direction)
{
    proxy_state *s = state;
    char err[512];
    if (!s || !in || !out || !positions || !g_shared || g_live.to < 0)
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

    rcrp_out o = {0};
    encode_apply(s, in, out, positions, direction, inplace, in_ext, out_ext, &o);
    if (o.failed) {
        free(o.p);
        return RC_ERR_NOMEM;
    }
    g_shared->state = SESSION_BUSY;
    int wrc = rc_runner_write_all(g_live.to, o.p, o.len);
    free(o.p);

    unsigned char *payload = NULL;
    size_t len = 0;
    const rc_runner_expect e = {inplace ? in_ext : out_ext, in_ext, inplace, g_version,
                                (size_t)s->spec.rotary_dim / 2};
    rc_runner_read_fail fail;
    /* Even when the write failed, read: the reason (how it died) comes
     * from its end. The request bounds the reply's length, so a runner
     * cannot make the host allocate more than the answer needs. */
    if (rc_runner_read_frame(g_live.from, RCRP_RESULT, rc_runner_reply_max_len(&e), 0, "reply",
                             &payload, &len, &fail, err, sizeof err) != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s%s", err, wrc != 0 ? " (while receiving the request)" : "");
        return lost(fail == RC_RUNNER_READ_ENDED, msg);
    }
    rc_runner_reply r;
    rc_status ret;
    if (rc_runner_decode_reply(payload, len, &e, &r) != 0) {
        ret = lost(0, "runner sent a malformed reply (lengths, flags or table do not match the "
                      "request)");
    } else {
        g_shared->state = SESSION_CLEAN;
        if (r.out_len)
            memcpy(out->data, r.out, r.out_len);
        /* What the port wrote into its input goes where the harness's
         * audit looks, so it is reported exactly as an in-process port's. */
        if (r.in)
            memcpy(in->data, r.in, r.in_len);
        for (size_t k = 0; k < r.n_table && k < RC_MAX_HEAD_DIM / 2; k++)
            g_shared->table[k] = rcrp_double_of(rcrp_get_u64(r.table + 8 * k));
        g_shared->n_table = (uint32_t)r.n_table;
        ret = (rc_status)r.status;
        if (ret == RC_ERR_INVALID && r.message[0])
            set_note("runner refused the request: %s", r.message);
        else if (ret != RC_OK && r.message[0])
            set_note("the remote implementation returned %s: %s", rc_status_name(ret),
                     r.message);
        else if (ret != RC_OK && ret != RC_ERR_UNSUPPORTED)
            set_note("the remote implementation returned %s", rc_status_name(ret));
    }
    free(payload);
    return ret;
}

static void proxy_release(void *state)
{
    proxy_free(state);
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
    void *m = mmap(NULL, sizeof(shared_page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, err_len, "mmap: %s", strerror(errno));
        return -1;
    }
    g_shared = m;
    memset(g_shared, 0, sizeof *g_shared);
    g_command = strdup(command);
    if (!g_command) {
        snprintf(err, err_len, "out of memory");
        rc_runner_close();
        return -1;
    }

    char why[512];
    rc_runner_offer offers[RC_RUNNER_MAX_IMPLS];
    if (start_runner(timeout_s, g_arch, sizeof g_arch, offers, &g_n, &g_version, why,
                     sizeof why) != 0) {
        snprintf(err, err_len, "runner `%s`: %s", command, why);
        rc_runner_close();
        return -1;
    }
    for (size_t i = 0; i < g_n; i++) {
        slot *s = &g_slots[i];
        s->o = offers[i];
        /* Before version 4 the protocol carries one position per token
         * and no axis map: whatever a runner's port offers, multi-axis
         * cases are not sent then (they skip with the cap's reason). */
        s->impl.caps = g_version >= 4 ? offers[i].caps : offers[i].caps & ~RC_CAP_MULTI_AXIS;
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
    rc_guarded_set_hooks(before_call, after_call);
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

unsigned rc_runner_version(void)
{
    return g_version;
}

unsigned long rc_runner_starts(void)
{
    return g_starts;
}

int rc_runner_take_note(char *buf, size_t len)
{
    if (!g_shared || !g_shared->text[0])
        return 0;
    snprintf(buf, len, "%s", g_shared->text);
    /* "could not be restarted" stays for every call until a start works. */
    if (!g_shared->unavailable)
        g_shared->text[0] = '\0';
    return 1;
}

size_t rc_runner_peek_table(double *out, size_t max)
{
    if (!g_shared)
        return 0;
    size_t n = g_shared->n_table;
    if (n > max || n > RC_MAX_HEAD_DIM / 2)
        n = 0;
    for (size_t k = 0; k < n; k++)
        out[k] = g_shared->table[k];
    return n;
}

void rc_runner_close(void)
{
    rc_guarded_set_hooks(NULL, NULL);
    if (g_live.pid > 0)
        rc_runner_stop(&g_live, 5.0, NULL, 0); /* stdin closed: a healthy runner exits */
    if (g_shared)
        munmap(g_shared, sizeof(shared_page));
    g_shared = NULL;
    free(g_command);
    g_command = NULL;
    g_n = 0;
    g_version = 0;
    g_starts = 0;
    g_arch[0] = '\0';
    memset(g_slots, 0, sizeof g_slots);
}
