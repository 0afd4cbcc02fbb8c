/*
 * tests/fuzz/fuzz_runner_reply.c - the host's decoder of a runner's
 * RESULT payload (harness/runner_decode.c, rc_runner_decode_reply) and
 * the bound on its length (rc_runner_reply_max_len).
 *
 * Input: 5 bytes of request, then the payload (without the frame header):
 *   byte 0 bit 0   in place
 *          bit 1   protocol version 3 (else 2): the reply ends with a table
 *          bits 2-7  half = rotary_dim / 2 (the table's only length but 0)
 *   bytes 1-2      the output extent want_out (u16, little-endian)
 *   bytes 3-4      the input extent in_ext (u16, little-endian)
 *
 * Properties: a reply that decodes is never longer than the bound the
 * host reads with (so the bound refuses nothing legal); its output is 0
 * or want_out bytes and lies inside the payload; an input copy only comes
 * out of place, of in_ext bytes, inside the payload; a table only in
 * version 3, of 0 or half entries, inside the payload.
 */
#include "fuzz_common.h"

#include "harness/runner_decode.h"
#include "runner/protocol.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    const int inplace = data[0] & 1;
    const size_t want_out = rcrp_get_u16(data + 1), in_ext = rcrp_get_u16(data + 3);
    const rc_runner_expect e = {want_out, in_ext, inplace, (data[0] & 2) ? 3u : 2u,
                                (size_t)(data[0] >> 2)};
    const uint8_t *payload = data + 5;
    const size_t len = size - 5;
    /* A private copy of exactly len bytes, so ASan sees any read past it. */
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        abort();
    if (len)
        memcpy(p, payload, len);
    rc_runner_reply r;
    const uint64_t max = rc_runner_reply_max_len(&e);
    FUZZ_CHECK(max <= RCRP_MAX_PAYLOAD);
    if (rc_runner_decode_reply(p, len, &e, &r) == 0) {
        FUZZ_CHECK(r.n_table == 0 || (e.version >= 3 && r.n_table == e.half && r.table >= p &&
                                      r.table + 8 * r.n_table <= p + len));
        FUZZ_CHECK((uint64_t)len <= max);
        FUZZ_CHECK(r.out_len == 0 || r.out_len == want_out);
        FUZZ_CHECK(r.status != 0 || r.out_len == want_out);
        FUZZ_CHECK(r.status <= 5 && (r.flags & ~(uint32_t)RCRP_FLAG_INPUT_CHANGED) == 0);
        if (r.out_len)
            FUZZ_CHECK(r.out >= p && r.out + r.out_len <= p + len);
        if (r.in)
            FUZZ_CHECK(!inplace && r.in_len == in_ext && r.in >= p && r.in + r.in_len <= p + len);
        FUZZ_CHECK(memchr(r.message, '\0', sizeof r.message) != NULL);
    }
    free(p);
    return 0;
}
