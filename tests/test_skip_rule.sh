#!/bin/sh
# tests/test_skip_rule.sh RUNNER - the skip rule of tests/criterion_run.sh
# on fake Criterion binaries: a [SKIP] must never hide a [FAIL]. Writes
# only inside its own temporary directory.
runner=$1
dir=$(mktemp -d) || exit 2
trap 'rm -rf "$dir"' EXIT
fails=0

fake() { # NAME EXIT-STATUS LINES...
  name=$1 status=$2
  shift 2
  {
    echo '#!/bin/sh'
    for line in "$@"; do printf "echo '%s'\n" "$line"; done
    echo "exit $status"
  } >"$dir/$name"
  chmod +x "$dir/$name"
}

expect() { # NAME WANTED-STATUS
  "$runner" "$dir/$1" >/dev/null 2>&1
  got=$?
  if [ "$got" -ne "$2" ]; then
    echo "FAIL: $1 gave $got, expected $2"
    fails=$((fails + 1))
  else
    echo "ok: $1 -> $got"
  fi
}

fake skip_and_fail 1 '[SKIP] a::b: no device' '[FAIL] a::c: wrong' \
  '[====] Synthesis: Tested: 1 | Passing: 0 | Failing: 1 | Crashing: 0'
fake all_skipped 0 '[SKIP] a::b: no device' '[SKIP] a::c: no device' \
  '[====] Synthesis: Tested: 0 | Passing: 0 | Failing: 0 | Crashing: 0'
fake skip_and_pass 0 '[SKIP] a::b: no device' '[PASS] a::c' \
  '[====] Synthesis: Tested: 1 | Passing: 1 | Failing: 0 | Crashing: 0'
fake skipped_then_crashed 139 '[SKIP] a::b: no device' \
  '[====] Synthesis: Tested: 0 | Passing: 0 | Failing: 0 | Crashing: 0'
fake nothing_ran 0 '[====] Synthesis: Tested: 0 | Passing: 0 | Failing: 0 | Crashing: 0'

expect skip_and_fail 1
expect all_skipped 77
expect skip_and_pass 0
expect skipped_then_crashed 139
expect nothing_ran 1
[ "$fails" -eq 0 ] && echo "skip rule: 5 passed, 0 failed" && exit 0
echo "skip rule: $((5 - fails)) passed, $fails failed"
exit 1
