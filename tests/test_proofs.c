/*
 * tests/test_proofs.c - the paper's oracles (proofs/) on the scalar port,
 * which must pass them all, and on test-only mutants
 * (tests/mutants_proofs/), each of which must be caught with its defect
 * named.
 *
 * The oracles derive their own tolerances from the dtype and the pair-ULP
 * gate (proofs/rotation.c, relative.c, abel.c); the tests here compare
 * only verdicts, recovered discrete facts (layout, rotary_dim, direction)
 * and finding texts, plus the Figure 2 curve against values computed
 * independently in long double (bound derived next to that test).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "impls/scalar/scalar.h"
#include "core/rng.h"
#include "proofs/proof_internal.h"
#include "proofs/proofs.h"
#include "tests/mutants_proofs/mutants_proofs.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_proofs", 20261123u);
}

static void log_result(const char *what, const rc_impl *impl, const rc_proof_result *r)
{
    fprintf(stderr, "%s %s [%s]: %s, %s = %.4g%s%s\n", what, impl->name, rc_dtype_name(r->dtype),
            rc_proof_verdict_name(r->verdict), r->figure_name, r->figure,
            r->error[0] ? "; " : "", r->error);
    for (int i = 0; i < r->n_findings; i++)
        fprintf(stderr, "    finding: %s\n", r->findings[i].text);
    if (r->findings_dropped)
        fprintf(stderr, "    (%d more findings dropped)\n", r->findings_dropped);
}

static rc_proof_spec make_spec(int d, int r, double base, rc_layout layout, int dtype)
{
    rc_proof_spec s = {.head_dim = d,
                       .rotary_dim = r,
                       .base = base,
                       .layout = layout,
                       .dtype = dtype,
                       .gate_pair = 0.0};
    return s;
}

/* ------------------------------------------------------------------ */
/* Rotation identification */

static void expect_rotation_pass(const rc_proof_spec *s)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    int rc = rc_prove_rotation(&rc_impl_scalar, s, id);
    log_result("rotation", &rc_impl_scalar, &id->res);
    cr_assert_eq(rc, 0, "%s", id->res.error);
    cr_expect_eq(id->res.verdict, RC_PROOF_PASS, "scalar fails rotation identification: %s",
                 id->res.n_findings ? id->res.findings[0].text : "");
    cr_expect_eq(id->layout_found, (int)s->layout);
    cr_expect_eq(id->rotary_dim_found, s->rotary_dim);
    cr_expect_eq(id->direction_found, 1);
    /* RC_INVERSE is recovered as the clockwise turn. */
    cr_expect_eq(id->inverse_direction_found, -1);
    cr_expect_eq(id->n_pairs, s->rotary_dim / 2);
    /* The fit is printed, not compared: its accuracy is that of a double
     * log/exp fit, not part of the contract; the per-pair thetas (checked
     * inside the oracle against derived tolerances) are. */
    fprintf(stderr,
            "    base fit %.12g (spec %.12g), intercept %.3g, max |R^T R - I| %.3g, max "
            "increment deviation %.3g rad\n",
            id->base_fit, s->base, id->fit_intercept, id->max_orth_dev, id->max_incr_dev);
    free(id);
}

Test(rotation, scalar_f64_interleaved)
{
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_INTERLEAVED, -1);
    expect_rotation_pass(&s);
}

Test(rotation, scalar_f64_half_partial)
{
    rc_proof_spec s = make_spec(80, 48, 500000.0, RC_LAYOUT_HALF, -1);
    expect_rotation_pass(&s);
}

Test(rotation, scalar_f32_both_layouts_partial)
{
    rc_proof_spec s = make_spec(64, 32, 10000.0, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32);
    expect_rotation_pass(&s);
    s.layout = RC_LAYOUT_HALF;
    expect_rotation_pass(&s);
    s.rotary_dim = 64;
    expect_rotation_pass(&s);
    /* Base 1e6 at r = 128: the slowest pair turns 1.2e-6 rad per step,
     * about 5 f32 eps: its coupling shows only at the large positions. */
    s = make_spec(128, 128, 1e6, RC_LAYOUT_HALF, RC_DTYPE_F32);
    expect_rotation_pass(&s);
}

/* The scalar port's derived f64 bound below 2^31 (tests/test_scalar.c:
 * 0.5 + sqrt(2)*0.49401 + 43u + u(3*2^31 + 58), about 1.199) as the gate:
 * a port that meets the gate it is given passes identification, however
 * tight that gate (every tolerance of rotation.c scales with it). */
Test(rotation, scalar_f64_at_its_derived_bound)
{
    const double gate = 0.5 + 1.4142135623730951 * 0.49401 + 43.0 * 0x1p-53 +
                        0x1p-53 * (3.0 * 0x1p31 + 58.0);
    const rc_layout layouts[] = {RC_LAYOUT_HALF, RC_LAYOUT_INTERLEAVED};
    for (int k = 0; k < 2; k++) {
        rc_proof_spec s = make_spec(128, 128, 10000.0, layouts[k], RC_DTYPE_F64);
        s.gate_pair = gate;
        expect_rotation_pass(&s);
        s = make_spec(64, 48, 500000.0, layouts[k], RC_DTYPE_F64);
        s.gate_pair = gate;
        expect_rotation_pass(&s);
    }
}

Test(rotation, scalar_f16_bf16)
{
    rc_proof_spec s = make_spec(32, 24, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F16);
    expect_rotation_pass(&s);
    s.dtype = RC_DTYPE_BF16;
    s.layout = RC_LAYOUT_INTERLEAVED;
    expect_rotation_pass(&s);
}

/* Each mutant must fail with the finding that names its defect. */
static void expect_rotation_finding(const rc_impl *m, rc_layout layout, const char *phrase)
{
    rc_proof_spec s = make_spec(64, 64, 10000.0, layout, -1);
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    int rc = rc_prove_rotation(m, &s, id);
    log_result("rotation", m, &id->res);
    cr_assert_eq(rc, 0, "%s", id->res.error);
    cr_expect_eq(id->res.verdict, RC_PROOF_FAIL, "%s passes rotation identification", m->name);
    cr_expect(rc_proof_has_finding(&id->res, phrase), "%s: no finding with '%s'", m->name,
              phrase);
    free(id);
}

Test(rotation_mutants, wrong_base)
{
    expect_rotation_finding(&rc_mutant_wrong_base, RC_LAYOUT_INTERLEAVED, "wrong base");
}

Test(rotation_mutants, layout_swapped)
{
    expect_rotation_finding(&rc_mutant_layout_swapped, RC_LAYOUT_INTERLEAVED,
                            "channels pair as half, spec says interleaved");
    expect_rotation_finding(&rc_mutant_layout_swapped, RC_LAYOUT_HALF,
                            "channels pair as interleaved, spec says half");
}

Test(rotation_mutants, clockwise)
{
    expect_rotation_finding(&rc_mutant_clockwise, RC_LAYOUT_HALF, "rotation is clockwise");
}

Test(rotation_mutants, exponent_off_by_one)
{
    expect_rotation_finding(&rc_mutant_exponent_off_by_one, RC_LAYOUT_INTERLEAVED,
                            "off by one exponent step");
}

Test(rotation_mutants, angle_f16)
{
    expect_rotation_finding(&rc_mutant_angle_f16, RC_LAYOUT_INTERLEAVED,
                            "angle increments are not constant");
}

Test(rotation_mutants, sincos_swapped_pair3)
{
    expect_rotation_finding(&rc_mutant_sincos_swapped_pair3, RC_LAYOUT_INTERLEAVED,
                            "pair 3: sin and cos swapped");
}

/* Outputs negated wherever the angle is nearer an odd multiple of pi (a
 * reduction modulo pi that drops the quadrant's sign): the theta recovery
 * unwraps modulo 2*pi, so phi(2) of pair 0 (angle 2, one half turn taken
 * off) is named as half a turn off the line, not as a precision drift. */
Test(rotation_mutants, half_turn)
{
    expect_rotation_finding(&rc_mutant_half_turn, RC_LAYOUT_HALF,
                            "pair 0: phi(2) is a half turn (-3.14 rad) off the line");
    /* The dense probe names the first bad position and its first bad pair,
     * every pair checked from pair 0. */
    expect_rotation_finding(&rc_mutant_half_turn, RC_LAYOUT_HALF,
                            "densely probed positions (first m=2, pair 0: off by 3.14 rad");
}

Test(rotation_mutants, ignores_direction)
{
    expect_rotation_finding(&rc_mutant_ignores_direction, RC_LAYOUT_INTERLEAVED,
                            "RC_INVERSE is not the inverse rotation");
}

/* The dense positions rotation_dense.c promises to check: every position
 * 0..1030, the five around 2^24 it lists (2^24 - 3, 2^24 - 1, 2^24,
 * 2^24 + 1, 2^24 + 3) and 2^31 - 2, 2^31 - 1. A cache whose row at one of
 * them is stale (a copy of the row before) must fail identification, at
 * each; a position dropped from the list, or replaced, passes it. */
Test(rotation_mutants, stale_row_at_each_dense_position)
{
    const int64_t at[] = {1,        2,        383,      384,      1029,      1030,
                          16777213, 16777215, 16777216, 16777217, 16777219, 2147483646,
                          2147483647};
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        rc_mutant_stale_position = at[k];
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
        cr_assert_eq(rc_prove_rotation(&rc_mutant_stale_row, &s, id), 0, "%s", id->res.error);
        cr_expect_eq(id->res.verdict, RC_PROOF_FAIL, "a stale row at position %lld passes "
                     "rotation identification", (long long)at[k]);
    }
    rc_mutant_stale_position = 1031; /* outside every probed position: nothing to see */
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
    cr_assert_eq(rc_prove_rotation(&rc_mutant_stale_row, &s, id), 0, "%s", id->res.error);
    cr_expect_eq(id->res.verdict, RC_PROOF_PASS, "a stale row at 1031 fails: %s",
                 id->res.n_findings ? id->res.findings[0].text : "");
    free(id);
}

/* Only pairs 5.. ignore the direction: the finding names an element of
 * inverse(e_j) with j >= 10 (interleaved), and its two figures are the
 * port's inverse entry and the forward transpose's, which for a port
 * rotating forward are R[c][j] and R[j][c] = -R[c][j] (an off-diagonal
 * sine, the largest deviation): equal magnitude, opposite sign, nonzero. */
Test(rotation_mutants, ignores_direction_late_names_the_entry)
{
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_INTERLEAVED, -1);
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    cr_assert_eq(rc_prove_rotation(&rc_mutant_ignores_direction_late, &s, id), 0);
    log_result("rotation", &rc_mutant_ignores_direction_late, &id->res);
    int seen = 0;
    for (int k = 0; k < id->res.n_findings; k++) {
        const char *t = strstr(id->res.findings[k].text, "channel ");
        int c, j;
        double got, want;
        if (!strstr(id->res.findings[k].text, "RC_INVERSE is not the inverse") || !t ||
            sscanf(t, "channel %d of inverse(e_%d) is %lf, forward transpose says %lf", &c, &j,
                   &got, &want) != 4)
            continue;
        seen = 1;
        cr_expect(j >= 2 * RC_MUTANT_LATE_PAIR && c / 2 == j / 2, "element (%d, %d)", c, j);
        cr_expect(got != 0.0 && got == -want, "%s", id->res.findings[k].text);
    }
    cr_expect(seen, "no inverse finding with its figures");
    free(id);
}

Test(rotation_mutants, radial_scale)
{
    expect_rotation_finding(&rc_mutant_radial_scale, RC_LAYOUT_HALF, "radial scale 1.001");
}

/* A port that forms the angle m*theta_i as one plain double product: its
 * thetas are the spec's (the table is handed over), but the angle carries
 * the product's rounding, 2^-53 |m theta|, which at m near 2^31 is far
 * beyond the f64 gate. That is angle precision, never a wrong base (the
 * base its thetas follow is the spec's own). */
typedef enum dbl_defect {
    DBL_ONLY_THE_ANGLE, /* the double product is its only defect */
    DBL_NAN_OUT,        /* and every rotated output is NaN */
    DBL_PAIRED_HEADS,   /* and heads go in pairs: the odd one is read head_dim after the even */
    DBL_PACKED_TOKENS,  /* and token t is read at t * n_heads * head_stride */
} dbl_defect;

typedef struct dbl_angle {
    int d, r;
    rc_layout layout;
    dbl_defect defect;
    double th[RC_MAX_HEAD_DIM / 2];
} dbl_angle;

static rc_status dbl_prepare_with(const rc_spec *spec, void **state, dbl_defect defect)
{
    *state = NULL;
    if (spec->dtype != RC_DTYPE_F64)
        return RC_ERR_UNSUPPORTED;
    dbl_angle *s = malloc(sizeof *s);
    if (!s)
        return RC_ERR_NOMEM;
    s->d = spec->head_dim;
    s->r = spec->rotary_dim;
    s->layout = spec->layout;
    s->defect = defect;
    for (int i = 0; i < s->r / 2; i++)
        s->th[i] = spec->theta_hi[i];
    *state = s;
    return RC_OK;
}

static rc_status dbl_prepare(const rc_spec *spec, void **state)
{
    return dbl_prepare_with(spec, state, DBL_ONLY_THE_ANGLE);
}

static rc_status dbl_nan_prepare(const rc_spec *spec, void **state)
{
    return dbl_prepare_with(spec, state, DBL_NAN_OUT);
}

static rc_status dbl_paired_prepare(const rc_spec *spec, void **state)
{
    return dbl_prepare_with(spec, state, DBL_PAIRED_HEADS);
}

static rc_status dbl_packed_tokens_prepare(const rc_spec *spec, void **state)
{
    return dbl_prepare_with(spec, state, DBL_PACKED_TOKENS);
}

static rc_status dbl_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                           const int64_t *positions, rc_direction dir)
{
    const dbl_angle *s = state;
    for (int64_t t = 0; t < in->n_tokens; t++)
        for (int64_t h = 0; h < in->n_heads; h++) {
            /* Paired heads: the odd head's address is the even one's plus
             * head_dim, right only when heads are packed. */
            const int64_t in_off = s->defect == DBL_PAIRED_HEADS && h % 2 == 1
                                       ? (h - 1) * in->head_stride + s->d
                                       : h * in->head_stride;
            const int64_t token_stride = s->defect == DBL_PACKED_TOKENS
                                             ? in->n_heads * in->head_stride
                                             : in->token_stride;
            const double *x = (const double *)in->data + t * token_stride + in_off;
            double *y = (double *)out->data + t * out->token_stride + h * out->head_stride;
            double tmp[RC_MAX_HEAD_DIM];
            memcpy(tmp, x, (size_t)s->d * sizeof *tmp);
            for (int i = 0; i < s->r / 2; i++) {
                const int a = s->layout == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
                const int b = s->layout == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + s->r / 2;
                const double ang = (double)positions[t] * s->th[i] * (dir == RC_INVERSE ? -1 : 1);
                const double c = cos(ang), sn = sin(ang);
                const double u = x[a], v = x[b];
                tmp[a] = s->defect == DBL_NAN_OUT ? NAN : u * c - v * sn;
                tmp[b] = s->defect == DBL_NAN_OUT ? NAN : u * sn + v * c;
            }
            memcpy(y, tmp, (size_t)s->d * sizeof *tmp);
        }
    return RC_OK;
}

#define DBL_PORT(ident, label, desc, prep)                                                  \
    static const rc_impl ident = {                                                           \
        .abi_version = RC_ABI_VERSION,                                                       \
        .name = label,                                                                       \
        .description = desc,                                                                 \
        .caps = RC_CAP_F64 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |   \
                RC_CAP_STRIDED,                                                              \
        .prepare = prep,                                                                     \
        .apply = dbl_apply,                                                                  \
        .release = free,                                                                     \
    };
DBL_PORT(double_angle_port, "test-double-angle", "angle m*theta_i as one double product",
         dbl_prepare)
DBL_PORT(nan_port, "test-nan", "every rotated output NaN", dbl_nan_prepare)
DBL_PORT(paired_heads_port, "test-paired-heads",
         "odd heads read head_dim after the even one", dbl_paired_prepare)
DBL_PORT(packed_tokens_port, "test-packed-tokens",
         "token t read at t * n_heads * head_stride", dbl_packed_tokens_prepare)

Test(rotation_mutants, double_angle_is_precision_not_base)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    for (int l = 0; l < 2; l++) {
        rc_proof_spec s = make_spec(128, 128, 10000.0, (rc_layout)l, -1);
        cr_assert_eq(rc_prove_rotation(&double_angle_port, &s, id), 0, "%s", id->res.error);
        log_result("rotation", &double_angle_port, &id->res);
        cr_expect_eq(id->res.verdict, RC_PROOF_FAIL);
        cr_expect(rc_proof_has_finding(&id->res, "too low a precision"));
        cr_expect(!rc_proof_has_finding(&id->res, "wrong base"), "a base equal to the spec's "
                                                                 "is named as wrong");
        cr_expect(!rc_proof_has_finding(&id->res, "sine/cosine approximation"));
        cr_expect(!rc_proof_has_finding(&id->res, "position rounded to float"));
    }
    free(id);
}

/* Outputs that agree only by all being NaN are no evidence of how a call
 * reads its positions: a port whose every rotated output is NaN fails,
 * but is never said to ignore its positions or to read the token index
 * (two NaNs "agree" in the call-shape probe's comparison). */
Test(rotation_mutants, all_nan_outputs_claim_nothing_about_positions)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
    rc_prove_rotation(&nan_port, &s, id);
    log_result("rotation", &nan_port, &id->res);
    cr_expect_eq(id->res.verdict, RC_PROOF_FAIL, "%s", id->res.error);
    cr_expect(!rc_proof_has_finding(&id->res, "positions ignored"));
    cr_expect(!rc_proof_has_finding(&id->res, "token index used as position"));
    free(id);
}

/* Stride findings name the first head that comes out wrong (the probe
 * has 3 tokens x 3 heads, a gap after every head and every token):
 *  - a port that takes heads in pairs and finds the odd head at the even
 *    one's address plus head_dim reads head 1 wrong, head 2 right: not
 *    the "ignored" pattern (every head at h*head_dim), so "head_stride not
 *    honoured ... token 0 head 1";
 *  - a port that takes token_stride to be n_heads * head_stride (tokens
 *    packed) reads every head of token 0 right and every later one wrong:
 *    "token_stride not honoured ... token 1 head 0", never head_stride. */
Test(rotation_mutants, stride_findings_name_the_first_wrong_head)
{
    static const struct {
        const rc_impl *port;
        const char *names, *first, *never;
    } cases[] = {
        {&paired_heads_port, "head_stride not honoured", "token 0 head 1 comes out other",
         "token_stride"},
        {&packed_tokens_port, "token_stride not honoured", "token 1 head 0 comes out other",
         "head_stride"},
    };
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
        cr_assert_eq(rc_prove_rotation(cases[k].port, &s, id), 0, "%s", id->res.error);
        log_result("rotation", cases[k].port, &id->res);
        cr_expect_eq(id->res.verdict, RC_PROOF_FAIL);
        cr_expect(rc_proof_has_finding(&id->res, cases[k].names), "%s", cases[k].port->name);
        cr_expect(rc_proof_has_finding(&id->res, cases[k].first), "%s", cases[k].port->name);
        cr_expect(!rc_proof_has_finding(&id->res, cases[k].never), "%s", cases[k].port->name);
    }
    free(id);
}

/* A port two positions ahead (or behind) is named with the shift and its
 * angle at m = 0, 2*theta_i or -2*theta_i (a shift of one reads
 * "theta_i": the golden reports pin it). */
Test(rotation_mutants, positions_off_by_two_are_named)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    static const struct { int shift; const char *text; } cases[] = {
        {2, "positions off by two: the output at every position m is the exact rotation at "
            "m+2 (the angle at m=0 is 2*theta_i on every pair, not 0)"},
        {-2, "positions off by two: the output at every position m is the exact rotation at "
             "m-2 (the angle at m=0 is -2*theta_i on every pair, not 0)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rc_mutant_shift = cases[k].shift;
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
        cr_assert_eq(rc_prove_rotation(&rc_mutant_shifted, &s, id), 0, "%s", id->res.error);
        log_result("rotation", &rc_mutant_shifted, &id->res);
        cr_expect_eq(id->res.verdict, RC_PROOF_FAIL);
        cr_expect(rc_proof_has_finding(&id->res, cases[k].text), "shift %d", cases[k].shift);
    }
    rc_mutant_shift = 2;
    free(id);
}

/* ------------------------------------------------------------------ */
/* Relative position (Eq. 16) */

static rc_proof_result run_relative(const rc_impl *impl, const rc_proof_spec *s, int trials,
                                    int64_t maxp)
{
    rc_proof_result r;
    int rc = rc_prove_relative(impl, s, test_seed(), trials, maxp, &r);
    log_result("relative", impl, &r);
    cr_assert_eq(rc, 0, "%s", r.error);
    return r;
}

/* 2^31 - 1: the gate (hence the oracle's bound) holds below 2^31. */
#define GATED_MAX ((int64_t)2147483647)

Test(relative, scalar_all_dtypes_and_layouts)
{
    const int dts[] = {RC_DTYPE_F64, RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16};
    for (int i = 0; i < 4; i++)
        for (int l = 0; l < 2; l++) {
            rc_proof_spec s = make_spec(128, l ? 96 : 128, 10000.0, (rc_layout)l, dts[i]);
            rc_proof_result r = run_relative(&rc_impl_scalar, &s, 200, GATED_MAX);
            cr_expect_eq(r.verdict, RC_PROOF_PASS, "scalar %s %s: %s", rc_dtype_name(r.dtype),
                         rc_layout_name(s.layout), r.n_findings ? r.findings[0].text : "");
        }
}

/* The edges of the position range: max_position 0 (every m, n, t is 0:
 * the property holds trivially and is judged, not refused), and the
 * invalid ones, refused as an error. */
Test(relative, position_range_edges)
{
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32);
    rc_proof_result r = run_relative(&rc_impl_scalar, &s, 4, 0);
    cr_expect_eq(r.verdict, RC_PROOF_PASS, "%s", r.error);
    cr_expect_eq(rc_prove_relative(&rc_impl_scalar, &s, 1, 4, -1, &r), -1);
    cr_expect_eq(rc_prove_relative(&rc_impl_scalar, &s, 1, 4, RC_MAX_POSITION + 1, &r), -1);
    cr_expect_eq(rc_prove_relative(&rc_impl_scalar, &s, 1, 0, 100, &r), -1);
}

/* The trials' positions: every m, n, m + t, n + t in [0, maxp]; even
 * trials keep |m - n| <= 256 yet still move n both ways (clamped at 0 and
 * maxp, never pinned there); odd trials reach distances beyond 256; t
 * takes both signs. A draw that pins n, loses the clamp or never shifts
 * would judge fewer of the relative positions the property is about. */
Test(relative, trial_positions)
{
    const int64_t maxps[] = {0, 1, 300, 1000000, RC_MAX_POSITION};
    const uint64_t seed = test_seed();
    for (size_t c = 0; c < sizeof maxps / sizeof maxps[0]; c++) {
        const int64_t maxp = maxps[c];
        rc_rng g;
        rc_rng_seed3(&g, seed, 0x7e1, (uint64_t)c);
        int near_lo = 0, near_hi = 0, inner = 0, far = 0, t_neg = 0, t_pos = 0;
        for (int trial = 0; trial < 4000; trial++) {
            int64_t p[4];
            rc_relative_draw_positions(&g, trial, maxp, p);
            for (int k = 0; k < 4; k++)
                cr_assert(p[k] >= 0 && p[k] <= maxp, "seed %llu maxp %lld trial %d: position "
                          "%lld", (unsigned long long)seed, (long long)maxp, trial,
                          (long long)p[k]);
            const int64_t d = p[1] - p[0], t = p[2] - p[0];
            cr_assert_eq(p[3] - p[1], t, "seed %llu: n + t", (unsigned long long)seed);
            if (trial % 2 == 0) {
                cr_assert(d >= -256 && d <= 256, "seed %llu maxp %lld trial %d: |m - n| = "
                          "%lld", (unsigned long long)seed, (long long)maxp, trial,
                          (long long)d);
                near_lo += p[1] == 0;
                near_hi += p[1] == maxp;
                inner += p[1] > 0 && p[1] < maxp && d != 0;
            } else {
                far += d > 256 || d < -256;
            }
            t_neg += t < 0;
            t_pos += t > 0;
        }
        if (maxp >= 300) {
            cr_expect(inner > 1000 && t_neg > 100 && t_pos > 100, "seed %llu maxp %lld: %d "
                      "inner, t < 0 %d, t > 0 %d", (unsigned long long)seed, (long long)maxp,
                      inner, t_neg, t_pos);
            cr_expect(near_hi < 1000, "seed %llu maxp %lld: n pinned at maxp %d times",
                      (unsigned long long)seed, (long long)maxp, near_hi);
        }
        if (maxp == 300)
            cr_expect(near_lo > 0 && near_hi > 0, "seed %llu: the clamps at 0 (%d) and maxp "
                      "(%d) are never reached", (unsigned long long)seed, near_lo, near_hi);
        if (maxp >= 1000000)
            cr_expect(far > 1900, "seed %llu maxp %lld: odd trials beyond 256: %d",
                      (unsigned long long)seed, (long long)maxp, far);
    }
}

/* The Abel curve's arguments: a base that is not a positive number, a
 * rotary_dim that is odd, below 2 or above RC_MAX_HEAD_DIM, a negative
 * length and a scaling invalid for the dimension are refused (-1) before
 * anything is computed. */
Test(abel, curve_refuses_bad_arguments)
{
    double up[4], dn[4];
    cr_expect_eq(rc_abel_curve_bounds(10000.0, 64, 4, up, dn), 0);
    const double bases[] = {0.0, -10000.0, NAN};
    for (size_t k = 0; k < sizeof bases / sizeof bases[0]; k++)
        cr_expect_eq(rc_abel_curve_bounds(bases[k], 64, 4, up, dn), -1, "base %g", bases[k]);
    const int dims[] = {0, 1, 63, RC_MAX_HEAD_DIM + 2};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++)
        cr_expect_eq(rc_abel_curve_bounds(10000.0, dims[k], 4, up, dn), -1, "r = %d", dims[k]);
    cr_expect_eq(rc_abel_curve_bounds(10000.0, 64, -1, up, dn), -1);
    rc_scaling bad = {0};
    bad.type = RC_SCALING_LINEAR;
    bad.factor = -2.0;
    cr_expect_eq(rc_abel_curve_scaled(10000.0, 64, &bad, 4, up, dn), -1);
}

/* Only the f16 angle breaks Eq. 16: every other mutant is still a
 * rotation by an angle linear in m, which the paper's property cannot
 * tell from the right one (the rotation oracle does). Positions stay
 * below 65504, the binary16 overflow, so the failure is the phase error,
 * not an Inf. */
Test(relative_mutants, angle_f16_caught_others_invariant)
{
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_INTERLEAVED, -1);
    rc_proof_result r = run_relative(&rc_mutant_angle_f16, &s, 100, 60000);
    cr_expect_eq(r.verdict, RC_PROOF_FAIL);
    cr_expect(rc_proof_has_finding(&r, "relative position broken"));
    const rc_impl *inv[] = {&rc_mutant_wrong_base, &rc_mutant_layout_swapped,
                            &rc_mutant_clockwise, &rc_mutant_exponent_off_by_one,
                            &rc_mutant_sincos_swapped_pair3};
    for (size_t i = 0; i < sizeof inv / sizeof inv[0]; i++) {
        r = run_relative(inv[i], &s, 100, GATED_MAX);
        cr_expect_eq(r.verdict, RC_PROOF_PASS, "%s", inv[i]->name);
    }
}

/* ------------------------------------------------------------------ */
/* Abel decay bound (Sec. 3.4.3) */

static void run_abel(const rc_impl *impl, const rc_proof_spec *s, int64_t maxp,
                     rc_abel_result *a)
{
    int rc = rc_prove_abel(impl, s, test_seed(), 64, maxp, 0, a);
    log_result("abel", impl, &a->res);
    fprintf(stderr, "    max identity gap %.3g, max |score|/bound %.4g\n", a->max_identity_gap,
            a->max_score_ratio);
    cr_assert_eq(rc, 0, "%s", a->res.error);
}

Test(abel, scalar_passes)
{
    rc_abel_result *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    const int dts[] = {RC_DTYPE_F64, RC_DTYPE_F32, RC_DTYPE_BF16};
    for (int i = 0; i < 3; i++) {
        rc_proof_spec s = make_spec(128, i == 1 ? 64 : 128, 10000.0,
                                    i == 2 ? RC_LAYOUT_HALF : RC_LAYOUT_INTERLEAVED, dts[i]);
        run_abel(&rc_impl_scalar, &s, GATED_MAX, a);
        cr_expect_eq(a->res.verdict, RC_PROOF_PASS, "%s",
                     a->res.n_findings ? a->res.findings[0].text : "");
        /* The bound is a bound: |Re z| <= |z| <= max|dh| sum|S_j|. */
        cr_expect(a->max_score_ratio <= 1.0);
    }
    free(a);
}

/* A trial count, position range or curve length outside its domain is an
 * ERROR naming them, before any probe. */
Test(abel, bad_trials_range_or_curve_length_are_errors)
{
    rc_abel_result *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32);
    static const struct { int trials; int64_t maxp; int curve; } bad[] = {
        {0, 1000, 0}, {-1, 1000, 0}, {4, -1, 0}, {4, RC_MAX_POSITION + 1, 0},
        {4, 1000, -1}, {4, 1000, RC_ABEL_CURVE_MAX + 1}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_expect_eq(rc_prove_abel(&rc_impl_scalar, &s, 1, bad[k].trials, bad[k].maxp,
                                   bad[k].curve, a), -1, "case %zu", k);
        cr_expect_eq(a->res.verdict, RC_PROOF_ERROR, "case %zu", k);
        cr_expect(strstr(a->res.error, "invalid trials, max_position or curve length"),
                  "case %zu: %s", k, a->res.error);
    }
    free(a);
}

/* Positions drawn near the diagonal (n = m - k, k <= 256) are clamped at 0:
 * with every position in [0, 3] most draws fall below 0, and the check
 * still passes scalar (a negative position is outside the ABI). */
Test(abel, short_position_range_clamps_at_zero)
{
    rc_abel_result *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32);
    run_abel(&rc_impl_scalar, &s, 3, a);
    cr_expect_eq(a->res.verdict, RC_PROOF_PASS, "%s",
                 a->res.n_findings ? a->res.findings[0].text : a->res.error);
    free(a);
}

/* The complex form (a) pins the score to the spec's rotation, so every
 * mutant whose map differs from it is caught here too. */
Test(abel_mutants, score_differs_from_complex_form)
{
    rc_abel_result *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    const rc_impl *ms[] = {&rc_mutant_wrong_base,          &rc_mutant_layout_swapped,
                           &rc_mutant_clockwise,           &rc_mutant_exponent_off_by_one,
                           &rc_mutant_angle_f16,           &rc_mutant_sincos_swapped_pair3,
                           &rc_mutant_radial_scale};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_INTERLEAVED, -1);
        run_abel(ms[i], &s, 60000, a);
        cr_expect_eq(a->res.verdict, RC_PROOF_FAIL, "%s", ms[i]->name);
        cr_expect(rc_proof_has_finding(&a->res, "but Re sum h_i"), "%s", ms[i]->name);
    }
    free(a);
}

/* The paper's Figure 2: d = 128, base 10000, relative distance 0..256.
 * Checked against an independent long double evaluation. Its error, with
 * e = LDBL_EPSILON (2^-63 on x86: a generous unit roundoff): theta_j =
 * powl(base, -2j/r) is within 16e relative (the rounded exponent times
 * ln(1e4) < 10, plus powl's ulp); delta*theta_j adds e relative; cosl/sinl
 * add e; so each term e^{i delta theta_j} is within t = (16 delta + 4) e
 * per component. |S_j| is then within sqrt(2) j t plus the j additions'
 * roundings (values <= j: 2 j^2 e), and the mean over r/2 pairs within
 * (sqrt(2) t sum_j j + 2 e sum_j j^2) / (r/2). The MPFR enclosure is far
 * tighter: its radii are below 2^-92 per term for delta <= 256, so over 64
 * partial sums the width is below 2^-80 of a curve value >= 1. Both ends
 * are then rounded outward to double (< 1 ulp each, ulp(x) <= 2^-52 x),
 * and the long double result is rounded to double (1/2 ulp): 2^-51 x more
 * in each comparison. */
Test(abel, figure2_curve)
{
    enum { HALF = 64, N = 257 };
    double *up = malloc(N * sizeof *up), *dn = malloc(N * sizeof *dn);
    cr_assert(up && dn);
    cr_assert_eq(rc_abel_curve_bounds(10000.0, 2 * HALF, N, up, dn), 0);
    const long double e = LDBL_EPSILON;
    double worst = 0.0;
    for (int delta = 0; delta < N; delta++) {
        long double sr = 0, si = 0, sum = 0, sj = 0, sj2 = 0;
        for (int j = 0; j < HALF; j++) {
            const long double th = powl(10000.0L, -(long double)(2 * j) / (2 * HALF));
            sr += cosl(delta * th);
            si += sinl(delta * th);
            sum += sqrtl(sr * sr + si * si);
            sj += j + 1;
            sj2 += (long double)(j + 1) * (j + 1);
        }
        const long double t = (16.0L * delta + 4.0L) * e;
        const double tol_ld = (double)((1.41422L * t * sj + 2.0L * e * sj2) / HALF);
        const double ld = (double)(sum / HALF);
        const double tol = tol_ld + up[delta] * 0x1p-51;
        const double width = up[delta] * (0x1p-51 + 0x1p-80);
        cr_expect(dn[delta] <= up[delta] && up[delta] - dn[delta] <= width,
                  "enclosure at %d: [%.17g, %.17g]", delta, dn[delta], up[delta]);
        cr_expect(fabs(up[delta] - ld) <= tol,
                  "delta %d: MPFR %.17g, long double %.17g (tol %.3g)", delta, up[delta], ld, tol);
        if (fabs(up[delta] - ld) / tol > worst)
            worst = fabs(up[delta] - ld) / tol;
    }
    /* At delta = 0 every S_j = j: (1/64) * 64*65/2 = 32.5 exactly. */
    cr_expect(dn[0] <= 32.5 && 32.5 <= up[0]);
    /* The decay the figure shows. */
    cr_expect(up[256] < up[64] && up[64] < up[16] && up[16] < up[0]);
    fprintf(stderr, "figure 2 (d=128, base 1e4): (2/r) sum|S_j| at 0: %.6f, 16: %.6f, 64: %.6f, "
                    "128: %.6f, 256: %.6f; worst |mpfr - long double| / tol %.3g\n",
            up[0], up[16], up[64], up[128], up[256], worst);
    /* The oracle returns the same curve as data. */
    rc_abel_result *a = malloc(sizeof *a);
    cr_assert_not_null(a);
    rc_proof_spec s = make_spec(128, 128, 10000.0, RC_LAYOUT_INTERLEAVED, -1);
    cr_assert_eq(rc_prove_abel(&rc_impl_scalar, &s, test_seed(), 4, 1000, N, a), 0);
    cr_expect_eq(a->n_curve, N);
    for (int i = 0; i < N; i++)
        cr_expect_eq(a->curve[i], up[i]);
    free(a);
    free(up);
    free(dn);
}

/* ------------------------------------------------------------------ */
/* Linear attention (Eq. 19) */

static void run_linear(const rc_impl *impl, const rc_proof_spec *s, int64_t maxp,
                       rc_linattn_result *a)
{
    int rc = rc_prove_linear_attention(impl, s, test_seed(), 48, 4, maxp, a);
    log_result("linear attention", impl, &a->res);
    fprintf(stderr, "    max |O(N) - O(N^2)| / bound %.3g, rotated denominators <= 0: %d of 48\n",
            a->max_form_gap, a->rotated_den_nonpositive);
    cr_assert_eq(rc, 0, "%s", a->res.error);
}

Test(linear, scalar_passes)
{
    rc_linattn_result a;
    const int dts[] = {RC_DTYPE_F64, RC_DTYPE_F32, RC_DTYPE_F16};
    for (int i = 0; i < 3; i++) {
        rc_proof_spec s = make_spec(64, i == 1 ? 48 : 64, 10000.0,
                                    i == 1 ? RC_LAYOUT_HALF : RC_LAYOUT_INTERLEAVED, dts[i]);
        run_linear(&rc_impl_scalar, &s, GATED_MAX, &a);
        cr_expect_eq(a.res.verdict, RC_PROOF_PASS, "%s",
                     a.res.n_findings ? a.res.findings[0].text : "");
        cr_expect(a.max_form_gap <= 1.0);
    }
}

Test(linear_mutants, output_differs_from_exact)
{
    rc_linattn_result a;
    const rc_impl *ms[] = {&rc_mutant_wrong_base, &rc_mutant_clockwise,
                           &rc_mutant_exponent_off_by_one, &rc_mutant_radial_scale};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
        run_linear(ms[i], &s, 60000, &a);
        cr_expect_eq(a.res.verdict, RC_PROOF_FAIL, "%s", ms[i]->name);
        cr_expect(rc_proof_has_finding(&a.res, "with exact rotations"), "%s", ms[i]->name);
        /* The two forms agree whatever the rotation: they reassociate the
         * same products. */
        cr_expect(a.max_form_gap <= 1.0, "%s", ms[i]->name);
    }
}

/* A spec naming a dtype outside rc_dtype is an invalid spec (ERROR), never
 * a skip; a port offering no dtype at all is a skip ("no dtype to probe
 * with"), as the caps decide what is offered. */
Test(rotation_mutants, a_dtype_outside_the_enum_is_an_invalid_spec)
{
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    static const int bad[] = {RC_DTYPE_COUNT, -2};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, bad[k]);
        cr_expect_eq(rc_prove_rotation(&rc_impl_scalar, &s, id), -1);
        cr_expect_eq(id->res.verdict, RC_PROOF_ERROR, "dtype %d: verdict %d", bad[k],
                     (int)id->res.verdict);
        cr_expect_str_eq(id->res.error, "invalid proof spec");
    }
    rc_impl none = rc_impl_scalar;
    none.caps &= ~(uint64_t)RC_CAP_ALL_DTYPES;
    rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, -1);
    cr_expect_eq(rc_prove_rotation(&none, &s, id), -1);
    cr_expect_eq(id->res.verdict, RC_PROOF_SKIPPED);
    cr_expect_str_eq(id->res.error, "no dtype to probe with");
    free(id);
}

/* A status other than RC_ERR_UNSUPPORTED is neither a decline (a skip) nor
 * a refused promise: prepare() returning RC_ERR_INVALID, or apply()
 * returning RC_ERR_INTERNAL, makes the check an ERROR with the port's
 * status in the reason, never "not offered". */
static rc_status invalid_prepare(const rc_spec *spec, void **state)
{
    (void)spec;
    *state = NULL;
    return RC_ERR_INVALID;
}

static rc_status ok_prepare(const rc_spec *spec, void **state)
{
    (void)spec;
    *state = NULL;
    return RC_OK;
}

static rc_status internal_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                                const int64_t *positions, rc_direction dir)
{
    (void)state, (void)in, (void)out, (void)positions, (void)dir;
    return RC_ERR_INTERNAL;
}

Test(rotation_mutants, other_statuses_are_errors_not_skips)
{
    const rc_impl ports[2] = {
        {.abi_version = RC_ABI_VERSION, .name = "test-invalid", .caps = RC_CAP_F64 |
         RC_CAP_ALL_LAYOUTS, .prepare = invalid_prepare, .apply = internal_apply},
        {.abi_version = RC_ABI_VERSION, .name = "test-internal", .caps = RC_CAP_F64 |
         RC_CAP_ALL_LAYOUTS, .prepare = ok_prepare, .apply = internal_apply},
    };
    rc_rotation_id *id = malloc(sizeof *id);
    cr_assert_not_null(id);
    for (int k = 0; k < 2; k++) {
        rc_proof_spec s = make_spec(64, 64, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F64);
        rc_prove_rotation(&ports[k], &s, id);
        cr_expect_eq(id->res.verdict, RC_PROOF_ERROR, "%s: verdict %d (%s)", ports[k].name,
                     (int)id->res.verdict, id->res.error);
        cr_expect(strstr(id->res.error, "not offered") == NULL &&
                      strstr(id->res.error, k ? "internal" : "invalid") != NULL,
                  "%s: %s", ports[k].name, id->res.error);
    }
    free(id);
}
