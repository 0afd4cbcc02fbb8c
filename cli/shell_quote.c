/*
 * cli/shell_quote.c - see shell_quote.h.
 */
#include "cli/shell_quote.h"

#include <stdio.h>
#include <string.h>

typedef struct sink {
    char *out;
    size_t len, n;
} sink;

static void put(sink *s, const char *text)
{
    const size_t k = strlen(text);
    if (s->n < s->len)
        snprintf(s->out + s->n, s->len - s->n, "%s", text);
    s->n += k;
}

size_t rc_shell_quote(const char *word, char *out, size_t out_len)
{
    sink s = {out, out_len, 0};
    if (out_len)
        out[0] = '\0';
    put(&s, "'");
    for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
        char piece[16];
        if (*p == '\'')
            snprintf(piece, sizeof piece, "'\\''");
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(piece, sizeof piece, "'$'\\x%02x''", *p);
        else
            snprintf(piece, sizeof piece, "%c", *p);
        put(&s, piece);
    }
    put(&s, "'");
    return s.n;
}
