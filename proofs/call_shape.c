/*
 * proofs/call_shape.c - does the implementation honour the call itself?
 *
 * Rotation identification reads a port's map from the outputs of calls
 * with many tokens. That reading takes for granted what this file checks
 * first, with random heads and nothing assumed about the rotation (not
 * even which channels pair up):
 *  - token t is rotated by positions[t], whatever its place in the call:
 *    one head x in every token of three calls, A at positions p_t != t, B
 *    at p_(t+1) (the same positions one place earlier), C at positions t.
 *    A port that uses the token index gives A = C; one that ignores the
 *    positions gives the same output on every token; one whose tail loop
 *    differs gives A and B apart only where a token is the last of its
 *    call. Each of these stops the oracle: every later probe has many
 *    tokens per call and would misread them;
 *  - NaN and Inf propagate: a pair holding one comes back non-finite;
 *  - every output is written: rc_probe_apply_view fails a call that leaves
 *    a head holding the output buffer's fill pattern (RC_PROBE_FAULT_UNWRITTEN:
 *    "the last token was not written"), here and in every later probe;
 *  - head_stride is honoured (RC_CAP_STRIDED only): heads read through an
 *    input with a gap after every head must give what the same heads give
 *    packed, and a port that reads head h at h*head_dim instead of
 *    h*head_stride is named, and one whose first token is right but whose
 *    later tokens are not loses the token gap (token_stride); then the
 *    same for an output with gaps.
 *
 * TOLERANCE. Two outputs for the same input head x at the same position
 * are each within G ulp_T(A N) of the exact value per component, N the
 * pair's norm and A = max(1, alpha) (the contract; rc_proof_ulp_scale),
 * so they differ by at most 2 G ulp_T(A N) <= 2 G s(A ||x||), s the
 * dtype's spacing at that magnitude (N <= ||x||, and the spacing does not
 * decrease with magnitude), plus the rounding of their double difference
 * (values below 2 A ||x||: 2^-51 A ||x||). ||x|| is computed in double,
 * (1 + 2^-40) covers its rounding. Which ||x|| makes the safe bound
 * depends on the claim: the stride probe claims a defect when outputs
 * DIFFER, so it takes the norm of the whole head (a larger bound); the
 * position probe claims one when outputs AGREE, so it takes the norm of
 * the rotated channels alone (where the spec's pairs lie; passthrough
 * channels come back bit-exact), the smaller bound. Its rotated channels
 * are all 1, so every pair (either layout) is (1, 1), of norm sqrt(2),
 * and turns visibly between any two of its positions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "proofs/proof_internal.h"

#define TOKENS 8 /* rows of the position probe */

/* Per-component bound on two outputs of the same head (header), with
 * ||x|| over channels 0..n-1. */
static double same_head_tol(const rc_probe *p, double gate, const double *x, int n)
{
    double n2 = 0.0;
    for (int c = 0; c < n; c++)
        n2 += x[c] * x[c];
    const double a = rc_proof_ulp_scale(p), nx = sqrt(n2) * (1 + 0x1p-40);
    return 2.0 * gate * rc_proof_grid_spacing(p->dtype, a * nx) + 0x1p-51 * a * nx;
}

/* Largest |u - v| over a head. Two NaNs, or two equal infinities, agree
 * (a port whose angle overflows gives the same NaN for the same head and
 * position wherever it sits: not a difference in how the call is read);
 * one non-finite value against another value is an infinite difference. */
static double head_diff(const double *u, const double *v, int d)
{
    double w = 0.0;
    for (int c = 0; c < d; c++) {
        if ((isnan(u[c]) && isnan(v[c])) || (isinf(u[c]) && u[c] == v[c]))
            continue;
        const double e = fabs(u[c] - v[c]);
        w = e <= w ? w : isnan(e) ? INFINITY : e;
    }
    return w;
}

static int all_finite(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* Positions of the probe: no row at its own index, all distinct, below 2^31. */
static const int64_t token_pos[TOKENS] = {1000, 2147483647, 16777213, 65537,
                                          5,    300001,     123456789, 31};

/* Tokens of call B (B[t] has A's position of token t+1) whose output
 * disagrees with the same head at the same position in call A. Returns
 * the count; *only_last: every disagreement involves the last token of A
 * or of B (t = T-2 compares A's last, t = T-1 is B's last). */
static int place_mismatches(const double *oa, const double *ob, int d, double tol,
                            int *only_last)
{
    int n = 0;
    *only_last = 1;
    for (int t = 0; t < TOKENS; t++) {
        const int ta = (t + 1) % TOKENS;
        if (head_diff(ob + (size_t)t * (size_t)d, oa + (size_t)ta * (size_t)d, d) <= tol)
            continue;
        n++;
        *only_last &= t == TOKENS - 1 || ta == TOKENS - 1;
    }
    return n;
}

/* What the three calls show (header); 1 when a finding stops the oracle. */
static int judge_positions_read(const rc_probe *p, const double *oa, const double *ob,
                                const double *oc, double tol, rc_proof_result *r)
{
    const int d = p->head_dim;
    /* Outputs that agree only by being NaN are no evidence of either. */
    const int finite = all_finite(oa, TOKENS * d) && all_finite(oc, TOKENS * d);
    int as_index = finite, all_alike = finite, only_last;
    for (int t = 0; t < TOKENS; t++) {
        as_index &= head_diff(oa + (size_t)t * (size_t)d, oc + (size_t)t * (size_t)d, d) <= tol;
        all_alike &= head_diff(oa + (size_t)t * (size_t)d, oa, d) <= tol;
    }
    if (all_alike) {
        rc_proof_add(r, "positions ignored: one head at %d different positions in a call comes "
                        "back the same from every token",
                     TOKENS);
        return 1;
    }
    if (as_index) {
        rc_proof_add(r,
                     "token index used as position: token t of a call is rotated by t, not by "
                     "positions[t] (positions %lld, %lld, ... give the same outputs as positions "
                     "0, 1, ...)",
                     (long long)token_pos[0], (long long)token_pos[1]);
        return 1;
    }
    const int n = place_mismatches(oa, ob, d, tol, &only_last);
    if (n == 0)
        return 0;
    if (only_last)
        rc_proof_add(r, "the last token of a call is computed differently: the same head at the "
                        "same position comes out otherwise as the last of %d tokens than "
                        "elsewhere in the call (a tail loop)",
                     TOKENS);
    else
        rc_proof_add(r, "the output depends on the token's place in the call: the same head at "
                        "the same position comes out otherwise at %d of %d places",
                     n, TOKENS);
    return 1;
}

/* Token index, ignored positions, or a token's place in the call
 * (header). Returns 1 when found (a finding added), 0 if not, -1 on a
 * failed call. */
static int check_positions_read(const rc_probe *p, double gate, rc_rng *g, rc_proof_result *r,
                                char *err, size_t err_len)
{
    const int d = p->head_dim;
    const size_t n = (size_t)TOKENS * (size_t)d;
    double *x = malloc((size_t)d * sizeof *x);
    double *in = malloc(n * sizeof *in);
    double *oa = malloc(n * sizeof *oa), *ob = malloc(n * sizeof *ob);
    double *oc = malloc(n * sizeof *oc);
    int rc = -1;
    if (!x || !in || !oa || !ob || !oc) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    /* Rotated channels 1, passthrough ones random (header). */
    rc_proof_random_head(p, g, x, d);
    for (int c = 0; c < p->rotary_dim; c++)
        x[c] = 1.0;
    int64_t ident[TOKENS], shifted[TOKENS];
    for (int t = 0; t < TOKENS; t++) {
        memcpy(in + (size_t)t * (size_t)d, x, (size_t)d * sizeof *x);
        ident[t] = t;
        shifted[t] = token_pos[(t + 1) % TOKENS];
    }
    if (rc_probe_apply(p, in, token_pos, TOKENS, RC_FORWARD, oa, err, err_len) != RC_OK ||
        rc_probe_apply(p, in, shifted, TOKENS, RC_FORWARD, ob, err, err_len) != RC_OK ||
        rc_probe_apply(p, in, ident, TOKENS, RC_FORWARD, oc, err, err_len) != RC_OK)
        goto done;
    /* Every claim needs outputs to agree: the smaller bound (header). */
    rc = judge_positions_read(p, oa, ob, oc, same_head_tol(p, gate, x, p->rotary_dim), r);
done:
    free(x);
    free(in);
    free(oa);
    free(ob);
    free(oc);
    return rc;
}

/* NaN and Inf must propagate: a pair holding one has non-finite outputs
 * (NaN * anything is NaN; Inf * cos(m theta) is infinite, or NaN where
 * the factor is 0), whatever the layout, since channel 0 is in the first
 * pair of either. A port that "sanitizes" its output hides them. Adds a
 * finding when one comes back finite; -1 on a failed call. */
static int check_specials(const rc_probe *p, rc_rng *g, rc_proof_result *r, char *err,
                          size_t err_len)
{
    const int d = p->head_dim;
    static const int64_t pos[2] = {1000, 65537};
    double *in = malloc(2 * (size_t)d * sizeof *in), *out = malloc(2 * (size_t)d * sizeof *out);
    int rc = -1;
    if (!in || !out) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    rc_proof_random_head(p, g, in, 2 * d);
    in[0] = NAN;
    in[d] = INFINITY;
    if (rc_probe_apply(p, in, pos, 2, RC_FORWARD, out, err, err_len) != RC_OK)
        goto done;
    rc = 0;
    for (int t = 0; t < 2; t++)
        if (isfinite(out[(size_t)t * (size_t)d])) {
            rc_proof_add(r,
                         "non-finite values replaced: a head whose channel 0 is %s comes back "
                         "with channel 0 = %g (NaN and Inf must propagate through the rotation)",
                         t ? "Inf" : "NaN", out[(size_t)t * (size_t)d]);
            break;
        }
done:
    free(in);
    free(out);
    return rc;
}

/* The strided probe's shape: 3 tokens x 3 heads, a gap of HEAD_GAP
 * elements after every head and TOKEN_GAP more after every token. */
#define ST_T 3
#define ST_H 3
#define HEAD_GAP 3
#define TOKEN_GAP 5

static const int64_t stride_pos[ST_T] = {7, 1000, 65537};

typedef struct stride_probe {
    int d;
    rc_probe_view gapped; /* input with gaps, output packed */
    double *buf;          /* the gapped input, gaps included */
    double *heads;        /* rows 0..8: the true heads (t, h); 9..: heads read as packed */
    int64_t *head_pos;
    double *ref;          /* the packed call's outputs of `heads` */
    int n_rows;
} stride_probe;

/* Head (t, h) as a port that ignores head_stride reads it: at
 * t*token_stride + h*head_dim. Row of it in `heads`, or of the true head
 * when h = 0 (the same elements). */
static int misread_row(int t, int h)
{
    return h == 0 ? t * ST_H : ST_T * ST_H + t * (ST_H - 1) + (h - 1);
}

static int stride_setup(const rc_probe *p, rc_rng *g, stride_probe *s)
{
    const int d = p->head_dim;
    s->d = d;
    const int64_t hs = d + HEAD_GAP, ts = ST_H * hs + TOKEN_GAP;
    s->gapped = (rc_probe_view){ST_T, ST_H, ts, hs, (int64_t)ST_H * d, d};
    const int64_t n_in = rc_probe_view_extent(p, &s->gapped, 0);
    s->n_rows = ST_T * ST_H + ST_T * (ST_H - 1);
    s->buf = malloc((size_t)n_in * sizeof *s->buf);
    s->heads = malloc((size_t)s->n_rows * (size_t)d * sizeof *s->heads);
    s->head_pos = malloc((size_t)s->n_rows * sizeof *s->head_pos);
    s->ref = malloc((size_t)s->n_rows * (size_t)d * sizeof *s->ref);
    if (!s->buf || !s->heads || !s->head_pos || !s->ref)
        return -1;
    /* Gaps hold random values too: a head read from the wrong place is
     * then a finite head the probe knows. */
    rc_proof_random_head(p, g, s->buf, (int)n_in);
    for (int t = 0; t < ST_T; t++)
        for (int h = 0; h < ST_H; h++) {
            const int row = t * ST_H + h;
            memcpy(s->heads + (size_t)row * (size_t)d, s->buf + t * ts + h * hs,
                   (size_t)d * sizeof *s->buf);
            s->head_pos[row] = stride_pos[t];
            if (h == 0)
                continue;
            const int mr = misread_row(t, h);
            memcpy(s->heads + (size_t)mr * (size_t)d, s->buf + t * ts + (int64_t)h * d,
                   (size_t)d * sizeof *s->buf);
            s->head_pos[mr] = stride_pos[t];
        }
    return 0;
}

static void stride_free(stride_probe *s)
{
    free(s->buf);
    free(s->heads);
    free(s->head_pos);
    free(s->ref);
}

/* Output head (t, h) against reference row `row`. */
static int head_matches(const rc_probe *p, double gate, const stride_probe *s, const double *out,
                        int64_t ts, int64_t hs, int t, int h, int row)
{
    const double *x = s->heads + (size_t)row * (size_t)s->d;
    return head_diff(out + t * ts + h * hs, s->ref + (size_t)row * (size_t)s->d, s->d) <=
           same_head_tol(p, gate, x, s->d);
}

/* A packed call of ST_T tokens x ST_H heads against the reference, where
 * each head was rotated in a call of its own: a head's result must not
 * depend on how many heads its call has. A port that rotates heads in
 * groups and gets the odd one out wrong (a tail path) differs here, and
 * would otherwise be read as ignoring head_stride. 1 when a finding was
 * added, 0 if not. */
static int judge_heads_independent(const rc_probe *p, double gate, const stride_probe *s,
                                   const double *out, rc_proof_result *r)
{
    const int64_t hs = s->d, ts = (int64_t)ST_H * s->d;
    for (int t = 0; t < ST_T; t++)
        for (int h = 0; h < ST_H; h++)
            if (!head_matches(p, gate, s, out, ts, hs, t, h, t * ST_H + h)) {
                rc_proof_add(r,
                             "heads are not rotated independently: token %d head %d of a packed "
                             "call of %d heads comes out other than the same head in a call of "
                             "one head (heads handled in groups, with a tail path for the "
                             "rest?)",
                             t, h, ST_H);
                return 1;
            }
    return 0;
}

/* The gapped input against the packed reference (header). 1 when a
 * finding was added, 0 if not. */
static int judge_gapped_input(const rc_probe *p, double gate, const stride_probe *s,
                              const double *out, rc_proof_result *r)
{
    const int64_t ts = s->gapped.out_token_stride, hs = s->gapped.out_head_stride;
    int n_true = 0, n_misread = 0, first_t = -1, first_h = -1;
    for (int t = 0; t < ST_T; t++)
        for (int h = 0; h < ST_H; h++) {
            const int ok = head_matches(p, gate, s, out, ts, hs, t, h, t * ST_H + h);
            n_true += ok;
            n_misread += head_matches(p, gate, s, out, ts, hs, t, h, misread_row(t, h));
            if (!ok && first_t < 0) {
                first_t = t;
                first_h = h;
            }
        }
    if (n_true == ST_T * ST_H)
        return 0;
    if (first_t > 0) /* every head of the first token is right: the token gap is lost */
        rc_proof_add(r,
                     "token_stride not honoured: with token_stride %lld (a gap of %d after each "
                     "token) token %d head %d comes out other than the same head in a packed "
                     "call, while every head of token 0 is right",
                     (long long)s->gapped.in_token_stride, TOKEN_GAP, first_t, first_h);
    else if (n_misread == ST_T * ST_H)
        rc_proof_add(r,
                     "head_stride ignored: with head_stride %lld (a gap of %d after each head) "
                     "head h is read at channel offset h*head_dim = h*%d, as if heads were "
                     "packed, not at h*head_stride",
                     (long long)s->gapped.in_head_stride, HEAD_GAP, s->d);
    else
        rc_proof_add(r,
                     "head_stride not honoured: with head_stride %lld (a gap of %d after each "
                     "head) token %d head %d comes out other than the same head in a packed call",
                     (long long)s->gapped.in_head_stride, HEAD_GAP, first_t, first_h);
    return 1;
}

/* The packed heads written through an output with gaps. */
static int judge_gapped_output(const rc_probe *p, double gate, const stride_probe *s,
                               const rc_probe_view *v, const double *out, rc_proof_result *r)
{
    for (int t = 0; t < ST_T; t++)
        for (int h = 0; h < ST_H; h++)
            if (!head_matches(p, gate, s, out, v->out_token_stride, v->out_head_stride, t, h,
                              t * ST_H + h)) {
                rc_proof_add(r,
                             "head_stride not honoured on output: with head_stride %lld (a gap "
                             "of %d after each head) token %d head %d is not what the packed call "
                             "wrote",
                             (long long)v->out_head_stride, HEAD_GAP, t, h);
                return 1;
            }
    return 0;
}

/* The strided probe (RC_CAP_STRIDED). 0 or -1 on a failed call. */
static int check_strides(const rc_probe *p, double gate, rc_rng *g, rc_proof_result *r,
                         char *err, size_t err_len)
{
    stride_probe s = {0};
    double *out = NULL;
    int rc = -1;
    const int d = p->head_dim;
    if (stride_setup(p, g, &s) != 0) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    /* The packed view with the gapped one's output: the larger extent. */
    const rc_probe_view wout = {ST_T, ST_H, (int64_t)ST_H * d, d, s.gapped.in_token_stride,
                                s.gapped.in_head_stride};
    out = malloc((size_t)rc_probe_view_extent(p, &wout, 1) * sizeof *out);
    if (!out) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    if (rc_probe_apply(p, s.heads, s.head_pos, s.n_rows, RC_FORWARD, s.ref, err, err_len) !=
            RC_OK ||
        rc_probe_apply_view(p, &s.gapped, s.buf, stride_pos, RC_FORWARD, out, err, err_len) !=
            RC_OK)
        goto done;
    /* The same heads, packed, in one call: head-count dependence first,
     * so that it is not blamed on the strides. */
    const rc_probe_view packed = {ST_T, ST_H, (int64_t)ST_H * d, d, (int64_t)ST_H * d, d};
    double *packed_out = malloc((size_t)rc_probe_view_extent(p, &packed, 1) * sizeof *out);
    if (!packed_out) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    const rc_status pst = rc_probe_apply_view(p, &packed, s.heads, stride_pos, RC_FORWARD,
                                              packed_out, err, err_len);
    const int grouped = pst == RC_OK && judge_heads_independent(p, gate, &s, packed_out, r);
    free(packed_out);
    if (pst != RC_OK)
        goto done;
    rc = 0;
    if (grouped)
        goto done; /* the strided calls would only repeat it */
    if (judge_gapped_input(p, gate, &s, out, r))
        goto done; /* one stride finding is enough; writing would only add a crash */
    char why[256];
    if (rc_probe_apply_view(p, &wout, s.heads, stride_pos, RC_FORWARD, out, why, sizeof why) !=
        RC_OK) {
        snprintf(err, err_len, "a call with output head_stride %lld (gaps): %s",
                 (long long)wout.out_head_stride, why);
        rc = -1;
        goto done;
    }
    judge_gapped_output(p, gate, &s, &wout, out, r);
done:
    stride_free(&s);
    free(out);
    return rc;
}

int rc_call_shape_check(const rc_probe *p, double gate, rc_proof_result *r, char *err,
                        size_t err_len)
{
    rc_rng g;
    rc_rng_seed3(&g, 0x43414c4cull /* "CALL" */, (uint64_t)p->head_dim,
                 (uint64_t)p->rotary_dim);
    const int found = check_positions_read(p, gate, &g, r, err, err_len);
    if (found != 0)
        return found;
    if (check_specials(p, &g, r, err, err_len) != 0)
        return -1;
    if (!(p->impl->caps & RC_CAP_STRIDED))
        return 0;
    return check_strides(p, gate, &g, r, err, err_len);
}
