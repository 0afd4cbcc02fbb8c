/*
 * tests/test_model_config.c - --hf-config / --model (cli/model_config.c)
 * and --scaling (cli/scaling_parse.c), parsed directly.
 *
 * The expected numbers are those of the models' config.json files on the
 * Hugging Face Hub (tests/data/configs holds their RoPE fields) and the
 * rules of transformers' modeling_rope_utils.py. Comparisons are exact:
 * every expected value is a decimal the JSON reader (strtod) and the
 * compiler round to the same double, or an integer, or a quotient of
 * powers of two (131072 / 4096), so no tolerance is involved.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/model_config.h"
#include "cli/scaling_parse.h"

#ifndef RC_CONFIGS_DIR
#error "RC_CONFIGS_DIR must name tests/data/configs"
#endif

static void load(const char *name, rc_model_config *m)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s.json", RC_CONFIGS_DIR, name);
    cr_assert_eq(rc_model_config_load(path, m, err, sizeof err), 0, "%s: %s", name, err);
}

/* Parses inline JSON that must fail; returns the message (static). */
static const char *parse_error(const char *json)
{
    static char err[512];
    rc_model_config m;
    err[0] = '\0';
    int rc = rc_model_config_parse(json, "t.json", &m, err, sizeof err);
    cr_assert_eq(rc, -1, "expected an error for %s", json);
    cr_assert(strncmp(err, "t.json: ", 8) == 0, "message does not name the file: %s", err);
    return err;
}

static void expect_error(const char *json, const char *want)
{
    const char *err = parse_error(json);
    cr_expect(strstr(err, want) != NULL, "want \"%s\" in \"%s\"", want, err);
}

static void parse_ok(const char *json, rc_model_config *m)
{
    char err[512];
    cr_assert_eq(rc_model_config_parse(json, "t.json", m, err, sizeof err), 0, "%s", err);
}

static void expect_shape(const rc_model_config *m, int head_dim, int rotary_dim, double base,
                         rc_layout layout, int heads, int kv, long long max_position)
{
    cr_expect_eq(m->head_dim, head_dim, "%s head_dim %d", m->name, (int)m->head_dim);
    cr_expect_eq(m->rotary_dim, rotary_dim, "%s rotary_dim %d", m->name, (int)m->rotary_dim);
    cr_expect(m->base == base, "%s base %.17g", m->name, m->base);
    cr_expect_eq(m->layout, layout, "%s layout", m->name);
    cr_expect_eq(m->n_heads, heads, "%s heads", m->name);
    cr_expect_eq(m->n_kv_heads, kv, "%s kv heads", m->name);
    cr_expect_eq(m->max_position, max_position, "%s max_position %lld", m->name,
                 (long long)m->max_position);
    cr_expect_eq(m->scaling.context, 0, "context is the caller's to set");
}

/* Gemma 2/3's second, local RoPE is read (verify names it). */
Test(model_config, local_base)
{
    rc_model_config m;
    parse_ok("{\"head_dim\": 256, \"hidden_size\": 2560, \"num_attention_heads\": 8, "
             "\"rope_theta\": 1e6, \"rope_local_base_freq\": 10000}", &m);
    cr_expect(m.local_base == 10000.0 && m.base == 1e6, "local %g base %g", m.local_base, m.base);
    cr_expect_eq(m.axes.n_axes, 0, "one position per token");
    cr_expect_str_eq(m.axes_kind, "");
    rc_model_config_free(&m);
    parse_ok("{\"head_dim\": 128, \"hidden_size\": 1024, \"num_attention_heads\": 8}", &m);
    cr_expect(m.local_base == 0.0);
    rc_model_config_free(&m);
    expect_error("{\"head_dim\": 128, \"hidden_size\": 1024, \"num_attention_heads\": 8, "
                 "\"rope_local_base_freq\": -1}",
                 "rope_local_base_freq: -1 must be > 0");
}

/* --- multi-axis M-RoPE ----------------------------------------------------- */

static void expect_sections(const rc_model_config *m, const char *kind, int n, int32_t s0,
                            int32_t s1, int32_t s2)
{
    cr_expect_str_eq(m->axes_kind, kind);
    cr_expect_eq(m->n_mrope_section, n, "%d sections", m->n_mrope_section);
    const int32_t want[3] = {s0, s1, s2};
    for (int k = 0; k < n && k < 3; k++)
        cr_expect_eq(m->mrope_section[k], want[k], "section %d: %d", k, (int)m->mrope_section[k]);
}

/* Qwen2-VL's config.json: three contiguous sections of pairs (16, 24, 24
 * of head_dim 128's 64), default frequencies ("type": "mrope" is no
 * scaling). The map is core/axes.c's, checked there against transformers. */
Test(model_config, qwen2_vl_contiguous_sections)
{
    rc_model_config m;
    char err[512];
    cr_assert_eq(rc_model_config_load(RC_CONFIGS_DIR "/multi/qwen2-vl-7b-mrope.json", &m, err,
                                      sizeof err),
                 0, "%s", err);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 32768);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE, "mrope: default frequencies");
    cr_assert_eq(m.axes.n_axes, 3);
    cr_assert_eq(m.axes.n_pairs, 64);
    expect_sections(&m, "mrope", 3, 16, 24, 24);
    cr_expect_eq(m.axes.pair_axis[0], 0);
    cr_expect_eq(m.axes.pair_axis[15], 0);
    cr_expect_eq(m.axes.pair_axis[16], 1);
    cr_expect_eq(m.axes.pair_axis[39], 1);
    cr_expect_eq(m.axes.pair_axis[40], 2);
    cr_expect_eq(m.axes.pair_axis[63], 2);
    rc_axes want;
    const int32_t s[3] = {16, 24, 24};
    cr_assert_eq(rc_axes_sections(s, 3, 128, &want, err, sizeof err), 0, "%s", err);
    cr_expect(memcmp(m.axes.pair_axis, want.pair_axis, 64) == 0, "the rc_axes_sections map");
    char line[1024];
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "mrope sections 16,24,24") != NULL, "%s", line);
    rc_model_config_free(&m);

    /* transformers 5 writes it under text_config, with type "mrope" beside
     * rope_type "default" (Qwen2VLTextConfig.convert_rope_params_to_dict). */
    parse_ok("{\"model_type\": \"qwen2_vl\", \"text_config\": {\"hidden_size\": 3584, "
             "\"num_attention_heads\": 28, \"num_key_value_heads\": 4, "
             "\"max_position_embeddings\": 32768, \"model_type\": \"qwen2_vl_text\", "
             "\"rope_parameters\": {\"type\": \"mrope\", \"mrope_section\": [16, 24, 24], "
             "\"rope_theta\": 1000000.0, \"rope_type\": \"default\"}}}",
             &m);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 32768);
    cr_expect_eq(m.axes.n_axes, 3);
    expect_sections(&m, "mrope", 3, 16, 24, 24);
    rc_model_config_free(&m);

    /* Without a model type, rope_type "default" with mrope_section is the
     * contiguous M-RoPE too; fewer sections, fewer axes. */
    parse_ok("{" "\"hidden_size\": 1024, \"num_attention_heads\": 16, "
             "\"rope_scaling\": {\"rope_type\": \"default\", \"mrope_section\": [12, 20]}}",
             &m);
    cr_expect_eq(m.axes.n_axes, 2);
    expect_sections(&m, "mrope", 2, 12, 20, 0);
    cr_expect_eq(m.axes.pair_axis[11], 0);
    cr_expect_eq(m.axes.pair_axis[12], 1);
    rc_model_config_free(&m);
}

/* Qwen3-VL: interleaved (pair i on axis i mod 3 while i < 3 s_k), the
 * model under text_config, theta 5e6. */
Test(model_config, qwen3_vl_interleaved_in_text_config)
{
    rc_model_config m;
    parse_ok("{\"model_type\": \"qwen3_vl\", \"vision_config\": {\"hidden_size\": 1152, "
             "\"num_heads\": 16}, \"text_config\": {\"head_dim\": 128, \"hidden_size\": 4096, "
             "\"max_position_embeddings\": 262144, \"model_type\": \"qwen3_vl_text\", "
             "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"rope_scaling\": "
             "{\"mrope_interleaved\": true, \"mrope_section\": [24, 20, 20], \"rope_type\": "
             "\"default\"}, \"rope_theta\": 5000000}}",
             &m);
    expect_shape(&m, 128, 128, 5e6, RC_LAYOUT_HALF, 32, 8, 262144);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    cr_expect_str_eq(m.model_type, "qwen3_vl");
    cr_assert_eq(m.axes.n_axes, 3);
    expect_sections(&m, "mrope-interleaved", 3, 24, 20, 20);
    rc_axes want;
    char err[256];
    const int32_t s[3] = {24, 20, 20};
    cr_assert_eq(rc_axes_interleaved(s, 3, 128, &want, err, sizeof err), 0, "%s", err);
    cr_expect_eq(m.axes.n_pairs, want.n_pairs);
    cr_expect(memcmp(m.axes.pair_axis, want.pair_axis, sizeof want.pair_axis) == 0,
              "the rc_axes_interleaved map");
    /* tests/data/axes/transformers_maps.txt: 0120...0120 then 0000. */
    cr_expect(m.axes.pair_axis[0] == 0 && m.axes.pair_axis[1] == 1 && m.axes.pair_axis[2] == 2);
    cr_expect(m.axes.pair_axis[58] == 1 && m.axes.pair_axis[59] == 2);
    cr_expect(m.axes.pair_axis[61] == 0 && m.axes.pair_axis[63] == 0);
    char line[1024];
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "mrope-interleaved sections 24,20,20") != NULL, "%s", line);
    rc_model_config_free(&m);

    /* Qwen3-VL interleaves whatever mrope_interleaved says (transformers
     * never reads it); without mrope_section, its default 24, 20, 20. */
    parse_ok("{\"model_type\": \"qwen3_vl\", \"text_config\": {\"rope_theta\": 5000000}}", &m);
    expect_shape(&m, 128, 128, 5e6, RC_LAYOUT_HALF, 32, 32, 128000);
    expect_sections(&m, "mrope-interleaved", 3, 24, 20, 20);
    rc_model_config_free(&m);
    expect_error("{\"model_type\": \"qwen3_vl\", \"text_config\": {\"rope_scaling\": "
                 "{\"mrope_interleaved\": false, \"mrope_section\": [24, 20, 20]}}}",
                 "text_config.rope_scaling.mrope_interleaved: false, but transformers' "
                 "Qwen3VLTextRotaryEmbedding.recomposition_frequencies lays the sections out "
                 "interleaved");
    expect_error("{\"model_type\": \"qwen2_vl\", \"hidden_size\": 3584, \"num_attention_heads\": "
                 "28, \"num_key_value_heads\": 4, \"rope_scaling\": {\"type\": \"mrope\", "
                 "\"mrope_interleaved\": true, \"mrope_section\": [16, 24, 24]}}",
                 "rope_scaling.mrope_interleaved: true, but transformers' "
                 "Qwen2VLRotaryEmbedding.recomposition_frequencies lays the sections out "
                 "contiguously");
    /* Other model types: the flag decides. */
    parse_ok("{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_parameters\": "
             "{\"rope_type\": \"default\", \"rope_theta\": 5e6, \"mrope_section\": [24, 20, 20], "
             "\"mrope_interleaved\": true}}",
             &m);
    expect_sections(&m, "mrope-interleaved", 3, 24, 20, 20);
    cr_expect(memcmp(m.axes.pair_axis, want.pair_axis, sizeof want.pair_axis) == 0);
    rc_model_config_free(&m);
}

/* The language model's fields under text_config: read there, and the top
 * level must not say otherwise. */
Test(model_config, nested_text_config)
{
    rc_model_config m;
    /* A model type with no class defaults: fields only at the top level are
     * still read, text_config's win where it has them. */
    parse_ok("{\"model_type\": \"llava\", \"max_position_embeddings\": 4096, \"text_config\": "
             "{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_attention_heads\": 32, "
             "\"num_key_value_heads\": 8, \"rope_theta\": 500000.0}}",
             &m);
    expect_shape(&m, 128, 128, 500000.0, RC_LAYOUT_HALF, 32, 8, 4096);
    cr_expect_str_eq(m.model_type, "llava");
    rc_model_config_free(&m);
    /* Both places, same value: fine. */
    parse_ok("{\"model_type\": \"qwen2_vl\", \"hidden_size\": 3584, \"text_config\": "
             "{\"hidden_size\": 3584, \"num_attention_heads\": 28, \"num_key_value_heads\": 4}}",
             &m);
    cr_expect_eq(m.head_dim, 128);
    cr_expect(m.base == 1e6, "Qwen2VLTextConfig.default_theta");
    expect_sections(&m, "mrope", 3, 16, 24, 24); /* Qwen2VLRotaryEmbedding's default */
    rc_model_config_free(&m);
    expect_error("{\"rope_theta\": 10000, \"text_config\": {\"hidden_size\": 4096, "
                 "\"num_attention_heads\": 32, \"rope_theta\": 500000}}",
                 "rope_theta: 10000 disagrees with text_config.rope_theta 500000");
    expect_error("{\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}, \"text_config\": "
                 "{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_scaling\": "
                 "{\"type\": \"linear\", \"factor\": 4}}}",
                 "rope_scaling: the top-level value disagrees with text_config.rope_scaling");
    /* Qwen2VLConfig with a text_config ignores the top-level fields: one
     * text_config lacks is the class default there, not this value. */
    expect_error("{\"model_type\": \"qwen2_vl\", \"num_attention_heads\": 28, \"text_config\": "
                 "{\"hidden_size\": 3584, \"num_key_value_heads\": 4}}",
                 "num_attention_heads: given at the top level, which transformers' "
                 "Qwen2VLTextConfig does not read for model_type 'qwen2_vl' (it takes "
                 "text_config.num_attention_heads, default 64 there)");
    /* Qwen3VLConfig never reads a flat config. */
    expect_error("{\"model_type\": \"qwen3_vl\", \"hidden_size\": 2048, \"num_attention_heads\": "
                 "16}",
                 "num_attention_heads: given at the top level, which transformers' "
                 "Qwen3VLTextConfig does not read");
    expect_error("{\"text_config\": [1]}", "text_config: must be an object or null, got an "
                                           "array");
    expect_error("{\"text_config\": {\"hidden_size\": 4096, \"num_attention_heads\": 32, "
                 "\"rope_theta\": \"1e4\"}}",
                 "text_config.rope_theta: must be a number, got a string");
    expect_error("{\"text_config\": {\"hidden_size\": 4096}}",
                 "text_config.num_attention_heads: missing");
}

/* The section list is checked and the field named; the numbers are those
 * of head_dim 128 (64 pairs). */
Test(model_config_errors, mrope_sections_refused_with_the_field)
{
#define QWEN2VL(sections)                                                                     \
    "{\"hidden_size\": 3584, \"num_attention_heads\": 28, \"rope_scaling\": {\"type\": "       \
    "\"mrope\", \"mrope_section\": " sections "}}"
    expect_error(QWEN2VL("[16, 24, 20]"),
                 "t.json: rope_scaling.mrope_section: 16 + 24 + 20 = 60 pairs, not rotary_dim/2 "
                 "= 64");
    expect_error(QWEN2VL("[16.5, 24, 23.5]"),
                 "rope_scaling.mrope_section: entry 0 = 16.5 is not an integer");
    expect_error(QWEN2VL("[-16, 40, 40]"),
                 "rope_scaling.mrope_section: entry 0 = -16 must be a positive integer");
    expect_error(QWEN2VL("[0, 32, 32]"),
                 "rope_scaling.mrope_section: entry 0 = 0 must be a positive integer");
    expect_error(QWEN2VL("[16, \"24\", 24]"),
                 "rope_scaling.mrope_section: entry 1 must be a positive integer, got a string");
    expect_error(QWEN2VL("[8, 8, 16, 16, 16]"),
                 "rope_scaling.mrope_section: 5 sections: contiguous M-RoPE has 1 to 3");
    expect_error(QWEN2VL("[16, 16, 16, 16]"),
                 "4 sections: contiguous M-RoPE has 1 to 3 (temporal, height, width); "
                 "transformers puts section k on axis k % 3");
    expect_error(QWEN2VL("[]"), "rope_scaling.mrope_section: 0 sections");
    expect_error(QWEN2VL("\"16,24,24\""),
                 "rope_scaling.mrope_section: must be an array of positive integers, got a "
                 "string");
    expect_error(QWEN2VL("{\"t\": 16}"),
                 "rope_scaling.mrope_section: must be an array of positive integers, got an "
                 "object");
#undef QWEN2VL
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_scaling\": "
                 "{\"mrope_interleaved\": true, \"mrope_section\": [32, 32]}}",
                 "rope_scaling.mrope_section: 2 sections: interleaved M-RoPE has exactly 3");
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_scaling\": "
                 "{\"mrope_interleaved\": 1, \"mrope_section\": [24, 20, 20]}}",
                 "rope_scaling.mrope_interleaved: must be true or false, got a number");
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_scaling\": "
                 "{\"type\": \"mrope\"}}",
                 "rope_scaling.mrope_section: missing (type 'mrope' says M-RoPE)");
    /* A default section list that does not fit the head says where it came
     * from. */
    expect_error("{\"model_type\": \"qwen2_vl\", \"hidden_size\": 2048, \"num_attention_heads\": "
                 "32, \"num_key_value_heads\": 8}",
                 "rope_scaling.mrope_section: 16 + 24 + 24 = 64 pairs, not rotary_dim/2 = 32 "
                 "(transformers' Qwen2VLRotaryEmbedding default: the config gives none)");
    /* The VL rotary embeddings rotate the whole head. */
    expect_error("{\"model_type\": \"qwen2_vl\", \"hidden_size\": 3584, \"num_attention_heads\": "
                 "28, \"num_key_value_heads\": 4, \"partial_rotary_factor\": 0.5}",
                 "partial_rotary_factor: rotary_dim 64 of head_dim 128: transformers' "
                 "Qwen2VLRotaryEmbedding rotates the whole head");
    /* A mismatch beside a partial rotary factor counts rotary_dim's pairs. */
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 32, "
                 "\"partial_rotary_factor\": 0.5, \"rope_scaling\": {\"mrope_section\": [16, "
                 "24, 24]}}",
                 "16 + 24 + 24 = 64 pairs, not rotary_dim/2 = 32");
}

/* M-RoPE beside a frequency scaling family: transformers computes inv_freq
 * with the family's function and then splits the pairs (Qwen2.5-VL's model
 * card YaRN block). */
Test(model_config, mrope_with_yarn)
{
    rc_model_config m;
    parse_ok("{\"model_type\": \"qwen2_5_vl\", \"hidden_size\": 3584, \"num_attention_heads\": "
             "28, \"num_key_value_heads\": 4, \"max_position_embeddings\": 128000, "
             "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"type\": \"yarn\", "
             "\"mrope_section\": [16, 24, 24], \"factor\": 4, "
             "\"original_max_position_embeddings\": 32768}}",
             &m);
    cr_assert_eq(m.scaling.type, RC_SCALING_YARN);
    cr_expect(m.scaling.factor == 4.0);
    cr_expect_eq(m.scaling.original_context, 32768);
    cr_expect_eq(m.axes.n_axes, 3);
    expect_sections(&m, "mrope", 3, 16, 24, 24);
    rc_model_config_free(&m);
}

/* Gemma 3, transformers 4 (rope_local_base_freq) and 5 (rope_parameters
 * per layer type): the same two RoPEs. */
Test(model_config, gemma3_both_forms)
{
    static const char *const files[] = {"multi/gemma-3-4b-two-ropes",
                                        "multi/gemma-3-4b-rope-parameters", "gemma-3-4b"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        rc_model_config m;
        load(files[i], &m);
        expect_shape(&m, 256, 256, 1e6, RC_LAYOUT_HALF, 8, 4, 131072);
        cr_expect(m.local_base == 10000.0, "%s: local %g", files[i], m.local_base);
        cr_expect_eq(m.scaling.type, RC_SCALING_LINEAR, "%s", files[i]);
        cr_expect(m.scaling.factor == 8.0, "%s", files[i]);
        cr_expect_eq(m.axes.n_axes, 0);
        char line[1024];
        rc_model_config_describe(&m, line, sizeof line);
        cr_expect(strstr(line, "local base 10000") != NULL, "%s", line);
        rc_model_config_free(&m);
    }
    rc_model_config m;
    /* A Gemma 3 config without a local base: Gemma3TextConfig's 10000. */
    parse_ok("{\"model_type\": \"gemma3_text\", \"rope_theta\": 1e6}", &m);
    cr_expect(m.local_base == 10000.0 && m.base == 1e6);
    rc_model_config_free(&m);
    /* The sliding entry without rope_theta takes rope_local_base_freq. */
    parse_ok("{\"model_type\": \"gemma3_text\", \"rope_local_base_freq\": 20000, "
             "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"}, "
             "\"sliding_attention\": {\"rope_type\": \"default\"}}}",
             &m);
    cr_expect(m.local_base == 20000.0 && m.base == 1e6, "local %g base %g", m.local_base,
              m.base);
    rc_model_config_free(&m);
    /* Other models with per-layer-type parameters: an entry without
     * rope_theta takes the top-level one. */
    parse_ok("{" "\"hidden_size\": 4096, \"num_attention_heads\": 32, \"rope_theta\": 160000, "
             "\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"}, "
             "\"sliding_attention\": {\"rope_type\": \"default\"}}}",
             &m);
    cr_expect(m.local_base == 160000.0 && m.base == 160000.0);
    rc_model_config_free(&m);

#define G3(rp) "{\"model_type\": \"gemma3_text\", \"rope_parameters\": " rp "}"
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"default\"}, \"sliding_attention\": "
                    "{\"rope_type\": \"linear\", \"factor\": 2}}"),
                 "rope_parameters.sliding_attention.rope_type: 'linear': the sliding-window "
                 "layers' RoPE must be rope_type 'default'");
    expect_error(G3("{\"rope_type\": \"linear\", \"factor\": 8}"),
                 "rope_parameters: flat, but transformers' "
                 "Gemma3TextConfig.convert_rope_params_to_dict ignores flat keys");
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"default\"}, \"rope_theta\": 5}"),
                 "rope_parameters.rope_theta: beside per-layer-type entries");
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"default\"}, \"chunked_attention\": "
                    "{\"rope_type\": \"default\"}}"),
                 "rope_parameters.chunked_attention: per-layer-type RoPE parameters for this "
                 "layer type are not supported");
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"default\", \"rope_theta\": 1e6}, "
                    "\"sliding_attention\": {\"rope_type\": \"default\", \"rope_theta\": "
                    "10000}}, \"rope_local_base_freq\": 20000"),
                 "rope_parameters.sliding_attention.rope_theta: 10000 disagrees with "
                 "rope_local_base_freq 20000");
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"default\", \"rope_theta\": 1e6}}, "
                    "\"rope_theta\": 5e5"),
                 "rope_parameters.full_attention.rope_theta: 1000000 disagrees with rope_theta "
                 "500000");
    expect_error(G3("{\"full_attention\": {\"rope_type\": \"linear\"}}"),
                 "rope_parameters.full_attention.factor: missing (required by rope_type "
                 "'linear')");
#undef G3
}

/* --- the checked-in model configs --------------------------------------- */

Test(model_config, llama_3_8b_plain_rope_theta_500000)
{
    rc_model_config m;
    load("llama-3-8b", &m);
    expect_shape(&m, 128, 128, 500000.0, RC_LAYOUT_HALF, 32, 8, 8192);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    cr_expect_str_eq(m.model_type, "llama");
    rc_model_config_free(&m);
}

Test(model_config, llama_3_1_8b_llama3_scaling)
{
    rc_model_config m;
    load("llama-3.1-8b", &m);
    expect_shape(&m, 128, 128, 500000.0, RC_LAYOUT_HALF, 32, 8, 131072);
    cr_assert_eq(m.scaling.type, RC_SCALING_LLAMA3);
    cr_expect(m.scaling.factor == 8.0);
    cr_expect(m.scaling.low_freq_factor == 1.0);
    cr_expect(m.scaling.high_freq_factor == 4.0);
    cr_expect_eq(m.scaling.original_context, 8192);
    rc_model_config_free(&m);
}

Test(model_config, qwen2_7b_theta_1e6_gqa_28_4)
{
    rc_model_config m;
    load("qwen2-7b", &m);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 131072);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    rc_model_config_free(&m);
}

Test(model_config, qwen2_7b_instruct_yarn_keeps_the_explicit_factor_4)
{
    /* max_position_embeddings == original (32768): transformers 4.45-4.55
     * would have derived factor 1 here; the intended factor is 4. */
    rc_model_config m;
    load("qwen2-7b-instruct-yarn", &m);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 32768);
    cr_assert_eq(m.scaling.type, RC_SCALING_YARN);
    cr_expect(m.scaling.factor == 4.0, "factor %.17g", m.scaling.factor);
    cr_expect_eq(m.scaling.original_context, 32768);
    cr_expect(m.scaling.beta_fast == 32.0 && m.scaling.beta_slow == 1.0, "HF defaults");
    cr_expect_eq(m.scaling.truncate, 1);
    cr_expect(m.scaling.mscale == 0.0 && m.scaling.mscale_all_dim == 0.0);
    cr_expect(m.scaling.attention_factor == 0.0, "derived from the formula");
    rc_model_config_free(&m);
}

Test(model_config, gpt_j_6b_interleaved_rotary_dim_64_of_256)
{
    rc_model_config m;
    load("gpt-j-6b", &m);
    expect_shape(&m, 256, 64, 10000.0, RC_LAYOUT_INTERLEAVED, 16, 16, 2048);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    rc_model_config_free(&m);
}

Test(model_config, gpt_neox_20b_rotary_pct_quarter_of_96)
{
    rc_model_config m;
    load("gpt-neox-20b", &m);
    expect_shape(&m, 96, 24, 10000.0, RC_LAYOUT_HALF, 64, 64, 2048);
    rc_model_config_free(&m);
}

Test(model_config, phi_2_partial_rotary_factor_0_4_of_80)
{
    /* int(80 * 0.4): 0.4 is 0.4 + 2.2e-17 as a double, the exact product
     * 32 + 1.8e-15 rounds to 32.0 (doubles near 32 are 7.1e-15 apart), and
     * int() truncates it to 32, as the C conversion does. */
    rc_model_config m;
    load("phi-2", &m);
    expect_shape(&m, 80, 32, 10000.0, RC_LAYOUT_HALF, 32, 32, 2048);
    rc_model_config_free(&m);
}

Test(model_config, phi_3_mini_128k_longrope_lists_and_derived_factor)
{
    rc_model_config m;
    load("phi-3-mini-128k", &m);
    expect_shape(&m, 96, 96, 10000.0, RC_LAYOUT_HALF, 32, 32, 131072);
    cr_assert_eq(m.scaling.type, RC_SCALING_LONGROPE);
    /* max_position_embeddings / original_max_position_embeddings. */
    cr_expect(m.scaling.factor == 32.0, "factor %.17g", m.scaling.factor);
    cr_expect_eq(m.scaling.original_context, 4096);
    cr_expect(m.scaling.attention_factor == 0.0);
    cr_assert_not_null(m.scaling.short_factor);
    cr_assert_not_null(m.scaling.long_factor);
    cr_expect(m.scaling.short_factor[0] == 1.1);
    cr_expect(m.scaling.short_factor[3] == 1.3000000000000003);
    cr_expect(m.scaling.short_factor[47] == 3.049999999999997);
    cr_expect(m.scaling.long_factor[0] == 1.0700000524520874);
    cr_expect(m.scaling.long_factor[25] == 54.9373893737793);
    cr_expect(m.scaling.long_factor[47] == 64.76000213623047);
    rc_model_config_free(&m);
    cr_expect_null(m.scaling.long_factor, "free zeroes the config");
}

/* --- presets ------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

Test(model_preset, every_preset_is_its_config_file_byte_for_byte)
{
    cr_assert_eq(rc_model_preset_count(), 12);
    cr_assert_eq(rc_embedded_config_count, rc_model_preset_count(),
                 "embedded files and described presets differ");
    for (size_t i = 0; i < rc_model_preset_count(); i++) {
        const char *name = rc_model_preset_name(i);
        cr_assert_not_null(name);
        cr_expect(strlen(rc_model_preset_description(i)) > 10);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", RC_CONFIGS_DIR, name);
        size_t len;
        char *bytes = read_file(path, &len);
        const char *embedded = rc_model_preset_json(i);
        cr_assert_not_null(embedded, "%s not embedded", name);
        cr_expect_eq(strlen(embedded), len, "%s", name);
        cr_expect(memcmp(embedded, bytes, len) == 0, "%s differs from its file", name);
        free(bytes);

        rc_model_config a, b;
        char err[512];
        cr_assert_eq(rc_model_preset(name, &a, err, sizeof err), 0, "%s", err);
        load(name, &b);
        cr_expect_str_eq(a.name, name);
        cr_expect(a.head_dim == b.head_dim && a.rotary_dim == b.rotary_dim && a.base == b.base &&
                      a.layout == b.layout && a.n_heads == b.n_heads &&
                      a.n_kv_heads == b.n_kv_heads && a.max_position == b.max_position &&
                      a.scaling.type == b.scaling.type && a.scaling.factor == b.scaling.factor &&
                      a.scaling.original_context == b.scaling.original_context &&
                      a.local_base == b.local_base && a.axes.n_axes == b.axes.n_axes &&
                      memcmp(&a.axes, &b.axes, sizeof a.axes) == 0 &&
                      strcmp(a.axes_kind, b.axes_kind) == 0,
                  "%s: preset and file disagree", name);
        rc_model_config_free(&a);
        rc_model_config_free(&b);
    }
    cr_expect_null(rc_model_preset_name(rc_model_preset_count()));
    cr_expect_null(rc_model_preset_json(rc_model_preset_count()));
}

Test(model_preset, unknown_name_lists_the_known_ones)
{
    rc_model_config m;
    char err[512];
    cr_assert_eq(rc_model_preset("llama-4", &m, err, sizeof err), -1);
    cr_expect(strstr(err, "unknown model 'llama-4'") != NULL, "%s", err);
    cr_expect(strstr(err, "phi-3-mini-128k") != NULL, "%s", err);
}

Test(model_preset, describe_names_model_and_family)
{
    rc_model_config m;
    char err[512], line[1024];
    cr_assert_eq(rc_model_preset("llama-3.1-8b", &m, err, sizeof err), 0, "%s", err);
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "llama-3.1-8b: head_dim 128, rotary_dim 128, base 500000") != NULL,
              "%s", line);
    cr_expect(strstr(line, "llama3 factor=8") != NULL, "%s", line);
    rc_model_config_free(&m);
}

/* The multimodal presets: their sections, text_config, and Gemma 3's
 * class defaults and local base. */
Test(model_preset, multimodal_presets)
{
    rc_model_config m;
    char err[512], line[1024];
    cr_assert_eq(rc_model_preset("qwen2-vl-7b", &m, err, sizeof err), 0, "%s", err);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 32768);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    expect_sections(&m, "mrope", 3, 16, 24, 24);
    cr_expect_eq(m.axes.pair_axis[16], 1);
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "qwen2-vl-7b: head_dim 128") && strstr(line, "mrope sections 16,24,24"),
              "%s", line);
    rc_model_config_free(&m);

    cr_assert_eq(rc_model_preset("qwen2.5-vl-7b", &m, err, sizeof err), 0, "%s", err);
    expect_shape(&m, 128, 128, 1e6, RC_LAYOUT_HALF, 28, 4, 128000);
    expect_sections(&m, "mrope", 3, 16, 24, 24);
    rc_model_config_free(&m);

    cr_assert_eq(rc_model_preset("qwen3-vl-8b", &m, err, sizeof err), 0, "%s", err);
    expect_shape(&m, 128, 128, 5e6, RC_LAYOUT_HALF, 32, 8, 262144);
    expect_sections(&m, "mrope-interleaved", 3, 24, 20, 20);
    cr_expect_eq(m.axes.pair_axis[61], 0);
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "mrope-interleaved sections 24,20,20"), "%s", line);
    rc_model_config_free(&m);

    cr_assert_eq(rc_model_preset("gemma-3-4b", &m, err, sizeof err), 0, "%s", err);
    expect_shape(&m, 256, 256, 1e6, RC_LAYOUT_HALF, 8, 4, 131072);
    cr_expect(m.local_base == 10000.0);
    cr_expect(m.scaling.type == RC_SCALING_LINEAR && m.scaling.factor == 8.0);
    cr_expect_eq(m.axes.n_axes, 0);
    rc_model_config_describe(&m, line, sizeof line);
    cr_expect(strstr(line, "local base 10000"), "%s", line);
    rc_model_config_free(&m);
}

/* --- the broken files in tests/data/configs/bad -------------------------- */

Test(model_config_errors, bad_files_name_file_and_field)
{
    static const struct {
        const char *file, *want;
    } cases[] = {
        {"invalid-json", "invalid JSON near line 5"},
        {"unknown-rope-type", "rope_scaling.type: unknown rope type 'fourier'"},
        {"yarn-missing-factor", "rope_scaling.factor: missing (required by rope_type 'yarn')"},
        {"llama3-missing-low-freq-factor",
         "rope_scaling.low_freq_factor: missing (required by rope_type 'llama3')"},
        {"type-conflict", "rope_scaling.type: 'yarn' disagrees with rope_scaling.rope_type "
                          "'linear'"},
        {"theta-string", "rope_theta: must be a number, got a string"},
        {"hidden-not-divisible", "hidden_size: 3000 is not divisible by num_attention_heads 32"},
        {"longrope-short-factor-length",
         "rope_scaling.short_factor: 3 entries; rotary_dim 8 needs 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/bad/%s.json", RC_CONFIGS_DIR, cases[i].file);
        rc_model_config m;
        cr_assert_eq(rc_model_config_load(path, &m, err, sizeof err), -1, "%s loaded", path);
        cr_expect(strncmp(err, path, strlen(path)) == 0, "no file name: %s", err);
        cr_expect(strstr(err, cases[i].want) != NULL, "want \"%s\" in \"%s\"", cases[i].want,
                  err);
    }
}

Test(model_config_errors, missing_file)
{
    rc_model_config m;
    char err[512];
    cr_assert_eq(rc_model_config_load(RC_CONFIGS_DIR "/no-such.json", &m, err, sizeof err), -1);
    cr_expect(strstr(err, "no-such.json: cannot open") != NULL, "%s", err);
}

/* --- inline errors: each names the field ---------------------------------- */

#define HEAD "\"hidden_size\": 4096, \"num_attention_heads\": 32, "

Test(model_config_errors, json_shape_and_types)
{
    expect_error("[1, 2]", "the top level must be a JSON object, got an array");
    expect_error("{\"hidden_size\": 4096,\n \"num_attention_heads\": 32,,}",
                 "invalid JSON near line 2");
    expect_error("{" HEAD "\"model_type\": 7}", "model_type: must be a string, got a number");
    expect_error("{\"hidden_size\": 4096}", "num_attention_heads: missing");
    expect_error("{\"num_attention_heads\": 32}", "hidden_size: missing");
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 32.5}",
                 "num_attention_heads: 32.5 is not an integer");
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": -4}",
                 "num_attention_heads: -4 must be >= 1");
    expect_error("{" HEAD "\"num_key_value_heads\": 5}",
                 "num_key_value_heads: 5 does not divide num_attention_heads 32");
    expect_error("{" HEAD "\"head_dim\": 81}", "head_dim: 81 must be even");
    expect_error("{\"hidden_size\": 4096, \"num_attention_heads\": 2}",
                 "head_dim: 2048 (hidden_size / num_attention_heads) must be even and in [2, "
                 "1024]");
    expect_error("{" HEAD "\"rope_theta\": -5}", "rope_theta: -5 must be > 0");
    expect_error("{" HEAD "\"rope_theta\": 1, \"rope_theta\": 2}",
                 "rope_theta: appears twice");
    expect_error("{" HEAD "\"max_position_embeddings\": 0}",
                 "max_position_embeddings: 0 must be >= 1");
    expect_error("{" HEAD "\"n_embd\": 2048}", "hidden_size: 4096 disagrees with n_embd 2048");
}

Test(model_config_errors, base_and_rotary_contradictions)
{
    expect_error("{" HEAD "\"rope_theta\": 10000, \"rotary_emb_base\": 20000}",
                 "rotary_emb_base: 20000 disagrees with rope_theta 10000");
    expect_error("{\"hidden_size\": 6144, \"num_attention_heads\": 64, \"rotary_pct\": 0.25, "
                 "\"partial_rotary_factor\": 0.5}",
                 "rotary_pct: 0.25 disagrees with partial_rotary_factor 0.5");
    expect_error("{\"hidden_size\": 6144, \"num_attention_heads\": 64, \"rotary_pct\": 0.25, "
                 "\"rotary_dim\": 32}",
                 "rotary_dim: 32 disagrees with int(head_dim 96 * rotary_pct 0.25) = 24");
    expect_error("{\"hidden_size\": 20, \"num_attention_heads\": 2, "
                 "\"partial_rotary_factor\": 0.5}",
                 "partial_rotary_factor: int(head_dim 10 * 0.5) = 5 rotated channels: must be "
                 "even");
    expect_error("{" HEAD "\"partial_rotary_factor\": 1.5}",
                 "partial_rotary_factor: 1.5 must be in (0, 1]");
    expect_error("{" HEAD "\"rotary_dim\": 130}", "rotary_dim: 130 must be even and in [2, "
                                                  "head_dim 128]");
}

Test(model_config_errors, rope_scaling_fields)
{
    expect_error("{" HEAD "\"rope_scaling\": \"yarn\"}",
                 "rope_scaling: must be an object or null, got a string");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"ntk-by-parts\"}}",
                 "rope_scaling.rope_type: unknown rope type 'ntk-by-parts'");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": 3}}",
                 "rope_scaling.rope_type: must be a string, got a number");
    expect_error("{" HEAD "\"rope_scaling\": {\"type\": \"linear\"}}",
                 "rope_scaling.factor: missing (required by rope_type 'linear')");
    expect_error("{" HEAD "\"rope_scaling\": {\"type\": \"linear\", \"factor\": -2}}",
                 "rope_scaling.factor: -2 must be > 0");
    expect_error("{" HEAD "\"rope_scaling\": {\"type\": \"linear\", \"factor\": \"2\"}}",
                 "rope_scaling.factor: must be a number, got a string");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, "
                 "\"low_freq_factor\": 1, \"high_freq_factor\": 4}}",
                 "rope_scaling.original_max_position_embeddings: missing (required by "
                 "rope_type 'llama3')");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, "
                 "\"low_freq_factor\": 4, \"high_freq_factor\": 1, "
                 "\"original_max_position_embeddings\": 8192}}",
                 "rope_scaling: llama3 scaling: need high_freq_factor > low_freq_factor");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, "
                 "\"original_max_position_embeddings\": 4096, \"truncate\": 1}}",
                 "rope_scaling.truncate: must be true or false, got a number");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, "
                 "\"original_max_position_embeddings\": 4096, \"attention_factor\": 0}}",
                 "rope_scaling.attention_factor: 0 must be > 0");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, "
                 "\"original_max_position_embeddings\": 4096, \"mscale\": -1}}",
                 "rope_scaling.mscale: -1 must be >= 0");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, "
                 "\"original_max_position_embeddings\": 4096, \"beta_fast\": 1, "
                 "\"beta_slow\": 2}}",
                 "rope_scaling: yarn scaling: need beta_fast > beta_slow > 0");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}",
                 "rope_scaling.original_max_position_embeddings: missing, and no "
                 "max_position_embeddings to fall back on");
    expect_error("{" HEAD "\"max_position_embeddings\": 8192, "
                 "\"original_max_position_embeddings\": 4096, \"rope_scaling\": "
                 "{\"rope_type\": \"yarn\", \"factor\": 4}}",
                 "original_max_position_embeddings: top-level 4096 and "
                 "max_position_embeddings 8192");
    expect_error("{" HEAD "\"original_max_position_embeddings\": 4096, \"rope_scaling\": "
                 "{\"rope_type\": \"yarn\", \"factor\": 4, "
                 "\"original_max_position_embeddings\": 2048}}",
                 "rope_scaling.original_max_position_embeddings: 2048 disagrees with the "
                 "top-level original_max_position_embeddings 4096");
    expect_error("{" HEAD "\"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2}}",
                 "max_position_embeddings: missing (dynamic scaling");
    expect_error("{" HEAD "\"max_position_embeddings\": 4096, \"rope_scaling\": "
                 "{\"rope_type\": \"dynamic\", \"factor\": 2, "
                 "\"original_max_position_embeddings\": 2048}}",
                 "rope_scaling.original_max_position_embeddings: 2048 disagrees with "
                 "max_position_embeddings 4096");
    expect_error("{" HEAD "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}, "
                 "\"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 2}}",
                 "rope_parameters: given together with rope_scaling");
    expect_error("{" HEAD "\"rope_parameters\": {\"full_attention\": {\"rope_type\": "
                 "\"default\"}, \"chunked_attention\": {\"rope_type\": \"default\"}}}",
                 "rope_parameters.chunked_attention: per-layer-type RoPE parameters for this "
                 "layer type are not supported");
    expect_error("{" HEAD "\"rope_scaling\": {\"full_attention\": {\"rope_type\": "
                 "\"default\"}}}",
                 "rope_scaling.full_attention: per-layer-type RoPE parameters belong in "
                 "rope_parameters");
    expect_error("{" HEAD "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2, "
                 "\"factor\": 3}}",
                 "rope_scaling.factor: appears twice");
}

#define SMALL "\"hidden_size\": 256, \"num_attention_heads\": 32, " /* head_dim 8: 4 pairs */

Test(model_config_errors, longrope_fields)
{
    expect_error("{" SMALL "\"max_position_embeddings\": 131072, "
                 "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
                 "\"longrope\", \"short_factor\": [1, 1, 1, 1]}}",
                 "rope_scaling.long_factor: missing (required by rope_type 'longrope')");
    expect_error("{" SMALL "\"max_position_embeddings\": 131072, "
                 "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
                 "\"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, \"2\", 3, "
                 "4]}}",
                 "rope_scaling.long_factor: entry 1 must be a number, got a string");
    expect_error("{" SMALL "\"max_position_embeddings\": 131072, "
                 "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
                 "\"longrope\", \"short_factor\": [1, 1, 0, 1], \"long_factor\": [1, 2, 3, "
                 "4]}}",
                 "rope_scaling.short_factor: entry 2 = 0 must be positive and finite");
    expect_error("{" SMALL "\"max_position_embeddings\": 131072, "
                 "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
                 "\"longrope\", \"factor\": 16, \"short_factor\": [1, 1, 1, 1], "
                 "\"long_factor\": [1, 2, 3, 4]}}",
                 "rope_scaling.factor: 16 disagrees with max_position_embeddings / "
                 "original_max_position_embeddings = 32");
    expect_error("{" SMALL "\"max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
                 "\"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 2, 3, "
                 "4]}}",
                 "rope_scaling.factor: missing (LongRoPE's attention factor needs it");
    expect_error("{" SMALL "\"original_max_position_embeddings\": 4096, \"rope_scaling\": "
                 "{\"type\": \"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": "
                 "[1, 2, 3, 4]}}",
                 "max_position_embeddings: missing (LongRoPE's factor");
}

/* --- inline successes: the readings transformers gives ------------------- */

Test(model_config, legacy_names_and_aliases)
{
    rc_model_config m;
    /* "su" is LongRoPE's first name. */
    parse_ok("{" SMALL "\"max_position_embeddings\": 131072, "
             "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": \"su\", "
             "\"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 2, 3, 4]}}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_LONGROPE);
    cr_expect(m.scaling.long_factor[3] == 4.0);
    rc_model_config_free(&m);
    /* Phi3Config renames a legacy type "yarn" to longrope ... */
    parse_ok("{" SMALL "\"model_type\": \"phi3\", \"max_position_embeddings\": 131072, "
             "\"original_max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
             "\"yarn\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 2, 3, 4]}}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_LONGROPE);
    rc_model_config_free(&m);
    /* ... but only for phi3. */
    parse_ok("{" SMALL "\"model_type\": \"qwen2\", \"max_position_embeddings\": 8192, "
             "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 2}}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_YARN);
    cr_expect_eq(m.scaling.original_context, 8192, "falls back to max_position_embeddings");
    rc_model_config_free(&m);
    /* type and rope_type may both appear when they agree. */
    parse_ok("{" HEAD "\"rope_scaling\": {\"type\": \"linear\", \"rope_type\": \"linear\", "
             "\"factor\": 2}}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_LINEAR);
    cr_expect(m.scaling.factor == 2.0);
    rc_model_config_free(&m);
    /* GPT-J spellings agreeing with the standard ones. */
    parse_ok("{\"n_embd\": 4096, \"hidden_size\": 4096, \"n_head\": 16, \"rotary_dim\": null, "
             "\"model_type\": \"gptj\"}",
             &m);
    cr_expect_eq(m.rotary_dim, 256, "rotary_dim null: the whole head");
    cr_expect_eq(m.layout, RC_LAYOUT_INTERLEAVED);
    cr_expect(m.base == 10000.0, "transformers' default theta");
    cr_expect_eq(m.n_kv_heads, 16);
    rc_model_config_free(&m);
    /* rope_type "default" and rope_scaling null are both "no scaling". */
    parse_ok("{" HEAD "\"rope_scaling\": {\"rope_type\": \"default\"}, "
             "\"num_key_value_heads\": null}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_NONE);
    cr_expect_eq(m.n_kv_heads, 32);
    rc_model_config_free(&m);
}

Test(model_config, head_dim_given_wins_over_the_quotient)
{
    rc_model_config m;
    /* Gemma-style: 8 heads of 256 on a hidden size of 2048, and a hidden
     * size no head count divides: head_dim is what counts. */
    parse_ok("{\"hidden_size\": 2048, \"num_attention_heads\": 8, \"head_dim\": 256}", &m);
    cr_expect_eq(m.head_dim, 256);
    rc_model_config_free(&m);
    parse_ok("{\"hidden_size\": 3000, \"num_attention_heads\": 32, \"head_dim\": 96}", &m);
    cr_expect_eq(m.head_dim, 96);
    rc_model_config_free(&m);
}

Test(model_config, yarn_optional_fields)
{
    rc_model_config m;
    /* beta_* 0 means the default in transformers (`or 32`); truncate false
     * and the DeepSeek mscale pair pass through; attention_factor explicit. */
    parse_ok("{" HEAD "\"max_position_embeddings\": 163840, \"rope_scaling\": {\"type\": "
             "\"yarn\", \"factor\": 40, \"original_max_position_embeddings\": 4096, "
             "\"beta_fast\": 0, \"beta_slow\": null, \"truncate\": false, \"mscale\": 0.707, "
             "\"mscale_all_dim\": 0.707, \"attention_factor\": 1.25}}",
             &m);
    cr_assert_eq(m.scaling.type, RC_SCALING_YARN);
    cr_expect(m.scaling.factor == 40.0);
    cr_expect_eq(m.scaling.original_context, 4096);
    cr_expect(m.scaling.beta_fast == 32.0 && m.scaling.beta_slow == 1.0);
    cr_expect_eq(m.scaling.truncate, 0);
    cr_expect(m.scaling.mscale == 0.707 && m.scaling.mscale_all_dim == 0.707);
    cr_expect(m.scaling.attention_factor == 1.25);
    rc_model_config_free(&m);
}

Test(model_config, transformers_v5_rope_parameters)
{
    /* gpt-oss as transformers 5 writes it: theta inside rope_parameters. */
    rc_model_config m;
    parse_ok("{\"hidden_size\": 2880, \"num_attention_heads\": 64, \"head_dim\": 64, "
             "\"num_key_value_heads\": 8, \"max_position_embeddings\": 131072, "
             "\"rope_parameters\": {\"beta_fast\": 32.0, \"beta_slow\": 1.0, \"factor\": 32.0, "
             "\"original_max_position_embeddings\": 4096, \"rope_theta\": 150000, "
             "\"rope_type\": \"yarn\", \"truncate\": false}}",
             &m);
    cr_expect(m.base == 150000.0);
    cr_expect_eq(m.head_dim, 64);
    cr_expect_eq(m.scaling.type, RC_SCALING_YARN);
    cr_expect(m.scaling.factor == 32.0);
    cr_expect_eq(m.scaling.truncate, 0);
    rc_model_config_free(&m);
    expect_error("{" HEAD "\"rope_theta\": 10000, \"rope_parameters\": {\"rope_type\": "
                 "\"default\", \"rope_theta\": 500000}}",
                 "rope_parameters.rope_theta: 500000 disagrees with rope_theta 10000");
}

Test(model_config, dynamic_and_longrope_without_top_level_original)
{
    rc_model_config m;
    parse_ok("{" HEAD "\"max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
             "\"dynamic\", \"factor\": 2}}",
             &m);
    cr_expect_eq(m.scaling.type, RC_SCALING_DYNAMIC_NTK);
    cr_expect_eq(m.scaling.original_context, 4096, "transformers measures against max_position");
    rc_model_config_free(&m);
    parse_ok("{" SMALL "\"max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
             "\"longrope\", \"factor\": 8, \"short_factor\": [1, 1, 1, 1], \"long_factor\": "
             "[1, 2, 3, 4]}}",
             &m);
    cr_expect(m.scaling.factor == 8.0);
    cr_expect_eq(m.scaling.original_context, 4096);
    rc_model_config_free(&m);
    /* An explicit attention factor makes the factor unnecessary. */
    parse_ok("{" SMALL "\"max_position_embeddings\": 4096, \"rope_scaling\": {\"type\": "
             "\"longrope\", \"attention_factor\": 1.2, \"short_factor\": [1, 1, 1, 1], "
             "\"long_factor\": [1, 2, 3, 4]}}",
             &m);
    cr_expect(m.scaling.attention_factor == 1.2);
    rc_model_config_free(&m);
}

/* --- --scaling ------------------------------------------------------------ */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rc_scaling_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

/* Writes text to tmpdir/name; returns "@path" (static per slot). */
static const char *at_file(int slot, const char *name, const char *text)
{
    static char paths[4][160];
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(paths[slot], sizeof paths[slot], "@%s", path);
    return paths[slot];
}

static void scaling_ok(const char *text, int32_t r, rc_scaling *sc)
{
    char err[512];
    cr_assert_eq(rc_scaling_parse(text, r, sc, err, sizeof err), 0, "%s: %s", text, err);
    cr_expect_eq(sc->context, 0, "context is the caller's");
}

static void scaling_error(const char *text, int32_t r, const char *want)
{
    rc_scaling sc;
    char err[512];
    err[0] = '\0';
    cr_assert_eq(rc_scaling_parse(text, r, &sc, err, sizeof err), -1, "%s parsed", text);
    cr_expect(strstr(err, want) != NULL, "%s: want \"%s\" in \"%s\"", text, want, err);
}

Test(scaling_parse, families_and_defaults)
{
    rc_scaling sc;
    scaling_ok("none", 128, &sc);
    cr_expect_eq(sc.type, RC_SCALING_NONE);
    scaling_ok("default", 128, &sc);
    cr_expect_eq(sc.type, RC_SCALING_NONE);
    scaling_ok("linear:factor=8", 128, &sc);
    cr_expect(sc.type == RC_SCALING_LINEAR && sc.factor == 8.0);
    scaling_ok("ntk:factor=4", 128, &sc);
    cr_expect(sc.type == RC_SCALING_NTK && sc.factor == 4.0);
    scaling_ok("dynamic:factor=2,original=4096", 128, &sc);
    cr_expect(sc.type == RC_SCALING_DYNAMIC_NTK && sc.factor == 2.0 &&
              sc.original_context == 4096);
    scaling_ok("yarn:factor=4,original=32768", 128, &sc);
    cr_expect(sc.type == RC_SCALING_YARN && sc.factor == 4.0 && sc.original_context == 32768);
    cr_expect(sc.beta_fast == 32.0 && sc.beta_slow == 1.0 && sc.truncate == 1, "HF defaults");
    cr_expect(sc.mscale == 0.0 && sc.mscale_all_dim == 0.0 && sc.attention_factor == 0.0);
    scaling_ok("yarn:factor=40,original=4096,beta_fast=16,beta_slow=2,truncate=false,"
               "mscale=0.707,mscale_all_dim=0.707,attention_factor=1.5",
               64, &sc);
    cr_expect(sc.beta_fast == 16.0 && sc.beta_slow == 2.0 && sc.truncate == 0);
    cr_expect(sc.mscale == 0.707 && sc.mscale_all_dim == 0.707 && sc.attention_factor == 1.5);
    scaling_ok("llama3:factor=8,low=1,high=4,original=8192", 128, &sc);
    cr_expect(sc.type == RC_SCALING_LLAMA3 && sc.factor == 8.0 && sc.low_freq_factor == 1.0 &&
              sc.high_freq_factor == 4.0 && sc.original_context == 8192);
    scaling_ok("llama3:low_freq_factor=1,high_freq_factor=4,"
               "original_max_position_embeddings=8192,factor=8",
               128, &sc);
    cr_expect(sc.low_freq_factor == 1.0 && sc.high_freq_factor == 4.0 &&
              sc.original_context == 8192, "Hugging Face key names");
}

Test(scaling_parse, table_and_longrope_files, .init = make_tmpdir, .fini = remove_tmpdir)
{
    rc_scaling sc;
    /* Comments, blank lines and a hex float (an exact value). */
    char arg[200];
    snprintf(arg, sizeof arg, "table:%s",
             at_file(0, "t.txt", "# theta_i\n1.0\n\n0x1p-3  # 1/8 exactly\n 0.01\n1e-6\n"));
    scaling_ok(arg, 8, &sc);
    cr_assert_eq(sc.type, RC_SCALING_TABLE);
    cr_expect(sc.table[0] == 1.0 && sc.table[1] == 0.125 && sc.table[2] == 0.01 &&
              sc.table[3] == 1e-6);
    rc_scaling_free_arrays(&sc);
    cr_expect_null(sc.table);

    char spec[512];
    snprintf(spec, sizeof spec, "longrope:short=%s,long=%s,factor=32,original=4096",
             at_file(1, "s.txt", "1\n1\n1.1\n1.2\n"), at_file(2, "l.txt", "1\n2\n4\n8\n"));
    scaling_ok(spec, 8, &sc);
    cr_assert_eq(sc.type, RC_SCALING_LONGROPE);
    cr_expect(sc.short_factor[2] == 1.1 && sc.long_factor[3] == 8.0);
    cr_expect(sc.factor == 32.0 && sc.original_context == 4096 && sc.attention_factor == 0.0);
    rc_scaling_free_arrays(&sc);

    snprintf(arg, sizeof arg, "table:%s", at_file(0, "short.txt", "1\n0.5\n0.25\n"));
    scaling_error(arg, 8, "holds 3 numbers; rotary_dim 8 needs 4");
    snprintf(arg, sizeof arg, "table:%s", at_file(0, "long.txt", "1\n1\n1\n1\n1\n"));
    scaling_error(arg, 8, "holds more than the 4 numbers rotary_dim 8 needs");
    snprintf(arg, sizeof arg, "table:%s", at_file(0, "bad.txt", "1\nabc\n1\n1\n"));
    scaling_error(arg, 8, "bad.txt:2: 'abc' is not a finite number");
    snprintf(arg, sizeof arg, "table:%s", at_file(0, "zero.txt", "1\n0\n1\n1\n"));
    scaling_error(arg, 8, "table[1] = 0: every entry must be positive and finite");
    snprintf(spec, sizeof spec, "longrope:short=%s,long=%s,factor=32",
             at_file(1, "s.txt", "1\n1\n1\n1\n"), at_file(2, "l.txt", "1\n1\n1\n1\n"));
    scaling_error(spec, 8, "longrope: missing key original (original_max_position_embeddings)");
}

Test(scaling_parse, errors_name_the_key)
{
    scaling_error("warp:factor=2", 128, "unknown scaling family 'warp'");
    scaling_error("yarn:factor=4", 128, "yarn: missing key original");
    scaling_error("llama3:factor=8,low=1,original=8192", 128,
                  "llama3: missing key high (high_freq_factor)");
    scaling_error("linear", 128, "linear: missing key factor");
    scaling_error("yarn:factor=4,original=32768,betafast=16", 128,
                  "yarn: unknown key 'betafast' (yarn takes: factor, original, beta_fast");
    scaling_error("linear:factor=8,original=8192", 128,
                  "linear: unknown key 'original' (linear takes: factor)");
    scaling_error("none:factor=2", 128, "none: unknown key 'factor' (none takes: no keys)");
    scaling_error("linear:factor=abc", 128, "factor: 'abc' is not a finite decimal number");
    scaling_error("linear:factor=inf", 128, "factor: 'inf' is not a finite decimal number");
    scaling_error("linear:factor=8,factor=9", 128, "linear: key 'factor' given twice");
    scaling_error("yarn:factor=4,original=-3", 128,
                  "original (original_max_position_embeddings): '-3' is not a positive integer");
    scaling_error("yarn:factor=4,original=4096.5", 128, "'4096.5' is not a positive integer");
    scaling_error("yarn:factor=4,original=4096,truncate=2", 128,
                  "truncate: '2' is not 0, 1, true or false");
    scaling_error("yarn:factor=4,original=4096,attention_factor=0", 128,
                  "attention_factor: 0 must be > 0");
    scaling_error("yarn:factor=4,original=4096,beta_fast=1,beta_slow=2", 128,
                  "need beta_fast > beta_slow > 0");
    scaling_error("linear:factor=-1", 128, "factor -1 must be positive and finite");
    scaling_error("llama3:factor=8,low=4,high=1,original=8192", 128,
                  "need high_freq_factor > low_freq_factor > 0");
    scaling_error("linear:factor", 128, "linear: 'factor' is not KEY=VALUE");
    scaling_error("linear:", 128, "linear: nothing after ':'");
    scaling_error("linear:factor=2,", 128, "linear: empty item");
    scaling_error("table:theta.txt", 128, "table: expected table:@FILE");
    scaling_error("table:@/nonexistent/theta.txt", 128, "table: cannot open");
    scaling_error("longrope:short=s.txt,long=@l,factor=2,original=8", 8,
                  "short_factor: expected @FILE");
    scaling_error("ntk:factor=2", 2, "rotary_dim must exceed 2");
    scaling_error("linear:factor=2", 7, "rotary_dim 7 must be even");
}

/* A config of many members: the duplicate-name check sorts the names
 * rather than comparing every pair (200k members took minutes that way).
 * The duplicate reported is the one a reader meets first, even when a
 * later name repeats more often. */
static char *many_keys_config(size_t n, const char *tail)
{
    size_t cap = n * 24 + strlen(tail) + 256;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t at = (size_t)snprintf(s, cap, "{" HEAD);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "\"k%zu\": %zu, ", i, i);
    snprintf(s + at, cap - at, "%s}", tail);
    return s;
}

Test(model_config, duplicate_check_scales_and_names_the_first_repeat)
{
    char *ok = many_keys_config(200000, "\"rope_theta\": 10000");
    rc_model_config m;
    parse_ok(ok, &m);
    free(ok);

    char *bad = many_keys_config(200000, "\"zz\": 1, \"k7\": 3, \"zz\": 2, \"zz\": 4, \"k3\": 0");
    expect_error(bad, "k7: appears twice");
    free(bad);
}

/* The number reader is asked for r/2 numbers, 1..512: any other count is
 * the caller's bug, refused before the file is read. */
Test(scaling_parse, number_reader_refuses_an_impossible_count)
{
    double *v = (double *)1;
    char err[256] = "";
    cr_expect_eq(rc_scaling_read_numbers("/nonexistent", "t", 0, &v, err, sizeof err), -1);
    cr_expect(v == NULL && strstr(err, "internal: 0 numbers") != NULL, "%s", err);
    cr_expect_eq(rc_scaling_read_numbers("/nonexistent", "t", 513, &v, err, sizeof err), -1);
    cr_expect(strstr(err, "internal: 513 numbers") != NULL, "%s", err);
}

/* A table written on Windows (CRLF line ends, a blank after a number)
 * reads as the same numbers; a number with junk after it does not. */
Test(scaling_parse, table_file_with_crlf_line_ends)
{
    make_tmpdir();
    char spec[256];
    snprintf(spec, sizeof spec, "table:%s",
             at_file(0, "crlf.txt", "# theta per pair\r\n1.0\r\n0.5 \r\n\r\n0.25\t\r\n0.125\r\n"));
    rc_scaling sc;
    scaling_ok(spec, 8, &sc);
    cr_expect(sc.table[0] == 1.0 && sc.table[1] == 0.5 && sc.table[2] == 0.25 &&
                  sc.table[3] == 0.125,
              "%g %g %g %g", sc.table[0], sc.table[1], sc.table[2], sc.table[3]);
    rc_scaling_free_arrays(&sc);
    snprintf(spec, sizeof spec, "table:%s",
             at_file(1, "junk.txt", "1.0\r\n0.5x\r\n0.25\r\n0.125\r\n"));
    scaling_error(spec, 8, "'0.5x' is not a finite number");
    remove_tmpdir();
}

/* Inline scaling specs are read as strictly as every option: numbers are
 * finite decimals, original a positive decimal integer, truncate exactly
 * 0, 1, true or false. */
Test(scaling_parse, inline_values_are_strict)
{
    rc_scaling sc;
    scaling_ok("yarn:factor=4,original=4096,truncate=true", 128, &sc);
    cr_expect_eq(sc.truncate, 1);
    scaling_ok("yarn:factor=4,original=4096,truncate=0", 128, &sc);
    cr_expect_eq(sc.truncate, 0);
    scaling_ok("yarn:factor=4,original=4096,truncate=1", 128, &sc);
    cr_expect_eq(sc.truncate, 1);
    scaling_ok("yarn:factor=4,original=4096,truncate=false", 128, &sc);
    cr_expect_eq(sc.truncate, 0);
    static const char *const bad[][2] = {
        {"yarn:factor=4,original=4096,truncate=-1", "is not 0, 1, true or false"},
        {"yarn:factor=4,original=4096,truncate=", "is not 0, 1, true or false"},
        {"yarn:factor=4,original=4096,truncate=yes", "is not 0, 1, true or false"},
        {"yarn:factor=4,original= 4096", "is not a positive integer"},
        {"yarn:factor=4,original=+4096", "is not a positive integer"},
        {"yarn:factor=4,original=0x1000", "is not a positive integer"},
        {"linear:factor= 8", "is not a finite decimal number"},
        {"linear:factor=0x1p3", "is not a finite decimal number"},
        {"linear:factor=inf", "is not a finite decimal number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        scaling_error(bad[i][0], 128, bad[i][1]);
    rc_scaling_free_arrays(NULL); /* documented as a no-op, like free(NULL) */
}
