/*
 * tests/test_tmpdir.h - one mkdtemp directory per test suite, removed at
 * the end, for tests that write result files (they write nowhere else).
 * Include once per test file, after defining RC_TEST_TMPDIR_TEMPLATE
 * ("/tmp/rc_NAMEXXXXXX"); then TestSuite(name, .init = rc_tmpdir_make,
 * .fini = rc_tmpdir_remove).
 */
#ifndef ROPECHECK_TEST_TMPDIR_H
#define ROPECHECK_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static char rc_tmpdir[] = RC_TEST_TMPDIR_TEMPLATE;

static void rc_tmpdir_make(void)
{
    cr_assert(mkdtemp(rc_tmpdir) != NULL);
}

static void rc_tmpdir_remove(void)
{
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", rc_tmpdir);
    cr_expect_eq(system(rm), 0);
}

/* rc_tmpdir/name in buf; returns buf. */
static const char *rc_tmpdir_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", rc_tmpdir, name);
    return buf;
}

#endif /* ROPECHECK_TEST_TMPDIR_H */
