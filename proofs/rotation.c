/*
 * proofs/rotation.c - rotation identification (RoFormer Sec. 3.4.1).
 *
 * The paper derives RoPE as the solution of f(q,m)^T f(k,n) = g(q,k,m-n):
 * the radial part of f cannot depend on the position, the angle is
 * phi(m) = m*theta + phi(0) with phi(0) = 0 (Eq. 30, an arithmetic
 * progression), and each pair of channels turns by its own theta_i. Here
 * the same facts are read back from an implementation's outputs: the
 * output of a unit vector e_j is column j of the linear map at position m,
 * so probing every e_j gives the whole matrix, from which we read which
 * channels couple (layout, rotary_dim), each pair's 2x2 block, and from
 * the blocks' angles theta_i, the base and the direction.
 *
 * TOLERANCES. Let p be the dtype's precision and G the pair-ULP gate. A
 * unit input has pair norm N = 1 and ulp_T(1) = 2^(1-p), so the contract
 * puts every rotated component within eps = G * 2^(1-p) of the exact
 * cos(m*theta) or +-sin(m*theta), and every output of a zero pair at 0.
 * From that, for an exact block [[c, -s], [s, c]] measured with entry
 * errors e_k, |e_k| <= eps:
 *   Gram and det:  (c+e1)^2 + (s+e2)^2 - 1 = 2(c e1 + s e2) + e1^2 + e2^2,
 *                  so |R^T R - I| and |det R - 1| are <= 2*sqrt(2)*eps +
 *                  2*eps^2 (|c| + |s| <= sqrt(2)); the off-diagonal and det
 *                  expand the same way. Plus the double arithmetic forming
 *                  them (three roundings of numbers below 4): 2^-50.
 *   angle:         phi = atan2(R10 - R01, R00 + R11) uses the averaged
 *                  (cos, sin) estimate, within sqrt(2)*eps of the true unit
 *                  vector, so its angle is off by at most asin(sqrt(2)*eps)
 *                  <= sqrt(2)*eps*(1 + 2*eps^2) (asin x <= x(1 + x^2) for
 *                  x <= 1/2); atan2 (glibc: < 1 ulp of a result below pi,
 *                  ulp(pi) = 2^-51) and the averaging's roundings add less
 *                  than 2^-49.
 *   increments:    phi(m+1) - phi(m) reduced mod 2*pi is within 2*tol_phi of
 *                  theta mod 2*pi; two increments differ by <= 4*tol_phi, plus
 *                  the reductions' roundings (|x| < 4*pi, 2^-46 is ample).
 *   theta:         from phi(M) + 2*pi*n - phi(0) = M*theta, the estimate is
 *                  within 2*tol_phi / M; the unwrapping (choosing n) is only
 *                  trusted while the prediction's uncertainty is below pi/2.
 * These hold for any implementation that meets the gate at positions below
 * 2^31, which is why every probe position is below 2^31.
 *
 * OUTPUT SCALE. With a scaling family the exact block is alpha times the
 * rotation (YaRN's or LongRoPE's attention factor), and the gate counts in
 * ulp_T(N) or ulp_T(alpha N); both are at most ulp_T(A) for N = 1, with
 * A = max(1, alpha) (rc_proof_ulp_scale), so eps = G * 2^(1-p) * A. The
 * expansions above then read, for the block alpha*[[c, -s], [s, c]] + E:
 *   Gram and det:  |R^T R - alpha^2 I|, |det R - alpha^2| <=
 *                  2*sqrt(2)*alpha*eps + 2*eps^2, plus the roundings of
 *                  forming them and of alpha^2 in double (alpha within
 *                  2^-52 relative): 2^-49 * A^2.
 *   angle:         the averaged estimate is alpha*(cos, sin) within
 *                  sqrt(2)*eps, so the angle is off by at most
 *                  asin(sqrt(2)*eps/alpha): eps/alpha replaces eps.
 * A block that is a rotation times some other scale sigma (Gram sigma^2 I
 * within the same expansion with sigma for alpha) is named: sigma = 1 on
 * every block when alpha != 1 is the attention factor missing, sigma =
 * alpha^2 the factor applied twice.
 */
#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "proofs/proof_internal.h"
#include "reference/reference.h"
#include "reference/scaling.h"

static const int64_t probe_pos[] = {0,        1,        2,        3,
                                    4,        5,        1000,     1001,
                                    65536,    65537,    16777219, 16777220,
                                    2147483646, 2147483647};
#define NPOS ((int)(sizeof probe_pos / sizeof probe_pos[0]))
/* Indices k with probe_pos[k+1] == probe_pos[k] + 1: the increments. */
static const int incr_at[] = {0, 1, 2, 3, 4, 6, 8, 10, 12};
#define NINCR ((int)(sizeof incr_at / sizeof incr_at[0]))

#define MP_PREC 160 /* angles to ~2^-160: far below any tolerance here */

/* x reduced to (-pi, pi]. remainder() is exact for the rounded 2*pi; the
 * rounding of 2*pi itself (2.4e-16) times |k| <= 2 is covered by the
 * 2^-46 slack in the increment bound. */
static double wrap(double x)
{
    return remainder(x, 2.0 * RC_PI);
}

typedef struct pairinfo {
    int a, b;            /* channels, a < b */
    int valid[NPOS];     /* block is finite and a (possibly scaled) rotation */
    double phi[NPOS];
    int coupled_ok;      /* a and b feed only each other */
} pairinfo;

/* A defect seen in some blocks: counted, the first one described. */
typedef struct tally {
    int count;
    char first[RC_PROOF_FINDING_LEN];
} tally;

static void tally_add(tally *t, const char *text)
{
    if (t->count++ == 0)
        snprintf(t->first, sizeof t->first, "%s", text);
}

static void tally_emit(rc_proof_result *r, const tally *t, int total)
{
    if (t->count == 1)
        rc_proof_add(r, "%s", t->first);
    else if (t->count > 1)
        rc_proof_add(r, "%s (and %d more of %d blocks)", t->first, t->count - 1, total);
}

/* X(c <- j) at probe k: output channel c of f(e_j, probe_pos[k]). */
#define X(k, j, c) out[((size_t)(k) * (size_t)d + (size_t)(j)) * (size_t)d + (size_t)(c)]

/* Which channels couple. partner[j] = k if j feeds exactly one other
 * channel k, -1 if none, -2 if several. Threshold eps: the exact output of
 * a zero pair is 0, so any value above the contract's eps is real. */
static void find_partners(const double *out, int d, double eps, int *partner,
                          rc_proof_result *r)
{
    int reported_multi = 0, nonfinite = 0;
    for (int j = 0; j < d; j++) {
        int first = -1, n = 0, second = -1;
        for (int c = 0; c < d; c++) {
            if (c == j)
                continue;
            int hit = 0;
            for (int k = 0; k < NPOS && !hit; k++) {
                const double v = X(k, j, c);
                /* Non-finite outputs say nothing about coupling; they are
                 * named here once and by the block checks per pair. */
                if (!isfinite(v)) {
                    if (nonfinite++ == 0)
                        rc_proof_add(r, "output is not finite: channel %d of f(e_%d, m=%lld) "
                                        "is %g",
                                     c, j, (long long)probe_pos[k], v);
                    continue;
                }
                hit = fabs(v) > eps;
            }
            if (hit) {
                if (n == 0)
                    first = c;
                else if (n == 1)
                    second = c;
                n++;
            }
        }
        partner[j] = n == 0 ? -1 : n == 1 ? first : -2;
        if (n > 1 && reported_multi++ < 4)
            rc_proof_add(r,
                         "channel %d feeds %d other channels (%d, %d, ...): not a pairwise "
                         "rotation",
                         j, n, first, second);
    }
}

/* Pairs (a, b), a < b, that feed each other; layout and rotary_dim. */
static int collect_pairs(const int *partner, int d, pairinfo *pairs, rc_rotation_id *id)
{
    rc_proof_result *r = &id->res;
    int np = 0, asym = 0;
    for (int a = 0; a < d; a++) {
        int b = partner[a];
        if (b < 0)
            continue;
        if (partner[b] != a) {
            if (asym++ < 4)
                rc_proof_add(r, "channel %d feeds channel %d but %d does not feed %d back", a,
                             b, b, a);
            continue;
        }
        if (b > a) {
            memset(&pairs[np], 0, sizeof pairs[np]);
            pairs[np].a = a;
            pairs[np].b = b;
            pairs[np].coupled_ok = 1;
            np++;
        }
    }
    /* Layout: pair i is (2i, 2i+1) or (i, i + P). With one pair both agree. */
    int inter = np > 0, half = np > 0;
    for (int i = 0; i < np; i++) {
        inter &= pairs[i].a == 2 * i && pairs[i].b == 2 * i + 1;
        half &= pairs[i].a == i && pairs[i].b == i + np;
    }
    id->rotary_dim_found = 2 * np;
    if (inter && half)
        id->layout_found = -2; /* both: resolved by the caller to the spec's */
    else if (inter)
        id->layout_found = RC_LAYOUT_INTERLEAVED;
    else if (half) {
        id->layout_found = RC_LAYOUT_HALF;
    } else {
        id->layout_found = -1;
        if (np > 0)
            rc_proof_add(r,
                         "channels pair in neither layout (first pairs (%d,%d), (%d,%d)): not "
                         "interleaved nor half",
                         pairs[0].a, pairs[0].b, np > 1 ? pairs[1].a : -1,
                         np > 1 ? pairs[1].b : -1);
    }
    return np;
}

/* Every channel that is not paired must come back bit-exact. */
static void check_unpaired(const double *out, int d, const int *partner, int spec_r,
                           rc_proof_result *r)
{
    int changed = 0;
    for (int j = 0; j < d; j++) {
        if (partner[j] != -1)
            continue;
        for (int k = 0; k < NPOS; k++) {
            if (X(k, j, j) != 1.0) {
                if (changed++ < 4)
                    rc_proof_add(r,
                                 "channel %d (%s) is not passed through unchanged: e_%d -> %.9g "
                                 "at m=%lld",
                                 j, j < spec_r ? "spec: rotated" : "spec: passthrough", j,
                                 X(k, j, j), (long long)probe_pos[k]);
                break;
            }
        }
    }
}

typedef struct tols {
    double alpha; /* expected radial scale */
    double eps, orth, phi, incr;
} tols;

/* Gram/det tolerance of a block that is a rotation times sigma (header:
 * OUTPUT SCALE); orth is this at sigma = alpha. */
static double orth_at(const tols *t, double sigma)
{
    return 2.0 * RC_SQRT2 * sigma * t->eps + 2.0 * t->eps * t->eps +
           0x1p-49 * fmax(1.0, sigma * sigma);
}

/* Rotation entries |v|/alpha in [0.25, 0.75] (away from +-1 and 0, where a
 * rounded result sits on every grid) that lie on a narrow format's grid:
 * a cos/sin table kept in that format. A correct entry is within
 * eps/alpha of a value that is not on the grid except by chance; counted
 * only where that is below 1/16 of the grid's spacing (probability of a
 * chance hit below 1/8 per entry, and 16 or more entries are required). */
typedef struct grid_count {
    int disc, on;
} grid_count;

static const rc_dtype narrow[] = {RC_DTYPE_BF16, RC_DTYPE_F16};
#define NNARROW 2

static void grid_entry(const tols *t, rc_dtype dt, double v, grid_count *gc)
{
    const double x = fabs(v) / t->alpha;
    if (!(x >= 0.25 && x <= 0.75))
        return;
    const double tol = t->eps / t->alpha * (1 + 0x1p-50) + 0x1p-52;
    for (int g = 0; g < NNARROW; g++) {
        if (rc_dtype_format(narrow[g])->precision >= rc_dtype_format(dt)->precision ||
            !(tol <= rc_proof_grid_spacing(narrow[g], x) / 16.0))
            continue;
        gc[g].disc++;
        gc[g].on += fabs(x - rc_round_to_dtype(narrow[g], x)) <= tol;
    }
}

/* The block checks at every probe position; fills phi[] of valid blocks. */
static void check_blocks(const double *out, int d, pairinfo *pairs, int np, const tols *t,
                         const rc_probe *pr, rc_proof_result *r, double *max_orth)
{
    tally nonfinite = {0, ""}, scaled = {0, ""}, reflect = {0, ""}, nonorth = {0, ""};
    char buf[RC_PROOF_FINDING_LEN];
    const double a2 = t->alpha * t->alpha;
    /* Blocks that are rotations at all; of the scaled ones, how many have
     * scale 1 and alpha^2, and the range of their scale. */
    int n_rot = 0, n_one = 0, n_sq = 0;
    double smin = INFINITY, smax = 0.0;
    grid_count gc[NNARROW] = {{0, 0}, {0, 0}};
    for (int i = 0; i < np; i++) {
        const int a = pairs[i].a, b = pairs[i].b;
        for (int k = 0; k < NPOS; k++) {
            const long long m = (long long)probe_pos[k];
            const double r00 = X(k, a, a), r10 = X(k, a, b), r01 = X(k, b, a), r11 = X(k, b, b);
            pairs[i].valid[k] = 0;
            if (!isfinite(r00) || !isfinite(r10) || !isfinite(r01) || !isfinite(r11)) {
                snprintf(buf, sizeof buf, "pair %d: output is not finite at m=%lld", i, m);
                tally_add(&nonfinite, buf);
                continue;
            }
            const double g00 = r00 * r00 + r10 * r10, g11 = r01 * r01 + r11 * r11;
            const double g01 = r00 * r01 + r10 * r11, det = r00 * r11 - r01 * r10;
            if (k > 0) {
                grid_entry(t, pr->dtype, r00, gc);
                grid_entry(t, pr->dtype, r10, gc);
                grid_entry(t, pr->dtype, r01, gc);
                grid_entry(t, pr->dtype, r11, gc);
            }
            double e = fmax(fmax(fabs(g00 - a2), fabs(g11 - a2)), fabs(g01));
            if (e > *max_orth)
                *max_orth = e;
            if (e <= t->orth && det > 0.0) {
                pairs[i].valid[k] = 1;
                n_rot++;
            } else {
                /* A rotation times a scale s has Gram s^2 I and det s^2. */
                const double s2 = 0.5 * (g00 + g11), sg = sqrt(s2);
                const double es = fmax(fmax(fabs(g00 - s2), fabs(g11 - s2)), fabs(g01));
                if (det > 0.0 && es <= orth_at(t, sg) && fabs(det - s2) <= orth_at(t, sg)) {
                    snprintf(buf, sizeof buf,
                             "pair %d: radial scale %.6g at m=%lld (expected %.6g; the radial "
                             "part must not depend on position)",
                             i, sg, m, t->alpha);
                    tally_add(&scaled, buf);
                    n_rot++;
                    n_one += fabs(s2 - 1.0) <= orth_at(t, 1.0);
                    n_sq += fabs(s2 - a2 * a2) <= orth_at(t, a2);
                    smin = fmin(smin, sg);
                    smax = fmax(smax, sg);
                    pairs[i].valid[k] = 1; /* the angle is still meaningful */
                } else if (det < 0.0) {
                    snprintf(buf, sizeof buf,
                             "pair %d: block at m=%lld is a reflection (det = %.6g), not a "
                             "rotation",
                             i, m, det);
                    tally_add(&reflect, buf);
                } else {
                    snprintf(buf, sizeof buf,
                             "pair %d: block at m=%lld is not orthogonal (|R^T R - I| = %.3g, "
                             "allowed %.3g)",
                             i, m, e, t->orth);
                    tally_add(&nonorth, buf);
                }
            }
            if (pairs[i].valid[k])
                pairs[i].phi[k] = atan2(r10 - r01, r00 + r11);
        }
    }
    const int total = np * NPOS;
    tally_emit(r, &nonfinite, total);
    /* The attention factor: every rotation block scaled by 1 or alpha^2
     * instead of alpha, where those differ from alpha beyond tolerance. */
    const char *fam = pr->scaling ? rc_scaling_type_name(pr->scaling->type) : "";
    if (scaled.count > 0 && scaled.count == n_rot && n_one == n_rot &&
        fabs(a2 - 1.0) > orth_at(t, 1.0))
        rc_proof_add(r,
                     "radial scale 1 on every pair; expected the %s attention factor %.6g "
                     "(alpha): it is missing",
                     fam, t->alpha);
    else if (scaled.count > 0 && scaled.count == n_rot && n_sq == n_rot &&
             fabs(a2 * a2 - a2) > orth_at(t, a2))
        rc_proof_add(r,
                     "radial scale %.6g = alpha^2 on every pair: the %s attention factor %.6g "
                     "is applied twice",
                     0.5 * (smin + smax), fam, t->alpha);
    else
        tally_emit(r, &scaled, total);
    for (int g = 0; g < NNARROW; g++)
        if (gc[g].disc >= 16 && gc[g].on == gc[g].disc) {
            rc_proof_add(r,
                         "every rotation entry is a %s number (%d entries with |cos| or |sin| "
                         "in [0.25, 0.75] at m > 0): the cos/sin table is kept in %s",
                         rc_dtype_name(narrow[g]), gc[g].disc, rc_dtype_name(narrow[g]));
            break;
        }
    tally_emit(r, &reflect, total);
    tally_emit(r, &nonorth, total);
}

/* Recover theta of one pair by unwrapping phi(M) - phi(0) over growing M.
 * Returns 1 with *theta, *sigma (its uncertainty); 0 if phi(0) or phi(1)
 * is missing. *drift_m / *drift get the first position whose phase is off
 * the line through phi(0) with slope theta by more than its uncertainty. */
static int recover_theta(const pairinfo *p, const tols *t, mpfr_ptr theta, double *sigma,
                         long long *drift_m, double *drift, double *drift_tol)
{
    *drift_m = -1;
    if (!p->valid[0] || !p->valid[1])
        return 0;
    mpfr_t twopi, pred, tmp, nn;
    mpfr_inits2(MP_PREC, twopi, pred, tmp, nn, (mpfr_ptr)0);
    mpfr_const_pi(twopi, MPFR_RNDN);
    mpfr_mul_2ui(twopi, twopi, 1, MPFR_RNDN);
    const double phi0 = p->phi[0];
    mpfr_set_d(theta, wrap(p->phi[1] - phi0), MPFR_RNDN);
    double sig = 2.0 * t->phi + 0x1p-49; /* two angles + the subtraction */
    for (int k = 2; k < NPOS; k++) {
        if (!p->valid[k])
            continue;
        const double m = (double)probe_pos[k];
        const double unc = m * sig + t->phi; /* of the predicted phi(m) */
        if (unc >= RC_PI / 2)
            break; /* the unwrapping would be a guess */
        /* pred = phi0 + m*theta - phi(m); n = nearest multiple of 2*pi */
        mpfr_mul_d(pred, theta, m, MPFR_RNDN);
        mpfr_add_d(pred, pred, phi0, MPFR_RNDN);
        mpfr_sub_d(pred, pred, p->phi[k], MPFR_RNDN);
        mpfr_div(nn, pred, twopi, MPFR_RNDN);
        mpfr_round(nn, nn);
        mpfr_mul(tmp, nn, twopi, MPFR_RNDN);
        mpfr_sub(tmp, pred, tmp, MPFR_RNDN);
        const double resid = mpfr_get_d(tmp, MPFR_RNDN);
        if (fabs(resid) > unc) {
            *drift_m = (long long)probe_pos[k];
            *drift = resid;
            *drift_tol = unc;
            break;
        }
        /* theta = (phi(m) + 2*pi*n - phi0) / m */
        mpfr_mul(tmp, nn, twopi, MPFR_RNDN);
        mpfr_add_d(tmp, tmp, p->phi[k], MPFR_RNDN);
        mpfr_sub_d(tmp, tmp, phi0, MPFR_RNDN);
        mpfr_div_d(theta, tmp, m, MPFR_RNDN);
        sig = (2.0 * t->phi + 0x1p-49) / m;
    }
    *sigma = sig;
    mpfr_clears(twopi, pred, tmp, nn, (mpfr_ptr)0);
    return 1;
}

/* The increments phi(m+1) - phi(m) must all equal the first (Eq. 30). */
static void check_increments(const pairinfo *p, int i, const tols *t, tally *bad, double *worst)
{
    if (!p->valid[0] || !p->valid[1])
        return;
    const double d0 = wrap(p->phi[1] - p->phi[0]);
    for (int q = 1; q < NINCR; q++) {
        const int k = incr_at[q];
        if (!p->valid[k] || !p->valid[k + 1])
            continue;
        const double dk = wrap(p->phi[k + 1] - p->phi[k]);
        const double dev = fabs(wrap(dk - d0));
        if (dev > *worst)
            *worst = dev;
        if (dev > t->incr) {
            char buf[RC_PROOF_FINDING_LEN];
            snprintf(buf, sizeof buf,
                     "pair %d: angle increments are not constant: phi(m+1)-phi(m) = %.9g at "
                     "m=%lld but %.9g at m=0 (differ by %.3g rad, allowed %.3g): not the "
                     "arithmetic progression of Eq. 30",
                     i, dk, (long long)probe_pos[k], d0, dev, t->incr);
            tally_add(bad, buf);
            return;
        }
    }
}

/* theta_i expected by the spec (the host's table, scaled or not: hi + lo
 * within 2^-104 relative) and by the off-by-one schedule
 * base^(-2(i+1)/r) = theta_i * theta_1 of the plain table, both to ~2^-100
 * relative. The off-by-one schedule is only meaningful unscaled. */
static void expected_theta(const double *hi, const double *lo, double base, int r, int i,
                           mpfr_ptr exp_t, mpfr_ptr alt_t)
{
    mpfr_set_d(exp_t, hi[i], MPFR_RNDN);
    mpfr_add_d(exp_t, exp_t, lo[i], MPFR_RNDN);
    if (r >= 4) {
        mpfr_t x;
        mpfr_init2(x, MP_PREC);
        mpfr_set_d(x, hi[1], MPFR_RNDN);
        mpfr_add_d(x, x, lo[1], MPFR_RNDN);
        mpfr_mul(alt_t, exp_t, x, MPFR_RNDN);
        mpfr_clear(x);
    } else {
        mpfr_set_d(alt_t, 1.0 / base, MPFR_RNDN); /* r = 2: base^-1 */
    }
}

/* log theta_i = a + b*i by least squares over the pairs with theta > 0. */
static void fit_base(rc_rotation_id *id, int r)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (int i = 0; i < id->n_pairs; i++) {
        const double th = fabs(id->theta[i]);
        if (!(th > 0.0) || !isfinite(th))
            continue;
        const double y = log(th);
        sx += i;
        sy += y;
        sxx += (double)i * i;
        sxy += i * y;
        n++;
    }
    id->base_fit = NAN;
    id->fit_intercept = NAN;
    if (n < 2)
        return;
    const double den = n * sxx - sx * sx;
    const double slope = (n * sxy - sx * sy) / den;
    id->fit_intercept = (sy - slope * sx) / n;
    id->base_fit = exp(-slope * r / 2.0);
}

/* RC_INVERSE must rotate by -phi: its matrix at m is the transpose of the
 * forward one. Each entry of either is within eps of the exact value
 * (the contract), so corresponding entries differ by at most 2 eps. */
static void check_inverse(const rc_probe *pr, const double *out, int d, double eps,
                          rc_proof_result *r)
{
    static const int ks[] = {1, 6, NPOS - 1}; /* m = 1, 1000, 2^31 - 1 */
    double *inv = malloc((size_t)d * (size_t)d * sizeof *inv);
    char err[256];
    if (!inv) {
        rc_proof_add(r, "inverse direction not checked: out of memory");
        return;
    }
    for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
        const int k = ks[q];
        if (rc_probe_unit(pr, &probe_pos[k], 1, RC_INVERSE, inv, err, sizeof err) != RC_OK) {
            rc_proof_add(r, "inverse direction failed: %s", err);
            break;
        }
        double worst = 0.0;
        int wj = 0, wc = 0;
        for (int j = 0; j < d; j++)
            for (int c = 0; c < d; c++) {
                /* inverse(e_j)[c] = forward(e_c)[j] */
                const double dev = fabs(inv[(size_t)j * (size_t)d + (size_t)c] - X(k, c, j));
                if (!(dev <= worst)) {
                    worst = isnan(dev) ? INFINITY : dev;
                    wj = j;
                    wc = c;
                }
            }
        if (worst > 2.0 * eps) {
            rc_proof_add(r,
                         "RC_INVERSE is not the inverse rotation at m=%lld: channel %d of "
                         "inverse(e_%d) is %.9g, forward transpose says %.9g",
                         (long long)probe_pos[k], wc, wj, inv[(size_t)wj * (size_t)d + (size_t)wc],
                         X(k, wc, wj));
            break;
        }
    }
    free(inv);
}

/* theta_0 = 1 (checked by the caller) and theta_i = theta_1^i for every
 * pair: a base^(-2i/r) schedule, B = theta_1^(-r/2). theta_1^i inherits
 * theta_1's uncertainty times d(theta_1^i)/d(theta_1) = i*theta_1^(i-1);
 * pow's own error (< 2 ulp) is covered by 2^-50 relative. */
static int geometric(const rc_rotation_id *id, int n)
{
    const double t1 = id->theta[1], s1 = id->theta_tol[1];
    for (int i = 2; i < n; i++) {
        const double pred = pow(fabs(t1), i);
        const double tol = id->theta_tol[i] + i * pow(fabs(t1), i - 1) * s1 + pred * 0x1p-50;
        if (!(fabs(fabs(id->theta[i]) - pred) <= tol))
            return 0;
    }
    return 1;
}

int rc_prove_rotation(const rc_impl *impl, const rc_proof_spec *spec, rc_rotation_id *id)
{
    memset(id, 0, sizeof *id);
    rc_proof_result *r = &id->res;
    rc_probe pr;
    if (rc_proof_begin(impl, spec, r, &pr) != 0)
        return -1;
    const int d = spec->head_dim, spec_r = spec->rotary_dim;
    const double u2 = 2.0 * rc_dtype_unit_roundoff(r->dtype); /* ulp_T(1) */
    tols t;
    t.alpha = pr.alpha;
    t.eps = r->gate_pair * u2 * rc_proof_ulp_scale(&pr);
    t.orth = orth_at(&t, t.alpha);
    /* eps/alpha with alpha rounded down by its 2^-52 (header) */
    const double ea = t.eps / (t.alpha * (1.0 - 0x1p-50));
    t.phi = RC_SQRT2 * ea * (1.0 + 2.0 * ea * ea) + 0x1p-49;
    t.incr = 4.0 * t.phi + 0x1p-46;
    snprintf(r->figure_name, sizeof r->figure_name,
             "max |theta_i - expected| / tolerance (<= 1 passes)");

    double *out = malloc((size_t)NPOS * (size_t)d * (size_t)d * sizeof *out);
    int *partner = malloc((size_t)d * sizeof *partner);
    pairinfo *pairs = malloc((size_t)d * sizeof *pairs);
    double *ex_hi = malloc((size_t)spec_r / 2 * sizeof *ex_hi);
    double *ex_lo = malloc((size_t)spec_r / 2 * sizeof *ex_lo);
    if (!out || !partner || !pairs || !ex_hi || !ex_lo) {
        free(out);
        free(partner);
        free(pairs);
        free(ex_hi);
        free(ex_lo);
        rc_proof_error(r, "out of memory");
        return -1;
    }
    rc_ref_freq_table(spec->base, spec_r, pr.scaling, ex_hi, ex_lo);
    char err[256];
    /* One position per call: the unit-vector input is d x d, not
     * NPOS x d x d (at d = 1024 the outputs alone are 117 MB). */
    rc_status st = RC_OK;
    for (int k = 0; k < NPOS && st == RC_OK; k++)
        st = rc_probe_unit(&pr, &probe_pos[k], 1, RC_FORWARD,
                           out + (size_t)k * (size_t)d * (size_t)d, err, sizeof err);
    if (st != RC_OK) {
        free(out);
        free(partner);
        free(pairs);
        free(ex_hi);
        free(ex_lo);
        rc_proof_error(r, err);
        return -1;
    }

    find_partners(out, d, t.eps, partner, r);
    const int np = collect_pairs(partner, d, pairs, id);
    if (id->layout_found == -2)
        id->layout_found = (int)spec->layout;
    if (id->layout_found >= 0 && id->layout_found != (int)spec->layout)
        rc_proof_add(r, "channels pair as %s, spec says %s",
                     rc_layout_name((rc_layout)id->layout_found), rc_layout_name(spec->layout));
    if (id->layout_found >= 0 && id->rotary_dim_found != spec_r)
        rc_proof_add(r, "rotary_dim is %d (channels %d.. pass through), spec says %d",
                     id->rotary_dim_found, id->rotary_dim_found, spec_r);
    check_unpaired(out, d, partner, spec_r, r);

    double max_orth = 0.0;
    check_blocks(out, d, pairs, np, &t, &pr, r, &max_orth);
    if (impl->caps & RC_CAP_INVERSE)
        check_inverse(&pr, out, d, t.eps, r);

    /* Angles: phi(0), increments, theta. */
    tally phi0_bad = {0, ""}, incr_bad = {0, ""}, drift_bad = {0, ""};
    double worst_incr = 0.0, worst_ratio = 0.0;
    mpfr_t th, ex, alt, diff;
    mpfr_inits2(MP_PREC, th, ex, alt, diff, (mpfr_ptr)0);
    id->n_pairs = np < RC_MAX_HEAD_DIM / 2 ? np : RC_MAX_HEAD_DIM / 2;
    const int n_cmp_max = id->n_pairs < spec_r / 2 ? id->n_pairs : spec_r / 2;
    /* Per compared pair: 1 if theta matches the spec, the reversed spec
     * (-theta), or the off-by-one schedule; 0 if not; -1 if not recovered. */
    signed char *match = calloc((size_t)n_cmp_max + 1, 4);
    signed char *rev = match + n_cmp_max + 1, *altm = rev + n_cmp_max + 1;
    signed char *miss = altm + n_cmp_max + 1; /* recovered, neither match nor rev */
    if (!match) {
        mpfr_clears(th, ex, alt, diff, (mpfr_ptr)0);
        free(out);
        free(partner);
        free(pairs);
        free(ex_hi);
        free(ex_lo);
        rc_proof_error(r, "out of memory");
        return -1;
    }
    int n_cmp = 0, n_match = 0, n_alt = 0, n_rev = 0, n_pos = 0, n_neg = 0;
    int mism_reported = 0, n_swapped = 0;
    int swapped_pairs[8];
    char buf[RC_PROOF_FINDING_LEN];
    for (int i = 0; i < id->n_pairs; i++) {
        pairinfo *p = &pairs[i];
        const double phi0 = p->valid[0] ? p->phi[0] : NAN;
        if (p->valid[0] && !(fabs(phi0) <= t.phi)) {
            snprintf(buf, sizeof buf, "pair %d: angle at m=0 is %.9g rad, expected 0", i, phi0);
            tally_add(&phi0_bad, buf);
        }
        check_increments(p, i, &t, &incr_bad, &worst_incr);
        double sigma;
        long long drift_m;
        double drift = 0, drift_tol = 0;
        id->theta[i] = NAN;
        if (i < n_cmp_max)
            match[i] = rev[i] = altm[i] = -1;
        if (!recover_theta(p, &t, th, &sigma, &drift_m, &drift, &drift_tol))
            continue;
        if (drift_m >= 0) {
            snprintf(buf, sizeof buf,
                     "pair %d: phase error grows with m: phi(%lld) is %.3g rad off the line "
                     "phi(0) + m*theta (allowed %.3g): the angle is computed in too low a "
                     "precision",
                     i, drift_m, drift, drift_tol);
            tally_add(&drift_bad, buf);
        }
        id->theta[i] = mpfr_get_d(th, MPFR_RNDN);
        /* The double id->theta carries 2^-53 relative on top. */
        id->theta_tol[i] = sigma + fabs(id->theta[i]) * 0x1p-52;
        /* Pairs beyond the spec's r/2 have no expected theta. */
        if (i < spec_r / 2)
            expected_theta(ex_hi, ex_lo, spec->base, spec_r, i, ex, alt);
        id->theta_expected[i] = i < spec_r / 2 ? mpfr_get_d(ex, MPFR_RNDN) : NAN;
        if (id->theta[i] > sigma)
            n_pos++;
        else if (id->theta[i] < -sigma)
            n_neg++;
        if (i >= n_cmp_max)
            continue; /* more pairs than the spec has: reported above */
        /* sigma from the unwrapping; the expected values are good to
         * ~2^-104 relative (dd table, and one MPFR_PREC product for alt). */
        const double tol = sigma + id->theta_expected[i] * 0x1p-100;
        n_cmp++;
        mpfr_sub(diff, th, ex, MPFR_RNDN);
        const double dev = fabs(mpfr_get_d(diff, MPFR_RNDN));
        if (dev / tol > worst_ratio)
            worst_ratio = dev / tol;
        mpfr_add(diff, th, ex, MPFR_RNDN);
        match[i] = dev <= tol;
        /* A theta within its tolerance of both +theta and -theta (tiny
         * theta in a short-precision dtype) is evidence of neither. */
        rev[i] = !match[i] && fabs(mpfr_get_d(diff, MPFR_RNDN)) <= tol;
        mpfr_sub(diff, th, alt, MPFR_RNDN);
        altm[i] = !pr.scaling && fabs(mpfr_get_d(diff, MPFR_RNDN)) <= tol;
        miss[i] = !match[i] && !rev[i];
        n_match += match[i];
        n_rev += rev[i];
        n_alt += altm[i];
        if (match[i])
            continue;
        if (rev[i]) {
            /* [[s,-c],[c,s]] is the rotation by pi/2 - m*theta: a phase of
             * pi/2 at m = 0 and a clockwise turn. */
            if (fabs(wrap(phi0 - RC_PI / 2)) <= t.phi && n_swapped < 8)
                swapped_pairs[n_swapped++] = i;
            continue;
        }
        if (mism_reported++ < 4)
            rc_proof_add(r, "pair %d: theta %.12g expected %.12g +- %.2g (off by %.3g)", i,
                         id->theta[i], id->theta_expected[i], tol, dev);
    }
    tally_emit(r, &phi0_bad, np);
    tally_emit(r, &incr_bad, np);
    tally_emit(r, &drift_bad, np);
    if (mism_reported > 4)
        rc_proof_add(r, "... %d pairs in all have theta off the spec", mism_reported);

    id->direction_found = (n_pos > 0 && n_neg == 0) ? 1 : (n_neg > 0 && n_pos == 0) ? -1 : 0;
    fit_base(id, spec_r);

    /* Name the defect behind the thetas. */
    for (int s = 0; s < n_swapped; s++)
        rc_proof_add(r,
                     "pair %d: sin and cos swapped (block is [[sin,-cos],[cos,sin]], the "
                     "rotation by pi/2 - m*theta: angle pi/2 at m=0, turning clockwise)",
                     swapped_pairs[s]);
    if (n_cmp > 0 && n_rev == n_cmp && n_swapped == 0)
        rc_proof_add(r, "rotation is clockwise: every pair turns by -m*theta_i (rope.h's "
                        "forward direction is counter-clockwise, a' = a cos - b sin)");
    else if (n_rev > n_swapped)
        rc_proof_add(r, "%d of %d pairs turn clockwise (the rest counter-clockwise)",
                     n_rev - n_swapped, n_cmp);
    if (pr.scaling)
        rc_rotation_family_findings(&pr, id, miss, n_cmp_max);
    else if (n_cmp > 0 && n_alt == n_cmp && n_match < n_cmp)
        rc_proof_add(r, "frequency schedule off by one exponent step: theta_i = "
                        "base^(-2(i+1)/r) instead of base^(-2i/r)");
    else if (n_cmp >= 2 && match[0] == 1 && n_match + n_rev < n_cmp &&
             geometric(id, n_cmp))
        rc_proof_add(r, "wrong base: frequencies follow theta_i = B^(-2i/r) with B = %.9g "
                        "(least-squares fit %.9g), spec base is %.9g",
                     pow(id->theta[1], -spec_r / 2.0), id->base_fit, spec->base);
    if (n_match < n_cmp)
        rc_rotation_grid_findings(&pr, id, n_cmp_max);
    free(match);
    r->figure = worst_ratio;
    id->max_orth_dev = max_orth;
    id->max_incr_dev = worst_incr;
    mpfr_clears(th, ex, alt, diff, (mpfr_ptr)0);
    free(out);
    free(partner);
    free(pairs);
    free(ex_hi);
    free(ex_lo);
    rc_proof_finish(r);
    return 0;
}
