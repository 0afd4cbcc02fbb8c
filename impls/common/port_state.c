/*
 * impls/common/port_state.c - the state and apply loop the CPU ports
 * share (see port_state.h). Compiled without ISA flags: it only moves
 * rows and calls the row function and the port's kernels.
 */
#include "impls/common/port_state.h"

#include <stdlib.h>
#include <string.h>

#include "core/axes.h"
#include "core/scaling.h"
#include "core/spec_check.h"
#include "impls/common/certified_f32.h"
#include "impls/common/exact_angle.h"

/* The f32 rows of a token (port_state.h, F32 ROWS). */
#define RC_F32_ROWS 4

/* Entries of each f32 row (port_state.h, F32 ROWS): one per channel when
 * they are arranged interleaved (the layout is, and the port asked for
 * il[] too), else one per pair. */
static size_t f32_lanes(int32_t rotary_dim, int il_rows)
{
    return il_rows ? (size_t)rotary_dim : (size_t)rotary_dim / 2;
}

/* Doubles of rows one token needs: cos, sin (+ their low words for f64)
 * of r/2 pairs, plus the interleaved rows (2 of r entries for narrow
 * types, 4 for f64) when kept, plus the four f32 rows (of r/2 entries,
 * or r interleaved) and their "usable" flag when kept, rounded up to
 * doubles. At most 12 * r/2 (f64 interleaved; f16/bf16 with every row
 * take 5r + 1). */
static size_t rows_per_token(int32_t rotary_dim, rc_dtype dtype, int il_rows, int f32_rows)
{
    const size_t half = (size_t)rotary_dim / 2;
    const int f64 = dtype == RC_DTYPE_F64;
    const size_t il = il_rows ? (f64 ? 8 : 4) : 0;
    const size_t f32 =
        f32_rows ? (RC_F32_ROWS * f32_lanes(rotary_dim, il_rows) + 2) / 2 : 0;
    return ((f64 ? 4 : 2) + il) * half + f32;
}

static size_t state_rows_per_token(const rc_port_state *st)
{
    return rows_per_token(st->rotary_dim, st->dtype, st->il_rows, st->f32_rows);
}

/* Points the row pointers the kernels read at one token's rows at `base`
 * (rows_per_token() doubles). Rows the dtype/layout never reads are NULL. */
static void point_rows(rc_port_state *st, double *base)
{
    const size_t half = (size_t)st->rotary_dim / 2;
    const int f64 = st->dtype == RC_DTYPE_F64;
    st->cos_hi = base;
    st->sin_hi = base + half;
    st->cos_lo = f64 ? base + 2 * half : NULL;
    st->sin_lo = f64 ? base + 3 * half : NULL;
    const size_t next = (f64 ? 4 : 2) * half;
    const int n_il = st->il_rows ? (f64 ? 4 : 2) : 0;
    for (int k = 0; k < 4; k++)
        st->il[k] = k < n_il ? base + next + 2 * (size_t)k * half : NULL;
    /* The f32 rows after the double ones (floats in the same block: that
     * memory is only ever read and written as floats). */
    st->f32_base = st->f32_rows ? (float *)(base + next + 2 * (size_t)n_il * half) : NULL;
    for (int k = 0; k < RC_F32_ROWS; k++)
        st->r32[k] = NULL;
}

/* The f32 row pointers of the rows at st->f32_base, as built by
 * arrange_f32: NULL when the token's flag says they cannot be used. */
static void point_f32_rows(rc_port_state *st)
{
    if (!st->f32_rows)
        return;
    const size_t lanes = f32_lanes(st->rotary_dim, st->il_rows);
    const int usable = st->f32_base[RC_F32_ROWS * lanes] != 0.0f;
    for (int k = 0; k < RC_F32_ROWS; k++)
        st->r32[k] = usable ? st->f32_base + (size_t)k * lanes : NULL;
}

/* Where one token's rows live when they are not kept in the table: the
 * state's own storage, after theta_hi and theta_lo (r/2 doubles each). */
static double *own_rows(rc_port_state *st)
{
    return st->storage + st->rotary_dim;
}

/* The interleaved arrangement of the rows st points at (port_state.h,
 * INTERLEAVED ROWS). */
static void arrange_interleaved(rc_port_state *st)
{
    const int32_t half = st->rotary_dim / 2;
    if (st->dtype == RC_DTYPE_F64) {
        for (int32_t i = 0; i < half; i++) {
            st->il[0][2 * i] = st->il[0][2 * i + 1] = st->cos_hi[i];
            st->il[1][2 * i] = st->il[1][2 * i + 1] = st->cos_lo[i];
            st->il[2][2 * i] = st->sin_hi[i];
            st->il[2][2 * i + 1] = -st->sin_hi[i];
            st->il[3][2 * i] = st->sin_lo[i];
            st->il[3][2 * i + 1] = -st->sin_lo[i];
        }
    } else {
        for (int32_t i = 0; i < half; i++) {
            st->il[0][2 * i] = st->cos_hi[i];
            st->il[0][2 * i + 1] = st->sin_hi[i];
            st->il[1][2 * i] = -st->sin_hi[i];
            st->il[1][2 * i + 1] = st->cos_hi[i];
        }
    }
}

/* The f32 rows (port_state.h, F32 ROWS) of the double rows st points at,
 * and after them the flag point_f32_rows reads: 1 when every entry is one
 * impls/common/certified_f32.h's analysis covers. */
static void arrange_f32(rc_port_state *st)
{
    const int32_t half = st->rotary_dim / 2;
    const size_t lanes = f32_lanes(st->rotary_dim, st->il_rows);
    float *r[RC_F32_ROWS];
    for (int k = 0; k < RC_F32_ROWS; k++)
        r[k] = st->f32_base + (size_t)k * lanes;
    int usable = 1;
    for (int32_t i = 0; i < half; i++) {
        float c, s;
        usable &= rc_cert_row_entry(st->cos_hi[i], &c);
        usable &= rc_cert_row_entry(st->sin_hi[i], &s);
        if (st->il_rows) {
            /* il[0] = [c s ..], il[1] = [-s c ..], as the double rows. */
            r[0][2 * i] = c;
            r[0][2 * i + 1] = s;
            r[1][2 * i] = -s;
            r[1][2 * i + 1] = c;
            for (int j = 2 * i; j < 2 * i + 2; j++) {
                r[2][j] = rc_cert_weight(r[0][j], 2);
                r[3][j] = rc_cert_weight(r[1][j], 3);
            }
        } else {
            r[0][i] = c;
            r[1][i] = s;
            /* x = a c - RN(b s) and y = a s + RN(b c) share one bound:
             * the weights of the larger of |c|, |s| serve both. */
            const float m = fabsf(c) > fabsf(s) ? fabsf(c) : fabsf(s);
            r[2][i] = rc_cert_weight(m, 2);
            r[3][i] = rc_cert_weight(m, 3);
        }
    }
    st->f32_base[RC_F32_ROWS * lanes] = usable ? 1.0f : 0.0f;
}

/* A token at positions pos[0 .. n_axes-1]: each pair's rows from the row
 * function at its axis's position (port_state.h, MULTI-AXIS), one run per
 * distinct position through axis_rows. */
static void fill_rows_axes(rc_port_state *st, const int64_t *pos, rc_direction dir)
{
    const int32_t half = st->rotary_dim / 2;
    const int f64 = st->dtype == RC_DTYPE_F64;
    double *ch = st->axis_rows, *sh = ch + half, *cl = sh + half, *sl = cl + half;
    for (int32_t k = 0; k < st->n_axes; k++) {
        if (!rc_axes_position_is_new(pos, k))
            continue;
        st->row(pos[k], dir == RC_INVERSE, half, st->theta_hi, st->theta_lo, st->alpha, ch, sh,
                f64 ? cl : NULL, f64 ? sl : NULL);
        for (int32_t i = 0; i < half; i++) {
            if (pos[st->pair_axis[i]] != pos[k])
                continue;
            st->cos_hi[i] = ch[i];
            st->sin_hi[i] = sh[i];
            if (f64) {
                st->cos_lo[i] = cl[i];
                st->sin_lo[i] = sl[i];
            }
        }
    }
}

/* The rows of a token at positions pos (n_axes of them) at the rows st
 * points at: the row function, then the interleaved arrangement. */
static void fill_rows(rc_port_state *st, const int64_t *pos, rc_direction dir)
{
    if (st->n_axes > 1)
        fill_rows_axes(st, pos, dir);
    else
        st->row(pos[0], dir == RC_INVERSE, st->rotary_dim / 2, st->theta_hi, st->theta_lo,
                st->alpha, st->cos_hi, st->sin_hi, st->cos_lo, st->sin_lo);
    if (st->il_rows)
        arrange_interleaved(st);
    if (st->f32_rows) {
        arrange_f32(st);
        point_f32_rows(st);
    }
}

rc_status rc_port_state_create(const rc_spec *spec, rc_angle_mode mode, unsigned rows,
                               rc_sincos_row_fn row, void **out)
{
    if (!out)
        return RC_ERR_INVALID;
    *out = NULL;
    if (mode != RC_ANGLES_FUSED && mode != RC_ANGLES_TABLE)
        return RC_ERR_INVALID;
    rc_status valid = rc_prepare_spec_check(spec);
    if (valid != RC_OK)
        return valid;
    const size_t half = (size_t)spec->rotary_dim / 2;
    const int il_rows = (rows & RC_ROWS_INTERLEAVED) && spec->layout == RC_LAYOUT_INTERLEAVED;
    const int f32_rows = (rows & RC_ROWS_F32) &&
                         (spec->dtype == RC_DTYPE_F16 || spec->dtype == RC_DTYPE_BF16);
    const int32_t n_axes = spec->n_axes > 1 ? spec->n_axes : 1;
    /* theta_hi, theta_lo, one token's rows, then (multi-axis) the scratch
     * rows of one axis position. */
    const size_t doubles = 2 * half +
                           rows_per_token(spec->rotary_dim, spec->dtype, il_rows, f32_rows) +
                           (n_axes > 1 ? 4 * half : 0);
    rc_port_state *st = malloc(sizeof *st + doubles * sizeof(double));
    if (!st)
        return RC_ERR_NOMEM;
    st->head_dim = spec->head_dim;
    st->rotary_dim = spec->rotary_dim;
    st->layout = spec->layout;
    st->dtype = spec->dtype;
    st->theta_hi = st->storage;
    st->theta_lo = st->storage + half;
    memcpy(st->theta_hi, spec->theta_hi, half * sizeof(double));
    memcpy(st->theta_lo, spec->theta_lo, half * sizeof(double));
    st->alpha = rc_spec_out_scale(spec);
    st->mode = mode;
    st->il_rows = il_rows;
    st->f32_rows = f32_rows;
    st->row = row ? row : rc_exact_sincos_row;
    st->table = NULL;
    st->table_tokens = 0;
    st->kept_positions = NULL;
    st->kept_tokens = 0;
    st->kept_direction = RC_FORWARD;
    st->kept_row = NULL;
    st->n_axes = n_axes;
    memset(st->pair_axis, 0, sizeof st->pair_axis);
    if (n_axes > 1)
        memcpy(st->pair_axis, spec->pair_axis, half);
    st->axis_rows = n_axes > 1 ? st->storage + doubles - 4 * half : NULL;
    point_rows(st, own_rows(st));
    *out = st;
    return RC_OK;
}

void rc_port_state_destroy(void *state)
{
    rc_port_state *st = state;
    if (st) {
        free(st->table);
        free(st->kept_positions);
    }
    free(st);
}

/* Every head of token t, against the rows st points at. */
static void rotate_token(const rc_port_state *st, rc_port_token_fn token, const rc_tensor *in,
                         const rc_tensor *out, int64_t t)
{
    const size_t esize = rc_dtype_size(st->dtype);
    const rc_port_token tk = {
        .src = (const char *)in->data + (size_t)(t * in->token_stride) * esize,
        .dst = (char *)out->data + (size_t)(t * out->token_stride) * esize,
        .n_heads = in->n_heads,
        .src_step = (ptrdiff_t)((size_t)in->head_stride * esize),
        .dst_step = (ptrdiff_t)((size_t)out->head_stride * esize),
        .rot_bytes = (size_t)st->rotary_dim * esize,
        .pass_bytes = (size_t)(st->head_dim - st->rotary_dim) * esize,
    };
    token(st, &tk);
}

/* Room for n tokens' rows in st->table, and their positions (n_axes each). */
static rc_status grow_table(rc_port_state *st, int64_t n, size_t rows)
{
    if (n <= st->table_tokens)
        return RC_OK;
    /* free + malloc, not realloc: the old rows need not be kept. */
    free(st->table);
    free(st->kept_positions);
    st->table = NULL;
    st->kept_positions = NULL;
    st->table_tokens = 0;
    st->kept_tokens = 0;
    if ((uint64_t)n > SIZE_MAX / sizeof(double) / rows ||
        (uint64_t)n > SIZE_MAX / sizeof(int64_t) / (uint64_t)st->n_axes)
        return RC_ERR_NOMEM;
    if (posix_memalign((void **)&st->table, 64, (size_t)n * rows * sizeof(double)) != 0)
        st->table = NULL;
    st->kept_positions = malloc((size_t)n * (size_t)st->n_axes * sizeof(int64_t));
    if (!st->table || !st->kept_positions) {
        free(st->table);
        free(st->kept_positions);
        st->table = NULL;
        st->kept_positions = NULL;
        return RC_ERR_NOMEM;
    }
    st->table_tokens = n;
    return RC_OK;
}

/* Whether the table holds this call's rows (port_state.h, ROWS KEPT
 * ACROSS CALLS). */
static int rows_kept_for(const rc_port_state *st, int64_t n, const int64_t *positions,
                         rc_direction direction)
{
    const size_t bytes = (size_t)n * (size_t)st->n_axes * sizeof *positions;
    return st->kept_tokens == n && st->kept_direction == direction && st->kept_row == st->row &&
           memcmp(st->kept_positions, positions, bytes) == 0;
}

static void rotate_from_table(rc_port_state *st, rc_port_token_fn token, const rc_tensor *in,
                              const rc_tensor *out, size_t rows)
{
    for (int64_t t = 0; t < in->n_tokens; t++) {
        point_rows(st, st->table + (size_t)t * rows);
        point_f32_rows(st);
        rotate_token(st, token, in, out, t);
    }
}

rc_status rc_port_apply(rc_port_state *st, rc_port_token_fn token, const rc_tensor *in,
                        const rc_tensor *out, const int64_t *positions, rc_direction direction)
{
    if (!st || !token)
        return RC_ERR_INVALID;
    int empty;
    rc_status args = rc_apply_args_check_axes(st->head_dim, rc_dtype_size(st->dtype), in, out,
                                              positions, st->n_axes, direction, &empty);
    if (args != RC_OK || empty)
        return args;

    const int64_t n = in->n_tokens;
    const int32_t a = st->n_axes; /* positions per token */
    const size_t rows = state_rows_per_token(st);
    const int keep = (uint64_t)n <= RC_ROW_CACHE_BYTES / sizeof(double) / rows;
    if (keep && rows_kept_for(st, n, positions, direction)) {
        rotate_from_table(st, token, in, out, rows);
        return RC_OK;
    }
    /* The table is about to change: it holds no call's rows until full. */
    st->kept_tokens = 0;
    rc_status grown = keep || st->mode == RC_ANGLES_TABLE ? grow_table(st, n, rows) : RC_OK;
    if (grown != RC_OK && st->mode == RC_ANGLES_TABLE)
        return grown;
    if (st->mode == RC_ANGLES_FUSED && (!keep || grown != RC_OK)) {
        /* One token's rows at a time in the state's own storage. */
        point_rows(st, own_rows(st));
        for (int64_t t = 0; t < n; t++) {
            fill_rows(st, positions + t * a, direction);
            rotate_token(st, token, in, out, t);
        }
        return RC_OK;
    }
    if (st->mode == RC_ANGLES_FUSED) {
        /* Each token's rows into its table slot, then its heads. */
        for (int64_t t = 0; t < n; t++) {
            point_rows(st, st->table + (size_t)t * rows);
            fill_rows(st, positions + t * a, direction);
            rotate_token(st, token, in, out, t);
        }
    } else {
        /* RC_ANGLES_TABLE: one pass over the positions, then one over the data. */
        for (int64_t t = 0; t < n; t++) {
            point_rows(st, st->table + (size_t)t * rows);
            fill_rows(st, positions + t * a, direction);
        }
        rotate_from_table(st, token, in, out, rows);
    }
    if (keep) {
        memcpy(st->kept_positions, positions, (size_t)n * (size_t)a * sizeof *positions);
        st->kept_tokens = n;
        st->kept_direction = direction;
        st->kept_row = st->row;
    }
    return RC_OK;
}
