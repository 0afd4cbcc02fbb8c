/* tests/mutants/mutant_exit.c - calls exit(7) inside apply(): the harness
 * must report EXITED with code 7, not a status or a crash. */
#include <stdlib.h>

#include "tests/mutants/mutant_common.h"

static void exit_seven(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                       const int64_t *positions)
{
    exit(7);
}

const mutant_hooks mutant_defect = {.after_apply = exit_seven};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_exit", "test mutant: exit(7) in apply()",
                             MUTANT_CAPS, NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
