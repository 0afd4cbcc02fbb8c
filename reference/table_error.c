/*
 * reference/table_error.c - an implementation's frequency table against
 * the exact one (table_error.h).
 */
#include "reference/table_error.h"

#include <math.h>

#include "core/dd.h"
#include "reference/metrics.h"

int rc_table_error_measure(const double *got, const double *hi, const double *lo, size_t n,
                           rc_table_error *out)
{
    *out = (rc_table_error){0};
    out->n = n;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const double t = got[i];
        if (!(t > 0.0) || !isfinite(t)) {
            out->max_rel = out->max_f32_ulp = INFINITY;
            out->worst = (int)i;
            out->worst_got = t;
            out->worst_exact = hi[i];
            return -1;
        }
        /* t - (hi + lo): t - hi is exact as a two-sum; the one rounding
         * left is a relative 2^-53 of the error itself. */
        const rc_dd d = rc_two_sum(t, -hi[i]);
        const double err = fabs(d.hi + (d.lo - lo[i]));
        const rc_dd exact = {hi[i], lo[i]};
        const double rel = err / hi[i];
        const double ulps = err / rc_ulp_of(RC_DTYPE_F32, exact);
        if (rel > out->max_rel)
            out->max_rel = rel;
        if (ulps > out->max_f32_ulp || i == 0) {
            out->max_f32_ulp = ulps;
            out->worst = (int)i;
            out->worst_got = t;
            out->worst_exact = hi[i];
        }
    }
    return 0;
}
