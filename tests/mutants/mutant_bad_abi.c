/* tests/mutants/mutant_bad_abi.c - a correct implementation built for ABI
 * version 99: the loader must refuse it and say which version it found. */
#include "tests/mutants/mutant_common.h"

const mutant_hooks mutant_defect = {0};

static const rc_impl impl = {99u, "mutant_bad_abi", "test mutant: abi_version 99", MUTANT_CAPS,
                             NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
