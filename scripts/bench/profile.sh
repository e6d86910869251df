#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# profile.sh CASE [PROG] [CALLS] - where one bench_pkt case spends its time.
# Runs `BENCH_CASE=CASE bench_pkt CALLS` (the case numbers are the rows of
# its table, from 0; `scale` and `scale-reply` are the conntrack scale's
# 1M-flow rows), samples the whole machine with perf's cpu-clock (this
# VM has no hardware counters), and prints:
#   - the leaf functions of the samples taken inside PROG (maglb_xdp);
#   - those inside PROG itself by source line, through jitlines.
# As root, after `make bench` has built build/bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."
CASE=${1:?usage: profile.sh CASE [PROG] [CALLS]}
PROG=${2:-maglb_xdp}
CALLS=${3:-3000000}
OUT=build/bench/profile
mkdir -p "$OUT"
command -v perf >/dev/null || {
	echo "profile: needs perf (Debian: linux-perf)" >&2
	exit 1
}
if [ "$CASE" = scale ] || [ "$CASE" = scale-reply ]; then
	# The conntrack scale's 1M-flow row (or its reply row), looped once
	# the scale rows are done: the setup before it opens a million flows.
	BENCH_CASE=0 BENCH_SCALE=1 BENCH_SCALE_PROFILE=30 \
		BENCH_SCALE_REPLY=$([ "$CASE" = scale-reply ] && echo 1) \
		build/bench/bench_pkt 300 > "$OUT/bench.txt" 2> "$OUT/bench.err" &
	bench=$!
	trap 'kill $bench 2>/dev/null || true' EXIT
	for _ in $(seq 240); do
		grep -q "profiling the 1M-flow row" "$OUT/bench.err" && break
		sleep 0.5
	done
else
	BENCH_CASE=$CASE build/bench/bench_pkt "$CALLS" > "$OUT/bench.txt" &
	bench=$!
	trap 'kill $bench 2>/dev/null || true' EXIT
	sleep 8	# past the setup and the baseline of the first round
fi
id=$(bpftool prog show | awk -v n="name $PROG" '$0 ~ n {sub(":", "", $1); print $1}' | tail -1)
[ -n "$id" ] || { echo "profile: no program named $PROG" >&2; exit 1; }
build/bench/jitlines "$id" > "$OUT/lines.txt"
perf record -q -e cpu-clock -F 25000 -a -g -o "$OUT/perf.data" -- sleep 6 2>/dev/null
perf script -i "$OUT/perf.data" -F ip,sym,symoff 2>/dev/null > "$OUT/samples.txt"
python3 - "$PROG" "$OUT" <<'PY'
import bisect, collections, re, sys
prog, out = sys.argv[1], sys.argv[2]
leaf, offs, n = collections.Counter(), collections.Counter(), 0
for block in open(out + '/samples.txt').read().split('\n\n'):
    frames = [l.strip() for l in block.strip().split('\n') if l.strip()]
    if not frames or not any(prog in f for f in frames):
        continue
    n += 1
    m = re.search(r'\s(\S+?)\+0x([0-9a-f]+)', frames[0])
    leaf[re.sub(r'bpf_prog_[0-9a-f]+_', '', m.group(1) if m else frames[0])] += 1
    m = re.search(prog + r'\+0x([0-9a-f]+)', frames[0])
    if m:
        offs[int(m.group(1), 16)] += 1
if not n:
    sys.exit("profile: no samples inside " + prog)
print("%d samples inside %s\n\nleaf functions:" % (n, prog))
for k, v in leaf.most_common(15):
    print("%5.1f%%  %s" % (100.0 * v / n, k))
lines = []
for l in open(out + '/lines.txt'):
    p = l.rstrip('\n').split(' ', 2)
    lines.append((int(p[0], 16), p[1], p[2] if len(p) > 2 else ''))
lines.sort()
starts = [x[0] for x in lines]
by_line = collections.Counter()
for off, v in offs.items():
    i = bisect.bisect_right(starts, off) - 1
    if i >= 0:
        by_line[(lines[i][1], lines[i][2].strip()[:64])] += v
print("\nsamples in %s itself, by source line:" % prog)
for (f, t), v in by_line.most_common(25):
    print("%5.1f%%  %-22s %s" % (100.0 * v / n, f, t))
PY
