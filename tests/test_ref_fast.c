/*
 * tests/test_ref_fast.c - the oracle's certified fast path stores exactly
 * what the MPFR path stores (reference/README.md, "The fast path").
 *
 * Differential: two oracles per spec, one forced through MPFR, every
 * field of every element compared bit for bit, over every dtype, both
 * layouts, partial rotary, the scaling families (with and without an
 * output scale), positions log-uniform up to 2^53 - 1, both directions,
 * and inputs of mixed magnitude with zeros, subnormals and specials.
 * The fast path must also decide most pairs, or the comparison would be
 * of MPFR with itself. Plus rc_ref_certify_dd against MPFR.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <math.h>

#include "test_seed.h"
#include "core/dtype_convert.h"
#include "core/rng.h"
#include "reference/ref_internal.h"
#include "reference/reference.h"

static uint64_t test_seed(void)
{
    return rc_test_seed("test_ref_fast", 20261203u);
}

static uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double random_value(rc_rng *g, rc_dtype t)
{
    const rc_format *f = rc_dtype_format(t);
    const double u = 2.0 * rc_rng_uniform(g) - 1.0;
    switch (rc_rng_below(g, 24)) {
    case 0:
        return (rc_rng_next(g) & 1) ? -0.0 : 0.0;
    case 1: /* a subnormal of t */
        return rc_round_to_dtype(t, u * ldexp(1.0, f->emin));
    case 2: /* the largest finite values: products near the overflow */
        return rc_round_to_dtype(t, u * ldexp(1.0, f->emax));
    case 3:
        return rc_rng_below(g, 4) == 0 ? NAN : (u < 0 ? -INFINITY : INFINITY);
    case 4: /* the same as its partner's magnitude: cancellation */
    case 5:
        return rc_round_to_dtype(t, u * 0x1p-20);
    default:
        return rc_round_to_dtype(t, u * 8.0);
    }
}

/* log-uniform in [1, 2^53), with 0, 1 and the ends now and then */
static int64_t random_position(rc_rng *g)
{
    switch (rc_rng_below(g, 16)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return RC_MAX_POSITION;
    default: {
        const int bits = 1 + (int)rc_rng_below(g, 53);
        const uint64_t m = rc_rng_next(g) >> (64 - bits);
        return (int64_t)(m > 0 ? m : 1);
    }
    }
}

typedef struct diff_stats {
    uint64_t elements, pairs_fast, pairs_mpfr;
} diff_stats;

static void compare_spec(const rc_spec *spec, rc_rng *g, int heads, diff_stats *st,
                         const char *what)
{
    rc_ref *fast = rc_ref_create(spec);
    rc_ref *slow = rc_ref_create(spec);
    cr_assert(fast != NULL && slow != NULL, "%s: rc_ref_create", what);
    rc_ref_set_fast_path(slow, 0);
    const int d = spec->head_dim;
    double in[RC_MAX_HEAD_DIM];
    static rc_ref_elem ef[RC_MAX_HEAD_DIM], es[RC_MAX_HEAD_DIM];
    for (int pos = 0; pos < 6; pos++) {
        const int64_t m = random_position(g);
        for (int h = 0; h < heads; h++) {
            const rc_direction dir = rc_rng_below(g, 4) == 0 ? RC_INVERSE : RC_FORWARD;
            for (int c = 0; c < d; c++)
                in[c] = random_value(g, spec->dtype);
            if (rc_rng_below(g, 2)) /* ordinary data only, for the fast share */
                for (int c = 0; c < d; c++)
                    in[c] = rc_round_to_dtype(spec->dtype, 8.0 * (2.0 * rc_rng_uniform(g) - 1.0));
            cr_assert_eq(rc_ref_rotate_head(fast, m, dir, in, ef), 0);
            cr_assert_eq(rc_ref_rotate_head(slow, m, dir, in, es), 0);
            for (int c = 0; c < d; c++) {
                const rc_ref_elem *x = &ef[c], *y = &es[c];
                const int same = bits_of(x->exact.hi) == bits_of(y->exact.hi) &&
                                 bits_of(x->exact.lo) == bits_of(y->exact.lo) &&
                                 bits_of(x->rounded) == bits_of(y->rounded) &&
                                 bits_of(x->pair_norm.hi) == bits_of(y->pair_norm.hi) &&
                                 bits_of(x->pair_norm.lo) == bits_of(y->pair_norm.lo) &&
                                 x->partner == y->partner && x->kind == y->kind &&
                                 x->certified == y->certified;
                cr_assert(same,
                          "%s m=%lld %s ch %d in (%a, %a): fast exact %a%+a rounded %a norm "
                          "%a%+a, mpfr exact %a%+a rounded %a norm %a%+a",
                          what, (long long)m, rc_direction_name(dir), c, in[c], in[x->partner],
                          x->exact.hi, x->exact.lo, x->rounded, x->pair_norm.hi,
                          x->pair_norm.lo, y->exact.hi, y->exact.lo, y->rounded,
                          y->pair_norm.hi, y->pair_norm.lo);
            }
            st->elements += (uint64_t)d;
        }
    }
    rc_ref_stats s;
    rc_ref_get_stats(fast, &s);
    st->pairs_fast += s.pairs_fast;
    st->pairs_mpfr += s.pairs_mpfr;
    rc_ref_get_stats(slow, &s);
    cr_expect_eq(s.pairs_fast, 0, "%s: --oracle mpfr must not use the fast path", what);
    rc_ref_destroy(fast);
    rc_ref_destroy(slow);
}

static void report(const char *name, const diff_stats *st)
{
    const double total = (double)(st->pairs_fast + st->pairs_mpfr);
    printf("test_ref_fast: %s: %llu elements identical, %.4f%% of pairs through MPFR\n", name,
           (unsigned long long)st->elements, 100.0 * (double)st->pairs_mpfr / total);
    /* Specials, zeros, subnormal pairs and position 0 go to MPFR by
     * design; with them in a quarter of the inputs the fast path must
     * still decide most pairs, or the comparison proves little. */
    cr_expect(st->pairs_fast > 3 * st->pairs_mpfr, "%s: fast path decided only %llu of %.0f pairs",
              name, (unsigned long long)st->pairs_fast, total);
}

Test(ref_fast, identical_to_mpfr_plain, .timeout = 600)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 1, 0);
    diff_stats st = {0, 0, 0};
    const double bases[] = {10000.0, 500000.0, 1e6, 16.0, 1.5};
    const int dims[][2] = {{128, 128}, {64, 64}, {96, 96}, {128, 32}, {6, 4}};
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        for (int k = 0; k < 5; k++)
            for (int l = 0; l < RC_LAYOUT_COUNT; l++) {
                rc_spec s = {dims[k][0], dims[k][1], bases[(k + l) % 5], (rc_layout)l,
                             (rc_dtype)t, NULL, NULL, NULL, 0.0, 0.0, 0, NULL, 0};
                char what[128];
                snprintf(what, sizeof what, "%s d=%d r=%d base %g %s", rc_dtype_name(s.dtype),
                         s.head_dim, s.rotary_dim, s.base, rc_layout_name(s.layout));
                compare_spec(&s, &g, 2, &st, what);
            }
    report("plain", &st);
}

Test(ref_fast, identical_to_mpfr_scaled, .timeout = 600)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 2, 0);
    diff_stats st = {0, 0, 0};
    static double shortf[64], longf[64];
    for (int i = 0; i < 64; i++) {
        shortf[i] = 1.0 + i / 64.0;
        longf[i] = 1.0 + i / 8.0;
    }
    rc_scaling fams[7];
    memset(fams, 0, sizeof fams);
    fams[0].type = RC_SCALING_LINEAR;
    fams[0].factor = 4.0;
    fams[1].type = RC_SCALING_NTK;
    fams[1].factor = 8.0;
    fams[2].type = RC_SCALING_DYNAMIC_NTK;
    fams[2].factor = 2.0;
    fams[2].original_context = 4096;
    fams[2].context = 16384;
    fams[3] = (rc_scaling){.type = RC_SCALING_YARN, .factor = 4.0, .original_context = 32768,
                           .beta_fast = 32, .beta_slow = 1, .truncate = 1};
    fams[4] = (rc_scaling){.type = RC_SCALING_YARN, .factor = 40.0, .original_context = 4096,
                           .beta_fast = 32, .beta_slow = 1, .truncate = 1,
                           .attention_factor = 1.25};
    fams[5] = (rc_scaling){.type = RC_SCALING_LLAMA3, .factor = 8.0, .original_context = 8192,
                           .low_freq_factor = 1.0, .high_freq_factor = 4.0};
    fams[6] = (rc_scaling){.type = RC_SCALING_LONGROPE, .factor = 32.0,
                           .original_context = 4096, .context = 131072,
                           .short_factor = shortf, .long_factor = longf};
    for (int t = 0; t < RC_DTYPE_COUNT; t++)
        for (int k = 0; k < 7; k++) {
            rc_spec s = {128, 128, k == 5 ? 500000.0 : 10000.0, (rc_layout)(k % 2),
                         (rc_dtype)t, NULL, NULL, &fams[k], 0.0, 0.0, 0, NULL, 0};
            char what[128];
            snprintf(what, sizeof what, "%s scaling family %d", rc_dtype_name(s.dtype),
                     (int)fams[k].type);
            compare_spec(&s, &g, 2, &st, what);
        }
    report("scaled", &st);
}

/* rc_ref_certify_dd against MPFR: whenever it claims its roundings, both
 * ends of the enclosure round to them in MPFR (then, by monotonicity,
 * everything between does): RN53 to exact.hi, RN80 to exact.hi +
 * exact.lo, RN_T to rounded. Enclosures are built next to the boundaries
 * of each of the three formats (values, midpoints, binade edges, T's
 * subnormals and overflow); and it is not uselessly cautious: a small
 * enclosure a quarter into an 80-bit cell, far from the others' edges, is
 * decided. */
static void mpfr_round_format(mpfr_ptr r, mpfr_srcptr x, int p, int emin)
{
    /* x on the format's grid: quantum 2^max(e - p, emin - p + 1) */
    const long e = (long)mpfr_get_exp(x); /* 2^(e-1) <= |x| < 2^e */
    long qe = e - p;
    if (qe < emin - p + 1)
        qe = emin - p + 1;
    mpfr_mul_2si(r, x, -qe, MPFR_RNDN); /* exact at 4200 bits */
    mpfr_roundeven(r, r);
    mpfr_mul_2si(r, r, qe, MPFR_RNDN);
}

/* Both ends of [v - err, v + err] round (p, emin) to want. */
static int ends_round_to(mpfr_srcptr lo, mpfr_srcptr hi, int p, int emin, mpfr_srcptr want)
{
    mpfr_t r;
    mpfr_init2(r, 4200);
    mpfr_round_format(r, lo, p, emin);
    int ok = mpfr_equal_p(r, want);
    mpfr_round_format(r, hi, p, emin);
    ok = ok && mpfr_equal_p(r, want);
    mpfr_clear(r);
    return ok;
}

Test(ref_fast, dd_rounding_decisions_agree_with_mpfr)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 3, 0);
    const rc_dtype types[] = {RC_DTYPE_F32, RC_DTYPE_F16, RC_DTYPE_BF16, RC_DTYPE_F64};
    mpfr_t lo, hi, want;
    mpfr_inits2(4200, lo, hi, want, (mpfr_ptr)0);
    long decided = 0, far_total = 0, far_decided = 0;
    for (int n = 0; n < 200000; n++) {
        const rc_dtype t = types[rc_rng_below(&g, 4)];
        const rc_format *ft = rc_dtype_format(t);
        /* the format whose boundary v is put next to */
        const int k = (int)rc_rng_below(&g, 3);
        const int p = k == 0 ? 53 : k == 1 ? RC_REF_EXACT_BITS : ft->precision;
        int ex = (int)rc_rng_below(&g, 60) - 30;
        if (rc_rng_below(&g, 8) == 0) /* T's subnormals and overflow, the binade edges */
            ex = rc_rng_below(&g, 2) ? ft->emin - (int)rc_rng_below(&g, 12) : ft->emax;
        double hi_d = ldexp(1.0 + rc_rng_uniform(&g), ex);
        if (rc_rng_below(&g, 16) == 0)
            hi_d = ldexp(1.0, ex); /* a power of two */
        const double q = ldexp(1.0, ex - p + 1);
        double lo_d = (2.0 * rc_rng_uniform(&g) - 1.0) * 0x1p-54 * hi_d;
        if (rc_rng_below(&g, 2)) { /* onto a value or a midpoint of format p */
            const double half = rc_rng_next(&g) & 1 ? 0.5 : 0.0;
            if (p <= 53)
                hi_d = (rint(hi_d / q) + (p < 53 ? half : 0.0)) * q;
            lo_d = p <= 53 ? (half != 0.0 && p == 53 ? 0.5 * q : 0.0) : (rint(lo_d / q) + half) * q;
        }
        double err = ldexp(rc_rng_uniform(&g), ex - 60 - (int)rc_rng_below(&g, 60));
        if (rc_rng_below(&g, 2)) /* within err of the value or midpoint: undecidable */
            lo_d += (2.0 * rc_rng_uniform(&g) - 1.0) * err;
        rc_dd v = rc_two_sum(hi_d, lo_d);
        const int far = rc_rng_below(&g, 4) == 0;
        if (far) {
            /* 2^-26 above a power of two (far from every edge of T and of
             * RN53), a quarter into an 80-bit cell, err 2^-10 of it */
            const int fe = (int)rc_rng_below(&g, 200) - 100;
            const double q80 = ldexp(1.0, fe - RC_REF_EXACT_BITS + 1);
            v = rc_two_sum(ldexp(1.0 + 0x1p-26, fe), 0.25 * q80);
            err = q80 * 0x1p-10;
        }
        if (rc_rng_next(&g) & 1)
            v = rc_dd_neg(v);
        rc_dd exact;
        double rounded;
        const int ok = rc_ref_certify_dd(v, err, t, &exact, &rounded);
        if (far) {
            far_total++;
            far_decided += ok;
        }
        if (!ok)
            continue;
        decided++;
        mpfr_set_d(lo, v.hi, MPFR_RNDN);
        mpfr_add_d(lo, lo, v.lo, MPFR_RNDN); /* exact at 4200 bits */
        mpfr_set(hi, lo, MPFR_RNDN);
        mpfr_sub_d(lo, lo, err, MPFR_RNDN);
        mpfr_add_d(hi, hi, err, MPFR_RNDN);
        mpfr_set_d(want, exact.hi, MPFR_RNDN);
        cr_assert(ends_round_to(lo, hi, 53, -1022, want), "%s v=%a%+a err %a: RN53 claimed %a",
                  rc_dtype_name(t), v.hi, v.lo, err, exact.hi);
        mpfr_add_d(want, want, exact.lo, MPFR_RNDN);
        cr_assert(ends_round_to(lo, hi, RC_REF_EXACT_BITS, RC_REF_EXACT_EMIN, want),
                  "%s v=%a%+a err %a: RN80 claimed %a%+a", rc_dtype_name(t), v.hi, v.lo, err,
                  exact.hi, exact.lo);
        /* RN_T through the reference's own rounding (overflow included) */
        cr_assert(rc_ref_round_to_dtype(lo, t) == rounded && rc_ref_round_to_dtype(hi, t) == rounded &&
                      signbit(rc_ref_round_to_dtype(lo, t)) == signbit(rounded),
                  "%s v=%a%+a err %a: RN_T claimed %a, the ends give %a and %a", rc_dtype_name(t),
                  v.hi, v.lo, err, rounded, rc_ref_round_to_dtype(lo, t),
                  rc_ref_round_to_dtype(hi, t));
    }
    mpfr_clears(lo, hi, want, (mpfr_ptr)0);
    printf("test_ref_fast: dd rounding: %ld of 200000 decided, %ld of %ld far from a boundary\n",
           decided, far_decided, far_total);
    cr_expect(far_decided == far_total, "an enclosure of 2^-10 quantum a quarter into an 80-bit "
                                        "cell must be decided: %ld of %ld", far_decided, far_total);
    cr_expect(decided > 50000, "only %ld decided", decided);
}
