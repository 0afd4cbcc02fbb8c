/*
 * tests/mutants_proofs/plugin_entry.c - expose one proofs mutant as a
 * plug-in, so `ropecheck prove --plugin` can be tested end to end on it.
 * RC_PROOF_MUTANT names the rc_impl (a compile definition per module).
 */
#include "tests/mutants_proofs/mutants_proofs.h"

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const rc_impl *ropecheck_plugin_v1(void);

const rc_impl *ropecheck_plugin_v1(void)
{
    return &RC_PROOF_MUTANT;
}
