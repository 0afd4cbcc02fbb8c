/* tests/mutants/mutant_hang.c - never returns from apply(): the harness
 * must kill it at the time limit and report TIMEOUT. */
#include <unistd.h>

#include "tests/mutants/mutant_common.h"

static void wait_forever(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                         const int64_t *positions)
{
    for (;;)
        pause(); /* returns after a caught signal; keep hanging */
}

const mutant_hooks mutant_defect = {.after_apply = wait_forever};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_hang", "test mutant: apply() never returns",
                             MUTANT_CAPS, NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
