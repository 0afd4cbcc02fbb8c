/*
 * proofs/axes.c - multi-axis RoPE (M-RoPE, 2-D vision RoPE; DESIGN.md,
 * "Multi-axis RoPE") recovered from outputs.
 *
 * A token has positions (p_0, .., p_{A-1}) and pair i must rotate by
 * p_{axis(i)} theta_i. Nothing else is assumed of the port: each output
 * channel is compared with the exact rotation of its pair at each axis's
 * position (the one-axis oracle of reference/, at the spec's frequencies),
 * and the channel "follows" axis k at a tuple when its pair ULP against
 * that rotation is within the gate G, the contract every port is held to
 * (reference/GATES.md): a port that meets it follows its spec axis at every
 * tuple, so any channel that does not is a finding, and no tolerance beyond
 * G is involved. A wrong axis moves a channel by O(1) of its pair norm on
 * tuples whose positions differ (they are chosen so), far beyond any gate.
 *
 * The checks, in order (a later one would misread what an earlier one
 * finds):
 *   1. the call: several tokens in one call agree with one token per call,
 *      else the positions are read in another order (axis-major, as
 *      llama.cpp keeps them, is named);
 *   2. which axis every channel follows, both directions, on tuples of
 *      distinct positions: the map against the spec's (axes ignored, two
 *      axes exchanged, sections misassigned, the two channels of a pair on
 *      different axes: the map applied to channels, not pairs);
 *   3. text tokens, every position equal: every pair rotates by it (a port
 *      that gives text tokens 0 on the other axes is named);
 *   4. relative position per axis (Eq. 16): a shift t along one axis, the
 *      others fixed, leaves <f(q, P), f(k, P')> unchanged, within the sum
 *      of the two dot products' slacks (dot_slack.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/axes.h"
#include "core/pair_layout.h"
#include "core/registry.h"
#include "core/rng.h"
#include "proofs/proof_internal.h"
#include "reference/metrics.h"
#include "reference/reference.h"

#define HEADS 2       /* random heads per probed token */
#define TUPLES 6      /* tuples of distinct positions for the map */
#define TEXT 4        /* text positions */
#define CALL_TOKENS 3 /* tokens of the one-call check */

typedef struct axes_ctx {
    rc_probe *p;
    rc_proof_result *r;
    double gate;
    int32_t n_axes, half;
    rc_ref *ref;
    rc_ref_elem *e;
    rc_rng g;
    char err[256];
} axes_ctx;


/* The tuples of check 2: every axis at a different position in each, the
 * positions spread over [0, 2^31 - 1] (where the gates apply). */
static void distinct_tuple(int j, int32_t n_axes, int64_t *pos)
{
    static const int64_t v[TUPLES][RC_MAX_AXES] = {
        {1, 2, 3, 4},
        {1000, 7, 65537, 31},
        {2147483647, 2147483646, 5, 131071},
        {9, 1001, 2147483645, 0},
        {65536, 0, 1003, 2147483644},
        {0, 16777219, 16777221, 3},
    };
    for (int32_t k = 0; k < n_axes; k++)
        pos[k] = v[j][k];
}

/* One call of `tokens` tokens (tuples pos, n_axes each) with HEADS
 * random heads each (in), outputs into out. 0, or -1 with x->err. */
static int call_tuples(axes_ctx *x, const double *in, const int64_t *pos, int64_t tokens,
                       rc_direction dir, double *out)
{
    const int64_t d = x->p->head_dim;
    const rc_probe_view v = {.n_tokens = tokens, .n_heads = HEADS,
                             .in_token_stride = HEADS * d, .in_head_stride = d,
                             .out_token_stride = HEADS * d, .out_head_stride = d};
    return rc_probe_apply_tuples(x->p, &v, in, pos, dir, out, x->err, sizeof x->err) == RC_OK
               ? 0 : -1;
}

/* Per rotated channel of the output head got[], bit k set when it is
 * within the gate of the exact rotation of its pair at pos[k]. */
static void channel_fits(axes_ctx *x, const double *in, const double *got, const int64_t *pos,
                         rc_direction dir, unsigned *fits)
{
    rc_ref_axis_fits(x->ref, x->n_axes, pos, dir, in, got, x->gate, x->e, fits);
}

/* Whether head got[] is the exact rotation at the tuple pos (every rotated
 * channel within the gate). */
static int head_exact(axes_ctx *x, const double *in, const double *got, const int64_t *pos,
                      rc_direction dir)
{
    const rc_probe *p = x->p;
    if (rc_ref_rotate_head_axes(x->ref, p->axes, pos, dir, in, x->e) != 0)
        return 0;
    for (int ch = 0; ch < p->rotary_dim; ch++)
        if (x->e[ch].kind == RC_ELEM_ROTATED &&
            !(rc_ulp_error(p->dtype, got[ch], x->e[ch].exact, x->e[ch].pair_norm) <= x->gate))
            return 0;
    return 1;
}

static void random_heads(axes_ctx *x, double *in, int64_t tokens)
{
    rc_proof_random_head(x->p, &x->g, in, (int)(tokens * HEADS * x->p->head_dim));
}

/* Whether two outputs of the same head agree: every rotated channel
 * within 2G pair ULP of the other (two results within G of one exact
 * value), measured on the exact pair norms at pos. */
static int heads_agree(axes_ctx *x, const double *in, const double *a, const double *b,
                       const int64_t *pos)
{
    const rc_probe *p = x->p;
    if (rc_ref_rotate_head_axes(x->ref, p->axes, pos, RC_FORWARD, in, x->e) != 0)
        return 0;
    for (int ch = 0; ch < p->rotary_dim; ch++) {
        if (x->e[ch].kind != RC_ELEM_ROTATED || a[ch] == b[ch])
            continue;
        const rc_dd other = {b[ch], 0.0};
        if (!(rc_ulp_error(p->dtype, a[ch], other, x->e[ch].pair_norm) <= 2.0 * x->gate))
            return 0;
    }
    return 1;
}

/* Each token of tuples pos (n of them, heads in) in a call of its own. */
static int call_one_by_one(axes_ctx *x, const double *in, const int64_t *pos, int64_t n,
                           double *out)
{
    const int64_t hd = HEADS * x->p->head_dim;
    for (int64_t t = 0; t < n; t++)
        if (call_tuples(x, in + t * hd, pos + t * x->n_axes, 1, RC_FORWARD, out + t * hd) != 0)
            return -1;
    return 0;
}

/* 1. Several tokens in one call against the same tokens one per call,
 * whatever either computes (the map is check 2's). 0: they agree; 1: a
 * finding (later checks, which put several tokens in a call, would
 * misread); -1: a failed call. */
static int check_call(axes_ctx *x)
{
    const int64_t d = x->p->head_dim, n = CALL_TOKENS, hd = HEADS * d;
    const int32_t A = x->n_axes;
    double in[CALL_TOKENS * HEADS * RC_MAX_HEAD_DIM], out[CALL_TOKENS * HEADS * RC_MAX_HEAD_DIM];
    double alone[CALL_TOKENS * HEADS * RC_MAX_HEAD_DIM];
    int64_t pos[CALL_TOKENS * RC_MAX_AXES], alt[CALL_TOKENS * RC_MAX_AXES];
    for (int64_t t = 0; t < n; t++)
        distinct_tuple((int)t + 1, A, pos + t * A);
    random_heads(x, in, n);
    if (call_tuples(x, in, pos, n, RC_FORWARD, out) != 0 ||
        call_one_by_one(x, in, pos, n, alone) != 0)
        return -1;
    int same = 1;
    for (int64_t t = 0; t < n; t++)
        for (int64_t h = 0; h < HEADS; h++) {
            const int64_t o = t * hd + h * d;
            same &= heads_agree(x, in + o, out + o, alone + o, pos + t * A);
        }
    if (same)
        return 0;
    /* The axis-major reading: token t at (positions[k * n + t])_k. */
    for (int64_t t = 0; t < n; t++)
        for (int32_t k = 0; k < A; k++)
            alt[t * A + k] = pos[k * n + t];
    int axis_major = call_one_by_one(x, in, alt, n, alone) == 0;
    for (int64_t t = 0; t < n && axis_major; t++)
        for (int64_t h = 0; h < HEADS; h++) {
            const int64_t o = t * hd + h * d;
            axis_major &= heads_agree(x, in + o, out + o, alone + o, alt + t * A);
        }
    if (axis_major)
        rc_proof_add(x->r, "positions read axis-major: with %lld tokens in a call, token t "
                     "rotates by positions[k * n_tokens + t], where apply() has them "
                     "token-major (positions[t * n_axes + k])", (long long)n);
    else
        rc_proof_add(x->r, "%lld tokens of distinct positions in one call do not come out as "
                     "each token does in a call of its own: the tuples are not read as "
                     "positions[t * n_axes + k]", (long long)n);
    return 1;
}

/* The map found (found[i] per pair) against the spec's: names what differs. */
static void map_findings(axes_ctx *x, const uint8_t *found)
{
    const uint8_t *want = x->p->axes->pair_axis;
    const int32_t A = x->n_axes;
    int wrong = 0, first = -1, all_zero = 1;
    for (int i = 0; i < x->half; i++) {
        all_zero &= found[i] == 0;
        if (found[i] != want[i] && wrong++ == 0)
            first = i;
    }
    if (!wrong)
        return;
    if (all_zero) {
        rc_proof_add(x->r, "every pair rotates by axis 0's position (the axes are ignored): a "
                     "one-axis RoPE, right only for text tokens, whose positions are all "
                     "equal");
        return;
    }
    /* A permutation of the axes that maps the spec's map onto the found one. */
    int sigma[RC_MAX_AXES], is_perm = 1;
    for (int k = 0; k < A; k++)
        sigma[k] = -1;
    for (int i = 0; i < x->half && is_perm; i++) {
        if (sigma[want[i]] < 0)
            sigma[want[i]] = found[i];
        is_perm = sigma[want[i]] == found[i];
    }
    for (int a = 0; a < A && is_perm; a++)
        for (int b = a + 1; b < A; b++)
            is_perm &= sigma[a] < 0 || sigma[b] < 0 || sigma[a] != sigma[b];
    if (is_perm) {
        for (int a = 0; a < A; a++) {
            const int b = sigma[a];
            if (b < 0 || b == a)
                continue;
            if (b < A && sigma[b] == a) { /* a transposition: said once */
                if (a < b)
                    rc_proof_add(x->r, "axes %d and %d exchanged: the pairs of each rotate by "
                                 "the other's position", a, b);
            } else {
                rc_proof_add(x->r, "axes permuted: the pairs of axis %d rotate by axis %d's "
                             "position", a, b);
            }
        }
        return;
    }
    char got[72], spec[72];
    rc_axes_runs(found, x->half, got, sizeof got);
    rc_axes_runs(want, x->half, spec, sizeof spec);
    rc_proof_add(x->r, "sections misassigned: %d of %d pairs rotate by another axis (first: "
                 "pair %d by axis %d, the spec's %d); found %s; the spec: %s", wrong, x->half,
                 first, found[first], want[first], got, spec);
}

/* 2. Which axis every channel follows, in both directions. Returns the
 * number of findings added, or -1. */
static int check_map(axes_ctx *x, rc_direction dir)
{
    const rc_probe *p = x->p;
    const int64_t d = p->head_dim;
    const int32_t A = x->n_axes;
    unsigned mask[RC_MAX_HEAD_DIM], fits[RC_MAX_HEAD_DIM];
    for (int ch = 0; ch < p->rotary_dim; ch++)
        mask[ch] = (1u << A) - 1u;
    double in[HEADS * RC_MAX_HEAD_DIM], out[HEADS * RC_MAX_HEAD_DIM];
    int64_t pos[RC_MAX_AXES];
    for (int j = 0; j < TUPLES; j++) {
        distinct_tuple(j, A, pos);
        random_heads(x, in, 1);
        if (call_tuples(x, in, pos, 1, dir, out) != 0)
            return -1;
        for (int h = 0; h < HEADS; h++) {
            channel_fits(x, in + h * d, out + h * d, pos, dir, fits);
            for (int ch = 0; ch < p->rotary_dim; ch++)
                mask[ch] &= fits[ch];
        }
    }
    const int before = x->r->n_findings + x->r->findings_dropped;
    rc_axes_recovered rec;
    rc_axes_recover(p->axes, p->layout, mask, &rec);
    if (rec.split > 0) { /* one pair says it; the map below would only echo it */
        const int i = rec.first_split;
        int ca, cb;
        rc_pair_channels(p->layout, p->rotary_dim, i, &ca, &cb);
        rc_proof_add(x->r, "the two channels of pair %d rotate by different axes (channel "
                     "%d by axis %d, channel %d by axis %d; the spec: axis %d for both): "
                     "the axis map is applied to channels, not pairs%s%s", i, ca,
                     rc_axes_lowest(mask[ca]), cb, rc_axes_lowest(mask[cb]),
                     p->axes->pair_axis[i],
                     p->layout == RC_LAYOUT_HALF ? " (rotate_half's second half needs "
                                                   "the whole map again)" : "",
                     dir == RC_INVERSE ? " (inverse)" : "");
        return 1;
    }
    if (rec.unexplained > 0) {
        rc_proof_add(x->r, "pair %d follows no axis's position at the spec's frequencies%s "
                     "(the one-axis oracles on text tokens say how its angle is wrong)",
                     rec.first_unexplained, dir == RC_INVERSE ? " in the inverse direction" : "");
        return 1;
    }
    map_findings(x, rec.found);
    return x->r->n_findings + x->r->findings_dropped - before;
}

/* 3. Text tokens: every position equal, every pair rotates by it. */
static int check_text(axes_ctx *x)
{
    const rc_probe *p = x->p;
    const int64_t d = p->head_dim;
    static const int64_t text[TEXT] = {1, 1000, 65537, 2147483647};
    double in[HEADS * RC_MAX_HEAD_DIM], out[HEADS * RC_MAX_HEAD_DIM];
    unsigned fits[RC_MAX_HEAD_DIM];
    for (int j = 0; j < TEXT; j++) {
        int64_t pos[RC_MAX_AXES];
        for (int32_t k = 0; k < x->n_axes; k++)
            pos[k] = text[j];
        random_heads(x, in, 1);
        if (call_tuples(x, in, pos, 1, RC_FORWARD, out) != 0)
            return -1;
        for (int h = 0; h < HEADS; h++) {
            if (head_exact(x, in + h * d, out + h * d, pos, RC_FORWARD))
                continue;
            /* Which pairs do not, and whether they are simply not rotated. */
            const int64_t zero[RC_MAX_AXES] = {0, 0, 0, 0};
            channel_fits(x, in + h * d, out + h * d, zero, RC_FORWARD, fits);
            int axes_unrotated = 0, first = -1;
            for (int i = 0; i < x->half; i++) {
                int ca, cb;
                rc_pair_channels(p->layout, p->rotary_dim, i, &ca, &cb);
                if ((fits[ca] & fits[cb] & 1u) && text[j] != 0) {
                    axes_unrotated |= 1 << p->axes->pair_axis[i];
                    first = first < 0 ? i : first;
                }
            }
            if (first >= 0) {
                char which[32] = "";
                size_t u = 0;
                for (int k = 0; k < x->n_axes; k++)
                    if (axes_unrotated & (1 << k))
                        u += (size_t)snprintf(which + u, sizeof which - u, "%s%d",
                                              u ? ", " : "", k);
                rc_proof_add(x->r, "text tokens (every position %" PRId64 ") leave the pairs "
                             "of axes %s unrotated, as if those axes were at 0 (first: pair "
                             "%d): a text token must carry its position on every axis",
                             text[j], which, first);
            } else {
                rc_proof_add(x->r, "a text token (every position %" PRId64 ") is not the "
                             "one-axis rotation at that position", text[j]);
            }
            return 1;
        }
    }
    return 0;
}

/* 4. Eq. 16 per axis: trials t of axis t mod A. */
static int check_relative(axes_ctx *x, int n_trials, double *worst)
{
    const rc_probe *p = x->p;
    const int d = p->head_dim;
    const int32_t A = x->n_axes;
    const int64_t maxp = ((int64_t)1 << 30) - 1; /* P + t stays below 2^31 */
    double in[4 * HEADS * RC_MAX_HEAD_DIM], out[4 * HEADS * RC_MAX_HEAD_DIM];
    int64_t pos[4 * RC_MAX_AXES];
    *worst = 0.0;
    for (int s = 0; s < n_trials; s++) {
        const int32_t axis = s % A;
        /* rows (tokens) 0..3: q at P, k at P', q at P + t e_axis, k at
         * P' + t e_axis; head 0 carries them, head 1 is random filler. */
        random_heads(x, in, 4);
        double *q = in, *k = in + HEADS * d;
        memcpy(in + 2 * HEADS * d, q, sizeof(double) * (size_t)d);
        memcpy(in + 3 * HEADS * d, k, sizeof(double) * (size_t)d);
        int64_t four[4];
        rc_relative_draw_positions(&x->g, s, maxp, four);
        for (int32_t a = 0; a < A; a++) {
            const int64_t pa = (int64_t)rc_rng_below(&x->g, (uint64_t)maxp + 1);
            const int64_t pb = (int64_t)rc_rng_below(&x->g, (uint64_t)maxp + 1);
            pos[0 * A + a] = pos[2 * A + a] = pa;
            pos[1 * A + a] = pos[3 * A + a] = pb;
        }
        pos[0 * A + axis] = four[0];
        pos[1 * A + axis] = four[1];
        pos[2 * A + axis] = four[2];
        pos[3 * A + axis] = four[3];
        if (call_tuples(x, in, pos, 4, RC_FORWARD, out) != 0)
            return -1;
        const double *fq0 = out, *fk0 = out + HEADS * d, *fq1 = out + 2 * HEADS * d,
                     *fk1 = out + 3 * HEADS * d;
        const double diff = fabs(rc_proof_dot(fq0, fk0, d) - rc_proof_dot(fq1, fk1, d));
        const double bound = 2.0 * rc_proof_dot_slack(p, x->gate, q, k, 0);
        const double ratio = diff / bound;
        if (!(ratio <= *worst) || isnan(ratio))
            *worst = isnan(ratio) ? INFINITY : fmax(*worst, ratio);
        if (!(diff <= bound)) {
            rc_proof_add(x->r, "Eq. 16 fails for a shift along axis %d (the others fixed): "
                         "|<f(q,P),f(k,P')> - <f(q,P+t),f(k,P'+t)>| = %.3g > bound %.3g, "
                         "axis %d at %" PRId64 ", %" PRId64 ", shift %" PRId64, axis, diff,
                         bound, axis, four[0], four[1], four[2] - four[0]);
            return 1;
        }
    }
    return 0;
}

int rc_prove_axes(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed, int n_trials,
                  rc_proof_result *r)
{
    rc_probe pr;
    if (!spec->axes || spec->axes->n_axes < 2) {
        memset(r, 0, sizeof *r);
        r->verdict = RC_PROOF_SKIPPED;
        snprintf(r->error, sizeof r->error, "a one-axis spec (no axes to identify)");
        return -1;
    }
    if (rc_proof_begin(impl, spec, r, &pr) != 0)
        return -1;
    snprintf(r->figure_name, sizeof r->figure_name,
             "max Eq. 16 gap per axis / bound (<= 1 passes)");
    if (n_trials < 1) {
        rc_proof_error(r, "invalid trials");
        return -1;
    }
    axes_ctx x = {.p = &pr, .r = r, .gate = r->gate_pair, .n_axes = pr.axes->n_axes,
                  .half = pr.rotary_dim / 2};
    const rc_spec rs = {.head_dim = pr.head_dim, .rotary_dim = pr.rotary_dim, .base = pr.base,
                        .layout = pr.layout, .dtype = pr.dtype, .scaling = pr.scaling,
                        .freq_period = pr.axes->freq_period};
    x.ref = rc_ref_create(&rs);
    x.e = malloc(sizeof *x.e * (size_t)pr.head_dim);
    rc_rng_seed3(&x.g, seed, 0x4158455300ull /* "AXES" */, (uint64_t)pr.head_dim);
    int rc = x.ref && x.e ? 0 : -2;
    double worst = 0.0;
    if (rc == 0)
        rc = check_call(&x);
    if (rc == 0)
        rc = check_map(&x, RC_FORWARD);
    if (rc == 0 && (rc_impl_caps(impl) & RC_CAP_INVERSE))
        rc = check_map(&x, RC_INVERSE);
    if (rc == 0)
        rc = check_text(&x);
    if (rc == 0)
        rc = check_relative(&x, n_trials, &worst);
    rc_ref_destroy(x.ref);
    free(x.e);
    if (rc == -2) {
        rc_proof_error(r, "out of memory");
        return -1;
    }
    if (rc < 0)
        return rc_proof_call_failed(r, x.err);
    r->figure = worst;
    rc_proof_finish(r);
    return 0;
}
