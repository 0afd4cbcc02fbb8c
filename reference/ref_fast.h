/*
 * reference/ref_fast.h - the oracle's certified fast path (internal).
 *
 * The same exact values as the MPFR path (reference.h), computed in
 * double-double arithmetic with a derived error bound E per output, and
 * accepted only when that bound decides every stored field: the dtype
 * rounding, RN53 (exact.hi) and the canonical 80-bit exact value
 * (exact.lo), and the same for the pair norm. Anything it cannot decide
 * (a value near a rounding boundary, cancellation, special or extreme
 * inputs, position 0) goes back to the MPFR path, pair by pair, so the
 * two paths store identical bits. The error analysis is in
 * reference/README.md, "The fast path", and next to each step in
 * ref_fast.c.
 */
#ifndef ROPECHECK_REF_FAST_H
#define ROPECHECK_REF_FAST_H

#include <mpfr.h>
#include <stdint.h>

#include "reference/reference.h"

typedef struct rc_ref_fast rc_ref_fast;

/* The fast path for outputs of dtype t and n_pairs frequencies freq(i) (given by the caller at
 * `prec` bits, relative error < 3 * 2^-prec) and the output scale alpha
 * (NULL: exactly 1; alpha_exact: alpha is exactly the given value).
 * Returns NULL when out of memory; pairs whose frequency is outside the
 * fast domain are marked and always sent to MPFR. */
typedef void (*rc_ref_freq_fn)(mpfr_ptr rop, int i, const void *ctx);
rc_ref_fast *rc_ref_fast_create(int n_pairs, rc_dtype t, rc_ref_freq_fn freq, const void *ctx,
                                mpfr_srcptr alpha, int alpha_exact);
void rc_ref_fast_destroy(rc_ref_fast *f);

/* The working precision freq() must deliver (bits). */
#define RC_REF_FAST_FREQ_PREC 400

/* cos and sin of every pair's angle at position m, kept until the next
 * call; m = 0 (and anything outside [1, RC_MAX_POSITION]) computes none,
 * and every pair then goes to MPFR. */
void rc_ref_fast_set_position(rc_ref_fast *f, int64_t m);

/* Rotate pair i of the current position in double-double and certify:
 * returns 1 with both elements filled (exact, rounded, pair_norm, kind,
 * certified; not partner), or 0 when any field is undecided or the
 * inputs are outside the fast domain; the elements are then untouched. */
int rc_ref_fast_pair(const rc_ref_fast *f, int i, rc_direction dir, double a, double b,
                     rc_ref_elem *ea, rc_ref_elem *eb);

#endif /* ROPECHECK_REF_FAST_H */
