#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh - the whole test suite, as root on Debian 12: installs what is
# missing, builds, runs unit, packet and end-to-end tests, then the packet
# tests and a short e2e inside each pinned Debian kernel under qemu, and
# ends with one line: "N passed, N failed[, N skipped]". INFO lines (the
# verifier's instruction count and stack depth per program and kernel, each
# guest's time) are kept in the log but not counted.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: run as root (XDP, namespaces, bpffs)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
./scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
make -s -j"$(nproc)" tests asan-tests build/qemu/verifier_stats || { echo "0 passed, 1 failed"; exit 1; }

LOG=build/test-results.txt
: > "$LOG"

# run NAME TIMEOUT CMD...: stream its lines; a crash or a time-out without a
# FAIL line of its own still counts as a failure.
run() {
	local name=$1 limit=$2 out rc
	shift 2
	echo "== $name"
	out=$(timeout --kill-after=10 "$limit" "$@" 2>&1)
	rc=$?
	echo "$out" | tee -a "$LOG"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then
		echo "FAIL $name: exited with status $rc" | tee -a "$LOG"
	fi
}

# The unit suites (`make check`) need neither root nor BPF: they run as
# nobody, unless nobody cannot read the tree (a clone under /root).
as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! "${as_user[@]}" test -r tests/fixtures/pkt.yaml -a -x build/tests/test_maglev 2>/dev/null; then
	echo "INFO unit suites run as root: nobody cannot read $PWD"
	as_user=()
fi
run unit/layers 60 make -s check-layers
run unit/maglev 120 "${as_user[@]}" build/tests/test_maglev
run unit/syncookie 120 "${as_user[@]}" build/tests/test_syncookie
run unit/config 60 "${as_user[@]}" build/tests/test_config
run unit/gateway 60 "${as_user[@]}" build/tests/test_gateway
run unit/http 60 "${as_user[@]}" build/tests/test_http
run unit/cli 60 "${as_user[@]}" build/tests/test_cli
run unit/plan 60 "${as_user[@]}" build/tests/test_plan
run unit/status 60 "${as_user[@]}" build/tests/test_status
# The same suites built with ASAN and UBSan (`make asan-tests`): the
# config parsers take hostile input, and an overflow must fail here.
for t in maglev syncookie config gateway http cli plan status; do
	run "unit-asan/$t" 120 "${as_user[@]}" build/asan/tests/test_$t
done
run fuzz/http 120 tests/fuzz/run.sh
run pkt/xdp 120 build/tests/test_pkt
# A million connections through test_run (tests/pkt/ct.c): its own stage,
# since its conntrack (2M entries a family, ~1.2 GiB) is sized for it.
run pkt/ct-scale 300 env MAGLB_TEST_CT_CONNS=1048576 build/tests/test_pkt -t ct_scale_
# Headroom on this machine's kernel, as the guests print theirs.
run verifier/host 300 bash -c 'build/qemu/verifier_stats build/maglb.bpf.o build/maglb_tc.bpf.o |
	sed "s#^#INFO kernel-$(uname -r | cut -d. -f1,2)/#"; exit ${PIPESTATUS[0]}'
run deploy/manifests 300 tests/deploy/test_deploy.sh
run deploy/image 1800 tests/deploy/test_image.sh
for t in tests/e2e/test_*.sh; do
	run "e2e/$(basename "$t" .sh)" 600 "$t"
done
# The kernel matrix (scripts/qemu/matrix.sh): attach, test_pkt and the
# short e2e in each pinned kernel, each guest bounded by $QEMU_TIMEOUT.
while read -r kernel spec; do
	run "kernels/$kernel" 1200 scripts/qemu/matrix.sh "$spec"
done < <(scripts/qemu/matrix.sh --list)

passed=$(grep -c '^PASS ' "$LOG")
failed=$(grep -c '^FAIL ' "$LOG")
skipped=$(grep -c '^SKIP ' "$LOG")
echo
grep '^FAIL ' "$LOG"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
