/*
 * cli/sweep.c - a long position range in chunks, with a checkpoint and
 * progress (sweep.h).
 */
#include "cli/sweep.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/partial_json.h"
#include "cli/safe_file.h"
#include "cli/strict_num.h"
#include "harness/verify_partial.h"

#define CHECKPOINT_SCHEMA "ropecheck.sweep-checkpoint"
#define CHECKPOINT_EVERY_S 5.0
#define CHECKPOINT_MAX_BYTES ((size_t)1 << 28)

const char rc_sweep_usage[] =
    "usage: ropecheck sweep --positions A:B [options]\n"
    "\n"
    "Judges every position from A to B (inclusive) for one case: one implementation,\n"
    "one --dtype, one --layout, one --direction, with the spec options of verify\n"
    "(--head-dim, --rotary-dim, --base, --heads, --hf-config, --model, --scaling,\n"
    "--profile, --gate, --specials, --inplace, --stride-pad, --seed, --jobs, --oracle;\n"
    "see verify --help). The positions run in chunks of consecutive positions, each\n"
    "one call of the implementation, judged into statistics that do not grow with\n"
    "the range (quantiles to 2^-10, reference/metrics.h); the result is verify's (the\n"
    "table, --json, --junit, exit status), as one case whose tokens are the range.\n"
    "\n"
    "  --positions A:B       the range, 0 <= A <= B <= 2^53-1\n"
    "  --chunk N             positions per chunk (default 4096, at most 2^20); the\n"
    "                        result depends on it only through the diagnosis of a\n"
    "                        failure (made on the first failing chunk)\n"
    "  --checkpoint FILE     keep the state after whole chunks in FILE (written\n"
    "                        atomically, every 5 s and on an interruption); the same\n"
    "                        command finds it and continues; removed at the end.\n"
    "                        A checkpoint of another sweep is refused (exit 2)\n"
    "  --shard K/N           the K-th of N contiguous parts of the range; `ropecheck\n"
    "                        merge` joins the parts' --json into the whole sweep\n"
    "  --json FILE, --junit FILE, -q/--quiet, -h/--help: as verify's\n"
    "\n"
    "Progress: a bar with the rate and the time left on a terminal, a line every\n"
    "30 s otherwise. SIGINT or SIGTERM (Ctrl-C): the chunk under way finishes,\n"
    "the checkpoint is written, exit 130; a second one stops at once (the last\n"
    "checkpoint stands).\n"
    "\n"
    "Exit status: as verify's; 130 when interrupted.\n"
    "\n"
    "Example (every position below 2^24 of Llama-3-8B's RoPE for the avx2 port):\n"
    "  ropecheck sweep --impl avx2 --model llama-3-8b --dtype f32 --heads 1 \\\n"
    "      --positions 0:16777215 --checkpoint sweep.ckpt --json sweep.json\n";

int rc_sweep_range_parse(const char *spec, int64_t *lo, int64_t *hi, char *err, size_t len)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    char a[32];
    if (!colon || (size_t)(colon - spec) >= sizeof a || strchr(colon + 1, ':') ||
        strchr(spec, ',')) {
        snprintf(err, len, "'%s': a sweep takes one range A:B", spec ? spec : "");
        return -1;
    }
    memcpy(a, spec, (size_t)(colon - spec));
    a[colon - spec] = '\0';
    if (rc_parse_int64(a, lo) != 0 || rc_parse_int64(colon + 1, hi) != 0 || *lo < 0 ||
        *hi < *lo || *hi > ((int64_t)1 << 53) - 1) {
        snprintf(err, len, "'%s': need decimal 0 <= A <= B <= 2^53-1", spec);
        return -1;
    }
    return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = 1;
    signal(sig, SIG_DFL); /* a second one ends the run at once */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "1h02m", "3m20s", "12s" */
static void fmt_duration(double s, char *buf, size_t n)
{
    if (!(s < 1e9))
        snprintf(buf, n, "?");
    else if (s >= 3600)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, n, "%ds", (int)s);
}

/* On a terminal a bar redrawn in place; elsewhere (CI logs) one line every
 * 30 s. */
static void progress(const rc_sweep *s, int64_t done, int64_t total, double rate, int final,
                     double *last_line)
{
    if (s->quiet)
        return;
    const double t = now_s();
    if (!s->tty && !final && t - *last_line < 30.0)
        return;
    *last_line = t;
    char eta[32];
    fmt_duration(rate > 0 ? (double)(total - done) / rate : INFINITY, eta, sizeof eta);
    const int width = 30, filled = (int)((double)width * (double)done / (double)total);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "%ssweep [%s] %lld/%lld positions (%.1f%%), %.3g positions/s, ETA %s%s",
            s->tty ? "\r" : "", bar, (long long)done, (long long)total,
            100.0 * (double)done / (double)total, rate, eta, s->tty && !final ? "" : "\n");
    fflush(stderr);
}

static int write_checkpoint(const rc_sweep *s, int64_t next, const rc_verify_partial *p,
                            const rc_verify_result *r, char *err, size_t len)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", CHECKPOINT_SCHEMA);
    cJSON_AddStringToObject(root, "schema_version", "1.0");
    cJSON_AddItemToObject(root, "identity", cJSON_Duplicate(s->identity, 1));
    cJSON_AddNumberToObject(root, "next_offset", (double)next);
    const char *none[4] = {"", "", "", ""};
    cJSON_AddItemToObject(root, "state", rc_partial_to_json(p, r, none));
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        snprintf(err, len, "out of memory writing the checkpoint");
        return -1;
    }
    const int rc = rc_atomic_write(s->checkpoint, text, strlen(text), err, len);
    free(text);
    return rc;
}

/* The checkpoint, when there is one: 1 with *next and the state loaded, 0
 * when there is none, -1 with err when it is not this run's or is bad. */
static int read_checkpoint(const rc_sweep *s, int64_t *next, rc_verify_partial *p,
                           rc_verify_result *r, char *err, size_t len)
{
    FILE *f = fopen(s->checkpoint, "rb");
    if (!f)
        return 0; /* none yet (a path that cannot be written was refused before) */
    fclose(f);
    char why[400];
    size_t n;
    char *text = rc_read_regular_file(s->checkpoint, CHECKPOINT_MAX_BYTES, &n, why, sizeof why);
    if (!text) {
        snprintf(err, len, "checkpoint %s: %s", s->checkpoint, why);
        return -1;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(root, "next_offset");
    int rc = -1;
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, CHECKPOINT_SCHEMA) != 0) {
        snprintf(err, len, "checkpoint %s: not a ropecheck sweep checkpoint", s->checkpoint);
    } else if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(root, "identity"), s->identity,
                              1)) {
        snprintf(err, len, "checkpoint %s belongs to another sweep (its options, seed or "
                 "ropecheck version differ); remove it or give another --checkpoint",
                 s->checkpoint);
    } else if (!cJSON_IsNumber(nx) || !(nx->valuedouble > (double)s->t0) ||
               !(nx->valuedouble <= (double)s->t1) ||
               nx->valuedouble != floor(nx->valuedouble) ||
               (fmod(nx->valuedouble - (double)s->t0, (double)s->chunk) != 0.0 &&
                nx->valuedouble != (double)s->t1)) {
        snprintf(err, len, "checkpoint %s: next_offset is not a chunk boundary of this sweep",
                 s->checkpoint);
    } else if (rc_partial_from_json(cJSON_GetObjectItemCaseSensitive(root, "state"), p, r,
                                    (const char *[4]){0}, why, sizeof why) != 0) {
        snprintf(err, len, "checkpoint %s: %s", s->checkpoint, why);
    } else if (p->tokens != (int64_t)nx->valuedouble - s->t0) {
        rc_verify_partial_free(p);
        snprintf(err, len, "checkpoint %s: its state did not judge the positions before "
                 "next_offset", s->checkpoint);
    } else {
        *next = (int64_t)nx->valuedouble;
        rc = 1;
    }
    cJSON_Delete(root);
    return rc;
}

int rc_sweep_run(const rc_sweep *s, const rc_gate *gate, rc_verify_result *res,
                 rc_verify_partial **part_out, char *err, size_t len)
{
    *part_out = NULL;
    const rc_dtype dt = s->vcase.dtype;
    rc_verify_partial *p = calloc(1, sizeof *p);
    int64_t *positions = malloc(sizeof(int64_t) * (size_t)s->chunk);
    rc_verify_result kept = {0}; /* the fields a checkpoint carries */
    int64_t next = s->t0;
    int rc = 2, loaded = 0;
    if (!p || !positions) {
        snprintf(err, len, "out of memory");
        goto out;
    }
    if (s->checkpoint) {
        loaded = read_checkpoint(s, &next, p, &kept, err, len);
        if (loaded < 0)
            goto out;
        if (loaded && !s->quiet)
            fprintf(stderr, "sweep: resuming from %s at position %lld (%lld of %lld done)\n",
                    s->checkpoint, (long long)(s->lo + next), (long long)(next - s->t0),
                    (long long)(s->t1 - s->t0));
    }
    if (!loaded && rc_verify_partial_init(p, gate->pair[dt], gate->component[dt]) != 0) {
        snprintf(err, len, "out of memory for error statistics");
        goto out;
    }
    interrupted = 0;
    void (*old_int)(int) = signal(SIGINT, on_signal);
    void (*old_term)(int) = signal(SIGTERM, on_signal);
    const double start = now_s();
    double last_save = start, last_line = start - 30.0;
    const int64_t at_start = next;
    rc_verify_result chunk_res;
    memset(res, 0, sizeof *res);
    int judged_all = 1;
    while (next < s->t1 && !interrupted) {
        const int64_t n = next + s->chunk < s->t1 ? s->chunk : s->t1 - next;
        for (int64_t i = 0; i < n; i++)
            positions[i] = s->lo + next + i;
        rc_verify_case c = s->vcase;
        c.positions = positions;
        c.n_tokens = n;
        c.token_base = next;
        c.judge_t0 = c.judge_t1 = 0;
        c.progress = NULL;
        if (!rc_verify_run_part(&c, gate, &chunk_res, p)) {
            /* a call that could not be judged decides the sweep */
            *res = chunk_res;
            char at[64];
            snprintf(at, sizeof at, "positions %lld..%lld: ", (long long)positions[0],
                     (long long)positions[n - 1]);
            rc_verify_text_prepend(res->reason, sizeof res->reason, at);
            judged_all = 0;
            break;
        }
        kept.profile_given_table = chunk_res.profile_given_table;
        kept.profile_table_excess = chunk_res.profile_table_excess;
        kept.profile_table_worst = chunk_res.profile_table_worst;
        *res = chunk_res;
        next += n;
        const double t = now_s();
        progress(s, next - s->t0, s->t1 - s->t0, (double)(next - at_start) / (t - start),
                 next == s->t1, &last_line);
        if (s->checkpoint && next < s->t1 && (interrupted || t - last_save >= CHECKPOINT_EVERY_S)) {
            if (write_checkpoint(s, next, p, &kept, err, len) != 0)
                goto restore;
            last_save = t;
        }
    }
    if (judged_all && next < s->t1) { /* interrupted: saved above, or now */
        if (s->checkpoint && write_checkpoint(s, next, p, &kept, err, len) != 0)
            goto restore;
        if (s->tty && !s->quiet)
            fputc('\n', stderr);
        fprintf(stderr, "sweep: interrupted at position %lld; %s\n", (long long)(s->lo + next),
                s->checkpoint ? "the same command resumes from the checkpoint"
                              : "no --checkpoint was given: nothing was kept");
        rc = 130;
        goto restore;
    }
    if (judged_all) {
        res->profile_given_table = kept.profile_given_table;
        res->profile_table_excess = kept.profile_table_excess;
        res->profile_table_worst = kept.profile_table_worst;
        rc_verify_case whole = s->vcase;
        rc_verify_partial_result(p, &whole, res);
        rc_verify_partial_label_finding(p, res);
        *part_out = p;
        p = NULL;
    }
    if (s->checkpoint && judged_all)
        remove(s->checkpoint); /* the result is the product now */
    rc = 0;
restore:
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
out:
    if (p) {
        rc_verify_partial_free(p);
        free(p);
    }
    free(positions);
    return rc;
}
