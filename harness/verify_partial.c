/*
 * harness/verify_partial.c - a case's comparison state: made, merged,
 * turned into figures and a verdict (verify_partial.h).
 */
#include "harness/verify_partial.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int rc_verify_partial_init(rc_verify_partial *p, double gate_pair, double gate_component)
{
    memset(p, 0, sizeof *p);
    p->gate_pair = gate_pair;
    p->gate_component = gate_component;
    p->pair = rc_error_acc_create(gate_pair, RC_ERROR_ACC_BITS);
    p->component = rc_error_acc_create(gate_component, RC_ERROR_ACC_BITS);
    p->pair_beyond = rc_error_acc_create(gate_pair, RC_ERROR_ACC_BITS);
    return p->pair && p->component && p->pair_beyond ? 0 : -1;
}

void rc_verify_partial_free(rc_verify_partial *p)
{
    rc_error_acc_destroy(p->pair);
    rc_error_acc_destroy(p->component);
    rc_error_acc_destroy(p->pair_beyond);
    for (int b = 0; b < RC_POSITION_BUCKETS; b++)
        rc_error_acc_destroy(p->by_position[b]);
    memset(p, 0, sizeof *p);
}

rc_error_acc *rc_verify_partial_bucket(rc_verify_partial *p, int b)
{
    if (!p->by_position[b])
        p->by_position[b] = rc_error_acc_create(INFINITY, RC_ERROR_ACC_PLOT_BITS);
    return p->by_position[b];
}

int rc_verify_partial_merge(rc_verify_partial *into, const rc_verify_partial *later)
{
    if (rc_error_acc_merge(into->pair, later->pair) != 0 ||
        rc_error_acc_merge(into->component, later->component) != 0 ||
        rc_error_acc_merge(into->pair_beyond, later->pair_beyond) != 0)
        return -1;
    for (int b = 0; b < RC_POSITION_BUCKETS; b++) {
        if (!later->by_position[b])
            continue;
        rc_error_acc *acc = rc_verify_partial_bucket(into, b);
        if (!acc || rc_error_acc_merge(acc, later->by_position[b]) != 0)
            return -1;
    }
    for (int k = 0; k < RC_HIST_BINS; k++)
        into->pair_histogram[k] += later->pair_histogram[k];
    /* the first mismatch is the one of smallest index (token, head,
     * channel): the same whatever order states merge in */
    if (later->passthrough_mismatches > 0 &&
        (into->passthrough_mismatches == 0 ||
         rc_elem_loc_before(&later->passthrough_first, &into->passthrough_first)))
        into->passthrough_first = later->passthrough_first;
    into->passthrough_mismatches += later->passthrough_mismatches;
    if (later->special_mismatches > 0 &&
        (into->special_mismatches == 0 ||
         rc_elem_loc_before(&later->special_first, &into->special_first))) {
        into->special_first = later->special_first;
        into->special_first_classes = later->special_first_classes;
    }
    into->special_mismatches += later->special_mismatches;
    into->special_elements += later->special_elements;
    into->unwritten += later->unwritten;
    into->tokens += later->tokens;
    into->ziv_retries += later->ziv_retries;
    into->uncertified += later->uncertified;
    into->ref_pairs_fast += later->ref_pairs_fast;
    into->ref_pairs_mpfr += later->ref_pairs_mpfr;
    into->impl_seconds += later->impl_seconds;
    into->reference_seconds += later->reference_seconds;
    if (!into->cause[0] && later->cause[0]) {
        memcpy(into->cause, later->cause, sizeof into->cause);
        memcpy(into->finding, later->finding, sizeof into->finding);
        into->diag_position_lo = later->diag_position_lo;
        into->diag_position_hi = later->diag_position_hi;
    }
    return 0;
}

/* "finite or +inf", ... : the classes of a RC_CLASS_* mask, in words. */
static void class_names(unsigned mask, char *buf, size_t n)
{
    static const char *const names[] = {"finite", "+inf", "-inf", "nan"};
    size_t at = 0;
    buf[0] = '\0';
    for (unsigned b = 0; b < 4; b++)
        if (mask & (1u << b)) {
            int w = snprintf(buf + at, n - at, "%s%s", at ? " or " : "", names[b]);
            if (w < 0 || (size_t)w >= n - at)
                return;
            at += (size_t)w;
        }
}

void rc_verify_judge(rc_profile profile, rc_verify_result *res)
{
    char *r = res->reason;
    size_t n = sizeof res->reason;
    if (res->passthrough_mismatches > 0) {
        const rc_elem_loc *l = &res->passthrough_first;
        snprintf(r, n,
                 "%lld passthrough channel(s) changed; first: token %lld head %d channel %d "
                 "(input 0x%llx, got 0x%llx)",
                 (long long)res->passthrough_mismatches, (long long)l->token, l->head,
                 l->channel, (unsigned long long)l->in_self_bits,
                 (unsigned long long)l->got_bits);
        res->verdict = RC_VERDICT_FAIL;
    } else if (res->special_mismatches > 0) {
        const rc_elem_loc *l = &res->special_first;
        char expected[64];
        if (res->special_first_classes)
            class_names(res->special_first_classes, expected, sizeof expected);
        else
            snprintf(expected, sizeof expected, "%a", l->exact.hi);
        snprintf(r, n,
                 "%lld special-value output(s) of the wrong class; first: position %lld head "
                 "%d channel %d inputs (%a, %a) expected %s%s got %a",
                 (long long)res->special_mismatches, (long long)l->position, l->head,
                 l->channel, l->in_self, l->in_partner, expected,
                 res->special_first_classes ? " (the profile's)" : "", l->got);
        res->verdict = RC_VERDICT_FAIL;
    } else if (res->pair.max > res->gate_pair) {
        snprintf(r, n, "max pair ULP %.4g%s > gate %g (%lld of %lld elements over)%s",
                 res->pair.max,
                 profile == RC_PROFILE_EXACT ? ""
                 : res->profile_given_table  ? " from the profile's band (given its own table)"
                                             : " from the profile's band",
                 res->gate_pair, (long long)res->pair.over_gate, (long long)res->pair.count,
                 res->unwritten ? "; some outputs were never written" : "");
        if (res->profile_table_excess > 0) {
            const size_t k = strlen(r);
            snprintf(r + k, n - k,
                     "; its own frequency table is %.3g f32 ulp outside any the framework's "
                     "arithmetic gives for this spec (pair %d): not this spec's table",
                     res->profile_table_excess, res->profile_table_worst);
        }
        res->verdict = RC_VERDICT_FAIL;
    } else if (res->component.max > res->gate_component) {
        snprintf(r, n, "max component ULP %.4g > gate %g (%lld of %lld elements over)",
                 res->component.max, res->gate_component,
                 (long long)res->component.over_gate, (long long)res->component.count);
        res->verdict = RC_VERDICT_FAIL;
    } else {
        snprintf(r, n, "max pair ULP %.4g <= gate %g%s", res->pair.max, res->gate_pair,
                 res->profile_given_table ? " (the profile's band, given its own table)" : "");
        res->verdict = RC_VERDICT_PASS;
    }
}

void rc_verify_partial_result(const rc_verify_partial *p, const rc_verify_case *c,
                              rc_verify_result *res)
{
    rc_error_acc_summarize(p->pair, &res->pair);
    rc_error_acc_summarize(p->component, &res->component);
    rc_error_acc_summarize(p->pair_beyond, &res->pair_beyond);
    for (int b = 0; b < RC_POSITION_BUCKETS; b++) {
        res->pair_by_position[b] = (rc_position_bucket){0};
        if (!p->by_position[b])
            continue;
        rc_error_summary s;
        rc_error_acc_summarize(p->by_position[b], &s);
        res->pair_by_position[b] = (rc_position_bucket){s.count, s.max, s.p50, s.p99};
    }
    memcpy(res->pair_histogram, p->pair_histogram, sizeof res->pair_histogram);
    res->passthrough_mismatches = p->passthrough_mismatches;
    res->passthrough_first = p->passthrough_first;
    res->special_elements = p->special_elements;
    res->special_mismatches = p->special_mismatches;
    res->special_first = p->special_first;
    res->special_first_classes = p->special_first_classes;
    res->unwritten = p->unwritten;
    res->ziv_retries = p->ziv_retries;
    res->uncertified = p->uncertified;
    res->ref_pairs_fast = p->ref_pairs_fast;
    res->ref_pairs_mpfr = p->ref_pairs_mpfr;
    res->impl_seconds = p->impl_seconds;
    res->reference_seconds = p->reference_seconds;
    rc_verify_judge(c->profile, res);
    if (res->verdict == RC_VERDICT_FAIL && !res->cause[0] && p->cause[0]) {
        memcpy(res->cause, p->cause, sizeof res->cause);
        memcpy(res->finding, p->finding, sizeof res->finding);
    }
}

void rc_verify_text_prepend(char *buf, size_t size, const char *prefix)
{
    const size_t np = strlen(prefix);
    if (size == 0 || np >= size)
        return;
    size_t nt = strlen(buf);
    if (np + nt >= size)
        nt = size - 1 - np;
    memmove(buf + np, buf, nt);
    memcpy(buf, prefix, np);
    buf[np + nt] = '\0';
}

void rc_verify_partial_label_finding(const rc_verify_partial *p, rc_verify_result *res)
{
    if (!res->cause[0] || !p->cause[0])
        return;
    char on[128];
    snprintf(on, sizeof on, "(diagnosed on one part of the case, its positions in %lld..%lld) ",
             (long long)p->diag_position_lo, (long long)p->diag_position_hi);
    rc_verify_text_prepend(res->finding, sizeof res->finding, on);
}
