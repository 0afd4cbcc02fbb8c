/*
 * proofs/relative.c - relative-position invariance (RoFormer Eq. 16):
 *
 *     <f(q, m), f(k, n)> = <f(q, m + t), f(k, n + t)>
 *
 * holds exactly for exact rotations, so the two dot products computed from
 * an implementation's outputs may differ by at most the sum of their two
 * slacks (dot_slack.c: each rotated component within G ulp of its pair's
 * norm, plus the double dot product's own rounding). Both sides use the
 * same q and k, so the slack is the same number twice.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "proofs/proof_internal.h"

void rc_relative_draw_positions(rc_rng *g, int trial, int64_t maxp, int64_t pos[4])
{
    const uint64_t span = (uint64_t)maxp + 1;
    int64_t m = (int64_t)rc_rng_below(g, span), n;
    if (trial % 2 == 0) {
        n = m + (int64_t)rc_rng_below(g, 513) - 256;
        if (n < 0)
            n = 0;
        if (n > maxp)
            n = maxp;
    } else {
        n = (int64_t)rc_rng_below(g, span);
    }
    const int64_t lo = -(m < n ? m : n), hi = maxp - (m > n ? m : n);
    const int64_t t = lo + (int64_t)rc_rng_below(g, (uint64_t)(hi - lo) + 1);
    pos[0] = m;
    pos[1] = n;
    pos[2] = m + t;
    pos[3] = n + t;
}

int rc_prove_relative(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed,
                      int n_trials, int64_t max_position, rc_proof_result *r)
{
    rc_probe pr;
    if (rc_proof_begin(impl, spec, r, &pr) != 0)
        return -1;
    snprintf(r->figure_name, sizeof r->figure_name,
             "max |<f(q,m),f(k,n)> - <f(q,m+t),f(k,n+t)>| / bound (<= 1 passes)");
    if (n_trials < 1 || max_position < 0 || max_position > RC_MAX_POSITION) {
        rc_proof_error(r, "invalid trials or max_position");
        return -1;
    }
    const int d = spec->head_dim;
    const int64_t rows = 4 * (int64_t)n_trials;
    double *in = malloc((size_t)(rows * d) * sizeof *in);
    double *out = malloc((size_t)(rows * d) * sizeof *out);
    int64_t *pos = malloc((size_t)rows * sizeof *pos);
    if (!in || !out || !pos) {
        free(in);
        free(out);
        free(pos);
        rc_proof_error(r, "out of memory");
        return -1;
    }
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x52454c504f53ull /* "RELPOS" */, (uint64_t)d);
    /* Rows 4s..4s+3: q at m, k at n, q at m+t, k at n+t. */
    for (int s = 0; s < n_trials; s++) {
        double *q = in + (size_t)(4 * s) * (size_t)d;
        double *k = q + d;
        rc_proof_random_head(&pr, &g, q, d);
        rc_proof_random_head(&pr, &g, k, d);
        for (int c = 0; c < d; c++) {
            q[2 * d + c] = q[c];
            q[3 * d + c] = k[c];
        }
        rc_relative_draw_positions(&g, s, max_position, pos + 4 * s);
    }
    char err[256];
    rc_status st = rc_probe_apply(&pr, in, pos, rows, RC_FORWARD, out, err, sizeof err);
    if (st != RC_OK) {
        free(in);
        free(out);
        free(pos);
        return rc_proof_call_failed(r, err);
    }
    int n_bad = 0;
    double worst = 0.0;
    for (int s = 0; s < n_trials; s++) {
        const double *q = in + (size_t)(4 * s) * (size_t)d, *k = q + d;
        const double *o = out + (size_t)(4 * s) * (size_t)d;
        const int64_t *ps = pos + 4 * s;
        const double s1 = rc_proof_dot(o, o + d, d);
        const double s2 = rc_proof_dot(o + 2 * d, o + 3 * d, d);
        const double bound = 2.0 * rc_proof_dot_slack(&pr, r->gate_pair, q, k, 0);
        const double diff = fabs(s1 - s2);
        /* |s1 - s2| itself is rounded: <= u |s1 - s2|, and the bound's
         * (1 + 2^-40) factor leaves room for it. */
        const double ratio = diff / bound;
        if (!(ratio <= 1.0)) {
            if (n_bad++ < 4)
                rc_proof_add(r,
                             "relative position broken: <f(q,%" PRId64 "),f(k,%" PRId64
                             ")> = %.17g but <f(q,%" PRId64 "),f(k,%" PRId64
                             ")> = %.17g (t = %" PRId64 ", |diff| %.3g > bound %.3g)",
                             ps[0], ps[1], s1, ps[2], ps[3], s2, ps[2] - ps[0], diff, bound);
        }
        if (ratio > worst || isnan(ratio))
            worst = isnan(ratio) ? INFINITY : ratio;
    }
    if (n_bad > 4)
        rc_proof_add(r, "relative position broken in %d of %d trials", n_bad, n_trials);
    r->figure = worst;
    free(in);
    free(out);
    free(pos);
    rc_proof_finish(r);
    return 0;
}
