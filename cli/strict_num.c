/*
 * cli/strict_num.c - strict numbers and lists (cli/strict_num.h).
 */
#include "cli/strict_num.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int rc_parse_int64(const char *s, int64_t *out)
{
    const char *p = s + (*s == '-');
    if (!isdigit((unsigned char)*p))
        return -1; /* blanks, '+', empty, "-" */
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int rc_parse_finite(const char *s, double *out)
{
    const char *p = s + (*s == '-');
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return -1; /* blanks, '+', inf, nan, empty */
    if (strpbrk(s, "xXpP"))
        return -1; /* hex floats */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int rc_list_has_empty_item(const char *list)
{
    size_t n = strlen(list);
    return n == 0 || list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,") != NULL;
}

int rc_parse_mib(const char *s, size_t *bytes)
{
    int64_t mib;
    if (rc_parse_int64(s, &mib) != 0 || mib < 0 || mib > ((int64_t)1 << 30))
        return -1;
    *bytes = (size_t)mib << 20;
    return 0;
}
