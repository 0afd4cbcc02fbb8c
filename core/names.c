/*
 * core/names.c - the text names of dtypes, layouts, directions and
 * statuses (rope.h), one table each so names and parsers cannot disagree.
 */
#include <string.h>

#include "ropecheck/rope.h"

static const char *const dtype_names[RC_DTYPE_COUNT] = {"f32", "f64", "f16", "bf16"};
static const size_t dtype_sizes[RC_DTYPE_COUNT] = {4, 8, 2, 2};
static const char *const layout_names[RC_LAYOUT_COUNT] = {"interleaved", "half"};
static const char *const direction_names[RC_DIRECTION_COUNT] = {"forward", "inverse"};
static const char *const scaling_names[RC_SCALING_TYPE_COUNT] = {
    "none", "linear", "ntk", "dynamic", "yarn", "llama3", "longrope", "table"};
static const char *const status_names[] = {"ok", "unsupported", "invalid", "out of memory",
                                           "device error", "internal error"};

size_t rc_dtype_size(rc_dtype t)
{
    return (unsigned)t < RC_DTYPE_COUNT ? dtype_sizes[t] : 0;
}

const char *rc_dtype_name(rc_dtype t)
{
    return (unsigned)t < RC_DTYPE_COUNT ? dtype_names[t] : "?";
}

const char *rc_layout_name(rc_layout l)
{
    return (unsigned)l < RC_LAYOUT_COUNT ? layout_names[l] : "?";
}

const char *rc_direction_name(rc_direction d)
{
    return (unsigned)d < RC_DIRECTION_COUNT ? direction_names[d] : "?";
}

const char *rc_status_name(rc_status s)
{
    size_t n = sizeof status_names / sizeof status_names[0];
    return (unsigned)s < n ? status_names[s] : "unknown status";
}

const char *rc_scaling_type_name(rc_scaling_type t)
{
    return (unsigned)t < RC_SCALING_TYPE_COUNT ? scaling_names[t] : "?";
}

static int lookup(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int rc_dtype_parse(const char *s, rc_dtype *out)
{
    int i = lookup(s, dtype_names, RC_DTYPE_COUNT);
    if (i < 0)
        return -1;
    *out = (rc_dtype)i;
    return 0;
}

int rc_layout_parse(const char *s, rc_layout *out)
{
    int i = lookup(s, layout_names, RC_LAYOUT_COUNT);
    if (i < 0)
        return -1;
    *out = (rc_layout)i;
    return 0;
}

int rc_scaling_type_parse(const char *s, rc_scaling_type *out)
{
    int i = lookup(s, scaling_names, RC_SCALING_TYPE_COUNT);
    if (i < 0)
        return -1;
    *out = (rc_scaling_type)i;
    return 0;
}
