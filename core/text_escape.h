/*
 * core/text_escape.h - untrusted text made safe to print on one line.
 *
 * Anything ropecheck echoes that it did not write itself (command-line
 * values, strings from config and gate files, what a plug-in returns from
 * available() or explain(), what it prints) could otherwise move the
 * cursor, clear the screen, or forge a table row with a newline. Control
 * characters (C0, DEL, and the C1 controls U+0080..U+009F that some
 * terminals obey), and bytes that are not well-formed UTF-8, are written
 * as escapes (\n, \t, \r, \e, \xNN); everything else, UTF-8 text
 * included, passes unchanged.
 */
#ifndef ROPECHECK_CORE_TEXT_ESCAPE_H
#define ROPECHECK_CORE_TEXT_ESCAPE_H

#include <stddef.h>

/* Escapes in[0..in_len) into out (always NUL-terminated when out_len > 0).
 * Output that would not fit ends in "..." instead of a cut escape.
 * Returns the number of bytes written, without the NUL. */
size_t rc_escape_bytes(const char *in, size_t in_len, char *out, size_t out_len);

/* The same for a NUL-terminated string. */
size_t rc_escape_text(const char *in, char *out, size_t out_len);

/* 1 when s (NUL-terminated) has nothing rc_escape_text would change. */
int rc_text_is_plain(const char *s);

#endif
