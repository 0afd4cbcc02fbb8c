/*
 * tests/mutants_proofs/mutants_proofs.c - one configurable wrong rotation,
 * instantiated once per defect (see mutants_proofs.h).
 */
#include "tests/mutants_proofs/mutants_proofs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dd.h"
#include "core/dtype_convert.h"
#include "impls/common/exact_angle.h"
#include "reference/reference.h"

typedef struct defect {
    double base;      /* > 0: use this base instead of the spec's */
    int swap_layout;  /* pair with the other layout */
    int clockwise;    /* negate sin */
    int exp_shift;    /* theta_i = base^(-2(i+1)/r) */
    int angle_f16;    /* angle rounded to binary16 */
    int swap_pair1;   /* > 0: pair swap_pair1 - 1 swaps sin and cos */
    double radial;    /* != 0: scale the pair by this */
    int ignore_dir;   /* > 0: RC_INVERSE rotates pairs >= ignore_dir - 1 forward */
    int stale_row;    /* position rc_mutant_stale_position rotated as its predecessor */
    int half_turn;    /* angle reduced mod pi, the quadrant's sign lost */
    int split;        /* pairs < rc_mutant_split_pair scaled by RC_MUTANT_RADIAL, the
                         others turned RC_MUTANT_EXTRA_TURN rad further */
    int shifted;      /* every position m rotated as m + rc_mutant_shift */
} defect;

int rc_mutant_shift = 2;

int rc_mutant_split_pair = 0;
double rc_mutant_scaled_turn = 0.0;

int64_t rc_mutant_stale_position = -1;

typedef struct mstate {
    defect df;
    int32_t d, r;
    rc_layout layout;
    double *hi, *lo;
} mstate;

static rc_status mutant_prepare(const rc_spec *spec, void **state, const defect *df)
{
    *state = NULL;
    if (spec->dtype != RC_DTYPE_F32)
        return RC_ERR_UNSUPPORTED;
    const int half = spec->rotary_dim / 2;
    mstate *st = calloc(1, sizeof *st);
    if (!st)
        return RC_ERR_NOMEM;
    st->hi = malloc((size_t)half * sizeof(double));
    st->lo = malloc((size_t)half * sizeof(double));
    if (!st->hi || !st->lo) {
        free(st->hi);
        free(st->lo);
        free(st);
        return RC_ERR_NOMEM;
    }
    st->df = *df;
    st->d = spec->head_dim;
    st->r = spec->rotary_dim;
    st->layout = spec->layout;
    if (df->swap_layout)
        st->layout = spec->layout == RC_LAYOUT_HALF ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF;
    for (int i = 0; i < half; i++) {
        rc_dd t = {spec->theta_hi[i], spec->theta_lo[i]};
        if (df->base > 0)
            t = rc_ref_theta_dd(df->base, spec->rotary_dim, i);
        if (df->exp_shift) {
            /* theta_i * theta_1 = base^(-2(i+1)/r), to ~2^-104 relative. */
            const double h1 = spec->rotary_dim >= 4 ? spec->theta_hi[1] : 1.0 / spec->base;
            const double l1 = spec->rotary_dim >= 4 ? spec->theta_lo[1] : 0.0;
            rc_dd p = rc_two_prod(t.hi, h1);
            p = rc_fast_two_sum(p.hi, p.lo + (t.hi * l1 + t.lo * h1));
            t = p;
        }
        st->hi[i] = t.hi;
        st->lo[i] = t.lo;
    }
    *state = st;
    return RC_OK;
}

static void mutant_release(void *state)
{
    mstate *st = state;
    if (!st)
        return;
    free(st->hi);
    free(st->lo);
    free(st);
}

static rc_status mutant_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                              const int64_t *positions, rc_direction dir)
{
    const mstate *st = state;
    const defect *df = &st->df;
    const int half = st->r / 2;
    const int step = st->layout == RC_LAYOUT_INTERLEAVED ? 2 : 1;
    const int off = st->layout == RC_LAYOUT_INTERLEAVED ? 1 : half;
    for (int64_t t = 0; t < in->n_tokens; t++) {
        const int64_t m = positions[t] - (df->stale_row && positions[t] > 0 &&
                                           positions[t] == rc_mutant_stale_position) +
                          (df->shifted ? rc_mutant_shift : 0);
        for (int64_t h = 0; h < in->n_heads; h++) {
            const float *x = (const float *)in->data + t * in->token_stride + h * in->head_stride;
            float *y = (float *)out->data + t * out->token_stride + h * out->head_stride;
            float tmp[RC_MAX_HEAD_DIM];
            memcpy(tmp, x, (size_t)st->d * sizeof(float));
            for (int i = 0; i < half; i++) {
                double s, c;
                if (df->angle_f16) {
                    const double ang = rc_f16_to_double(rc_double_to_f16((double)m * st->hi[i]));
                    s = sin(ang);
                    c = cos(ang);
                } else {
                    rc_exact_sincos(m, st->hi[i], st->lo[i], &s, &c);
                }
                if (df->half_turn && fmod(nearbyint((double)m * st->hi[i] / 3.141592653589793), 2.0) != 0) {
                    s = -s; /* an odd number of half turns taken off, the sign not put back */
                    c = -c;
                }
                if (dir == RC_INVERSE && !(df->ignore_dir && i >= df->ignore_dir - 1))
                    s = -s;
                if (df->clockwise)
                    s = -s;
                if (i == df->swap_pair1 - 1) {
                    const double w = s;
                    s = c;
                    c = w;
                }
                if (df->split) {
                    const int scaled = i < rc_mutant_split_pair;
                    const double turn = scaled ? rc_mutant_scaled_turn : RC_MUTANT_EXTRA_TURN;
                    const double g = scaled ? RC_MUTANT_RADIAL : 1.0;
                    const double c2 = g * (c * cos(turn) - s * sin(turn));
                    s = g * (s * cos(turn) + c * sin(turn));
                    c = c2;
                }
                if (df->radial != 0.0) {
                    s *= df->radial;
                    c *= df->radial;
                }
                const int ia = i * step, ib = ia + off;
                const double a = tmp[ia], b = tmp[ib];
                y[ia] = (float)fma(a, c, -(b * s));
                y[ib] = (float)fma(a, s, b * c);
            }
            for (int ch = st->r; ch < st->d; ch++)
                y[ch] = tmp[ch];
        }
    }
    return RC_OK;
}

#define MUTANT(ident, label, desc, ...)                                                      \
    static rc_status ident##_prepare(const rc_spec *spec, void **state)                      \
    {                                                                                        \
        static const defect df = {__VA_ARGS__};                             \
        return mutant_prepare(spec, state, &df);                                             \
    }                                                                                        \
    const rc_impl rc_mutant_##ident = {RC_ABI_VERSION,                                       \
                                       label,                                                \
                                       desc,                                                 \
                                       RC_CAP_F32 | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE |    \
                                           RC_CAP_PARTIAL_ROTARY,                            \
                                       NULL,                                                 \
                                       ident##_prepare,                                      \
                                       mutant_apply,                                         \
                                       mutant_release, NULL};

MUTANT(wrong_base, "mutant-wrong-base", "base 500000 whatever the spec says",
       .base = RC_MUTANT_WRONG_BASE)
MUTANT(layout_swapped, "mutant-layout-swapped", "pairs channels with the other layout",
       .swap_layout = 1)
MUTANT(clockwise, "mutant-clockwise", "rotates by -m*theta", .clockwise = 1)
MUTANT(exponent_off_by_one, "mutant-exponent-off-by-one", "theta_i = base^(-2(i+1)/r)",
       .exp_shift = 1)
MUTANT(angle_f16, "mutant-angle-f16", "angle m*theta rounded to binary16", .angle_f16 = 1)
MUTANT(sincos_swapped_pair3, "mutant-sincos-swapped-pair3", "pair 3 swaps sin and cos",
       .swap_pair1 = RC_MUTANT_SWAPPED_PAIR + 1)
MUTANT(radial_scale, "mutant-radial-scale", "every pair scaled by 1.001",
       .radial = RC_MUTANT_RADIAL)
MUTANT(ignores_direction, "mutant-ignores-direction", "RC_INVERSE rotates forward",
       .ignore_dir = 1)
MUTANT(ignores_direction_late, "mutant-ignores-direction-late",
       "RC_INVERSE rotates the pairs from RC_MUTANT_LATE_PAIR on forward",
       .ignore_dir = RC_MUTANT_LATE_PAIR + 1)
MUTANT(shifted, "mutant-shifted", "position m rotated as m + rc_mutant_shift", .shifted = 1)
MUTANT(stale_row, "mutant-stale-row", "one position rotated by its predecessor's angle",
       .stale_row = 1)
MUTANT(half_turn, "mutant-half-turn", "angle reduced mod pi without the quadrant's sign",
       .half_turn = 1)
MUTANT(split_radial, "mutant-split-radial",
       "pairs below rc_mutant_split_pair scaled, the others turned further", .split = 1)
