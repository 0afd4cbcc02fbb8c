/*
 * proofs/rotation_family.c - naming the frequency table an implementation
 * computes, once rotation identification (rotation.c) has recovered it and
 * found pairs that miss the expected one.
 *
 * TABLES OF RELATED FAMILIES. The published scaling bugs (issue 8) leave a
 * table that is itself a known one: the plain base^(-2i/r) table (scaling
 * dropped), position interpolation or NTK by the spec's factor (the wrong
 * family, or a ramp cut hard), the spec's family recomputed with another
 * original context (L0 * s, i.e. max_position_embeddings, or the context
 * L), and dynamic NTK with s*L/L0 floored (integer division). Each is
 * computed by the reference (rc_ref_freq_table, within 2^-104 relative)
 * from the spec's own parameters, and a pair matches it when the recovered
 * theta lies within the pair's derived uncertainty theta_tol (rotation.c)
 * plus 2^-100 of the candidate. A pair matching several candidates is
 * given the one that explains the most missed pairs (a wrong original
 * context leaves some pairs plain, but the whole range is its table), and
 * consecutive pairs with the same candidate are reported as one range.
 *
 * NARROW FORMATS. A table rounded to bf16 or f16 leaves every theta on
 * that format's grid; a cos/sin table kept in f16 leaves every rotation
 * entry on it (rotation.c checks those). A recovered theta counts as on
 * the grid when it is within theta_tol of its rounding to the format, and
 * only pairs whose theta_tol is below 1/64 of the format's spacing there
 * are used as evidence: a theta off the grid then lands within tolerance of
 * it by chance with probability below 1/32, and four or more such pairs,
 * all on the grid, are required (chance below 2^-20). It is looked for
 * only when some pair already misses the expected table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "core/scaling.h"
#include "proofs/proof_internal.h"
#include "reference/scaling.h"

/* Spacing of format t's values around x (x finite, not necessarily in t). */
double rc_proof_grid_spacing(rc_dtype t, double x)
{
    const rc_format *f = rc_dtype_format(t);
    int e;
    frexp(fabs(x), &e); /* |x| in [2^(e-1), 2^e) */
    int q = e - 1;
    if (q < f->emin)
        q = f->emin;
    return ldexp(1.0, q - f->precision + 1);
}

#define MAX_CAND 6

typedef struct candidate {
    rc_scaling sc;
    char label[128];
    double *hi, *lo;
} candidate;

static int cand_add(candidate *c, int n, const rc_scaling *sc, int r, const char *label)
{
    char err[160];
    if (n >= MAX_CAND || rc_scaling_check(sc, r, err, sizeof err) != 0)
        return n;
    c[n].sc = *sc;
    snprintf(c[n].label, sizeof c[n].label, "%s", label);
    return n + 1;
}

static int uses_original_context(rc_scaling_type t)
{
    return t == RC_SCALING_YARN || t == RC_SCALING_LLAMA3 || t == RC_SCALING_DYNAMIC_NTK;
}

/* The candidates for a spec with scaling sc (header comment). */
static int candidates(const rc_scaling *sc, int r, candidate *c)
{
    const char *fam = rc_scaling_type_name(sc->type);
    const double s = sc->factor;
    char label[128];
    int n = 0;
    rc_scaling x = {.type = RC_SCALING_NONE};
    n = cand_add(c, n, &x, r, "plain base^(-2i/r) frequencies");
    if (s > 0.0 && s != 1.0) {
        if (sc->type != RC_SCALING_LINEAR) {
            x = (rc_scaling){.type = RC_SCALING_LINEAR, .factor = s};
            snprintf(label, sizeof label, "linear scaling by %g", s);
            n = cand_add(c, n, &x, r, label);
        }
        if (sc->type != RC_SCALING_NTK) {
            x = (rc_scaling){.type = RC_SCALING_NTK, .factor = s};
            snprintf(label, sizeof label, "NTK-aware scaling by %g", s);
            n = cand_add(c, n, &x, r, label);
        }
    }
    const int64_t l0 = sc->original_context;
    if (uses_original_context(sc->type) && s > 0.0 && s != 1.0) {
        const double l0s = (double)l0 * s;
        if (l0s == floor(l0s) && l0s <= (double)INT64_MAX / 2) {
            x = *sc;
            x.original_context = (int64_t)l0s;
            snprintf(label, sizeof label,
                     "%s scaling with original context %lld (L0 * %g instead of %lld)", fam,
                     (long long)x.original_context, s, (long long)l0);
            n = cand_add(c, n, &x, r, label);
        }
    }
    if (uses_original_context(sc->type) && sc->context > 0 && sc->context != l0 &&
        (double)sc->context != (double)l0 * s) {
        x = *sc;
        x.original_context = sc->context;
        snprintf(label, sizeof label,
                 "%s scaling with original context %lld (the context L instead of %lld)", fam,
                 (long long)sc->context, (long long)l0);
        n = cand_add(c, n, &x, r, label);
    }
    /* Dynamic NTK: base * (s*L/L0 - (s-1))^(r/(r-2)) is NTK-aware scaling
     * by s*L/L0 - (s-1); with the quotient floored, by floor(s*L/L0) - (s-1). */
    if (sc->type == RC_SCALING_DYNAMIC_NTK && sc->context > l0) {
        const double q = s * (double)sc->context / (double)l0;
        const double f = floor(q) - (s - 1.0);
        if (f > 0.0 && floor(q) != q && f != 1.0) {
            x = (rc_scaling){.type = RC_SCALING_NTK, .factor = f};
            snprintf(label, sizeof label,
                     "dynamic NTK with s*L/L0 = %.6g floored to %g (integer division)", q,
                     floor(q));
            n = cand_add(c, n, &x, r, label);
        }
    }
    return n;
}

/* Is spec pair i a ramp pair: its theta neither the plain one nor plain/s? */
static int is_ramp(const double *spec_hi, const double *plain_hi, double s, int i)
{
    const double t = spec_hi[i], p = plain_hi[i];
    return fabs(t - p) > 0x1p-40 * p && !(s > 0.0 && fabs(t - p / s) <= 0x1p-40 * p / s);
}

static void emit_range(rc_proof_result *r, const rc_probe *p, const candidate *c, int n_cand,
                       int label, int a, int b, const rc_rotation_id *id, const double *spec_hi,
                       const double *plain_hi)
{
    char pairs[48];
    if (a == b)
        snprintf(pairs, sizeof pairs, "pair %d matches", a);
    else
        snprintf(pairs, sizeof pairs, "pairs %d-%d match", a, b);
    if (label < 0 || label >= n_cand) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = a; i <= b; i++) {
            const double q = id->theta[i] / id->theta_expected[i];
            lo = fmin(lo, q);
            hi = fmax(hi, q);
        }
        rc_proof_add(r, "%s no known table (recovered/expected theta %.6g..%.6g)", pairs, lo, hi);
        return;
    }
    int ramp = p->scaling->type == RC_SCALING_LLAMA3 || p->scaling->type == RC_SCALING_YARN;
    for (int i = a; i <= b && ramp; i++)
        ramp = is_ramp(spec_hi, plain_hi, p->scaling->factor, i);
    rc_proof_add(r, "%s %s, not the %s %s", pairs, c[label].label,
                 rc_scaling_type_name(p->scaling->type), ramp ? "ramp" : "table");
}

void rc_rotation_family_findings(const rc_probe *p, rc_rotation_id *id, const signed char *miss,
                                 int n_cmp)
{
    rc_proof_result *r = &id->res;
    const int rr = p->rotary_dim, half = rr / 2;
    candidate c[MAX_CAND];
    const int n_cand = candidates(p->scaling, rr, c);
    double *spec_hi = malloc((size_t)half * sizeof *spec_hi);
    double *spec_lo = malloc((size_t)half * sizeof *spec_lo);
    int *label = malloc((size_t)(n_cmp > 0 ? n_cmp : 1) * sizeof *label);
    int ok = spec_hi && spec_lo && label;
    for (int k = 0; k < n_cand; k++) {
        c[k].hi = malloc((size_t)half * sizeof(double));
        c[k].lo = malloc((size_t)half * sizeof(double));
        ok = ok && c[k].hi && c[k].lo;
    }
    if (!ok) {
        rc_proof_add(r, "frequency table not named: out of memory");
        goto done;
    }
    rc_ref_freq_table(p->base, rr, p->scaling, spec_hi, spec_lo);
    for (int k = 0; k < n_cand; k++)
        rc_ref_freq_table(p->base, rr, &c[k].sc, c[k].hi, c[k].lo);

    /* label[i]: -2 not to name (matched, reversed, not recovered), else
     * the first candidate within tolerance, or -1 for none. */
    int n_plain = 0, n_recovered = 0, n_miss = 0;
    int count[MAX_CAND] = {0};
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n_cmp; i++) {
            label[i] = -2;
            if (!isfinite(id->theta[i]))
                continue;
            if (pass == 0) {
                n_recovered++;
                /* c[0] is the plain table (always a valid candidate). */
                const double tp = c[0].hi[i] + c[0].lo[i];
                n_plain += fabs(id->theta[i] - tp) <= id->theta_tol[i] + tp * 0x1p-100;
            }
            if (!miss[i])
                continue;
            n_miss += pass == 0;
            label[i] = -1;
            /* pass 0 counts the misses each candidate explains; pass 1
             * labels each with the matching one that explains most. */
            for (int k = 0; k < n_cand; k++) {
                const double t = c[k].hi[i] + c[k].lo[i];
                if (!(fabs(id->theta[i] - t) <= id->theta_tol[i] + t * 0x1p-100))
                    continue;
                if (pass == 0)
                    count[k]++;
                else if (label[i] < 0 || count[k] > count[label[i]])
                    label[i] = k;
            }
        }
    if (n_miss == 0)
        goto done;
    if (n_plain == n_recovered) {
        rc_proof_add(r, "every pair matches plain base^(-2i/r) frequencies: the %s scaling is "
                        "missing",
                     rc_scaling_type_name(p->scaling->type));
        goto done;
    }
    for (int i = 0; i < n_cmp;) {
        if (label[i] == -2) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < n_cmp && label[j + 1] == label[i])
            j++;
        emit_range(r, p, c, n_cand, label[i], i, j, id, spec_hi, c[0].hi);
        i = j + 1;
    }
done:
    for (int k = 0; k < n_cand; k++) {
        free(c[k].hi);
        free(c[k].lo);
    }
    free(spec_hi);
    free(spec_lo);
    free(label);
}

void rc_rotation_grid_findings(const rc_probe *p, rc_rotation_id *id, int n_cmp)
{
    static const rc_dtype grids[] = {RC_DTYPE_BF16, RC_DTYPE_F16};
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        const rc_dtype t = grids[g];
        if (rc_dtype_format(t)->precision >= rc_dtype_format(p->dtype)->precision)
            continue;
        int n_disc = 0, n_on = 0;
        for (int i = 0; i < n_cmp; i++) {
            const double th = fabs(id->theta[i]);
            if (!isfinite(th) || !(th > 0.0))
                continue;
            if (!(id->theta_tol[i] <= rc_proof_grid_spacing(t, th) / 64.0))
                continue;
            n_disc++;
            n_on += fabs(th - rc_round_to_dtype(t, th)) <= id->theta_tol[i];
        }
        if (n_disc >= 4 && n_on == n_disc) {
            rc_proof_add(&id->res,
                         "every recovered theta_i (%d pairs) is a %s number: the inverse "
                         "frequencies were rounded to %s",
                         n_disc, rc_dtype_name(t), rc_dtype_name(t));
            return;
        }
    }
}
