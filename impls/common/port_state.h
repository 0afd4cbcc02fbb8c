/*
 * impls/common/port_state.h - what every CPU port (scalar, avx2, avx512,
 * neon) keeps between prepare and apply, and the apply loop around its
 * per-token kernel.
 *
 * A port is then an availability check, a choice of token kernel
 * (RC_PORT_TOKEN_FN around its head kernel), and the kernels themselves:
 * the spec check, the copy of theta, the cos/sin rows, the table of
 * angles, the loop over tokens and heads and the passthrough channels are
 * written once, here, so the ports cannot drift apart in what they accept
 * or in the angles they rotate by.
 *
 * ANGLES. Per token, alpha*cos and alpha*sin of every pair come from the
 * row function (rc_exact_sincos_row of impls/common/exact_angle.h unless
 * the port passes a faster one with the same bits) into rows shared by
 * every head of the token. Two strategies, the same rows and so the same
 * bits:
 *   RC_ANGLES_FUSED: per token, fill that token's rows in the state, then
 *     rotate every head of it (angles computed next to their use).
 *   RC_ANGLES_TABLE: first fill rows for every token of the call into a
 *     [n_tokens][rows] table, then rotate all tokens x heads reading it:
 *     what frameworks do with a cos/sin cache, here rebuilt per call from
 *     the same exact angles. The table grows, never shrinks, so repeated
 *     calls of one size allocate once.
 *
 * ROWS KEPT ACROSS CALLS. A model applies RoPE to every layer at the same
 * positions, and frameworks compute cos/sin once per forward pass for all
 * layers (transformers' position_embeddings, vLLM's cos_sin_cache). The
 * ports do the same: both strategies write every token's rows into the
 * table (the fused one just before rotating that token, so the rows are
 * still where it reads them) and remember the call's positions and
 * direction. A later call with the same direction and the same positions
 * (compared element by element, not by pointer, so a caller may reuse
 * its array), and the same row function (a test may swap st->row between
 * calls), rotates against the table without computing an angle.
 * Anything else refills it. The rows depend only on the spec (fixed at
 * prepare), the position and the direction, so reuse cannot change a
 * bit; tests/test_simd.c (state_reuse) checks repeated, changed and
 * reversed calls against scalar. Calls whose rows would exceed
 * RC_ROW_CACHE_BYTES keep the fused one-token rows and nothing across
 * calls (the table strategy then still builds its table, as before).
 *
 * INTERLEAVED ROWS. A port whose interleaved-layout kernels multiply a
 * channel vector [a0 b0 a1 b1 ..] by rows arranged like the channels asks
 * for them (interleaved_rows); they are built from the cos/sin rows after
 * each fill, in the interleaved layout only:
 *   f32/f16/bf16: il[0] = [c0 s0 c1 s1 ..], il[1] = [-s0 c0 -s1 c1 ..], so
 *     that fma([a0 a0 ..], il[0], [b0 b0 ..] * il[1]) is
 *     [fma(a0, c0, -(b0*s0)), fma(a0, s0, b0*c0), ..], rc_rotate_pair_d's
 *     x and y (impls/common/rotate_pair.h).
 *   f64: il[0], il[1] = cos hi, lo duplicated; il[2], il[3] = sin hi, lo
 *     with alternating sign, so that rc_rotate_dd lane by lane on
 *     ([a0 b0 ..], [b0 a0 ..]) is rc_rotate_dd(a, b, ch, cl, sh, sl) and
 *     rc_rotate_dd(b, a, ch, cl, -sh, -sl).
 * The sines already carry the direction's sign (RC_INVERSE negates them).
 *
 * F32 ROWS (f16 and bf16 only, for a port that asks with RC_ROWS_F32):
 * the rows of the certified f32-width rotation (impls/common/
 * certified_f32.h has the error analysis), each result r = RN32(A R0 +
 * RN32(B R1)) with the bound's weights W0 (of R0) and W1 (of R1):
 *   half layout (r/2 entries per row): r32[0] = c, r32[1] = s rounded to
 *     f32; r32[2] = W0(m), r32[3] = W1(m) with m = max(|c|, |s|): one
 *     bound for x and y (each of its terms is at least theirs).
 *   interleaved, for a port that also reads il[] (r entries per row):
 *     r32[0], r32[1] = il[0], il[1] rounded to f32; r32[2] = W0(r32[0]),
 *     r32[3] = W1(r32[1]). A port that reads the
 *     interleaved layout without il[] (NEON's LD2/ST2 split the pairs)
 *     gets the half layout's rows.
 * A token whose rows the analysis does not cover (an entry rounding to an
 * f32 below RC_CERT_MIN_ROW, or not finite; see certified_f32.h) gets
 * r32[0] = NULL, and the kernels take the double path for all its heads.
 * They are built after each fill like il[] and kept in the table with the
 * other rows.
 *
 * MULTI-AXIS. With n_axes >= 2 (rope.h) a token has n_axes positions and
 * each pair its axis: the row function runs once per distinct position of
 * the token into scratch rows, and each pair takes its entries from the
 * run at its own axis's position, so the rows hold exactly the bits the
 * single-axis code gives that pair at that position (and a text token,
 * all positions equal, costs one run). Every CPU port offers it this way.
 *
 * Thread safety: no static mutable state; the rows live in the state,
 * which the ABI never uses from two calls at once.
 */
#ifndef ROPECHECK_IMPLS_COMMON_PORT_STATE_H
#define ROPECHECK_IMPLS_COMMON_PORT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/dd.h"
#include "impls/common/rotate_pair.h"
#include "ropecheck/rope.h"

typedef enum { RC_ANGLES_FUSED, RC_ANGLES_TABLE } rc_angle_mode;

/* The largest table of rows kept across calls: 128 MiB, so that 32768
 * tokens keep theirs: 64 MiB for a 128-channel head in f64, 64.25 MiB in
 * f16/bf16 with the F32 ROWS (just over the 64 MiB there was before
 * them), 96 MiB of GPT-J's interleaved f64 rows. */
#define RC_ROW_CACHE_BYTES ((size_t)128 << 20)

/* Same signature as rc_exact_sincos_row in impls/common/exact_angle.h: a
 * port may pass a vectorized row filler that returns the same bits; NULL
 * means rc_exact_sincos_row. */
typedef void (*rc_sincos_row_fn)(int64_t m, int direction_inverse, int half,
                                 const double *theta_hi, const double *theta_lo, rc_dd alpha,
                                 double *cos_hi, double *sin_hi, double *cos_lo, double *sin_lo);

typedef struct rc_port_state {
    /* What the kernels read. */
    int32_t head_dim;
    int32_t rotary_dim;
    rc_layout layout;
    rc_dtype dtype;
    double *theta_hi; /* r/2 entries each, copied from the spec */
    double *theta_lo;
    rc_dd alpha; /* output scale, folded into the cos/sin rows */
    /* One token's rows, r/2 entries each: cos and sin of pair i (sin
     * signed by the direction); the low words for f64 only (else NULL). */
    double *cos_hi;
    double *sin_hi;
    double *cos_lo;
    double *sin_lo;
    /* One token's interleaved rows, r entries each (see the header); NULL
     * unless asked for and the layout is interleaved. il[2], il[3]: f64. */
    double *il[4];
    /* One token's f32 rows (see F32 ROWS); all NULL unless asked for and
     * the dtype is f16/bf16, r32[0] NULL also for a token they cannot
     * serve. */
    const float *r32[4];
    /* Multi-axis RoPE (rope.h, ABI 4): n_axes positions per token (1 when
     * the spec has none); pair i's rows come from the position on axis
     * pair_axis[i], filled one distinct position at a time through
     * axis_rows (4 x r/2 doubles, see fill_rows in port_state.c). */
    int32_t n_axes;
    uint8_t pair_axis[RC_MAX_HEAD_DIM / 2];
    double *axis_rows;
    /* How the rows are made (rc_port_apply's business). */
    rc_angle_mode mode;
    int il_rows;          /* 1 when il[] is filled */
    int f32_rows;         /* 1 when r32[] is filled (F32 ROWS) */
    float *f32_base;      /* where the current token's f32 rows are built */
    rc_sincos_row_fn row; /* never NULL */
    double *table;        /* table_tokens tokens' rows (see ROWS KEPT ACROSS CALLS) */
    int64_t table_tokens;
    int64_t *kept_positions; /* table_tokens entries; the first kept_tokens are valid */
    int64_t kept_tokens;     /* 0: the table holds no call's rows */
    rc_direction kept_direction;
    rc_sincos_row_fn kept_row; /* the row function that filled them */
    double storage[]; /* theta_hi, theta_lo, then one token's rows (fused) */
} rc_port_state;

/* The heads of one token, as rc_port_apply hands them to a token kernel:
 * head h starts at src + h * src_step and dst + h * dst_step (bytes; src
 * == dst in place), its first rot_bytes are the rotary channels and the
 * pass_bytes after them the passthrough channels. */
typedef struct rc_port_token {
    const char *src;
    char *dst;
    int64_t n_heads;
    ptrdiff_t src_step, dst_step;
    size_t rot_bytes, pass_bytes;
} rc_port_token;

/* A port's kernel for one token against the rows st points at: every
 * head rotated and its passthrough channels copied bit-exactly (NaN
 * payloads included; in place they are already where they belong). */
typedef void (*rc_port_token_fn)(const rc_port_state *st, const rc_port_token *tk);

/* Defines the token kernel `static void name(st, tk)` around a port's head
 * kernel: HEAD(st, src, dst) on every head (rotate its r rotary channels
 * from src into dst, the same pointer in place, against the rows st
 * points at), then COPY(dst, src, bytes) on its passthrough channels
 * unless in place. ATTRS go before `static`
 * (a target attribute, or nothing). With HEAD and COPY inline functions
 * of the port, a token is one loop in the port's own instruction set.
 * Why not a head kernel called through a pointer, with memcpy for the
 * passthrough: measured in cache on Zen 4 (f32, ns per element), that
 * call, its prologue and the libc copy took 16% of the time of a Llama-3
 * token on AVX2 (0.183 -> 0.153 here) and 21-30% of a partial-rotary
 * one on AVX-512 (GPT-NeoX's 12 pairs of 48: 0.133 -> 0.105; Phi-2's 16
 * of 40: 0.119 -> 0.083). */
#define RC_PORT_TOKEN_FN(ATTRS, name, HEAD, COPY)                                             \
    ATTRS static void name(const rc_port_state *st, const rc_port_token *tk)                  \
    {                                                                                         \
        const char *src = tk->src;                                                            \
        char *dst = tk->dst;                                                                  \
        for (int64_t h_ = 0; h_ < tk->n_heads; h_++, src += tk->src_step, dst += tk->dst_step) { \
            HEAD(st, src, dst);                                                               \
            if (tk->pass_bytes && src != dst)                                                 \
                COPY(dst + tk->rot_bytes, src + tk->rot_bytes, tk->pass_bytes);               \
        }                                                                                     \
    }

/* The end of a port's passthrough copy (its COPY above) after i of n
 * bytes went by vectors of 2w bytes: w, w/2, .. 2 bytes as needed (element
 * sizes are 2, 4 or 8, so that finishes any count); fixed-size memcpys,
 * which compilers turn into plain moves. */
static inline void rc_port_copy_rest(char *d, const char *s, size_t i, size_t n, size_t w)
{
    for (; w >= 2; w /= 2)
        if (n - i >= w) {
            memcpy(d + i, s + i, w);
            i += w;
        }
}

/* The rows beyond cos/sin that a port's kernels read (rc_port_state_create's
 * `rows`, or-ed): */
#define RC_ROWS_INTERLEAVED 1u /* il[], kept only when the layout is interleaved */
#define RC_ROWS_F32 2u         /* r32[], kept only when the dtype is f16 or bf16 */

/* A port's prepare (the ABI's, with its void ** state): checks the spec
 * (rc_prepare_spec_check), copies theta and alpha (rc_spec_out_scale).
 * rows: RC_ROWS_* the port's kernels read. row: NULL for
 * rc_exact_sincos_row. RC_OK with *state an rc_port_state, or
 * RC_ERR_INVALID / RC_ERR_NOMEM with *state NULL. */
rc_status rc_port_state_create(const rc_spec *spec, rc_angle_mode mode, unsigned rows,
                               rc_sincos_row_fn row, void **state);

/* Every such port's release (the ABI's): frees an rc_port_state; NULL is
 * fine. */
void rc_port_state_destroy(void *state);

/* rc_apply_args_check, then the rows (fused or table, see the header) and
 * `token` on every token. RC_ERR_INVALID for a NULL st or token. */
rc_status rc_port_apply(rc_port_state *st, rc_port_token_fn token, const rc_tensor *in,
                        const rc_tensor *out, const int64_t *positions, rc_direction direction);

/* f64 pair i, channels ia and ib, against st's rows: scalar.c's per-pair
 * arithmetic (rc_rotate_elems_f64), for the kernels' tails and their
 * fallback on special values. */
static inline void rc_port_pair_f64(const rc_port_state *st, const double *in, double *out,
                                    int64_t i, int64_t ia, int64_t ib)
{
    rc_rotate_elems_f64(in, out, ia, ib, st->cos_hi[i], st->cos_lo[i], st->sin_hi[i],
                        st->sin_lo[i]);
}

#endif /* ROPECHECK_IMPLS_COMMON_PORT_STATE_H */
