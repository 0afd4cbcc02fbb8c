/*
 * reference/metrics.h - ULP error metrics and their summary statistics.
 *
 * Errors are measured against the exact real value (not against its
 * rounding), so a correctly rounded result scores at most 0.5:
 *
 *   component ULP = |got - exact| / ulp_T(exact)
 *   pair ULP      = |got - exact| / ulp_T(||(a, b)||)
 *
 * ulp_T(x) for |x| in [2^e, 2^(e+1)) is 2^(e - p + 1), floored at the
 * smallest subnormal 2^(emin - p + 1) (so ulp_T(0) is that floor). The
 * binade is that of the exact value hi + lo, not of hi alone.
 * A NaN or infinite `got` against a finite exact value scores +Inf.
 */
#ifndef ROPECHECK_METRICS_H
#define ROPECHECK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/dd.h"
#include "ropecheck/rope.h"

/* ulp_T(|x|) as a double (a power of two). */
double rc_ulp_of(rc_dtype t, rc_dd x);

/* |got - exact| / ulp_T(scale). got and exact finite; +Inf if got is not. */
double rc_ulp_error(rc_dtype t, double got, rc_dd exact, rc_dd scale);

/* Where an error was seen: enough to replay the case. */
typedef struct rc_elem_loc {
    int64_t token;      /* index in the batch */
    int64_t position;   /* m: the position this channel's pair rotates by */
    int32_t n_axes;     /* >= 2: a multi-axis case, the token's positions below */
    int64_t positions[RC_MAX_AXES];
    int32_t head;
    int32_t channel;    /* the output channel measured */
    int32_t partner;    /* the other channel of its pair */
    double in_self;     /* input at `channel` */
    double in_partner;  /* input at `partner` */
    uint64_t in_self_bits;
    uint64_t in_partner_bits;
    double got;
    uint64_t got_bits;
    rc_dd exact;
    double rounded;     /* the correctly rounded result */
    /* Under a framework profile (banded = 1) the errors are distances from
     * the band [band_lo, band_hi] of the framework's results and
     * band_pred is its prediction; exact and rounded stay the exact
     * rotation's, so a report never shows one under the other's name. */
    int banded;
    double band_pred, band_lo, band_hi;
    double pair_ulp;
    double component_ulp;
} rc_elem_loc;

/* 1 when a comes before b in a case's element order (token, head, channel). */
int rc_elem_loc_before(const rc_elem_loc *a, const rc_elem_loc *b);

/* Accumulates one metric over many elements in memory that grows with
 * the binades the values span, not with their number, and merges exactly
 * with another accumulator of the same gate and resolution (the chunks of
 * a sweep, the token ranges of verify --shard). */
typedef struct rc_error_acc rc_error_acc;

typedef struct rc_error_summary {
    int64_t count;
    double max;
    /* Quantiles at the accumulator's resolution r: the largest value in
     * the bin of relative width 2^-r (metrics.c) that holds the
     * nearest-rank quantile (1-based rank ceil(p*n)). So each is a value
     * that occurred, at or above the exact quantile and within a relative
     * 2^-r of it; equal values give the exact quantile. */
    double p50, p99, p999;
    double gate;             /* the threshold counted against (Inf: none) */
    int64_t over_gate;       /* values > gate */
    int has_worst;
    rc_elem_loc worst;       /* location of the max (first one seen) */
} rc_error_summary;

/* Resolution of the summaries the harness keeps: the case's statistics
 * (2^-10: about 3 significant digits) and the per-position ones (plots:
 * 2^-4). */
#define RC_ERROR_ACC_BITS 10
#define RC_ERROR_ACC_PLOT_BITS 4
#define RC_ERROR_ACC_MAX_BITS 12

/* gate: values above it are counted (NaN or +Inf: none is); bits: the
 * quantile resolution, 0..RC_ERROR_ACC_MAX_BITS. NULL: out of memory or
 * bits out of range. */
rc_error_acc *rc_error_acc_create(double gate, int bits);
void rc_error_acc_destroy(rc_error_acc *acc);
/* Returns 0, or -1 when out of memory. NaN (and negative) values count
 * as +Inf. */
int rc_error_acc_add(rc_error_acc *acc, double value, const rc_elem_loc *loc);
/* 1 when adding value would make it the maximum (so its location would be
 * kept): a caller builds the location only then. */
int rc_error_acc_tops(const rc_error_acc *acc, double value);
/* Adds `later` to into: the result is what into would hold had it seen
 * both; of equal maxima the location that comes first (rc_elem_loc_before)
 * is kept, so the result does not depend on the order of merging when each
 * accumulator saw its own elements in increasing order, every maximum with
 * its location (as verify gives them; by_position's none). -1: another gate
 * or resolution, or out of memory (into is then unusable). */
int rc_error_acc_merge(rc_error_acc *into, const rc_error_acc *later);
void rc_error_acc_summarize(const rc_error_acc *acc, rc_error_summary *out);

/* The histogram itself, for a file that resumes or merges it: bin key
 * (the value's exponent field and top r significand bits), count, and the
 * largest value in it. */
typedef struct rc_error_bin {
    uint32_t key;
    int64_t count;
    double max;
} rc_error_bin;

int rc_error_acc_bits(const rc_error_acc *acc);
uint32_t rc_error_acc_key(const rc_error_acc *acc, double value);
/* The non-empty bins in increasing key order: fills up to cap, returns
 * how many there are. */
size_t rc_error_acc_bins(const rc_error_acc *acc, rc_error_bin *out, size_t cap);
/* An accumulator from a summary's gate, over_gate and worst location (NULL:
 * none) and its bins. NULL when they cannot come from one (keys out of
 * order, a bin maximum outside its bin, an over-gate count the bins rule
 * out) or out of memory. */
rc_error_acc *rc_error_acc_restore(double gate, int bits, int64_t over_gate,
                                   const rc_error_bin *bins, size_t n, const rc_elem_loc *worst);

#endif /* ROPECHECK_METRICS_H */
