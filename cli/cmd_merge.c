/*
 * cli/cmd_merge.c - `ropecheck merge`: the --json files of the N shards of
 * one `verify` run (verify --shard K/N) joined into the file the unsharded
 * run writes, and optionally its JUnit XML.
 *
 * WHY EXACT. A shard holds whole cases (shard.h), and every figure of a
 * case (verdict, maxima, percentiles, histogram, worst elements) is
 * computed from that case's elements alone: joining is placing the cases
 * in their run order (case_index), copying each unchanged, and recounting
 * the summary. Nothing is re-estimated, so the merged file equals the
 * unsharded one except for timings and the host of each shard.
 *
 * What is refused (exit 2, one line naming the files; nothing written): a
 * file that is not a verify result of schema 1.3 or later with a shard;
 * shards of different runs (run_argv, seed, tool, runner, positions, shard
 * count or case total differ); a shard given twice or missing; files that
 * hold another number of cases than the run (checked before a table of
 * the run's size is made); a case index outside its shard, or repeated.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli_error.h"
#include "cli/commands.h"
#include "cli/json_num.h"
#include "cli/merge_slices.h"
#include "cli/run_record.h"
#include "cli/safe_file.h"
#include "cli/shard.h"

#define MERGE_MAX_FILE (1L << 30) /* a results file larger than 1 GiB is not one */

static const char usage_text[] =
    "usage: ropecheck merge -o OUT.json [--junit OUT.xml] SHARD.json...\n"
    "\n"
    "Joins the --json files of the N shards of one verify run (verify --shard K/N,\n"
    "K = 1..N, run anywhere: GNU parallel, a Slurm job array, a CI matrix) into the\n"
    "file the unsharded run writes: the cases in run order, each unchanged, the\n"
    "summary recounted. Every verdict, maximum, percentile and worst case is the\n"
    "unsharded run's, because a shard holds whole cases.\n"
    "\n"
    "  -o, --output FILE     the merged results (schema ropecheck.results 1.4)\n"
    "  --junit FILE          also the JUnit XML of the merged run\n"
    "  -q, --quiet           no summary line\n"
    "  -h, --help            this text\n"
    "\n"
    "Refused (exit 2): files of different runs (their run_argv, seed, shard count\n"
    "or case total differ), a shard given twice or missing, a case missing or\n"
    "repeated, a file that is not a sharded verify result.\n"
    "\n"
    "Exit status, as verify's for the whole run: 0 pass, 1 a gate failed, 2 bad\n"
    "usage or input, 3 an implementation crashed or hung, 4 nothing judged (an\n"
    "implementation ran no case).\n"
    "\n"
    "Example (4 shards with GNU parallel):\n"
    "  parallel ropecheck verify --plugin ./libport.so --shard {}/4 --json s{}.json \\\n"
    "      ::: 1 2 3 4\n"
    "  ropecheck merge -o verify.json --junit verify.xml s1.json s2.json s3.json s4.json\n";

typedef struct shard_file {
    const char *path;
    cJSON *root;
    int64_t index;
} shard_file;

typedef struct merge_state {
    shard_file *files;
    int n_files;
    int64_t count, total;
    int64_t positions_below; /* the run's gate_positions_below */
    const cJSON **cases;     /* by case_index */
    cJSON **owned;           /* the joined cases (merge_slices.h), freed at the end */
    int64_t n_owned;
} merge_state;

static int merge_error(const char *fmt, const char *a, const char *b)
{
    char what[1024];
    snprintf(what, sizeof what, fmt, a, b);
    rc_cli_error("merge", "%s", what);
    return RC_EXIT_USAGE;
}

static char *read_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MERGE_MAX_FILE) {
        snprintf(err, err_len, "%s: %s", path,
                 !f ? strerror(errno) : "not a regular file of at most 1 GiB");
        if (f)
            fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    const size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        snprintf(err, err_len, "%s: %s", path, buf ? "short read" : "out of memory");
        return NULL;
    }
    buf[got] = '\0';
    return buf;
}

static int int_of(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A verify result of schema 1.3+ with a shard: its index, the count and
 * the case total. 0, or -1 with err. */
static int load_shard(shard_file *f, int64_t *count, int64_t *total, char *err, size_t err_len)
{
    char *text = read_file(f->path, err, err_len);
    if (!text)
        return -1;
    f->root = cJSON_Parse(text);
    free(text);
    const char *schema = f->root ? str_of(f->root, "schema") : NULL;
    const char *version = f->root ? str_of(f->root, "schema_version") : NULL;
    const char *kind = f->root ? str_of(f->root, "kind") : NULL;
    int minor = -1;
    if (!schema || strcmp(schema, "ropecheck.results") != 0 || !version ||
        sscanf(version, "1.%d", &minor) != 1 || !kind || strcmp(kind, "verify") != 0) {
        snprintf(err, err_len, "%s: not a ropecheck verify result (schema ropecheck.results 1.x)",
                 f->path);
        return -1;
    }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(f->root, "shard");
    if (minor < 3 || !cJSON_IsObject(sh) || int_of(sh, "index", &f->index) != 0 ||
        int_of(sh, "count", count) != 0 || int_of(sh, "cases_total", total) != 0 ||
        *count < 1 || *count > RC_SHARD_MAX || f->index < 1 || f->index > *count ||
        *total < 0 || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(f->root, "verify")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(f->root, "run_argv"))) {
        snprintf(err, err_len, "%s: not a shard (written by verify --shard K/N, schema 1.3 or "
                 "later)", f->path);
        return -1;
    }
    return 0;
}

/* Every file a shard of the first one's run. */
static int same_run(const shard_file *a, const shard_file *b)
{
    static const char *const keys[] = {"run_argv", "seed", "tool", "runner", "positions",
                                       "gate_positions_below"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a->root, keys[i]),
                           cJSON_GetObjectItemCaseSensitive(b->root, keys[i]), 1)) {
            merge_error("%s and %s are shards of different runs", a->path, b->path);
            fprintf(stderr, "  (their \"%s\" differs)\n", keys[i]);
            return 0;
        }
    return 1;
}

/* Every shard 1..N given exactly once. 0, or an exit code. */
static int check_shards(const merge_state *m)
{
    char err[200];
    const char **by_index = calloc((size_t)m->count, sizeof *by_index);
    if (!by_index)
        return merge_error("out of memory%s%s", "", "");
    int rc = 0;
    for (int i = 0; i < m->n_files && !rc; i++) {
        const shard_file *f = &m->files[i];
        if (by_index[f->index - 1]) {
            snprintf(err, sizeof err, "shard %lld of %lld is given twice", (long long)f->index,
                     (long long)m->count);
            rc = merge_error("%s%s", err, "");
            fprintf(stderr, "  (%s and %s)\n", by_index[f->index - 1], f->path);
        }
        by_index[f->index - 1] = f->path;
    }
    for (int64_t k = 0; k < m->count && !rc; k++)
        if (!by_index[k]) {
            snprintf(err, sizeof err, "shard %lld of %lld is missing", (long long)k + 1,
                     (long long)m->count);
            rc = merge_error("%s%s", err, "");
        }
    free(by_index);
    return rc;
}

/* A case object's token range: slice index and count (0 and 1 without). */
static int slice_of(const cJSON *c, int64_t *j, int64_t *count, int64_t *lo, int64_t *hi)
{
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(c, "slice");
    *j = 0;
    *count = 1;
    *lo = *hi = 0;
    if (!sl)
        return 0;
    return int_of(sl, "index", j) != 0 || int_of(sl, "count", count) != 0 ||
                   int_of(sl, "token_lo", lo) != 0 || int_of(sl, "token_hi", hi) != 0 ||
                   *count < 2 || *j < 0 || *j >= *count
               ? -1
               : 0;
}

/* Each case in its place (by case_index), from the shard the share rule
 * gives it (cli/shard.h), once; a case cut into token ranges is joined
 * here (merge_slices.h). The files hold between m->total and the run's
 * share count of objects (checked before). 0, or an exit code. */
typedef struct case_parts {
    int64_t count;         /* token ranges (1: the whole case) */
    const cJSON **part;    /* by range */
    int64_t *shard;        /* the shard index that held each */
} case_parts;

/* Puts object c of shard file f in its place. 0, or an exit code. */
static int place_one(merge_state *m, case_parts *cp, const shard_file *f, const cJSON *c)
{
    char err[400];
    int64_t ci = -1, j, count, lo, hi, tokens = -1;
    if (int_of(c, "case_index", &ci) != 0 || ci < 0 || ci >= m->total ||
        slice_of(c, &j, &count, &lo, &hi) != 0 || int_of(c, "tokens", &tokens) != 0 ||
        count != rc_shard_slices(m->count, m->total, tokens))
        return merge_error("%s: %s", f->path,
                           "a case index or token range that is not one of this run's shares");
    int64_t want_lo, want_hi;
    rc_shard_slice_tokens(j, count, tokens, &want_lo, &want_hi);
    if (count > 1 && (lo != want_lo || hi != want_hi)) {
        snprintf(err, sizeof err, "case %lld's token range %lld is not [%lld, %lld)",
                 (long long)ci, (long long)j, (long long)want_lo, (long long)want_hi);
        return merge_error("%s: %s", f->path, err);
    }
    case_parts *k = &cp[ci];
    if (!k->part) {
        k->count = count;
        k->part = calloc((size_t)count, sizeof *k->part);
        k->shard = calloc((size_t)count, sizeof *k->shard);
        if (!k->part || !k->shard)
            return merge_error("out of memory%s%s", "", "");
    }
    if (k->count != count || k->part[j]) {
        snprintf(err, sizeof err, "case %lld%s is there twice", (long long)ci,
                 count > 1 ? " (a token range of it)" : "");
        return merge_error("%s: %s", f->path, err);
    }
    k->part[j] = c;
    k->shard[j] = f->index;
    return 0;
}

/* Each case in its place (by case_index), from the shard the share rule
 * gives it (cli/shard.h), once; a case cut into token ranges is joined
 * (merge_slices.h). 0, or an exit code. */
static int place_cases(merge_state *m)
{
    char err[400];
    m->cases = calloc(m->total ? (size_t)m->total : 1, sizeof *m->cases);
    m->owned = calloc(m->total ? (size_t)m->total : 1, sizeof *m->owned);
    case_parts *cp = calloc(m->total ? (size_t)m->total : 1, sizeof *cp);
    int rc = !m->cases || !m->owned || !cp ? merge_error("out of memory%s%s", "", "") : 0;
    for (int i = 0; i < m->n_files && !rc; i++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m->files[i].root, "verify"))
            if (!rc)
                rc = place_one(m, cp, &m->files[i], c);
    }
    /* every share present, and in the shard the rule gives it */
    int64_t unit = 0;
    for (int64_t ci = 0; ci < m->total && !rc; ci++) {
        const case_parts *k = &cp[ci];
        for (int64_t j = 0; j < (k->part ? k->count : 1) && !rc; j++, unit++) {
            if (!k->part || !k->part[j]) {
                snprintf(err, sizeof err, "case %lld%s is missing", (long long)ci,
                         k->part ? " (a token range of it)" : "");
                rc = merge_error("%s%s", err, " (a shard is incomplete)");
            } else if (k->shard[j] != unit % m->count + 1) {
                snprintf(err, sizeof err, "case %lld%s is in shard %lld; the share rule gives "
                         "it to shard %lld", (long long)ci, k->count > 1 ? " (a token range)" : "",
                         (long long)k->shard[j], (long long)(unit % m->count + 1));
                rc = merge_error("%s%s", err, "");
            }
        }
        if (rc)
            break;
        if (k->count == 1) {
            m->cases[ci] = k->part[0];
            continue;
        }
        cJSON *joined = rc_merge_slices(k->part, k->count, m->positions_below, err, sizeof err);
        if (!joined) {
            char what[500];
            snprintf(what, sizeof what, "case %lld: %s", (long long)ci, err);
            rc = merge_error("%s%s", what, "");
            break;
        }
        m->cases[ci] = m->owned[m->n_owned++] = joined;
    }
    for (int64_t ci = 0; cp && ci < m->total; ci++) {
        free(cp[ci].part);
        free(cp[ci].shard);
    }
    free(cp);
    return rc;
}

static rc_verdict verdict_of(const cJSON *c)
{
    const char *v = str_of(c, "verdict");
    for (int i = 0; v && i <= RC_VERDICT_ERROR; i++)
        if (strcmp(v, rc_verdict_name((rc_verdict)i)) == 0)
            return (rc_verdict)i;
    return RC_VERDICT_ERROR;
}

/* The merged root: the first shard's, its per-invocation keys replaced. */
static cJSON *merged_root(const merge_state *m, int counts[RC_VERDICT_ERROR + 1])
{
    cJSON *root = cJSON_Duplicate(m->files[0].root, 1);
    cJSON *cases = cJSON_CreateArray();
    cJSON *sum = cJSON_CreateObject();
    cJSON *argv = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "run_argv"), 1);
    if (!root || !cases || !sum || !argv) {
        cJSON_Delete(root);
        cJSON_Delete(cases);
        cJSON_Delete(sum);
        cJSON_Delete(argv);
        return NULL;
    }
    for (int64_t ci = 0; ci < m->total; ci++) {
        cJSON_AddItemToArray(cases, cJSON_Duplicate(m->cases[ci], 1));
        counts[verdict_of(m->cases[ci])]++;
    }
    cJSON_AddNumberToObject(sum, "cases", (double)m->total);
    static const char *const keys[] = {"pass", "fail", "skip", "broken", "error"};
    for (int v = 0; v <= RC_VERDICT_ERROR; v++)
        cJSON_AddNumberToObject(sum, keys[v], counts[v]);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "verify", cases);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "summary", sum);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "argv", argv);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "shard");
    cJSON_AddNumberToObject(root, "merged_shards", (double)m->count);
    return root;
}

static int write_junit(const char *path, const cJSON *cases, char *err, size_t err_len)
{
    const int n = cJSON_GetArraySize(cases);
    rc_junit_case *jc = calloc(n ? (size_t)n : 1, sizeof *jc);
    char(*names)[256] = calloc(n ? (size_t)n : 1, sizeof *names);
    if (!jc || !names) {
        free(jc);
        free(names);
        snprintf(err, err_len, "out of memory writing JUnit XML");
        return -1;
    }
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        int64_t d = 0, r = 0;
        (void)int_of(c, "head_dim", &d);
        (void)int_of(c, "rotary_dim", &r);
        rc_junit_case_name(str_of(c, "cell"), str_of(c, "dtype"), str_of(c, "layout"),
                           str_of(c, "direction"), (int)d, (int)r,
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "inplace")),
                           names[i], sizeof names[i]);
        const cJSON *call = cJSON_GetObjectItemCaseSensitive(c, "call");
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(c, "reference");
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(call, "seconds");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ref, "seconds");
        const char *replay = str_of(cJSON_GetObjectItemCaseSensitive(c, "worst_pair"), "replay");
        jc[i] = (rc_junit_case){.impl = str_of(c, "impl") ? str_of(c, "impl") : "",
                                .name = names[i],
                                .seconds = (cJSON_IsNumber(cs) ? cs->valuedouble : 0.0) +
                                           (cJSON_IsNumber(rs) ? rs->valuedouble : 0.0),
                                .verdict = verdict_of(c),
                                .message = str_of(c, "reason") ? str_of(c, "reason") : "",
                                .replay = replay ? replay : ""};
        i++;
    }
    const int rc = rc_junit_write(path, jc, (size_t)n, err, err_len);
    free(jc);
    free(names);
    return rc;
}

/* verify's exit code for the whole run: 3 broken, 1 a gate failed, 4 an
 * implementation ran no case (judged: pass or FAIL), 2 an error, 0. */
static int exit_code(const merge_state *m, const int counts[RC_VERDICT_ERROR + 1])
{
    /* The implementations in order of appearance, each judged or not. */
    enum { MAX_IMPLS = 256 };
    const char *impl[MAX_IMPLS];
    int judged[MAX_IMPLS] = {0}, n = 0;
    for (int64_t i = 0; i < m->total; i++) {
        const char *name = str_of(m->cases[i], "impl");
        const rc_verdict v = verdict_of(m->cases[i]);
        int k = 0;
        while (k < n && strcmp(impl[k], name ? name : "") != 0)
            k++;
        if (k == n && n < MAX_IMPLS)
            impl[n++] = name ? name : "";
        if (k < n)
            judged[k] |= v == RC_VERDICT_PASS || v == RC_VERDICT_FAIL;
    }
    int nothing = m->total == 0;
    for (int k = 0; k < n; k++)
        if (!judged[k]) {
            rc_cli_error("merge", "%s: nothing judged (no case of it passed or failed)",
                         impl[k]);
            nothing = 1;
        }
    return counts[RC_VERDICT_BROKEN]  ? RC_EXIT_BROKEN
           : counts[RC_VERDICT_FAIL]  ? RC_EXIT_FAIL
           : nothing                  ? RC_EXIT_NOTHING_JUDGED
           : counts[RC_VERDICT_ERROR] ? RC_EXIT_USAGE
                                      : RC_EXIT_PASS;
}

static int merge_main(merge_state *m, int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"junit", required_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL, *junit = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'j': junit = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage_text, stdout); return RC_EXIT_PASS;
        default: return merge_error("bad option (see ropecheck merge --help)%s%s", "", "");
        }
    }
    if (!out)
        return merge_error("-o OUT.json is required (see ropecheck merge --help)%s%s", "", "");
    if (optind >= argc)
        return merge_error("no shard files given (see ropecheck merge --help)%s%s", "", "");
    char err[600];
    if (rc_output_check(out, err, sizeof err) != 0 ||
        (junit && rc_output_check(junit, err, sizeof err) != 0))
        return merge_error("%s%s", err, "");
    m->n_files = argc - optind;
    m->files = calloc((size_t)m->n_files, sizeof *m->files);
    if (!m->files)
        return merge_error("out of memory%s%s", "", "");
    for (int i = 0; i < m->n_files; i++) {
        shard_file *f = &m->files[i];
        f->path = argv[optind + i];
        int64_t count = 0, total = 0;
        if (load_shard(f, &count, &total, err, sizeof err) != 0)
            return merge_error("%s%s", err, "");
        if (i == 0) {
            m->count = count;
            m->total = total;
        } else if (count != m->count || total != m->total || !same_run(&m->files[0], f)) {
            if (count != m->count || total != m->total)
                return merge_error("%s and %s are shards of different runs (shard count or "
                                   "case total differs)",
                                   m->files[0].path, f->path);
            return RC_EXIT_USAGE;
        }
    }
    int rc = check_shards(m);
    if (rc)
        return rc;
    /* The files must hold exactly the run's cases before any table of
     * that size is made (a header claiming 10^12 cases is refused here). */
    int64_t held = 0;
    for (int i = 0; i < m->n_files; i++)
        held += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m->files[i].root, "verify"));
    /* with fewer cases than shards, a case is cut into ceil(N / cases)
     * token ranges at most (cli/shard.h) */
    const int64_t most = m->count > m->total && m->total > 0
                             ? m->total * ((m->count + m->total - 1) / m->total)
                             : m->total;
    if (int_of(m->files[0].root, "gate_positions_below", &m->positions_below) != 0)
        return merge_error("%s: no gate_positions_below%s", m->files[0].path, "");
    if (held < m->total || held > most) {
        snprintf(err, sizeof err, "the files hold %lld cases, the run has %lld", (long long)held,
                 (long long)m->total);
        return merge_error("%s%s", err, held < m->total ? " (a case or a shard is missing)"
                                                         : " (a case is repeated)");
    }
    if ((rc = place_cases(m)) != 0)
        return rc;
    int counts[RC_VERDICT_ERROR + 1] = {0};
    cJSON *root = merged_root(m, counts);
    if (!root)
        return merge_error("out of memory%s%s", "", "");
    rc = exit_code(m, counts);
    if (rc_json_write_file(out, root, err, sizeof err) != 0 ||
        (junit && write_junit(junit, cJSON_GetObjectItemCaseSensitive(root, "verify"), err,
                              sizeof err) != 0)) {
        cJSON_Delete(root);
        return merge_error("%s%s", err, "");
    }
    cJSON_Delete(root);
    if (!quiet)
        printf("%lld cases from %lld shards: %d pass, %d fail, %d skip, %d broken, %d error\n"
               "results: %s%s%s\n",
               (long long)m->total, (long long)m->count, counts[RC_VERDICT_PASS],
               counts[RC_VERDICT_FAIL], counts[RC_VERDICT_SKIP], counts[RC_VERDICT_BROKEN],
               counts[RC_VERDICT_ERROR], out, junit ? "\njunit: " : "", junit ? junit : "");
    return rc;
}

int rc_cmd_merge(int argc, char **argv)
{
    merge_state m = {0};
    const int rc = merge_main(&m, argc, argv);
    for (int i = 0; i < m.n_files; i++)
        cJSON_Delete(m.files[i].root);
    free(m.files);
    for (int64_t i = 0; i < m.n_owned; i++)
        cJSON_Delete(m.owned[i]);
    free(m.owned);
    free(m.cases);
    return rc;
}
