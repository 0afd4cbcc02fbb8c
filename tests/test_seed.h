/*
 * tests/test_seed.h - the seed of a randomized test, one rule for all.
 *
 * $ROPECHECK_SEED when set (a decimal integer, or 0x and hex digits, in
 * 0..2^64-1), else the test's own default. It is printed on stderr, where
 * a failing ctest run shows it (cr_log_info output is hidden there). An
 * empty or malformed value is a typo, not seed 0: the test binary ends
 * with status 2 and says so, rather than running a seed nobody asked for.
 */
#ifndef ROPECHECK_TESTS_TEST_SEED_H
#define ROPECHECK_TESTS_TEST_SEED_H

#include <stdint.h>

uint64_t rc_test_seed(const char *who, uint64_t default_seed);

#endif
