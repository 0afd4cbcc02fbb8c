#!/usr/bin/env python3
"""tests/test_report_skip_rule.py - the exit rule of test_report.py's main,
which ctest reads (SKIP_RETURN_CODE 77): a class whose every test skipped
is Skipped; one skip beside a failure is a failure; a class that ran
nothing fails; a pass with a skip is a pass. Checked on throwaway classes,
in this process; nothing random."""

import contextlib
import io
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_report  # noqa: E402  (the module under test)


def fake_module():
    m = types.ModuleType("fake_tests")

    class AllSkip(unittest.TestCase):
        def test_a(self):
            self.skipTest("no chromium")

        def test_b(self):
            self.skipTest("no chromium")

    class SkipAndFail(unittest.TestCase):
        def test_skip(self):
            self.skipTest("no chromium")

        def test_fail(self):
            self.fail("a real failure")

    class SkipAndError(unittest.TestCase):
        def test_skip(self):
            self.skipTest("no chromium")

        def test_error(self):
            raise RuntimeError("boom")

    class PassAndSkip(unittest.TestCase):
        def test_pass(self):
            pass

        def test_skip(self):
            self.skipTest("no chromium")

    class Empty(unittest.TestCase):
        pass

    for cls in (AllSkip, SkipAndFail, SkipAndError, PassAndSkip, Empty):
        cls.__module__ = m.__name__
        setattr(m, cls.__name__, cls)
    return m


class SkipRule(unittest.TestCase):
    def status(self, name):
        with contextlib.redirect_stderr(io.StringIO()):
            return test_report.main(["test_report.py", name], fake_module())

    def test_rule(self):
        self.assertEqual(self.status("AllSkip"), 77)
        self.assertEqual(self.status("SkipAndFail"), 1)
        self.assertEqual(self.status("SkipAndError"), 1)
        self.assertEqual(self.status("PassAndSkip"), 0)
        self.assertEqual(self.status("Empty"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
