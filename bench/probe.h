/*
 * bench/probe.h - the roofline probe: the fastest honest way to read a
 * tensor's bytes and write as many, against which every case is measured.
 */
#ifndef ROPECHECK_BENCH_PROBE_H
#define ROPECHECK_BENCH_PROBE_H

#include <stddef.h>

/* Read `bytes` bytes at in and write `bytes` bytes at out (no overlap). */
void rcb_stream(const void *in, void *out, size_t bytes);

#endif
