/*
 * tests/test_seed.c - see test_seed.h.
 */
#include "test_seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0 with *out, or -1: digits only (no blank, sign or suffix), no overflow. */
static int parse_seed(const char *s, uint64_t *out)
{
    unsigned radix = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        radix = 16;
        s += 2;
    }
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (radix == 16 && strchr("abcdef", *s | 0x20) && (*s | 0x20) >= 'a')
            d = (unsigned)((*s | 0x20) - 'a' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / radix)
            return -1;
        v = v * radix + d;
    }
    *out = v;
    return 0;
}

uint64_t rc_test_seed(const char *who, uint64_t default_seed)
{
    const char *env = getenv("ROPECHECK_SEED");
    uint64_t seed = default_seed;
    if (env && parse_seed(env, &seed) != 0) {
        fprintf(stderr, "%s: ROPECHECK_SEED='%s' is not a non-negative integer (decimal or 0x "
                        "hex)\n",
                who, env);
        exit(2);
    }
    /* Once per process (Criterion runs each test in its own): a test that
     * asks for its seed in several places shows it once. */
    static int shown;
    if (!shown++)
        fprintf(stderr, "%s: seed %llu (set ROPECHECK_SEED to change)\n", who,
                (unsigned long long)seed);
    return seed;
}
