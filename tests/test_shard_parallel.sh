#!/bin/sh
# tests/test_shard_parallel.sh ROPECHECK MUTANT - a sharded run driven by GNU
# parallel (Debian `parallel`), as README.md ("Long runs in shards")
# shows: 4 shards of scalar's default coverage matrix (f32, bf16), run at
# once, merged, and compared with the unsharded run (every case's
# figures, timings aside); then one case in more shards than cases (token
# ranges), for a passing and a failing port. Exit 77 (Skipped) without GNU parallel; writes
# only in its mktemp directory.
set -eu
ropecheck=$1
mutant=$2
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
    echo "SKIP: GNU parallel is not installed (Debian: apt-get install parallel)"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ropecheck-parallel.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"
"$ropecheck" verify --impl scalar --dtype f32,bf16 --seed 5 --json full.json -q >full.out
# --halt now,fail=1 would stop at a failing shard; a FAIL verdict exits 1,
# so every shard runs and the merge decides.
parallel --will-cite --halt never -j 4 \
    "$ropecheck" verify --impl scalar --dtype f32,bf16 --seed 5 --shard {}/4 \
    --json shard{}.json -q ">" shard{}.out ::: 1 2 3 4 || true
for k in 1 2 3 4; do
    [ -s "shard$k.json" ] || { echo "FAIL: shard $k wrote no results"; cat "shard$k.out"; exit 1; }
done
"$ropecheck" merge -o merged.json shard1.json shard2.json shard3.json shard4.json
/usr/bin/python3 - full.json merged.json <<'PY'
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("verify", "summary", "run_argv", "seed"):
    if strip(a[key]) != strip(b[key]):
        sys.exit("FAIL: merged %s differs from the unsharded run's" % key)
print("PASS: %d cases in 4 shards under GNU parallel, merged equal to the unsharded run"
      % len(b["verify"]))
PY
# One case, more shards than cases: each shard judges a token range of it
# (cli/shard.h). A passing port (issue 16's example, smaller), and a
# failing one with special values in 5 ranges.
one="--impl scalar --dtype f32 --layout half --heads 8 --tokens 1024 --positions random:2147483647"
bad="--plugin $mutant --dtype bf16 --layout half --heads 2 --tokens 300 --positions 0,1,random:4294967295 --specials"
"$ropecheck" verify $one --json one.json -q >/dev/null
"$ropecheck" verify $bad --json bad.json -q >/dev/null || true
parallel --will-cite --halt never -j 4 \
    "$ropecheck" verify $one --shard {}/4 --json one{}.json -q ">" /dev/null ::: 1 2 3 4
parallel --will-cite --halt never -j 4 \
    "$ropecheck" verify $bad --shard {}/5 --json bad{}.json -q ">" /dev/null ::: 1 2 3 4 5 || true
"$ropecheck" merge -q -o one_merged.json one1.json one2.json one3.json one4.json
rc=0
"$ropecheck" merge -q -o bad_merged.json bad1.json bad2.json bad3.json bad4.json bad5.json || rc=$?
[ $rc -eq 1 ] || { echo "FAIL: merging the failing port's ranges exited $rc, not 1"; exit 1; }
rc=0
"$ropecheck" merge -q -o none.json one1.json one2.json one4.json 2>/dev/null || rc=$?
[ $rc -eq 2 ] || { echo "FAIL: a missing token range was not refused (exit $rc)"; exit 1; }
/usr/bin/python3 - one.json one_merged.json bad.json bad_merged.json <<'PY'
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("seconds", "finding")}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
for whole, merged in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    a, b = (json.load(open(p)) for p in (whole, merged))
    for key in ("verify", "summary"):
        if strip(a[key]) != strip(b[key]):
            sys.exit("FAIL: merged token ranges: %s differs from %s" % (key, whole))
    # the diagnosis of a failing case is the first failing range's, labelled
    for x, y in zip(a["verify"], b["verify"]):
        if x.get("cause") and not y.get("finding", "").startswith("(diagnosed on one part"):
            sys.exit("FAIL: a merged finding does not say which part it was made on")
print("PASS: one case cut into token ranges under GNU parallel, merged equal to the whole")
PY
