/*
 * tests/fuzz/fuzz_runner_hello.c - the host's decoder of a runner's HELLO
 * payload (harness/runner_decode.c, rc_runner_parse_hello; the frame is
 * runner/PROTOCOL.md). The input is the payload, without the 16-byte
 * frame header.
 *
 * Properties on success: a version the host speaks, 1..RC_RUNNER_MAX_IMPLS
 * offers, each with a name
 * of [a-z0-9_-]+, every string NUL-terminated within its buffer.
 */
#include "fuzz_common.h"

#include "core/text_escape.h"
#include "harness/runner_decode.h"
#include "runner/protocol.h"

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char arch[32], err[512];
    rc_runner_offer offers[RC_RUNNER_MAX_IMPLS];
    size_t n = 0;
    uint32_t version = 0;
    if (rc_runner_parse_hello(data, size, &version, arch, sizeof arch, offers, &n, err,
                              sizeof err) == 0) {
        FUZZ_CHECK(n >= 1 && n <= RC_RUNNER_MAX_IMPLS);
        FUZZ_CHECK(version >= RCRP_MIN_VERSION && version <= RCRP_VERSION);
        FUZZ_CHECK(memchr(arch, '\0', sizeof arch) != NULL && rc_text_is_plain(arch));
        for (size_t i = 0; i < n; i++) {
            const rc_runner_offer *o = &offers[i];
            FUZZ_CHECK(memchr(o->name, '\0', sizeof o->name) != NULL && o->name[0]);
            FUZZ_CHECK(strspn(o->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                       strlen(o->name));
            FUZZ_CHECK(memchr(o->description, '\0', sizeof o->description) != NULL);
            FUZZ_CHECK(memchr(o->why, '\0', sizeof o->why) != NULL);
            /* What list and every skip will print: nothing a terminal obeys. */
            FUZZ_CHECK(rc_text_is_plain(o->description) && rc_text_is_plain(o->why));
        }
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0]);
    }
    return 0;
}
