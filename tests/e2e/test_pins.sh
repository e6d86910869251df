#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_pins.sh - what `maglb attach` leaves in bpffs is root's alone: the
# pin directory 0700, every pin 0600, and an unprivileged user cannot open
# a pinned map (the maps hold backend addresses and the syncookie key).
# Issue 16 asked to keep this checked.
TOPO=mlb-pins NBACKENDS=1
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start plain

pin_dir_is_0700_and_every_pin_0600() {
	local bad
	echo "$PIN_DIR: $(stat -c %a "$PIN_DIR"), $(find "$PIN_DIR" -type f | wc -l) pins"
	[ "$(stat -c %a "$PIN_DIR")" = 700 ] || return 1
	bad=$(find "$PIN_DIR" -mindepth 1 \( -type d ! -perm 700 \) -o \( ! -type d ! -perm 600 \))
	[ -z "$bad" ] || { echo "other modes: $bad"; return 1; }
	[ "$(find "$PIN_DIR" -type f | wc -l)" -gt 10 ] || { echo "too few pins"; return 1; }
}

nobody_cannot_open_a_pinned_map() {
	local m out nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	for m in maglb_vips maglb_secret maglb_ct4; do
		# bpftool names a directory it may not enter "not in bpffs";
		# the open itself is what must fail
		out=$("${nobody[@]}" bpftool map show pinned "$PIN_DIR/$m" 2>&1) &&
			{ echo "$m: opened: $out"; return 1; }
		out=$("${nobody[@]}" cat "$PIN_DIR/$m" 2>&1) && { echo "$m: read"; return 1; }
		echo "$m: $out"
		grep -qi "permission denied" <<<"$out" || return 1
	done
}

check pin_dir_is_0700_and_every_pin_0600
check nobody_cannot_open_a_pinned_map
