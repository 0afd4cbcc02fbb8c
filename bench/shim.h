/*
 * bench/shim.h - a small C interface over Google Benchmark (bench/shim.cc,
 * the only C++ in ropecheck).
 *
 * A case is three C callbacks and the work one iteration does. The shim
 * registers it with Google Benchmark, runs every case, optionally writes
 * Google Benchmark's own JSON to a file, and hands each case's figures
 * back to C. Counters in that JSON, per case:
 *   bytes_per_second     bytes read + bytes written per second
 *   items_per_second     elements (channels of a head) rotated per second
 *   ns_per_token         wall nanoseconds per token
 *   bytes_per_iteration, elements_per_iteration, tokens_per_iteration
 * With several threads every rate is the aggregate of all threads over the
 * wall time.
 */
#ifndef ROPECHECK_BENCH_SHIM_H
#define ROPECHECK_BENCH_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called once by thread 0 before each timed loop (untimed): build buffers,
 * prepare states. Nonzero: the case is reported as an error, with err. */
typedef int (*rcb_setup_fn)(void *ctx, int n_threads, char *err, size_t err_len);
/* One timed iteration of thread `thread_index` of n_threads. Nonzero: the
 * case stops with an error (err is filled). Each thread's first call after
 * a setup is an untimed warm-up (bench/shim.cc). */
typedef int (*rcb_iter_fn)(void *ctx, int thread_index, int n_threads, char *err,
                           size_t err_len);
/* Called once by thread 0 after each timed loop (untimed). May be NULL. */
typedef void (*rcb_teardown_fn)(void *ctx);
/* Called by every thread after its timed loop (untimed), before thread 0's
 * teardown may run: for per-thread library state (MPFR's thread-local
 * caches). Must not touch what teardown frees. May be NULL. */
typedef void (*rcb_thread_end_fn)(void *ctx, int thread_index);

typedef struct rcb_case {
    const char *name;            /* Google Benchmark's name; copied */
    rcb_setup_fn setup;          /* may be NULL */
    rcb_iter_fn iter;
    rcb_teardown_fn teardown;    /* may be NULL */
    rcb_thread_end_fn thread_end; /* may be NULL */
    void *ctx;
    double bytes_per_iter;       /* all threads together */
    double elements_per_iter;
    double tokens_per_iter;
} rcb_case;

typedef struct rcb_result {
    int ran;                  /* 0 if the case never reported (filtered) */
    int error;                /* 1 if it stopped with an error */
    char error_message[256];
    double iterations;        /* summed over threads */
    double seconds;           /* wall time of the timed loops */
    double bytes_per_second;
    double elements_per_second;
    double ns_per_token;
    double ns_per_iteration;  /* wall time of one iteration of all threads */
} rcb_result;

/* Register a case; returns its index, or -1 (out of memory). threads >= 1,
 * min_time_s > 0, repetitions >= 1: with more than one, the result handed
 * back is the median repetition (Google Benchmark's "median" aggregate). */
int rcb_register(const rcb_case *c, int threads, double min_time_s, int repetitions);

/* Run every registered case. json_path (may be NULL) receives Google
 * Benchmark's JSON. progress != 0: one line per case on stderr. Returns 0,
 * or -1 with err (the JSON file could not be opened). */
int rcb_run_all(const char *json_path, int progress, char *err, size_t err_len);

size_t rcb_count(void);
/* 0, or -1 if i is out of range. */
int rcb_get_result(size_t i, rcb_result *out);

/* Free the registrations (Google Benchmark's own teardown). */
void rcb_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* ROPECHECK_BENCH_SHIM_H */
