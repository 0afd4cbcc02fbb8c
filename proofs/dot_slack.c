/*
 * proofs/dot_slack.c - how far a dot product of two rotated heads, computed
 * in double from an implementation's outputs, may lie from the exact dot
 * product of the exactly rotated heads, for any implementation that meets
 * the pair-ULP gate G.
 *
 * DERIVATION. Let p be the dtype's precision, tau its smallest subnormal,
 * q' = f(q, m) exact and q~ the implementation's output. For rotated pair i
 * with input norm N_i, the gate bounds each component's error by
 * G * ulp_T(N_i) <= G * (2^(1-p) * N_i + tau) (the ulp of a normal N is at
 * most 2^(1-p) N; below the normal range it is tau), so the pair's error
 * vector has norm E_i <= sqrt(2) * G * (2^(1-p) N_i + tau). Passthrough
 * channels are exact. The rotation keeps the norm: ||q'_i|| = Nq_i. Per
 * pair, by Cauchy-Schwarz,
 *   |<q~_i, k~_i> - <q'_i, k'_i>| <= Eq_i Nk_i + Nq_i Ek_i + Eq_i Ek_i,
 * and the dot product summed over pairs has at most the sum of these.
 * Forming sum_c x_c y_c in double (products and sums rounded, any order)
 * adds at most gamma_n * sum_c |x_c y_c| with gamma_n = n u / (1 - n u),
 * u = 2^-53, n = number of channels (Higham, Accuracy and Stability, 3.1);
 * and sum over a pair of |x_a y_a| + |x_b y_b| <= ||x_i|| ||y_i|| <=
 * (Nq_i + Eq_i)(Nk_i + Ek_i). The slack itself is computed in double with
 * fewer than 8n roundings, each at most u relative on positive terms: the
 * factor (1 + 2^-40) covers them for n <= RC_MAX_HEAD_DIM (8n u < 2^-40).
 *
 * OUTPUT SCALE. With a scaling family the exact pair is alpha R q_i, of
 * norm alpha Nq_i, and the gate counts in ulp_T(N_i) or ulp_T(alpha N_i);
 * both are at most ulp_T(A N_i) with A = max(1, alpha) (rc_proof_ulp_scale),
 * so E_i = sqrt(2) G (2^(1-p) A N_i + tau), and the per-pair term becomes
 * Eq_i alpha Nk_i + alpha Nq_i Ek_i + Eq_i Ek_i, the magnitudes
 * (alpha Nq_i + Eq_i)(alpha Nk_i + Ek_i). alpha is taken rounded up by
 * 2^-50 relative (it is a double within 2^-52 of the exact value).
 */
#include <math.h>

#include "core/dtype_convert.h"
#include "core/rng.h"
#include "proofs/proof_internal.h"

double rc_proof_dot_slack(const rc_probe *p, double gate, const double *q, const double *k,
                          int rotated_only)
{
    const rc_format *f = rc_dtype_format(p->dtype);
    const double rel = ldexp(1.0, 1 - f->precision);
    const double tau = ldexp(1.0, f->emin + 1 - f->precision);
    const int half = p->rotary_dim / 2;
    const int step = p->layout == RC_LAYOUT_INTERLEAVED ? 2 : 1;
    const int off = p->layout == RC_LAYOUT_INTERLEAVED ? 1 : half;
    const double amax = rc_proof_ulp_scale(p), al = p->alpha * (1.0 + 0x1p-50);
    double bound = 0.0, absdot = 0.0;
    for (int i = 0; i < half; i++) {
        const int a = i * step, b = a + off;
        const double nq = hypot(q[a], q[b]) * (1 + 0x1p-52);
        const double nk = hypot(k[a], k[b]) * (1 + 0x1p-52);
        const double eq = RC_SQRT2 * gate * (rel * amax * nq + tau);
        const double ek = RC_SQRT2 * gate * (rel * amax * nk + tau);
        bound += eq * al * nk + al * nq * ek + eq * ek;
        absdot += (al * nq + eq) * (al * nk + ek);
    }
    int n = p->rotary_dim;
    if (!rotated_only) {
        for (int c = p->rotary_dim; c < p->head_dim; c++)
            absdot += fabs(q[c] * k[c]);
        n = p->head_dim;
    }
    const double u = 0x1p-53;
    const double gamma = n * u / (1.0 - n * u);
    return (bound + gamma * absdot) * (1.0 + 0x1p-40);
}

double rc_proof_dot(const double *x, const double *y, int n)
{
    double s = 0.0;
    for (int c = 0; c < n; c++)
        s += x[c] * y[c];
    return s;
}

void rc_proof_random_head(const rc_probe *p, rc_rng *g, double *x, int n)
{
    for (int c = 0; c < n; c++)
        x[c] = rc_probe_exact(p, 2.0 * rc_rng_uniform(g) - 1.0);
}
