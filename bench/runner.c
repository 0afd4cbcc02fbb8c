/*
 * bench/runner.c - build the benchmark list, run it through the shim, and
 * turn the raw timings into the figures a user reads: GB/s, fraction of the
 * probe, ratio to scalar.
 *
 * Buffers belong to one "workload" (shape x mode x dtype) at a time: every
 * benchmark of a workload is registered consecutively and the first one's
 * setup builds the buffers, so memory holds one workload, not all of them.
 */
#include "bench/runner.h"

#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/probe.h"
#include "bench/shim.h"
#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/registry.h"
#include "impls/builtins.h"
#include "core/rng.h"
#include "harness/guarded_call.h"
#include "reference/reference.h"

enum item_kind { ITEM_IMPL, ITEM_PROBE, ITEM_REF };

/* A cursor per thread, each on its own cache line: threads advance them on
 * every call. calls counts a thread's calls (--new-positions alternates
 * the position sets by it). */
typedef struct padded_cursor {
    size_t v;
    size_t calls;
    char pad[64 - 2 * sizeof(size_t)];
} padded_cursor;

typedef struct workload {
    const rcb_shape *shape;
    const rcb_mode *mode;
    rc_dtype dtype;
    int threads;         /* the benchmark threads its cases and probe run on */
    int64_t tokens, heads, hot_tokens;
    size_t token_bytes;  /* one token's input (= output) bytes */
    size_t copy_stride;  /* bytes between copies, 64-byte multiple */
    size_t copies;       /* cold pool */
    size_t hot_copies;   /* copies the hot variant cycles through (1 unless a
                            whole call is smaller than the hot budget) */
    unsigned char *in, *out;
    int64_t *positions;
    int64_t *positions_next; /* positions + 1: --new-positions' other set */
    double *theta;       /* hi[r/2] then lo[r/2] */
    int32_t n_axes;      /* positions per token: 1, or 3 with --axes */
    rc_axes axes;        /* --axes: the shape's map (rcb_axes_map) */
} workload;

typedef struct item {
    enum item_kind kind;
    size_t workload;     /* index into the runner's workload list */
    size_t target;
    int hot;
    int n_states;
    void *states[RCB_MAX_THREADS];
    padded_cursor cursor[RCB_MAX_THREADS];
    rcb_variant *dest;
    int shim_index;
    /* ITEM_REF */
    rc_dtype ref_dtype;
    int ref_fast;               /* the certified fast path, else MPFR only */
    rcb_ref_result *ref_result; /* where the fast path's pair counts go */
    double *ref_in;          /* the heads' inputs, shared read-only */
    struct ref_thread *ref_t; /* one oracle per thread (an rc_ref is not shared) */
    int ref_threads;
} item;

/* A thread's own oracle, outputs and position sequence, on its own cache
 * lines. */
typedef struct ref_thread {
    rc_ref *ref;
    rc_ref_elem *out;
    uint64_t pos;
    char pad[40];
} ref_thread;

typedef struct runner {
    const rcb_options *o;
    const rcb_target *targets;
    size_t n_targets;
    size_t hot_bytes, pool_bytes;
    workload *wl;        /* selected workloads (descriptions only) */
    size_t n_wl;
    size_t current;      /* index of the built workload, or SIZE_MAX */
    workload built;
} runner;

/* The shim's callbacks get the item; the item needs the runner. One run at
 * a time per process, so a file-scope pointer is enough. */
static runner *g_runner;

#define REF_HEAD_DIM 128
#define REF_HEADS 8

static size_t round_up64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static void workload_free(runner *R)
{
    workload *w = &R->built;
    free(w->in);
    free(w->out);
    free(w->positions);
    free(w->positions_next);
    free(w->theta);
    memset(w, 0, sizeof *w);
    R->current = SIZE_MAX;
}

static void fill_inputs(rc_dtype t, void *base, int64_t n, uint64_t seed, uint64_t salt)
{
    rc_rng rng;
    rc_rng_seed3(&rng, seed, salt, 0x62656e6368ull /* "bench" */);
    for (int64_t i = 0; i < n; i++)
        rc_elem_store(t, base, i, 2.0 * rc_rng_uniform(&rng) - 1.0);
}

static int workload_build(runner *R, size_t wi, char *err, size_t len)
{
    if (R->current == wi)
        return 0;
    workload_free(R);
    workload *w = &R->built;
    *w = R->wl[wi];
    const rcb_shape *s = w->shape;
    size_t copy_bytes = (size_t)w->tokens * w->token_bytes;
    w->copy_stride = round_up64(copy_bytes);
    size_t total = w->copies * w->copy_stride;
    int half = s->rotary_dim / 2;
    w->in = aligned_alloc(64, total);
    w->out = aligned_alloc(64, total);
    w->n_axes = 1;
    if (R->o->axes != RCB_AXES_NONE) {
        if (rcb_axes_map(R->o->axes, s->rotary_dim, &w->axes, err, len) != 0)
            return -1;
        w->n_axes = w->axes.n_axes;
    }
    const size_t n_pos = (size_t)w->tokens * (size_t)w->n_axes;
    w->positions = malloc(sizeof(int64_t) * n_pos);
    w->positions_next = malloc(sizeof(int64_t) * n_pos);
    w->theta = malloc(sizeof(double) * 2 * (size_t)half);
    if (!w->in || !w->out || !w->positions || !w->positions_next || !w->theta) {
        snprintf(err, len, "out of memory for 2 x %zu bytes of tensors", total);
        workload_free(R);
        return -1;
    }
    int64_t elems = w->tokens * w->heads * s->head_dim;
    fill_inputs(w->dtype, w->in, elems, R->o->seed, (uint64_t)wi);
    for (size_t c = 1; c < w->copies; c++)
        memcpy(w->in + c * w->copy_stride, w->in, copy_bytes);
    /* Touch every output page now so no timed call pays a page fault. */
    memset(w->out, 0, total);
    for (int64_t t = 0; t < w->tokens; t++) {
        /* With axes, three unequal positions near the mode's: an image
         * token's (every axis its own row of cos/sin). */
        const int64_t m = rcb_position(w->mode, t);
        for (int32_t k = 0; k < w->n_axes; k++) {
            const int64_t p = m + (k == 0 ? 0 : k == 1 ? 1 + t % 7 : 2 + t % 11);
            w->positions[t * w->n_axes + k] = p;
            w->positions_next[t * w->n_axes + k] = p + 1; /* < 2^31: inside the ABI's range */
        }
    }
    rc_ref_theta_table(s->base, s->rotary_dim, w->theta, w->theta + half);
    R->current = wi;
    return 0;
}

static rc_spec workload_spec(const workload *w)
{
    int half = w->shape->rotary_dim / 2;
    rc_spec spec = {.head_dim = w->shape->head_dim, .rotary_dim = w->shape->rotary_dim,
                    .base = w->shape->base, .layout = w->shape->layout, .dtype = w->dtype,
                    .theta_hi = w->theta, .theta_lo = w->theta + half};
    if (w->n_axes >= 2) {
        spec.n_axes = w->n_axes;
        spec.pair_axis = w->axes.pair_axis;
    }
    return spec;
}

int rcb_axes_map(int kind, int32_t rotary_dim, rc_axes *out, char *err, size_t len)
{
    const int32_t half = rotary_dim / 2, side = 3 * half / 8;
    const int32_t sections[3] = {half - 2 * side, side, side};
    return kind == RCB_AXES_MROPE_INTERLEAVED
               ? rc_axes_interleaved(sections, 3, rotary_dim, out, err, len)
               : rc_axes_sections(sections, 3, rotary_dim, out, err, len);
}

/* ---- callbacks ---- */

static void item_teardown(void *ctx);

static int item_setup(void *ctx, int n_threads, char *err, size_t len)
{
    item *it = ctx;
    runner *R = g_runner;
    if (it->kind == ITEM_REF) {
        rc_spec spec = {.head_dim = REF_HEAD_DIM, .rotary_dim = REF_HEAD_DIM, .base = 500000.0,
                        .layout = RC_LAYOUT_HALF, .dtype = it->ref_dtype};
        it->ref_in = malloc(sizeof(double) * REF_HEADS * REF_HEAD_DIM);
        it->ref_t = calloc((size_t)n_threads, sizeof *it->ref_t);
        it->ref_threads = it->ref_t ? n_threads : 0;
        int ok = it->ref_in && it->ref_t;
        for (int t = 0; ok && t < n_threads; t++) {
            ref_thread *rt = &it->ref_t[t];
            rt->ref = rc_ref_create(&spec);
            rt->out = malloc(sizeof(rc_ref_elem) * REF_HEADS * REF_HEAD_DIM);
            ok = rt->ref && rt->out;
            if (rt->ref)
                rc_ref_set_fast_path(rt->ref, it->ref_fast);
            /* the same sequences for the MPFR and the fast item: their
             * ratio compares equal work */
            rt->pos = (R->o->seed | 1) + 0x9E3779B97F4A7C15ull * (uint64_t)t;
        }
        if (!ok) {
            snprintf(err, len, "cannot create the reference");
            item_teardown(it); /* the shim calls teardown only after a setup that worked */
            return -1;
        }
        rc_rng rng;
        rc_rng_seed3(&rng, R->o->seed, 0x726566ull, (uint64_t)it->ref_dtype);
        for (int i = 0; i < REF_HEADS * REF_HEAD_DIM; i++)
            it->ref_in[i] = rc_round_to_dtype(it->ref_dtype, 2.0 * rc_rng_uniform(&rng) - 1.0);
        return 0;
    }
    if (workload_build(R, it->workload, err, len) != 0)
        return -1;
    for (int t = 0; t < n_threads; t++) {
        it->cursor[t].v = (size_t)t % R->built.copies;
        it->cursor[t].calls = 0;
    }
    it->n_states = 0;
    if (it->kind != ITEM_IMPL)
        return 0;
    const rc_impl *impl = R->targets[it->target].impl;
    rc_spec spec = workload_spec(&R->built);
    /* The ABI forbids concurrent calls on one state: one per thread. */
    for (int t = 0; t < n_threads; t++) {
        rc_status st = impl->prepare(&spec, &it->states[t]);
        if (st != RC_OK) {
            snprintf(err, len, "prepare returned %s", rc_status_name(st));
            item_teardown(it);
            return -1;
        }
        it->n_states = t + 1;
    }
    return 0;
}

static void item_teardown(void *ctx)
{
    item *it = ctx;
    if (it->kind == ITEM_REF) {
        for (int t = 0; t < it->ref_threads; t++) {
            ref_thread *rt = &it->ref_t[t];
            if (rt->ref && it->ref_fast) {
                rc_ref_stats st;
                rc_ref_get_stats(rt->ref, &st);
                it->ref_result->fast_pairs += st.pairs_fast;
                it->ref_result->fallback_pairs += st.pairs_mpfr;
            }
            rc_ref_destroy(rt->ref);
            free(rt->out);
        }
        free(it->ref_t);
        free(it->ref_in);
        it->ref_t = NULL;
        it->ref_threads = 0;
        it->ref_in = NULL;
        return;
    }
    const rc_impl *impl = it->kind == ITEM_IMPL ? g_runner->targets[it->target].impl : NULL;
    for (int t = 0; t < it->n_states; t++)
        if (impl && impl->release)
            impl->release(it->states[t]);
    it->n_states = 0;
}

/* MPFR keeps constants and tables per thread: a benchmark thread's are
 * released before it ends (they would be lost, and reported as leaks). */
static void item_thread_end(void *ctx, int t)
{
    const item *it = ctx;
    (void)t;
    if (it->kind == ITEM_REF)
        mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
}

static int item_iter(void *ctx, int t, int n, char *err, size_t len)
{
    item *it = ctx;
    if (it->kind == ITEM_REF) {
        /* A fresh position every call, as verify's random positions are
         * (the reference caches sin/cos of the last position only); each
         * thread all REF_HEADS heads on its own oracle. */
        (void)n;
        ref_thread *rt = &it->ref_t[t];
        rt->pos = rt->pos * 6364136223846793005ull + 1442695040888963407ull;
        int64_t m = (int64_t)(rt->pos >> 33); /* [0, 2^31) */
        for (int h = 0; h < REF_HEADS; h++)
            if (rc_ref_rotate_head(rt->ref, m, RC_FORWARD, it->ref_in + h * REF_HEAD_DIM,
                                   rt->out + h * REF_HEAD_DIM) != 0) {
                snprintf(err, len, "rc_ref_rotate_head failed");
                return -1;
            }
        return 0;
    }
    const workload *w = &g_runner->built;
    int64_t total = it->hot ? w->hot_tokens : w->tokens;
    int64_t lo = total * t / n, hi = total * (t + 1) / n;
    if (hi == lo)
        return 0;
    /* Each thread walks the copies (cold: the pool; hot: the first
     * hot_copies, often just one), its own cursor on its own line. */
    const size_t n_copies = it->hot ? w->hot_copies : w->copies;
    size_t copy = it->cursor[t].v % n_copies;
    it->cursor[t].v = copy + 1 == n_copies ? 0 : copy + 1;
    size_t off = copy * w->copy_stride + (size_t)lo * w->token_bytes;
    if (it->kind == ITEM_PROBE) {
        rcb_stream(w->in + off, w->out + off, (size_t)(hi - lo) * w->token_bytes);
        return 0;
    }
    int64_t d = w->shape->head_dim;
    rc_tensor in = {.data = w->in + off, .n_tokens = hi - lo, .n_heads = w->heads,
                    .token_stride = w->heads * d, .head_stride = d};
    rc_tensor out = in;
    out.data = w->out + off;
    /* --new-positions: odd calls of a thread at positions + 1, so no call
     * of its state repeats the previous call's positions (the ports keep
     * that call's cos/sin rows, impls/common/port_state.h). */
    const int64_t *pos =
        g_runner->o->new_positions && (it->cursor[t].calls++ & 1) ? w->positions_next
                                                                   : w->positions;
    rc_status st = g_runner->targets[it->target].impl->apply(it->states[t], &in, &out,
                                                             pos + lo * w->n_axes, RC_FORWARD);
    if (st != RC_OK) {
        snprintf(err, len, "apply returned %s", rc_status_name(st));
        return -1;
    }
    return 0;
}

/* ---- the guarded trial call ---- */

/* 1 when impl lacks a capability shape s in dtype dt needs (why names
 * them), else 0. */
static int caps_missing(const rc_impl *impl, const rcb_shape *s, rc_dtype dt, int axes,
                        char *why, size_t len)
{
    if (axes != RCB_AXES_NONE && !(rc_impl_caps(impl) & RC_CAP_MULTI_AXIS)) {
        snprintf(why, len, "does not offer multi-axis positions (RC_CAP_MULTI_AXIS, ABI 4)");
        return 1;
    }
    uint64_t need = rc_cap_for_dtype(dt) | rc_cap_for_layout(s->layout);
    if (s->rotary_dim < s->head_dim)
        need |= RC_CAP_PARTIAL_ROTARY;
    uint64_t missing = need & ~impl->caps;
    if (!missing)
        return 0;
    /* Name only what is missing. */
    snprintf(why, len, "does not offer%s%s%s",
             missing & rc_cap_for_dtype(dt) ? " " : "",
             missing & rc_cap_for_dtype(dt) ? rc_dtype_name(dt) : "",
             missing & rc_cap_for_layout(s->layout)
                 ? (s->layout == RC_LAYOUT_HALF ? " the half layout" : " the interleaved layout")
                 : "");
    if (missing & RC_CAP_PARTIAL_ROTARY) {
        size_t n = strlen(why);
        snprintf(why + n, len - n, "%s partial rotary (r %d of d %d)",
                 missing != RC_CAP_PARTIAL_ROTARY ? "," : "", s->rotary_dim, s->head_dim);
    }
    return 1;
}

static int trial_verdict(const rc_call_result *res, char *why, size_t len)
{
    if (res->outcome == RC_CALL_OK)
        return 0;
    if (res->outcome == RC_CALL_STATUS && res->status == RC_ERR_UNSUPPORTED) {
        snprintf(why, len, "unsupported: %.400s", res->detail);
        return 1;
    }
    if (res->outcome == RC_CALL_HARNESS_ERROR) {
        snprintf(why, len, "harness error: %.400s", res->detail);
        return 1;
    }
    snprintf(why, len, "trial call %s: %.400s", rc_call_outcome_name(res->outcome), res->detail);
    return 2;
}

/* One guarded apply of two decode tokens of this shape and dtype, before
 * the implementation runs unguarded in this process. 0: fine; 1: skip
 * (why); 2: broken (why). */
static int trial_call(const rc_impl *impl, const rcb_shape *s, rc_dtype dt, double timeout_s,
                      uint64_t seed, int axes_kind, char *why, size_t len)
{
    if (caps_missing(impl, s, dt, axes_kind, why, len))
        return 1;
    rc_axes axes;
    if (axes_kind != RCB_AXES_NONE && rcb_axes_map(axes_kind, s->rotary_dim, &axes, why, len))
        return 1;
    const int32_t n_axes = axes_kind != RCB_AXES_NONE ? axes.n_axes : 1;
    const int64_t tokens = 2, heads = s->q_heads + s->kv_heads;
    size_t bytes = (size_t)(tokens * heads * s->head_dim) * rc_dtype_size(dt);
    int half = s->rotary_dim / 2;
    double *theta = malloc(sizeof(double) * 2 * (size_t)half);
    rc_guarded_buf in_buf = {0}, out_buf = {0}, pos_buf = {0};
    int rc = 2;
    if (!theta || rc_guarded_buf_alloc(&in_buf, bytes) || rc_guarded_buf_alloc(&out_buf, bytes) ||
        rc_guarded_buf_alloc(&pos_buf, sizeof(int64_t) * (size_t)(tokens * n_axes))) {
        snprintf(why, len, "out of memory for the trial call");
        goto done;
    }
    rc_ref_theta_table(s->base, s->rotary_dim, theta, theta + half);
    fill_inputs(dt, in_buf.data, tokens * heads * s->head_dim, seed, 0x747269616cull);
    int64_t *pos = (int64_t *)pos_buf.data;
    for (int64_t k = 0; k < tokens * n_axes; k++)
        pos[k] = RCB_DECODE_POSITION - 37 * k;
    rc_spec spec = {.head_dim = s->head_dim, .rotary_dim = s->rotary_dim, .base = s->base,
                    .layout = s->layout, .dtype = dt, .theta_hi = theta, .theta_lo = theta + half};
    if (n_axes >= 2) {
        spec.n_axes = n_axes;
        spec.pair_axis = axes.pair_axis;
    }
    rc_tensor in = {.data = in_buf.data, .n_tokens = tokens, .n_heads = heads,
                    .token_stride = heads * s->head_dim, .head_stride = s->head_dim};
    rc_tensor out = in;
    out.data = out_buf.data;
    rc_call_result res;
    rc_guarded_apply(impl, &spec, &in_buf, &in, &out_buf, &out, &pos_buf, RC_FORWARD, timeout_s,
                     &res);
    rc = trial_verdict(&res, why, len);
done:
    rc_guarded_buf_free(&in_buf);
    rc_guarded_buf_free(&out_buf);
    rc_guarded_buf_free(&pos_buf);
    free(theta);
    return rc;
}

/* ---- building the list ---- */

static int add_item(runner *R, item *it, const char *name, double bytes, double tokens,
                    double elements)
{
    rcb_case c = {.name = name, .setup = item_setup, .iter = item_iter,
                  .teardown = item_teardown, .thread_end = item_thread_end, .ctx = it,
                  .bytes_per_iter = bytes, .elements_per_iter = elements,
                  .tokens_per_iter = tokens};
    snprintf(it->dest->bench_name, sizeof it->dest->bench_name, "%s", name);
    it->dest->bytes_per_iter = bytes;
    it->dest->tokens_per_iter = tokens;
    it->dest->elements_per_iter = elements;
    const int threads = it->kind == ITEM_REF ? R->o->ref_jobs : R->wl[it->workload].threads;
    it->shim_index = rcb_register(&c, threads, R->o->min_time_s, R->o->repetitions);
    return it->shim_index < 0 ? -1 : 0;
}

/* All rcb_run holds besides the report: plan_free is its one cleanup. */
typedef struct plan {
    runner R;
    item *items;
    size_t n_items;
    /* trial[target][shape][dtype]: -1 not yet tried, else trial_call's code */
    int *trial;
    char (*trial_why)[512];
    char name[160];      /* the benchmark last registered, for the error */
} plan;

static void plan_init(plan *P, const rcb_options *o, const rcb_target *targets, size_t n_targets,
                      rcb_report *rep)
{
    memset(P, 0, sizeof *P);
    rcb_machine_detect(&rep->machine);
    memcpy(rep->thread_counts, o->thread_counts, sizeof rep->thread_counts);
    rep->n_thread_counts = o->n_thread_counts;
    rep->new_positions = o->new_positions;
    rep->axes = o->axes;
    rep->min_time_s = o->min_time_s;
    rep->repetitions = o->repetitions;
    runner *R = &P->R;
    *R = (runner){.o = o, .targets = targets, .n_targets = n_targets, .current = SIZE_MAX};
    /* Hot: half the per-core L2 for input + output, within [64, 512] KiB
     * (256 KiB when sysfs says nothing). Cold: 4x the last-level cache,
     * at least 64 MiB (32 MiB LLC assumed when unknown). */
    size_t l2 = rep->machine.l2_bytes ? rep->machine.l2_bytes : 512 * 1024;
    R->hot_bytes = l2 / 2 < 65536 ? 65536 : l2 / 2 > 524288 ? 524288 : l2 / 2;
    size_t llc = rep->machine.llc_bytes ? rep->machine.llc_bytes : 32u << 20;
    R->pool_bytes = 4 * llc < (64u << 20) ? (64u << 20) : 4 * llc;
    rep->hot_bytes_per_thread = R->hot_bytes;
    rep->cold_pool_bytes = R->pool_bytes;
}

/* -1 if out of memory; either way plan_free and rcb_report_free clean
 * up. */
static int plan_alloc(plan *P, rcb_report *rep)
{
    const size_t n_targets = P->R.n_targets;
    /* Workloads: thread count x shape x mode x dtype. */
    size_t max_wl = (size_t)P->R.o->n_thread_counts * rcb_shape_count() * rcb_mode_count() *
                    RC_DTYPE_COUNT;
    P->R.wl = calloc(max_wl, sizeof *P->R.wl);
    size_t max_items = max_wl * (2 + 2 * n_targets) + 2 * RC_DTYPE_COUNT;
    P->items = calloc(max_items, sizeof *P->items);
    rep->cases = calloc(max_wl * n_targets + 1, sizeof *rep->cases);
    rep->probes = calloc(max_wl + 1, sizeof *rep->probes);
    size_t n_trial = n_targets * rcb_shape_count() * RC_DTYPE_COUNT;
    P->trial = malloc(sizeof(int) * (n_trial + 1));
    P->trial_why = calloc(n_trial + 1, sizeof *P->trial_why);
    if (!P->R.wl || !P->items || !rep->cases || !rep->probes || !P->trial || !P->trial_why)
        return -1;
    for (size_t i = 0; i < n_trial; i++)
        P->trial[i] = -1;
    return 0;
}

static void plan_free(plan *P)
{
    workload_free(&P->R);
    free(P->R.wl);
    free(P->items);
    free(P->trial);
    free(P->trial_why);
}

/* Sizes only: workload_build makes the buffers when its first benchmark
 * runs. Returns the workload's index. */
static size_t describe_workload(runner *R, const rcb_shape *s, const rcb_mode *m, rc_dtype dt,
                                int threads)
{
    size_t wi = R->n_wl++;
    workload *w = &R->wl[wi];
    w->shape = s;
    w->mode = m;
    w->dtype = dt;
    w->threads = threads;
    w->tokens = m->tokens;
    w->heads = s->q_heads + s->kv_heads;
    w->token_bytes = (size_t)(w->heads * s->head_dim) * rc_dtype_size(w->dtype);
    int64_t per_thread = (int64_t)(R->hot_bytes / (2 * w->token_bytes));
    if (per_thread < 1)
        per_thread = 1;
    w->hot_tokens = per_thread * threads < w->tokens ? per_thread * threads : w->tokens;
    size_t both = 2 * (size_t)w->tokens * w->token_bytes;
    w->copies = both >= R->pool_bytes ? 1 : (R->pool_bytes + both - 1) / both;
    /* A call smaller than the hot budget (decode at batch 1: 20-80 KB) on
     * one buffer would be timed against a probe that runs partly from L1,
     * at a speed set by how much of the call L1 holds (110-221 GB/s by
     * shape here, against 100-113 in L2: bench/README.md); cycled
     * through as many copies as fill the budget, every hot variant works
     * on the same bytes per thread, half the L2. */
    const size_t budget = R->hot_bytes * (size_t)threads;
    w->hot_copies = w->hot_tokens < w->tokens || both >= budget ? 1 : budget / both;
    if (w->hot_copies > w->copies)
        w->hot_copies = w->copies;
    return wi;
}

/* The hot and cold benchmarks of workload wi, for the probe (who "probe")
 * or target ti (who its name). */
static int add_variants(plan *P, enum item_kind kind, size_t wi, size_t ti, rcb_variant *hot,
                        rcb_variant *cold, const char *who)
{
    const workload *w = &P->R.wl[wi];
    const rcb_shape *s = w->shape;
    double elem_per_token = (double)(w->heads * s->head_dim);
    for (int v = 0; v < 2; v++) {
        item *it = &P->items[P->n_items++];
        it->kind = kind;
        it->workload = wi;
        it->target = ti;
        it->hot = !v;
        it->dest = v ? cold : hot;
        double tok = (double)(v ? w->tokens : w->hot_tokens);
        /* In a scaling run the names carry the count: the shim matches
         * results by name. */
        char tn[16] = "";
        if (P->R.o->n_thread_counts > 1)
            snprintf(tn, sizeof tn, "/t%d", w->threads);
        snprintf(P->name, sizeof P->name, "%s/%s/%s/%s/%s%s", who, s->name, w->mode->name,
                 rc_dtype_name(w->dtype), v ? "cold" : "hot", tn);
        if (add_item(&P->R, it, P->name, 2.0 * tok * (double)w->token_bytes, tok,
                     tok * elem_per_token) != 0)
            return -1;
    }
    return 0;
}

/* Target ti's trial call on workload w's shape (si) and dtype, made once
 * for every mode; returns its code and why. */
static int case_trial(plan *P, size_t ti, size_t si, const workload *w, const char **why)
{
    const rcb_options *o = P->R.o;
    const rc_impl *impl = P->R.targets[ti].impl;
    size_t k = (ti * rcb_shape_count() + si) * RC_DTYPE_COUNT + (size_t)w->dtype;
    if (P->trial[k] < 0) {
        if (o->progress)
            fprintf(stderr, "ropecheck bench: trial call %s %s %s\n", impl->name, w->shape->name,
                    rc_dtype_name(w->dtype));
        P->trial[k] = trial_call(impl, w->shape, w->dtype, o->timeout_s, o->seed, o->axes,
                                 P->trial_why[k],
                                 sizeof P->trial_why[k]);
    }
    *why = P->trial_why[k];
    return P->trial[k];
}

static int add_case(plan *P, rcb_report *rep, size_t wi, size_t si, size_t ti)
{
    const workload *w = &P->R.wl[wi];
    rcb_case_result *c = &rep->cases[rep->n_cases++];
    c->target = ti;
    c->shape = w->shape;
    c->mode = w->mode;
    c->dtype = w->dtype;
    c->threads = w->threads;
    c->tokens = w->tokens;
    c->heads = w->heads;
    const char *why;
    int trial = case_trial(P, ti, si, w, &why);
    if (trial != 0) {
        c->outcome = trial == 1 ? RCB_SKIPPED : RCB_BROKEN;
        snprintf(c->why, sizeof c->why, "%s", why);
        if (c->outcome == RCB_BROKEN)
            rep->any_broken = 1;
        return 0;
    }
    return add_variants(P, ITEM_IMPL, wi, ti, &c->hot, &c->cold, P->R.targets[ti].impl->name);
}

/* Workload wi's probe, then every target's case on it (consecutively:
 * the header comment). */
static int add_workload(plan *P, rcb_report *rep, size_t wi, size_t si)
{
    const workload *w = &P->R.wl[wi];
    rcb_probe_result *p = &rep->probes[rep->n_probes++];
    p->shape = w->shape;
    p->mode = w->mode;
    p->dtype = w->dtype;
    p->threads = w->threads;
    if (add_variants(P, ITEM_PROBE, wi, 0, &p->hot, &p->cold, "probe") != 0)
        return -1;
    for (size_t ti = 0; ti < P->R.n_targets; ti++)
        if (add_case(P, rep, wi, si, ti) != 0)
            return -1;
    return 0;
}

static int add_references(plan *P, rcb_report *rep)
{
    for (int dt = 0; dt < RC_DTYPE_COUNT; dt++) {
        if (!(P->R.o->dtype_mask & (1u << dt)))
            continue;
        rcb_ref_result *rr = &rep->refs[rep->n_refs++];
        rr->dtype = (rc_dtype)dt;
        rr->head_dim = REF_HEAD_DIM;
        rr->heads = REF_HEADS;
        rr->threads = P->R.o->ref_jobs;
        /* The same inputs and positions through MPFR only and through the
         * certified fast path: their ratio is the fast path's speed-up. */
        for (int fast = 0; fast <= 1; fast++) {
            item *it = &P->items[P->n_items++];
            it->kind = ITEM_REF;
            it->ref_dtype = (rc_dtype)dt;
            it->ref_fast = fast;
            it->ref_result = rr;
            it->dest = fast ? &rr->fast : &rr->v;
            snprintf(P->name, sizeof P->name, "reference/%s/d%d/%s", fast ? "fast" : "mpfr",
                     REF_HEAD_DIM, rc_dtype_name(rr->dtype));
            /* every thread does all REF_HEADS heads per iteration */
            const double per_iter = (double)rr->threads * REF_HEADS * REF_HEAD_DIM;
            if (add_item(&P->R, it, P->name, 0.0, (double)rr->threads, per_iter) != 0)
                return -1;
        }
    }
    return 0;
}

/* Every benchmark the options select. -1 when one cannot be registered
 * (P->name names it). */
static int build_list(plan *P, rcb_report *rep)
{
    const rcb_options *o = P->R.o;
    for (int k = 0; k < o->n_thread_counts; k++)
        for (size_t si = 0; si < rcb_shape_count(); si++) {
            if (!(o->shape_mask & (1u << si)))
                continue;
            for (size_t mi = 0; mi < rcb_mode_count(); mi++) {
                if (!(o->mode_mask & (1u << mi)))
                    continue;
                for (int dt = 0; dt < RC_DTYPE_COUNT; dt++) {
                    if (!(o->dtype_mask & (1u << dt)))
                        continue;
                    size_t wi = describe_workload(&P->R, rcb_shape_get(si), rcb_mode_get(mi),
                                                  (rc_dtype)dt, o->thread_counts[k]);
                    if (add_workload(P, rep, wi, si) != 0)
                        return -1;
                }
            }
        }
    return o->reference ? add_references(P, rep) : 0;
}

/* ---- the figures ---- */

static void take_result(const item *it)
{
    rcb_result r;
    rcb_variant *v = it->dest;
    if (it->shim_index < 0 || rcb_get_result((size_t)it->shim_index, &r) != 0 || !r.ran) {
        snprintf(v->error, sizeof v->error, "did not run");
        return;
    }
    if (r.error) {
        snprintf(v->error, sizeof v->error, "%s", r.error_message);
        return;
    }
    v->ok = 1;
    v->gbps = r.bytes_per_second * 1e-9;
    v->elements_per_second = r.elements_per_second;
    v->ns_per_token = r.ns_per_token;
    v->ns_per_iter = r.ns_per_iteration;
}

/* An error mid-run (a status other than OK after the trial call passed)
 * is the implementation's fault: it breaks the case of variant v. */
static void mark_broken(rcb_report *rep, const rcb_variant *v)
{
    rcb_case_result *c = NULL;
    for (size_t j = 0; j < rep->n_cases; j++)
        if (&rep->cases[j].hot == v || &rep->cases[j].cold == v)
            c = &rep->cases[j];
    if (c && c->outcome == RCB_RAN) {
        c->outcome = RCB_BROKEN;
        snprintf(c->why, sizeof c->why, "%s", v->error);
        rep->any_broken = 1;
    }
}

static void collect_results(const plan *P, rcb_report *rep)
{
    for (size_t i = 0; i < P->n_items; i++) {
        const item *it = &P->items[i];
        take_result(it);
        if (it->kind == ITEM_IMPL && !it->dest->ok)
            mark_broken(rep, it->dest);
    }
}

static const rc_impl *scalar_impl(void)
{
    return rc_builtin_find("scalar");
}

static void derive_probe_fractions(rcb_report *rep)
{
    for (size_t i = 0; i < rep->n_cases; i++) {
        rcb_case_result *c = &rep->cases[i];
        const rcb_probe_result *p = NULL;
        for (size_t j = 0; j < rep->n_probes; j++)
            if (rep->probes[j].shape == c->shape && rep->probes[j].mode == c->mode &&
                rep->probes[j].dtype == c->dtype && rep->probes[j].threads == c->threads)
                p = &rep->probes[j];
        for (int v = 0; v < 2; v++) {
            rcb_variant *cv = v ? &c->cold : &c->hot;
            const rcb_variant *pv = p ? (v ? &p->cold : &p->hot) : NULL;
            if (cv->ok && pv && pv->ok && pv->gbps > 0)
                cv->fraction_of_probe = cv->gbps / pv->gbps;
        }
    }
}

/* Speed relative to a yardstick's, same case, same run: its time over
 * this time (the bytes are the same, so the GB/s ratio). */
static void set_ratio(rcb_variant *v, const rcb_variant *yard, int to_baseline)
{
    if (!v->ok || !yard->ok || !(yard->gbps > 0))
        return;
    if (to_baseline)
        v->ratio_to_baseline = v->gbps / yard->gbps;
    else
        v->ratio_to_scalar = v->gbps / yard->gbps;
}

/* The ratio columns: to the built-in scalar always, to --baseline's
 * implementation when one is named. */
static void derive_ratios(rcb_report *rep, const rcb_target *targets, int baseline)
{
    for (size_t i = 0; i < rep->n_cases; i++) {
        rcb_case_result *c = &rep->cases[i];
        for (size_t j = 0; j < rep->n_cases; j++) {
            const rcb_case_result *x = &rep->cases[j];
            if (x->shape != c->shape || x->mode != c->mode || x->dtype != c->dtype ||
                x->threads != c->threads)
                continue;
            const rcb_target *xt = &targets[x->target];
            const int to[2] = {xt->impl == scalar_impl() && !xt->plugin_path,
                               baseline >= 0 && (int)x->target == baseline};
            for (int k = 0; k < 2; k++)
                if (to[k]) {
                    set_ratio(&c->hot, &x->hot, k);
                    set_ratio(&c->cold, &x->cold, k);
                }
        }
    }
}

int rcb_run(const rcb_options *o, const rcb_target *targets, size_t n_targets, rcb_report *rep,
            char *err, size_t err_len)
{
    memset(rep, 0, sizeof *rep);
    plan P;
    plan_init(&P, o, targets, n_targets, rep);
    int rc = -1;
    if (plan_alloc(&P, rep) != 0) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    if (build_list(&P, rep) != 0) {
        snprintf(err, err_len, "cannot register benchmark '%s'", P.name);
        goto done;
    }
    if (P.n_items == 0) {
        snprintf(err, err_len, "nothing to run: every case was skipped");
        rc = 0; /* the report says why, case by case */
        goto done;
    }
    g_runner = &P.R;
    if (rcb_run_all(o->json_path, o->progress, err, err_len) != 0)
        goto done;
    collect_results(&P, rep);
    derive_probe_fractions(rep);
    derive_ratios(rep, targets, o->baseline);
    rc = 0;
done:
    g_runner = NULL;
    rcb_shutdown(); /* before plan_free: the registrations point at its items */
    plan_free(&P);
    if (rc != 0)
        rcb_report_free(rep);
    return rc;
}

void rcb_report_free(rcb_report *rep)
{
    free(rep->cases);
    free(rep->probes);
    rep->cases = NULL;
    rep->probes = NULL;
    rep->n_cases = rep->n_probes = 0;
}
