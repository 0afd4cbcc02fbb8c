/*
 * cli/json_num.h - a double in the results JSON: a number when finite,
 * else the string "nan", "inf" or "-inf" (JSON has no non-finite numbers;
 * reports/schema/results.schema.json calls this "num").
 */
#ifndef ROPECHECK_CLI_JSON_NUM_H
#define ROPECHECK_CLI_JSON_NUM_H

#include <cjson/cJSON.h>

void rc_json_add_num(cJSON *o, const char *key, double v);

#endif
