/*
 * tests/test_profile.c - the framework profiles (reference/profile.h)
 * against transcriptions of the frameworks' own code (tests/ports/): the
 * transcriptions, run with the C library's powf/cosf/sinf, must land
 * inside the profile's band (distance 0) for every dtype the framework
 * takes, both layouts, both directions, positions up to 2^31 - 1 and
 * random inputs. Also: the band is narrow, a contracted (fma) port stays
 * within the gate derived in PROFILES.md, and the ggml band excludes the
 * exact result at long positions (the profile tells ggml from exact).
 * The figures of PROFILES.md (pred against exact) are printed here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <math.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "reference/metrics.h"
#include "reference/profile.h"
#include "reference/profile_band.h"
#include "reference/reference.h"
#include "reference/scaling.h"
#include "tests/ports/ports.h"

/* The gate of PROFILES.md for a port that contracts one product of each
 * output into an fma: 2 pair ULP (derived there). */
#define RC_PROFILE_GATE 2.0
/* The band width bounds of PROFILES.md ("Band width"), in pair ULP of the
 * format cos/sin are rounded to (f32 for hf's f64 outputs), when only the
 * per-element cos/sin are widened: 6 without an output scale, 16 with
 * one in (1, 2) (YaRN's attention factor). */
#define RC_BAND_WIDTH_BOUND 6.0
#define RC_BAND_WIDTH_BOUND_SCALED 16.0

static uint64_t test_seed(void)
{
    return rc_test_seed("test_profile", 20261124u);
}

/* Inputs: mostly O(1), some small, some zeros, rounded to the dtype. */
static double random_input(rc_rng *g, rc_dtype t)
{
    const uint64_t k = rc_rng_below(g, 8);
    const double u = 2.0 * rc_rng_uniform(g) - 1.0;
    if (k == 0)
        return 0.0;
    if (k == 1)
        return rc_round_to_dtype(t, u * 0x1p-6);
    return rc_round_to_dtype(t, u * 4.0);
}

/* 100, 4095, 131071, 2^24 + 1 (the first position f32 cannot hold), then
 * random positions below 2^31. */
#define N_FIXED 4
static int64_t position_at(rc_rng *g, int k)
{
    static const int64_t fixed[N_FIXED] = {100, 4095, 131071, (1 << 24) + 1};
    return k < N_FIXED ? fixed[k] : (int64_t)rc_rng_below(g, (uint64_t)1 << 31);
}

/* ||(a, b)|| as a double-double: the scale of the pair-ULP distance. */
static rc_dd pair_norm(double a, double b)
{
    const double n = hypot(a, b);
    rc_dd r = {n, 0.0};
    return r;
}

static void pair_channels(rc_layout l, int r, int i, int *ca, int *cb)
{
    *ca = l == RC_LAYOUT_INTERLEAVED ? 2 * i : i;
    *cb = l == RC_LAYOUT_INTERLEAVED ? 2 * i + 1 : i + r / 2;
}

typedef struct band_stats {
    double max_width;  /* pair ULP */
    double max_fused;  /* pair ULP outside the band, fused port */
    long elements;
} band_stats;

/* Check every rotated channel of one head: pred and the port inside the
 * band, the band width, and (if fused != NULL) the fused port's distance. */
static void check_head(const rc_spec *s, rc_profile_ref *p, int64_t m, rc_direction dir,
                       const double *in, const double *port, const double *fused,
                       band_stats *st, const char *what)
{
    double pred[RC_MAX_HEAD_DIM], lo[RC_MAX_HEAD_DIM], hi[RC_MAX_HEAD_DIM];
    cr_assert_eq(rc_profile_ref_head(p, m, dir, in, pred, lo, hi), 0);
    for (int i = 0; i < s->rotary_dim / 2; i++) {
        int ca, cb;
        pair_channels(s->layout, s->rotary_dim, i, &ca, &cb);
        const rc_dd nrm = pair_norm(in[ca], in[cb]);
        const int ch[2] = {ca, cb};
        for (int k = 0; k < 2; k++) {
            const int c = ch[k];
            cr_assert(lo[c] <= pred[c] && pred[c] <= hi[c], "%s m=%lld c=%d: pred %a not in [%a, %a]",
                      what, (long long)m, c, pred[c], lo[c], hi[c]);
            const double d = rc_profile_band_distance(s->dtype, port[c], lo[c], hi[c], nrm);
            cr_assert(d == 0.0,
                      "%s %s %s %s m=%lld c=%d in=(%a, %a): port %a outside [%a, %a] (pred %a) by "
                      "%g pair ULP",
                      what, rc_dtype_name(s->dtype), rc_layout_name(s->layout),
                      rc_direction_name(dir), (long long)m, c, in[ca], in[cb], port[c], lo[c],
                      hi[c], pred[c], d);
            if (nrm.hi > 0) {
                /* hf's f64 outputs carry f32 cos/sin: width in f32 ULP */
                const rc_dtype wt = s->dtype == RC_DTYPE_F64 ? RC_DTYPE_F32 : s->dtype;
                const double w = (hi[c] - lo[c]) / rc_ulp_of(wt, nrm);
                st->max_width = fmax(st->max_width, w);
            }
            if (fused != NULL) {
                const double f = rc_profile_band_distance(s->dtype, fused[c], lo[c], hi[c], nrm);
                st->max_fused = fmax(st->max_fused, f);
            }
            st->elements++;
        }
    }
    for (int c = s->rotary_dim; c < s->head_dim; c++)
        cr_assert(pred[c] == in[c] && lo[c] == in[c] && hi[c] == in[c] && port[c] == in[c]);
}

Test(profile, names_and_unsupported)
{
    rc_profile p;
    for (int k = 0; k < RC_PROFILE_COUNT; k++) {
        cr_expect_eq(rc_profile_parse(rc_profile_name((rc_profile)k), &p), 0);
        cr_expect_eq((int)p, k);
    }
    cr_expect_eq(rc_profile_parse("tf", &p), -1);
    rc_spec s = {128, 128, 10000, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    cr_expect(rc_profile_ref_create(RC_PROFILE_EXACT, &s) == NULL);
    s.dtype = RC_DTYPE_BF16; /* ggml's CPU rope has f32 and f16 kernels only */
    cr_expect(rc_profile_ref_create(RC_PROFILE_GGML, &s) == NULL);
    rc_profile_ref *h = rc_profile_ref_create(RC_PROFILE_HF, &s);
    cr_expect(h != NULL);
    rc_profile_ref_destroy(h);
    s.rotary_dim = 129;
    cr_expect(rc_profile_ref_create(RC_PROFILE_HF, &s) == NULL);
}

/* The ggml transcription, plain and with linear scaling (freq_scale), is
 * inside the ggml band everywhere; fused, within the gate. */
Test(profile, ggml_port_inside_band)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 1, 0);
    const rc_dtype dts[2] = {RC_DTYPE_F32, RC_DTYPE_F16};
    const int shapes[2][2] = {{128, 128}, {96, 64}};
    const double bases[2] = {10000.0, 500000.0};
    band_stats st = {0, 0, 0};
    for (int t = 0; t < 2; t++)
        for (int l = 0; l < RC_LAYOUT_COUNT; l++)
            for (int sh = 0; sh < 2; sh++)
                for (int lin = 0; lin < 2; lin++) {
                    rc_scaling sc = {0};
                    sc.type = RC_SCALING_LINEAR;
                    sc.factor = 4.0;
                    rc_spec s = {shapes[sh][0], shapes[sh][1], bases[sh], (rc_layout)l, dts[t],
                                 NULL, NULL, lin ? &sc : NULL, 0.0, 0.0, 0, NULL, 0};
                    rc_profile_ref *p = rc_profile_ref_create(RC_PROFILE_GGML, &s);
                    cr_assert(p != NULL);
                    const float freq_scale = lin ? 1.0f / (float)sc.factor : 1.0f;
                    for (int k = 0; k < 64; k++) {
                        const int64_t m = position_at(&g, k);
                        double in[RC_MAX_HEAD_DIM], out[RC_MAX_HEAD_DIM], fu[RC_MAX_HEAD_DIM];
                        for (int c = 0; c < s.head_dim; c++)
                            in[c] = random_input(&g, s.dtype);
                        for (int dir = 0; dir < 2; dir++) {
                            rc_ggml_port_head(s.dtype, s.head_dim, s.rotary_dim,
                                              l == RC_LAYOUT_HALF, (float)s.base, freq_scale,
                                              (int32_t)m, dir == RC_FORWARD, 0, in, out);
                            rc_ggml_port_head(s.dtype, s.head_dim, s.rotary_dim,
                                              l == RC_LAYOUT_HALF, (float)s.base, freq_scale,
                                              (int32_t)m, dir == RC_FORWARD, 1, in, fu);
                            check_head(&s, p, m, (rc_direction)dir, in, out, fu, &st, "ggml");
                        }
                    }
                    rc_profile_ref_destroy(p);
                }
    fprintf(stderr, "ggml: %ld elements inside the band; max band width %.3g pair ULP; "
                    "fused port max %.3g pair ULP outside\n",
            st.elements, st.max_width, st.max_fused);
    cr_expect(st.max_width <= RC_BAND_WIDTH_BOUND, "band width %g", st.max_width);
    cr_expect(st.max_fused <= RC_PROFILE_GATE, "fused port %g pair ULP outside", st.max_fused);
}

/* The HF transcription with every family it transcribes, all four dtypes. */
Test(profile, hf_port_inside_band)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 2, 0);
    rc_scaling fam[4] = {{0}, {0}, {0}, {0}};
    fam[1].type = RC_SCALING_LINEAR;
    fam[1].factor = 8.0;
    fam[2].type = RC_SCALING_LLAMA3; /* Llama 3.1's rope_scaling */
    fam[2].factor = 8.0;
    fam[2].low_freq_factor = 1.0;
    fam[2].high_freq_factor = 4.0;
    fam[2].original_context = 8192;
    fam[3].type = RC_SCALING_YARN; /* Qwen2-style YaRN */
    fam[3].factor = 4.0;
    fam[3].original_context = 32768;
    fam[3].beta_fast = 32.0;
    fam[3].beta_slow = 1.0;
    fam[3].truncate = 1;
    const double bases[4] = {10000.0, 10000.0, 500000.0, 1000000.0};
    band_stats fst[4] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    for (int f = 0; f < 4; f++)
        for (int t = 0; t < RC_DTYPE_COUNT; t++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
                rc_spec s = {128, 128, bases[f], (rc_layout)l, (rc_dtype)t, NULL, NULL,
                             f ? &fam[f] : NULL, 0.0, 0.0, 0, NULL, 0};
                if (t == RC_DTYPE_F16 && l == RC_LAYOUT_HALF)
                    s.rotary_dim = 64; /* partial rotary: channels 64.. pass through */
                rc_profile_ref *p = rc_profile_ref_create(RC_PROFILE_HF, &s);
                cr_assert(p != NULL, "family %d dtype %d", f, t);
                for (int k = 0; k < 40; k++) {
                    const int64_t m = position_at(&g, k);
                    double in[RC_MAX_HEAD_DIM], out[RC_MAX_HEAD_DIM];
                    for (int c = 0; c < s.head_dim; c++)
                        in[c] = random_input(&g, s.dtype);
                    for (int dir = 0; dir < 2; dir++) {
                        cr_assert_eq(rc_hf_port_head(&s, m, dir == RC_FORWARD, in, out), 0);
                        char what[32];
                        snprintf(what, sizeof what, "hf/%s", rc_scaling_type_name(fam[f].type));
                        check_head(&s, p, m, (rc_direction)dir, in, out, NULL, &fst[f], what);
                    }
                }
                rc_profile_ref_destroy(p);
            }
    for (int f = 0; f < 4; f++) {
        fprintf(stderr, "hf/%s: %ld elements inside the band; max band width %.3g pair ULP\n",
                rc_scaling_type_name(fam[f].type), fst[f].elements, fst[f].max_width);
        const double bound = fam[f].type == RC_SCALING_YARN ? RC_BAND_WIDTH_BOUND_SCALED
                                                            : RC_BAND_WIDTH_BOUND;
        cr_expect(fst[f].max_width <= bound, "hf/%s band width %g",
                  rc_scaling_type_name(fam[f].type), fst[f].max_width);
    }
}

/* Max pair ULP of a profile's pred against the exact reference at
 * position m, d = r = 128, base 10000, half layout, f32, random inputs;
 * also the share of elements whose correctly rounded exact result lies
 * outside the band, and the largest band width. */
static void against_exact(rc_profile prof, unsigned flags, int64_t m, rc_rng *g, double *max_ulp,
                          double *outside, double *width)
{
    rc_spec s = {128, 128, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    rc_ref *ref = rc_ref_create(&s);
    rc_profile_ref *p = rc_profile_ref_create_ex(prof, &s, flags);
    cr_assert(ref != NULL && p != NULL);
    long n = 0, out_n = 0;
    *max_ulp = *width = 0.0;
    for (int h = 0; h < 16; h++) {
        double in[128], pred[128], lo[128], hi[128];
        rc_ref_elem ex[128];
        for (int c = 0; c < 128; c++)
            in[c] = rc_round_to_dtype(RC_DTYPE_F32, 2.0 * rc_rng_uniform(g) - 1.0);
        cr_assert_eq(rc_ref_rotate_head(ref, m, RC_FORWARD, in, ex), 0);
        cr_assert_eq(rc_profile_ref_head(p, m, RC_FORWARD, in, pred, lo, hi), 0);
        for (int c = 0; c < 128; c++) {
            *max_ulp = fmax(*max_ulp, rc_ulp_error(s.dtype, pred[c], ex[c].exact, ex[c].pair_norm));
            *width = fmax(*width, (hi[c] - lo[c]) / rc_ulp_of(s.dtype, ex[c].pair_norm));
            out_n += rc_profile_band_distance(s.dtype, ex[c].rounded, lo[c], hi[c],
                                              ex[c].pair_norm) > 0;
            n++;
        }
    }
    *outside = (double)out_n / (double)n;
    rc_profile_ref_destroy(p);
    rc_ref_destroy(ref);
}

/* The figures of PROFILES.md, and what they must show: both profiles are
 * far from exact once the f32 angle's rounding shows (above the exact f32
 * gate of 2 at 4095 and 131071, GATES.md), and at 131071 the ggml band
 * excludes the exact result for most elements. */
Test(profile, against_exact)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 3, 0);
    const int64_t ms[3] = {100, 4095, 131071};
    for (int pr = RC_PROFILE_HF; pr <= RC_PROFILE_GGML; pr++)
        for (int k = 0; k < 3; k++) {
            double mx, outside, width, mx_f, outside_f, width_f;
            against_exact((rc_profile)pr, 0, ms[k], &g, &mx, &outside, &width);
            against_exact((rc_profile)pr, RC_PROFILE_FAITHFUL_TABLE, ms[k], &g, &mx_f,
                          &outside_f, &width_f);
            fprintf(stderr,
                    "%-4s m=%-6lld pred vs exact max %.3g pair ULP; exact outside band %.1f%%; "
                    "band width %.3g (faithful table: width %.3g, exact outside %.1f%%)\n",
                    rc_profile_name((rc_profile)pr), (long long)ms[k], mx, 100 * outside, width,
                    width_f, 100 * outside_f);
            if (ms[k] >= 4095)
                cr_expect(mx > 2.0, "%s m=%lld: %g", rc_profile_name((rc_profile)pr),
                          (long long)ms[k], mx);
            if (pr == RC_PROFILE_GGML && ms[k] == 131071)
                cr_expect(outside > 0.5, "exact outside the ggml band for only %.1f%%",
                          100 * outside);
            cr_expect(width <= RC_BAND_WIDTH_BOUND);
            /* A faithful table widens the band, but it stays a band: the
             * trivial one, [-N, N] (what cos/sin of an angle interval of
             * unknown finiteness give), is 2N/ulp(N) >= 2^24 pair ULP wide.
             * Measured here: at most 3.5*m. */
            cr_expect(width_f >= width && width_f < 0x1p23, "%s m=%lld: faithful width %g",
                      rc_profile_name((rc_profile)pr), (long long)ms[k], width_f);
        }
}

/* LongRoPE in transformers switches to the long factors only when the
 * sequence is longer than the original context (seq_len >
 * original_max_position_embeddings, _compute_longrope_parameters): at
 * exactly L0 the short factors hold. The hf profile follows that: its
 * prediction at L = L0 is the one at L = L0 - 1, not the one at L0 + 1. */
Test(profile, hf_longrope_switches_above_the_original_context)
{
    double short_f[32], long_f[32];
    for (int i = 0; i < 32; i++) {
        short_f[i] = 1.0 + 0.01 * i;
        long_f[i] = 2.0 + 0.25 * i;
    }
    const int64_t L0 = 4096;
    double pred[3][64];
    const int64_t ctx[3] = {L0 - 1, L0, L0 + 1};
    double in[64];
    for (int c = 0; c < 64; c++)
        in[c] = 0.25 + c / 128.0;
    for (int k = 0; k < 3; k++) {
        rc_scaling sc = {.type = RC_SCALING_LONGROPE, .factor = 32.0, .original_context = L0,
                         .context = ctx[k], .short_factor = short_f, .long_factor = long_f};
        rc_spec s = {64, 64, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, &sc, 0.0, 0.0, 0, NULL, 0};
        rc_profile_ref *p = rc_profile_ref_create(RC_PROFILE_HF, &s);
        cr_assert(p != NULL);
        double lo[64], hi[64];
        cr_assert_eq(rc_profile_ref_head(p, 1000, RC_FORWARD, in, pred[k], lo, hi), 0);
        rc_profile_ref_destroy(p);
    }
    cr_expect(memcmp(pred[0], pred[1], sizeof pred[0]) == 0,
              "at L = L0 the short factors hold, as at L0 - 1");
    cr_expect(memcmp(pred[1], pred[2], sizeof pred[0]) != 0,
              "above L0 the long factors take over");
}

/* A non-finite output is inside a band only when the band's end is that
 * very value: +Inf or -Inf or NaN against a finite band is infinitely far
 * (a port that overflows where the framework does not fails). */
Test(profile, band_distance_of_non_finite_outputs)
{
    const rc_dd n = {1.0, 0.0};
    cr_expect(isinf(rc_profile_band_distance(RC_DTYPE_F32, INFINITY, 0.5, 0.75, n)));
    cr_expect(isinf(rc_profile_band_distance(RC_DTYPE_F32, -INFINITY, 0.5, 0.75, n)));
    cr_expect(isinf(rc_profile_band_distance(RC_DTYPE_F32, NAN, 0.5, 0.75, n)));
    cr_expect(isinf(rc_profile_band_distance(RC_DTYPE_F32, INFINITY, -INFINITY, 1.0, n)));
    cr_expect_eq(rc_profile_band_distance(RC_DTYPE_F32, INFINITY, 1.0, INFINITY, n), 0.0);
    cr_expect_eq(rc_profile_band_distance(RC_DTYPE_F32, -INFINITY, -INFINITY, 0.0, n), 0.0);
    cr_expect(isnan(rc_profile_band_distance(RC_DTYPE_F32, 0.5, NAN, 1.0, n)));
}

/* The component figure under a profile: 0 inside the band; outside, the
 * distance in ulps of the nearest end (as exact mode uses ulps of the
 * exact value); where that end is an exact zero, in ulps of the output
 * itself: then |x| / ulp(x) = (significand) * 2^(p-1) lies in
 * [2^(p-1), 2^p) for a normal x, never the 1e39 that ulp(0) (the smallest
 * subnormal) would give. */
Test(profile, band_component_figure)
{
    cr_expect_eq(rc_profile_band_component(RC_DTYPE_F32, 0.75, 0.5, 1.0), 0.0);
    const rc_dd half = {0.5, 0.0};
    cr_expect_eq(rc_profile_band_component(RC_DTYPE_F32, 0.25, 0.5, 1.0),
                 rc_ulp_error(RC_DTYPE_F32, 0.25, half, half));
    cr_expect_eq(rc_profile_band_component(RC_DTYPE_F32, 0.5 + 0x1p-20, 0.25, 0.5), 16.0);
    static const struct { rc_dtype t; int p; } fmt[4] = {
        {RC_DTYPE_F32, 24}, {RC_DTYPE_F64, 53}, {RC_DTYPE_F16, 11}, {RC_DTYPE_BF16, 8}};
    for (int k = 0; k < 4; k++)
        for (double x = 0x1p-10; x < 100.0; x *= 3.0) {
            const double g = rc_round_to_dtype(fmt[k].t, x);
            const double v = rc_profile_band_component(fmt[k].t, -g, 0.0, 0.0);
            cr_expect(v >= ldexp(1.0, fmt[k].p - 1) && v < ldexp(1.0, fmt[k].p),
                      "%s: %a against the band [0, 0] gives %g", rc_dtype_name(fmt[k].t), -g, v);
        }
    cr_expect(isinf(rc_profile_band_component(RC_DTYPE_F32, NAN, 0.5, 1.0)));
    cr_expect(isnan(rc_profile_band_component(RC_DTYPE_F32, 0.5, NAN, NAN)));
}

/* ---- special values under a profile (rc_profile_ref_special_classes) ---- */

/* A pair with at least one non-finite member: +-Inf or NaN against a
 * random finite partner, or both infinite. */
static void special_pair(rc_rng *g, rc_dtype t, double *a, double *b)
{
    static const double specials[3] = {INFINITY, -INFINITY, NAN};
    const double x = specials[rc_rng_below(g, 3)], y = random_input(g, t);
    switch (rc_rng_below(g, 3)) {
    case 0: *a = x; *b = y; break;
    case 1: *a = y; *b = x; break;
    default: *a = x; *b = rc_rng_below(g, 2) ? INFINITY : -INFINITY; break;
    }
}

/* Soundness: the class of every output the transcribed frameworks give
 * for a non-finite input is among the classes the profile allows, at
 * positions up to 2^31 - 1 (where ggml's angle and the exact one have
 * sines of different signs), both layouts and directions, every dtype the
 * framework takes. */
Test(profile, special_classes_hold_the_ports)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 9, 0);
    long checked = 0, single = 0;
    for (int pr = RC_PROFILE_HF; pr <= RC_PROFILE_GGML; pr++)
        for (int t = 0; t < RC_DTYPE_COUNT; t++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
                rc_spec s = {64, 64, 10000.0, (rc_layout)l, (rc_dtype)t, NULL, NULL, NULL,
                             0.0, 0.0, 0, NULL, 0};
                rc_profile_ref *p = rc_profile_ref_create((rc_profile)pr, &s);
                if (pr == RC_PROFILE_GGML && t != RC_DTYPE_F32 && t != RC_DTYPE_F16) {
                    cr_assert(p == NULL);
                    continue;
                }
                cr_assert(p != NULL);
                for (int k = 0; k < 48; k++) {
                    const int64_t m = position_at(&g, k);
                    double in[64], out[64];
                    unsigned cls[64];
                    for (int i = 0; i < 32; i++) {
                        int ca, cb;
                        pair_channels(s.layout, 64, i, &ca, &cb);
                        if (i % 2)
                            special_pair(&g, s.dtype, &in[ca], &in[cb]);
                        else
                            in[ca] = random_input(&g, s.dtype), in[cb] = random_input(&g, s.dtype);
                    }
                    for (int dir = 0; dir < 2; dir++) {
                        if (pr == RC_PROFILE_HF)
                            cr_assert_eq(rc_hf_port_head(&s, m, dir == RC_FORWARD, in, out), 0);
                        else
                            rc_ggml_port_head(s.dtype, 64, 64, l == RC_LAYOUT_HALF,
                                              (float)s.base, 1.0f, (int32_t)m,
                                              dir == RC_FORWARD, 0, in, out);
                        cr_assert_eq(
                            rc_profile_ref_special_classes(p, m, (rc_direction)dir, in, cls), 0);
                        for (int i = 0; i < 32; i++) {
                            int ca, cb;
                            pair_channels(s.layout, 64, i, &ca, &cb);
                            const int special = !isfinite(in[ca]) || !isfinite(in[cb]);
                            const int ch[2] = {ca, cb};
                            for (int q = 0; q < 2; q++) {
                                const int c = ch[q];
                                if (!special) {
                                    cr_assert_eq(cls[c], 0u, "finite pair, channel %d", c);
                                    continue;
                                }
                                cr_assert(cls[c] & rc_value_class(out[c]),
                                          "%s %s %s %s m=%lld c=%d in=(%a, %a): the port's %a "
                                          "is not among the classes 0x%x",
                                          rc_profile_name((rc_profile)pr),
                                          rc_dtype_name(s.dtype), rc_layout_name(s.layout),
                                          rc_direction_name((rc_direction)dir), (long long)m, c,
                                          in[ca], in[cb], out[c], cls[c]);
                                checked++;
                                single += (cls[c] & (cls[c] - 1)) == 0;
                            }
                        }
                    }
                }
                rc_profile_ref_destroy(p);
            }
    fprintf(stderr, "special classes: %ld outputs checked, %ld with a single allowed class\n",
            checked, single);
    cr_expect(checked > 0);
}

/* Tightness, derived: for the pair (+Inf, 0) the first output is Inf * c
 * (plus a signed zero), so its classes are exactly those of c's band:
 * +Inf where the band is positive, -Inf where negative, NaN where it holds
 * zero. The band of c is what the profile predicts for (1, 0), whose
 * first output is 1 * c exactly: rc_profile_ref_head gives it. (-Inf, 0)
 * mirrors the infinities. hf casts cos to the input dtype before
 * multiplying, so this holds in every dtype; ggml multiplies in f32 and
 * rounds the product, so it is checked in f32 only. */
Test(profile, special_classes_follow_the_cosine_band)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 10, 0);
    long exact_differs = 0;
    for (int pr = RC_PROFILE_HF; pr <= RC_PROFILE_GGML; pr++)
        for (int t = 0; t < RC_DTYPE_COUNT; t++) {
            if (pr == RC_PROFILE_GGML && t != RC_DTYPE_F32)
                continue;
            rc_spec s = {2, 2, 10000.0, RC_LAYOUT_HALF, (rc_dtype)t, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
            rc_profile_ref *p = rc_profile_ref_create((rc_profile)pr, &s);
            rc_ref *exact = rc_ref_create(&s);
            cr_assert(p != NULL && exact != NULL);
            for (int k = 0; k < 400; k++) {
                const int64_t m = k < 2 ? k : (int64_t)rc_rng_below(&g, (uint64_t)1 << 31);
                const double one[2] = {1.0, 0.0}, pinf[2] = {INFINITY, 0.0},
                             ninf[2] = {-INFINITY, 0.0};
                double pred[2], lo[2], hi[2];
                unsigned cp[2], cn[2];
                cr_assert_eq(rc_profile_ref_head(p, m, RC_FORWARD, one, pred, lo, hi), 0);
                cr_assert_eq(rc_profile_ref_special_classes(p, m, RC_FORWARD, pinf, cp), 0);
                cr_assert_eq(rc_profile_ref_special_classes(p, m, RC_FORWARD, ninf, cn), 0);
                unsigned want = 0;
                if (hi[0] > 0.0)
                    want |= RC_CLASS_POS_INF;
                if (lo[0] < 0.0)
                    want |= RC_CLASS_NEG_INF;
                if (lo[0] <= 0.0 && hi[0] >= 0.0)
                    want |= RC_CLASS_NAN;
                const unsigned mirrored = (want & RC_CLASS_NAN) |
                                          ((want & RC_CLASS_POS_INF) ? RC_CLASS_NEG_INF : 0u) |
                                          ((want & RC_CLASS_NEG_INF) ? RC_CLASS_POS_INF : 0u);
                cr_assert_eq(cp[0], want, "%s %s m=%lld: cos band [%a, %a], classes 0x%x",
                             rc_profile_name((rc_profile)pr), rc_dtype_name(s.dtype),
                             (long long)m, lo[0], hi[0], cp[0]);
                cr_assert_eq(cn[0], mirrored, "m=%lld", (long long)m);
                /* Where the profile's cosine and the exact one differ in
                 * sign, the profile's decides (counted, for the record). */
                rc_ref_elem el[2];
                rc_ref_rotate_head(exact, m, RC_FORWARD, pinf, el);
                exact_differs += (cp[0] & rc_value_class(el[0].exact.hi)) == 0;
            }
            rc_ref_destroy(exact);
            rc_profile_ref_destroy(p);
        }
    fprintf(stderr, "special classes: %ld positions where the profile's infinity is not the "
                    "exact angle's\n",
            exact_differs);
}

/* ---- the profiles' scalar functions (reference/profile_fn.c) ---- */

#include <mpfr.h>

#include "reference/profile_internal.h"

/* Python's math.log and ** as the profiles model them: correctly rounded
 * doubles (PROFILES.md). Checked against MPFR at 200 bits, rounded once
 * to double, on exact cases and on seeded random arguments. */
Test(profile_fn, double_log_and_pow_are_correctly_rounded)
{
    cr_expect_eq(rc_pd_pow(2.0, 10.0), 1024.0);
    cr_expect_eq(rc_pd_pow(4.0, 0.5), 2.0);
    cr_expect_eq(rc_pd_log(1.0), 0.0);
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 7, 0);
    mpfr_t x, y, r;
    mpfr_inits2(200, x, y, r, (mpfr_ptr)0);
    for (int k = 0; k < 2000; k++) {
        const double b = 0.5 + 64.0 * rc_rng_uniform(&g), e = 4.0 * rc_rng_uniform(&g) - 2.0;
        mpfr_set_d(x, b, MPFR_RNDN);
        mpfr_set_d(y, e, MPFR_RNDN);
        mpfr_pow(r, x, y, MPFR_RNDN);
        cr_assert_eq(rc_pd_pow(b, e), mpfr_get_d(r, MPFR_RNDN), "pow(%a, %a)", b, e);
        mpfr_log(r, x, MPFR_RNDN);
        cr_assert_eq(rc_pd_log(b), mpfr_get_d(r, MPFR_RNDN), "log(%a)", b);
    }
    mpfr_clears(x, y, r, (mpfr_ptr)0);
}

/* The f32 pow of a profile (torch's base ** tensor): the point is the
 * correctly rounded float, and the faithful bracket [lo, hi] holds the
 * exact value and is at most one float ulp wide; an exact power is a
 * point. */
Test(profile_fn, float_pow_bracket_holds_the_exact_value)
{
    const rc_pv exact = rc_pf_pow(rc_pv_point(2.0), rc_pv_point(3.0), 1);
    cr_expect(exact.p == 8.0 && exact.lo == 8.0 && exact.hi == 8.0, "%a [%a, %a]", exact.p,
              exact.lo, exact.hi);
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 8, 0);
    mpfr_t x, y, r;
    mpfr_inits2(200, x, y, r, (mpfr_ptr)0);
    for (int k = 0; k < 2000; k++) {
        const double b = (double)(float)(1.0 + 100000.0 * rc_rng_uniform(&g));
        const double e = (double)(float)(-rc_rng_uniform(&g));
        const rc_pv v = rc_pf_pow(rc_pv_point(b), rc_pv_point(e), 1);
        mpfr_set_d(x, b, MPFR_RNDN);
        mpfr_set_d(y, e, MPFR_RNDN);
        mpfr_pow(r, x, y, MPFR_RNDN);
        cr_assert(mpfr_cmp_d(r, v.lo) >= 0 && mpfr_cmp_d(r, v.hi) <= 0,
                  "pow(%a, %a) = %.20g outside [%a, %a]", b, e, mpfr_get_d(r, MPFR_RNDN), v.lo,
                  v.hi);
        cr_assert(v.p == (double)mpfr_get_flt(r, MPFR_RNDN), "point %a", v.p);
        cr_assert(v.hi <= (double)nextafterf((float)v.lo, INFINITY), "[%a, %a] wider than an ulp",
                  v.lo, v.hi);
    }
    mpfr_clears(x, y, r, (mpfr_ptr)0);
}

/* The f32 cos/sin of an angle known only as a band [lo, hi] (a profile's
 * angle after its roundings): the result band must hold the function at
 * every point of the input band, so it reaches 1 or -1 when the band
 * holds an extremum, by parity (cos: 2k*pi and (2k+1)*pi; sin: shifted by
 * pi/2). Checked on hand cases with zero, one and several extrema, and
 * for soundness on seeded random bands against the function sampled
 * densely in MPFR; a band with a non-finite end is [-1, 1]. */
Test(profile_fn, trig_band_holds_every_point_and_its_extrema)
{
    const struct {
        double lo, hi;
        int cos_min, cos_max, sin_min, sin_max; /* 1: the band must reach -1 / 1 */
    } hand[] = {
        {0.5, 1.0, 0, 0, 0, 0},  /* no extremum of either */
        {3.0, 3.3, 1, 0, 0, 0},  /* pi: cos's minimum only */
        {6.0, 6.5, 0, 1, 0, 0},  /* 2*pi: cos's maximum only */
        {1.5, 1.7, 0, 0, 0, 1},  /* pi/2: sin's maximum only */
        {0.5, 7.0, 1, 1, 1, 1},  /* several multiples: both parities */
        {-7.0, -0.5, 1, 1, 1, 1},
        {100.0, 110.0, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        const rc_pv x = {.p = hand[i].lo, .lo = hand[i].lo, .hi = hand[i].hi};
        const rc_pv c = rc_pf_cos(x, 1), s = rc_pf_sin(x, 1);
        cr_expect(hand[i].cos_min ? c.lo == -1.0 : c.lo > -1.0, "cos [%g, %g]: lo %a", x.lo,
                  x.hi, c.lo);
        cr_expect(hand[i].cos_max ? c.hi == 1.0 : c.hi < 1.0, "cos [%g, %g]: hi %a", x.lo, x.hi,
                  c.hi);
        cr_expect(hand[i].sin_min ? s.lo == -1.0 : s.lo > -1.0, "sin [%g, %g]: lo %a", x.lo,
                  x.hi, s.lo);
        cr_expect(hand[i].sin_max ? s.hi == 1.0 : s.hi < 1.0, "sin [%g, %g]: hi %a", x.lo, x.hi,
                  s.hi);
    }
    /* A band with a NaN or infinite end (an angle that overflowed in the
     * framework's arithmetic) says nothing: the whole range [-1, 1]. */
    const double wild[][2] = {{NAN, 1.0}, {0.5, NAN}, {-INFINITY, 1.0}, {0.5, INFINITY}};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        const rc_pv x = {.p = 0.75, .lo = wild[i][0], .hi = wild[i][1]};
        const rc_pv c = rc_pf_cos(x, 1), s = rc_pf_sin(x, 1);
        cr_expect(c.lo == -1.0 && c.hi == 1.0 && s.lo == -1.0 && s.hi == 1.0,
                  "band [%a, %a]: cos [%a, %a], sin [%a, %a]", x.lo, x.hi, c.lo, c.hi, s.lo,
                  s.hi);
    }
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 9, 0);
    mpfr_t t, v;
    mpfr_inits2(128, t, v, (mpfr_ptr)0);
    for (int k = 0; k < 300; k++) {
        const double lo = (double)(float)(200.0 * rc_rng_uniform(&g) - 100.0);
        const double w = ldexp(rc_rng_uniform(&g), -(int)rc_rng_below(&g, 12)) * 8.0;
        const double hi = (double)(float)(lo + w);
        const rc_pv x = {.p = lo, .lo = lo, .hi = hi};
        for (int fn = 0; fn < 2; fn++) {
            const rc_pv b = fn ? rc_pf_sin(x, 1) : rc_pf_cos(x, 1);
            for (int j = 0; j <= 256; j++) {
                mpfr_set_d(t, lo + (hi - lo) * j / 256.0, MPFR_RNDN);
                if (fn)
                    mpfr_sin(v, t, MPFR_RNDN);
                else
                    mpfr_cos(v, t, MPFR_RNDN);
                cr_assert(mpfr_cmp_d(v, b.lo) >= 0 && mpfr_cmp_d(v, b.hi) <= 0,
                          "%s over [%a, %a]: %.17g at %a outside [%a, %a]", fn ? "sin" : "cos",
                          lo, hi, mpfr_get_d(v, MPFR_RNDN), mpfr_get_d(t, MPFR_RNDN), b.lo,
                          b.hi);
            }
        }
    }
    mpfr_clears(t, v, (mpfr_ptr)0);
}

/* ---- the hf profile given the framework's own table ------------------- */

/* rc_profile_ref_use_table: the hf band then starts from the reported
 * inv_freq. With every entry 0.5 (exact) the angle at m = 2 is exactly
 * 1.0, so the prediction for the input (1, 0) is cos(1) correctly rounded
 * to f32 (hf's cos runs in f32); a ggml profile, a wrong count and a
 * non-positive entry are refused and change nothing. */
Test(profile, hf_band_given_the_framework_table)
{
    rc_spec s = {2, 2, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    rc_profile_ref *p = rc_profile_ref_create(RC_PROFILE_HF, &s);
    cr_assert(p != NULL);
    const double in[2] = {1.0, 0.0}, half_t[1] = {0.5}, zero_t[1] = {0.0};
    double pred[2], lo[2], hi[2], before;
    cr_assert_eq(rc_profile_ref_head(p, 2, RC_FORWARD, in, pred, lo, hi), 0);
    before = pred[0];
    cr_expect_eq(rc_profile_ref_use_table(p, zero_t, 1), -1);
    cr_expect_eq(rc_profile_ref_use_table(p, half_t, 2), -1);
    cr_assert_eq(rc_profile_ref_head(p, 2, RC_FORWARD, in, pred, lo, hi), 0);
    cr_expect_eq(pred[0], before, "a refused table changes nothing");
    cr_assert_eq(rc_profile_ref_use_table(p, half_t, 1), 0);
    cr_assert_eq(rc_profile_ref_head(p, 2, RC_FORWARD, in, pred, lo, hi), 0);
    mpfr_t c;
    mpfr_init2(c, 200);
    mpfr_set_d(c, 1.0, MPFR_RNDN);
    mpfr_cos(c, c, MPFR_RNDN);
    const double want = (double)mpfr_get_flt(c, MPFR_RNDN);
    mpfr_clear(c);
    cr_expect_eq(pred[0], want, "cos(1) in f32: %a, got %a", want, pred[0]);
    cr_expect(lo[0] <= want && want <= hi[0]);
    rc_profile_ref_destroy(p);

    rc_profile_ref *g = rc_profile_ref_create(RC_PROFILE_GGML, &s);
    cr_assert(g != NULL);
    cr_expect_eq(rc_profile_ref_use_table(g, half_t, 1), -1, "ggml's angles are no table");
    rc_profile_ref_destroy(g);
}

/* rc_profile_table_excess, derived cases (r = 128: the exponents 2i/r are
 * exact in f32): the exact table rounded to f32 lies inside the faithful
 * band (the exact 1/base^e is between 1/pow's neighbours, and rounding is
 * monotone), so the excess is 0; the table of base 10010 instead of 10000
 * moves theta_i by (2i/r) ln(1.001) relative, ~1e-3 at the last pair,
 * thousands of f32 ulp: far beyond RC_PROFILE_TABLE_SLACK. ggml has no
 * table model: -1. */
Test(profile, reported_table_excess)
{
    enum { R = 128, H = R / 2 };
    rc_spec s = {R, R, 10000.0, RC_LAYOUT_HALF, RC_DTYPE_F32, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
    double hi[H], lo[H], t[H];
    int worst = -1;
    rc_ref_freq_table(10000.0, R, NULL, hi, lo);
    for (int i = 0; i < H; i++)
        t[i] = (double)(float)hi[i];
    cr_expect_eq(rc_profile_table_excess(RC_PROFILE_HF, &s, t, H, &worst), 0.0);
    rc_ref_freq_table(10010.0, R, NULL, hi, lo);
    for (int i = 0; i < H; i++)
        t[i] = (double)(float)hi[i];
    const double ex = rc_profile_table_excess(RC_PROFILE_HF, &s, t, H, &worst);
    cr_expect(ex > 1000.0 * RC_PROFILE_TABLE_SLACK, "base 10010: %g ulp", ex);
    cr_expect_eq(worst, H - 1, "the last pair moves most");
    cr_expect_eq(rc_profile_table_excess(RC_PROFILE_HF, &s, t, H - 1, &worst), -1.0);
    cr_expect_eq(rc_profile_table_excess(RC_PROFILE_GGML, &s, t, H, &worst), -1.0);
}
