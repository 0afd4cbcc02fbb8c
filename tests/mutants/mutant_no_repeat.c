/* tests/mutants/mutant_no_repeat.c - correct, but refuses (RC_ERR_INTERNAL)
 * a call on a state at the same positions as that state's previous call:
 * `bench --new-positions` promises that no state ever sees such a call
 * (so that nothing a port keeps from its last call helps), and the bench
 * without it repeats every call's positions. tests/test_bench.c checks
 * both through it. */
#include <stdlib.h>
#include <string.h>

#include "tests/mutants/mutant_common.h"

const mutant_hooks mutant_defect = {0};

typedef struct no_repeat {
    void *inner;        /* the baseline's state */
    int64_t *last;      /* the previous call's positions */
    int64_t last_n;     /* -1: no call yet */
} no_repeat;

static rc_status nr_prepare(const rc_spec *spec, void **state)
{
    *state = NULL;
    no_repeat *s = calloc(1, sizeof *s);
    if (!s)
        return RC_ERR_NOMEM;
    s->last_n = -1;
    rc_status st = mutant_prepare(spec, &s->inner);
    if (st != RC_OK) {
        free(s);
        return st;
    }
    *state = s;
    return RC_OK;
}

static rc_status nr_apply(void *state, const rc_tensor *in, const rc_tensor *out,
                          const int64_t *positions, rc_direction direction)
{
    no_repeat *s = state;
    const int64_t n = in ? in->n_tokens : 0;
    if (positions && n > 0 && n == s->last_n &&
        memcmp(s->last, positions, (size_t)n * sizeof *positions) == 0)
        return RC_ERR_INTERNAL;
    if (positions && n > 0) {
        int64_t *copy = realloc(s->last, (size_t)n * sizeof *copy);
        if (!copy)
            return RC_ERR_NOMEM;
        memcpy(copy, positions, (size_t)n * sizeof *copy);
        s->last = copy;
        s->last_n = n;
    }
    return mutant_apply(s->inner, in, out, positions, direction);
}

static void nr_release(void *state)
{
    no_repeat *s = state;
    if (!s)
        return;
    mutant_release(s->inner);
    free(s->last);
    free(s);
}

static const rc_impl impl = {RC_ABI_VERSION, "mutant_no_repeat",
                             "test plug-in: refuses a call at its previous call's positions",
                             MUTANT_CAPS, NULL, nr_prepare, nr_apply, nr_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
