/*
 * tests/fuzz/fuzz_runner_request.c - the runner's decoder of an APPLY
 * payload (runner/runner.c: decode_head, check_head, decode_apply),
 * compiled in here from runner.c itself without its main(). The input is
 * the payload, without the 16-byte frame header; the implementations
 * offered are the ones the runner carries on this machine. Nothing is
 * run: this is the decoder, not the ports.
 *
 * Properties: the whole-payload decoder and the head-first path of
 * serve() agree (a payload that decodes has exactly the length its head
 * implies, and a head that is malformed or refused is so either way); a
 * decoded request's buffers lie inside the payload with the extents its
 * shape implies; a request refused only after its head passed is refused
 * for its axis map, the one part of a body that can be well-formed and
 * still not servable.
 */
#include "fuzz_common.h"

#define ROPECHECK_RUNNER_NO_MAIN 1
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunused-function"
#else
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "runner/runner.c"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    /* A private copy of exactly size bytes, so ASan sees any read past it. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    char why[256], why_head[256];
    apply_req req;
    apply_verdict whole = decode_apply(p, size, carried, N_CARRIED, &req, why, sizeof why);

    /* serve()'s way: the head alone first (at most APPLY_HEAD_MAX bytes). */
    size_t head_len = size < APPLY_HEAD_MAX ? size : APPLY_HEAD_MAX;
    apply_head h;
    size_t used = 0, in_ext = 0, out_ext = 0;
    uint64_t want_len = 0;
    const rc_impl *impl = NULL;
    apply_verdict head = decode_head(p, head_len, &h, &used, why_head, sizeof why_head);
    if (head == APPLY_OK) {
        FUZZ_CHECK(used <= head_len);
        head = check_head(&h, used, carried, N_CARRIED, &impl, &in_ext, &out_ext, &want_len,
                          why_head, sizeof why_head);
    }
    if (whole == APPLY_OK) {
        FUZZ_CHECK(head == APPLY_OK && want_len == (uint64_t)size);
        FUZZ_CHECK(req.impl == impl && req.in_extent == in_ext && req.out_extent == out_ext);
        FUZZ_CHECK(req.in_src >= p && req.in_src + req.in_extent <= p + size);
        FUZZ_CHECK(req.inplace ? req.out_src == NULL
                               : req.out_src >= p && req.out_src + req.out_extent <= p + size);
        FUZZ_CHECK(req.theta && req.positions);
        apply_req_free(&req);
    } else if (head != APPLY_OK) {
        FUZZ_CHECK(head == whole);
    } else if (whole == APPLY_REFUSE) {
        /* The head was fine and the payload had its length: the one
         * refusal of a body is a multi-axis map (version 4) naming an axis
         * the head does not have. Find that byte where PROTOCOL.md puts
         * the map: after theta (16 bytes a pair), the output scale (16),
         * and from version 3 the family's parameters and factors. */
        FUZZ_CHECK(want_len == (uint64_t)size && h.n_axes >= 2);
        const size_t half = (size_t)h.rotary_dim / 2;
        size_t map_at = used + 16 * half + 16;
        if (g_version >= 3)
            map_at += RCRP_SCALING_PARAM_BYTES + 16 * (size_t)h.n_factors;
        FUZZ_CHECK(map_at + half <= size);
        int names_absent_axis = 0;
        for (size_t i = 0; i < half; i++)
            names_absent_axis |= p[map_at + i] >= h.n_axes;
        FUZZ_CHECK(names_absent_axis);
    } else {
        /* The head was fine: the rest did not match it. */
        FUZZ_CHECK(whole == APPLY_MALFORMED);
    }
    free(p);
    return 0;
}
