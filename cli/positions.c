/*
 * cli/positions.c - parse and expand --positions (grammar in positions.h).
 */
#include "cli/positions.h"

#include "cli/strict_num.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "ropecheck/rope.h"

/* Stream id for position draws, so they never coincide with input draws. */
#define POSITION_STREAM 0x706f736974696f6eull

static int parse_position(const char *s, int64_t *out, char *err, size_t err_len)
{
    int64_t v = 0;
    /* Digits only (after an optional '-'), but too many: out of range. */
    const int digits = *s && strspn(s + (*s == '-'), "0123456789") == strlen(s + (*s == '-'));
    const int parsed = rc_parse_int64(s, &v) == 0;
    if (!parsed && !digits) {
        snprintf(err, err_len, "position '%s' is not a decimal integer", s);
        return -1;
    }
    if (s[0] == '-') {
        snprintf(err, err_len, "position %s is negative (positions are >= 0)", s);
        return -1;
    }
    if (!parsed || v > RC_MAX_POSITION) {
        snprintf(err, err_len, "position %s exceeds 2^53-1 = %" PRId64, s, RC_MAX_POSITION);
        return -1;
    }
    *out = v;
    return 0;
}

/* Tokens of n_axes positions each, token-major (n counts tokens). */
typedef struct pos_list {
    int64_t *v;
    int64_t n, cap;
    int32_t n_axes;
} pos_list;

/* Room for count more tokens. */
static int reserve(pos_list *l, int64_t count, char *err, size_t err_len)
{
    if (count > RC_MAX_TOKENS - l->n) {
        snprintf(err, err_len, "more than %" PRId64 " %s", RC_MAX_TOKENS,
                 l->n_axes > 1 ? "tokens" : "positions");
        return -1;
    }
    if (l->n + count > l->cap) {
        int64_t cap = l->cap ? l->cap : 64;
        while (cap < l->n + count)
            cap *= 2;
        int64_t *nv = realloc(l->v, sizeof(int64_t) * (size_t)cap * (size_t)l->n_axes);
        if (!nv) {
            snprintf(err, err_len, "out of memory for positions");
            return -1;
        }
        l->v = nv;
        l->cap = cap;
    }
    return 0;
}

/* Tokens a..b, every axis at the token's one position (text tokens). */
static int push_range(pos_list *l, int64_t a, int64_t b, char *err, size_t err_len)
{
    if (reserve(l, b - a + 1, err, err_len) != 0)
        return -1;
    for (int64_t m = a; m <= b; m++, l->n++)
        for (int32_t k = 0; k < l->n_axes; k++)
            l->v[l->n * l->n_axes + k] = m;
    return 0;
}

/* "P0/P1/..": exactly n (= n_axes) positions into p. */
static int parse_tuple(const char *item, int32_t n, int64_t *p, char *err, size_t err_len)
{
    char buf[256];
    if (strlen(item) >= sizeof buf) {
        snprintf(err, err_len, "'%.40s...' is too long for a tuple", item);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", item);
    int32_t k = 0;
    char *save = NULL;
    if (!buf[0] || buf[0] == '/' || buf[strlen(buf) - 1] == '/' || strstr(buf, "//")) {
        snprintf(err, err_len, "tuple '%s' has an empty position", item);
        return -1;
    }
    for (char *f = strtok_r(buf, "/", &save); f; f = strtok_r(NULL, "/", &save), k++) {
        if (k == n) {
            snprintf(err, err_len, "tuple '%s' has more than the spec's %d axes", item, (int)n);
            return -1;
        }
        if (parse_position(f, &p[k], err, err_len) != 0)
            return -1;
    }
    if (k != n) {
        snprintf(err, err_len, "tuple '%s' has %d positions; the spec has %d axes", item,
                 (int)k, (int)n);
        return -1;
    }
    return 0;
}

/* grid:G0/G1/..@S: every token (S + i_0, S + i_1, ..) with i_k < G_k, the
 * last axis fastest: an image or video block of G_0 x G_1 x .. patches
 * placed after S text positions, as Qwen2-VL's get_rope_index places one. */
static int push_grid(pos_list *l, const char *spec, char *err, size_t err_len)
{
    const int32_t n = l->n_axes;
    char dims[256];
    const char *at = strchr(spec, '@');
    if (!at || (size_t)(at - spec) >= sizeof dims) {
        snprintf(err, err_len, "grid:%s: write grid:G0/G1/..@START (one size per axis, then "
                 "the first position)", spec);
        return -1;
    }
    memcpy(dims, spec, (size_t)(at - spec));
    dims[at - spec] = '\0';
    int64_t g[RC_MAX_AXES], start;
    if (parse_tuple(dims, n, g, err, err_len) != 0 || parse_position(at + 1, &start, err, err_len))
        return -1;
    int64_t count = 1;
    for (int32_t k = 0; k < n; k++) {
        if (g[k] < 1 || g[k] > RC_MAX_TOKENS || count > RC_MAX_TOKENS / g[k]) {
            snprintf(err, err_len, "grid:%s: %s", spec,
                     g[k] < 1 ? "every size must be >= 1" : "more tokens than allowed");
            return -1;
        }
        count *= g[k];
        if (g[k] - 1 > RC_MAX_POSITION - start) {
            snprintf(err, err_len, "grid:%s: positions past 2^53-1", spec);
            return -1;
        }
    }
    if (reserve(l, count, err, err_len) != 0)
        return -1;
    for (int64_t i = 0; i < count; i++, l->n++) {
        int64_t rest = i;
        for (int32_t k = n - 1; k >= 0; k--) {
            l->v[l->n * n + k] = start + rest % g[k];
            rest /= g[k];
        }
    }
    return 0;
}

/* One item: a number, a range, or a random directive (recorded, not drawn). */
static int parse_item(char *item, pos_list *l, int *random_kind, int64_t *random_max, char *err,
                      size_t err_len)
{
    if (strchr(item, '/') && strncmp(item, "grid:", 5) != 0) {
        if (l->n_axes < 2) {
            snprintf(err, err_len, "'%s' is a tuple of positions: the spec has one axis (tuples "
                     "need a multi-axis spec: --axes, or an M-RoPE --hf-config)", item);
            return -1;
        }
        int64_t p[RC_MAX_AXES];
        if (parse_tuple(item, l->n_axes, p, err, err_len) != 0 || reserve(l, 1, err, err_len))
            return -1;
        memcpy(&l->v[l->n++ * l->n_axes], p, sizeof(int64_t) * (size_t)l->n_axes);
        return 0;
    }
    char *colon = strchr(item, ':');
    if (!colon) {
        int64_t m;
        return parse_position(item, &m, err, err_len) ? -1 : push_range(l, m, m, err, err_len);
    }
    *colon = '\0';
    const char *left = item, *right = colon + 1;
    if (strcmp(left, "grid") == 0) {
        if (l->n_axes < 2) {
            snprintf(err, err_len, "grid:%s needs a multi-axis spec (--axes, or an M-RoPE "
                     "--hf-config)", right);
            return -1;
        }
        return push_grid(l, right, err, err_len);
    }
    int kind = strcmp(left, "random") == 0 ? 1 : strcmp(left, "lograndom") == 0 ? 2 : 0;
    if (kind) {
        if (*random_kind) {
            snprintf(err, err_len, "at most one random:MAX or lograndom:MAX item");
            return -1;
        }
        *random_kind = kind;
        return parse_position(right, random_max, err, err_len);
    }
    int64_t a, b;
    if (parse_position(left, &a, err, err_len) || parse_position(right, &b, err, err_len))
        return -1;
    if (a > b) {
        snprintf(err, err_len, "range %" PRId64 ":%" PRId64 " is empty (start > end)", a, b);
        return -1;
    }
    return push_range(l, a, b, err, err_len);
}

static int64_t draw(rc_rng *r, int kind, int64_t max)
{
    if (kind == 1)
        return (int64_t)rc_rng_below(r, (uint64_t)max + 1);
    /* Log-uniform: exp(u * ln(max + 1)) - 1 covers every decade equally. */
    double x = exp(rc_rng_uniform(r) * log((double)max + 1.0)) - 1.0;
    int64_t m = (int64_t)floor(x);
    return m < 0 ? 0 : m > max ? max : m;
}

int rc_positions_parse(const char *spec, int64_t tokens_requested, uint64_t seed, int64_t **out,
                       int64_t *n, char *err, size_t err_len)
{
    return rc_positions_parse_axes(spec, 1, tokens_requested, seed, out, n, err, err_len);
}

int rc_positions_parse_axes(const char *spec, int32_t n_axes, int64_t tokens_requested,
                            uint64_t seed, int64_t **out, int64_t *n, char *err, size_t err_len)
{
    pos_list l = {.n_axes = n_axes};
    if (n_axes < 1 || n_axes > RC_MAX_AXES) {
        snprintf(err, err_len, "%d axes: 1 .. %d", (int)n_axes, RC_MAX_AXES);
        return -1;
    }
    int random_kind = 0;
    int64_t random_max = 0;
    char *copy = strdup(spec);
    if (!copy) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    if (!*spec) {
        snprintf(err, err_len, "--positions is empty");
        rc = -1;
    } else if (rc_list_has_empty_item(spec)) {
        snprintf(err, err_len, "'%s' has an empty item", spec);
        rc = -1;
    }
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save))
        rc = parse_item(item, &l, &random_kind, &random_max, err, err_len);
    free(copy);

    if (rc == 0 && tokens_requested > RC_MAX_TOKENS) {
        snprintf(err, err_len, "--tokens %" PRId64 " exceeds %" PRId64, tokens_requested,
                 RC_MAX_TOKENS);
        rc = -1;
    }
    if (rc == 0 && !random_kind && tokens_requested >= 0 && tokens_requested != l.n) {
        snprintf(err, err_len,
                 "--positions lists %" PRId64 " token(s) but --tokens is %" PRId64
                 " (add random:MAX to fill, or drop --tokens)",
                 l.n, tokens_requested);
        rc = -1;
    }
    if (rc == 0 && random_kind) {
        int64_t total = tokens_requested >= 0 ? tokens_requested
                        : l.n > RC_DEFAULT_RANDOM_TOKENS ? l.n
                                                         : RC_DEFAULT_RANDOM_TOKENS;
        if (total < l.n) {
            snprintf(err, err_len,
                     "--tokens %" PRId64 " is fewer than the %" PRId64 " explicit positions",
                     total, l.n);
            rc = -1;
        } else {
            rc_rng r;
            rc_rng_seed3(&r, seed, POSITION_STREAM, 0);
            int64_t first = l.n;
            /* push_range grows the array; draw into the new slots, each
             * axis of a token on its own (with one axis the same draws as
             * ever). */
            if (total > first)
                rc = push_range(&l, 0, total - first - 1, err, err_len);
            for (int64_t t = first * n_axes; rc == 0 && t < total * n_axes; t++)
                l.v[t] = draw(&r, random_kind, random_max);
        }
    }
    if (rc == 0 && l.n == 0) {
        snprintf(err, err_len, "--positions gives no positions");
        rc = -1;
    }
    if (rc != 0) {
        free(l.v);
        return -1;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}
