/* tests/mutants/mutant_loader.c - plug-ins that attack the host while they
 * are loaded (MUTANT_LOADER selects how), before any call of the ABI:
 *   1 a constructor that calls exit(0)
 *   2 a constructor that dereferences NULL
 *   3 a constructor that never returns
 *   4 an entry function that crashes
 *   5 an entry function that returns a pointer into nowhere
 *   6 a descriptor whose description points into nowhere
 *   7 a destructor that crashes (the run itself is correct)
 *   8 a description with a terminal escape and a newline
 *   9 caps with a bit no ABI version defines
 * The host must survive 1-6 (each is that plug-in's BROKEN, loaded in a
 * guarded child first) and end 7's complete run with its own status. */
#define _POSIX_C_SOURCE 200809L /* pause */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/mutants/mutant_common.h"

#ifndef MUTANT_LOADER
#error "MUTANT_LOADER must select the attack"
#endif

const mutant_hooks mutant_defect = {0};

#if MUTANT_LOADER == 6
#define DESCRIPTION ((const char *)(uintptr_t)0x10)
#elif MUTANT_LOADER == 8
#define DESCRIPTION "\033[2Jfine\nscalar: available"
#else
#define DESCRIPTION "test mutant: attacks the host while loading"
#endif

#if MUTANT_LOADER == 9
#define CAPS (MUTANT_CAPS | (1ull << 40))
#else
#define CAPS MUTANT_CAPS
#endif

static const rc_impl impl = {RC_ABI_VERSION, MUTANT_NAME, DESCRIPTION, CAPS, NULL,
                             mutant_prepare, mutant_apply, mutant_release, NULL};

#if MUTANT_LOADER <= 3
__attribute__((constructor)) static void on_load(void)
{
#if MUTANT_LOADER == 1
    exit(0);
#elif MUTANT_LOADER == 2
    volatile int *volatile p = NULL; /* both volatile: neither is optimized out */
    *p = 1;
#else
    for (;;)
        pause();
#endif
}
#endif

#if MUTANT_LOADER == 7
__attribute__((destructor)) static void on_unload(void)
{
    volatile int *volatile p = NULL; /* both volatile: neither is optimized out */
    *p = 1;
}
#endif

const rc_impl *ropecheck_plugin_v1(void)
{
#if MUTANT_LOADER == 4
    volatile int *volatile p = NULL; /* both volatile: neither is optimized out */
    *p = 1;
#elif MUTANT_LOADER == 5
    return (const rc_impl *)(uintptr_t)0x20;
#endif
    return &impl;
}
