#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# check.sh - what `make kernels` runs inside each guest (scripts/qemu/boot.sh),
# from the tree's top: `maglb attach` on a veth in native mode, the program
# verifier's view of each program, the packet tests, then the short e2e
# (scripts/qemu/e2e.sh). Result lines, which matrix.sh names by kernel and
# tests/run.sh counts:
#   PASS attach | FAIL attach: rc and maglb's own line
#   PASS test_pkt | FAIL test_pkt: the counts and the first failed test
#   PASS e2e/CHECK | FAIL e2e/CHECK: why (one per e2e check)
# and INFO lines, not counted:
#   INFO kernel: Debian's version of the running kernel
#   INFO verifier: PROG: the verifier error of the program attach (or
#        test_pkt) stopped at, with the last source line the log names
#   INFO prog PROG ok|FAIL insns N stack A+B..: each program loaded on its
#        own (scripts/qemu/verifier_stats.c): the headroom left
#   INFO test_pkt: N passed, N failed
#   INFO attach: maglb's warnings; INFO time: seconds per step
# Full logs go to $OUT (a writable share) when it is set. Exits 1 if
# anything failed.
set -uo pipefail
out=${OUT:-/tmp}
# Debian's release (6.1.192-3) says more than uname -r (6.1.0-57-amd64).
deb=$(uname -v | sed -n 's/.*Debian \([^ ]*\).*/\1/p')
echo "INFO kernel: ${deb:-$(uname -r)}"
status=0
ip link add hEv0 type veth peer name hEv1
ip link set hEv0 up
ip link set hEv1 up

# first_errors LOG: per failed program, the line before the verifier's
# "processed N insns" summary (its error) and the last "@ file:line".
first_errors()
{
	awk '
	/prog .*-- BEGIN PROG LOAD LOG --/ { split($0, a, "'\''"); prog = a[2]; inlog = 1; err = ""; src = ""; next }
	inlog && /-- END PROG LOAD LOG --/ { printf "INFO verifier: %s: %s%s\n", prog, err, src ? " (" src ")" : ""; inlog = 0; next }
	inlog && /^processed [0-9]+ insns/ { done = 1 }
	inlog && !done && / @ [^ ]+:[0-9]+$/ { src = $NF }
	inlog && !done && NF && !/^[0-9]+: / && !/^;/ && !/^(from|verification time|stack depth)/ { err = $0 }
	/-- END PROG LOAD LOG --/ { done = 0 }
	' "$1"
}

build/maglb attach hEv0 >"$out/attach.log" 2>&1
rc=$?
line=$(grep '^maglb: ' "$out/attach.log" | tail -n1)
if [ $rc = 0 ]; then
	echo "PASS attach"
else
	echo "FAIL attach: rc=$rc $line"
	status=1
fi
grep '^maglb: attach: ' "$out/attach.log" | sed 's/^/INFO attach: /'
first_errors "$out/attach.log"
t_attach=$SECONDS
build/qemu/verifier_stats build/maglb.bpf.o build/maglb_tc.bpf.o | sed 's/^/INFO /'
[ $rc = 0 ] && build/maglb detach hEv0 >/dev/null 2>&1
t_stats=$SECONDS

build/tests/test_pkt >"$out/test_pkt.log" 2>&1
rc=$?
grep '^FAIL' "$out/test_pkt.log" | head -n 5 | sed 's/^/  # /'
first_errors "$out/test_pkt.log"
counts="$(grep -c '^PASS' "$out/test_pkt.log") passed, $(grep -c '^FAIL' "$out/test_pkt.log") failed"
echo "INFO test_pkt: $counts"
if [ $rc = 0 ] && [[ "$counts" == *" passed, 0 failed" ]] && [[ "$counts" != "0 passed"* ]]; then
	echo "PASS test_pkt"
else
	echo "FAIL test_pkt: $counts, rc=$rc; first: $(grep -m1 '^FAIL' "$out/test_pkt.log")"
	status=1
fi

t_pkt=$SECONDS
scripts/qemu/e2e.sh || status=1
echo "INFO time: attach $t_attach s, verifier_stats $((t_stats - t_attach)) s," \
	"test_pkt $((t_pkt - t_stats)) s, e2e $((SECONDS - t_pkt)) s"
exit $status
