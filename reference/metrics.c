/*
 * reference/metrics.c - ULP errors and their exact order statistics.
 *
 * The unit is the ulp of the exact value's binade in the output type, so a
 * correctly rounded result scores at most 0.5 and a faithful one below 1.
 * Every value an accumulator sees is kept: quantiles are exact nearest-rank
 * values (found by selection, O(n) expected), not estimates.
 */
#include "reference/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "core/pow2.h"

double rc_ulp_of(rc_dtype t, rc_dd x)
{
    const rc_format *f = rc_dtype_format(t);
    if (!f)
        return NAN;
    /* s + e == hi + lo exactly, s = RN(hi + lo): the binade of the exact
     * sum is that of s, except when |s| is a power of two that the exact
     * value lies just below (e of the opposite sign), as with hi = 1 and
     * lo = -2^-60. hi alone would also be wrong when lo is not normalized. */
    rc_dd v = rc_two_sum(x.hi, x.lo);
    if (isnan(v.hi) || isnan(v.lo))
        return NAN;
    const double floor_ulp = rc_pow2(f->emin - f->precision + 1);
    if (isinf(v.hi))
        return INFINITY;
    if (v.hi == 0.0)
        return floor_ulp;
    int is_pow2;
    int e = rc_exponent_of(v.hi, &is_pow2) - 1; /* |s| in [2^e, 2^(e+1)) */
    if (is_pow2 && v.lo != 0.0 && (v.lo < 0.0) != (v.hi < 0.0))
        e -= 1;
    double ulp = rc_pow2(e - f->precision + 1);
    return ulp > floor_ulp ? ulp : floor_ulp;
}

double rc_ulp_error(rc_dtype t, double got, rc_dd exact, rc_dd scale)
{
    if (!isfinite(got))
        return INFINITY;
    if (!isfinite(exact.hi) || !isfinite(exact.lo))
        return NAN; /* outside the contract: let it surface, not pass */
    double ulp = rc_ulp_of(t, scale);
    if (!(ulp > 0.0) || isinf(ulp))
        return NAN;
    /* got - exact.hi is exact as d.hi + d.lo; only the last subtraction
     * rounds, which is a relative 2^-53 on the error: plenty for a figure
     * quoted to a few digits, and exactly 0 or exactly a half ulp when the
     * difference is representable (the usual tie case). */
    rc_dd d = rc_two_sum(got, -exact.hi);
    double diff = d.hi + (d.lo - exact.lo);
    if (!isfinite(diff)) {
        /* got and exact near +-DBL_MAX with opposite signs: halve first
         * (exact for numbers that large). */
        diff = (0.5 * got - 0.5 * exact.hi) - 0.5 * exact.lo;
        return fabs(diff) / (0.5 * ulp);
    }
    return fabs(diff) / ulp; /* ulp is a power of two: exact unless tiny */
}

struct rc_error_acc {
    double *values;
    size_t count;
    size_t capacity;
    double max;
    int has_max;
    int has_worst;
    rc_elem_loc worst;
};

rc_error_acc *rc_error_acc_create(size_t expected_count)
{
    rc_error_acc *acc = calloc(1, sizeof *acc);
    if (!acc)
        return NULL;
    size_t cap = expected_count > 16 ? expected_count : 16;
    if (cap > SIZE_MAX / sizeof(double))
        cap = 16;
    acc->values = malloc(cap * sizeof(double));
    if (!acc->values) {
        free(acc);
        return NULL;
    }
    acc->capacity = cap;
    return acc;
}

void rc_error_acc_destroy(rc_error_acc *acc)
{
    if (!acc)
        return;
    free(acc->values);
    free(acc);
}

int rc_error_acc_add(rc_error_acc *acc, double value, const rc_elem_loc *loc)
{
    if (isnan(value))
        value = INFINITY;
    if (acc->count == acc->capacity) {
        if (acc->capacity > SIZE_MAX / 2 / sizeof(double))
            return -1;
        size_t cap = acc->capacity * 2;
        double *grown = realloc(acc->values, cap * sizeof(double));
        if (!grown)
            return -1;
        acc->values = grown;
        acc->capacity = cap;
    }
    acc->values[acc->count++] = value;
    /* Strictly greater: the first element that reaches the maximum keeps
     * the location, so a replay names the earliest worst case. */
    if (!acc->has_max || value > acc->max) {
        acc->max = value;
        acc->has_max = 1;
        acc->has_worst = loc != NULL;
        if (loc)
            acc->worst = *loc;
    }
    return 0;
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/*
 * Rearrange v[0..n) so that v[k] is the value of rank k (0-based) in
 * sorted order, everything before it <= v[k] and everything after >= v[k].
 * Quickselect with a three-way (Dutch flag) partition, because ULP values
 * repeat a lot (every exact result is 0, many are exactly 0.5) and a
 * two-way partition degrades to quadratic time on long runs of equal keys.
 * The pivot is the median of three; values hold no NaN (add() maps NaN to
 * +Inf), so < and > are a total order.
 */
static void select_rank(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n; /* the rank-k value lies in v[lo..hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi - 1];
        double pivot = (a < b) ? ((b < c) ? b : (a < c ? c : a)) : ((a < c) ? a : (b < c ? c : b));
        /* v[lo..lt) < pivot, v[lt..i) == pivot, v[gt..hi) > pivot */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (v[i] < pivot)
                swap_d(&v[lt++], &v[i++]);
            else if (v[i] > pivot)
                swap_d(&v[i], &v[--gt]);
            else
                i++;
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return; /* v[k] == pivot, in its final place */
    }
}

/* Nearest-rank quantile: the smallest value with at least p*n values at
 * or below it, i.e. 1-based rank ceil(p*n). */
static size_t nearest_rank(double p, size_t n)
{
    double r = ceil(p * (double)n);
    if (r < 1.0)
        r = 1.0;
    if (r > (double)n)
        r = (double)n;
    return (size_t)r - 1;
}

/* The ordering key of a value >= 0 (or +Inf): its bits, which order
 * non-negative doubles as unsigned integers do (-0 is read as +0). */
static uint64_t order_key(double x)
{
    x += 0.0; /* -0 -> +0 */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

#define RADIX_BITS 16
#define RADIX_BINS (1u << RADIX_BITS)

/*
 * The values of ranks k[0] < k[1] < k[2] by one counting pass over the top
 * 16 bits of the keys, then a selection inside each rank's bin only (its
 * values copied out): about two passes over the data instead of three
 * quickselects. The same values as select_rank, since both return the
 * element of each rank. Returns -1 (nothing changed) when it does not
 * apply: a negative value, out of memory, or bins so full (repeated
 * values: exact results, exact halves) that copying them out would cost
 * more than selecting in place.
 */
static int select_three_by_radix(const double *v, size_t n, const size_t k[3], double out[3])
{
    uint64_t *count = calloc(RADIX_BINS, sizeof *count);
    if (count == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0.0) {
            free(count);
            return -1;
        }
        count[order_key(v[i]) >> (64 - RADIX_BITS)]++;
    }
    size_t bin[3], rank_in_bin[3];
    size_t below = 0, j = 0;
    for (size_t b = 0; b < RADIX_BINS && j < 3; b++) {
        while (j < 3 && k[j] < below + count[b]) {
            bin[j] = b;
            rank_in_bin[j] = k[j] - below;
            j++;
        }
        below += count[b];
    }
    size_t copied = 0;
    for (int r = 0; r < 3; r++)
        if (r == 0 || bin[r] != bin[r - 1])
            copied += count[bin[r]];
    double *scratch = copied <= n / 4 ? malloc(copied * sizeof *scratch + 1) : NULL;
    if (scratch == NULL) {
        free(count);
        return -1;
    }
    for (int r = 0; r < 3; r++) {
        if (r > 0 && bin[r] == bin[r - 1])
            continue; /* filled with the earlier rank of the same bin */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (order_key(v[i]) >> (64 - RADIX_BITS) == bin[r])
                scratch[m++] = v[i];
        /* every rank that falls in this bin, largest first (select_rank
         * leaves the prefix below a selected rank holding the smaller ones) */
        size_t hi = m;
        for (int q = 2; q >= r; q--) {
            if (bin[q] != bin[r])
                continue;
            select_rank(scratch, hi, rank_in_bin[q]);
            out[q] = scratch[rank_in_bin[q]];
            hi = rank_in_bin[q];
        }
    }
    free(scratch);
    free(count);
    return 0;
}

void rc_error_acc_summarize(rc_error_acc *acc, double gate, rc_error_summary *out)
{
    memset(out, 0, sizeof *out);
    out->gate = isnan(gate) ? INFINITY : gate;
    out->count = (int64_t)acc->count;
    if (acc->count == 0)
        return; /* max and quantiles 0, no worst case */
    size_t n = acc->count;
    size_t r999 = nearest_rank(0.999, n);
    size_t r99 = nearest_rank(0.99, n);
    size_t r50 = nearest_rank(0.5, n);
    const size_t ranks[3] = {r50, r99, r999};
    double q[3];
    if (n >= 4 * RADIX_BINS && select_three_by_radix(acc->values, n, ranks, q) == 0) {
        out->p50 = q[0];
        out->p99 = q[1];
        out->p999 = q[2];
    } else {
        /* Largest rank first: afterwards v[0..r999) holds exactly the r999
         * smaller values, so the next selections work on that prefix,
         * which must exclude v[r999] itself (a selection only partitions,
         * it would move it). */
        select_rank(acc->values, n, r999);
        if (r99 < r999)
            select_rank(acc->values, r999, r99);
        if (r50 < r99)
            select_rank(acc->values, r99, r50);
        out->p999 = acc->values[r999];
        out->p99 = acc->values[r99];
        out->p50 = acc->values[r50];
    }
    out->max = acc->max;
    int64_t over = 0;
    for (size_t i = 0; i < n; i++)
        over += acc->values[i] > out->gate;
    out->over_gate = over;
    out->has_worst = acc->has_worst;
    if (acc->has_worst)
        out->worst = acc->worst;
}
