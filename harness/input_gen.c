/*
 * harness/input_gen.c - reproducible, adversarial-enough RoPE inputs.
 */
#include "harness/input_gen.h"

#include <math.h>

#include "core/dtype_convert.h"
#include "core/rng.h"

/* A value of random sign with an exponent uniform in [emin_draw, emax_draw]
 * and a full random significand. */
static double draw_value(rc_rng *r, int emin_draw, int emax_draw)
{
    int e = emin_draw + (int)rc_rng_below(r, (uint64_t)(emax_draw - emin_draw + 1));
    double sig = 1.0 + rc_rng_uniform(r);
    double v = ldexp(sig, e);
    return (rc_rng_next(r) & 1) ? -v : v;
}

static double draw_special(rc_rng *r)
{
    switch (rc_rng_below(r, 3)) {
    case 0: return NAN;
    case 1: return INFINITY;
    default: return -INFINITY;
    }
}

void rc_input_gen_head(uint64_t seed, int64_t position, int64_t head, rc_dtype dtype,
                       int head_dim, int with_specials, double *out)
{
    rc_rng r;
    rc_rng_seed3(&r, seed, (uint64_t)position, (uint64_t)head);
    /* Fill channel by channel; pairs are whatever the layout makes them,
     * so the "spread" case below is drawn per channel with a wide range
     * and per head with a narrow one, covering both regimes for either
     * layout. */
    const int wide = (rc_rng_below(&r, 4) == 0);
    for (int c = 0; c < head_dim; c++) {
        uint64_t kind = rc_rng_below(&r, 64);
        double v;
        if (kind == 0)
            v = (rc_rng_next(&r) & 1) ? -0.0 : 0.0;
        else if (wide)
            v = draw_value(&r, -12, 8);   /* ratios up to 2^20 within a pair */
        else
            v = draw_value(&r, -3, 3);
        if (with_specials && rc_rng_below(&r, 16) == 0)
            v = draw_special(&r);
        out[c] = rc_round_to_dtype(dtype, v);
    }
}
