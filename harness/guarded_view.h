/*
 * harness/guarded_view.h - private: where a strided tensor view lies inside
 * a guarded buffer, which bytes are its elements, and how to name a byte
 * offset (token, head, channel, or the stride gap after one) in a report.
 */
#ifndef ROPECHECK_GUARDED_VIEW_H
#define ROPECHECK_GUARDED_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "harness/guarded_call.h"

typedef struct rc_view_geom {
    size_t offset;      /* bytes from the buffer's data to the view's data */
    size_t extent;      /* bytes from the view's data past its last element */
    size_t esize;       /* bytes per element */
    int64_t n_tokens, n_heads, token_stride, head_stride, head_dim;
} rc_view_geom;

/* Checks that the view is well formed and lies inside buf; every size is
 * computed with overflow checks, so absurd strides are refused rather than
 * wrapped. 0 on success, else -1 with a one-line reason. */
int rc_view_geom_init(rc_view_geom *g, const rc_guarded_buf *buf, const rc_tensor *view,
                      int64_t head_dim, size_t esize, char *err, size_t err_len);

/* A byte range [start, end) of the buffer. */
typedef struct rc_byte_range {
    size_t start, end;
} rc_byte_range;

/* The parts of a buffer of buf_len bytes that are not elements of the
 * view (stride gaps, and whatever lies before or after it), ascending and
 * disjoint. A malloc'd array of *count ranges (possibly 0, never NULL on
 * success); NULL if out of memory. */
rc_byte_range *rc_view_gaps(const rc_view_geom *g, size_t buf_len, size_t *count);

/* Copies the view's elements (head_dim channels of every token and head;
 * not the gaps between them) from src to dst, two buffers laid out as the
 * one g was made for: puts a view back as it was without hiding a write
 * into a gap from the audit that follows. */
void rc_view_copy_elements(const rc_view_geom *g, unsigned char *dst, const unsigned char *src);

/* Names byte `byte` of the buffer relative to the view: "token 3 head 1
 * channel 5", "the stride gap after token 3 head 1", or "before the view's
 * first element". */
void rc_view_locate(const rc_view_geom *g, size_t byte, char *out, size_t out_len);

#endif /* ROPECHECK_GUARDED_VIEW_H */
