/*
 * cli/data_dir.h - where the files ropecheck runs but does not compile
 * (reports/ropecheck_report.py and its schema, python/ropecheck_runner)
 * are found: in an installed tree, or in the source tree it was built from.
 */
#ifndef ROPECHECK_CLI_DATA_DIR_H
#define ROPECHECK_CLI_DATA_DIR_H

#include <stddef.h>

/* The folder `sub` ("reports", "python") for this ropecheck binary, in
 * this order: the environment variable `env` when it is set and not
 * empty; `<the binary's folder>/<ROPECHECK_DATA_REL>/<sub>` when that
 * folder exists (an installed ropecheck: PREFIX/bin/../share/ropecheck,
 * wherever PREFIX was moved); else `source_dir`, the source tree's folder
 * (a build tree). Returns buf, or NULL when the path does not fit. */
const char *rc_data_dir(const char *env, const char *sub, const char *source_dir, char *buf,
                        size_t len);

#endif
