/*
 * proofs/rotation_internal.h - what rotation identification (rotation.c)
 * shares with its dense-position probe (rotation_dense.c): the derived
 * tolerances, the pairs it found with their recovered thetas, and what the
 * dense probe concludes about the positions.
 */
#ifndef ROPECHECK_PROOFS_ROTATION_INTERNAL_H
#define ROPECHECK_PROOFS_ROTATION_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "proofs/proof_internal.h"

/* The tolerances of rotation.c's header, for unit inputs. */
typedef struct rc_rot_tols {
    double alpha; /* expected radial scale */
    double eps;   /* a rotated component's allowed error */
    double orth;  /* |Gram - alpha^2| of a block, |c^2 + s^2 - alpha^2| of a column */
    double phi;   /* an angle read from a block or a column */
    double incr;  /* two angle increments */
} rc_rot_tols;

/* x reduced to (-pi, pi]. remainder() is exact for the rounded 2*pi; the
 * rounding of 2*pi itself (2.4e-16) times |k| <= 2 is covered by the
 * 2^-46 slack the callers add. */
static inline double rc_rot_wrap(double x)
{
    return remainder(x, 2.0 * RC_PI);
}

/* A pair as rotation.c found it: its channels and, if recovered, theta as
 * a double-double with its derived uncertainty (theta is needed to ~2^-80
 * relative to predict angles at m near 2^31, hence two doubles). */
typedef struct rc_rot_pair {
    int a, b;
    int has_theta;
    double th_hi, th_lo, th_sigma;
} rc_rot_pair;

/* What the dense probe saw and concluded (rotation_dense.c). */
typedef struct rc_dense_report {
    int ran;                  /* the forward probe ran (at least one pair) */
    int n_pos;                /* positions probed */
    int n_bad;                /* positions off the line phi(0) + m theta_i */
    int64_t first_bad;        /* the first of them, with its worst pair */
    int first_bad_pair;
    double first_bad_dev, first_bad_tol;
    /* Diagnoses: each says the bad positions follow one known defect. */
    int shift;                /* != 0: the output at m is the rotation at m + shift */
    int64_t divisor;          /* > 1: exactly the window's multiples of it are bad */
    int64_t divisor_hits[8];  /* those multiples (up to 8) */
    int n_divisor_hits;
    int divisor_repeats_prev; /* ... and each repeats position m-1's angle */
    int float_position;       /* exactly the m with (float)m != m are bad, at (float)m */
    int64_t float_hits[8];    /* those m (up to 8) */
    int n_float_hits;
    int sine_approx;          /* radial error depends on the angle, not on m */
    double radial_lo, radial_hi;           /* cos^2 + sin^2 range (over alpha^2) */
    double radial_err_window, radial_err_far; /* largest |rho - alpha| / alpha */
    /* RC_INVERSE over the same positions (when offered). */
    int inverse_ran;
    int inverse_bad;          /* positions where it is not the forward angle negated */
    int64_t inverse_first_bad;
    double inverse_first_phi, inverse_first_expected;
    int inverse_same;         /* it equals the forward rotation: direction ignored */
    int inverse_direction;    /* +1 counter-clockwise, -1 clockwise, 0 unknown */
} rc_dense_report;

/* Probe every position 0..1030 and a few beyond 2^24 with one input per
 * position (every pair (1, 0)) in one call, positions shuffled so that no
 * token's position is its index; then RC_INVERSE if offered. Fills rep.
 * Returns RC_OK or the failing call's status (err: its line). */
rc_status rc_rotation_dense(const rc_probe *p, const rc_rot_pair *pairs, int np,
                            const rc_rot_tols *t, int grid_named, rc_dense_report *rep,
                            char *err, size_t err_len);

/* The findings of the dense probe: the diagnosis that fits, or the plain
 * Eq. 30 failure when none does; and the inverse's. */
void rc_rotation_dense_findings(const rc_dense_report *rep, rc_proof_result *r);

/* A diagnosis explains the angle errors: the unit probe's drift, increment
 * and theta findings are its consequences, not other causes. */
int rc_dense_explains_angles(const rc_dense_report *rep);

#endif
