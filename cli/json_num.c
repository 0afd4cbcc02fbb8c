/*
 * cli/json_num.c - see json_num.h.
 */
#include "cli/json_num.h"

#include <math.h>

void rc_json_add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddStringToObject(o, key, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}
