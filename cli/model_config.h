/*
 * cli/model_config.h - a model's RoPE, read from its Hugging Face
 * config.json (--hf-config FILE) or from a built-in preset (--model NAME).
 *
 * What is read (field names as in config.json; the rules, and where they
 * come from in transformers, are written in model_config.c):
 *
 *   head_dim, else hidden_size / num_attention_heads (n_embd / n_head for
 *     GPT-J style configs); a given head_dim wins over the quotient, as in
 *     transformers (Gemma, Qwen3 have head_dim != hidden_size / heads)
 *   rotary_dim = int(head_dim * partial_rotary_factor) (GPT-NeoX:
 *     rotary_pct; GPT-J: rotary_dim, absolute); even and >= 2
 *   base = rope_theta (GPT-NeoX: rotary_emb_base; default 10000)
 *   layout: interleaved for model_type "gptj", rotate_half otherwise
 *   num_key_value_heads (default num_attention_heads), max_position_embeddings
 *   rope_scaling (or transformers v5 rope_parameters): rope_type or legacy
 *     type, one of default, linear, dynamic, yarn, llama3, longrope (legacy
 *     "su" = longrope, "mrope" = default), with every field of that family
 *   multi-axis M-RoPE: rope_scaling.mrope_section (Qwen2-VL, Qwen2.5-VL:
 *     contiguous sections; Qwen3-VL, or mrope_interleaved true: interleaved)
 *     into axes / axes_kind / mrope_section, beside any scaling family
 *   the language model's fields under text_config (multimodal configs:
 *     Qwen2-VL, Qwen2.5-VL, Qwen3-VL, Gemma 3), and for those model types
 *     transformers' class defaults for what the file leaves out
 *   the local RoPE of sliding-window layers (Gemma 3) into local_base:
 *     rope_local_base_freq, or transformers v5's per-layer-type
 *     rope_parameters {"full_attention": {..}, "sliding_attention": {..}}
 *
 * Anything unknown, missing, of the wrong JSON type, out of range or
 * contradictory is an error: one line naming the file (origin) and the
 * field, e.g. "cfg.json: rope_scaling.low_freq_factor: missing (required
 * by rope_type 'llama3')". The CLI exits 2 on it.
 *
 * The scaling's `context` (L, the sequence length the frequency table is
 * for) is not a property of the model: it is left 0 here and the caller
 * sets it from the positions under test.
 */
#ifndef ROPECHECK_CLI_MODEL_CONFIG_H
#define ROPECHECK_CLI_MODEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/axes.h"
#include "ropecheck/rope.h"

typedef struct rc_model_config {
    char name[96];       /* the preset name, or the origin given to the parser */
    char model_type[64]; /* config.json model_type, "" if absent */
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    rc_layout layout;
    int32_t n_heads;      /* num_attention_heads */
    int32_t n_kv_heads;   /* num_key_value_heads */
    int64_t max_position; /* max_position_embeddings; 0 if the config has none */
    rc_scaling scaling;   /* type RC_SCALING_NONE without rope_scaling; context 0.
                             short_factor / long_factor belong to the struct:
                             release them with rc_model_config_free */
    double local_base;    /* rope_local_base_freq: a second RoPE the model's
                             sliding-window layers use (Gemma 2/3); 0 if none.
                             Not what the spec above describes: verify says so */
    rc_axes axes;          /* multi-axis map (core/axes.h); axes.n_axes 0: one position per token */
    char axes_kind[24];    /* "" (one axis), "mrope" (contiguous sections) or "mrope-interleaved" */
    int32_t mrope_section[RC_MAX_AXES]; int n_mrope_section; /* as written in the config */
} rc_model_config;

/* Parses config.json text. origin names the text in messages (a file name).
 * 0 on success; -1 with one line in err (and *out zeroed, nothing to free). */
int rc_model_config_parse(const char *json_text, const char *origin, rc_model_config *out,
                          char *err, size_t err_len);

/* Reads and parses the file at path (origin = path). */
int rc_model_config_load(const char *path, rc_model_config *out, char *err, size_t err_len);

/* The built-in preset NAME (rc_model_preset_name lists them): the same bytes
 * as tests/data/configs/NAME.json, embedded at build time. Unknown names
 * are an error listing the known ones. */
int rc_model_preset(const char *name, rc_model_config *out, char *err, size_t err_len);

size_t rc_model_preset_count(void);
const char *rc_model_preset_name(size_t i);        /* NULL past the end */
const char *rc_model_preset_description(size_t i); /* one line; NULL past the end */
/* The embedded config.json text of preset i (NUL-terminated), or NULL. */
const char *rc_model_preset_json(size_t i);

/* Frees the arrays the config owns and zeroes it. NULL is fine. */
void rc_model_config_free(rc_model_config *c);

/* One line for logs and reports, e.g. "llama-3.1-8b: head_dim 128,
 * rotary_dim 128, base 500000, half, 32/8 heads, max_position 131072,
 * llama3 factor=8 ...". */
void rc_model_config_describe(const rc_model_config *c, char *buf, size_t len);

/* Internal: the table the build generates from tests/data/configs
 * (cmake/EmbedConfigs.cmake writes model_presets_data.c). */
typedef struct rc_embedded_config {
    const char *name; /* file stem, e.g. "llama-3.1-8b" */
    const char *text; /* the file's bytes, NUL-terminated */
    size_t len;       /* bytes, without the NUL */
} rc_embedded_config;
extern const rc_embedded_config rc_embedded_configs[];
extern const size_t rc_embedded_config_count;

#endif
