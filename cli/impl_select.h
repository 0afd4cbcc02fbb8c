/*
 * cli/impl_select.h - turn --impl/--plugin options into the list of
 * implementations a command runs over, with their availability here.
 */
#ifndef ROPECHECK_CLI_IMPL_SELECT_H
#define ROPECHECK_CLI_IMPL_SELECT_H

#include <stddef.h>

#include "core/registry.h"

typedef struct rc_target {
    const rc_impl *impl;
    const char *plugin_path; /* NULL for built-ins */
    int available;
    char why[256];           /* when not available, or broken */
    /* A plug-in that crashed, hung, exited or handed a bad descriptor while
     * loading (in a guarded child): impl is a placeholder carrying a name
     * for the table, never called (available is 0); every case of it is
     * reported BROKEN with `why`. */
    int broken;
    void *owned;             /* the placeholder, freed by rc_targets_free */
} rc_target;

typedef struct rc_target_list {
    rc_target *items;
    size_t n;
    rc_plugin *plugins; /* loaded plug-ins, unloaded by rc_targets_free */
    size_t n_plugins;
    int runner_open;    /* rc_runner_open succeeded: closed by rc_targets_free */
} rc_target_list;

/* names: comma-separated built-in names or "all" (NULL: all built-ins
 * unless plug-ins are given); plugin_paths: n_paths paths. Availability is
 * probed in guarded children. 0, or -1 with one line in err (unknown name,
 * bad plug-in). */
int rc_targets_select(const char *const *names, size_t n_names, const char *const *plugin_paths,
                      size_t n_paths, double timeout_s, rc_target_list *out, char *err,
                      size_t err_len);
void rc_targets_free(rc_target_list *l);

/* --memory-limit MIB (every command that runs ports): a decimal integer in
 * [0, 2^30], applied to every guarded call of the process
 * (rc_guarded_set_limits). 0, or -1 with one line in err. */
int rc_memory_limit_option(const char *arg, char *err, size_t err_len);

/* --runner COMMAND: the implementations come from the runner's hello
 * (harness/runner_client.h) instead of the built-ins; names resolve
 * against it ("all" or none: everything it offers). -1 with one line in
 * err for an unknown name; -2 when the runner itself is broken (dies,
 * hangs, speaks something else): the command reports that as exit 3. */
int rc_targets_select_runner(const char *command, const char *const *names, size_t n_names,
                             double timeout_s, rc_target_list *out, char *err, size_t err_len);

#endif
