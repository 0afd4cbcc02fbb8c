/*
 * cli/axes_opt.c - parse and spell --axes (axes_opt.h).
 */
#include "cli/axes_opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/model_config.h"
#include "cli/strict_num.h"

/* "16,24,24" into s (at most RC_MAX_AXES). 0, or -1 with err. */
static int parse_sections(const char *list, const char *kind, int32_t *s, int *n, char *err,
                          size_t err_len)
{
    char buf[128];
    *n = 0;
    if (!*list || strlen(list) >= sizeof buf || rc_list_has_empty_item(list)) {
        snprintf(err, err_len, "--axes %s:%s: give the sections as numbers of pairs, e.g. "
                 "%s:16,24,24", kind, list, kind);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (*n == RC_MAX_AXES) {
            snprintf(err, err_len, "--axes %s:%s: at most %d sections", kind, list, RC_MAX_AXES);
            return -1;
        }
        if (rc_parse_int64(f, &v) != 0 || v < 0 || v > RC_MAX_HEAD_DIM / 2) {
            snprintf(err, err_len, "--axes %s:%s: section '%s' is not a number of pairs "
                     "(0 .. %d)", kind, list, f, RC_MAX_HEAD_DIM / 2);
            return -1;
        }
        s[(*n)++] = (int32_t)v;
    }
    return 0;
}

int rc_axes_opt_parse(const char *spec, int32_t rotary_dim, rc_axes *out, char *err,
                      size_t err_len)
{
    char why[256];
    int32_t s[RC_MAX_AXES];
    int n = 0, rc;
    if (strcmp(spec, "vision2d") == 0) {
        rc = rc_axes_vision2d(rotary_dim, out, why, sizeof why);
    } else if (strncmp(spec, "mrope:", 6) == 0) {
        if (parse_sections(spec + 6, "mrope", s, &n, err, err_len) != 0)
            return -1;
        rc = rc_axes_sections(s, n, rotary_dim, out, why, sizeof why);
    } else if (strncmp(spec, "mrope-interleaved:", 18) == 0) {
        if (parse_sections(spec + 18, "mrope-interleaved", s, &n, err, err_len) != 0)
            return -1;
        rc = rc_axes_interleaved(s, n, rotary_dim, out, why, sizeof why);
    } else {
        snprintf(err, err_len, "--axes '%s': one of mrope:S0,S1,S2 (contiguous sections, "
                 "Qwen2-VL), mrope-interleaved:S0,S1,S2 (Qwen3-VL), vision2d", spec);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, err_len, "--axes %s with rotary_dim %d: %s", spec, (int)rotary_dim, why);
        return -1;
    }
    return 0;
}

int rc_axes_opt_count(const char *spec, char *err, size_t err_len)
{
    int32_t s[RC_MAX_AXES];
    int n = 0;
    if (strcmp(spec, "vision2d") == 0)
        return 2;
    if (strncmp(spec, "mrope-interleaved:", 18) == 0)
        return parse_sections(spec + 18, "mrope-interleaved", s, &n, err, err_len) ? -1 : 3;
    if (strncmp(spec, "mrope:", 6) == 0)
        return parse_sections(spec + 6, "mrope", s, &n, err, err_len) ? -1 : n;
    return rc_axes_opt_parse(spec, 2, NULL, err, err_len); /* the unknown kind's message */
}

void rc_axes_opt_format(const char *kind, const int32_t *sections, int n, char *buf,
                        size_t len)
{
    int used = snprintf(buf, len, "%s", kind);
    for (int k = 0; k < n && used >= 0 && (size_t)used < len; k++)
        used += snprintf(buf + used, len - (size_t)used, "%c%d", k ? ',' : ':', (int)sections[k]);
}

int rc_axes_opt_settle(const char *opt_spec, const rc_model_config *cfg, int32_t rotary_dim,
                       rc_axes *out, char *label, size_t label_len, char *err, size_t err_len)
{
    const int cfg_axes = cfg && cfg->axes.n_axes >= 2;
    if (!opt_spec && !cfg_axes)
        return 0;
    if (!opt_spec) {
        *out = cfg->axes;
        rc_axes_opt_format(cfg->axes_kind, cfg->mrope_section, cfg->n_mrope_section, label,
                           label_len);
        return 1;
    }
    if (rc_axes_opt_parse(opt_spec, rotary_dim, out, err, err_len) != 0)
        return -1;
    snprintf(label, label_len, "%s", opt_spec);
    if (cfg_axes && (cfg->axes.n_axes != out->n_axes || cfg->axes.freq_period != out->freq_period ||
                     memcmp(cfg->axes.pair_axis, out->pair_axis, (size_t)out->n_pairs) != 0)) {
        snprintf(err, err_len, "--axes %s disagrees with the config's multi-axis map (drop "
                 "--axes, or the config)", opt_spec);
        return -1;
    }
    return 1;
}
