/*
 * core/registry.h - plug-in loading, and the checks every rc_impl must
 * pass before it is called (the built-in list is impls/builtins.h).
 */
#ifndef ROPECHECK_REGISTRY_H
#define ROPECHECK_REGISTRY_H

#include <stddef.h>

#include "ropecheck/plugin.h"

/* 0 if impl is well formed (ABI version, name, required functions);
 * else -1 with a one-line reason. */
int rc_impl_check(const rc_impl *impl, char *err, size_t err_len);

/* The capability bits ropecheck honours: caps, less what the struct's ABI
 * version cannot offer (RC_CAP_SCALING before version 2). */
uint64_t rc_impl_caps(const rc_impl *impl);

typedef struct rc_plugin {
    void *handle;
    const rc_impl *impl;
} rc_plugin;

/* dlopen a plug-in, find RC_PLUGIN_SYMBOL, check its ABI. On failure
 * returns -1 with a one-line reason: no such file, not a shared library,
 * missing symbol, returned NULL, other ABI version, malformed struct. */
int rc_plugin_load(const char *path, rc_plugin *out, char *err, size_t err_len);
void rc_plugin_unload(rc_plugin *p);

/* 1 once rc_plugin_load has loaded a plug-in in this process (main ends
 * with _exit then: a plug-in's destructors never run in the host). */
int rc_plugins_were_loaded(void);

#endif /* ROPECHECK_REGISTRY_H */
