/*
 * tests/fuzz/fuzz_scaling_spec.c - the inline --scaling spec
 * (cli/scaling_parse.c, rc_scaling_parse: FAMILY[:KEY=VALUE,...]) for
 * rotary_dim 4. The input's first line is the spec; every "@F" in it is
 * replaced by "@" and a private temporary file holding the rest of the
 * input, so the @FILE keys (table, short, long) read fuzzed numbers too.
 *
 * Properties on success: the family's rules hold (rc_scaling_check), the
 * arrays a family needs are there, and they free cleanly.
 */
#include "fuzz_common.h"

#include <math.h>

#include "cli/scaling_parse.h"
#include "core/scaling.h"

/* spec with each "@F" replaced by "@path". */
static char *substitute(const char *spec, const char *path)
{
    size_t n = 0;
    for (const char *p = spec; (p = strstr(p, "@F")); p += 2)
        n++;
    char *out = malloc(strlen(spec) + n * strlen(path) + 1);
    if (!out)
        abort();
    char *w = out;
    for (const char *p = spec; *p;) {
        if (p[0] == '@' && p[1] == 'F') {
            *w++ = '@';
            w += sprintf(w, "%s", path);
            p += 2;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char *rest;
    size_t rest_len;
    char *spec = fuzz_split_line(data, size, &rest, &rest_len);
    const char *path = fuzz_write_temp((const uint8_t *)(rest ? rest : ""), rest_len);
    char *text = substitute(spec, path);
    char err[512];
    rc_scaling sc;
    const int32_t r = 4;
    if (rc_scaling_parse(text, r, &sc, err, sizeof err) == 0) {
        char why[256];
        rc_scaling probe = sc;
        probe.context = 1;
        FUZZ_CHECK(rc_scaling_check(&probe, r, why, sizeof why) == 0);
        FUZZ_CHECK(sc.type != RC_SCALING_TABLE || sc.table != NULL);
        FUZZ_CHECK(sc.type != RC_SCALING_LONGROPE || (sc.short_factor && sc.long_factor));
        for (int i = 0; sc.table && i < r / 2; i++)
            FUZZ_CHECK(isfinite(sc.table[i]));
        rc_scaling_free_arrays(&sc);
        FUZZ_CHECK(!sc.table && !sc.short_factor && !sc.long_factor);
    }
    free(text);
    free(spec);
    free(rest);
    return 0;
}
