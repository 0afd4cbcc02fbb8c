/*
 * tests/mutants_scaling/plugin_entry.c - expose one scaling mutant as a
 * plug-in. RC_SCALING_MUTANT names the rc_impl (a compile definition per
 * module).
 */
#include "tests/mutants_scaling/mutants_scaling.h"

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

const rc_impl *ropecheck_plugin_v1(void)
{
    return &RC_SCALING_MUTANT;
}
