/* tests/mutants/mutant_hostile.c - correct rotations, then one hostile act
 * against the host (MUTANT_HOSTILE selects it). The harness must contain
 * each: the host survives, its table and JSON stay its own, and every
 * other implementation is still judged.
 *   1 fork a grandchild that hangs holding stdout/stderr
 *   2 kill(0, SIGINT): signal the whole process group
 *   3 print a forged "pass" row and escape sequences on stdout
 *   4 allocate and touch 64 GiB
 *   5 leave a thread that writes the output after apply() returned (it
 *     writes when release() is called, which waits for it: an asynchronous
 *     kernel whose completion the port forgot to wait for before returning)
 *   6 not available, with a reason full of escape sequences and a newline
 *     that forges a table row
 */
#define _POSIX_C_SOURCE 200809L /* kill, fork, pause */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/mutants/mutant_common.h"

#ifndef MUTANT_HOSTILE
#error "MUTANT_HOSTILE must select the hostile act"
#endif

#if MUTANT_HOSTILE == 5
static pthread_t writer;
static int writer_started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released_cv = PTHREAD_COND_INITIALIZER;
static int released;

static void *late_writer(void *arg)
{
    unsigned char *first = arg;
    pthread_mutex_lock(&lock);
    while (!released)
        pthread_cond_wait(&released_cv, &lock);
    pthread_mutex_unlock(&lock);
    first[0] ^= 0x5a; /* the "result" lands now, after the return */
    return NULL;
}

/* One writer per state's life (verify's history check calls a second
 * state first): started by its first call, let go by its release. */
static void start_late_writer(const rc_tensor *out)
{
    if (writer_started)
        return;
    released = 0;
    writer_started = pthread_create(&writer, NULL, late_writer, out->data) == 0;
}

static void release_after_the_writer(void *state)
{
    if (writer_started) {
        pthread_mutex_lock(&lock);
        released = 1;
        pthread_cond_signal(&released_cv);
        pthread_mutex_unlock(&lock);
        pthread_join(writer, NULL);
        writer_started = 0;
    }
    mutant_release(state);
}
#define MUTANT_RELEASE release_after_the_writer
#else
#define MUTANT_RELEASE mutant_release
#endif

#if MUTANT_HOSTILE == 6
static int not_available(char *why, size_t why_len)
{
    snprintf(why, why_len, "\033[2J\033[Hgone\nscalar       f32   half        forward  pass");
    return 0;
}
#define MUTANT_AVAILABLE not_available
#else
#define MUTANT_AVAILABLE NULL
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
#elif MUTANT_HOSTILE == 5
    start_late_writer(out);
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
                             MUTANT_CAPS, MUTANT_AVAILABLE, mutant_prepare, mutant_apply,
                             MUTANT_RELEASE, NULL};

const rc_impl *ropecheck_plugin_v1(void)
{
    return &impl;
}
