/*
 * tests/test_narrow.c - the AVX-512 kernels' narrowing store (double to
 * f32, f16, bf16, one rounding to nearest even) against core's scalar
 * store, bit for bit.
 *
 * The store rounds double to f32 to odd, then to the narrow type to
 * nearest (impls/avx512/avx512.c, store8), or straight to f32.
 * Whole-kernel tests (tests/test_simd.c) see random products, which almost
 * never fall on a rounding tie: a store that rounded ties away from zero
 * or toward it would pass them (one in integer arithmetic that did so was
 * tried here, and passed test_simd). So this test feeds the store every
 * value a tie-breaking rule can decide: for every f16 and every bf16
 * number (all 65536 bit patterns each) the number itself, the midpoint to its
 * successor (ties both odd-to-even and even-to-odd), and the doubles one
 * ulp either side of that midpoint; the same around seeded random f32
 * numbers; and the range edges (smallest normal and its predecessor, the
 * largest finite and the overflow midpoint, zeros, Inf, NaN with
 * payloads). Lanes are mixed in vectors of eight, in a seeded order.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "impls/avx512/avx512.h"

static void require_avx512(void)
{
    char why[160] = "";
    if (!rc_impl_avx512.available(why, sizeof why)) {
        const double zeros[8] = {0};
        uint16_t out[8];
        cr_assert_eq(rc_avx512_store8(RC_DTYPE_F16, 0, zeros, out), RC_ERR_UNSUPPORTED,
                     "the store must refuse where AVX-512 is unavailable");
        cr_skip_test("avx512: %s", why);
    }
}

typedef struct {
    double *v;
    size_t n, cap;
} values;

static void push(values *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        cr_assert(s->v);
    }
    s->v[s->n++] = x;
}

/* x, and around the midpoint between x and its successor y (both finite). */
static void push_around(values *s, double x, double y)
{
    const double mid = x + (y - x) / 2; /* exact: both have <= 24 bits */
    push(s, x);
    push(s, mid);
    push(s, nextafter(mid, INFINITY));
    push(s, nextafter(mid, -INFINITY));
    push(s, -mid);
}

/* Every number of a 16-bit format with its successor's midpoint. */
static void push_all16(values *s, rc_dtype t, double (*to_double)(uint16_t))
{
    (void)t;
    for (uint32_t b = 0; b < 0x7FFF; b++) {
        const double x = to_double((uint16_t)b), y = to_double((uint16_t)(b + 1));
        if (isfinite(x) && isfinite(y))
            push_around(s, x, y);
        else if (isfinite(x))
            push(s, x); /* the largest finite: its overflow midpoint below */
    }
}

static void push_edges(values *s, rc_dtype t)
{
    const double max = t == RC_DTYPE_F16 ? 65504.0 : t == RC_DTYPE_BF16 ? 0x1.fep127 : FLT_MAX;
    const double ulp_max = t == RC_DTYPE_F16 ? 32.0 : t == RC_DTYPE_BF16 ? 0x1p120 : 0x1p104;
    const double min_normal =
        t == RC_DTYPE_F16 ? 0x1p-14 : t == RC_DTYPE_BF16 ? 0x1p-126 : FLT_MIN;
    const double edges[] = {0.0,
                            -0.0,
                            INFINITY,
                            -INFINITY,
                            NAN,
                            -NAN,
                            DBL_MAX,
                            -DBL_MAX,
                            0x1p-1074,
                            DBL_MIN,
                            max,
                            max + ulp_max / 2, /* the overflow tie: RN gives Inf */
                            nextafter(max + ulp_max / 2, 0),
                            max + ulp_max,
                            2 * max,
                            min_normal,
                            nextafter(min_normal, 0),
                            min_normal * (1 - 0x1p-12),
                            min_normal / 2,
                            1.0,
                            -1.0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        push(s, edges[i]);
        push(s, -edges[i]);
    }
    /* NaNs with payloads, quiet and signalling patterns of a double. */
    const uint64_t nans[] = {0x7FF0000000000001ull, 0x7FF8000000000001ull, 0xFFF4000000000000ull,
                             0x7FFFFFFFFFFFFFFFull};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        double x;
        memcpy(&x, &nans[i], sizeof x);
        push(s, x);
    }
}

static void check_type(rc_dtype t, int bf16_instruction, const char *name)
{
    require_avx512();
    const uint64_t seed = rc_test_seed(name, 20261204u);
    rc_rng g;
    rc_rng_seed3(&g, seed, (uint64_t)t, 7);
    values s = {0};
    if (t == RC_DTYPE_F16)
        push_all16(&s, t, rc_f16_to_double);
    else if (t == RC_DTYPE_BF16)
        push_all16(&s, t, rc_bf16_to_double);
    for (int i = 0; i < 200000; i++) { /* random f32 numbers and their midpoints */
        float f;
        uint32_t b = (uint32_t)rc_rng_next(&g) & 0x7F7FFFFFu;
        memcpy(&f, &b, sizeof f);
        push_around(&s, (double)f, (double)nextafterf(f, INFINITY));
    }
    push_edges(&s, t);
    while (s.n % 8)
        push(&s, 1.0);
    /* A seeded shuffle: a vector mixes fast-path and fallback lanes. */
    for (size_t i = s.n - 1; i > 0; i--) {
        const size_t j = (size_t)(rc_rng_next(&g) % (i + 1));
        const double x = s.v[i];
        s.v[i] = s.v[j];
        s.v[j] = x;
    }
    const size_t es = rc_dtype_size(t);
    unsigned char got[8 * 4], want[8 * 4];
    size_t mismatches = 0;
    for (size_t i = 0; i < s.n; i += 8) {
        cr_assert_eq(rc_avx512_store8(t, bf16_instruction, s.v + i, got), RC_OK);
        for (int k = 0; k < 8; k++)
            rc_elem_store(t, want, k, s.v[i + k]);
        for (int k = 0; k < 8; k++)
            if (memcmp(got + k * es, want + k * es, es) != 0 && mismatches++ < 5)
                cr_expect_fail("%s: %a rounds to 0x%llx, scalar 0x%llx", name, s.v[i + k],
                               (unsigned long long)rc_elem_bits(t, got, k),
                               (unsigned long long)rc_elem_bits(t, want, k));
    }
    cr_expect_eq(mismatches, 0, "%s: %zu of %zu values differ from scalar's rounding", name,
                 mismatches, s.n);
    free(s.v);
}

Test(narrow_avx512, f16_every_tie) { check_type(RC_DTYPE_F16, 0, "test_narrow f16"); }
Test(narrow_avx512, bf16_every_tie) { check_type(RC_DTYPE_BF16, 0, "test_narrow bf16"); }
Test(narrow_avx512, f32_random_ties) { check_type(RC_DTYPE_F32, 0, "test_narrow f32"); }

/* The kernels store bf16 through AVX512-BF16's instruction where the CPU
 * has it: the same values through that path. */
Test(narrow_avx512, bf16_instruction_every_tie)
{
    require_avx512();
    const double zeros[8] = {0};
    uint16_t out[8];
    if (rc_avx512_store8(RC_DTYPE_BF16, 1, zeros, out) == RC_ERR_UNSUPPORTED)
        cr_skip_test("avx512: CPU lacks avx512bf16 (the kernels store bf16 without it)");
    check_type(RC_DTYPE_BF16, 1, "test_narrow bf16 (avx512bf16)");
}

Test(narrow_avx512, refuses_bad_arguments)
{
    require_avx512();
    double in[8] = {0};
    double out[8];
    cr_expect_eq(rc_avx512_store8(RC_DTYPE_F64, 0, in, out), RC_ERR_UNSUPPORTED);
    cr_expect_eq(rc_avx512_store8((rc_dtype)9, 0, in, out), RC_ERR_UNSUPPORTED);
    cr_expect_eq(rc_avx512_store8(RC_DTYPE_F16, 0, NULL, out), RC_ERR_UNSUPPORTED);
    cr_expect_eq(rc_avx512_store8(RC_DTYPE_F16, 1, in, out), RC_ERR_UNSUPPORTED);
}
