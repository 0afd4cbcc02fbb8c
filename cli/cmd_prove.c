/*
 * cli/cmd_prove.c - `ropecheck prove`: the RoFormer paper's theory as
 * oracles (proofs/) over implementations, with a table of check, verdict,
 * figure and named findings, and the paper's Figure 2 curve in the JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/axes_opt.h"
#include "cli/json_num.h"
#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/safe_file.h"
#include "cli/impl_select.h"
#include "cli/model_opts.h"
#include "cli/seed_env.h"
#include "cli/strict_num.h"
#include "core/spec_check.h"
#include "cli/python_runner.h"
#include "harness/runner_client.h"
#include "proofs/proofs.h"
#include "reference/scaling.h"

#define MAX_LIST 16
#define FIG2_DISTANCES 257 /* relative distance 0..256 */

static const char usage_text[] =
    "usage: ropecheck prove [options]\n"
    "\n"
    "Checks implementations against the theory of the RoFormer paper, treating each\n"
    "as a black box called through the plug-in ABI (in a guarded child process):\n"
    "  rotation    the call first (token t rotated by positions[t], whatever its\n"
    "              place; every output written; NaN/Inf propagated; head_stride\n"
    "              honoured), then unit-vector probes recover every pair's 2x2\n"
    "              block: orthogonal, det +1, phi(0) = 0, constant angle steps (Eq.\n"
    "              30, at every position 0..1030 and near 2^24 and 2^31, both\n"
    "              directions); theta_i, the base, the pairing (layout, rotary_dim)\n"
    "              and the direction are recovered from outputs alone, and the\n"
    "              cause of a mismatch is named\n"
    "  relative    <f(q,m), f(k,n)> = <f(q,m+t), f(k,n+t)> (Eq. 16) within a bound\n"
    "              derived from the pair-ULP gate\n"
    "  abel        the summation-by-parts identity and the decay bound of Sec. 3.4.3\n"
    "              (certified with directed rounding); Figure 2's curve in the JSON\n"
    "  linear      linear attention (Eq. 19): O(N) prefix sums = O(N^2) form\n"
    "  axes        multi-axis RoPE only (--axes, an M-RoPE --hf-config): several\n"
    "              tokens of a call each rotated by its own tuple; the axis every\n"
    "              channel follows, both directions, named against the spec's map\n"
    "              (axes ignored or exchanged, sections misassigned, a pair's\n"
    "              channels on two axes); text tokens rotated by their position on\n"
    "              every axis; Eq. 16 for shifts along one axis. The four checks\n"
    "              above then probe text tokens (every axis at one position), where\n"
    "              M-RoPE is the one-axis RoPE\n"
    "\n"
    "With no spec option, prove runs the coverage matrix: head_dim/rotary_dim/base\n"
    "128/128/10000, 96/24/500000 and 80/32/31415.9265 (partial rotary, a large and\n"
    "a non-integer base: a port that ignores the base, divides the exponent by\n"
    "head_dim or touches passthrough channels passes the first alone), each in both\n"
    "layouts, both directions, every position 0..1030 and up to 2^31 - 1, strided\n"
    "heads. --quick, or any of --head-dim, --rotary-dim, --base, --hf-config,\n"
    "--model, --scaling, --context, runs one spec.\n"
    "\n"
    "options:\n"
    "  --impl NAME[,NAME]    built-in implementation(s) or 'all' (default: all)\n"
    "  --plugin PATH         a port built against include/ropecheck/plugin.h\n"
    "  --runner COMMAND      the implementations of a ropecheck-runner (see verify --help)\n"
    RC_PYTHON_OPTION_HELP
    "  --dtype T             probe in this dtype (default: f64 if offered, else f32,\n"
    "                        f16, bf16)\n"
    "  --layout LIST         interleaved,half (default: both)\n"
    "  --head-dim N, --rotary-dim N, --base X   one spec (default 128, 128, 10000)\n"
    "  --quick               one spec, 128/128/10000: for local iteration, not for CI\n"
    "  --hf-config FILE, --model NAME, --scaling SPEC, --context L\n"
    "                        a model's RoPE, as for verify (see verify --help); the\n"
    "                        oracles then expect the scaled frequencies and the\n"
    "                        attention factor, and name the table a port matches\n"
    "                        instead (e.g. plain frequencies: scaling missing)\n"
    "  --axes SPEC           multi-axis RoPE, as for verify: mrope:S0,S1,S2,\n"
    "                        mrope-interleaved:S0,S1,S2, vision2d\n"
    "  --seed N              random trials (default: $ROPECHECK_SEED or 1)\n"
    "  --timeout S           seconds per implementation call (default 60); its CPU\n"
    "                        time is capped at S + 2\n"
    "  --memory-limit MIB    address space an implementation call may add (default\n"
    "                        8192; 0: no limit)\n"
    "  --json FILE           write results (schema ropecheck.results 1.1, kind prove)\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 every check passed, 1 a check failed (apply() refusing a case\n"
    "prepare() accepted, or leaving an output unwritten, fails), 2 bad usage, 3 an\n"
    "implementation crashed, hung or wrote out of bounds, 4 nothing judged: an\n"
    "implementation had every check skipped (prepare() declined everything; an\n"
    "unavailable built-in counts only when named). Severity when several apply:\n"
    "3, 1, 4, 2.\n"
    "\n"
    "Examples:\n"
    "  ropecheck prove --impl scalar\n"
    "  ropecheck prove --plugin ./libport.so --layout half --json prove.json\n"
    "  ropecheck prove --impl scalar --model llama-3.1-8b\n";

typedef struct prove_opts {
    const char *impl_names[MAX_LIST];
    size_t n_impl_names;
    const char *plugins[MAX_LIST];
    size_t n_plugins;
    int dtype;
    int layouts[RC_LAYOUT_COUNT], n_layouts;
    int64_t head_dim, rotary_dim;
    double base, timeout_s;
    uint64_t seed;
    const char *json_path;
    const char *runner;
    int name_width; /* the table's impl column: the longest name */
    rc_model_opts model;
    int head_dim_set, rotary_dim_set, base_set, layout_set;
    int quick;      /* --quick */
    int matrix;     /* no spec option: run the coverage matrix */
    int spec_width; /* the table's spec column */
    const char *axes_spec; /* --axes */
    int has_axes;          /* a multi-axis run: axes below */
    rc_axes axes;
    char axes_label[64];
} prove_opts;

/* One spec of a run: the matrix's, or the one the options give. */
typedef struct prove_spec {
    int64_t head_dim, rotary_dim;
    double base;
} prove_spec;

/* The coverage matrix (no spec option). Each spec exists to move a field
 * away from the common value so that a port that ignores it fails:
 *   128/128/10000       the common spec (full rotary);
 *   96/24/500000        partial rotary, r/d = 1/4 (GPT-NeoX's fraction), a
 *                       large base (Llama 3's): the base, an exponent over
 *                       head_dim (apparent base 26.6) and passthrough
 *                       channels all show;
 *   80/32/31415.9265    head_dim not a power of two, r/d = 2/5, a base
 *                       that is not an integer (one parsed or stored as an
 *                       integer is wrong). */
static const prove_spec coverage_matrix[] = {
    {128, 128, 10000.0}, {96, 24, 500000.0}, {80, 32, 31415.9265}};
#define N_MATRIX ((int)(sizeof coverage_matrix / sizeof coverage_matrix[0]))

static int usage_error(const char *what, const char *arg)
{
    rc_cli_error("prove", "%s '%s' (see ropecheck prove --help)", what, arg);
    return RC_EXIT_USAGE;
}

static int parse_layouts(const char *arg, prove_opts *o)
{
    o->n_layouts = 0;
    if (rc_list_has_empty_item(arg))
        return -1;
    char *copy = strdup(arg);
    int rc = copy ? 0 : -1;
    char *save = NULL;
    for (char *it = copy ? strtok_r(copy, ",", &save) : NULL; it && !rc;
         it = strtok_r(NULL, ",", &save)) {
        rc_layout l;
        if (rc_layout_parse(it, &l) != 0)
            rc = -1;
        else if (o->n_layouts < RC_LAYOUT_COUNT)
            o->layouts[o->n_layouts++] = l;
    }
    free(copy);
    return rc || o->n_layouts == 0 ? -1 : 0;
}

static int parse_args(int argc, char **argv, prove_opts *o)
{
    static const struct option opts[] = {
        {"impl", required_argument, NULL, 'i'},     {"plugin", required_argument, NULL, 'p'},
        {"dtype", required_argument, NULL, 'd'},    {"layout", required_argument, NULL, 'l'},
        {"head-dim", required_argument, NULL, 'D'}, {"rotary-dim", required_argument, NULL, 'R'},
        {"base", required_argument, NULL, 'b'},     {"seed", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},  {"json", required_argument, NULL, 'j'},
        {"memory-limit", required_argument, NULL, 'L'},
        {"runner", required_argument, NULL, 'x'},
        {"python", required_argument, NULL, 'P'},
        {"hf-config", required_argument, NULL, 'H'}, {"model", required_argument, NULL, 'M'},
        {"scaling", required_argument, NULL, 'S'},  {"context", required_argument, NULL, 'C'},
        {"quick", no_argument, NULL, 'Q'},         {"axes", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->dtype = -1;
    o->layouts[0] = RC_LAYOUT_INTERLEAVED;
    o->layouts[1] = RC_LAYOUT_HALF;
    o->n_layouts = 2;
    o->head_dim = 128;
    o->rotary_dim = -1;
    o->base = 10000.0;
    o->timeout_s = 60.0;
    o->seed = 1;
    char seed_err[256]; /* strictly, as verify and bench: "" is not seed 0 */
    if (rc_seed_from_env(&o->seed, seed_err, sizeof seed_err) != 0) {
        rc_cli_error("prove", "%s", seed_err);
        return RC_EXIT_USAGE;
    }
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (o->n_impl_names == MAX_LIST)
                return usage_error("too many --impl options", optarg);
            o->impl_names[o->n_impl_names++] = optarg;
            break;
        case 'p':
            if (o->n_plugins == MAX_LIST)
                return usage_error("too many --plugin options", optarg);
            o->plugins[o->n_plugins++] = optarg;
            break;
        case 'd': {
            rc_dtype t;
            if (rc_dtype_parse(optarg, &t) != 0)
                return usage_error("unknown dtype", optarg);
            o->dtype = (int)t;
            break;
        }
        case 'l':
            if (parse_layouts(optarg, o) != 0)
                return usage_error("bad --layout list", optarg);
            o->layout_set = 1;
            break;
        case 'H': o->model.hf_config = optarg; break;
        case 'M': o->model.model = optarg; break;
        case 'S': o->model.scaling_text = optarg; break;
        case 'C': {
            int64_t v;
            if (rc_parse_int64(optarg, &v) != 0 || v < 1)
                return usage_error("--context must be a positive decimal integer, not", optarg);
            o->model.context = v;
            break;
        }
        case 'D':
        case 'R': {
            int64_t v;
            if (rc_parse_int64(optarg, &v) != 0)
                return usage_error("not a decimal integer", optarg);
            *(c == 'D' ? &o->head_dim : &o->rotary_dim) = v;
            *(c == 'D' ? &o->head_dim_set : &o->rotary_dim_set) = 1;
            break;
        }
        case 'b':
        case 't': {
            double v;
            if (rc_parse_finite(optarg, &v) != 0)
                return usage_error("not a finite decimal number", optarg);
            /* Below 0.1 s a fork and a page-fault storm alone can time
             * out: verdicts would be random, not the port's. */
            if (c == 't' && !(v >= RC_TIMEOUT_MIN_S && v <= RC_TIMEOUT_MAX_S))
                return usage_error("--timeout must be in [0.1, 86400] seconds, not", optarg);
            *(c == 'b' ? &o->base : &o->timeout_s) = v;
            o->base_set |= c == 'b';
            break;
        }
        case 's': {
            int64_t v;
            if (rc_parse_int64(optarg, &v) != 0 || v < 0)
                return usage_error("--seed must be a non-negative decimal integer, not", optarg);
            o->seed = (uint64_t)v;
            break;
        }
        case 'L': {
            char err[256];
            if (rc_memory_limit_option(optarg, err, sizeof err) != 0) {
                rc_cli_error("prove", "%s (see ropecheck prove --help)", err);
                return RC_EXIT_USAGE;
            }
            break;
        }
        case 'j': o->json_path = optarg; break;
        case 'x':
        case 'P': {
            char err[512];
            if (rc_runner_option(c == 'P' ? "python" : "runner", optarg, &o->runner, err,
                                 sizeof err) != 0) {
                rc_cli_error("prove", "%s (see ropecheck prove --help)", err);
                return RC_EXIT_USAGE;
            }
            break;
        }
        case 'Q': o->quick = 1; break;
        case 'A': o->axes_spec = optarg; break;
        case 'h': fputs(usage_text, stdout); return RC_EXIT_PASS;
        case ':': return usage_error("option needs a value:", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    char err[512];
    rc_spec_args sa = {.head_dim = o->head_dim, .rotary_dim = o->rotary_dim, .base = o->base,
                       .layout = o->layout_set && o->n_layouts == 1 ? o->layouts[0] : -1,
                       .head_dim_set = o->head_dim_set, .rotary_dim_set = o->rotary_dim_set,
                       .base_set = o->base_set};
    if (rc_model_opts_resolve(&o->model, &sa, -1, err, sizeof err) != 0) {
        rc_cli_error("prove", "%s", err);
        return RC_EXIT_USAGE;
    }
    o->head_dim = sa.head_dim;
    o->rotary_dim = sa.rotary_dim;
    o->base = sa.base;
    if (sa.layout >= 0) {
        o->layouts[0] = sa.layout;
        o->n_layouts = 1;
    }
    /* A base whose frequencies underflow or exceed 1 would make the
     * oracles blame a correct port (issue 14: --base 1e300 was reported
     * as a layout defect). */
    if (rc_spec_check(o->head_dim, o->rotary_dim, o->base, err, sizeof err) != 0 ||
        rc_ref_freq_check(o->base, (int)o->rotary_dim, rc_model_opts_scaling(&o->model), err,
                          sizeof err) != 0) {
        rc_cli_error("prove", "%s", err);
        return RC_EXIT_USAGE;
    }
    const int got = rc_axes_opt_settle(o->axes_spec,
                                       o->model.have_config ? &o->model.config : NULL,
                                       (int32_t)o->rotary_dim, &o->axes, o->axes_label,
                                       sizeof o->axes_label, err, sizeof err);
    if (got < 0) {
        rc_cli_error("prove", "%s (see ropecheck prove --help)", err);
        return RC_EXIT_USAGE;
    }
    o->has_axes = got == 1 && o->axes.n_axes >= 2;
    /* A spec option says which RoPE to judge: then exactly that one. */
    o->matrix = !(o->quick || o->head_dim_set || o->rotary_dim_set || o->base_set ||
                  o->model.hf_config || o->model.model || o->model.scaling_text ||
                  o->model.context || o->axes_spec);
    return -1;
}

/* The specs of the run. */
static int run_specs(const prove_opts *o, prove_spec *out)
{
    if (o->matrix) {
        memcpy(out, coverage_matrix, sizeof coverage_matrix);
        return N_MATRIX;
    }
    out[0] = (prove_spec){o->head_dim, o->rotary_dim, o->base};
    return 1;
}

/* "d128/r128/b10000", and the scaling family when there is one. */
static void spec_label(const prove_spec *ps, const prove_opts *o, char *buf, size_t len)
{
    const rc_scaling *sc = rc_model_opts_scaling(&o->model);
    snprintf(buf, len, "d%lld/r%lld/b%.10g%s%s%s%s", (long long)ps->head_dim,
             (long long)ps->rotary_dim, ps->base, sc ? "+" : "",
             sc ? rc_scaling_type_name(sc->type) : "", o->has_axes ? "+" : "",
             o->has_axes ? o->axes_label : "");
}

/* Where one check's row goes: the implementation, the spec, the layout,
 * and what the run keeps (the worst exit, whether anything was judged). */
typedef struct row_ctx {
    const char *impl;
    int width, spec_width;
    const prove_spec *spec;
    const char *spec_label;
    rc_layout layout;
    cJSON *checks;
    int *worst;
    int *judged; /* set when a check got a verdict other than skipped */
    char *skip_why; /* the first skip's reason, for "nothing judged" */
    size_t skip_why_len;
} row_ctx;

/* An implementation counts as judged once one check of it got a verdict
 * other than skipped; the first skip's reason explains "nothing judged". */
static void note_judged(const row_ctx *x, const rc_proof_result *r)
{
    if (r->verdict != RC_PROOF_SKIPPED || r->broken)
        *x->judged = 1;
    else if (!x->skip_why[0])
        snprintf(x->skip_why, x->skip_why_len, "%s", r->error);
}

/* One check's outcome as a table row plus its findings, and as JSON. */
static void report_check(const row_ctx *x, const char *check, const rc_proof_result *r)
{
    const char *impl = x->impl;
    const rc_layout layout = x->layout;
    cJSON *checks = x->checks;
    int *worst = x->worst;
    /* The same words as `verify`: failures shout, passes and skips do not. */
    static const char *const words[] = {"pass", "FAIL", "skip", "ERROR"};
    const char *verdict = r->broken ? "BROKEN"
                          : (unsigned)r->verdict < 4 ? words[r->verdict]
                                                     : rc_proof_verdict_name(r->verdict);
    printf("%-*s %-*s %-11s %-10s %-5s %-7s", x->width, impl, x->spec_width, x->spec_label,
           rc_layout_name(layout), check,
           r->verdict == RC_PROOF_SKIPPED ? "-" : rc_dtype_name(r->dtype), verdict);
    note_judged(x, r);
    if (r->verdict == RC_PROOF_PASS || r->verdict == RC_PROOF_FAIL)
        printf(" %10.4g  %s\n", r->figure, r->figure_name);
    else
        printf(" %s\n", r->error);
    for (int i = 0; i < r->n_also; i++) /* the secondary figures, on one line */
        printf("%s%s %.4g%s", i ? "" : "    also: ", r->also[i].name, r->also[i].value,
               i + 1 < r->n_also ? "; " : "\n");
    for (int i = 0; i < r->n_findings; i++)
        printf("    - %s\n", r->findings[i].text);
    if (r->findings_dropped)
        printf("    (%d more findings not shown)\n", r->findings_dropped);

    int code = r->broken                           ? RC_EXIT_BROKEN
               : r->verdict == RC_PROOF_FAIL       ? RC_EXIT_FAIL
               : r->verdict == RC_PROOF_ERROR      ? RC_EXIT_FAIL
                                                   : RC_EXIT_PASS;
    /* Severity order: broken (3) > failed (1) > pass (0). */
    if (code == RC_EXIT_BROKEN || (code == RC_EXIT_FAIL && *worst != RC_EXIT_BROKEN))
        *worst = code;

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "impl", impl);
    cJSON_AddStringToObject(o, "spec", x->spec_label);
    cJSON_AddNumberToObject(o, "head_dim", (double)x->spec->head_dim);
    cJSON_AddNumberToObject(o, "rotary_dim", (double)x->spec->rotary_dim);
    cJSON_AddNumberToObject(o, "base", x->spec->base);
    cJSON_AddStringToObject(o, "layout", rc_layout_name(layout));
    cJSON_AddStringToObject(o, "check", check);
    cJSON_AddStringToObject(o, "dtype", rc_dtype_name(r->dtype));
    cJSON_AddStringToObject(o, "verdict", verdict);
    cJSON_AddStringToObject(o, "figure_name", r->figure_name);
    rc_json_add_num(o, "figure", r->figure);
    cJSON *also = cJSON_AddObjectToObject(o, "also");
    for (int i = 0; i < r->n_also; i++)
        rc_json_add_num(also, r->also[i].name, r->also[i].value);
    cJSON_AddStringToObject(o, "error", r->error);
    cJSON *f = cJSON_AddArrayToObject(o, "findings");
    for (int i = 0; i < r->n_findings; i++)
        cJSON_AddItemToArray(f, cJSON_CreateString(r->findings[i].text));
    cJSON_AddItemToArray(checks, o);
}

static void prove_one(const rc_target *t, const prove_opts *o, const row_ctx *x)
{
    rc_proof_spec spec = {.head_dim = (int32_t)x->spec->head_dim,
                          .rotary_dim = (int32_t)x->spec->rotary_dim,
                          .base = x->spec->base, .layout = x->layout, .dtype = o->dtype,
                          .scaling = rc_model_opts_scaling(&o->model),
                          .timeout_s = o->timeout_s, .axes = o->has_axes ? &o->axes : NULL,
                          .fresh_state_per_call = o->runner != NULL};
    if (t->broken) { /* failed its guarded load (cli/impl_select.h): never called */
        rc_proof_result r = {.verdict = RC_PROOF_ERROR, .broken = 1};
        snprintf(r.error, sizeof r.error, "%.250s", t->why);
        report_check(x, "all", &r);
        return;
    }
    if (!t->available) {
        rc_proof_result r = {.verdict = RC_PROOF_SKIPPED};
        snprintf(r.error, sizeof r.error, "unavailable: %.200s", t->why);
        report_check(x, "all", &r);
        return;
    }
    const int64_t max_pos = 2147483647; /* the gate's range */
    rc_rotation_id *rot = calloc(1, sizeof *rot);
    rc_abel_result *abel = calloc(1, sizeof *abel);
    rc_linattn_result *lin = calloc(1, sizeof *lin);
    rc_proof_result rel;
    if (!rot || !abel || !lin) {
        rc_cli_error("prove", "out of memory");
        *x->worst = RC_EXIT_USAGE;
    } else if (o->has_axes && o->axes.freq_period > 0) {
        /* Frequencies that restart per axis (2-D vision RoPE): no position
         * makes the port a one-axis RoPE, so only the axes check applies. */
        static const char *const one_axis[] = {"rotation", "relative", "abel", "linear"};
        for (size_t i = 0; i < sizeof one_axis / sizeof one_axis[0]; i++) {
            rc_proof_result r = {.verdict = RC_PROOF_SKIPPED};
            snprintf(r.error, sizeof r.error, "frequencies restart per axis (%s): a one-axis "
                     "oracle; the axes check covers this spec", o->axes_label);
            report_check(x, one_axis[i], &r);
        }
    } else {
        rc_prove_rotation(t->impl, &spec, rot);
        report_check(x, "rotation", &rot->res);
        rc_prove_relative(t->impl, &spec, o->seed, 200, max_pos, &rel);
        report_check(x, "relative", &rel);
        rc_prove_abel(t->impl, &spec, o->seed, 64, max_pos, 0, abel); /* curve: add_figure2 */
        report_check(x, "abel", &abel->res);
        rc_prove_linear_attention(t->impl, &spec, o->seed, 256, 8, max_pos, lin);
        report_check(x, "linear", &lin->res);
    }
    if (rot && abel && lin && o->has_axes) {
        rc_prove_axes(t->impl, &spec, o->seed, 64, &rel);
        report_check(x, "axes", &rel);
    }
    free(rot);
    free(abel);
    free(lin);
}

/* Whether NAME was asked for by name (--impl NAME, not 'all'), or is a
 * plug-in: then it counts for "nothing judged" even when unavailable. */
static int named_explicitly(const prove_opts *o, const rc_target *t)
{
    if (t->plugin_path)
        return 1;
    const size_t n = strlen(t->impl->name);
    for (size_t i = 0; i < o->n_impl_names; i++)
        for (const char *p = o->impl_names[i]; p && *p;) {
            const char *e = strchr(p, ',');
            const size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len == n && strncmp(p, t->impl->name, n) == 0)
                return 1;
            p = e ? e + 1 : NULL;
        }
    return 0;
}

/* Every spec and layout of one implementation. Returns 1 when nothing was
 * judged and that counts (named_explicitly, or available). */
static int prove_target(const rc_target *t, const prove_opts *o, cJSON *checks, int *worst)
{
    prove_spec specs[N_MATRIX];
    const int n_specs = run_specs(o, specs);
    int judged = 0;
    char why[256] = "";
    for (int s = 0; s < n_specs; s++) {
        char label[160];
        spec_label(&specs[s], o, label, sizeof label);
        for (int l = 0; l < o->n_layouts; l++) {
            const row_ctx x = {t->impl->name, o->name_width, o->spec_width, &specs[s], label,
                               (rc_layout)o->layouts[l], checks, worst, &judged, why,
                               sizeof why};
            prove_one(t, o, &x);
            char note[600]; /* why a remote call failed (harness/runner_client.h) */
            if (rc_runner_take_note(note, sizeof note)) { /* as verify: BROKEN, exit 3 */
                printf("    BROKEN, runner: %s\n", note);
                *worst = RC_EXIT_BROKEN;
            }
            fflush(stdout);
            if (!t->available)
                break; /* one "unavailable" row says it all */
        }
        if (!t->available)
            break;
    }
    if (judged || !(t->available || named_explicitly(o, t)))
        return 0;
    fflush(stdout);
    rc_cli_error("prove", "nothing judged for %s: every check was skipped (%s)",
            t->impl->name, why);
    return 1;
}

/* The paper's Figure 2 for the run's spec: certified upper bounds of
 * (2/r) sum_j |S_j| at relative distance 0..256. */
static void add_figure2(cJSON *root, const prove_opts *o)
{
    double curve[FIG2_DISTANCES];
    if (rc_abel_curve_scaled(o->base, (int)o->rotary_dim, rc_model_opts_scaling(&o->model),
                             FIG2_DISTANCES, curve, NULL) != 0)
        return;
    cJSON *fig = cJSON_AddObjectToObject(root, "figure2");
    cJSON_AddStringToObject(fig, "description",
                            "relative upper bound (2/r) sum_{j=1}^{r/2} |S_j| against relative "
                            "distance (RoFormer Sec. 3.4.3, Figure 2); certified upper bounds");
    cJSON_AddNumberToObject(fig, "base", o->base);
    cJSON_AddNumberToObject(fig, "rotary_dim", (double)o->rotary_dim);
    cJSON *d = cJSON_AddArrayToObject(fig, "distance");
    cJSON *v = cJSON_AddArrayToObject(fig, "relative_upper_bound");
    for (int i = 0; i < FIG2_DISTANCES; i++) {
        cJSON_AddItemToArray(d, cJSON_CreateNumber(i));
        cJSON_AddItemToArray(v, cJSON_CreateNumber(curve[i]));
    }
    printf("\nFigure 2 (d=%lld, base %g): relative upper bound at distance 0, 16, 64, 128, 256 ="
           " %.4f, %.4f, %.4f, %.4f, %.4f\n", (long long)o->rotary_dim, o->base, curve[0],
           curve[16], curve[64], curve[128], curve[256]);
}

/* Replaced whole or not at all (cli/safe_file.h). */
static int write_json(const char *path, cJSON *root, char *err, size_t err_len)
{
    char *text = cJSON_Print(root);
    if (!text) {
        snprintf(err, err_len, "out of memory writing '%s'", path);
        return -1;
    }
    int rc = rc_atomic_write(path, text, strlen(text), err, err_len);
    cJSON_free(text);
    return rc;
}

int rc_cmd_prove(int argc, char **argv)
{
    prove_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char err[512];
    /* An unwritable results path fails now, before any work. */
    if (o.json_path && rc_output_check(o.json_path, err, sizeof err) != 0) {
        rc_cli_error("prove", "%s", err);
        return RC_EXIT_USAGE;
    }
    rc_target_list targets;
    if (o.runner) {
        int sel = rc_targets_select_runner(o.runner, o.impl_names, o.n_impl_names, o.timeout_s,
                                           &targets, err, sizeof err);
        if (sel != 0) {
            rc_cli_error("prove", "%s%s", sel == -2 ? "BROKEN: " : "", err);
            return sel == -2 ? RC_EXIT_BROKEN : RC_EXIT_USAGE;
        }
    } else if (rc_targets_select(o.impl_names, o.n_impl_names, o.plugins, o.n_plugins,
                                 o.timeout_s, &targets, err, sizeof err) != 0) {
        rc_cli_error("prove", "%s", err);
        return RC_EXIT_USAGE;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "ropecheck.results");
    cJSON_AddStringToObject(root, "schema_version", "1.1"); /* 1.1: "also" */
    cJSON_AddStringToObject(root, "kind", "prove");
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o.seed);
    cJSON_AddStringToObject(root, "seed", seed);
    cJSON *checks = cJSON_AddArrayToObject(root, "prove");
    o.name_width = 12;
    for (size_t i = 0; i < targets.n; i++) {
        int len = (int)strlen(targets.items[i].impl->name);
        o.name_width = len > o.name_width ? len : o.name_width;
    }
    prove_spec specs[N_MATRIX];
    const int n_specs = run_specs(&o, specs);
    o.spec_width = 4;
    for (int s = 0; s < n_specs; s++) {
        char label[160];
        spec_label(&specs[s], &o, label, sizeof label);
        o.spec_width = (int)strlen(label) > o.spec_width ? (int)strlen(label) : o.spec_width;
    }
    printf("%-*s %-*s %-11s %-10s %-5s %-7s %10s  %s\n", o.name_width, "impl", o.spec_width,
           "spec", "layout", "check", "dtype", "verdict", "figure", "(what it measures)");
    int worst = RC_EXIT_PASS, nothing_judged = 0;
    for (size_t i = 0; i < targets.n; i++)
        nothing_judged |= prove_target(&targets.items[i], &o, checks, &worst);
    /* Severity: broken (3) > failed (1) > nothing judged (4) > pass. */
    if (nothing_judged && worst == RC_EXIT_PASS)
        worst = RC_EXIT_NOTHING_JUDGED;
    add_figure2(root, &o);
    if (o.json_path) {
        if (write_json(o.json_path, root, err, sizeof err) != 0) {
            rc_cli_error("prove", "%s", err);
            worst = worst == RC_EXIT_PASS ? RC_EXIT_USAGE : worst;
        } else {
            printf("results: %s\n", o.json_path);
        }
    }
    cJSON_Delete(root);
    rc_targets_free(&targets);
    rc_model_opts_free(&o.model);
    return worst;
}
