/*
 * cli/replay.c - the one-line command that reproduces a reported case.
 *
 * The line is pasted into a shell: every path and command in it is one
 * shell word (cli/shell_quote.h), so a name with blanks, $(...) or a
 * control character is data, not code; and the gate is part of it when it is not the
 * default (a replay judged by another gate could pass what failed).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run_record.h"
#include "cli/shell_quote.h"

/* Append fmt to buf at *n (never past len). */
#define APPEND(...)                                                                          \
    do {                                                                                     \
        if (*n >= 0 && (size_t)*n < len)                                                     \
            *n += snprintf(buf + *n, len - (size_t)*n, __VA_ARGS__);                          \
    } while (0)

/* word as one shell word (cli/shell_quote.h). */
static void append_quoted(char *buf, size_t len, int *n, const char *word)
{
    char quoted[4096];
    if (rc_shell_quote(word, quoted, sizeof quoted) >= sizeof quoted) {
        /* Never a cut word: a truncated path would replay another file. */
        APPEND("'<path too long to replay>'");
        return;
    }
    APPEND("%s", quoted);
}

/* x in the fewest digits that read back as x. */
static const char *shortest(double x, char *buf, size_t len)
{
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

/* " --gate 'DTYPE:pair=...,...'" when the case's gate differs from the
 * default its profile would get; nothing otherwise. */
static void append_gate(char *buf, size_t len, int *n, const rc_run_record *run,
                        const rc_verify_case *c)
{
    rc_gate def;
    rc_gate_default(&def);
    if (c->profile != RC_PROFILE_EXACT)
        rc_gate_profile(&def);
    const rc_gate *g = &run->gate;
    const int t = c->dtype;
    int pair = g->pair[t] != def.pair[t];
    int comp = !(g->component[t] == def.component[t] ||
                 (isinf(g->component[t]) && isinf(def.component[t])));
    int below = g->positions_below != def.positions_below;
    if (!pair && !comp && !below)
        return;
    APPEND(" --gate '");
    char num[32];
    const char *sep = "";
    if (pair) {
        APPEND("%s:pair=%s", rc_dtype_name(c->dtype), shortest(g->pair[t], num, sizeof num));
        sep = ",";
    }
    if (comp) {
        APPEND("%s%s:component=%s", sep, rc_dtype_name(c->dtype),
               shortest(g->component[t], num, sizeof num));
        sep = ",";
    }
    if (below)
        APPEND("%spositions-below=%lld", sep, (long long)g->positions_below);
    APPEND("'");
}

char *rc_replay_command(const rc_run_record *run, const rc_case_record *k,
                        const rc_elem_loc *loc, char *buf, size_t len)
{
    const rc_verify_case *c = &k->vcase;
    int nn = 0, *n = &nn;
    /* Built-in names are [a-z0-9_-] (core/registry.c): no quoting. */
    if (k->plugin_path) {
        APPEND("ropecheck verify --plugin ");
        append_quoted(buf, len, n, k->plugin_path);
    } else {
        APPEND("ropecheck verify --impl %s", k->impl_name);
    }
    APPEND(" --dtype %s --layout %s --direction %s --head-dim %d --rotary-dim %d --base %.17g "
           "--heads %lld --positions ",
           rc_dtype_name(c->dtype), rc_layout_name(c->layout), rc_direction_name(c->direction),
           c->head_dim, c->rotary_dim, c->base, (long long)c->n_heads);
    if (loc->n_axes >= 2) /* the token's tuple: P0/P1/.. (cli/positions.h) */
        for (int32_t a = 0; a < loc->n_axes; a++)
            APPEND("%s%lld", a ? "/" : "", (long long)loc->positions[a]);
    else
        APPEND("%lld", (long long)loc->position);
    APPEND(" --seed %llu%s%s", (unsigned long long)run->seed, c->inplace ? " --inplace" : "",
           c->with_specials ? " --specials" : "");
    if (k->axes_spec && run->axes_replay)
        APPEND(" --axes %s", k->axes_spec);
    if (k->rope_kind) /* [a-z]: no quoting */
        APPEND(" --rope-kind %s", k->rope_kind);
    if (c->stride_pad > 0)
        APPEND(" --stride-pad %lld", (long long)c->stride_pad);
    if (run->model_replay && *run->model_replay)
        APPEND("%s", run->model_replay);
    if (c->profile != RC_PROFILE_EXACT)
        APPEND(" --profile %s", rc_profile_name(c->profile));
    append_gate(buf, len, n, run, c);
    if (run->python) {
        APPEND(" --python ");
        append_quoted(buf, len, n, run->python);
    } else if (run->runner) {
        APPEND(" --runner ");
        append_quoted(buf, len, n, run->runner);
    }
    return buf;
}
