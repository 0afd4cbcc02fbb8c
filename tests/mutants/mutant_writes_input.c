/* tests/mutants/mutant_writes_input.c - an out-of-place call flips the
 * lowest bit of input element (token n_tokens/2, head n_heads-1, channel 1)
 * after computing a correct answer; in place it is correct. The harness
 * must report INPUT_MODIFIED naming that element. */
#include "tests/mutants/mutant_common.h"

static void scribble_on_input(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                              const int64_t *positions)
{
    if (in->data == out->data || in->n_tokens == 0 || in->n_heads == 0)
        return;
    int64_t index = in->n_tokens / 2 * in->token_stride + (in->n_heads - 1) * in->head_stride + 1;
    /* The lowest-addressed byte is the low mantissa byte on little-endian
     * machines, the sign/exponent on big-endian: a change either way. */
    unsigned char *p = (unsigned char *)in->data + (size_t)index * rc_dtype_size(spec->dtype);
    *p ^= 1u;
}

const mutant_hooks mutant_defect = {.after_apply = scribble_on_input};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_writes_input",
                             "test mutant: out-of-place apply() changes its input", MUTANT_CAPS,
                             NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
