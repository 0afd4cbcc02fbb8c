/*
 * cli/seed_env.c - $ROPECHECK_SEED (cli/seed_env.h).
 */
#include "cli/seed_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int rc_seed_from_env(uint64_t *seed, char *err, size_t err_len)
{
    const char *env = getenv("ROPECHECK_SEED");
    if (!env)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = *env ? strtoull(env, &end, 0) : 0;
    if (!*env || *end || errno || env[0] == '-' || env[0] == ' ' || env[0] == '+') {
        snprintf(err, err_len, "ROPECHECK_SEED='%s' is not a non-negative integer (unset it "
                 "for the default seed 1)", env);
        return -1;
    }
    *seed = (uint64_t)v;
    return 0;
}
