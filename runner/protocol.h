/*
 * runner/protocol.h - the wire format between ropecheck (the host) and
 * ropecheck-runner (the target), shared by both sides. runner/PROTOCOL.md
 * is the description; this header is the definition.
 *
 * Header-only, libc and the public rope.h only, because the runner is
 * built for boards that have nothing else. Integers are little-endian and fixed-width, encoded
 * and decoded byte by byte, so neither side depends on its own byte order
 * for the framing. Tensor bytes are the elements as stored in memory,
 * which the protocol requires to be little-endian (the runner refuses to
 * start on a big-endian machine).
 */
#ifndef ROPECHECK_RUNNER_PROTOCOL_H
#define ROPECHECK_RUNNER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ropecheck/rope.h" /* rc_scaling */

/* Every frame starts with this magic ("RCRP" in memory), the frame type
 * and the payload length in bytes. */
#define RCRP_MAGIC 0x50524352u
#define RCRP_VERSION 4u /* 2: APPLY carries the output scale; 3: the scaling
                           family and parameters (APPLY) and the
                           implementation's own frequency table (RESULT);
                           4: multi-axis positions (APPLY: n_axes,
                           freq_period, pair_axis, n_axes positions per
                           token) */
#define RCRP_MIN_VERSION 2u /* the oldest version a host still speaks */
#define RCRP_HEADER_BYTES 16u

/* Frame types. */
#define RCRP_HELLO 1u   /* runner -> host, once, first thing */
#define RCRP_APPLY 2u   /* host -> runner: one prepare + apply + release */
#define RCRP_RESULT 3u  /* runner -> host: the answer to one APPLY */

/* Reply flags. */
#define RCRP_FLAG_INPUT_CHANGED 1u /* out of place, and the input was written:
                                      its bytes follow the output's */

/* Largest payload either side accepts: far above any tensor ropecheck
 * builds (its buffers stay below half the host's memory), small enough
 * that a corrupted length is caught before a huge allocation. */
#define RCRP_MAX_PAYLOAD ((uint64_t)1 << 36)

/* Longest name, description or reason string in a frame. */
#define RCRP_MAX_STRING 4096u

static inline void rcrp_put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void rcrp_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void rcrp_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t rcrp_get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t rcrp_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t rcrp_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t rcrp_bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double rcrp_double_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* A growing output buffer. On allocation failure `failed` is set and
 * further writes do nothing; the caller checks once at the end. */
typedef struct rcrp_out {
    unsigned char *p;
    size_t len, cap;
    int failed;
} rcrp_out;

/* A cursor over a received payload. Reading past the end sets `bad` and
 * yields zeros, so a decoder checks once at the end. */
typedef struct rcrp_in {
    const unsigned char *p;
    size_t len, at;
    int bad;
} rcrp_in;

static inline const unsigned char *rcrp_take(rcrp_in *in, size_t n)
{
    if (in->bad || n > in->len - in->at) {
        in->bad = 1;
        return NULL;
    }
    const unsigned char *r = in->p + in->at;
    in->at += n;
    return r;
}

static inline uint16_t rcrp_read_u16(rcrp_in *in)
{
    const unsigned char *p = rcrp_take(in, 2);
    return p ? rcrp_get_u16(p) : 0;
}

static inline uint32_t rcrp_read_u32(rcrp_in *in)
{
    const unsigned char *p = rcrp_take(in, 4);
    return p ? rcrp_get_u32(p) : 0;
}

static inline uint64_t rcrp_read_u64(rcrp_in *in)
{
    const unsigned char *p = rcrp_take(in, 8);
    return p ? rcrp_get_u64(p) : 0;
}

/* A string: u16 length, then that many bytes (no NUL). Copied into buf
 * with a NUL, truncated to buf_len - 1. */
static inline void rcrp_read_str(rcrp_in *in, char *buf, size_t buf_len)
{
    uint16_t n = rcrp_read_u16(in);
    const unsigned char *p = rcrp_take(in, n);
    size_t k = p ? (n < buf_len - 1 ? n : buf_len - 1) : 0;
    if (k)
        memcpy(buf, p, k);
    buf[k] = '\0';
}

static inline unsigned char *rcrp_grow(rcrp_out *o, size_t n)
{
    if (o->failed)
        return NULL;
    if (n > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap - o->len < n) {
            if (cap > SIZE_MAX / 2) {
                o->failed = 1;
                return NULL;
            }
            cap *= 2;
        }
        unsigned char *np = realloc(o->p, cap);
        if (!np) {
            o->failed = 1;
            return NULL;
        }
        o->p = np;
        o->cap = cap;
    }
    unsigned char *r = o->p + o->len;
    o->len += n;
    return r;
}

static inline void rcrp_write_u16(rcrp_out *o, uint16_t v)
{
    unsigned char *p = rcrp_grow(o, 2);
    if (p)
        rcrp_put_u16(p, v);
}

static inline void rcrp_write_u32(rcrp_out *o, uint32_t v)
{
    unsigned char *p = rcrp_grow(o, 4);
    if (p)
        rcrp_put_u32(p, v);
}

static inline void rcrp_write_u64(rcrp_out *o, uint64_t v)
{
    unsigned char *p = rcrp_grow(o, 8);
    if (p)
        rcrp_put_u64(p, v);
}

/* Version 3: the scaling family's parameters in an APPLY, after the
 * output scale (PROTOCOL.md), straight from and into rope.h's rc_scaling
 * (type and the per-pair arrays travel apart); 0 where the family does
 * not use one. */
#define RCRP_SCALING_PARAM_BYTES (8u * 10u + 4u)

static inline int64_t rcrp_i64_of(uint64_t u)
{
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static inline void rcrp_write_scaling(rcrp_out *o, const rc_scaling *s)
{
    rcrp_write_u64(o, rcrp_bits_of(s->factor));
    rcrp_write_u64(o, (uint64_t)s->original_context);
    rcrp_write_u64(o, (uint64_t)s->context);
    rcrp_write_u64(o, rcrp_bits_of(s->beta_fast));
    rcrp_write_u64(o, rcrp_bits_of(s->beta_slow));
    rcrp_write_u32(o, (uint32_t)s->truncate);
    rcrp_write_u64(o, rcrp_bits_of(s->mscale));
    rcrp_write_u64(o, rcrp_bits_of(s->mscale_all_dim));
    rcrp_write_u64(o, rcrp_bits_of(s->attention_factor));
    rcrp_write_u64(o, rcrp_bits_of(s->low_freq_factor));
    rcrp_write_u64(o, rcrp_bits_of(s->high_freq_factor));
}

static inline void rcrp_read_scaling(rcrp_in *in, rc_scaling *s)
{
    s->factor = rcrp_double_of(rcrp_read_u64(in));
    s->original_context = rcrp_i64_of(rcrp_read_u64(in));
    s->context = rcrp_i64_of(rcrp_read_u64(in));
    s->beta_fast = rcrp_double_of(rcrp_read_u64(in));
    s->beta_slow = rcrp_double_of(rcrp_read_u64(in));
    s->truncate = (int32_t)rcrp_read_u32(in);
    s->mscale = rcrp_double_of(rcrp_read_u64(in));
    s->mscale_all_dim = rcrp_double_of(rcrp_read_u64(in));
    s->attention_factor = rcrp_double_of(rcrp_read_u64(in));
    s->low_freq_factor = rcrp_double_of(rcrp_read_u64(in));
    s->high_freq_factor = rcrp_double_of(rcrp_read_u64(in));
}

static inline void rcrp_write_bytes(rcrp_out *o, const void *src, size_t n)
{
    unsigned char *p = rcrp_grow(o, n);
    if (p && n)
        memcpy(p, src, n);
}

static inline void rcrp_write_str(rcrp_out *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > RCRP_MAX_STRING)
        n = RCRP_MAX_STRING;
    rcrp_write_u16(o, (uint16_t)n);
    rcrp_write_bytes(o, s, n);
}

/* Starts a frame: reserves the header, whose length is filled in by
 * rcrp_frame_end once the payload is written. */
static inline void rcrp_frame_begin(rcrp_out *o, uint32_t type)
{
    o->len = 0;
    rcrp_write_u32(o, RCRP_MAGIC);
    rcrp_write_u32(o, type);
    rcrp_write_u64(o, 0);
}

static inline void rcrp_frame_end(rcrp_out *o)
{
    if (!o->failed)
        rcrp_put_u64(o->p + 8, (uint64_t)(o->len - RCRP_HEADER_BYTES));
}

#endif /* ROPECHECK_RUNNER_PROTOCOL_H */
