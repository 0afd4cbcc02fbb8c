/*
 * cli/cmd_bench.c - `ropecheck bench`: options, the table on stdout, and
 * the "ropecheck" block added to Google Benchmark's JSON. The timing itself
 * is bench/runner.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/runner.h"
#include "cli/json_num.h"
#include "cli/safe_file.h"
#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/impl_select.h"
#include "cli/seed_env.h"
#include "cli/strict_num.h"
#include "harness/oracle_pass.h"
#include "impls/builtins.h"

#define MAX_LIST 16

static const char usage_text[] =
    "usage: ropecheck bench [options]\n"
    "\n"
    "Times implementations on attention shapes of real models, next to a streaming\n"
    "read+write probe over exactly the same bytes (the machine's own limit), and\n"
    "reports each case's fraction of that probe and its ratio to scalar. Uses\n"
    "Google Benchmark; every case rotates the queries and keys of one layer.\n"
    "\n"
    "What to time (default: every available built-in; scalar always runs as the\n"
    "yardstick for the ratio):\n"
    "  --impl NAME[,NAME]    built-in implementation(s), or 'all' (`ropecheck list`)\n"
    "  --plugin PATH         a port built against include/ropecheck/plugin.h (repeatable)\n"
    "\n"
    "Cases (lists are comma-separated; default: all but the long one):\n"
    "  --shape LIST          llama3-8b (32+8 heads, d 128, half, base 5e5),\n"
    "                        qwen2-7b (28+4, d 128, half, base 1e6),\n"
    "                        gptj-6b (16+16, r 64 of d 256, interleaved, base 1e4),\n"
    "                        neox-20b (64+64, r 24 of d 96, half, base 1e4),\n"
    "                        phi-2 (32+32, r 32 of d 80, half, base 1e4)\n"
    "  --mode LIST           decode-b1, decode-b64 (one token per sequence at\n"
    "                        positions near 131071), prefill-512, prefill-4096,\n"
    "                        prefill-32768 (tokens at positions 0..N-1)\n"
    "  --long                add prefill-32768: up to 2 x 1.6 GB of tensors (neox-20b\n"
    "                        f32) and minutes of scalar time, hence not by default\n"
    "  --dtype LIST          f32,bf16,f16 (default), f64\n"
    "\n"
    "Measurement:\n"
    "  --min-time S          Google Benchmark's minimum time per benchmark (default 0.1)\n"
    "  --repetitions N       time every benchmark N times and report the median run\n"
    "                        (default 1; 5 or more on a busy machine)\n"
    "  --threads N[,N...]    split every case's tokens over N threads (default 1:\n"
    "                        single-threaded), the probe on the same threads; several\n"
    "                        counts run every case at each, and a scaling table (rate at\n"
    "                        N threads over the first count's) follows; 'all' is 1, 2,\n"
    "                        4, ... and the processors online. The ports do not start\n"
    "                        threads of their own: a caller's threads split the tokens\n"
    "                        between states (bench/README.md, Threads)\n"
    "  --jobs N              the reference's threads, one oracle each, as verify --jobs\n"
    "                        (default: the processors online); its rates are over all\n"
    "  --new-positions       every call at positions its state's previous call did not\n"
    "                        use (a model's first layer: the built-in ports keep the\n"
    "                        last call's cos/sin rows, as frameworks keep cos/sin for\n"
    "                        every layer; by default every call repeats the positions,\n"
    "                        as layers 2..L do)\n"
    "  --axes KIND           multi-axis RoPE (M-RoPE): every shape's pairs on three axes\n"
    "                        in Qwen2-VL's proportions (16, 24, 24 of 64 pairs; KIND\n"
    "                        mrope contiguous, mrope-interleaved as Qwen3-VL), every\n"
    "                        token at three unequal positions (an image token's cost);\n"
    "                        compare with the same run without it\n"
    "  --no-reference        skip timing the MPFR reference\n"
    "  --seed N              input values (default: $ROPECHECK_SEED or 1)\n"
    "  --timeout S           limit of the guarded trial call each implementation gets\n"
    "                        before it is timed in this process (default 60)\n"
    "  --memory-limit MIB    address space that trial call may add (default 8192; 0:\n"
    "                        no limit)\n"
    "  --baseline NAME       one more ratio column, x NAME: that implementation's time\n"
    "                        over each case's (a framework's plug-in against a port, say;\n"
    "                        it must be among those timed)\n"
    "  --json FILE           write Google Benchmark's JSON plus a \"ropecheck\" block\n"
    "                        (schema ropecheck.results 1.0, kind bench: machine, cases,\n"
    "                        fractions of the probe, ratios to scalar)\n"
    "  -q, --quiet           no progress on stderr (shown only when it is a terminal)\n"
    "  -h, --help            this text\n"
    "\n"
    "Every case runs twice: cold (the whole tensor; small ones cycle through copies\n"
    "spanning 4x the last-level cache, so data comes from memory) and hot (as many\n"
    "tokens as fit in half the L2 per thread, repeated; a smaller call cycles\n"
    "through copies that fill it). GB/s counts the input bytes\n"
    "read plus the output bytes written. 'of probe' = probe time / case time for\n"
    "the same bytes; 'x scalar' = scalar's hot time / this hot time.\n"
    "\n"
    "Exit status: 0 done, 2 bad usage, 3 an implementation crashed, hung, wrote out\n"
    "of bounds or failed a call.\n"
    "\n"
    "Examples:\n"
    "  ropecheck bench --impl scalar --shape llama3-8b --mode prefill-4096 --dtype f32\n"
    "  ropecheck bench --plugin ./libport.so --json bench.json\n"
    "  ropecheck bench --shape phi-2 --dtype bf16 --threads 2 --min-time 0.5\n"
    "  ropecheck bench --impl avx512 --shape llama3-8b --dtype f32 --threads all\n"
    "  ropecheck bench --long --shape llama3-8b --mode prefill-32768\n";

typedef struct bench_opts {
    const char *impl_names[MAX_LIST];
    size_t n_impl_names;
    const char *plugins[MAX_LIST];
    size_t n_plugins;
    int long_mode, mode_given, quiet;
    const char *baseline; /* --baseline NAME, or NULL */
    rcb_options r;
} bench_opts;

/* fmt has one %s, for arg; the line is printed escaped (cli_error.h). */
static int usage_error(const char *fmt, const char *arg)
{
    char what[1024];
    snprintf(what, sizeof what, fmt, arg);
    rc_cli_error("bench", "%s (see ropecheck bench --help)", what);
    return RC_EXIT_USAGE;
}

/* A comma list of names into a bit mask; -1 with the error printed. */
static int parse_mask(const char *arg, const char *what, size_t count,
                      const char *(*name_of)(size_t), unsigned *mask)
{
    if (rc_list_has_empty_item(arg)) {
        rc_cli_error("bench", "%s list '%s' has an empty item", what, arg);
        return -1;
    }
    char *copy = strdup(arg);
    if (!copy)
        return -1;
    int rc = 0;
    *mask = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (size_t i = 0; i < count; i++)
            if (strcmp(it, "all") == 0 || strcmp(it, name_of(i)) == 0) {
                *mask |= 1u << i;
                found = 1;
            }
        if (!found) {
            char names[256] = "";
            for (size_t i = 0; i < count; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), " %s", name_of(i));
            rc_cli_error("bench", "unknown %s '%s' (one of:%s)", what, it, names);
            rc = -1;
        }
    }
    free(copy);
    if (!rc && !*mask) {
        rc_cli_error("bench", "empty %s list", what);
        rc = -1;
    }
    return rc;
}

static const char *shape_name(size_t i) { return rcb_shape_get(i)->name; }
static const char *mode_name(size_t i) { return rcb_mode_get(i)->name; }
static const char *dtype_name(size_t i) { return rc_dtype_name((rc_dtype)i); }

/* A number in [lo, hi] (lo excluded when lo_open), strictly written. */
static int parse_range(const char *s, const char *what, double lo, int lo_open, double hi,
                       double *out)
{
    double v;
    if (rc_parse_finite(s, &v) != 0 || (lo_open ? !(v > lo) : !(v >= lo)) || !(v <= hi)) {
        rc_cli_error("bench", "%s '%s' must be a decimal number in %c%g, %g]", what,
                s, lo_open ? '(' : '[', lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* A decimal integer in [lo, hi], strictly written. */
static int parse_count(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
    if (rc_parse_int64(s, out) != 0 || *out < lo || *out > hi) {
        rc_cli_error("bench", "%s '%s' must be a decimal integer in %lld..%lld",
                what, s, (long long)lo, (long long)hi);
        return -1;
    }
    return 0;
}

/* --threads: "all", or comma-separated counts in 1..RCB_MAX_THREADS, no
 * count twice, at most RCB_MAX_THREAD_COUNTS. 0, or 2 with the error said. */
static int parse_threads(const char *arg, rcb_options *r)
{
    r->n_thread_counts = 0;
    if (strcmp(arg, "all") == 0) {
        /* the processors online, as --jobs counts them */
        const int online = rc_default_jobs() < RCB_MAX_THREADS ? rc_default_jobs()
                                                                : RCB_MAX_THREADS;
        for (int n = 1; n < online; n *= 2)
            r->thread_counts[r->n_thread_counts++] = n;
        r->thread_counts[r->n_thread_counts++] = online;
        return 0;
    }
    char buf[256];
    if (strlen(arg) >= sizeof buf || rc_list_has_empty_item(arg))
        return usage_error("--threads '%s': expected counts like 1,2,4 or 'all'", arg);
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (r->n_thread_counts == RCB_MAX_THREAD_COUNTS)
            return usage_error("--threads '%s': at most 8 counts", arg);
        if (parse_count(tok, "--threads", 1, RCB_MAX_THREADS, &v))
            return 2;
        for (int k = 0; k < r->n_thread_counts; k++)
            if (r->thread_counts[k] == (int)v)
                return usage_error("--threads '%s': a count given twice", arg);
        r->thread_counts[r->n_thread_counts++] = (int)v;
    }
    return 0;
}

enum { OPT_IMPL = 256, OPT_PLUGIN, OPT_SHAPE, OPT_MODE, OPT_LONG, OPT_DTYPE, OPT_MIN_TIME,
       OPT_THREADS, OPT_REPS, OPT_NO_REF, OPT_SEED, OPT_TIMEOUT, OPT_JSON, OPT_MEMORY_LIMIT,
       OPT_BASELINE, OPT_JOBS, OPT_NEW_POSITIONS, OPT_AXES };

static const struct option long_opts[] = {
    {"impl", required_argument, NULL, OPT_IMPL},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"shape", required_argument, NULL, OPT_SHAPE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"long", no_argument, NULL, OPT_LONG},
    {"dtype", required_argument, NULL, OPT_DTYPE},
    {"min-time", required_argument, NULL, OPT_MIN_TIME},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"repetitions", required_argument, NULL, OPT_REPS},
    {"no-reference", no_argument, NULL, OPT_NO_REF},
    {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"json", required_argument, NULL, OPT_JSON},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"new-positions", no_argument, NULL, OPT_NEW_POSITIONS},
    {"axes", required_argument, NULL, OPT_AXES},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* 0 parsed, 1 --help printed, 2 usage error printed. */
static int parse_args(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->r.thread_counts[0] = 1;
    o->r.n_thread_counts = 1;
    o->r.min_time_s = 0.1;
    o->r.repetitions = 1;
    o->r.shape_mask = (1u << rcb_shape_count()) - 1;
    o->r.dtype_mask = (1u << RC_DTYPE_F32) | (1u << RC_DTYPE_BF16) | (1u << RC_DTYPE_F16);
    o->r.reference = 1;
    o->r.ref_jobs = rc_default_jobs() < RCB_MAX_THREADS ? rc_default_jobs() : RCB_MAX_THREADS;
    o->r.timeout_s = 60.0;
    o->r.seed = 1;
    char seed_err[256];
    if (rc_seed_from_env(&o->r.seed, seed_err, sizeof seed_err) != 0) {
        rc_cli_error("bench", "%s", seed_err);
        return RC_EXIT_USAGE;
    }
    int c;
    int64_t v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":qh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return 1;
        case 'q': o->quiet = 1; break;
        case OPT_IMPL:
            if (o->n_impl_names == MAX_LIST)
                return usage_error("too many --impl options%s", "");
            o->impl_names[o->n_impl_names++] = optarg;
            break;
        case OPT_PLUGIN:
            if (o->n_plugins == MAX_LIST)
                return usage_error("too many --plugin options%s", "");
            o->plugins[o->n_plugins++] = optarg;
            break;
        case OPT_SHAPE:
            if (parse_mask(optarg, "shape", rcb_shape_count(), shape_name, &o->r.shape_mask))
                return 2;
            break;
        case OPT_MODE:
            if (parse_mask(optarg, "mode", rcb_mode_count(), mode_name, &o->r.mode_mask))
                return 2;
            o->mode_given = 1;
            break;
        case OPT_LONG: o->long_mode = 1; break;
        case OPT_BASELINE:
            if (!optarg[0])
                return usage_error("--baseline needs an implementation's name%s", "");
            o->baseline = optarg;
            break;
        case OPT_DTYPE:
            if (parse_mask(optarg, "dtype", RC_DTYPE_COUNT, dtype_name, &o->r.dtype_mask))
                return 2;
            break;
        case OPT_MIN_TIME:
            if (parse_range(optarg, "--min-time", 0, 1, 100.0, &o->r.min_time_s))
                return 2;
            break;
        case OPT_TIMEOUT:
            if (parse_range(optarg, "--timeout", RC_TIMEOUT_MIN_S, 0, RC_TIMEOUT_MAX_S,
                            &o->r.timeout_s))
                return 2;
            break;
        case OPT_THREADS:
            if (parse_threads(optarg, &o->r))
                return 2;
            break;
        case OPT_JOBS:
            if (parse_count(optarg, "--jobs", 1, RCB_MAX_THREADS, &v))
                return 2;
            o->r.ref_jobs = (int)v;
            break;
        case OPT_NEW_POSITIONS:
            o->r.new_positions = 1;
            break;
        case OPT_AXES:
            if (strcmp(optarg, "mrope") == 0)
                o->r.axes = RCB_AXES_MROPE;
            else if (strcmp(optarg, "mrope-interleaved") == 0)
                o->r.axes = RCB_AXES_MROPE_INTERLEAVED;
            else {
                rc_cli_error("bench", "--axes %s: mrope or mrope-interleaved (see ropecheck "
                             "bench --help)", optarg);
                return 2;
            }
            break;
        case OPT_REPS:
            if (parse_count(optarg, "--repetitions", 1, 100, &v))
                return 2;
            o->r.repetitions = (int)v;
            break;
        case OPT_SEED:
            if (parse_count(optarg, "--seed", 0, INT64_MAX, &v))
                return 2;
            o->r.seed = (uint64_t)v;
            break;
        case OPT_MEMORY_LIMIT: {
            char err[256];
            if (rc_memory_limit_option(optarg, err, sizeof err) != 0)
                return usage_error("%s", err);
            break;
        }
        case OPT_NO_REF: o->r.reference = 0; break;
        case OPT_JSON: o->r.json_path = optarg; break;
        case ':': return usage_error("option %s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->mode_given)
        for (size_t i = 0; i < rcb_mode_count(); i++)
            if (!rcb_mode_get(i)->long_only || o->long_mode)
                o->r.mode_mask |= 1u << i;
    if (o->mode_given && o->long_mode)
        for (size_t i = 0; i < rcb_mode_count(); i++)
            if (rcb_mode_get(i)->long_only)
                o->r.mode_mask |= 1u << i;
    if (o->r.json_path) {
        /* Fail now, not after minutes of timing, and without touching an
         * earlier file: it is replaced only when the new one is whole. */
        char err[512];
        if (rc_output_check(o->r.json_path, err, sizeof err) != 0) {
            rc_cli_error("bench", "%s", err);
            return 2;
        }
    }
    /* Progress only where somebody watches: a log file gets the table. */
    o->r.progress = !o->quiet && isatty(STDERR_FILENO);
    return 0;
}

/* ---- the table ---- */

static void fmt_num(char *buf, size_t len, int ok, double v, const char *f)
{
    if (ok && isfinite(v) && v > 0)
        snprintf(buf, len, f, v);
    else
        snprintf(buf, len, "-");
}

/* The share of pairs the fast path sent to MPFR, over its timed runs. */
static double ref_fallback_rate(const rcb_ref_result *r)
{
    const double total = (double)(r->fast_pairs + r->fallback_pairs);
    return total > 0 ? (double)r->fallback_pairs / total : 0.0;
}

static void print_row(const char *impl, const rcb_shape *s, const rcb_mode *m, rc_dtype dt,
                      const rcb_variant *cold, const rcb_variant *hot, int with_ratio,
                      int with_baseline)
{
    char cg[32], cf[32], hg[32], hf[32], xs[32], ns[32], xb[32];
    fmt_num(cg, sizeof cg, cold->ok, cold->gbps, "%.2f");
    fmt_num(cf, sizeof cf, cold->ok, cold->fraction_of_probe, "%.2f");
    fmt_num(hg, sizeof hg, hot->ok, hot->gbps, "%.2f");
    fmt_num(hf, sizeof hf, hot->ok, hot->fraction_of_probe, "%.2f");
    fmt_num(xs, sizeof xs, with_ratio && hot->ok, hot->ratio_to_scalar, "%.2f");
    fmt_num(ns, sizeof ns, cold->ok, cold->ns_per_token, "%.1f");
    printf("%-12s %-10s %-14s %-5s %9s %7s %9s %7s %8s %10s", impl, s->name, m->name,
           rc_dtype_name(dt), cg, cf, hg, hf, xs, ns);
    if (with_baseline) {
        fmt_num(xb, sizeof xb, with_ratio && hot->ok, hot->ratio_to_baseline, "%.2f");
        printf(" %10s", xb);
    }
    printf("\n");
}

/* The case of c's implementation and workload at `threads` threads, or
 * NULL. */
static const rcb_case_result *case_at(const rcb_report *rep, const rcb_case_result *c,
                                      int threads)
{
    for (size_t i = 0; i < rep->n_cases; i++) {
        const rcb_case_result *x = &rep->cases[i];
        if (x->target == c->target && x->shape == c->shape && x->mode == c->mode &&
            x->dtype == c->dtype && x->threads == threads)
            return x;
    }
    return NULL;
}

/* A scaling run (several --threads counts): each case's aggregate rate at
 * every count over its rate at the first count, cold and hot. */
static void print_scaling(const rcb_report *rep, const rcb_target *t)
{
    if (rep->n_thread_counts < 2)
        return;
    const int first = rep->thread_counts[0];
    printf("\nscaling: GB/s at N threads / GB/s at %d (cold | hot)\n", first);
    printf("%-12s %-10s %-14s %-5s", "impl", "shape", "mode", "dtype");
    for (int k = 1; k < rep->n_thread_counts; k++) {
        char col[32];
        snprintf(col, sizeof col, "x%d/%d", rep->thread_counts[k], first);
        printf(" %15s", col);
    }
    printf("\n");
    for (size_t i = 0; i < rep->n_cases; i++) {
        const rcb_case_result *c = &rep->cases[i];
        if (c->threads != first || c->outcome != RCB_RAN)
            continue;
        printf("%-12s %-10s %-14s %-5s", t[c->target].impl->name, c->shape->name, c->mode->name,
               rc_dtype_name(c->dtype));
        for (int k = 1; k < rep->n_thread_counts; k++) {
            const rcb_case_result *x = case_at(rep, c, rep->thread_counts[k]);
            char cell[40] = "-";
            if (x && x->outcome == RCB_RAN && x->cold.ok && x->hot.ok && c->cold.gbps > 0 &&
                c->hot.gbps > 0)
                snprintf(cell, sizeof cell, "%.2f | %.2f", x->cold.gbps / c->cold.gbps,
                         x->hot.gbps / c->hot.gbps);
            printf(" %15s", cell);
        }
        printf("\n");
    }
}

static void print_table(const rcb_report *rep, const rcb_target *t, const char *baseline)
{
    const int wb = baseline != NULL;
    const rcb_machine *mc = &rep->machine;
    const int single = rep->n_thread_counts == 1 && rep->thread_counts[0] == 1;
    printf("ropecheck bench: ");
    for (int k = 0; k < rep->n_thread_counts; k++)
        printf("%s%d", k ? ", " : "", rep->thread_counts[k]);
    printf(" thread%s%s; min time %g s per benchmark", single ? "" : "s",
           single                     ? " (single-threaded; --threads N for more)"
           : rep->n_thread_counts > 1 ? " (every case at each count)"
                                      : "",
           rep->min_time_s);
    if (rep->repetitions > 1)
        printf("; median of %d repetitions", rep->repetitions);
    printf("\n");
    printf("positions: %s\n",
           rep->new_positions
               ? "new every call (--new-positions: a model's first layer, no cos/sin kept)"
               : "the same every call (layers 2..L: a port may reuse the last call's cos/sin; "
                 "--new-positions for the first)");
    if (rep->axes != RCB_AXES_NONE)
        printf("axes: %s M-RoPE, sections 3/8, 3/8 and the rest of the pairs; every token at "
               "three unequal positions (--axes)\n",
               rep->axes == RCB_AXES_MROPE ? "contiguous" : "interleaved");
    printf("cpu: %s [%s]; %s %s, git %s\n", mc->cpu_model, mc->isa, mc->compiler, mc->build_type,
           mc->git_revision);
    if (strstr(mc->c_flags, "sanitize") || strcmp(mc->build_type, "Debug") == 0)
        printf("warning: this is a %s build%s: its timings say little about a release build\n",
               mc->build_type, strstr(mc->c_flags, "sanitize") ? " with sanitizers" : "");
    printf("GB/s = (input bytes read + output bytes written) / s; cold: whole tensor, >= %zu "
           "MiB cycled; hot: %zu KiB per thread, repeated (small calls: copies)\n",
           rep->cold_pool_bytes >> 20, rep->hot_bytes_per_thread >> 10);
    printf("of probe = streaming probe time / case time, same bytes; x scalar = hot time "
           "ratio; ns/token: cold\n\n");
    printf("%-12s %-10s %-14s %-5s %9s %7s %9s %7s %8s %10s", "impl", "shape", "mode",
           "dtype", "cold GB/s", "of probe", "hot GB/s", "of probe", "x scalar", "ns/token");
    if (wb) {
        char col[40];
        snprintf(col, sizeof col, "x %.8s", baseline);
        printf(" %10s", col);
    }
    printf("\n");
    for (size_t p = 0; p < rep->n_probes; p++) {
        const rcb_probe_result *pr = &rep->probes[p];
        if (rep->n_thread_counts > 1 && (p == 0 || rep->probes[p - 1].threads != pr->threads))
            printf("-- %d thread%s\n", pr->threads, pr->threads == 1 ? "" : "s");
        print_row("(probe)", pr->shape, pr->mode, pr->dtype, &pr->cold, &pr->hot, 0, wb);
        for (size_t i = 0; i < rep->n_cases; i++) {
            const rcb_case_result *c = &rep->cases[i];
            if (c->shape != pr->shape || c->mode != pr->mode || c->dtype != pr->dtype ||
                c->threads != pr->threads)
                continue;
            const char *name = t[c->target].impl->name;
            if (c->outcome != RCB_RAN)
                printf("%-12s %-10s %-14s %-5s %s: %s\n", name, c->shape->name, c->mode->name,
                       rc_dtype_name(c->dtype),
                       c->outcome == RCB_SKIPPED ? "skipped" : "BROKEN", c->why);
            else
                print_row(name, c->shape, c->mode, c->dtype, &c->cold, &c->hot, 1, wb);
        }
    }
    print_scaling(rep, t);
    for (size_t i = 0; i < rep->n_refs; i++) {
        const rcb_ref_result *r = &rep->refs[i];
        if (!r->v.ok || !r->fast.ok) {
            printf("\nreference %s: %s\n", rc_dtype_name(r->dtype),
                   !r->v.ok ? r->v.error : r->fast.error);
            continue;
        }
        const double slow = r->v.elements_per_second, fast = r->fast.elements_per_second;
        char on[32] = "";
        if (r->threads > 1) /* every thread its own oracle, as verify --jobs */
            snprintf(on, sizeof on, " on %d threads", r->threads);
        printf("%sreference, %s, d %d, %d heads per position%s: MPFR %.3g elements/s, fast "
               "path %.3g elements/s (%.1fx, %.3f%% of pairs fell back to MPFR): verifying 1e6 "
               "elements takes about %.2f s\n",
               i == 0 ? "\n" : "", rc_dtype_name(r->dtype), r->head_dim, r->heads, on, slow,
               fast, fast / slow, 100.0 * ref_fallback_rate(r), 1e6 / fast);
    }
}

/* ---- the JSON block ---- */

static cJSON *variant_json(const rcb_variant *v, int with_ratio)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "benchmark", v->bench_name);
    cJSON_AddBoolToObject(o, "ok", v->ok);
    if (!v->ok) {
        cJSON_AddStringToObject(o, "error", v->error);
        return o;
    }
    rc_json_add_num(o, "bytes_per_iteration", v->bytes_per_iter);
    rc_json_add_num(o, "tokens_per_iteration", v->tokens_per_iter);
    rc_json_add_num(o, "elements_per_iteration", v->elements_per_iter);
    rc_json_add_num(o, "gb_per_second", v->gbps);
    rc_json_add_num(o, "bytes_per_second", v->gbps * 1e9);
    rc_json_add_num(o, "elements_per_second", v->elements_per_second);
    rc_json_add_num(o, "ns_per_token", v->ns_per_token);
    rc_json_add_num(o, "ns_per_call", v->ns_per_iter);
    if (v->fraction_of_probe > 0)
        rc_json_add_num(o, "fraction_of_probe", v->fraction_of_probe);
    if (with_ratio && v->ratio_to_scalar > 0)
        rc_json_add_num(o, "ratio_to_scalar", v->ratio_to_scalar);
    if (with_ratio && v->ratio_to_baseline > 0)
        rc_json_add_num(o, "ratio_to_baseline", v->ratio_to_baseline);
    return o;
}

static cJSON *case_keys(cJSON *o, const rcb_shape *s, const rcb_mode *m, rc_dtype dt,
                        int threads)
{
    cJSON_AddNumberToObject(o, "threads", threads); /* 1.4 */
    cJSON_AddStringToObject(o, "shape", s->name);
    cJSON_AddStringToObject(o, "model", s->model);
    cJSON_AddStringToObject(o, "mode", m->name);
    cJSON_AddStringToObject(o, "dtype", rc_dtype_name(dt));
    cJSON_AddStringToObject(o, "layout", rc_layout_name(s->layout));
    cJSON_AddNumberToObject(o, "tokens", (double)m->tokens);
    cJSON_AddNumberToObject(o, "q_heads", s->q_heads);
    cJSON_AddNumberToObject(o, "kv_heads", s->kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", s->head_dim);
    cJSON_AddNumberToObject(o, "rotary_dim", s->rotary_dim);
    cJSON_AddNumberToObject(o, "base", s->base);
    cJSON_AddStringToObject(o, "positions",
                            m->decode ? "131071 - 37*t for sequence t" : "0 .. tokens-1");
    return o;
}

static cJSON *ropecheck_block(const rcb_report *rep, const rcb_target *t, size_t n_t,
                              const rc_target_list *all, const char *baseline)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "schema", "ropecheck.results");
    cJSON_AddStringToObject(b, "schema_version", "1.5");
    cJSON_AddStringToObject(b, "kind", "bench");
    cJSON_AddStringToObject(b, "ropecheck_version", ROPECHECK_VERSION);
    cJSON *m = cJSON_AddObjectToObject(b, "machine");
    cJSON_AddStringToObject(m, "cpu_model", rep->machine.cpu_model);
    cJSON_AddStringToObject(m, "isa", rep->machine.isa);
    cJSON_AddNumberToObject(m, "online_cpus", (double)rep->machine.online_cpus);
    cJSON_AddNumberToObject(m, "l2_bytes", (double)rep->machine.l2_bytes);
    cJSON_AddNumberToObject(m, "llc_bytes", (double)rep->machine.llc_bytes);
    cJSON_AddStringToObject(m, "compiler", rep->machine.compiler);
    cJSON_AddStringToObject(m, "c_flags", rep->machine.c_flags);
    cJSON_AddStringToObject(m, "build_type", rep->machine.build_type);
    cJSON_AddStringToObject(m, "git_revision", rep->machine.git_revision);
    cJSON *s = cJSON_AddObjectToObject(b, "settings");
    /* threads: the one count (1.0), or the first of a scaling run's;
     * thread_counts (1.4): all of them, each case and probe saying its own */
    cJSON_AddNumberToObject(s, "threads", rep->thread_counts[0]);
    cJSON *counts = cJSON_AddArrayToObject(s, "thread_counts");
    for (int k = 0; k < rep->n_thread_counts; k++)
        cJSON_AddItemToArray(counts, cJSON_CreateNumber(rep->thread_counts[k]));
    cJSON_AddBoolToObject(s, "new_positions", rep->new_positions); /* 1.3 */
    cJSON_AddStringToObject(s, "axes", rep->axes == RCB_AXES_MROPE ? "mrope" /* 1.5 */
                                       : rep->axes == RCB_AXES_MROPE_INTERLEAVED
                                           ? "mrope-interleaved" : "none");
    rc_json_add_num(s, "min_time_s", rep->min_time_s);
    cJSON_AddNumberToObject(s, "repetitions", rep->repetitions);
    cJSON_AddStringToObject(s, "figures", rep->repetitions > 1
                                              ? "median repetition of every benchmark"
                                              : "the single run of every benchmark");
    cJSON_AddNumberToObject(s, "hot_bytes_per_thread", (double)rep->hot_bytes_per_thread);
    cJSON_AddNumberToObject(s, "cold_pool_bytes", (double)rep->cold_pool_bytes);
    cJSON_AddStringToObject(s, "bytes_counted",
                            "input tensor bytes read + output tensor bytes written, every "
                            "channel of every head; positions and tables not counted");
    cJSON_AddStringToObject(s, "fraction_of_probe",
                            "probe time / case time for the same bytes, same threads, same "
                            "variant (hot or cold)");
    cJSON_AddStringToObject(s, "ratio_to_scalar", "scalar time / this time, same case");
    if (baseline) {
        cJSON_AddStringToObject(s, "baseline", baseline);
        cJSON_AddStringToObject(s, "ratio_to_baseline",
                                "the baseline's time / this time, same case");
    }
    cJSON *impls = cJSON_AddArrayToObject(b, "implementations");
    for (size_t i = 0; i < all->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", all->items[i].impl->name);
        cJSON_AddStringToObject(o, "description", all->items[i].impl->description
                                                      ? all->items[i].impl->description : "");
        if (all->items[i].plugin_path)
            cJSON_AddStringToObject(o, "plugin", all->items[i].plugin_path);
        cJSON_AddBoolToObject(o, "available", all->items[i].available);
        if (!all->items[i].available)
            cJSON_AddStringToObject(o, "why", all->items[i].why);
        cJSON_AddItemToArray(impls, o);
    }
    for (size_t i = 0; i < n_t; i++)
        if (t[i].baseline) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", t[i].impl->name);
            cJSON_AddBoolToObject(o, "available", 1);
            cJSON_AddBoolToObject(o, "baseline_only", 1);
            cJSON_AddItemToArray(impls, o);
        }
    cJSON *cases = cJSON_AddArrayToObject(b, "cases");
    for (size_t i = 0; i < rep->n_cases; i++) {
        const rcb_case_result *c = &rep->cases[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "impl", t[c->target].impl->name);
        if (t[c->target].plugin_path)
            cJSON_AddStringToObject(o, "plugin", t[c->target].plugin_path);
        case_keys(o, c->shape, c->mode, c->dtype, c->threads);
        cJSON_AddStringToObject(o, "outcome", c->outcome == RCB_RAN       ? "ran"
                                              : c->outcome == RCB_SKIPPED ? "skipped"
                                                                          : "broken");
        if (c->outcome != RCB_RAN) {
            cJSON_AddStringToObject(o, "why", c->why);
        } else {
            cJSON_AddItemToObject(o, "cold", variant_json(&c->cold, 1));
            cJSON_AddItemToObject(o, "hot", variant_json(&c->hot, 1));
        }
        cJSON_AddItemToArray(cases, o);
    }
    cJSON *probes = cJSON_AddArrayToObject(b, "probes");
    for (size_t i = 0; i < rep->n_probes; i++) {
        const rcb_probe_result *p = &rep->probes[i];
        cJSON *o = case_keys(cJSON_CreateObject(), p->shape, p->mode, p->dtype, p->threads);
        cJSON_AddItemToObject(o, "cold", variant_json(&p->cold, 0));
        cJSON_AddItemToObject(o, "hot", variant_json(&p->hot, 0));
        cJSON_AddItemToArray(probes, o);
    }
    cJSON *refs = cJSON_AddArrayToObject(b, "reference");
    for (size_t i = 0; i < rep->n_refs; i++) {
        const rcb_ref_result *r = &rep->refs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", rc_dtype_name(r->dtype));
        cJSON_AddNumberToObject(o, "head_dim", r->head_dim);
        cJSON_AddNumberToObject(o, "heads_per_call", r->heads);
        cJSON_AddNumberToObject(o, "threads", r->threads); /* 1.2: rates over all of them */
        cJSON_AddBoolToObject(o, "ok", r->v.ok && r->fast.ok);
        if (r->v.ok && r->fast.ok) {
            /* the MPFR-only path, as before, and the fast path beside it */
            rc_json_add_num(o, "elements_per_second", r->v.elements_per_second);
            rc_json_add_num(o, "seconds_per_million_elements", 1e6 / r->v.elements_per_second);
            cJSON *f = cJSON_AddObjectToObject(o, "fast");
            rc_json_add_num(f, "elements_per_second", r->fast.elements_per_second);
            rc_json_add_num(f, "ratio_to_mpfr",
                            r->fast.elements_per_second / r->v.elements_per_second);
            rc_json_add_num(f, "fallback_rate", ref_fallback_rate(r));
            rc_json_add_num(f, "seconds_per_million_elements",
                            1e6 / r->fast.elements_per_second);
        } else {
            cJSON_AddStringToObject(o, "error", !r->v.ok ? r->v.error : r->fast.error);
        }
        cJSON_AddItemToArray(refs, o);
    }
    return b;
}

/* Google Benchmark's own output is at most this large: a few KiB per
 * case. A larger file is not Google Benchmark's and is not read. */
#define GB_JSON_MAX ((size_t)64 << 20)

/* Google Benchmark wrote gb_path (a temporary file); add the schema keys
 * and the block, and write the whole to `path` atomically. 0 or -1 with
 * one line in err. */
static int augment_json(const char *gb_path, const char *path, cJSON *block, char *err,
                        size_t err_len)
{
    char rerr[256];
    char *text = rc_read_regular_file(gb_path, GB_JSON_MAX, NULL, rerr, sizeof rerr);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (root && !cJSON_IsObject(root)) {
        /* Valid JSON but not Google Benchmark's object (found by
         * tests/fuzz): adding members to an array or a number would write
         * a file without the results block, and say it succeeded. */
        cJSON_Delete(root);
        root = NULL;
    }
    if (!root) {
        /* Nothing usable from Google Benchmark (e.g. every case skipped):
         * still a valid results file. */
        root = cJSON_CreateObject();
    }
    /* Our members replace every one of the same name (the file may hold a
     * name twice; cJSON deletes one at a time), so no reader sees two. */
    static const char *const ours[] = {"schema", "schema_version", "kind", "ropecheck"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        while (cJSON_GetObjectItemCaseSensitive(root, ours[i]))
            cJSON_DeleteItemFromObjectCaseSensitive(root, ours[i]);
    /* One benchmarks array: the first, when it is one, else an empty one. */
    cJSON *bench = cJSON_DetachItemFromObjectCaseSensitive(root, "benchmarks");
    while (cJSON_GetObjectItemCaseSensitive(root, "benchmarks"))
        cJSON_DeleteItemFromObjectCaseSensitive(root, "benchmarks");
    if (!cJSON_IsArray(bench)) {
        cJSON_Delete(bench);
        bench = cJSON_CreateArray();
    }
    cJSON_AddItemToObject(root, "benchmarks", bench);
    cJSON_AddStringToObject(root, "schema", "ropecheck.results");
    cJSON_AddStringToObject(root, "schema_version", "1.5");
    cJSON_AddStringToObject(root, "kind", "bench");
    cJSON_AddItemToObject(root, "ropecheck", block);
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) {
        snprintf(err, err_len, "out of memory writing '%s'", path);
        return -1;
    }
    int rc = rc_atomic_write(path, out, strlen(out), err, err_len);
    free(out);
    return rc;
}

/* A private file next to `path` for Google Benchmark to write (the
 * results file itself is replaced only at the end). 0 or -1. */
static int make_gb_temp(const char *path, char *tmp, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(tmp, len, "%.*s/.gbench.XXXXXX", (int)(slash - path), path);
    else
        snprintf(tmp, len, ".gbench.XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int rc_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    int p = parse_args(argc, argv, &o);
    if (p == 1)
        return RC_EXIT_PASS;
    if (p != 0)
        return RC_EXIT_USAGE;

    char err[512];
    rc_target_list all;
    if (rc_targets_select(o.impl_names, o.n_impl_names, o.plugins, o.n_plugins, o.r.timeout_s,
                          &all, err, sizeof err) != 0) {
        rc_cli_error("bench", "%s", err);
        return RC_EXIT_USAGE;
    }
    /* Scalar first, always: it is the yardstick of the ratio column. */
    rcb_target *t = calloc(all.n + 1, sizeof *t);
    if (!t) {
        rc_targets_free(&all);
        rc_cli_error("bench", "out of memory");
        return RC_EXIT_USAGE;
    }
    size_t n_t = 0;
    const rc_impl *scalar = rc_builtin_find("scalar");
    int have_scalar = 0;
    for (size_t i = 0; i < all.n; i++)
        if (all.items[i].impl == scalar && !all.items[i].plugin_path)
            have_scalar = 1;
    if (scalar && !have_scalar)
        t[n_t++] = (rcb_target){.impl = scalar, .baseline = 1};
    int broken_load = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (all.items[i].broken) {
            rc_cli_error("bench", "%s: %s", all.items[i].impl->name,
                    all.items[i].why);
            broken_load = 1;
            continue;
        }
        if (!all.items[i].available) {
            rc_cli_error("bench", "skipping %s: %s", all.items[i].impl->name,
                    all.items[i].why);
            continue;
        }
        t[n_t++] = (rcb_target){.impl = all.items[i].impl,
                                .plugin_path = all.items[i].plugin_path};
    }
    /* --baseline: one of the implementations timed here (a built-in, a
     * plug-in), its time the yardstick of one more ratio column. */
    o.r.baseline = -1;
    for (size_t i = 0; o.baseline && i < n_t; i++)
        if (strcmp(t[i].impl->name, o.baseline) == 0 && o.r.baseline < 0)
            o.r.baseline = (int)i;
    if (o.baseline && o.r.baseline < 0) {
        rc_cli_error("bench", "--baseline '%s' is not one of the implementations timed "
                              "(name it with --impl or --plugin; see ropecheck bench --help)",
                     o.baseline);
        free(t);
        rc_targets_free(&all);
        return RC_EXIT_USAGE;
    }

    rcb_report rep;
    const char *json_path = o.r.json_path;
    char gb_tmp[4200];
    if (json_path && make_gb_temp(json_path, gb_tmp, sizeof gb_tmp) != 0) {
        rc_cli_error("bench", "cannot write next to '%s': %s", json_path,
                strerror(errno));
        free(t);
        rc_targets_free(&all);
        return RC_EXIT_USAGE;
    }
    o.r.json_path = json_path ? gb_tmp : NULL;
    int rc = rcb_run(&o.r, t, n_t, &rep, err, sizeof err);
    if (rc != 0) {
        rc_cli_error("bench", "%s", err);
        if (json_path)
            unlink(gb_tmp);
        free(t);
        rc_targets_free(&all);
        return RC_EXIT_USAGE;
    }
    print_table(&rep, t, o.baseline);
    int status = rep.any_broken || broken_load ? RC_EXIT_BROKEN : RC_EXIT_PASS;
    if (json_path) {
        if (augment_json(gb_tmp, json_path, ropecheck_block(&rep, t, n_t, &all, o.baseline), err,
                         sizeof err) != 0) {
            rc_cli_error("bench", "%s", err);
            status = RC_EXIT_USAGE;
        } else {
            printf("\nresults: %s\n", json_path);
        }
        unlink(gb_tmp);
    }
    rcb_report_free(&rep);
    free(t);
    rc_targets_free(&all);
    return status;
}
