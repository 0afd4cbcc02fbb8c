/*
 * proofs/linear.c - RoPE with linear attention (RoFormer Eq. 19).
 *
 * With a non-negative feature map phi (here elu(x) + 1) and causal
 * attention, Eq. 19 is
 *
 *   o_m = sum_{n<=m} (R_m phi(q_m))^T (R_n phi(k_n)) v_n
 *         / sum_{n<=m} phi(q_m)^T phi(k_n)
 *
 * and, by reassociation, the O(N) prefix-sum form
 *
 *   o_m = (R_m phi(q_m))^T [sum_{n<=m} (R_n phi(k_n)) v_n^T]
 *         / phi(q_m)^T [sum_{n<=m} phi(k_n)].
 *
 * The rotation comes after the feature map and the denominator stays
 * unrotated: rotated, it can reach zero or go negative (counted in
 * rotated_den_nonpositive, the paper's reason for the choice).
 *
 * Two checks, each against a derived bound:
 *  1. The two forms computed from the implementation's rotations agree.
 *     Both sum the same products x_m[i] y_n[i] v_n[c] along paths of at
 *     most K = d + N + 2 rounded operations, so each is within gamma_K A of
 *     the exact sum (A = the sum of the products' magnitudes; Higham 3.1),
 *     and the denominators (positive terms) within gamma_K D. For the
 *     quotients, |n1/d1 - n2/d2| <= |n1 - n2|/d2 + |n1| |d1 - d2|/(d1 d2),
 *     plus the two divisions' roundings u (|o1| + |o2|).
 *  2. The quadratic form from the implementation's rotations agrees with
 *     the one from the exact rotations (reference/, rounded to double).
 *     Per (m, n) the dot products differ by at most the gate's slack
 *     (dot_slack.c) plus the exact side's own error: components rounded to
 *     double (2^-53 relative each, so 2^-51 ||q|| ||k|| for the dot with
 *     room) and its double dot (gamma_d ||q|| ||k||, Cauchy-Schwarz). The
 *     sums over n add gamma_{N+1} of their magnitude on each side, and the
 *     denominators are the same bits (same data, same code).
 *
 * With a frequency-scaling family the rotations are by the scaled thetas
 * and carry the output scale alpha (both heads: alpha^2 on every score,
 * the denominator stays unrotated and unscaled). The reference's exact
 * values are then alpha times the rotation (reference/README.md), still
 * rounded to double once, so the exact side's dot error becomes
 * (2^-51 + gamma_d) alpha^2 ||q|| ||k||.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "proofs/proof_internal.h"
#include "reference/reference.h"

static double gamma_n(int n)
{
    const double u = 0x1p-53;
    return n * u / (1.0 - n * u);
}

static double elu1(double x)
{
    return x > 0.0 ? x + 1.0 : exp(x);
}

static double norm2(const double *x, int n)
{
    double s = 0.0;
    for (int c = 0; c < n; c++)
        s += x[c] * x[c];
    return sqrt(s) * (1 + 0x1p-40); /* an upper bound: n <= 1024 roundings */
}

/* Exact rotations of the rows (scaled thetas and alpha with a scaling
 * family), rounded to double (reference/). */
static int exact_rotate(const rc_probe *p, const double *in, const int64_t *pos, int rows,
                        double *out)
{
    rc_spec s = {.head_dim = p->head_dim,
                 .rotary_dim = p->rotary_dim,
                 .base = p->base,
                 .layout = p->layout,
                 .dtype = p->dtype,
                 .theta_hi = NULL,
                 .theta_lo = NULL,
                 .scaling = p->scaling};
    rc_ref *ref = rc_ref_create(&s);
    rc_ref_elem *el = malloc((size_t)p->head_dim * sizeof *el);
    if (!ref || !el) {
        rc_ref_destroy(ref);
        free(el);
        return -1;
    }
    int rc = 0;
    for (int t = 0; t < rows && rc == 0; t++) {
        rc = rc_ref_rotate_head(ref, pos[t], RC_FORWARD, in + (size_t)t * (size_t)p->head_dim,
                                el);
        for (int c = 0; c < p->head_dim; c++)
            out[(size_t)t * (size_t)p->head_dim + (size_t)c] = el[c].exact.hi;
    }
    rc_ref_destroy(ref);
    free(el);
    return rc;
}

int rc_prove_linear_attention(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed,
                              int n_tokens, int dv, int64_t max_position,
                              rc_linattn_result *out)
{
    memset(out, 0, sizeof *out);
    rc_proof_result *r = &out->res;
    rc_probe pr;
    if (rc_proof_begin(impl, spec, r, &pr) != 0)
        return -1;
    snprintf(r->figure_name, sizeof r->figure_name,
             "max |o(implementation) - o(exact rotation)| / bound");
    const int d = spec->head_dim, N = n_tokens;
    if (N < 1 || N > 4096 || dv < 1 || max_position < N - 1 || max_position > RC_MAX_POSITION) {
        rc_proof_error(r, "invalid n_tokens, dv or max_position");
        return -1;
    }
    const size_t rows = 2 * (size_t)N;
    double *in = malloc(rows * (size_t)d * sizeof *in);      /* phi(q) rows, then phi(k) */
    double *rot = malloc(rows * (size_t)d * sizeof *rot);    /* implementation */
    double *ex = malloc(rows * (size_t)d * sizeof *ex);      /* exact */
    double *v = malloc((size_t)N * (size_t)dv * sizeof *v);
    int64_t *pos = malloc(rows * sizeof *pos);
    double *sy = calloc((size_t)d * (size_t)dv, sizeof *sy); /* sum_n y_n v_n^T */
    double *z = calloc((size_t)d, sizeof *z);                /* sum_n phi(k_n) */
    double *sl = malloc((size_t)N * sizeof *sl);
    int rc = -1;
    if (!in || !rot || !ex || !v || !pos || !sy || !z || !sl) {
        rc_proof_error(r, "out of memory");
        goto done;
    }
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x4c494e41ull /* "LINA" */, (uint64_t)d);
    /* Consecutive positions from a random start: a sequence. */
    const int64_t start = (int64_t)rc_rng_below(&g, (uint64_t)(max_position - (N - 1)) + 1);
    for (size_t e = 0; e < rows * (size_t)d; e++)
        in[e] = rc_probe_exact(&pr, elu1(2.0 * rc_rng_uniform(&g) - 1.0));
    for (int e = 0; e < N * dv; e++)
        v[e] = 2.0 * rc_rng_uniform(&g) - 1.0;
    for (int t = 0; t < N; t++)
        pos[t] = pos[N + t] = start + t;
    char err[256];
    if (rc_probe_apply(&pr, in, pos, (int64_t)rows, RC_FORWARD, rot, err, sizeof err) != RC_OK) {
        rc = rc_proof_call_failed(r, err);
        goto done;
    }
    if (exact_rotate(&pr, in, pos, (int)rows, ex) != 0) {
        rc_proof_error(r, "exact reference: out of memory"); /* its arguments are valid */
        goto done;
    }
    const double u = 0x1p-53;
    const double gK = gamma_n(d + N + 2), gN = gamma_n(N + 1), gd = gamma_n(d);
    const double al2 = pr.alpha * pr.alpha * (1 + 0x1p-49); /* alpha^2, rounded up */
    int n_form = 0, n_exact = 0;
    for (int m = 0; m < N; m++) {
        const double *fq = in + (size_t)m * (size_t)d, *x = rot + (size_t)m * (size_t)d;
        const double *X = ex + (size_t)m * (size_t)d;
        /* prefix state, O(N) form */
        const double *fk_m = in + (size_t)(N + m) * (size_t)d;
        const double *y_m = rot + (size_t)(N + m) * (size_t)d;
        for (int i = 0; i < d; i++) {
            z[i] += fk_m[i];
            for (int c = 0; c < dv; c++)
                sy[(size_t)i * (size_t)dv + (size_t)c] +=
                    y_m[i] * v[(size_t)m * (size_t)dv + (size_t)c];
        }
        double den_q = 0.0, den_rot = 0.0;
        for (int n = 0; n <= m; n++) {
            const double *fk = in + (size_t)(N + n) * (size_t)d;
            den_q += rc_proof_dot(fq, fk, d);
            den_rot += rc_proof_dot(x, rot + (size_t)(N + n) * (size_t)d, d);
            const double nq = norm2(fq, d), nk = norm2(fk, d);
            sl[n] = (rc_proof_dot_slack(&pr, r->gate_pair, fq, fk, 0) +
                     (0x1p-51 + gd) * al2 * nq * nk) *
                    (1 + 0x1p-40);
        }
        if (!(den_rot > 0.0))
            out->rotated_den_nonpositive++;
        const double den_l = rc_proof_dot(fq, z, d);
        /* D: positive terms, so den_q itself bounds D up to gamma_K. */
        const double D = den_q * (1.0 + 2.0 * gK);
        for (int c = 0; c < dv; c++) {
            double num_q = 0.0, num_x = 0.0, A = 0.0, Ax = 0.0, dev_x = 0.0;
            for (int n = 0; n <= m; n++) {
                const double *y = rot + (size_t)(N + n) * (size_t)d;
                const double *Y = ex + (size_t)(N + n) * (size_t)d;
                const double vn = v[(size_t)n * (size_t)dv + (size_t)c];
                const double s = rc_proof_dot(x, y, d), S = rc_proof_dot(X, Y, d);
                num_q += s * vn;
                num_x += S * vn;
                double ad = 0.0;
                for (int i = 0; i < d; i++)
                    ad += fabs(x[i] * y[i]);
                A += ad * fabs(vn);
                Ax += (fabs(s) + sl[n]) * fabs(vn);
                dev_x += sl[n] * fabs(vn);
            }
            double num_l = 0.0;
            for (int i = 0; i < d; i++)
                num_l += x[i] * sy[(size_t)i * (size_t)dv + (size_t)c];
            A *= 1 + 0x1p-40;
            const double o_q = num_q / den_q, o_l = num_l / den_l, o_x = num_x / den_q;
            /* check 1 */
            const double dn = 2.0 * gK * A, dd = 2.0 * gK * D;
            const double b1 = (dn / den_l + fabs(num_q) * dd / (den_q * den_l) +
                               u * (fabs(o_q) + fabs(o_l))) *
                              (1 + 0x1p-40);
            const double g1 = fabs(o_q - o_l) / b1;
            if (g1 > out->max_form_gap || isnan(g1))
                out->max_form_gap = isnan(g1) ? INFINITY : g1;
            if (!(g1 <= 1.0) && n_form++ < 3)
                rc_proof_add(r,
                             "O(N) prefix form %.17g differs from O(N^2) form %.17g at token %d "
                             "channel %d (bound %.3g)",
                             o_l, o_q, m, c, b1);
            /* check 2 */
            const double b2 =
                ((dev_x + 2.0 * gN * Ax) / den_q + u * (fabs(o_q) + fabs(o_x))) * (1 + 0x1p-40);
            const double g2 = fabs(o_q - o_x) / b2;
            if (g2 > r->figure || isnan(g2))
                r->figure = isnan(g2) ? INFINITY : g2;
            if (!(g2 <= 1.0) && n_exact++ < 3)
                rc_proof_add(r,
                             "linear attention output at position %" PRId64
                             " channel %d is %.17g, with exact rotations %.17g (|diff| %.3g > "
                             "bound %.3g)",
                             pos[m], c, o_q, o_x, fabs(o_q - o_x), b2);
        }
    }
    if (n_exact > 3)
        rc_proof_add(r, "linear attention output off in %d outputs", n_exact);
    rc_proof_also(r, "O(N) form vs O(N^2) form / bound", out->max_form_gap);
    rc_proof_finish(r);
    rc = 0;
done:
    free(in);
    free(rot);
    free(ex);
    free(v);
    free(pos);
    free(sy);
    free(z);
    free(sl);
    return rc;
}
