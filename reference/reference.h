/*
 * reference/reference.h - the MPFR oracle.
 *
 * For exact inputs (every f16/bf16/f32/f64 value is exact in MPFR) it
 * computes each output element's exact real value and that value rounded
 * once (to nearest, ties to even) to the output dtype, certified by a Ziv
 * loop: the working precision rises until mpfr_can_round proves the
 * rounding. reference/README.md writes down the error bound it relies on.
 *
 * The reference never calls an implementation.
 */
#ifndef ROPECHECK_REFERENCE_H
#define ROPECHECK_REFERENCE_H

#include <mpfr.h>
#include <stdint.h>

#include "core/dd.h"
#include "ropecheck/rope.h"

/* What an output element is. */
typedef enum rc_elem_kind {
    RC_ELEM_ROTATED = 0,     /* a component of a rotated pair, finite inputs */
    RC_ELEM_PASSTHROUGH = 1, /* channel >= rotary_dim: must equal the input bit-for-bit */
    RC_ELEM_SPECIAL = 2      /* a component of a pair with a NaN or Inf input */
} rc_elem_kind;

typedef struct rc_ref_elem {
    /* The exact real result rounded once to 80 bits (RC_REF_EXACT_BITS),
     * as hi = RN53(x), lo = RN80(x) - hi: canonical, whichever path
     * (MPFR or fast) computed it. For SPECIAL it is the IEEE-arithmetic
     * value of the formula with cos/sin correctly rounded to double (NaN,
     * +-Inf, or finite); lo = 0. */
    rc_dd exact;
    /* exact rounded once to the dtype, widened to double (RNE, gradual
     * underflow, overflow to Inf). */
    double rounded;
    /* alpha ||(a, b)|| of this element's input pair, in the same canonical
     * 80-bit form; for a passthrough channel, |x|. The scale of the
     * pair-ULP metric (only its binade is used). */
    rc_dd pair_norm;
    /* The element's partner channel in its pair (itself for passthrough). */
    int32_t partner;
    uint8_t kind;      /* rc_elem_kind */
    uint8_t certified; /* 1 when the Ziv loop proved `rounded` correct */
} rc_ref_elem;

typedef struct rc_ref rc_ref;

/* An oracle for one spec (head_dim, rotary_dim, base, layout, dtype; the
 * spec's theta table is ignored: the reference computes its own). Returns
 * NULL on allocation failure or an invalid spec. */
rc_ref *rc_ref_create(const rc_spec *spec);
void rc_ref_destroy(rc_ref *ref);

/* Rotate one head at position m (0 <= m <= RC_MAX_POSITION) in direction
 * dir. `in` holds head_dim input values, exactly as doubles; `out` receives
 * head_dim elements. sin/cos of the last position are cached, so calling
 * this for every head of a token costs one set of sin/cos. Returns 0, or
 * -1 for an invalid argument. */
int rc_ref_rotate_head(rc_ref *ref, int64_t m, rc_direction dir, const double *in,
                       rc_ref_elem *out);

/* Multi-axis RoPE (core/axes.h; DESIGN.md, "Multi-axis RoPE"): one head of
 * a token at positions pos[0 .. axes->n_axes - 1], pair i rotated by
 * pos[axes->pair_axis[i]] * theta_i. Every element is what
 * rc_ref_rotate_head gives at that pair's position, bit for bit (the pairs
 * are independent; this only picks each pair's position). Axes holding the
 * same position cost one set of sin/cos. Returns 0, or -1 for an invalid
 * argument (a map of another rotary_dim, a position out of range). */
struct rc_axes;
int rc_ref_rotate_head_axes(rc_ref *ref, const struct rc_axes *axes, const int64_t *pos,
                            rc_direction dir, const double *in, rc_ref_elem *out);

/* Which axes one output head follows (multi-axis RoPE): bit k of fits[ch],
 * ch < rotary_dim, is set when got[ch] (the head's output, as doubles) is
 * within `allowed` pair ULP of the exact rotation of its pair at pos[k];
 * axes at one position share their bits. A channel the reference does not
 * rotate (a special value) gets every bit, neutral to an intersection over
 * heads. scratch: head_dim elements. For the diagnosis and the axes proof,
 * which intersect these over heads and read the map off the result
 * (rc_axes_recover, core/axes.h). */
void rc_ref_axis_fits(rc_ref *ref, int32_t n_axes, const int64_t *pos, rc_direction dir,
                      const double *in, const double *got, double allowed,
                      rc_ref_elem *scratch, unsigned *fits);

/* theta_i = base^(-2i/r) as a double-double accurate to ~2^-104 relative:
 * the table the host hands to implementations in rc_spec. */
rc_dd rc_ref_theta_dd(double base, int rotary_dim, int i);

/* Fill hi[0..r/2-1], lo[0..r/2-1] with rc_ref_theta_dd for every pair. */
void rc_ref_theta_table(double base, int rotary_dim, double *hi, double *lo);

/* Round x to dtype t to nearest-even, with the dtype's subnormals and
 * overflow to +-Inf, and return it as a double (exact: every value of the
 * four dtypes is a double). Exposed for tests of the rounding edge cases. */
double rc_ref_round_to_dtype(mpfr_srcptr x, rc_dtype t);

/* Statistics of the last rc_ref_rotate_head calls (for reports and to
 * show the Ziv loop at work). */
typedef struct rc_ref_stats {
    uint64_t elements;       /* elements computed */
    uint64_t ziv_retries;    /* element roundings that needed more precision */
    uint64_t uncertified;    /* gave up at the precision cap (never seen) */
    long max_precision_used; /* bits */
    uint64_t pairs_fast;     /* pairs the certified fast path decided */
    uint64_t pairs_mpfr;     /* pairs computed by MPFR (fallback, specials, m = 0, or forced) */
} rc_ref_stats;

void rc_ref_get_stats(const rc_ref *ref, rc_ref_stats *out);

/* The certified fast path (on by default): double-double arithmetic with a
 * derived error bound, falling back to MPFR pair by pair where the bound
 * does not decide every stored field (reference/README.md, "The fast
 * path"). Both paths store identical bits; 0 forces MPFR for every pair
 * (--oracle mpfr), to check that claim or to time the slow path. */
void rc_ref_set_fast_path(rc_ref *ref, int enabled);

#endif /* ROPECHECK_REFERENCE_H */
