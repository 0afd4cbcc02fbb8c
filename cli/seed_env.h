/*
 * cli/seed_env.h - the default seed from $ROPECHECK_SEED, strictly: a
 * typo or an empty variable must not silently become seed 0 (a run that
 * looks reseeded and is not).
 */
#ifndef ROPECHECK_CLI_SEED_ENV_H
#define ROPECHECK_CLI_SEED_ENV_H

#include <stddef.h>
#include <stdint.h>

/* Unset: *seed unchanged, 0. Set to a non-negative integer (decimal, or
 * 0x hexadecimal): *seed = it, 0. Anything else, empty included: -1 with
 * one line in err. */
int rc_seed_from_env(uint64_t *seed, char *err, size_t err_len);

#endif
