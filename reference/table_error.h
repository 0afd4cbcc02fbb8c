/*
 * reference/table_error.h - how far an implementation's own frequency
 * table (what a runner reports with protocol 3: a framework's inv_freq,
 * say) lies from the exact one. Frameworks build theta_i = base^(-2i/r)
 * in f32 or with a pow that is not correctly rounded; this names the
 * largest error and where, in units that mean something for that table.
 */
#ifndef ROPECHECK_REFERENCE_TABLE_ERROR_H
#define ROPECHECK_REFERENCE_TABLE_ERROR_H

#include <stddef.h>

typedef struct rc_table_error {
    size_t n;            /* entries compared */
    double max_rel;      /* max |t_i - theta_i| / theta_i */
    double max_f32_ulp;  /* max |t_i - theta_i| / ulp_f32(theta_i): 0.5 is a
                            correctly rounded f32 table */
    int worst;           /* the pair of max_f32_ulp (first one) */
    double worst_got;    /* t_worst */
    double worst_exact;  /* theta_worst rounded to double */
} rc_table_error;

/* Compares got[0..n) with the exact table theta_i = hi[i] + lo[i] (a
 * double-double, reference.h's rc_ref_freq_table). 0, or -1 when n is 0
 * or an entry is not finite and positive (then out->worst names the first
 * such entry and the errors are +Inf). */
int rc_table_error_measure(const double *got, const double *hi, const double *lo, size_t n,
                           rc_table_error *out);

#endif /* ROPECHECK_REFERENCE_TABLE_ERROR_H */
