/*
 * tests/test_dtype_convert.c - exact loads and once-rounded stores of
 * f16/bf16 (core/dtype_convert.c). Exhaustive where the type is small,
 * property-based (nearest, ties to even) for random doubles.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_dtype_convert", 20261123u);
}

Test(dtype_convert, f16_known_encodings)
{
    cr_expect_eq(rc_double_to_f16(1.0), 0x3C00);
    cr_expect_eq(rc_double_to_f16(-2.0), 0xC000);
    cr_expect_eq(rc_double_to_f16(65504.0), 0x7BFF);
    cr_expect_eq(rc_double_to_f16(ldexp(1, -14)), 0x0400);  /* smallest normal */
    cr_expect_eq(rc_double_to_f16(ldexp(1, -24)), 0x0001);  /* smallest subnormal */
    cr_expect_eq(rc_double_to_f16(-0.0), 0x8000);
    cr_expect_eq(rc_double_to_f16(INFINITY), 0x7C00);
    cr_expect_eq(rc_double_to_f16(-INFINITY), 0xFC00);
    uint16_t n = rc_double_to_f16(NAN);
    cr_expect((n & 0x7C00) == 0x7C00 && (n & 0x03FF) != 0, "NaN stays NaN: 0x%04x", n);
}

Test(dtype_convert, f16_ties_and_overflow)
{
    /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even -> 1. */
    cr_expect_eq(rc_double_to_f16(1.0 + ldexp(1, -11)), 0x3C00);
    /* 1 + 3*2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even). */
    cr_expect_eq(rc_double_to_f16(1.0 + 3 * ldexp(1, -11)), 0x3C02);
    /* Just above the tie rounds up. */
    cr_expect_eq(rc_double_to_f16(1.0 + ldexp(1, -11) + ldexp(1, -40)), 0x3C01);
    /* Overflow threshold: 65520 = midpoint of 65504 and 2^16 -> Inf. */
    cr_expect_eq(rc_double_to_f16(65520.0), 0x7C00);
    cr_expect_eq(rc_double_to_f16(nextafter(65520.0, 0)), 0x7BFF);
    cr_expect_eq(rc_double_to_f16(-65520.0), 0xFC00);
    /* Half the smallest subnormal is a tie between 0 and 2^-24: to 0. */
    cr_expect_eq(rc_double_to_f16(ldexp(1, -25)), 0x0000);
    cr_expect_eq(rc_double_to_f16(ldexp(1.5, -25)), 0x0001);
    /* 1.5 * 2^-24 is a tie between 1 and 2 units: to 2 (even). */
    cr_expect_eq(rc_double_to_f16(ldexp(1.5, -24)), 0x0002);
    /* Rounding up out of the subnormal range lands on the smallest normal. */
    cr_expect_eq(rc_double_to_f16(ldexp(1, -14) - ldexp(1, -26)), 0x0400);
}

Test(dtype_convert, bf16_known_encodings)
{
    cr_expect_eq(rc_double_to_bf16(1.0), 0x3F80);
    cr_expect_eq(rc_double_to_bf16(ldexp(1, -133)), 0x0001);
    cr_expect_eq(rc_double_to_bf16(ldexp(1, -134)), 0x0000);     /* tie to even (0) */
    cr_expect_eq(rc_double_to_bf16(1.0 + ldexp(1, -8)), 0x3F80); /* tie to even */
    cr_expect_eq(rc_double_to_bf16(1.0 + 3 * ldexp(1, -8)), 0x3F82);
    /* Largest finite bf16 is (2 - 2^-7) * 2^127; the midpoint to 2^128 is Inf. */
    cr_expect_eq(rc_double_to_bf16(ldexp(2.0 - ldexp(1, -7), 127)), 0x7F7F);
    cr_expect_eq(rc_double_to_bf16(ldexp(2.0 - ldexp(1, -8), 127)), 0x7F80);
}

/* Every non-NaN bit pattern decodes to a double that encodes back to it. */
static void exhaustive_round_trip(double (*dec)(uint16_t), uint16_t (*enc)(double), const char *n)
{
    for (uint32_t b = 0; b <= 0xFFFF; b++) {
        double v = dec((uint16_t)b);
        if (isnan(v))
            continue;
        uint16_t back = enc(v);
        cr_assert_eq(back, b, "%s 0x%04x -> %a -> 0x%04x", n, b, v, back);
    }
}

Test(dtype_convert, f16_exhaustive_round_trip)
{
    exhaustive_round_trip(rc_f16_to_double, rc_double_to_f16, "f16");
}

Test(dtype_convert, bf16_exhaustive_round_trip)
{
    exhaustive_round_trip(rc_bf16_to_double, rc_double_to_bf16, "bf16");
}

/* bf16 from an f32 value: the well-known integer rounding of the top half
 * (add 0x7FFF plus the lowest kept bit) is an independent implementation
 * of RNE for non-NaN inputs. */
Test(dtype_convert, bf16_matches_integer_rounding_of_floats)
{
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 1, 0);
    for (int i = 0; i < 200000; i++) {
        uint32_t fb = (uint32_t)rc_rng_next(&r);
        float f;
        memcpy(&f, &fb, sizeof f);
        if (isnan(f))
            continue;
        uint16_t expect = (uint16_t)((fb + 0x7FFFu + ((fb >> 16) & 1u)) >> 16);
        cr_assert_eq(rc_double_to_bf16((double)f), expect, "float bits 0x%08x", fb);
    }
}

/* For random doubles in range, the encoding is a nearest neighbour, and on
 * a tie the even one: checked against both adjacent representable values,
 * so the property does not depend on how the encoder works. */
static void check_nearest(double (*dec)(uint16_t), uint16_t (*enc)(double), double max_finite,
                          int emin_draw, int emax_draw, uint64_t stream)
{
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), stream, 0);
    for (int i = 0; i < 200000; i++) {
        int e = emin_draw + (int)rc_rng_below(&r, (uint64_t)(emax_draw - emin_draw + 1));
        double x = ldexp(1.0 + rc_rng_uniform(&r), e);
        if (x >= max_finite)
            continue;
        uint16_t b = enc(x);
        double v = dec(b);
        double lo = v <= x ? v : dec((uint16_t)(b - 1));
        double hi = v <= x ? dec((uint16_t)(b + 1)) : v;
        cr_assert(lo <= x && x <= hi, "bracket %a <= %a <= %a", lo, x, hi);
        double dv = fabs(v - x), dother = fabs((v == lo ? hi : lo) - x);
        cr_assert(dv <= dother, "x=%a encoded to %a, other neighbour nearer", x, v);
        if (dv == dother)
            cr_assert((b & 1u) == 0, "tie at %a must go to the even encoding", x);
    }
}

Test(dtype_convert, f16_nearest_property)
{
    check_nearest(rc_f16_to_double, rc_double_to_f16, 65504.0, -26, 15, 2);
}

Test(dtype_convert, bf16_nearest_property)
{
    check_nearest(rc_bf16_to_double, rc_double_to_bf16, ldexp(2.0 - ldexp(1, -7), 127), -135,
                  126, 3);
}

Test(dtype_convert, elem_store_load_all_dtypes)
{
    unsigned char buf[64];
    const double x = 1.0 / 3.0;
    for (int t = 0; t < RC_DTYPE_COUNT; t++) {
        rc_elem_store((rc_dtype)t, buf, 3, x);
        double back = rc_elem_load((rc_dtype)t, buf, 3);
        cr_expect_eq(back, rc_round_to_dtype((rc_dtype)t, x), "%s", rc_dtype_name((rc_dtype)t));
        /* A correctly rounded 1/3 is within half an ulp: 2^-(p+1) relative
         * to the binade [1/4, 1/2) of 1/3, i.e. 2^(-2-p). */
        const rc_format *f = rc_dtype_format((rc_dtype)t);
        cr_expect_leq(fabs(back - x), ldexp(1.0, -2 - f->precision), "%s",
                      rc_dtype_name((rc_dtype)t));
    }
}
