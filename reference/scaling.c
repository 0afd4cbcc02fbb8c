/*
 * reference/scaling.c - the frequency-scaling families of rope.h computed
 * exactly in MPFR from their defining formulas (reference/SCALING.md has
 * the formulas, their sources and this derivation in long form).
 *
 * Notation: r = rotary_dim, theta_i = base^(-2i/r), s = factor,
 * L0 = original_context, L = context, w = prec(rop), u_w = 2^-w.
 *
 * Contract (scaling.h): |T - x| < 3 u_w |x| for the exact value x.
 *
 * How it is met. Every family is a short straight-line program of
 * elementary operations on exact inputs (doubles and integers). It is
 * evaluated in interval arithmetic at a working precision W > w: each
 * quantity is held as [lo, hi] with lo <= exact <= hi, every MPFR call
 * rounds lo down (MPFR_RNDD) and hi up (MPFR_RNDU), and every operation
 * used is monotone on its (sign-checked) arguments or is a product or
 * quotient evaluated at all four end-point pairs. So [lo, hi] encloses x
 * by induction, with no error constant to derive by hand; the condition
 * numbers only decide how wide the enclosure is (SCALING.md lists them;
 * for the Llama 3.1, Qwen2 and DeepSeek configurations W = w + 32
 * succeeded at once for every pair and w = 24 .. 1024, measured).
 *
 * Acceptance: the final enclosure is positive and hi - lo <= 2^-(w+2) lo.
 * T = RN_w(lo) then satisfies
 *     |T - x| <= |T - lo| + |lo - x| <= u_w lo + 2^-(w+2) lo
 *             <= 1.25 u_w x < 3 u_w x      (0 < lo <= x).
 * Otherwise W doubles (a Ziv loop).
 *
 * Discrete decisions are taken on enclosures, never on rounded values:
 * YaRN's floor/ceil is accepted only when both ends of the enclosure of
 * the correction dimension have the same floor/ceil; a division is done
 * only when the divisor's enclosure excludes 0 (else W doubles). Neither
 * can loop forever: a correction dimension
 *     c = r ln(L0 / (2 pi beta)) / (2 ln base)
 * is never an integer k (that would make L0/(2 pi beta) = base^(2k/r)
 * algebraic, hence pi algebraic), nor zero; the YaRN ramp's width
 * high - low is never 0 without truncation (same argument), and with
 * truncation it is an exact integer. Comparisons of integers (L > L0)
 * and doubles (s <= 1) are exact. Llama 3's wavelength bands and YaRN's
 * clamp of the ramp are continuous (both formulas agree at the band
 * edges), so a pair too close to an edge to be classified is simply
 * computed by the blend formula, whose enclosure covers both sides.
 *
 * Exact shortcuts: when a pair's result is certainly theta_i itself, or
 * theta_i divided by an exact power of two (linear by 2, 4, 8; Llama 3's
 * low band by 8; YaRN's interpolated pairs by 4), rop is computed by
 * rc_ref_theta_mpfr at prec(rop) (and scaled exactly), so those entries
 * equal rc_ref_theta_dd (over the power of two) bit for bit.
 *
 * A cap of max(2^20, 16 w) bits ends the loop with abort(): by the
 * arguments above it is unreachable, and returning a value outside the
 * contract silently would be worse.
 *
 * Deterministic and thread-agnostic: no static state; MPFR's default
 * exponent range is assumed (as for rc_ref_theta_mpfr).
 */
#include <stdint.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "reference/ref_internal.h"
#include "reference/scaling.h"

/* Guard bits of the first attempt, and the dd tables' precision (as in
 * ref_theta.c: 3 * 2^-256 relative is far below the dd's 2^-106). */
#define SCALING_GUARD 32
#define SCALING_DD_PREC 256
#define SCALING_PREC_CAP_MIN (1L << 20)

/* ---- enclosures ------------------------------------------------------ */

/* lo <= x <= hi for the exact real x. */
typedef struct iv {
    mpfr_t lo, hi;
} iv;

static void iv_init(iv *a, mpfr_prec_t W)
{
    mpfr_init2(a->lo, W);
    mpfr_init2(a->hi, W);
}

static void iv_clear(iv *a)
{
    mpfr_clear(a->lo);
    mpfr_clear(a->hi);
}

static void iv_set_d(iv *z, double d)
{
    mpfr_set_d(z->lo, d, MPFR_RNDD);
    mpfr_set_d(z->hi, d, MPFR_RNDU);
}

static void iv_set_i64(iv *z, int64_t v)
{
    mpfr_set_sj(z->lo, (intmax_t)v, MPFR_RNDD);
    mpfr_set_sj(z->hi, (intmax_t)v, MPFR_RNDU);
}

static void iv_copy(iv *z, const iv *a)
{
    mpfr_set(z->lo, a->lo, MPFR_RNDD);
    mpfr_set(z->hi, a->hi, MPFR_RNDU);
}

static int iv_is_point(const iv *a)
{
    return mpfr_equal_p(a->lo, a->hi);
}

static void iv_add(iv *z, const iv *a, const iv *b)
{
    mpfr_add(z->lo, a->lo, b->lo, MPFR_RNDD);
    mpfr_add(z->hi, a->hi, b->hi, MPFR_RNDU);
}

/* a - b: the low end pairs a's low with b's high (z may alias a or b). */
static void iv_sub(iv *z, const iv *a, const iv *b)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(z->lo));
    mpfr_sub(t, a->lo, b->hi, MPFR_RNDD);
    mpfr_sub(z->hi, a->hi, b->lo, MPFR_RNDU);
    mpfr_swap(z->lo, t);
    mpfr_clear(t);
}

/* a op b over the four end-point pairs: the minimum of the rounded-down
 * values and the maximum of the rounded-up ones enclose every a*b (a/b)
 * with a, b in their intervals, because the product (quotient, divisor of
 * one sign) is monotone in each argument separately. A NaN corner makes
 * both ends NaN: comparisons would skip it silently and leave an
 * "enclosure" of the other corners only, which accurate_enough would then
 * accept. */
typedef int (*mpfr_binop)(mpfr_ptr, mpfr_srcptr, mpfr_srcptr, mpfr_rnd_t);

static void iv_corners(iv *z, const iv *a, const iv *b, mpfr_binop op)
{
    mpfr_prec_t W = mpfr_get_prec(z->lo);
    mpfr_t lo, hi, t;
    mpfr_inits2(W, lo, hi, t, (mpfr_ptr)0);
    mpfr_srcptr as[2] = {a->lo, a->hi}, bs[2] = {b->lo, b->hi};
    int nan = 0;
    for (int k = 0; k < 4; k++) {
        nan |= mpfr_nan_p(as[k >> 1]) || mpfr_nan_p(bs[k & 1]);
        op(t, as[k >> 1], bs[k & 1], MPFR_RNDD);
        if (k == 0 || mpfr_less_p(t, lo))
            mpfr_set(lo, t, MPFR_RNDD);
        op(t, as[k >> 1], bs[k & 1], MPFR_RNDU);
        if (k == 0 || mpfr_greater_p(t, hi))
            mpfr_set(hi, t, MPFR_RNDU);
    }
    if (nan) {
        mpfr_set_nan(lo);
        mpfr_set_nan(hi);
    }
    mpfr_swap(z->lo, lo);
    mpfr_swap(z->hi, hi);
    mpfr_clears(lo, hi, t, (mpfr_ptr)0);
}

static void iv_mul(iv *z, const iv *a, const iv *b)
{
    iv_corners(z, a, b, mpfr_mul);
}

/* 0 (z untouched) when b's enclosure reaches 0: the caller retries at a
 * higher precision. */
static int iv_div(iv *z, const iv *a, const iv *b)
{
    if (mpfr_sgn(b->lo) <= 0 && mpfr_sgn(b->hi) >= 0)
        return 0;
    iv_corners(z, a, b, mpfr_div);
    return 1;
}

/* Monotone increasing functions of one argument. */
static void iv_log(iv *z, const iv *a) /* a > 0 (checked by callers) */
{
    mpfr_log(z->lo, a->lo, MPFR_RNDD);
    mpfr_log(z->hi, a->hi, MPFR_RNDU);
}

static void iv_sqrt(iv *z, const iv *a) /* a >= 0 */
{
    mpfr_sqrt(z->lo, a->lo, MPFR_RNDD);
    mpfr_sqrt(z->hi, a->hi, MPFR_RNDU);
}

/* max(a, c) and min(a, c) for an integer c, monotone in a. */
static void iv_max_si(iv *z, const iv *a, long c)
{
    if (mpfr_cmp_si(a->lo, c) < 0)
        mpfr_set_si(z->lo, c, MPFR_RNDD);
    else
        mpfr_set(z->lo, a->lo, MPFR_RNDD);
    if (mpfr_cmp_si(a->hi, c) < 0)
        mpfr_set_si(z->hi, c, MPFR_RNDU);
    else
        mpfr_set(z->hi, a->hi, MPFR_RNDU);
}

static void iv_min_si(iv *z, const iv *a, long c)
{
    if (mpfr_cmp_si(a->lo, c) > 0)
        mpfr_set_si(z->lo, c, MPFR_RNDD);
    else
        mpfr_set(z->lo, a->lo, MPFR_RNDD);
    if (mpfr_cmp_si(a->hi, c) > 0)
        mpfr_set_si(z->hi, c, MPFR_RNDU);
    else
        mpfr_set(z->hi, a->hi, MPFR_RNDU);
}

/* clamp(a, [0, 1]) = min(max(a, 0), 1). */
static void iv_clamp01(iv *z, const iv *a)
{
    iv_max_si(z, a, 0);
    iv_min_si(z, z, 1);
}

static int gcd_int(int a, int b)
{
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* x^(-num/den) for x > 0, num/den >= 0: with n/q = num/den in lowest
 * terms, rootn(x^-n, q) (the route of ref_theta.c: -num/den is usually
 * not a binary number). x^-n decreases and rootn increases, so the low
 * end comes from x's high end, rounded down twice. */
static void iv_pow_neg_ratio(iv *z, const iv *x, int num, int den)
{
    if (num == 0) {
        mpfr_set_ui(z->lo, 1, MPFR_RNDD);
        mpfr_set_ui(z->hi, 1, MPFR_RNDU);
        return;
    }
    int g = gcd_int(num, den);
    long n = num / g;
    unsigned long q = (unsigned long)(den / g);
    mpfr_t p;
    mpfr_init2(p, mpfr_get_prec(z->lo));
    mpfr_pow_si(p, x->hi, -n, MPFR_RNDD);
    mpfr_pow_si(z->hi, x->lo, -n, MPFR_RNDU); /* z may alias x: x->lo used last */
    mpfr_rootn_ui(z->lo, p, q, MPFR_RNDD);
    mpfr_rootn_ui(z->hi, z->hi, q, MPFR_RNDU);
    mpfr_clear(p);
}

/* theta_i = base^(-2i/r). */
static void iv_theta(iv *z, double base, int r, int i)
{
    iv b;
    iv_init(&b, 53);
    iv_set_d(&b, base); /* exact */
    iv_pow_neg_ratio(z, &b, 2 * i, r);
    iv_clear(&b);
}

/* ---- families -------------------------------------------------------- */

/* What an evaluation found. ENCLOSED: *x holds the enclosure. THETA: the
 * result is theta_i exactly; OVER: theta_i / *div exactly (*x is filled
 * in both cases too). RETRY: a decision or a division was not certain at
 * this precision. */
typedef enum eval_kind { ENCLOSED, THETA, OVER, RETRY } eval_kind;

static int is_pow2(double d)
{
    int e;
    return d > 0.0 && isfinite(d) && frexp(d, &e) == 0.5;
}

/* x = (theta / s) g + theta (1 - g) = theta ((1 - g) + g / s) for the
 * weight g in [0, 1] of the interpolated frequency theta / s: YaRN's
 * gamma, Llama 3's 1 - smooth. Both terms are nonnegative, so nothing
 * cancels. */
static void blend(iv *x, const iv *theta, const iv *g, double s)
{
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv one, sv, t1, t2;
    iv_init(&one, W);
    iv_init(&sv, W);
    iv_init(&t1, W);
    iv_init(&t2, W);
    iv_set_d(&one, 1.0);
    iv_set_d(&sv, s);
    iv_sub(&t1, &one, g);   /* 1 - g */
    iv_div(&t2, g, &sv);    /* g / s: s > 0 is a point, never reaches 0 */
    iv_add(&t1, &t1, &t2);  /* f */
    iv_mul(x, theta, &t1);
    iv_clear(&one);
    iv_clear(&sv);
    iv_clear(&t1);
    iv_clear(&t2);
}

/* LINEAR, LONGROPE, and the bands that are theta / d: x = theta / d. */
static eval_kind over(iv *x, const iv *theta, double d, double *div)
{
    iv dv;
    iv_init(&dv, mpfr_get_prec(x->lo));
    iv_set_d(&dv, d);
    iv_div(x, theta, &dv); /* d > 0 */
    iv_clear(&dv);
    *div = d;
    return OVER;
}

/*
 * NTK-aware, static (bloc97's NTK-aware scaled RoPE; HF
 * _compute_ntk_parameters): base' = base * s^(r/(r-2)), theta' =
 * base'^(-2i/r) = theta_i * s^(-2i/(r-2)) (the two exponents multiply to
 * a rational; computing it this way never rounds base').
 * Dynamic NTK (emozilla/bloc97; HF _compute_dynamic_ntk_parameters):
 * the same with s replaced by X = s L/L0 - (s - 1) = 1 + s (L - L0)/L0
 * (no cancellation in that form) once L > L0; HF sets
 * seq_len = max(L, max_position_embeddings), and X = 1 at L = L0.
 */
static eval_kind eval_ntk(iv *x, const iv *theta, const iv *scale, int r, int i)
{
    iv p;
    iv_init(&p, mpfr_get_prec(x->lo));
    iv_pow_neg_ratio(&p, scale, 2 * i, r - 2);
    iv_mul(x, theta, &p);
    iv_clear(&p);
    return ENCLOSED;
}

static eval_kind eval_dynamic(iv *x, const iv *theta, const rc_scaling *sc, int r, int i)
{
    if (sc->context <= sc->original_context) {
        iv_copy(x, theta);
        return THETA;
    }
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv X, t;
    iv_init(&X, W);
    iv_init(&t, W);
    iv_set_i64(&X, sc->context - sc->original_context); /* > 0, no overflow */
    iv_set_d(&t, sc->factor);
    iv_mul(&X, &X, &t);
    iv_set_i64(&t, sc->original_context);
    iv_div(&X, &X, &t); /* L0 >= 1 */
    iv_set_d(&t, 1.0);
    iv_add(&X, &X, &t);
    eval_kind k = eval_ntk(x, theta, &X, r, i);
    iv_clear(&X);
    iv_clear(&t);
    return k;
}

/*
 * YaRN (Peng et al., arXiv:2309.00071, Sec. 3.2 "NTK-by-parts"; the
 * parametrization of HF _compute_yarn_parameters):
 *   c(beta) = r ln(L0 / (2 pi beta)) / (2 ln base)   (find_correction_dim)
 *   low = c(beta_fast), high = c(beta_slow), floored / ceiled when
 *   truncate, then low = max(low, 0), high = min(high, r - 1)
 *   (find_correction_range); with truncate and low == high, HF adds 0.001
 *   to high (linear_ramp_factor), which for integer i gives gamma = 0 for
 *   i <= low and 1 above, whatever the increment <= 1.
 *   gamma_i = clamp((i - low)/(high - low), 0, 1), i a pair index in
 *   [0, r/2); HF's extrapolation factor is 1 - gamma_i and
 *   theta' = (theta/s) gamma + theta (1 - gamma): pairs below low keep
 *   theta (extrapolated), pairs above high get theta/s (interpolated).
 * base == 1 has no correction range (HF divides by log(1) = 0); every
 * theta is 1 then and the reference keeps it (gamma = 0), a convention.
 */
static int correction_dim(iv *c, const iv *pi, const iv *ln_base, int64_t L0, double beta,
                          int r)
{
    mpfr_prec_t W = mpfr_get_prec(c->lo);
    iv t, a;
    iv_init(&t, W);
    iv_init(&a, W);
    iv_set_d(&t, 2.0 * beta); /* exact: a double times 2 */
    iv_mul(&t, pi, &t);       /* 2 pi beta > 0 */
    iv_set_i64(&a, L0);
    iv_div(&a, &a, &t); /* L0 / (2 pi beta) > 0 */
    iv_log(&a, &a);
    iv_set_d(&t, (double)(r / 2));
    iv_mul(&a, &a, &t);
    int ok = iv_div(c, &a, ln_base);
    iv_clear(&t);
    iv_clear(&a);
    return ok;
}

/* floor (up = 0) or ceil (up = 1) of the enclosed value, if certain. */
static int iv_round_int(iv *z, const iv *a, int up)
{
    mpfr_prec_t W = mpfr_get_prec(z->lo);
    mpfr_t f0, f1;
    mpfr_inits2(W, f0, f1, (mpfr_ptr)0);
    if (up) {
        mpfr_ceil(f0, a->lo);
        mpfr_ceil(f1, a->hi);
    } else {
        mpfr_floor(f0, a->lo);
        mpfr_floor(f1, a->hi);
    }
    /* an integer of a W-bit number fits in W bits: both are exact */
    int ok = mpfr_equal_p(f0, f1);
    if (ok) {
        mpfr_set(z->lo, f0, MPFR_RNDD);
        mpfr_set(z->hi, f0, MPFR_RNDU);
    }
    mpfr_clears(f0, f1, (mpfr_ptr)0);
    return ok;
}

static eval_kind eval_yarn(iv *x, const iv *theta, double base, const rc_scaling *sc, int r,
                           int i, double *div)
{
    if (base == 1.0) {
        iv_copy(x, theta);
        return THETA;
    }
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv pi, lnb, lo, hi, num, den, g;
    iv *all[] = {&pi, &lnb, &lo, &hi, &num, &den, &g};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        iv_init(all[k], W);
    eval_kind res = RETRY;

    mpfr_const_pi(pi.lo, MPFR_RNDD);
    mpfr_const_pi(pi.hi, MPFR_RNDU);
    iv_set_d(&lnb, base);
    iv_log(&lnb, &lnb); /* excludes 0: base != 1 */
    if (!correction_dim(&lo, &pi, &lnb, sc->original_context, sc->beta_fast, r) ||
        !correction_dim(&hi, &pi, &lnb, sc->original_context, sc->beta_slow, r))
        goto done;
    if (sc->truncate && (!iv_round_int(&lo, &lo, 0) || !iv_round_int(&hi, &hi, 1)))
        goto done;
    /* max(low, 0), min(high, r - 1) */
    iv_max_si(&lo, &lo, 0);
    iv_min_si(&hi, &hi, r - 1);
    if (sc->truncate && iv_is_point(&lo) && iv_is_point(&hi) && mpfr_equal_p(lo.lo, hi.lo)) {
        /* HF's "max += 0.001": gamma is 0 up to low and 1 above it. */
        mpfr_set_si(g.lo, mpfr_cmp_si(lo.lo, i) >= 0 ? 0 : 1, MPFR_RNDD);
        mpfr_set(g.hi, g.lo, MPFR_RNDU);
    } else {
        iv_set_d(&num, (double)i);
        iv_sub(&num, &num, &lo);
        iv_sub(&den, &hi, &lo);
        if (!iv_div(&g, &num, &den)) /* high - low not yet separated from 0 */
            goto done;
        iv_clamp01(&g, &g);
    }
    if (mpfr_sgn(g.hi) <= 0) {
        iv_copy(x, theta);
        res = THETA;
    } else if (mpfr_cmp_ui(g.lo, 1) >= 0) {
        res = over(x, theta, sc->factor, div);
    } else {
        blend(x, theta, &g, sc->factor);
        res = ENCLOSED;
    }
done:
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        iv_clear(all[k]);
    return res;
}

/*
 * Llama 3.1 (Meta, "The Llama 3 Herd of Models", arXiv:2407.21783, and
 * apply_scaling in meta-llama/llama-models; HF _compute_llama3_parameters):
 * wavelen = 2 pi / theta, low_wavelen = L0 / low_freq_factor,
 * high_wavelen = L0 / high_freq_factor;
 * wavelen < high_wavelen: theta; wavelen > low_wavelen: theta / s;
 * otherwise smooth = (L0 / wavelen - low) / (high - low) and
 * theta' = (1 - smooth) theta / s + smooth theta.
 * With v = L0 theta / (2 pi), smooth = (v - low)/(high - low), and the
 * bands are exactly smooth > 1 and smooth < 0: the three cases are one
 * formula with smooth clamped to [0, 1], continuous at the edges.
 */
static eval_kind eval_llama3(iv *x, const iv *theta, const rc_scaling *sc, double *div)
{
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv v, t, den;
    iv_init(&v, W);
    iv_init(&t, W);
    iv_init(&den, W);
    eval_kind res;

    mpfr_const_pi(t.lo, MPFR_RNDD);
    mpfr_const_pi(t.hi, MPFR_RNDU);
    mpfr_mul_2ui(t.lo, t.lo, 1, MPFR_RNDD); /* 2 pi, exact doubling */
    mpfr_mul_2ui(t.hi, t.hi, 1, MPFR_RNDU);
    iv_div(&v, theta, &t); /* 2 pi > 0 */
    iv_set_i64(&t, sc->original_context);
    iv_mul(&v, &v, &t);
    iv_set_d(&t, sc->low_freq_factor);
    iv_sub(&v, &v, &t); /* v - low */
    iv_set_d(&den, sc->high_freq_factor);
    iv_sub(&den, &den, &t); /* high - low > 0 (rc_scaling_check) */
    iv_div(&v, &v, &den);   /* smooth */
    if (mpfr_cmp_ui(v.lo, 1) >= 0) {
        iv_copy(x, theta);
        res = THETA;
    } else if (mpfr_sgn(v.hi) <= 0) {
        res = over(x, theta, sc->factor, div);
    } else {
        /* the weight of theta / s is 1 - smooth */
        iv_clamp01(&v, &v);
        iv_set_d(&t, 1.0);
        iv_sub(&v, &t, &v);
        blend(x, theta, &v, sc->factor);
        res = ENCLOSED;
    }
    iv_clear(&v);
    iv_clear(&t);
    iv_clear(&den);
    return res;
}

/* One evaluation of theta'_i at precision W. */
static eval_kind eval_freq(iv *x, double base, int r, const rc_scaling *sc, int i, double *div)
{
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv theta;
    iv_init(&theta, W);
    iv_theta(&theta, base, r, i);
    eval_kind res = THETA;
    switch (sc == NULL ? RC_SCALING_NONE : sc->type) {
    case RC_SCALING_LINEAR:
        /* Position interpolation (Chen et al., arXiv:2306.15595; kaiokendev;
         * HF _compute_linear_scaling_rope_parameters): m/s, i.e. theta/s. */
        res = over(x, &theta, sc->factor, div);
        break;
    case RC_SCALING_NTK: {
        iv s;
        iv_init(&s, W);
        iv_set_d(&s, sc->factor);
        res = eval_ntk(x, &theta, &s, r, i);
        iv_clear(&s);
        break;
    }
    case RC_SCALING_DYNAMIC_NTK:
        res = eval_dynamic(x, &theta, sc, r, i);
        break;
    case RC_SCALING_YARN:
        res = eval_yarn(x, &theta, base, sc, r, i, div);
        break;
    case RC_SCALING_LLAMA3:
        res = eval_llama3(x, &theta, sc, div);
        break;
    case RC_SCALING_LONGROPE: {
        /* LongRoPE (Ding et al., arXiv:2402.13753; HF
         * _compute_longrope_parameters): theta / ext_i, ext the long
         * factors when L exceeds L0, else the short ones. */
        const double *ext = sc->context > sc->original_context ? sc->long_factor
                                                               : sc->short_factor;
        res = over(x, &theta, ext[i], div);
        break;
    }
    default: /* NONE (TABLE is handled by the caller) */
        iv_copy(x, &theta);
        res = THETA;
        break;
    }
    iv_clear(&theta);
    return res;
}

/*
 * The output scale alpha at precision W; returns ENCLOSED or RETRY (never
 * for these formulas, whose enclosures only shrink), or THETA meaning "the
 * exact double *div", used for 1 and explicit factors.
 *
 * YaRN (arXiv:2309.00071 Eq. 22 "sqrt(1/t) = 0.1 ln s + 1"; HF get_mscale):
 * m(s, k) = 1 for s <= 1, else 0.1 k ln s + 1; alpha = attention_factor
 * if given, else m(s, mscale)/m(s, mscale_all_dim) if both are given
 * (DeepSeek-V2/V3), else m(s, 1). Equal mscale and mscale_all_dim give 1
 * exactly (the same expression divided by itself).
 * LongRoPE (HF; Phi-3): attention_factor if given, else 1 for s <= 1,
 * else sqrt(1 + ln s / ln L0). L0 = 1 divides by ln 1 = 0: +Inf, the IEEE
 * value of the formula (HF raises ZeroDivisionError there).
 */
static void mscale_iv(iv *z, const iv *ln_s, double k)
{
    mpfr_prec_t W = mpfr_get_prec(z->lo);
    iv t;
    iv_init(&t, W);
    iv_set_d(&t, k);
    iv_mul(z, ln_s, &t);
    mpfr_div_ui(z->lo, z->lo, 10, MPFR_RNDD); /* 0.1 is the decimal 1/10 */
    mpfr_div_ui(z->hi, z->hi, 10, MPFR_RNDU);
    iv_set_d(&t, 1.0);
    iv_add(z, z, &t);
    iv_clear(&t);
}

static eval_kind eval_alpha(iv *x, const rc_scaling *sc, double *exact)
{
    *exact = 1.0;
    if (sc == NULL || (sc->type != RC_SCALING_YARN && sc->type != RC_SCALING_LONGROPE))
        return THETA;
    if (sc->attention_factor > 0.0) {
        *exact = sc->attention_factor;
        return THETA;
    }
    if (!(sc->factor > 1.0))
        return THETA;
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    iv ln_s, t;
    iv_init(&ln_s, W);
    iv_init(&t, W);
    iv_set_d(&ln_s, sc->factor);
    iv_log(&ln_s, &ln_s); /* > 0 */
    eval_kind res = ENCLOSED;
    if (sc->type == RC_SCALING_YARN) {
        if (sc->mscale > 0.0 && sc->mscale_all_dim > 0.0) {
            if (sc->mscale == sc->mscale_all_dim) {
                res = THETA;
            } else {
                mscale_iv(x, &ln_s, sc->mscale);
                mscale_iv(&t, &ln_s, sc->mscale_all_dim);
                iv_div(x, x, &t); /* >= 1 */
            }
        } else {
            mscale_iv(x, &ln_s, 1.0);
        }
    } else if (sc->original_context == 1) {
        *exact = INFINITY;
        res = THETA;
    } else {
        iv_set_i64(&t, sc->original_context);
        iv_log(&t, &t); /* > 0 for L0 >= 2 */
        iv_div(x, &ln_s, &t);
        iv_set_d(&t, 1.0);
        iv_add(x, x, &t);
        iv_sqrt(x, x);
    }
    iv_clear(&ln_s);
    iv_clear(&t);
    return res;
}

/* ---- the Ziv loop ---------------------------------------------------- */

/* 0 < lo and hi - lo <= 2^-(w+2) lo (the acceptance in the header). */
static int accurate_enough(const iv *x, mpfr_prec_t w)
{
    if (mpfr_sgn(x->lo) <= 0 || !mpfr_number_p(x->hi))
        return 0;
    mpfr_prec_t W = mpfr_get_prec(x->lo);
    mpfr_t d, b;
    mpfr_inits2(W, d, b, (mpfr_ptr)0);
    mpfr_sub(d, x->hi, x->lo, MPFR_RNDU);
    mpfr_mul_2si(b, x->lo, -(long)(w + 2), MPFR_RNDD);
    int ok = mpfr_lessequal_p(d, b);
    mpfr_clears(d, b, (mpfr_ptr)0);
    return ok;
}

static mpfr_prec_t next_precision(mpfr_prec_t W, mpfr_prec_t w, const char *what)
{
    mpfr_prec_t cap = 16 * w > SCALING_PREC_CAP_MIN ? 16 * w : SCALING_PREC_CAP_MIN;
    if (2 * W > cap) {
        fprintf(stderr, "ropecheck reference: %s not certain at %ld bits (unreachable by "
                        "reference/SCALING.md; please report the parameters)\n",
                what, (long)W);
        abort();
    }
    return 2 * W;
}

/* rop = theta_i exactly as rc_ref_theta_mpfr computes it, divided by d
 * (1 or a power of two): exact scaling, so the contract of theta holds. */
static void theta_over_pow2(mpfr_ptr rop, double base, int r, int i, double d)
{
    int e;
    (void)frexp(d, &e); /* d = 2^(e-1) */
    rc_ref_theta_mpfr(rop, base, r, i);
    mpfr_div_2si(rop, rop, (long)(e - 1), MPFR_RNDN);
}

static int args_ok(double base, int r, const rc_scaling *sc, int i)
{
    return isfinite(base) && base > 0.0 && r >= 2 && r % 2 == 0 && i >= 0 && i < r / 2 &&
           (sc == NULL || (unsigned)sc->type < RC_SCALING_TYPE_COUNT);
}

void rc_ref_freq_mpfr(mpfr_ptr rop, double base, int rotary_dim, const rc_scaling *sc, int i)
{
    if (!args_ok(base, rotary_dim, sc, i)) {
        mpfr_set_nan(rop);
        return;
    }
    if (sc != NULL && sc->type == RC_SCALING_TABLE) {
        mpfr_set_d(rop, sc->table[i], MPFR_RNDN); /* the double is the definition */
        return;
    }
    const mpfr_prec_t w = mpfr_get_prec(rop);
    for (mpfr_prec_t W = w + SCALING_GUARD;; W = next_precision(W, w, "frequency")) {
        iv x;
        iv_init(&x, W);
        double div = 1.0;
        eval_kind k = eval_freq(&x, base, rotary_dim, sc, i, &div);
        int done = 1;
        if (k == THETA || (k == OVER && is_pow2(div)))
            theta_over_pow2(rop, base, rotary_dim, i, div);
        else if (k != RETRY && accurate_enough(&x, w))
            mpfr_set(rop, x.lo, MPFR_RNDN);
        else
            done = 0;
        iv_clear(&x);
        if (done)
            return;
    }
}

void rc_ref_out_scale_mpfr(mpfr_ptr rop, const rc_scaling *sc)
{
    const mpfr_prec_t w = mpfr_get_prec(rop);
    for (mpfr_prec_t W = w + SCALING_GUARD;; W = next_precision(W, w, "attention factor")) {
        iv x;
        iv_init(&x, W);
        double exact;
        eval_kind k = eval_alpha(&x, sc, &exact);
        int done = 1;
        if (k == THETA)
            mpfr_set_d(rop, exact, MPFR_RNDN);
        else if (k != RETRY && accurate_enough(&x, w))
            mpfr_set(rop, x.lo, MPFR_RNDN);
        else
            done = 0;
        iv_clear(&x);
        if (done)
            return;
    }
}

/* hi = RN(T), lo = RN(T - hi); T - hi is exact at SCALING_DD_PREC bits
 * for a normal hi (ref_theta.c). */
static rc_dd dd_of(mpfr_srcptr t)
{
    rc_dd r;
    r.hi = mpfr_get_d(t, MPFR_RNDN);
    if (!isfinite(r.hi)) {
        r.lo = 0.0;
        return r;
    }
    mpfr_t diff;
    mpfr_init2(diff, mpfr_get_prec(t));
    mpfr_sub_d(diff, t, r.hi, MPFR_RNDN);
    r.lo = mpfr_get_d(diff, MPFR_RNDN);
    mpfr_clear(diff);
    return r;
}

void rc_ref_freq_table(double base, int rotary_dim, const rc_scaling *sc, double *hi, double *lo)
{
    mpfr_t t;
    mpfr_init2(t, SCALING_DD_PREC);
    for (int i = 0; i < rotary_dim / 2; i++) {
        rc_ref_freq_mpfr(t, base, rotary_dim, sc, i);
        rc_dd d = dd_of(t);
        hi[i] = d.hi;
        lo[i] = d.lo;
    }
    mpfr_clear(t);
}

void rc_ref_freq_table_period(double base, int rotary_dim, const rc_scaling *sc, int period,
                              double *hi, double *lo)
{
    if (period <= 0) {
        rc_ref_freq_table(base, rotary_dim, sc, hi, lo);
        return;
    }
    rc_ref_freq_table(base, 2 * period, sc, hi, lo); /* entries 0 .. P-1 */
    for (int i = period; i < rotary_dim / 2; i++) {
        hi[i] = hi[i % period];
        lo[i] = lo[i % period];
    }
}

int rc_ref_freq_check(double base, int rotary_dim, const rc_scaling *sc, char *err,
                      size_t err_len)
{
    mpfr_t t;
    mpfr_init2(t, 64);
    int rc = 0;
    for (int i = 0; i < rotary_dim / 2 && rc == 0; i++) {
        rc_ref_freq_mpfr(t, base, rotary_dim, sc, i);
        double th = mpfr_get_d(t, MPFR_RNDN);
        if (!(th >= RC_FREQ_MIN && th <= RC_FREQ_MAX)) {
            snprintf(err, err_len,
                     "frequency theta_%d = %g (base %g%s%s) is outside [2^-1000, 1], the "
                     "domain ports and the exact angle are built for", i, th, base,
                     sc && sc->type != RC_SCALING_NONE ? ", " : "",
                     sc && sc->type != RC_SCALING_NONE ? rc_scaling_type_name(sc->type) : "");
            rc = -1;
        }
    }
    mpfr_clear(t);
    return rc;
}

rc_dd rc_ref_out_scale_dd(const rc_scaling *sc)
{
    mpfr_t t;
    mpfr_init2(t, SCALING_DD_PREC);
    rc_ref_out_scale_mpfr(t, sc);
    rc_dd d = dd_of(t);
    mpfr_clear(t);
    return d;
}
