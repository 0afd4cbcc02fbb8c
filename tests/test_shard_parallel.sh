#!/bin/sh
# tests/test_shard_parallel.sh ROPECHECK - a sharded run driven by GNU
# parallel (Debian `parallel`), as README.md ("Long runs in shards")
# shows: 4 shards of scalar's default coverage matrix (f32, bf16), run at
# once, merged, and compared with the unsharded run (every case's
# figures, timings aside). Exit 77 (Skipped) without GNU parallel; writes
# only in its mktemp directory.
set -eu
ropecheck=$1
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
