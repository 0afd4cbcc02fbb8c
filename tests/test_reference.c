/*
 * tests/test_reference.c - the MPFR oracle (reference/ref_theta.c,
 * ref_rotate.c) against things known independently: exact identities and
 * closed forms, long-double libm at small positions, a separate MPFR route
 * (exp/log instead of pow/root) at large positions, algebraic identities
 * of theta, symmetry properties that hold bit for bit, and the IEEE
 * semantics of NaN/Inf pairs.
 *
 * Long-double tolerances rest on glibc's published accuracy for x86-64
 * long double (libm-test-ulps: cosl, sinl, powl within 1 ulp); every
 * other term is derived next to where it is used.
 */
#include <stdint.h>
#include <stdio.h>

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "reference/ref_internal.h"
#include "reference/reference.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_reference", 20261123u);
}

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* The long-double tolerances assume at least x87's 64-bit significand
 * (binary128 long double only tightens them); where long double is just
 * double those tests are skipped, not weakened. */
static void need_long_double(void)
{
    if (LDBL_MANT_DIG < 64)
        cr_skip_test("long double has %d bits, the tolerances need 64", LDBL_MANT_DIG);
}

static rc_ref *make_ref(int d, int r, double base, rc_layout l, rc_dtype t)
{
    rc_spec s = {d, r, base, l, t, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    rc_ref *ref = rc_ref_create(&s);
    cr_assert(ref != NULL, "rc_ref_create(d=%d r=%d base=%g)", d, r, base);
    return ref;
}

static void pair_channels(rc_layout l, int r, int i, int *ca, int *cb)
{
    *ca = l == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
    *cb = l == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + r / 2;
}

/* A value of dtype t, uniform in [-scale, scale) then rounded to t. */
static double random_in(rc_rng *g, rc_dtype t, double scale)
{
    return rc_round_to_dtype(t, (2.0 * rc_rng_uniform(g) - 1.0) * scale);
}

/* Inputs of mixed magnitude: mostly O(1), some small (cancellation, the
 * dtype's subnormals), some large, some zeros. */
static double random_mixed(rc_rng *g, rc_dtype t)
{
    uint64_t k = rc_rng_below(g, 16);
    const rc_format *f = rc_dtype_format(t);
    if (k == 0)
        return (rc_rng_next(g) & 1) ? -0.0 : 0.0;
    if (k == 1) /* a subnormal of t */
        return random_in(g, t, ldexp(1.0, f->emin));
    if (k == 2)
        return random_in(g, t, 0x1p-10);
    if (k == 3)
        return random_in(g, t, 1000.0);
    return random_in(g, t, 4.0);
}

/* |x| + |y| <= 2^e */
static long exp_bound2(double x, double y)
{
    int ex = 0, ey = 0;
    if (x != 0)
        frexp(x, &ex);
    if (y != 0)
        frexp(y, &ey);
    return 1 + (ex > ey ? ex : ey);
}

/* ------------------------------------------------------------------ */

Test(reference, invalid_arguments)
{
    rc_spec bad[] = {
        {4, 3, 10000, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0},  /* odd r */
        {4, 6, 10000, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0},  /* r > d */
        {4, 4, 0.0, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0},    /* base 0 */
        {4, 4, NAN, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0},    /* base NaN */
        {4, 4, 10000, RC_LAYOUT_COUNT, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0}, /* layout */
        {4, 4, 10000, RC_LAYOUT_HALF, RC_DTYPE_COUNT, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0} /* dtype */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_expect(rc_ref_create(&bad[k]) == NULL, "spec %zu must be rejected", k);
    cr_expect(rc_ref_create(NULL) == NULL);

    rc_ref *ref = make_ref(4, 4, 10000, RC_LAYOUT_HALF, RC_DTYPE_F32);
    double in[4] = {1, 2, 3, 4};
    rc_ref_elem out[4];
    cr_expect_eq(rc_ref_rotate_head(ref, -1, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head(ref, RC_MAX_POSITION + 1, RC_FORWARD, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head(ref, 1, RC_DIRECTION_COUNT, in, out), -1);
    cr_expect_eq(rc_ref_rotate_head(ref, 1, RC_FORWARD, NULL, out), -1);
    cr_expect_eq(rc_ref_rotate_head(ref, RC_MAX_POSITION, RC_FORWARD, in, out), 0);
    for (int c = 0; c < 4; c++)
        cr_expect(out[c].certified == 1 && isfinite(out[c].exact.hi));
    rc_ref_destroy(ref);
    rc_ref_destroy(NULL);
}

/* m = 0 rotates by zero: every output is its input, bit for bit (signed
 * zeros and the dtype's subnormals included), in every dtype, layout and
 * direction. */
Test(reference, position_zero_is_identity)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 1, 0);
    const int shapes[2][2] = {{128, 128}, {80, 32}};
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        for (int l = 0; l < RC_LAYOUT_COUNT; l++)
            for (int s = 0; s < 2; s++) {
                int d = shapes[s][0], r = shapes[s][1];
                rc_ref *ref = make_ref(d, r, 500000, (rc_layout)l, (rc_dtype)t);
                double in[128];
                rc_ref_elem out[128];
                for (int rep = 0; rep < 4; rep++) {
                    for (int c = 0; c < d; c++)
                        in[c] = random_mixed(&g, (rc_dtype)t);
                    in[0] = -0.0;
                    in[1] = 0.0;
                    for (int dir = 0; dir < RC_DIRECTION_COUNT; dir++) {
                        cr_assert_eq(rc_ref_rotate_head(ref, 0, (rc_direction)dir, in, out), 0);
                        for (int c = 0; c < d; c++) {
                            cr_expect(bits_of(out[c].exact.hi) == bits_of(in[c]) &&
                                          bits_of(out[c].exact.lo) == 0 &&
                                          bits_of(out[c].rounded) == bits_of(in[c]) &&
                                          out[c].certified == 1,
                                      "%s %s d=%d ch %d: in %a exact %a+%a rounded %a",
                                      rc_dtype_name((rc_dtype)t), rc_layout_name((rc_layout)l),
                                      d, c, in[c], out[c].exact.hi, out[c].exact.lo,
                                      out[c].rounded);
                            cr_expect_eq(out[c].kind, c < r ? RC_ELEM_ROTATED : RC_ELEM_PASSTHROUGH);
                        }
                    }
                }
                rc_ref_destroy(ref);
            }
}

/* ---- theta ---------------------------------------------------------- */

Test(reference, theta_known_values)
{
    const double bases[] = {10000, 500000, 1e6, 2.5, 0.5};
    const int rs[] = {2, 4, 24, 96, 128};
    for (size_t b = 0; b < 5; b++)
        for (size_t k = 0; k < 5; k++) {
            rc_dd t = rc_ref_theta_dd(bases[b], rs[k], 0);
            cr_expect(t.hi == 1.0 && bits_of(t.lo) == 0, "theta_0 = base^0 = 1 exactly");
        }
    /* 16^(-2/4) = 1/4 and (2^-1000)^(-2/4) = 2^500: dyadic, so exact. */
    rc_dd t = rc_ref_theta_dd(16, 4, 1);
    cr_expect(t.hi == 0.25 && t.lo == 0.0, "16^-1/2: %a + %a", t.hi, t.lo);
    t = rc_ref_theta_dd(0x1p-1000, 4, 1);
    cr_expect(t.hi == 0x1p500 && t.lo == 0.0, "(2^-1000)^-1/2: %a + %a", t.hi, t.lo);
    t = rc_ref_theta_dd(1024, 20, 5); /* 1024^(-1/2) = 2^-5 */
    cr_expect(t.hi == 0x1p-5 && t.lo == 0.0);
    /* 10000^(-4/8) = 1/100 exactly. hi must be RN(0.01), the literal. The
     * low part is RN(0.01 - hi) = RN((1 - 100 hi) / 100): 1 - 100 hi is a
     * small multiple of 2^-59 (hi is one), so the fma computes it exactly,
     * and the one division rounds it once. */
    t = rc_ref_theta_dd(10000, 8, 2);
    cr_expect(t.hi == 0.01, "hi %a", t.hi);
    double lo = fma(-100.0, t.hi, 1.0) / 100.0;
    cr_expect(bits_of(t.lo) == bits_of(lo), "lo %a want %a", t.lo, lo);
    /* 100^(-8/16) = 1/10, the same way (1 - 10 hi is a small multiple of
     * 2^-56). */
    t = rc_ref_theta_dd(100, 16, 4);
    cr_expect(t.hi == 0.1 && bits_of(t.lo) == bits_of(fma(-10.0, 0.1, 1.0) / 10.0));

    /* The table is the per-entry function. */
    double hi[64], los[64];
    rc_ref_theta_table(500000, 128, hi, los);
    for (int i = 0; i < 64; i++) {
        rc_dd e = rc_ref_theta_dd(500000, 128, i);
        cr_expect(bits_of(hi[i]) == bits_of(e.hi) && bits_of(los[i]) == bits_of(e.lo));
    }
    /* Invalid arguments give NaN. */
    cr_expect(isnan(rc_ref_theta_dd(-1, 4, 1).hi));
    cr_expect(isnan(rc_ref_theta_dd(10000, 5, 1).hi));
    cr_expect(isnan(rc_ref_theta_dd(10000, 4, 2).hi));
}

/* theta_dd against powl. y = -2i/r rounded to long double has relative
 * error <= 2^-64, which changes base^y by a factor exp(y ln(base) d) =
 * exp(ln(theta) d): relative <= 1.01 |ln theta| 2^-64; powl itself is
 * within 1 ulp <= 2^-63 relative. The dd is within 2^-105 relative (below).
 * The difference is formed in long double: hi - P is exact (Sterbenz: they
 * agree to far better than a factor 2) and adding lo rounds once, 2^-64
 * relative to a value already inside the tolerance. */
Test(reference, theta_against_powl)
{
    need_long_double();
    const double bases[] = {10000, 500000, 1e6, 10, 1.5};
    const int rs[] = {2, 4, 6, 8, 12, 16, 24, 32, 64, 96, 128};
    for (size_t b = 0; b < 5; b++)
        for (size_t k = 0; k < 11; k++)
            for (int i = 0; i < rs[k] / 2; i++) {
                rc_dd t = rc_ref_theta_dd(bases[b], rs[k], i);
                long double p = powl(bases[b], -(2.0L * i) / rs[k]);
                long double tol =
                    p * (0x1p-63L + 1.01L * fabsl(logl(p)) * 0x1p-64L + 0x1p-105L);
                long double diff = ((long double)t.hi - p) + t.lo;
                cr_expect(fabsl(diff) <= tol * (1 + 0x1p-60L),
                          "base %g r %d i %d: dd %a+%a powl %La diff %Lg tol %Lg", bases[b],
                          rs[k], i, t.hi, t.lo, p, diff, tol);
            }
}

/* The defining identity theta^q * base^n = 1 (n/q = 2i/r in lowest terms),
 * evaluated at 1024 bits on X = hi + lo (exact there). hi = RN(T),
 * lo = RN(T - hi) give |X - T| <= 2^-53 |T - hi| <= 2^-106 T, and
 * |T - theta| <= 3 * 2^-256 theta, so X = theta (1 + e), |e| <= 2^-106 (1 +
 * 2^-100), and X^q base^n = (1 + e)^q is within q |e| (1 + q|e|) of 1. We
 * allow q 2^-105, a factor 2 over that: MPFR's three roundings at 1024
 * bits are 2^-1020. A theta good to only 53 bits misses by ~q 2^-53. */
Test(reference, theta_algebraic_identity)
{
    const double bases[] = {10000, 500000, 1e6, 10, 1.5, 3};
    const int rs[] = {6, 24, 32, 80, 96, 128, 250, 1024};
    mpfr_t x, y, bp;
    mpfr_inits2(1024, x, y, bp, (mpfr_ptr)0);
    for (size_t b = 0; b < 6; b++)
        for (size_t k = 0; k < 8; k++)
            for (int i = 1; i < rs[k] / 2; i++) {
                int r = rs[k], g = 2 * i, h = r;
                while (h != 0) {
                    int tmp = g % h;
                    g = h;
                    h = tmp;
                }
                unsigned long n = (unsigned long)(2 * i / g), q = (unsigned long)(r / g);
                rc_dd t = rc_ref_theta_dd(bases[b], r, i);
                mpfr_set_d(x, t.hi, MPFR_RNDN);
                mpfr_add_d(x, x, t.lo, MPFR_RNDN);
                mpfr_pow_ui(x, x, q, MPFR_RNDN);
                mpfr_set_d(bp, bases[b], MPFR_RNDN);
                mpfr_pow_ui(bp, bp, n, MPFR_RNDN);
                mpfr_mul(y, x, bp, MPFR_RNDN);
                mpfr_sub_ui(y, y, 1, MPFR_RNDN);
                double dev = fabs(mpfr_get_d(y, MPFR_RNDN));
                cr_expect(dev <= (double)q * 0x1p-105, "base %g r %d i %d: |X^%lu b^%lu - 1| = %g",
                          bases[b], r, i, q, n, dev);
            }
    mpfr_clears(x, y, bp, (mpfr_ptr)0);
}

/* ---- rotation against long double at small positions --------------- */

/* One output of the pair from long double libm, with an error bound.
 * phi_err bounds |phi_L - phi|. cosl/sinl: <= 1 ulp, and |c|, |s| <= 1 so
 * <= 2^-63 absolute, plus phi_err (both are 1-Lipschitz). a c and b s
 * round at 2^-64 relative (<= 2^-64 |a|, 2^-64 |b|), the sum at 2^-64 of
 * its value (<= 2^-64 (|a| + |b|) (1 + 2^-62)): in all
 * (|a| + |b|) (2^-63 + phi_err + 2^-63 (1 + 2^-62)). */
static long double ld_output(double a, double b, long double phi, long double phi_err,
                             rc_direction dir, int which, long double *tol)
{
    long double c = cosl(phi), s = sinl(phi);
    if (dir == RC_INVERSE)
        s = -s;
    long double ac = (long double)a * c, bs = (long double)b * s;
    long double as = (long double)a * s, bc = (long double)b * c;
    long double v = which == 0 ? ac - bs : as + bc;
    *tol = (fabsl((long double)a) + fabsl((long double)b)) *
           (0x1p-63L + phi_err + 0x1p-63L * (1 + 0x1p-62L));
    return v;
}

typedef struct ld_stats {
    long compared, rounding_decided;
} ld_stats;

/* The reference's own error on hi + lo: the exact value R rounded once
 * to 80 bits (RC_REF_EXACT_BITS), so |hi + lo - R| <= 2^-80 |R| (half an
 * 80-bit quantum), or half of 2^-1074 below 2^-995, where the quantum is
 * the double's. Taken at the compared value x, within 2^-62 of R. */
static long double dd_error(rc_dtype t, long double x)
{
    (void)t;
    return 0x1p-80L * fabsl(x) + 0x1p-1075L;
}

/* Compare one reference element with a long-double value v +- tol.
 * exact: |(hi - v) + lo| with the reference's own dd error added;
 * the long-double difference rounds twice, 2^-63 relative of a value
 * already within the tolerance. rounded: when RN_T is the same at both
 * ends of [v - tol', v + tol'] it is RN_T of the exact value (monotone),
 * so the reference must give exactly that. */
static void check_against(const rc_ref_elem *e, rc_dtype t, long double v, long double tol,
                          ld_stats *st, const char *what)
{
    long double total = (tol + dd_error(t, v)) * (1 + 0x1p-60L);
    long double diff = ((long double)e->exact.hi - v) + e->exact.lo;
    cr_expect(e->certified == 1 && e->kind == RC_ELEM_ROTATED, "%s: not certified", what);
    cr_expect(fabsl(diff) <= total * (1 + 0x1p-62L), "%s: exact %a+%a vs %La, diff %Lg tol %Lg",
              what, e->exact.hi, e->exact.lo, v, diff, total);
    mpfr_t lo, hi;
    mpfr_inits2(128, lo, hi, (mpfr_ptr)0);
    mpfr_set_ld(lo, v - total, MPFR_RNDD);
    mpfr_set_ld(hi, v + total, MPFR_RNDU);
    /* v +- total in long double rounds by 2^-64 relative; widen by that. */
    mpfr_mul_d(lo, lo, mpfr_sgn(lo) > 0 ? 1 - 0x1p-62 : 1 + 0x1p-62, MPFR_RNDD);
    mpfr_mul_d(hi, hi, mpfr_sgn(hi) > 0 ? 1 + 0x1p-62 : 1 - 0x1p-62, MPFR_RNDU);
    double rl = rc_ref_round_to_dtype(lo, t), rh = rc_ref_round_to_dtype(hi, t);
    if (bits_of(rl) == bits_of(rh) && mpfr_sgn(lo) * mpfr_sgn(hi) > 0) {
        cr_expect(bits_of(e->rounded) == bits_of(rl), "%s: rounded %a, want %a (v %La)", what,
                  e->rounded, rl, v);
        st->rounding_decided++;
    }
    st->compared++;
    mpfr_clears(lo, hi, (mpfr_ptr)0);
}

/* d = 2: theta_0 = 1 for any base, the angle is m radians exactly, so
 * cosl(m), sinl(m) need no theta (phi_err = 0). Every m in 1..4095 with
 * random inputs, every dtype, both directions. */
Test(reference, d2_closed_form)
{
    need_long_double();
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 2, 0);
    ld_stats st = {0, 0};
    char what[160];
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        rc_ref *ref = make_ref(2, 2, 10000, RC_LAYOUT_INTERLEAVED, (rc_dtype)t);
        for (int64_t m = 1; m < 4096; m++) {
            double in[2] = {random_mixed(&g, (rc_dtype)t), random_mixed(&g, (rc_dtype)t)};
            for (int dir = 0; dir < 2; dir++) {
                rc_ref_elem out[2];
                cr_assert_eq(rc_ref_rotate_head(ref, m, (rc_direction)dir, in, out), 0);
                for (int k = 0; k < 2; k++) {
                    long double tol;
                    long double v = ld_output(in[0], in[1], (long double)m, 0, (rc_direction)dir,
                                              k, &tol);
                    snprintf(what, sizeof what, "%s m=%lld dir %d out %d in (%a, %a)",
                             rc_dtype_name((rc_dtype)t), (long long)m, dir, k, in[0], in[1]);
                    check_against(&out[k], (rc_dtype)t, v, tol, &st, what);
                }
            }
        }
        rc_ref_stats rs;
        rc_ref_get_stats(ref, &rs);
        cr_expect_eq(rs.uncertified, 0);
        rc_ref_destroy(ref);
    }
    /* The rounding check must not be vacuous: the tolerance is ~2^-62
     * relative, so only near-ties (f64: ~1 in 2^9) stay undecided. */
    cr_expect(st.rounding_decided >= st.compared * 9 / 10, "decided %ld of %ld",
              st.rounding_decided, st.compared);
}

/* Random heads of real shapes at positions < 2^12 against long double.
 * theta_L = powl(base, -2i/r) within eps = 2^-63 + 1.01 |ln theta| 2^-64
 * (see theta_against_powl); phi_L = m theta_L rounds once more (2^-64), so
 * |phi_L - phi| <= phi_L (eps + 2^-64) (1 + 2^-60). */
Test(reference, random_vs_long_double)
{
    need_long_double();
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 3, 0);
    const double bases[] = {10000, 500000, 1e6};
    const int shapes[][2] = {{128, 128}, {96, 24}, {256, 64}};
    char what[200];
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        ld_stats st = {0, 0};
        for (int l = 0; l < RC_LAYOUT_COUNT; l++)
            for (int b = 0; b < 3; b++) {
                int d = shapes[b][0], r = shapes[b][1];
                rc_ref *ref = make_ref(d, r, bases[b], (rc_layout)l, (rc_dtype)t);
                double in[256];
                rc_ref_elem out[256];
                for (int head = 0; head < 6; head++) {
                    int64_t m = (int64_t)rc_rng_below(&g, 4096);
                    rc_direction dir = (rc_direction)rc_rng_below(&g, 2);
                    for (int c = 0; c < d; c++)
                        in[c] = random_mixed(&g, (rc_dtype)t);
                    cr_assert_eq(rc_ref_rotate_head(ref, m, dir, in, out), 0);
                    for (int i = 0; i < r / 2; i++) {
                        int ca, cb;
                        pair_channels((rc_layout)l, r, i, &ca, &cb);
                        cr_expect(out[ca].partner == cb && out[cb].partner == ca);
                        long double th = powl(bases[b], -(2.0L * i) / r);
                        long double eps = 0x1p-63L + 1.01L * fabsl(logl(th)) * 0x1p-64L;
                        long double phi = (long double)m * th;
                        long double phi_err = phi * (eps + 0x1p-64L) * (1 + 0x1p-60L);
                        for (int k = 0; k < 2; k++) {
                            long double tol;
                            long double v = ld_output(in[ca], in[cb], phi, phi_err, dir, k, &tol);
                            snprintf(what, sizeof what,
                                     "%s %s base %g m=%lld %s pair %d out %d in (%a, %a)",
                                     rc_dtype_name((rc_dtype)t), rc_layout_name((rc_layout)l),
                                     bases[b], (long long)m, rc_direction_name(dir), i, k,
                                     in[ca], in[cb]);
                            check_against(&out[k ? cb : ca], (rc_dtype)t, v, tol, &st, what);
                        }
                        /* ||(a,b)||: a^2, b^2, their sum and sqrtl each round
                         * at 2^-64 relative; the norm is then within
                         * (2^-63 / 2 + 2^-64)(1 + 2^-60) < 2^-62 relative.
                         * The dd adds 2^-80 relative (RC_REF_EXACT_BITS), or 2^-1075 absolute
                         * below the double normal range (dd_error). */
                        long double nl = sqrtl((long double)in[ca] * in[ca] +
                                               (long double)in[cb] * in[cb]);
                        long double nd = ((long double)out[ca].pair_norm.hi - nl) +
                                         out[ca].pair_norm.lo;
                        cr_expect(fabsl(nd) <= 0x1p-62L * nl + 0x1p-1075L, "pair norm %a vs %La",
                                  out[ca].pair_norm.hi, nl);
                    }
                }
                rc_ref_stats rs;
                rc_ref_get_stats(ref, &rs);
                cr_expect_eq(rs.uncertified, 0);
                rc_ref_destroy(ref);
            }
        /* phi_err reaches ~2^-48 relative at m ~ 4095, a few f64 ulps: the
         * f64 rounding is mostly undecided here (d2_closed_form and the
         * large-position test decide it); the others must be decided. */
        if (t != RC_DTYPE_F64)
            cr_expect(st.rounding_decided >= st.compared * 9 / 10, "%s: decided %ld of %ld",
                      rc_dtype_name((rc_dtype)t), st.rounding_decided, st.compared);
        cr_log_info("%s: %ld elements compared, rounding decided for %ld",
                    rc_dtype_name((rc_dtype)t), st.compared, st.rounding_decided);
    }
}

/* ---- large positions against a second MPFR route ------------------- */

/* theta by exp(-(2i/r) ln base) (not pow/root), phi, sin/cos and the
 * rotation at W = 1024 bits, u = 2^-W. ln: u; 2i/r: u; the product: u,
 * so Z = ln(theta)(1 + h), |h| <= 3.01u; exp: theta (1 + |ln theta| 3.01u
 * 1.01)(1 + u); times m: one more u. With |ln theta| < 14 and |phi| < 2^53:
 * |phi_D - phi| <= |phi| (3.1 * 14 + 2.1) u < 2^59 u; cos/sin add u; the
 * rotation's one rounding adds u |x|. So |x_D - x| <= (|a| + |b|) 2^-964 +
 * u |x|; we take (|a| + |b|) 2^-960 + 2^-1020 |x_D|. */
static void direct_output(mpfr_ptr x, double base, int r, int i, int64_t m, rc_direction dir,
                          double a, double b, int which)
{
    mpfr_t th, phi, c, s, va, vb;
    mpfr_inits2(1024, th, phi, c, s, (mpfr_ptr)0);
    mpfr_inits2(53, va, vb, (mpfr_ptr)0);
    mpfr_set_d(va, a, MPFR_RNDN);
    mpfr_set_d(vb, b, MPFR_RNDN);
    mpfr_set_d(th, base, MPFR_RNDN);
    mpfr_log(th, th, MPFR_RNDN);
    mpfr_set_si(phi, 2 * i, MPFR_RNDN);
    mpfr_div_si(phi, phi, -r, MPFR_RNDN);
    mpfr_mul(th, th, phi, MPFR_RNDN);
    mpfr_exp(th, th, MPFR_RNDN);
    mpfr_set_sj(phi, (intmax_t)m, MPFR_RNDN);
    mpfr_mul(phi, phi, th, MPFR_RNDN);
    mpfr_sin_cos(s, c, phi, MPFR_RNDN);
    if (dir == RC_INVERSE)
        mpfr_neg(s, s, MPFR_RNDN);
    if (which == 0)
        mpfr_fmms(x, va, c, vb, s, MPFR_RNDN);
    else
        mpfr_fmma(x, va, s, vb, c, MPFR_RNDN);
    mpfr_clears(th, phi, c, s, va, vb, (mpfr_ptr)0);
}

/* Check e against x_D with |x_D - x| <= 2^ebound: the dd within that plus
 * its own error, and the rounding equal whenever x_D's enclosure decides
 * it (rc_ref_round_certain is tested on its own in test_ref_round). */
static void check_against_mpfr(const rc_ref_elem *e, rc_dtype t, mpfr_srcptr xd, long ebound,
                               long *decided, const char *what)
{
    cr_expect(e->certified == 1, "%s: not certified", what);
    mpfr_t diff;
    mpfr_init2(diff, 4200); /* hi + lo - x_D exactly: every term is a multiple of 2^-4200 or larger */
    mpfr_set_d(diff, e->exact.hi, MPFR_RNDN);
    mpfr_add_d(diff, diff, e->exact.lo, MPFR_RNDN);
    mpfr_sub(diff, diff, xd, MPFR_RNDN);
    mpfr_abs(diff, diff, MPFR_RNDN);
    double dev = mpfr_get_d(diff, MPFR_RNDU);
    double xabs = fabs(mpfr_get_d(xd, MPFR_RNDN));
    double tol = (ldexp(1.0, (int)(ebound > -1070 ? ebound : -1070)) +
                  (double)dd_error(t, xabs)) * (1 + 0x1p-50);
    cr_expect(dev <= tol, "%s: exact %a+%a, deviation %g > %g", what, e->exact.hi, e->exact.lo,
              dev, tol);
    double want;
    if (mpfr_regular_p(xd) &&
        rc_ref_round_certain(xd, mpfr_get_exp(xd) - (ebound + 1), t, &want)) {
        cr_expect(bits_of(e->rounded) == bits_of(want), "%s: rounded %a want %a", what,
                  e->rounded, want);
        (*decided)++;
    }
    mpfr_clear(diff);
}

Test(reference, large_positions_vs_second_route)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 4, 0);
    const double bases[] = {10000, 500000, 1e6};
    long compared = 0, decided = 0;
    char what[200];
    mpfr_t xd;
    mpfr_init2(xd, 1024);
    const int dims[] = {64, 96, 80}; /* 2i/r not dyadic for 96, 80 */
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        for (int b = 0; b < 3; b++) {
            int d = dims[b], r = dims[b];
            rc_ref *ref = make_ref(d, r, bases[b], RC_LAYOUT_HALF, (rc_dtype)t);
            double in[96];
            rc_ref_elem out[96];
            for (int head = 0; head < 3; head++) {
                /* log-uniform positions up to 2^53 - 1, and the maximum */
                int64_t m = head == 0 ? RC_MAX_POSITION
                                      : (int64_t)(rc_rng_next(&g) >> (11 + rc_rng_below(&g, 50)));
                rc_direction dir = (rc_direction)rc_rng_below(&g, 2);
                for (int c = 0; c < d; c++)
                    in[c] = random_mixed(&g, (rc_dtype)t);
                cr_assert_eq(rc_ref_rotate_head(ref, m, dir, in, out), 0);
                for (int i = 0; i < r / 2; i++) {
                    int ca = i, cb = i + r / 2;
                    if (in[ca] == 0 && in[cb] == 0)
                        continue; /* exact zeros: covered by the sign test */
                    long ebound = exp_bound2(in[ca], in[cb]) - 960;
                    for (int k = 0; k < 2; k++) {
                        direct_output(xd, bases[b], r, i, m, dir, in[ca], in[cb], k);
                        snprintf(what, sizeof what, "%s base %g m=%lld %s pair %d out %d",
                                 rc_dtype_name((rc_dtype)t), bases[b], (long long)m,
                                 rc_direction_name(dir), i, k);
                        /* the 2^-1020 |x_D| term: one more bit on the bound */
                        long eb = ebound;
                        if (mpfr_regular_p(xd) && mpfr_get_exp(xd) - 1020 > eb)
                            eb = mpfr_get_exp(xd) - 1020;
                        check_against_mpfr(&out[k ? cb : ca], (rc_dtype)t, xd, eb + 1, &decided,
                                           what);
                        compared++;
                    }
                }
            }
            rc_ref_stats rs;
            rc_ref_get_stats(ref, &rs);
            cr_expect_eq(rs.uncertified, 0);
            rc_ref_destroy(ref);
        }
    cr_expect(decided >= compared * 99 / 100, "decided %ld of %ld", decided, compared);
    mpfr_clear(xd);
}

/* base 2^-1000, r = 4: theta_1 = 2^500 exactly, so phi = m 2^500 is
 * enormous and the starting precision cannot even place it modulo 2 pi:
 * the Ziv loop must raise the precision (to >= 1024 bits), and the result
 * must still agree with a direct 4096-bit evaluation of the exact angle
 * (m 2^500 is exact there: cos/sin and the rotation round once each, so
 * |x_D - x| <= (|a| + |b|) 2^-4095 + 2^-4096 |x_D|). */
Test(reference, ziv_retries_on_huge_angles)
{
    rc_ref *ref = make_ref(4, 4, 0x1p-1000, RC_LAYOUT_HALF, RC_DTYPE_F32);
    const int64_t ms[] = {1, 3, 12345, RC_MAX_POSITION};
    double in[4] = {0.75, -1.25, 3.0, 0.5}; /* pairs (0,2) and (1,3) */
    mpfr_t phi, c, s, va, vb, xd;
    mpfr_inits2(4096, phi, c, s, xd, (mpfr_ptr)0);
    mpfr_inits2(53, va, vb, (mpfr_ptr)0);
    long decided = 0;
    for (size_t k = 0; k < 4; k++) {
        rc_ref_elem out[4];
        cr_assert_eq(rc_ref_rotate_head(ref, ms[k], RC_FORWARD, in, out), 0);
        mpfr_set_sj(phi, (intmax_t)ms[k], MPFR_RNDN);
        mpfr_mul_2ui(phi, phi, 500, MPFR_RNDN);
        mpfr_sin_cos(s, c, phi, MPFR_RNDN);
        mpfr_set_d(va, in[1], MPFR_RNDN);
        mpfr_set_d(vb, in[3], MPFR_RNDN);
        for (int w = 0; w < 2; w++) {
            if (w == 0)
                mpfr_fmms(xd, va, c, vb, s, MPFR_RNDN);
            else
                mpfr_fmma(xd, va, s, vb, c, MPFR_RNDN);
            long eb = exp_bound2(in[1], in[3]) - 4095 + 1;
            check_against_mpfr(&out[w ? 3 : 1], RC_DTYPE_F32, xd, eb, &decided, "huge angle");
        }
    }
    rc_ref_stats rs;
    rc_ref_get_stats(ref, &rs);
    cr_expect(rs.ziv_retries > 0, "retries %llu", (unsigned long long)rs.ziv_retries);
    cr_expect(rs.max_precision_used >= 1024, "max precision %ld", rs.max_precision_used);
    cr_expect_eq(rs.uncertified, 0);
    cr_expect_eq(decided, 8);
    cr_expect_eq(rs.elements, 16);
    mpfr_clears(phi, c, s, xd, va, vb, (mpfr_ptr)0);
    rc_ref_destroy(ref);
}

/* ---- properties that hold bit for bit ------------------------------ */

/* Rotating (a, b) by -phi is rotating (b, a) by +phi with the outputs
 * swapped: a c + b s and b c - a s are the same exact reals, rounded by the
 * same loop, so everything matches exactly. */
Test(reference, inverse_is_swapped_forward)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 5, 0);
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        rc_ref *ref = make_ref(128, 128, 500000, RC_LAYOUT_INTERLEAVED, (rc_dtype)t);
        double in[128], sw[128];
        rc_ref_elem inv[128], fwd[128];
        for (int rep = 0; rep < 4; rep++) {
            int64_t m = (int64_t)(rc_rng_next(&g) >> (11 + rc_rng_below(&g, 52)));
            for (int c = 0; c < 128; c++)
                in[c] = random_mixed(&g, (rc_dtype)t);
            for (int c = 0; c < 128; c += 2) {
                sw[c] = in[c + 1];
                sw[c + 1] = in[c];
            }
            cr_assert_eq(rc_ref_rotate_head(ref, m, RC_INVERSE, in, inv), 0);
            cr_assert_eq(rc_ref_rotate_head(ref, m, RC_FORWARD, sw, fwd), 0);
            for (int c = 0; c < 128; c++) {
                const rc_ref_elem *x = &inv[c], *y = &fwd[c ^ 1];
                cr_expect(bits_of(x->exact.hi) == bits_of(y->exact.hi) &&
                              bits_of(x->exact.lo) == bits_of(y->exact.lo) &&
                              bits_of(x->rounded) == bits_of(y->rounded) &&
                              x->certified == 1 && y->certified == 1,
                          "%s m=%lld ch %d: inverse %a+%a vs swapped forward %a+%a",
                          rc_dtype_name((rc_dtype)t), (long long)m, c, x->exact.hi, x->exact.lo,
                          y->exact.hi, y->exact.lo);
            }
        }
        rc_ref_destroy(ref);
    }
}

/* Forward, rounded to f64, then inverse: the rounding moved the pair by
 * delta with |delta_k| <= 2^-53 |x'_k| (normal range), so ||delta|| <=
 * 2^-53 ||(a, b)||, and the inverse (a rotation, applied to the exact 80-bit values) moves
 * it back to within that of (a, b) per component. The comparison
 * (two_sum(hi, -a), then + lo) adds 2^-52 of a value far below that. */
Test(reference, inverse_undoes_forward)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 6, 0);
    rc_ref *ref = make_ref(128, 96, 1e6, RC_LAYOUT_HALF, RC_DTYPE_F64);
    double in[128], mid[128];
    rc_ref_elem out[128], back[128];
    for (int rep = 0; rep < 8; rep++) {
        int64_t m = (int64_t)(rc_rng_next(&g) >> (11 + rc_rng_below(&g, 52)));
        for (int c = 0; c < 128; c++)
            in[c] = random_in(&g, RC_DTYPE_F64, 8.0);
        cr_assert_eq(rc_ref_rotate_head(ref, m, RC_FORWARD, in, out), 0);
        for (int c = 0; c < 128; c++)
            mid[c] = out[c].rounded;
        cr_assert_eq(rc_ref_rotate_head(ref, m, RC_INVERSE, mid, back), 0);
        for (int c = 0; c < 128; c++) {
            double norm = out[c].pair_norm.hi;
            rc_dd s = rc_two_sum(back[c].exact.hi, -in[c]);
            double dev = fabs(s.hi + (s.lo + back[c].exact.lo));
            double tol = 0x1p-53 * norm * (1 + 0x1p-48) + 0x1p-79 * (fabs(in[c]) + norm);
            cr_expect(dev <= tol, "m=%lld ch %d: back %a vs in %a (dev %g tol %g)",
                      (long long)m, c, back[c].exact.hi, in[c], dev, tol);
        }
    }
    rc_ref_destroy(ref);
}

/* interleaved on v and half on the permuted v (v[2i] -> i, v[2i+1] ->
 * i + r/2) are the same rotation: identical elements, partners mapped. */
Test(reference, layouts_agree_on_permuted_inputs)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 7, 0);
    const int d = 96, r = 64;
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        rc_ref *ri = make_ref(d, r, 10000, RC_LAYOUT_INTERLEAVED, (rc_dtype)t);
        rc_ref *rh = make_ref(d, r, 10000, RC_LAYOUT_HALF, (rc_dtype)t);
        int perm[96]; /* channel of the interleaved head -> channel of the half head */
        for (int c = 0; c < d; c++)
            perm[c] = c >= r ? c : (c % 2 == 0 ? c / 2 : c / 2 + r / 2);
        for (int rep = 0; rep < 4; rep++) {
            int64_t m = (int64_t)(rc_rng_next(&g) >> (11 + rc_rng_below(&g, 52)));
            rc_direction dir = (rc_direction)(rep & 1);
            double vi[96], vh[96];
            rc_ref_elem oi[96], oh[96];
            for (int c = 0; c < d; c++)
                vi[c] = random_mixed(&g, (rc_dtype)t);
            vi[5] = NAN; /* a special pair travels too */
            for (int c = 0; c < d; c++)
                vh[perm[c]] = vi[c];
            cr_assert_eq(rc_ref_rotate_head(ri, m, dir, vi, oi), 0);
            cr_assert_eq(rc_ref_rotate_head(rh, m, dir, vh, oh), 0);
            for (int c = 0; c < d; c++) {
                const rc_ref_elem *x = &oi[c], *y = &oh[perm[c]];
                cr_expect(bits_of(x->exact.hi) == bits_of(y->exact.hi) &&
                              bits_of(x->exact.lo) == bits_of(y->exact.lo) &&
                              bits_of(x->rounded) == bits_of(y->rounded) &&
                              bits_of(x->pair_norm.hi) == bits_of(y->pair_norm.hi) &&
                              bits_of(x->pair_norm.lo) == bits_of(y->pair_norm.lo) &&
                              x->kind == y->kind && x->certified == y->certified &&
                              perm[x->partner] == y->partner,
                          "%s m=%lld ch %d", rc_dtype_name((rc_dtype)t), (long long)m, c);
            }
        }
        rc_ref_destroy(ri);
        rc_ref_destroy(rh);
    }
}

/* Channels >= r are copied bit for bit (NaN payloads included), are their
 * own partners, and do not disturb the rotated channels. */
Test(reference, partial_rotary_passthrough)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 8, 0);
    const int shapes[][2] = {{80, 32}, {96, 24}, {256, 64}};
    uint64_t payload = 0x7ff80000000abcdeull;
    double odd_nan;
    memcpy(&odd_nan, &payload, sizeof odd_nan);
    for (int s = 0; s < 3; s++)
        for (int l = 0; l < 2; l++) {
            int d = shapes[s][0], r = shapes[s][1];
            rc_ref *ref = make_ref(d, r, 10000, (rc_layout)l, RC_DTYPE_F64);
            double in[256];
            rc_ref_elem out[256];
            for (int c = 0; c < d; c++)
                in[c] = random_mixed(&g, RC_DTYPE_F64);
            in[r] = odd_nan;
            in[r + 1] = -INFINITY;
            in[d - 1] = -0.0;
            in[d - 2] = 0x1p-1074;
            cr_assert_eq(rc_ref_rotate_head(ref, 4097, RC_FORWARD, in, out), 0);
            for (int c = 0; c < d; c++) {
                if (c < r) {
                    cr_expect(out[c].kind == RC_ELEM_ROTATED && out[c].certified == 1);
                    continue;
                }
                cr_expect(out[c].kind == RC_ELEM_PASSTHROUGH && out[c].partner == c &&
                              out[c].certified == 1,
                          "ch %d", c);
                cr_expect(bits_of(out[c].exact.hi) == bits_of(in[c]) &&
                              bits_of(out[c].exact.lo) == 0 &&
                              bits_of(out[c].rounded) == bits_of(in[c]),
                          "ch %d: %a -> %a / %a", c, in[c], out[c].exact.hi, out[c].rounded);
                cr_expect(bits_of(out[c].pair_norm.hi) == bits_of(fabs(in[c])));
            }
            rc_ref_destroy(ref);
        }
}

static int elem_equal(const rc_ref_elem *x, const rc_ref_elem *y)
{
    return bits_of(x->exact.hi) == bits_of(y->exact.hi) &&
           bits_of(x->exact.lo) == bits_of(y->exact.lo) &&
           bits_of(x->rounded) == bits_of(y->rounded) &&
           bits_of(x->pair_norm.hi) == bits_of(y->pair_norm.hi) &&
           bits_of(x->pair_norm.lo) == bits_of(y->pair_norm.lo) && x->partner == y->partner &&
           x->kind == y->kind && x->certified == y->certified;
}

/* The cache of sin/cos is keyed by position: revisiting a position after
 * others, or computing many heads of one token, changes nothing. */
Test(reference, cache_is_transparent)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 9, 0);
    rc_ref *a = make_ref(128, 128, 500000, RC_LAYOUT_HALF, RC_DTYPE_BF16);
    double in[128];
    for (int c = 0; c < 128; c++)
        in[c] = random_mixed(&g, RC_DTYPE_BF16);
    rc_ref_elem x[128], y[128];
    cr_assert_eq(rc_ref_rotate_head(a, 77777, RC_FORWARD, in, x), 0);
    cr_assert_eq(rc_ref_rotate_head(a, 5, RC_FORWARD, in, y), 0);
    cr_assert_eq(rc_ref_rotate_head(a, 77777, RC_INVERSE, in, y), 0);
    cr_assert_eq(rc_ref_rotate_head(a, 77777, RC_FORWARD, in, y), 0);
    for (int c = 0; c < 128; c++)
        cr_expect(elem_equal(&x[c], &y[c]), "revisited position, ch %d", c);
    rc_ref *b = make_ref(128, 128, 500000, RC_LAYOUT_HALF, RC_DTYPE_BF16);
    cr_assert_eq(rc_ref_rotate_head(b, 77777, RC_FORWARD, in, y), 0);
    for (int c = 0; c < 128; c++)
        cr_expect(elem_equal(&x[c], &y[c]), "fresh oracle, ch %d", c);
    rc_ref_stats s;
    rc_ref_get_stats(a, &s);
    cr_expect_eq(s.elements, 4 * 128);
    rc_ref_destroy(a);
    rc_ref_destroy(b);
}

/* ---- special values ---------------------------------------------------- */

static void rot2(rc_ref *ref, int64_t m, rc_direction dir, double a, double b, rc_ref_elem *out)
{
    double in[2] = {a, b};
    cr_assert_eq(rc_ref_rotate_head(ref, m, dir, in, out), 0);
}

#define EXPECT_OUT(e, want)                                                                \
    cr_expect(bits_of((e).exact.hi) == bits_of(want) || (isnan(want) && isnan((e).exact.hi)), \
              "m=%lld: %a, want %a", (long long)m, (e).exact.hi, (double)(want))

/* d = 2, angle m radians. Expected values written from the IEEE formula
 * a' = a c - b s, b' = a s + b c with the signs of c = cos m, s = sin m:
 * m = 0: c = 1, s = +0 (inverse: -0); m = 1: c > 0, s > 0; m = 2: c < 0,
 * s > 0. Inf * 0 is NaN, Inf - Inf is NaN. */
Test(reference, nan_inf_semantics)
{
    rc_ref *ref = make_ref(2, 2, 10000, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F16);
    rc_ref_elem o[2];
    int64_t m;
    const double inf = INFINITY;

    for (m = 0; m < 3; m++) {
        rot2(ref, m, RC_FORWARD, NAN, 1.0, o);
        EXPECT_OUT(o[0], NAN);
        EXPECT_OUT(o[1], NAN);
        rot2(ref, m, RC_INVERSE, 0.0, NAN, o);
        EXPECT_OUT(o[0], NAN);
        EXPECT_OUT(o[1], NAN);
        cr_expect(o[0].kind == RC_ELEM_SPECIAL && o[1].kind == RC_ELEM_SPECIAL);
        cr_expect(isnan(o[0].rounded) && isnan(o[1].rounded) && o[0].certified == 1);
        cr_expect(isnan(o[0].pair_norm.hi));
    }

    m = 0;
    rot2(ref, m, RC_FORWARD, inf, 0.0, o); /* Inf*1 - 0*0, Inf*0 + 0*1 */
    EXPECT_OUT(o[0], inf);
    EXPECT_OUT(o[1], NAN);
    rot2(ref, m, RC_FORWARD, 1.0, inf, o); /* 1 - Inf*0, 0 + Inf */
    EXPECT_OUT(o[0], NAN);
    EXPECT_OUT(o[1], inf);
    cr_expect(o[1].rounded == inf && o[1].kind == RC_ELEM_SPECIAL);
    cr_expect(o[1].pair_norm.hi == inf);
    rot2(ref, m, RC_INVERSE, -inf, 2.0, o); /* -Inf - 2*(-0), -Inf*(-0) + 2 */
    EXPECT_OUT(o[0], -inf);
    EXPECT_OUT(o[1], NAN);

    m = 1;
    rot2(ref, m, RC_FORWARD, inf, 0.0, o);
    EXPECT_OUT(o[0], inf);
    EXPECT_OUT(o[1], inf);
    rot2(ref, m, RC_FORWARD, inf, inf, o); /* Inf c - Inf s = NaN; Inf s + Inf c = Inf */
    EXPECT_OUT(o[0], NAN);
    EXPECT_OUT(o[1], inf);
    rot2(ref, m, RC_FORWARD, -inf, 2.0, o);
    EXPECT_OUT(o[0], -inf);
    EXPECT_OUT(o[1], -inf);
    rot2(ref, m, RC_INVERSE, inf, inf, o); /* Inf c + Inf s = Inf; -Inf s + Inf c = NaN */
    EXPECT_OUT(o[0], inf);
    EXPECT_OUT(o[1], NAN);

    m = 2;
    rot2(ref, m, RC_FORWARD, inf, 0.0, o); /* -Inf - 0, Inf + (-0) */
    EXPECT_OUT(o[0], -inf);
    EXPECT_OUT(o[1], inf);
    rot2(ref, m, RC_INVERSE, inf, 0.0, o); /* -Inf + 0, -Inf + (-0) */
    EXPECT_OUT(o[0], -inf);
    EXPECT_OUT(o[1], -inf);
    rc_ref_destroy(ref);

    /* A NaN pair leaves the other pairs of the head alone. */
    ref = make_ref(4, 4, 10000, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32);
    double in[4] = {NAN, 1.0, 0.5, -0.25};
    rc_ref_elem out[4];
    cr_assert_eq(rc_ref_rotate_head(ref, 100, RC_FORWARD, in, out), 0);
    cr_expect(isnan(out[0].exact.hi) && isnan(out[1].exact.hi));
    cr_expect(out[2].kind == RC_ELEM_ROTATED && isfinite(out[2].exact.hi) && out[2].certified);
    rc_ref_destroy(ref);
}

/* Finite inputs whose rotation leaves f16's range: the exact value stays
 * finite, the once-rounded one is Inf. (65504, 65504) at m = 1:
 * b' = 65504 (sin 1 + cos 1) ~ 90,510 > 65520; a' = 65504 (cos 1 - sin 1)
 * ~ -19,720 is finite. Also the exact zero of a zero pair keeps the sign
 * the IEEE formula gives it: m = 2 (cos < 0, sin > 0) on (+0, +0) gives
 * a' = -0 - (+0) = -0, b' = +0 + (-0) = +0. */
Test(reference, overflow_and_signed_zero)
{
    rc_ref *ref = make_ref(2, 2, 10000, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F16);
    rc_ref_elem o[2];
    rot2(ref, 1, RC_FORWARD, 65504.0, 65504.0, o);
    cr_expect(o[1].kind == RC_ELEM_ROTATED && o[1].certified == 1);
    cr_expect(o[1].exact.hi > 90000 && o[1].exact.hi < 91000, "%a", o[1].exact.hi);
    cr_expect(o[1].rounded == INFINITY, "%a", o[1].rounded);
    cr_expect(o[0].rounded < -19000 && o[0].rounded > -20000, "%a", o[0].rounded);
    rot2(ref, 2, RC_FORWARD, 0.0, 0.0, o);
    cr_expect(bits_of(o[0].exact.hi) == bits_of(-0.0) && bits_of(o[0].rounded) == bits_of(-0.0));
    cr_expect(bits_of(o[1].exact.hi) == bits_of(0.0) && bits_of(o[1].rounded) == bits_of(0.0));
    cr_expect(o[0].certified == 1 && o[0].kind == RC_ELEM_ROTATED);
    rc_ref_destroy(ref);
}

/* The pair-ULP scale of a scaled spec is the OUTPUT pair's norm,
 * alpha * ||(a, b)|| (reference/README.md, "Output scale"): with the
 * input norm instead, a correctly rounded port would measure up to 1.0
 * pair ULP for alpha > 1 and as little as 0.25 for alpha < 1, and gates
 * would be off by those factors. Checked for alpha above and below 1
 * (explicit YaRN attention factors, exact doubles). */
Test(reference, output_scale_sets_the_pair_norm)
{
    const double alphas[] = {1.3, 0.7, 0.5};
    for (size_t k = 0; k < sizeof alphas / sizeof alphas[0]; k++) {
        rc_scaling sc = {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096,
                         .beta_fast = 32.0, .beta_slow = 1.0, .truncate = 1,
                         .attention_factor = alphas[k]};
        rc_spec spec = {.head_dim = 8, .rotary_dim = 8, .base = 10000.0,
                        .layout = RC_LAYOUT_HALF, .dtype = RC_DTYPE_F32, .scaling = &sc};
        rc_ref *ref = rc_ref_create(&spec);
        cr_assert(ref != NULL);
        const double in[8] = {0.75, -1.5, 3.0, 0.125, 1.0, 2.5, -0.5, 6.0};
        rc_ref_elem e[8];
        for (int64_t m = 0; m <= 1000; m += 333) {
            cr_assert_eq(rc_ref_rotate_head(ref, m, RC_FORWARD, in, e), 0);
            for (int i = 0; i < 4; i++) {
                double a = in[i], b = in[i + 4];
                /* hypot is within 1 ulp, alpha*hypot within 2: the check
                 * tells alpha*N from N (30% apart) with room to spare. */
                double want = alphas[k] * hypot(a, b);
                cr_expect(fabs(e[i].pair_norm.hi - want) <= 0x1p-50 * want,
                          "alpha %g m %lld pair %d: norm %a, alpha*||(a,b)|| %a", alphas[k],
                          (long long)m, i, e[i].pair_norm.hi, want);
                /* And the outputs are alpha times a rotation of the pair. */
                double out_norm = hypot(e[i].exact.hi, e[i + 4].exact.hi);
                cr_expect(fabs(out_norm - want) <= 0x1p-48 * want,
                          "alpha %g m %lld pair %d: output norm %a", alphas[k], (long long)m,
                          i, out_norm);
            }
        }
        rc_ref_destroy(ref);
    }
}

/* At position 0 with an exact-double output scale, alpha*a can fall on a
 * tie of the dtype's grid: alpha = 1.5, a = 1 + 2^-23 gives
 * 1.5 + 1.5*2^-23, halfway between two floats. The reference must still
 * certify it and round to even (1.5 + 2^-22), as a correctly rounding port
 * does; a Ziv loop alone cannot decide a value that is exactly a tie. */
Test(reference, output_scale_tie_at_position_zero_is_rounded_to_even)
{
    rc_scaling sc = {.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 4096,
                     .beta_fast = 32.0, .beta_slow = 1.0, .truncate = 1,
                     .attention_factor = 1.5};
    rc_spec spec = {.head_dim = 2, .rotary_dim = 2, .base = 10000.0, .layout = RC_LAYOUT_HALF,
                    .dtype = RC_DTYPE_F32, .scaling = &sc};
    rc_ref *ref = rc_ref_create(&spec);
    cr_assert(ref != NULL);
    const double in[2] = {1.0 + 0x1p-23, -(1.0 + 0x1p-23)};
    rc_ref_elem e[2];
    for (int dir = 0; dir < 2; dir++) {
        cr_assert_eq(rc_ref_rotate_head(ref, 0, (rc_direction)dir, in, e), 0);
        cr_expect(e[0].certified && e[1].certified, "a tie is still decided");
        cr_expect(e[0].exact.hi == 1.5 + 1.5 * 0x1p-23, "%a", e[0].exact.hi);
        cr_expect(e[0].rounded == 1.5 + 0x1p-22, "ties to even: %a", e[0].rounded);
        cr_expect(e[1].rounded == -(1.5 + 0x1p-22), "ties to even: %a", e[1].rounded);
    }
    rc_ref_destroy(ref);
}
