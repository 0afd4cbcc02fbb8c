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
 * of MPFR with itself. Plus rc_ref_round_dd_certain against MPFR.
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
                             (rc_dtype)t, NULL, NULL, NULL, 0.0, 0.0};
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
                         (rc_dtype)t, NULL, NULL, &fams[k], 0.0, 0.0};
            char what[128];
            snprintf(what, sizeof what, "%s scaling family %d", rc_dtype_name(s.dtype),
                     (int)fams[k].type);
            compare_spec(&s, &g, 2, &st, what);
        }
    report("scaled", &st);
}

/* rc_ref_round_dd_certain against MPFR: whenever it claims a rounding,
 * both ends of the enclosure round to it in MPFR (then, by monotonicity,
 * everything between does); and it is not uselessly cautious: an
 * enclosure far from a boundary is decided. */
static void mpfr_round_format(mpfr_ptr r, mpfr_srcptr x, int p, int emin)
{
    /* x on the format's grid: quantum 2^max(e - p, emin - p + 1) */
    const long e = (long)mpfr_get_exp(x); /* 2^(e-1) <= |x| < 2^e */
    long qe = e - p;
    if (qe < emin - p + 1)
        qe = emin - p + 1;
    mpfr_t t;
    mpfr_init2(t, 4200);
    mpfr_mul_2si(t, x, -qe, MPFR_RNDN); /* exact at 4200 bits */
    mpfr_roundeven(t, t);
    mpfr_mul_2si(t, t, qe, MPFR_RNDN);
    mpfr_set(r, t, MPFR_RNDN); /* r at 4200 bits: exact */
    mpfr_clear(t);
}

Test(ref_fast, dd_rounding_decisions_agree_with_mpfr)
{
    rc_rng g;
    rc_rng_seed3(&g, test_seed(), 3, 0);
    const int formats[][2] = {{8, -126}, {11, -14}, {24, -126}, {53, -1022},
                              {RC_REF_EXACT_BITS, RC_REF_EXACT_EMIN}};
    mpfr_t lo, hi, rl, rh, want;
    mpfr_inits2(4200, lo, hi, rl, rh, want, (mpfr_ptr)0);
    long decided = 0, far_total = 0, far_decided = 0;
    for (int n = 0; n < 200000; n++) {
        const int k = (int)rc_rng_below(&g, 5);
        const int p = formats[k][0], emin = formats[k][1];
        /* near a boundary half of the time: a format value or midpoint
         * plus a few units of the enclosure */
        const int ex = (int)rc_rng_below(&g, 60) - 30 + (rc_rng_below(&g, 8) == 0 ? emin : 0);
        double hi_d = ldexp(1.0 + rc_rng_uniform(&g), ex);
        if (rc_rng_next(&g) & 1)
            hi_d = -hi_d;
        const double q = ldexp(1.0, (ex > emin ? ex : emin) - p + 1);
        double lo_d = (2.0 * rc_rng_uniform(&g) - 1.0) * 0x1p-53 * fabs(hi_d);
        if (rc_rng_below(&g, 2) && p < 53)
            hi_d = (rint(hi_d / q) + (rc_rng_next(&g) & 1 ? 0.5 : 0.0)) * q;
        if (rc_rng_below(&g, 2) && p == RC_REF_EXACT_BITS)
            lo_d = (rint(lo_d / q) + 0.5) * q; /* an 80-bit midpoint */
        rc_dd v = rc_two_sum(hi_d, lo_d);
        const double err = ldexp(rc_rng_uniform(&g), ex - 60 - (int)rc_rng_below(&g, 60));
        const int far = !(rc_rng_below(&g, 4));
        if (far) { /* a quarter into a cell of hi's own binade, a small error */
            const double base_d = ldexp(1.0 + rc_rng_uniform(&g), ex);
            v = rc_two_sum(floor(base_d / q) * q, 0.25 * q); /* exact */
            if (rc_rng_next(&g) & 1)
                v = rc_dd_neg(v);
        }
        rc_dd_rounding r;
        const int ok = rc_ref_round_dd_certain(v, far ? q * 0x1p-10 : err, p, emin, &r);
        if (far && fabs(v.hi) >= ldexp(1.0, emin) * 1.5) {
            far_total++;
            far_decided += ok;
        }
        if (!ok)
            continue;
        decided++;
        const double e = far ? q * 0x1p-10 : err;
        mpfr_set_d(lo, v.hi, MPFR_RNDN);
        mpfr_add_d(lo, lo, v.lo, MPFR_RNDN); /* exact at 4200 bits */
        mpfr_set(hi, lo, MPFR_RNDN);
        mpfr_sub_d(lo, lo, e, MPFR_RNDN);
        mpfr_add_d(hi, hi, e, MPFR_RNDN);
        mpfr_round_format(rl, lo, p, emin);
        mpfr_round_format(rh, hi, p, emin);
        mpfr_set_d(want, r.big, MPFR_RNDN);
        mpfr_add_d(want, want, r.rest, MPFR_RNDN);
        cr_assert(mpfr_equal_p(rl, want) && mpfr_equal_p(rh, want),
                  "p=%d v=%a%+a err %a: claimed %a%+a, the ends round to %Ra and %Ra", p, v.hi,
                  v.lo, e, r.big, r.rest, rl, rh);
        if (r.on_grid_of_hi)
            cr_assert(r.big == v.hi, "on_grid_of_hi but big %a != hi %a", r.big, v.hi);
    }
    mpfr_clears(lo, hi, rl, rh, want, (mpfr_ptr)0);
    printf("test_ref_fast: dd rounding: %ld of 200000 decided, %ld of %ld far from a boundary\n",
           decided, far_decided, far_total);
    cr_expect(far_decided == far_total, "an enclosure of 2^-10 quantum at a cell's quarter "
                                        "must be decided: %ld of %ld", far_decided, far_total);
}
