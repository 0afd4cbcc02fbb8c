/*
 * cli/replay.c - the one-line command that reproduces a reported case.
 */
#include <stdio.h>

#include "cli/run_record.h"

char *rc_replay_command(const rc_run_record *run, const rc_case_record *k, int64_t position,
                        char *buf, size_t len)
{
    const rc_verify_case *c = &k->vcase;
    int n = snprintf(buf, len,
                     "ropecheck verify %s %s --dtype %s --layout %s --direction %s "
                     "--head-dim %d --rotary-dim %d --base %.17g --heads %lld "
                     "--positions %lld --seed %llu%s%s",
                     k->plugin_path ? "--plugin" : "--impl",
                     k->plugin_path ? k->plugin_path : k->impl_name, rc_dtype_name(c->dtype),
                     rc_layout_name(c->layout), rc_direction_name(c->direction), c->head_dim,
                     c->rotary_dim, c->base, (long long)c->n_heads, (long long)position,
                     (unsigned long long)run->seed, c->inplace ? " --inplace" : "",
                     c->with_specials ? " --specials" : "");
    if (c->stride_pad > 0 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --stride-pad %lld", (long long)c->stride_pad);
    if (run->model_replay && *run->model_replay && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "%s", run->model_replay);
    if (c->profile != RC_PROFILE_EXACT && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --profile %s", rc_profile_name(c->profile));
    if (run->runner && n > 0 && (size_t)n < len) {
        /* The command as one shell word: single quotes, each ' as '\''. */
        n += snprintf(buf + n, len - (size_t)n, " --runner '");
        for (const char *p = run->runner; *p && n > 0 && (size_t)n + 5 < len; p++)
            n += *p == '\'' ? snprintf(buf + n, len - (size_t)n, "'\\''")
                            : snprintf(buf + n, len - (size_t)n, "%c", *p);
        if (n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, "'");
    }
    return buf;
}
