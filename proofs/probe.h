/*
 * proofs/probe.h - call an implementation from the oracles.
 *
 * Every call into an implementation made by proofs/ goes through
 * rc_probe_apply (and rc_probe_supported for available()), and both run
 * the implementation in a guarded child (harness/guarded_call.h): a port
 * that crashes, hangs or writes out of bounds under an oracle is reported
 * as broken and the oracles go on.
 */
#ifndef ROPECHECK_PROOFS_PROBE_H
#define ROPECHECK_PROOFS_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/plugin.h"

/* How the call that stopped an oracle failed, when that says something
 * about the implementation rather than about the harness: the oracle turns
 * it into a skip (DECLINED) or a finding (REFUSED, UNWRITTEN) instead of
 * an error (proof_internal.h: rc_proof_call_failed). */
typedef enum rc_probe_fault {
    RC_PROBE_FAULT_NONE = 0,
    RC_PROBE_FAULT_DECLINED,  /* prepare() returned RC_ERR_UNSUPPORTED: not offered */
    RC_PROBE_FAULT_REFUSED,   /* apply() returned it after prepare() accepted */
    RC_PROBE_FAULT_UNWRITTEN, /* apply() returned RC_OK but left outputs unwritten */
    RC_PROBE_FAULT_STALE_STATE /* a state's earlier calls changed its output (the
                                  history check, harness/guarded_call.h) */
} rc_probe_fault;

/* The internal state every oracle shares: what to call and with what. */
typedef struct rc_probe {
    const rc_impl *impl;
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    rc_layout layout;
    rc_dtype dtype;
    const rc_scaling *scaling; /* NULL: none (RC_SCALING_NONE is stored as NULL) */
    const struct rc_axes *axes; /* NULL: one axis; else every call hands over the map,
                                   and positions are tuples (rc_probe_apply_tuples) or
                                   text tokens, one position on every axis */
    double alpha;     /* the output scale to double precision (2^-104 relative
                         in the spec handed over; 1 without scaling) */
    double timeout_s; /* per guarded call */
    int history;      /* 1: every call makes the history check (guarded_call.h) */
    /* Where each call's failure is recorded: never NULL (rc_proof_begin
     * points them into the result; rc_probe_declined at its own). */
    int *broken;      /* set to 1 when a call crashed, hung or wrote out of bounds */
    int *fault;       /* an rc_probe_fault: set when a call fails that way */
} rc_probe;

/* The tensors of one call, in elements: n_tokens x n_heads heads of
 * head_dim channels; input and output strides may differ (the ABI allows
 * it). The caller's buffers span rc_probe_view_extent elements each. */
typedef struct rc_probe_view {
    int64_t n_tokens, n_heads;
    int64_t in_token_stride, in_head_stride;
    int64_t out_token_stride, out_head_stride;
} rc_probe_view;

/* Elements from the first to one past the last element of a view with
 * these strides: (n_tokens-1)*token_stride + (n_heads-1)*head_stride +
 * head_dim. */
int64_t rc_probe_view_extent(const rc_probe *p, const rc_probe_view *v, int output);

/* One guarded call over a view. in holds the whole input extent (gaps
 * included: their values are stored too, so a port that reads a gap reads
 * what the caller put there); out gets the whole output extent back (gap
 * elements as the output buffer's fill, NaN). Positions: one per token.
 * An output head still holding the fill pattern after RC_OK fails the call
 * (RC_PROBE_FAULT_UNWRITTEN, err names which heads). Otherwise as
 * rc_probe_apply. */
rc_status rc_probe_apply_view(const rc_probe *p, const rc_probe_view *v, const double *in,
                              const int64_t *pos, rc_direction dir, double *out, char *err,
                              size_t err_len);

/* rc_probe_apply_view with p->axes: pos holds n_axes positions per token
 * (token-major), handed over as they are. */
rc_status rc_probe_apply_tuples(const rc_probe *p, const rc_probe_view *v, const double *in,
                                const int64_t *pos, rc_direction dir, double *out, char *err,
                                size_t err_len);

/* Rotate n_rows heads: row t is in[t*head_dim .. +head_dim) at position
 * pos[t] (a packed rc_probe_apply_view with one head per token). Inputs are stored into the dtype (the caller passes values that
 * are exact in it, see rc_probe_exact); outputs come back as doubles
 * (exact: every dtype value is a double). One prepare, one apply over a
 * packed [n_rows][1][head_dim] tensor, one release. The spec's theta table
 * is the host's rc_ref_freq_table: the scaled one when p->scaling is set,
 * which also hands over spec.scaling and the output scale alpha
 * (rc_ref_out_scale_dd). Returns RC_OK or the failing status; err gets one
 * line. */
rc_status rc_probe_apply(const rc_probe *p, const double *in, const int64_t *pos, int64_t n_rows,
                         rc_direction dir, double *out, char *err, size_t err_len);

/* Unit vectors: out[(k*head_dim + j)*head_dim + c] = f(e_j, pos[k])[c] for
 * every position k < n_pos and channel j, rotated in direction dir. */
rc_status rc_probe_unit(const rc_probe *p, const int64_t *pos, int64_t n_pos, rc_direction dir,
                        double *out, char *err, size_t err_len);

/* Whether the implementation offers what the probe needs (dtype, layout,
 * partial rotary, RC_CAP_SCALING for a scaled spec) and is available
 * here; 0 if not, with why. */
int rc_probe_supported(const rc_probe *p, char *why, size_t why_len);

/* Whether prepare() declines the probe's spec (RC_ERR_UNSUPPORTED from
 * prepare): one call of one zero head at position 0. Any other outcome
 * (even a crash) is not a decline: the oracle's own calls report it, so
 * this call leaves *p->broken and *p->fault alone. 1 with why, or 0. */
int rc_probe_declined(const rc_probe *p, char *why, size_t why_len);

/* x rounded to the probe's dtype (so that inputs are exact in it). */
double rc_probe_exact(const rc_probe *p, double x);

/* Unit roundoff of a dtype: 2^-p (p = 24, 53, 11, 8). */
double rc_dtype_unit_roundoff(rc_dtype t);

/* The default pair-ULP gate of a dtype (harness/verify.h). */
double rc_default_gate_pair(rc_dtype t);

#endif
