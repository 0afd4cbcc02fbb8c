/*
 * harness/guarded_buf.c - shared buffers fenced by guard pages and canaries.
 *
 * Layout of one mapping (P = page size):
 *
 *   [ guard P | canaries below | data (len) | canaries above (< 64) | guard P ]
 *
 * The mapping is MAP_SHARED so that what a forked child writes is what the
 * parent reads back. `data` is 64-byte aligned (what SIMD ports may assume)
 * and pushed as close to the trailing guard page as that alignment allows,
 * so a write just past the end either lands in the few canary bytes above
 * or faults on the guard page. A write below the start lands in the
 * (larger) canary slack below or faults on the leading guard page.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS on glibc in strict C11 mode */

#include "harness/guarded_call.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

#define DATA_ALIGN 64u

/* The canary byte at offset k of the region between the guards. Every byte
 * is in 0xA0..0xBF: never 0, never 0xFF (NaN fill), and any 2, 4 or 8 bytes
 * of it read as an odd-looking negative number, not as a value an
 * implementation is likely to store (0, 1.0, a copied input). The position
 * dependence catches a shifted copy of the pattern. */
static unsigned char canary_byte(size_t k)
{
    return (unsigned char)(0xA0u | ((k * 7u + 5u) & 0x1Fu));
}

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096u;
}

int rc_guarded_buf_alloc(rc_guarded_buf *b, size_t len)
{
    b->data = NULL;
    b->len = 0;
    b->map = NULL;
    b->map_len = 0;

    size_t page = page_size();
    /* Inner region: len rounded up to whole pages, at least one page so a
     * zero-length buffer still has a valid data pointer with canaries. */
    if (len > SIZE_MAX - 3 * page) {
        errno = ENOMEM;
        return -1;
    }
    size_t inner = len == 0 ? page : (len + page - 1) / page * page;
    size_t map_len = inner + 2 * page;

    void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    unsigned char *base = map;
    if (mprotect(base, page, PROT_NONE) != 0 ||
        mprotect(base + page + inner, page, PROT_NONE) != 0) {
        int saved = errno;
        munmap(map, map_len);
        errno = saved;
        return -1;
    }

    /* Highest 64-byte aligned start that still fits len before the guard.
     * The region starts on a page (a multiple of 64), so rounding the
     * offset inside it down keeps the alignment. */
    size_t offset = (inner - len) / DATA_ALIGN * DATA_ALIGN;
    unsigned char *region = base + page;
    for (size_t k = 0; k < inner; k++)
        region[k] = canary_byte(k);

    b->data = region + offset;
    b->len = len;
    b->map = map;
    b->map_len = map_len;
    return 0;
}

void rc_guarded_buf_free(rc_guarded_buf *b)
{
    if (b->map)
        munmap(b->map, b->map_len);
    b->data = NULL;
    b->len = 0;
    b->map = NULL;
    b->map_len = 0;
}

int rc_guarded_buf_canaries_intact(const rc_guarded_buf *b, char *detail, size_t detail_len)
{
    if (detail && detail_len)
        detail[0] = '\0';
    if (!b->map)
        return 1;
    size_t page = page_size();
    const unsigned char *region = (const unsigned char *)b->map + page;
    size_t inner = b->map_len - 2 * page;
    size_t below = (size_t)(b->data - region);
    size_t above_start = below + b->len;

    /* Name the changed range relative to the data: data-4 .. data-1 is an
     * f32 element stored at index -1, end+0 .. end+3 one stored at index
     * len/4 (end = data+len). */
    size_t n_below = 0, far_below = 0, near_below = 0;
    for (size_t k = 0; k < below; k++) {
        if (region[k] != canary_byte(k)) {
            if (n_below == 0)
                far_below = below - k;
            near_below = below - k;
            n_below++;
        }
    }
    size_t n_above = 0, near_above = 0, far_above = 0;
    for (size_t k = above_start; k < inner; k++) {
        if (region[k] != canary_byte(k)) {
            if (n_above == 0)
                near_above = k - above_start;
            far_above = k - above_start;
            n_above++;
        }
    }
    if (n_below == 0 && n_above == 0)
        return 1;
    if (detail && detail_len) {
        int used = 0;
        if (n_below)
            used = snprintf(detail, detail_len,
                            "canary below the start overwritten: %zu byte%s changed in "
                            "data-%zu .. data-%zu",
                            n_below, n_below == 1 ? "" : "s", far_below, near_below);
        if (n_above && used >= 0 && (size_t)used < detail_len)
            snprintf(detail + used, detail_len - (size_t)used,
                     "%scanary above the end overwritten: %zu byte%s changed in end+%zu .. "
                     "end+%zu (end = data+len)",
                     used ? "; " : "", n_above, n_above == 1 ? "" : "s", near_above, far_above);
    }
    return 0;
}
