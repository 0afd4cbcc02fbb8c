/* tests/mutants/mutant_crash.c - computes the answer, then stores through a
 * NULL pointer in apply(): the harness must report CRASHED with SIGSEGV. */
#include <stddef.h>

#include "tests/mutants/mutant_common.h"

/* In sanitizer builds UBSan would catch this NULL store first and exit
 * with code 1; the mutant is meant to die of SIGSEGV in every build. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("undefined")))
#endif
static void store_through_null(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                               const int64_t *positions)
{
    /* Both volatiles matter: the pointer's, so the compiler cannot see the
     * NULL and emit a trap (SIGILL) instead; the pointee's, so the store is
     * not dropped (points-to analysis knows the pointer can only be NULL,
     * i.e. points to no object, and would delete a plain store). */
    volatile int *volatile p = NULL;
    *p = 1;
}

const mutant_hooks mutant_defect = {.after_apply = store_through_null};

static const rc_impl impl = {RC_ABI_VERSION, "mutant_crash", "test mutant: SIGSEGV in apply()",
                             MUTANT_CAPS, NULL, mutant_prepare, mutant_apply, mutant_release, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
