/*
 * cli/caps.h - capability bits (plugin.h) by name: "f32", "inverse", ...
 * as `ropecheck list` prints them and `--require` reads them.
 */
#ifndef ROPECHECK_CLI_CAPS_H
#define ROPECHECK_CLI_CAPS_H

#include <stddef.h>
#include <stdint.h>

/* "f32,f64,...": the names of the bits set in caps. */
void rc_caps_text(uint64_t caps, char *buf, size_t len);

/* A comma list of names into bits. 0, or -1 with one line in err. */
int rc_caps_parse(const char *list, uint64_t *caps, char *err, size_t err_len);

#endif
