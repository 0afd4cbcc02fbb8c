/*
 * cli/cli_error.c - see cli_error.h.
 */
#include "cli/cli_error.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/text_escape.h"

void rc_cli_error(const char *cmd, const char *fmt, ...)
{
    char raw[2048], shown[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    rc_escape_text(raw, shown, sizeof shown);
    fprintf(stderr, "ropecheck %s: %s\n", cmd, shown);
}

const char *rc_cli_shown(const char *value)
{
    /* Several per printf: a row may show a name and a reason. */
    static char ring[4][1024];
    static unsigned next;
    char *out = ring[next++ % 4];
    rc_escape_text(value ? value : "(null)", out, sizeof ring[0]);
    return out;
}
