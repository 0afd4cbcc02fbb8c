/*
 * reference/ref_fast.c - the oracle's certified double-double fast path
 * (ref_fast.h; the analysis in full: reference/README.md, "The fast
 * path").
 *
 * Notation: u = 2^-53. Double-double operations (core/dd.h) and the
 * relative error bounds used for them, each taken above the published
 * bound (Joldes, Muller, Popescu 2017, and the corrections of Muller and
 * Rideau 2022) so that no step leans on the tightest constant:
 *   rc_dd_add 4u^2, rc_dd_mul_d 3u^2, rc_dd_mul 8u^2.
 *
 * Per position m and pair i (shared by every head at that position):
 *   1. f = frac(m tau_i), tau_i = theta_i / (2 pi) held as four doubles,
 *      error-free products and an exact integer removal:  |err| <= 2^-100
 *   2. x = 2 pi (f - j/256), |x| <= pi/256, j the nearest table index
 *   3. cos x, sin x by Taylor polynomials, then the table's cos/sin of
 *      2 pi j/256:                                 |err(C)|, |err(S)| <= 2^-97
 * Per element:
 *   4. R = a C - b S (or the other three forms) in double-double:
 *      |R' - R| <= (|a| + |b|) 1.5 * 2^-97
 *   5. times alpha when there is one; then the roundings are decided by
 *      rc_certify_dd_inline (ref_round_dd_inline.h), or the pair goes to MPFR.
 */
#include "reference/ref_fast.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/dd.h"
#include "core/dtype_convert.h"
#include "core/pow2.h"
#include "reference/ref_internal.h"
#include "reference/ref_round_dd_inline.h"

/* The double-double arithmetic needs fma; on x86-64 without -mfma, fma()
 * is a libm call per product. The two entry points are compiled twice,
 * for FMA machines and for the baseline, and the loader picks one
 * (target_clones), with every helper inlined into each. GCC only (clang
 * 14 leaves the dispatcher of an exported clone undefined at link time),
 * and not under the sanitizers, whose runtime and ifunc resolvers do not
 * mix. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                       \
    !defined(__SANITIZE_ADDRESS__) && !defined(ROPECHECK_NO_CLONES)
#define RC_FAST_CLONES __attribute__((target_clones("fma", "default")))
#else
#define RC_FAST_CLONES
#endif
#define RC_FAST_INLINE static inline __attribute__((always_inline))

#define TABLE_BITS 8
#define TABLE_SIZE (1 << TABLE_BITS)

/* A frequency above 2^10 (tau > 2^7) leaves the analysis of step 1
 * (|m tau| < 2^60); below 2^-1000 the table words lose bits to underflow
 * (still bounded, but the pair is rare enough to leave to MPFR). */
#define FREQ_MAX 0x1p10
#define FREQ_MIN 0x1p-1000
/* Inputs whose squares and error terms stay normal and finite. */
#define INPUT_MIN 0x1p-450
#define INPUT_MAX 0x1p450

/* Step 3's bound on |C - cos(phi)| and |S - sin(phi)|, derived in README:
 * 2^-97.35 (angle) + 2^-101 sqrt 2 (polynomials) + 2^-105.5 (table) +
 * 2^-101.7 (combination) < 2^-97.12. */
#define CS_ERR 0x1p-97
/* Step 4: (|a| + |b|) (CS_ERR + 7u^2) < (|a| + |b|) 1.02 * 2^-97; 1.5 also
 * covers the rounding of |a| + |b| itself. */
#define ROT_ERR 0x1.8p-97
/* Step 5 with alpha: relative 2^-106 (alpha's dd) + 8u^2 (the product),
 * written as 2^-100 of |R'|. The norm: sqrt in dd (below), < 2^-102. */
#define ALPHA_REL_ERR 0x1p-100
#define NORM_REL_ERR 0x1p-99

typedef struct cs_pair {
    rc_dd c, s;
} cs_pair;

/* What every instance shares, computed once per process (consts_once). */
typedef struct fast_consts {
    cs_pair table[TABLE_SIZE];  /* cos, sin of 2 pi j / 256 */
    rc_dd two_pi;
    rc_dd sin_c[2];         /* -1/3!, 1/5! as dd */
    rc_dd cos_c[2];         /* 1/4!, -1/6! */
    double sin_tail[3];     /* -1/7!, 1/9!, -1/11! */
    double cos_tail[3];     /* 1/8!, -1/10!, 1/12! */
} fast_consts;

static fast_consts consts;
static pthread_once_t consts_once = PTHREAD_ONCE_INIT;

struct rc_ref_fast {
    int n_pairs;
    double (*tau)[4];       /* theta_i / 2 pi as four non-overlapping words */
    unsigned char *usable;  /* 1: theta_i in the fast domain */
    cs_pair *cs;            /* per pair, at position m */
    int64_t m;              /* current position, 0: none */
    rc_dd_target target;    /* the dtype outputs are rounded to */
    int has_alpha;
    int alpha_exact;
    rc_dd alpha;
};

/* x (at any precision) as the nearest double-double: hi = RN(x), lo =
 * RN(x - hi); |hi + lo - x| <= 2^-106 |x| for x in the normal range. */
static rc_dd dd_of_mpfr(mpfr_srcptr x, mpfr_ptr tmp)
{
    rc_dd r;
    r.hi = mpfr_get_d(x, MPFR_RNDN);
    mpfr_sub_d(tmp, x, r.hi, MPFR_RNDN); /* exact at prec(tmp) >= prec(x) */
    r.lo = mpfr_get_d(tmp, MPFR_RNDN);
    return r;
}

/* 1/n! with the sign (-1)^k, as a dd */
static rc_dd inv_factorial(int n, int negative, mpfr_ptr x, mpfr_ptr tmp)
{
    mpfr_fac_ui(x, (unsigned long)n, MPFR_RNDN); /* exact for n <= 13 at 128 bits */
    mpfr_ui_div(x, 1, x, MPFR_RNDN);
    if (negative)
        mpfr_neg(x, x, MPFR_RNDN);
    return dd_of_mpfr(x, tmp);
}

/* The table and the polynomial coefficients (256 MPFR sin/cos): the same
 * for every instance, so once per process. */
static void init_constants(void)
{
    fast_consts *f = &consts;
    mpfr_t x, tmp, pi2;
    mpfr_inits2(128, x, tmp, pi2, (mpfr_ptr)0);
    mpfr_const_pi(pi2, MPFR_RNDN);
    mpfr_mul_2ui(pi2, pi2, 1, MPFR_RNDN);
    f->two_pi = dd_of_mpfr(pi2, tmp);
    for (int j = 0; j < TABLE_SIZE; j++) {
        mpfr_t s, c;
        mpfr_inits2(128, s, c, (mpfr_ptr)0);
        mpfr_mul_si(x, pi2, j, MPFR_RNDN);
        mpfr_div_2ui(x, x, TABLE_BITS, MPFR_RNDN);
        mpfr_sin_cos(s, c, x, MPFR_RNDN);
        f->table[j].c = dd_of_mpfr(c, tmp);
        f->table[j].s = dd_of_mpfr(s, tmp);
        mpfr_clears(s, c, (mpfr_ptr)0);
    }
    f->sin_c[0] = inv_factorial(3, 1, x, tmp);
    f->sin_c[1] = inv_factorial(5, 0, x, tmp);
    f->cos_c[0] = inv_factorial(4, 0, x, tmp);
    f->cos_c[1] = inv_factorial(6, 1, x, tmp);
    f->sin_tail[0] = inv_factorial(7, 1, x, tmp).hi;
    f->sin_tail[1] = inv_factorial(9, 0, x, tmp).hi;
    f->sin_tail[2] = inv_factorial(11, 1, x, tmp).hi;
    f->cos_tail[0] = inv_factorial(8, 0, x, tmp).hi;
    f->cos_tail[1] = inv_factorial(10, 1, x, tmp).hi;
    f->cos_tail[2] = inv_factorial(12, 0, x, tmp).hi;
    mpfr_clears(x, tmp, pi2, (mpfr_ptr)0);
}

/* tau_i = theta_i / 2 pi at 400 bits (relative error < 3 * 2^-400 from
 * theta, 2^-400 from pi, 2^-400 from the division), then split into four
 * doubles by RN and exact subtraction: |sum - tau| <= 2^-211 tau (plus
 * 2^-1074 per word below the normal range). */
static int init_pair(rc_ref_fast *f, int i, rc_ref_freq_fn freq, const void *ctx)
{
    mpfr_t th, pi2, r;
    mpfr_inits2(RC_REF_FAST_FREQ_PREC, th, pi2, r, (mpfr_ptr)0);
    freq(th, i, ctx);
    const double theta = mpfr_get_d(th, MPFR_RNDN);
    int ok = theta >= FREQ_MIN && theta <= FREQ_MAX;
    if (ok) {
        mpfr_const_pi(pi2, MPFR_RNDN);
        mpfr_mul_2ui(pi2, pi2, 1, MPFR_RNDN);
        mpfr_div(r, th, pi2, MPFR_RNDN);
        for (int k = 0; k < 4; k++) {
            f->tau[i][k] = mpfr_get_d(r, MPFR_RNDN);
            mpfr_sub_d(r, r, f->tau[i][k], MPFR_RNDN); /* exact */
        }
    }
    mpfr_clears(th, pi2, r, (mpfr_ptr)0);
    return ok;
}

rc_ref_fast *rc_ref_fast_create(int n_pairs, rc_dtype t, rc_ref_freq_fn freq, const void *ctx,
                                mpfr_srcptr alpha, int alpha_exact)
{
    rc_ref_fast *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->n_pairs = n_pairs;
    f->target = rc_dd_target_of(t);
    f->tau = calloc((size_t)n_pairs, sizeof *f->tau);
    f->usable = calloc((size_t)n_pairs, 1);
    f->cs = calloc((size_t)n_pairs, sizeof *f->cs);
    if (f->tau == NULL || f->usable == NULL || f->cs == NULL) {
        rc_ref_fast_destroy(f);
        return NULL;
    }
    pthread_once(&consts_once, init_constants);
    for (int i = 0; i < n_pairs; i++)
        f->usable[i] = (unsigned char)init_pair(f, i, freq, ctx);
    if (alpha != NULL) {
        mpfr_t tmp;
        mpfr_init2(tmp, mpfr_get_prec(alpha) + 64);
        f->has_alpha = 1;
        f->alpha_exact = alpha_exact;
        f->alpha = dd_of_mpfr(alpha, tmp);
        mpfr_clear(tmp);
        if (alpha_exact && f->alpha.lo != 0.0)
            f->alpha_exact = 0; /* not a double after all: use the dd bound */
    }
    return f;
}

void rc_ref_fast_destroy(rc_ref_fast *f)
{
    if (f == NULL)
        return;
    free(f->tau);
    free(f->usable);
    free(f->cs);
    free(f);
}

/* v - rint(v): exact for every double (below 2^52 both lie on v's grid,
 * above v is a multiple of 1/2). */
RC_FAST_INLINE double frac_part(double v)
{
    return v - rc_nearest_int(v);
}

/* Step 1: f = frac(m tau) as a dd in [-1/2, 1/2] (up to its error).
 * m < 2^53 is exact, so each m * t_k is p_k + e_k exactly (two_prod; e_k
 * is lost to underflow only below 2^-1022, counted in the 2^-130). The
 * integer parts of p0, e0, p1 are dropped exactly (|p0| < 2^60.4, |e0| <=
 * 2^7, |p1| < 2^7.4); the other terms are below 2^-45. Seven terms summed by
 * Sum2 (Ogita, Rump, Oishi 2005: the pair (H, L) is within
 * gamma_5 gamma_6 sum|z| of the sum, gamma_k = k u / (1 - k u): the two
 * sums rounded, the second over errors each <= u times a partial sum),
 * with sum|z| <= 1.5 + 2^-44: error < 30.1u^2 * 1.51 < 2^-100.4. The truncation of
 * tau and the dropped product error: m (2^-211 tau + 4 * 2^-1074) +
 * ulp(p3)/2 < 2^-130. Total < 2^-100. */
RC_FAST_INLINE rc_dd angle_fraction(const double t[4], double m)
{
    rc_dd p0 = rc_two_prod(m, t[0]);
    rc_dd p1 = rc_two_prod(m, t[1]);
    rc_dd p2 = rc_two_prod(m, t[2]);
    const double z[7] = {frac_part(p0.hi), frac_part(p0.lo), frac_part(p1.hi), p1.lo, p2.hi,
                         p2.lo, m * t[3]};
    double h = z[0], l = 0.0;
    for (int k = 1; k < 7; k++) {
        rc_dd s = rc_two_sum(h, z[k]);
        h = s.hi;
        l += s.lo;
    }
    h -= rc_nearest_int(h); /* exact, |h| <= 3.5 */
    return rc_two_sum(h, l);
}

/* Step 3's polynomial part, |x| <= pi/256 * (1 + 2^-90) < 2^-6.34:
 *   sin x = x (1 + y (c3 + y (c5 + y T_s))),  T_s = c7 + y (c9 + y c11)
 *   cos x = 1 + y (-1/2 + y (c4 + y (c6 + y T_c))),  T_c = c8 + y (c10 + y c12)
 * with y = x^2. The tails T are in double: x^7/7! < 2^-56.7 and
 * x^8/8! < 2^-66, so their relative errors (< 5u: coefficients, two
 * Horner steps, y.hi for y) cost < 2^-107 absolute. The rest is in dd,
 * every intermediate below 1 in magnitude: six operations of at most 8u^2
 * each, < 2^-101 absolute together. Truncation: x^13/13! < 2^-115 and
 * x^14/14! < 2^-124 (alternating series with decreasing terms). */
RC_FAST_INLINE void sincos_small(const fast_consts *f, rc_dd x, rc_dd *c, rc_dd *s)
{
    const rc_dd y = rc_dd_mul(x, x);
    double ts = f->sin_tail[1] + y.hi * f->sin_tail[2];
    ts = f->sin_tail[0] + y.hi * ts;
    rc_dd ps = rc_dd_add(f->sin_c[1], rc_dd_mul_d(y, ts));
    ps = rc_dd_add(f->sin_c[0], rc_dd_mul(y, ps));
    const rc_dd one = {1.0, 0.0};
    ps = rc_dd_add(one, rc_dd_mul(y, ps));
    *s = rc_dd_mul(x, ps);

    double tc = f->cos_tail[1] + y.hi * f->cos_tail[2];
    tc = f->cos_tail[0] + y.hi * tc;
    rc_dd pc = rc_dd_add(f->cos_c[1], rc_dd_mul_d(y, tc));
    pc = rc_dd_add(f->cos_c[0], rc_dd_mul(y, pc));
    const rc_dd half = {-0.5, 0.0};
    pc = rc_dd_add(half, rc_dd_mul(y, pc));
    *c = rc_dd_add(one, rc_dd_mul(y, pc));
}

/* Steps 2 and 3 for one pair. j = the nearest multiple of 1/256 to f.hi;
 * f.hi - j/256 is exact (Sterbenz for j != 0). x = 2 pi r: the angle's
 * error is 2 pi 2^-100 (step 1) + |r| 2^-106 * 2 pi (2 pi's dd) + 8u^2 |x|
 * < 2^-97.35, which moves cos and sin by at most as much (1-Lipschitz).
 * Then cos(2 pi j/256 + x) = Cj cos x - Sj sin x, sin = Sj cos x +
 * Cj sin x: the table's entries (2^-106 + 2^-124 absolute each: MPFR at
 * 128 bits, then the dd) add < 2^-105.5, the polynomial
 * errors < sqrt 2 * 2^-101, the two products and the sum 20u^2 < 2^-101.7.
 * Sum < 2^-97.12 < CS_ERR. */
RC_FAST_INLINE void pair_cos_sin(const rc_ref_fast *f, int i, double m, cs_pair *out)
{
    const rc_dd fr = angle_fraction(f->tau[i], m);
    const double jd = rc_nearest_int(fr.hi * TABLE_SIZE);
    const rc_dd r = rc_two_sum(fr.hi - jd * (1.0 / TABLE_SIZE), fr.lo);
    const rc_dd x = rc_dd_mul(consts.two_pi, r);
    rc_dd cx, sx;
    sincos_small(&consts, x, &cx, &sx);
    const cs_pair *t = &consts.table[((int)jd + TABLE_SIZE) & (TABLE_SIZE - 1)];
    out->c = rc_dd_add(rc_dd_mul(t->c, cx), rc_dd_neg(rc_dd_mul(t->s, sx)));
    out->s = rc_dd_add(rc_dd_mul(t->s, cx), rc_dd_mul(t->c, sx));
}

RC_FAST_CLONES void rc_ref_fast_set_position(rc_ref_fast *f, int64_t m)
{
    if (f->m == m)
        return;
    /* 0: no angles, every pair goes to MPFR (position 0, or out of range) */
    f->m = m > 0 && m <= RC_MAX_POSITION ? m : 0;
    if (f->m == 0)
        return;
    for (int i = 0; i < f->n_pairs; i++)
        if (f->usable[i])
            pair_cos_sin(f, i, (double)m, &f->cs[i]);
}

/* Zero, or a magnitude in range; false for NaN and Inf. */
RC_FAST_INLINE int input_ok(double x)
{
    const double ax = fabs(x);
    return x == 0.0 || (ax >= INPUT_MIN && ax <= INPUT_MAX);
}

/* alpha R' and its bound (step 5). */
RC_FAST_INLINE rc_dd scale_by_alpha(const rc_ref_fast *f, rc_dd v, double *err)
{
    if (!f->has_alpha)
        return v;
    *err = fabs(f->alpha.hi) * (*err + fabs(v.hi) * ALPHA_REL_ERR) * (1.0 + 0x1p-50);
    return f->alpha_exact ? rc_dd_mul_d(v, f->alpha.hi) : rc_dd_mul(v, f->alpha);
}

/* ||(a, b)|| (times alpha): a^2 and b^2 are exact dd (inputs in range),
 * their sum within 4u^2; s0 = RN(sqrt(S.hi)) has |S.hi - s0^2| <=
 * (2u + u^2) S.hi, exact by fma; one Newton step s0 + (S - s0^2)/(2 s0)
 * leaves t^2/(8 s0^3) < 2^-105 s0, and its two roundings < 2^-104 s0.
 * Relative < 2^-102 in all, NORM_REL_ERR leaves room for alpha. */
RC_FAST_INLINE int pair_norm_fast(const rc_ref_fast *f, double a, double b, rc_dd *out)
{
    const rc_dd s = rc_dd_add(rc_two_prod(a, a), rc_two_prod(b, b));
    const double s0 = sqrt(s.hi);
    const double t = fma(-s0, s0, s.hi) + s.lo;
    rc_dd n = rc_fast_two_sum(s0, t / (2.0 * s0));
    double err = n.hi * 0x1p-102;
    n = scale_by_alpha(f, n, &err);
    /* Only its exact value is stored: no dtype rounding to decide (an
     * exact norm may well sit on a bf16 midpoint). */
    const rc_dd_target none = {0, 0, 0.0};
    double unused;
    return rc_certify_dd_inline(n, fmax(err, fabs(n.hi) * NORM_REL_ERR), &none, out, &unused);
}

RC_FAST_CLONES int rc_ref_fast_pair(const rc_ref_fast *f, int i, rc_direction dir, double a,
                                    double b, rc_ref_elem *ea, rc_ref_elem *eb)
{
    if (f->m == 0 || !f->usable[i] || !input_ok(a) || !input_ok(b) || (a == 0.0 && b == 0.0))
        return 0;
    const cs_pair *cs = &f->cs[i];
    const rc_dd s = dir == RC_INVERSE ? rc_dd_neg(cs->s) : cs->s;
    /* a' = a c - b s, b' = a s + b c (the inverse is the same with -s). */
    rc_dd out[2] = {rc_dd_add(rc_dd_mul_d(cs->c, a), rc_dd_neg(rc_dd_mul_d(s, b))),
                    rc_dd_add(rc_dd_mul_d(s, a), rc_dd_mul_d(cs->c, b))};
    rc_ref_elem tmp[2];
    for (int k = 0; k < 2; k++) {
        double err = (fabs(a) + fabs(b)) * ROT_ERR;
        const rc_dd v = scale_by_alpha(f, out[k], &err);
        if (!rc_certify_dd_inline(v, err, &f->target, &tmp[k].exact, &tmp[k].rounded))
            return 0;
    }
    rc_dd norm;
    if (!pair_norm_fast(f, a, b, &norm))
        return 0;
    rc_ref_elem *dst[2] = {ea, eb};
    for (int k = 0; k < 2; k++) {
        dst[k]->exact = tmp[k].exact;
        dst[k]->rounded = tmp[k].rounded;
        dst[k]->pair_norm = norm;
        dst[k]->kind = RC_ELEM_ROTATED;
        dst[k]->certified = 1;
    }
    return 1;
}
