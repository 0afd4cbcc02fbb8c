/* tests/mutants/mutant_null_impl.c - the entry point returns NULL: the
 * loader must refuse it rather than dereference it. Built without the
 * baseline: nothing else here runs. */
#include <stddef.h>

#include "tests/mutants/mutant_common.h"

const rc_impl *ropecheck_plugin_v1(void)
{
    return NULL;
}
