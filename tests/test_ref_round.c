/*
 * tests/test_ref_round.c - rounding an MPFR value once to f32/f64/f16/bf16
 * (reference/ref_round.c): ties to even, gradual underflow, overflow,
 * signed zero; bit-for-bit agreement with core/dtype_convert.c (two
 * independent implementations of the same exact RNE); and the certainty
 * test the Ziv loop relies on.
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
    return rc_test_seed("test_ref_round", 20261123u);
}

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* Round sum_k c_k 2^e_k (n terms, exact at 4096 bits) to t. */
static double round_sum(rc_dtype t, int n, const double *c, const long *e)
{
    mpfr_t x, term;
    mpfr_init2(x, 4096);
    mpfr_init2(term, 64);
    mpfr_set_zero(x, 1);
    for (int k = 0; k < n; k++) {
        mpfr_set_d(term, c[k], MPFR_RNDN);
        mpfr_mul_2si(term, term, e[k], MPFR_RNDN);
        mpfr_add(x, x, term, MPFR_RNDN); /* exact: 4096 bits cover every case below */
    }
    double r = rc_ref_round_to_dtype(x, t);
    mpfr_clear(term);
    mpfr_clear(x);
    return r;
}

static double r1(rc_dtype t, double c, long e)
{
    return round_sum(t, 1, &c, &e);
}

static double r2(rc_dtype t, double c0, long e0, double c1, long e1)
{
    double c[2] = {c0, c1};
    long e[2] = {e0, e1};
    return round_sum(t, 2, c, e);
}

static double r3(rc_dtype t, double c0, long e0, double c1, long e1, double c2, long e2)
{
    double c[3] = {c0, c1, c2};
    long e[3] = {e0, e1, e2};
    return round_sum(t, 3, c, e);
}

#define EXPECT_BITS(got, want)                                                          \
    cr_expect(bits_of(got) == bits_of(want), "%s: got %a, want %a", #got, (got), (want))

/* 1 + 2^-p is the tie between 1 and 1 + 2^(1-p) (even: 1); 1 + 3*2^-p is
 * the tie between 1 + 2^(1-p) (odd) and 1 + 2^(2-p) (even); a hair above a
 * tie rounds up. Checked for both signs in every dtype. */
Test(ref_round, ties_to_even_each_dtype)
{
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        long p = rc_dtype_format((rc_dtype)t)->precision;
        for (int sg = -1; sg <= 1; sg += 2) {
            EXPECT_BITS(r2(t, sg, 0, sg, -p), (double)sg);
            EXPECT_BITS(r2(t, sg, 0, 3 * sg, -p), sg * (1 + ldexp(1, 2 - (int)p)));
            EXPECT_BITS(r3(t, sg, 0, sg, -p, sg, -p - 200), sg * (1 + ldexp(1, 1 - (int)p)));
            EXPECT_BITS(r3(t, sg, 0, sg, -p, -sg, -p - 200), (double)sg);
        }
    }
    /* The brief's f32 examples, spelled out. */
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, 0, 1, -24), 1.0);
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, 0, 3, -24), 1.0 + 0x1p-22);
}

Test(ref_round, subnormals)
{
    /* f32: smallest subnormal 2^-149. */
    EXPECT_BITS(r1(RC_DTYPE_F32, 1.5, -149), 0x1p-148); /* tie 1|2 units -> 2 */
    EXPECT_BITS(r1(RC_DTYPE_F32, 2.5, -149), 0x1p-148); /* tie 2|3 units -> 2 */
    EXPECT_BITS(r1(RC_DTYPE_F32, 3.5, -149), 0x1p-147); /* tie 3|4 units -> 4 */
    EXPECT_BITS(r1(RC_DTYPE_F32, 1, -150), 0.0);         /* half the smallest: to 0 */
    EXPECT_BITS(r1(RC_DTYPE_F32, -1, -150), -0.0);
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, -150, 1, -400), 0x1p-149);
    EXPECT_BITS(r1(RC_DTYPE_F32, 1, -151), 0.0);
    EXPECT_BITS(r1(RC_DTYPE_F32, 1, -2000), 0.0);
    EXPECT_BITS(r1(RC_DTYPE_F32, -1, -100000), -0.0);
    /* Largest subnormal + half a unit: ties up to the smallest normal. */
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, -126, -1, -150), 0x1p-126);
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, -126, -3, -150), 0x1p-126 - 0x1p-148);
    /* Just below the smallest normal only 23 bits are left: 2^-127 + 2^-150
     * would be exact in 24 bits but is a subnormal tie (units 2^22 | +1). */
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, -127, 1, -150), 0x1p-127);
    EXPECT_BITS(r2(RC_DTYPE_F32, 1, -127, 3, -150), 0x1p-127 + 0x1p-148);

    /* f16: smallest subnormal 2^-24, smallest normal 2^-14. */
    EXPECT_BITS(r1(RC_DTYPE_F16, 1, -24), 0x1p-24);
    EXPECT_BITS(r1(RC_DTYPE_F16, 1, -25), 0.0);
    EXPECT_BITS(r2(RC_DTYPE_F16, 1, -25, 1, -80), 0x1p-24);
    EXPECT_BITS(r1(RC_DTYPE_F16, 1.5, -24), 0x1p-23);
    EXPECT_BITS(r1(RC_DTYPE_F16, 1.25, -24), 0x1p-24);
    EXPECT_BITS(r1(RC_DTYPE_F16, 0.75, -24), 0x1p-24);
    EXPECT_BITS(r1(RC_DTYPE_F16, 1023.5, -24), 0x1p-14); /* tie 1023|1024 units */
    EXPECT_BITS(r1(RC_DTYPE_F16, 1022.5, -24), 1022 * 0x1p-24);

    /* bf16: smallest subnormal 2^-133. */
    EXPECT_BITS(r1(RC_DTYPE_BF16, 1, -133), 0x1p-133);
    EXPECT_BITS(r1(RC_DTYPE_BF16, 1, -134), 0.0);
    EXPECT_BITS(r1(RC_DTYPE_BF16, -1.5, -133), -0x1p-132);
    EXPECT_BITS(r2(RC_DTYPE_BF16, 1, -134, 1, -300), 0x1p-133);

    /* f64: below the double range only MPFR can hold the input. */
    EXPECT_BITS(r1(RC_DTYPE_F64, 1, -1075), 0.0);
    EXPECT_BITS(r2(RC_DTYPE_F64, 1, -1075, 1, -1300), 0x1p-1074);
    EXPECT_BITS(r1(RC_DTYPE_F64, 1.5, -1074), 0x1p-1073);
    EXPECT_BITS(r2(RC_DTYPE_F64, 1, -1022, -1, -1075), 0x1p-1022);
}

Test(ref_round, overflow)
{
    /* f16: max 65504; 65520 is the midpoint to 2^16 and goes to Inf. */
    EXPECT_BITS(r1(RC_DTYPE_F16, 65519.99, 0), 65504.0);
    EXPECT_BITS(r1(RC_DTYPE_F16, 65520.0, 0), INFINITY);
    EXPECT_BITS(r1(RC_DTYPE_F16, -65520.0, 0), -INFINITY);
    EXPECT_BITS(r2(RC_DTYPE_F16, 65520.0, 0, -1, -300), 65504.0);
    EXPECT_BITS(r1(RC_DTYPE_F16, 65504.0 + 8, 0), 65504.0);
    /* bf16: max (2 - 2^-7) 2^127, overflow midpoint (2 - 2^-8) 2^127. */
    EXPECT_BITS(r2(RC_DTYPE_BF16, 2, 127, -1, 119), INFINITY);
    EXPECT_BITS(r3(RC_DTYPE_BF16, 2, 127, -1, 119, -1, -100), ldexp(2 - 0x1p-7, 127));
    /* f32 and f64 the same way (f64's midpoint is not a double). */
    EXPECT_BITS(r2(RC_DTYPE_F32, 2, 127, -1, 103), INFINITY);
    EXPECT_BITS(r3(RC_DTYPE_F32, 2, 127, -1, 103, -1, -100), (double)FLT_MAX);
    EXPECT_BITS(r2(RC_DTYPE_F64, 2, 1023, -1, 970), INFINITY);
    EXPECT_BITS(r3(RC_DTYPE_F64, 2, 1023, -1, 970, -1, 0), DBL_MAX);
    EXPECT_BITS(r1(RC_DTYPE_F64, -1, 5000), -INFINITY);
    EXPECT_BITS(r1(RC_DTYPE_F16, 1, 5000), INFINITY);
}

Test(ref_round, specials_and_signed_zero)
{
    mpfr_t x;
    mpfr_init2(x, 64);
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        mpfr_set_zero(x, -1);
        EXPECT_BITS(rc_ref_round_to_dtype(x, (rc_dtype)t), -0.0);
        mpfr_set_zero(x, 1);
        EXPECT_BITS(rc_ref_round_to_dtype(x, (rc_dtype)t), 0.0);
        mpfr_set_inf(x, -1);
        EXPECT_BITS(rc_ref_round_to_dtype(x, (rc_dtype)t), -INFINITY);
        mpfr_set_nan(x);
        cr_expect(isnan(rc_ref_round_to_dtype(x, (rc_dtype)t)));
    }
    mpfr_set_d(x, 1.0, MPFR_RNDN);
    cr_expect(isnan(rc_ref_round_to_dtype(x, RC_DTYPE_COUNT)), "invalid dtype gives NaN");
    mpfr_clear(x);
}

/* A random double whose exponent covers every dtype's subnormal, normal
 * and overflow ranges (uniform bit patterns would almost never land in
 * f16's range). */
static double random_double(rc_rng *g, int lo_exp, int hi_exp)
{
    uint64_t r = rc_rng_next(g);
    int e = lo_exp + (int)rc_rng_below(g, (uint64_t)(hi_exp - lo_exp + 1));
    double m = 1.0 + (double)(r >> 12) * 0x1p-52; /* 52 random fraction bits */
    double x = ldexp(m, e);
    return (r & 1) ? -x : x;
}

/* Two independent RNE implementations of a double must agree bit for bit:
 * random doubles, then exact ties and their neighbours in each format. */
Test(ref_round, agrees_with_dtype_convert)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 0x726f756e64ull, 0);
    mpfr_t x;
    mpfr_init2(x, 53);
    long checked = 0;
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        const rc_format *f = rc_dtype_format((rc_dtype)t);
        int lo = f->emin - f->precision - 3, hi = f->emax + 2;
        if (lo < -1074)
            lo = -1074;
        if (hi > 1023)
            hi = 1023;
        for (int k = 0; k < 200000; k++) {
            double v = random_double(&g, lo, hi);
            if (k % 4 == 1) {
                /* An exact tie: a representable value plus half its ulp. */
                double y = rc_round_to_dtype((rc_dtype)t, v);
                int e;
                frexp(y, &e);
                int qe = e - f->precision;
                if (qe < f->emin - f->precision + 1)
                    qe = f->emin - f->precision + 1;
                v = y + copysign(ldexp(1.0, qe - 1), y);
                if (k % 8 == 5)
                    v = nextafter(v, (k % 16 == 5) ? INFINITY : -INFINITY);
            }
            if (isinf(v))
                continue;
            mpfr_set_d(x, v, MPFR_RNDN);
            double a = rc_ref_round_to_dtype(x, (rc_dtype)t);
            double b = rc_round_to_dtype((rc_dtype)t, v);
            cr_assert(bits_of(a) == bits_of(b), "%s(%a): mpfr %a vs dtype_convert %a",
                      rc_dtype_name((rc_dtype)t), v, a, b);
            checked++;
        }
    }
    /* Every finite f16 and bf16 value and the midpoints between neighbours. */
    for (uint32_t bits = 0; bits < 0x10000; bits++) {
        double h = rc_f16_to_double((uint16_t)bits), b = rc_bf16_to_double((uint16_t)bits);
        double hn = rc_f16_to_double((uint16_t)(bits + 1));
        double bn = rc_bf16_to_double((uint16_t)(bits + 1));
        double vals[4] = {h, b, (isfinite(hn) && isfinite(h)) ? (h + hn) / 2 : h,
                          (isfinite(bn) && isfinite(b)) ? (b + bn) / 2 : b};
        rc_dtype ts[4] = {RC_DTYPE_F16, RC_DTYPE_BF16, RC_DTYPE_F16, RC_DTYPE_BF16};
        for (int k = 0; k < 4; k++) {
            if (isnan(vals[k]))
                continue;
            mpfr_set_d(x, vals[k], MPFR_RNDN);
            double a = rc_ref_round_to_dtype(x, ts[k]);
            double c = rc_round_to_dtype(ts[k], vals[k]);
            cr_assert(bits_of(a) == bits_of(c), "%s(%a): mpfr %a vs dtype_convert %a",
                      rc_dtype_name(ts[k]), vals[k], a, c);
            checked++;
        }
    }
    cr_log_info("%ld values agreed", checked);
    mpfr_clear(x);
}

/* The Ziv certainty test: an enclosure containing a tie is never certain,
 * one strictly between ties is, and the answer is the rounding. */
Test(ref_round, round_certain)
{
    mpfr_t b;
    mpfr_init2(b, 256);
    double got = 0;

    /* b = 1 + 2^-24 is the f32 tie itself: with any error it is undecided. */
    mpfr_set_ui(b, 1, MPFR_RNDN);
    mpfr_add_d(b, b, 0x1p-24, MPFR_RNDN);
    cr_expect(!rc_ref_round_certain(b, 200, RC_DTYPE_F32, &got));
    /* b = 1 + 2^-24 + 2^-60 with error 2^(1-200): above the tie, certain. */
    mpfr_add_d(b, b, 0x1p-60, MPFR_RNDN);
    cr_expect(rc_ref_round_certain(b, 200, RC_DTYPE_F32, &got));
    EXPECT_BITS(got, 1.0 + 0x1p-23);
    /* ... but an error of 2^(1-50) reaches the tie: undecided. */
    cr_expect(!rc_ref_round_certain(b, 50, RC_DTYPE_F32, &got));
    /* f64 in the same place is certain (far from f64 ties), RN53 = 1+2^-24. */
    cr_expect(rc_ref_round_certain(b, 200, RC_DTYPE_F64, &got));
    EXPECT_BITS(got, 1.0 + 0x1p-24);

    /* Overflow: just above f16's midpoint 65520 is certainly Inf; an
     * enclosure across it is not certain. */
    mpfr_set_d(b, 65520.0, MPFR_RNDN);
    mpfr_add_d(b, b, 0x1p-30, MPFR_RNDN);
    cr_expect(rc_ref_round_certain(b, 100, RC_DTYPE_F16, &got));
    EXPECT_BITS(got, INFINITY);
    cr_expect(!rc_ref_round_certain(b, 40, RC_DTYPE_F16, &got));

    /* Subnormal tie in bf16 (1.5 * 2^-133): undecided at it, certain just
     * below (rounds to 1 unit). */
    mpfr_set_d(b, 0x1.8p-133, MPFR_RNDN);
    cr_expect(!rc_ref_round_certain(b, 100, RC_DTYPE_BF16, &got));
    mpfr_sub_d(b, b, 0x1p-180, MPFR_RNDN);
    cr_expect(rc_ref_round_certain(b, 100, RC_DTYPE_BF16, &got));
    EXPECT_BITS(got, 0x1p-133);

    /* An enclosure that contains zero: the sign is unknown, never certain,
     * even though both ends round to a zero. */
    mpfr_set_d(b, 0x1p-300, MPFR_RNDN);
    cr_expect(!rc_ref_round_certain(b, 0, RC_DTYPE_F32, &got));
    cr_expect(rc_ref_round_certain(b, 2, RC_DTYPE_F32, &got));
    EXPECT_BITS(got, 0.0);
    mpfr_neg(b, b, MPFR_RNDN);
    cr_expect(rc_ref_round_certain(b, 2, RC_DTYPE_F32, &got));
    EXPECT_BITS(got, -0.0);

    /* Several dtypes over one enclosure: 1 + 2^-24 + 2^-60 is far from any
     * f16 tie (odd multiples of 2^-11 near 1), so all three are certain;
     * the f32 tie itself makes the joint answer uncertain. */
    mpfr_set_d(b, 1.0 + 0x1p-24, MPFR_RNDN);
    mpfr_add_d(b, b, 0x1p-60, MPFR_RNDN);
    rc_dtype ts[3] = {RC_DTYPE_F16, RC_DTYPE_F32, RC_DTYPE_F64};
    double outs[3];
    cr_expect(rc_ref_round_certain_n(b, 200, 3, ts, outs));
    EXPECT_BITS(outs[0], 1.0);
    EXPECT_BITS(outs[1], 1.0 + 0x1p-23);
    EXPECT_BITS(outs[2], 1.0 + 0x1p-24);
    mpfr_set_d(b, 1.0 + 0x1p-24, MPFR_RNDN); /* exactly the f32 tie */
    cr_expect(!rc_ref_round_certain_n(b, 200, 3, ts, outs));
    mpfr_clear(b);
}
