/*
 * tests/mutants/mutant_oob.c - computes the answer, then stores one extra
 * element outside the output view. Built three times, MUTANT_OOB_WHERE
 * choosing where:
 *   0 (mutant_oob)       one element past the last element of the view:
 *                        the canaries above the buffer, or its guard page
 *   1 (mutant_oob_gap)   the first element of a stride gap: after token 0
 *                        head 0 if heads are padded, else after token 0's
 *                        last head if tokens are; a packed view has no gap
 *                        and gets the past-the-end store instead
 *   2 (mutant_oob_below) one element before the first: canaries below
 */
#include "core/dtype_convert.h"
#include "tests/mutants/mutant_common.h"

#ifndef MUTANT_OOB_WHERE
#error "define MUTANT_OOB_WHERE (0 end, 1 gap, 2 below)"
#endif

static void store_outside(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                          const int64_t *positions)
{
    if (out->n_tokens == 0 || out->n_heads == 0)
        return;
    int64_t d = spec->head_dim;
    int64_t past_end = (out->n_tokens - 1) * out->token_stride +
                       (out->n_heads - 1) * out->head_stride + d;
    int64_t index = past_end;
#if MUTANT_OOB_WHERE == 1
    int64_t token0_end = (out->n_heads - 1) * out->head_stride + d;
    if (out->head_stride > d)
        index = d;
    else if (out->n_tokens > 1 && out->token_stride > token0_end)
        index = token0_end;
#elif MUTANT_OOB_WHERE == 2
    index = -1;
#endif
    /* 1.0 differs from every canary byte and from the harness's gap fill. */
    rc_elem_store(spec->dtype, out->data, index, 1.0);
}

const mutant_hooks mutant_defect = {.after_apply = store_outside};

#if MUTANT_OOB_WHERE == 0
#define NAME "mutant_oob"
#elif MUTANT_OOB_WHERE == 1
#define NAME "mutant_oob_gap"
#else
#define NAME "mutant_oob_below"
#endif

static const rc_impl impl = {RC_ABI_VERSION, NAME, "test mutant: stores one element outside the view",
                             MUTANT_CAPS, NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
