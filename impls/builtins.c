/*
 * impls/builtins.c - the static list of built-in implementations
 * (builtins.h).
 *
 * Scalar is first: it is always available and is the yardstick the
 * optimized ports are compared with. New ports add one line below.
 */
#include "impls/builtins.h"

#include <string.h>

#include "impls/avx2/avx2.h"
#include "impls/avx512/avx512.h"
#include "impls/cuda/cuda.h"
#include "impls/scalar/scalar.h"

static const rc_impl *const builtins[] = {
    &rc_impl_scalar,
    &rc_impl_avx2,
    &rc_impl_avx2_table,
    &rc_impl_avx512,
    &rc_impl_avx512_table,
    &rc_impl_cuda, &rc_impl_cuda_fused,
};

size_t rc_builtin_count(void)
{
    return sizeof builtins / sizeof builtins[0];
}

const rc_impl *rc_builtin_get(size_t i)
{
    return i < rc_builtin_count() ? builtins[i] : NULL;
}

const rc_impl *rc_builtin_find(const char *name)
{
    for (size_t i = 0; i < rc_builtin_count(); i++)
        if (strcmp(builtins[i]->name, name) == 0)
            return builtins[i];
    return NULL;
}
