/*
 * harness/diagnose.h - why a verify case failed: the most likely cause,
 * checked against the outputs, with its evidence.
 *
 * The comparison pass (harness/verify.c) feeds every head it judged into
 * an accumulator: per token, head and pair the worst pair ULP, which
 * elements were never written, and for each failing pair the phase error
 * (the angle between the output pair and the exact one), the radial error
 * (the ratio of their norms) and the exact rotation angle. When the case
 * fails, rc_diagnose turns that into one finding, in this order of
 * evidence:
 *
 *   1. outputs never written (the fill pattern survives), by token;
 *   2. alternative models, each recomputed exactly (MPFR) on a sample of
 *      the failing heads and accepted only when it explains every one of
 *      them (error within the gate, or 2^10 times smaller than against the
 *      spec): another position (m+1, m-1, the token index, f32(m), 0: not
 *      rotated), the other direction, the other layout, other frequencies
 *      (the exponent over head_dim instead of rotary_dim; the base fitted
 *      from the outputs at position 1; base 10000);
 *   3. where the failures are confined: positions sharing a divisor, one
 *      token (first or last), one head, one pair;
 *   4. the shape of the error: a constant radial scale; a phase error
 *      growing with m (angle precision) or not (a sine/cosine
 *      approximation, a function of the reduced angle).
 * Structure (3) that holds is reported with a model (2) that explains it,
 * e.g. "wrong only at positions divisible by 384; there the outputs are
 * the exact rotation at m-1".
 *
 * The cause is a stable identifier for scripts and tests (the JSON's
 * "cause"); the finding is the sentence a person reads.
 */
#ifndef ROPECHECK_HARNESS_DIAGNOSE_H
#define ROPECHECK_HARNESS_DIAGNOSE_H

#include <stdint.h>

#include "harness/verify.h"
#include "reference/reference.h"

typedef struct rc_diag rc_diag;

/* An accumulator for one case; NULL when out of memory (the case is then
 * judged without a diagnosis). */
rc_diag *rc_diag_create(const rc_verify_case *c, double gate_pair);
void rc_diag_destroy(rc_diag *d);

/* One judged head: t, h, its position, inputs (head_dim doubles), the
 * reference's elements, the outputs as doubles and which were never
 * written (1 per channel). The pair ULPs are recomputed here from the
 * same reference values the gate used. */
void rc_diag_add_head(rc_diag *d, int64_t t, int64_t h, const double *in,
                      const rc_ref_elem *elems, const double *got, const unsigned char *unwritten);

/* Fill res->cause and res->finding for a failed case. out_data and the
 * strides are the output view the implementation wrote (still alive). */
void rc_diagnose(rc_diag *d, const void *out_data, int64_t token_stride, int64_t head_stride,
                 rc_verify_result *res);

#endif /* ROPECHECK_HARNESS_DIAGNOSE_H */
