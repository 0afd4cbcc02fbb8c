/*
 * impls/scalar/scalar.c - the portable C11 implementation: exact angle,
 * rotation in double, one rounding to the output type.
 *
 * It is the yardstick the optimized ports are compared with, so it spends
 * arithmetic on accuracy: per token, sin/cos of every pair once from the
 * double-double angle (impls/common/exact_angle.h), shared by all heads;
 * then each pair is rotated in double and rounded once when stored.
 *
 * ERROR, f32 / f16 / bf16 (u = 2^-53, N = ||(a, b)||, p = the type's
 * precision: 24, 11, 8). Inputs are exact as doubles. The double result
 * x~ = fma(a, c, -(b*s)) differs from the exact a*cos(phi) - b*sin(phi) by
 *   eta <= N*(sqrt(2)*(U + 0.5)*u + 26u^2)    c, s from rc_exact_sincos
 *        + 2u*N                               the product b*s and the fma
 *        + N*delta                            angle error, delta <= 2^-50.4
 *                                             for every m < 2^53 with the
 *                                             host's theta table
 *   (U <= 1: the sine and cosine's error in ulps, 0.494 for
 *   impls/common/sincos_dd.h; delta <= 2^-50.4 = 6.1u), so
 * eta <= 10.2u*N. The output type's ulp(N) is > N*2^-p, so eta/ulp(N) <
 * 2^-25.6 for f32 and less for f16 and bf16. Storing rounds x~ to nearest:
 * within ulp(x~)/2 <= ulp(N)/2 of x~ (or, where x~ lies above the power of
 * two above N, within eta of it). So every component is within
 * (0.5 + 2^-24) ulp(N) of the exact value: correctly rounded except within
 * 2^-25 ulp of a tie, and the f32 gate of 1 ulp holds with room.
 *
 * ERROR, f64. The sine and cosine are double-doubles (c.hi + c.lo within
 * U*u + 18u^2 of cos of the computed angle), and a*c - b*s is formed with
 * error-free products and one final rounding (rotate_f64 below):
 *   rounding             <= ulp(N)/2 (ulp(x~) <= ulp(N) as |x~| <= N, up to
 *                           the same power-of-two remark as above)
 *   low-order terms      <= 17u^2 * N
 *   (c, s) vector error  <= N * sqrt(2) * (U*u + 18u^2)   (Cauchy-Schwarz:
 *                           |a*dc - b*ds| <= N * ||(dc, ds)||)
 *   angle error          <= N * delta, delta <= 2^-72 for m < 2^31
 * and ulp(N) > N*u, so the pair error is at most
 *   0.5 + sqrt(2)*U + 43u + delta/u  ulp(N)  ~= 1.92 ulp for U = 1,
 * within the default f64 gate of 3. Near m = 2^53 delta/u reaches ~3
 * (exact_angle.h: the product m*theta_lo and the table's own rounding).
 * Pairs with both |a|, |b| < 2^-900 are scaled by 2^600 first (exact), so
 * that the error terms of the products never underflow. Scaling back is
 * exact unless the result is subnormal; then it is one rounding to the
 * subnormal grid (<= half the floor ulp) of a value already within
 * ~2^-51 |x~| of exact, far below that floor: the bound above still holds.
 *
 * Special values (f64 path): a pair holding a NaN or an infinity, or a
 * result that overflows, is recomputed with the plain formula
 * fma(a, c, -(b*s)), the one the other dtypes use, so it follows IEEE
 * arithmetic (NaN in, NaN out; Inf*c stays infinite). The error-free
 * transforms alone would turn Inf - Inf in their low words into NaN.
 *
 * Output scale (scaled specs, rope.h): alpha is folded into the cos/sin
 * row (impls/common/exact_angle.h, OUTPUT SCALE); the bounds above hold
 * with N replaced by alpha*N and the (c, s) term by sqrt(2)*(U + 2)*u.
 *
 * State, rows and the loop over tokens and heads: impls/common/port_state.h
 * (fused angles); this file holds the per-head rotation.
 *
 * Thread safety: no static mutable state. The per-token sin/cos rows live
 * in the state, which the ABI never uses from two calls at once.
 */
#include "impls/scalar/scalar.h"

#include <stdint.h>
#include <string.h>

#include "impls/common/port_state.h"
#include "impls/common/rotate_pair.h"

/* Where pair i's two channels sit: a at i*step, b at i*step + offset. */
typedef struct pair_map {
    int64_t step;
    int64_t offset;
    int64_t pairs;
} pair_map;

static pair_map pairs_of(const rc_port_state *st)
{
    pair_map p;
    p.pairs = st->rotary_dim / 2;
    if (st->layout == RC_LAYOUT_INTERLEAVED) {
        p.step = 2;
        p.offset = 1;
    } else {
        p.step = 1;
        p.offset = p.pairs;
    }
    return p;
}

static rc_status scalar_prepare(const rc_spec *spec, void **state)
{
    return rc_port_state_create(spec, RC_ANGLES_FUSED, 0, NULL, state);
}

/* f32: a double result is within 2^-25 f32 ulp of exact; one rounding on
 * the store. Both values are loaded before either is stored (in place). */
static void rotate_f32(const rc_port_state *st, const void *vin, void *vout)
{
    const float *in = vin;
    float *out = vout;
    const pair_map pm = pairs_of(st);
    for (int64_t i = 0; i < pm.pairs; i++) {
        const int64_t ia = i * pm.step, ib = ia + pm.offset;
        const double a = in[ia], b = in[ib];
        double x, y;
        rc_rotate_pair_d(a, b, st->cos_hi[i], st->sin_hi[i], &x, &y);
        out[ia] = (float)x;
        out[ib] = (float)y;
    }
}

/* f16 and bf16: exact loads and once-rounded stores from core. */
static void rotate_16(const rc_port_state *st, const void *in, void *out)
{
    const pair_map pm = pairs_of(st);
    for (int64_t i = 0; i < pm.pairs; i++) {
        const int64_t ia = i * pm.step;
        rc_rotate_elems(st->dtype, in, out, ia, ia + pm.offset, st->cos_hi[i], st->sin_hi[i]);
    }
}

static void rotate_f64(const rc_port_state *st, const void *in, void *out)
{
    const pair_map pm = pairs_of(st);
    for (int64_t i = 0; i < pm.pairs; i++) {
        const int64_t ia = i * pm.step;
        rc_port_pair_f64(st, in, out, i, ia, ia + pm.offset);
    }
}

RC_PORT_TOKEN_FN(, token_f32, rotate_f32, memcpy)
RC_PORT_TOKEN_FN(, token_f64, rotate_f64, memcpy)
RC_PORT_TOKEN_FN(, token_16, rotate_16, memcpy)

static rc_status scalar_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                              const int64_t *positions, rc_direction direction)
{
    static const rc_port_token_fn tokens[RC_DTYPE_COUNT] = {
        [RC_DTYPE_F32] = token_f32,
        [RC_DTYPE_F64] = token_f64,
        [RC_DTYPE_F16] = token_16,
        [RC_DTYPE_BF16] = token_16,
    };
    rc_port_state *st = state;
    return rc_port_apply(st, st ? tokens[st->dtype] : NULL, in, out, positions, direction);
}

const rc_impl rc_impl_scalar = {
    .abi_version = RC_ABI_VERSION,
    .name = "scalar",
    .description = "portable C11: exact angle (double-double), double rotation, rounded once",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = NULL,
    .prepare = scalar_prepare,
    .apply = scalar_apply,
    .release = rc_port_state_destroy,
};
