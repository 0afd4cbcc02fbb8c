#!/bin/sh
# tests/test_ggml_example.sh ROPECHECK SOURCE_DIR - real ggml as a peer
# (issue 15): builds examples/ggml/ggml_port.c against the ggml named by
# $ROPECHECK_GGML_PREFIX (examples/ggml/get-ggml.sh makes one), then
#   - verify --profile ggml --specials (the default matrix, f32 and f16,
#     both modes, both directions, NaN/Inf inputs) must pass: real ggml
#     is what the ggml profile predicts;
#   - verify without a profile must fail with the angle-precision finding
#     (ggml's f32 angle at long positions);
#   - bench --baseline ggml must print the ratio column and write it.
# Exit 77 (ctest: Skipped) when no ggml is named: CI has none, and this
# test never downloads one. Writes only inside its mktemp directory.
set -eu
ropecheck=$1
src=$(realpath "$2")
prefix=${ROPECHECK_GGML_PREFIX:-}
if [ -z "$prefix" ]; then
    echo "SKIP: no ggml to judge (set ROPECHECK_GGML_PREFIX to a ggml install;" \
         "examples/ggml/get-ggml.sh builds one)"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ropecheck-ggml-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
plugin="$work/libggml_port.so"
sh "$src/examples/ggml/build.sh" "$prefix" "$plugin"

echo "== verify --profile ggml --specials"
"$ropecheck" verify --plugin "$plugin" --profile ggml --specials --quiet >"$work/prof.out" ||
    { echo "FAIL: real ggml is outside the ggml profile"; cat "$work/prof.out"; exit 1; }
grep -E "^[0-9]+ cases: [1-9][0-9]* pass, 0 fail" "$work/prof.out" ||
    { echo "FAIL: nothing passed"; cat "$work/prof.out"; exit 1; }

echo "== verify (exact)"
if "$ropecheck" verify --plugin "$plugin" --dtype f32 --quiet >"$work/exact.out"; then
    echo "FAIL: ggml's f32 angle passed the exact gate"; cat "$work/exact.out"; exit 1
fi
grep -q "cause angle-precision" "$work/exact.out" ||
    { echo "FAIL: no angle-precision finding"; cat "$work/exact.out"; exit 1; }

echo "== bench --baseline ggml"
"$ropecheck" bench --plugin "$plugin" --impl scalar --baseline ggml --shape llama3-8b \
    --mode decode-b1 --dtype f32 --min-time 0.01 --no-reference --json "$work/bench.json" -q \
    >"$work/bench.out"
cat "$work/bench.out"
grep -q "x ggml" "$work/bench.out" || { echo "FAIL: no 'x ggml' column"; exit 1; }
grep -q '"baseline"' "$work/bench.json" || { echo "FAIL: no baseline in the JSON"; exit 1; }
echo "PASS: real ggml judged under its profile, against exact, and benchmarked"
