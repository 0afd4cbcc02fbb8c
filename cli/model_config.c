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
    snprintf(buf, len, "%s%s", prefix, key);
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

/* A field with two spellings (GPT-J's n_embd is transformers' hidden_size
 * through GPTJConfig.attribute_map): both may appear only if they agree. */
static int get_int_alias(ctx *c, const cJSON *obj, const char *key, const char *alias,
                         int64_t min, int64_t *out)
{
    int64_t a = 0, b = 0;
    int ra = get_int(c, obj, "", key, min, &a);
    if (ra < 0)
        return -1;
    int rb = get_int(c, obj, "", alias, min, &b);
    if (rb < 0)
        return -1;
    if (ra && rb && a != b)
        return fail(c, key, "%lld disagrees with %s %lld", (long long)a, alias, (long long)b);
    if (ra || rb)
        *out = ra ? a : b;
    return ra || rb;
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

/* head_dim, heads, kv heads, max positions. */
static int read_shape(ctx *c, const cJSON *root, rc_model_config *m)
{
    int64_t heads = 0, hidden = 0, head_dim = 0, kv = 0, maxpos = 0;
    int rc = get_int_alias(c, root, "num_attention_heads", "n_head", 1, &heads);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(c, "num_attention_heads", "missing");
    int has_hidden = get_int_alias(c, root, "hidden_size", "n_embd", 1, &hidden);
    if (has_hidden < 0)
        return -1;
    int has_head_dim = get_int(c, root, "", "head_dim", 1, &head_dim);
    if (has_head_dim < 0)
        return -1;
    /* transformers: head_dim if the config has one, else hidden_size //
     * num_attention_heads. A head_dim different from the quotient is not
     * a contradiction (Gemma and Qwen3 configs have one), so it wins. A
     * quotient that is not exact would truncate silently there: refuse. */
    if (!has_head_dim) {
        if (!has_hidden)
            return fail(c, "hidden_size", "missing (needed for head_dim = hidden_size / "
                                          "num_attention_heads, since head_dim is absent)");
        if (hidden % heads != 0)
            return fail(c, "hidden_size",
                        "%lld is not divisible by num_attention_heads %lld (and head_dim is "
                        "absent)",
                        (long long)hidden, (long long)heads);
        head_dim = hidden / heads;
    }
    if (head_dim % 2 != 0 || head_dim < 2 || head_dim > RC_MAX_HEAD_DIM)
        return fail(c, "head_dim", "%lld%s must be even and in [2, %d]", (long long)head_dim,
                    has_head_dim ? "" : " (hidden_size / num_attention_heads)", RC_MAX_HEAD_DIM);
    if (heads > INT32_MAX)
        return fail(c, "num_attention_heads", "%lld is too large", (long long)heads);
    rc = get_int(c, root, "", "num_key_value_heads", 1, &kv);
    if (rc < 0)
        return -1;
    if (rc == 0)
        kv = heads; /* transformers' default: plain multi-head attention */
    if (heads % kv != 0)
        return fail(c, "num_key_value_heads", "%lld does not divide num_attention_heads %lld",
                    (long long)kv, (long long)heads);
    if (get_int_alias(c, root, "max_position_embeddings", "n_positions", 1, &maxpos) < 0)
        return -1;
    m->n_heads = (int32_t)heads;
    m->n_kv_heads = (int32_t)kv;
    m->head_dim = (int32_t)head_dim;
    m->max_position = maxpos;
    return 0;
}

/* base: rope_theta (Llama, Qwen, Phi), rotary_emb_base (GPT-NeoX), or
 * rope_parameters.rope_theta (transformers v5); none of them: 10000 (GPT-J,
 * and transformers' default). Every one present must agree. */
static int read_base(ctx *c, const cJSON *root, const cJSON *rope_params, rc_model_config *m)
{
    static const char *const names[3] = {"rope_theta", "rotary_emb_base",
                                         "rope_parameters.rope_theta"};
    double v[3];
    int have[3];
    if ((have[0] = get_number(c, root, "", "rope_theta", &v[0])) < 0 ||
        (have[1] = get_number(c, root, "", "rotary_emb_base", &v[1])) < 0 ||
        (have[2] = get_number(c, rope_params, "rope_parameters.", "rope_theta", &v[2])) < 0)
        return -1;
    int first = -1;
    for (int i = 0; i < 3; i++) {
        if (!have[i])
            continue;
        if (!(v[i] > 0.0))
            return fail(c, names[i], "%.17g must be > 0", v[i]);
        if (first < 0)
            first = i;
        else if (v[i] != v[first])
            return fail(c, names[i], "%.17g disagrees with %s %.17g", v[i], names[first],
                        v[first]);
    }
    m->base = first >= 0 ? v[first] : 10000.0;
    return 0;
}

/* rotary_dim: transformers computes int(head_dim * partial_rotary_factor)
 * (GPT-NeoX: int(head_size * rotary_pct)); GPT-J gives rotary_dim itself
 * (null: the whole head). The product below is the same IEEE double
 * multiplication Python does, truncated as int() truncates. */
static int read_rotary(ctx *c, const cJSON *root, const cJSON *rope_params, rc_model_config *m)
{
    static const char *const names[3] = {"partial_rotary_factor", "rotary_pct",
                                         "rope_parameters.partial_rotary_factor"};
    double f[3];
    int have[3];
    if ((have[0] = get_number(c, root, "", "partial_rotary_factor", &f[0])) < 0 ||
        (have[1] = get_number(c, root, "", "rotary_pct", &f[1])) < 0 ||
        (have[2] = get_number(c, rope_params, "rope_parameters.", "partial_rotary_factor",
                              &f[2])) < 0)
        return -1;
    int first = -1;
    for (int i = 0; i < 3; i++) {
        if (!have[i])
            continue;
        if (!(f[i] > 0.0 && f[i] <= 1.0))
            return fail(c, names[i], "%.17g must be in (0, 1]", f[i]);
        if (first < 0)
            first = i;
        else if (f[i] != f[first])
            return fail(c, names[i], "%.17g disagrees with %s %.17g", f[i], names[first],
                        f[first]);
    }
    int64_t abs_dim = 0;
    int has_abs = get_int(c, root, "", "rotary_dim", 1, &abs_dim);
    if (has_abs < 0)
        return -1;
    int64_t r = m->head_dim;
    if (first >= 0) {
        r = (int64_t)((double)m->head_dim * f[first]);
        if (has_abs && abs_dim != r)
            return fail(c, "rotary_dim",
                        "%lld disagrees with int(head_dim %d * %s %.17g) = %lld",
                        (long long)abs_dim, (int)m->head_dim, names[first], f[first],
                        (long long)r);
        if (r < 2 || r % 2 != 0)
            return fail(c, names[first],
                        "int(head_dim %d * %.17g) = %lld rotated channels: must be even and "
                        ">= 2",
                        (int)m->head_dim, f[first], (long long)r);
    } else if (has_abs) {
        r = abs_dim;
        if (r < 2 || r % 2 != 0 || r > m->head_dim)
            return fail(c, "rotary_dim", "%lld must be even and in [2, head_dim %d]",
                        (long long)r, (int)m->head_dim);
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

static int read_scaling(ctx *c, const cJSON *root, const cJSON *rs, const char *prefix,
                        rc_model_config *m)
{
    rc_scaling *sc = &m->scaling;
    memset(sc, 0, sizeof *sc);
    if (rs == NULL)
        return 0;
    char f[96];
    /* Multi-axis M-RoPE (Qwen2-VL "type": "mrope", Qwen3-VL's interleaved
     * variant): its own positions per axis, which verify does not generate
     * yet. Said plainly rather than as an unknown type, or judged as the
     * one-axis RoPE it is not. */
    const cJSON *sections = member(rs, "mrope_section");
    if (sections) {
        char list[96] = "";
        size_t n = 0;
        for (const cJSON *it = cJSON_IsArray(sections) ? sections->child : NULL;
             it && n + 12 < sizeof list; it = it->next)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%g", n ? ", " : "",
                                  cJSON_IsNumber(it) ? it->valuedouble : 0.0);
        const cJSON *il = member(rs, "mrope_interleaved");
        return fail(c, field_name(f, sizeof f, prefix, "mrope_section"),
                    "multi-axis M-RoPE (%s sections [%s]): verify does not generate tuple "
                    "positions yet (the ABI, version 4, and the CPU ports do: DESIGN.md, "
                    "\"Multi-axis RoPE\")",
                    cJSON_IsTrue(il) ? "interleaved" : "contiguous", list);
    }
    const char *rope_type = NULL, *legacy = NULL;
    int has_rt = get_string(c, rs, prefix, "rope_type", &rope_type);
    int has_lt = get_string(c, rs, prefix, "type", &legacy);
    if (has_rt < 0 || has_lt < 0)
        return -1;
    const char *ct_rt = has_rt ? canonical_type(rope_type, 0, m->model_type) : NULL;
    const char *ct_lt = has_lt ? canonical_type(legacy, 1, m->model_type) : NULL;
    if (ct_rt && ct_lt && strcmp(ct_rt, ct_lt) != 0)
        return fail(c, field_name(f, sizeof f, prefix, "type"),
                    "'%s' disagrees with %srope_type '%s'", legacy, prefix, rope_type);
    const char *name = ct_rt ? ct_rt : ct_lt ? ct_lt : "default";
    rc_scaling_type t;
    if (family_of(name, &t) != 0)
        return fail(c, field_name(f, sizeof f, prefix, has_rt ? "rope_type" : "type"),
                    "unknown rope type '%s' (supported: default, linear, dynamic, yarn, "
                    "llama3, longrope; su = longrope)",
                    has_rt ? rope_type : legacy);
    sc->type = t;

    int64_t rs_orig = 0, top_orig = 0;
    int has_rs_orig = get_int(c, rs, prefix, "original_max_position_embeddings", 1, &rs_orig);
    int has_top_orig = get_int(c, root, "", "original_max_position_embeddings", 1, &top_orig);
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

static int read_model(ctx *c, const cJSON *root, rc_model_config *m)
{
    if (!cJSON_IsObject(root))
        return fail(c, NULL, "the top level must be a JSON object, got %s", json_kind(root));
    if (check_duplicates(c, root, "") != 0)
        return -1;
    const char *mt = NULL;
    if (get_string(c, root, "", "model_type", &mt) < 0)
        return -1;
    if (mt && strlen(mt) >= sizeof m->model_type)
        return fail(c, "model_type", "'%.40s...' is too long", mt);
    snprintf(m->model_type, sizeof m->model_type, "%s", mt ? mt : "");

    const cJSON *rs_old = member(root, "rope_scaling");
    const cJSON *rs_new = member(root, "rope_parameters");
    if (rs_old && rs_new)
        return fail(c, "rope_parameters",
                    "given together with rope_scaling (transformers v5 writes only "
                    "rope_parameters; keep one)");
    const cJSON *rs = rs_old ? rs_old : rs_new;
    const char *prefix = rs_old ? "rope_scaling." : "rope_parameters.";
    if (rs && !cJSON_IsObject(rs))
        return fail(c, rs_old ? "rope_scaling" : "rope_parameters",
                    "must be an object or null, got %s", json_kind(rs));
    if (rs) {
        if (check_duplicates(c, rs, prefix) != 0)
            return -1;
        /* transformers v5 nests one dict per layer type (Gemma 3:
         * full_attention / sliding_attention): a model with two RoPEs. */
        for (const cJSON *it = rs->child; it; it = it->next)
            if (cJSON_IsObject(it)) {
                char f[96];
                return fail(c, field_name(f, sizeof f, prefix, it->string),
                            "per-layer-type RoPE parameters are not supported (one model, one "
                            "RoPE); give that layer type's parameters alone");
            }
    }
    if (read_shape(c, root, m) != 0 || read_base(c, root, rs_new, m) != 0 ||
        read_rotary(c, root, rs_new, m) != 0)
        return -1;
    /* Gemma 2/3: the sliding-window layers rotate with their own base
     * (transformers' Gemma3 config, rope_local_base_freq; no scaling). */
    int has_local = get_number(c, root, "", "rope_local_base_freq", &m->local_base);
    if (has_local < 0)
        return -1;
    if (has_local && !(m->local_base > 0.0 && isfinite(m->local_base)))
        return fail(c, "rope_local_base_freq", "%.17g must be > 0 and finite", m->local_base);
    /* GPT-J rotates (2i, 2i+1) (rotate_every_two in modeling_gptj.py);
     * every other transformers model with RoPE uses rotate_half. */
    m->layout = strcmp(m->model_type, "gptj") == 0 ? RC_LAYOUT_INTERLEAVED : RC_LAYOUT_HALF;
    if (read_scaling(c, root, rs, prefix, m) != 0)
        return -1;
    /* The family rules (core/scaling.c), on a copy with a stand-in context:
     * the caller sets the real one from the positions. */
    rc_scaling probe = m->scaling;
    if (probe.context == 0)
        probe.context = 1;
    char why[256];
    if (rc_scaling_check(&probe, m->rotary_dim, why, sizeof why) != 0)
        return fail(c, rs_old ? "rope_scaling" : "rope_parameters", "%s", why);
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
 * model's config.json on the Hugging Face Hub (sources in the report of
 * issue 8 and in the test file). */
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
    char sc[512];
    rc_scaling_describe(&c->scaling, sc, sizeof sc);
    snprintf(buf, len,
             "%s: head_dim %d, rotary_dim %d, base %.17g, %s, %d/%d heads, max_position %lld, "
             "scaling %s",
             c->name, (int)c->head_dim, (int)c->rotary_dim, c->base, rc_layout_name(c->layout),
             (int)c->n_heads, (int)c->n_kv_heads, (long long)c->max_position, sc);
}
