"""The set-up every tests/python/test_runner_*.py shares: the package
(python/) and this folder first on sys.path, numpy when it is installed,
and the main that exits 77 (ctest's Skipped) without it, never a pass that
tested nothing. A test file imports this first: running it as a script
puts this folder on the path already."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for _p in (os.path.join(ROOT, "python"), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

try:
    import numpy as np
except ImportError:
    np = None


def main():
    if np is None:
        print("SKIP: numpy not installed")
        sys.exit(77)
    unittest.main(module="__main__")
