#!/bin/sh
# tests/criterion_run.sh BINARY [ARGS...] - run one Criterion binary for
# ctest and turn "everything skipped" into exit 77 (ctest's Skipped, through
# SKIP_RETURN_CODE), and nothing else.
#
# A binary counts as skipped only when it exited 0, ran no test (Criterion's
# synthesis says "Tested: 0": skipped tests are not counted as tested) and
# printed at least one [SKIP]. A [SKIP] next to a failure, a crash or any
# test that ran keeps the binary's own status: a skip can never hide a
# failure (the old SKIP_REGULAR_EXPRESSION did, on any line that matched),
# and a binary that ran nothing at all fails.
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
status=$?
cat "$out"
if [ "$status" -eq 0 ] && grep -q 'Synthesis: Tested: 0 |' "$out" && grep -q '\[SKIP\]' "$out"; then
  echo "criterion_run: every test of $(basename "$1") skipped (reasons above)"
  exit 77
fi
if [ "$status" -eq 0 ] && grep -q 'Synthesis: Tested: 0 |' "$out"; then
  echo "criterion_run: $(basename "$1") ran no test and skipped none: nothing was checked"
  exit 1
fi
exit "$status"
