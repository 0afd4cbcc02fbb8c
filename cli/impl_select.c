/*
 * cli/impl_select.c - resolve implementation names and plug-in paths.
 */
#include "cli/impl_select.h"

#include "cli/strict_num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/guarded_call.h"
#include "harness/runner_client.h"
#include "impls/builtins.h"

static int push(rc_target_list *l, const rc_impl *impl, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].impl == impl)
            return 0; /* named twice: run once */
    rc_target *nv = realloc(l->items, sizeof *nv * (l->n + 1));
    if (!nv)
        return -1;
    l->items = nv;
    rc_target *t = &l->items[l->n++];
    memset(t, 0, sizeof *t);
    t->impl = impl;
    t->plugin_path = path;
    return 0;
}

/* Where names are looked up: the built-in registry, or the implementations
 * a ropecheck-runner announced in its hello. */
typedef struct impl_catalog {
    size_t (*count)(void);
    const rc_impl *(*get)(size_t i);
    const rc_impl *(*find)(const char *name);
    int is_runner;
} impl_catalog;

static const impl_catalog builtin_catalog = {rc_builtin_count, rc_builtin_get, rc_builtin_find, 0};
static const impl_catalog runner_catalog = {rc_runner_count, rc_runner_get, rc_runner_find, 1};

/* "unknown implementation 'x' (built-ins: a b; ...)", naming what there is. */
static void unknown_name(const impl_catalog *cat, const char *name, char *err, size_t err_len)
{
    int n = cat->is_runner
                ? snprintf(err, err_len, "the runner (%s) does not offer '%s' (it offers:",
                           rc_runner_arch(), name)
                : snprintf(err, err_len, "unknown implementation '%s' (built-ins:", name);
    for (size_t i = 0; i < cat->count() && n > 0 && (size_t)n < err_len; i++)
        n += snprintf(err + n, err_len - (size_t)n, " %s", cat->get(i)->name);
    if (n > 0 && (size_t)n < err_len)
        snprintf(err + n, err_len - (size_t)n, cat->is_runner ? ")" : "; see `ropecheck list`)");
}

/* Add a comma-separated list of names (or "all") from a catalog. */
static int add_names(rc_target_list *l, const impl_catalog *cat, const char *list, char *err,
                     size_t err_len)
{
    /* An empty name ("", "a,,b", a trailing comma) is a typo or an unset
     * shell variable: selecting nothing must never look like a pass. */
    if (rc_list_has_empty_item(list)) {
        snprintf(err, err_len, "empty implementation name in --impl '%s' (see `ropecheck list`)",
                 list);
        return -1;
    }
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
        if (strcmp(name, "all") == 0) {
            for (size_t i = 0; i < cat->count() && !rc; i++)
                rc = push(l, cat->get(i), NULL);
            continue;
        }
        const rc_impl *impl = cat->find(name);
        if (!impl) {
            unknown_name(cat, name, err, err_len);
            rc = -1;
        } else {
            rc = push(l, impl, NULL);
        }
    }
    free(copy);
    return rc;
}

/* 1 when another target of the list already has impl's name. */
static int name_taken(const rc_target_list *l, const rc_impl *impl)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].impl != impl && strcmp(l->items[i].impl->name, impl->name) == 0)
            return 1;
    return 0;
}

/* A placeholder target for a plug-in that failed its guarded load. */
static int push_broken(rc_target_list *l, const char *path, const char *why)
{
    typedef struct placeholder {
        rc_impl impl;
        char name[72];
    } placeholder;
    placeholder *ph = calloc(1, sizeof *ph);
    if (!ph)
        return -1;
    const char *base = strrchr(path, '/');
    snprintf(ph->name, sizeof ph->name, "%.64s", base ? base + 1 : path);
    ph->impl = (rc_impl){.abi_version = RC_ABI_VERSION, .name = ph->name,
                         .description = "a plug-in that failed to load", .caps = 0};
    if (push(l, &ph->impl, path) != 0) {
        free(ph);
        return -1;
    }
    rc_target *t = &l->items[l->n - 1];
    t->broken = 1;
    t->owned = ph;
    snprintf(t->why, sizeof t->why, "BROKEN while loading: %.200s", why);
    return 0;
}

/* available() of every target, each in a guarded child. */
static void probe_availability(rc_target_list *l, double timeout_s)
{
    for (size_t i = 0; i < l->n; i++) {
        rc_target *t = &l->items[i];
        if (t->broken)
            continue; /* never called */
        rc_call_result res;
        t->available = rc_guarded_available(t->impl, timeout_s, t->why, sizeof t->why, &res);
    }
}

int rc_targets_select(const char *const *names, size_t n_names, const char *const *plugin_paths,
                      size_t n_paths, double timeout_s, rc_target_list *out, char *err,
                      size_t err_len)
{
    memset(out, 0, sizeof *out);
    snprintf(err, err_len, "out of memory");
    if (n_paths && !(out->plugins = calloc(n_paths, sizeof *out->plugins)))
        return -1;
    for (size_t i = 0; i < n_names; i++)
        if (add_names(out, &builtin_catalog, names[i], err, err_len) != 0)
            goto fail;
    if (n_names == 0 && n_paths == 0 && add_names(out, &builtin_catalog, "all", err, err_len) != 0)
        goto fail;
    for (size_t i = 0; i < n_paths; i++) {
        char why[256];
        if (rc_guarded_probe_plugin(plugin_paths[i], timeout_s, why, sizeof why, NULL) != 0) {
            /* Never loaded here: its constructors already misbehaved once. */
            if (push_broken(out, plugin_paths[i], why) != 0)
                goto fail;
            continue;
        }
        if (rc_plugin_load(plugin_paths[i], &out->plugins[out->n_plugins], err, err_len) != 0)
            goto fail;
        const rc_impl *impl = out->plugins[out->n_plugins++].impl;
        if (name_taken(out, impl)) {
            snprintf(err, err_len, "plug-in '%s' is named '%s', like another implementation of "
                     "this run: results would be merged (rename it)", plugin_paths[i],
                     impl->name);
            goto fail;
        }
        if (push(out, impl, plugin_paths[i]) != 0)
            goto fail;
    }
    probe_availability(out, timeout_s);
    return 0;
fail:
    rc_targets_free(out);
    return -1;
}

int rc_targets_select_runner(const char *command, const char *const *names, size_t n_names,
                             double timeout_s, rc_target_list *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    /* A blank command is the user's typo (exit 2), not a runner that
     * failed to start (BROKEN, exit 3). */
    if (!command || !command[strspn(command, " \t")]) {
        snprintf(err, err_len, "--runner needs a command (it is run by /bin/sh -c)");
        return -1;
    }
    if (rc_runner_open(command, timeout_s, err, err_len) != 0)
        return -2;
    out->runner_open = 1;
    snprintf(err, err_len, "out of memory");
    for (size_t i = 0; i < n_names; i++)
        if (add_names(out, &runner_catalog, names[i], err, err_len) != 0)
            goto fail;
    if (n_names == 0 && add_names(out, &runner_catalog, "all", err, err_len) != 0)
        goto fail;
    probe_availability(out, timeout_s);
    return 0;
fail:
    rc_targets_free(out);
    return -1;
}

void rc_targets_free(rc_target_list *l)
{
    if (l->runner_open)
        rc_runner_close();
    /* Plug-ins stay mapped: dlclose would run their destructors in this
     * process (cli/main.c ends the process without running them). */
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].owned);
    free(l->plugins);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int rc_memory_limit_option(const char *arg, char *err, size_t err_len)
{
    size_t bytes;
    if (rc_parse_mib(arg, &bytes) != 0) {
        snprintf(err, err_len, "--memory-limit '%s' must be a decimal integer in [0, 2^30] MiB",
                 arg);
        return -1;
    }
    rc_guarded_set_limits(bytes);
    return 0;
}
