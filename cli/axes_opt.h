/*
 * cli/axes_opt.h - the --axes option: which position axis each pair of a
 * multi-axis RoPE rotates by (core/axes.h; DESIGN.md, "Multi-axis RoPE").
 *
 *   mrope:S0,S1,S2               contiguous sections of pairs (Qwen2-VL,
 *                                Qwen2.5-VL rope_scaling.mrope_section)
 *   mrope-interleaved:S0,S1,S2   Qwen3-VL's interleaved assignment
 *   vision2d                     Qwen2-VL's vision tower: first r/4 pairs by
 *                                the patch row, the rest by the column, the
 *                                frequencies restarting per axis
 *
 * The same words name a map read from a config (cli/model_config.h), so
 * JSON and replay lines show one spelling whatever its source.
 */
#ifndef ROPECHECK_CLI_AXES_OPT_H
#define ROPECHECK_CLI_AXES_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/axes.h"

/* Builds the map for rotary_dim from spec. 0, or -1 with one line in err. */
int rc_axes_opt_parse(const char *spec, int32_t rotary_dim, rc_axes *out, char *err,
                      size_t err_len);

/* The number of axes spec names (the sections' sum is checked by
 * rc_axes_opt_parse, once rotary_dim is known), or -1 with err. */
int rc_axes_opt_count(const char *spec, char *err, size_t err_len);

/* The canonical spelling of a map of kind ("mrope", "mrope-interleaved",
 * "vision2d") with its sections, e.g. "mrope:16,24,24", into buf. */
void rc_axes_opt_format(const char *kind, const int32_t *sections, int n, char *buf,
                        size_t len);

struct rc_model_config;

/* The map of a run: --axes's (opt_spec, may be NULL) or the config's (cfg,
 * may be NULL; an M-RoPE config has one), built for rotary_dim; both given,
 * they must agree. 1 with *out and its spelling in label, 0 when the run
 * has one axis, -1 with err. Shared by verify and prove. */
int rc_axes_opt_settle(const char *opt_spec, const struct rc_model_config *cfg,
                       int32_t rotary_dim, rc_axes *out, char *label, size_t label_len,
                       char *err, size_t err_len);

#endif
