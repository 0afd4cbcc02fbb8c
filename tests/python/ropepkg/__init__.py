"""Test ports for ropecheck's Python runner (python/ropecheck_runner).

rope.py holds numpy RoPE functions in the runner's plain signature: a
correct one, a framework-like one that reports its own f32 table, a
deliberately wrong float32-angle one, one that raises and one that
prints; noisy.py writes to stdout in every way it can, to prove the
protocol survives it. Used by tests/python/test_runner_*.py and, with
the host, by `ropecheck verify --runner "python3 -m ropecheck_runner
ropepkg.rope:apply"` run from tests/python.
"""
