/*
 * cli/data_dir.c - the data folders of an installed or a built ropecheck
 * (data_dir.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli/data_dir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The install tree's data folder relative to its bin folder
 * (GNUInstallDirs: bin -> ../share/ropecheck), set by CMake. */
#ifndef ROPECHECK_DATA_REL
#define ROPECHECK_DATA_REL "../share/ropecheck"
#endif

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *rc_data_dir(const char *env, const char *sub, const char *source_dir, char *buf,
                        size_t len)
{
    const char *set = env ? getenv(env) : NULL;
    if (set && *set)
        return (size_t)snprintf(buf, len, "%s", set) < len ? buf : NULL;
    /* The running binary's own path: an installed tree moved elsewhere
     * (a DESTDIR staging, an unpacked package) still finds its data. */
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char joined[4200], resolved[PATH_MAX];
            if ((size_t)snprintf(joined, sizeof joined, "%s/%s/%s", exe, ROPECHECK_DATA_REL,
                                 sub) < sizeof joined &&
                is_dir(joined) && realpath(joined, resolved))
                return (size_t)snprintf(buf, len, "%s", resolved) < len ? buf : NULL;
        }
    }
    return (size_t)snprintf(buf, len, "%s", source_dir) < len ? buf : NULL;
}
