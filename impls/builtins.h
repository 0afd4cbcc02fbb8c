/*
 * impls/builtins.h - the built-in implementations: one static list, scalar
 * first as the always-present fallback (BLIS-style: the ports register
 * here, above core/, which knows none of them).
 */
#ifndef ROPECHECK_IMPLS_BUILTINS_H
#define ROPECHECK_IMPLS_BUILTINS_H

#include <stddef.h>

#include "ropecheck/plugin.h"

size_t rc_builtin_count(void);
const rc_impl *rc_builtin_get(size_t i);
const rc_impl *rc_builtin_find(const char *name);

#endif /* ROPECHECK_IMPLS_BUILTINS_H */
