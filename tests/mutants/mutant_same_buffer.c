/* tests/mutants/mutant_same_buffer.c - correct, but refuses (RC_ERR_INTERNAL)
 * a call that reads the same input buffer as its state's previous call.
 * The bench's hot variant cycles a call smaller than its budget (decode at
 * batch 1) through copies, so that it and its probe work in L2 rather than
 * partly in L1 (bench/README.md, hot), and repeats one buffer only when
 * the hot tokens are a part of the call; tests/test_bench.c checks both
 * through it. */
#include <stdlib.h>

#include "tests/mutants/mutant_common.h"

const mutant_hooks mutant_defect = {0};

typedef struct same_buffer {
    void *inner;          /* the baseline's state */
    const void *last_in;  /* the previous call's input; NULL before the first */
} same_buffer;

static rc_status sb_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    same_buffer *s = calloc(1, sizeof *s);
    if (!s)
        return RC_ERR_NOMEM;
    rc_status st = mutant_prepare(spec, &s->inner);
    if (st != RC_OK) {
        free(s);
        return st;
    }
    *state = s;
    return RC_OK;
}

static rc_status sb_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                          const int64_t *positions, rc_direction direction)
{
    same_buffer *s = state;
    if (in && in->data && in->data == s->last_in)
        return RC_ERR_INTERNAL;
    if (in)
        s->last_in = in->data;
    return mutant_apply(s->inner, in, out, positions, direction);
}

static void sb_release(void *state)
{
    same_buffer *s = state;
    if (!s)
        return;
    mutant_release(s->inner);
    free(s);
}

static const rc_impl impl = {RC_ABI_VERSION, "mutant_same_buffer",
                             "test plug-in: refuses a call on its previous call's input buffer",
                             MUTANT_CAPS, NULL, sb_prepare, sb_apply, sb_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
