/*
 * harness/runner_decode.h - the host's decoders of the runner's frames
 * (runner/PROTOCOL.md): the HELLO and the RESULT payloads. Pure functions,
 * no I/O and no global state, so harness/runner_client.c uses them on
 * what it read and tests/fuzz feeds them arbitrary bytes.
 */
#ifndef ROPECHECK_RUNNER_DECODE_H
#define ROPECHECK_RUNNER_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "harness/runner_client.h" /* RC_RUNNER_MAX_IMPLS */

/* One implementation as a runner's hello offers it. */
typedef struct rc_runner_offer {
    char name[64];        /* [a-z0-9_-]+, checked */
    char description[320];
    uint64_t caps;        /* RC_CAP_* bits */
    int available;
    char why[256];        /* why not, when unavailable */
} rc_runner_offer;

/* Decodes a HELLO payload: the protocol version into *version (one the
 * host speaks: RCRP_MIN_VERSION..RCRP_VERSION), the architecture into arch
 * (arch_len >= 1, truncated) and 1..RC_RUNNER_MAX_IMPLS offers into
 * out[0..*n). 0, or -1 with one line in err (a version this host does not
 * speak, a bad count or name, lengths that do not add up); out may then be
 * partly written. */
int rc_runner_parse_hello(const unsigned char *payload, size_t len, uint32_t *version,
                          char *arch, size_t arch_len, rc_runner_offer *out, size_t *n,
                          char *err, size_t err_len);

/* A RESULT payload, checked against the request it answers. The byte
 * pointers point into the payload. */
typedef struct rc_runner_reply {
    uint32_t status;            /* an rc_status, <= RC_ERR_INTERNAL */
    uint32_t flags;             /* RCRP_FLAG_* */
    const unsigned char *out;   /* out_len bytes: 0, or the output extent */
    size_t out_len;
    const unsigned char *in;    /* NULL, or (flag INPUT_CHANGED) in_len bytes */
    size_t in_len;
    char message[1024];         /* the runner's reason, maybe "" */
    const unsigned char *table; /* version 3: n_table f64 bit patterns (the
                                   implementation's own frequencies), or NULL */
    size_t n_table;             /* 0, or the request's rotary_dim / 2 */
} rc_runner_reply;

/* How a RESULT must look: what the request it answers implies. */
typedef struct rc_runner_expect {
    size_t want_out; /* the output extent (the input's when in place) */
    size_t in_ext;   /* the input extent */
    int inplace;
    uint32_t version; /* the runner's protocol version (2 or 3) */
    size_t half;      /* rotary_dim / 2: the only table length besides 0 */
} rc_runner_expect;

/* The longest RESULT payload a request may get: status, flags, the output
 * extent with its length, the input extent with its length (out of place
 * only: only then may the input-changed flag be set), a message of at most
 * RCRP_MAX_STRING bytes with its length, and (version 3) the table's
 * count and half entries. Never above RCRP_MAX_PAYLOAD. The host reads no
 * longer frame. */
uint64_t rc_runner_reply_max_len(const rc_runner_expect *e);

/* Decodes a RESULT payload for the request described by e. 0 with *r
 * filled, or -1 when the lengths, flags or table count do not match the
 * request (the frame is malformed). */
int rc_runner_decode_reply(const unsigned char *payload, size_t len, const rc_runner_expect *e,
                           rc_runner_reply *r);

#endif /* ROPECHECK_RUNNER_DECODE_H */
