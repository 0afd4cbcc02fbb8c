/*
 * cli/coverage.c - the cells of the default verify run (cli/coverage.h).
 *
 * Sizes: the reference computes every output element in MPFR at a few
 * 1e5 elements per second on one core here, so the matrix holds about
 * 1.3e5 elements per (dtype, layout, direction) in its largest cell and
 * about 2.6e6 over all cells, dtypes, layouts and directions: one
 * implementation verifies in seconds.
 *
 * Every cell but the single token holds position 1, so a failing case can
 * recover theta_i = phi(1) from its outputs (harness/diagnose.c), and
 * positions that differ from the token index. Outside the dense window the
 * largest position is never the last token: a defect of the last token (a
 * vector tail) and one of the largest position (angle precision) then
 * fail different tokens and are told apart.
 */
#include "cli/coverage.h"

/* A base that is no round number and no float: a port that rounds the
 * base to an integer, to float, or replaces it by a default differs. */
#define ODD_BASE 31415.926535897932

static const rc_coverage_cell cells[] = {
    {.name = "dense", .head_dim = 128, .rotary_dim = 128, .base = 10000.0, .heads = 1,
     .positions = "0:1030", .tokens = -1, .forward = 1, .inverse = 1,
     .bug_classes = "defects at sparse positions (every period up to 1030 has a multiple "
                    "here); 1031 tokens, more than and no multiple of any vector or block "
                    "width; both directions"},
    {.name = "long", .head_dim = 128, .rotary_dim = 128, .base = 500000.0, .heads = 3,
     .positions = "1,2,3,4095,131071,16777213:16777219,1073741827,2147483646,2147483647,"
                  "lograndom:2147483647",
     .tokens = 40, .forward = 1, .inverse = 1,
     .bug_classes = "angle precision at long positions; the position rounded to float "
                    "(2^24 + 1); base ignored (Llama 3's 500000); positions unlike the "
                    "token index; 3 heads"},
    {.name = "neox", .head_dim = 96, .rotary_dim = 24, .base = 10000.0, .heads = 5,
     .positions = "0:20,4095,2147483647,131071", .tokens = -1, .forward = 1,
     .bug_classes = "partial rotary (GPT-NeoX: 24 of 96): exponent over head_dim, "
                    "passthrough channels changed; 12 pairs (no multiple of 8); 5 heads"},
    {.name = "odd-base", .head_dim = 80, .rotary_dim = 32, .base = ODD_BASE, .heads = 2,
     .positions = "0:16,65537,2147483647,16777217", .tokens = -1, .forward = 1, .inverse = 1,
     .bug_classes = "a base that is no round number (rounded or defaulted bases); partial "
                    "rotary with head_dim 80 (phi-2); inverse with partial rotary"},
    {.name = "strided", .head_dim = 72, .rotary_dim = 72, .base = 1000000.0, .heads = 3,
     .positions = "0:12,2147483647,1000003", .tokens = -1, .forward = 1, .stride_pad = 3,
     .bug_classes = "head and token strides beyond packed (gaps that must not be "
                    "written); head_dim 72, 36 pairs; base 1e6"},
    {.name = "inplace", .head_dim = 64, .rotary_dim = 48, .base = 20000.5, .heads = 4,
     .positions = "0:4,300007,5:8", .tokens = -1, .forward = 1, .inverse = 1, .inplace = 1,
     .bug_classes = "in place (out == in): a pair's second load after its first store; "
                    "partial rotary in place"},
    {.name = "specials", .head_dim = 64, .rotary_dim = 64, .base = 10000.0, .heads = 2,
     .positions = "0:3,4095,4:7", .tokens = -1, .forward = 1, .specials = 1,
     .bug_classes = "NaN and Inf inputs: a NaN turned into a number, an Inf lost"},
    {.name = "one-token", .head_dim = 128, .rotary_dim = 128, .base = 10000.0, .heads = 1,
     .positions = "131071", .tokens = -1, .forward = 1,
     .bug_classes = "a call of one token (loops that assume a full vector or block)"},
    {.name = "mrope", .head_dim = 128, .rotary_dim = 128, .base = 1000000.0, .heads = 2,
     .positions = "0:7,grid:2/4/4@8,12:15,131071/7/65535,2147483647/2147483646/2147483645,"
                  "lograndom:2147483647",
     .tokens = 64, .forward = 1, .inverse = 1, .axes = "mrope:16,24,24",
     .bug_classes = "multi-axis RoPE, for ports that offer it (the others skip the cell): "
                    "sections misassigned, axes swapped or ignored, the map on one half "
                    "only, text tokens without equal positions, positions read axis-major"},
};

size_t rc_coverage_count(void)
{
    return sizeof cells / sizeof cells[0];
}

const rc_coverage_cell *rc_coverage_get(size_t i)
{
    return i < rc_coverage_count() ? &cells[i] : 0;
}
