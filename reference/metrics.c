/*
 * reference/metrics.c - ULP errors and their exact order statistics.
 *
 * The unit is the ulp of the exact value's binade in the output type, so a
 * correctly rounded result scores at most 0.5 and a faithful one below 1.
 * Accumulators are mergeable histograms (see struct rc_error_acc below):
 * counts, maxima and worst locations exact, quantiles to a stated
 * resolution, so shards and chunks of a case combine exactly.
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

/*
 * The accumulator is a histogram of the values' bits: a value v >= 0 (NaN
 * is counted as +Inf) falls in the bin keyed by its exponent field and the
 * top `bits` bits of its significand, which is a bin of relative width
 * 2^-bits (the zero and subnormal values share the bins of exponent field
 * 0). Each bin keeps its count and its largest value. Pages of 2^bits bins,
 * one per exponent field, are made on first use, so the memory is
 * proportional to the binades the values span, not to their number.
 *
 * Why not keep every value for exact order statistics (as this file did
 * until schema 1.5)? Two runs over disjoint parts of a case - the shards of
 * `verify --shard`, the chunks of `ropecheck sweep` - must combine into
 * exactly the figures of one run over the whole case, in memory that does
 * not grow with the case. Adding histograms is exact; selecting among kept
 * values is neither mergeable nor bounded. The price is the quantiles'
 * definition (metrics.h): the largest value in the bin of the nearest-rank
 * value, an upper bound within a relative 2^-bits of it. Count, maximum,
 * over-gate count and the worst location stay exact.
 */
#define EXP_PAGES 2048 /* the 11-bit exponent field, +Inf in the last */

/* A bin's count and largest value side by side: one cache line per add.
 * An empty bin holds max -1, below every value, so an add is two
 * branch-free updates. */
typedef struct acc_bin {
    int64_t count;
    double max;
} acc_bin;

typedef struct acc_page {
    acc_bin *bin; /* 2^bits bins, NULL until used */
} acc_page;

struct rc_error_acc {
    double gate;
    int bits;
    int64_t count, over_gate;
    double max;
    int has_worst;
    rc_elem_loc worst;
    acc_page pages[EXP_PAGES];
};

/* The bits of a value >= 0 or +Inf, which order such doubles as unsigned
 * integers do (-0 is read as +0). */
static uint64_t order_key(double x)
{
    x += 0.0; /* -0 -> +0 */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

uint32_t rc_error_acc_key(const rc_error_acc *acc, double value)
{
    if (isnan(value) || value < 0.0)
        value = INFINITY;
    return (uint32_t)(order_key(value) >> (52 - acc->bits));
}

rc_error_acc *rc_error_acc_create(double gate, int bits)
{
    if (bits < 0 || bits > RC_ERROR_ACC_MAX_BITS)
        return NULL;
    rc_error_acc *acc = calloc(1, sizeof *acc);
    if (!acc)
        return NULL;
    acc->gate = isnan(gate) ? INFINITY : gate;
    acc->bits = bits;
    return acc;
}

void rc_error_acc_destroy(rc_error_acc *acc)
{
    if (!acc)
        return;
    for (int p = 0; p < EXP_PAGES; p++) {
        free(acc->pages[p].bin);
    }
    free(acc);
}

/* Adds n values whose largest is max into bin key. 0, or -1 (no memory). */
static int add_to_bin(rc_error_acc *acc, uint32_t key, int64_t n, double max)
{
    acc_page *pg = &acc->pages[key >> acc->bits];
    const size_t width = (size_t)1 << acc->bits;
    if (!pg->bin) {
        if (!(pg->bin = malloc(width * sizeof *pg->bin)))
            return -1;
        for (size_t i = 0; i < width; i++)
            pg->bin[i] = (acc_bin){0, -1.0};
    }
    acc_bin *b = &pg->bin[key & (width - 1)];
    b->max = max > b->max ? max : b->max;
    b->count += n;
    return 0;
}

int rc_error_acc_add(rc_error_acc *acc, double value, const rc_elem_loc *loc)
{
    if (isnan(value) || value < 0.0) /* an error is >= 0: anything else is +Inf */
        value = INFINITY;
    value += 0.0;
    if (add_to_bin(acc, rc_error_acc_key(acc, value), 1, value) != 0)
        return -1;
    acc->over_gate += value > acc->gate;
    /* Strictly greater: the first element that reaches the maximum keeps
     * the location, so a replay names the earliest worst case. */
    if (acc->count++ == 0 || value > acc->max) {
        acc->max = value;
        acc->has_worst = loc != NULL;
        if (loc)
            acc->worst = *loc;
    }
    return 0;
}

int rc_elem_loc_before(const rc_elem_loc *a, const rc_elem_loc *b)
{
    if (a->token != b->token)
        return a->token < b->token;
    if (a->head != b->head)
        return a->head < b->head;
    return a->channel < b->channel;
}

int rc_error_acc_tops(const rc_error_acc *acc, double value)
{
    if (isnan(value) || value < 0.0)
        value = INFINITY;
    return acc->count == 0 || value > acc->max;
}

int rc_error_acc_merge(rc_error_acc *into, const rc_error_acc *later)
{
    if (into->bits != later->bits || order_key(into->gate) != order_key(later->gate))
        return -1;
    const size_t width = (size_t)1 << later->bits;
    for (uint32_t p = 0; p < EXP_PAGES; p++) {
        const acc_page *pg = &later->pages[p];
        for (size_t i = 0; pg->bin && i < width; i++)
            if (pg->bin[i].count > 0 &&
                add_to_bin(into, (p << later->bits) | (uint32_t)i, pg->bin[i].count,
                           pg->bin[i].max) != 0)
                return -1;
    }
    into->over_gate += later->over_gate;
    /* The larger maximum wins; of equal ones the location with the smaller
     * index (token, head, channel), which is the first seen when the two
     * cover consecutive tokens and the same whatever order they merge in
     * (verify --jobs merges its threads' accumulators). A maximum added
     * without a location stays into's, as one pass would keep it. */
    if (later->count > 0 &&
        (into->count == 0 || later->max > into->max ||
         (later->max == into->max && later->has_worst && into->has_worst &&
          rc_elem_loc_before(&later->worst, &into->worst)))) {
        into->max = later->max;
        into->has_worst = later->has_worst;
        into->worst = later->worst;
    }
    into->count += later->count;
    return 0;
}

int rc_error_acc_bits(const rc_error_acc *acc)
{
    return acc->bits;
}

size_t rc_error_acc_bins(const rc_error_acc *acc, rc_error_bin *out, size_t cap)
{
    const size_t width = (size_t)1 << acc->bits;
    size_t n = 0;
    for (uint32_t p = 0; p < EXP_PAGES; p++) {
        const acc_page *pg = &acc->pages[p];
        for (size_t i = 0; pg->bin && i < width; i++) {
            if (pg->bin[i].count == 0)
                continue;
            if (n < cap)
                out[n] = (rc_error_bin){(p << acc->bits) | (uint32_t)i, pg->bin[i].count,
                                        pg->bin[i].max};
            n++;
        }
    }
    return n;
}

rc_error_acc *rc_error_acc_restore(double gate, int bits, int64_t over_gate,
                                   const rc_error_bin *bins, size_t n, const rc_elem_loc *worst)
{
    rc_error_acc *acc = rc_error_acc_create(gate, bits);
    if (!acc)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const rc_error_bin *b = &bins[i];
        /* a bin out of order, empty, or holding a maximum of another bin
         * is not one this file wrote */
        if ((i > 0 && b->key <= bins[i - 1].key) || b->count <= 0 || isnan(b->max) ||
            signbit(b->max) || rc_error_acc_key(acc, b->max) != b->key ||
            acc->count > INT64_MAX - b->count || add_to_bin(acc, b->key, b->count, b->max) != 0) {
            rc_error_acc_destroy(acc);
            return NULL;
        }
        if (acc->count == 0 || b->max > acc->max)
            acc->max = b->max;
        acc->count += b->count;
    }
    /* What the bins allow above the gate: every value of a bin past the
     * gate's own, and in the gate's bin at least one when its maximum is
     * above the gate, and at most all of them. */
    const uint32_t gate_key = rc_error_acc_key(acc, acc->gate);
    int64_t over_min = 0, over_max = 0;
    for (size_t i = 0; i < n; i++) {
        if (acc->gate < 0.0) { /* below every value: all of them are over */
            over_min += bins[i].count;
            over_max += bins[i].count;
        } else if (bins[i].key > gate_key) {
            over_min += bins[i].count;
            over_max += bins[i].count;
        } else if (bins[i].key == gate_key && bins[i].max > acc->gate) {
            over_min += 1;
            over_max += bins[i].count;
        }
    }
    if (over_gate < over_min || over_gate > over_max || (worst && acc->count == 0)) {
        rc_error_acc_destroy(acc);
        return NULL;
    }
    acc->over_gate = over_gate;
    acc->has_worst = worst != NULL;
    if (worst)
        acc->worst = *worst;
    return acc;
}

/* Nearest-rank quantile: the smallest value with at least p*n values at
 * or below it, i.e. 1-based rank ceil(p*n). */
static int64_t nearest_rank(double p, int64_t n)
{
    double r = ceil(p * (double)n);
    if (r < 1.0)
        r = 1.0;
    if (r > (double)n)
        r = (double)n;
    return (int64_t)r - 1;
}

void rc_error_acc_summarize(const rc_error_acc *acc, rc_error_summary *out)
{
    memset(out, 0, sizeof *out);
    out->gate = acc->gate;
    out->count = acc->count;
    if (acc->count == 0)
        return; /* max and quantiles 0, no worst case */
    const int64_t ranks[3] = {nearest_rank(0.5, acc->count), nearest_rank(0.99, acc->count),
                              nearest_rank(0.999, acc->count)};
    double *q[3] = {&out->p50, &out->p99, &out->p999};
    const size_t width = (size_t)1 << acc->bits;
    int64_t below = 0; /* values in the bins before this one */
    int r = 0;
    for (uint32_t p = 0; p < EXP_PAGES && r < 3; p++) {
        const acc_page *pg = &acc->pages[p];
        for (size_t i = 0; pg->bin && i < width && r < 3; i++) {
            below += pg->bin[i].count;
            while (r < 3 && ranks[r] < below)
                *q[r++] = pg->bin[i].max;
        }
    }
    out->max = acc->max;
    out->over_gate = acc->over_gate;
    out->has_worst = acc->has_worst;
    if (acc->has_worst)
        out->worst = acc->worst;
}
