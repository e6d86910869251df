# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.sh - helpers for end-to-end tests: result lines that tests/run.sh
# counts, and a cleanup trap that always runs. Source after setting TOPO.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/lib/topo.sh"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# check FN: run a check function named for the behaviour it proves. Its
# output is shown as '#' lines (the evidence); a failure quotes its tail.
check() {
	local out rc
	out=$("$1" 2>&1)
	rc=$?
	[ -n "$out" ] && sed 's/^/  # /' <<<"$out" | tail -n 14
	if [ $rc -eq 0 ]; then
		pass "$1"
	else
		fail "$1" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
}

e2e_start() {	# mode
	trap 'e2e_stop' EXIT
	trap 'exit 130' INT TERM
	topo_down >/dev/null 2>&1	# leftovers of an interrupted run
	if ! topo_up "$1" >"$WORK.setup.log" 2>&1; then
		fail "${TOPO}_topology_setup" "$(tail -5 "$WORK.setup.log" | tr '\n' ' ')"
		exit 1
	fi
	rm -f "$WORK.setup.log"
}

e2e_stop() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	topo_down >/dev/null 2>&1
	rm -f "$WORK.setup.log"
}

# distinct backends whose access log grew since reset_logs
backends_hit() {
	local i n=0
	for ((i = 0; i < NBACKENDS; i++)); do
		[ -s "$WORK/backend-$i/access.log" ] && n=$((n + 1))
	done
	echo $n
}

# the backend (index) whose log has exactly N lines, if only one has any
only_backend_with() {	# count
	local i found=
	for ((i = 0; i < NBACKENDS; i++)); do
		local c; c=$(wc -l < "$WORK/backend-$i/access.log")
		if [ "$c" -gt 0 ]; then
			[ -z "$found" ] && [ "$c" -eq "$1" ] || return 1
			found=$i
		fi
	done
	[ -n "$found" ] && echo "$found"
}
