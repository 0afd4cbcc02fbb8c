/*
 * core/plugin_loader.c - load a vendor's port from a shared library.
 *
 * Every way a path can fail to be a usable plug-in gets its own message:
 * a user who typed the wrong path and a vendor who forgot `extern "C"` need
 * different hints. The entry point is called in this process: it must only
 * return a pointer to a static struct (plugin.h says so); everything else
 * the plug-in does runs in guarded children.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/registry.h"

static int plugins_loaded;

int rc_plugin_load(const char *path, rc_plugin *out, char *err, size_t err_len)
{
    out->handle = NULL;
    out->impl = NULL;

    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_len, "plug-in '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "plug-in '%s': not a regular file", path);
        return -1;
    }
    /* dlopen searches the library path for names without a slash; a plug-in
     * argument is always a file, so make it a path. */
    char local[4096];
    const char *open_path = path;
    if (!strchr(path, '/')) {
        snprintf(local, sizeof local, "./%s", path);
        open_path = local;
    }
    void *handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(err, err_len, "plug-in '%s': not a loadable shared library (%s)", path,
                 why ? why : "unknown reason");
        return -1;
    }
    /* POSIX dlsym returns void*; converting it to a function pointer is the
     * documented way to use it (memcpy avoids the ISO C cast warning). */
    void *sym = dlsym(handle, RC_PLUGIN_SYMBOL);
    if (!sym) {
        snprintf(err, err_len,
                 "plug-in '%s': no symbol %s (export `const rc_impl *%s(void)`; in C++ "
                 "declare it extern \"C\")",
                 path, RC_PLUGIN_SYMBOL, RC_PLUGIN_SYMBOL);
        dlclose(handle);
        return -1;
    }
    rc_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const rc_impl *impl = entry();
    char why[256];
    if (rc_impl_check(impl, why, sizeof why) != 0) {
        snprintf(err, err_len, "plug-in '%s': %s", path, why);
        dlclose(handle);
        return -1;
    }
    out->handle = handle;
    out->impl = impl;
    plugins_loaded = 1;
    return 0;
}

int rc_plugins_were_loaded(void)
{
    return plugins_loaded;
}

void rc_plugin_unload(rc_plugin *p)
{
    if (p->handle)
        dlclose(p->handle);
    p->handle = NULL;
    p->impl = NULL;
}
