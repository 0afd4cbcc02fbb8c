/*
 * bench/probe.c - the streaming read+write kernel.
 *
 * out[i] = in[i] ^ key, where key is zero but read through a volatile, so
 * the compiler can neither remove the loop nor turn it into a call to
 * memcpy (whose non-temporal stores beyond some size would measure a kernel
 * no RoPE implementation writing ordinary stores could match). Built with
 * -O3 (bench/CMakeLists.txt) so the loop is vectorized, and on x86-64 cloned
 * for AVX2 and AVX-512 so it runs at the widest width the CPU has. Bytes
 * rather than words: the tensors hold floats, and char access is the one
 * that may alias them.
 */
#include "bench/probe.h"

static volatile unsigned char probe_key = 0;

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(__clang__)
#define RCB_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef RCB_CLONES
#define RCB_CLONES
#endif

RCB_CLONES static void stream_bytes(const unsigned char *restrict in, unsigned char *restrict out,
                                    size_t bytes, unsigned char key)
{
    for (size_t i = 0; i < bytes; i++)
        out[i] = (unsigned char)(in[i] ^ key);
}

void rcb_stream(const void *in, void *out, size_t bytes)
{
    stream_bytes(in, out, bytes, probe_key);
}
