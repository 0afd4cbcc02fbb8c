/*
 * bench/machine.c - detect the machine a benchmark runs on.
 *
 * The build facts (compiler flags, git revision) come in as compile
 * definitions from bench/CMakeLists.txt; the git revision is the one at
 * configure time, so a build that was not reconfigured after a commit
 * reports the older revision.
 */
#include "bench/machine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef RCB_C_FLAGS
#define RCB_C_FLAGS "unknown"
#endif
#ifndef RCB_GIT_REVISION
#define RCB_GIT_REVISION "unknown"
#endif
#ifndef RCB_BUILD_TYPE
#define RCB_BUILD_TYPE "unknown"
#endif

#define STR2(x) #x
#define STR(x) STR2(x)

#if defined(__clang__)
#define RCB_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define RCB_COMPILER "gcc " STR(__GNUC__) "." STR(__GNUC_MINOR__) "." STR(__GNUC_PATCHLEVEL__)
#else
#define RCB_COMPILER "unknown"
#endif

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86 says "model name", many arm64 kernels only "CPU part". */
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

#if defined(__clang__)
/* clang's __builtin_cpu_supports does not know "f16c": ask the kernel. */
static int cpuinfo_has_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    int has = 0;
    size_t n = strlen(flag);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *p = strstr(line, flag); p; p = strstr(p + 1, flag))
            if (p > line && p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n'))
                has = 1;
        break;
    }
    if (f)
        fclose(f);
    return has;
}
#define HAS_F16C cpuinfo_has_flag("f16c")
#else
#define HAS_F16C __builtin_cpu_supports("f16c")
#endif

static void isa_flags(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    /* The extensions an implementation in impls/ may dispatch on.
     * __builtin_cpu_supports wants a string literal, hence the table. */
    __builtin_cpu_init();
    const struct { const char *name; int has; } t[] = {
        {"sse2", __builtin_cpu_supports("sse2")},         {"sse4.2", __builtin_cpu_supports("sse4.2")},
        {"avx", __builtin_cpu_supports("avx")},           {"avx2", __builtin_cpu_supports("avx2")},
        {"fma", __builtin_cpu_supports("fma")},           {"f16c", HAS_F16C},
        {"avx512f", __builtin_cpu_supports("avx512f")},   {"avx512bw", __builtin_cpu_supports("avx512bw")},
        {"avx512vl", __builtin_cpu_supports("avx512vl")}, {"avx512dq", __builtin_cpu_supports("avx512dq")},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].has && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", t[i].name);
#else
    /* Elsewhere: the kernel's own feature line, as it reads it. */
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "Features", 8) == 0 || strncmp(line, "isa", 3) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, len, "%s", colon + 1 + (colon[1] == ' '));
            }
            break;
        }
    }
    if (f)
        fclose(f);
#endif
    if (!buf[0])
        snprintf(buf, len, "unknown");
}

/* Size of the cache at `level` (the largest one at that level, data or
 * unified), from sysfs; 0 if unknown. */
static size_t cache_bytes(int level)
{
    size_t best = 0;
    for (int idx = 0; idx < 8; idx++) {
        char path[128], text[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
        FILE *f = fopen(path, "r");
        if (!f)
            break;
        int lv = 0;
        int ok = fscanf(f, "%d", &lv) == 1;
        fclose(f);
        if (!ok || lv != level)
            continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", idx);
        f = fopen(path, "r");
        if (f && fgets(text, sizeof text, f) && strncmp(text, "Instruction", 11) == 0) {
            fclose(f);
            continue;
        }
        if (f)
            fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long v = 0;
        char unit = 0;
        int got = fscanf(f, "%lu%c", &v, &unit);
        fclose(f);
        if (got < 1)
            continue;
        size_t bytes = v;
        if (got == 2 && (unit == 'K' || unit == 'k'))
            bytes = v << 10;
        else if (got == 2 && unit == 'M')
            bytes = v << 20;
        if (bytes > best)
            best = bytes;
    }
    return best;
}

void rcb_machine_detect(rcb_machine *m)
{
    memset(m, 0, sizeof *m);
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    isa_flags(m->isa, sizeof m->isa);
    m->online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    m->l2_bytes = cache_bytes(2);
    m->llc_bytes = cache_bytes(3);
    if (!m->llc_bytes)
        m->llc_bytes = m->l2_bytes;
    m->compiler = RCB_COMPILER;
    m->c_flags = RCB_C_FLAGS;
    m->git_revision = RCB_GIT_REVISION;
    m->build_type = RCB_BUILD_TYPE;
}
