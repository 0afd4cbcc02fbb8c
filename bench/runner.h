/*
 * bench/runner.h - time implementations on the model cases, next to the
 * roofline probe and the MPFR reference, through bench/shim.h.
 *
 * Every case is timed in two variants:
 *   cold  the whole tensor; when it is smaller than a few times the
 *         last-level cache, the calls cycle through enough copies of it
 *         that every call reads from and writes to memory, not cache;
 *   hot   a slice of the tokens, as many as fit in half the per-core L2
 *         (input + output) per thread, applied again and again.
 * The probe (bench/probe.h) moves exactly the same bytes from and to the
 * same buffers in both variants, with the same threads; a case's fraction
 * of the probe is probe time / case time for those bytes.
 *
 * Bytes counted: the input tensor's bytes read plus the output tensor's
 * bytes written (every channel of every head, rotated or passed through).
 * Positions and tables are not counted.
 */
#ifndef ROPECHECK_BENCH_RUNNER_H
#define ROPECHECK_BENCH_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "bench/cases.h"
#include "bench/machine.h"
#include "ropecheck/plugin.h"

#define RCB_MAX_THREADS 64
#define RCB_MAX_THREAD_COUNTS 8

typedef struct rcb_options {
    /* Every case runs once per count (a scaling run when there are
     * several), each 1 .. RCB_MAX_THREADS, its tokens split between them. */
    int thread_counts[RCB_MAX_THREAD_COUNTS];
    int n_thread_counts;    /* >= 1 */
    double min_time_s;      /* Google Benchmark's minimum time per benchmark */
    int repetitions;        /* >= 1; above 1 every figure is the median run */
    unsigned shape_mask;    /* bit i: rcb_shape_get(i) */
    unsigned mode_mask;     /* bit i: rcb_mode_get(i) */
    unsigned dtype_mask;    /* bit t: rc_dtype t */
    int reference;          /* also time the MPFR reference */
    int ref_jobs;           /* 1 .. RCB_MAX_THREADS: its threads, one oracle each */
    int progress;           /* a line per benchmark on stderr */
    const char *json_path;  /* Google Benchmark's JSON goes here (may be NULL) */
    uint64_t seed;          /* input values */
    double timeout_s;       /* the guarded trial call of each implementation */
    int baseline;           /* index into the targets of --baseline's implementation,
                               -1: none (ratio_to_baseline stays 0) */
    int new_positions;      /* every call at positions the state's previous call did not
                               use (nothing kept across calls helps), else the same */
    int axes;               /* RCB_AXES_*: multi-axis RoPE (M-RoPE) workloads */
} rcb_options;

/* bench --axes: every shape's pairs on three axes in Qwen2-VL's proportions
 * (rcb_axes_map), every token at three unequal positions (the cost of an
 * image token; a text token costs one axis). */
enum { RCB_AXES_NONE = 0, RCB_AXES_MROPE = 1, RCB_AXES_MROPE_INTERLEAVED = 2 };

/* The map of kind for a shape of rotary_dim: sections s1 = s2 = floor(3/8
 * of r/2), s0 the rest (16, 24, 24 for r 128, Qwen2-VL's), contiguous or
 * interleaved. 0, or -1 with err. */
struct rc_axes;
int rcb_axes_map(int kind, int32_t rotary_dim, struct rc_axes *out, char *err, size_t len);

typedef struct rcb_target {
    const rc_impl *impl;
    const char *plugin_path; /* NULL for a built-in */
    int baseline;            /* added only as the yardstick (scalar) */
} rcb_target;

typedef struct rcb_variant {
    int ok;                     /* measured */
    char error[256];            /* when not */
    char bench_name[160];       /* Google Benchmark's name */
    double bytes_per_iter;      /* read + written, all threads */
    double tokens_per_iter;
    double elements_per_iter;
    double gbps;                /* 1e9 bytes per second */
    double elements_per_second;
    double ns_per_token;
    double ns_per_iter;         /* one call (per thread) on its tokens */
    double fraction_of_probe;   /* probe time / this time, same bytes; 0 if unknown */
    double ratio_to_scalar;     /* scalar time / this time, same bytes; 0 if unknown */
    double ratio_to_baseline;   /* --baseline's time / this time, same case; 0 if none */
} rcb_variant;

typedef enum rcb_outcome { RCB_RAN = 0, RCB_SKIPPED = 1, RCB_BROKEN = 2 } rcb_outcome;

typedef struct rcb_case_result {
    size_t target;              /* index into the targets given */
    const rcb_shape *shape;
    const rcb_mode *mode;
    rc_dtype dtype;
    int threads;                /* the case's tokens split over this many */
    int64_t tokens, heads;
    rcb_outcome outcome;
    char why[512];              /* skipped or broken: why */
    rcb_variant hot, cold;
} rcb_case_result;

typedef struct rcb_probe_result {
    const rcb_shape *shape;
    const rcb_mode *mode;
    rc_dtype dtype;
    int threads;
    rcb_variant hot, cold;
} rcb_probe_result;

typedef struct rcb_ref_result {
    rc_dtype dtype;
    int head_dim, heads;
    rcb_variant v;              /* MPFR for every pair: elements_per_second */
    rcb_variant fast;           /* the certified fast path, same inputs */
    uint64_t fast_pairs;        /* pairs the fast path decided, over its runs */
    uint64_t fallback_pairs;    /* pairs it sent to MPFR */
    int threads;                /* the rates are over this many, one oracle each */
} rcb_ref_result;

typedef struct rcb_report {
    rcb_machine machine;
    int thread_counts[RCB_MAX_THREAD_COUNTS]; /* rcb_options' */
    int n_thread_counts;
    int new_positions;          /* rcb_options.new_positions */
    int axes;                   /* rcb_options.axes */
    double min_time_s;
    int repetitions;
    size_t hot_bytes_per_thread; /* input + output per thread, hot variant */
    size_t cold_pool_bytes;      /* at least this much memory cycled through, cold */
    rcb_case_result *cases;
    size_t n_cases;
    rcb_probe_result *probes;
    size_t n_probes;
    rcb_ref_result refs[RC_DTYPE_COUNT];
    size_t n_refs;
    int any_broken;
} rcb_report;

/* Run everything; 0, or -1 with a one-line err (nothing to run, JSON file
 * not writable, out of memory). */
int rcb_run(const rcb_options *o, const rcb_target *targets, size_t n_targets, rcb_report *rep,
            char *err, size_t err_len);
void rcb_report_free(rcb_report *rep);

#endif
