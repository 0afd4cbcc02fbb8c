/*
 * reference/profile_fn.c - the arithmetic of framework profiles: basic
 * operations on (prediction, band) triples, and elementary functions of
 * f32 values with MPFR (correctly rounded prediction, directed-rounding
 * neighbours for the band). See profile_internal.h.
 */
#include <math.h>

#include <mpfr.h>

#include "core/dtype_convert.h"
#include "reference/profile_internal.h"

double rc_pv_round(rc_dtype w, double x)
{
    switch (w) {
    case RC_DTYPE_F64:
        return x;
    case RC_DTYPE_F32:
        return (double)(float)x;
    default:
        return rc_round_to_dtype(w, x);
    }
}

typedef double (*rc_binop)(double, double);
static double op_add(double a, double b) { return a + b; }
static double op_sub(double a, double b) { return a - b; }
static double op_mul(double a, double b) { return a * b; }
static double op_div(double a, double b) { return a / b; }

/* min/max that let a NaN through (a band with NaN means "unknown"). */
static double min_nan(double a, double b) { return (a < b || isnan(a)) ? a : b; }
static double max_nan(double a, double b) { return (a > b || isnan(a)) ? a : b; }

static rc_pv binop(rc_dtype w, rc_binop f, rc_pv x, rc_pv y)
{
    rc_pv r;
    r.p = rc_pv_round(w, f(x.p, y.p));
    /* Monotone in each argument (for / only while y's band keeps one
     * sign, which the callers' divisors do: positive frequencies and
     * constants): the extremes are at endpoint combinations. */
    const double c[4] = {rc_pv_round(w, f(x.lo, y.lo)), rc_pv_round(w, f(x.lo, y.hi)),
                         rc_pv_round(w, f(x.hi, y.lo)), rc_pv_round(w, f(x.hi, y.hi))};
    r.lo = r.hi = c[0];
    for (int k = 1; k < 4; k++) {
        r.lo = min_nan(r.lo, c[k]);
        r.hi = max_nan(r.hi, c[k]);
    }
    return r;
}

rc_pv rc_pv_add(rc_dtype w, rc_pv x, rc_pv y) { return binop(w, op_add, x, y); }
rc_pv rc_pv_sub(rc_dtype w, rc_pv x, rc_pv y) { return binop(w, op_sub, x, y); }
rc_pv rc_pv_mul(rc_dtype w, rc_pv x, rc_pv y) { return binop(w, op_mul, x, y); }
rc_pv rc_pv_div(rc_dtype w, rc_pv x, rc_pv y) { return binop(w, op_div, x, y); }

rc_pv rc_pv_to(rc_dtype t, rc_pv x)
{
    rc_pv r = {rc_pv_round(t, x.p), rc_pv_round(t, x.lo), rc_pv_round(t, x.hi)};
    return r;
}

/* ---- elementary functions of f32 values ---- */

typedef int (*rc_mpfr_fn1)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

/* f(x) at 24 bits: *rn correctly rounded, *rd and *ru its two directed
 * roundings (equal to *rn when f(x) is an f32 value). MPFR's exponent
 * range is far wider than f32's; the profiles only evaluate functions
 * whose results are normal f32 numbers or exact zeros (cos, sin in
 * [-1, 1]; frequencies and logs of the specs' parameters), and a result
 * outside f32's range shows as an infinite or zero conversion. */
static void f32_fn(rc_mpfr_fn1 f, double x, double *rn, double *rd, double *ru)
{
    MPFR_DECL_INIT(mx, 53);
    MPFR_DECL_INIT(my, 24);
    mpfr_set_d(mx, x, MPFR_RNDN); /* exact: x is an f32 value */
    const int t = f(my, mx, MPFR_RNDN);
    const float v = mpfr_get_flt(my, MPFR_RNDN); /* exact: 24 bits */
    *rn = *rd = *ru = v;
    if (t > 0) /* rounded up: the exact value lies below */
        *rd = nextafterf(v, -INFINITY);
    else if (t < 0)
        *ru = nextafterf(v, INFINITY);
}

/* Is there an integer k with (k + shift) * pi in [lo, hi], and of which
 * parities? Decided on [lo/pi - shift, hi/pi - shift] widened outward
 * (a superset of the true range, so a "yes" may be spurious but a "no"
 * is certain: the band stays sound). *even / *odd report the parities. */
static void contains_pi_multiple(double lo, double hi, double shift, int *even, int *odd)
{
    MPFR_DECL_INIT(pi_d, 128);
    MPFR_DECL_INIT(pi_u, 128);
    MPFR_DECL_INIT(tl, 128);
    MPFR_DECL_INIT(th, 128);
    mpfr_const_pi(pi_d, MPFR_RNDD);
    mpfr_const_pi(pi_u, MPFR_RNDU);
    /* lo/pi rounded down: divide by the larger pi when lo >= 0. */
    mpfr_set_d(tl, lo, MPFR_RNDN);
    mpfr_div(tl, tl, lo >= 0 ? pi_u : pi_d, MPFR_RNDD);
    mpfr_set_d(th, hi, MPFR_RNDN);
    mpfr_div(th, th, hi >= 0 ? pi_d : pi_u, MPFR_RNDU);
    mpfr_sub_d(tl, tl, shift, MPFR_RNDD);
    mpfr_sub_d(th, th, shift, MPFR_RNDU);
    mpfr_ceil(tl, tl);
    mpfr_floor(th, th);
    *even = *odd = 0;
    if (mpfr_cmp(tl, th) > 0)
        return;
    /* Two or more integers: both parities. */
    MPFR_DECL_INIT(d, 128);
    mpfr_sub(d, th, tl, MPFR_RNDN); /* exact: integers below 2^40 */
    if (mpfr_cmp_ui(d, 1) >= 0) {
        *even = *odd = 1;
        return;
    }
    MPFR_DECL_INIT(h, 128);
    mpfr_div_2ui(h, tl, 1, MPFR_RNDN);
    if (mpfr_integer_p(h))
        *even = 1;
    else
        *odd = 1;
}

/* cos or sin over x's band. `shift` places the extrema: cos has its
 * maxima at 2k*pi and minima at (2k+1)*pi (shift 0); sin at (2k + 1/2)*pi
 * and (2k + 3/2)*pi (shift 1/2). */
static rc_pv trig(rc_mpfr_fn1 f, double shift, rc_pv x, int faithful)
{
    rc_pv r;
    double rd, ru;
    f32_fn(f, x.p, &r.p, &rd, &ru);
    if (!faithful) {
        rd = ru = r.p;
    }
    r.lo = rd;
    r.hi = ru;
    if (x.lo == x.hi && x.lo == x.p)
        return r;
    if (isnan(x.lo) || isnan(x.hi) || isinf(x.lo) || isinf(x.hi)) {
        r.lo = -1.0;
        r.hi = 1.0;
        return r;
    }
    const double ends[2] = {x.lo, x.hi};
    for (int k = 0; k < 2; k++) {
        double n, d, u;
        f32_fn(f, ends[k], &n, &d, &u);
        r.lo = fmin(r.lo, faithful ? d : n);
        r.hi = fmax(r.hi, faithful ? u : n);
    }
    int even, odd;
    contains_pi_multiple(x.lo, x.hi, shift, &even, &odd);
    if (even)
        r.hi = 1.0;
    if (odd)
        r.lo = -1.0;
    return r;
}

rc_pv rc_pf_cos(rc_pv x, int faithful) { return trig(mpfr_cos, 0.0, x, faithful); }
rc_pv rc_pf_sin(rc_pv x, int faithful) { return trig(mpfr_sin, 0.5, x, faithful); }

/* pow with both arguments f32; monotone in each argument for base > 0
 * (in e: increasing for base > 1, decreasing below), so the extremes are
 * at the four endpoint combinations. */
static void pow_at(double b, double e, double *rn, double *rd, double *ru)
{
    MPFR_DECL_INIT(mb, 53);
    MPFR_DECL_INIT(me, 53);
    MPFR_DECL_INIT(my, 24);
    mpfr_set_d(mb, b, MPFR_RNDN);
    mpfr_set_d(me, e, MPFR_RNDN);
    const int t = mpfr_pow(my, mb, me, MPFR_RNDN);
    const float v = mpfr_get_flt(my, MPFR_RNDN);
    *rn = *rd = *ru = v;
    if (t > 0)
        *rd = nextafterf(v, -INFINITY);
    else if (t < 0)
        *ru = nextafterf(v, INFINITY);
}

rc_pv rc_pf_pow(rc_pv base, rc_pv e, int faithful)
{
    rc_pv r;
    double d, u, n;
    pow_at(base.p, e.p, &r.p, &d, &u);
    r.lo = faithful ? d : r.p;
    r.hi = faithful ? u : r.p;
    const double bs[2] = {base.lo, base.hi}, es[2] = {e.lo, e.hi};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            pow_at(bs[i], es[j], &n, &d, &u);
            r.lo = fmin(r.lo, faithful ? d : n);
            r.hi = fmax(r.hi, faithful ? u : n);
        }
    return r;
}

double rc_pd_log(double x)
{
    MPFR_DECL_INIT(m, 53);
    mpfr_set_d(m, x, MPFR_RNDN);
    mpfr_log(m, m, MPFR_RNDN);
    return mpfr_get_d(m, MPFR_RNDN);
}

double rc_pd_pow(double x, double y)
{
    MPFR_DECL_INIT(mx, 53);
    MPFR_DECL_INIT(my, 53);
    mpfr_set_d(mx, x, MPFR_RNDN);
    mpfr_set_d(my, y, MPFR_RNDN);
    mpfr_pow(mx, mx, my, MPFR_RNDN);
    return mpfr_get_d(mx, MPFR_RNDN);
}
