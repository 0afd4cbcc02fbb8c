/*
 * cli/results_junit.c - JUnit XML for CI systems, written with libxml2's
 * xmlTextWriter (escaping is the library's job). One <testsuite> per
 * implementation, one <testcase> per dtype x layout x direction; a gate
 * failure is <failure>, a crash or hang <error>, a skip <skipped>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "cli/safe_file.h"
#include "cli/run_record.h"

static void case_name(const rc_case_record *k, char *buf, size_t len)
{
    const rc_verify_case *c = &k->vcase;
    rc_junit_case_name(k->cell, rc_dtype_name(c->dtype), rc_layout_name(c->layout),
                       rc_direction_name(c->direction), c->head_dim, c->rotary_dim, c->inplace,
                       buf, len);
}

void rc_junit_case_name(const char *cell, const char *dtype, const char *layout,
                        const char *direction, int head_dim, int rotary_dim, int inplace,
                        char *buf, size_t len)
{
    /* The cell first: the coverage matrix runs one shape several times. */
    snprintf(buf, len, "%s%s%s/%s/%s d%d r%d%s", cell ? cell : "", cell ? " " : "", dtype, layout,
             direction, head_dim, rotary_dim, inplace ? " inplace" : "");
}

static int write_case(xmlTextWriterPtr w, const rc_junit_case *k)
{
    char time_s[32];
    snprintf(time_s, sizeof time_s, "%.6f", k->seconds);
    int rc = 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "classname", BAD_CAST k->impl) < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST k->name) < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST time_s) < 0;
    const char *elem = k->verdict == RC_VERDICT_FAIL     ? "failure"
                       : k->verdict == RC_VERDICT_SKIP   ? "skipped"
                       : k->verdict == RC_VERDICT_PASS   ? NULL
                                                         : "error";
    if (elem) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST elem) < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST k->message) < 0;
        if (k->verdict == RC_VERDICT_FAIL && k->replay && k->replay[0])
            rc |= xmlTextWriterWriteFormatString(w, "worst case replays with: %s", k->replay) <
                  0;
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterEndElement(w) < 0;
    return rc;
}

int rc_junit_write(const char *path, const rc_junit_case *cases, size_t n, char *err,
                   size_t err_len)
{
    /* Into memory first; the file is replaced whole (cli/safe_file.h). */
    xmlBufferPtr mem = xmlBufferCreate();
    xmlTextWriterPtr w = mem ? xmlNewTextWriterMemory(mem, 0) : NULL;
    if (!w) {
        xmlBufferFree(mem);
        snprintf(err, err_len, "out of memory writing JUnit XML");
        return -1;
    }
    int rc = 0;
    rc |= xmlTextWriterSetIndent(w, 1) < 0;
    rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuites") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "ropecheck verify") < 0;
    /* Cases arrive grouped by implementation: one suite per run of equal names. */
    for (size_t i = 0; i < n && !rc;) {
        size_t j = i;
        int fail = 0, errors = 0, skipped = 0;
        while (j < n && strcmp(cases[j].impl, cases[i].impl) == 0) {
            rc_verdict v = cases[j].verdict;
            fail += v == RC_VERDICT_FAIL;
            skipped += v == RC_VERDICT_SKIP;
            errors += v == RC_VERDICT_BROKEN || v == RC_VERDICT_ERROR;
            j++;
        }
        rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST cases[i].impl) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "tests", "%zu", j - i) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "failures", "%d", fail) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "errors", "%d", errors) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "skipped", "%d", skipped) < 0;
        for (size_t k = i; k < j && !rc; k++)
            rc |= write_case(w, &cases[k]);
        rc |= xmlTextWriterEndElement(w) < 0;
        i = j;
    }
    rc |= xmlTextWriterEndDocument(w) < 0;
    xmlFreeTextWriter(w); /* flushes into mem */
    if (rc) {
        xmlBufferFree(mem);
        snprintf(err, err_len, "error writing JUnit XML for '%s'", path);
        return -1;
    }
    rc = rc_atomic_write(path, xmlBufferContent(mem), (size_t)xmlBufferLength(mem), err,
                         err_len);
    xmlBufferFree(mem);
    return rc;
}

/* The text a case's <testcase> borrows: its name and replay command. */
typedef struct junit_text {
    char name[256], replay[1024];
} junit_text;

int rc_results_write_junit(const char *path, const rc_run_record *run, char *err,
                           size_t err_len)
{
    rc_junit_case *cases = calloc(run->n_cases ? run->n_cases : 1, sizeof *cases);
    junit_text *text = calloc(run->n_cases ? run->n_cases : 1, sizeof *text);
    if (!cases || !text) {
        free(cases);
        free(text);
        snprintf(err, err_len, "out of memory writing JUnit XML");
        return -1;
    }
    for (size_t i = 0; i < run->n_cases; i++) {
        const rc_case_record *k = &run->cases[i];
        const rc_verify_result *r = &k->result;
        case_name(k, text[i].name, sizeof text[i].name);
        if (r->verdict == RC_VERDICT_FAIL && r->pair.has_worst)
            rc_replay_command(run, k, &r->pair.worst, text[i].replay,
                              sizeof text[i].replay);
        cases[i] = (rc_junit_case){.impl = k->impl_name, .name = text[i].name,
                                   .seconds = r->impl_seconds + r->reference_seconds,
                                   .verdict = r->verdict, .message = r->reason,
                                   .replay = text[i].replay};
    }
    int rc = rc_junit_write(path, cases, run->n_cases, err, err_len);
    free(cases);
    free(text);
    return rc;
}
