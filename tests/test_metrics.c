/*
 * tests/test_metrics.c - the ULP metrics (reference/metrics.c): ulp_T at
 * binade edges and the subnormal floor, the error in ulps on cases whose
 * answer is exact, and the accumulator (a histogram of bins of relative
 * width 2^-bits): its quantiles by their definition in metrics.h, checked
 * against a sort, first-worst location, NaN handling, gate count, exact
 * merges of the pieces of a sequence, and the bins' round trip through
 * rc_error_acc_restore with the refusal of bins no accumulator could hold.
 *
 * Every expected value here is exact (powers of two, small integers and
 * their halves, or the definition applied to the values themselves), so
 * the comparisons are equalities; the only bound is the quantiles' stated
 * 2^-bits, checked besides.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The bin key by its definition (metrics.h), worked out here from the
 * double's bits and not asked of the accumulator: the exponent field and
 * the top `bits` significand bits, -0 read as +0 and NaN as +Inf. */
static uint32_t ref_key(double x, int bits)
{
    if (isnan(x))
        x = INFINITY;
    if (x == 0.0)
        x = 0.0; /* -0 -> +0 */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (uint32_t)(u >> (52 - bits));
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
    const size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* 0-based nearest rank: 1-based ceil(p*n), within 1..n. */
static size_t ref_rank(double p, size_t n)
{
    size_t k = (size_t)ceil(p * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return k - 1;
}

/* Checks a summary's quantile against the definition applied to the sorted
 * values (no NaN): the largest of all values whose key is that of the
 * nearest-rank value v[k]; and so at or above v[k], within a relative
 * 2^-bits of it. */
static void expect_quantile(const char *what, double got, const double *sorted, size_t n,
                            double p, int bits)
{
    const size_t k = ref_rank(p, n);
    const uint32_t key = ref_key(sorted[k], bits);
    double want = sorted[k];
    for (size_t j = 0; j < n; j++)
        if (ref_key(sorted[j], bits) == key && sorted[j] > want)
            want = sorted[j];
    cr_expect_eq(got, want, "%s bits %d n=%zu p%g: %a, want %a (rank value %a)", what, bits, n,
                 p * 100, got, want, sorted[k]);
    cr_expect(got >= sorted[k], "%s bits %d n=%zu p%g: %a below the rank value %a", what, bits, n,
              p * 100, got, sorted[k]);
    if (isfinite(sorted[k]) && sorted[k] > 0.0)
        cr_expect(got <= sorted[k] * (1.0 + ldexp(1, -bits)),
                  "%s bits %d n=%zu p%g: %a more than 2^-%d above the rank value %a", what, bits,
                  n, p * 100, got, bits, sorted[k]);
}

static void expect_same_summary(const rc_error_summary *got, const rc_error_summary *want,
                                const char *what, int trial)
{
    cr_expect_eq(got->count, want->count, "%s %d: count %lld, want %lld", what, trial,
                 (long long)got->count, (long long)want->count);
    cr_expect_eq(got->max, want->max, "%s %d: max %a, want %a", what, trial, got->max, want->max);
    cr_expect_eq(got->p50, want->p50, "%s %d: p50 %a, want %a", what, trial, got->p50, want->p50);
    cr_expect_eq(got->p99, want->p99, "%s %d: p99 %a, want %a", what, trial, got->p99, want->p99);
    cr_expect_eq(got->p999, want->p999, "%s %d: p999 %a, want %a", what, trial, got->p999,
                 want->p999);
    cr_expect_eq(got->gate, want->gate, "%s %d: gate %a, want %a", what, trial, got->gate,
                 want->gate);
    cr_expect_eq(got->over_gate, want->over_gate, "%s %d: over_gate %lld, want %lld", what, trial,
                 (long long)got->over_gate, (long long)want->over_gate);
    cr_expect_eq(got->has_worst, want->has_worst, "%s %d: has_worst %d, want %d", what, trial,
                 got->has_worst, want->has_worst);
    if (got->has_worst && want->has_worst) {
        cr_expect_eq(got->worst.token, want->worst.token, "%s %d: worst token %lld, want %lld",
                     what, trial, (long long)got->worst.token, (long long)want->worst.token);
        cr_expect_eq(got->worst.position, want->worst.position, "%s %d: worst position", what,
                     trial);
    }
}

/* All the bins of an accumulator (malloc'd; at least one element). */
static rc_error_bin *bins_of(const rc_error_acc *acc, size_t *n)
{
    *n = rc_error_acc_bins(acc, NULL, 0);
    rc_error_bin *b = malloc((*n + 1) * sizeof *b);
    cr_assert(b);
    cr_assert_eq(rc_error_acc_bins(acc, b, *n), *n);
    return b;
}

static void expect_same_bins(const rc_error_acc *got, const rc_error_acc *want, const char *what,
                             int trial)
{
    size_t ng, nw;
    rc_error_bin *bg = bins_of(got, &ng), *bw = bins_of(want, &nw);
    cr_expect_eq(ng, nw, "%s %d: %zu bins, want %zu", what, trial, ng, nw);
    for (size_t i = 0; i < ng && i < nw; i++) {
        cr_expect_eq(bg[i].key, bw[i].key, "%s %d: bin %zu key", what, trial, i);
        cr_expect_eq(bg[i].count, bw[i].count, "%s %d: bin %zu count", what, trial, i);
        cr_expect_eq(bg[i].max, bw[i].max, "%s %d: bin %zu max %a, want %a", what, trial, i,
                     bg[i].max, bw[i].max);
    }
    free(bg);
    free(bw);
}

Test(metrics, quantiles_known_sequence)
{
    /* 1..1000 shuffled: nearest ranks ceil(p*n) are 500, 990 and 999, and
     * each figure is the largest integer in that value's bin, of width
     * 2^(e - bits) on [2^e, 2^(e+1)). At 12 bits every integer up to 1000
     * has a bin of its own. At 8 (the case statistics) 500 still does, but
     * [512, 1024) has bins of 2: 990 shares with 991, 999 with 998. At 4
     * (the plots) the bins are 16 wide on [256, 512), 496..511, and 32 on
     * [512, 1024): 960..991 and 992..1023, of which 1000 occurred. At 0
     * they are the binades: 256..511 and 512..1000. */
    static const struct {
        int bits;
        double p50, p99, p999;
    } want[] = {
        {12, 500, 990, 999},
        {8, 500, 991, 999},
        {4, 511, 991, 1000},
        {0, 511, 1000, 1000},
    };
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
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        const int bits = want[w].bits;
        rc_error_acc *acc = rc_error_acc_create(900.0, bits);
        cr_assert(acc);
        cr_expect_eq(rc_error_acc_bits(acc), bits);
        for (int i = 0; i < n; i++)
            cr_assert_eq(rc_error_acc_add(acc, v[i], NULL), 0);
        rc_error_summary s;
        rc_error_acc_summarize(acc, &s);
        cr_expect_eq(s.count, n);
        cr_expect_eq(s.max, 1000.0);
        cr_expect_eq(s.p50, want[w].p50, "bits %d p50 %g, want %g", bits, s.p50, want[w].p50);
        cr_expect_eq(s.p99, want[w].p99, "bits %d p99 %g, want %g", bits, s.p99, want[w].p99);
        cr_expect_eq(s.p999, want[w].p999, "bits %d p999 %g, want %g", bits, s.p999,
                     want[w].p999);
        cr_expect_eq(s.over_gate, 100); /* 901..1000 */
        cr_expect_eq(s.gate, 900.0);
        cr_expect_eq(s.has_worst, 0, "no location was given");
        /* Summarizing again gives the same. */
        rc_error_summary s2;
        rc_error_acc_summarize(acc, &s2);
        expect_same_summary(&s2, &s, "again, bits", bits);
        rc_error_acc_destroy(acc);
    }
    free(v);
}

Test(metrics, quantiles_small_and_repeated)
{
    /* n = 3: ranks ceil(1.5) = 2, ceil(2.97) = 3, ceil(2.997) = 3. 1, 2 and
     * 3 have bins of their own from 1 bit on; at 0 bits 2 and 3 share the
     * binade [2, 4), whose largest value is 3. */
    static const struct {
        int bits;
        double p50;
    } small[] = {{RC_ERROR_ACC_MAX_BITS, 2.0}, {RC_ERROR_ACC_BITS, 2.0}, {1, 2.0}, {0, 3.0}};
    rc_error_summary s;
    for (size_t w = 0; w < sizeof small / sizeof small[0]; w++) {
        rc_error_acc *acc = rc_error_acc_create(INFINITY, small[w].bits);
        cr_assert(acc);
        cr_assert_eq(rc_error_acc_add(acc, 3.0, NULL), 0);
        cr_assert_eq(rc_error_acc_add(acc, 1.0, NULL), 0);
        cr_assert_eq(rc_error_acc_add(acc, 2.0, NULL), 0);
        rc_error_acc_summarize(acc, &s);
        cr_expect_eq(s.count, 3);
        cr_expect_eq(s.p50, small[w].p50, "bits %d p50 %g", small[w].bits, s.p50);
        cr_expect_eq(s.p99, 3.0);
        cr_expect_eq(s.p999, 3.0);
        cr_expect_eq(s.max, 3.0);
        cr_expect_eq(s.over_gate, 0);
        rc_error_acc_destroy(acc);
    }

    /* 100000 values, all 0.5 but ten 0.25 and one 7: long runs of equal
     * values (the common case: correctly rounded results all score
     * <= 0.5). Each of the three is alone in its bin at any resolution. */
    const int bits_list[] = {RC_ERROR_ACC_BITS, RC_ERROR_ACC_PLOT_BITS, 0};
    for (int b = 0; b < 3; b++) {
        rc_error_acc *acc = rc_error_acc_create(0.5, bits_list[b]);
        cr_assert(acc);
        for (int i = 0; i < 100000; i++) {
            double x = (i % 10000 == 3) ? 0.25 : 0.5;
            if (i == 77777)
                x = 7.0;
            cr_assert_eq(rc_error_acc_add(acc, x, NULL), 0);
        }
        rc_error_acc_summarize(acc, &s);
        cr_expect_eq(s.count, 100000);
        cr_expect_eq(s.p50, 0.5);
        cr_expect_eq(s.p99, 0.5);
        cr_expect_eq(s.p999, 0.5);
        cr_expect_eq(s.max, 7.0);
        cr_expect_eq(s.over_gate, 1);
        rc_error_acc_destroy(acc);
    }

    /* Empty: count 0, zeros, no worst case; the gate is still reported. */
    rc_error_acc *acc = rc_error_acc_create(1.0, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.count, 0);
    cr_expect_eq(s.max, 0.0);
    cr_expect_eq(s.p50, 0.0);
    cr_expect_eq(s.p999, 0.0);
    cr_expect_eq(s.over_gate, 0);
    cr_expect_eq(s.gate, 1.0);
    cr_expect_eq(s.has_worst, 0);
    cr_expect_eq(rc_error_acc_bins(acc, NULL, 0), 0);
    rc_error_acc_destroy(acc);

    /* The resolution is 0..RC_ERROR_ACC_MAX_BITS. */
    cr_expect_null(rc_error_acc_create(1.0, -1));
    cr_expect_null(rc_error_acc_create(1.0, RC_ERROR_ACC_MAX_BITS + 1));
}

Test(metrics, worst_location_is_first_maximum)
{
    rc_error_acc *acc = rc_error_acc_create(0.5, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    const double vals[] = {0.1, 0.4, 0.9, 0.3, 0.9, 0.2};
    for (int i = 0; i < 6; i++) {
        rc_elem_loc l = loc_at(i);
        l.pair_ulp = vals[i];
        cr_assert_eq(rc_error_acc_add(acc, vals[i], &l), 0);
    }
    rc_error_summary s;
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.has_worst, 1);
    cr_expect_eq(s.worst.token, 2, "first of the two 0.9 values is token 2, got %lld",
                 (long long)s.worst.token);
    cr_expect_eq(s.worst.position, 1002);
    cr_expect_eq(s.worst.pair_ulp, 0.9);
    cr_expect_eq(s.max, 0.9);
    cr_expect_eq(s.over_gate, 2);
    /* Rank 3 of 6 is 0.3, alone in its bin (of width 2^-10 at 8 bits);
     * ranks 6 are the two 0.9. */
    cr_expect_eq(s.p50, 0.3);
    cr_expect_eq(s.p99, 0.9);
    rc_error_acc_destroy(acc);
}

Test(metrics, nan_counts_as_infinity)
{
    rc_error_acc *acc = rc_error_acc_create(2.0, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    rc_elem_loc l1 = loc_at(1), l2 = loc_at(2), l3 = loc_at(3);
    cr_assert_eq(rc_error_acc_add(acc, 0.5, &l1), 0);
    cr_assert_eq(rc_error_acc_add(acc, NAN, &l2), 0);
    cr_assert_eq(rc_error_acc_add(acc, INFINITY, &l3), 0);
    rc_error_summary s;
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.count, 3);
    cr_expect(isinf(s.max) && s.max > 0);
    cr_expect_eq(s.has_worst, 1);
    cr_expect_eq(s.worst.token, 2, "the NaN (first +Inf) is the worst case");
    cr_expect_eq(s.over_gate, 2);
    cr_expect(isinf(s.p50) && s.p50 > 0, "nearest rank 2 of {0.5, Inf, Inf} is Inf");
    cr_expect(isinf(s.p999) && s.p999 > 0);
    /* The NaN went into +Inf's bin: two bins, 0.5's and +Inf's. */
    size_t nb;
    rc_error_bin *b = bins_of(acc, &nb);
    cr_expect_eq(nb, 2);
    if (nb == 2) {
        cr_expect_eq(b[0].key, ref_key(0.5, RC_ERROR_ACC_BITS));
        cr_expect_eq(b[1].key, ref_key(INFINITY, RC_ERROR_ACC_BITS));
        cr_expect_eq(b[1].count, 2);
        cr_expect(isinf(b[1].max) && b[1].max > 0);
    }
    free(b);
    rc_error_acc_destroy(acc);
}

Test(metrics, gate_counts_strictly_greater)
{
    const double vals[] = {1.0, 1.0, nextafter(1.0, 2.0), 0.0};
    rc_error_summary s;
    rc_error_acc *acc = rc_error_acc_create(1.0, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(rc_error_acc_add(acc, vals[i], NULL), 0);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.over_gate, 1, "values equal to the gate pass");
    cr_expect_eq(s.gate, 1.0);
    /* Rank 2 of {0, 1, 1, 1 + 2^-52} is 1, whose bin holds 1 + 2^-52. */
    cr_expect_eq(s.p50, nextafter(1.0, 2.0));
    cr_expect_eq(s.p99, nextafter(1.0, 2.0));
    rc_error_acc_destroy(acc);

    acc = rc_error_acc_create(NAN, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(rc_error_acc_add(acc, vals[i], NULL), 0);
    cr_assert_eq(rc_error_acc_add(acc, INFINITY, NULL), 0);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.over_gate, 0, "a NaN gate means none");
    cr_expect(isinf(s.gate) && s.gate > 0);
    rc_error_acc_destroy(acc);

    acc = rc_error_acc_create(INFINITY, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    cr_assert_eq(rc_error_acc_add(acc, INFINITY, NULL), 0);
    cr_assert_eq(rc_error_acc_add(acc, NAN, NULL), 0);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.over_gate, 0, "nothing is above a +Inf gate, not even +Inf");
    rc_error_acc_destroy(acc);

    /* Gate 0: -0 is not above it, the smallest subnormal is; zero and the
     * subnormals share the bins of exponent field 0, so rank 2 of
     * {0, -0, 2^-1074} reads 2^-1074. */
    acc = rc_error_acc_create(0.0, RC_ERROR_ACC_BITS);
    cr_assert(acc);
    cr_assert_eq(rc_error_acc_add(acc, 0.0, NULL), 0);
    cr_assert_eq(rc_error_acc_add(acc, -0.0, NULL), 0);
    cr_assert_eq(rc_error_acc_add(acc, ldexp(1, -1074), NULL), 0);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.over_gate, 1);
    cr_expect_eq(s.p50, ldexp(1, -1074));
    cr_expect_eq(s.max, ldexp(1, -1074));
    rc_error_acc_destroy(acc);
}

/* The resolutions the quantiles are checked at: the harness's two and the
 * coarsest and finest there are. */
static const int quantile_bits[] = {RC_ERROR_ACC_BITS, RC_ERROR_ACC_PLOT_BITS, 0,
                                    RC_ERROR_ACC_MAX_BITS};
enum { N_QUANTILE_BITS = sizeof quantile_bits / sizeof quantile_bits[0] };

/* Every resolution's summary of v[0..n) (any order, no NaN) against a sort:
 * count, max, over-gate count and the three quantiles by the definition.
 * Sorts v. */
static void expect_summaries_match_sort(rc_error_acc *const *acc, double *v, size_t n,
                                        double gate, const char *what)
{
    qsort(v, n, sizeof *v, cmp_double);
    int64_t over = 0;
    for (size_t i = 0; i < n; i++)
        over += v[i] > gate;
    for (int b = 0; b < N_QUANTILE_BITS; b++) {
        rc_error_summary s;
        rc_error_acc_summarize(acc[b], &s);
        cr_expect_eq(s.count, (int64_t)n);
        cr_expect_eq(s.max, v[n - 1], "%s bits %d n=%zu max %a, want %a", what, quantile_bits[b],
                     n, s.max, v[n - 1]);
        cr_expect_eq(s.over_gate, over, "%s bits %d n=%zu over_gate %lld, want %lld", what,
                     quantile_bits[b], n, (long long)s.over_gate, (long long)over);
        expect_quantile(what, s.p50, v, n, 0.5, quantile_bits[b]);
        expect_quantile(what, s.p99, v, n, 0.99, quantile_bits[b]);
        expect_quantile(what, s.p999, v, n, 0.999, quantile_bits[b]);
    }
}

Test(metrics, quantiles_match_sort_on_random_data)
{
    /* Against a sort, on data with many ties (k/8, k < 5) and few (k < 100000). */
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 12, 0);
    char what[32];
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 1 + rc_rng_below(&r, 3000);
        double *v = malloc(n * sizeof *v);
        cr_assert(v);
        rc_error_acc *acc[N_QUANTILE_BITS];
        for (int b = 0; b < N_QUANTILE_BITS; b++) {
            acc[b] = rc_error_acc_create(1.0, quantile_bits[b]);
            cr_assert(acc[b]);
        }
        for (size_t i = 0; i < n; i++) {
            v[i] = (double)rc_rng_below(&r, trial % 2 ? 5 : 100000) / 8.0;
            for (int b = 0; b < N_QUANTILE_BITS; b++)
                cr_assert_eq(rc_error_acc_add(acc[b], v[i], NULL), 0);
        }
        snprintf(what, sizeof what, "trial %d", trial);
        expect_summaries_match_sort(acc, v, n, 1.0, what);
        for (int b = 0; b < N_QUANTILE_BITS; b++)
            rc_error_acc_destroy(acc[b]);
        free(v);
    }
}

Test(metrics, quantiles_match_sort_on_large_data)
{
    /* Against qsort on spread data (ranks in different binades), narrow
     * data (all ranks in one or a few bins), data with +Inf, and heavy
     * repeats. */
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 13, 0);
    char what[32];
    for (int kind = 0; kind < 4; kind++) {
        const size_t n = 300000 + rc_rng_below(&r, 200000);
        double *v = malloc(n * sizeof *v);
        cr_assert(v);
        rc_error_acc *acc[N_QUANTILE_BITS];
        for (int b = 0; b < N_QUANTILE_BITS; b++) {
            acc[b] = rc_error_acc_create(1.0, quantile_bits[b]);
            cr_assert(acc[b]);
        }
        for (size_t i = 0; i < n; i++) {
            const double u = rc_rng_uniform(&r);
            switch (kind) {
            case 0: v[i] = ldexp(u, -(int)rc_rng_below(&r, 40)); break;      /* spread */
            case 1: v[i] = 0.25 + u * 0x1p-12; break;                        /* narrow */
            case 2: v[i] = rc_rng_below(&r, 500) == 0 ? INFINITY : 8.0 * u; break;
            default: v[i] = rc_rng_below(&r, 4) ? 0.5 : u; break;            /* repeats */
            }
            for (int b = 0; b < N_QUANTILE_BITS; b++)
                cr_assert_eq(rc_error_acc_add(acc[b], v[i], NULL), 0);
        }
        snprintf(what, sizeof what, "kind %d", kind);
        expect_summaries_match_sort(acc, v, n, 1.0, what);
        for (int b = 0; b < N_QUANTILE_BITS; b++)
            rc_error_acc_destroy(acc[b]);
        free(v);
    }
}

/* A value for the merge and restore trials of `kind`: 0 a few multiples of
 * 1/4 (the maximum 5/4 recurs all along), 1 spread over 30 binades (its
 * maximum is planted later), 2 with +Inf and NaN now and then, 3 one value
 * throughout, 4 down into the subnormals, with zeros of both signs. */
static double trial_value(rc_rng *r, int kind)
{
    const double u = rc_rng_uniform(r);
    switch (kind) {
    case 0: return (double)rc_rng_below(r, 6) / 4.0;
    case 1: return ldexp(u, -(int)rc_rng_below(r, 30));
    case 2: {
        const uint64_t k = rc_rng_below(r, 200);
        return k == 0 ? INFINITY : k == 1 ? NAN : 8.0 * u;
    }
    case 3: return 0.5;
    default: {
        const uint64_t k = rc_rng_below(r, 40);
        return k == 0 ? 0.0 : k == 1 ? -0.0 : ldexp(u, -(int)rc_rng_below(r, 1100));
    }
    }
}

/* Adds v[from..to) with locations (token = index), some left without one
 * (odd kinds: every third), to acc. */
static void add_range(rc_error_acc *acc, const double *v, size_t from, size_t to, int kind)
{
    for (size_t i = from; i < to; i++) {
        const rc_elem_loc l = loc_at((int64_t)i);
        const int with_loc = kind % 2 == 0 || i % 3 != 1;
        cr_assert_eq(rc_error_acc_add(acc, v[i], with_loc ? &l : NULL), 0);
    }
}

Test(metrics, merge_equals_one_accumulator)
{
    /* A sequence cut at random points into 1..8 pieces (some empty), one
     * accumulator per piece, merged in order (left to right, and right to
     * left: each merge adds what came later): the same summary and bins
     * as one accumulator over the whole, the first maximum's location
     * included when the maximum recurs in several pieces or is +Inf. */
    static const double gates[] = {1.0, INFINITY, 0.5, 0.0};
    static const int bits_list[] = {RC_ERROR_ACC_BITS, RC_ERROR_ACC_PLOT_BITS, 0,
                                    RC_ERROR_ACC_MAX_BITS};
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 14, 0);
    for (int trial = 0; trial < 240; trial++) {
        const int kind = trial % 5;
        const int bits = bits_list[(trial / 5) % 4];
        const double gate = gates[(trial / 20) % 4];
        const size_t n = trial < 5 ? 0 : rc_rng_below(&r, 3000);
        double *v = malloc((n + 1) * sizeof *v);
        cr_assert(v);
        for (size_t i = 0; i < n; i++)
            v[i] = trial_value(&r, kind);
        if (kind == 1)
            for (int t = 0; t < 3 && n > 0; t++)
                v[rc_rng_below(&r, n)] = 3.5; /* above every other value */

        /* What the summary must say, worked out directly. */
        double want_max = 0.0;
        int64_t want_over = 0, want_token = -1;
        for (size_t i = 0; i < n; i++) {
            const double x = isnan(v[i]) ? INFINITY : v[i];
            want_over += x > gate;
            if (want_token < 0 || x > want_max) {
                want_max = x;
                want_token = (int64_t)i;
            }
        }
        const int want_has_worst = n > 0 && (kind % 2 == 0 || want_token % 3 != 1);

        rc_error_acc *whole = rc_error_acc_create(gate, bits);
        cr_assert(whole);
        add_range(whole, v, 0, n, kind);
        rc_error_summary sw;
        rc_error_acc_summarize(whole, &sw);
        cr_expect_eq(sw.count, (int64_t)n);
        cr_expect_eq(sw.max, want_max, "trial %d: max %a, want %a", trial, sw.max, want_max);
        cr_expect_eq(sw.over_gate, want_over, "trial %d: over_gate %lld, want %lld", trial,
                     (long long)sw.over_gate, (long long)want_over);
        cr_expect_eq(sw.has_worst, want_has_worst, "trial %d", trial);
        if (want_has_worst)
            cr_expect_eq(sw.worst.token, want_token, "trial %d: worst token %lld, want %lld",
                         trial, (long long)sw.worst.token, (long long)want_token);

        /* Cut points: m - 1 of them in [0, n], sorted, repeats allowed. */
        const int m = 1 + (int)rc_rng_below(&r, 8);
        size_t cut[9];
        cut[0] = 0;
        cut[m] = n;
        for (int j = 1; j < m; j++)
            cut[j] = (size_t)rc_rng_below(&r, n + 1);
        qsort(cut + 1, (size_t)(m - 1), sizeof cut[0], cmp_size);
        rc_error_acc *left[8], *right[8];
        for (int j = 0; j < m; j++) {
            left[j] = rc_error_acc_create(gate, bits);
            right[j] = rc_error_acc_create(gate, bits);
            cr_assert(left[j] && right[j]);
            add_range(left[j], v, cut[j], cut[j + 1], kind);
            add_range(right[j], v, cut[j], cut[j + 1], kind);
        }
        for (int j = 1; j < m; j++)
            cr_assert_eq(rc_error_acc_merge(left[0], left[j]), 0);
        for (int j = m - 1; j > 0; j--)
            cr_assert_eq(rc_error_acc_merge(right[j - 1], right[j]), 0);
        rc_error_summary sl, sr;
        rc_error_acc_summarize(left[0], &sl);
        rc_error_acc_summarize(right[0], &sr);
        expect_same_summary(&sl, &sw, "left fold, trial", trial);
        expect_same_summary(&sr, &sw, "right fold, trial", trial);
        expect_same_bins(left[0], whole, "left fold, trial", trial);
        expect_same_bins(right[0], whole, "right fold, trial", trial);
        for (int j = 0; j < m; j++) {
            rc_error_acc_destroy(left[j]);
            rc_error_acc_destroy(right[j]);
        }
        rc_error_acc_destroy(whole);
        free(v);
    }
}

Test(metrics, merge_refuses_another_gate_or_resolution)
{
    rc_error_acc *a = rc_error_acc_create(1.0, RC_ERROR_ACC_BITS);
    rc_error_acc *other_gate = rc_error_acc_create(2.0, RC_ERROR_ACC_BITS);
    rc_error_acc *other_bits = rc_error_acc_create(1.0, RC_ERROR_ACC_PLOT_BITS);
    rc_error_acc *no_gate = rc_error_acc_create(INFINITY, RC_ERROR_ACC_BITS);
    rc_error_acc *nan_gate = rc_error_acc_create(NAN, RC_ERROR_ACC_BITS);
    cr_assert(a && other_gate && other_bits && no_gate && nan_gate);
    rc_error_acc *all[] = {a, other_gate, other_bits, no_gate, nan_gate};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(rc_error_acc_add(all[i], 1.5, NULL), 0);
    cr_expect_eq(rc_error_acc_merge(a, other_gate), -1);
    cr_expect_eq(rc_error_acc_merge(a, other_bits), -1);
    cr_expect_eq(rc_error_acc_merge(other_bits, a), -1);
    cr_expect_eq(rc_error_acc_merge(a, no_gate), -1);
    cr_expect_eq(rc_error_acc_merge(no_gate, a), -1);
    /* Refused merges left a as it was. */
    rc_error_summary s;
    rc_error_acc_summarize(a, &s);
    cr_expect_eq(s.count, 1);
    cr_expect_eq(s.over_gate, 1);
    /* A NaN gate is no gate, as +Inf is. */
    cr_expect_eq(rc_error_acc_merge(no_gate, nan_gate), 0);
    rc_error_acc_summarize(no_gate, &s);
    cr_expect_eq(s.count, 2);
    cr_expect_eq(s.over_gate, 0);
    for (int i = 0; i < 5; i++)
        rc_error_acc_destroy(all[i]);
}

Test(metrics, restore_round_trip)
{
    /* bins, then restore from them and the summary's gate, over-gate count
     * and worst location: the same summary and bins, and the two go on
     * alike. The bins themselves are checked against the values grouped
     * by key after a sort. */
    static const int bits_list[] = {RC_ERROR_ACC_BITS, RC_ERROR_ACC_PLOT_BITS, 0,
                                    RC_ERROR_ACC_MAX_BITS};
    rc_rng r;
    rc_rng_seed3(&r, test_seed(), 15, 0);
    for (int trial = 0; trial < 100; trial++) {
        const int kind = trial % 5;
        const int bits = bits_list[(trial / 5) % 4];
        const size_t n = trial < 5 ? 0 : 1 + rc_rng_below(&r, 2000);
        double *v = malloc((n + 1) * sizeof *v);
        cr_assert(v);
        for (size_t i = 0; i < n; i++)
            v[i] = trial_value(&r, kind);
        /* Gates: none, 1, 0, and a value that occurred (so its bin holds
         * values at and maybe above and below it). */
        double gate;
        switch ((trial / 20) % 4) {
        case 0: gate = INFINITY; break;
        case 1: gate = 1.0; break;
        case 2: gate = 0.0; break;
        default: gate = n ? v[rc_rng_below(&r, n)] : 1.0; break;
        }
        if (isnan(gate))
            gate = 1.0;
        rc_error_acc *acc = rc_error_acc_create(gate, bits);
        cr_assert(acc);
        add_range(acc, v, 0, n, kind);
        rc_error_summary s;
        rc_error_acc_summarize(acc, &s);
        size_t nb;
        rc_error_bin *bins = bins_of(acc, &nb);

        /* The bins by the definition: sorted values (NaN as +Inf, -0 as
         * +0) in runs of one key; count and last value of each run. */
        double *sorted = malloc((n + 1) * sizeof *sorted);
        cr_assert(sorted);
        for (size_t i = 0; i < n; i++)
            sorted[i] = isnan(v[i]) ? INFINITY : v[i] + 0.0;
        qsort(sorted, n, sizeof *sorted, cmp_double);
        size_t run = 0;
        for (size_t i = 0; i < n; run++) {
            const uint32_t key = ref_key(sorted[i], bits);
            size_t j = i;
            while (j < n && ref_key(sorted[j], bits) == key)
                j++;
            cr_expect(run < nb, "trial %d: more runs than %zu bins", trial, nb);
            if (run < nb) {
                cr_expect_eq(bins[run].key, key, "trial %d bin %zu key", trial, run);
                cr_expect_eq(bins[run].count, (int64_t)(j - i), "trial %d bin %zu count", trial,
                             run);
                cr_expect_eq(bins[run].max, sorted[j - 1], "trial %d bin %zu max %a, want %a",
                             trial, run, bins[run].max, sorted[j - 1]);
            }
            i = j;
        }
        cr_expect_eq(run, nb, "trial %d: %zu runs of a key, %zu bins", trial, run, nb);

        rc_error_acc *back = rc_error_acc_restore(s.gate, bits, s.over_gate, bins, nb,
                                                  s.has_worst ? &s.worst : NULL);
        cr_expect(back, "trial %d: restore refused %zu bins, over_gate %lld, gate %a", trial, nb,
                  (long long)s.over_gate, s.gate);
        if (back) {
            cr_expect_eq(rc_error_acc_bits(back), bits);
            rc_error_summary sb;
            rc_error_acc_summarize(back, &sb);
            expect_same_summary(&sb, &s, "restored, trial", trial);
            expect_same_bins(back, acc, "restored, trial", trial);
            /* Both go on alike: more values, then a merge of a third. */
            rc_error_acc *more = rc_error_acc_create(gate, bits);
            cr_assert(more);
            for (int i = 0; i < 50; i++) {
                const double x = trial_value(&r, kind);
                const rc_elem_loc l = loc_at(100000 + i);
                cr_assert_eq(rc_error_acc_add(acc, x, &l), 0);
                cr_assert_eq(rc_error_acc_add(back, x, &l), 0);
                cr_assert_eq(rc_error_acc_add(more, 2.0 * x, &l), 0);
            }
            cr_assert_eq(rc_error_acc_merge(acc, more), 0);
            cr_assert_eq(rc_error_acc_merge(back, more), 0);
            rc_error_acc_summarize(acc, &s);
            rc_error_acc_summarize(back, &sb);
            expect_same_summary(&sb, &s, "restored and continued, trial", trial);
            expect_same_bins(back, acc, "restored and continued, trial", trial);
            rc_error_acc_destroy(more);
            rc_error_acc_destroy(back);
        }
        free(sorted);
        free(bins);
        rc_error_acc_destroy(acc);
        free(v);
    }
}

/* Restores and expects a refusal. */
static void expect_refused(double gate, int bits, int64_t over_gate, const rc_error_bin *bins,
                           size_t n, const rc_elem_loc *worst, const char *why)
{
    rc_error_acc *acc = rc_error_acc_restore(gate, bits, over_gate, bins, n, worst);
    cr_expect_null(acc, "restore accepted %s", why);
    rc_error_acc_destroy(acc);
}

static void expect_accepted(double gate, int bits, int64_t over_gate, const rc_error_bin *bins,
                            size_t n, const rc_elem_loc *worst, const char *why)
{
    rc_error_acc *acc = rc_error_acc_restore(gate, bits, over_gate, bins, n, worst);
    cr_expect_not_null(acc, "restore refused %s", why);
    rc_error_acc_destroy(acc);
}

Test(metrics, restore_refuses_what_no_accumulator_holds)
{
    /* At 8 bits the bins on [2^e, 2^(e+1)) are 2^(e-8) wide: 0.5's is
     * [0.5, 0.5 + 2^-9). Gate 0.75: 1, 3 and +Inf lie in bins wholly
     * above it, 0.25 and 0.5 in bins wholly below. */
    const int bits = 8;
    const double gate = 0.75;
    const double vals[] = {0.25, 0.5, 0.5, 1.0, 3.0, INFINITY};
    rc_error_acc *acc = rc_error_acc_create(gate, bits);
    cr_assert(acc);
    for (int i = 0; i < 6; i++) {
        const rc_elem_loc l = loc_at(i);
        cr_assert_eq(rc_error_acc_add(acc, vals[i], &l), 0);
    }
    rc_error_summary s;
    rc_error_acc_summarize(acc, &s);
    cr_assert_eq(s.over_gate, 3);
    rc_error_bin bins[5], t[5];
    cr_assert_eq(rc_error_acc_bins(acc, bins, 5), 5);
    cr_expect_eq(bins[1].count, 2);
    rc_error_acc_destroy(acc);
    expect_accepted(gate, bits, 3, bins, 5, &s.worst, "the bins as written");

    /* Keys out of order, or repeated. */
    memcpy(t, bins, sizeof t);
    t[1] = bins[2];
    t[2] = bins[1];
    expect_refused(gate, bits, 3, t, 5, NULL, "two bins swapped");
    memcpy(t, bins, sizeof t);
    t[2] = bins[1];
    expect_refused(gate, bits, 2, t, 5, NULL, "one bin twice");

    /* Empty bins. */
    memcpy(t, bins, sizeof t);
    t[1].count = 0;
    expect_refused(gate, bits, 3, t, 5, NULL, "a zero count");
    t[1].count = -1;
    expect_refused(gate, bits, 3, t, 5, NULL, "a negative count");

    /* A maximum outside its bin: the next bin up, the one below (the
     * binade below), NaN, a negative value. */
    memcpy(t, bins, sizeof t);
    t[1].max = 0.5 + 0x1p-9;
    expect_refused(gate, bits, 3, t, 5, NULL, "a maximum of the next bin");
    t[1].max = nextafter(0.5, 0.0);
    expect_refused(gate, bits, 3, t, 5, NULL, "a maximum of the bin below");
    t[1].max = NAN;
    expect_refused(gate, bits, 3, t, 5, NULL, "a NaN maximum");
    t[1].max = -0.5;
    expect_refused(gate, bits, 3, t, 5, NULL, "a negative maximum");
    t[4].max = DBL_MAX;
    t[1].max = 0.5;
    expect_refused(gate, bits, 3, t, 5, NULL, "a finite maximum in +Inf's bin");
    /* Any maximum inside the bin could have been: rank 3 of 6 now reads it. */
    memcpy(t, bins, sizeof t);
    t[1].max = 0.5 + 0x1p-10;
    acc = rc_error_acc_restore(gate, bits, 3, t, 5, NULL);
    cr_expect_not_null(acc, "a maximum inside its bin");
    if (acc) {
        rc_error_acc_summarize(acc, &s);
        cr_expect_eq(s.p50, 0.5 + 0x1p-10);
        cr_expect_eq(s.count, 6);
        cr_expect(isinf(s.max));
        cr_expect_eq(s.has_worst, 0);
        rc_error_acc_destroy(acc);
    }
    /* Bins of 8 bits read at 4: their maxima fall outside the keys. */
    expect_refused(gate, 4, 3, bins, 5, NULL, "bins of another resolution");
    expect_refused(gate, RC_ERROR_ACC_MAX_BITS + 1, 3, bins, 5, NULL, "13 bits");

    /* Over-gate counts the bins rule out: exactly the 3 above 0.75. */
    expect_refused(gate, bits, 7, bins, 5, NULL, "more over the gate than values");
    expect_refused(gate, bits, 4, bins, 5, NULL, "0.5 over the gate 0.75");
    expect_refused(gate, bits, 2, bins, 5, NULL, "1 not over the gate 0.75");
    expect_refused(gate, bits, 0, bins, 5, NULL, "none over when 3 bins lie above");
    expect_refused(gate, bits, -1, bins, 5, NULL, "a negative over-gate count");
    expect_refused(INFINITY, bits, 1, bins, 5, NULL, "one over no gate");
    expect_accepted(INFINITY, bits, 0, bins, 5, NULL, "no gate, none over");
    expect_accepted(NAN, bits, 0, bins, 5, NULL, "a NaN gate, none over");

    /* The gate's own bin: 0.5 and 0.5 + 2^-11 share one with gate
     * 0.5 + 2^-12. The maximum is above the gate, so 1 or 2 of the values
     * are; with the gate at the maximum none is. */
    const double g2 = 0.5 + 0x1p-12;
    acc = rc_error_acc_create(g2, bits);
    cr_assert(acc);
    cr_assert_eq(rc_error_acc_add(acc, 0.5, NULL), 0);
    cr_assert_eq(rc_error_acc_add(acc, 0.5 + 0x1p-11, NULL), 0);
    rc_error_acc_summarize(acc, &s);
    cr_expect_eq(s.over_gate, 1);
    rc_error_bin one[1];
    cr_assert_eq(rc_error_acc_bins(acc, one, 1), 1);
    cr_expect_eq(one[0].count, 2);
    cr_expect_eq(one[0].key, ref_key(g2, bits));
    rc_error_acc_destroy(acc);
    expect_refused(g2, bits, 0, one, 1, NULL, "none over a gate below its bin's maximum");
    expect_accepted(g2, bits, 1, one, 1, NULL, "one over the gate in its bin");
    expect_accepted(g2, bits, 2, one, 1, NULL, "both over the gate in its bin");
    expect_refused(g2, bits, 3, one, 1, NULL, "three over with two values");
    expect_accepted(0.5 + 0x1p-11, bits, 0, one, 1, NULL, "none over a gate at the maximum");
    expect_refused(0.5 + 0x1p-11, bits, 1, one, 1, NULL, "one over a gate at the maximum");

    /* No values: a worst location cannot be; nothing at all can. */
    const rc_elem_loc l = loc_at(0);
    expect_refused(gate, bits, 0, NULL, 0, &l, "a worst location without values");
    expect_refused(gate, bits, 1, NULL, 0, NULL, "one over the gate without values");
    acc = rc_error_acc_restore(gate, bits, 0, NULL, 0, NULL);
    cr_expect_not_null(acc, "no values");
    if (acc) {
        rc_error_acc_summarize(acc, &s);
        cr_expect_eq(s.count, 0);
        cr_expect_eq(s.has_worst, 0);
        rc_error_acc_destroy(acc);
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
