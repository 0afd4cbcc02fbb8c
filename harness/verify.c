/*
 * harness/verify.c - one verification case from inputs to verdict.
 *
 * Order of business: refuse what the implementation does not offer (skip,
 * with the reason), build inputs in guarded buffers, call the
 * implementation in a guarded child, then walk every output element with
 * the reference. Inputs are regenerated from (seed, position, head) in the
 * reference pass rather than stored, so in-place calls need no copy.
 */
#include "harness/verify.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dtype_convert.h"
#include "core/pair_layout.h"
#include "core/registry.h"
#include "core/scaling.h"
#include "core/spec_check.h"
#include "harness/case_axes.h"
#include "harness/diagnose.h"
#include "harness/input_gen.h"
#include "harness/oracle_pass.h"
#include "harness/verify_partial.h"
#include "reference/profile_band.h"
#include "reference/reference.h"
#include "reference/scaling.h"

void rc_gate_default(rc_gate *g)
{
    /* Derivations: reference/GATES.md. */
    g->pair[RC_DTYPE_F32] = 2.0;
    g->pair[RC_DTYPE_F64] = 3.0;
    g->pair[RC_DTYPE_F16] = 1.0;
    g->pair[RC_DTYPE_BF16] = 1.0;
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        g->component[t] = INFINITY;
    g->positions_below = (int64_t)1 << 31;
}

void rc_gate_profile(rc_gate *g)
{
    /* reference/PROFILES.md: a port that follows the framework's steps
     * lies in the band (0); one that fuses a product of each output into
     * an fma moves the final rounding by at most 2 ulp of the pair norm. */
    rc_gate_default(g);
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        g->pair[t] = 2.0;
}

const char *rc_verdict_name(rc_verdict v)
{
    static const char *const names[] = {"pass", "FAIL", "skip", "BROKEN", "ERROR"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t rc_verify_case_caps(const rc_verify_case *c)
{
    uint64_t caps = rc_cap_for_dtype(c->dtype) | rc_cap_for_layout(c->layout);
    caps |= c->direction == RC_INVERSE ? RC_CAP_INVERSE : 0;
    caps |= c->rotary_dim < c->head_dim ? RC_CAP_PARTIAL_ROTARY : 0;
    caps |= c->inplace ? RC_CAP_INPLACE : 0;
    caps |= c->stride_pad > 0 ? RC_CAP_STRIDED : 0;
    caps |= !rc_scaling_is_none(c->scaling) ? RC_CAP_SCALING : 0;
    caps |= rc_case_n_axes(c) >= 2 ? RC_CAP_MULTI_AXIS : 0;
    return caps;
}

/* The reason a case is outside the implementation's capabilities, or NULL. */
static const char *unsupported_reason(const rc_verify_case *c)
{
    static const struct {
        uint64_t bit;
        const char *why;
    } reasons[] = {
        {RC_CAP_ALL_DTYPES, "dtype not offered"},
        {RC_CAP_ALL_LAYOUTS, "layout not offered"},
        {RC_CAP_INVERSE, "inverse direction not offered"},
        {RC_CAP_PARTIAL_ROTARY, "partial rotary not offered"},
        {RC_CAP_INPLACE, "in-place not offered"},
        {RC_CAP_STRIDED, "strided tensors not offered"},
        {RC_CAP_SCALING, "frequency scaling not offered (RC_CAP_SCALING)"},
        {RC_CAP_MULTI_AXIS, "multi-axis positions not offered (RC_CAP_MULTI_AXIS, ABI 4)"},
    };
    const uint64_t missing = rc_verify_case_caps(c) & ~rc_impl_caps(c->impl);
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (missing & reasons[i].bit)
            return reasons[i].why;
    return NULL;
}

/* Bits of x stored as dtype t (x exact in t). */
static uint64_t bits_of(rc_dtype t, double x)
{
    unsigned char tmp[8];
    rc_elem_store(t, tmp, 0, x);
    return rc_elem_bits(t, tmp, 0);
}

/* The fill pattern of output elements before the call: all-ones bytes, a
 * NaN in every dtype, so an element the implementation never writes can
 * only pass if a NaN is the right answer (and is counted as unwritten). */
static uint64_t unwritten_bits(rc_dtype t)
{
    size_t n = rc_dtype_size(t);
    return n >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * n)) - 1);
}

typedef struct compare_state {
    rc_verify_partial *part; /* where the figures accumulate */
    rc_profile_ref *profile; /* the case's framework profile, NULL: exact */
    rc_diag *diag;           /* what a failure is diagnosed from (NULL: none) */
} compare_state;

static int position_bucket(int64_t m)
{
    int b = 0;
    while (m > 0 && b < RC_POSITION_BUCKETS - 1) {
        m >>= 1;
        b++;
    }
    return b;
}

static int histogram_bin(double v)
{
    if (!(v >= 0x1p-8))
        return 0; /* also v < 0, which cannot happen */
    if (v >= 0x1p24 || isnan(v))
        return RC_HIST_BINS - 1;
    int e;
    frexp(v, &e); /* v in [2^(e-1), 2^e) */
    return e + 8; /* [2^-8, 2^-7) -> e = -7 -> bin 1 */
}


/* The position channel ch of token t rotates by: its pair's (a channel
 * beyond rotary_dim is not rotated: the token's first position). */
static int64_t channel_position(const rc_verify_case *c, int64_t t, int ch)
{
    return ch < c->rotary_dim ? rc_case_pair_pos(c, t, rc_channel_pair(c->layout, c->rotary_dim, ch))
                              : rc_case_pos(c, t)[0];
}

static void fill_loc(rc_elem_loc *loc, const rc_verify_case *c, int64_t t, int64_t h, int ch,
                     const double *in, const rc_ref_elem *e, double got, uint64_t got_bits)
{
    memset(loc, 0, sizeof *loc);
    loc->token = c->token_base + t;
    loc->position = channel_position(c, t, ch);
    if (rc_case_n_axes(c) >= 2) {
        loc->n_axes = rc_case_n_axes(c);
        memcpy(loc->positions, rc_case_pos(c, t), sizeof(int64_t) * (size_t)loc->n_axes);
    }
    loc->head = (int32_t)h;
    loc->channel = ch;
    loc->partner = e->partner;
    loc->in_self = in[ch];
    loc->in_partner = in[e->partner];
    loc->in_self_bits = bits_of(c->dtype, in[ch]);
    loc->in_partner_bits = bits_of(c->dtype, in[e->partner]);
    loc->got = got;
    loc->got_bits = got_bits;
    loc->exact = e->exact;
    loc->rounded = e->rounded;
}

/* What judging one head needs beside the state: the case, the output view,
 * and scratch of head_dim entries (one set per thread). */
typedef struct head_judge {
    const rc_verify_case *c;
    const rc_gate *gate;
    const void *out;
    int64_t token_stride, head_stride;
    uint64_t fill;
    rc_verify_partial *part;
    double *band;      /* pred, lo, hi under a profile: 3 x head_dim */
    unsigned *classes; /* a profile's allowed classes of special outputs */
    double *gotv;
    unsigned char *unwritten;
    int rc; /* -1 once out of memory */
} head_judge;

/* Judge head h of token t into hj->part: passthrough bits, special-value
 * classes, and each rotated element's pair and component ULP (given, or
 * from the band when hj->band is set), with its location only when it can
 * become a worst case. Fills hj->gotv and hj->unwritten for the diagnosis. */
static void judge_head(head_judge *hj, int64_t t, int64_t h, const double *in,
                       const rc_ref_elem *elems, const double *pair_ulp,
                       const double *component_ulp)
{
    const rc_verify_case *c = hj->c;
    rc_verify_partial *res = hj->part;
    const int banded = hj->band != NULL;
    const size_t d = (size_t)c->head_dim;
    const int gated = rc_case_pos_max(c, t) < hj->gate->positions_below;
    const int64_t base_idx = t * hj->token_stride + h * hj->head_stride;
    for (int ch = 0; ch < c->head_dim; ch++) {
        const rc_ref_elem *e = &elems[ch];
        double got = rc_elem_load(c->dtype, hj->out, base_idx + ch);
        uint64_t got_bits = rc_elem_bits(c->dtype, hj->out, base_idx + ch);
        hj->gotv[ch] = got;
        hj->unwritten[ch] = got_bits == hj->fill;
        if (got_bits == hj->fill)
            res->unwritten++;
        rc_elem_loc loc;
        if (e->kind == RC_ELEM_PASSTHROUGH) {
            if (got_bits != bits_of(c->dtype, in[ch]) && res->passthrough_mismatches++ == 0) {
                fill_loc(&loc, c, t, h, ch, in, e, got, got_bits);
                res->passthrough_first = loc;
            }
            continue;
        }
        if (e->kind == RC_ELEM_SPECIAL) {
            /* Under a profile the framework's own cos/sin signs decide the
             * class (profile.h), not the exact angle's. */
            const unsigned cls = rc_value_class(got);
            const int ok = banded ? (hj->classes[ch] & cls) != 0
                                  : cls == rc_value_class(e->exact.hi);
            res->special_elements++;
            if (!ok && res->special_mismatches++ == 0) {
                fill_loc(&loc, c, t, h, ch, in, e, got, got_bits);
                res->special_first = loc;
                res->special_first_classes = banded ? hj->classes[ch] : 0u;
            }
            continue;
        }
        double pu, cu, lo = 0.0, hi = 0.0;
        if (banded) {
            /* Distance from the band [lo, hi]: measured from the band's
             * nearest point, so inside scores 0. */
            lo = hj->band[d + (size_t)ch];
            hi = hj->band[2 * d + (size_t)ch];
            pu = rc_profile_band_distance(c->dtype, got, lo, hi, e->pair_norm);
            cu = rc_profile_band_component(c->dtype, got, lo, hi);
        } else {
            pu = pair_ulp[ch]; /* rc_ulp_error, on the pass's threads */
            cu = component_ulp[ch];
        }
        rc_error_acc *bucket =
            rc_verify_partial_bucket(res, position_bucket(channel_position(c, t, ch)));
        if (!bucket || rc_error_acc_add(bucket, pu, NULL) != 0)
            hj->rc = -1;
        /* The location is written out only for an element that may become
         * a worst case: the accumulators keep it only then. */
        const int located = gated ? rc_error_acc_tops(res->pair, pu) ||
                                        rc_error_acc_tops(res->component, cu)
                                  : rc_error_acc_tops(res->pair_beyond, pu);
        if (located) {
            fill_loc(&loc, c, t, h, ch, in, e, got, got_bits);
            loc.banded = banded;
            loc.band_pred = banded ? hj->band[ch] : 0.0;
            loc.band_lo = lo;
            loc.band_hi = hi;
            loc.pair_ulp = pu;
            loc.component_ulp = cu;
        }
        const rc_elem_loc *where = located ? &loc : NULL;
        if (gated) {
            res->pair_histogram[histogram_bin(pu)]++;
            if (rc_error_acc_add(res->pair, pu, where) != 0 ||
                rc_error_acc_add(res->component, cu, where) != 0)
                hj->rc = -1;
        } else if (rc_error_acc_add(res->pair_beyond, pu, where) != 0) {
            hj->rc = -1;
        }
    }
}

static void head_judge_free(head_judge *hj)
{
    free(hj->band);
    free(hj->classes);
    free(hj->gotv);
    free(hj->unwritten);
    hj->band = hj->gotv = NULL;
    hj->classes = NULL;
    hj->unwritten = NULL;
}

/* Scratch for one thread's judge (and a profile's band when banded). */
static int head_judge_init(head_judge *hj, const head_judge *proto, rc_verify_partial *part,
                           int banded)
{
    *hj = *proto;
    const size_t d = (size_t)proto->c->head_dim;
    hj->part = part;
    hj->band = banded ? malloc(sizeof(double) * 3 * d) : NULL;
    hj->classes = banded ? malloc(sizeof(unsigned) * d) : NULL;
    hj->gotv = malloc(sizeof(double) * d);
    hj->unwritten = malloc(d);
    hj->rc = 0;
    if ((banded && (!hj->band || !hj->classes)) || !hj->gotv || !hj->unwritten) {
        head_judge_free(hj);
        return -1;
    }
    return 0;
}

/* --jobs: each oracle worker judges the heads it computed into its own
 * state; merged at the end, in any order, they are the one-thread state
 * (ties of a maximum or a first mismatch go to the smallest index:
 * reference/metrics.h, verify_partial.h). */
typedef struct parallel_judge {
    rc_oracle_pass *pass;
    head_judge *per_worker;
} parallel_judge;

static void judge_in_worker(void *ctx, int worker, int64_t t, int64_t h)
{
    parallel_judge *pj = ctx;
    judge_head(&pj->per_worker[worker], t, h, rc_oracle_pass_in(pj->pass, t, h),
               rc_oracle_pass_elems(pj->pass, t, h), rc_oracle_pass_pair_ulp(pj->pass, t, h),
               rc_oracle_pass_component_ulp(pj->pass, t, h));
}

/* The diagnosis's share of a block judged on the workers: its
 * accumulator is one, fed here in token order. */
static void diagnose_block(const head_judge *proto, rc_diag *diag, rc_oracle_pass *pass,
                           int64_t b0, int64_t b1, head_judge *scratch)
{
    const rc_verify_case *c = proto->c;
    for (int64_t t = b0; t < b1; t++) {
        if (rc_case_pos_max(c, t) >= proto->gate->positions_below)
            continue;
        for (int64_t h = 0; h < c->n_heads; h++) {
            const int64_t base_idx = t * proto->token_stride + h * proto->head_stride;
            for (int ch = 0; ch < c->head_dim; ch++) {
                scratch->gotv[ch] = rc_elem_load(c->dtype, proto->out, base_idx + ch);
                scratch->unwritten[ch] =
                    rc_elem_bits(c->dtype, proto->out, base_idx + ch) == proto->fill;
            }
            rc_diag_add_head(diag, t, h, rc_oracle_pass_in(pass, t, h),
                             rc_oracle_pass_elems(pass, t, h), scratch->gotv,
                             scratch->unwritten);
        }
    }
}

/* The profile's band (and, with special values, its allowed classes) for
 * one head of token t into hj->band / hj->classes. With several axes each
 * pair's channels come from the band at its own axis's position, one call
 * per distinct position of the token: a framework's multi-axis path is its
 * one-axis arithmetic per pair (transformers' Qwen2-VL and Qwen3-VL
 * multiply inv_freq by each axis's position as Llama's path does, and
 * pick sections of cos/sin afterwards; reference/PROFILES.md). 0, or -1. */
static int profile_band_head(rc_profile_ref *prof, const rc_verify_case *c, int64_t t,
                             const double *in, head_judge *hj)
{
    const size_t d = (size_t)c->head_dim;
    const int32_t n_axes = rc_case_n_axes(c);
    const int64_t *pos = rc_case_pos(c, t);
    double band[3 * RC_MAX_HEAD_DIM];
    unsigned classes[RC_MAX_HEAD_DIM];
    for (int32_t k = 0; k < n_axes; k++) {
        if (!rc_axes_position_is_new(pos, k))
            continue;
        double *b = n_axes == 1 ? hj->band : band;
        unsigned *cl = n_axes == 1 ? hj->classes : classes;
        if (rc_profile_ref_head(prof, pos[k], c->direction, in, b, b + d, b + 2 * d) != 0 ||
            (c->with_specials &&
             rc_profile_ref_special_classes(prof, pos[k], c->direction, in, cl) != 0))
            return -1;
        if (n_axes == 1)
            return 0;
        for (size_t ch = 0; ch < d; ch++) {
            if (channel_position(c, t, (int)ch) != pos[k])
                continue;
            for (int j = 0; j < 3; j++)
                hj->band[j * d + ch] = band[j * d + ch];
            if (c->with_specials)
                hj->classes[ch] = classes[ch];
        }
    }
    return 0;
}

/* Walk every element of the output against the reference. Returns 0, or
 * -1 on allocation failure. */
static int compare_all(const rc_verify_case *c, const rc_gate *gate, const void *out_data,
                       int64_t token_stride, int64_t head_stride, compare_state *st)
{
    const int64_t block = rc_oracle_block_tokens(c);
    rc_oracle_pass *pass = rc_oracle_pass_create(c, c->jobs, block);
    /* A profile judges rotated elements by the distance from its band;
     * the exact reference still decides passthrough, special values and
     * the ULP scale (the output pair's norm). Its predictor is one object:
     * a banded case is judged on this thread. */
    rc_profile_ref *prof = st->profile;
    const int banded = prof != NULL;
    const int jobs = pass ? rc_oracle_pass_jobs(pass) : 1;
    const int parallel = !banded && jobs > 1;
    const head_judge proto = {.c = c, .gate = gate, .out = out_data,
                              .token_stride = token_stride, .head_stride = head_stride,
                              .fill = unwritten_bits(c->dtype)};
    head_judge main_judge = {0};
    parallel_judge pj = {.pass = pass};
    rc_verify_partial *parts = NULL; /* the workers' own states (parallel) */
    int rc = -1, made = 0;
    if (!pass || head_judge_init(&main_judge, &proto, st->part, banded) != 0)
        goto out;
    if (parallel) {
        pj.per_worker = calloc((size_t)jobs, sizeof *pj.per_worker);
        parts = calloc((size_t)jobs, sizeof *parts);
        if (!pj.per_worker || !parts)
            goto out;
        for (; made < jobs; made++)
            if (rc_verify_partial_init(&parts[made], st->part->gate_pair,
                                       st->part->gate_component) != 0 ||
                head_judge_init(&pj.per_worker[made], &proto, &parts[made], 0) != 0) {
                rc_verify_partial_free(&parts[made]);
                goto out;
            }
        rc_oracle_pass_set_consumer(pass, judge_in_worker, &pj);
    }
    if (!banded) /* the exact profile's metrics come with the reference */
        rc_oracle_pass_set_output(pass, out_data, token_stride, head_stride);
    const int64_t t0 = c->judge_t1 > 0 ? c->judge_t0 : 0;
    const int64_t t1 = c->judge_t1 > 0 ? c->judge_t1 : c->n_tokens;
    rc = 0;
    for (int64_t b0 = t0; b0 < t1 && rc == 0; b0 += block) {
        const int64_t b1 = b0 + block < t1 ? b0 + block : t1;
        /* the block's inputs and reference on c->jobs threads (and, in
         * parallel, its judging there too) */
        rc_oracle_pass_run(pass, b0, b1);
        if (parallel) {
            if (st->diag)
                diagnose_block(&proto, st->diag, pass, b0, b1, &main_judge);
        } else {
            for (int64_t t = b0; t < b1 && rc == 0; t++)
                for (int64_t h = 0; h < c->n_heads && rc == 0; h++) {
                    const double *in = rc_oracle_pass_in(pass, t, h);
                    const rc_ref_elem *elems = rc_oracle_pass_elems(pass, t, h);
                    if (banded && profile_band_head(prof, c, t, in, &main_judge) != 0)
                        rc = -1;
                    judge_head(&main_judge, t, h, in, elems,
                               rc_oracle_pass_pair_ulp(pass, t, h),
                               rc_oracle_pass_component_ulp(pass, t, h));
                    /* The diagnosis sees gated positions against the exact
                     * result (not a profile's band: its models are exact
                     * rotations). */
                    if (st->diag && rc_case_pos_max(c, t) < gate->positions_below && !banded)
                        rc_diag_add_head(st->diag, t, h, in, elems, main_judge.gotv,
                                         main_judge.unwritten);
                    if (c->progress && h + 1 == c->n_heads && (t + 1 - t0) % 16 == 0 &&
                        t + 1 < t1)
                        c->progress(c->progress_ctx, t + 1 - t0, t1 - t0);
                }
        }
        for (int j = 0; parallel && j < jobs; j++)
            rc = pj.per_worker[j].rc ? -1 : rc;
        rc = main_judge.rc ? -1 : rc;
        if (c->progress && (parallel || b1 == t1)) /* one thread: every 16 tokens above */
            c->progress(c->progress_ctx, b1 - t0, t1 - t0);
    }
    for (int j = 0; parallel && j < jobs && rc == 0; j++)
        if (rc_verify_partial_merge(st->part, &parts[j]) != 0)
            rc = -1;
    rc_ref_stats stats;
    rc_oracle_pass_stats(pass, &stats);
    st->part->ziv_retries += stats.ziv_retries;
    st->part->uncertified += stats.uncertified;
    st->part->ref_pairs_fast += stats.pairs_fast;
    st->part->ref_pairs_mpfr += stats.pairs_mpfr;
    st->part->tokens += t1 - t0;
out:
    for (int j = 0; j < made; j++) {
        head_judge_free(&pj.per_worker[j]);
        rc_verify_partial_free(&parts[j]);
    }
    free(pj.per_worker);
    free(parts);
    head_judge_free(&main_judge);
    rc_oracle_pass_destroy(pass);
    return rc;
}

/* Fill the input buffer: gaps with a byte pattern, view with the inputs. */
/* One thread's share of the input tensor: tokens [t0, t1). */
typedef struct fill_share {
    const rc_verify_case *c;
    unsigned char *data;
    int64_t token_stride, head_stride, t0, t1;
    pthread_t thread;
    int started;
    double scratch[RC_MAX_HEAD_DIM];
} fill_share;

static void *fill_tokens(void *arg)
{
    fill_share *f = arg;
    const rc_verify_case *c = f->c;
    for (int64_t t = f->t0; t < f->t1; t++)
        for (int64_t h = 0; h < c->n_heads; h++) {
            rc_input_gen_head(c->seed, rc_case_input_key(c, t), h, c->dtype, c->head_dim,
                              c->with_specials, f->scratch);
            for (int ch = 0; ch < c->head_dim; ch++)
                rc_elem_store(c->dtype, f->data, t * f->token_stride + h * f->head_stride + ch,
                              f->scratch[ch]);
        }
    return NULL;
}

/* Fill the input buffer: gaps with a byte pattern, view with the inputs
 * (a function of seed, position and head only), on c->jobs threads: each
 * writes its own tokens, so the bytes do not depend on the threads. A
 * thread that cannot start leaves its share to this one. */
static int fill_inputs(const rc_verify_case *c, unsigned char *data, size_t bytes,
                       int64_t token_stride, int64_t head_stride)
{
    memset(data, 0x5A, bytes);
    int64_t jobs = c->jobs < 1 ? 1 : c->jobs > RC_ORACLE_MAX_JOBS ? RC_ORACLE_MAX_JOBS : c->jobs;
    jobs = jobs > c->n_tokens ? (c->n_tokens > 0 ? c->n_tokens : 1) : jobs;
    fill_share *f = calloc((size_t)jobs, sizeof *f);
    if (!f)
        return -1;
    for (int64_t j = 0; j < jobs; j++) {
        f[j] = (fill_share){.c = c, .data = data, .token_stride = token_stride,
                            .head_stride = head_stride, .t0 = c->n_tokens * j / jobs,
                            .t1 = c->n_tokens * (j + 1) / jobs};
        f[j].started = j > 0 && pthread_create(&f[j].thread, NULL, fill_tokens, &f[j]) == 0;
    }
    fill_tokens(&f[0]);
    for (int64_t j = 1; j < jobs; j++) {
        if (f[j].started)
            pthread_join(f[j].thread, NULL);
        else
            fill_tokens(&f[j]);
    }
    free(f);
    return 0;
}

int rc_verify_call_verdict(const rc_verify_case *c, rc_verify_result *res)
{
    switch (res->call.outcome) {
    case RC_CALL_OK: return 1;
    case RC_CALL_STATUS:
        if (res->call.status == RC_ERR_UNSUPPORTED && res->call.status_in_apply) {
            /* caps offered the case and prepare() accepted it: a refusal
             * now is a broken promise, and a gate that skipped it could
             * be passed by refusing everything. */
            snprintf(res->reason, sizeof res->reason,
                     "apply() refused a case its caps offer and prepare() accepted (%s)",
                     res->call.detail);
            snprintf(res->cause, sizeof res->cause, "apply-refused");
            res->verdict = RC_VERDICT_FAIL;
        } else if (res->call.status == RC_ERR_UNSUPPORTED) {
            snprintf(res->reason, sizeof res->reason, "implementation declined: %s",
                     res->call.detail);
            res->verdict = RC_VERDICT_SKIP;
        } else {
            snprintf(res->reason, sizeof res->reason, "%s", res->call.detail);
            res->verdict = RC_VERDICT_BROKEN;
        }
        return 0;
    case RC_CALL_HISTORY:
        /* A wrong output, on every call after a state's first in real use
         * (a model's layers 2..L): a failure of the port, not a crash. */
        snprintf(res->reason, sizeof res->reason, "output depends on the state's earlier calls: %s",
                 res->call.detail);
        snprintf(res->cause, sizeof res->cause, "stale-state");
        snprintf(res->finding, sizeof res->finding,
                 "a state's later calls at the same positions give other bytes than its first: "
                 "what it keeps between calls (cos/sin rows) is keyed on the wrong thing or "
                 "never renewed (include/ropecheck/plugin.h, STATE)");
        res->verdict = RC_VERDICT_FAIL;
        return 0;
    case RC_CALL_HARNESS_ERROR:
        /* Not the implementation's doing (fork or mmap failed): an error
         * of the run, never a verdict on the port. */
        snprintf(res->reason, sizeof res->reason, "harness: %s", res->call.detail);
        res->verdict = RC_VERDICT_ERROR;
        return 0;
    default:
        snprintf(res->reason, sizeof res->reason, "%s: %s",
                 rc_call_outcome_name(res->call.outcome), res->call.detail);
        res->verdict = RC_VERDICT_BROKEN;
        if (res->call.outcome == RC_CALL_OUT_OF_BOUNDS && c->stride_pad > 0 &&
            strstr(res->call.detail, "stride gap")) {
            /* Only a strided view has gaps: a port that takes the views
             * as packed writes exactly there. */
            snprintf(res->cause, sizeof res->cause, "ignores-strides");
            snprintf(res->finding, sizeof res->finding,
                     "wrote into the gap between %s: head_stride/token_stride are not "
                     "honoured (the port assumes packed tensors)",
                     strstr(res->call.detail, " head ") ? "heads" : "tokens");
        }
        return 0;
    }
}

int rc_verify_run_part(const rc_verify_case *c, const rc_gate *gate, rc_verify_result *res,
                       rc_verify_partial *part)
{
    memset(res, 0, sizeof *res);
    res->gate_pair = gate->pair[c->dtype];
    res->gate_component = gate->component[c->dtype];
    res->positions_below = gate->positions_below;
    res->verdict = RC_VERDICT_ERROR;

    char err[256];
    const char *why_not = unsupported_reason(c);
    if (why_not) {
        snprintf(res->reason, sizeof res->reason, "%s", why_not);
        res->verdict = RC_VERDICT_SKIP;
        return 0;
    }
    const size_t esz = rc_dtype_size(c->dtype);
    const int64_t head_stride = c->head_dim + c->stride_pad;
    const int64_t token_stride = c->n_heads * head_stride + c->stride_pad;
    size_t bytes;
    if (rc_spec_check(c->head_dim, c->rotary_dim, c->base, err, sizeof err) != 0 ||
        rc_shape_check(c->n_tokens, c->n_heads, c->head_dim, token_stride, head_stride, esz,
                       &bytes, err, sizeof err) != 0 ||
        (c->axes && rc_axes_check(c->axes, c->rotary_dim, err, sizeof err) != 0) ||
        rc_positions_check(c->positions, c->n_tokens * rc_case_n_axes(c), err, sizeof err) != 0 ||
        rc_scaling_check(c->scaling, c->rotary_dim, err, sizeof err) != 0 ||
        rc_scaling_check_base(c->scaling, c->base, err, sizeof err) != 0 ||
        rc_ref_freq_check(c->base, c->rotary_dim, c->scaling, err, sizeof err) != 0) {
        snprintf(res->reason, sizeof res->reason, "invalid case: %s", err);
        return 0;
    }
    if (c->judge_t0 < 0 || c->judge_t1 < 0 || c->judge_t1 > c->n_tokens ||
        (c->judge_t1 > 0 && c->judge_t0 >= c->judge_t1) || (c->judge_t1 == 0 && c->judge_t0)) {
        snprintf(res->reason, sizeof res->reason,
                 "invalid case: tokens [%lld, %lld) to judge are not a range of the %lld",
                 (long long)c->judge_t0, (long long)c->judge_t1, (long long)c->n_tokens);
        return 0;
    }

    /* The case as a framework profile sees it (its own table, no theta). */
    const rc_spec pspec = {.head_dim = c->head_dim, .rotary_dim = c->rotary_dim,
                           .base = c->base, .layout = c->layout, .dtype = c->dtype,
                           .scaling = c->scaling};
    rc_profile_ref *profile = NULL;
    if (c->profile != RC_PROFILE_EXACT && c->axes && c->axes->freq_period > 0) {
        /* The profiles model one frequency table per spec (PROFILES.md). */
        snprintf(res->reason, sizeof res->reason,
                 "the %s profile does not model frequencies that restart per axis (2-D "
                 "vision RoPE)", rc_profile_name(c->profile));
        res->verdict = RC_VERDICT_SKIP;
        return 0;
    }
    if (c->profile != RC_PROFILE_EXACT) {
        /* A framework without this case (ggml has no bf16 RoPE, no
         * llama3 table): nothing to match, so nothing to judge. The
         * predictor made here is the one the comparison uses. */
        if (!rc_profile_models(c->profile, &pspec)) {
            snprintf(res->reason, sizeof res->reason,
                     "the %s profile does not model this case (%s, %s scaling)",
                     rc_profile_name(c->profile), rc_dtype_name(c->dtype),
                     rc_scaling_type_name(c->scaling ? c->scaling->type : RC_SCALING_NONE));
            res->verdict = RC_VERDICT_SKIP;
            return 0;
        }
        profile = rc_profile_ref_create(c->profile, &pspec);
        if (!profile) {
            snprintf(res->reason, sizeof res->reason, "out of memory for the %s profile",
                     rc_profile_name(c->profile));
            return 0; /* res->verdict is RC_VERDICT_ERROR */
        }
    }

    const int half = c->rotary_dim / 2;
    const size_t pos_bytes = sizeof(int64_t) * (size_t)c->n_tokens * (size_t)rc_case_n_axes(c);
    double *theta = malloc(sizeof(double) * 2 * (size_t)half);
    rc_guarded_buf in_buf = {0}, out_buf = {0}, pos_buf = {0};
    compare_state st = {.profile = profile, .part = part};
    int judged = 0;
    int allocated = theta && rc_guarded_buf_alloc(&in_buf, bytes) == 0 &&
                    (c->inplace || rc_guarded_buf_alloc(&out_buf, bytes) == 0) &&
                    rc_guarded_buf_alloc(&pos_buf, pos_bytes) == 0;
    if (!allocated) {
        snprintf(res->reason, sizeof res->reason, "out of memory for %zu-byte tensors", bytes);
        goto done;
    }
    rc_guarded_buf *outp = c->inplace ? &in_buf : &out_buf;
    const int32_t period = c->axes ? c->axes->freq_period : 0;
    rc_ref_freq_table_period(c->base, c->rotary_dim, c->scaling, period, theta, theta + half);
    const rc_dd alpha = rc_ref_out_scale_dd(c->scaling);
    if (fill_inputs(c, in_buf.data, bytes, token_stride, head_stride) != 0) {
        snprintf(res->reason, sizeof res->reason, "out of memory filling the inputs");
        goto done;
    }
    if (!c->inplace)
        memset(out_buf.data, 0xFF, bytes);
    memcpy(pos_buf.data, c->positions, pos_bytes);

    rc_spec spec = {.head_dim = c->head_dim, .rotary_dim = c->rotary_dim, .base = c->base,
                    .layout = c->layout, .dtype = c->dtype, .theta_hi = theta,
                    .theta_lo = theta + half, .scaling = c->scaling,
                    .out_scale_hi = alpha.hi, .out_scale_lo = alpha.lo};
    if (rc_case_n_axes(c) >= 2) {
        spec.n_axes = c->axes->n_axes;
        spec.pair_axis = c->axes->pair_axis;
    }
    spec.freq_period = period;
    rc_tensor in = {.data = in_buf.data, .n_tokens = c->n_tokens, .n_heads = c->n_heads,
                    .token_stride = token_stride, .head_stride = head_stride};
    rc_tensor out = in;
    out.data = outp->data;

    double t0 = now_seconds();
    /* The judged call is the first on a fresh state; before it, a second
     * state's calls must give its bytes (guarded_call.h, the history
     * check), unless every call reaches a fresh state anyway. */
    (c->fresh_state_per_call ? rc_guarded_apply : rc_guarded_apply_history)(
        c->impl, &spec, &in_buf, &in, outp, &out, &pos_buf, c->direction, c->timeout_s,
        &res->call);
    res->impl_seconds = now_seconds() - t0;
    /* The frequency table the implementation reported with this call (if
     * any), measured against the exact one the spec handed over. */
    double given[RC_MAX_HEAD_DIM / 2];
    const size_t n_given = c->own_table ? c->own_table(given, RC_MAX_HEAD_DIM / 2) : 0;
    if (n_given == (size_t)half) { /* a bad entry is measured too: an error of +Inf */
        rc_table_error_measure(given, theta, theta + half, n_given, &res->own_table);
        res->has_own_table = 1;
    }
    if (!rc_verify_call_verdict(c, res))
        goto done;
    if (profile && res->has_own_table) {
        /* A reported table the framework's own arithmetic can give (within
         * RC_PROFILE_TABLE_SLACK) is used for the band; one it cannot (a
         * wrong config: another base, family or factor) is not, so the
         * outputs are judged against the spec's table, and the reason
         * names the table. */
        const double ex = rc_profile_table_excess(c->profile, &pspec, given, n_given,
                                                  &res->profile_table_worst);
        if (ex > RC_PROFILE_TABLE_SLACK)
            res->profile_table_excess = ex;
        else if (ex >= 0.0)
            res->profile_given_table = rc_profile_ref_use_table(profile, given, n_given) == 0;
    }

    st.diag = rc_diag_create(c, res->gate_pair); /* NULL: judged, not diagnosed */
    const rc_verify_partial before = *part; /* its counters, to see what this part adds */
    t0 = now_seconds();
    if (compare_all(c, gate, outp->data, token_stride, head_stride, &st) != 0) {
        snprintf(res->reason, sizeof res->reason, "out of memory during comparison");
        goto done;
    }
    part->reference_seconds += now_seconds() - t0;
    part->impl_seconds += res->impl_seconds;
    judged = 1;
    if (!part->cause[0]) {
        /* Diagnosed on the first part where the state so far fails, from
         * this part's outputs (a failure seen only in earlier parts was
         * diagnosed there). */
        rc_verify_result now = *res;
        rc_verify_partial_result(part, c, &now);
        const int adds_failure =
            part->passthrough_mismatches > before.passthrough_mismatches ||
            part->special_mismatches > before.special_mismatches ||
            now.pair.over_gate > 0 || now.component.over_gate > 0;
        if (now.verdict == RC_VERDICT_FAIL && adds_failure) {
            rc_diagnose(st.diag, outp->data, token_stride, head_stride, &now);
            memcpy(part->cause, now.cause, sizeof part->cause);
            memcpy(part->finding, now.finding, sizeof part->finding);
            const int64_t f0 = c->judge_t1 > 0 ? c->judge_t0 : 0;
            const int64_t f1 = c->judge_t1 > 0 ? c->judge_t1 : c->n_tokens;
            part->diag_position_lo = rc_case_pos_min(c, f0);
            part->diag_position_hi = rc_case_pos_max(c, f0);
            for (int64_t t = f0; t < f1; t++) {
                const int64_t lo = rc_case_pos_min(c, t), hi = rc_case_pos_max(c, t);
                part->diag_position_lo = lo < part->diag_position_lo ? lo
                                                                     : part->diag_position_lo;
                part->diag_position_hi = hi > part->diag_position_hi ? hi
                                                                     : part->diag_position_hi;
            }
        }
    }

done:
    rc_diag_destroy(st.diag);
    rc_guarded_buf_free(&in_buf);
    rc_guarded_buf_free(&out_buf);
    rc_guarded_buf_free(&pos_buf);
    rc_profile_ref_destroy(profile);
    free(theta);
    return judged;
}

rc_verdict rc_verify_run(const rc_verify_case *c, const rc_gate *gate, rc_verify_result *res)
{
    rc_verify_partial part;
    if (rc_verify_partial_init(&part, gate->pair[c->dtype], gate->component[c->dtype]) != 0) {
        rc_verify_partial_free(&part);
        memset(res, 0, sizeof *res);
        snprintf(res->reason, sizeof res->reason, "out of memory for error statistics");
        return res->verdict = RC_VERDICT_ERROR;
    }
    if (rc_verify_run_part(c, gate, res, &part))
        rc_verify_partial_result(&part, c, res);
    rc_verify_partial_free(&part);
    return res->verdict;
}
