/*
 * tests/test_bench.c - `ropecheck bench` end to end (issue 7): a smoke run
 * with a tiny minimum time whose JSON must have the documented structure
 * and counters (present, positive, finite, and the byte counts exactly
 * what the case moves); plug-ins that crash or refuse a dtype; bad input.
 * No test looks at how fast anything was: timings vary, structure does not.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_runner.h"
#include "mutant_paths.h"

/* A fresh path for the JSON (the file is created by mkstemp, so the bench
 * command's writability check passes and it is overwritten). */
static void temp_json(char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, len, "%s/rc_bench_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp failed for %s", path);
    close(fd);
}

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(buf);
    cr_assert(root, "%s is not JSON:\n%.2000s", path, buf);
    free(buf);
    return root;
}

static const cJSON *member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(v, "missing key '%s'", key);
    return v;
}

static double positive(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    cr_assert(cJSON_IsNumber(v), "'%s' is not a number", key);
    double x = v->valuedouble;
    cr_expect(isfinite(x) && x > 0, "'%s' = %g must be positive and finite", key, x);
    return x;
}

static const char *string_of(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    cr_assert(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

static const cJSON *find_case(const cJSON *block, const char *impl, const char *dtype)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, member(block, "cases"))
    {
        if (strcmp(string_of(c, "impl"), impl) == 0 && strcmp(string_of(c, "dtype"), dtype) == 0)
            return c;
    }
    cr_assert_fail("no case for %s %s", impl, dtype);
    return NULL;
}

/* A measured variant (hot or cold) of one case or probe: every figure present,
 * positive and finite, and the work per iteration exactly the case's. */
static void check_variant(const cJSON *v, double tokens, double bytes_per_token,
                          double elems_per_token, int is_case)
{
    cr_assert(cJSON_IsTrue(member(v, "ok")), "variant %s did not run", string_of(v, "benchmark"));
    double tok = positive(v, "tokens_per_iteration");
    cr_expect(tok >= 1 && tok <= tokens && tok == floor(tok), "tokens_per_iteration %g", tok);
    /* Integers far below 2^53: exact in a double, so equality is exact. */
    cr_expect_eq(positive(v, "bytes_per_iteration"), tok * bytes_per_token);
    cr_expect_eq(positive(v, "elements_per_iteration"), tok * elems_per_token);
    positive(v, "gb_per_second");
    positive(v, "bytes_per_second");
    positive(v, "elements_per_second");
    positive(v, "ns_per_token");
    positive(v, "ns_per_call");
    /* A probe is not measured against itself. */
    if (is_case) {
        positive(v, "fraction_of_probe");
        positive(v, "ratio_to_scalar");
    }
}

static void expect_context(const cJSON *root)
{
    cr_expect_str_eq(string_of(root, "schema"), "ropecheck.results");
    cr_expect_str_eq(string_of(root, "schema_version"), "1.5");
    cr_expect_str_eq(string_of(root, "kind"), "bench");
    const cJSON *b = member(root, "ropecheck");
    cr_expect_str_eq(string_of(b, "schema"), "ropecheck.results");
    cr_expect_str_eq(string_of(b, "schema_version"), "1.5");
    cr_expect_str_eq(string_of(b, "kind"), "bench");
    const cJSON *m = member(b, "machine");
    static const char *const keys[] = {"cpu_model", "isa", "compiler", "c_flags", "build_type",
                                       "git_revision"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(strlen(string_of(m, keys[i])) > 0, "machine.%s is empty", keys[i]);
    cr_expect(cJSON_IsObject(member(root, "context")), "Google Benchmark's context is missing");
}

Test(bench, smoke_scalar_json_structure)
{
    char path[512];
    temp_json(path, sizeof path);
    /* --jobs 1: the reference on one thread too (its default is every
     * processor), so every record below is single-threaded */
    const char *argv[] = {"bench", "--impl", "scalar", "--shape", "phi-2", "--mode", "decode-b1",
                          "--dtype", "bf16", "--min-time", "0.01", "--jobs", "1", "--json", path,
                          "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "1 thread (single-threaded") != NULL, "threads not stated:\n%s", r.out);
    cr_expect(strstr(r.out, "(probe)") && strstr(r.out, "scalar") && strstr(r.out, "phi-2"),
              "table rows missing:\n%s", r.out);
    cr_expect(strstr(r.out, "reference, bf16, d 128, 8 heads per position: MPFR") != NULL &&
                  strstr(r.out, "fell back to MPFR") != NULL,
              "reference line missing:\n%s", r.out);

    cJSON *root = load_json(path);
    expect_context(root);
    const cJSON *b = member(root, "ropecheck");
    cr_expect_eq(positive(member(b, "settings"), "threads"), 1.0);

    /* Phi-2 decode, batch 1: 32 + 32 heads x 80 channels of 2-byte bf16,
     * read once and written once. */
    const double elems = 64.0 * 80.0, bytes = 2.0 * elems * 2.0;
    const cJSON *c = find_case(b, "scalar", "bf16");
    cr_expect_str_eq(string_of(c, "outcome"), "ran");
    cr_expect_str_eq(string_of(c, "layout"), "half");
    check_variant(member(c, "cold"), 1, bytes, elems, 1);
    check_variant(member(c, "hot"), 1, bytes, elems, 1);
    /* Scalar against itself: the same double divided by itself. */
    cr_expect_eq(member(member(c, "hot"), "ratio_to_scalar")->valuedouble, 1.0);

    const cJSON *probes = member(b, "probes");
    cr_assert_eq(cJSON_GetArraySize(probes), 1);
    check_variant(member(cJSON_GetArrayItem(probes, 0), "cold"), 1, bytes, elems, 0);

    const cJSON *ref = cJSON_GetArrayItem(member(b, "reference"), 0);
    cr_assert(ref, "no reference timing");
    cr_expect_str_eq(string_of(ref, "dtype"), "bf16");
    const double slow = positive(ref, "elements_per_second");
    positive(ref, "seconds_per_million_elements");
    /* The fast oracle beside it, on the same inputs: its ratio is the two
     * rates divided, and its fallback rate a fraction. */
    const cJSON *fast = member(ref, "fast");
    const double quick = positive(fast, "elements_per_second");
    /* cJSON writes 15 significant digits when they read back within
     * DBL_EPSILON relative of the value (its compare_double), else 17; so
     * each rate read here is within 2^-52 relative of the double the ratio
     * was computed from, and their rounded quotient within 2^-51 + 2^-53
     * < 6e-16 of the ratio. */
    const double ratio = positive(fast, "ratio_to_mpfr");
    cr_expect(fabs(ratio - quick / slow) <= 6e-16 * ratio, "ratio %.17g, rates give %.17g",
              ratio, quick / slow);
    const double fb = member(fast, "fallback_rate")->valuedouble;
    cr_expect(fb >= 0.0 && fb < 1.0, "fallback rate %g", fb);

    /* Google Benchmark's own records: 2 probe + 2 scalar + 2 reference,
     * each with its counters. For one thread ns_per_token * tokens is the
     * real time per iteration computed another way: both are
     * seconds * 1e9 / iterations (/ tokens) in a few roundings, so they
     * agree to far better than 1e-12 relative. */
    const cJSON *gb = member(root, "benchmarks");
    cr_expect_eq(cJSON_GetArraySize(gb), 6);
    const cJSON *e;
    cJSON_ArrayForEach(e, gb)
    {
        const char *name = string_of(e, "name");
        cr_expect_eq(positive(e, "threads"), 1.0, "%s", name);
        positive(e, "iterations");
        double rt = positive(e, "real_time");
        cr_expect_str_eq(string_of(e, "time_unit"), "ns");
        positive(e, "items_per_second");
        double npt = positive(e, "ns_per_token");
        double tok = positive(e, "tokens_per_iteration");
        cr_expect(fabs(npt * tok - rt) <= 1e-12 * rt, "%s: %g ns/token x %g != %g ns", name, npt,
                  tok, rt);
        if (strncmp(name, "reference/", 10) != 0) {
            positive(e, "bytes_per_second");
            cr_expect_eq(positive(e, "bytes_per_iteration"), bytes * tok, "%s", name);
        }
    }
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

/* The reference with --jobs 2: one oracle per thread, each doing all 8
 * heads of a position per iteration, the rates over both (issue 16: the
 * reference's share of bench on all cores); the ports' --threads apart. */
Test(bench, reference_runs_one_oracle_per_thread)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--impl", "scalar", "--shape", "phi-2", "--mode", "decode-b1",
                          "--dtype", "f16", "--jobs", "2", "--min-time", "0.01", "--json",
                          path, NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstderr:\n%s", r.status, r.err);
    cr_expect(strstr(r.out, "reference, f16, d 128, 8 heads per position on 2 threads: MPFR") !=
                  NULL,
              "reference line does not state its threads:\n%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    const cJSON *ref = cJSON_GetArrayItem(member(b, "reference"), 0);
    cr_assert(ref, "no reference timing");
    cr_expect_eq(positive(ref, "threads"), 2.0);
    positive(member(ref, "fast"), "elements_per_second");
    int refs = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, member(root, "benchmarks"))
    {
        const char *name = string_of(e, "name");
        if (strncmp(name, "reference/", 10) != 0) {
            cr_expect_eq(positive(e, "threads"), 1.0, "%s: --jobs is the reference's", name);
            continue;
        }
        refs++;
        cr_expect_eq(positive(e, "threads"), 2.0, "%s", name);
        /* 2 threads x 8 heads x 128 channels, 2 positions, per iteration */
        cr_expect_eq(positive(e, "elements_per_iteration"), 2.0 * 8.0 * 128.0, "%s", name);
        cr_expect_eq(positive(e, "tokens_per_iteration"), 2.0, "%s", name);
    }
    cr_expect_eq(refs, 2, "the MPFR and the fast reference records");
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

/* Two threads and two repetitions: the figures are the median run. */
Test(bench, threads_split_tokens_and_are_stated)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--impl", "scalar", "--shape", "llama3-8b", "--mode",
                          "decode-b64", "--dtype", "f32", "--threads", "2", "--repetitions", "2",
                          "--min-time", "0.01", "--no-reference", "--json", path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstderr:\n%s", r.status, r.err);
    cr_expect(strstr(r.out, "2 threads") != NULL, "threads not stated:\n%s", r.out);
    cJSON *root = load_json(path);
    expect_context(root);
    const cJSON *b = member(root, "ropecheck");
    cr_expect_eq(positive(member(b, "settings"), "threads"), 2.0);
    /* Llama-3-8B: 32 + 8 heads x 128 f32 channels per token, in and out. */
    const double elems = 40.0 * 128.0, bytes = 2.0 * elems * 4.0;
    const cJSON *c = find_case(b, "scalar", "f32");
    check_variant(member(c, "cold"), 64, bytes, elems, 1);
    cr_expect_eq(member(member(c, "cold"), "tokens_per_iteration")->valuedouble, 64.0);
    check_variant(member(c, "hot"), 64, bytes, elems, 1);
    cr_expect_eq(cJSON_GetArraySize(member(b, "reference")), 0);
    cr_expect_eq(positive(member(b, "settings"), "repetitions"), 2.0);
    /* Our figure must be Google Benchmark's own median: its ns_per_token
     * counter and ours are W * 1e9 / (iterations * tokens) from the same
     * W and iterations, a few roundings apart (far below 1e-12 relative). */
    const cJSON *cold = member(c, "cold");
    const char *cold_name = string_of(cold, "benchmark");
    int medians = 0, runs = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, member(root, "benchmarks"))
    {
        const char *name = string_of(e, "name");
        cr_expect_eq(positive(e, "threads"), 2.0, "%s", name);
        /* Every repetition is kept, as Google Benchmark writes it. */
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "run_type");
        runs += strncmp(name, cold_name, strlen(cold_name)) == 0 && cJSON_IsString(type) &&
                strcmp(type->valuestring, "iteration") == 0;
        size_t n = strlen(name);
        if (strncmp(name, cold_name, strlen(cold_name)) != 0 || n < 7 ||
            strcmp(name + n - 7, "_median") != 0)
            continue;
        medians++;
        double theirs = positive(e, "ns_per_token");
        double ours = positive(cold, "ns_per_token");
        cr_expect(fabs(theirs - ours) <= 1e-12 * theirs, "median %g vs ours %g", theirs, ours);
    }
    cr_expect_eq(medians, 1, "no median aggregate for %s", cold_name);
    cr_expect_eq(runs, 2, "%d runs of %s in the JSON, 2 repetitions asked", runs, cold_name);
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

Test(bench, plugin_refusing_a_dtype_is_skipped_and_scalar_is_the_yardstick)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--plugin", MUTANT_UNSUPPORTED_PATH, "--shape", "qwen2-7b",
                          "--mode", "decode-b1", "--dtype", "f32,f16", "--min-time", "0.01",
                          "--no-reference", "--json", path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstderr:\n%s", r.status, r.err);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    const cJSON *f32 = find_case(b, "mutant_unsupported", "f32");
    cr_expect_str_eq(string_of(f32, "outcome"), "ran");
    check_variant(member(f32, "hot"), 1, 2.0 * 32 * 128 * 4, 32 * 128, 1);
    const cJSON *f16 = find_case(b, "mutant_unsupported", "f16");
    cr_expect_str_eq(string_of(f16, "outcome"), "skipped");
    cr_expect(strstr(string_of(f16, "why"), "unsupported") != NULL, "why: %s",
              string_of(f16, "why"));
    /* scalar was not asked for: it runs as the baseline and says so. */
    cr_expect_str_eq(string_of(find_case(b, "scalar", "f16"), "outcome"), "ran");
    int baseline = 0;
    const cJSON *i;
    cJSON_ArrayForEach(i, member(b, "implementations"))
        baseline |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(i, "baseline_only"));
    cr_expect(baseline, "scalar not marked as baseline_only");
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

/* --new-positions: no state ever gets its previous call's positions (a
 * plug-in that refuses such a call runs clean), and the setting is in the
 * JSON and the header; without it every call repeats them (the same
 * plug-in is broken at its second call, exit 3). */
Test(bench, new_positions_never_repeat_a_states_previous_call)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--plugin", MUTANT_NO_REPEAT_PATH, "--new-positions",
                          "--shape", "phi-2", "--mode", "decode-b1,prefill-512", "--dtype",
                          "f32", "--threads", "2", "--min-time", "0.01", "--no-reference",
                          "--json", path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "positions: new every call"), "%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    cr_expect(cJSON_IsTrue(member(member(b, "settings"), "new_positions")));
    cr_expect_str_eq(string_of(find_case(b, "mutant_no_repeat", "f32"), "outcome"), "ran");
    cJSON_Delete(root);
    cli_result_free(&r);

    /* 1e-6 s: one timed iteration; the warm-up call before it is the
     * call it repeats (bench/shim.cc), on any build's speed. */
    const char *same[] = {"bench", "--plugin", MUTANT_NO_REPEAT_PATH, "--shape", "phi-2",
                          "--mode", "decode-b1", "--dtype", "f32", "--min-time", "1e-6",
                          "--no-reference", "--json", path, "-q", NULL};
    r = cli_run(same);
    cr_expect_eq(r.status, 3, "exit %d\nstdout:\n%s", r.status, r.out);
    cr_expect(strstr(r.out, "positions: the same every call"), "%s", r.out);
    root = load_json(path);
    cr_expect(cJSON_IsFalse(member(member(member(root, "ropecheck"), "settings"), "new_positions")));
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

/* The hot variant of a call smaller than its budget (decode at batch 1)
 * cycles through copies, so it and its probe run in L2 like every other
 * hot case, not partly in L1 (bench/README.md): a plug-in that refuses a
 * call on its previous call's input runs clean there. A call whose hot
 * tokens are only a part of it repeats that part in one buffer, and the
 * same plug-in is broken at its second hot call (exit 3): the warm-up call
 * and the first timed one, however few iterations the run makes (a
 * sanitizer build's one iteration may already fill --min-time; 1e-6 s
 * makes that the case on every build). f16 phi-2: one
 * token's input and output are 20 KB, so even the smallest hot budget
 * (64 KiB, a machine with a 128 KiB L2) holds three copies. */
Test(bench, small_hot_calls_cycle_through_copies)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *small[] = {"bench", "--plugin", MUTANT_SAME_BUFFER_PATH, "--shape", "phi-2",
                           "--mode", "decode-b1", "--dtype", "f16", "--min-time", "0.01",
                           "--no-reference", "--json", path, "-q", NULL};
    cli_result r = cli_run(small);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cJSON *root = load_json(path);
    cr_expect_str_eq(string_of(find_case(member(root, "ropecheck"), "mutant_same_buffer", "f16"),
                               "outcome"),
                     "ran");
    cJSON_Delete(root);
    cli_result_free(&r);

    const char *large[] = {"bench", "--plugin", MUTANT_SAME_BUFFER_PATH, "--shape", "phi-2",
                           "--mode", "prefill-512", "--dtype", "f16", "--min-time", "1e-6",
                           "--no-reference", "--json", path, "-q", NULL};
    r = cli_run(large);
    cr_expect_eq(r.status, 3, "exit %d\nstdout:\n%s", r.status, r.out);
    /* The port's own status is the reason given, not "unknown error". */
    root = load_json(path);
    const cJSON *broken = find_case(member(root, "ropecheck"), "mutant_same_buffer", "f16");
    cr_expect_str_eq(string_of(broken, "outcome"), "broken");
    cr_expect_str_eq(string_of(broken, "why"), "apply returned internal error");
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

/* --axes mrope: M-RoPE workloads (three positions per token) run for the
 * ports that offer multi-axis RoPE, and are skipped with the reason for a
 * plug-in that does not; the setting is in the header and the JSON. */
Test(bench, axes_run_mrope_workloads)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--impl", "scalar", "--plugin", PORT_GGML_PATH, "--axes",
                          "mrope", "--shape", "phi-2,neox-20b", "--mode", "decode-b64",
                          "--dtype", "f32", "--min-time", "0.01", "--no-reference", "--json",
                          path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "axes: contiguous M-RoPE"), "%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    cr_expect_str_eq(string_of(member(b, "settings"), "axes"), "mrope");
    cr_expect_str_eq(string_of(find_case(b, "scalar", "f32"), "outcome"), "ran");
    const cJSON *g = find_case(b, "port_ggml", "f32");
    cr_expect_str_eq(string_of(g, "outcome"), "skipped");
    cr_expect(strstr(string_of(g, "why"), "multi-axis positions"), "%s", string_of(g, "why"));
    cJSON_Delete(root);
    cli_result_free(&r);
    const char *bad[] = {"bench", "--axes", "spiral", NULL};
    r = cli_run(bad);
    cr_expect_eq(r.status, 2, "exit %d", r.status);
    cr_expect(strstr(r.err, "--axes spiral: mrope or mrope-interleaved"), "%s", r.err);
    cli_result_free(&r);
    remove(path);
}

/* --threads 1,2: every case and probe once per count, told apart in the
 * JSON (threads, settings.thread_counts) and in the shim's names (each
 * count measured, none lost to a name clash), and a scaling table whose
 * entries are the printed rates' quotients. */
Test(bench, thread_counts_give_a_scaling_run)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--impl", "scalar", "--shape", "phi-2", "--mode",
                          "decode-b1", "--dtype", "f32", "--threads", "1,2", "--min-time",
                          "0.01", "--no-reference", "--json", path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "ropecheck bench: 1, 2 threads"), "%s", r.out);
    cr_expect(strstr(r.out, "-- 2 threads"), "%s", r.out);
    cr_expect(strstr(r.out, "scaling: GB/s at N threads / GB/s at 1"), "%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    const cJSON *counts = member(member(b, "settings"), "thread_counts");
    cr_assert_eq(cJSON_GetArraySize(counts), 2);
    cr_expect_eq(cJSON_GetArrayItem(counts, 1)->valuedouble, 2.0);
    double gbps[3][2] = {{0}}; /* [threads][cold, hot] */
    int seen[3] = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, member(b, "cases")) {
        const int t = (int)member(c, "threads")->valuedouble;
        cr_assert(t == 1 || t == 2, "threads %d", t);
        cr_expect_str_eq(string_of(c, "outcome"), "ran");
        cr_expect(cJSON_IsTrue(member(member(c, "hot"), "ok")), "threads %d: hot not run", t);
        gbps[t][0] = member(member(c, "cold"), "gb_per_second")->valuedouble;
        gbps[t][1] = member(member(c, "hot"), "gb_per_second")->valuedouble;
        seen[t]++;
    }
    cr_expect(seen[1] == 1 && seen[2] == 1, "cases per count: %d, %d", seen[1], seen[2]);
    int probes[3] = {0};
    cJSON_ArrayForEach(c, member(b, "probes")) probes[(int)member(c, "threads")->valuedouble]++;
    cr_expect(probes[1] == 1 && probes[2] == 1, "probes per count: %d, %d", probes[1], probes[2]);
    char cell[64];
    snprintf(cell, sizeof cell, "%.2f | %.2f", gbps[2][0] / gbps[1][0], gbps[2][1] / gbps[1][1]);
    cr_expect(strstr(r.out, cell), "no scaling cell '%s' in:\n%s", cell, r.out);
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

Test(bench, crashing_plugin_is_reported_broken_exit_3)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--plugin", MUTANT_CRASH_PATH, "--shape", "phi-2", "--mode",
                          "decode-b1", "--dtype", "f32", "--min-time", "0.01", "--no-reference",
                          "--json", path, "-q", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 3, "exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "BROKEN") != NULL, "table lacks BROKEN:\n%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *c = find_case(member(root, "ropecheck"), "mutant_crash", "f32");
    cr_expect_str_eq(string_of(c, "outcome"), "broken");
    cr_expect(strstr(string_of(c, "why"), "crash") != NULL, "why: %s", string_of(c, "why"));
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);
}

Test(bench, help_has_examples)
{
    const char *argv[] = {"bench", "--help", NULL};
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "Examples:") && strstr(r.out, "--long") && strstr(r.out, "--threads"),
              "help:\n%s", r.out);
    cli_result_free(&r);
}

/* ---- bad input: exit 2, one line on stderr, nothing timed ---- */

static void expect_usage_error(const char *const *args, const char *phrase)
{
    const char *argv[16] = {"bench", "--impl", "scalar", "--no-reference", "--min-time", "0.01"};
    size_t n = 6;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cli_result r = cli_run(argv);
    cr_expect_eq(r.status, 2, "exit %d for %s (stderr: %s)", r.status, args[0], r.err);
    cr_expect_eq(cli_count_lines(r.err), 1, "stderr must be one line, got:\n%s", r.err);
    cr_expect(strstr(r.err, phrase) != NULL, "stderr '%s' lacks '%s'", r.err, phrase);
    cr_expect(strstr(r.out, "GB/s") == NULL, "nothing may run on bad input:\n%s", r.out);
    cli_result_free(&r);
}

#define BAD(name, phrase, ...)                \
    Test(bench_bad_input, name)               \
    {                                         \
        const char *a[] = {__VA_ARGS__, NULL}; \
        expect_usage_error(a, phrase);        \
    }

BAD(min_time_zero, "--min-time '0'", "--min-time", "0")
BAD(min_time_negative, "--min-time '-1'", "--min-time", "-1")
BAD(min_time_garbage, "--min-time 'fast'", "--min-time", "fast")
BAD(min_time_nan, "--min-time 'nan'", "--min-time", "nan")
BAD(threads_zero, "--threads '0'", "--threads", "0")
BAD(threads_too_many, "--threads '65'", "--threads", "65")
BAD(threads_garbage, "--threads '2x'", "--threads", "2x")
BAD(threads_twice, "a count given twice", "--threads", "1,2,1")
BAD(threads_empty, "expected counts like 1,2,4", "--threads", ",")
BAD(threads_empty_item, "expected counts like 1,2,4", "--threads", "1,,2")
BAD(threads_nine_counts, "at most 8 counts", "--threads", "1,2,3,4,5,6,7,8,9")
BAD(repetitions_zero, "--repetitions '0'", "--repetitions", "0")
BAD(unknown_shape, "unknown shape 'llama-9'", "--shape", "llama-9")
BAD(unknown_mode, "unknown mode 'train'", "--mode", "train")
BAD(unknown_dtype, "unknown dtype 'f8'", "--dtype", "f8")
BAD(empty_dtype, "dtype list ',' has an empty item", "--dtype", ",")
BAD(unknown_impl, "unknown implementation 'nope'", "--impl", "nope")
BAD(missing_plugin, "/nonexistent/libport.so", "--plugin", "/nonexistent/libport.so")
BAD(json_unwritable, "cannot write", "--json", "/nonexistent-dir/out.json")
BAD(unknown_option, "unknown option '--fast'", "--fast")
BAD(missing_value, "needs a value", "--shape")
BAD(stray_argument, "unexpected argument 'extra'", "extra")

/* --baseline NAME: one more ratio per case, NAME's speed as the yardstick,
 * here ggml's RoPE (the test transcription as a plug-in) against scalar:
 * for every variant, ratio_to_baseline is this case's GB/s over the
 * baseline's, the division the JSON's own figures give; the
 * baseline against itself is exactly 1. A name not timed is refused. */
Test(bench, baseline_ratio_against_a_plugin)
{
    char path[512];
    temp_json(path, sizeof path);
    const char *argv[] = {"bench", "--impl", "scalar", "--plugin", PORT_GGML_PATH, "--baseline",
                          "port_ggml", "--shape", "phi-2", "--mode", "decode-b1", "--dtype",
                          "f32", "--min-time", "0.01", "--no-reference", "--json", path, "-q",
                          NULL};
    cli_result r = cli_run(argv);
    cr_assert_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "x port_ggm") != NULL, "the column is named:\n%s", r.out);
    cJSON *root = load_json(path);
    const cJSON *b = member(root, "ropecheck");
    cr_expect_str_eq(string_of(member(b, "settings"), "baseline"), "port_ggml");
    const cJSON *s = find_case(b, "scalar", "f32"), *g = find_case(b, "port_ggml", "f32");
    static const char *const variants[2] = {"hot", "cold"};
    for (int v = 0; v < 2; v++) {
        const cJSON *sv = member(s, variants[v]), *gv = member(g, variants[v]);
        const double sg = positive(sv, "gb_per_second"), gg = positive(gv, "gb_per_second");
        /* cJSON prints a double with 15 digits when that parses back
         * within DBL_EPSILON of it (its compare_double), so each of the
         * three figures read back is within 1 ulp relative: the ratio
         * recomputed from them is within 2 ulp of the printed one's
         * source, plus the printed one's own ulp and the division's half:
         * 4 ulp relative. */
        const double ratio = member(sv, "ratio_to_baseline")->valuedouble;
        cr_expect(fabs(ratio - sg / gg) <= 4 * DBL_EPSILON * (sg / gg), "%s: %.17g vs %.17g",
                  variants[v], ratio, sg / gg);
        cr_expect_eq(member(gv, "ratio_to_baseline")->valuedouble, 1.0, "%s", variants[v]);
    }
    cJSON_Delete(root);
    cli_result_free(&r);
    remove(path);

    const char *bad[] = {"bench", "--impl", "scalar", "--baseline", "nosuch", "--shape", "phi-2",
                         "-q", NULL};
    r = cli_run(bad);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--baseline 'nosuch' is not one of the implementations timed"), "%s",
              r.err);
    cli_result_free(&r);
}
