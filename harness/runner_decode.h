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

/* Decodes a HELLO payload: the architecture into arch (arch_len >= 1,
 * truncated) and 1..RC_RUNNER_MAX_IMPLS offers into out[0..*n). 0, or -1
 * with one line in err (a version mismatch, a bad count or name, lengths
 * that do not add up); out may then be partly written. */
int rc_runner_parse_hello(const unsigned char *payload, size_t len, char *arch, size_t arch_len,
                          rc_runner_offer *out, size_t *n, char *err, size_t err_len);

/* A RESULT payload, checked against the request it answers. The byte
 * pointers point into the payload. */
typedef struct rc_runner_reply {
    uint32_t status;            /* an rc_status, <= RC_ERR_INTERNAL */
    uint32_t flags;             /* RCRP_FLAG_* */
    const unsigned char *out;   /* out_len bytes: 0, or the output extent */
    size_t out_len;
    const unsigned char *in;    /* NULL, or (flag INPUT_CHANGED) in_len bytes */
    size_t in_len;
    char message[1024];         /* the runner's reason (status 2), maybe "" */
} rc_runner_reply;

/* The longest RESULT payload a request may get: status, flags, the output
 * extent want_out with its length, the input extent in_ext with its
 * length (out of place only: only then may the input-changed flag be
 * set), and a message of at most RCRP_MAX_STRING bytes with its length.
 * Never above RCRP_MAX_PAYLOAD. The host reads no longer frame. */
uint64_t rc_runner_reply_max_len(size_t want_out, size_t in_ext, int inplace);

/* Decodes a RESULT payload for a request whose output extent (the
 * input's when in place) is want_out bytes and whose input extent is
 * in_ext. 0 with *r filled, or -1 when the lengths or flags do not match
 * the request (the frame is malformed). */
int rc_runner_decode_reply(const unsigned char *payload, size_t len, size_t want_out,
                           size_t in_ext, int inplace, rc_runner_reply *r);

#endif /* ROPECHECK_RUNNER_DECODE_H */
