/*
 * bench/machine.h - what a benchmark ran on: CPU model, ISA extensions
 * detected at run time, cache sizes, and how ropecheck was built.
 */
#ifndef ROPECHECK_BENCH_MACHINE_H
#define ROPECHECK_BENCH_MACHINE_H

#include <stddef.h>

typedef struct rcb_machine {
    char cpu_model[128];     /* /proc/cpuinfo "model name", or "unknown" */
    char isa[256];           /* space-separated extensions this CPU has */
    long online_cpus;
    size_t l2_bytes;         /* per core; 0 if unknown */
    size_t llc_bytes;        /* last-level cache; 0 if unknown */
    const char *compiler;    /* e.g. "gcc 12.2.0" */
    const char *c_flags;     /* the C flags ropecheck was built with */
    const char *git_revision;/* `git rev-parse --short HEAD` at configure, or "unknown" */
    const char *build_type;
} rcb_machine;

void rcb_machine_detect(rcb_machine *m);

#endif
