/*
 * tests/test_metrics.c - the ULP metrics (reference/metrics.c): ulp_T at
 * binade edges and the subnormal floor, the error in ulps on cases whose
 * answer is exact, and the accumulator's exact nearest-rank quantiles,
 * first-worst location, NaN handling and gate count.
 *
 * Every expected value here is exact (powers of two, small integers and
 * their halves), so the comparisons are equalities, not tolerances.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_seed.h"
#include "core/rng.h"
#include "reference/metrics.h"

static rc_dd dd(double hi, double lo)
{
    rc_dd x = {hi, lo};
    return x;
}

static uint64_t test_seed(void)
{
    return rc_test_seed("test_metrics", 20261123u);
}

Test(metrics, ulp_of_binade_edges)
{
    /* [1, 2): ulp 2^(1-p). */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(1.0, 0)), ldexp(1, -23));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(nextafter(2.0, 0), 0)), ldexp(1, -23));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(2.0, 0)), ldexp(1, -22));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(-2.0, 0)), ldexp(1, -22));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F64, dd(1.0, 0)), ldexp(1, -52));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(1.0, 0)), ldexp(1, -10));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_BF16, dd(1.0, 0)), ldexp(1, -7));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(65504.0, 0)), 32.0);
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(0.75, 0)), ldexp(1, -24));
    /* Beyond the type's range the binade formula simply continues. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(65536.0, 0)), 64.0);
}

Test(metrics, ulp_of_power_of_two_with_negative_lo)
{
    /* hi = 1 with lo < 0: the exact value is just below 1, binade [1/2, 1). */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(1.0, -ldexp(1, -60))), ldexp(1, -24));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F64, dd(1.0, -ldexp(1, -60))), ldexp(1, -53));
    /* Same for negative values: hi = -4, lo > 0 means |x| < 4. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(-4.0, ldexp(1, -70))), ldexp(1, -22));
    /* lo of the same sign keeps the binade. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(1.0, ldexp(1, -60))), ldexp(1, -23));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(-4.0, -ldexp(1, -70))), ldexp(1, -21));
    /* Not normalized: hi = 1, lo = 1.5 is 2.5, binade [2, 4). */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(1.0, 1.5)), ldexp(1, -22));
    /* A tie that rounds the sum up to the power of two (1 - 2^-54 -> 1). */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F64, dd(1.0, -ldexp(1, -54))), ldexp(1, -53));
}

Test(metrics, ulp_of_subnormal_floor_and_zero)
{
    /* Floors: 2^(emin - p + 1). */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(0.0, 0)), ldexp(1, -149));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F64, dd(0.0, 0)), ldexp(1, -1074));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(0.0, 0)), ldexp(1, -24));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_BF16, dd(-0.0, 0)), ldexp(1, -133));
    /* Subnormals and values below them share the floor. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(ldexp(1, -20), 0)), ldexp(1, -24));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(ldexp(1, -140), 0)), ldexp(1, -149));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F32, dd(ldexp(1, -300), 0)), ldexp(1, -149));
    /* The smallest normal has the same ulp as the floor. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(ldexp(1, -14), 0)), ldexp(1, -24));
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F16, dd(ldexp(1, -13), 0)), ldexp(1, -23));
    /* hi = 0 with lo != 0 takes lo's binade. */
    cr_expect_eq(rc_ulp_of(RC_DTYPE_F64, dd(0.0, 1.0)), ldexp(1, -52));
}

Test(metrics, ulp_error_exact_cases)
{
    const rc_dd one = dd(1.0, 0);
    /* Correct value: 0. */
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0, one, one), 0.0);
    /* Exact value halfway between two floats, got either neighbour: 0.5. */
    rc_dd half_way = dd(1.0 + ldexp(1, -24), 0);
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0, half_way, half_way), 0.5);
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0 + ldexp(1, -23), half_way, half_way), 0.5);
    /* The half lives in lo: exact = 1 + 2^-53 + 2^-106 would not be a
     * double; hi + lo = 1 + 2^-53 exactly for f64 is a tie: 0.5. */
    rc_dd f64_tie = dd(1.0, ldexp(1, -53));
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F64, 1.0, f64_tie, f64_tie), 0.5);
    /* Two f32 ulps off. */
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0 + ldexp(1, -22), one, one), 2.0);
    /* Pair scale: error 2^-23 against a norm of 4 (ulp 2^-21) is 1/4. */
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0 + ldexp(1, -23), one, dd(4.0, 0)), 0.25);
    /* Component scale just below a power of two: exact 1 - 2^-30, ulp
     * 2^-24 (binade [1/2, 1)); got 1 is 2^-30 away: 2^-6. */
    rc_dd below_one = dd(1.0, -ldexp(1, -30));
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F32, 1.0, below_one, below_one), ldexp(1, -6));
    /* Subnormal floor: f16 exact 0, got the smallest subnormal: 1. */
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F16, ldexp(1, -24), dd(0, 0), dd(0, 0)), 1.0);
    /* Non-finite got: +Inf. */
    cr_expect(isinf(rc_ulp_error(RC_DTYPE_F32, INFINITY, one, one)));
    cr_expect(isinf(rc_ulp_error(RC_DTYPE_F32, NAN, one, one)));
    /* Opposite extremes do not overflow into Inf: |DBL_MAX - -DBL_MAX| /
     * ulp(DBL_MAX) = 2 * (2^53 - 1). */
    double big = 0x1.fffffffffffffp+1023;
    cr_expect_eq(rc_ulp_error(RC_DTYPE_F64, big, dd(-big, 0), dd(big, 0)),
                 2.0 * (ldexp(1, 53) - 1));
}

static rc_elem_loc loc_at(int64_t token)
{
    rc_elem_loc l = {0};
    l.token = token;
    l.position = 1000 + token;
    return l;
}

Test(metrics, quantiles_known_sequence)
{
    /* 1..1000 shuffled: nearest rank ceil(p*n) gives 500, 990, 999. */
    const int n = 1000;
    double *v = malloc(n * sizeof *v);
    cr_assert(v);
    for (int i = 0; i < n; i++)
        v[i] = i + 1;
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 11, 0);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rc_rng_below(&r, (uint64_t)i + 1);
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    rc_error_acc *acc = rc_error_acc_create(4); /* also exercises growth */
    cr_assert(acc);
    for (int i = 0; i < n; i++)
        cr_assert_eq(rc_error_acc_add(acc, v[i], NULL), 0);
    rc_error_summary s;
    rc_error_acc_summarize(acc, 900.0, &s);
    cr_expect_eq(s.count, n);
    cr_expect_eq(s.max, 1000.0);
    cr_expect_eq(s.p50, 500.0);
    cr_expect_eq(s.p99, 990.0);
    cr_expect_eq(s.p999, 999.0);
    cr_expect_eq(s.over_gate, 100); /* 901..1000 */
    cr_expect_eq(s.gate, 900.0);
    cr_expect_eq(s.has_worst, 0, "no location was given");
    /* Summarizing again (after the partial reordering) gives the same. */
    rc_error_acc_summarize(acc, 900.0, &s);
    cr_expect_eq(s.p50, 500.0);
    cr_expect_eq(s.p99, 990.0);
    cr_expect_eq(s.p999, 999.0);
    rc_error_acc_destroy(acc);
    free(v);
}

Test(metrics, quantiles_small_and_repeated)
{
    /* n = 3: ranks ceil(1.5) = 2, ceil(2.97) = 3, ceil(2.997) = 3. */
    rc_error_acc *acc = rc_error_acc_create(0);
    cr_assert(acc);
    rc_error_acc_add(acc, 3.0, NULL);
    rc_error_acc_add(acc, 1.0, NULL);
    rc_error_acc_add(acc, 2.0, NULL);
    rc_error_summary s;
    rc_error_acc_summarize(acc, INFINITY, &s);
    cr_expect_eq(s.p50, 2.0);
    cr_expect_eq(s.p99, 3.0);
    cr_expect_eq(s.p999, 3.0);
    cr_expect_eq(s.over_gate, 0);
    rc_error_acc_destroy(acc);

    /* 100000 values, all 0.5 but ten 0.25 and one 7: long runs of equal
     * keys (the common case: correctly rounded results all score <= 0.5). */
    acc = rc_error_acc_create(100000);
    cr_assert(acc);
    for (int i = 0; i < 100000; i++) {
        double x = (i % 10000 == 3) ? 0.25 : 0.5;
        if (i == 77777)
            x = 7.0;
        rc_error_acc_add(acc, x, NULL);
    }
    rc_error_acc_summarize(acc, 0.5, &s);
    cr_expect_eq(s.p50, 0.5);
    cr_expect_eq(s.p999, 0.5);
    cr_expect_eq(s.max, 7.0);
    cr_expect_eq(s.over_gate, 1);
    rc_error_acc_destroy(acc);

    /* Empty: count 0, zeros, no worst case. */
    acc = rc_error_acc_create(0);
    cr_assert(acc);
    rc_error_acc_summarize(acc, 1.0, &s);
    cr_expect_eq(s.count, 0);
    cr_expect_eq(s.max, 0.0);
    cr_expect_eq(s.has_worst, 0);
    rc_error_acc_destroy(acc);
}

Test(metrics, worst_location_is_first_maximum)
{
    rc_error_acc *acc = rc_error_acc_create(8);
    cr_assert(acc);
    const double vals[] = {0.1, 0.4, 0.9, 0.3, 0.9, 0.2};
    for (int i = 0; i < 6; i++) {
        rc_elem_loc l = loc_at(i);
        l.pair_ulp = vals[i];
        rc_error_acc_add(acc, vals[i], &l);
    }
    rc_error_summary s;
    rc_error_acc_summarize(acc, 0.5, &s);
    cr_expect_eq(s.has_worst, 1);
    cr_expect_eq(s.worst.token, 2, "first of the two 0.9 values is token 2, got %lld",
                 (long long)s.worst.token);
    cr_expect_eq(s.worst.position, 1002);
    cr_expect_eq(s.max, 0.9);
    cr_expect_eq(s.over_gate, 2);
    rc_error_acc_destroy(acc);
}

Test(metrics, nan_counts_as_infinity)
{
    rc_error_acc *acc = rc_error_acc_create(4);
    cr_assert(acc);
    rc_elem_loc l1 = loc_at(1), l2 = loc_at(2), l3 = loc_at(3);
    rc_error_acc_add(acc, 0.5, &l1);
    rc_error_acc_add(acc, NAN, &l2);
    rc_error_acc_add(acc, INFINITY, &l3);
    rc_error_summary s;
    rc_error_acc_summarize(acc, 2.0, &s);
    cr_expect(isinf(s.max) && s.max > 0);
    cr_expect_eq(s.worst.token, 2, "the NaN (first +Inf) is the worst case");
    cr_expect_eq(s.over_gate, 2);
    cr_expect(isinf(s.p50), "nearest rank 2 of {0.5, Inf, Inf} is Inf");
    rc_error_acc_destroy(acc);
}

Test(metrics, gate_counts_strictly_greater)
{
    rc_error_acc *acc = rc_error_acc_create(4);
    cr_assert(acc);
    const double vals[] = {1.0, 1.0, nextafter(1.0, 2.0), 0.0};
    for (int i = 0; i < 4; i++)
        rc_error_acc_add(acc, vals[i], NULL);
    rc_error_summary s;
    rc_error_acc_summarize(acc, 1.0, &s);
    cr_expect_eq(s.over_gate, 1, "values equal to the gate pass");
    rc_error_acc_summarize(acc, NAN, &s);
    cr_expect_eq(s.over_gate, 0, "a NaN gate means none");
    cr_expect(isinf(s.gate));
    rc_error_acc_destroy(acc);
}

Test(metrics, quantiles_match_sort_on_random_data)
{
    /* Selection against a full sort, on data with many ties. */
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 12, 0);
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 1 + rc_rng_below(&r, 3000);
        double *v = malloc(n * sizeof *v);
        cr_assert(v);
        rc_error_acc *acc = rc_error_acc_create(n);
        cr_assert(acc);
        for (size_t i = 0; i < n; i++) {
            v[i] = (double)rc_rng_below(&r, trial % 2 ? 5 : 100000) / 8.0;
            rc_error_acc_add(acc, v[i], NULL);
        }
        /* Insertion sort: obviously right, n is small. */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
                double t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        rc_error_summary s;
        rc_error_acc_summarize(acc, 1.0, &s);
        size_t k50 = (size_t)ceil(0.5 * (double)n) - 1;
        size_t k99 = (size_t)ceil(0.99 * (double)n) - 1;
        size_t k999 = (size_t)ceil(0.999 * (double)n) - 1;
        cr_expect_eq(s.p50, v[k50], "n=%zu p50", n);
        cr_expect_eq(s.p99, v[k99], "n=%zu p99", n);
        cr_expect_eq(s.p999, v[k999], "n=%zu p999", n);
        cr_expect_eq(s.max, v[n - 1]);
        rc_error_acc_destroy(acc);
        free(v);
    }
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(metrics, quantiles_match_sort_on_large_data)
{
    /* Past 2^18 values the summary selects by a radix count over the top
     * 16 bits and then inside the bins; checked against qsort on spread
     * data (ranks in different bins), narrow data (all ranks in one or
     * two bins), data with +Inf, and heavy repeats (the in-place path). */
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 13, 0);
    for (int kind = 0; kind < 4; kind++) {
        const size_t n = 300000 + rc_rng_below(&r, 200000);
        double *v = malloc(n * sizeof *v);
        cr_assert(v);
        rc_error_acc *acc = rc_error_acc_create(n);
        cr_assert(acc);
        for (size_t i = 0; i < n; i++) {
            const double u = rc_rng_uniform(&r);
            switch (kind) {
            case 0: v[i] = ldexp(u, -(int)rc_rng_below(&r, 40)); break;      /* spread */
            case 1: v[i] = 0.25 + u * 0x1p-12; break;                        /* narrow */
            case 2: v[i] = rc_rng_below(&r, 500) == 0 ? INFINITY : 8.0 * u; break;
            default: v[i] = rc_rng_below(&r, 4) ? 0.5 : u; break;            /* repeats */
            }
            cr_assert_eq(rc_error_acc_add(acc, v[i], NULL), 0);
        }
        qsort(v, n, sizeof *v, cmp_double);
        rc_error_summary s;
        rc_error_acc_summarize(acc, 1.0, &s);
        const size_t k50 = (size_t)ceil(0.5 * (double)n) - 1;
        const size_t k99 = (size_t)ceil(0.99 * (double)n) - 1;
        const size_t k999 = (size_t)ceil(0.999 * (double)n) - 1;
        cr_expect_eq(s.p50, v[k50], "kind %d n=%zu p50 %a want %a", kind, n, s.p50, v[k50]);
        cr_expect_eq(s.p99, v[k99], "kind %d n=%zu p99 %a want %a", kind, n, s.p99, v[k99]);
        cr_expect_eq(s.p999, v[k999], "kind %d n=%zu p999 %a want %a", kind, n, s.p999, v[k999]);
        cr_expect_eq(s.max, v[n - 1]);
        rc_error_acc_destroy(acc);
        free(v);
    }
}

/* ---- an implementation's own frequency table (reference/table_error.h) ---- */

#include "reference/scaling.h"
#include "reference/table_error.h"

/* The exact table rounded to f32 is within half an f32 ulp of it (and
 * above a quarter somewhere, for 64 random-looking entries); the next f32
 * up is between half and one and a half ulp off; the double table is off
 * by at most 2^-53 relative; a zero entry is refused and named. */
Test(table_error, figures_follow_the_rounding)
{
    enum { R = 128, H = R / 2 };
    double hi[H], lo[H], t[H];
    rc_ref_freq_table(10000.0, R, NULL, hi, lo);
    rc_table_error e;
    for (int i = 0; i < H; i++)
        t[i] = (double)(float)hi[i];
    cr_assert_eq(rc_table_error_measure(t, hi, lo, H, &e), 0);
    cr_expect(e.max_f32_ulp <= 0.5 && e.max_f32_ulp > 0.25, "f32 table: %g ulp", e.max_f32_ulp);
    cr_expect(e.max_rel <= 0x1p-24, "relative %g", e.max_rel);
    for (int i = 0; i < H; i++)
        t[i] = (double)nextafterf((float)hi[i], INFINITY);
    cr_assert_eq(rc_table_error_measure(t, hi, lo, H, &e), 0);
    cr_expect(e.max_f32_ulp >= 0.5 && e.max_f32_ulp <= 1.5, "one up: %g ulp", e.max_f32_ulp);
    cr_expect_eq(e.worst_got, t[e.worst]);
    cr_assert_eq(rc_table_error_measure(hi, hi, lo, H, &e), 0);
    cr_expect(e.max_rel <= 0x1p-53, "double table: %g relative", e.max_rel);
    t[7] = 0.0;
    cr_expect_eq(rc_table_error_measure(t, hi, lo, H, &e), -1);
    cr_expect_eq(e.worst, 7);
    cr_expect(isinf(e.max_f32_ulp));
    cr_expect_eq(rc_table_error_measure(t, hi, lo, 0, &e), -1);
}
