/*
 * cli/scaling_parse.h - the --scaling option: a frequency-scaling family
 * and its parameters (rope.h, rc_scaling) typed on the command line.
 *
 *   FAMILY[:KEY=VALUE[,KEY=VALUE...]]
 *
 *   none
 *   linear:factor=8
 *   ntk:factor=4                                  (NTK-aware, static)
 *   dynamic:factor=2,original=4096
 *   yarn:factor=4,original=32768[,beta_fast=32,beta_slow=1,truncate=1,
 *        mscale=M,mscale_all_dim=M,attention_factor=A]
 *   llama3:factor=8,low=1,high=4,original=8192
 *   longrope:short=@FILE,long=@FILE,factor=32,original=4096[,attention_factor=A]
 *   table:@FILE                                   (theta_i itself, per pair)
 *
 * Keys are Hugging Face's rope_scaling names; the short forms original,
 * low, high, short, long stand for original_max_position_embeddings,
 * low_freq_factor, high_freq_factor, short_factor, long_factor. Defaults
 * are Hugging Face's: beta_fast 32, beta_slow 1, truncate 1; mscale,
 * mscale_all_dim and attention_factor absent (0: the attention factor comes
 * from the formula). Every other key a family uses is required: on the
 * command line there is no max_position_embeddings to fall back on.
 *
 * @FILE holds one number per line (decimal or C99 hex float, so exact
 * values can be given); blank lines and text after '#' are ignored. It
 * must hold exactly rotary_dim/2 numbers.
 *
 * The `context` field (L) is not set here (0): the caller sets it from the
 * positions under test.
 */
#ifndef ROPECHECK_CLI_SCALING_PARSE_H
#define ROPECHECK_CLI_SCALING_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/rope.h"

/* Parses text for rotary_dim r (even, >= 2) into *out and checks it with
 * rc_scaling_check (context aside). The arrays *out points to (table,
 * short_factor, long_factor) are allocated here and belong to the caller:
 * release them with rc_scaling_free_arrays. 0, or -1 with one line in err
 * naming the key at fault (nothing to free then). */
int rc_scaling_parse(const char *text, int32_t rotary_dim, rc_scaling *out, char *err,
                     size_t err_len);

/* Frees table / short_factor / long_factor of a scaling whose arrays were
 * allocated by rc_scaling_parse or the model-config reader, and sets the
 * pointers to NULL. */
void rc_scaling_free_arrays(rc_scaling *sc);

/* Reads FILE's numbers (format above) into a malloc'd array of exactly
 * `expect` entries. `what` names the key in messages. 0 or -1 with err. */
int rc_scaling_read_numbers(const char *path, const char *what, int32_t expect, double **out,
                            char *err, size_t err_len);

#endif
