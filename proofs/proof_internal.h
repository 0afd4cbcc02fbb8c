/*
 * proofs/proof_internal.h - what the oracles share: result bookkeeping and
 * setting up a probe from an rc_proof_spec.
 */
#ifndef ROPECHECK_PROOF_INTERNAL_H
#define ROPECHECK_PROOF_INTERNAL_H

#include "proofs/probe.h"
#include "proofs/proofs.h"

/* C11 has no M_PI; these are the doubles nearest pi and sqrt(2). */
#define RC_PI 3.141592653589793
#define RC_SQRT2 1.4142135623730951

#if defined(__GNUC__)
#define RC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RC_PRINTF(a, b)
/* Bound on |<f~(q,m), f~(k,n)> - <f(q,m), f(k,n)>| for the double dot
 * product of the implementation's outputs, derived in dot_slack.c from
 * the pair-ULP gate. rotated_only: the dot over channels < rotary_dim. */
double rc_proof_dot_slack(const rc_probe *p, double gate, const double *q, const double *k,
                          int rotated_only);

/* Dot product of n doubles (plain, in order: the slack above covers it). */
double rc_proof_dot(const double *x, const double *y, int n);

/* Random head: n values uniform in [-1, 1], rounded to the probe's dtype. */
struct rc_rng;
void rc_proof_random_head(const rc_probe *p, struct rc_rng *g, double *x, int n);

#endif

/* Zero the result, choose the dtype and gate, check the implementation
 * offers the case. Returns 0 when the oracle can run; else -1 with the
 * verdict (SKIPPED or ERROR) and reason set. */
int rc_proof_begin(const rc_impl *impl, const rc_proof_spec *spec, rc_proof_result *r,
                   rc_probe *p);

/* Append a finding (printf format); counts the ones that do not fit. */
void rc_proof_add(rc_proof_result *r, const char *fmt, ...) RC_PRINTF(2, 3);

/* Set the verdict from the findings (FAIL if any, else PASS). */
void rc_proof_finish(rc_proof_result *r);

/* ERROR with a reason (a failed call or allocation). */
void rc_proof_error(rc_proof_result *r, const char *why);

/* Bound on |<f~(q,m), f~(k,n)> - <f(q,m), f(k,n)>| for the double dot
 * product of the implementation's outputs, derived in dot_slack.c from
 * the pair-ULP gate. rotated_only: the dot over channels < rotary_dim. */
double rc_proof_dot_slack(const rc_probe *p, double gate, const double *q, const double *k,
                          int rotated_only);

/* Dot product of n doubles (plain, in order: the slack above covers it). */
double rc_proof_dot(const double *x, const double *y, int n);

/* Random head: n values uniform in [-1, 1], rounded to the probe's dtype. */
struct rc_rng;
void rc_proof_random_head(const rc_probe *p, struct rc_rng *g, double *x, int n);

#endif
