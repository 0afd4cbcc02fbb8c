/*
 * harness/guarded_view.c - the geometry of a strided view inside a guarded
 * buffer: validation (with overflow checks), the element mask used to find
 * writes into stride gaps, and readable names for byte offsets.
 */
#include "harness/guarded_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a*b for non-negative operands; 0 if it would exceed INT64_MAX. */
static int mul_ok(int64_t a, int64_t b, int64_t *r)
{
    if (a != 0 && b > INT64_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

static int add_ok(int64_t a, int64_t b, int64_t *r)
{
    if (b > INT64_MAX - a)
        return 0;
    *r = a + b;
    return 1;
}

int rc_view_geom_init(rc_view_geom *g, const rc_guarded_buf *buf, const rc_tensor *view,
                      int64_t head_dim, size_t esize, char *err, size_t err_len)
{
    memset(g, 0, sizeof *g);
    if (!view || !buf || !buf->data || esize == 0 || head_dim <= 0) {
        snprintf(err, err_len, "missing view, buffer, element size or head_dim");
        return -1;
    }
    if (view->n_tokens < 0 || view->n_heads < 0 || view->token_stride < 0 ||
        view->head_stride < 0) {
        snprintf(err, err_len, "negative count or stride (tokens %lld, heads %lld, strides %lld/%lld)",
                 (long long)view->n_tokens, (long long)view->n_heads,
                 (long long)view->token_stride, (long long)view->head_stride);
        return -1;
    }
    uintptr_t lo = (uintptr_t)buf->data, p = (uintptr_t)view->data;
    if (p < lo || p - lo > buf->len) {
        snprintf(err, err_len, "view data does not point into its buffer");
        return -1;
    }
    size_t offset = (size_t)(p - lo);
    if (offset % esize != 0) {
        snprintf(err, err_len, "view data misaligned for %zu-byte elements", esize);
        return -1;
    }

    /* Bytes spanned: (index of the last element + 1) * esize, where the
     * last element is (n_tokens-1, n_heads-1, head_dim-1). */
    size_t extent = 0;
    if (view->n_tokens > 0 && view->n_heads > 0) {
        int64_t t_off, h_off, last, count, bytes;
        if (!mul_ok(view->n_tokens - 1, view->token_stride, &t_off) ||
            !mul_ok(view->n_heads - 1, view->head_stride, &h_off) || !add_ok(t_off, h_off, &last) ||
            !add_ok(last, head_dim, &count) || !mul_ok(count, (int64_t)esize, &bytes) ||
            (uint64_t)bytes > SIZE_MAX) {
            snprintf(err, err_len, "view extent overflows (tokens %lld x stride %lld, heads %lld x "
                     "stride %lld)",
                     (long long)view->n_tokens, (long long)view->token_stride,
                     (long long)view->n_heads, (long long)view->head_stride);
            return -1;
        }
        extent = (size_t)bytes;
    }
    if (extent > buf->len - offset) {
        snprintf(err, err_len, "view needs %zu bytes from offset %zu but its buffer holds %zu",
                 extent, offset, buf->len);
        return -1;
    }
    g->offset = offset;
    g->extent = extent;
    g->esize = esize;
    g->n_tokens = view->n_tokens;
    g->n_heads = view->n_heads;
    g->token_stride = view->token_stride;
    g->head_stride = view->head_stride;
    g->head_dim = head_dim;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

rc_byte_range *rc_view_gaps(const rc_view_geom *g, size_t buf_len, size_t *count)
{
    /* Byte offsets of each (token, head)'s first channel. Every product is
     * bounded by the extent checked in init. Token-major views come out
     * sorted already; anything else (head-major, overlapping) is sorted. */
    size_t rows = (size_t)g->n_tokens * (size_t)g->n_heads;
    size_t *start = malloc((rows ? rows : 1) * sizeof *start);
    rc_byte_range *gaps = malloc((rows + 1) * sizeof *gaps);
    if (!start || !gaps) {
        free(start);
        free(gaps);
        return NULL;
    }
    size_t k = 0;
    int sorted = 1;
    for (int64_t t = 0; t < g->n_tokens; t++)
        for (int64_t h = 0; h < g->n_heads; h++, k++) {
            start[k] = g->offset + (size_t)(t * g->token_stride + h * g->head_stride) * g->esize;
            if (k && start[k] < start[k - 1])
                sorted = 0;
        }
    if (!sorted)
        qsort(start, rows, sizeof *start, cmp_size);

    size_t row_bytes = (size_t)g->head_dim * g->esize, cur = 0, n = 0;
    for (k = 0; k < rows; k++) {
        if (start[k] > cur)
            gaps[n++] = (rc_byte_range){cur, start[k]};
        if (start[k] + row_bytes > cur)
            cur = start[k] + row_bytes;
    }
    if (cur < buf_len)
        gaps[n++] = (rc_byte_range){cur, buf_len};
    free(start);
    *count = n;
    return gaps;
}

void rc_view_copy_elements(const rc_view_geom *g, unsigned char *dst, const unsigned char *src)
{
    const size_t run = (size_t)g->head_dim * g->esize;
    for (int64_t t = 0; t < g->n_tokens; t++)
        for (int64_t h = 0; h < g->n_heads; h++) {
            const size_t at =
                g->offset + (size_t)(t * g->token_stride + h * g->head_stride) * g->esize;
            memcpy(dst + at, src + at, run);
        }
}

void rc_view_locate(const rc_view_geom *g, size_t byte, char *out, size_t out_len)
{
    if (byte < g->offset || g->n_tokens == 0 || g->n_heads == 0) {
        snprintf(out, out_len, "outside the view (before its first element)");
        return;
    }
    int64_t e = (int64_t)((byte - g->offset) / g->esize);
    /* The (token, head) whose first element is the closest at or below e:
     * the byte is in that head's channels or in the gap right after it.
     * A linear scan handles any stride order (token- or head-major). */
    int64_t best_t = -1, best_h = -1, best_s = -1;
    for (int64_t t = 0; t < g->n_tokens; t++)
        for (int64_t h = 0; h < g->n_heads; h++) {
            int64_t s = t * g->token_stride + h * g->head_stride;
            if (s <= e && s > best_s) {
                best_s = s;
                best_t = t;
                best_h = h;
            }
        }
    if (best_s < 0) {
        snprintf(out, out_len, "outside the view (before its first element)");
        return;
    }
    int64_t c = e - best_s;
    if (c < g->head_dim)
        snprintf(out, out_len, "token %lld head %lld channel %lld", (long long)best_t,
                 (long long)best_h, (long long)c);
    else if ((size_t)(byte - g->offset) >= g->extent)
        snprintf(out, out_len, "the stride gap after token %lld head %lld (past the view's last "
                 "element)",
                 (long long)best_t, (long long)best_h);
    else
        snprintf(out, out_len, "the stride gap after token %lld head %lld", (long long)best_t,
                 (long long)best_h);
}
