/*
 * cli/coverage.h - the default run of `ropecheck verify`: a coverage
 * matrix designed from the bug classes, not from one shape.
 *
 * Each cell moves some field a port receives away from its common value
 * (base, rotary_dim < head_dim, head_dim not a multiple of 16 pairs, head
 * and token counts, strides, in place, both directions, positions from a
 * dense window to 2^31 - 1). reference/COVERAGE.md says which bug class
 * each cell exists for; a cell changes only with that table.
 *
 * With no option that shapes the spec or the tensors, verify runs every
 * cell over every dtype and layout asked for (default all); any such
 * option, or --quick, runs the single spec instead.
 */
#ifndef ROPECHECK_CLI_COVERAGE_H
#define ROPECHECK_CLI_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rc_coverage_cell {
    const char *name;      /* short label, printed with each row */
    int32_t head_dim;
    int32_t rotary_dim;
    double base;
    int64_t heads;
    const char *positions; /* the --positions language (cli/positions.h) */
    int64_t tokens;        /* --tokens for a random item; -1 without one */
    int forward, inverse;  /* directions this cell runs */
    int inplace;
    int64_t stride_pad;
    int specials;
    const char *axes;      /* NULL, or a multi-axis map as --axes spells it
                              (cli/axes_opt.h): positions are then tuples */
    const char *bug_classes; /* what the cell exists to catch (COVERAGE.md) */
} rc_coverage_cell;

/* The matrix, in run order. */
size_t rc_coverage_count(void);
const rc_coverage_cell *rc_coverage_get(size_t i);

#endif
