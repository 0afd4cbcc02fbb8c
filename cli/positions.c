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

typedef struct pos_list {
    int64_t *v;
    int64_t n, cap;
} pos_list;

static int push_range(pos_list *l, int64_t a, int64_t b, char *err, size_t err_len)
{
    int64_t count = b - a + 1;
    if (count > RC_MAX_TOKENS - l->n) {
        snprintf(err, err_len, "more than %" PRId64 " positions", RC_MAX_TOKENS);
        return -1;
    }
    if (l->n + count > l->cap) {
        int64_t cap = l->cap ? l->cap : 64;
        while (cap < l->n + count)
            cap *= 2;
        int64_t *nv = realloc(l->v, sizeof(int64_t) * (size_t)cap);
        if (!nv) {
            snprintf(err, err_len, "out of memory for positions");
            return -1;
        }
        l->v = nv;
        l->cap = cap;
    }
    for (int64_t m = a; m <= b; m++)
        l->v[l->n++] = m;
    return 0;
}

/* One item: a number, a range, or a random directive (recorded, not drawn). */
static int parse_item(char *item, pos_list *l, int *random_kind, int64_t *random_max, char *err,
                      size_t err_len)
{
    char *colon = strchr(item, ':');
    if (!colon) {
        int64_t m;
        return parse_position(item, &m, err, err_len) ? -1 : push_range(l, m, m, err, err_len);
    }
    *colon = '\0';
    const char *left = item, *right = colon + 1;
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
    pos_list l = {0};
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
                 "--positions lists %" PRId64 " position(s) but --tokens is %" PRId64
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
            /* push_range grows the array; draw into the new slots. */
            if (total > first)
                rc = push_range(&l, 0, total - first - 1, err, err_len);
            for (int64_t t = first; rc == 0 && t < total; t++)
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
