/* impls/scalar/scalar.h - the portable C11 implementation (always there). */
#ifndef ROPECHECK_IMPL_SCALAR_H
#define ROPECHECK_IMPL_SCALAR_H

#include "ropecheck/plugin.h"

extern const rc_impl rc_impl_scalar;

#endif
