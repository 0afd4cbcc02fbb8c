/*
 * cli/caps.c - capability names (cli/caps.h).
 */
#include "cli/caps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ropecheck/plugin.h"

static const struct {
    uint64_t bit;
    const char *name;
} cap_names[] = {
    {RC_CAP_F32, "f32"},         {RC_CAP_F64, "f64"},
    {RC_CAP_F16, "f16"},         {RC_CAP_BF16, "bf16"},
    {RC_CAP_INTERLEAVED, "interleaved"}, {RC_CAP_HALF, "half"},
    {RC_CAP_INVERSE, "inverse"}, {RC_CAP_PARTIAL_ROTARY, "partial"},
    {RC_CAP_INPLACE, "inplace"}, {RC_CAP_STRIDED, "strided"},
    {RC_CAP_SCALING, "scaling"}, {RC_CAP_MULTI_AXIS, "multi-axis"},
};
#define N_CAPS (sizeof cap_names / sizeof cap_names[0])

void rc_caps_text(uint64_t caps, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < N_CAPS; i++)
        if ((caps & cap_names[i].bit) && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", cap_names[i].name);
}

int rc_caps_parse(const char *list, uint64_t *caps, char *err, size_t err_len)
{
    *caps = 0;
    char *copy = strdup(list);
    if (!copy) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0, n = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < N_CAPS && strcmp(it, cap_names[i].name) != 0)
            i++;
        if (i == N_CAPS) {
            char all[200];
            rc_caps_text(~(uint64_t)0, all, sizeof all);
            snprintf(err, err_len, "unknown capability '%s' (one of: %s)", it, all);
            rc = -1;
        } else {
            *caps |= cap_names[i].bit;
            n++;
        }
    }
    free(copy);
    if (!rc && n == 0) {
        snprintf(err, err_len, "empty capability list");
        rc = -1;
    }
    return rc;
}
