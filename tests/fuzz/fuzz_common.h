/*
 * tests/fuzz/fuzz_common.h - what the harnesses share: the libFuzzer entry
 * point's prototype, a NUL-terminated copy of the input, and one private
 * temporary file per process for the parsers that only take a path.
 *
 * Each harness defines FUZZ_ENTRY (LLVMFuzzerTestOneInput in the fuzz
 * build; fuzz_<name>_one when tests/fuzz/test_fuzz_regressions.c links
 * every harness into one Criterion binary of the normal build).
 */
#ifndef ROPECHECK_TESTS_FUZZ_COMMON_H
#define ROPECHECK_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

/* A property the parser promises was broken: crash, so libFuzzer saves
 * the input (and Criterion reports the test as crashed). */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* data as a malloc'ed C string (cut at the first NUL, as argv would be). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The first line of data (to '\n', exclusive) and, in *rest, what follows
 * it (NULL when there is no '\n'). Both malloc'ed, NUL-terminated. */
static inline char *fuzz_split_line(const uint8_t *data, size_t size, char **rest,
                                    size_t *rest_len)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    char *first = fuzz_cstr(data, head);
    *rest = nl ? fuzz_cstr(nl + 1, size - head - 1) : NULL;
    *rest_len = nl ? size - head - 1 : 0;
    return first;
}

/* This process's temporary file, made with mkstemp in $TMPDIR (else /tmp)
 * on first use and removed at exit. (A crash skips exit handlers: tools/fuzz
 * points TMPDIR at a folder it removes itself.) */
static char fuzz_temp_name[4096];

static inline void fuzz_temp_remove(void)
{
    if (fuzz_temp_name[0])
        unlink(fuzz_temp_name);
}

static inline const char *fuzz_temp_path(void)
{
    if (!fuzz_temp_name[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_temp_name, sizeof fuzz_temp_name, "%s/ropecheck-fuzz.XXXXXX",
                 dir && *dir ? dir : "/tmp");
        int fd = mkstemp(fuzz_temp_name);
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        atexit(fuzz_temp_remove);
    }
    return fuzz_temp_name;
}

/* Replaces the temporary file's contents with data; returns its path. */
static inline const char *fuzz_write_temp(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path();
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: writing the temporary file");
        abort();
    }
    return path;
}

#endif
