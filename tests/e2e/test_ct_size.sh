#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# conntrack.maxEntries (user/cli/attach.c): attach sizes the conntrack maps
# from the config or --ct-max-entries and prints their memory; a bad value
# is refused naming file, field and reason; a pin of another type or size
# is replaced when no device is attached and refused, naming the pin and
# the fix, when one is; apply notes a config that differs from the live
# maps.
#
#   node: eth0 (veth, peer p-eth0 in pod); XDP in generic mode. No traffic.
TOPO=${TOPO:-mlb-ctsize}
source "$(dirname "$0")/../lib/e2e.sh"
set -u
LABEL=ctsize

cleanup() {
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" detach eth0 >/dev/null 2>&1
	rm -rf "$PIN_DIR" "$WORK"
	ip netns del "$(ns node)" 2>/dev/null
	ip netns del "$(ns pod)" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup() {
	cleanup
	mkdir -p "$WORK"
	ip netns add "$(ns node)" && ip netns add "$(ns pod)" || return 1
	ip -n "$(ns node)" link add eth0 type veth peer name p-eth0 netns "$(ns pod)" &&
		ip -n "$(ns node)" link set eth0 up && ip -n "$(ns pod)" link set p-eth0 up
}

conf() {	# FILE MAXENTRIES
	printf 'conntrack: {maxEntries: %s}\nservices: []\n' "$2" >"$1"
}

# field MAP KEY: a pinned map's field as bpftool's JSON gives it.
field() {
	bpftool -j map show pinned "$PIN_DIR/$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

config_max_entries_reaches_both_maps_and_attach_prints_their_memory() {
	local out
	conf "$WORK/a.yaml" 4096
	out=$(maglb attach --mode generic --config "$WORK/a.yaml" eth0 2>&1) ||
		{ echo "$out"; return 1; }
	echo "$out" | grep conntrack
	echo "$out" | grep -q 'conntrack: 4096 connections (maglb_ct4 8192 entries, [0-9.]* MiB' ||
		{ echo "no memory line"; return 1; }
	for m in maglb_ct4 maglb_ct6; do
		[ "$(field $m type)" = hash ] || { echo "$m: type $(field $m type)"; return 1; }
		[ "$(field $m max_entries)" = 8192 ] ||
			{ echo "$m: max_entries $(field $m max_entries)"; return 1; }
	done
}

apply_notes_a_max_entries_the_live_maps_do_not_have() {
	local out
	conf "$WORK/b.yaml" 2048
	out=$(maglb apply -f "$WORK/b.yaml" 2>&1)
	echo "$out"
	grep -q 'conntrack.maxEntries is 2048, the live maps hold 4096 connections' <<<"$out"
}

another_size_while_attached_is_refused_naming_the_pin_and_the_fix() {
	local out
	out=$(maglb attach --mode generic --ct-max-entries 8192 eth0 2>&1) &&
		{ echo "accepted: $out"; return 1; }
	echo "$out"
	grep -q "$PIN_DIR/maglb_ct4 holds 8192 entries (4096 connections), conntrack.maxEntries asks 8192 connections" <<<"$out" &&
		grep -q 'maglb detach' <<<"$out" || return 1
	[ "$(field maglb_ct4 max_entries)" = 8192 ]
}

bad_max_entries_is_refused_naming_file_field_and_reason() {
	local out
	conf "$WORK/bad.yaml" 12
	out=$(maglb attach --mode generic --config "$WORK/bad.yaml" eth0 2>&1) &&
		{ echo "accepted: $out"; return 1; }
	echo "$out"
	grep -q "$WORK/bad.yaml:1:.*conntrack.maxEntries: 12 is out of range 1024..16777216" <<<"$out"
}

an_older_lru_pin_is_replaced_when_no_device_is_attached() {
	local out vsize
	vsize=$(field maglb_ct4 bytes_value)
	maglb detach eth0 >/dev/null || return 1
	mkdir -p "$PIN_DIR"
	bpftool map create "$PIN_DIR/maglb_ct4" type lru_hash key 16 value "$vsize" \
		entries 262144 name maglb_ct4 || return 1
	out=$(maglb attach --mode generic --ct-max-entries 2048 eth0 2>&1) ||
		{ echo "$out"; return 1; }
	echo "$out"
	grep -q "maglb_ct4 is of map type .*LRU.*made anew" <<<"$out" || return 1
	[ "$(field maglb_ct4 type)" = hash ] && [ "$(field maglb_ct4 max_entries)" = 4096 ]
}

if ! setup >"$WORK.setup.log" 2>&1; then
	fail "${TOPO}_setup" "$(tail -5 "$WORK.setup.log" | tr '\n' ' ')"
	exit 1
fi
rm -f "$WORK.setup.log"
check config_max_entries_reaches_both_maps_and_attach_prints_their_memory
check apply_notes_a_max_entries_the_live_maps_do_not_have
check another_size_while_attached_is_refused_naming_the_pin_and_the_fix
check bad_max_entries_is_refused_naming_file_field_and_reason
check an_older_lru_pin_is_replaced_when_no_device_is_attached
