/*
 * tests/test_scaling.c - the scaling families of reference/scaling.c:
 * exact identities (bit for bit), independent float64 transcriptions of
 * Hugging Face's formulas for real model configurations (each with its
 * tolerance derived where it is used), structural properties that hold
 * exactly (bands, ramps, L <= L0), and the precision contract
 * |T - x| < 3 * 2^-w * x at w = 8 .. 256 against 1024-bit evaluations,
 * on fixed and on random parameters.
 *
 * u = 2^-53 below. Float64 error terms: correctly rounded + - * / and
 * sqrt contribute u each; glibc's pow, log on x86-64 are within 1 ulp
 * (libm-test-ulps), i.e. 2u; a rounded exponent e (2i/r, r/(r-2))
 * perturbs b^e by |ln b| * e * u relatively (d(b^e)/b^e = ln b de).
 * Only first-order terms are counted; the second-order ones are below
 * 1000 u^2 < 2^-95 for every bound here, and every check allows 2^-90
 * relative on top of the first-order bound for them.
 */
#include <stdint.h>
#include <stdio.h>

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <mpfr.h>
#include <stdlib.h>
#include <string.h>

#include "test_seed.h"
#include "core/rng.h"
#include "core/scaling.h"
#include "reference/reference.h"
#include "reference/scaling.h"

#define U 0x1p-53
/* Python's math.pi: the double nearest pi (PI_F64 is not C11). */
#define PI_F64 0x1.921fb54442d18p+1
#define SECOND_ORDER 0x1p-90

static uint64_t test_seed(void)
{
    return rc_test_seed("test_scaling", 20261208u);
}

/* ---- configurations (the rope fields of the models' config.json) ---- */

/* Llama-3.1-8B: head_dim 128, rope_theta 5e5, llama3 factor 8, low 1,
 * high 4, original_max_position_embeddings 8192. */
static rc_scaling llama31(void)
{
    rc_scaling s = {0};
    s.type = RC_SCALING_LLAMA3;
    s.factor = 8.0;
    s.original_context = 8192;
    s.low_freq_factor = 1.0;
    s.high_freq_factor = 4.0;
    return s;
}

static rc_scaling yarn(double factor, int64_t L0, double mscale, double mscale_all_dim)
{
    rc_scaling s = {0};
    s.type = RC_SCALING_YARN;
    s.factor = factor;
    s.original_context = L0;
    s.beta_fast = 32.0;
    s.beta_slow = 1.0;
    s.truncate = 1;
    s.mscale = mscale;
    s.mscale_all_dim = mscale_all_dim;
    return s;
}

/* Qwen2-7B-Instruct's YaRN recipe: head_dim 128, rope_theta 1e6, factor 4,
 * original_max_position_embeddings 32768, beta 32/1. */
static rc_scaling qwen2_yarn(void)
{
    return yarn(4.0, 32768, 0.0, 0.0);
}

static rc_scaling dynamic_ntk(double factor, int64_t L0, int64_t L)
{
    rc_scaling s = {0};
    s.type = RC_SCALING_DYNAMIC_NTK;
    s.factor = factor;
    s.original_context = L0;
    s.context = L;
    return s;
}

/* Made-up LongRoPE lists for r = 96 (Phi-3-mini's head size): short
 * factors near 1, long ones growing to ~24, none a power of two except
 * where noted by the test. */
static double short_f[48], long_f[48];
static rc_scaling longrope(int64_t L)
{
    for (int i = 0; i < 48; i++) {
        short_f[i] = 1.0 + 0.013 * i;
        long_f[i] = 1.1 + 0.5 * i;
    }
    rc_scaling s = {0};
    s.type = RC_SCALING_LONGROPE;
    s.factor = 32.0;
    s.original_context = 4096;
    s.context = L;
    s.short_factor = short_f;
    s.long_factor = long_f;
    return s;
}

static void table_of(double base, int r, const rc_scaling *sc, double *hi, double *lo)
{
    char err[256] = "";
    cr_assert(rc_scaling_check(sc, r, err, sizeof err) == 0, "%s", err);
    rc_ref_freq_table(base, r, sc, hi, lo);
}

/* |got - (hi + lo)| / (hi + lo), in double (the 2^-53 of this division
 * is far below every tolerance it meets). */
static double rel_err(double got, double hi, double lo)
{
    return fabs((got - hi) - lo) / hi;
}

/* ---- (1) exact identities ------------------------------------------- */

Test(scaling, none_is_theta_bit_for_bit)
{
    const int rs[] = {4, 64, 96, 128};
    const double bases[] = {16.0, 1e4, 5e5, 1e6};
    double hi[64], lo[64];
    rc_scaling none = {0};
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) {
            for (int k = 0; k < 2; k++) {
                rc_ref_freq_table(bases[b], rs[a], k ? &none : NULL, hi, lo);
                for (int i = 0; i < rs[a] / 2; i++) {
                    rc_dd t = rc_ref_theta_dd(bases[b], rs[a], i);
                    cr_assert(hi[i] == t.hi && lo[i] == t.lo, "r=%d base=%g i=%d", rs[a],
                              bases[b], i);
                }
            }
            rc_dd one = rc_ref_out_scale_dd(NULL);
            cr_assert(one.hi == 1.0 && one.lo == 0.0);
        }
}

/* Outside its contract (base > 0 finite, r even >= 2, 0 <= i < r/2, a
 * known family) rc_ref_freq_mpfr answers NaN, never a number a caller
 * could take for a frequency: each argument is tried just past its edge
 * (base 0 and -0.5 included: 0^(-2i/r) would be an infinity, not an
 * error). The same arguments one step inside give a number. */
Test(scaling, freq_mpfr_outside_its_contract_is_nan)
{
    mpfr_t f;
    mpfr_init2(f, 128);
    rc_scaling bad_type = {0};
    bad_type.type = RC_SCALING_TYPE_COUNT;
    static const struct {
        double base;
        int r, i;
        int bad_family;
    } outside[] = {{0.0, 8, 1, 0},      {-0.5, 8, 1, 0}, {NAN, 8, 1, 0}, {INFINITY, 8, 1, 0},
                   {1e4, 7, 1, 0},      {1e4, 0, 0, 0},  {1e4, 8, -1, 0}, {1e4, 8, 4, 0},
                   {1e4, 8, 1, 1}};
    for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++) {
        mpfr_set_ui(f, 1, MPFR_RNDN);
        rc_ref_freq_mpfr(f, outside[k].base, outside[k].r, outside[k].bad_family ? &bad_type : NULL,
                         outside[k].i);
        cr_expect(mpfr_nan_p(f), "base %g r %d i %d family %d: not NaN", outside[k].base,
                  outside[k].r, outside[k].i, outside[k].bad_family);
    }
    static const struct { double base; int r, i; } inside[] = {{0x1p-1074, 8, 1}, {1e4, 2, 0},
                                                               {1e4, 8, 0}, {1e4, 8, 3}};
    for (size_t k = 0; k < sizeof inside / sizeof inside[0]; k++) {
        rc_ref_freq_mpfr(f, inside[k].base, inside[k].r, NULL, inside[k].i);
        cr_expect(mpfr_number_p(f), "base %g r %d i %d: not a number", inside[k].base,
                  inside[k].r, inside[k].i);
    }
    mpfr_clear(f);
}

/* theta/2 and theta/4 are exact in a dd (no underflow here), so the
 * linear table must be the plain one scaled, bit for bit. */
Test(scaling, linear_by_power_of_two_is_exact)
{
    double hi[64], lo[64];
    for (double s = 2.0; s <= 4.0; s *= 2.0) {
        rc_scaling sc = {0};
        sc.type = RC_SCALING_LINEAR;
        sc.factor = s;
        table_of(5e5, 128, &sc, hi, lo);
        for (int i = 0; i < 64; i++) {
            rc_dd t = rc_ref_theta_dd(5e5, 128, i);
            cr_assert(hi[i] == t.hi / s && lo[i] == t.lo / s, "s=%g i=%d", s, i);
        }
        rc_dd a = rc_ref_out_scale_dd(&sc);
        cr_assert(a.hi == 1.0 && a.lo == 0.0, "linear has no output scale");
    }
}

Test(scaling, table_returns_the_table)
{
    double tab[48], hi[48], lo[48];
    for (int i = 0; i < 48; i++)
        tab[i] = 1.0 / (3.0 + 7.0 * i) + 0x1p-60 * i; /* arbitrary doubles */
    rc_scaling sc = {0};
    sc.type = RC_SCALING_TABLE;
    sc.table = tab;
    table_of(1e4, 96, &sc, hi, lo);
    for (int i = 0; i < 48; i++)
        cr_assert(hi[i] == tab[i] && lo[i] == 0.0, "i=%d", i);
}

/* LongRoPE's default alpha with s = 32, L0 = 4096: ln 32 / ln 4096 = 5/12
 * exactly, so alpha = sqrt(17/12) = 1.190238...; compared with MPFR's
 * sqrt of 17/12 computed here: both are within 3 * 2^-256 of it, the dds
 * within 2^-105 each, so they agree within 2^-103. */
Test(scaling, longrope_alpha_is_sqrt_17_12)
{
    rc_scaling sc = longrope(8192);
    rc_dd a = rc_ref_out_scale_dd(&sc);
    mpfr_t t;
    mpfr_init2(t, 256);
    mpfr_set_ui(t, 17, MPFR_RNDN);
    mpfr_div_ui(t, t, 12, MPFR_RNDN);
    mpfr_sqrt(t, t, MPFR_RNDN);
    double hi = mpfr_get_d(t, MPFR_RNDN);
    mpfr_sub_d(t, t, hi, MPFR_RNDN);
    double lo = mpfr_get_d(t, MPFR_RNDN);
    mpfr_clear(t);
    cr_assert(fabs((a.hi - hi) + (a.lo - lo)) <= 0x1p-103 * hi, "alpha %a + %a", a.hi, a.lo);
    cr_assert(fabs(a.hi - 1.190238) < 1e-6, "alpha %.9f", a.hi);
    /* short and long factors do not change alpha; s <= 1 gives 1 */
    rc_scaling sh = longrope(100);
    rc_dd b = rc_ref_out_scale_dd(&sh);
    cr_assert(b.hi == a.hi && b.lo == a.lo);
    sh.factor = 1.0;
    b = rc_ref_out_scale_dd(&sh);
    cr_assert(b.hi == 1.0 && b.lo == 0.0);
    sh.attention_factor = 1.25; /* explicit wins */
    b = rc_ref_out_scale_dd(&sh);
    cr_assert(b.hi == 1.25 && b.lo == 0.0);
}

/* DeepSeek-V3: mscale = mscale_all_dim = 1 gives alpha = 1 exactly. */
Test(scaling, yarn_equal_mscales_give_one)
{
    rc_scaling sc = yarn(40.0, 4096, 1.0, 1.0);
    rc_dd a = rc_ref_out_scale_dd(&sc);
    cr_assert(a.hi == 1.0 && a.lo == 0.0, "alpha %a + %a", a.hi, a.lo);
    sc = yarn(40.0, 4096, 0.707, 0.707);
    a = rc_ref_out_scale_dd(&sc);
    cr_assert(a.hi == 1.0 && a.lo == 0.0);
    sc.attention_factor = 0.5;
    a = rc_ref_out_scale_dd(&sc);
    cr_assert(a.hi == 0.5 && a.lo == 0.0);
}

/* ---- (2) float64 transcriptions of Hugging Face's formulas ---------- */

/* inv_freq = 1 / base ** (arange(0, dim, 2) / dim), in float64: error
 * (|ln base| * e + 2 + 1 + ... ) u with e = 2i/r <= 1: the rounded
 * exponent (|ln base| u), pow (2u), the reciprocal (u). */
static double hf_theta(double base, int dim, int i)
{
    return 1.0 / pow(base, (double)(2 * i) / dim);
}

static double theta_bound(double base)
{
    return fabs(log(base)) + 3.0;
}

static void check_close(const char *what, int i, double got, double hi, double lo, double bound)
{
    double e = rel_err(got, hi, lo);
    cr_assert(e <= bound * U + SECOND_ORDER, "%s pair %d: rel err %.3g > bound %.3g (%g u)", what,
              i, e, bound * U, bound);
}

/* HF _compute_llama3_parameters in float64. Bound (pair in the blend):
 * theta: T = |ln b| + 3; wavelen = 2 pi / theta: T + 2 (pi rounded, one
 * division); v = L0 / wavelen: T + 3, an absolute error v (T + 3) u with
 * v <= hf in the band; v - lf and (hf - lf) each round once and the
 * division once: |d smooth| <= (hf (T + 3) / (hf - lf) + 3) u. The blend
 * (1 - sm) theta / s + sm theta is a sum of two positive terms, each a
 * few correctly rounded operations (5u), plus theta's T u, plus the
 * smooth error times theta (1 - 1/s), which is (s - 1) relative to the
 * result (>= theta / s). At a band edge the float64 branch may differ
 * from the exact one; the formula is continuous there and the two
 * branches differ by at most the same |d smooth| (s - 1). */
static double hf_llama3(double base, int dim, const rc_scaling *sc, int i)
{
    double inv = hf_theta(base, dim, i);
    double lw = (double)sc->original_context / sc->low_freq_factor;
    double hw = (double)sc->original_context / sc->high_freq_factor;
    double wl = 2 * PI_F64 / inv;
    double out = wl > lw ? inv / sc->factor : inv;
    double sm = ((double)sc->original_context / wl - sc->low_freq_factor) /
                (sc->high_freq_factor - sc->low_freq_factor);
    if (!(wl < hw) && !(wl > lw))
        out = (1 - sm) * out / sc->factor + sm * out;
    return out;
}

Test(scaling, llama31_matches_hf_float64)
{
    rc_scaling sc = llama31();
    double hi[64], lo[64];
    table_of(5e5, 128, &sc, hi, lo);
    double T = theta_bound(5e5);
    double hf = sc.high_freq_factor, lf = sc.low_freq_factor;
    double dsm = hf * (T + 3) / (hf - lf) + 3;
    double bound = T + 5 + dsm * (sc.factor - 1);
    int medium = 0;
    for (int i = 0; i < 64; i++) {
        check_close("llama3", i, hf_llama3(5e5, 128, &sc, i), hi[i], lo[i], bound);
        double ratio = hi[i] / rc_ref_theta_dd(5e5, 128, i).hi;
        medium += ratio != 1.0 && ratio != 0.125;
    }
    /* Llama 3.1 8B: the smooth band holds a handful of pairs. */
    cr_assert(medium > 0 && medium < 20, "medium pairs %d", medium);
}

/* HF _compute_yarn_parameters in float64 (truncate on or off). The caller
 * checks that the float64 correction dims are more than 1e-9 from an
 * integer, so floor/ceil agree with the exact ones (their float64 error
 * is below 1e-12 here). Bound: pos = base ** e: |ln b| + 2; interp
 * 1 / (s pos) 2 more, extrap 1 more; gamma = (i - low)/(high - low) of
 * small integers: one rounding; 1 - gamma and 1 - (1 - gamma) one more
 * each, so the weights are within 2u absolutely; the blend (two
 * products, one sum) 3u. Relative to the result (>= theta/s): the
 * weights' errors cost 2u + 2u s, theta's (|ln b| + 4) u, roundings 3u. */
static double hf_yarn_dim(double nrot, int dim, double base, double L0)
{
    return (dim * log(L0 / (nrot * 2 * PI_F64))) / (2 * log(base));
}

static double hf_yarn(double base, int dim, const rc_scaling *sc, int i)
{
    double L0 = (double)sc->original_context;
    double low = hf_yarn_dim(sc->beta_fast, dim, base, L0);
    double high = hf_yarn_dim(sc->beta_slow, dim, base, L0);
    if (sc->truncate) {
        low = floor(low);
        high = ceil(high);
    }
    low = low > 0 ? low : 0;
    high = high < dim - 1 ? high : dim - 1;
    if (low == high)
        high += 0.001;
    double g = (i - low) / (high - low);
    g = g < 0 ? 0 : g > 1 ? 1 : g;
    double pos = pow(base, (double)(2 * i) / dim);
    double extrap = 1.0 / pos, interp = 1.0 / (sc->factor * pos);
    double ef = 1 - g;
    return interp * (1 - ef) + extrap * ef;
}

static void require_margin(double base, int dim, const rc_scaling *sc)
{
    double L0 = (double)sc->original_context;
    double c[2] = {hf_yarn_dim(sc->beta_fast, dim, base, L0),
                   hf_yarn_dim(sc->beta_slow, dim, base, L0)};
    for (int k = 0; k < 2; k++)
        cr_assert(fabs(c[k] - nearbyint(c[k])) > 1e-9, "correction dim %.17g too close to an "
                  "integer for a float64 comparison", c[k]);
}

/* YaRN's alpha in float64: ln s (2u), 0.1 (u), the products (2u): P
 * within 5u, P + 1 one more: each m(s, k) within 6u, the ratio 13u; the
 * default 0.1 ln s + 1 within 6u. */
static double hf_mscale(double s, double k)
{
    return s <= 1 ? 1.0 : 0.1 * k * log(s) + 1.0;
}

static void check_yarn_model(double base, int r, const rc_scaling *sc)
{
    double hi[128], lo[128];
    require_margin(base, r, sc);
    table_of(base, r, sc, hi, lo);
    double bound = fabs(log(base)) + 4 + 2 + 2 * sc->factor + 3;
    for (int i = 0; i < r / 2; i++)
        check_close("yarn", i, hf_yarn(base, r, sc, i), hi[i], lo[i], bound);
    rc_dd a = rc_ref_out_scale_dd(sc);
    double want = sc->mscale > 0 && sc->mscale_all_dim > 0
                      ? hf_mscale(sc->factor, sc->mscale) / hf_mscale(sc->factor, sc->mscale_all_dim)
                      : hf_mscale(sc->factor, 1.0);
    check_close("yarn alpha", -1, want, a.hi, a.lo, 13);
}

Test(scaling, qwen2_yarn_matches_hf_float64)
{
    rc_scaling sc = qwen2_yarn();
    check_yarn_model(1e6, 128, &sc);
    rc_dd a = rc_ref_out_scale_dd(&sc);
    cr_assert(fabs(a.hi - (0.1 * log(4.0) + 1)) < 1e-15, "alpha %.17g", a.hi);
}

/* DeepSeek-V2/V3 style: qk_rope_head_dim 64, base 1e4, factor 40,
 * original 4096; mscale 0.707 against mscale_all_dim 1 gives
 * (1 + 0.0707 ln 40)/(1 + 0.1 ln 40) = 0.9210... */
Test(scaling, deepseek_yarn_matches_hf_float64)
{
    rc_scaling sc = yarn(40.0, 4096, 1.0, 1.0);
    check_yarn_model(1e4, 64, &sc);
    sc = yarn(40.0, 4096, 0.707, 1.0);
    check_yarn_model(1e4, 64, &sc);
    rc_dd a = rc_ref_out_scale_dd(&sc);
    cr_assert(fabs(a.hi - 0.92104) < 1e-5, "alpha %.9f", a.hi);
    sc = yarn(40.0, 4096, 0.0, 0.0); /* no mscales: 0.1 ln 40 + 1 */
    check_yarn_model(1e4, 64, &sc);
}

/* HF _compute_ntk_parameters / _compute_dynamic_ntk_parameters in float64.
 * X = s L / L0 - (s - 1): s L and / L0 round (X's first term A within
 * 2u), s - 1 and the subtraction once each: |dX| <= (2A + (s - 1) + X) u.
 * base' = base * X ** (r / (r - 2)): the exponent e rounds (|ln X| e u),
 * pow 2u, the product u, and X's relative error times e: db. Then
 * 1 / base' ** (2i/r): |ln base'| u + db + 3u. Static NTK: X = s. */
static double hf_ntk(double base, int dim, double X, int i)
{
    double b2 = base * pow(X, (double)dim / (dim - 2));
    return 1.0 / pow(b2, (double)(2 * i) / dim);
}

static double ntk_bound(double base, int dim, double X, double dX_rel)
{
    double e = (double)dim / (dim - 2);
    double db = e * dX_rel + fabs(log(X)) * e + 3;
    double b2 = base * pow(X, e);
    return fabs(log(b2)) + db + 3;
}

Test(scaling, ntk_and_dynamic_match_hf_float64)
{
    double hi[64], lo[64];
    /* static NTK, s = 4, r = 128, base 1e4 */
    rc_scaling sc = {0};
    sc.type = RC_SCALING_NTK;
    sc.factor = 4.0;
    table_of(1e4, 128, &sc, hi, lo);
    for (int i = 0; i < 64; i++)
        check_close("ntk", i, hf_ntk(1e4, 128, 4.0, i), hi[i], lo[i],
                    ntk_bound(1e4, 128, 4.0, 0.0));

    /* dynamic, above L0: s = 2, L0 = 4096, L = 10000 */
    sc = dynamic_ntk(2.0, 4096, 10000);
    table_of(1e4, 128, &sc, hi, lo);
    double A = 2.0 * 10000 / 4096, X = A - 1.0;
    double dX = (2 * A + 1.0 + X) / X;
    for (int i = 0; i < 64; i++)
        check_close("dynamic", i, hf_ntk(1e4, 128, X, i), hi[i], lo[i],
                    ntk_bound(1e4, 128, X, dX));

    /* below L0: HF takes seq_len = max(L, L0), X = 1: the plain table */
    sc = dynamic_ntk(2.0, 4096, 1000);
    table_of(1e4, 128, &sc, hi, lo);
    for (int i = 0; i < 64; i++)
        check_close("dynamic below", i, hf_theta(1e4, 128, i), hi[i], lo[i], theta_bound(1e4));
}

/* HF _compute_longrope_parameters in float64 (its factor lists are f32
 * tensors in HF; the exact definition takes the double as given):
 * 1 / (ext * base ** e): theta's |ln b| + 2, the product and the
 * reciprocal 2u. alpha: logs 2u each, the quotient u (5u), + 1 and sqrt
 * halve the relative error and add u each: < 4u. */
Test(scaling, longrope_matches_hf_float64)
{
    double hi[48], lo[48];
    for (int k = 0; k < 2; k++) {
        rc_scaling sc = longrope(k ? 131072 : 4096); /* L = L0 is short */
        const double *ext = k ? long_f : short_f;
        table_of(1e4, 96, &sc, hi, lo);
        for (int i = 0; i < 48; i++) {
            double want = 1.0 / (ext[i] * pow(1e4, (double)(2 * i) / 96));
            check_close(k ? "longrope long" : "longrope short", i, want, hi[i], lo[i],
                        fabs(log(1e4)) + 4);
        }
        rc_dd a = rc_ref_out_scale_dd(&sc);
        check_close("longrope alpha", -1, sqrt(1 + log(32.0) / log(4096.0)), a.hi, a.lo, 4);
    }
}

/* ---- (3) structure that holds exactly ------------------------------- */

/* Qwen2 YaRN: c_low = 23.6, c_high = 39.6 -> low 23, high 40. Pairs up to
 * low keep theta bit for bit, pairs from high on are theta / 4 bit for bit
 * (4 is a power of two), and theta'/theta strictly decreases in between,
 * inside (1/4, 1). The ratios differ by 0.75/17 per pair, far above the
 * 2^-52 of computing them from the hi parts. */
Test(scaling, yarn_ramp_structure)
{
    rc_scaling sc = qwen2_yarn();
    double hi[64], lo[64];
    table_of(1e6, 128, &sc, hi, lo);
    double prev = 1.0;
    for (int i = 0; i < 64; i++) {
        rc_dd t = rc_ref_theta_dd(1e6, 128, i);
        if (i <= 23) {
            cr_assert(hi[i] == t.hi && lo[i] == t.lo, "pair %d must be unscaled", i);
        } else if (i >= 40) {
            cr_assert(hi[i] == t.hi / 4 && lo[i] == t.lo / 4, "pair %d must be theta/4", i);
        } else {
            double f = hi[i] / t.hi;
            cr_assert(f < prev && f > 0.25, "pair %d ratio %.17g after %.17g", i, f, prev);
            cr_assert(fabs(f - (1 - 0.75 * (i - 23) / 17.0)) < 1e-12, "pair %d ratio %.17g", i,
                      f);
            prev = f;
        }
    }
    /* truncate off: no pair is at an integer dim, the ramp runs from 23.6
     * to 39.6, so pair 23 is unscaled and 24 is not */
    sc.truncate = 0;
    table_of(1e6, 128, &sc, hi, lo);
    rc_dd t23 = rc_ref_theta_dd(1e6, 128, 23), t24 = rc_ref_theta_dd(1e6, 128, 24);
    cr_assert(hi[23] == t23.hi && lo[23] == t23.lo);
    cr_assert(hi[24] < t24.hi);
}

/* Llama 3.1: pairs whose unscaled wavelength 2 pi / theta is below
 * L0/high = 2048 keep theta bit for bit, above L0/low = 8192 get theta/8
 * bit for bit. The classification here uses the double theta, which is
 * decisive unless a wavelength lies within 1e-9 of an edge (asserted). */
Test(scaling, llama3_band_structure)
{
    rc_scaling sc = llama31();
    double hi[64], lo[64];
    table_of(5e5, 128, &sc, hi, lo);
    int high = 0, low = 0;
    double prev = 1.0;
    for (int i = 0; i < 64; i++) {
        rc_dd t = rc_ref_theta_dd(5e5, 128, i);
        double wl = 2 * PI_F64 / t.hi;
        cr_assert(fabs(wl / 2048 - 1) > 1e-9 && fabs(wl / 8192 - 1) > 1e-9);
        if (wl < 2048) {
            high++;
            cr_assert(hi[i] == t.hi && lo[i] == t.lo, "pair %d must keep theta", i);
        } else if (wl > 8192) {
            low++;
            cr_assert(hi[i] == t.hi / 8 && lo[i] == t.lo / 8, "pair %d must be theta/8", i);
        } else {
            /* theta'/theta = 1/8 + smooth * 7/8 falls from 1 to 1/8 as the
             * wavelength grows (steps of ~0.1, far above 2^-52) */
            double f = hi[i] / t.hi;
            cr_assert(f < prev && f > 0.125, "pair %d ratio %.17g after %.17g", i, f, prev);
            prev = f;
        }
    }
    cr_assert(high > 20 && low > 20, "high %d low %d", high, low);
}

Test(scaling, dynamic_ntk_at_or_below_L0_is_plain)
{
    double hi[64], lo[64];
    const int64_t Ls[] = {1, 100, 4095, 4096};
    for (size_t k = 0; k < 4; k++) {
        rc_scaling sc = dynamic_ntk(3.0, 4096, Ls[k]);
        table_of(1e4, 128, &sc, hi, lo);
        for (int i = 0; i < 64; i++) {
            rc_dd t = rc_ref_theta_dd(1e4, 128, i);
            cr_assert(hi[i] == t.hi && lo[i] == t.lo, "L=%lld pair %d", (long long)Ls[k], i);
        }
    }
    rc_scaling sc = dynamic_ntk(3.0, 4096, 4097); /* one past: the base grows */
    table_of(1e4, 128, &sc, hi, lo);
    cr_assert(hi[1] < rc_ref_theta_dd(1e4, 128, 1).hi);
    cr_assert(hi[0] == 1.0 && lo[0] == 0.0, "theta_0 = 1 for every base");
}

/* ---- (4) the precision contract ------------------------------------- */

/* |T_w - X| < 3 * 2^-w * X with X the 1024-bit value; X's own error
 * (< 3 * 2^-1024 X) is far below the 2^-300 of slack the check leaves. */
static void check_contract(const char *what, double base, int r, const rc_scaling *sc)
{
    const mpfr_prec_t ws[] = {8, 24, 53, 64, 128, 256};
    mpfr_t X, T, d, b;
    mpfr_inits2(1024, X, d, b, (mpfr_ptr)0);
    mpfr_init2(T, 8);
    for (int i = -1; i < r / 2; i++) {
        if (i < 0)
            rc_ref_out_scale_mpfr(X, sc);
        else
            rc_ref_freq_mpfr(X, base, r, sc, i);
        cr_assert(mpfr_number_p(X) && mpfr_sgn(X) > 0, "%s pair %d", what, i);
        for (size_t k = 0; k < sizeof ws / sizeof ws[0]; k++) {
            mpfr_set_prec(T, ws[k]);
            if (i < 0)
                rc_ref_out_scale_mpfr(T, sc);
            else
                rc_ref_freq_mpfr(T, base, r, sc, i);
            mpfr_sub(d, T, X, MPFR_RNDN); /* within 2^-1024 relative */
            mpfr_abs(d, d, MPFR_RNDN);
            mpfr_mul_ui(b, X, 3, MPFR_RNDN);
            mpfr_mul_2si(b, b, -(long)ws[k], MPFR_RNDN);
            cr_assert(mpfr_less_p(d, b), "%s pair %d at w = %ld: error %.3e ulp-relative", what,
                      i, (long)ws[k], mpfr_get_d(d, MPFR_RNDN) / mpfr_get_d(X, MPFR_RNDN) *
                                          ldexp(1.0, (int)ws[k]));
        }
    }
    mpfr_clears(X, T, d, b, (mpfr_ptr)0);
}

Test(scaling, contract_on_model_configs)
{
    rc_scaling sc = llama31();
    check_contract("llama3", 5e5, 128, &sc);
    sc = qwen2_yarn();
    check_contract("yarn", 1e6, 128, &sc);
    sc.truncate = 0;
    check_contract("yarn no-truncate", 1e6, 128, &sc);
    sc = yarn(40.0, 4096, 0.707, 1.0);
    check_contract("deepseek yarn", 1e4, 64, &sc);
    sc = dynamic_ntk(2.0, 4096, 10000);
    check_contract("dynamic", 1e4, 128, &sc);
    sc = longrope(131072);
    check_contract("longrope", 1e4, 96, &sc);
    sc = (rc_scaling){0};
    sc.type = RC_SCALING_LINEAR;
    sc.factor = 3.0;
    check_contract("linear 3", 1e4, 96, &sc);
    sc.type = RC_SCALING_NTK;
    check_contract("ntk 3", 1e4, 96, &sc);
}

/* A YaRN correction dim within ~1e-14 of an integer: beta_fast chosen so
 * that c_low = k exactly in real arithmetic up to the double rounding of
 * beta. At w = 8 or 24 the first working precision cannot decide the
 * floor; the result must still meet the contract (a wrong floor would
 * move pair k between "unscaled" and "ramp", an error of order 1). */
Test(scaling, yarn_floor_near_an_integer)
{
    const int r = 128, k = 20;
    const double base = 1e6;
    rc_scaling sc = yarn(4.0, 32768, 0.0, 0.0);
    sc.beta_fast = 32768.0 / (2 * PI_F64 * pow(base, 2.0 * k / r));
    double c = hf_yarn_dim(sc.beta_fast, r, base, 32768.0);
    cr_assert(fabs(c - k) < 1e-12, "c = %.17g", c);
    check_contract("yarn c ~ integer", base, r, &sc);
    sc.truncate = 0;
    check_contract("yarn c ~ integer, no truncate", base, r, &sc);
}

/* The ramp's clamps, max(low, 0) and min(high, r - 1), with truncate off:
 * beta_fast puts the low correction dim at 0.5 (between the clamp and the
 * first pair), beta_slow puts the high one past r - 1. A clamp applied to
 * the wrong side widens the enclosure of gamma by a fixed amount, which no
 * working precision can shrink. Float64 bound: the unfloored dims carry
 * their own error, c (|ln(L0 / 2 pi beta)| + 4) u absolutely (pi, the
 * product, the quotient, two logs, the product by r / 2 and the division),
 * below 1e-13 here; it moves gamma by that over (high - low) >= 1, and the
 * result by s times it relative: 4u more than the truncated bound covers. */
Test(scaling, yarn_clamps_without_truncation)
{
    const int r = 64;
    const double base = 1e4, L0 = 4096.0;
    rc_scaling sc = yarn(8.0, 4096, 0.0, 0.0);
    sc.truncate = 0;
    sc.beta_fast = L0 / (2 * PI_F64 * pow(base, 1.0 / r));
    sc.beta_slow = L0 / (2 * PI_F64 * pow(base, 2.0 * r / r)); /* c = r: past r - 1 */
    double c_low = hf_yarn_dim(sc.beta_fast, r, base, L0);
    double c_high = hf_yarn_dim(sc.beta_slow, r, base, L0);
    cr_assert(c_low > 0.4 && c_low < 0.6 && c_high > r - 0.5, "c = %.17g, %.17g", c_low, c_high);
    char err[256] = "";
    cr_assert(rc_scaling_check(&sc, r, err, sizeof err) == 0, "%s", err);
    check_contract("yarn, low in (0, 1), high past r - 1", base, r, &sc);
    double hi[64], lo[64];
    table_of(base, r, &sc, hi, lo);
    double bound = fabs(log(base)) + 4 + 2 + 2 * sc.factor + 3 + 4 * sc.factor;
    for (int i = 0; i < r / 2; i++)
        check_close("yarn untruncated", i, hf_yarn(base, r, &sc, i), hi[i], lo[i], bound);
}

static double log_uniform(rc_rng *g, double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * rc_rng_uniform(g));
}

/* Random parameters of every family (printed with the seed on failure). */
Test(scaling, contract_on_random_parameters)
{
    uint64_t seed = test_seed();
    rc_rng g;
    rc_rng_seed3(&g, seed, 0x5ca11, 0);
    double sf[64], lf[64], tab[64];
    for (int n = 0; n < 40; n++) {
        int r = 4 + 2 * (int)rc_rng_below(&g, 62);
        double base = log_uniform(&g, 100.0, 1e7);
        rc_scaling sc = {0};
        sc.type = (rc_scaling_type)(1 + rc_rng_below(&g, RC_SCALING_TYPE_COUNT - 1));
        sc.factor = log_uniform(&g, 0.5, 64.0);
        sc.original_context = 256 + (int64_t)rc_rng_below(&g, 1 << 17);
        sc.context = 1 + (int64_t)rc_rng_below(&g, 1 << 20);
        sc.beta_slow = log_uniform(&g, 0.25, 4.0);
        sc.beta_fast = sc.beta_slow * log_uniform(&g, 2.0, 128.0);
        sc.truncate = (int32_t)rc_rng_below(&g, 2);
        sc.mscale = rc_rng_below(&g, 2) ? rc_rng_uniform(&g) + 0.1 : 0.0;
        sc.mscale_all_dim = rc_rng_below(&g, 2) ? rc_rng_uniform(&g) + 0.1 : 0.0;
        sc.low_freq_factor = log_uniform(&g, 0.5, 4.0);
        sc.high_freq_factor = sc.low_freq_factor * log_uniform(&g, 1.5, 16.0);
        for (int i = 0; i < r / 2; i++) {
            sf[i] = log_uniform(&g, 0.8, 2.0);
            lf[i] = log_uniform(&g, 1.0, 64.0);
            tab[i] = log_uniform(&g, 1e-9, 1.0);
        }
        sc.short_factor = sf;
        sc.long_factor = lf;
        sc.table = tab;
        char err[256] = "", what[512];
        cr_assert(rc_scaling_check(&sc, r, err, sizeof err) == 0, "%s", err);
        char desc[400];
        rc_scaling_describe(&sc, desc, sizeof desc);
        snprintf(what, sizeof what, "seed %llu case %d r=%d base=%.17g %s",
                 (unsigned long long)seed, n, r, base, desc);
        check_contract(what, base, r, &sc);
    }
}
