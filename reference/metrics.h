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
    int64_t position;   /* m */
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

/* Accumulates one metric over many elements; keeps every value for exact
 * quantiles and the location of the largest. */
typedef struct rc_error_acc rc_error_acc;

typedef struct rc_error_summary {
    int64_t count;
    double max;
    double p50, p99, p999;   /* nearest-rank quantiles */
    double gate;             /* the threshold counted against (Inf: none) */
    int64_t over_gate;       /* values > gate */
    int has_worst;
    rc_elem_loc worst;       /* location of the max (first one seen) */
} rc_error_summary;

rc_error_acc *rc_error_acc_create(size_t expected_count);
void rc_error_acc_destroy(rc_error_acc *acc);
/* Returns 0, or -1 when out of memory. NaN values count as +Inf. */
int rc_error_acc_add(rc_error_acc *acc, double value, const rc_elem_loc *loc);
/* Reorders the stored values (selection); may be called more than once. */
void rc_error_acc_summarize(rc_error_acc *acc, double gate, rc_error_summary *out);

#endif /* ROPECHECK_METRICS_H */
