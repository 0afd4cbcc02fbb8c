/*
 * harness/runner_decode.c - the host's decoders of the runner's HELLO and
 * RESULT payloads (runner_decode.h; the frames are runner/PROTOCOL.md).
 */
#include "harness/runner_decode.h"

#include <stdio.h>
#include <string.h>

#include "core/text_escape.h"
#include "ropecheck/rope.h"
#include "runner/protocol.h"

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static void escape_in_place(char *text, size_t size)
{
    char shown[1024];
    rc_escape_text(text, shown, sizeof shown < size ? sizeof shown : size);
    memcpy(text, shown, strlen(shown) + 1);
}

int rc_runner_parse_hello(const unsigned char *payload, size_t len, uint32_t *version,
                          char *arch, size_t arch_len, rc_runner_offer *out, size_t *n,
                          char *err, size_t err_len)
{
    rcrp_in in = {payload, len, 0, 0};
    const uint32_t v = rcrp_read_u32(&in);
    if (!in.bad && (v < RCRP_MIN_VERSION || v > RCRP_VERSION)) {
        snprintf(err, err_len,
                 "runner speaks protocol version %u; this ropecheck speaks %u to %u "
                 "(runner/PROTOCOL.md)",
                 (unsigned)v, RCRP_MIN_VERSION, RCRP_VERSION);
        return -1;
    }
    rcrp_read_str(&in, arch, arch_len);
    escape_in_place(arch, arch_len);
    uint32_t count = rcrp_read_u32(&in);
    if (!in.bad && (count == 0 || count > RC_RUNNER_MAX_IMPLS)) {
        snprintf(err, err_len, "runner announced %u implementations (1..%d expected)",
                 (unsigned)count, RC_RUNNER_MAX_IMPLS);
        return -1;
    }
    for (uint32_t i = 0; i < count && !in.bad; i++) {
        rc_runner_offer *s = &out[i];
        rcrp_read_str(&in, s->name, sizeof s->name);
        rcrp_read_str(&in, s->description, sizeof s->description);
        s->caps = rcrp_read_u64(&in);
        s->available = rcrp_read_u32(&in) != 0;
        rcrp_read_str(&in, s->why, sizeof s->why);
        /* Shown by list and with every skip: a runner's text is escaped
         * as a plug-in's is (core/text_escape.h). */
        escape_in_place(s->description, sizeof s->description);
        escape_in_place(s->why, sizeof s->why);
        if (!in.bad && !valid_name(s->name)) {
            snprintf(err, err_len, "runner announced a malformed implementation name '%s'",
                     s->name);
            return -1;
        }
    }
    if (in.bad || in.at != in.len) {
        snprintf(err, err_len, "runner sent a malformed hello (lengths do not add up)");
        return -1;
    }
    *n = count;
    *version = v;
    return 0;
}

/* a + b, saturating at UINT64_MAX. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t rc_runner_reply_max_len(const rc_runner_expect *e)
{
    uint64_t n = 4 + 4 + 8;                    /* status, flags, out_len */
    n = add_sat(n, (uint64_t)e->want_out);     /* the output's bytes */
    if (!e->inplace)                           /* in_len and the input's bytes */
        n = add_sat(add_sat(n, 8), (uint64_t)e->in_ext);
    n = add_sat(n, 2 + (uint64_t)RCRP_MAX_STRING); /* the message */
    if (e->version >= 3)                       /* n_table and the table */
        n = add_sat(n, add_sat(4, e->half > UINT64_MAX / 8 ? UINT64_MAX : 8 * (uint64_t)e->half));
    return n < RCRP_MAX_PAYLOAD ? n : RCRP_MAX_PAYLOAD;
}

int rc_runner_decode_reply(const unsigned char *payload, size_t len, const rc_runner_expect *e,
                           rc_runner_reply *r)
{
    const size_t want_out = e->want_out, in_ext = e->in_ext;
    const int inplace = e->inplace;
    memset(r, 0, sizeof *r);
    rcrp_in in = {payload, len, 0, 0};
    uint32_t status = rcrp_read_u32(&in), flags = rcrp_read_u32(&in);
    uint64_t got_out = rcrp_read_u64(&in);
    /* A length past the payload is bad as it stands: never narrow it
     * (size_t may be 32 bits) before that is known. */
    const unsigned char *out_bytes = got_out <= len ? rcrp_take(&in, (size_t)got_out) : NULL;
    if (got_out > len)
        in.bad = 1;
    uint64_t got_in = 0;
    const unsigned char *in_bytes = NULL;
    if (flags & RCRP_FLAG_INPUT_CHANGED) {
        got_in = rcrp_read_u64(&in);
        in_bytes = got_in <= len ? rcrp_take(&in, (size_t)got_in) : NULL;
        if (got_in > len)
            in.bad = 1;
    }
    rcrp_read_str(&in, r->message, sizeof r->message);
    uint64_t n_table = 0;
    const unsigned char *table = NULL;
    if (e->version >= 3) {
        n_table = rcrp_read_u32(&in);
        /* Only 0 or half entries: checked before the bytes are taken. */
        if (n_table != 0 && n_table != (uint64_t)e->half)
            in.bad = 1;
        else if (n_table)
            table = rcrp_take(&in, 8 * (size_t)n_table);
    }
    if (in.bad || in.at != in.len || (flags & ~RCRP_FLAG_INPUT_CHANGED) ||
        status > RC_ERR_INTERNAL || (got_out != 0 && got_out != want_out) ||
        (status == RC_OK && got_out != want_out) || (in_bytes && (inplace || got_in != in_ext)))
        return -1;
    r->status = status;
    r->flags = flags;
    r->out = got_out ? out_bytes : NULL;
    r->out_len = (size_t)got_out;
    r->in = in_bytes;
    r->in_len = in_bytes ? (size_t)got_in : 0;
    /* Shown in a verdict's reason: escaped like every runner text. */
    escape_in_place(r->message, sizeof r->message);
    r->table = table;
    r->n_table = table ? (size_t)n_table : 0;
    return 0;
}
