/*
 * cli/shell_quote.h - a word as the shell reads it back, for the replay
 * commands ropecheck prints to be pasted.
 *
 * One single-quoted word ('it'\''s'), so blanks, $(...) and globs are
 * data; control characters, which a single-quoted word would carry raw
 * onto the terminal and across lines, are spliced in as bash/zsh/ksh
 * ANSI-C quotes ($'\x0a', $'\x1b'). Every word is quoted, plain ones
 * too: one rule is easier to check by eye.
 */
#ifndef ROPECHECK_CLI_SHELL_QUOTE_H
#define ROPECHECK_CLI_SHELL_QUOTE_H

#include <stddef.h>

/* Writes the quoted word into out (NUL-terminated). Returns the length
 * the whole word needs, as snprintf does: >= out_len means it was cut. */
size_t rc_shell_quote(const char *word, char *out, size_t out_len);

#endif
