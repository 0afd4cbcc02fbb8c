"""A module that writes to stdout at import and in every call, through
print(), sys.stdout and file descriptor 1 itself: the runner must keep
all of it off the protocol's stream (it goes to stderr)."""

import os
import sys

from .rope import apply as _apply

print("noisy: imported")


def apply(x, positions, **kw):
    print("noisy: print")
    sys.stdout.write("noisy: sys.stdout\n")
    sys.stdout.flush()
    os.write(1, b"noisy: fd 1\n")
    return _apply(x, positions, **kw)


apply.ropecheck_caps = {"dtypes": ["f32", "f16"]}
