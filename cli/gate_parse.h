/*
 * cli/gate_parse.h - the --gate option.
 *
 * Either a file holding JSON, e.g.
 *     {"f32": {"pair": 2, "component": 64}, "bf16": {"pair": 1},
 *      "positions_below": 2147483648}
 * or a comma list of [DTYPE:]METRIC=VALUE, METRIC being pair or component,
 * and positions-below=N; without DTYPE a threshold applies to every dtype.
 *     --gate pair=1            --gate f32:pair=1.5,f16:component=4
 * Whatever is not named keeps its default (harness/verify.h). Thresholds
 * are decimal numbers >= 0 or "inf" (no limit); positions-below a positive
 * decimal integer; no blanks, signs, hex or empty items. A key given twice
 * in the file is refused.
 */
#ifndef ROPECHECK_CLI_GATE_PARSE_H
#define ROPECHECK_CLI_GATE_PARSE_H

#include <stddef.h>

#include "harness/verify.h"

/* Applies arg on top of *gate. 0, or -1 with one line in err. */
int rc_gate_parse(const char *arg, rc_gate *gate, char *err, size_t err_len);

#endif
