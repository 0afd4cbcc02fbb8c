/* impls/neon/neon.h - the AArch64 NEON implementation. Built only for
 * aarch64 (into ropecheck-runner by a cross build, see runner/); an x86
 * ropecheck reaches it through --runner. */
#ifndef ROPECHECK_IMPL_NEON_H
#define ROPECHECK_IMPL_NEON_H

#include "ropecheck/plugin.h"

extern const rc_impl rc_impl_neon;       /* fused angles: per token */
extern const rc_impl rc_impl_neon_table; /* table angles: all positions first */

#endif
