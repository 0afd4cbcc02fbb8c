/*
 * cli/gate_parse.c - parse --gate from a JSON file (cJSON) or a string.
 */
#include "cli/gate_parse.h"

#include "cli/safe_file.h"
#include "cli/strict_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

/* A threshold: a finite decimal >= 0 written strictly (cli/strict_num.h:
 * no blanks, signs, hex or junk), or "inf" for no limit. */
static int parse_threshold(const char *s, double *out, char *err, size_t err_len)
{
    double v;
    if (strcmp(s, "inf") == 0)
        v = INFINITY;
    else if (rc_parse_finite(s, &v) != 0 || !(v >= 0.0)) {
        snprintf(err, err_len, "gate threshold '%s' must be a decimal number >= 0, or inf", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_positions_below(const char *s, rc_gate *g, char *err, size_t err_len)
{
    int64_t v;
    if (rc_parse_int64(s, &v) != 0 || v < 1) {
        snprintf(err, err_len, "positions-below '%s' must be a positive decimal integer", s);
        return -1;
    }
    g->positions_below = v;
    return 0;
}

/* Set metric for one dtype, or all when all_dtypes. */
static int set_metric(rc_gate *g, int all_dtypes, rc_dtype t, const char *metric, double v,
                      char *err, size_t err_len)
{
    double *table;
    if (strcmp(metric, "pair") == 0)
        table = g->pair;
    else if (strcmp(metric, "component") == 0)
        table = g->component;
    else {
        snprintf(err, err_len, "gate metric '%s' is not pair or component", metric);
        return -1;
    }
    for (int i = 0; i < RC_DTYPE_COUNT; i++)
        if (all_dtypes || i == (int)t)
            table[i] = v;
    return 0;
}

static int parse_item(char *item, rc_gate *g, char *err, size_t err_len)
{
    char *eq = strchr(item, '=');
    if (!eq) {
        snprintf(err, err_len, "gate item '%s' is not [DTYPE:]METRIC=VALUE", item);
        return -1;
    }
    *eq = '\0';
    const char *value = eq + 1;
    if (strcmp(item, "positions-below") == 0)
        return parse_positions_below(value, g, err, err_len);
    char *colon = strchr(item, ':');
    rc_dtype t = RC_DTYPE_F32;
    const char *metric = item;
    if (colon) {
        *colon = '\0';
        if (rc_dtype_parse(item, &t) != 0) {
            snprintf(err, err_len, "gate dtype '%s' is not f32, f64, f16 or bf16", item);
            return -1;
        }
        metric = colon + 1;
    }
    double v;
    if (parse_threshold(value, &v, err, err_len) != 0)
        return -1;
    return set_metric(g, colon == NULL, t, metric, v, err, err_len);
}

static int parse_json(const char *path, rc_gate *g, char *err, size_t err_len)
{
    /* Bounded and regular: a FIFO must not block, /dev/zero not fill. */
    char rerr[400];
    char *buf = rc_read_regular_file(path, (size_t)1 << 16, NULL, rerr, sizeof rerr);
    if (!buf) {
        snprintf(err, err_len, "gate file: %s", rerr);
        return -1;
    }
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    if (!cJSON_IsObject(root)) {
        snprintf(err, err_len, "gate file '%s' is not a JSON object", path);
        cJSON_Delete(root);
        return -1;
    }
    /* A key given twice means one thing to cJSON (the first) and another
     * to Python's json (the last): refused. Every valid key is one of a
     * handful, so flags suffice. */
    int seen_below = 0, seen_dtype[RC_DTYPE_COUNT] = {0};
    int rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        rc_dtype t;
        const int is_below = strcmp(item->string, "positions_below") == 0;
        const int is_dtype = !is_below && rc_dtype_parse(item->string, &t) == 0;
        if ((is_below && seen_below++) || (is_dtype && seen_dtype[t]++)) {
            snprintf(err, err_len, "gate file: '%s' appears twice", item->string);
            rc = -1;
        } else if (is_below) {
            /* An integer, as on the command line, and one int64 holds: the
             * conversion of a larger double is undefined (found by
             * tests/fuzz, harness gate). */
            if (!cJSON_IsNumber(item) || !(item->valuedouble >= 1) ||
                !(item->valuedouble < 9223372036854775808.0) ||
                item->valuedouble != floor(item->valuedouble)) {
                snprintf(err, err_len,
                         "gate file: positions_below must be a positive integer below 2^63");
                rc = -1;
            } else {
                g->positions_below = (int64_t)item->valuedouble;
            }
        } else if (is_dtype && cJSON_IsObject(item)) {
            int seen_metric[2] = {0, 0};
            const cJSON *m;
            cJSON_ArrayForEach(m, item)
            {
                const int k = strcmp(m->string, "pair") == 0        ? 0
                              : strcmp(m->string, "component") == 0 ? 1
                                                                    : -1;
                if (k >= 0 && seen_metric[k]++) {
                    snprintf(err, err_len, "gate file: %s.%s appears twice", item->string,
                             m->string);
                    rc = -1;
                } else if (!cJSON_IsNumber(m) || !(m->valuedouble >= 0)) {
                    snprintf(err, err_len, "gate file: %s.%s must be a number >= 0",
                             item->string, m->string);
                    rc = -1;
                } else if (set_metric(g, 0, t, m->string, m->valuedouble, err, err_len)) {
                    rc = -1;
                }
                if (rc)
                    break;
            }
        } else {
            snprintf(err, err_len, "gate file: unknown key '%s' (dtype objects and "
                     "positions_below)", item->string);
            rc = -1;
        }
        if (rc)
            break;
    }
    cJSON_Delete(root);
    return rc;
}

int rc_gate_parse(const char *arg, rc_gate *gate, char *err, size_t err_len)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode))
        return parse_json(arg, gate, err, err_len);
    if (!*arg || rc_list_has_empty_item(arg)) {
        snprintf(err, err_len, *arg ? "--gate '%s' has an empty item" : "--gate is empty%s",
                 arg);
        return -1;
    }
    char *copy = strdup(arg);
    if (!copy) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && rc == 0; it = strtok_r(NULL, ",", &save)) {
        rc = parse_item(it, gate, err, err_len);
    }
    free(copy);
    return rc;
}
