/*
 * harness/oracle_pass.c - see oracle_pass.h.
 */
#include "harness/oracle_pass.h"

#include <mpfr.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/dtype_convert.h"
#include "harness/case_axes.h"
#include "harness/input_gen.h"
#include "reference/metrics.h"

/* Elements per block: large enough that starting the threads is noise,
 * small enough to stay a few tens of MB (an element is ~56 bytes). */
#define BLOCK_ELEMENTS (1 << 18)

typedef struct worker {
    rc_oracle_pass *p;
    rc_ref *ref;
    int index;
    pthread_t thread;
    int started;
} worker;

struct rc_oracle_pass {
    const rc_verify_case *c;
    int jobs;
    int64_t block_tokens;
    int64_t t0, t1;       /* the block being computed */
    double *in;           /* block_tokens x heads x head_dim */
    rc_ref_elem *elems;
    const void *out_data; /* the output view, NULL: no metrics here */
    int64_t token_stride, head_stride;
    double *pair_ulp, *component_ulp; /* like in, when out_data is set */
    rc_oracle_consumer consume;       /* NULL: none */
    void *consume_ctx;
    worker *workers;
};

int rc_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > RC_ORACLE_MAX_JOBS ? RC_ORACLE_MAX_JOBS : (int)n;
}

int64_t rc_oracle_block_tokens(const rc_verify_case *c)
{
    const int64_t per_token = c->n_heads * (int64_t)c->head_dim;
    const int64_t b = per_token > 0 ? BLOCK_ELEMENTS / per_token : 1;
    return b < 1 ? 1 : b;
}

static size_t head_offset(const rc_oracle_pass *p, int64_t t, int64_t h)
{
    return ((size_t)(t - p->t0) * (size_t)p->c->n_heads + (size_t)h) * (size_t)p->c->head_dim;
}

rc_oracle_pass *rc_oracle_pass_create(const rc_verify_case *c, int jobs, int64_t block_tokens)
{
    if (jobs < 1)
        jobs = 1;
    if (jobs > RC_ORACLE_MAX_JOBS)
        jobs = RC_ORACLE_MAX_JOBS;
    rc_oracle_pass *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->c = c;
    p->jobs = jobs;
    p->block_tokens = block_tokens < 1 ? 1 : block_tokens;
    const size_t n = (size_t)p->block_tokens * (size_t)c->n_heads * (size_t)c->head_dim;
    p->in = malloc(n * sizeof *p->in);
    p->elems = malloc(n * sizeof *p->elems);
    p->pair_ulp = malloc(n * sizeof *p->pair_ulp);
    p->component_ulp = malloc(n * sizeof *p->component_ulp);
    p->workers = calloc((size_t)jobs, sizeof *p->workers);
    if (p->in == NULL || p->elems == NULL || p->pair_ulp == NULL || p->component_ulp == NULL ||
        p->workers == NULL) {
        rc_oracle_pass_destroy(p);
        return NULL;
    }
    rc_spec spec = {.head_dim = c->head_dim, .rotary_dim = c->rotary_dim, .base = c->base,
                    .layout = c->layout, .dtype = c->dtype, .scaling = c->scaling,
                    .freq_period = c->axes ? c->axes->freq_period : 0};
    for (int j = 0; j < jobs; j++) {
        p->workers[j].p = p;
        p->workers[j].index = j;
        p->workers[j].ref = rc_ref_create(&spec);
        if (p->workers[j].ref == NULL) {
            rc_oracle_pass_destroy(p);
            return NULL;
        }
        rc_ref_set_fast_path(p->workers[j].ref, !c->oracle_mpfr);
    }
    return p;
}

void rc_oracle_pass_destroy(rc_oracle_pass *p)
{
    if (p == NULL)
        return;
    if (p->workers)
        for (int j = 0; j < p->jobs; j++)
            rc_ref_destroy(p->workers[j].ref);
    free(p->workers);
    free(p->in);
    free(p->elems);
    free(p->pair_ulp);
    free(p->component_ulp);
    free(p);
}

/* The metrics of one head's rotated elements: pure functions of the
 * output and the reference, so any thread gives the same doubles. */
static void head_metrics(rc_oracle_pass *p, int64_t t, int64_t h, size_t off)
{
    const rc_verify_case *c = p->c;
    const int64_t base = t * p->token_stride + h * p->head_stride;
    for (int ch = 0; ch < c->head_dim; ch++) {
        const rc_ref_elem *e = &p->elems[off + (size_t)ch];
        if (e->kind != RC_ELEM_ROTATED)
            continue;
        const double got = rc_elem_load(c->dtype, p->out_data, base + ch);
        p->pair_ulp[off + (size_t)ch] = rc_ulp_error(c->dtype, got, e->exact, e->pair_norm);
        p->component_ulp[off + (size_t)ch] = rc_ulp_error(c->dtype, got, e->exact, e->exact);
    }
}

/* Worker j takes tokens t0 + j, t0 + j + jobs, ...: all heads of a token on
 * one oracle, whose cos/sin of the last position then serve every head. */
static void *work(void *arg)
{
    worker *w = arg;
    rc_oracle_pass *p = w->p;
    const rc_verify_case *c = p->c;
    for (int64_t t = p->t0 + w->index; t < p->t1; t += p->jobs)
        for (int64_t h = 0; h < c->n_heads; h++) {
            const size_t off = head_offset(p, t, h);
            rc_input_gen_head(c->seed, rc_case_input_key(c, t), h, c->dtype, c->head_dim,
                              c->with_specials, p->in + off);
            /* Arguments valid by construction (checked spec and map,
             * positions in range): the calls cannot fail. */
            if (rc_case_n_axes(c) >= 2)
                (void)rc_ref_rotate_head_axes(w->ref, c->axes, rc_case_pos(c, t), c->direction,
                                              p->in + off, p->elems + off);
            else
                (void)rc_ref_rotate_head(w->ref, c->positions[t], c->direction, p->in + off,
                                         p->elems + off);
            if (p->out_data != NULL)
                head_metrics(p, t, h, off);
            if (p->consume != NULL)
                p->consume(p->consume_ctx, w->index, t, h);
        }
    return NULL;
}

/* A started thread's body: its share, then MPFR's caches of this thread
 * (constants, cos/sin tables; thread-local in a thread-safe MPFR), which
 * would otherwise be lost when the thread ends. */
static void *work_in_thread(void *arg)
{
    work(arg);
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
    return NULL;
}

void rc_oracle_pass_run(rc_oracle_pass *p, int64_t t0, int64_t t1)
{
    p->t0 = t0;
    p->t1 = t1;
    for (int j = 1; j < p->jobs; j++)
        p->workers[j].started =
            pthread_create(&p->workers[j].thread, NULL, work_in_thread, &p->workers[j]) == 0;
    work(&p->workers[0]);
    for (int j = 1; j < p->jobs; j++) {
        if (p->workers[j].started)
            pthread_join(p->workers[j].thread, NULL);
        else
            work(&p->workers[j]); /* could not start: its share here */
    }
}

void rc_oracle_pass_set_consumer(rc_oracle_pass *p, rc_oracle_consumer fn, void *ctx)
{
    p->consume = fn;
    p->consume_ctx = ctx;
}

int rc_oracle_pass_jobs(const rc_oracle_pass *p)
{
    return p->jobs;
}

void rc_oracle_pass_set_output(rc_oracle_pass *p, const void *out_data, int64_t token_stride,
                               int64_t head_stride)
{
    p->out_data = out_data;
    p->token_stride = token_stride;
    p->head_stride = head_stride;
}

const double *rc_oracle_pass_pair_ulp(const rc_oracle_pass *p, int64_t t, int64_t h)
{
    return p->out_data ? p->pair_ulp + head_offset(p, t, h) : NULL;
}

const double *rc_oracle_pass_component_ulp(const rc_oracle_pass *p, int64_t t, int64_t h)
{
    return p->out_data ? p->component_ulp + head_offset(p, t, h) : NULL;
}

const double *rc_oracle_pass_in(const rc_oracle_pass *p, int64_t t, int64_t h)
{
    return p->in + head_offset(p, t, h);
}

const rc_ref_elem *rc_oracle_pass_elems(const rc_oracle_pass *p, int64_t t, int64_t h)
{
    return p->elems + head_offset(p, t, h);
}

void rc_oracle_pass_stats(const rc_oracle_pass *p, rc_ref_stats *out)
{
    rc_ref_stats sum = {0, 0, 0, 0, 0, 0};
    for (int j = 0; j < p->jobs; j++) {
        rc_ref_stats s;
        rc_ref_get_stats(p->workers[j].ref, &s);
        sum.elements += s.elements;
        sum.ziv_retries += s.ziv_retries;
        sum.uncertified += s.uncertified;
        if (s.max_precision_used > sum.max_precision_used)
            sum.max_precision_used = s.max_precision_used;
        sum.pairs_fast += s.pairs_fast;
        sum.pairs_mpfr += s.pairs_mpfr;
    }
    *out = sum;
}
