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

#include "core/dtype_convert.h"
#include "reference/ref_internal.h"
#include "reference/reference.h"

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

struct rc_ref {
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    rc_layout layout;
    rc_dtype dtype;
    int32_t n_pairs;
    angle_set *cache;   /* n_pairs sets at RC_REF_PREC_START */
    int64_t cached_m;   /* position the cache holds, -1: none */
    angle_set work;     /* retries at higher precision */
    mpfr_t m_mp;        /* m, exact in 64 bits */
    mpfr_t va, vb;      /* the pair's inputs, exact in 53 bits */
    mpfr_t ra, rb;      /* the pair's outputs at the working precision */
    mpfr_t diff;        /* R - hi for the dd low part */
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
           (unsigned)spec->layout < RC_LAYOUT_COUNT && (unsigned)spec->dtype < RC_DTYPE_COUNT;
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
    ref->base = spec->base;
    ref->layout = spec->layout;
    ref->dtype = spec->dtype;
    ref->n_pairs = spec->rotary_dim / 2;
    ref->cache = calloc((size_t)ref->n_pairs, sizeof *ref->cache);
    if (ref->cache == NULL) {
        free(ref);
        return NULL;
    }
    for (int i = 0; i < ref->n_pairs; i++) {
        angle_set_init(&ref->cache[i], RC_REF_PREC_START);
        rc_ref_theta_mpfr(ref->cache[i].theta, ref->base, ref->rotary_dim, i);
    }
    ref->cached_m = -1;
    angle_set_init(&ref->work, RC_REF_PREC_START);
    mpfr_init2(ref->m_mp, 64);
    mpfr_inits2(53, ref->va, ref->vb, (mpfr_ptr)0);
    mpfr_inits2(RC_REF_PREC_START, ref->ra, ref->rb, ref->diff, (mpfr_ptr)0);
    mpfr_init2(ref->sumsq, 2 * RC_REF_NORM_PREC);
    mpfr_init2(ref->norm, RC_REF_NORM_PREC);
    return ref;
}

void rc_ref_destroy(rc_ref *ref)
{
    if (ref == NULL)
        return;
    for (int i = 0; i < ref->n_pairs; i++)
        angle_set_clear(&ref->cache[i]);
    free(ref->cache);
    angle_set_clear(&ref->work);
    mpfr_clears(ref->m_mp, ref->va, ref->vb, ref->ra, ref->rb, ref->diff, ref->sumsq,
                ref->norm, (mpfr_ptr)0);
    free(ref);
}

void rc_ref_get_stats(const rc_ref *ref, rc_ref_stats *out)
{
    *out = ref->stats;
}

static void note_precision(rc_ref *ref, mpfr_prec_t w)
{
    if ((long)w > ref->stats.max_precision_used)
        ref->stats.max_precision_used = (long)w;
}

static void ensure_cache(rc_ref *ref, int64_t m)
{
    if (ref->cached_m == m)
        return;
    mpfr_set_sj(ref->m_mp, (intmax_t)m, MPFR_RNDN); /* exact: |m| < 2^63 */
    for (int i = 0; i < ref->n_pairs; i++)
        angle_set_eval(&ref->cache[i], ref->m_mp);
    ref->cached_m = m;
    note_precision(ref, RC_REF_PREC_START);
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
        return &ref->cache[i];
    angle_set_prec(&ref->work, w);
    rc_ref_theta_mpfr(ref->work.theta, ref->base, ref->rotary_dim, i);
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

/* Fill exact (hi = RN(R), lo = RN(R - hi)) from the working value. */
static void set_exact_dd(rc_ref *ref, mpfr_srcptr r, double hi, rc_ref_elem *e)
{
    e->exact.hi = hi;
    if (isinf(hi)) {
        e->exact.lo = 0.0; /* |x| beyond the double range */
        return;
    }
    /* R - hi is exact at prec(R) for a normal hi (both are multiples of
     * ulp_w(R) and |R - hi| <= ulp_53(R)/2). */
    mpfr_set_prec(ref->diff, mpfr_get_prec(r));
    mpfr_sub_d(ref->diff, r, hi, MPFR_RNDN);
    e->exact.lo = mpfr_get_d(ref->diff, MPFR_RNDN);
}

/* Decide one output at precision w. ea: |a| + |b| <= 2^ea. Returns 1 and
 * fills e when the bound certifies the dtype rounding, RN to double, and
 * 106 bits of the dd (or an error far below the dtype's subnormal step). */
static int try_finish(rc_ref *ref, mpfr_srcptr r, mpfr_prec_t w, long ea, long kp,
                      rc_ref_elem *e)
{
    if (!mpfr_regular_p(r))
        return 0; /* R == 0 exactly (aC = bS at this w): no sign, no EXP; retry */
    const rc_format *f = rc_dtype_format(ref->dtype);
    long er = (long)mpfr_get_exp(r);
    /* B <= 2^(er-w-1) + 2^(ea+kp-w) <= 2^(max(...) + 1) */
    long t1 = er - (long)w - 1, t2 = ea + kp - (long)w;
    long eb = (t1 > t2 ? t1 : t2) + 1;
    long qmin = (long)f->emin - f->precision + 1;
    if (!(er - eb >= 107 || eb <= qmin - 64))
        return 0;
    rc_dtype types[2] = {ref->dtype, RC_DTYPE_F64};
    double got[2];
    int n = ref->dtype == RC_DTYPE_F64 ? 1 : 2;
    if (!rc_ref_round_certain_n(r, er - eb, n, types, got))
        return 0;
    e->rounded = got[0];
    set_exact_dd(ref, r, got[n - 1], e);
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
    /* a^2 + b^2 rounded once at 256 bits, then a correctly rounded square
     * root at 128: relative error <= 2^-128 + 2^-257, far below the dd's
     * 2^-106 (and cheaper than mpfr_hypot). */
    mpfr_fmma(ref->sumsq, ref->va, ref->va, ref->vb, ref->vb, MPFR_RNDN);
    mpfr_sqrt(ref->norm, ref->sumsq, MPFR_RNDN);
    rc_dd n;
    n.hi = mpfr_get_d(ref->norm, MPFR_RNDN);
    mpfr_sub_d(ref->norm, ref->norm, n.hi, MPFR_RNDN); /* exact, as in set_exact_dd */
    n.lo = isinf(n.hi) ? 0.0 : mpfr_get_d(ref->norm, MPFR_RNDN);
    elem_a->pair_norm = elem_b->pair_norm = n;

    if (ref->cached_m == 0) {
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
            done[k] = try_finish(ref, rs[k], w, ea, kp, elems[k]);
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
                set_exact_dd(ref, rs[k], mpfr_get_d(rs[k], MPFR_RNDN), elems[k]);
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

int rc_ref_rotate_head(rc_ref *ref, int64_t m, rc_direction dir, const double *in,
                       rc_ref_elem *out)
{
    if (ref == NULL || in == NULL || out == NULL || m < 0 || m > RC_MAX_POSITION ||
        (unsigned)dir >= RC_DIRECTION_COUNT)
        return -1;
    ensure_cache(ref, m);
    const int32_t half = ref->n_pairs;
    for (int32_t i = 0; i < half; i++) {
        int32_t ca = ref->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
        int32_t cb = ref->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + half;
        out[ca].partner = cb;
        out[cb].partner = ca;
        rotate_pair(ref, i, dir, in[ca], in[cb], &out[ca], &out[cb]);
    }
    for (int32_t ch = ref->rotary_dim; ch < ref->head_dim; ch++)
        passthrough(in[ch], ch, &out[ch]);
    ref->stats.elements += (uint64_t)ref->head_dim;
    return 0;
}
