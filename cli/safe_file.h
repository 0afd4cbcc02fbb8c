/*
 * cli/safe_file.h - the files ropecheck writes and reads, safely: results
 * files that are either the old file or the new one, never a truncated
 * mix; inputs read with a size cap, from regular files only.
 *
 * A results file is written to a temporary file in the same directory,
 * flushed to disk and checked, then renamed over the target (rename is
 * atomic within a file system). A full disk, a quota, a write error or a
 * signal leaves the previous file whole. Targets must be regular files
 * (or not exist): a device (/dev/full), a FIFO or a directory is refused
 * up front, so a run never blocks on a FIFO or "succeeds" into a device.
 */
#ifndef ROPECHECK_CLI_SAFE_FILE_H
#define ROPECHECK_CLI_SAFE_FILE_H

#include <stddef.h>

/* Can `path` receive a results file? It must not exist, or be a regular
 * file, and its directory must be writable. 0, or -1 with one line in
 * err. Call it before a long run, so a typo fails in a second. */
int rc_output_check(const char *path, char *err, size_t err_len);

/* Write len bytes to path atomically (see above). 0, or -1 with one line
 * in err (the previous file, if any, is untouched). */
int rc_atomic_write(const char *path, const void *data, size_t len, char *err, size_t err_len);

/* Read at most max_bytes of a regular file into a malloc'd, NUL-terminated
 * buffer. NULL with one line in err when the file is missing, not regular,
 * larger than max_bytes or unreadable. */
char *rc_read_regular_file(const char *path, size_t max_bytes, size_t *len_out, char *err,
                           size_t err_len);

#endif
