/*
 * cli/scaling_parse.c - parse --scaling (grammar in scaling_parse.h).
 *
 * Strict on purpose: a key the family does not use, a key given twice or a
 * missing required key is an error, because a silently ignored typo
 * ("betafast=16") would verify a different table than the user meant.
 */
#include "cli/scaling_parse.h"

#include "cli/strict_num.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli/safe_file.h"
#include "core/scaling.h"

enum key_id {
    K_FACTOR,
    K_ORIGINAL,
    K_BETA_FAST,
    K_BETA_SLOW,
    K_TRUNCATE,
    K_MSCALE,
    K_MSCALE_ALL_DIM,
    K_ATTENTION_FACTOR,
    K_LOW,
    K_HIGH,
    K_SHORT,
    K_LONG,
    K_COUNT
};

#define B(k) (1u << (k))

/* Short name first, Hugging Face's rope_scaling name second (or NULL when
 * they are the same). */
static const struct {
    const char *name, *hf_name;
} key_names[K_COUNT] = {
    [K_FACTOR] = {"factor", NULL},
    [K_ORIGINAL] = {"original", "original_max_position_embeddings"},
    [K_BETA_FAST] = {"beta_fast", NULL},
    [K_BETA_SLOW] = {"beta_slow", NULL},
    [K_TRUNCATE] = {"truncate", NULL},
    [K_MSCALE] = {"mscale", NULL},
    [K_MSCALE_ALL_DIM] = {"mscale_all_dim", NULL},
    [K_ATTENTION_FACTOR] = {"attention_factor", NULL},
    [K_LOW] = {"low", "low_freq_factor"},
    [K_HIGH] = {"high", "high_freq_factor"},
    [K_SHORT] = {"short", "short_factor"},
    [K_LONG] = {"long", "long_factor"},
};

/* Keys each family accepts and, of those, the ones it requires. */
static const struct {
    rc_scaling_type type;
    unsigned allowed, required;
} families[] = {
    {RC_SCALING_NONE, 0, 0},
    {RC_SCALING_LINEAR, B(K_FACTOR), B(K_FACTOR)},
    {RC_SCALING_NTK, B(K_FACTOR), B(K_FACTOR)},
    {RC_SCALING_DYNAMIC_NTK, B(K_FACTOR) | B(K_ORIGINAL), B(K_FACTOR) | B(K_ORIGINAL)},
    {RC_SCALING_YARN,
     B(K_FACTOR) | B(K_ORIGINAL) | B(K_BETA_FAST) | B(K_BETA_SLOW) | B(K_TRUNCATE) | B(K_MSCALE) |
         B(K_MSCALE_ALL_DIM) | B(K_ATTENTION_FACTOR),
     B(K_FACTOR) | B(K_ORIGINAL)},
    {RC_SCALING_LLAMA3, B(K_FACTOR) | B(K_ORIGINAL) | B(K_LOW) | B(K_HIGH),
     B(K_FACTOR) | B(K_ORIGINAL) | B(K_LOW) | B(K_HIGH)},
    {RC_SCALING_LONGROPE,
     B(K_SHORT) | B(K_LONG) | B(K_FACTOR) | B(K_ORIGINAL) | B(K_ATTENTION_FACTOR),
     B(K_SHORT) | B(K_LONG) | B(K_FACTOR) | B(K_ORIGINAL)},
    /* TABLE takes its one file as table:@FILE, not as a key. */
    {RC_SCALING_TABLE, 0, 0},
};

void rc_scaling_free_arrays(rc_scaling *sc)
{
    if (sc == NULL)
        return;
    free((void *)sc->table);
    free((void *)sc->short_factor);
    free((void *)sc->long_factor);
    sc->table = sc->short_factor = sc->long_factor = NULL;
}

/* "low (low_freq_factor)" or "factor". */
static void key_label(int k, char *buf, size_t len)
{
    if (key_names[k].hf_name)
        snprintf(buf, len, "%s (%s)", key_names[k].name, key_names[k].hf_name);
    else
        snprintf(buf, len, "%s", key_names[k].name);
}

static void list_keys(unsigned allowed, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < K_COUNT; k++) {
        if (!(allowed & B(k)))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", key_names[k].name);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

int rc_scaling_read_numbers(const char *path, const char *what, int32_t expect, double **out,
                            char *err, size_t err_len)
{
    *out = NULL;
    if (expect < 1 || expect > RC_MAX_HEAD_DIM / 2) {
        snprintf(err, err_len, "%s: internal: %d numbers asked for", what, (int)expect);
        return -1;
    }
    /* Bounded and regular (no FIFO, no /dev/zero): r/2 <= 512 numbers fit
     * in far less than this, comments included. */
    char rerr[400];
    size_t len = 0;
    char *text = rc_read_regular_file(path, (size_t)1 << 20, &len, rerr, sizeof rerr);
    if (!text) {
        snprintf(err, err_len, "%s: %s", what, rerr);
        return -1;
    }
    FILE *f = fmemopen(text, len ? len : 1, "r");
    if (f == NULL) {
        free(text);
        snprintf(err, err_len, "%s: cannot read '%s': %s", what, path, strerror(errno));
        return -1;
    }
    double *v = malloc(sizeof(double) * (size_t)expect);
    char *line = NULL;
    size_t cap = 0;
    int32_t n = 0;
    long lineno = 0;
    int rc = v ? 0 : -1;
    if (v == NULL)
        snprintf(err, err_len, "%s: out of memory", what);
    ssize_t got;
    /* An empty file is opened over its terminating NUL (fmemopen needs a
     * size > 0): nothing to read then. */
    while (rc == 0 && len > 0 && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        /* The string functions below stop at a NUL: what follows it on
         * the line would be ignored unseen (found by tests/fuzz, harness
         * scaling_table). Not a text of numbers. */
        if (memchr(line, '\0', (size_t)got) != NULL) {
            snprintf(err, err_len, "%s: %s:%ld: holds a NUL byte (not a text of numbers)",
                     what, path, lineno);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '\n' || *s == '\r')
            continue;
        char *end;
        double x = strtod(s, &end); /* overflow is Inf: refused as not finite */
        const char *rest = end;
        while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')
            rest++;
        if (end == s || *rest != '\0' || !isfinite(x)) {
            s[strcspn(s, "\r\n")] = '\0';
            snprintf(err, err_len, "%s: %s:%ld: '%s' is not a finite number", what, path, lineno,
                     s);
            rc = -1;
        } else if (n == expect) {
            snprintf(err, err_len, "%s: %s holds more than the %d numbers rotary_dim %d needs",
                     what, path, (int)expect, (int)(2 * expect));
            rc = -1;
        } else {
            v[n++] = x;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, err_len, "%s: error reading '%s'", what, path);
        rc = -1;
    }
    if (rc == 0 && n != expect) {
        snprintf(err, err_len, "%s: %s holds %d numbers; rotary_dim %d needs %d (one per pair)",
                 what, path, (int)n, (int)(2 * expect), (int)expect);
        rc = -1;
    }
    free(line);
    fclose(f);
    free(text);
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_number(const char *key, const char *s, double *out, char *err, size_t err_len)
{
    /* Strictly (cli/strict_num.h): no blanks, signs on the left of a
     * blank, hex floats or junk; a typo is not a different model. */
    if (rc_parse_finite(s, out) != 0) {
        snprintf(err, err_len, "%s: '%s' is not a finite decimal number", key, s);
        return -1;
    }
    return 0;
}

static int parse_original(const char *s, int64_t *out, char *err, size_t err_len)
{
    int64_t v;
    if (rc_parse_int64(s, &v) != 0 || v < 1) {
        snprintf(err, err_len,
                 "original (original_max_position_embeddings): '%s' is not a positive integer",
                 s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_bool(const char *key, const char *s, int32_t *out, char *err, size_t err_len)
{
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
        *out = 0;
        return 0;
    }
    snprintf(err, err_len, "%s: '%s' is not 0, 1, true or false", key, s);
    return -1;
}

static int parse_file_key(const char *key, const char *s, int32_t half, const double **out,
                          char *err, size_t err_len)
{
    if (s[0] != '@' || s[1] == '\0') {
        snprintf(err, err_len, "%s: expected @FILE (one number per line), got '%s'", key, s);
        return -1;
    }
    double *v;
    if (rc_scaling_read_numbers(s + 1, key, half, &v, err, err_len) != 0)
        return -1;
    *out = v;
    return 0;
}

/* One KEY=VALUE item of family `fam` into *sc; *seen collects the keys. */
static int parse_item(char *item, int fam, int32_t half, rc_scaling *sc, unsigned *seen,
                      char *err, size_t err_len)
{
    const char *fname = rc_scaling_type_name(families[fam].type);
    char *eq = strchr(item, '=');
    if (eq == NULL || eq == item) {
        snprintf(err, err_len, "%s: '%s' is not KEY=VALUE", fname, item);
        return -1;
    }
    *eq = '\0';
    const char *name = item, *val = eq + 1;
    int k = -1;
    for (int i = 0; i < K_COUNT && k < 0; i++)
        if (strcmp(name, key_names[i].name) == 0 ||
            (key_names[i].hf_name && strcmp(name, key_names[i].hf_name) == 0))
            k = i;
    if (k < 0 || !(families[fam].allowed & B(k))) {
        char keys[256];
        list_keys(families[fam].allowed, keys, sizeof keys);
        snprintf(err, err_len, "%s: unknown key '%s' (%s takes: %s)", fname, name, fname,
                 keys[0] ? keys : "no keys");
        return -1;
    }
    if (*seen & B(k)) {
        snprintf(err, err_len, "%s: key '%s' given twice", fname, key_names[k].name);
        return -1;
    }
    *seen |= B(k);
    const char *key = key_names[k].name;
    switch ((enum key_id)k) {
    case K_FACTOR:
        return parse_number(key, val, &sc->factor, err, err_len);
    case K_ORIGINAL:
        return parse_original(val, &sc->original_context, err, err_len);
    case K_BETA_FAST:
        return parse_number(key, val, &sc->beta_fast, err, err_len);
    case K_BETA_SLOW:
        return parse_number(key, val, &sc->beta_slow, err, err_len);
    case K_TRUNCATE:
        return parse_bool(key, val, &sc->truncate, err, err_len);
    case K_MSCALE:
        return parse_number(key, val, &sc->mscale, err, err_len);
    case K_MSCALE_ALL_DIM:
        return parse_number(key, val, &sc->mscale_all_dim, err, err_len);
    case K_ATTENTION_FACTOR:
        if (parse_number(key, val, &sc->attention_factor, err, err_len) != 0)
            return -1;
        /* In rc_scaling 0 means "derive it", so an explicit 0 (or less)
         * would silently change meaning: refuse it. */
        if (!(sc->attention_factor > 0.0)) {
            snprintf(err, err_len, "attention_factor: %s must be > 0 (leave it out to derive it)",
                     val);
            return -1;
        }
        return 0;
    case K_LOW:
        return parse_number(key, val, &sc->low_freq_factor, err, err_len);
    case K_HIGH:
        return parse_number(key, val, &sc->high_freq_factor, err, err_len);
    case K_SHORT:
        return parse_file_key("short_factor", val, half, &sc->short_factor, err, err_len);
    case K_LONG:
        return parse_file_key("long_factor", val, half, &sc->long_factor, err, err_len);
    case K_COUNT:
        break;
    }
    return -1;
}

static int parse_family(const char *name, int *fam, char *err, size_t err_len)
{
    rc_scaling_type t;
    /* "default" is Hugging Face's name for no scaling. */
    if (strcmp(name, "default") == 0)
        t = RC_SCALING_NONE;
    else if (rc_scaling_type_parse(name, &t) != 0) {
        snprintf(err, err_len,
                 "unknown scaling family '%s' (one of: none, linear, ntk, dynamic, yarn, llama3, "
                 "longrope, table)",
                 name);
        return -1;
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (families[i].type == t) {
            *fam = (int)i;
            return 0;
        }
    snprintf(err, err_len, "scaling family '%s' cannot be given with --scaling", name);
    return -1;
}

static int parse_into(char *text, int32_t half, rc_scaling *sc, char *err, size_t err_len)
{
    char *colon = strchr(text, ':');
    char *rest = NULL;
    if (colon) {
        *colon = '\0';
        rest = colon + 1;
    }
    int fam;
    if (parse_family(text, &fam, err, err_len) != 0)
        return -1;
    sc->type = families[fam].type;
    const char *fname = rc_scaling_type_name(sc->type);
    if (sc->type == RC_SCALING_TABLE) {
        if (rest == NULL || rest[0] != '@' || rest[1] == '\0') {
            snprintf(err, err_len, "table: expected table:@FILE (one frequency per line)");
            return -1;
        }
        double *v;
        if (rc_scaling_read_numbers(rest + 1, "table", half, &v, err, err_len) != 0)
            return -1;
        sc->table = v;
        return 0;
    }
    if (rest != NULL && *rest == '\0') {
        snprintf(err, err_len, "%s: nothing after ':'", fname);
        return -1;
    }
    /* Hugging Face's defaults for the optional YaRN keys. */
    if (sc->type == RC_SCALING_YARN) {
        sc->beta_fast = 32.0;
        sc->beta_slow = 1.0;
        sc->truncate = 1;
    }
    unsigned seen = 0;
    if (rest != NULL) {
        char *save = NULL;
        /* strtok_r would merge empty items; find them first. */
        if (rest[0] == ',' || strstr(rest, ",,") || rest[strlen(rest) - 1] == ',') {
            snprintf(err, err_len, "%s: empty item in '%s'", fname, rest);
            return -1;
        }
        for (char *it = strtok_r(rest, ",", &save); it; it = strtok_r(NULL, ",", &save))
            if (parse_item(it, fam, half, sc, &seen, err, err_len) != 0)
                return -1;
    }
    unsigned missing = families[fam].required & ~seen;
    for (int k = 0; k < K_COUNT; k++)
        if (missing & B(k)) {
            char label[64];
            key_label(k, label, sizeof label);
            snprintf(err, err_len, "%s: missing key %s", fname, label);
            return -1;
        }
    return 0;
}

int rc_scaling_parse(const char *text, int32_t rotary_dim, rc_scaling *out, char *err,
                     size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (rotary_dim < 2 || rotary_dim % 2 != 0) {
        snprintf(err, err_len, "rotary_dim %d must be even and >= 2", (int)rotary_dim);
        return -1;
    }
    char *copy = strdup(text ? text : "");
    if (copy == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    rc_scaling sc;
    memset(&sc, 0, sizeof sc);
    int rc = parse_into(copy, rotary_dim / 2, &sc, err, err_len);
    free(copy);
    if (rc == 0) {
        /* The family rules (positive factor, beta_fast > beta_slow, ...)
         * live in one place. context is the caller's; check with a stand-in
         * so the families that use it pass that rule. */
        rc_scaling probe = sc;
        if (probe.context == 0)
            probe.context = 1;
        rc = rc_scaling_check(&probe, rotary_dim, err, err_len);
    }
    if (rc != 0) {
        rc_scaling_free_arrays(&sc);
        return -1;
    }
    *out = sc;
    return 0;
}
