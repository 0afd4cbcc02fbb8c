/*
 * proofs/probe.c - the one place proofs/ calls an implementation.
 */
#include "proofs/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/registry.h"
#include "harness/guarded_call.h"
#include "harness/verify.h"
#include "reference/reference.h"
#include "reference/scaling.h"

double rc_dtype_unit_roundoff(rc_dtype t)
{
    return ldexp(1.0, -rc_dtype_format(t)->precision);
}

double rc_default_gate_pair(rc_dtype t)
{
    rc_gate g;
    rc_gate_default(&g);
    return g.pair[t];
}

/* Positions per token of a call: the map's axes, else 1. */
static int32_t probe_axes(const rc_probe *p)
{
    return p->axes && p->axes->n_axes >= 2 ? p->axes->n_axes : 1;
}

double rc_probe_exact(const rc_probe *p, double x)
{
    return rc_round_to_dtype(p->dtype, x);
}

int rc_probe_supported(const rc_probe *p, char *why, size_t why_len)
{
    const rc_impl *im = p->impl;
    char bad[160];
    if (rc_impl_check(im, bad, sizeof bad) != 0) {
        snprintf(why, why_len, "not a valid rc_impl: %s", bad);
        return 0;
    }
    if (!(im->caps & rc_cap_for_dtype(p->dtype))) {
        snprintf(why, why_len, "%s does not offer dtype %s", im->name, rc_dtype_name(p->dtype));
        return 0;
    }
    if (!(im->caps & rc_cap_for_layout(p->layout))) {
        snprintf(why, why_len, "%s does not offer layout %s", im->name,
                 rc_layout_name(p->layout));
        return 0;
    }
    if (p->rotary_dim < p->head_dim && !(im->caps & RC_CAP_PARTIAL_ROTARY)) {
        snprintf(why, why_len, "%s does not offer partial rotary", im->name);
        return 0;
    }
    if (probe_axes(p) >= 2 && !(rc_impl_caps(im) & RC_CAP_MULTI_AXIS)) {
        snprintf(why, why_len, "multi-axis positions not offered (RC_CAP_MULTI_AXIS, ABI 4)");
        return 0;
    }
    /* rc_impl_caps: a version-1 struct never offers scaling, whatever bit
     * 20 of its caps holds. */
    if (p->scaling && !(rc_impl_caps(im) & RC_CAP_SCALING)) {
        snprintf(why, why_len,
                 "%s does not offer frequency scaling (RC_CAP_SCALING), needed for %s", im->name,
                 rc_scaling_type_name(p->scaling->type));
        return 0;
    }
    rc_call_result res;
    if (!rc_guarded_available(im, p->timeout_s > 0.0 ? p->timeout_s : 60.0, why, why_len, &res)) {
        if (res.outcome != RC_CALL_OK && res.outcome != RC_CALL_HARNESS_ERROR)
            *p->broken = 1;
        return 0;
    }
    return 1;
}

int64_t rc_probe_view_extent(const rc_probe *p, const rc_probe_view *v, int output)
{
    const int64_t ts = output ? v->out_token_stride : v->in_token_stride;
    const int64_t hs = output ? v->out_head_stride : v->in_head_stride;
    return (v->n_tokens - 1) * ts + (v->n_heads - 1) * hs + p->head_dim;
}

/* The output buffer is filled with 0xFF bytes before the call: NaN in
 * every dtype, which no finite input may produce. A head whose every byte
 * still holds it was never written. */
#define FILL_BYTE 0xFF

static int head_unwritten(const unsigned char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != FILL_BYTE)
            return 0;
    return 1;
}

/* Which output heads were left unwritten; 0 if none, else the count with
 * one line in err saying which. The last token alone, every head of it, is
 * named as such: it is the common defect (a loop bound off by one). */
static int64_t find_unwritten(const rc_probe *p, const rc_probe_view *v, const unsigned char *out,
                              char *err, size_t err_len)
{
    const size_t esz = rc_dtype_size(p->dtype), row = (size_t)p->head_dim * esz;
    int64_t n = 0, first_t = -1, first_h = -1, last_t_count = 0;
    for (int64_t t = 0; t < v->n_tokens; t++)
        for (int64_t h = 0; h < v->n_heads; h++) {
            const size_t off = (size_t)(t * v->out_token_stride + h * v->out_head_stride) * esz;
            if (!head_unwritten(out + off, row))
                continue;
            if (n++ == 0) {
                first_t = t;
                first_h = h;
            }
            last_t_count += t == v->n_tokens - 1;
        }
    if (n == 0)
        return 0;
    if (v->n_tokens > 1 && n == v->n_heads && last_t_count == n)
        snprintf(err, err_len,
                 "the last token was not written: apply() returned ok but token %lld (the last "
                 "of %lld in the call) still holds the output buffer's fill pattern",
                 (long long)(v->n_tokens - 1), (long long)v->n_tokens);
    else
        snprintf(err, err_len,
                 "outputs not written: apply() returned ok but %lld of %lld heads (first: token "
                 "%lld head %lld) still hold the output buffer's fill pattern",
                 (long long)n, (long long)(v->n_tokens * v->n_heads), (long long)first_t,
                 (long long)first_h);
    return n;
}

static void set_fault(const rc_probe *p, rc_probe_fault f)
{
    *p->fault = (int)f;
}

/* One guarded call; pos holds `tuples` ? n_axes : 1 positions per token
 * (one is then spread over every axis: a text token). */
static rc_status apply_call(const rc_probe *p, const rc_probe_view *v, const double *in,
                            const int64_t *pos, int tuples, rc_direction dir, double *out,
                            char *err, size_t err_len);

rc_status rc_probe_apply_view(const rc_probe *p, const rc_probe_view *v, const double *in,
                              const int64_t *pos, rc_direction dir, double *out, char *err,
                              size_t err_len)
{
    return apply_call(p, v, in, pos, 0, dir, out, err, err_len);
}

rc_status rc_probe_apply_tuples(const rc_probe *p, const rc_probe_view *v, const double *in,
                                const int64_t *pos, rc_direction dir, double *out, char *err,
                                size_t err_len)
{
    return apply_call(p, v, in, pos, 1, dir, out, err, err_len);
}

static rc_status apply_call(const rc_probe *p, const rc_probe_view *v, const double *in,
                            const int64_t *pos, int tuples, rc_direction dir, double *out,
                            char *err, size_t err_len)
{
    const int32_t n_axes = probe_axes(p);
    const size_t half = (size_t)p->rotary_dim / 2;
    const size_t esz = rc_dtype_size(p->dtype);
    const size_t n_in = (size_t)rc_probe_view_extent(p, v, 0);
    const size_t n_out = (size_t)rc_probe_view_extent(p, v, 1);
    double *th_hi = malloc(half * sizeof *th_hi);
    double *th_lo = malloc(half * sizeof *th_lo);
    rc_guarded_buf bin = {0}, bout = {0}, bpos = {0};
    rc_status st = RC_ERR_NOMEM;
    if (!th_hi || !th_lo || rc_guarded_buf_alloc(&bin, n_in * esz) != 0 ||
        rc_guarded_buf_alloc(&bout, n_out * esz) != 0 ||
        rc_guarded_buf_alloc(&bpos, (size_t)(v->n_tokens * n_axes) * sizeof(int64_t)) != 0) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    rc_ref_freq_table_period(p->base, p->rotary_dim, p->scaling,
                             p->axes ? p->axes->freq_period : 0, th_hi, th_lo);
    for (size_t e = 0; e < n_in; e++)
        rc_elem_store(p->dtype, bin.data, (int64_t)e, in[e]);
    memset(bout.data, FILL_BYTE, n_out * esz); /* NaN in every dtype: unwritten shows */
    int64_t *bp = (int64_t *)bpos.data;
    for (int64_t t = 0; t < v->n_tokens; t++)
        for (int32_t k = 0; k < n_axes; k++)
            bp[t * n_axes + k] = tuples ? pos[t * n_axes + k] : pos[t];

    rc_spec spec = {.head_dim = p->head_dim,
                    .rotary_dim = p->rotary_dim,
                    .base = p->base,
                    .layout = p->layout,
                    .dtype = p->dtype,
                    .theta_hi = th_hi,
                    .theta_lo = th_lo};
    if (p->scaling) {
        /* Only for a scaled spec: an ABI-1 plug-in never sees these. */
        const rc_dd alpha = rc_ref_out_scale_dd(p->scaling);
        spec.scaling = p->scaling;
        spec.out_scale_hi = alpha.hi;
        spec.out_scale_lo = alpha.lo;
    }
    if (n_axes >= 2) { /* ABI 4: only for a multi-axis spec */
        spec.n_axes = n_axes;
        spec.pair_axis = p->axes->pair_axis;
        spec.freq_period = p->axes->freq_period;
    }
    rc_tensor tin = {bin.data, v->n_tokens, v->n_heads, v->in_token_stride, v->in_head_stride};
    rc_tensor tout = {bout.data, v->n_tokens, v->n_heads, v->out_token_stride,
                      v->out_head_stride};
    rc_call_result res;
    (p->history ? rc_guarded_apply_history : rc_guarded_apply)(
        p->impl, &spec, &bin, &tin, &bout, &tout, &bpos, dir,
        p->timeout_s > 0.0 ? p->timeout_s : 60.0, &res);
    switch (res.outcome) {
    case RC_CALL_OK:
        st = RC_OK;
        if (find_unwritten(p, v, bout.data, err, err_len) > 0) {
            set_fault(p, RC_PROBE_FAULT_UNWRITTEN);
            st = RC_ERR_INTERNAL;
            break;
        }
        for (size_t e = 0; e < n_out; e++)
            out[e] = rc_elem_load(p->dtype, bout.data, (int64_t)e);
        break;
    case RC_CALL_STATUS:
        st = res.status;
        /* RC_ERR_UNSUPPORTED from prepare() declines the case (a skip);
         * from apply(), after prepare() accepted, it is a broken promise. */
        if (st == RC_ERR_UNSUPPORTED)
            set_fault(p, res.status_in_apply ? RC_PROBE_FAULT_REFUSED : RC_PROBE_FAULT_DECLINED);
        snprintf(err, err_len, "%s: %s", p->impl->name, res.detail);
        break;
    case RC_CALL_HARNESS_ERROR:
        st = RC_ERR_INTERNAL;
        snprintf(err, err_len, "harness: %s", res.detail);
        break;
    case RC_CALL_HISTORY:
        /* A wrong output from a state that ran before: a finding (plugin.h,
         * STATE), not a crash. */
        st = RC_ERR_INTERNAL;
        set_fault(p, RC_PROBE_FAULT_STALE_STATE);
        snprintf(err, err_len, "output depends on the state's earlier calls: %s", res.detail);
        break;
    default:
        st = RC_ERR_INTERNAL;
        *p->broken = 1;
        snprintf(err, err_len, "%s %s: %s", p->impl->name, rc_call_outcome_name(res.outcome),
                 res.detail);
        break;
    }
done:
    free(th_hi);
    free(th_lo);
    rc_guarded_buf_free(&bin);
    rc_guarded_buf_free(&bout);
    rc_guarded_buf_free(&bpos);
    return st;
}

rc_status rc_probe_apply(const rc_probe *p, const double *in, const int64_t *pos, int64_t n_rows,
                         rc_direction dir, double *out, char *err, size_t err_len)
{
    const int64_t d = p->head_dim;
    const rc_probe_view v = {n_rows, 1, d, d, d, d};
    return rc_probe_apply_view(p, &v, in, pos, dir, out, err, err_len);
}

int rc_probe_declined(const rc_probe *p, char *why, size_t why_len)
{
    int broken = 0, fault = RC_PROBE_FAULT_NONE;
    rc_probe q = *p;
    q.broken = &broken;
    q.fault = &fault;
    double *zero = calloc((size_t)p->head_dim, sizeof *zero);
    double *out = malloc((size_t)p->head_dim * sizeof *out);
    const int64_t pos = 0;
    if (zero && out)
        rc_probe_apply(&q, zero, &pos, 1, RC_FORWARD, out, why, why_len);
    free(zero);
    free(out);
    return fault == RC_PROBE_FAULT_DECLINED;
}

rc_status rc_probe_unit(const rc_probe *p, const int64_t *pos, int64_t n_pos, rc_direction dir,
                        double *out, char *err, size_t err_len)
{
    const int64_t d = p->head_dim;
    const int64_t rows = n_pos * d;
    double *in = calloc((size_t)(rows * d), sizeof *in);
    int64_t *rpos = malloc((size_t)rows * sizeof *rpos);
    if (!in || !rpos) {
        free(in);
        free(rpos);
        snprintf(err, err_len, "out of memory");
        return RC_ERR_NOMEM;
    }
    for (int64_t k = 0; k < n_pos; k++)
        for (int64_t j = 0; j < d; j++) {
            in[(k * d + j) * d + j] = 1.0;
            rpos[k * d + j] = pos[k];
        }
    rc_status st = rc_probe_apply(p, in, rpos, rows, dir, out, err, err_len);
    free(in);
    free(rpos);
    return st;
}
