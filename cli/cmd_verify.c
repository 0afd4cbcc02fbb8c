/*
 * cli/cmd_verify.c - `ropecheck verify`: options, the loop over
 * implementations x dtypes x layouts x directions, the summary table and
 * the result files.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/safe_file.h"
#include "cli/caps.h"
#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/coverage.h"
#include "cli/python_runner.h"
#include "cli/gate_parse.h"
#include "cli/impl_select.h"
#include "cli/model_opts.h"
#include "cli/axes_opt.h"
#include "cli/positions.h"
#include "cli/run_record.h"
#include "cli/seed_env.h"
#include "cli/shard.h"
#include "cli/sweep.h"
#include "cli/strict_num.h"
#include "harness/oracle_pass.h"
#include "core/spec_check.h"
#include "harness/guarded_call.h"
#include "harness/runner_client.h"
#include "reference/scaling.h"

#define MAX_LIST 16

static const char usage_text[] =
    "usage: ropecheck verify [options]\n"
    "\n"
    "Runs implementations on reproducible inputs, computes every output exactly\n"
    "(MPFR), and reports the error in ULP against a gate. Each implementation runs\n"
    "in a separate process with a time limit: a crash, hang or out-of-bounds write\n"
    "is reported and the run goes on.\n"
    "\n"
    "With no option that shapes the spec or the tensors, verify runs the coverage\n"
    "matrix (reference/COVERAGE.md): 9 cells that move every field a port receives\n"
    "away from its common value (bases 1e4, 5e5, 1e6 and 31415.93..., partial rotary\n"
    "24/96 and 32/80, head_dim 64-128, 1-5 heads, 1 to 1031 tokens, strides, in place,\n"
    "NaN/Inf, both directions, positions 0..1030 densely and up to 2^31 - 1, and an\n"
    "M-RoPE cell for ports that offer multi-axis RoPE), over every dtype and layout.\n"
    "--quick, or any spec option below, runs one spec.\n"
    "\n"
    "What to verify (default: every built-in; unavailable ones are skipped):\n"
    "  --impl NAME[,NAME]    built-in implementation(s), or 'all' (`ropecheck list`)\n"
    "  --plugin PATH         a port built against include/ropecheck/plugin.h (repeatable)\n"
    "  --runner COMMAND      run the implementations of a ropecheck-runner started with\n"
    "                        /bin/sh -c COMMAND (another machine, an emulator; see\n"
    "                        runner/PROTOCOL.md); --impl then names what it offers\n"
    RC_PYTHON_OPTION_HELP
    "\n"
    "The computation (lists are comma-separated; default: all of them):\n"
    "  --dtype LIST          f32,f64,f16,bf16\n"
    "  --layout LIST         interleaved,half\n"
    "  --direction LIST      forward,inverse (default: the matrix's, or forward)\n"
    "  --head-dim N          channels per head, even, <= 1024 (default 128)\n"
    "  --rotary-dim N        rotated channels, even, <= head-dim (default head-dim)\n"
    "  --base X              frequency base: theta_i = X^(-2i/r) (default 10000)\n"
    "  --heads N             heads per token (default 4)\n"
    "  --tokens N            tokens (default: from --positions)\n"
    "  --positions SPEC      M | A:B | random:MAX | lograndom:MAX, comma-separated\n"
    "                        (default 0:15,100,4095,131071,2147483647,lograndom:2147483647);\n"
    "                        with --axes also P0/P1/.. (one token's tuple) and\n"
    "                        grid:G0/G1/..@S (an image block after S text positions);\n"
    "                        M and A:B are then text tokens, every axis at M\n"
    "  --axes SPEC           multi-axis RoPE, several positions per token (DESIGN.md,\n"
    "                        \"Multi-axis RoPE\"): mrope:S0,S1,S2 (Qwen2-VL sections of\n"
    "                        pairs), mrope-interleaved:S0,S1,S2 (Qwen3-VL), vision2d\n"
    "                        (Qwen2-VL's vision tower: row, column). An M-RoPE\n"
    "                        --hf-config sets it. Default positions: text, an image\n"
    "                        grid, large and log-random tuples\n"
    "  --inplace             output buffer = input buffer\n"
    "  --stride-pad N        N unused elements after every head and token (strided views)\n"
    "  --specials            put NaN and Inf into some pairs (checked by class)\n"
    "  --seed N              input and position seed (default: $ROPECHECK_SEED or 1)\n"
    "  --quick               one spec (head-dim 128, base 10000, forward) instead of\n"
    "                        the coverage matrix: for local iteration, not for CI\n"
    "\n"
    "A model's RoPE (sets head-dim, rotary-dim, base, layout and frequency scaling;\n"
    "options given as well must agree with it):\n"
    "  --hf-config FILE      a Hugging Face config.json (rope_theta, rope_scaling,\n"
    "                        partial_rotary_factor, head_dim, ...)\n"
    "  --model NAME          a built-in config (`ropecheck list --models`), e.g.\n"
    "                        llama-3.1-8b, qwen2-7b-instruct-yarn, phi-3-mini-128k\n"
    "  --scaling SPEC        a scaling family by hand: linear:factor=8,\n"
    "                        ntk:factor=4, dynamic:factor=2,original=4096,\n"
    "                        yarn:factor=4,original=32768[,beta_fast=32,beta_slow=1],\n"
    "                        llama3:factor=8,low=1,high=4,original=8192,\n"
    "                        longrope:short=@F,long=@F,factor=32,original=4096, table:@F\n"
    "  --context L           sequence length for dynamic NTK and LongRoPE (default:\n"
    "                        the largest position + 1, as Hugging Face does)\n"
    "  --rope-kind KIND      a model with two RoPEs (Gemma 2/3: global for full\n"
    "                        attention, local for sliding-window layers): verify only\n"
    "                        global or local (default: both, labelled)\n"
    "\n"
    "Judging and output:\n"
    "  --profile NAME        exact (default): against the exact real result;\n"
    "                        hf, ggml: against that framework's own roundings, so a\n"
    "                        port can be gated on matching the framework it replaces\n"
    "                        (reference/PROFILES.md; default gate 2 pair ULP from\n"
    "                        the profile's band; the table's columns then read\n"
    "                        'max band', 'p99 band': distances from the band)\n"
    "  --gate SPEC|FILE      thresholds, e.g. pair=1 or f32:pair=2,f16:component=4, or a\n"
    "                        JSON file; defaults: pair ULP f32 2, f64 3, f16 1, bf16 1\n"
    "                        at positions below 2^31 (reference/GATES.md derives them)\n"
    "  --require CAPS        fail (exit 4) unless every implementation was judged on at\n"
    "                        least one case using each capability: f32,f64,f16,bf16,\n"
    "                        interleaved,half,inverse,partial,inplace,strided,scaling\n"
    "  --timeout S           seconds allowed per implementation call (default 60); its\n"
    "                        CPU time is capped at S + 2\n"
    "  --memory-limit MIB    address space an implementation call may add (default\n"
    "                        8192; 0: no limit). Every call runs in a child process in\n"
    "                        its own process group, killed whole at the end; what it\n"
    "                        prints is captured and shown escaped on stderr\n"
    "  --jobs N              threads for the exact reference (default: the processors\n"
    "                        online); every result is the same for every N\n"
    "  --oracle fast|mpfr    how the exact reference is computed: fast (default), in\n"
    "                        double-double with a derived error bound and MPFR for\n"
    "                        every pair that bound cannot decide; mpfr: every pair in\n"
    "                        MPFR. Identical verdicts and figures, only slower\n"
    "                        (reference/README.md, \"The fast path\")\n"
    "  --shard K/N           run only the K-th of N shares of the run, for N\n"
    "                        independent invocations: case i when i mod N = K-1 (in\n"
    "                        the order the table lists them); with fewer cases than\n"
    "                        shards, each case is cut into token ranges shared the\n"
    "                        same way. `ropecheck merge` joins the --json files into\n"
    "                        the unsharded result\n"
    "  --json FILE           write results (schema ropecheck.results 1.7)\n"
    "  --junit FILE          write JUnit XML\n"
    "  -q, --quiet           no progress on stderr\n"
    "  -h, --help            this text\n"
    "\n"
    "A failing case names its most likely cause, checked against the outputs (e.g.\n"
    "wrong-base, exponent-over-head-dim, position-off-by-one, token-index-as-position,\n"
    "sparse-positions, direction, layout, unwritten-outputs, angle-precision,\n"
    "sincos-approximation, radial-scale; multi-axis: mrope-axes-ignored,\n"
    "mrope-axes-swapped, mrope-sections, mrope-wrong-half,\n"
    "mrope-positions-axis-major), with the evidence.\n"
    "\n"
    "Exit status: 0 pass, 1 a gate failed (or apply() refused a case it offered),\n"
    "2 bad usage or input, 3 an implementation crashed, hung, or wrote where it must\n"
    "not, 4 nothing judged: an implementation ran no case (all skipped or declined),\n"
    "or --require was not met. Severity when several apply: 3, 1, 4, 2.\n"
    "\n"
    "Examples:\n"
    "  ropecheck verify --impl scalar --dtype f32 --layout half --head-dim 128 \\\n"
    "      --heads 4 --tokens 256 --positions random:2147483647 --seed 7\n"
    "  ropecheck verify --plugin ./libport.so --json out.json --junit out.xml\n"
    "  ropecheck verify --impl scalar --head-dim 96 --rotary-dim 24 --dtype bf16 \\\n"
    "      --direction forward,inverse --inplace --gate pair=0.75\n"
    "  ropecheck verify --impl scalar --hf-config tests/data/configs/llama-3.1-8b.json \\\n"
    "      --positions random:131071\n"
    "  ropecheck verify --plugin ./libport.so --model qwen2-7b --dtype bf16 --profile hf\n"
    "  ropecheck verify --impl scalar,avx512 --hf-config qwen2-vl/config.json\n"
    "  ropecheck verify --impl scalar --head-dim 80 --axes vision2d --base 10000 \\\n"
    "      --positions grid:16/16@0\n";

typedef struct verify_opts {
    const char *impl_names[MAX_LIST];
    size_t n_impl_names;
    const char *plugins[MAX_LIST];
    size_t n_plugins;
    int dtypes[RC_DTYPE_COUNT], n_dtypes;
    int layouts[RC_LAYOUT_COUNT], n_layouts;
    int directions[RC_DIRECTION_COUNT], n_directions;
    int64_t head_dim, rotary_dim, heads, tokens, stride_pad;
    double base, timeout_s;
    const char *positions_spec;
    int positions_set;    /* --positions given (else the default for the axes) */
    const char *axes_spec; /* --axes, or NULL */
    const char *rope_kind; /* --rope-kind global|local, or NULL: every kind */
    uint64_t seed;
    int oracle_mpfr;
    int64_t jobs;
    int inplace, specials, quiet;
    const char *json_path, *junit_path;
    rc_gate gate;
    int gate_given;
    const char *runner;
    const char *python; /* --python SPEC: replayed as such */
    rc_model_opts model;
    int head_dim_set, rotary_dim_set, base_set, layout_set;
    rc_profile profile;
    int quick;        /* --quick: the single spec, not the matrix */
    int shaped;       /* an option that shapes the spec or tensors was given */
    int direction_set;
    uint64_t require; /* --require: capability bits every target must be judged on */
    int64_t shard_k, shard_n; /* --shard K/N (0/0: the whole run) */
    int sweep;                /* `ropecheck sweep` (cli/sweep.h) */
    const char *checkpoint;   /* sweep --checkpoint FILE */
    int64_t chunk;            /* sweep --chunk N */
} verify_opts;

/* fmt has one %s, for arg; the line is printed escaped (cli_error.h). */
static int usage_error(const char *fmt, const char *arg)
{
    char what[1024];
    snprintf(what, sizeof what, fmt, arg);
    rc_cli_error("verify", "%s (see ropecheck verify --help)", what);
    return RC_EXIT_USAGE;
}

static int parse_i64(const char *s, const char *what, int64_t *out)
{
    if (rc_parse_int64(s, out) != 0) {
        rc_cli_error("verify", "%s '%s' is not a decimal integer", what, s);
        return -1;
    }
    return 0;
}

static int parse_double(const char *s, const char *what, double *out)
{
    if (rc_parse_finite(s, out) != 0) {
        rc_cli_error("verify", "%s '%s' is not a finite decimal number", what, s);
        return -1;
    }
    return 0;
}

/* Parse a comma list of names through `lookup` into a set of indices. */
static int parse_name_list(const char *arg, const char *what, int count,
                           const char *(*name_of)(int), int *out, int *n_out)
{
    if (rc_list_has_empty_item(arg)) {
        rc_cli_error("verify", "%s list '%s' has an empty item", what, arg);
        return -1;
    }
    char *copy = strdup(arg);
    if (!copy)
        return -1;
    int seen[8] = {0};
    int rc = 0;
    *n_out = 0;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && !rc; it = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int i = 0; i < count; i++) {
            int match = strcmp(it, name_of(i)) == 0 || strcmp(it, "all") == 0 ||
                        (strcmp(it, "both") == 0 && count == 2);
            if (!match)
                continue;
            found = i;
            if (!seen[i]) {
                seen[i] = 1;
                out[(*n_out)++] = i;
            }
        }
        if (found < 0) {
            char names[256] = "";
            for (int i = 0; i < count; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), " %s", name_of(i));
            rc_cli_error("verify", "unknown %s '%s' (one of:%s)", what, it, names);
            rc = -1;
        }
    }
    free(copy);
    if (!rc && *n_out == 0) {
        rc_cli_error("verify", "empty %s list", what);
        rc = -1;
    }
    return rc;
}

static const char *dtype_name_i(int i) { return rc_dtype_name((rc_dtype)i); }
static const char *layout_name_i(int i) { return rc_layout_name((rc_layout)i); }
static const char *direction_name_i(int i) { return rc_direction_name((rc_direction)i); }

static void set_defaults(verify_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < RC_DTYPE_COUNT; i++)
        o->dtypes[o->n_dtypes++] = i;
    for (int i = 0; i < RC_LAYOUT_COUNT; i++)
        o->layouts[o->n_layouts++] = i;
    o->directions[o->n_directions++] = RC_FORWARD;
    o->head_dim = 128;
    o->rotary_dim = -1;
    o->heads = 4;
    o->tokens = -1;
    o->base = 10000.0;
    o->timeout_s = 60.0;
    o->positions_spec = "0:15,100,4095,131071,2147483647,lograndom:2147483647";
    o->seed = 1; /* $ROPECHECK_SEED: parse_args */
    o->jobs = rc_default_jobs();
    o->chunk = RC_SWEEP_DEFAULT_CHUNK;
    rc_gate_default(&o->gate);
}

enum { OPT_IMPL = 256, OPT_PLUGIN, OPT_DTYPE, OPT_LAYOUT, OPT_DIRECTION, OPT_HEAD_DIM,
       OPT_ROTARY_DIM, OPT_BASE, OPT_HEADS, OPT_TOKENS, OPT_POSITIONS, OPT_INPLACE,
       OPT_STRIDE_PAD, OPT_SPECIALS, OPT_SEED, OPT_GATE, OPT_TIMEOUT, OPT_JSON, OPT_JUNIT, OPT_RUNNER,
       OPT_HF_CONFIG, OPT_MODEL, OPT_SCALING, OPT_CONTEXT, OPT_PROFILE, OPT_QUICK, OPT_REQUIRE, OPT_MEMORY_LIMIT, OPT_SHARD,
       OPT_PYTHON, OPT_ORACLE, OPT_JOBS, OPT_CHECKPOINT, OPT_CHUNK, OPT_AXES, OPT_ROPE_KIND };

static const struct option long_opts[] = {
    {"impl", required_argument, NULL, OPT_IMPL},
    {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"dtype", required_argument, NULL, OPT_DTYPE},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"direction", required_argument, NULL, OPT_DIRECTION},
    {"head-dim", required_argument, NULL, OPT_HEAD_DIM},
    {"rotary-dim", required_argument, NULL, OPT_ROTARY_DIM},
    {"base", required_argument, NULL, OPT_BASE},
    {"heads", required_argument, NULL, OPT_HEADS},
    {"tokens", required_argument, NULL, OPT_TOKENS},
    {"positions", required_argument, NULL, OPT_POSITIONS},
    {"inplace", no_argument, NULL, OPT_INPLACE},
    {"stride-pad", required_argument, NULL, OPT_STRIDE_PAD},
    {"specials", no_argument, NULL, OPT_SPECIALS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"gate", required_argument, NULL, OPT_GATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", required_argument, NULL, OPT_JSON},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"runner", required_argument, NULL, OPT_RUNNER},
    {"python", required_argument, NULL, OPT_PYTHON},
    {"hf-config", required_argument, NULL, OPT_HF_CONFIG},
    {"model", required_argument, NULL, OPT_MODEL},
    {"scaling", required_argument, NULL, OPT_SCALING},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"require", required_argument, NULL, OPT_REQUIRE},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"oracle", required_argument, NULL, OPT_ORACLE},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"chunk", required_argument, NULL, OPT_CHUNK},
    {"axes", required_argument, NULL, OPT_AXES},
    {"rope-kind", required_argument, NULL, OPT_ROPE_KIND},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns -1 to continue, else an exit code. */
static int parse_args(int argc, char **argv, verify_opts *o)
{
    char err[512];
    int c;
    if (rc_seed_from_env(&o->seed, err, sizeof err) != 0)
        return usage_error("%s", err);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":qh", long_opts, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        switch (c) {
        case OPT_IMPL:
            if (o->n_impl_names == MAX_LIST)
                return usage_error("too many --impl options%s", "");
            o->impl_names[o->n_impl_names++] = a;
            break;
        case OPT_PLUGIN:
            if (o->n_plugins == MAX_LIST)
                return usage_error("too many --plugin options%s", "");
            o->plugins[o->n_plugins++] = a;
            break;
        case OPT_DTYPE:
            bad = parse_name_list(a, "dtype", RC_DTYPE_COUNT, dtype_name_i, o->dtypes, &o->n_dtypes);
            break;
        case OPT_LAYOUT:
            bad = parse_name_list(a, "layout", RC_LAYOUT_COUNT, layout_name_i, o->layouts,
                                  &o->n_layouts);
            o->layout_set = 1;
            break;
        case OPT_DIRECTION:
            bad = parse_name_list(a, "direction", RC_DIRECTION_COUNT, direction_name_i,
                                  o->directions, &o->n_directions);
            o->direction_set = 1;
            break;
        case OPT_HEAD_DIM:
            bad = parse_i64(a, "--head-dim", &o->head_dim);
            o->head_dim_set = 1;
            break;
        case OPT_ROTARY_DIM:
            bad = parse_i64(a, "--rotary-dim", &o->rotary_dim);
            o->rotary_dim_set = 1;
            break;
        case OPT_BASE:
            bad = parse_double(a, "--base", &o->base);
            o->base_set = 1;
            break;
        case OPT_HF_CONFIG: o->model.hf_config = a; break;
        case OPT_MODEL: o->model.model = a; break;
        case OPT_SCALING: o->model.scaling_text = a; break;
        case OPT_CONTEXT:
            bad = parse_i64(a, "--context", &o->model.context);
            if (!bad && o->model.context < 1)
                return usage_error("--context %s must be at least 1", a);
            break;
        case OPT_PROFILE:
            if (rc_profile_parse(a, &o->profile) != 0)
                return usage_error("unknown profile '%s' (one of: exact hf ggml)", a);
            break;
        case OPT_HEADS: bad = parse_i64(a, "--heads", &o->heads); break;
        case OPT_TOKENS: bad = parse_i64(a, "--tokens", &o->tokens); break;
        case OPT_POSITIONS:
            o->positions_spec = a;
            o->positions_set = 1;
            break;
        case OPT_AXES: o->axes_spec = a; break;
        case OPT_ROPE_KIND:
            if (strcmp(a, "global") != 0 && strcmp(a, "local") != 0)
                return usage_error("--rope-kind %s: global or local", a);
            o->rope_kind = a;
            break;
        case OPT_INPLACE: o->inplace = 1; break;
        case OPT_STRIDE_PAD:
            bad = parse_i64(a, "--stride-pad", &o->stride_pad);
            if (!bad && (o->stride_pad < 0 || o->stride_pad > 4096))
                return usage_error("--stride-pad %s must be in [0, 4096]", a);
            break;
        case OPT_SPECIALS: o->specials = 1; break;
        case OPT_SEED: {
            int64_t s;
            bad = parse_i64(a, "--seed", &s);
            if (!bad && s < 0)
                return usage_error("--seed %s must be >= 0", a);
            o->seed = (uint64_t)s;
            break;
        }
        case OPT_GATE:
            if (rc_gate_parse(a, &o->gate, err, sizeof err) != 0)
                return usage_error("%s", err);
            o->gate_given = 1;
            break;
        case OPT_TIMEOUT:
            bad = parse_double(a, "--timeout", &o->timeout_s);
            if (!bad && !(o->timeout_s >= RC_TIMEOUT_MIN_S && o->timeout_s <= RC_TIMEOUT_MAX_S))
                return usage_error("--timeout %s must be in [0.1, 86400] seconds", a);
            break;
        case OPT_JSON: o->json_path = a; break;
        case OPT_JUNIT: o->junit_path = a; break;
        case OPT_RUNNER:
        case OPT_PYTHON:
            if (rc_runner_option(c == OPT_PYTHON ? "python" : "runner", a, &o->runner, err,
                                 sizeof err) != 0)
                return usage_error("%s", err);
            if (c == OPT_PYTHON)
                o->python = a;
            break;
        case OPT_QUICK: o->quick = 1; break;
        case OPT_JOBS:
            bad = parse_i64(a, "--jobs", &o->jobs);
            if (!bad && (o->jobs < 1 || o->jobs > RC_ORACLE_MAX_JOBS))
                return usage_error("--jobs must be 1 to 256, not '%s'", a);
            break;
        case OPT_ORACLE:
            if (strcmp(a, "fast") == 0)
                o->oracle_mpfr = 0;
            else if (strcmp(a, "mpfr") == 0)
                o->oracle_mpfr = 1;
            else
                return usage_error("--oracle must be fast or mpfr, not '%s'", a);
            break;
        case OPT_MEMORY_LIMIT:
            if (rc_memory_limit_option(a, err, sizeof err) != 0)
                return usage_error("%s", err);
            break;
        case OPT_REQUIRE:
            if (rc_caps_parse(a, &o->require, err, sizeof err) != 0)
                return usage_error("--require: %s", err);
            break;
        case OPT_SHARD:
            if (rc_shard_parse(a, &o->shard_k, &o->shard_n, err, sizeof err) != 0)
                return usage_error("--shard: %s", err);
            break;
        case OPT_CHECKPOINT:
        case OPT_CHUNK:
            if (!o->sweep)
                return usage_error("%s is an option of `ropecheck sweep`", argv[optind - 1]);
            if (c == OPT_CHECKPOINT)
                o->checkpoint = a;
            else if ((bad = parse_i64(a, "--chunk", &o->chunk)) == 0 &&
                     (o->chunk < 1 || o->chunk > RC_SWEEP_MAX_CHUNK))
                return usage_error("--chunk %s must be in [1, 1048576] positions", a);
            break;
        case 'q': o->quiet = 1; break;
        case 'h': fputs(o->sweep ? rc_sweep_usage : usage_text, stdout); return RC_EXIT_PASS;
        case ':': return usage_error("option %s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (bad)
            return RC_EXIT_USAGE;
        switch (c) {
        case OPT_HEAD_DIM: case OPT_ROTARY_DIM: case OPT_BASE: case OPT_HEADS: case OPT_TOKENS:
        case OPT_POSITIONS: case OPT_INPLACE: case OPT_STRIDE_PAD: case OPT_SPECIALS:
        case OPT_HF_CONFIG: case OPT_MODEL: case OPT_SCALING: case OPT_CONTEXT: case OPT_PROFILE:
        case OPT_AXES: case OPT_ROPE_KIND:
            o->shaped = 1;
            break;
        default: break;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->runner && o->n_plugins)
        return usage_error("--runner (or --python) and --plugin do not mix%s", "");
    if (o->shard_n && o->require)
        return usage_error("--require judges a whole run, not a shard (merge the shards, then "
                           "check the merged file)%s", "");
    if (!o->gate_given && o->profile != RC_PROFILE_EXACT)
        rc_gate_profile(&o->gate);
    /* rotary_dim and the model options are settled in rc_cmd_verify, once
     * the positions (hence the default context) are known. */
    if (o->heads < 1 || o->heads > 4096)
        return usage_error("--heads must be in [1, 4096]%s", "");
    if (o->tokens == 0 || o->tokens < -1)
        return usage_error("--tokens must be at least 1%s", "");
    return -1;
}

typedef struct progress_ctx {
    const char *label;
    int enabled;
} progress_ctx;

static void show_progress(void *ctx, int64_t done, int64_t total)
{
    progress_ctx *p = ctx;
    if (!p->enabled)
        return;
    fprintf(stderr, "\r  %-40s reference %3d%%", p->label, (int)(100 * done / total));
    if (done == total)
        fprintf(stderr, "\r%*s\r", 60, "");
    fflush(stderr);
}

/* The table's columns; `cell` only when the coverage matrix runs. */
typedef struct table_fmt {
    int impl_w;
    int cells;  /* 1: a cell column after impl */
    int banded; /* 1: a framework profile: the figures are distances from its band */
} table_fmt;

static void print_header(const table_fmt *f)
{
    printf("%-*s ", f->impl_w, "impl");
    if (f->cells)
        printf("%-9s ", "cell");
    /* Under a profile the columns hold the distance from the framework's
     * band, not the error against the exact result: named so. */
    printf("%-5s %-11s %-8s %-7s %10s %10s %10s %8s  %s\n", "dtype", "layout", "dir", "verdict",
           f->banded ? "max band" : "max pair", f->banded ? "p99 band" : "p99 pair",
           f->banded ? "comp band" : "max comp", "over", "worst at");
}

static void print_row(const rc_case_record *k, const table_fmt *f)
{
    const rc_verify_case *c = &k->vcase;
    const rc_verify_result *r = &k->result;
    printf("%-*s ", f->impl_w, k->impl_name);
    if (f->cells)
        printf("%-9s ", k->cell ? k->cell : "-");
    printf("%-5s %-11s %-8s %-7s", rc_dtype_name(c->dtype), rc_layout_name(c->layout),
           rc_direction_name(c->direction), rc_verdict_name(r->verdict));
    if ((r->verdict == RC_VERDICT_PASS || r->verdict == RC_VERDICT_FAIL) &&
        r->call.outcome == RC_CALL_OK) {
        printf(" %10.4g %10.4g %10.4g %8lld", r->pair.max, r->pair.p99, r->component.max,
               (long long)r->pair.over_gate);
        if (r->pair.has_worst)
            printf("  m=%lld h=%d c=%d", (long long)r->pair.worst.position, r->pair.worst.head,
                   r->pair.worst.channel);
        printf("\n");
        if (r->verdict == RC_VERDICT_FAIL)
            printf("    -> %s\n", r->reason);
    } else {
        printf("  %s\n", r->reason);
    }
    if (r->has_own_table)
        printf("    its own frequency table: max error %.3g f32 ulp, %.3g relative (pair %d: "
               "%a, exact %a)\n",
               r->own_table.max_f32_ulp, r->own_table.max_rel, r->own_table.worst,
               r->own_table.worst_got, r->own_table.worst_exact);
    if ((r->verdict == RC_VERDICT_FAIL || r->verdict == RC_VERDICT_BROKEN) && r->cause[0])
        printf("    cause %s: %s\n", r->cause, r->finding[0] ? r->finding : r->reason);
    /* What the port printed was captured in its child (escaped): shown as
     * its own, on stderr, never as a line of this table. */
    if (r->call.output[0])
        rc_cli_error("verify", "output of %s (%s %s %s): %s", k->impl_name,
                rc_dtype_name(c->dtype), rc_layout_name(c->layout),
                rc_direction_name(c->direction), r->call.output);
}

/* Was the case judged: the implementation ran and got a verdict on its
 * outputs, its refusal, or its crash (not skipped, not a harness error). */
static int judged(const rc_case_record *k)
{
    rc_verdict v = k->result.verdict;
    return v == RC_VERDICT_PASS || v == RC_VERDICT_FAIL || v == RC_VERDICT_BROKEN;
}

/* Nothing judged (exit 4): an implementation the user selected that ran
 * no case, the whole run judging nothing, or --require not met. Prints one
 * line per reason; returns 1 if any. */
static int report_nothing_judged(const rc_run_record *run, const rc_target_list *targets,
                                 int explicit_selection, uint64_t require)
{
    int any = 0, run_judged = 0;
    for (size_t i = 0; i < targets->n; i++) {
        const rc_target *t = &targets->items[i];
        int n_judged = 0;
        uint64_t judged_caps = 0;
        const char *first_reason = NULL;
        for (size_t j = 0; j < run->n_cases; j++) {
            const rc_case_record *k = &run->cases[j];
            if (k->vcase.impl != t->impl)
                continue;
            if (judged(k)) {
                n_judged++;
                judged_caps |= rc_verify_case_caps(&k->vcase);
            } else if (!first_reason) {
                first_reason = k->result.reason;
            }
        }
        run_judged += n_judged;
        /* Built-ins the user did not name may be unavailable here: those
         * skips are honest. What the user named must be judged. */
        if (n_judged == 0 && (explicit_selection || t->available)) {
            printf("nothing judged: %s ran no case (%s)\n", t->impl->name,
                   first_reason ? first_reason : "no case in this run");
            any = 1;
        }
        uint64_t missing = require & ~judged_caps;
        if (missing && (explicit_selection || t->available)) {
            char names[200];
            rc_caps_text(missing, names, sizeof names);
            printf("requirement not met: %s was judged on no case with %s (offers: ", t->impl->name,
                   names);
            char offers[200];
            rc_caps_text(rc_impl_caps(t->impl), offers, sizeof offers);
            printf("%s)\n", offers);
            any = 1;
        }
    }
    if (run_judged == 0 && !any) {
        printf("nothing judged: no case of this run was judged\n");
        any = 1;
    }
    return any;
}

/* broken (3) > failed (1) > nothing judged (4) > harness error (2) > pass. */
static int exit_code_of(const rc_run_record *run, int nothing_judged)
{
    int fail = 0, broken = 0, error = 0;
    for (size_t i = 0; i < run->n_cases; i++) {
        rc_verdict v = run->cases[i].result.verdict;
        fail |= v == RC_VERDICT_FAIL;
        broken |= v == RC_VERDICT_BROKEN;
        error |= v == RC_VERDICT_ERROR;
    }
    return broken           ? RC_EXIT_BROKEN
           : fail           ? RC_EXIT_FAIL
           : nothing_judged ? RC_EXIT_NOTHING_JUDGED
           : error          ? RC_EXIT_USAGE
                            : RC_EXIT_PASS;
}

static void print_footer(const rc_run_record *run)
{
    int counts[RC_VERDICT_ERROR + 1] = {0};
    for (size_t i = 0; i < run->n_cases; i++)
        counts[run->cases[i].result.verdict]++;
    printf("\n%zu cases: %d pass, %d fail, %d skip, %d broken, %d error (seed %llu, ",
           run->n_cases, counts[RC_VERDICT_PASS], counts[RC_VERDICT_FAIL],
           counts[RC_VERDICT_SKIP], counts[RC_VERDICT_BROKEN], counts[RC_VERDICT_ERROR],
           (unsigned long long)run->seed);
    if (run->n_cells)
        printf("coverage matrix of %zu cells, ", run->n_cells);
    else
        printf("%lld tokens, ", (long long)run->n_tokens);
    printf("gate at positions < %lld)\n", (long long)run->gate.positions_below);
    if (run->shard_n)
        printf("shard %lld of %lld: %zu shares (cases, or token ranges of one) of the run's "
               "%lld cases (join the shards' --json files with ropecheck merge)\n",
               (long long)run->shard_k, (long long)run->shard_n, run->n_cases,
               (long long)run->cases_total);
    for (size_t i = 0; i < run->n_cases; i++) {
        const rc_case_record *k = &run->cases[i];
        if (k->result.verdict == RC_VERDICT_FAIL && k->result.pair.has_worst) {
            char cmd[1024];
            printf("replay worst %s%s%s %s %s %s: %s\n", k->impl_name, k->cell ? " " : "",
                   k->cell ? k->cell : "", rc_dtype_name(k->vcase.dtype),
                   rc_layout_name(k->vcase.layout), rc_direction_name(k->vcase.direction),
                   rc_replay_command(run, k, &k->result.pair.worst, cmd, sizeof cmd));
        }
    }
}

/* A remote call that failed left its reason (how the runner died, what
 * was malformed) in the runner client's shared note: add it. */
static void add_runner_note(rc_verify_result *r)
{
    char note[600];
    if (!rc_runner_take_note(note, sizeof note) || r->verdict == RC_VERDICT_PASS ||
        r->verdict == RC_VERDICT_FAIL)
        return;
    size_t n = strlen(r->reason);
    snprintf(r->reason + n, sizeof r->reason - n, "%s%s", n ? ": " : "", note);
}

/* One spec the run covers: a coverage-matrix cell, or the options' own. */
typedef struct run_spec {
    const char *cell; /* NULL: the options' spec */
    const char *positions_spec;
    int32_t head_dim, rotary_dim;
    double base;
    int64_t heads, stride_pad;
    int64_t *positions, n_tokens;
    int directions[RC_DIRECTION_COUNT], n_directions;
    int inplace, specials;
    int has_axes;          /* several positions per token: axes below */
    rc_axes axes;
    char axes_spec[64];    /* as --axes spells it (cli/axes_opt.h) */
    int own_scaling;       /* scaling below, not the model options' (a local RoPE) */
    const rc_scaling *scaling;
    const char *rope_kind; /* "global" / "local" of a model with two RoPEs, or NULL */
} run_spec;

/* The cells of the coverage matrix as run specs (positions drawn from the
 * seed); directions from --direction when given. 0, or -1 with err. */
static int matrix_specs(const verify_opts *o, run_spec *out, size_t cap, size_t *n, char *err,
                        size_t len)
{
    *n = 0;
    if (rc_coverage_count() > cap) { /* cli/coverage.c outgrew verify_run.specs */
        snprintf(err, len, "the coverage matrix has %zu cells, more than the %zu verify holds",
                 rc_coverage_count(), cap);
        return -1;
    }
    for (size_t i = 0; i < rc_coverage_count(); i++) {
        const rc_coverage_cell *cc = rc_coverage_get(i);
        run_spec *r = &out[(*n)++];
        *r = (run_spec){.cell = cc->name, .positions_spec = cc->positions,
                        .head_dim = cc->head_dim, .rotary_dim = cc->rotary_dim,
                        .base = cc->base, .heads = cc->heads, .stride_pad = cc->stride_pad,
                        .inplace = cc->inplace, .specials = cc->specials};
        char perr[256];
        if (cc->axes) { /* a multi-axis cell: its map, and tuple positions */
            if (rc_axes_opt_parse(cc->axes, cc->rotary_dim, &r->axes, perr, sizeof perr) != 0) {
                snprintf(err, len, "coverage cell %s: %s", cc->name, perr);
                return -1;
            }
            r->has_axes = 1;
            snprintf(r->axes_spec, sizeof r->axes_spec, "%s", cc->axes);
        }
        if (rc_positions_parse_axes(cc->positions, r->has_axes ? r->axes.n_axes : 1,
                                    cc->tokens, o->seed, &r->positions, &r->n_tokens, perr,
                                    sizeof perr) != 0) {
            snprintf(err, len, "coverage cell %s: %s", cc->name, perr);
            return -1;
        }
        if (o->direction_set) {
            memcpy(r->directions, o->directions, sizeof r->directions);
            r->n_directions = o->n_directions;
        } else {
            if (cc->forward)
                r->directions[r->n_directions++] = RC_FORWARD;
            if (cc->inverse)
                r->directions[r->n_directions++] = RC_INVERSE;
        }
    }
    return 0;
}

/* Room for more case records. 0, or -1 when out of memory. */
static int grow_cases(rc_run_record *run)
{
    const size_t cap = run->cases_cap ? 2 * run->cases_cap : 64;
    rc_case_record *grown = realloc(run->cases, cap * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + run->cases_cap, 0, (cap - run->cases_cap) * sizeof *grown);
    run->cases = grown;
    run->cases_cap = cap;
    return 0;
}

/* Runs record k's case (the whole case, or its token range with the
 * mergeable state kept for the JSON), or records why it cannot run. */
static void run_one_case(rc_run_record *run, const rc_target *t, const run_spec *sp,
                         rc_case_record *k, int tty)
{
    rc_verify_case *c = &k->vcase;
    if (t->broken) { /* failed its guarded load: never called */
        k->result.verdict = RC_VERDICT_BROKEN;
        snprintf(k->result.reason, sizeof k->result.reason, "%s", t->why);
        return;
    }
    if (!t->available) {
        k->result.verdict = RC_VERDICT_SKIP;
        snprintf(k->result.reason, sizeof k->result.reason, "unavailable: %s", t->why);
        return;
    }
    char label[128];
    snprintf(label, sizeof label, "%s %s %s %s %s", t->impl->name, sp->cell ? sp->cell : "",
             rc_dtype_name(c->dtype), rc_layout_name(c->layout),
             rc_direction_name(c->direction));
    if (k->slice_count > 1) {
        const size_t n = strlen(label);
        snprintf(label + n, sizeof label - n, " tokens %lld..%lld", (long long)c->judge_t0,
                 (long long)c->judge_t1 - 1);
    }
    progress_ctx p = {label, tty};
    c->progress = show_progress;
    c->own_table = run->runner ? rc_runner_peek_table : NULL;
    c->fresh_state_per_call = run->runner != NULL; /* PROTOCOL.md: APPLY */
    c->progress_ctx = &p;
    if (k->slice_count > 1) {
        const rc_dtype dt = c->dtype;
        k->partial = calloc(1, sizeof *k->partial);
        if (!k->partial ||
            rc_verify_partial_init(k->partial, run->gate.pair[dt], run->gate.component[dt]) != 0) {
            if (k->partial)
                rc_verify_partial_free(k->partial);
            free(k->partial);
            k->partial = NULL;
            k->result.verdict = RC_VERDICT_ERROR;
            snprintf(k->result.reason, sizeof k->result.reason,
                     "out of memory for error statistics");
        } else if (rc_verify_run_part(c, &run->gate, &k->result, k->partial)) {
            rc_verify_partial_result(k->partial, c, &k->result);
        } else { /* not judged: the verdict is the call's, and there is no state */
            rc_verify_partial_free(k->partial);
            free(k->partial);
            k->partial = NULL;
        }
    } else {
        rc_verify_run(c, &run->gate, &k->result);
    }
    add_runner_note(&k->result);
    c->progress = NULL;
    c->progress_ctx = NULL;
}

/* Build and run every case; fills run->cases. */
static int run_cases(const verify_opts *o, const rc_target_list *targets, const run_spec *specs,
                     size_t n_specs, rc_run_record *run)
{
    int tty = !o->quiet && isatty(STDERR_FILENO);
    table_fmt fmt = {.impl_w = 12, .cells = run->n_cells > 0 || (n_specs > 0 && specs[0].cell),
                     .banded = o->profile != RC_PROFILE_EXACT};
    for (size_t i = 0; i < targets->n; i++) {
        int len = (int)strlen(targets->items[i].impl->name);
        fmt.impl_w = len > fmt.impl_w ? len : fmt.impl_w;
    }
    print_header(&fmt);
    int64_t total = 0; /* cases of the whole run */
    for (size_t si = 0; si < n_specs; si++)
        total += (int64_t)targets->n * o->n_dtypes * o->n_layouts * specs[si].n_directions;
    int64_t index = 0; /* of the case in the whole (unsharded) run */
    int64_t unit = 0;  /* of the share (a case, or a token range of one: shard.h) */
    for (size_t i = 0; i < targets->n; i++) {
        const rc_target *t = &targets->items[i];
        for (size_t si = 0; si < n_specs; si++) {
            const run_spec *sp = &specs[si];
            const int64_t slices =
                o->shard_n ? rc_shard_slices(o->shard_n, total, sp->n_tokens) : 1;
            for (int di = 0; di < o->n_dtypes; di++)
                for (int li = 0; li < o->n_layouts; li++)
                    for (int ri = 0; ri < sp->n_directions; ri++, index++)
                        for (int64_t j = 0; j < slices; j++, unit++) {
                            if (o->shard_n && unit % o->shard_n != o->shard_k - 1)
                                continue;
                            if (run->n_cases == run->cases_cap &&
                                grow_cases(run) != 0)
                                return -1;
                            rc_case_record *k = &run->cases[run->n_cases++];
                            k->case_index = index;
                            k->slice_index = j;
                            k->slice_count = slices;
                            k->impl_name = t->impl->name;
                            k->plugin_path = t->plugin_path;
                            k->cell = sp->cell;
                            k->positions_spec = sp->positions_spec;
                            k->axes_spec = sp->has_axes ? sp->axes_spec : NULL;
                            k->rope_kind = sp->rope_kind;
                            rc_verify_case *c = &k->vcase;
                            *c = (rc_verify_case){
                                .impl = t->impl, .head_dim = sp->head_dim,
                                .rotary_dim = sp->rotary_dim, .base = sp->base,
                                .layout = (rc_layout)o->layouts[li],
                                .dtype = (rc_dtype)o->dtypes[di],
                                .direction = (rc_direction)sp->directions[ri],
                                .n_tokens = sp->n_tokens, .n_heads = sp->heads,
                                .positions = sp->positions, .inplace = sp->inplace,
                                .stride_pad = sp->stride_pad, .with_specials = sp->specials,
                                .seed = o->seed, .timeout_s = o->timeout_s,
                                .scaling = sp->own_scaling ? sp->scaling
                                                           : rc_model_opts_scaling(&o->model),
                                .axes = sp->has_axes ? &sp->axes : NULL,
                                .profile = o->profile, .oracle_mpfr = o->oracle_mpfr,
                                .jobs = (int)o->jobs};
                            if (slices > 1)
                                rc_shard_slice_tokens(j, slices, sp->n_tokens, &c->judge_t0,
                                                      &c->judge_t1);
                            run_one_case(run, t, sp, k, tty);
                            print_row(k, &fmt);
                            fflush(stdout);
                        }
        }
    }
    run->cases_total = index;
    return 0;
}

/* Positions per token of a run spec. */
static int32_t spec_positions_per_token(const run_spec *sp)
{
    return sp->has_axes ? sp->axes.n_axes : 1;
}

/* Refuse what cannot fit: the input and output buffers of the largest spec
 * must fit in half the machine's memory (the statistics are histograms,
 * reference/metrics.h, and the reference works a block at a time: neither
 * grows with the case). 0, or -1 with err. */
static int check_memory(const run_spec *sp, char *err, size_t len)
{
    size_t bytes;
    if (rc_shape_check(sp->n_tokens, sp->heads, sp->head_dim,
                       sp->heads * (sp->head_dim + sp->stride_pad) + sp->stride_pad,
                       sp->head_dim + sp->stride_pad, 8, &bytes, err, len) != 0)
        return -1;
    double need = 2.0 * (double)bytes;
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && need > have / 2) {
        snprintf(err, len, "this run needs %.3g GiB of memory, more than half of this "
                 "machine's %.3g GiB; use fewer tokens or heads", need / 1073741824.0,
                 have / 1073741824.0);
        return -1;
    }
    return 0;
}

/* Everything rc_cmd_verify allocates, released in one place. */
typedef struct verify_run {
    verify_opts o;
    rc_run_record run;
    run_spec specs[16];
    size_t n_specs;
    rc_target_list targets;
    int have_targets;
    int64_t sweep_lo, sweep_hi; /* sweep: its positions lo..hi */
    char default_positions[256]; /* a multi-axis spec's default --positions */
} verify_run;

static void verify_run_free(verify_run *v)
{
    for (size_t i = 0; i < v->run.n_cases; i++)
        if (v->run.cases[i].partial) {
            rc_verify_partial_free(v->run.cases[i].partial);
            free(v->run.cases[i].partial);
        }
    free(v->run.cases);
    if (v->have_targets)
        rc_targets_free(&v->targets);
    rc_model_opts_free(&v->o.model);
    for (size_t i = 0; i < v->n_specs; i++)
        free(v->specs[i].positions);
}

/* Positions per token of the options' spec: --axes's, else an M-RoPE
 * config's (read here once more: the positions, which decide the context
 * the model options resolve with, depend on it), else 1; -1 with err for
 * a bad --axes. A config that does not load is reported by the resolve
 * that follows. */
static int32_t spec_n_axes(const verify_opts *o, char *err, size_t len)
{
    if (o->axes_spec)
        return rc_axes_opt_count(o->axes_spec, err, len);
    if (!o->model.hf_config && !o->model.model)
        return 1;
    rc_model_config cfg;
    char why[512];
    const int rc = o->model.hf_config ? rc_model_config_load(o->model.hf_config, &cfg, why,
                                                             sizeof why)
                                      : rc_model_preset(o->model.model, &cfg, why, sizeof why);
    if (rc != 0)
        return 1;
    const int32_t n = cfg.axes.n_axes >= 2 ? cfg.axes.n_axes : 1;
    rc_model_config_free(&cfg);
    return n;
}

/* The default positions of a multi-axis spec: text tokens, an image block
 * after them (Qwen2-VL's get_rope_index places one so), the text that
 * follows, tuples of large and unequal positions up to 2^31 - 1 on every
 * axis, and log-random tuples (each axis drawn alone). */
static void default_axes_positions(int32_t n_axes, char *buf, size_t len)
{
    char grid[32] = "", big[3][64] = {"", "", ""};
    int g = 0;
    for (int32_t k = 0; k < n_axes; k++) {
        g += snprintf(grid + g, sizeof grid - (size_t)g, "%s%d", k ? "/" : "",
                      n_axes >= 3 && k == 0 ? 2 : 6);
        for (int j = 0; j < 3; j++) {
            static const long long v[3][RC_MAX_AXES] = {
                {1000, 1003, 1001, 1002},
                {2147483647, 2147483646, 2147483645, 2147483644},
                {131071, 7, 65535, 3}};
            const size_t u = strlen(big[j]);
            snprintf(big[j] + u, sizeof big[j] - u, "%s%lld", k ? "/" : "", v[j][k]);
        }
    }
    snprintf(buf, len, "0:15,grid:%s@16,22:29,%s,%s,%s,lograndom:2147483647", grid, big[0],
             big[1], big[2]);
}

/* The axis map of the options' spec, once rotary_dim is settled: --axes's
 * or the config's (both given: they must agree). -1 to continue, else an
 * exit code. */
static int settle_axes(verify_run *v, run_spec *sp, char *err, size_t len)
{
    const verify_opts *o = &v->o;
    const int got = rc_axes_opt_settle(o->axes_spec,
                                       o->model.have_config ? &o->model.config : NULL,
                                       sp->rotary_dim, &sp->axes, sp->axes_spec,
                                       sizeof sp->axes_spec, err, len);
    if (got < 0)
        return usage_error("%s", err);
    if (got == 0)
        return -1;
    v->run.axes_replay = o->axes_spec != NULL;
    sp->has_axes = 1;
    if (o->sweep)
        return usage_error("a sweep walks one position axis; give a multi-axis spec's "
                           "tuples to verify --positions%s", "");
    if (o->shard_n)
        return usage_error("--shard does not take multi-axis specs yet (merge cannot "
                           "rebuild their axis map); run the case whole%s", "");
    return -1;
}

/* A model with two RoPEs (Gemma 2/3: the global one of full-attention
 * layers, and a local one, rope_local_base_freq, without scaling, for its
 * sliding-window layers): both kinds, each its own labelled spec, or the
 * one --rope-kind names. -1 to continue, else an exit code. */
static int settle_rope_kinds(verify_run *v, char *err, size_t len)
{
    const verify_opts *o = &v->o;
    run_spec *sp = &v->specs[0];
    const double local = o->model.have_config ? o->model.config.local_base : 0.0;
    if (!(local > 0.0)) {
        if (o->rope_kind)
            return usage_error("--rope-kind %s: the model has one RoPE", o->rope_kind);
        return -1;
    }
    const int want_global = !o->rope_kind || strcmp(o->rope_kind, "global") == 0;
    const int want_local = !o->rope_kind || strcmp(o->rope_kind, "local") == 0;
    run_spec local_spec = *sp;
    local_spec.base = local;
    local_spec.own_scaling = 1;
    local_spec.scaling = NULL;
    local_spec.cell = local_spec.rope_kind = "local";
    if (rc_ref_freq_check(local, (int)sp->rotary_dim, NULL, err, len) != 0)
        return usage_error("the local RoPE: %s", err);
    sp->cell = sp->rope_kind = "global";
    if (!want_global) {
        *sp = local_spec;
        return -1;
    }
    if (!want_local)
        return -1;
    const size_t bytes = sizeof(int64_t) * (size_t)sp->n_tokens * (size_t)spec_positions_per_token(sp);
    local_spec.positions = malloc(bytes);
    if (!local_spec.positions)
        return usage_error("out of memory for positions%s", "");
    memcpy(local_spec.positions, sp->positions, bytes);
    v->specs[v->n_specs++] = local_spec;
    return -1;
}

/* The options' own spec (--quick, or any spec option given). Returns -1
 * to continue, else an exit code. */
static int single_spec(verify_run *v, char *err, size_t len)
{
    verify_opts *o = &v->o;
    run_spec *sp = &v->specs[0];
    v->n_specs = 1;
    *sp = (run_spec){.positions_spec = o->positions_spec, .heads = o->heads,
                     .stride_pad = o->stride_pad, .inplace = o->inplace,
                     .specials = o->specials};
    const int32_t n_axes = o->sweep ? 1 : spec_n_axes(o, err, len);
    if (n_axes < 1)
        return usage_error("%s", err);
    if (n_axes >= 2 && !o->positions_set) {
        default_axes_positions(n_axes, v->default_positions, sizeof v->default_positions);
        sp->positions_spec = o->positions_spec = v->default_positions;
        v->run.positions_spec = o->positions_spec;
    }
    int64_t max_pos = 0;
    if (o->sweep) { /* lo..hi, never materialized: a chunk at a time (sweep.h) */
        if (rc_sweep_range_parse(o->positions_spec, &v->sweep_lo, &v->sweep_hi, err, len) != 0)
            return usage_error("--positions: %s", err);
        if (o->tokens != -1)
            return usage_error("--tokens: a sweep judges every position of --positions "
                               "A:B%s", "");
        sp->n_tokens = v->sweep_hi - v->sweep_lo + 1;
        max_pos = v->sweep_hi;
    } else {
        if (rc_positions_parse_axes(o->positions_spec, n_axes, o->tokens, o->seed,
                                    &sp->positions, &sp->n_tokens, err, len) != 0)
            return usage_error("--positions: %s", err);
        for (int64_t t = 0; t < sp->n_tokens * n_axes; t++)
            max_pos = sp->positions[t] > max_pos ? sp->positions[t] : max_pos;
    }
    rc_spec_args sa = {.head_dim = o->head_dim, .rotary_dim = o->rotary_dim, .base = o->base,
                       .layout = o->layout_set && o->n_layouts == 1 ? o->layouts[0] : -1,
                       .head_dim_set = o->head_dim_set, .rotary_dim_set = o->rotary_dim_set,
                       .base_set = o->base_set};
    if (o->layout_set && o->n_layouts > 1 && (o->model.hf_config || o->model.model))
        return usage_error("--layout lists two layouts; a model rotates one%s", "");
    if (rc_model_opts_resolve(&o->model, &sa, max_pos, err, len) != 0)
        return usage_error("%s", err);
    o->head_dim = sa.head_dim;
    o->rotary_dim = sa.rotary_dim;
    o->base = sa.base;
    if (sa.layout >= 0) {
        o->layouts[0] = sa.layout;
        o->n_layouts = 1;
    }
    if (rc_spec_check(o->head_dim, o->rotary_dim, o->base, err, len) != 0 ||
        rc_ref_freq_check(o->base, (int)o->rotary_dim, rc_model_opts_scaling(&o->model), err,
                          len) != 0)
        return usage_error("%s", err);
    sp->head_dim = (int32_t)o->head_dim;
    sp->rotary_dim = (int32_t)o->rotary_dim;
    sp->base = o->base;
    memcpy(sp->directions, o->directions, sizeof sp->directions);
    sp->n_directions = o->n_directions;
    int rc;
    if ((rc = settle_axes(v, sp, err, len)) >= 0 || (rc = settle_rope_kinds(v, err, len)) >= 0)
        return rc;
    v->run.positions = sp->positions;
    v->run.n_tokens = sp->n_tokens;
    return -1;
}

/* The implementations: a runner's, or built-ins and plug-ins. Returns -1
 * to continue, else an exit code. */
static int select_targets(verify_run *v, char *err, size_t len)
{
    verify_opts *o = &v->o;
    if (o->runner) {
        int sel = rc_targets_select_runner(o->runner, o->impl_names, o->n_impl_names,
                                           o->timeout_s, &v->targets, err, len);
        if (sel == -2) { /* the runner itself is broken: nothing to verify */
            rc_cli_error("verify", "BROKEN: %s", err);
            return RC_EXIT_BROKEN;
        }
        if (sel != 0)
            return usage_error("%s", err);
    } else if (rc_targets_select(o->impl_names, o->n_impl_names, o->plugins, o->n_plugins,
                                 o->timeout_s, &v->targets, err, len) != 0) {
        return usage_error("%s", err);
    }
    v->have_targets = 1;
    return -1;
}

static int write_results(const verify_run *v, int rc)
{
    char err[512];
    const verify_opts *o = &v->o;
    if (o->json_path && rc_results_write_json(o->json_path, &v->run, err, sizeof err) != 0) {
        rc_cli_error("verify", "%s", err);
        rc = rc == RC_EXIT_PASS ? RC_EXIT_USAGE : rc;
    } else if (o->json_path) {
        printf("results: %s\n", o->json_path);
    }
    if (o->junit_path && rc_results_write_junit(o->junit_path, &v->run, err, sizeof err) != 0) {
        rc_cli_error("verify", "%s", err);
        rc = rc == RC_EXIT_PASS ? RC_EXIT_USAGE : rc;
    } else if (o->junit_path) {
        printf("junit: %s\n", o->junit_path);
    }
    return rc;
}

/* What a sweep's checkpoint must match: the run's options (less those
 * that change only speed or where results go), the seed, the share and
 * the tool's version. */
static cJSON *sweep_identity(const verify_run *v, int argc, char **argv)
{
    cJSON *id = cJSON_CreateObject();
    cJSON_AddItemToObject(id, "run_argv", rc_run_argv_json(argc, argv));
    char buf[48];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v->o.seed);
    cJSON_AddStringToObject(id, "seed", buf);
    snprintf(buf, sizeof buf, "%lld/%lld", (long long)v->o.shard_k, (long long)v->o.shard_n);
    cJSON_AddStringToObject(id, "shard", buf);
    cJSON_AddStringToObject(id, "ropecheck", ROPECHECK_VERSION);
    return id;
}

/* The sweep of one case (sweep.h) as a run of one record. Returns an exit
 * code. */
static int run_sweep(verify_run *v, int argc, char **argv)
{
    const verify_opts *o = &v->o;
    const run_spec *sp = &v->specs[0];
    if (v->targets.n != 1 || o->n_dtypes != 1 || o->n_layouts != 1 || sp->n_directions != 1)
        return usage_error("a sweep is of one case: give one implementation, one --dtype, "
                           "one --layout and one --direction%s", "");
    const rc_target *t = &v->targets.items[0];
    if (!t->available || t->broken) {
        rc_cli_error("sweep", "%s: %s", t->impl->name, t->why);
        return t->broken ? RC_EXIT_BROKEN : RC_EXIT_NOTHING_JUDGED;
    }
    rc_run_record *run = &v->run;
    if (grow_cases(run) != 0) {
        rc_cli_error("sweep", "out of memory");
        return RC_EXIT_USAGE;
    }
    const int64_t total = sp->n_tokens;
    rc_case_record *k = &run->cases[run->n_cases++];
    *k = (rc_case_record){.impl_name = t->impl->name, .plugin_path = t->plugin_path,
                          .positions_spec = o->positions_spec, .slice_count = 1};
    k->vcase = (rc_verify_case){
        .impl = t->impl, .head_dim = sp->head_dim, .rotary_dim = sp->rotary_dim,
        .base = sp->base, .layout = (rc_layout)o->layouts[0], .dtype = (rc_dtype)o->dtypes[0],
        .direction = (rc_direction)sp->directions[0], .n_tokens = total, .n_heads = sp->heads,
        .inplace = sp->inplace, .stride_pad = sp->stride_pad, .with_specials = sp->specials,
        .seed = o->seed, .timeout_s = o->timeout_s,
        .scaling = rc_model_opts_scaling(&o->model), .profile = o->profile,
        .oracle_mpfr = o->oracle_mpfr, .jobs = (int)o->jobs,
        .own_table = run->runner ? rc_runner_peek_table : NULL,
        .fresh_state_per_call = run->runner != NULL};
    rc_sweep sw = {.vcase = k->vcase, .lo = v->sweep_lo, .hi = v->sweep_hi, .t0 = 0,
                   .t1 = total, .chunk = o->chunk, .checkpoint = o->checkpoint,
                   .tty = isatty(STDERR_FILENO), .quiet = o->quiet};
    run->cases_total = 1;
    if (o->shard_n) { /* one contiguous range of the positions per shard */
        k->slice_count = rc_shard_slices(o->shard_n, 1, total);
        k->slice_index = o->shard_k - 1;
        if (k->slice_index >= k->slice_count) { /* fewer positions than shards */
            run->n_cases = 0;
            print_footer(run);
            return write_results(v, RC_EXIT_PASS);
        }
        rc_shard_slice_tokens(k->slice_index, k->slice_count, total, &sw.t0, &sw.t1);
        if (k->slice_count > 1) {
            k->vcase.judge_t0 = sw.t0;
            k->vcase.judge_t1 = sw.t1;
        }
    }
    cJSON *id = sweep_identity(v, argc, argv);
    sw.identity = id;
    char err[600];
    table_fmt fmt = {.impl_w = (int)strlen(t->impl->name) > 12 ? (int)strlen(t->impl->name) : 12,
                     .banded = o->profile != RC_PROFILE_EXACT};
    const int rc = rc_sweep_run(&sw, &run->gate, &k->result, &k->partial, err, sizeof err);
    cJSON_Delete(id);
    if (rc == 130)
        return rc;
    if (rc != 0) {
        rc_cli_error("sweep", "%s", err);
        run->n_cases = 0;
        return RC_EXIT_USAGE;
    }
    if (k->slice_count <= 1 && k->partial) { /* the whole sweep: no state in the JSON */
        rc_verify_partial_free(k->partial);
        free(k->partial);
        k->partial = NULL;
    }
    add_runner_note(&k->result);
    print_header(&fmt);
    print_row(k, &fmt);
    print_footer(run);
    return write_results(v, exit_code_of(run, !judged(k)));
}

static int verify_main(verify_run *v, int argc, char **argv)
{
    verify_opts *o = &v->o;
    const int sweep = o->sweep;
    set_defaults(o);
    o->sweep = sweep;
    int rc = parse_args(argc, argv, o);
    if (rc >= 0)
        return rc;
    char err[512];
    v->run = (rc_run_record){.argc = argc, .argv = argv, .seed = o->seed,
                             .positions_spec = o->positions_spec, .gate = o->gate,
                             .runner = o->runner,
                             .python = o->python,
                             .shard_k = o->shard_k, .shard_n = o->shard_n};
    if (o->sweep && (o->quick || !o->shaped || !strchr(o->positions_spec, ':')))
        return usage_error("a sweep needs --positions A:B (see ropecheck sweep --help)%s", "");
    if (o->sweep && o->require)
        return usage_error("--require is an option of verify%s", "");
    if (o->shaped || o->quick) {
        if ((rc = single_spec(v, err, sizeof err)) >= 0)
            return rc;
    } else {
        if (matrix_specs(o, v->specs, sizeof v->specs / sizeof v->specs[0], &v->n_specs, err,
                         sizeof err) != 0) {
            rc_cli_error("verify", "%s", err);
            return RC_EXIT_USAGE;
        }
        v->run.n_cells = v->n_specs;
        v->run.positions_spec = "coverage matrix (reference/COVERAGE.md)";
        for (size_t i = 0; i < v->n_specs; i++)
            v->run.n_tokens += v->specs[i].n_tokens;
    }
    /* A results path that cannot be written fails now, not after the run;
     * an earlier file there is replaced only by a whole new one. */
    if ((o->json_path && rc_output_check(o->json_path, err, sizeof err) != 0) ||
        (o->junit_path && rc_output_check(o->junit_path, err, sizeof err) != 0))
        return usage_error("%s", err);
    char model_replay[1024];
    rc_model_opts_replay(&o->model, model_replay, sizeof model_replay);
    v->run.model_replay = model_replay;
    for (size_t i = 0; i < v->n_specs; i++) {
        run_spec chunked = v->specs[i]; /* a sweep holds one chunk at a time */
        if (o->sweep && chunked.n_tokens > o->chunk)
            chunked.n_tokens = o->chunk;
        if (check_memory(&chunked, err, sizeof err) != 0)
            return usage_error("%s", err);
    }
    if (o->sweep && o->checkpoint && rc_output_check(o->checkpoint, err, sizeof err) != 0)
        return usage_error("--checkpoint: %s", err);
    if ((rc = select_targets(v, err, sizeof err)) >= 0)
        return rc;
    if (o->sweep) {
        rc = run_sweep(v, argc, argv);
        v->run.model_replay = NULL;
        return rc;
    }
    if (run_cases(o, &v->targets, v->specs, v->n_specs, &v->run) != 0) {
        rc_cli_error("verify", "out of memory");
        return RC_EXIT_USAGE;
    }
    print_footer(&v->run);
    int explicit_selection = o->n_impl_names > 0 || o->n_plugins > 0;
    /* A shard may hold only skips: "nothing judged" is a whole run's
     * verdict, which `ropecheck merge` gives. */
    int nothing = o->shard_n ? 0
                             : report_nothing_judged(&v->run, &v->targets, explicit_selection,
                                                     o->require);
    rc = write_results(v, exit_code_of(&v->run, nothing));
    v->run.model_replay = NULL; /* model_replay dies with this frame */
    return rc;
}

static int verify_or_sweep(int argc, char **argv, int sweep)
{
    verify_run *v = calloc(1, sizeof *v);
    if (!v) {
        rc_cli_error("verify", "out of memory");
        return RC_EXIT_USAGE;
    }
    v->o.sweep = sweep;
    int rc = verify_main(v, argc, argv);
    verify_run_free(v);
    free(v);
    return rc;
}

int rc_cmd_verify(int argc, char **argv)
{
    return verify_or_sweep(argc, argv, 0);
}

int rc_cmd_sweep(int argc, char **argv)
{
    return verify_or_sweep(argc, argv, 1);
}
