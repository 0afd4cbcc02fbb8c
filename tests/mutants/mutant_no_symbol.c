/* tests/mutants/mutant_no_symbol.c - a valid shared library that does not
 * export ropecheck_plugin_v1 (it exports a near miss, as a port that
 * forgot the version suffix or extern "C" would): the loader must say the
 * symbol is missing. Built without the baseline: nothing here runs. */
#include "ropecheck/plugin.h"

#if defined(__GNUC__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

EXPORT const rc_impl *ropecheck_plugin(void);

const rc_impl *ropecheck_plugin(void)
{
    return NULL;
}
