/*
 * cli/json_num.c - see json_num.h.
 */
#include "cli/json_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/safe_file.h"

void rc_json_add_hex(cJSON *o, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%a", v);
    cJSON_AddStringToObject(o, key, buf);
}

void rc_json_add_bits(cJSON *o, const char *key, uint64_t bits)
{
    char buf[32];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)bits);
    cJSON_AddStringToObject(o, key, buf);
}

void rc_json_add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddStringToObject(o, key, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

int rc_json_write_file(const char *path, const cJSON *root, char *err, size_t err_len)
{
    char *text = cJSON_Print(root);
    if (!text) {
        snprintf(err, err_len, "out of memory writing JSON");
        return -1;
    }
    /* The trailing newline: replace cJSON's terminator, then write whole. */
    size_t n = strlen(text);
    char *with_nl = realloc(text, n + 2);
    if (!with_nl) {
        cJSON_free(text);
        snprintf(err, err_len, "out of memory writing JSON");
        return -1;
    }
    with_nl[n] = '\n';
    with_nl[n + 1] = '\0';
    int rc = rc_atomic_write(path, with_nl, n + 1, err, err_len);
    free(with_nl);
    return rc;
}
