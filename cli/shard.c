/*
 * cli/shard.c - parsing --shard and telling a run's own options from the
 * per-invocation ones (shard.h).
 */
#include "cli/shard.h"

#include <stdio.h>
#include <string.h>

#include "cli/strict_num.h"

int rc_shard_parse(const char *s, int64_t *k, int64_t *n, char *err, size_t err_len)
{
    char kbuf[32];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || (size_t)(slash - s) >= sizeof kbuf) {
        snprintf(err, err_len, "'%s' is not K/N (e.g. 2/8: the second of 8 shards)",
                 s ? s : "");
        return -1;
    }
    memcpy(kbuf, s, (size_t)(slash - s));
    kbuf[slash - s] = '\0';
    if (rc_parse_int64(kbuf, k) != 0 || rc_parse_int64(slash + 1, n) != 0) {
        snprintf(err, err_len, "'%s' is not K/N with decimal K and N", s);
        return -1;
    }
    if (*n < 1 || *n > RC_SHARD_MAX || *k < 1 || *k > *n) {
        snprintf(err, err_len, "'%s': need 1 <= K <= N <= %d", s, RC_SHARD_MAX);
        return -1;
    }
    return 0;
}

int rc_shard_ignored_option(char *const *argv, int argc, int i, int *width)
{
    /* --jobs and --oracle change how fast, never what: shards may differ in
     * them; --checkpoint (sweep) is where a run keeps its place */
    static const char *const with_value[] = {"--shard", "--json",   "--junit",
                                             "--jobs",  "--oracle", "--checkpoint"};
    const char *a = argv[i];
    *width = 1;
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
        return 1;
    for (size_t j = 0; j < sizeof with_value / sizeof with_value[0]; j++) {
        const size_t n = strlen(with_value[j]);
        if (strncmp(a, with_value[j], n) != 0)
            continue;
        if (a[n] == '=')
            return 1;
        if (a[n] == '\0') {
            *width = i + 1 < argc ? 2 : 1;
            return 1;
        }
    }
    return 0;
}

int64_t rc_shard_slices(int64_t shard_n, int64_t cases_total, int64_t n_tokens)
{
    if (shard_n <= cases_total || cases_total <= 0)
        return 1;
    const int64_t s = (shard_n + cases_total - 1) / cases_total;
    return s < n_tokens ? s : (n_tokens > 0 ? n_tokens : 1);
}

void rc_shard_slice_tokens(int64_t j, int64_t slices, int64_t n_tokens, int64_t *t0, int64_t *t1)
{
    /* n_tokens <= 2^24 and slices <= 2^16: the products fit */
    *t0 = j * n_tokens / slices;
    *t1 = (j + 1) * n_tokens / slices;
}
