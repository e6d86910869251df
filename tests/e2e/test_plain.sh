#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The plain topology: a client and 10 nginx pods, each behind its own veth
# pair into the node (cl0, be0..be9), with nothing on the far sides (no XDP
# program, no GRO), as a CNI leaves a pod's veth. maglb runs on all eleven
# node-side devices. The seed's requests in nat and snat, over IPv4 and
# IPv6; then one pod's veth gets an XDP program, and only its traffic may
# take the fast path.
TOPO=mlb-plain
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start plain

# egress_packets DEV PATH: packets maglb sent out of the node's DEV by PATH
# (enum maglb_path), summed over CPUs, from the pinned maglb_egress_stats.
egress_packets() {
	local ifindex
	ifindex=$(nsx node cat "/sys/class/net/$1/ifindex") || return 1
	bpftool map dump pinned "$PIN_DIR/maglb_egress_stats" |
		jq --argjson i "$ifindex" --argjson p "$2" \
			'[.[] | select(.key.ifindex == $i and .key.path == $p) | .values[].value.packets] | add // 0'
}

PATH_REDIRECT=0 PATH_TC=2	# enum maglb_path

# be0's peer gets an XDP program, so be0 takes redirected frames; be1's
# stays bare. Each row: device, path, and whether packets to the pod leave
# that way (some) or not (none).
FASTPATH_ROWS=(
	"be0 $PATH_REDIRECT some"
	"be0 $PATH_TC none"
	"be1 $PATH_REDIRECT none"
	"be1 $PATH_TC some"
)

fast_path_only_where_the_peer_runs_xdp() {
	local row dev path want before=() got n=0 ok=0 tc0
	write_config "$CFG" nat Tuple 0 1
	maglb apply -f "$CFG" >/dev/null || return 1
	# Flows to backend-0 by TC just before: its next-hop cache now holds
	# TC's flags, for NH_CACHE_NS (bpf/lib/forward.h).
	tc0=$(egress_packets be0 "$PATH_TC")
	seed_requests 9.9.9.8 20 >/dev/null
	(($(egress_packets be0 "$PATH_TC") > tc0)) || { echo "no flow to backend-0 before"; return 1; }
	xdp_pass_on be0 eth0 || return 1
	# apply probes the devices again, and empties the backends' next hops
	# when a device's flags change: new flows see the new flags at once
	maglb apply -f "$CFG" >/dev/null || return 1
	for row in "${FASTPATH_ROWS[@]}"; do
		read -r dev path want <<<"$row"
		before+=("$(egress_packets "$dev" "$path")")
	done
	reset_logs
	seed_requests 9.9.9.9 20
	backend_counts | grep -v ' 0 requests'
	[ "$(cat "$WORK"/backend-{0,1}/access.log | wc -l)" = 20 ] || { echo "not all 20 answered"; return 1; }
	for row in "${FASTPATH_ROWS[@]}"; do
		read -r dev path want <<<"$row"
		got=$(($(egress_packets "$dev" "$path") - before[n]))
		n=$((n + 1))
		echo "$dev path $path: $got packets (want $want)"
		if [ "$want" = some ]; then ((got > 0)); else ((got == 0)); fi || ok=1
	done
	return $ok
}

# What the maps hold that an apply writes, as one digest.
maps_digest() {
	local m
	for m in vips vip_addrs backends matches cookies; do
		bpftool map dump pinned "$PIN_DIR/maglb_$m"
	done | md5sum
	maglb table cookie-route | md5sum
}

# --check plans against the live maps: nothing for what is applied; for
# one pod fewer, both tables and that pod's two ids; and writes nothing.
apply_check_prints_the_plan_and_writes_nothing() {
	local before out want
	write_config "$CFG" nat SourceIP
	maglb apply -f "$CFG" >/dev/null || return 1
	out=$(maglb apply --check -f "$CFG") || return 1
	grep -x "plan: 0 ops (services +0 -0, backends +0 -0)" <<<"$out" ||
		{ echo "re-applying plans: $out"; return 1; }
	write_config "$CFG" nat SourceIP 0 1 2 3 4 5 6 7 8
	before=$(maps_digest)
	out=$(maglb apply --check -f "$CFG" | grep -E '^(put|del|reset|retire|close|plan)') || return 1
	echo "$out"
	want="put ring svc [0-9]+ \(cookie-route\) 65537 slots
put ring svc [0-9]+ \(cookie-route-v6\) 65537 slots
retire backend [0-9]+ svc=cookie-route $(backend_addr nat 9):3000 w=1 gen=[0-9]+
retire backend [0-9]+ svc=cookie-route-v6 \[$(backend_addr6 nat 9)\]:3000 w=1 gen=[0-9]+
plan: 4 ops \(services \+0 -0, backends \+0 -2\)"
	[ "$(grep -cxEf <(echo "$want") <<<"$out")" = 5 ] && [ "$(wc -l <<<"$out")" = 5 ] ||
		{ echo "want lines matching:"; echo "$want"; return 1; }
	[ "$(maps_digest)" = "$before" ] || { echo "--check changed the maps"; return 1; }
	maglb apply -f "$CFG" >/dev/null || return 1
	[ "$(maps_digest)" != "$before" ] || { echo "the apply changed nothing"; return 1; }
	maglb apply --check -f "$CFG" | grep -x "plan: 0 ops (services +0 -0, backends +0 -0)"
}

LABEL=plain check veths_outside_the_node_are_bare
LABEL=plain check apply_check_prints_the_plan_and_writes_nothing
for MODE in nat snat; do
	LABEL=plain-$MODE
	check seed_sourceip_requests_all_land_on_the_lookup_backend
	check seed_cookie_requests_land_on_the_lookup_backend
	check ipv6_requests_all_land_on_the_lookup_backend
	check ipv6_cookie_requests_land_on_the_lookup_backend
	check l4_connections_end_up_confirmed
done
LABEL=plain check fast_path_only_where_the_peer_runs_xdp
