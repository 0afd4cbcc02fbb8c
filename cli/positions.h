/*
 * cli/positions.h - the --positions language.
 *
 *   ITEM[,ITEM...]   ITEM is one of
 *     M              one position
 *     A:B            every position from A to B inclusive
 *     random:MAX     fill the remaining tokens uniformly from [0, MAX]
 *     lograndom:MAX  fill them log-uniformly from [0, MAX] (every scale)
 *
 * Explicit items come first, in order; at most one random item. Without a
 * random item the token count is the number of explicit positions (and
 * --tokens, if given, must agree); with one, --tokens (default 256) sets
 * the total. Positions must lie in [0, 2^53-1].
 *
 * With a multi-axis spec (n_axes >= 2: M-RoPE, 2-D vision RoPE) every
 * token has n_axes positions, and the items are
 *     P0/P1/..       one token with these positions (n_axes of them)
 *     M, A:B         text tokens: every axis at the same position, as the
 *                    models give text (DESIGN.md, "Multi-axis RoPE")
 *     grid:G0/G1/..@S  an image block: every (S+i0, S+i1, ..), i_k < G_k,
 *                    the last axis fastest (Qwen2-VL's get_rope_index)
 *     random:MAX, lograndom:MAX  each position of each token drawn alone
 * and the array is token-major: positions[t * n_axes + k].
 */
#ifndef ROPECHECK_CLI_POSITIONS_H
#define ROPECHECK_CLI_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

#define RC_DEFAULT_RANDOM_TOKENS 256
#define RC_MAX_TOKENS ((int64_t)1 << 24)

/* Parses spec and draws the random part from seed. tokens_requested is
 * --tokens or -1 when absent. On success returns 0 and a malloc'd array
 * in *out (*n entries); on error -1 with one line in err. */
int rc_positions_parse(const char *spec, int64_t tokens_requested, uint64_t seed, int64_t **out,
                       int64_t *n, char *err, size_t err_len);

/* The same with n_axes positions per token (1: rc_positions_parse); *n
 * counts tokens, *out holds *n * n_axes entries. */
int rc_positions_parse_axes(const char *spec, int32_t n_axes, int64_t tokens_requested,
                            uint64_t seed, int64_t **out, int64_t *n, char *err,
                            size_t err_len);

#endif
