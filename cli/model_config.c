/*
 * cli/model_config.c - a Hugging Face config.json to an rc_model_config.
 *
 * The definitions followed are those of transformers' modeling_rope_utils.py
 * (the _compute_*_parameters functions and the rope validation) and of the
 * model configs themselves (GPTJConfig, GPTNeoXConfig, Phi3Config). Where
 * transformers versions differ, or transformers only warns, the choice made
 * here is written next to the code. The rule throughout: a config whose
 * fields can be read two ways is an error, not a guess, because verifying
 * a port against the wrong reading passes the wrong port.
 */
#include "cli/model_config.h"

#include "cli/safe_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/scaling_parse.h"
#include "core/scaling.h"

/* Integers in a JSON file are doubles to cJSON; beyond 2^53 they are no
 * longer exact, and no RoPE field needs that range. */
#define MAX_JSON_INT 9007199254740992.0

typedef struct ctx {
    const char *origin;
    char *err;
    size_t err_len;
} ctx;

__attribute__((format(printf, 3, 4))) static int fail(ctx *c, const char *field,
                                                      const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (field && *field)
        snprintf(c->err, c->err_len, "%s: %s: %s", c->origin, field, msg);
    else
        snprintf(c->err, c->err_len, "%s: %s", c->origin, msg);
    return -1;
}

/* The member named key, or NULL when absent or JSON null (transformers
 * writes null for "not set", e.g. "rope_scaling": null). Case-sensitive,
 * unlike cJSON_GetObjectItem. */
static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return (it && !cJSON_IsNull(it)) ? it : NULL;
}

static const char *json_kind(const cJSON *it)
{
    if (cJSON_IsString(it))
        return "a string";
    if (cJSON_IsBool(it))
        return "a boolean";
    if (cJSON_IsArray(it))
        return "an array";
    if (cJSON_IsObject(it))
        return "an object";
    if (cJSON_IsNumber(it))
        return "a number";
    return "something else";
}

/* "rope_scaling.factor" from prefix "rope_scaling." and key "factor". */
static const char *field_name(char *buf, size_t len, const char *prefix, const char *key)
{
    /* snprintf's truncation, spelled out: gcc's -Wformat-truncation cannot
     * see that no real prefix fills the buffer. */
    size_t n = 0;
    for (const char *p = prefix; *p && n + 1 < len; p++)
        buf[n++] = *p;
    for (const char *p = key; *p && n + 1 < len; p++)
        buf[n++] = *p;
    if (len)
        buf[n] = '\0';
    return buf;
}

/* 1 present (value in *out), 0 absent, -1 error. */
static int get_number(ctx *c, const cJSON *obj, const char *prefix, const char *key, double *out)
{
    const cJSON *it = member(obj, key);
    if (it == NULL)
        return 0;
    char f[96];
    field_name(f, sizeof f, prefix, key);
    if (!cJSON_IsNumber(it))
        return fail(c, f, "must be a number, got %s", json_kind(it));
    if (!isfinite(it->valuedouble))
        return fail(c, f, "must be finite");
    *out = it->valuedouble;
    return 1;
}

/* A number > 0 (factors, frequencies). */
static int get_positive(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                        double *out)
{
    int rc = get_number(c, obj, prefix, key, out);
    char f[96];
    if (rc == 1 && !(*out > 0.0))
        return fail(c, field_name(f, sizeof f, prefix, key), "%.17g must be > 0", *out);
    return rc;
}

static int get_int(ctx *c, const cJSON *obj, const char *prefix, const char *key, int64_t min,
                   int64_t *out)
{
    double v = 0.0; /* set by get_number when it returns 1; gcc -O3 cannot see that */
    int rc = get_number(c, obj, prefix, key, &v);
    if (rc != 1)
        return rc;
    char f[96];
    field_name(f, sizeof f, prefix, key);
    if (v != floor(v) || fabs(v) > MAX_JSON_INT)
        return fail(c, f, "%.17g is not an integer", v);
    if (v < (double)min)
        return fail(c, f, "%.17g must be >= %lld", v, (long long)min);
    *out = (int64_t)v;
    return 1;
}

static int get_string(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      const char **out)
{
    const cJSON *it = member(obj, key);
    if (it == NULL)
        return 0;
    char f[96];
    if (!cJSON_IsString(it))
        return fail(c, field_name(f, sizeof f, prefix, key), "must be a string, got %s",
                    json_kind(it));
    *out = it->valuestring;
    return 1;
}

static int get_bool(ctx *c, const cJSON *obj, const char *prefix, const char *key, int *out)
{
    const cJSON *it = member(obj, key);
    if (it == NULL)
        return 0;
    char f[96];
    if (!cJSON_IsBool(it))
        return fail(c, field_name(f, sizeof f, prefix, key), "must be true or false, got %s",
                    json_kind(it));
    *out = cJSON_IsTrue(it);
    return 1;
}

/* One member of an object, remembered with its place in the file so that
 * the duplicate reported is the first one a reader meets. */
typedef struct named_member {
    const char *name;
    size_t order;
} named_member;

static int by_name_then_order(const void *pa, const void *pb)
{
    const named_member *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return (a->order > b->order) - (a->order < b->order);
}

/* Two members with one name: Python's json keeps the last, cJSON finds the
 * first, so the file means different things to different readers. Sorting
 * the names makes this O(n log n): comparing every pair took minutes on a
 * 1 MB config of 100k keys (issue 14), and the 16 MB cap allowed hours. */
static int check_duplicates(ctx *c, const cJSON *obj, const char *prefix)
{
    size_t n = 0;
    for (const cJSON *a = obj->child; a; a = a->next)
        n++;
    if (n < 2)
        return 0;
    named_member *v = malloc(n * sizeof *v);
    if (!v)
        return fail(c, NULL, "out of memory checking %zu member names", n);
    size_t k = 0;
    for (const cJSON *a = obj->child; a; a = a->next, k++)
        v[k] = (named_member){a->string ? a->string : "", k};
    qsort(v, n, sizeof *v, by_name_then_order);
    /* Of every repeated name, the second occurrence in file order; the
     * earliest of those is where a reader first sees two meanings. */
    const char *dup = NULL;
    size_t dup_at = n;
    for (k = 1; k < n; k++)
        if (strcmp(v[k - 1].name, v[k].name) == 0 && v[k].order < dup_at &&
            (k < 2 || strcmp(v[k - 2].name, v[k].name) != 0)) {
            dup = v[k].name;
            dup_at = v[k].order;
        }
    int rc = 0;
    if (dup) {
        char f[96];
        rc = fail(c, field_name(f, sizeof f, prefix, dup),
                  "appears twice (readers disagree on which one counts)");
    }
    free(v);
    return rc;
}

/* --- where the language model's fields are ----------------------------- */

/* Multimodal model families whose config transformers builds with its own
 * text config class: their defaults fill what the file leaves out, and
 * their rotary embedding fixes the M-RoPE layout. Values from transformers
 * 5.25 (models/<family>/configuration_<family>.py: the class fields and
 * default_theta; modeling_<family>.py: the rotary embedding's
 * mrope_section default and recomposition_frequencies). */
enum { MROPE_NONE, MROPE_CONTIGUOUS, MROPE_INTERLEAVED };

typedef struct family {
    const char *outer, *text; /* model_type of the multimodal config / of its text_config */
    const char *cls;          /* transformers' text config class */
    const char *rotary;       /* ... and its rotary embedding, for messages */
    int flat;                 /* without text_config, the top level is the text config */
    int64_t hidden, heads, kv, head_dim, max_pos; /* head_dim 0: hidden / heads */
    double theta, local_theta;                    /* local_theta 0: one RoPE */
    int mrope;
    int32_t sections[3];
} family;

static const family families[] = {
    /* Qwen2VLConfig.__post_init__ moves a flat config's text fields into
     * text_config ("Hub configs are saved as flat dicts"); the rotary
     * embedding always splits the pairs by mrope_section, default
     * [16, 24, 24], contiguously (m[i % 3] per section). */
    {"qwen2_vl", "qwen2_vl_text", "Qwen2VLTextConfig", "Qwen2VLRotaryEmbedding", 1, 8192, 64, 8,
     0, 32768, 1e6, 0.0, MROPE_CONTIGUOUS, {16, 24, 24}},
    {"qwen2_5_vl", "qwen2_5_vl_text", "Qwen2_5_VLTextConfig", "Qwen2_5_VLRotaryEmbedding", 1,
     8192, 64, 8, 0, 32768, 1e6, 0.0, MROPE_CONTIGUOUS, {16, 24, 24}},
    /* Qwen3VLConfig reads text_config only (a missing one is all
     * defaults); Qwen3VLTextRotaryEmbedding.recomposition_frequencies
     * interleaves whatever mrope_interleaved says (transformers never
     * reads that key: it is only in ignore_keys_at_rope_validation). */
    {"qwen3_vl", "qwen3_vl_text", "Qwen3VLTextConfig", "Qwen3VLTextRotaryEmbedding", 0, 4096, 32,
     32, 128, 128000, 5e5, 0.0, MROPE_INTERLEAVED, {24, 20, 20}},
    {"qwen3_vl_moe", "qwen3_vl_moe_text", "Qwen3VLMoeTextConfig", "Qwen3VLMoeTextRotaryEmbedding",
     0, 2048, 16, 16, 0, 128000, 5e5, 0.0, MROPE_INTERLEAVED, {24, 20, 20}},
    /* Gemma3Config reads text_config only; Gemma3TextConfig always has
     * two RoPEs, default_theta {"global": 1e6, "local": 1e4}. */
    {"gemma3", "gemma3_text", "Gemma3TextConfig", NULL, 0, 2304, 8, 4, 256, 131072, 1e6, 1e4,
     MROPE_NONE, {0, 0, 0}},
};

static const family *family_named(const char *model_type, int *is_outer)
{
    for (size_t i = 0; model_type && i < sizeof families / sizeof families[0]; i++) {
        if (strcmp(model_type, families[i].outer) == 0) {
            *is_outer = 1;
            return &families[i];
        }
        if (strcmp(model_type, families[i].text) == 0) {
            *is_outer = 0;
            return &families[i];
        }
    }
    return NULL;
}

/* The language model's fields: the top level, or text_config. A field is
 * read from text_config when text_config has it, else from the top level
 * (reconcile() has made sure the two agree, or that transformers reads
 * the same value either way). */
typedef struct lm_view {
    const cJSON *root;
    const cJSON *text;   /* text_config, or NULL */
    const family *fam;   /* a known family, or NULL */
    const char *lm_type; /* the language model's model_type, "" if none */
} lm_view;

static const cJSON *lm_obj(const lm_view *v, const char *key, const char **prefix)
{
    if (v->text && member(v->text, key)) {
        *prefix = "text_config.";
        return v->text;
    }
    *prefix = "";
    return v->root;
}

/* Where a missing field would be: text_config's name when the file has one. */
static const char *lm_missing(const lm_view *v, char *buf, size_t len, const char *key)
{
    return field_name(buf, len, v->text ? "text_config." : "", key);
}

static int lm_number(ctx *c, const lm_view *v, const char *key, double *out)
{
    const char *p;
    const cJSON *o = lm_obj(v, key, &p);
    return get_number(c, o, p, key, out);
}

static int lm_int(ctx *c, const lm_view *v, const char *key, int64_t min, int64_t *out)
{
    const char *p;
    const cJSON *o = lm_obj(v, key, &p);
    return get_int(c, o, p, key, min, out);
}

/* A field with two spellings (GPT-J's n_embd is transformers' hidden_size
 * through GPTJConfig.attribute_map): both may appear only if they agree. */
static int get_int_alias(ctx *c, const lm_view *v, const char *key, const char *alias,
                         int64_t min, int64_t *out)
{
    int64_t a = 0, b = 0;
    int ra = lm_int(c, v, key, min, &a);
    if (ra < 0)
        return -1;
    int rb = lm_int(c, v, alias, min, &b);
    if (rb < 0)
        return -1;
    if (ra && rb && a != b)
        return fail(c, key, "%lld disagrees with %s %lld", (long long)a, alias, (long long)b);
    if (ra || rb)
        *out = ra ? a : b;
    return ra || rb;
}

/* Two JSON values that mean the same: numbers exactly equal, anything else
 * equal as cJSON compares it. */
static int same_json(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    return cJSON_Compare(a, b, 1);
}

/* The language-model fields this parser reads. */
static const char *const lm_keys[] = {
    "num_attention_heads", "n_head", "hidden_size", "n_embd", "head_dim",
    "num_key_value_heads", "max_position_embeddings", "n_positions", "rope_theta",
    "rotary_emb_base", "partial_rotary_factor", "rotary_pct", "rotary_dim", "rope_scaling",
    "rope_parameters", "rope_local_base_freq", "original_max_position_embeddings",
};

/* The family's default for key, if the class has one. */
static int family_default(const family *f, const char *key, double *out)
{
    if (!f)
        return 0;
    double v = 0.0;
    if (strcmp(key, "hidden_size") == 0)
        v = (double)f->hidden;
    else if (strcmp(key, "num_attention_heads") == 0)
        v = (double)f->heads;
    else if (strcmp(key, "num_key_value_heads") == 0)
        v = (double)f->kv;
    else if (strcmp(key, "head_dim") == 0)
        v = (double)f->head_dim;
    else if (strcmp(key, "max_position_embeddings") == 0)
        v = (double)f->max_pos;
    else if (strcmp(key, "rope_theta") == 0)
        v = f->theta;
    else if (strcmp(key, "rope_local_base_freq") == 0)
        v = f->local_theta;
    if (v == 0.0)
        return 0;
    *out = v;
    return 1;
}

/* A field at the top level and in text_config must agree. And where
 * transformers reads the language model from text_config alone (the
 * family's config class with a text_config, or Qwen3-VL / Gemma 3 even
 * without one: a missing text_config is all defaults there), a top-level
 * field text_config lacks is ignored by transformers: harmless when it
 * equals the class default, else the file means two things. For other
 * model types, a field only at the top level is read there. */
static int reconcile(ctx *c, const lm_view *v, int text_only)
{
    char f[96];
    for (size_t i = 0; i < sizeof lm_keys / sizeof lm_keys[0]; i++) {
        const char *key = lm_keys[i];
        const cJSON *top = member(v->root, key);
        const cJSON *in = v->text ? member(v->text, key) : NULL;
        if (!top)
            continue;
        if (in) {
            if (same_json(top, in))
                continue;
            if (cJSON_IsNumber(top) && cJSON_IsNumber(in))
                return fail(c, key,
                            "%.17g disagrees with text_config.%s %.17g (transformers reads the "
                            "language model's fields from text_config)",
                            top->valuedouble, key, in->valuedouble);
            return fail(c, key,
                        "the top-level value disagrees with text_config.%s (transformers reads "
                        "the language model's fields from text_config)",
                        key);
        }
        if (!text_only)
            continue;
        double def = 0.0;
        int has_def = family_default(v->fam, key, &def);
        if (has_def && cJSON_IsNumber(top) && top->valuedouble == def)
            continue;
        if (has_def)
            return fail(c, key,
                        "given at the top level, which transformers' %s does not read for "
                        "model_type '%s' (it takes text_config.%s, default %.17g there); move "
                        "it into text_config",
                        v->fam->cls, v->fam->outer, key, def);
        return fail(c, key,
                    "given at the top level, which transformers' %s does not read for model_type "
                    "'%s' (it reads %s); move it into text_config",
                    v->fam->cls, v->fam->outer, lm_missing(v, f, sizeof f, key));
    }
    return 0;
}

/* head_dim, heads, kv heads, max positions. */
static int read_shape(ctx *c, const lm_view *v, rc_model_config *m)
{
    const family *fam = v->fam;
    char f[96];
    int64_t heads = 0, hidden = 0, head_dim = 0, kv = 0, maxpos = 0;
    int rc = get_int_alias(c, v, "num_attention_heads", "n_head", 1, &heads);
    if (rc < 0)
        return -1;
    if (rc == 0 && fam)
        heads = fam->heads;
    else if (rc == 0)
        return fail(c, lm_missing(v, f, sizeof f, "num_attention_heads"), "missing");
    int has_hidden = get_int_alias(c, v, "hidden_size", "n_embd", 1, &hidden);
    if (has_hidden < 0)
        return -1;
    if (!has_hidden && fam) {
        hidden = fam->hidden;
        has_hidden = 1;
    }
    int has_head_dim = lm_int(c, v, "head_dim", 1, &head_dim);
    if (has_head_dim < 0)
        return -1;
    if (!has_head_dim && fam && fam->head_dim) {
        head_dim = fam->head_dim;
        has_head_dim = 1;
    }
    /* transformers: head_dim if the config has one, else hidden_size //
     * num_attention_heads. A head_dim different from the quotient is not
     * a contradiction (Gemma and Qwen3 configs have one), so it wins. A
     * quotient that is not exact would truncate silently there: refuse. */
    if (!has_head_dim) {
        if (!has_hidden)
            return fail(c, lm_missing(v, f, sizeof f, "hidden_size"),
                        "missing (needed for head_dim = hidden_size / num_attention_heads, since "
                        "head_dim is absent)");
        if (hidden % heads != 0)
            return fail(c, lm_missing(v, f, sizeof f, "hidden_size"),
                        "%lld is not divisible by num_attention_heads %lld (and head_dim is "
                        "absent)",
                        (long long)hidden, (long long)heads);
        head_dim = hidden / heads;
    } else if (fam && fam->mrope == MROPE_CONTIGUOUS && head_dim * heads != hidden) {
        /* Qwen2VLAttention / Qwen2_5_VLAttention: head_dim = hidden_size
         * // num_heads, whatever head_dim says; only the rotary embedding
         * reads head_dim, so the two would disagree. */
        return fail(c, lm_missing(v, f, sizeof f, "head_dim"),
                    "%lld, but transformers' attention for model_type '%s' uses hidden_size / "
                    "num_attention_heads = %lld / %lld",
                    (long long)head_dim, fam->outer, (long long)hidden, (long long)heads);
    }
    if (head_dim % 2 != 0 || head_dim < 2 || head_dim > RC_MAX_HEAD_DIM)
        return fail(c, lm_missing(v, f, sizeof f, "head_dim"),
                    "%lld%s must be even and in [2, %d]", (long long)head_dim,
                    has_head_dim ? "" : " (hidden_size / num_attention_heads)", RC_MAX_HEAD_DIM);
    if (heads > INT32_MAX)
        return fail(c, lm_missing(v, f, sizeof f, "num_attention_heads"), "%lld is too large",
                    (long long)heads);
    rc = lm_int(c, v, "num_key_value_heads", 1, &kv);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        /* transformers' default is plain multi-head attention; the Qwen
         * VL and Gemma 3 classes default to a number instead, and turn
         * an explicit null into num_attention_heads. */
        const char *p;
        const cJSON *o = lm_obj(v, "num_key_value_heads", &p);
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(o, "num_key_value_heads");
        kv = fam && !cJSON_IsNull(raw) ? fam->kv : heads;
    }
    if (heads % kv != 0)
        return fail(c, lm_missing(v, f, sizeof f, "num_key_value_heads"),
                    "%lld does not divide num_attention_heads %lld", (long long)kv,
                    (long long)heads);
    rc = get_int_alias(c, v, "max_position_embeddings", "n_positions", 1, &maxpos);
    if (rc < 0)
        return -1;
    if (rc == 0 && fam)
        maxpos = fam->max_pos;
    m->n_heads = (int32_t)heads;
    m->n_kv_heads = (int32_t)kv;
    m->head_dim = (int32_t)head_dim;
    m->max_position = maxpos;
    return 0;
}

/* One number the config may give in up to three places, every one present
 * agreeing: keys[0] or keys[1] where the language model's fields are
 * (lm_obj), and rp_key of rope_parameters. Each must lie in (0, max]
 * (max infinite: > 0). 1 with *out and its field's name in name (the first
 * given), 0 when none is, -1 after fail(). */
static int read_agreed_number(ctx *c, const lm_view *v, const char *const keys[2],
                              const cJSON *rope_params, const char *rp_prefix,
                              const char *rp_key, double max, double *out, char name[96])
{
    char names[3][96];
    double val[3];
    int have[3];
    for (int i = 0; i < 2; i++) {
        const char *p;
        const cJSON *o = lm_obj(v, keys[i], &p);
        field_name(names[i], sizeof names[i], p, keys[i]);
        if ((have[i] = get_number(c, o, p, keys[i], &val[i])) < 0)
            return -1;
    }
    field_name(names[2], sizeof names[2], rp_prefix, rp_key);
    if ((have[2] = get_number(c, rope_params, rp_prefix, rp_key, &val[2])) < 0)
        return -1;
    int first = -1;
    for (int i = 0; i < 3; i++) {
        if (!have[i])
            continue;
        if (!(val[i] > 0.0 && val[i] <= max))
            return isinf(max) ? fail(c, names[i], "%.17g must be > 0", val[i])
                              : fail(c, names[i], "%.17g must be in (0, %g]", val[i], max);
        if (first < 0)
            first = i;
        else if (val[i] != val[first])
            return fail(c, names[i], "%.17g disagrees with %s %.17g", val[i], names[first],
                        val[first]);
    }
    if (first < 0)
        return 0;
    *out = val[first];
    memcpy(name, names[first], 96);
    return 1;
}

/* base: rope_theta (Llama, Qwen, Phi), rotary_emb_base (GPT-NeoX), or
 * rope_parameters.rope_theta (transformers v5; with per-layer-type
 * parameters, full_attention's); none of them: the family's default_theta,
 * else 10000 (GPT-J, and transformers' default). Every one present must
 * agree. */
static int read_base(ctx *c, const lm_view *v, const cJSON *rope_params, const char *rp_prefix,
                     rc_model_config *m)
{
    static const char *const keys[2] = {"rope_theta", "rotary_emb_base"};
    char name[96];
    double base = 0.0;
    const int got = read_agreed_number(c, v, keys, rope_params, rp_prefix, "rope_theta",
                                       INFINITY, &base, name);
    if (got < 0)
        return -1;
    m->base = got ? base : v->fam ? v->fam->theta : 10000.0;
    return 0;
}

/* rotary_dim: transformers computes int(head_dim * partial_rotary_factor)
 * (GPT-NeoX: int(head_size * rotary_pct)); GPT-J gives rotary_dim itself
 * (null: the whole head). The product below is the same IEEE double
 * multiplication Python does, truncated as int() truncates. *factor is the
 * fraction in force (1 without one), for the local RoPE to compare with. */
static int read_rotary(ctx *c, const lm_view *v, const cJSON *rope_params, const char *rp_prefix,
                       rc_model_config *m, double *factor)
{
    static const char *const keys[2] = {"partial_rotary_factor", "rotary_pct"};
    char fname[96];
    double frac = 1.0;
    const int have_frac = read_agreed_number(c, v, keys, rope_params, rp_prefix,
                                             "partial_rotary_factor", 1.0, &frac, fname);
    if (have_frac < 0)
        return -1;
    int64_t abs_dim = 0;
    const char *ap;
    const cJSON *ao = lm_obj(v, "rotary_dim", &ap);
    char af[96];
    field_name(af, sizeof af, ap, "rotary_dim");
    int has_abs = get_int(c, ao, ap, "rotary_dim", 1, &abs_dim);
    if (has_abs < 0)
        return -1;
    int64_t r = m->head_dim;
    *factor = frac;
    if (have_frac) {
        r = (int64_t)((double)m->head_dim * frac);
        if (has_abs && abs_dim != r)
            return fail(c, af, "%lld disagrees with int(head_dim %d * %s %.17g) = %lld",
                        (long long)abs_dim, (int)m->head_dim, fname, frac,
                        (long long)r);
        if (r < 2 || r % 2 != 0)
            return fail(c, fname,
                        "int(head_dim %d * %.17g) = %lld rotated channels: must be even and "
                        ">= 2",
                        (int)m->head_dim, frac, (long long)r);
    } else if (has_abs) {
        r = abs_dim;
        if (r < 2 || r % 2 != 0 || r > m->head_dim)
            return fail(c, af, "%lld must be even and in [2, head_dim %d]", (long long)r,
                        (int)m->head_dim);
    }
    m->rotary_dim = (int32_t)r;
    return 0;
}

/* The numbers of a short_factor / long_factor list, r/2 of them. */
static int read_factor_list(ctx *c, const cJSON *rs, const char *prefix, const char *key,
                            int32_t half, const double **out)
{
    char f[96];
    field_name(f, sizeof f, prefix, key);
    const cJSON *arr = member(rs, key);
    if (arr == NULL)
        return fail(c, f, "missing (required by rope_type 'longrope')");
    if (!cJSON_IsArray(arr))
        return fail(c, f, "must be an array of numbers, got %s", json_kind(arr));
    int n = cJSON_GetArraySize(arr);
    if (n != half)
        return fail(c, f, "%d entries; rotary_dim %d needs %d (one per pair)", n,
                    (int)(2 * half), (int)half);
    double *v = malloc(sizeof(double) * (size_t)half);
    if (v == NULL)
        return fail(c, f, "out of memory");
    int i = 0;
    for (const cJSON *it = arr->child; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !(it->valuedouble > 0.0)) {
            free(v);
            if (!cJSON_IsNumber(it))
                return fail(c, f, "entry %d must be a number, got %s", i, json_kind(it));
            return fail(c, f, "entry %d = %.17g must be positive and finite", i,
                        it->valuedouble);
        }
        v[i] = it->valuedouble;
    }
    *out = v;
    return 0;
}

/* Hugging Face's rope type names to the family. "su" is LongRoPE's first
 * name (Phi-3's first configs); Phi3Config also renames a legacy `type`
 * "yarn" to longrope (its _rope_scaling_adjustment), so for model_type
 * phi3 the legacy key follows that rule. */
static const char *canonical_type(const char *name, int legacy_key, const char *model_type)
{
    if (strcmp(name, "su") == 0)
        return "longrope";
    /* Qwen2-VL's `"type": "mrope"` is the default frequencies
     * (Qwen2VLTextConfig.convert_rope_params_to_dict sets rope_type
     * "default"; transformers 5 then writes both keys, type "mrope" and
     * rope_type "default"); the axes are read_mrope's. */
    if (strcmp(name, "mrope") == 0)
        return "default";
    if (legacy_key && strcmp(name, "yarn") == 0 && strcmp(model_type, "phi3") == 0)
        return "longrope";
    return name;
}

static int family_of(const char *name, rc_scaling_type *t)
{
    static const struct {
        const char *name;
        rc_scaling_type type;
    } map[] = {{"default", RC_SCALING_NONE},     {"linear", RC_SCALING_LINEAR},
               {"dynamic", RC_SCALING_DYNAMIC_NTK}, {"yarn", RC_SCALING_YARN},
               {"llama3", RC_SCALING_LLAMA3},     {"longrope", RC_SCALING_LONGROPE}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].name) == 0) {
            *t = map[i].type;
            return 0;
        }
    return -1;
}

static int require_positive(ctx *c, const cJSON *rs, const char *prefix, const char *key,
                            const char *type, double *out)
{
    int rc = get_positive(c, rs, prefix, key, out);
    char f[96];
    if (rc == 0)
        return fail(c, field_name(f, sizeof f, prefix, key), "missing (required by rope_type '%s')",
                    type);
    return rc < 0 ? -1 : 0;
}

/* The attention factor, where a family takes one: present means > 0,
 * since 0 in rc_scaling means "derive it from the formula". */
static int read_attention_factor(ctx *c, const cJSON *rs, const char *prefix, rc_scaling *sc)
{
    double a = 0.0;
    int rc = get_number(c, rs, prefix, "attention_factor", &a);
    char f[96];
    if (rc == 1 && !(a > 0.0))
        return fail(c, field_name(f, sizeof f, prefix, "attention_factor"),
                    "%.17g must be > 0", a);
    sc->attention_factor = rc == 1 ? a : 0.0;
    return rc < 0 ? -1 : 0;
}

/* YaRN's original context L0. transformers >= 4.45 reads
 * rope_scaling.original_max_position_embeddings and falls back to
 * max_position_embeddings; v5 also moves a top-level
 * original_max_position_embeddings into the rope parameters, with
 * priority. Where those readings differ the file is ambiguous: error. */
static int yarn_original(ctx *c, const char *prefix, int has_rs_orig, int64_t rs_orig,
                         int has_top_orig, int64_t top_orig, const rc_model_config *m,
                         int64_t *l0)
{
    char f[96];
    field_name(f, sizeof f, prefix, "original_max_position_embeddings");
    if (has_rs_orig && has_top_orig && rs_orig != top_orig)
        return fail(c, f, "%lld disagrees with the top-level original_max_position_embeddings "
                          "%lld",
                    (long long)rs_orig, (long long)top_orig);
    if (has_rs_orig) {
        *l0 = rs_orig;
        return 0;
    }
    if (m->max_position == 0)
        return fail(c, f, "missing, and no max_position_embeddings to fall back on");
    if (has_top_orig && top_orig != m->max_position)
        return fail(c, "original_max_position_embeddings",
                    "top-level %lld and max_position_embeddings %lld: transformers 4.x takes "
                    "YaRN's original context from the latter, 5.x from the former; put it in "
                    "%soriginal_max_position_embeddings",
                    (long long)top_orig, (long long)m->max_position, prefix);
    *l0 = m->max_position;
    return 0;
}

static int read_scaling(ctx *c, const lm_view *v, const cJSON *rs, const char *prefix,
                        rc_model_config *m)
{
    rc_scaling *sc = &m->scaling;
    memset(sc, 0, sizeof *sc);
    if (rs == NULL)
        return 0;
    char f[96];
    const char *rope_type = NULL, *legacy = NULL;
    int has_rt = get_string(c, rs, prefix, "rope_type", &rope_type);
    int has_lt = get_string(c, rs, prefix, "type", &legacy);
    if (has_rt < 0 || has_lt < 0)
        return -1;
    const char *ct_rt = has_rt ? canonical_type(rope_type, 0, v->lm_type) : NULL;
    const char *ct_lt = has_lt ? canonical_type(legacy, 1, v->lm_type) : NULL;
    if (ct_rt && ct_lt && strcmp(ct_rt, ct_lt) != 0)
        return fail(c, field_name(f, sizeof f, prefix, "type"),
                    "'%s' disagrees with %srope_type '%s'", legacy, prefix, rope_type);
    const char *name = ct_rt ? ct_rt : ct_lt ? ct_lt : "default";
    rc_scaling_type t;
    if (family_of(name, &t) != 0)
        return fail(c, field_name(f, sizeof f, prefix, has_rt ? "rope_type" : "type"),
                    "unknown rope type '%s' (supported: default, linear, dynamic, yarn, "
                    "llama3, longrope; su = longrope, mrope = default)",
                    has_rt ? rope_type : legacy);
    sc->type = t;

    int64_t rs_orig = 0, top_orig = 0;
    int has_rs_orig = get_int(c, rs, prefix, "original_max_position_embeddings", 1, &rs_orig);
    int has_top_orig = lm_int(c, v, "original_max_position_embeddings", 1, &top_orig);
    if (has_rs_orig < 0 || has_top_orig < 0)
        return -1;
    const int32_t half = m->rotary_dim / 2;
    field_name(f, sizeof f, prefix, "original_max_position_embeddings");

    switch (t) {
    case RC_SCALING_NONE:
        return 0;
    case RC_SCALING_LINEAR:
        return require_positive(c, rs, prefix, "factor", name, &sc->factor);
    case RC_SCALING_DYNAMIC_NTK:
        /* transformers' dynamic NTK measures the sequence length against
         * max_position_embeddings (its own TODO notes it ignores
         * rope_scaling.original_max_position_embeddings); a different
         * value there would make the two readings disagree. */
        if (require_positive(c, rs, prefix, "factor", name, &sc->factor) != 0)
            return -1;
        if (m->max_position == 0)
            return fail(c, "max_position_embeddings",
                        "missing (dynamic scaling measures the sequence length against it)");
        if (has_rs_orig && rs_orig != m->max_position)
            return fail(c, f,
                        "%lld disagrees with max_position_embeddings %lld, which transformers "
                        "uses as dynamic scaling's original context",
                        (long long)rs_orig, (long long)m->max_position);
        sc->original_context = m->max_position;
        return 0;
    case RC_SCALING_YARN: {
        /* factor: the explicit rope_scaling.factor, always. transformers
         * 4.45 .. 4.55 replaced it by max_position_embeddings /
         * original_max_position_embeddings whenever the latter was given,
         * which turns Qwen2-7B-Instruct's documented YaRN (factor 4,
         * original 32768, max_position_embeddings 32768) into factor 1,
         * i.e. no scaling; transformers issue #38224, fixed by PR #40320,
         * restored the explicit factor (a mismatch only warns), and the
         * Qwen model cards and vLLM use it. */
        if (require_positive(c, rs, prefix, "factor", name, &sc->factor) != 0 ||
            yarn_original(c, prefix, has_rs_orig, rs_orig, has_top_orig, top_orig, m,
                          &sc->original_context) != 0)
            return -1;
        /* transformers: `rope_scaling.get("beta_fast") or 32`, so absent,
         * null and 0 all mean the default. */
        double bf = 0.0, bs = 0.0, ms = 0.0, msa = 0.0;
        int trunc = 1;
        if (get_number(c, rs, prefix, "beta_fast", &bf) < 0 ||
            get_number(c, rs, prefix, "beta_slow", &bs) < 0 ||
            get_bool(c, rs, prefix, "truncate", &trunc) < 0 ||
            get_number(c, rs, prefix, "mscale", &ms) < 0 ||
            get_number(c, rs, prefix, "mscale_all_dim", &msa) < 0 ||
            read_attention_factor(c, rs, prefix, sc) != 0)
            return -1;
        sc->beta_fast = bf != 0.0 ? bf : 32.0;
        sc->beta_slow = bs != 0.0 ? bs : 1.0;
        sc->truncate = trunc;
        if (ms < 0.0 || msa < 0.0)
            return fail(c, field_name(f, sizeof f, prefix, ms < 0.0 ? "mscale" : "mscale_all_dim"),
                        "%.17g must be >= 0", ms < 0.0 ? ms : msa);
        sc->mscale = ms;
        sc->mscale_all_dim = msa;
        return 0;
    }
    case RC_SCALING_LLAMA3:
        if (require_positive(c, rs, prefix, "factor", name, &sc->factor) != 0 ||
            require_positive(c, rs, prefix, "low_freq_factor", name, &sc->low_freq_factor) !=
                0 ||
            require_positive(c, rs, prefix, "high_freq_factor", name, &sc->high_freq_factor) !=
                0)
            return -1;
        if (!has_rs_orig)
            return fail(c, f, "missing (required by rope_type 'llama3')");
        /* v5 would let a top-level value override it. */
        if (has_top_orig && top_orig != rs_orig)
            return fail(c, f, "%lld disagrees with the top-level original_max_position_embeddings "
                              "%lld",
                        (long long)rs_orig, (long long)top_orig);
        sc->original_context = rs_orig;
        return 0;
    case RC_SCALING_LONGROPE: {
        if (read_attention_factor(c, rs, prefix, sc) != 0)
            return -1;
        double factor = 0.0;
        int has_factor = get_positive(c, rs, prefix, "factor", &factor);
        if (has_factor < 0)
            return -1;
        if (has_top_orig) {
            /* Phi-3: L0 is the top-level original_max_position_embeddings
             * and transformers (every version since LongRoPE landed)
             * derives the factor as max_position_embeddings / L0, the
             * float division Python does. */
            if (m->max_position == 0)
                return fail(c, "max_position_embeddings",
                            "missing (LongRoPE's factor is max_position_embeddings / "
                            "original_max_position_embeddings)");
            double derived = (double)m->max_position / (double)top_orig;
            if (has_rs_orig && rs_orig != top_orig)
                return fail(c, f,
                            "%lld disagrees with the top-level original_max_position_embeddings "
                            "%lld",
                            (long long)rs_orig, (long long)top_orig);
            if (has_factor && factor != derived)
                return fail(c, field_name(f, sizeof f, prefix, "factor"),
                            "%.17g disagrees with max_position_embeddings / "
                            "original_max_position_embeddings = %.17g",
                            factor, derived);
            sc->original_context = top_orig;
            sc->factor = derived;
        } else {
            if (!has_rs_orig && m->max_position == 0)
                return fail(c, f, "missing, and no max_position_embeddings to fall back on");
            sc->original_context = has_rs_orig ? rs_orig : m->max_position;
            /* factor only sets the default attention factor; with an
             * explicit one it is unused, and 1 satisfies the rules. */
            if (!has_factor && sc->attention_factor == 0.0)
                return fail(c, field_name(f, sizeof f, prefix, "factor"),
                            "missing (LongRoPE's attention factor needs it; Phi-3 style "
                            "configs give original_max_position_embeddings at the top level "
                            "instead)");
            sc->factor = has_factor ? factor : 1.0;
        }
        if (read_factor_list(c, rs, prefix, "short_factor", half, &sc->short_factor) != 0 ||
            read_factor_list(c, rs, prefix, "long_factor", half, &sc->long_factor) != 0)
            return -1;
        return 0;
    }
    default:
        return fail(c, prefix, "internal: unhandled family");
    }
}

/* The sections of an M-RoPE (rope_scaling.mrope_section) into m->axes.
 *
 * transformers 5.25: Qwen2VLTextConfig / Qwen2_5_VLTextConfig
 * .convert_rope_params_to_dict turn `type` "mrope" into rope_type
 * "default", and mrope_section is in every VL class's
 * ignore_keys_at_rope_validation: the sections ride beside whatever
 * rope_type the dict has. Qwen2VLRotaryEmbedding.__init__ computes inv_freq
 * with that rope type's function (ROPE_INIT_FUNCTIONS[rope_type]: yarn,
 * linear, ...) and forward() multiplies cos and sin by its attention
 * scaling, then recomposition_frequencies assigns the pairs to the axes;
 * so a frequency scaling family and M-RoPE combine (Qwen2.5-VL's model
 * card gives such a YaRN block), and both are read.
 *
 * The layout is the model's: for the Qwen VL families the rotary embedding
 * class decides (a contradicting mrope_interleaved is an error); for other
 * model types, mrope_interleaved true means interleaved. */
static int read_mrope(ctx *c, const lm_view *v, const cJSON *rs, const char *prefix,
                      rc_model_config *m)
{
    const family *fam = v->fam && v->fam->mrope != MROPE_NONE ? v->fam : NULL;
    char f[96], fi[96];
    field_name(f, sizeof f, prefix, "mrope_section");
    field_name(fi, sizeof fi, prefix, "mrope_interleaved");
    const cJSON *sections = member(rs, "mrope_section");
    int il = 0;
    int has_il = get_bool(c, rs, prefix, "mrope_interleaved", &il);
    if (has_il < 0)
        return -1;
    const char *rt = NULL, *lt = NULL;
    if (get_string(c, rs, prefix, "rope_type", &rt) < 0 ||
        get_string(c, rs, prefix, "type", &lt) < 0)
        return -1;
    int named_mrope = (rt && strcmp(rt, "mrope") == 0) || (lt && strcmp(lt, "mrope") == 0);
    if (!sections && !fam) {
        if (named_mrope || (has_il && il))
            return fail(c, f, "missing (%s says M-RoPE)",
                        named_mrope ? "type 'mrope'" : "mrope_interleaved true");
        return 0; /* one axis */
    }
    int interleaved = fam ? fam->mrope == MROPE_INTERLEAVED : has_il && il;
    if (fam && has_il && il != interleaved)
        return fail(c, fi,
                    "%s, but transformers' %s.recomposition_frequencies lays the sections out "
                    "%s whatever this says (model_type '%s')",
                    il ? "true" : "false", fam->rotary,
                    interleaved ? "interleaved" : "contiguously", fam->outer);
    /* Partial rotary: the VL rotary embeddings' default inv_freq spans the
     * whole head_dim (compute_default_rope_parameters ignores
     * partial_rotary_factor) while the scaled families' functions do not,
     * and either way cos/sin must span the head in
     * apply_multimodal_rotary_pos_emb / apply_rotary_pos_emb. */
    if (fam && m->rotary_dim != m->head_dim)
        return fail(c, "partial_rotary_factor",
                    "rotary_dim %d of head_dim %d: transformers' %s rotates the whole head",
                    (int)m->rotary_dim, (int)m->head_dim, fam->rotary);

    int32_t s[RC_MAX_AXES];
    int n = 0;
    char note[128] = "";
    if (!sections) {
        for (n = 0; n < 3; n++)
            s[n] = fam->sections[n];
        snprintf(note, sizeof note, " (transformers' %s default: the config gives none)",
                 fam->rotary);
    } else {
        if (!cJSON_IsArray(sections))
            return fail(c, f, "must be an array of positive integers, got %s",
                        json_kind(sections));
        int count = cJSON_GetArraySize(sections);
        /* Contiguous: 3 position axes (temporal, height, width), and
         * Qwen2VLRotaryEmbedding.recomposition_frequencies takes section
         * k from axis k % 3, so a 4th section would be axis 0 again, not
         * a 4th axis. Interleaved: Qwen3VLTextRotaryEmbedding reads
         * sections 1 and 2 and the pairs left over are axis 0's. */
        if (count < (interleaved ? 3 : 1) || count > 3)
            return fail(c, f,
                        "%d sections: %s M-RoPE has %s (temporal, height, width)%s", count,
                        interleaved ? "interleaved" : "contiguous",
                        interleaved ? "exactly 3" : "1 to 3",
                        count > 3 && !interleaved
                            ? "; transformers puts section k on axis k % 3, so a 4th section "
                              "is not a 4th axis"
                            : "");
        for (const cJSON *it = sections->child; it; it = it->next, n++) {
            if (!cJSON_IsNumber(it))
                return fail(c, f, "entry %d must be a positive integer, got %s", n,
                            json_kind(it));
            double x = it->valuedouble;
            if (!isfinite(x) || x != floor(x))
                return fail(c, f, "entry %d = %.17g is not an integer", n, x);
            if (x < 1.0)
                return fail(c, f, "entry %d = %.17g must be a positive integer (a section counts "
                                  "pairs)",
                            n, x);
            if (x > RC_MAX_HEAD_DIM / 2)
                return fail(c, f, "entry %d = %.17g is more pairs than any head has", n, x);
            s[n] = (int32_t)x;
        }
    }
    int64_t sum = 0;
    char terms[96] = "";
    size_t used = 0;
    for (int k = 0; k < n; k++) {
        sum += s[k];
        if (used < sizeof terms)
            used += (size_t)snprintf(terms + used, sizeof terms - used, "%s%d", k ? " + " : "",
                                     (int)s[k]);
    }
    if (sum != m->rotary_dim / 2)
        return fail(c, f, "%s = %lld pairs, not rotary_dim/2 = %d%s", terms, (long long)sum,
                    (int)(m->rotary_dim / 2), note);
    char why[256];
    int rc = interleaved ? rc_axes_interleaved(s, n, m->rotary_dim, &m->axes, why, sizeof why)
                         : rc_axes_sections(s, n, m->rotary_dim, &m->axes, why, sizeof why);
    if (rc != 0)
        return fail(c, f, "%s%s", why, note);
    snprintf(m->axes_kind, sizeof m->axes_kind, "%s", interleaved ? "mrope-interleaved" : "mrope");
    for (int k = 0; k < n; k++)
        m->mrope_section[k] = s[k];
    m->n_mrope_section = n;
    return 0;
}

/* The second RoPE of sliding-window layers (Gemma 3): local_base.
 *
 * transformers 4.x: rope_local_base_freq. transformers 5.25:
 * Gemma3TextConfig.convert_rope_params_to_dict builds
 * rope_parameters["sliding_attention"] with setdefault("rope_theta",
 * kwargs.pop("rope_local_base_freq", default_theta["local"] = 10000)), so
 * both spellings mean the same and may appear together only if they agree;
 * a Gemma 3 config with neither has local base 10000 (the class always
 * builds both RoPEs: Gemma3RotaryEmbedding, one inv_freq per layer type).
 * For other models with per-layer-type parameters, an entry without
 * rope_theta takes the top-level rope_theta
 * (RotaryEmbeddingConfigMixin.convert_rope_params_to_dict). */
static int read_local(ctx *c, const lm_view *v, const cJSON *sliding, const char *sprefix,
                      double global_factor, rc_model_config *m)
{
    char f[96];
    double lf = 0.0;
    const char *lp;
    const cJSON *lo = lm_obj(v, "rope_local_base_freq", &lp);
    char lname[96];
    field_name(lname, sizeof lname, lp, "rope_local_base_freq");
    int has_lf = get_number(c, lo, lp, "rope_local_base_freq", &lf);
    if (has_lf < 0)
        return -1;
    if (has_lf && !(lf > 0.0))
        return fail(c, lname, "%.17g must be > 0 and finite", lf);
    const family *fam = v->fam && v->fam->local_theta > 0.0 ? v->fam : NULL;
    if (sliding == NULL) {
        m->local_base = has_lf ? lf : fam ? fam->local_theta : 0.0;
        return 0;
    }
    const char *rt = NULL, *lt = NULL;
    if (get_string(c, sliding, sprefix, "rope_type", &rt) < 0 ||
        get_string(c, sliding, sprefix, "type", &lt) < 0)
        return -1;
    const char *t = rt ? rt : lt;
    if (t && strcmp(t, "default") != 0 && strcmp(t, "mrope") != 0)
        return fail(c, field_name(f, sizeof f, sprefix, rt ? "rope_type" : "type"),
                    "'%s': the sliding-window layers' RoPE must be rope_type 'default' (a "
                    "scaled local RoPE is not supported)",
                    t);
    if (rt && lt && strcmp(rt, lt) != 0)
        return fail(c, field_name(f, sizeof f, sprefix, "type"), "'%s' disagrees with %s "
                    "rope_type '%s'", lt, sprefix, rt);
    if (member(sliding, "mrope_section"))
        return fail(c, field_name(f, sizeof f, sprefix, "mrope_section"),
                    "a multi-axis local RoPE is not supported");
    double pf = 0.0;
    int has_pf = get_number(c, sliding, sprefix, "partial_rotary_factor", &pf);
    if (has_pf < 0)
        return -1;
    if (has_pf && pf != global_factor)
        return fail(c, field_name(f, sizeof f, sprefix, "partial_rotary_factor"),
                    "%.17g differs from the global RoPE's %.17g (one rotary_dim per model)", pf,
                    global_factor);
    double st = 0.0;
    int has_st = get_number(c, sliding, sprefix, "rope_theta", &st);
    if (has_st < 0)
        return -1;
    field_name(f, sizeof f, sprefix, "rope_theta");
    if (has_st && !(st > 0.0))
        return fail(c, f, "%.17g must be > 0", st);
    if (has_st && has_lf && st != lf)
        return fail(c, f, "%.17g disagrees with %s %.17g", st, lname, lf);
    if (has_st || has_lf) {
        m->local_base = has_st ? st : lf;
        return 0;
    }
    if (fam) {
        m->local_base = fam->local_theta;
        return 0;
    }
    double top = 0.0;
    int has_top = lm_number(c, v, "rope_theta", &top);
    if (has_top < 0)
        return -1;
    m->local_base = has_top && top > 0.0 ? top : 10000.0;
    return 0;
}

/* The RoPE dict of the language model: rope_scaling (transformers 4) or
 * rope_parameters (5), flat, or for rope_parameters one dict per layer
 * type (transformers 5 writes Gemma 3 that way: full_attention for the
 * global RoPE, sliding_attention for the local one). */
typedef struct rope_dicts {
    const cJSON *global, *sliding;
    const cJSON *params;    /* the dict rope_theta / partial_rotary_factor are read in, v5 only */
    char field[96];         /* "rope_scaling", "text_config.rope_parameters.full_attention", ... */
    char prefix[96];        /* field + "." */
    char sprefix[96];       /* the sliding entry's prefix */
} rope_dicts;

/* The keys of one RoPE dict (transformers' RopeParameters): an object
 * under one of these is that field of the wrong type, not a layer type. */
static int is_rope_field(const char *key)
{
    static const char *const keys[] = {
        "rope_theta", "rope_type", "type", "partial_rotary_factor", "factor",
        "original_max_position_embeddings", "attention_factor", "beta_fast", "beta_slow",
        "short_factor", "long_factor", "low_freq_factor", "high_freq_factor", "mscale",
        "mscale_all_dim", "truncate", "mrope_section", "mrope_interleaved"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int find_rope_dicts(ctx *c, const lm_view *v, rope_dicts *d)
{
    memset(d, 0, sizeof *d);
    const char *po, *pn;
    const cJSON *oo = lm_obj(v, "rope_scaling", &po);
    const cJSON *on = lm_obj(v, "rope_parameters", &pn);
    const cJSON *rs_old = member(oo, "rope_scaling");
    const cJSON *rs_new = member(on, "rope_parameters");
    char f[96];
    if (rs_old && rs_new)
        return fail(c, field_name(f, sizeof f, pn, "rope_parameters"),
                    "given together with %srope_scaling (transformers v5 writes only "
                    "rope_parameters; keep one)",
                    po);
    const cJSON *rs = rs_old ? rs_old : rs_new;
    if (rs_old || !rs_new)
        field_name(d->field, sizeof d->field, po, "rope_scaling");
    else
        field_name(d->field, sizeof d->field, pn, "rope_parameters");
    field_name(d->prefix, sizeof d->prefix, d->field, ".");
    if (!rs)
        return 0;
    if (!cJSON_IsObject(rs))
        return fail(c, d->field, "must be an object or null, got %s", json_kind(rs));
    if (check_duplicates(c, rs, d->prefix) != 0)
        return -1;
    const cJSON *full = NULL, *sliding = NULL, *flat_key = NULL;
    int nested = 0;
    for (const cJSON *it = rs->child; it; it = it->next) {
        int is_full = strcmp(it->string, "full_attention") == 0;
        int is_sliding = strcmp(it->string, "sliding_attention") == 0;
        if ((cJSON_IsObject(it) && !is_rope_field(it->string)) ||
            ((is_full || is_sliding) && cJSON_IsNull(it))) {
            if (rs_old || !(is_full || is_sliding))
                return fail(c, field_name(f, sizeof f, d->prefix, it->string),
                            "per-layer-type RoPE parameters %s (read: full_attention and "
                            "sliding_attention in rope_parameters)",
                            rs_old ? "belong in rope_parameters" : "for this layer type are not "
                                                                   "supported");
            nested = 1;
            if (is_full)
                full = member(rs, "full_attention");
            else
                sliding = member(rs, "sliding_attention");
        } else if (!flat_key) {
            flat_key = it;
        }
    }
    if (nested && flat_key)
        return fail(c, field_name(f, sizeof f, d->prefix, flat_key->string),
                    "beside per-layer-type entries: transformers reads only the entries "
                    "(full_attention, sliding_attention); put it in one of them");
    if (!nested && rs_new && rs->child && v->fam && v->fam->local_theta > 0.0)
        return fail(c, d->field,
                    "flat, but transformers' %s.convert_rope_params_to_dict ignores flat keys "
                    "here and takes one entry per layer type: {\"full_attention\": {..}, "
                    "\"sliding_attention\": {..}}",
                    v->fam->cls);
    if (!nested) {
        d->global = rs;
        d->params = rs_new;
        return 0;
    }
    /* A missing full_attention entry is the default RoPE (as for Gemma 3,
     * whose config class fills it in). */
    field_name(d->sprefix, sizeof d->sprefix, d->prefix, "sliding_attention.");
    field_name(d->field, sizeof d->field, d->prefix, "full_attention");
    field_name(d->prefix, sizeof d->prefix, d->field, ".");
    d->global = full;
    d->params = full;
    d->sliding = sliding;
    if (full && check_duplicates(c, full, d->prefix) != 0)
        return -1;
    if (sliding && check_duplicates(c, sliding, d->sprefix) != 0)
        return -1;
    return 0;
}

static int read_model(ctx *c, const cJSON *root, rc_model_config *m)
{
    if (!cJSON_IsObject(root))
        return fail(c, NULL, "the top level must be a JSON object, got %s", json_kind(root));
    if (check_duplicates(c, root, "") != 0)
        return -1;
    const char *mt = NULL, *tmt = NULL;
    if (get_string(c, root, "", "model_type", &mt) < 0)
        return -1;
    if (mt && strlen(mt) >= sizeof m->model_type)
        return fail(c, "model_type", "'%.40s...' is too long", mt);

    /* Multimodal configs nest the language model under text_config
     * (transformers 5 writes every VL config so; Qwen3-VL's and Gemma 3's
     * Hub files too). The vision tower (vision_config) is not read. */
    lm_view v = {root, member(root, "text_config"), NULL, ""};
    if (v.text && !cJSON_IsObject(v.text))
        return fail(c, "text_config", "must be an object or null, got %s", json_kind(v.text));
    if (v.text && (check_duplicates(c, v.text, "text_config.") != 0 ||
                   get_string(c, v.text, "text_config.", "model_type", &tmt) < 0))
        return -1;
    if (!mt && tmt && strlen(tmt) >= sizeof m->model_type)
        return fail(c, "text_config.model_type", "'%.40s...' is too long", tmt);
    snprintf(m->model_type, sizeof m->model_type, "%s", mt ? mt : tmt ? tmt : "");
    int is_outer = 0;
    v.fam = family_named(mt ? mt : tmt, &is_outer);
    if (!mt && v.fam)
        is_outer = 1; /* only text_config names it */
    v.lm_type = tmt ? tmt : mt ? mt : "";
    /* Where transformers reads the language model from text_config alone:
     * the family's multimodal class when the file has a text_config, or
     * always for the classes that do not take a flat one. */
    int text_only = v.fam && is_outer && (v.text || !v.fam->flat);
    if (reconcile(c, &v, text_only) != 0)
        return -1;

    rope_dicts d;
    double factor = 1.0;
    if (find_rope_dicts(c, &v, &d) != 0 || read_shape(c, &v, m) != 0 ||
        read_base(c, &v, d.params, d.prefix, m) != 0 ||
        read_rotary(c, &v, d.params, d.prefix, m, &factor) != 0 ||
        read_local(c, &v, d.sliding, d.sprefix, factor, m) != 0)
        return -1;
    /* GPT-J rotates (2i, 2i+1) (rotate_every_two in modeling_gptj.py);
     * every other transformers model with RoPE uses rotate_half. */
    m->layout = strcmp(v.lm_type, "gptj") == 0 || strcmp(m->model_type, "gptj") == 0
                    ? RC_LAYOUT_INTERLEAVED
                    : RC_LAYOUT_HALF;
    if (read_scaling(c, &v, d.global, d.prefix, m) != 0 ||
        read_mrope(c, &v, d.global, d.prefix, m) != 0)
        return -1;
    /* The family rules (core/scaling.c), on a copy with a stand-in context:
     * the caller sets the real one from the positions. */
    rc_scaling probe = m->scaling;
    if (probe.context == 0)
        probe.context = 1;
    char why[256];
    if (rc_scaling_check(&probe, m->rotary_dim, why, sizeof why) != 0)
        return fail(c, d.field, "%s", why);
    return 0;
}

void rc_model_config_free(rc_model_config *c)
{
    if (c == NULL)
        return;
    rc_scaling_free_arrays(&c->scaling);
    memset(c, 0, sizeof *c);
}

/* Line and column of byte `at` in text, both from 1. */
static void locate(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int rc_model_config_parse(const char *json_text, const char *origin, rc_model_config *out,
                          char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    ctx c = {origin ? origin : "config", err, err_len};
    if (json_text == NULL)
        return fail(&c, NULL, "no text");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json_text, &end, 1);
    if (root == NULL) {
        int line, col;
        locate(json_text, end ? end : json_text, &line, &col);
        return fail(&c, NULL, "invalid JSON near line %d, column %d", line, col);
    }
    rc_model_config m;
    memset(&m, 0, sizeof m);
    int rc = read_model(&c, root, &m);
    cJSON_Delete(root);
    if (rc != 0) {
        rc_model_config_free(&m);
        return -1;
    }
    snprintf(m.name, sizeof m.name, "%s", c.origin);
    *out = m;
    return 0;
}

/* config.json files are a few kilobytes; anything this large is not one. */
#define MAX_CONFIG_BYTES (16L << 20)

int rc_model_config_load(const char *path, rc_model_config *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    /* Bounded, and only a regular file: a FIFO or /dev/zero is refused
     * instead of blocking or reading forever. */
    size_t len = 0;
    char rerr[400];
    char *buf = rc_read_regular_file(path, (size_t)MAX_CONFIG_BYTES, &len, rerr, sizeof rerr);
    if (!buf) {
        snprintf(err, err_len, "%s: %s", path, rerr);
        return -1;
    }
    int rc = 0;
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, err_len, "%s: contains a NUL byte: not a JSON text", path);
        rc = -1;
    }
    if (rc == 0)
        rc = rc_model_config_parse(buf, path, out, err, err_len);
    free(buf);
    return rc;
}

/* The presets, in the order `ropecheck list` shows them. Each is
 * tests/data/configs/NAME.json: only the RoPE-related fields of the
 * model's config.json on the Hugging Face Hub (sources:
 * tests/data/configs/README.md). */
static const struct {
    const char *name, *description;
} presets[] = {
    {"llama-3-8b", "meta-llama/Meta-Llama-3-8B: 32 q / 8 kv heads, head_dim 128, theta 500000, "
                   "no scaling, 8192 positions"},
    {"llama-3.1-8b", "meta-llama/Llama-3.1-8B: as Llama 3 8B with llama3 scaling (factor 8, "
                     "low 1, high 4, original 8192), 131072 positions"},
    {"qwen2-7b", "Qwen/Qwen2-7B: 28 q / 4 kv heads, head_dim 128, theta 1e6"},
    {"qwen2-7b-instruct-yarn", "Qwen/Qwen2-7B-Instruct with the YaRN rope_scaling of its "
                               "model card (factor 4, original 32768)"},
    {"gpt-j-6b", "EleutherAI/gpt-j-6b: 16 heads, head_dim 256, rotary_dim 64, interleaved"},
    {"gpt-neox-20b", "EleutherAI/gpt-neox-20b: 64 heads, head_dim 96, rotary_pct 0.25 "
                     "(rotary_dim 24)"},
    {"phi-2", "microsoft/phi-2: 32 heads, head_dim 80, partial_rotary_factor 0.4 "
              "(rotary_dim 32)"},
    {"phi-3-mini-128k", "microsoft/Phi-3-mini-128k-instruct: LongRoPE, 48 short/long "
                        "factors, original 4096, 131072 positions"},
    {"qwen2-vl-7b", "Qwen/Qwen2-VL-7B-Instruct: 28 q / 4 kv heads, head_dim 128, theta 1e6, "
                    "M-RoPE sections 16,24,24 (contiguous), 32768 positions"},
    {"qwen2.5-vl-7b", "Qwen/Qwen2.5-VL-7B-Instruct: as Qwen2-VL 7B (M-RoPE 16,24,24, "
                      "contiguous), 128000 positions"},
    {"qwen3-vl-8b", "Qwen/Qwen3-VL-8B-Instruct (text_config): 32 q / 8 kv heads, head_dim 128, "
                    "theta 5e6, interleaved M-RoPE 24,20,20, 262144 positions"},
    {"gemma-3-4b", "google/gemma-3-4b-it (text_config; Gemma3TextConfig defaults): 8 q / 4 kv "
                   "heads, head_dim 256, theta 1e6 with linear factor 8, local theta 1e4"},
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

size_t rc_model_preset_count(void)
{
    return N_PRESETS;
}

const char *rc_model_preset_name(size_t i)
{
    return i < N_PRESETS ? presets[i].name : NULL;
}

const char *rc_model_preset_description(size_t i)
{
    return i < N_PRESETS ? presets[i].description : NULL;
}

static const rc_embedded_config *embedded(const char *name)
{
    for (size_t i = 0; i < rc_embedded_config_count; i++)
        if (strcmp(rc_embedded_configs[i].name, name) == 0)
            return &rc_embedded_configs[i];
    return NULL;
}

const char *rc_model_preset_json(size_t i)
{
    const rc_embedded_config *e = i < N_PRESETS ? embedded(presets[i].name) : NULL;
    return e ? e->text : NULL;
}

int rc_model_preset(const char *name, rc_model_config *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < N_PRESETS && strcmp(presets[i].name, name) != 0)
        i++;
    const rc_embedded_config *e = i < N_PRESETS ? embedded(name) : NULL;
    if (e == NULL) {
        size_t used = (size_t)snprintf(err, err_len, "unknown model '%s' (one of:", name);
        for (size_t k = 0; k < N_PRESETS && used < err_len; k++)
            used += (size_t)snprintf(err + used, err_len - used, " %s", presets[k].name);
        if (used < err_len)
            snprintf(err + used, err_len - used, ")");
        return -1;
    }
    char origin[128];
    snprintf(origin, sizeof origin, "preset %s", name);
    if (rc_model_config_parse(e->text, origin, out, err, err_len) != 0)
        return -1;
    snprintf(out->name, sizeof out->name, "%s", name);
    return 0;
}

void rc_model_config_describe(const rc_model_config *c, char *buf, size_t len)
{
    char sc[512], axes[96] = "", local[64] = "";
    rc_scaling_describe(&c->scaling, sc, sizeof sc);
    if (c->axes.n_axes > 0 && c->axes_kind[0]) {
        size_t used = (size_t)snprintf(axes, sizeof axes, ", %s sections ", c->axes_kind);
        for (int k = 0; k < c->n_mrope_section && used < sizeof axes; k++)
            used += (size_t)snprintf(axes + used, sizeof axes - used, "%s%d", k ? "," : "",
                                     (int)c->mrope_section[k]);
    }
    if (c->local_base > 0.0)
        snprintf(local, sizeof local, ", local base %.17g", c->local_base);
    snprintf(buf, len,
             "%s: head_dim %d, rotary_dim %d, base %.17g, %s, %d/%d heads, max_position %lld, "
             "scaling %s%s%s",
             c->name, (int)c->head_dim, (int)c->rotary_dim, c->base, rc_layout_name(c->layout),
             (int)c->n_heads, (int)c->n_kv_heads, (long long)c->max_position, sc, axes, local);
}
