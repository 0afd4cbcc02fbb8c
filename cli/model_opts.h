/*
 * cli/model_opts.h - the options that say which RoPE a model uses, shared
 * by verify and prove: --hf-config FILE, --model NAME, --scaling SPEC and
 * --context L. They resolve into the spec's head_dim, rotary_dim, base,
 * layout and an rc_scaling; explicit --head-dim/--rotary-dim/--base/
 * --layout must agree with a config (a contradiction is an error, exit 2,
 * not a silent override).
 */
#ifndef ROPECHECK_CLI_MODEL_OPTS_H
#define ROPECHECK_CLI_MODEL_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "cli/model_config.h"
#include "ropecheck/rope.h"

typedef struct rc_model_opts {
    /* As typed (NULL: not given). */
    const char *hf_config;
    const char *model;
    const char *scaling_text;
    int64_t context;       /* --context, 0: max position + 1 */
    /* Resolved. */
    int have_config;       /* from --hf-config or --model */
    rc_model_config config;
    int have_scaling;      /* scaling below is set (a config's or --scaling) */
    int scaling_parsed;    /* scaling's arrays come from --scaling (freed here) */
    rc_scaling scaling;    /* a copy of the config's (its arrays) or --scaling's */
} rc_model_opts;

/* The spec fields the command line set explicitly (1) or left at their
 * defaults (0), and their values. */
typedef struct rc_spec_args {
    int64_t head_dim, rotary_dim;
    double base;
    int layout; /* an rc_layout, or -1: not given */
    int head_dim_set, rotary_dim_set, base_set;
} rc_spec_args;

/* Resolve the model options into *a (config values fill what was not
 * given; given values must agree) and mo->scaling. `max_position` is the
 * largest position of the run: the default context L = max_position + 1
 * (what Hugging Face's dynamic NTK uses: the sequence length); a caller
 * without one (prove probes fixed positions) passes -1 and L is then the
 * config's max_position_embeddings, or must be given with --context.
 * Returns 0, or -1 with one line in err. */
int rc_model_opts_resolve(rc_model_opts *mo, rc_spec_args *a, int64_t max_position, char *err,
                          size_t err_len);

/* The scaling to hand the harness: NULL when none. */
const rc_scaling *rc_model_opts_scaling(const rc_model_opts *mo);

/* The options again, for replay lines: " --hf-config F --context L" etc. */
void rc_model_opts_replay(const rc_model_opts *mo, char *buf, size_t len);

void rc_model_opts_free(rc_model_opts *mo);

#endif /* ROPECHECK_CLI_MODEL_OPTS_H */
