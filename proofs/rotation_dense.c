/*
 * proofs/rotation_dense.c - the dense-position part of rotation
 * identification: Eq. 30 (phi(m) = phi(0) + m*theta, an arithmetic
 * progression) checked at EVERY position 0..1030 and at positions around
 * 2^24 and 2^31, in one call, and what the positions that break it say.
 *
 * WHY THESE POSITIONS. A port wrong only at some positions (a cache that
 * misses every 384th, a position rounded to float) passes any sparse set.
 * Every period p <= 1030 has a nonzero multiple in 0..1030 (p itself), so a
 * defect periodic in m shows; 2^24 - 3 .. 2^24 + 3 bracket the first
 * position a float cannot hold (2^24 + 1), and 2^31 - 2, 2^31 - 1 are the
 * last the gate covers. All go into one apply() call, token t at a position
 * other than t and shuffled, so the call is made the way a model makes it.
 *
 * WHAT IS READ. Each position gets one input: every pair (a, b) the unit
 * probes found set to (1, 0), every other channel 0. The output is the
 * block's first column alpha*(cos phi, sin phi) + (e1, e2), |e_k| <= eps
 * (the contract), so (rotation.c's header) the column's angle is within
 * tol_phi of phi and |c^2 + s^2 - alpha^2| <= orth.
 *
 * THE LINE. With theta_i recovered by the unit probes (uncertainty
 * sigma_i), phi_i(m) - phi_i(0) - m*theta_i reduced mod 2*pi is within
 *     2*tol_phi + m*sigma_i + 2^-46
 * (two angles, the prediction's uncertainty, and the roundings of reducing
 * numbers below 4*pi); m*theta_i mod 2*pi is formed in MPFR at 160 bits,
 * which adds nothing visible. A position where that fails for some pair is
 * bad. A pair is judged at m only while that bound stays below pi/2.
 *
 * DIAGNOSES, each checked against the outputs, never assumed:
 *  - shift s: phi_i(m) = (m + s)*theta_i (absolute, not from phi(0)) for
 *    every pair and position, within tol_phi + |m+s|*sigma_i + 2^-46:
 *    the positions are off by s (a phi(0) != 0 is how it shows first).
 *  - divisor g: the bad positions in 1..1030 are exactly the multiples of
 *    some g >= 2 (at least two of them); "repeats m-1" when phi_i(m) is
 *    within 2*tol_phi of phi_i(m-1) on every pair.
 *  - float position: every bad position has (float)m != m and its angles
 *    lie on the line at (float)m instead; so no position a float holds is
 *    bad.
 *  - sine/cosine approximation: columns whose c^2 + s^2 misses alpha^2
 *    exist, but none at m = 0 (angle 0, where every series is exact), and
 *    the largest radial error at m >= 2^24 is at most twice the largest in
 *    0..1030: the error depends on the angle (the window sweeps every
 *    angle: theta_0 turns by about 1 rad a step), not on m. A constant
 *    radial scale (which shows at m = 0 too) is not this; nor is a cos/sin
 *    table kept in a narrow format, which rotation.c names from the grid
 *    of the entries (grid_named).
 *
 * INVERSE. RC_INVERSE rotates by -phi: its angle at m is -phi(m) within
 * 2*tol_phi + 2^-46 (two angles from the contract). When it is instead
 * +phi(m), within the same bound, at every position where +phi and -phi
 * differ by more than twice that (phi away from 0 and pi), the direction
 * argument is ignored.
 */
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proofs/rotation_internal.h"

static const int64_t far_pos[] = {16777213,   16777215,  16777216,  16777217,
                                  16777219,   2147483646, 2147483647};
#define WINDOW 1031 /* positions 0..1030 */
#define NFAR ((int)(sizeof far_pos / sizeof far_pos[0]))
#define NDENSE (WINDOW + NFAR)
/* Row t of the call holds position index (t + ROW_SHIFT) % NDENSE: a
 * rotation of the order with no fixed point, so no token sits at its own
 * index (a port rotating token t by t is then wrong everywhere). */
#define ROW_SHIFT 517
#define MP_PREC 160

static int64_t dense_pos(int k)
{
    return k < WINDOW ? (int64_t)k : far_pos[k - WINDOW];
}

static int64_t float_of(int64_t m)
{
    return (int64_t)(float)m;
}

/* The columns read back: angle and radial scale per (position, pair). */
typedef struct cols {
    int np;
    double *phi; /* [k * np + i]; NaN for a non-finite column */
    double *rho; /* sqrt(c^2 + s^2) */
} cols;

#define PHI(c, k, i) ((c)->phi[(size_t)(k) * (size_t)(c)->np + (size_t)(i)])
#define RHO(c, k, i) ((c)->rho[(size_t)(k) * (size_t)(c)->np + (size_t)(i)])

static int cols_alloc(cols *c, int np)
{
    c->np = np;
    c->phi = malloc((size_t)NDENSE * (size_t)np * sizeof *c->phi);
    c->rho = malloc((size_t)NDENSE * (size_t)np * sizeof *c->rho);
    return c->phi && c->rho ? 0 : -1;
}

static void cols_free(cols *c)
{
    free(c->phi);
    free(c->rho);
}

/* One call: every position, every pair set to (1, 0). */
static rc_status read_columns(const rc_probe *p, const rc_rot_pair *pairs, int np,
                              rc_direction dir, cols *c, char *err, size_t err_len)
{
    const size_t d = (size_t)p->head_dim;
    double *in = calloc((size_t)NDENSE * d, sizeof *in);
    double *out = malloc((size_t)NDENSE * d * sizeof *out);
    int64_t *pos = malloc((size_t)NDENSE * sizeof *pos);
    rc_status st = RC_ERR_NOMEM;
    if (!in || !out || !pos) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (int t = 0; t < NDENSE; t++) {
        pos[t] = dense_pos((t + ROW_SHIFT) % NDENSE);
        for (int i = 0; i < np; i++)
            in[(size_t)t * d + (size_t)pairs[i].a] = 1.0;
    }
    st = rc_probe_apply(p, in, pos, NDENSE, dir, out, err, err_len);
    if (st != RC_OK)
        goto done;
    for (int t = 0; t < NDENSE; t++) {
        const int k = (t + ROW_SHIFT) % NDENSE;
        for (int i = 0; i < np; i++) {
            const double cc = out[(size_t)t * d + (size_t)pairs[i].a];
            const double ss = out[(size_t)t * d + (size_t)pairs[i].b];
            const int ok = isfinite(cc) && isfinite(ss);
            PHI(c, k, i) = ok ? atan2(ss, cc) : NAN;
            RHO(c, k, i) = ok ? sqrt(cc * cc + ss * ss) : NAN;
        }
    }
done:
    free(in);
    free(out);
    free(pos);
    return st;
}

/* m*theta mod 2*pi, in (-pi, pi], for a pair's recovered theta. */
typedef struct mp_ctx {
    mpfr_t twopi, x;
} mp_ctx;

static void mp_init(mp_ctx *m)
{
    mpfr_inits2(MP_PREC, m->twopi, m->x, (mpfr_ptr)0);
    mpfr_const_pi(m->twopi, MPFR_RNDN);
    mpfr_mul_2ui(m->twopi, m->twopi, 1, MPFR_RNDN);
}

static void mp_clear(mp_ctx *m)
{
    mpfr_clears(m->twopi, m->x, (mpfr_ptr)0);
}

static double angle_at(mp_ctx *c, const rc_rot_pair *p, int64_t m)
{
    mpfr_set_d(c->x, p->th_hi, MPFR_RNDN);
    mpfr_add_d(c->x, c->x, p->th_lo, MPFR_RNDN);
    mpfr_mul_d(c->x, c->x, (double)m, MPFR_RNDN); /* |m| < 2^53: exact as a double */
    mpfr_remainder(c->x, c->x, c->twopi, MPFR_RNDN);
    return mpfr_get_d(c->x, MPFR_RNDN);
}

/* Which line a phase is measured from: through phi(0) (two measured
 * angles) or through the origin (one). */
typedef enum line_kind { LINE_ABSOLUTE, LINE_RELATIVE } line_kind;

/* The line's bound at m (header: THE LINE). */
static double line_tol(const rc_rot_tols *t, const rc_rot_pair *p, int64_t m, line_kind rel)
{
    return (rel == LINE_RELATIVE ? 2.0 : 1.0) * t->phi + fabs((double)m) * p->th_sigma +
           0x1p-46;
}

/* |phi_i(k) - phi_i(0) - m'*theta_i| (rel) or |phi_i(k) - m'*theta_i|,
 * reduced; 0 with *judged = 0 where the bound reaches pi/2. */
static double line_dev(mp_ctx *mc, const cols *c, const rc_rot_pair *p, const rc_rot_tols *t,
                       int k, int i, int64_t m_at, line_kind rel, double *tol, int *judged)
{
    *tol = line_tol(t, p, m_at, rel);
    *judged = p->has_theta && *tol < RC_PI / 2;
    if (!*judged)
        return 0.0;
    const double base = rel == LINE_RELATIVE ? PHI(c, 0, i) : 0.0;
    const double dev = fabs(rc_rot_wrap(PHI(c, k, i) - base - angle_at(mc, p, m_at)));
    return isnan(dev) ? INFINITY : dev;
}

/* Eq. 30 at every probed position: which are bad, and the first. */
static void find_bad(mp_ctx *mc, const cols *c, const rc_rot_pair *pairs, const rc_rot_tols *t,
                     unsigned char *bad, rc_dense_report *rep)
{
    for (int k = 0; k < NDENSE; k++) {
        bad[k] = 0;
        for (int i = 0; i < c->np && !bad[k]; i++) {
            double tol;
            int judged;
            const double dev =
                line_dev(mc, c, &pairs[i], t, k, i, dense_pos(k), LINE_RELATIVE, &tol, &judged);
            if (!judged || dev <= tol)
                continue;
            bad[k] = 1;
            if (rep->n_bad++ == 0) {
                rep->first_bad = dense_pos(k);
                rep->first_bad_pair = i;
                rep->first_bad_dev = dev;
                rep->first_bad_tol = tol;
            }
        }
    }
}

/* Every judged pair at every position on the absolute line at m + s (and
 * at least one judged). */
static int fits_shift(mp_ctx *mc, const cols *c, const rc_rot_pair *pairs, const rc_rot_tols *t,
                      int s)
{
    int n_judged = 0;
    for (int k = 0; k < NDENSE; k++)
        for (int i = 0; i < c->np; i++) {
            double tol;
            int judged;
            const double dev =
                line_dev(mc, c, &pairs[i], t, k, i, dense_pos(k) + s, LINE_ABSOLUTE, &tol,
                         &judged);
            if (judged && !(dev <= tol))
                return 0;
            n_judged += judged;
        }
    return n_judged > 0;
}

/* A shift shows first as phi(0) != 0 on a pair whose theta is known (the
 * evidence the fit then explains): try the small ones. */
static void diagnose_shift(mp_ctx *mc, const cols *c, const rc_rot_pair *pairs,
                           const rc_rot_tols *t, rc_dense_report *rep)
{
    int phi0_off = 0;
    for (int i = 0; i < c->np; i++)
        phi0_off |= pairs[i].has_theta && !(fabs(PHI(c, 0, i)) <= t->phi);
    if (!phi0_off)
        return;
    static const int shifts[] = {1, -1, 2, -2, 3, -3};
    for (size_t q = 0; q < sizeof shifts / sizeof shifts[0]; q++)
        if (fits_shift(mc, c, pairs, t, shifts[q])) {
            rep->shift = shifts[q];
            return;
        }
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        const int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The bad positions of 1..1030 are exactly the multiples of some g >= 2. */
static void diagnose_divisor(const cols *c, const unsigned char *bad, const rc_rot_tols *t,
                             rc_dense_report *rep)
{
    int64_t g = 0, n = 0;
    for (int k = 1; k < WINDOW; k++)
        if (bad[k]) {
            g = gcd64((int64_t)k, g);
            n++;
        }
    if (n < 2 || g < 2 || n != (WINDOW - 1) / g)
        return;
    rep->divisor = g;
    rep->divisor_repeats_prev = 1;
    for (int64_t m = g; m < WINDOW; m += g) {
        if (rep->n_divisor_hits < 8)
            rep->divisor_hits[rep->n_divisor_hits++] = m;
        for (int i = 0; i < c->np; i++)
            rep->divisor_repeats_prev &=
                fabs(rc_rot_wrap(PHI(c, m, i) - PHI(c, m - 1, i))) <= 2.0 * t->phi + 0x1p-46;
    }
}

/* Every bad position is one a float cannot hold, and lies on the line at
 * (float)m. */
static void diagnose_float(mp_ctx *mc, const cols *c, const unsigned char *bad,
                           const rc_rot_pair *pairs, const rc_rot_tols *t, rc_dense_report *rep)
{
    if (rep->n_bad == 0)
        return;
    for (int k = 0; k < NDENSE; k++) {
        if (!bad[k])
            continue;
        const int64_t m = dense_pos(k), mf = float_of(m);
        if (mf == m)
            return;
        for (int i = 0; i < c->np; i++) {
            double tol;
            int judged;
            const double dev =
                line_dev(mc, c, &pairs[i], t, k, i, mf, LINE_RELATIVE, &tol, &judged);
            if (judged && !(dev <= tol))
                return;
        }
    }
    rep->float_position = 1;
    for (int k = 0; k < NDENSE && rep->n_float_hits < 8; k++)
        if (bad[k])
            rep->float_hits[rep->n_float_hits++] = dense_pos(k);
}

/* Radial errors that come with the angle, not with m (header). */
static void diagnose_sine(const cols *c, const rc_rot_tols *t, int grid_named,
                          rc_dense_report *rep)
{
    const double a2 = t->alpha * t->alpha;
    int n_off = 0, zero_off = 0;
    rep->radial_lo = INFINITY;
    rep->radial_hi = -INFINITY;
    for (int k = 0; k < NDENSE; k++)
        for (int i = 0; i < c->np; i++) {
            const double rho = RHO(c, k, i);
            if (!isfinite(rho))
                continue;
            const double r2 = rho * rho;
            rep->radial_lo = fmin(rep->radial_lo, r2 / a2);
            rep->radial_hi = fmax(rep->radial_hi, r2 / a2);
            const int off = !(fabs(r2 - a2) <= t->orth);
            n_off += off;
            zero_off |= off && k == 0;
            double *worst = k < WINDOW ? &rep->radial_err_window : &rep->radial_err_far;
            *worst = fmax(*worst, fabs(rho - t->alpha) / t->alpha);
        }
    rep->sine_approx = n_off > 0 && !zero_off && !grid_named &&
                       rep->radial_err_far <= 2.0 * rep->radial_err_window;
}

/* RC_INVERSE against the forward angles (header: INVERSE). */
static void compare_inverse(const cols *fw, const cols *inv, const rc_rot_pair *pairs,
                            const rc_rot_tols *t, rc_dense_report *rep)
{
    const double tol = 2.0 * t->phi + 0x1p-46;
    int candidates = 0, same = 0;
    for (int k = 0; k < NDENSE; k++) {
        int bad = 0;
        for (int i = 0; i < fw->np; i++) {
            const double f = PHI(fw, k, i), b = PHI(inv, k, i);
            if (!isfinite(f))
                continue;
            const double dev = fabs(rc_rot_wrap(b + f));
            if (!(dev <= tol) && !bad) {
                bad = 1;
                if (rep->inverse_bad == 0) {
                    rep->inverse_first_bad = dense_pos(k);
                    rep->inverse_first_phi = b;
                    rep->inverse_first_expected = rc_rot_wrap(-f);
                }
            }
            if (fabs(rc_rot_wrap(2.0 * f)) > 2.0 * tol) {
                candidates++;
                same += fabs(rc_rot_wrap(b - f)) <= tol;
            }
        }
        rep->inverse_bad += bad;
    }
    rep->inverse_same = candidates > 0 && same == candidates;
    /* The turning sense of the inverse: the step from m = 0 to m = 1. */
    int cw = 0, ccw = 0;
    for (int i = 0; i < inv->np; i++) {
        if (!pairs[i].has_theta)
            continue;
        const double step = rc_rot_wrap(PHI(inv, 1, i) - PHI(inv, 0, i));
        cw += step < -tol;
        ccw += step > tol;
    }
    rep->inverse_direction = cw > 0 && ccw == 0 ? -1 : ccw > 0 && cw == 0 ? 1 : 0;
}

rc_status rc_rotation_dense(const rc_probe *p, const rc_rot_pair *pairs, int np,
                            const rc_rot_tols *t, int grid_named, rc_dense_report *rep,
                            char *err, size_t err_len)
{
    memset(rep, 0, sizeof *rep);
    if (np < 1)
        return RC_OK;
    cols fw = {0}, inv = {0};
    unsigned char *bad = malloc(NDENSE);
    rc_status st = RC_ERR_NOMEM;
    snprintf(err, err_len, "out of memory");
    if (!bad || cols_alloc(&fw, np) != 0 || cols_alloc(&inv, np) != 0)
        goto done;
    st = read_columns(p, pairs, np, RC_FORWARD, &fw, err, err_len);
    if (st != RC_OK)
        goto done;
    rep->ran = 1;
    rep->n_pos = NDENSE;
    mp_ctx mc;
    mp_init(&mc);
    find_bad(&mc, &fw, pairs, t, bad, rep);
    diagnose_shift(&mc, &fw, pairs, t, rep);
    diagnose_divisor(&fw, bad, t, rep);
    diagnose_float(&mc, &fw, bad, pairs, t, rep);
    diagnose_sine(&fw, t, grid_named, rep);
    mp_clear(&mc);
    if (p->impl->caps & RC_CAP_INVERSE) {
        st = read_columns(p, pairs, np, RC_INVERSE, &inv, err, err_len);
        if (st != RC_OK)
            goto done;
        rep->inverse_ran = 1;
        compare_inverse(&fw, &inv, pairs, t, rep);
    }
done:
    free(bad);
    cols_free(&fw);
    cols_free(&inv);
    return st;
}

int rc_dense_explains_angles(const rc_dense_report *rep)
{
    return rep->shift != 0 || rep->divisor > 1 || rep->float_position || rep->sine_approx;
}

/* "a, b, c" from up to n positions. */
static void list_positions(const int64_t *m, int n, int64_t (*map)(int64_t), char *buf,
                           size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int q = 0; q < n && used < len; q++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", q ? ", " : "",
                                 (long long)(map ? map(m[q]) : m[q]));
}

static void shift_finding(const rc_dense_report *rep, rc_proof_result *r)
{
    static const char *const words[] = {"", "one", "two", "three"};
    const int s = rep->shift, as = s < 0 ? -s : s;
    char angle[32];
    if (as == 1)
        snprintf(angle, sizeof angle, "%stheta_i", s < 0 ? "-" : "");
    else
        snprintf(angle, sizeof angle, "%d*theta_i", s);
    rc_proof_add(r,
                 "positions off by %s: the output at every position m is the exact rotation "
                 "at m%+d (the angle at m=0 is %s on every pair, not 0)",
                 words[as], s, angle);
}

void rc_rotation_dense_findings(const rc_dense_report *rep, rc_proof_result *r)
{
    char list[96], list2[96];
    if (rep->ran && rep->shift != 0)
        shift_finding(rep, r);
    if (rep->ran && rep->divisor > 1) {
        list_positions(rep->divisor_hits, rep->n_divisor_hits, NULL, list, sizeof list);
        rc_proof_add(r,
                     "wrong at positions sharing the divisor %lld: in 0..1030 exactly the "
                     "multiples of %lld (%s) are off the line phi(0) + m*theta_i%s; every other "
                     "position there is right",
                     (long long)rep->divisor, (long long)rep->divisor, list,
                     rep->divisor_repeats_prev ? " (each repeats position m-1's angle)" : "");
    }
    if (rep->ran && rep->float_position) {
        list_positions(rep->float_hits, rep->n_float_hits, NULL, list, sizeof list);
        list_positions(rep->float_hits, rep->n_float_hits, float_of, list2, sizeof list2);
        rc_proof_add(r,
                     "position rounded to float: the outputs at m = %s are the rotations at "
                     "(float)m = %s; every position a float holds is right (wrong from 2^24+1 "
                     "on)",
                     list, list2);
    }
    if (rep->ran && rep->sine_approx)
        rc_proof_add(r,
                     "sine/cosine approximation: cos^2 + sin^2 = %.6g..%.6g with the angle (1 "
                     "at angle 0), an error periodic in the angle, not growing with m (largest "
                     "radial error %.3g at m <= 1030, %.3g at m >= 2^24)",
                     rep->radial_lo, rep->radial_hi, rep->radial_err_window,
                     rep->radial_err_far);
    if (rep->ran && rep->n_bad > 0 && !rc_dense_explains_angles(rep))
        rc_proof_add(r,
                     "angle off the line phi(0) + m*theta_i at %d of %d densely probed positions "
                     "(first m=%lld, pair %d: off by %.3g rad, allowed %.3g): not the arithmetic "
                     "progression of Eq. 30",
                     rep->n_bad, rep->n_pos, (long long)rep->first_bad, rep->first_bad_pair,
                     rep->first_bad_dev, rep->first_bad_tol);
    if (rep->inverse_ran && rep->inverse_same)
        rc_proof_add(r, "direction ignored: RC_INVERSE turns the same way as RC_FORWARD (its "
                        "angle is +phi(m), not -phi(m), at every densely probed position)");
    else if (rep->inverse_ran && rep->inverse_bad > 0)
        rc_proof_add(r,
                     "RC_INVERSE is not the inverse rotation at %d of %d densely probed positions "
                     "(first m=%lld: angle %.9g, expected -phi(m) = %.9g)",
                     rep->inverse_bad, rep->n_pos, (long long)rep->inverse_first_bad,
                     rep->inverse_first_phi, rep->inverse_first_expected);
}
