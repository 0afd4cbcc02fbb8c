/*
 * cli/results_junit.c - JUnit XML for CI systems, written with libxml2's
 * xmlTextWriter (escaping is the library's job). One <testsuite> per
 * implementation, one <testcase> per dtype x layout x direction; a gate
 * failure is <failure>, a crash or hang <error>, a skip <skipped>.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "cli/safe_file.h"
#include "cli/run_record.h"

static void case_name(const rc_case_record *k, char *buf, size_t len)
{
    const rc_verify_case *c = &k->vcase;
    /* The cell first: the coverage matrix runs one shape several times. */
    snprintf(buf, len, "%s%s%s/%s/%s d%d r%d%s", k->cell ? k->cell : "", k->cell ? " " : "",
             rc_dtype_name(c->dtype), rc_layout_name(c->layout),
             rc_direction_name(c->direction), c->head_dim, c->rotary_dim,
             c->inplace ? " inplace" : "");
}

static int write_case(xmlTextWriterPtr w, const rc_run_record *run, const rc_case_record *k)
{
    char name[256], time_s[32], cmd[1024];
    case_name(k, name, sizeof name);
    snprintf(time_s, sizeof time_s, "%.6f", k->result.impl_seconds + k->result.reference_seconds);
    int rc = 0;
    rc |= xmlTextWriterStartElement(w, BAD_CAST "testcase") < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "classname", BAD_CAST k->impl_name) < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST name) < 0;
    rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST time_s) < 0;
    const rc_verify_result *r = &k->result;
    const char *elem = r->verdict == RC_VERDICT_FAIL     ? "failure"
                       : r->verdict == RC_VERDICT_SKIP   ? "skipped"
                       : r->verdict == RC_VERDICT_PASS   ? NULL
                                                         : "error";
    if (elem) {
        rc |= xmlTextWriterStartElement(w, BAD_CAST elem) < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST r->reason) < 0;
        if (r->verdict == RC_VERDICT_FAIL && r->pair.has_worst) {
            rc_replay_command(run, k, r->pair.worst.position, cmd, sizeof cmd);
            rc |= xmlTextWriterWriteFormatString(w, "worst case replays with: %s", cmd) < 0;
        }
        rc |= xmlTextWriterEndElement(w) < 0;
    }
    rc |= xmlTextWriterEndElement(w) < 0;
    return rc;
}

int rc_results_write_junit(const char *path, const rc_run_record *run, char *err,
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
    for (size_t i = 0; i < run->n_cases && !rc;) {
        size_t j = i;
        int fail = 0, errors = 0, skipped = 0;
        while (j < run->n_cases && strcmp(run->cases[j].impl_name, run->cases[i].impl_name) == 0) {
            rc_verdict v = run->cases[j].result.verdict;
            fail += v == RC_VERDICT_FAIL;
            skipped += v == RC_VERDICT_SKIP;
            errors += v == RC_VERDICT_BROKEN || v == RC_VERDICT_ERROR;
            j++;
        }
        rc |= xmlTextWriterStartElement(w, BAD_CAST "testsuite") < 0;
        rc |= xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST run->cases[i].impl_name) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "tests", "%zu", j - i) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "failures", "%d", fail) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "errors", "%d", errors) < 0;
        rc |= xmlTextWriterWriteFormatAttribute(w, BAD_CAST "skipped", "%d", skipped) < 0;
        for (size_t k = i; k < j && !rc; k++)
            rc |= write_case(w, run, &run->cases[k]);
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
