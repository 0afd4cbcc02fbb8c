/*
 * tests/fuzz/fuzz_gate.c - the --gate parser (cli/gate_parse.c), both
 * forms, on every input: the input as the option's string (unless it
 * happens to name a regular file) and the input as a gate JSON file (a
 * private temporary file, whose path is then the option's value).
 *
 * Property on success: every threshold is a number >= 0 (or inf) and
 * positions_below is >= 1.
 */
#include "fuzz_common.h"

#include <sys/stat.h>

#include "cli/gate_parse.h"

static void check_gate(const rc_gate *g)
{
    for (int i = 0; i < RC_DTYPE_COUNT; i++)
        FUZZ_CHECK(g->pair[i] >= 0.0 && g->component[i] >= 0.0);
    FUZZ_CHECK(g->positions_below >= 1);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char err[512];
    rc_gate g;
    char *s = fuzz_cstr(data, size);
    struct stat st;
    if (stat(s, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc_gate_default(&g);
        if (rc_gate_parse(s, &g, err, sizeof err) == 0)
            check_gate(&g);
    }
    free(s);
    const char *path = fuzz_write_temp(data, size);
    rc_gate_default(&g);
    if (rc_gate_parse(path, &g, err, sizeof err) == 0)
        check_gate(&g);
    return 0;
}
