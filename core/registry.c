/*
 * core/registry.c - the well-formedness check every rc_impl passes before
 * ropecheck calls it, built-in or plug-in (the built-ins themselves are
 * listed in impls/builtins.c, above core/).
 */
#include "core/registry.h"

#include <stdio.h>
#include <string.h>

#include "core/text_escape.h"

static int name_is_valid(const char *name)
{
    if (!name || !*name || strnlen(name, 65) > 64)
        return 0;
    for (const char *p = name; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 *p == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

int rc_impl_check(const rc_impl *impl, char *err, size_t err_len)
{
    if (!impl) {
        snprintf(err, err_len, "implementation struct is NULL");
        return -1;
    }
    if (impl->abi_version < RC_ABI_VERSION_MIN || impl->abi_version > RC_ABI_VERSION) {
        snprintf(err, err_len, "ABI version %u, this ropecheck speaks versions %u to %u",
                 impl->abi_version, RC_ABI_VERSION_MIN, RC_ABI_VERSION);
        return -1;
    }
    if (!name_is_valid(impl->name)) {
        snprintf(err, err_len, "name must be 1-64 characters of [a-z0-9_-]");
        return -1;
    }
    /* Printed by list and in reports: one line of at most 200 bytes of
     * printable text (a terminal escape or a newline there could rewrite
     * the table it appears in). */
    if (impl->description) {
        const size_t n = strnlen(impl->description, RC_DESCRIPTION_MAX + 1);
        if (n > RC_DESCRIPTION_MAX) {
            snprintf(err, err_len, "'%s': description is longer than %d bytes", impl->name,
                     RC_DESCRIPTION_MAX);
            return -1;
        }
        if (!rc_text_is_plain(impl->description)) {
            snprintf(err, err_len,
                     "'%s': description has control characters or bytes that are not UTF-8",
                     impl->name);
            return -1;
        }
    }
    /* A bit no version of the ABI defines is a promise nobody can read. */
    if (impl->caps & ~RC_CAP_KNOWN) {
        snprintf(err, err_len, "'%s': caps has bits no ABI version defines (0x%llx)", impl->name,
                 (unsigned long long)(impl->caps & ~RC_CAP_KNOWN));
        return -1;
    }
    if (!impl->prepare || !impl->apply) {
        snprintf(err, err_len, "'%s': prepare and apply are required", impl->name);
        return -1;
    }
    if (!(impl->caps & RC_CAP_ALL_DTYPES) || !(impl->caps & RC_CAP_ALL_LAYOUTS)) {
        snprintf(err, err_len, "'%s': caps name no dtype or no layout", impl->name);
        return -1;
    }
    return 0;
}

uint64_t rc_impl_caps(const rc_impl *impl)
{
    /* A version-1 struct cannot know bit 20, nor one before version 4 bit
     * 21; whatever they hold there is not a promise to read rc_spec's
     * fields of the later version. */
    uint64_t caps = impl->caps;
    if (impl->abi_version < 2u)
        caps &= ~RC_CAP_SCALING;
    if (impl->abi_version < 4u)
        caps &= ~RC_CAP_MULTI_AXIS;
    return caps;
}
