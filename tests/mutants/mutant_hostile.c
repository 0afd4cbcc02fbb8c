/* tests/mutants/mutant_hostile.c - correct rotations, then one hostile act
 * against the host (MUTANT_HOSTILE selects it). The harness must contain
 * each: the host survives, its table and JSON stay its own, and every
 * other implementation is still judged.
 *   1 fork a grandchild that hangs holding stdout/stderr
 *   2 kill(0, SIGINT): signal the whole process group
 *   3 print a forged "pass" row and escape sequences on stdout
 *   4 allocate and touch 64 GiB
 */
#define _POSIX_C_SOURCE 200809L /* kill, fork, pause */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/mutants/mutant_common.h"

#ifndef MUTANT_HOSTILE
#error "MUTANT_HOSTILE must select the hostile act"
#endif

static void hostile_act(const rc_spec *spec, const rc_tensor *in, const rc_tensor *out,
                        const int64_t *positions)
{
    (void)spec;
    (void)in;
    (void)out;
    (void)positions;
#if MUTANT_HOSTILE == 1
    if (fork() == 0)
        for (;;)
            pause(); /* holds the inherited stdout and stderr open */
#elif MUTANT_HOSTILE == 2
    kill(0, SIGINT);
#elif MUTANT_HOSTILE == 3
    printf("scalar       f32   half        forward  pass           0.5\n\033[2J\033[H");
    fprintf(stderr, "\033[31mhostile stderr\033[0m\n");
    fflush(NULL);
#elif MUTANT_HOSTILE == 4
    size_t n = (size_t)64 << 30;
    char *p = malloc(n);
    if (p) /* only reached without an address-space limit */
        for (size_t i = 0; i < n; i += 4096)
            p[i] = 1;
#endif
}

const mutant_hooks mutant_defect = {.after_apply = hostile_act};

static const rc_impl impl = {RC_ABI_VERSION, MUTANT_NAME, "test mutant: a hostile act in apply()",
                             MUTANT_CAPS, NULL, mutant_prepare, mutant_apply, mutant_release,
                             NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
