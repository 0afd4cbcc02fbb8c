/*
 * tests/test_row_cache.c - the rows the CPU ports keep across calls
 * (impls/common/port_state.h, ROWS KEPT ACROSS CALLS): when they are
 * kept, how much memory they take, and that a kept call rotates each
 * token against its own rows.
 *
 * Correctness of reuse (bits equal to a fresh state's) is test_simd.c's
 * kept_rows; this file checks what those tests cannot see because a
 * cache that is never used, or one that wastes memory, gives the same
 * bits: the row function here is a counting stand-in, so the test knows
 * exactly which calls computed rows, and the token kernel checks that each
 * token is handed the rows of its own position.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "impls/common/port_state.h"

/* ---- a row function that counts and labels ------------------------------ */

static long g_rows_made;

/* Rows that name their position: cos_hi[i] = m, sin_hi[i] = i (low words
 * 0). Not cos and sin of anything; the apply loop only moves them. */
static void labelling_row(int64_t m, int direction_inverse, int half, const double *theta_hi,
                          const double *theta_lo, rc_dd alpha, double *cos_hi, double *sin_hi,
                          double *cos_lo, double *sin_lo)
{
    (void)direction_inverse;
    (void)theta_hi;
    (void)theta_lo;
    (void)alpha;
    for (int i = 0; i < half; i++) {
        cos_hi[i] = (double)m;
        sin_hi[i] = (double)i;
        if (cos_lo)
            cos_lo[i] = 0.0;
        if (sin_lo)
            sin_lo[i] = 0.0;
    }
    g_rows_made++;
}

/* ---- a token kernel that checks the rows it is handed ------------------- */

static const char *g_in_base;
static ptrdiff_t g_token_bytes;
static const int64_t *g_positions;
static long g_wrong_rows;

static void check_rows_token(const rc_port_state *st, const rc_port_token *tk)
{
    const int64_t t = (tk->src - g_in_base) / g_token_bytes;
    if (st->cos_hi[0] != (double)g_positions[t])
        g_wrong_rows++;
}

/* ---- one shape ----------------------------------------------------------- */

typedef struct shape {
    const char *what;
    int32_t head_dim, rotary_dim;
    rc_layout layout;
    rc_dtype dtype;
    unsigned rows; /* RC_ROWS_* asked for, as the port that reads them */
} shape;

/* Bytes of one token's rows, from the row list the header documents (not
 * from port_state.c): cos and sin, r/2 doubles each; for f64 their low
 * words too; the interleaved rows (2 rows of r doubles, 4 for f64) when
 * asked for in the interleaved layout; the F32 ROWS (4 rows of r/2 floats,
 * r interleaved, and a float flag, in whole doubles) when asked for in
 * f16/bf16. */
static size_t documented_row_bytes(const shape *s)
{
    const size_t half = (size_t)s->rotary_dim / 2;
    const int f64 = s->dtype == RC_DTYPE_F64;
    const int il = (s->rows & RC_ROWS_INTERLEAVED) && s->layout == RC_LAYOUT_INTERLEAVED;
    const int f32 =
        (s->rows & RC_ROWS_F32) && (s->dtype == RC_DTYPE_F16 || s->dtype == RC_DTYPE_BF16);
    size_t doubles = (f64 ? 4 : 2) * half;
    if (il)
        doubles += (f64 ? 4 : 2) * 2 * half;
    if (f32) {
        const size_t floats = 4 * (il ? 2 * half : half) + 1;
        doubles += (floats + 1) / 2;
    }
    return doubles * sizeof(double);
}

typedef struct call_result {
    long rows_made;
    long wrong_rows;
} call_result;

/* One in-place apply() of n tokens (one head each, packed) at `positions`
 * with `st`. The stand-in kernel never reads the buffer, but rc_port_apply
 * checks the tensor, so it is real (calloc'ed: its pages stay untouched). */
static call_result apply_once(rc_port_state *st, const shape *s, int64_t n,
                              const int64_t *positions, void *buf)
{
    const int64_t d = s->head_dim;
    rc_tensor in = {buf, n, 1, d, d};
    g_in_base = buf;
    g_token_bytes = (ptrdiff_t)(d * (int64_t)rc_dtype_size(s->dtype));
    g_positions = positions;
    g_rows_made = 0;
    g_wrong_rows = 0;
    rc_status status = rc_port_apply(st, check_rows_token, &in, &in, positions, RC_FORWARD);
    cr_assert_eq(status, RC_OK, "%s: %s", s->what, rc_status_name(status));
    return (call_result){g_rows_made, g_wrong_rows};
}

static rc_port_state *make_state(const shape *s, rc_angle_mode mode, double *theta)
{
    const int32_t half = s->rotary_dim / 2;
    for (int32_t i = 0; i < half; i++) {
        theta[i] = 1.0 / (double)(i + 1);
        theta[half + i] = 0.0;
    }
    rc_spec spec = {s->head_dim, s->rotary_dim, 10000.0, s->layout, s->dtype, theta,
                    theta + half, NULL, 0.0, 0.0, 0, NULL, 0};
    void *st = NULL;
    cr_assert_eq(rc_port_state_create(&spec, mode, s->rows, labelling_row, &st), RC_OK, "%s",
                 s->what);
    return st;
}

/* Two calls of n tokens at the same positions: returns the second's. The
 * first must have made every token's rows, each kernel call seeing its
 * own token's. */
static call_result second_of_two_calls(const shape *s, rc_angle_mode mode, int64_t n)
{
    double theta[RC_MAX_HEAD_DIM];
    rc_port_state *st = make_state(s, mode, theta);
    int64_t *positions = malloc((size_t)n * sizeof *positions);
    void *buf = calloc((size_t)n * (size_t)s->head_dim, rc_dtype_size(s->dtype));
    cr_assert(positions && buf);
    for (int64_t t = 0; t < n; t++)
        positions[t] = 3 * t + 1;
    call_result first = apply_once(st, s, n, positions, buf);
    cr_expect_eq(first.rows_made, n, "%s, %lld tokens: the first call made %ld rows", s->what,
                 (long long)n, first.rows_made);
    cr_expect_eq(first.wrong_rows, 0, "%s: %ld tokens rotated with another token's rows",
                 s->what, first.wrong_rows);
    call_result second = apply_once(st, s, n, positions, buf);
    cr_expect_eq(second.wrong_rows, 0, "%s: %ld tokens of the repeated call rotated with another "
                 "token's rows", s->what, second.wrong_rows);
    free(buf);
    free(positions);
    rc_port_state_destroy(st);
    return second;
}

static const char *mode_name(rc_angle_mode m)
{
    return m == RC_ANGLES_FUSED ? "fused" : "table";
}

/* The header's promise: a 32768-token prefill keeps its rows, in every
 * dtype with the rows the built-in ports ask for, for a 128-channel head
 * and for GPT-J's interleaved one (the largest rows per channel). The
 * repeated call computes no angle. */
Test(row_cache, a_32768_token_prefill_keeps_its_rows)
{
    const unsigned all = RC_ROWS_INTERLEAVED | RC_ROWS_F32;
    const shape shapes[] = {
        {"Llama-3 f32", 128, 128, RC_LAYOUT_HALF, RC_DTYPE_F32, all},
        {"Llama-3 f64", 128, 128, RC_LAYOUT_HALF, RC_DTYPE_F64, all},
        {"Llama-3 f16", 128, 128, RC_LAYOUT_HALF, RC_DTYPE_F16, all},
        {"Llama-3 bf16", 128, 128, RC_LAYOUT_HALF, RC_DTYPE_BF16, all},
        {"GPT-J f64 interleaved", 256, 64, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F64, all},
        {"GPT-J bf16 interleaved", 256, 64, RC_LAYOUT_INTERLEAVED, RC_DTYPE_BF16, all},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int m = 0; m < 2; m++) {
            const rc_angle_mode mode = m ? RC_ANGLES_TABLE : RC_ANGLES_FUSED;
            call_result r = second_of_two_calls(&shapes[k], mode, 32768);
            cr_expect_eq(r.rows_made, 0, "%s (%s): the repeated 32768-token call made %ld rows",
                         shapes[k].what, mode_name(mode), r.rows_made);
        }
}

/* The table holds what the kernels read and no more: the largest call that
 * keeps its rows is RC_ROW_CACHE_BYTES over the documented bytes per
 * token, and one token more keeps nothing (the repeated call makes every
 * row again). A token's rows padded, or a cap not enforced, fails here.
 * The shapes take the most rows per token (head_dim RC_MAX_HEAD_DIM), so
 * the calls stay in the thousands of tokens. */
Test(row_cache, the_table_holds_the_documented_rows_up_to_its_cap)
{
    const int32_t d = RC_MAX_HEAD_DIM;
    const unsigned all = RC_ROWS_INTERLEAVED | RC_ROWS_F32;
    const shape shapes[] = {
        {"f32 half", d, d, RC_LAYOUT_HALF, RC_DTYPE_F32, all},
        {"f32 interleaved, il rows", d, d, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F32, all},
        {"f64 half", d, d, RC_LAYOUT_HALF, RC_DTYPE_F64, all},
        {"f64 interleaved, il rows", d, d, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F64, all},
        {"f64 interleaved, no il rows", d, d, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F64, 0},
        {"f16 half, f32 rows", d, d, RC_LAYOUT_HALF, RC_DTYPE_F16, all},
        {"bf16 half, no f32 rows", d, d, RC_LAYOUT_HALF, RC_DTYPE_BF16, 0},
        {"bf16 interleaved, il and f32 rows", d, d, RC_LAYOUT_INTERLEAVED, RC_DTYPE_BF16, all},
        {"f16 interleaved, f32 rows only", d, d, RC_LAYOUT_INTERLEAVED, RC_DTYPE_F16,
         RC_ROWS_F32},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const shape *s = &shapes[k];
        const int64_t cap = (int64_t)(RC_ROW_CACHE_BYTES / documented_row_bytes(s));
        for (int m = 0; m < 2; m++) {
            const rc_angle_mode mode = m ? RC_ANGLES_TABLE : RC_ANGLES_FUSED;
            call_result at_cap = second_of_two_calls(s, mode, cap);
            cr_expect_eq(at_cap.rows_made, 0,
                         "%s (%s): %lld tokens of %zu bytes fit in %zu, yet the repeated call "
                         "made %ld rows",
                         s->what, mode_name(mode), (long long)cap, documented_row_bytes(s),
                         (size_t)RC_ROW_CACHE_BYTES, at_cap.rows_made);
            call_result beyond = second_of_two_calls(s, mode, cap + 1);
            cr_expect_eq(beyond.rows_made, cap + 1,
                         "%s (%s): %lld tokens exceed the cap, yet the repeated call made %ld "
                         "rows of them",
                         s->what, mode_name(mode), (long long)(cap + 1), beyond.rows_made);
        }
    }
}
