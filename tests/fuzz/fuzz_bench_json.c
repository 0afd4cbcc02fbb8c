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
 * when Google Benchmark's file held an object (or nothing usable, which
 * is replaced by an empty results object), the result is an object with
 * the "ropecheck" block and the schema.
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

/* Whether the input parses (as augment_json parses it) to an object or
 * not at all: then the written text must be a results object. */
static int g_expect_object;
static int g_written;

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
    if (g_expect_object) {
        FUZZ_CHECK(cJSON_IsObject(back));
        FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(back, "ropecheck")));
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(back, "schema")));
    }
    cJSON_Delete(back);
    return 0;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp(data, size);
    char *text = fuzz_cstr(data, size);
    cJSON *probe = cJSON_Parse(text);
    g_expect_object = probe == NULL || cJSON_IsObject(probe);
    cJSON_Delete(probe);
    free(text);

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
