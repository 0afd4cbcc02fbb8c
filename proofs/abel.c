/*
 * proofs/abel.c - the long-term decay bound of RoFormer Sec. 3.4.3.
 *
 * Write pair i of q and k as complex numbers q_i = q_a + i q_b and k_i,
 * let h_i = q_i conj(k_i), h_{r/2} = 0, Delta = m - n and
 * S_j = sum_{i<j} e^{i Delta theta_i} (S_0 = 0). Then
 *
 *   <f(q,m), f(k,n)> = Re sum_i h_i e^{i Delta theta_i}              (a)
 *   sum_i h_i e^{i Delta theta_i} = -sum_i S_{i+1} (h_{i+1} - h_i)   (b)
 *   |sum_i h_i e^{i Delta theta_i}| <= max_i |h_{i+1} - h_i| sum_{j=1}^{r/2} |S_j|   (c)
 *
 * (a) because R(m theta)^T R(n theta) = R((n-m) theta) and
 * Re[conj(q) k e^{-i Delta theta}] = Re[q conj(k) e^{i Delta theta}];
 * (b) is Abel's summation by parts; (c) follows from (b).
 *
 * CERTIFICATION. Every e^{i Delta theta_j} is held as an MPFR midpoint
 * (c_j, s_j) at AB_PREC bits and a radius rad_j that encloses the true
 * value componentwise:
 *   theta_j from rc_ref_theta_dd is within 2^-104 relative (reference.h);
 *   we take 2^-100. Delta*theta_j rounded to AB_PREC bits adds
 *   |phi| 2^-AB_PREC. cos and sin are 1-Lipschitz and correctly rounded
 *   (half an ulp, <= 2^-AB_PREC for values below 1), so
 *   rad_j = |Delta theta_j| (2^-100 + 2^-AB_PREC) (1 + 2^-50) + 2^-AB_PREC,
 *   the factor covering this double computation's own roundings.
 * Partial sums of the enclosures are accumulated with MPFR_RNDD for the
 * lower ends and MPFR_RNDU for the upper ends, |S_j| is bounded above by
 * sqrt(max|Re|^2 + max|Im|^2) with every step rounded up, and so is the
 * sum over j. |h_{i+1} - h_i| is bounded above from the exact products of
 * the (double) inputs summed by mpfr_sum rounded up and down. The bound
 * (c) is then a certified upper bound of the exact right-hand side.
 *
 * SCALING. With a frequency-scaling family theta_j is the scaled table
 * (rc_ref_freq_table, also within 2^-104 relative, so the radii stand) and
 * both rotated heads carry the output scale alpha, so the score is
 * alpha^2 Re sum_i h_i e^{i Delta theta_i} and the bound (c) is multiplied
 * by alpha^2. alpha^2 is formed at AB_PREC bits from the double-double
 * alpha (within 2^-104 relative), so within 2^-102 of the exact square:
 * the form picks up 2^-100 |form| on top of its own error, and the bound
 * is rounded up by (1 + 2^-100).
 */
#include <inttypes.h>
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pair_layout.h"
#include "core/rng.h"
#include "core/scaling.h"
#include "proofs/proof_internal.h"
#include "reference/reference.h"
#include "reference/scaling.h"

#define AB_PREC 192

typedef struct terms {
    int half;
    mpfr_t *c, *s; /* midpoints of e^{i Delta theta_j} */
    double *rad;   /* componentwise radius */
} terms;

/* On failure t is left for terms_clear all the same, so callers have one
 * cleanup path. */
static int terms_init(terms *t, int half)
{
    t->half = 0;
    t->c = malloc((size_t)half * sizeof *t->c);
    t->s = malloc((size_t)half * sizeof *t->s);
    t->rad = malloc((size_t)half * sizeof *t->rad);
    if (!t->c || !t->s || !t->rad)
        return -1;
    t->half = half;
    for (int j = 0; j < half; j++) {
        mpfr_init2(t->c[j], AB_PREC);
        mpfr_init2(t->s[j], AB_PREC);
    }
    return 0;
}

static void terms_clear(terms *t)
{
    for (int j = 0; j < t->half; j++) {
        mpfr_clear(t->c[j]);
        mpfr_clear(t->s[j]);
    }
    free(t->c);
    free(t->s);
    free(t->rad);
}

typedef struct thetas {
    int half;
    mpfr_t *theta;
    double *theta_d;
} thetas;

/* theta_j to AB_PREC bits from the host's double-double table (scaled by
 * sc when set). -1 if out of memory; either way th is left for
 * thetas_clear. */
static int thetas_load(thetas *th, double base, int r, const rc_scaling *sc)
{
    const int half = r / 2;
    th->half = 0;
    th->theta = malloc((size_t)half * sizeof *th->theta);
    th->theta_d = malloc((size_t)half * sizeof *th->theta_d);
    double *hi = malloc((size_t)half * sizeof *hi), *lo = malloc((size_t)half * sizeof *lo);
    int rc = -1;
    if (th->theta && th->theta_d && hi && lo) {
        rc_ref_freq_table(base, r, sc, hi, lo);
        th->half = half;
        for (int j = 0; j < half; j++) {
            mpfr_init2(th->theta[j], AB_PREC);
            mpfr_set_d(th->theta[j], hi[j], MPFR_RNDN);
            mpfr_add_d(th->theta[j], th->theta[j], lo[j], MPFR_RNDN); /* exact at 192 bits */
            th->theta_d[j] = hi[j] * (1 + 0x1p-50); /* an upper bound of |theta| */
        }
        rc = 0;
    }
    free(hi);
    free(lo);
    return rc;
}

static void thetas_clear(thetas *th)
{
    for (int j = 0; j < th->half; j++)
        mpfr_clear(th->theta[j]);
    free(th->theta);
    free(th->theta_d);
}

/* Midpoints and radii of e^{i delta theta_j}, j < half (header comment). */
static void terms_fill(terms *t, const thetas *th, int64_t delta)
{
    mpfr_t phi;
    mpfr_init2(phi, AB_PREC);
    for (int j = 0; j < t->half; j++) {
        mpfr_mul_d(phi, th->theta[j], (double)delta, MPFR_RNDN); /* |delta| < 2^53: exact */
        mpfr_sin_cos(t->s[j], t->c[j], phi, MPFR_RNDN);
        const double aphi = fabs((double)delta * th->theta_d[j]);
        t->rad[j] = aphi * (0x1p-100 + ldexp(1.0, -AB_PREC)) * (1 + 0x1p-50) +
                    ldexp(1.0, -AB_PREC);
    }
    mpfr_clear(phi);
}

/* max(|lo|, |hi|) of an enclosure [lo, hi], and the smallest |x| in it. */
static void abs_bounds(mpfr_ptr up, mpfr_ptr down, mpfr_srcptr lo, mpfr_srcptr hi)
{
    if (mpfr_cmpabs(lo, hi) > 0)
        mpfr_abs(up, lo, MPFR_RNDU);
    else
        mpfr_abs(up, hi, MPFR_RNDU);
    if (mpfr_sgn(lo) > 0)
        mpfr_set(down, lo, MPFR_RNDD);
    else if (mpfr_sgn(hi) < 0)
        mpfr_neg(down, hi, MPFR_RNDD);
    else
        mpfr_set_ui(down, 0, MPFR_RNDD);
}

/* sum_up >= sum_{j=1}^{half} |S_j| >= sum_dn, certified. */
static void sum_abs_s(const terms *t, mpfr_ptr sum_up, mpfr_ptr sum_dn)
{
    mpfr_t rl, rh, il, ih, x, y, up, dn, a2, b2;
    mpfr_inits2(AB_PREC, rl, rh, il, ih, x, y, up, dn, a2, b2, (mpfr_ptr)0);
    mpfr_set_ui(rl, 0, MPFR_RNDN);
    mpfr_set_ui(rh, 0, MPFR_RNDN);
    mpfr_set_ui(il, 0, MPFR_RNDN);
    mpfr_set_ui(ih, 0, MPFR_RNDN);
    mpfr_set_ui(sum_up, 0, MPFR_RNDN);
    mpfr_set_ui(sum_dn, 0, MPFR_RNDN);
    for (int j = 0; j < t->half; j++) {
        /* S_{j+1} = S_j + e^{i Delta theta_j} */
        mpfr_sub_d(x, t->c[j], t->rad[j], MPFR_RNDD);
        mpfr_add(rl, rl, x, MPFR_RNDD);
        mpfr_add_d(x, t->c[j], t->rad[j], MPFR_RNDU);
        mpfr_add(rh, rh, x, MPFR_RNDU);
        mpfr_sub_d(x, t->s[j], t->rad[j], MPFR_RNDD);
        mpfr_add(il, il, x, MPFR_RNDD);
        mpfr_add_d(x, t->s[j], t->rad[j], MPFR_RNDU);
        mpfr_add(ih, ih, x, MPFR_RNDU);
        /* |S_{j+1}| from above and below */
        abs_bounds(x, y, rl, rh);
        abs_bounds(up, dn, il, ih);
        mpfr_sqr(a2, x, MPFR_RNDU);
        mpfr_sqr(b2, up, MPFR_RNDU);
        mpfr_add(a2, a2, b2, MPFR_RNDU);
        mpfr_sqrt(a2, a2, MPFR_RNDU);
        mpfr_add(sum_up, sum_up, a2, MPFR_RNDU);
        mpfr_sqr(a2, y, MPFR_RNDD);
        mpfr_sqr(b2, dn, MPFR_RNDD);
        mpfr_add(a2, a2, b2, MPFR_RNDD);
        mpfr_sqrt(a2, a2, MPFR_RNDD);
        mpfr_add(sum_dn, sum_dn, a2, MPFR_RNDD);
    }
    mpfr_clears(rl, rh, il, ih, x, y, up, dn, a2, b2, (mpfr_ptr)0);
}

int rc_abel_curve_bounds(double base, int rotary_dim, int n, double *upper, double *lower)
{
    return rc_abel_curve_scaled(base, rotary_dim, NULL, n, upper, lower);
}

static void curve_fill(terms *t, const thetas *th, int n, double *upper, double *lower)
{
    mpfr_t up, dn;
    mpfr_inits2(AB_PREC, up, dn, (mpfr_ptr)0);
    for (int delta = 0; delta < n; delta++) {
        terms_fill(t, th, delta);
        sum_abs_s(t, up, dn);
        /* (2/r) sum: a division by a power of two or a rounding upward */
        mpfr_div_ui(up, up, (unsigned long)t->half, MPFR_RNDU);
        mpfr_div_ui(dn, dn, (unsigned long)t->half, MPFR_RNDD);
        upper[delta] = mpfr_get_d(up, MPFR_RNDU);
        if (lower)
            lower[delta] = mpfr_get_d(dn, MPFR_RNDD);
    }
    mpfr_clears(up, dn, (mpfr_ptr)0);
}

int rc_abel_curve_scaled(double base, int rotary_dim, const rc_scaling *sc, int n, double *upper,
                         double *lower)
{
    char why[160];
    if (!(base > 0.0) || rotary_dim < 2 || rotary_dim % 2 || n < 0 ||
        rotary_dim > RC_MAX_HEAD_DIM || rc_scaling_check(sc, rotary_dim, why, sizeof why) != 0)
        return -1;
    thetas th;
    terms t = {0};
    int rc = thetas_load(&th, base, rotary_dim, sc);
    if (rc == 0)
        rc = terms_init(&t, rotary_dim / 2);
    if (rc == 0)
        curve_fill(&t, &th, n, upper, lower);
    thetas_clear(&th);
    terms_clear(&t);
    return rc;
}

/* Pair i of x as a complex number (spec layout). */
static void pair_of(const rc_probe *p, const double *x, int i, double *re, double *im)
{
    int a, b;
    rc_pair_channels(p->layout, p->rotary_dim, i, &a, &b);
    *re = x[a];
    *im = x[b];
}

/* Upper bound of |h_{i+1} - h_i| (h_half = 0) from exact products of the
 * inputs: Re h = qa ka + qb kb, Im h = qb ka - qa kb. */
static void dh_upper(const rc_probe *p, const double *q, const double *k, int i, mpfr_ptr out)
{
    const int half = p->rotary_dim / 2;
    mpfr_t prod[8], up, dn, re, im;
    mpfr_ptr ptr[4];
    for (int z = 0; z < 8; z++)
        mpfr_init2(prod[z], 128); /* a product of two doubles is exact in 106 bits */
    mpfr_inits2(AB_PREC, up, dn, re, im, (mpfr_ptr)0);
    double qa, qb, ka, kb;
    int n = 0;
    /* +h_{i+1} (if any) and -h_i, real parts in prod[0..3], imaginary in 4..7 */
    for (int side = 0; side < 2; side++) {
        const int idx = side == 0 ? i + 1 : i;
        if (idx >= half)
            continue;
        const double sg = side == 0 ? 1.0 : -1.0;
        pair_of(p, q, idx, &qa, &qb);
        pair_of(p, k, idx, &ka, &kb);
        mpfr_set_d(prod[n], sg * qa, MPFR_RNDN);
        mpfr_mul_d(prod[n], prod[n], ka, MPFR_RNDN);
        mpfr_set_d(prod[n + 1], sg * qb, MPFR_RNDN);
        mpfr_mul_d(prod[n + 1], prod[n + 1], kb, MPFR_RNDN);
        mpfr_set_d(prod[4 + n], sg * qb, MPFR_RNDN);
        mpfr_mul_d(prod[4 + n], prod[4 + n], ka, MPFR_RNDN);
        mpfr_set_d(prod[4 + n + 1], -sg * qa, MPFR_RNDN);
        mpfr_mul_d(prod[4 + n + 1], prod[4 + n + 1], kb, MPFR_RNDN);
        n += 2;
    }
    for (int part = 0; part < 2; part++) {
        for (int z = 0; z < n; z++)
            ptr[z] = prod[4 * part + z];
        mpfr_sum(up, ptr, (unsigned long)n, MPFR_RNDU);
        mpfr_sum(dn, ptr, (unsigned long)n, MPFR_RNDD);
        abs_bounds(part == 0 ? re : im, out, dn, up); /* out: scratch here */
    }
    mpfr_sqr(re, re, MPFR_RNDU);
    mpfr_sqr(im, im, MPFR_RNDU);
    mpfr_add(out, re, im, MPFR_RNDU);
    mpfr_sqrt(out, out, MPFR_RNDU);
    for (int z = 0; z < 8; z++)
        mpfr_clear(prod[z]);
    mpfr_clears(up, dn, re, im, (mpfr_ptr)0);
}

/* h_i at AB_PREC bits; x: scratch. */
static void h_of(const rc_probe *p, const double *q, const double *k, int i, mpfr_ptr hr,
                 mpfr_ptr hi, mpfr_ptr x)
{
    double qa, qb, ka, kb;
    pair_of(p, q, i, &qa, &qb);
    pair_of(p, k, i, &ka, &kb);
    mpfr_set_d(hr, qa, MPFR_RNDN);
    mpfr_mul_d(hr, hr, ka, MPFR_RNDN);
    mpfr_set_d(x, qb, MPFR_RNDN);
    mpfr_mul_d(x, x, kb, MPFR_RNDN);
    mpfr_add(hr, hr, x, MPFR_RNDN);
    mpfr_set_d(hi, qb, MPFR_RNDN);
    mpfr_mul_d(hi, hi, ka, MPFR_RNDN);
    mpfr_set_d(x, qa, MPFR_RNDN);
    mpfr_mul_d(x, x, kb, MPFR_RNDN);
    mpfr_sub(hi, hi, x, MPFR_RNDN);
}

/* Both sides of identity (b) at AB_PREC bits, from the midpoints; returns
 * |lhs - rhs| and Re lhs, and max |h_i| in *hmax. */
static double identity_gap(const rc_probe *p, const terms *t, const double *q, const double *k,
                           mpfr_ptr re_lhs, double *hmax)
{
    const int half = t->half;
    mpfr_t lr, li, rr, ri, sr, si, hr, hi, hr1, hi1, dr, di, x;
    mpfr_inits2(AB_PREC, lr, li, rr, ri, sr, si, hr, hi, hr1, hi1, dr, di, x, (mpfr_ptr)0);
    mpfr_set_ui(lr, 0, MPFR_RNDN);
    mpfr_set_ui(li, 0, MPFR_RNDN);
    mpfr_set_ui(rr, 0, MPFR_RNDN);
    mpfr_set_ui(ri, 0, MPFR_RNDN);
    mpfr_set_ui(sr, 0, MPFR_RNDN);
    mpfr_set_ui(si, 0, MPFR_RNDN);
    *hmax = 0.0;
    for (int i = 0; i < half; i++) {
        h_of(p, q, k, i, hr, hi, x);
        const double hm = hypot(mpfr_get_d(hr, MPFR_RNDN), mpfr_get_d(hi, MPFR_RNDN));
        if (hm > *hmax)
            *hmax = hm;
        /* h_{i+1} */
        if (i + 1 < half) {
            h_of(p, q, k, i + 1, hr1, hi1, x);
        } else {
            mpfr_set_ui(hr1, 0, MPFR_RNDN);
            mpfr_set_ui(hi1, 0, MPFR_RNDN);
        }
        /* lhs += h_i * t_i */
        mpfr_mul(x, hr, t->c[i], MPFR_RNDN);
        mpfr_add(lr, lr, x, MPFR_RNDN);
        mpfr_mul(x, hi, t->s[i], MPFR_RNDN);
        mpfr_sub(lr, lr, x, MPFR_RNDN);
        mpfr_mul(x, hr, t->s[i], MPFR_RNDN);
        mpfr_add(li, li, x, MPFR_RNDN);
        mpfr_mul(x, hi, t->c[i], MPFR_RNDN);
        mpfr_add(li, li, x, MPFR_RNDN);
        /* S_{i+1} = S_i + t_i; rhs -= S_{i+1} (h_{i+1} - h_i) */
        mpfr_add(sr, sr, t->c[i], MPFR_RNDN);
        mpfr_add(si, si, t->s[i], MPFR_RNDN);
        mpfr_sub(dr, hr1, hr, MPFR_RNDN);
        mpfr_sub(di, hi1, hi, MPFR_RNDN);
        mpfr_mul(x, sr, dr, MPFR_RNDN);
        mpfr_sub(rr, rr, x, MPFR_RNDN);
        mpfr_mul(x, si, di, MPFR_RNDN);
        mpfr_add(rr, rr, x, MPFR_RNDN);
        mpfr_mul(x, sr, di, MPFR_RNDN);
        mpfr_sub(ri, ri, x, MPFR_RNDN);
        mpfr_mul(x, si, dr, MPFR_RNDN);
        mpfr_sub(ri, ri, x, MPFR_RNDN);
    }
    mpfr_set(re_lhs, lr, MPFR_RNDN);
    mpfr_sub(lr, lr, rr, MPFR_RNDN);
    mpfr_sub(li, li, ri, MPFR_RNDN);
    const double gap = hypot(mpfr_get_d(lr, MPFR_RNDN), mpfr_get_d(li, MPFR_RNDN));
    mpfr_clears(lr, li, rr, ri, sr, si, hr, hi, hr1, hi1, dr, di, x, (mpfr_ptr)0);
    return gap;
}

typedef struct abel_work {
    int n_trials, d, rr;
    int64_t rows;   /* q and k of every trial */
    double *in, *o; /* rows x d */
    int64_t *pos;
    thetas th;
    terms t;        /* e^{i Delta theta_j} of the trial being judged */
    mpfr_t alpha2;
    double a2_err;
} abel_work;

/* -1 if out of memory; either way w is left for abel_work_free. */
static int abel_work_init(abel_work *w, const rc_proof_spec *spec, const rc_probe *pr,
                          int n_trials)
{
    memset(w, 0, sizeof *w);
    mpfr_init2(w->alpha2, AB_PREC);
    w->n_trials = n_trials;
    w->d = spec->head_dim;
    w->rr = spec->rotary_dim;
    w->rows = 2 * (int64_t)n_trials;
    w->in = malloc((size_t)(w->rows * w->d) * sizeof *w->in);
    w->o = malloc((size_t)(w->rows * w->d) * sizeof *w->o);
    w->pos = malloc((size_t)w->rows * sizeof *w->pos);
    if (!w->in || !w->o || !w->pos || terms_init(&w->t, w->rr / 2) != 0 ||
        thetas_load(&w->th, spec->base, w->rr, pr->scaling) != 0)
        return -1;
    /* alpha^2 (header: SCALING); 1 exactly without scaling. */
    const rc_dd al = rc_ref_out_scale_dd(pr->scaling);
    mpfr_set_d(w->alpha2, al.hi, MPFR_RNDN);
    mpfr_add_d(w->alpha2, w->alpha2, al.lo, MPFR_RNDN); /* exact */
    mpfr_sqr(w->alpha2, w->alpha2, MPFR_RNDU);
    w->a2_err = pr->scaling ? 0x1p-100 : 0.0; /* relative, on the form */
    return 0;
}

static void abel_work_free(abel_work *w)
{
    mpfr_clear(w->alpha2);
    thetas_clear(&w->th);
    terms_clear(&w->t);
    free(w->in);
    free(w->o);
    free(w->pos);
}

static void abel_draw(abel_work *w, const rc_probe *pr, uint64_t seed, int64_t max_position)
{
    const int d = w->d;
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x4142454cull /* "ABEL" */, (uint64_t)d);
    const uint64_t span = (uint64_t)max_position + 1;
    for (int s = 0; s < w->n_trials; s++) {
        rc_proof_random_head(pr, &g, w->in + (size_t)(2 * s) * (size_t)d, d);
        rc_proof_random_head(pr, &g, w->in + (size_t)(2 * s + 1) * (size_t)d, d);
        const int64_t m = (int64_t)rc_rng_below(&g, span);
        int64_t n;
        if (s % 2 == 0) { /* near the diagonal, where the decay is seen; never below 0 */
            const int64_t back = (int64_t)rc_rng_below(&g, 257);
            n = back > m ? 0 : m - back;
        } else {
            n = (int64_t)rc_rng_below(&g, span);
        }
        w->pos[2 * s] = m;
        w->pos[2 * s + 1] = n;
    }
}

typedef struct abel_trial {
    const double *q, *k, *fq, *fk;
    int64_t m, n, delta;
    double bound_up; /* (c)'s right-hand side, rounded up */
    double hmax;     /* max |h_i| */
    double id_tol;   /* (b)'s tolerance */
    double slack;    /* the score's error allowed by the gate */
    double score;    /* the implementation's <f(q,m), f(k,n)> */
} abel_trial;

/* Failures of each check so far: only the first few become findings. */
typedef struct abel_tally {
    int id, score, bound;
} abel_tally;

/* (c)'s right-hand side times alpha^2, rounded up; w->t must hold this
 * trial's terms. */
static double certified_bound(const abel_work *w, const rc_probe *pr, const abel_trial *tr)
{
    mpfr_t sum_up, sum_dn, dh, maxdh, bound;
    mpfr_inits2(AB_PREC, sum_up, sum_dn, dh, maxdh, bound, (mpfr_ptr)0);
    sum_abs_s(&w->t, sum_up, sum_dn);
    mpfr_set_ui(maxdh, 0, MPFR_RNDN);
    for (int i = 0; i < w->t.half; i++) {
        dh_upper(pr, tr->q, tr->k, i, dh);
        mpfr_max(maxdh, maxdh, dh, MPFR_RNDU);
    }
    mpfr_mul(bound, maxdh, sum_up, MPFR_RNDU);
    mpfr_mul(bound, bound, w->alpha2, MPFR_RNDU);
    if (pr->scaling)
        mpfr_mul_d(bound, bound, 1.0 + 0x1p-100, MPFR_RNDU);
    const double bound_up = mpfr_get_d(bound, MPFR_RNDU);
    mpfr_clears(sum_up, sum_dn, dh, maxdh, bound, (mpfr_ptr)0);
    return bound_up;
}

/* (b) on the midpoints: sets tr->hmax and tr->id_tol, and Re lhs in
 * relhs. */
static void judge_identity(const abel_work *w, const rc_probe *pr, abel_trial *tr,
                           mpfr_ptr relhs, int *n_bad, rc_abel_result *out)
{
    const int half = w->t.half;
    /* (b): crude but safe count of the AB_PREC roundings of both
     * sides: fewer than 16 per term on values below half * 2 *
     * (hmax + 1), over half terms and half partial sums. */
    const double gap = identity_gap(pr, &w->t, tr->q, tr->k, relhs, &tr->hmax);
    tr->id_tol = 64.0 * (double)half * half * half * (tr->hmax + 1.0) * ldexp(1.0, -AB_PREC);
    if (gap > out->max_identity_gap)
        out->max_identity_gap = gap;
    if (!(gap <= tr->id_tol) && (*n_bad)++ < 2)
        rc_proof_add(&out->res,
                     "summation by parts fails at m-n=%" PRId64 ": |lhs - rhs| = %.3g "
                     "> %.3g",
                     tr->delta, gap, tr->id_tol);
}

/* (a): the implementation's score against the complex form (relhs: Re
 * lhs on entry, scaled by alpha^2 here). */
static void judge_score(const abel_work *w, const abel_trial *tr, mpfr_ptr relhs, int *n_bad,
                        rc_proof_result *r)
{
    /* The midpoint form is within sum_i |h_i| sqrt(2) rad_i of the
     * exact value (plus id_tol for its own roundings). */
    double mid_err = tr->id_tol;
    for (int i = 0; i < w->t.half; i++)
        mid_err += 2.0 * tr->hmax * w->t.rad[i]; /* |h_i| sqrt(2) rad_i < 2 hmax rad_i */
    /* Scaled by alpha^2 (rounded up: the error bound grows with it). */
    mid_err *= mpfr_get_d(w->alpha2, MPFR_RNDU) * (1 + 0x1p-50);
    mpfr_mul(relhs, relhs, w->alpha2, MPFR_RNDN);
    const double form = mpfr_get_d(relhs, MPFR_RNDN);
    /* form is alpha^2 Re lhs rounded to double: + ulp(form)/2 <=
     * 2^-53 |form|, and alpha^2's own error a2_err |form|. */
    const double tol_a =
        (tr->slack + mid_err + fabs(form) * (0x1p-53 + w->a2_err)) * (1 + 0x1p-40);
    if (!(fabs(tr->score - form) <= tol_a) && (*n_bad)++ < 3)
        rc_proof_add(r,
                     "score <f(q,%" PRId64 "),f(k,%" PRId64 ")> = %.17g but Re sum "
                     "h_i e^{i(m-n)theta_i} = %.17g (|diff| %.3g > %.3g)",
                     tr->m, tr->n, tr->score, form, fabs(tr->score - form), tol_a);
}

/* (c) with the implementation's score. */
static void judge_bound(const abel_trial *tr, int *n_bad, rc_abel_result *out)
{
    const double ratio = fabs(tr->score) / tr->bound_up;
    if (ratio > out->max_score_ratio || isnan(ratio))
        out->max_score_ratio = isnan(ratio) ? INFINITY : ratio;
    if (!(fabs(tr->score) <= tr->bound_up + tr->slack) && (*n_bad)++ < 3)
        rc_proof_add(&out->res,
                     "Abel bound violated at m-n=%" PRId64 ": |score| %.17g > bound "
                     "%.17g + slack %.3g",
                     tr->delta, fabs(tr->score), tr->bound_up, tr->slack);
}

static void judge_trial(abel_work *w, const rc_probe *pr, int s, abel_tally *bad,
                        rc_abel_result *out)
{
    const size_t row = (size_t)(2 * s) * (size_t)w->d;
    abel_trial tr = {.q = w->in + row, .fq = w->o + row, .m = w->pos[2 * s],
                     .n = w->pos[2 * s + 1]};
    tr.k = tr.q + w->d;
    tr.fk = tr.fq + w->d;
    tr.delta = tr.m - tr.n;
    terms_fill(&w->t, &w->th, tr.delta);
    tr.bound_up = certified_bound(w, pr, &tr);
    mpfr_t relhs;
    mpfr_init2(relhs, AB_PREC);
    judge_identity(w, pr, &tr, relhs, &bad->id, out);
    tr.slack = rc_proof_dot_slack(pr, out->res.gate_pair, tr.q, tr.k, 1);
    tr.score = rc_proof_dot(tr.fq, tr.fk, w->rr);
    judge_score(w, &tr, relhs, &bad->score, &out->res);
    judge_bound(&tr, &bad->bound, out);
    mpfr_clear(relhs);
}

static void abel_judge(abel_work *w, const rc_probe *pr, rc_abel_result *out)
{
    rc_proof_result *r = &out->res;
    abel_tally bad = {0, 0, 0};
    for (int s = 0; s < w->n_trials; s++)
        judge_trial(w, pr, s, &bad, out);
    if (bad.score > 3)
        rc_proof_add(r, "score differs from the complex form in %d of %d trials", bad.score,
                     w->n_trials);
    r->figure = out->max_score_ratio;
    rc_proof_also(r, "max |score - Re sum h e^(i(m-n)theta)|", out->max_identity_gap);
    rc_proof_finish(r);
}

int rc_prove_abel(const rc_impl *impl, const rc_proof_spec *spec, uint64_t seed, int n_trials,
                  int64_t max_position, int n_curve, rc_abel_result *out)
{
    memset(out, 0, sizeof *out);
    rc_proof_result *r = &out->res;
    rc_probe pr;
    if (rc_proof_begin(impl, spec, r, &pr) != 0)
        return -1;
    snprintf(r->figure_name, sizeof r->figure_name,
             "max |<f(q,m),f(k,n)>| / certified Abel bound");
    if (n_trials < 1 || max_position < 0 || max_position > RC_MAX_POSITION || n_curve < 0 ||
        n_curve > RC_ABEL_CURVE_MAX) {
        rc_proof_error(r, "invalid trials, max_position or curve length");
        return -1;
    }
    if (rc_abel_curve_scaled(spec->base, spec->rotary_dim, pr.scaling, n_curve, out->curve,
                             NULL) != 0) {
        rc_proof_error(r, "curve: out of memory");
        return -1;
    }
    out->n_curve = n_curve;

    abel_work w;
    char err[256];
    int rc = -1;
    if (abel_work_init(&w, spec, &pr, n_trials) != 0) {
        rc_proof_error(r, "out of memory");
        goto done;
    }
    abel_draw(&w, &pr, seed, max_position);
    if (rc_probe_apply(&pr, w.in, w.pos, w.rows, RC_FORWARD, w.o, err, sizeof err) != RC_OK) {
        rc = rc_proof_call_failed(r, err);
        goto done;
    }
    abel_judge(&w, &pr, out);
    rc = 0;
done:
    abel_work_free(&w);
    return rc;
}
