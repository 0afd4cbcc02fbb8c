/*
 * reference/ref_rotate.c - the oracle's rotation of one head, certified by
 * a Ziv loop.
 *
 * For each pair the exact angle phi = m * theta_i is approximated at a
 * working precision w, rotated with one rounding per output (mpfr_fmms /
 * mpfr_fmma round a*c - b*s once), and accepted when the error bound of
 * README.md ("Ziv bound") proves that the rounding to the dtype and to
 * double is the same for every real within the bound. Otherwise that pair
 * is redone at 2w, up to RC_REF_PREC_CAP bits.
 *
 * Termination: for m != 0 and (a, b) != (0, 0) the exact output is never
 * a dyadic number (README.md, "why the loop ends"), so a high enough w
 * always certifies. The exact zeros (m == 0, or a == b == 0) are handled
 * before the loop.
 */
#include <stdint.h>
#include <stdlib.h>

#include <math.h>

#include "core/axes.h"
#include "core/dtype_convert.h"
#include "core/pair_layout.h"
#include "core/scaling.h"
#include "reference/ref_fast.h"
#include "reference/metrics.h"
#include "reference/ref_internal.h"
#include "reference/reference.h"
#include "reference/scaling.h"

/* Starting precision: angles reach |phi| < 2^53 (theta_0 = 1 for base > 1,
 * m < 2^53), whose bits above the binary point the bound charges against
 * w (the kp term), so 256 leaves about 256 - 56 = 200 bits: the 106 of the
 * double-double plus ~90 bits of cancellation in a*cos - b*sin before a
 * retry, and a chance ~2^-140 that an f64 rounding is undecided. */
#define RC_REF_PREC_START 256
#define RC_REF_PREC_CAP (1L << 15)
/* Precision of the pair norm (see rotate_pair). */
#define RC_REF_NORM_PREC 128

/* theta_i, the angle and its cos/sin at one precision. */
typedef struct angle_set {
    mpfr_t theta, phi, c, s;
} angle_set;

/* How the output scale alpha is known (README.md, "Output scale"). */
typedef enum alpha_kind {
    ALPHA_ONE = 0,   /* exactly 1: no multiplication at all */
    ALPHA_DOUBLE,    /* exactly a double (an explicit attention_factor) */
    ALPHA_COMPUTED   /* a formula's value, within 3 * 2^-w at precision w */
} alpha_kind;

struct rc_ref {
    int32_t head_dim;
    int32_t rotary_dim;
    int32_t freq_period; /* rc_spec's: 0, or the frequencies restart every P pairs */
    double base;
    rc_scaling *scaling; /* deep copy, NULL: none */
    alpha_kind alpha_kind;
    double alpha_double; /* ALPHA_DOUBLE */
    mpfr_t alpha;        /* at RC_REF_PREC_START (ALPHA_COMPUTED) or exact */
    mpfr_t alpha_work;   /* at a retry's precision */
    mpfr_t scaled;       /* alpha * R at the working precision */
    rc_layout layout;
    rc_dtype dtype;
    int32_t n_pairs;
    angle_set *cache;   /* n_pairs sets at RC_REF_PREC_START */
    int64_t *pair_m;    /* position each cache entry holds, -1: none */
    int64_t cached_m;   /* the current position, in m_mp; -1: none */
    rc_ref_fast *fast;  /* the certified fast path (ref_fast.h) */
    int use_fast;       /* 0: every pair through MPFR (--oracle mpfr) */
    angle_set work;     /* retries at higher precision */
    mpfr_t m_mp;        /* m, exact in 64 bits */
    mpfr_t va, vb;      /* the pair's inputs, exact in 53 bits */
    mpfr_t ra, rb;      /* the pair's outputs at the working precision */
    mpfr_t sumsq, norm;
    rc_ref_stats stats;
};

static void angle_set_init(angle_set *a, mpfr_prec_t w)
{
    mpfr_inits2(w, a->theta, a->phi, a->c, a->s, (mpfr_ptr)0);
}

static void angle_set_clear(angle_set *a)
{
    mpfr_clears(a->theta, a->phi, a->c, a->s, (mpfr_ptr)0);
}

static void angle_set_prec(angle_set *a, mpfr_prec_t w)
{
    mpfr_set_prec(a->theta, w);
    mpfr_set_prec(a->phi, w);
    mpfr_set_prec(a->c, w);
    mpfr_set_prec(a->s, w);
}

/* phi = RN(m * theta), then cos/sin of it, all at the set's precision. */
static void angle_set_eval(angle_set *a, mpfr_srcptr m_mp)
{
    mpfr_mul(a->phi, a->theta, m_mp, MPFR_RNDN);
    mpfr_sin_cos(a->s, a->c, a->phi, MPFR_RNDN);
}

static int spec_ok(const rc_spec *spec)
{
    return spec != NULL && spec->head_dim >= 2 && spec->head_dim <= RC_MAX_HEAD_DIM &&
           spec->head_dim % 2 == 0 && spec->rotary_dim >= 2 &&
           spec->rotary_dim <= spec->head_dim && spec->rotary_dim % 2 == 0 &&
           isfinite(spec->base) && spec->base > 0.0 &&
           (unsigned)spec->layout < RC_LAYOUT_COUNT && (unsigned)spec->dtype < RC_DTYPE_COUNT &&
           rc_scaling_check(spec->scaling, spec->rotary_dim, NULL, 0) == 0 &&
           spec->freq_period >= 0 && spec->freq_period <= spec->rotary_dim / 2 &&
           (spec->freq_period == 0 ||
            rc_scaling_check(spec->scaling, 2 * spec->freq_period, NULL, 0) == 0);
}

/* Exactly 1, exactly a double, or a formula's value (README.md): the
 * families without an attention factor, s <= 1, and equal YaRN mscales
 * give 1; an explicit attention_factor is that double. */
static alpha_kind classify_alpha(const rc_scaling *sc, double *value)
{
    *value = 1.0;
    if (rc_scaling_is_none(sc) ||
        (sc->type != RC_SCALING_YARN && sc->type != RC_SCALING_LONGROPE))
        return ALPHA_ONE;
    if (sc->attention_factor > 0.0) {
        *value = sc->attention_factor;
        return sc->attention_factor == 1.0 ? ALPHA_ONE : ALPHA_DOUBLE;
    }
    if (sc->factor <= 1.0)
        return ALPHA_ONE;
    if (sc->type == RC_SCALING_YARN && sc->mscale > 0.0 && sc->mscale_all_dim > 0.0 &&
        sc->mscale == sc->mscale_all_dim)
        return ALPHA_ONE;
    return ALPHA_COMPUTED;
}

/* theta_i of pair i: the spec's table, or with a period P (rc_spec's
 * freq_period: 2-D vision RoPE) entry i mod P of the table of a rotary
 * dimension 2P, base^(-2(i mod P)/(2P)). */
static void pair_freq(const rc_ref *ref, mpfr_ptr rop, int i)
{
    if (ref->freq_period > 0)
        rc_ref_freq_mpfr(rop, ref->base, 2 * ref->freq_period, ref->scaling,
                         i % ref->freq_period);
    else
        rc_ref_freq_mpfr(rop, ref->base, ref->rotary_dim, ref->scaling, i);
}

/* The frequencies for the fast path, from the same definition. */
static void fast_freq(mpfr_ptr rop, int i, const void *ctx)
{
    pair_freq(ctx, rop, i);
}

rc_ref *rc_ref_create(const rc_spec *spec)
{
    if (!spec_ok(spec))
        return NULL;
    rc_ref *ref = calloc(1, sizeof *ref);
    if (ref == NULL)
        return NULL;
    ref->head_dim = spec->head_dim;
    ref->rotary_dim = spec->rotary_dim;
    ref->freq_period = spec->freq_period;
    ref->base = spec->base;
    ref->layout = spec->layout;
    ref->dtype = spec->dtype;
    ref->n_pairs = spec->rotary_dim / 2;
    int oom = 0;
    ref->scaling = rc_scaling_clone(spec->scaling, spec->rotary_dim, &oom);
    ref->cache = calloc((size_t)ref->n_pairs, sizeof *ref->cache);
    ref->pair_m = malloc((size_t)ref->n_pairs * sizeof *ref->pair_m);
    if (ref->cache == NULL || ref->pair_m == NULL || oom) {
        rc_scaling_free(ref->scaling);
        free(ref->cache);
        free(ref->pair_m);
        free(ref);
        return NULL;
    }
    for (int i = 0; i < ref->n_pairs; i++) {
        angle_set_init(&ref->cache[i], RC_REF_PREC_START);
        pair_freq(ref, ref->cache[i].theta, i);
        ref->pair_m[i] = -1;
    }
    ref->alpha_kind = classify_alpha(ref->scaling, &ref->alpha_double);
    mpfr_init2(ref->alpha, RC_REF_PREC_START);
    mpfr_init2(ref->alpha_work, RC_REF_PREC_START);
    mpfr_init2(ref->scaled, RC_REF_PREC_START);
    if (ref->alpha_kind == ALPHA_COMPUTED)
        rc_ref_out_scale_mpfr(ref->alpha, ref->scaling);
    else
        mpfr_set_d(ref->alpha, ref->alpha_double, MPFR_RNDN); /* exact */
    ref->cached_m = -1;
    angle_set_init(&ref->work, RC_REF_PREC_START);
    mpfr_init2(ref->m_mp, 64);
    mpfr_inits2(53, ref->va, ref->vb, (mpfr_ptr)0);
    mpfr_inits2(RC_REF_PREC_START, ref->ra, ref->rb, (mpfr_ptr)0);
    mpfr_init2(ref->sumsq, 2 * RC_REF_NORM_PREC);
    mpfr_init2(ref->norm, RC_REF_NORM_PREC);
    ref->fast = rc_ref_fast_create(ref->n_pairs, ref->dtype, fast_freq, ref,
                                   ref->alpha_kind == ALPHA_ONE ? NULL : ref->alpha,
                                   ref->alpha_kind == ALPHA_DOUBLE);
    if (ref->fast == NULL) {
        rc_ref_destroy(ref);
        return NULL;
    }
    ref->use_fast = 1;
    return ref;
}

void rc_ref_destroy(rc_ref *ref)
{
    if (ref == NULL)
        return;
    for (int i = 0; i < ref->n_pairs; i++)
        angle_set_clear(&ref->cache[i]);
    free(ref->cache);
    free(ref->pair_m);
    rc_ref_fast_destroy(ref->fast);
    rc_scaling_free(ref->scaling);
    mpfr_clears(ref->alpha, ref->alpha_work, ref->scaled, (mpfr_ptr)0);
    angle_set_clear(&ref->work);
    mpfr_clears(ref->m_mp, ref->va, ref->vb, ref->ra, ref->rb, ref->sumsq,
                ref->norm, (mpfr_ptr)0);
    free(ref);
}

void rc_ref_get_stats(const rc_ref *ref, rc_ref_stats *out)
{
    *out = ref->stats;
}

void rc_ref_set_fast_path(rc_ref *ref, int enabled)
{
    ref->use_fast = enabled != 0;
}

static void note_precision(rc_ref *ref, mpfr_prec_t w)
{
    if ((long)w > ref->stats.max_precision_used)
        ref->stats.max_precision_used = (long)w;
}

static void set_position(rc_ref *ref, int64_t m)
{
    if (ref->cached_m == m)
        return;
    mpfr_set_sj(ref->m_mp, (intmax_t)m, MPFR_RNDN); /* exact: |m| < 2^63 */
    ref->cached_m = m;
}

/* Pair i's cos/sin at the start precision for the current position,
 * computed when a pair first needs MPFR there. */
static const angle_set *start_angles(rc_ref *ref, int i)
{
    if (ref->pair_m[i] != ref->cached_m) {
        angle_set_eval(&ref->cache[i], ref->m_mp);
        ref->pair_m[i] = ref->cached_m;
        note_precision(ref, RC_REF_PREC_START);
    }
    return &ref->cache[i];
}

/* kp with 1 + 5|phi| <= 2^kp (README.md): |phi| < 2^EXP(phi). */
static long angle_bits(mpfr_srcptr phi)
{
    long e = mpfr_zero_p(phi) ? 0 : (long)mpfr_get_exp(phi);
    return (e > 0 ? e : 0) + 3;
}

/* The angle set of pair i at precision w: the cache at the start
 * precision, else recomputed in ref->work. */
static const angle_set *angles_at(rc_ref *ref, int i, mpfr_prec_t w)
{
    if (w == RC_REF_PREC_START)
        return start_angles(ref, i);
    angle_set_prec(&ref->work, w);
    pair_freq(ref, ref->work.theta, i);
    angle_set_eval(&ref->work, ref->m_mp);
    note_precision(ref, w);
    return &ref->work;
}

/* c = RN(cos phi), s = RN(sin phi) as doubles (s of -phi for the inverse),
 * certified the same way as the outputs: |C - cos phi| <= 2^(kp - w).
 * Returns 1 when certified. m == 0 gives exactly c = 1, s = +-0. */
static int cos_sin_double(rc_ref *ref, int i, rc_direction dir, double *c, double *s)
{
    int ok = 1;
    if (ref->cached_m == 0) {
        *c = 1.0;
        *s = 0.0;
    } else {
        int have_c = 0, have_s = 0;
        for (mpfr_prec_t w = RC_REF_PREC_START;; w *= 2) {
            const angle_set *a = angles_at(ref, i, w);
            long eb = angle_bits(a->phi) - (long)w; /* |C - cos phi| <= 2^eb */
            if (!have_c && mpfr_regular_p(a->c))
                have_c = rc_ref_round_certain(a->c, mpfr_get_exp(a->c) - eb, RC_DTYPE_F64, c);
            if (!have_s && mpfr_regular_p(a->s))
                have_s = rc_ref_round_certain(a->s, mpfr_get_exp(a->s) - eb, RC_DTYPE_F64, s);
            if (have_c && have_s)
                break;
            if (w * 2 > RC_REF_PREC_CAP) {
                if (!have_c)
                    *c = mpfr_get_d(a->c, MPFR_RNDN);
                if (!have_s)
                    *s = mpfr_get_d(a->s, MPFR_RNDN);
                ok = 0;
                break;
            }
        }
    }
    if (dir == RC_INVERSE)
        *s = -*s; /* sin(-phi) = -sin(phi), and RN is odd */
    return ok;
}

/* The IEEE-double evaluation of the formula, one product per statement so
 * no compiler contracts it into an fma (the spec says "IEEE arithmetic of
 * the formula"). */
static void ieee_formula(double a, double b, double c, double s, double *ra, double *rb)
{
    double ac = a * c;
    double bs = b * s;
    double as = a * s;
    double bc = b * c;
    *ra = ac - bs;
    *rb = as + bc;
}

/* A pair whose outputs are not found by the Ziv loop: NaN/Inf inputs, or
 * the exact zero of a == b == 0 (whose sign the IEEE formula gives). */
static void formula_pair(rc_ref *ref, int i, rc_direction dir, double a, double b,
                         rc_ref_elem *ea, rc_ref_elem *eb, uint8_t kind)
{
    double c, s, xa, xb;
    int ok = cos_sin_double(ref, i, dir, &c, &s);
    if (ref->alpha_kind != ALPHA_ONE) {
        /* The scaled row a port uses (exact_angle.h): RN(alpha)*c, *s. */
        const double al = mpfr_get_d(ref->alpha, MPFR_RNDN);
        c *= al;
        s *= al;
    }
    ieee_formula(a, b, c, s, &xa, &xb);
    ea->exact.hi = xa;
    ea->exact.lo = 0.0;
    eb->exact.hi = xb;
    eb->exact.lo = 0.0;
    ea->rounded = rc_round_to_dtype(ref->dtype, xa);
    eb->rounded = rc_round_to_dtype(ref->dtype, xb);
    ea->kind = eb->kind = kind;
    ea->certified = eb->certified = (uint8_t)ok;
}

/* One output of the pair at the set's precision: which = 0 gives a',
 * 1 gives b'. One rounding each (fmms/fmma are exact then rounded). */
static void rotate_component(mpfr_ptr r, int which, rc_direction dir, mpfr_srcptr a,
                             mpfr_srcptr b, const angle_set *t)
{
    if (dir == RC_FORWARD) {
        if (which == 0)
            mpfr_fmms(r, a, t->c, b, t->s, MPFR_RNDN); /* a c - b s */
        else
            mpfr_fmma(r, a, t->s, b, t->c, MPFR_RNDN); /* a s + b c */
    } else {
        if (which == 0)
            mpfr_fmma(r, a, t->c, b, t->s, MPFR_RNDN); /* a c + b s */
        else
            mpfr_fmms(r, b, t->c, a, t->s, MPFR_RNDN); /* b c - a s */
    }
}

/* Fill exact from a value known exactly (or, past the precision cap, the
 * best available): hi = RN53(R), lo = RN80(R) - hi (ref_internal.h). */
static void set_exact_dd(mpfr_srcptr r, double hi, rc_ref_elem *e)
{
    e->exact.hi = hi;
    e->exact.lo = rc_ref_exact_lo(r, hi);
}

static long max_l(long a, long b)
{
    return a > b ? a : b;
}

/* The Ziv bound of R = RN_w(a C - b S) (README.md): |R - a'| <= 2^eb with
 * eb = max(EXP(R) - w - 1, ea + kp - w) + 1. R must be regular. */
static long rotation_bound(mpfr_srcptr r, mpfr_prec_t w, long ea, long kp)
{
    return max_l((long)mpfr_get_exp(r) - (long)w - 1, ea + kp - (long)w) + 1;
}

/* alpha at precision w, or NULL when alpha is exactly 1. */
static mpfr_srcptr alpha_at(rc_ref *ref, mpfr_prec_t w)
{
    if (ref->alpha_kind == ALPHA_ONE)
        return NULL;
    if (ref->alpha_kind == ALPHA_DOUBLE || w == RC_REF_PREC_START)
        return ref->alpha; /* exact, or computed at the start precision */
    mpfr_set_prec(ref->alpha_work, w);
    rc_ref_out_scale_mpfr(ref->alpha_work, ref->scaling);
    return ref->alpha_work;
}

/* R2 = RN_w(R * A) into ref->scaled and its bound (README.md, "Output
 * scale"): with |R - a'| <= 2^ebR, |A - alpha| <= 3u alpha (0 when A is
 * exact) and |A| < 2^EA,
 *   |R2 - alpha a'| <= 2^(EXP(R2)-w-1)               rounding of the product
 *                    + |A| 2^ebR                      R's error, scaled
 *                    + |a'| |A - alpha|               A's error
 * with |a'| <= |R| + 2^ebR < 2^(max(EXP(R), ebR) + 1) and
 * |A - alpha| <= 3u (1 + 3u)|A| < 2^(EA + 2 - w); three terms, each at most
 * 2^max, sum to at most 2^(max + 2). Returns that exponent. */
static long scale_output(rc_ref *ref, mpfr_srcptr r, mpfr_srcptr a, mpfr_prec_t w, long ebr)
{
    mpfr_set_prec(ref->scaled, w);
    mpfr_mul(ref->scaled, r, a, MPFR_RNDN);
    const long ea = (long)mpfr_get_exp(a);
    long t = max_l((long)mpfr_get_exp(ref->scaled) - (long)w - 1, ea + ebr);
    if (ref->alpha_kind == ALPHA_COMPUTED)
        t = max_l(t, max_l((long)mpfr_get_exp(r), ebr) + 1 + ea + 2 - (long)w);
    return t + 2;
}

/* Decide one output R at precision w with |R - x| <= 2^eb. Returns 1 and
 * fills e when the bound certifies the dtype rounding, RN to double and
 * the canonical 80-bit exact value (its low word). */
static int try_finish(rc_ref *ref, mpfr_srcptr r, long eb, rc_ref_elem *e)
{
    if (!mpfr_regular_p(r))
        return 0; /* R == 0 exactly (aC = bS at this w): no sign, no EXP; retry */
    const long err = (long)mpfr_get_exp(r) - eb;
    if (!rc_ref_exact_certain(r, err, 1, &ref->dtype, &e->rounded, &e->exact))
        return 0;
    e->certified = 1;
    return 1;
}

/* exponent of a nonzero double: |x| < 2^e */
static long exp_of(double x)
{
    int e;
    frexp(x, &e);
    return e;
}

/* Outputs alpha*a, alpha*b for alpha an exact double (m = 0). */
static void exact_product_pair(rc_ref *ref, double a, double b, rc_ref_elem *ea,
                               rc_ref_elem *eb)
{
    const double in[2] = {a, b};
    rc_ref_elem *out[2] = {ea, eb};
    mpfr_set_prec(ref->scaled, 128); /* 53 + 53 bits: exact */
    for (int k = 0; k < 2; k++) {
        mpfr_set_d(ref->scaled, in[k], MPFR_RNDN);
        mpfr_mul_d(ref->scaled, ref->scaled, ref->alpha_double, MPFR_RNDN);
        out[k]->rounded = rc_ref_round_to_dtype(ref->scaled, ref->dtype);
        set_exact_dd(ref->scaled, mpfr_get_d(ref->scaled, MPFR_RNDN), out[k]);
        out[k]->kind = RC_ELEM_ROTATED;
        out[k]->certified = 1;
    }
}

/* The output pair's norm N = alpha ||(a, b)|| (inputs in va, vb) as the
 * canonical dd (hi = RN53(N), lo = RN80(N) - hi), by a Ziv loop. At
 * precision w: a^2 + b^2 rounded at 2w (relative 2^-2w), its square root
 * at w (2^-w), alpha within 3 * 2^-w when computed (exact otherwise) and
 * the product at w (2^-w): relative error < 6 * 2^-w, so with N' the
 * result, |N' - N| < 2^(EXP(N') + 4 - w). Every step exact (a ternary of
 * 0 and an exact alpha) means N' = N: rounded directly, ties included. */
static rc_dd pair_norm_mpfr(rc_ref *ref)
{
    rc_dd n = {0.0, 0.0};
    for (mpfr_prec_t w = RC_REF_NORM_PREC;; w *= 2) {
        mpfr_set_prec(ref->sumsq, 2 * w);
        mpfr_set_prec(ref->norm, w);
        int inexact = mpfr_fmma(ref->sumsq, ref->va, ref->va, ref->vb, ref->vb, MPFR_RNDN) != 0;
        inexact |= mpfr_sqrt(ref->norm, ref->sumsq, MPFR_RNDN) != 0;
        mpfr_srcptr alpha = alpha_at(ref, w);
        if (alpha) {
            inexact |= ref->alpha_kind == ALPHA_COMPUTED;
            inexact |= mpfr_mul(ref->norm, ref->norm, alpha, MPFR_RNDN) != 0;
        }
        if (!mpfr_regular_p(ref->norm))
            return n; /* a == b == 0: the norm is 0 */
        const long err = (long)w - 4;
        if (!inexact) {
            n.hi = mpfr_get_d(ref->norm, MPFR_RNDN);
            n.lo = rc_ref_exact_lo(ref->norm, n.hi);
            return n;
        }
        if (rc_ref_exact_certain(ref->norm, err, 0, NULL, NULL, &n))
            return n;
        if (w * 2 > RC_REF_PREC_CAP) {
            n.hi = mpfr_get_d(ref->norm, MPFR_RNDN); /* never expected: see the Ziv loop */
            n.lo = rc_ref_exact_lo(ref->norm, n.hi);
            return n;
        }
    }
}

static void rotate_pair(rc_ref *ref, int i, rc_direction dir, double a, double b,
                        rc_ref_elem *elem_a, rc_ref_elem *elem_b)
{
    if (!isfinite(a) || !isfinite(b)) {
        formula_pair(ref, i, dir, a, b, elem_a, elem_b, RC_ELEM_SPECIAL);
        rc_dd n = {hypot(a, b), 0.0}; /* Inf if either is Inf, else NaN */
        elem_a->pair_norm = elem_b->pair_norm = n;
        return;
    }

    mpfr_set_d(ref->va, a, MPFR_RNDN); /* exact */
    mpfr_set_d(ref->vb, b, MPFR_RNDN);
    rc_dd n = pair_norm_mpfr(ref);
    elem_a->pair_norm = elem_b->pair_norm = n;

    if (ref->cached_m == 0 && ref->alpha_kind == ALPHA_DOUBLE) {
        /* Rotation by zero times an exact double: alpha*a is exact in
         * 106 bits, so exact and rounded come without a loop (the loop
         * could not certify a product that lies on a tie). */
        exact_product_pair(ref, a, b, elem_a, elem_b);
        return;
    }
    if (ref->cached_m == 0 && ref->alpha_kind == ALPHA_ONE) {
        /* Rotation by zero: the outputs are the inputs, exactly. */
        elem_a->exact.hi = a;
        elem_b->exact.hi = b;
        elem_a->exact.lo = elem_b->exact.lo = 0.0;
        elem_a->rounded = rc_ref_round_to_dtype(ref->va, ref->dtype);
        elem_b->rounded = rc_ref_round_to_dtype(ref->vb, ref->dtype);
        elem_a->kind = elem_b->kind = RC_ELEM_ROTATED;
        elem_a->certified = elem_b->certified = 1;
        return;
    }
    if (a == 0.0 && b == 0.0) {
        formula_pair(ref, i, dir, a, b, elem_a, elem_b, RC_ELEM_ROTATED);
        return;
    }

    elem_a->kind = elem_b->kind = RC_ELEM_ROTATED;
    long ea = 1 + (a == 0.0 ? exp_of(b) : b == 0.0 ? exp_of(a)
                   : (exp_of(a) > exp_of(b) ? exp_of(a) : exp_of(b)));
    rc_ref_elem *elems[2] = {elem_a, elem_b};
    mpfr_ptr rs[2] = {ref->ra, ref->rb};
    int done[2] = {0, 0};
    mpfr_prec_t w = RC_REF_PREC_START;
    for (;;) {
        const angle_set *t = angles_at(ref, i, w);
        long kp = angle_bits(t->phi);
        for (int k = 0; k < 2; k++) {
            if (done[k])
                continue;
            mpfr_set_prec(rs[k], w);
            rotate_component(rs[k], k, dir, ref->va, ref->vb, t);
            if (!mpfr_regular_p(rs[k]))
                continue; /* R == 0 at this w: no sign, no EXP; retry at 2w */
            long eb = rotation_bound(rs[k], w, ea, kp);
            mpfr_srcptr alpha = alpha_at(ref, w);
            if (alpha) {
                eb = scale_output(ref, rs[k], alpha, w, eb);
                mpfr_swap(rs[k], ref->scaled); /* rs[k] = alpha * R, same precision */
            }
            done[k] = try_finish(ref, rs[k], eb, elems[k]);
            if (done[k] && w > RC_REF_PREC_START)
                ref->stats.ziv_retries++;
        }
        if (done[0] && done[1])
            break;
        if (w * 2 > RC_REF_PREC_CAP) {
            for (int k = 0; k < 2; k++) {
                if (done[k])
                    continue;
                /* Best effort, flagged: never expected (README.md). */
                elems[k]->rounded = rc_ref_round_to_dtype(rs[k], ref->dtype);
                set_exact_dd(rs[k], mpfr_get_d(rs[k], MPFR_RNDN), elems[k]);
                elems[k]->certified = 0;
                ref->stats.ziv_retries++;
                ref->stats.uncertified++;
            }
            break;
        }
        w *= 2;
    }
}

static void passthrough(double x, int32_t ch, rc_ref_elem *e)
{
    e->exact.hi = x;
    e->exact.lo = 0.0;
    e->rounded = x;
    e->pair_norm.hi = fabs(x);
    e->pair_norm.lo = 0.0;
    e->partner = ch;
    e->kind = RC_ELEM_PASSTHROUGH;
    e->certified = 1;
}

/* Pair i at the position set last (set_position and the fast path's). */
static void rotate_pair_at_position(rc_ref *ref, int32_t i, rc_direction dir, const double *in,
                                    rc_ref_elem *out)
{
    int ca, cb;
    rc_pair_channels(ref->layout, ref->rotary_dim, i, &ca, &cb);
    out[ca].partner = cb;
    out[cb].partner = ca;
    if (rc_ref_fast_pair(ref->fast, i, dir, in[ca], in[cb], &out[ca], &out[cb])) {
        ref->stats.pairs_fast++;
        return;
    }
    rotate_pair(ref, i, dir, in[ca], in[cb], &out[ca], &out[cb]);
    ref->stats.pairs_mpfr++;
}

static void passthrough_channels(rc_ref *ref, const double *in, rc_ref_elem *out)
{
    for (int32_t ch = ref->rotary_dim; ch < ref->head_dim; ch++)
        passthrough(in[ch], ch, &out[ch]);
    ref->stats.elements += (uint64_t)ref->head_dim;
}

static void go_to_position(rc_ref *ref, int64_t m)
{
    set_position(ref, m);
    rc_ref_fast_set_position(ref->fast, ref->use_fast ? m : 0);
}

int rc_ref_rotate_head(rc_ref *ref, int64_t m, rc_direction dir, const double *in,
                       rc_ref_elem *out)
{
    if (ref == NULL || in == NULL || out == NULL || m < 0 || m > RC_MAX_POSITION ||
        (unsigned)dir >= RC_DIRECTION_COUNT)
        return -1;
    go_to_position(ref, m);
    for (int32_t i = 0; i < ref->n_pairs; i++)
        rotate_pair_at_position(ref, i, dir, in, out);
    passthrough_channels(ref, in, out);
    return 0;
}

int rc_ref_rotate_head_axes(rc_ref *ref, const rc_axes *axes, const int64_t *pos,
                            rc_direction dir, const double *in, rc_ref_elem *out)
{
    char why[160];
    if (ref == NULL || axes == NULL || pos == NULL || in == NULL || out == NULL ||
        (unsigned)dir >= RC_DIRECTION_COUNT ||
        rc_axes_check(axes, ref->rotary_dim, why, sizeof why) != 0)
        return -1;
    for (int32_t k = 0; k < axes->n_axes; k++)
        if (pos[k] < 0 || pos[k] > RC_MAX_POSITION)
            return -1;
    /* Axis by axis, each of its pairs; an axis at the position of an
     * earlier one is done with it (text tokens: every axis the same). */
    for (int32_t k = 0; k < axes->n_axes; k++) {
        if (!rc_axes_position_is_new(pos, k))
            continue;
        go_to_position(ref, pos[k]);
        for (int32_t i = 0; i < ref->n_pairs; i++)
            if (pos[axes->pair_axis[i]] == pos[k])
                rotate_pair_at_position(ref, i, dir, in, out);
    }
    passthrough_channels(ref, in, out);
    return 0;
}

void rc_ref_axis_fits(rc_ref *ref, int32_t n_axes, const int64_t *pos, rc_direction dir,
                      const double *in, const double *got, double allowed,
                      rc_ref_elem *scratch, unsigned *fits)
{
    const unsigned every = (1u << n_axes) - 1u;
    for (int32_t ch = 0; ch < ref->rotary_dim; ch++)
        fits[ch] = 0;
    for (int32_t a = 0; a < n_axes; a++) {
        if (!rc_axes_position_is_new(pos, a) ||
            rc_ref_rotate_head(ref, pos[a], dir, in, scratch) != 0)
            continue;
        unsigned same = 0; /* every axis at this position */
        for (int32_t b = 0; b < n_axes; b++)
            same |= pos[b] == pos[a] ? 1u << b : 0u;
        for (int32_t ch = 0; ch < ref->rotary_dim; ch++) {
            if (scratch[ch].kind != RC_ELEM_ROTATED)
                continue;
            if (rc_ulp_error(ref->dtype, got[ch], scratch[ch].exact, scratch[ch].pair_norm) <=
                allowed)
                fits[ch] |= same;
        }
        /* A channel the reference does not rotate (a special value) says
         * nothing of its axis: every bit, neutral to an intersection. */
        for (int32_t ch = 0; ch < ref->rotary_dim; ch++)
            if (scratch[ch].kind != RC_ELEM_ROTATED)
                fits[ch] = every;
    }
}
