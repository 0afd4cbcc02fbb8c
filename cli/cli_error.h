/*
 * cli/cli_error.h - the one line a command prints when it refuses or
 * fails, with whatever it echoes made safe.
 *
 * Messages quote values ropecheck did not write: arguments, text from
 * config and gate files, paths, a plug-in's reasons. A newline or a
 * terminal escape among them would break "one line on stderr" or rewrite
 * the screen, so the whole formatted message goes through
 * rc_escape_text (core/text_escape.h) before it is printed.
 */
#ifndef ROPECHECK_CLI_CLI_ERROR_H
#define ROPECHECK_CLI_CLI_ERROR_H

/* Prints "ropecheck CMD: MESSAGE\n" on stderr, MESSAGE escaped. */
void rc_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* value escaped into one of a few rotating static buffers, for quoting it
 * in a line that is not built by rc_cli_error (a table cell). */
const char *rc_cli_shown(const char *value);

#endif
