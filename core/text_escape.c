/*
 * core/text_escape.c - see text_escape.h.
 */
#include "core/text_escape.h"

#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at s (at most n bytes) whose
 * code point is printable, or 0. Overlong forms, surrogates, code points
 * past U+10FFFF and the C1 controls count as not printable. */
static size_t printable_utf8(const unsigned char *s, size_t n)
{
    const unsigned c = s[0];
    if (c >= 0x20 && c < 0x7f)
        return 1;
    size_t len;
    unsigned cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
        return 0;
    return len;
}

/* The escape of one byte that cannot be shown as itself. */
static int escape_of(unsigned char c, char buf[8])
{
    switch (c) {
    case '\n': return snprintf(buf, 8, "\\n");
    case '\t': return snprintf(buf, 8, "\\t");
    case '\r': return snprintf(buf, 8, "\\r");
    case 0x1b: return snprintf(buf, 8, "\\e");
    default: return snprintf(buf, 8, "\\x%02x", c);
    }
}

size_t rc_escape_bytes(const char *in, size_t in_len, char *out, size_t out_len)
{
    if (!out_len)
        return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t k = 0, i = 0;
    /* Room kept for "..." and the NUL, so a cut is always marked. */
    const size_t room = out_len > 4 ? out_len - 4 : 0;
    while (i < in_len) {
        char piece[8];
        size_t n = printable_utf8(s + i, in_len - i), plen;
        const char *src;
        if (n) {
            src = in + i;
            plen = n;
        } else {
            plen = (size_t)escape_of(s[i], piece);
            src = piece;
            n = 1;
        }
        if (k + plen > room) {
            if (out_len > 4) {
                memcpy(out + k, "...", 3);
                k += 3;
            }
            break;
        }
        memcpy(out + k, src, plen);
        k += plen;
        i += n;
    }
    out[k] = '\0';
    return k;
}

size_t rc_escape_text(const char *in, char *out, size_t out_len)
{
    return rc_escape_bytes(in, strlen(in), out, out_len);
}

int rc_text_is_plain(const char *s)
{
    const size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        const size_t n = printable_utf8((const unsigned char *)s + i, len - i);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}
