#!/bin/sh
# tests/test_sweep.sh ROPECHECK MUTANT - `ropecheck sweep` (cli/sweep.h):
#  1. a sweep interrupted with SIGINT exits 130 with a checkpoint, and the
#     same command resumes from it and ends with the uninterrupted result
#     (every figure of the JSON, timings aside);
#  2. a checkpoint of another sweep (another seed) and a damaged one are
#     refused with exit 2, and the damaged file is left as it was;
#  3. sweep --shard K/N, merged, equals the whole sweep, for a failing
#     port too (worst elements, quantiles, diagnosis);
#  4. a sweep equals verify over the same positions.
# Writes only in its mktemp directory.
set -eu
ropecheck=$1
mutant=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ropecheck-sweep.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

compare() { # compare A.json B.json: every case's figures, timings aside
    /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in ("seconds", "reference")}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("verify", "summary"):
    if strip(a[key]) != strip(b[key]):
        for x, y in zip(a[key], b[key]) if key == "verify" else []:
            for k in set(x) | set(y):
                if strip(x.get(k)) != strip(y.get(k)):
                    print("  %s: %s\n  vs %s" % (k, str(x.get(k))[:200], str(y.get(k))[:200]))
        sys.exit("FAIL: %s differs between %s and %s" % (key, sys.argv[1], sys.argv[2]))
PY
}

# 1. SIGINT and resume: 64 chunks of 512 positions
args="--impl scalar --dtype f32 --layout half --heads 1 --positions 5000:37767 --chunk 512"
"$ropecheck" sweep $args --json whole.json -q >whole.out || fail "the whole sweep: exit $?"
"$ropecheck" sweep $args --checkpoint ck.json --json resumed.json 2>interrupted.err >/dev/null &
pid=$!
# the first progress line comes after the first chunk: interrupt then
i=0
while ! grep -q "sweep \[" interrupted.err 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "no progress line after 60 s"
    sleep 0.1
done
kill -INT $pid
rc=0
wait $pid || rc=$?
if [ $rc -eq 0 ]; then
    fail "the machine finished 32768 positions before the signal: make the sweep longer"
fi
[ $rc -eq 130 ] || { cat interrupted.err; fail "interrupted sweep exited $rc, not 130"; }
[ -s ck.json ] || fail "no checkpoint after the interruption"
grep -q "interrupted at position" interrupted.err || fail "no 'interrupted' message"
cp ck.json ck.saved
# 2a. another sweep's checkpoint: refused, kept
rc=0
"$ropecheck" sweep $args --seed 2 --checkpoint ck.json -q >/dev/null 2>other.err || rc=$?
[ $rc -eq 2 ] || fail "a checkpoint of another seed was not refused (exit $rc)"
grep -q "belongs to another sweep" other.err || fail "no reason for the refusal: $(cat other.err)"
cmp -s ck.json ck.saved || fail "a refused checkpoint was changed"
# 2b. damaged checkpoints: refused
/usr/bin/python3 - ck.json <<'PY'
import json, sys
ck = json.load(open(sys.argv[1]))
bad = json.loads(json.dumps(ck)); bad["state"]["pair"]["bins"][0][1] += 1
json.dump(bad, open("bad_count.json", "w"))
bad = json.loads(json.dumps(ck)); bad["next_offset"] += 1
json.dump(bad, open("bad_offset.json", "w"))
bad = json.loads(json.dumps(ck)); del bad["state"]["histogram"]
json.dump(bad, open("bad_missing.json", "w"))
open("bad_truncated.json", "w").write(open(sys.argv[1]).read()[:1000])
PY
for b in bad_count bad_offset bad_missing bad_truncated; do
    cp $b.json try.json
    rc=0
    "$ropecheck" sweep $args --checkpoint try.json -q >/dev/null 2>$b.err || rc=$?
    [ $rc -eq 2 ] || fail "damaged checkpoint $b was not refused (exit $rc)"
    cmp -s try.json $b.json || fail "damaged checkpoint $b was changed"
done
# 1 (cont.): resume
"$ropecheck" sweep $args --checkpoint ck.json --json resumed.json 2>resumed.err >/dev/null ||
    fail "the resumed sweep: exit $?"
grep -q "resuming from ck.json at position" resumed.err || fail "did not resume: $(cat resumed.err)"
[ ! -e ck.json ] || fail "the checkpoint was not removed at the end"
compare whole.json resumed.json

# 3. shards of a failing sweep, merged
margs="--plugin $mutant --dtype bf16 --layout half --heads 2 --positions 100:9099 --chunk 500 --specials"
rc=0
"$ropecheck" sweep $margs --json mwhole.json -q >/dev/null || rc=$?
[ $rc -eq 1 ] || fail "the mutant's sweep exited $rc, not 1"
for k in 1 2 3; do
    "$ropecheck" sweep $margs --shard $k/3 --json m$k.json -q >/dev/null || true
done
rc=0
"$ropecheck" merge -q -o merged.json m1.json m2.json m3.json || rc=$?
[ $rc -eq 1 ] || fail "merge of the mutant's sweep exited $rc, not 1"
compare mwhole.json merged.json
rc=0
"$ropecheck" merge -q -o missing.json m1.json m3.json 2>missing.err || rc=$?
[ $rc -eq 2 ] || fail "a missing shard was not refused (exit $rc)"

# 4. a sweep is verify over the same positions
"$ropecheck" verify --impl scalar --dtype f32 --layout half --heads 1 --positions 5000:37767 \
    --json verify.json -q >/dev/null || fail "verify: exit $?"
compare verify.json whole.json
echo "PASS: interrupted and resumed, refusals, sharded sweep merged, sweep = verify"
