"""ropecheck_runner: the runner side of ropecheck's runner protocol
(runner/PROTOCOL.md, version 4) for Python RoPE implementations.

    python3 -m ropecheck_runner mypkg.rope:apply

serves mypkg.rope.apply to `ropecheck verify --runner ...`; README.md says
how the function is called. What a function module may import from here:

    Unsupported   raise it for a request the function does not do
    rope_caps     decorator declaring capabilities (or set fn.ropecheck_caps)

They are loaded lazily: importing this package needs no numpy, so a
runner without numpy can still say so in one line.
"""

__version__ = "0.1.0"
__all__ = ["Unsupported", "rope_caps", "__version__"]

PROG = "ropecheck-runner-py"  # how our stderr lines start


def one_line(exc: BaseException) -> str:
    """'ValueError: boom': the exception's type and the first line of its
    text, which is what the host prints with the failed case."""
    lines = str(exc).strip().splitlines()
    name = type(exc).__name__
    return "%s: %s" % (name, lines[0]) if lines else name


def __getattr__(name):
    if name in ("Unsupported", "rope_caps"):
        from . import adapters
        return getattr(adapters, name)
    raise AttributeError("module 'ropecheck_runner' has no attribute %r" % name)
