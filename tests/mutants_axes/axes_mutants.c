/*
 * tests/mutants_axes/axes_mutants.c - broken multi-axis (M-RoPE) ports:
 * the built-in scalar port, correct on every multi-axis spec, with exactly
 * one of the classic M-RoPE mistakes. `ropecheck verify --plugin` on an
 * M-RoPE spec must fail every one and name the mistake
 * (tests/test_verify_axes.c). AXES_DEFECT (a compile definition) selects
 * it; each acts where a real port makes it: in the axis map it builds at
 * prepare, or in how it reads the positions at apply.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert.h"
#include "impls/common/port_state.h"
#include "impls/scalar/scalar.h"
#include "ropecheck/plugin.h"

#define AXES_IGNORED      1 /* every pair by the first axis's position (a one-axis RoPE) */
#define AXES_SWAPPED      2 /* the positions of axes 1 and 2 exchanged (height and width) */
#define AXES_CONTIGUOUS   3 /* sections laid out contiguously whatever the map (counts per
                               axis kept): the interleaved map misassigned */
#define AXES_WRONG_HALF   4 /* rotate_half's second half of the channels by axis 0: the
                               section map applied to one half only */
#define AXES_TEXT_ZERO    5 /* text tokens (every position equal) get 0 on axes >= 1 */
#define AXES_AXIS_MAJOR   6 /* positions read as positions[k * n_tokens + t] */

#ifndef AXES_DEFECT
#error "AXES_DEFECT must name one defect"
#endif

static rc_status axes_prepare(const rc_spec *spec, void **state)
{
    rc_spec s = *spec;
    uint8_t map[RC_MAX_HEAD_DIM / 2];
#if AXES_DEFECT == AXES_CONTIGUOUS
    /* The port takes "how many pairs per axis" from the map and lays the
     * sections out one after another, as Qwen2-VL's are. */
    if (spec->n_axes >= 2 && spec->pair_axis) {
        int32_t count[RC_MAX_AXES] = {0}, i = 0;
        for (int32_t p = 0; p < spec->rotary_dim / 2; p++)
            count[spec->pair_axis[p]]++;
        for (int32_t k = 0; k < spec->n_axes; k++)
            for (int32_t j = 0; j < count[k]; j++)
                map[i++] = (uint8_t)k;
        s.pair_axis = map;
    }
#endif
    (void)map;
    return rc_impl_scalar.prepare(&s, state);
}

/* The positions the defective port actually uses, into a new array. */
static int64_t *misread_positions(const rc_port_state *st, const int64_t *pos, int64_t n)
{
    const int32_t a = st->n_axes > 1 ? st->n_axes : 1;
    int64_t *p = malloc(sizeof *p * (size_t)(n * a));
    if (!p)
        return NULL;
    for (int64_t t = 0; t < n; t++) {
        const int64_t *q = pos + t * a;
        int equal = 1;
        for (int32_t k = 1; k < a; k++)
            equal &= q[k] == q[0];
        for (int32_t k = 0; k < a; k++) {
#if AXES_DEFECT == AXES_IGNORED || AXES_DEFECT == AXES_WRONG_HALF
            p[t * a + k] = q[0];
#elif AXES_DEFECT == AXES_SWAPPED
            p[t * a + k] = a >= 3 && (k == 1 || k == 2) ? q[3 - k] : q[k];
#elif AXES_DEFECT == AXES_TEXT_ZERO
            p[t * a + k] = equal && k > 0 ? 0 : q[k];
#elif AXES_DEFECT == AXES_AXIS_MAJOR
            p[t * a + k] = pos[k * n + t];
#else
            p[t * a + k] = q[k];
#endif
        }
        (void)equal;
    }
    return p;
}

static rc_status axes_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                            const int64_t *positions, rc_direction direction)
{
    const rc_port_state *st = state;
    int64_t *mis = misread_positions(st, positions, in->n_tokens);
    if (!mis)
        return RC_ERR_NOMEM;
#if AXES_DEFECT == AXES_WRONG_HALF
    /* The second half of every head's rotated channels comes from the
     * one-axis rotation (computed first: the call may be in place). */
    rc_status s = RC_ERR_NOMEM;
    const size_t es = rc_dtype_size(st->dtype);
    const int64_t elems = (in->n_tokens - 1) * in->token_stride +
                          (in->n_heads - 1) * in->head_stride + st->head_dim;
    void *tmp = malloc((size_t)elems * es);
    if (tmp) {
        rc_tensor t2 = *in;
        t2.data = tmp;
        s = rc_impl_scalar.apply(state, in, &t2, mis, direction);
        if (s == RC_OK)
            s = rc_impl_scalar.apply(state, in, out, positions, direction);
        const int half = st->rotary_dim / 2;
        for (int64_t t = 0; s == RC_OK && st->layout == RC_LAYOUT_HALF && t < in->n_tokens; t++)
            for (int64_t h = 0; h < in->n_heads; h++)
                for (int ch = half; ch < st->rotary_dim; ch++)
                    rc_elem_store(st->dtype, out->data,
                                  t * out->token_stride + h * out->head_stride + ch,
                                  rc_elem_load(st->dtype, tmp,
                                               t * in->token_stride + h * in->head_stride + ch));
        free(tmp);
    }
#else
    rc_status s = rc_impl_scalar.apply(state, in, out, mis, direction);
#endif
    free(mis);
    return s;
}

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

static const rc_impl axes_mutant = {
    .abi_version = RC_ABI_VERSION,
    .name = AXES_NAME,
    .description = "test mutant: one M-RoPE mistake (tests/mutants_axes)",
    .caps = RC_CAP_ALL_DTYPES | RC_CAP_ALL_LAYOUTS | RC_CAP_INVERSE | RC_CAP_PARTIAL_ROTARY |
            RC_CAP_INPLACE | RC_CAP_STRIDED | RC_CAP_SCALING | RC_CAP_MULTI_AXIS,
    .available = NULL,
    .prepare = axes_prepare,
    .apply = axes_apply,
    .release = rc_port_state_destroy,
};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &axes_mutant;
}
