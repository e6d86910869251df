#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# matrix.sh - `make kernels`: boot each pinned Debian kernel under qemu
# (boot.sh), run check.sh inside, and print one line per kernel. As root,
# after `make all tests`. Each guest's console and logs are kept in
# build/kernels/PKG/. $KERNELS overrides the list (package names). Exits 1
# unless every kernel attached and passed every packet test.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# Pinned: Debian 12's own kernel and the 6.12 LTS from bookworm-backports.
KERNELS=${KERNELS:-linux-image-6.1.0-57-amd64 linux-image-6.12.117+deb12-amd64}

summary=()
status=0
for pkg in $KERNELS; do
	out=$PWD/build/kernels/$pkg
	rm -rf "$out"
	mkdir -p "$out"
	echo "== $pkg"
	start=$(date +%s)
	MAGLB_GUEST_OUT=$out scripts/qemu/boot.sh "$pkg" scripts/qemu/check.sh | tee "$out/check.log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	ver=$(sed -n 's/^kernel: //p' "$out/check.log")
	attach=$(grep -q '^attach: rc=0 ' "$out/check.log" && echo ok || echo FAIL)
	pkt=$(sed -n 's/^test_pkt: //p' "$out/check.log")
	[ "$rc" = 0 ] || pkt="guest failed (rc $rc)"
	[ "$attach" = ok ] && [[ "$pkt" == *" passed, 0 failed" ]] || status=1
	summary+=("kernel ${ver:-$pkg}: attach $attach, test_pkt ${pkt:-not run}, e2e not run, $secs s")
done
echo
printf '%s\n' "${summary[@]}"
exit $status
