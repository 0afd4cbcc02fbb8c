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

#include "cli/commands.h"
#include "cli/impl_select.h"
#include "cli/model_opts.h"
#include "core/spec_check.h"
#include "harness/runner_client.h"
#include "proofs/proofs.h"

#define MAX_LIST 16
#define FIG2_DISTANCES 257 /* relative distance 0..256 */

static const char usage_text[] =
    "usage: ropecheck prove [options]\n"
    "\n"
    "Checks implementations against the theory of the RoFormer paper, treating each\n"
    "as a black box called through the plug-in ABI (in a guarded child process):\n"
    "  rotation    unit-vector probes recover every pair's 2x2 block: orthogonal,\n"
    "              det +1, phi(0) = 0, constant angle steps (Eq. 30); theta_i, the\n"
    "              base, the pairing (layout, rotary_dim) and the direction are\n"
    "              recovered from outputs alone and mismatches are named\n"
    "  relative    <f(q,m), f(k,n)> = <f(q,m+t), f(k,n+t)> (Eq. 16) within a bound\n"
    "              derived from the pair-ULP gate\n"
    "  abel        the summation-by-parts identity and the decay bound of Sec. 3.4.3\n"
    "              (certified with directed rounding); Figure 2's curve in the JSON\n"
    "  linear      linear attention (Eq. 19): O(N) prefix sums = O(N^2) form\n"
    "\n"
    "options:\n"
    "  --impl NAME[,NAME]    built-in implementation(s) or 'all' (default: all)\n"
    "  --plugin PATH         a port built against include/ropecheck/plugin.h\n"
    "  --runner COMMAND      the implementations of a ropecheck-runner (see verify --help)\n"
    "  --dtype T             probe in this dtype (default: f64 if offered, else f32,\n"
    "                        f16, bf16)\n"
    "  --layout LIST         interleaved,half (default: both)\n"
    "  --head-dim N, --rotary-dim N, --base X   the spec (default 128, 128, 10000)\n"
    "  --hf-config FILE, --model NAME, --scaling SPEC, --context L\n"
    "                        a model's RoPE, as for verify (see verify --help); the\n"
    "                        oracles then expect the scaled frequencies and the\n"
    "                        attention factor, and name the table a port matches\n"
    "                        instead (e.g. plain frequencies: scaling missing)\n"
    "  --seed N              random trials (default: $ROPECHECK_SEED or 1)\n"
    "  --timeout S           seconds per implementation call (default 60)\n"
    "  --json FILE           write results (schema ropecheck.results 1.0, kind prove)\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 every check passed, 1 a check failed, 2 bad usage, 3 an\n"
    "implementation crashed, hung or wrote out of bounds.\n"
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
} prove_opts;

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "ropecheck prove: %s '%s' (see ropecheck prove --help)\n", what, arg);
    return RC_EXIT_USAGE;
}

static int parse_layouts(const char *arg, prove_opts *o)
{
    o->n_layouts = 0;
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
        {"runner", required_argument, NULL, 'x'},
        {"hf-config", required_argument, NULL, 'H'}, {"model", required_argument, NULL, 'M'},
        {"scaling", required_argument, NULL, 'S'},  {"context", required_argument, NULL, 'C'},
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
    const char *env = getenv("ROPECHECK_SEED");
    if (env && *env)
        o->seed = strtoull(env, NULL, 0);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
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
            long long v = strtoll(optarg, &end, 10);
            if (end == optarg || *end || errno || v < 1)
                return usage_error("--context must be a positive integer, not", optarg);
            o->model.context = v;
            break;
        }
        case 'D':
        case 'R': {
            long long v = strtoll(optarg, &end, 10);
            if (end == optarg || *end || errno)
                return usage_error("not an integer", optarg);
            *(c == 'D' ? &o->head_dim : &o->rotary_dim) = v;
            *(c == 'D' ? &o->head_dim_set : &o->rotary_dim_set) = 1;
            break;
        }
        case 'b':
        case 't': {
            double v = strtod(optarg, &end);
            if (end == optarg || *end)
                return usage_error("not a number", optarg);
            *(c == 'b' ? &o->base : &o->timeout_s) = v;
            o->base_set |= c == 'b';
            break;
        }
        case 's': {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-')
                return usage_error("--seed must be a non-negative integer, not", optarg);
            o->seed = v;
            break;
        }
        case 'j': o->json_path = optarg; break;
        case 'x': o->runner = optarg; break;
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
        fprintf(stderr, "ropecheck prove: %s\n", err);
        return RC_EXIT_USAGE;
    }
    o->head_dim = sa.head_dim;
    o->rotary_dim = sa.rotary_dim;
    o->base = sa.base;
    if (sa.layout >= 0) {
        o->layouts[0] = sa.layout;
        o->n_layouts = 1;
    }
    if (rc_spec_check(o->head_dim, o->rotary_dim, o->base, err, sizeof err) != 0) {
        fprintf(stderr, "ropecheck prove: %s\n", err);
        return RC_EXIT_USAGE;
    }
    if (!(o->timeout_s > 0 && o->timeout_s <= 86400))
        return usage_error("--timeout must be in (0, 86400] seconds, not", "");
    return -1;
}

/* One check's outcome as a table row plus its findings, and as JSON. */
static void report_check(const char *impl, int width, rc_layout layout, const char *check,
                         const rc_proof_result *r, cJSON *checks, int *worst)
{
    /* The same words as `verify`: failures shout, passes and skips do not. */
    static const char *const words[] = {"pass", "FAIL", "skip", "ERROR"};
    const char *verdict = r->broken ? "BROKEN"
                          : (unsigned)r->verdict < 4 ? words[r->verdict]
                                                     : rc_proof_verdict_name(r->verdict);
    printf("%-*s %-11s %-10s %-5s %-7s", width, impl, rc_layout_name(layout), check,
           r->verdict == RC_PROOF_SKIPPED ? "-" : rc_dtype_name(r->dtype), verdict);
    if (r->verdict == RC_PROOF_PASS || r->verdict == RC_PROOF_FAIL)
        printf(" %10.4g  %s\n", r->figure, r->figure_name);
    else
        printf(" %s\n", r->error);
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
    cJSON_AddStringToObject(o, "layout", rc_layout_name(layout));
    cJSON_AddStringToObject(o, "check", check);
    cJSON_AddStringToObject(o, "dtype", rc_dtype_name(r->dtype));
    cJSON_AddStringToObject(o, "verdict", verdict);
    cJSON_AddStringToObject(o, "figure_name", r->figure_name);
    if (isfinite(r->figure))
        cJSON_AddNumberToObject(o, "figure", r->figure);
    else
        cJSON_AddStringToObject(o, "figure", isnan(r->figure) ? "nan" : "inf");
    cJSON_AddStringToObject(o, "error", r->error);
    cJSON *f = cJSON_AddArrayToObject(o, "findings");
    for (int i = 0; i < r->n_findings; i++)
        cJSON_AddItemToArray(f, cJSON_CreateString(r->findings[i].text));
    cJSON_AddItemToArray(checks, o);
}

static void prove_one(const rc_target *t, const prove_opts *o, rc_layout layout, cJSON *checks,
                      int *worst)
{
    const char *name = t->impl->name;
    rc_proof_spec spec = {.head_dim = (int32_t)o->head_dim, .rotary_dim = (int32_t)o->rotary_dim,
                          .base = o->base, .layout = layout, .dtype = o->dtype,
                          .scaling = rc_model_opts_scaling(&o->model),
                          .timeout_s = o->timeout_s};
    if (!t->available) {
        rc_proof_result r = {.verdict = RC_PROOF_SKIPPED};
        snprintf(r.error, sizeof r.error, "unavailable: %.200s", t->why);
        report_check(name, o->name_width, layout, "all", &r, checks, worst);
        return;
    }
    const int64_t max_pos = 2147483647; /* the gate's range */
    rc_rotation_id *rot = calloc(1, sizeof *rot);
    rc_abel_result *abel = calloc(1, sizeof *abel);
    rc_linattn_result *lin = calloc(1, sizeof *lin);
    rc_proof_result rel;
    if (!rot || !abel || !lin) {
        fprintf(stderr, "ropecheck prove: out of memory\n");
        *worst = RC_EXIT_USAGE;
    } else {
        rc_prove_rotation(t->impl, &spec, rot);
        report_check(name, o->name_width, layout, "rotation", &rot->res, checks, worst);
        rc_prove_relative(t->impl, &spec, o->seed, 200, max_pos, &rel);
        report_check(name, o->name_width, layout, "relative", &rel, checks, worst);
        rc_prove_abel(t->impl, &spec, o->seed, 64, max_pos, 0, abel); /* curve: add_figure2 */
        report_check(name, o->name_width, layout, "abel", &abel->res, checks, worst);
        rc_prove_linear_attention(t->impl, &spec, o->seed, 256, 8, max_pos, lin);
        report_check(name, o->name_width, layout, "linear", &lin->res, checks, worst);
    }
    free(rot);
    free(abel);
    free(lin);
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

static int write_json(const char *path, cJSON *root)
{
    char *text = cJSON_Print(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    cJSON_free(text);
    return ok ? 0 : -1;
}

int rc_cmd_prove(int argc, char **argv)
{
    prove_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char err[512];
    rc_target_list targets;
    if (o.runner) {
        int sel = rc_targets_select_runner(o.runner, o.impl_names, o.n_impl_names, o.timeout_s,
                                           &targets, err, sizeof err);
        if (sel != 0) {
            fprintf(stderr, "ropecheck prove: %s%s\n", sel == -2 ? "BROKEN: " : "", err);
            return sel == -2 ? RC_EXIT_BROKEN : RC_EXIT_USAGE;
        }
    } else if (rc_targets_select(o.impl_names, o.n_impl_names, o.plugins, o.n_plugins,
                                 o.timeout_s, &targets, err, sizeof err) != 0) {
        fprintf(stderr, "ropecheck prove: %s\n", err);
        return RC_EXIT_USAGE;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "ropecheck.results");
    cJSON_AddStringToObject(root, "schema_version", "1.0");
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
    printf("%-*s %-11s %-10s %-5s %-7s %10s  %s\n", o.name_width, "impl", "layout", "check", "dtype",
           "verdict", "figure", "(what it measures)");
    int worst = RC_EXIT_PASS;
    for (size_t i = 0; i < targets.n; i++)
        for (int l = 0; l < o.n_layouts; l++) {
            prove_one(&targets.items[i], &o, (rc_layout)o.layouts[l], checks, &worst);
            char note[600]; /* why a remote call failed (harness/runner_client.h) */
            if (rc_runner_take_note(note, sizeof note)) { /* as verify: BROKEN, exit 3 */
                printf("    BROKEN, runner: %s\n", note);
                worst = RC_EXIT_BROKEN;
            }
            fflush(stdout);
        }
    add_figure2(root, &o);
    if (o.json_path) {
        if (write_json(o.json_path, root) != 0) {
            fprintf(stderr, "ropecheck prove: cannot write '%s'\n", o.json_path);
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
