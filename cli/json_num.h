/*
 * cli/json_num.h - a double in the results JSON: a number when finite,
 * else the string "nan", "inf" or "-inf" (JSON has no non-finite numbers;
 * reports/schema/results.schema.json calls this "num"), and a results
 * file written whole.
 */
#ifndef ROPECHECK_CLI_JSON_NUM_H
#define ROPECHECK_CLI_JSON_NUM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

void rc_json_add_num(cJSON *o, const char *key, double v);

/* v exactly, as C99 "%a" ("inf", "nan" for those): the form a result or a
 * state is read back from bit for bit. */
void rc_json_add_hex(cJSON *o, const char *key, double v);

/* bits as "0x..." (raw bits of a stored element or of a double). */
void rc_json_add_bits(cJSON *o, const char *key, uint64_t bits);

/* root printed (indented, with a final newline) and written whole to path
 * (cli/safe_file.h: the old file stays until the new one is complete).
 * 0, or -1 with err. */
int rc_json_write_file(const char *path, const cJSON *root, char *err, size_t err_len);

#endif
