/*
 * tests/fuzz/fuzz_positions.c - the --positions language
 * (cli/positions.c). The input's first line is the spec; a second line,
 * if any, is --tokens (a decimal integer; anything else means absent).
 *
 * Properties on success: 1..RC_MAX_TOKENS positions, each in
 * [0, RC_MAX_POSITION], exactly --tokens of them when it was given. The
 * same spec is parsed for one axis and for three (M-RoPE: tuples P0/P1/P2
 * and grid:G0/G1/G2@S items; cli/positions.h), where the properties hold
 * for every one of the tokens' three positions.
 *
 * Inputs that would expand to more than 2^16 positions while staying
 * within RC_MAX_TOKENS (2^24) are skipped: each costs time linear in its
 * count (up to 128 MiB and 2^24 draws), which took the campaign from
 * thousands of executions a second to under 300, and adds no path. Counts
 * beyond RC_MAX_TOKENS are kept: they are refused before any allocation.
 */
#include "fuzz_common.h"

#include "cli/positions.h"
#include "cli/strict_num.h"
#include "ropecheck/rope.h"

#define FUZZ_SMALL ((int64_t)1 << 16)

/* s[0..n) is a decimal integer of digits only: its value (saturated at
 * INT64_MAX), else -1. */
static int64_t digits_value(const char *s, size_t n)
{
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (s[i] - '0');
    }
    return v;
}

/* Whether the spec's explicit items, or --tokens, ask for more than
 * FUZZ_SMALL positions but no more than RC_MAX_TOKENS (see above). */
static int too_slow(const char *spec, int64_t tokens)
{
    if (tokens > FUZZ_SMALL && tokens <= RC_MAX_TOKENS)
        return 1;
    int64_t total = 0;
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 5 && strncmp(p, "grid:", 5) == 0) { /* the product of its sizes */
            int64_t prod = 1;
            for (const char *q = p + 5; q < p + n && *q != '@';) {
                const size_t k = strcspn(q, "/@,");
                const int64_t g = digits_value(q, k);
                prod = g < 1 ? prod : prod > INT64_MAX / g ? INT64_MAX : prod * g;
                q += k + (q[k] == '/');
            }
            total = prod >= INT64_MAX - total ? INT64_MAX : total + prod;
            p += n + (p[n] == ',');
            continue;
        }
        const char *colon = memchr(p, ':', n);
        int64_t a = colon ? digits_value(p, (size_t)(colon - p)) : digits_value(p, n);
        int64_t b = colon ? digits_value(colon + 1, n - (size_t)(colon + 1 - p)) : a;
        if (a >= 0 && b >= a)
            total = b - a >= INT64_MAX - total ? INT64_MAX : total + (b - a + 1);
        p += n + (p[n] == ',');
    }
    return total > FUZZ_SMALL && total <= RC_MAX_TOKENS;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char *rest;
    size_t rest_len;
    char *spec = fuzz_split_line(data, size, &rest, &rest_len);
    int64_t tokens = -1;
    if (rest) {
        rest[strcspn(rest, "\n")] = '\0';
        if (rc_parse_int64(rest, &tokens) != 0)
            tokens = -1;
    }
    char err[512];
    int64_t *pos = NULL, n = 0;
    if (too_slow(spec, tokens)) {
        free(spec);
        free(rest);
        return 0;
    }
    if (rc_positions_parse(spec, tokens, 7, &pos, &n, err, sizeof err) == 0) {
        FUZZ_CHECK(pos != NULL && n >= 1 && n <= RC_MAX_TOKENS);
        if (tokens >= 0)
            FUZZ_CHECK(n == tokens);
        for (int64_t t = 0; t < n; t++)
            FUZZ_CHECK(pos[t] >= 0 && pos[t] <= RC_MAX_POSITION);
        free(pos);
    }
    pos = NULL;
    if (rc_positions_parse_axes(spec, 3, tokens, 7, &pos, &n, err, sizeof err) == 0) {
        FUZZ_CHECK(pos != NULL && n >= 1 && n <= RC_MAX_TOKENS);
        if (tokens >= 0)
            FUZZ_CHECK(n == tokens);
        for (int64_t t = 0; t < 3 * n; t++)
            FUZZ_CHECK(pos[t] >= 0 && pos[t] <= RC_MAX_POSITION);
        free(pos);
    }
    free(spec);
    free(rest);
    return 0;
}
