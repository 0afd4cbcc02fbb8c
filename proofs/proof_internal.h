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
#endif

/* Zero the result, choose the dtype and gate, check the implementation
 * offers the case. Returns 0 when the oracle can run; else -1 with the
 * verdict (SKIPPED or ERROR) and reason set. */
int rc_proof_begin(const rc_impl *impl, const rc_proof_spec *spec, rc_proof_result *r,
                   rc_probe *p);

/* Append a finding (printf format); counts the ones that do not fit. */
void rc_proof_add(rc_proof_result *r, const char *fmt, ...) RC_PRINTF(2, 3);
/* Records a secondary figure (rc_proof_result.also); beyond
 * RC_PROOF_MAX_ALSO it is dropped (a programming error, caught by the
 * tests that pin the reports). */
void rc_proof_also(rc_proof_result *r, const char *name, double value);

/* Set the verdict from the findings (FAIL if any, else PASS). */
void rc_proof_finish(rc_proof_result *r);

/* ERROR with a reason (a failed call or allocation). */
void rc_proof_error(rc_proof_result *r, const char *why);

/* The verdict after a failed call (err: its line), from how it failed
 * (r->fault): prepare() declining the case is a skip; apply() refusing a
 * case prepare() accepted, or leaving outputs unwritten, is a finding (the
 * implementation broke the ABI's promise, and a gate that skipped it could
 * be passed by refusing everything); anything else is an error. Returns 0
 * when the verdict is FAIL (the oracle judged), else -1. */
int rc_proof_call_failed(rc_proof_result *r, const char *err);

/* The scale, relative to the input pair norm N, of the ULP the gate is
 * counted in, bounded above: with an output scale alpha the exact result
 * has norm alpha*N, and whether the metric takes ulp(N) or ulp(alpha*N),
 * ulp is monotone, so ulp(max(1, alpha)*N) bounds both. alpha is a double
 * within 2^-52 relative of the exact value (2^-104 for hi + lo, then hi
 * alone): the factor (1 + 2^-50) covers that and this product. */
double rc_proof_ulp_scale(const rc_probe *p);

/* Spacing of dtype t's values around x (its ulp there, subnormals
 * included). */
double rc_proof_grid_spacing(rc_dtype t, double x);

/* call_shape.c, for rotation.c before it reads any map: token t rotated
 * by positions[t] (not by t, not all alike), every output written, and
 * with RC_CAP_STRIDED head_stride honoured on input and output. Returns 0
 * (findings may have been added), 1 when the positions are not read (a
 * finding added; later probes would misread every output), or -1 on a
 * failed call (err: its line, for rc_proof_call_failed). */
int rc_call_shape_check(const rc_probe *p, double gate, rc_proof_result *r, char *err,
                        size_t err_len);

/* rotation_family.c, for rotation.c once the thetas are recovered.
 * miss[i] (i < n_cmp) is 1 for a recovered pair that misses the expected
 * scaled table (and is not simply reversed): names the table those pairs
 * match, p->scaling set. */
void rc_rotation_family_findings(const rc_probe *p, rc_rotation_id *id, const signed char *miss,
                                 int n_cmp);
/* Names a recovered table whose every theta is a bf16 (or f16) number. */
void rc_rotation_grid_findings(const rc_probe *p, rc_rotation_id *id, int n_cmp);

/* Bound on |<f~(q,m), f~(k,n)> - <f(q,m), f(k,n)>| for the double dot
 * product of the implementation's outputs, derived in dot_slack.c from
 * the pair-ULP gate. rotated_only: the dot over channels < rotary_dim. */
double rc_proof_dot_slack(const rc_probe *p, double gate, const double *q, const double *k,
                          int rotated_only);

/* Dot product of n doubles (plain, in order: the slack above covers it). */
double rc_proof_dot(const double *x, const double *y, int n);

/* relative.c: positions (m, n, m + t, n + t) of one trial, all in
 * [0, maxp]. Even trials keep |m - n| <= 256 (where attention looks);
 * t spans the whole range. */
struct rc_rng;
void rc_relative_draw_positions(struct rc_rng *g, int trial, int64_t maxp, int64_t pos[4]);

/* Random head: n values uniform in [-1, 1], rounded to the probe's dtype. */
void rc_proof_random_head(const rc_probe *p, struct rc_rng *g, double *x, int n);

#endif
