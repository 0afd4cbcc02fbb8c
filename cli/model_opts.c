/*
 * cli/model_opts.c - turn --hf-config / --model / --scaling / --context
 * into a spec and a scaling description (model_opts.h).
 */
#include "cli/model_opts.h"

#include "cli/shell_quote.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/scaling_parse.h"
#include "core/scaling.h"

/* A value given on the command line must agree with the config's. */
static int agree_i64(const char *flag, int set, int64_t *given, int64_t from_config,
                     const char *origin, char *err, size_t err_len)
{
    if (set && *given != from_config) {
        snprintf(err, err_len, "%s %" PRId64 " contradicts %s, which gives %" PRId64, flag,
                 *given, origin, from_config);
        return -1;
    }
    *given = from_config;
    return 0;
}

int rc_model_opts_resolve(rc_model_opts *mo, rc_spec_args *a, int64_t max_position, char *err,
                          size_t err_len)
{
    char why[512];
    if (mo->hf_config && mo->model) {
        snprintf(err, err_len, "--hf-config and --model both name a model; give one");
        return -1;
    }
    const char *origin = mo->hf_config ? mo->hf_config : mo->model;
    if (mo->hf_config &&
        rc_model_config_load(mo->hf_config, &mo->config, why, sizeof why) != 0) {
        snprintf(err, err_len, "--hf-config: %s", why);
        return -1;
    }
    if (mo->model && rc_model_preset(mo->model, &mo->config, why, sizeof why) != 0) {
        snprintf(err, err_len, "--model: %s", why);
        return -1;
    }
    mo->have_config = origin != NULL;
    if (mo->have_config) {
        const rc_model_config *c = &mo->config;
        if (agree_i64("--head-dim", a->head_dim_set, &a->head_dim, c->head_dim, origin, err,
                      err_len) != 0 ||
            agree_i64("--rotary-dim", a->rotary_dim_set, &a->rotary_dim, c->rotary_dim, origin,
                      err, err_len) != 0)
            return -1;
        if (a->base_set && a->base != c->base) {
            snprintf(err, err_len, "--base %.17g contradicts %s, which gives %.17g", a->base,
                     origin, c->base);
            return -1;
        }
        a->base = c->base;
        if (a->layout >= 0 && a->layout != (int)c->layout) {
            snprintf(err, err_len, "--layout %s contradicts %s, which rotates %s pairs",
                     rc_layout_name((rc_layout)a->layout), origin, rc_layout_name(c->layout));
            return -1;
        }
        a->layout = (int)c->layout;
        if (mo->scaling_text && !rc_scaling_is_none(&c->scaling)) {
            snprintf(err, err_len, "--scaling contradicts %s, which has its own rope_scaling (%s)",
                     origin, rc_scaling_type_name(c->scaling.type));
            return -1;
        }
        mo->scaling = c->scaling; /* shares the config's arrays */
        mo->have_scaling = !rc_scaling_is_none(&c->scaling);
    }
    if (!mo->have_config && !a->rotary_dim_set)
        a->rotary_dim = a->head_dim;
    if (mo->scaling_text) {
        if (rc_scaling_parse(mo->scaling_text, (int32_t)a->rotary_dim, &mo->scaling, why,
                             sizeof why) != 0) {
            snprintf(err, err_len, "--scaling: %s", why);
            return -1;
        }
        mo->scaling_parsed = 1;
        mo->have_scaling = !rc_scaling_is_none(&mo->scaling);
    }
    if (mo->context < 0) {
        snprintf(err, err_len, "--context %" PRId64 " must be at least 1", mo->context);
        return -1;
    }
    if (mo->have_scaling) {
        /* L: what the caller said, else the run's sequence length, as
         * Hugging Face takes it (max position + 1). */
        mo->scaling.context = mo->context > 0    ? mo->context
                              : max_position >= 0 ? max_position + 1
                              : mo->have_config   ? mo->config.max_position
                                                  : 0;
        if (rc_scaling_check(&mo->scaling, (int32_t)a->rotary_dim, why, sizeof why) != 0 ||
            rc_scaling_check_base(&mo->scaling, a->base, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s: %s", origin ? origin : "--scaling", why);
            return -1;
        }
    } else if (mo->context > 0) {
        snprintf(err, err_len, "--context applies to a scaling family (dynamic, longrope); "
                 "this run has none");
        return -1;
    }
    return 0;
}

const rc_scaling *rc_model_opts_scaling(const rc_model_opts *mo)
{
    return mo->have_scaling ? &mo->scaling : NULL;
}

void rc_model_opts_replay(const rc_model_opts *mo, char *buf, size_t len)
{
    /* Each value one shell word: a config path or a table spec may hold
     * blanks, quotes or $(...), and the line is meant to be pasted. */
    char word[2048];
    int n = 0;
    buf[0] = '\0';
    const char *opt = mo->hf_config ? "--hf-config" : mo->model ? "--model" : NULL;
    if (opt) {
        rc_shell_quote(mo->hf_config ? mo->hf_config : mo->model, word, sizeof word);
        n = snprintf(buf, len, " %s %s", opt, word);
    }
    if (mo->scaling_text && n >= 0 && (size_t)n < len) {
        rc_shell_quote(mo->scaling_text, word, sizeof word);
        n += snprintf(buf + n, len - (size_t)n, " --scaling %s", word);
    }
    /* Replaying one position changes the run's sequence length, so a
     * table that depends on it must be pinned. */
    if (mo->have_scaling && rc_scaling_uses_context(mo->scaling.type) && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " --context %" PRId64, mo->scaling.context);
}

void rc_model_opts_free(rc_model_opts *mo)
{
    if (mo->scaling_parsed)
        rc_scaling_free_arrays(&mo->scaling);
    if (mo->have_config)
        rc_model_config_free(&mo->config);
    mo->scaling_parsed = mo->have_config = mo->have_scaling = 0;
}
