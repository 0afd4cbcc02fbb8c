/*
 * tests/fuzz/fuzz_bench_json.c - the C side's reading of Google
 * Benchmark's JSON: augment_json in cli/cmd_bench.c, which reads the file
 * Google Benchmark wrote (rc_read_regular_file, cJSON_Parse), adds the
 * schema keys and the "ropecheck" block and writes the whole out
 * (cJSON_Print, rc_atomic_write). It is static there, so this harness
 * compiles cmd_bench.c into itself; rc_atomic_write is wrapped
 * (-Wl,--wrap=rc_atomic_write) so that no execution touches the disk or
 * fsyncs, and the text that would be written is checked instead. The
 * input is Google Benchmark's file, written to a private temporary file.
 *
 * Properties: what would be written is one JSON text that parses back;
 * whatever Google Benchmark's file held (an object, an array, a number,
 * nothing usable), the result is one object with the "ropecheck" block,
 * the schema and a "benchmarks" array, each named once.
 */
#include "fuzz_common.h"

#include <cjson/cJSON.h>

#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunused-function"
#else
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "cli/cmd_bench.c"

int __wrap_rc_atomic_write(const char *path, const void *data, size_t len, char *err,
                           size_t err_len);

static int g_written;

/* Members named `key` in obj: a results file never holds two. */
static int count_named(const cJSON *obj, const char *key)
{
    int n = 0;
    for (const cJSON *it = obj->child; it; it = it->next)
        n += it->string && strcmp(it->string, key) == 0;
    return n;
}

int __wrap_rc_atomic_write(const char *path, const void *data, size_t len, char *err,
                           size_t err_len)
{
    (void)path;
    (void)err;
    (void)err_len;
    g_written = 1;
    FUZZ_CHECK(data != NULL && memchr(data, '\0', len) == NULL);
    /* To see what a replayed input would write: FUZZ_BENCH_JSON_SHOW=1. */
    if (getenv("FUZZ_BENCH_JSON_SHOW"))
        fprintf(stderr, "would write %zu bytes:\n%.*s\n", len, (int)len, (const char *)data);
    cJSON *back = cJSON_ParseWithLength(data, len);
    FUZZ_CHECK(back != NULL);
    /* Whatever Google Benchmark's file held (an array, a number, our own
     * member names), what is written is one results object. */
    FUZZ_CHECK(cJSON_IsObject(back));
    FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(back, "ropecheck")));
    FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(back, "schema")));
    FUZZ_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(back, "benchmarks")));
    static const char *const ours[] = {"schema", "schema_version", "kind", "ropecheck",
                                       "benchmarks"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        FUZZ_CHECK(count_named(back, ours[i]) == 1);
    cJSON_Delete(back);
    return 0;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp(data, size);

    cJSON *block = cJSON_CreateObject();
    if (!block)
        abort();
    cJSON_AddStringToObject(block, "kind", "bench");
    char err[512];
    g_written = 0;
    int rc = augment_json(path, "/nonexistent/fuzz-results.json", block, err, sizeof err);
    FUZZ_CHECK(rc != 0 || g_written);
    return 0;
}
