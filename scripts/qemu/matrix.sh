#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# matrix.sh - `make kernels` and the kernels/* stages of tests/run.sh: boot
# each pinned Debian kernel under qemu (boot.sh), run check.sh inside, and
# pass on its result lines named for the kernel (PASS kernel-6.1/attach,
# FAIL kernel-6.1/e2e/...: ...), then the guest's wall time and one summary
# line per kernel as INFO lines. As root, after `make tests`.
#
#   scripts/qemu/matrix.sh              every pinned kernel
#   scripts/qemu/matrix.sh 6.1          one, by its short name
#   scripts/qemu/matrix.sh PKG=VERSION  any Debian kernel package
#   scripts/qemu/matrix.sh --list       "SHORT PKG=VERSION", one a line
#
# $KERNELS, when set, replaces the arguments. Each guest's console and logs
# are kept in build/kernels/PKG/; $QEMU_TIMEOUT (default 900 s) bounds each
# guest. Exits 1 unless every check passed on every kernel.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# Pinned to the exact package versions the results were taken with: Debian
# 12's own kernel and the 6.12 LTS it also ships, both from bookworm-security,
# which drops a version once a newer one is out: the cache then has to hold
# it, or the pin moves.
PINNED=(
	linux-image-6.1.0-57-amd64=6.1.192-3
	linux-image-6.12.117+deb12-amd64=6.12.117-1~deb12u1
)
export QEMU_TIMEOUT=${QEMU_TIMEOUT:-900}

# short PKG[=VERSION]: the kernel's major.minor, as result names use it.
short() { sed -E 's/^linux-image-([0-9]+\.[0-9]+).*/\1/' <<<"$1"; }

if [ "${1:-}" = --list ]; then
	for k in "${PINNED[@]}"; do echo "$(short "$k") $k"; done
	exit 0
fi
want=(${KERNELS:-$@})
[ ${#want[@]} -gt 0 ] || want=("${PINNED[@]}")
[ -x build/qemu/verifier_stats ] && [ -x build/tests/test_pkt ] ||
	{ echo "FAIL kernels: build first (make tests build/qemu/verifier_stats)"; exit 1; }

# A guest kernel that oopses on its own under TCG (seen once in 6.12's
# get_random_u32 while attach loaded a program): boot it once more. A
# crash our programs cause comes back and fails the stage.
OOPS='(Oops|BUG: |general protection fault|Kernel panic)'

# run_guest SPEC: one kernel's result lines, named kernel-SHORT/.
run_guest() {
	local spec=$1 name=kernel-$(short "$1") pkg=${1%%=*} out start secs rc ver status=0 try

	out=$PWD/build/kernels/$pkg
	start=$(date +%s)
	for try in 1 2; do
		rm -rf "$out"
		mkdir -p "$out"
		MAGLB_GUEST_OUT=$out scripts/qemu/boot.sh "$spec" scripts/qemu/check.sh \
			> "$out/check.log" 2>&1
		rc=$?
		[ "$rc" != 0 ] && [ "$try" = 1 ] && grep -qE "$OOPS" "$out/console" 2>/dev/null || break
		echo "INFO $name/guest: the guest kernel crashed on its own ($(grep -m1 -oE "$OOPS.*" "$out/console" | cut -c1-80)); booting it again"
	done
	sed -E "s#^(PASS|FAIL|SKIP|INFO) #\1 $name/#" "$out/check.log"
	secs=$(($(date +%s) - start))
	# check.sh exits 1 after its own FAIL lines; anything else needs one.
	case $rc in
	0) ;;
	124) echo "FAIL $name/guest: timed out after $QEMU_TIMEOUT s" ;;
	1) grep -q '^FAIL ' "$out/check.log" || echo "FAIL $name/guest: ended with status 1" ;;
	*) echo "FAIL $name/guest: ended with status $rc" ;;
	esac
	[ "$rc" = 0 ] || status=1
	ver=$(sed -n 's/^INFO kernel: //p' "$out/check.log")
	echo "INFO $name/guest: $secs s"
	echo "INFO $name: ${ver:-$pkg}: attach $(grep -q '^PASS attach' "$out/check.log" && echo ok || echo FAIL)," \
		"test_pkt $(sed -n 's/^INFO test_pkt: //p' "$out/check.log" | grep . || echo 'not run')," \
		"e2e $(grep -c '^PASS e2e/' "$out/check.log") of $(grep -c -E '^(PASS|FAIL) e2e/' "$out/check.log") passed, $secs s"
	return $status
}

status=0
for k in "${want[@]}"; do
	# A short name picks the pinned package.
	for p in "${PINNED[@]}"; do
		[ "$(short "$p")" = "$k" ] && k=$p
	done
	run_guest "$k" || status=1
done
exit $status
