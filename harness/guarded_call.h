/*
 * harness/guarded_call.h - run an implementation where it cannot hurt us.
 *
 * Every call into an implementation (available, prepare, apply, release)
 * happens in a forked child with a wall-clock limit. Tensors live in shared
 * mappings between PROT_NONE guard pages, with canary bytes in the slack
 * next to them, so the parent sees the child's outputs and can tell:
 * a crash (signal), a hang (killed at the limit), an early exit, a
 * non-OK status, a write outside the view (guard page, canary, or a stride
 * gap), a write to the input of an out-of-place call, and a write to
 * the output after apply() returned.
 */
#ifndef ROPECHECK_GUARDED_CALL_H
#define ROPECHECK_GUARDED_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "ropecheck/plugin.h"

/* A shared, page-guarded buffer. `data` is 64-byte aligned; the bytes
 * between the guard pages and [data, data+len) hold canaries. */
typedef struct rc_guarded_buf {
    unsigned char *data;
    size_t len;
    void *map;       /* private: the whole mapping */
    size_t map_len;  /* private */
} rc_guarded_buf;

/* 0 on success, -1 (errno set) on failure. len may be 0. */
int rc_guarded_buf_alloc(rc_guarded_buf *b, size_t len);
void rc_guarded_buf_free(rc_guarded_buf *b);
/* 1 if every canary byte is intact; else 0 with a description. */
int rc_guarded_buf_canaries_intact(const rc_guarded_buf *b, char *detail, size_t detail_len);

typedef enum rc_call_outcome {
    RC_CALL_OK = 0,         /* returned RC_OK, nothing out of bounds */
    RC_CALL_STATUS,         /* returned a status other than RC_OK */
    RC_CALL_CRASHED,        /* killed by a signal (SIGSEGV, SIGILL, ...) */
    RC_CALL_TIMEOUT,        /* still running at the limit; killed */
    RC_CALL_EXITED,         /* the child exited without reporting */
    RC_CALL_OUT_OF_BOUNDS,  /* wrote a canary or a stride gap */
    RC_CALL_INPUT_MODIFIED, /* out-of-place call changed its input */
    RC_CALL_LATE_WRITE,     /* changed its output after apply() returned */
    RC_CALL_HARNESS_ERROR,  /* fork/mmap failed: not the implementation's fault */
    RC_CALL_HISTORY         /* a state's earlier calls changed the output (the
                               history check, rc_guarded_apply_history) */
} rc_call_outcome;

const char *rc_call_outcome_name(rc_call_outcome o);

typedef struct rc_call_result {
    rc_call_outcome outcome;
    rc_status status;  /* what the implementation returned (STATUS) */
    int status_in_apply; /* STATUS: 1 when apply() returned it, 0 prepare() */
    int signal;        /* CRASHED: the signal number */
    double seconds;    /* wall time of the child */
    char detail[512];  /* one human line: what happened, where */
    /* What the implementation printed on stdout/stderr during the call
     * (captured, never mixed into ropecheck's output), control
     * characters escaped, the first few hundred bytes. */
    char output[256];
} rc_call_result;

/* One guarded prepare + apply + release.
 *
 * in_buf/out_buf hold the tensors whose views are `in`/`out` (their data
 * pointers point into the buffers). For an in-place call pass the same
 * buffer twice and equal views. pos_buf holds in->n_tokens int64
 * positions. The spec's theta table may live in ordinary memory.
 * Returns the outcome (also in res->outcome). */
rc_call_outcome rc_guarded_apply(const rc_impl *impl, const rc_spec *spec,
                                 rc_guarded_buf *in_buf, const rc_tensor *in,
                                 rc_guarded_buf *out_buf, const rc_tensor *out,
                                 const rc_guarded_buf *pos_buf, rc_direction dir,
                                 double timeout_s, rc_call_result *res);

/* rc_guarded_apply, with the history check first: a port may keep what
 * it computed (cos/sin rows) in its state across calls, and is then
 * right on a state's first call and wrong on the later ones when it keys
 * what it keeps on the wrong thing (the buffers' addresses, the call's
 * size, the positions but not the direction) or never renews it. One
 * call on a fresh state, which is all rc_guarded_apply makes, cannot
 * show that. So before the call above, in the same child, a second state
 * of the same spec makes four calls on the same buffers and views:
 *   1. at other positions: every position of tokens 1.. with its lowest
 *      bit flipped (a call of one token: token 0's), the direction;
 *   2. at the positions, in the other direction (when the direction is
 *      RC_INVERSE, or the implementation offers RC_CAP_INVERSE);
 *   3. at the positions, in the direction: the call above;
 *   4. the same again: a call that finds its rows kept.
 * Each starts from the views as the caller filled them (the elements
 * are put back; gaps are not, so the audit still sees a write there).
 * The output of calls 3 and 4 must equal, byte for byte, the output of
 * the call on the fresh state, which then runs as rc_guarded_apply's:
 * apply() is a function of its arguments (include/ropecheck/plugin.h,
 * STATE). Otherwise the outcome is RC_CALL_HISTORY, and the detail names
 * the first element that differs, both values, and which call gave it.
 * A flipped lowest bit keeps every position in the range the caller
 * chose (below 2^31 stays below it). The second state's calls are not
 * judged against anything else. A status other than RC_OK from them is
 * the call's status, the detail saying which call, when the fresh
 * state's call succeeds (a port that refuses every call reads as without
 * the check); a crash, hang or exit in them is placed in its call; a
 * write to the positions during them is left for the audit. */
rc_call_outcome rc_guarded_apply_history(const rc_impl *impl, const rc_spec *spec,
                                         rc_guarded_buf *in_buf, const rc_tensor *in,
                                         rc_guarded_buf *out_buf, const rc_tensor *out,
                                         const rc_guarded_buf *pos_buf, rc_direction dir,
                                         double timeout_s, rc_call_result *res);

/* Containment of every guarded child (process-wide): its own process
 * group, killed whole at the end of the call; stdout/stderr captured into
 * rc_call_result.output; CPU time limited to the call's timeout + 2 s; and
 * its address space limited to what the host had mapped at the fork plus
 * extra_address_space_bytes (default 8 GiB; 0: no limit; not applied in
 * AddressSanitizer builds, whose shadow memory is terabytes). */
void rc_guarded_set_limits(size_t extra_address_space_bytes);
size_t rc_guarded_limit_bytes(void);

/* Hooks run in the host (never in the child) around every
 * rc_guarded_apply: `before` just before the child is forked, `after` once
 * it is reaped (whatever its outcome), each with the implementation and
 * the call's time limit. harness/runner_client.c uses them to keep one
 * runner process across calls and to restart it after a failure. NULL:
 * none. Process-wide, like the limits above. */
typedef void (*rc_guarded_hook_fn)(const rc_impl *impl, double timeout_s);
void rc_guarded_set_hooks(rc_guarded_hook_fn before, rc_guarded_hook_fn after);

/* Load the plug-in at `path` in a guarded child first (dlopen runs its
 * constructors; then its entry function and the descriptor check), so a
 * plug-in that exits, crashes, hangs or returns a bad descriptor while
 * loading cannot take the host with it. 0 when the child finished (the
 * load went cleanly, or failed in a way the host's own rc_plugin_load
 * reports with a precise message: no such file, no symbol, NULL, another
 * ABI version); -1 when it crashed, hung or exited, with the reason in
 * why. */
int rc_guarded_probe_plugin(const char *path, double timeout_s, char *why, size_t why_len,
                            rc_call_result *res);

/* available() in a guarded child. Returns 1 if available, 0 if not (why
 * filled with the implementation's reason, or with what went wrong). */
int rc_guarded_available(const rc_impl *impl, double timeout_s, char *why, size_t why_len,
                         rc_call_result *res);

#endif /* ROPECHECK_GUARDED_CALL_H */
