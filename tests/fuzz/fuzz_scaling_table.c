/*
 * tests/fuzz/fuzz_scaling_table.c - the numbers files of --scaling
 * (cli/scaling_parse.c: rc_scaling_read_numbers, behind table:@FILE,
 * short=@FILE and long=@FILE). The input is the file's text, written to a
 * private temporary file; it is read for 1, 2, 3 and 64 pairs, and once
 * through rc_scaling_parse("table:@FILE") for 2 pairs.
 *
 * Properties on success: exactly the expected count, all finite; and a
 * file holding a NUL byte is never accepted (it is not a text of numbers:
 * what follows the NUL on its line would be ignored unseen).
 */
#include "fuzz_common.h"

#include <math.h>

#include "cli/scaling_parse.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp(data, size);
    const int has_nul = memchr(data, '\0', size) != NULL;
    char err[512];
    static const int32_t counts[] = {1, 2, 3, 64};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        double *v = NULL;
        if (rc_scaling_read_numbers(path, "table", counts[k], &v, err, sizeof err) == 0) {
            FUZZ_CHECK(v != NULL && !has_nul);
            for (int32_t i = 0; i < counts[k]; i++)
                FUZZ_CHECK(isfinite(v[i]));
            free(v);
        } else {
            FUZZ_CHECK(v == NULL);
        }
    }
    char spec[4200];
    snprintf(spec, sizeof spec, "table:@%s", path);
    rc_scaling sc;
    if (rc_scaling_parse(spec, 4, &sc, err, sizeof err) == 0) {
        FUZZ_CHECK(sc.table && sc.table[0] > 0.0 && sc.table[1] > 0.0 && !has_nul);
        rc_scaling_free_arrays(&sc);
    }
    return 0;
}
