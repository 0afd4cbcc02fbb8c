/*
 * cli/strict_num.h - the strict forms of numbers and lists on the command
 * line. strtoll alone accepts leading blanks, a '+', and stops silently at
 * junk; strtok skips empty items. A typo must be an error, not a
 * different run.
 */
#ifndef ROPECHECK_CLI_STRICT_NUM_H
#define ROPECHECK_CLI_STRICT_NUM_H

#include <stddef.h>
#include <stdint.h>

/* A decimal integer: an optional '-', then digits only, in int64 range.
 * 0 with *out set, or -1. */
int rc_parse_int64(const char *s, int64_t *out);

/* A finite decimal or scientific number (strtod's forms but no blanks,
 * no hex, no inf/nan). 0 with *out set, or -1. */
int rc_parse_finite(const char *s, double *out);

/* A --memory-limit value: a decimal count of MiB in [0, 2^30], as bytes.
 * 0 with *bytes set, or -1. */
int rc_parse_mib(const char *s, size_t *bytes);

/* 1 when a comma list has an empty item: "", ",a", "a,", "a,,b". */
int rc_list_has_empty_item(const char *list);

#endif
