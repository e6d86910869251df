#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Two-arm nat topology: client -- node(maglb on eth0, eth1) -- 10 nginx pods.
TOPO=mlb-nat
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat

second_attach_reuses_pins_and_native_failure_is_clear() {
	local out
	# A bridge has no native XDP; attaching to it also exercises a second
	# attach against already pinned maps.
	nsx node ip link add dummy0 type bridge
	nsx node ip link set dummy0 up
	if out=$(maglb attach dummy0 2>&1); then
		echo "attach to a bridge in native mode succeeded"; return 1
	fi
	echo "$out" | tail -1
	grep -q "native XDP is not supported.*--mode generic" <<<"$out" || return 1
	maglb attach --mode generic dummy0 2>&1 | tail -1
	maglb status | grep -q "dummy0" || { echo "generic attach not in status"; return 1; }
	maglb detach dummy0 || return 1
	nsx node ip link del dummy0
	[ -d "$PIN_DIR/links" ] || { echo "detaching one device removed all pins"; return 1; }
}

# An older release's conntrack pin (maglb_ct, split into maglb_ct4/ct6)
# must not be run beside: attach says so and changes nothing.
attach_refuses_to_run_beside_an_older_releases_pins() {
	local out
	bpftool map create "$PIN_DIR/maglb_ct" type hash key 4 value 4 \
		entries 1 name maglb_ct || return 1
	if out=$(maglb attach eth0 2>&1); then
		rm -f "$PIN_DIR/maglb_ct"
		echo "attach beside an old maglb_ct pin succeeded"; return 1
	fi
	rm -f "$PIN_DIR/maglb_ct"
	echo "$out" | tail -1
	grep -q "maglb_ct is an older release's map.*maglb detach" <<<"$out" || return 1
	maglb attach eth0 2>&1 | tail -1
	maglb status | grep -q "eth0" || { echo "eth0 not attached after"; return 1; }
}

stats_and_bpftool_show_named_per_backend_counters() {
	local dump
	dump=$(bpftool map dump pinned "$PIN_DIR/maglb_backend_stats") || return 1
	for f in packets bytes new_conns reply_packets; do
		grep -q "\"$f\"" <<<"$dump" || { echo "no field $f in bpftool dump"; return 1; }
	done
	maglb stats --json | grep -q '"new_conns":[1-9]' || { echo "no connections counted"; return 1; }
	maglb conns | grep -q "10.10.0.2:" || { echo "conns lists no client"; return 1; }
}

download_50mb_survives_backend_add_and_remove() {
	local be i other sum_src sum_got
	head -c 50M /dev/urandom > "$WORK/files/big.bin"
	sum_src=$(sha256sum < "$WORK/files/big.bin")
	write_config "$CFG" nat SourceIP 0 1 2 3 4 5 6 7 8
	maglb apply -f "$CFG" >/dev/null || return 1
	be=$(maglb lookup cookie-route --src 10.10.0.2)
	nsx client curl -sS --limit-rate 10M -o "$WORK/got.bin" "http://$VIP/files/big.bin" &
	local pid=$!
	sleep 1.5
	# remove a backend that is not serving this client, and add backend-9
	for i in 0 1; do [ "$(backend_addr nat $i):3000" != "$be" ] && other=$i && break; done
	local keep=(); for i in 0 1 2 3 4 5 6 7 8 9; do [ "$i" != "$other" ] && keep+=("$i"); done
	write_config "$CFG" nat SourceIP "${keep[@]}"
	maglb apply -f "$CFG" || return 1
	kill -0 $pid 2>/dev/null || { echo "download ended before the change"; return 1; }
	wait $pid || { echo "curl failed"; return 1; }
	sum_got=$(sha256sum < "$WORK/got.bin")
	[ "$sum_src" = "$sum_got" ] || { echo "sha256 differs"; return 1; }
	echo "50 MB sha256 ok through $be while backend-$other left and backend-9 joined"
}

bad_config_is_rejected_and_old_one_keeps_serving() {
	local before after out
	write_config "$CFG" nat SourceIP
	maglb apply -f "$CFG" >/dev/null || return 1
	before=$(maglb table cookie-route --json)
	sed 's/tableSize: 65537/tableSize: 65536/' "$CFG" > "$WORK/bad.yaml"
	if out=$(maglb apply -f "$WORK/bad.yaml" 2>&1); then
		echo "bad config accepted"; return 1
	fi
	echo "$out"
	grep -q "$WORK/bad.yaml:[0-9]*: services\[0\].loadBalancer.consistentHash.tableSize: 65536 is not prime" <<<"$out" ||
		{ echo "message lacks file/field/reason"; return 1; }
	after=$(maglb table cookie-route --json)
	[ "$before" = "$after" ] || { echo "live table changed"; return 1; }
	reset_logs
	seed_requests 1.2.3.4 3
	only_backend_with 3 >/dev/null || { echo "not served after rejection"; return 1; }
}

agent_reloads_on_edit_and_ignores_bad_edit() {
	write_config "$CFG" nat SourceIP 0 1 2
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent -f "$CFG" --sweep-interval 1 2>"$WORK/agent.log" &
	local apid=$! i
	for i in $(seq 50); do grep -q "config applied" "$WORK/agent.log" && break; sleep 0.1; done
	echo "services: [{name: x" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
	for i in $(seq 50); do grep -q "config rejected" "$WORK/agent.log" && break; sleep 0.1; done
	grep -q "config rejected" "$WORK/agent.log" || { cat "$WORK/agent.log"; kill $apid; return 1; }
	[ "$(maglb status --json | grep -o '"backends":[0-9]*' | head -1)" = '"backends":3' ] ||
		{ echo "bad edit changed live state"; kill $apid; return 1; }
	write_config "$CFG.tmp" nat SourceIP && mv "$CFG.tmp" "$CFG"
	for i in $(seq 50); do [ "$(grep -c "config applied" "$WORK/agent.log")" -ge 2 ] && break; sleep 0.1; done
	kill -HUP $apid
	for i in $(seq 50); do [ "$(grep -c "config applied" "$WORK/agent.log")" -ge 3 ] && break; sleep 0.1; done
	grep -q "SIGHUP: reloading" "$WORK/agent.log" || { echo "SIGHUP not handled"; kill $apid; return 1; }
	kill -TERM $apid; wait $apid
	cat "$WORK/agent.log"
	[ "$(maglb status --json | grep -o '"backends":[0-9]*' | head -1)" = '"backends":10' ] ||
		{ echo "good edit not applied"; return 1; }
}

agent_restart_during_wrk_loses_no_requests() {
	write_config "$CFG" nat Tuple
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent -f "$CFG" 2>>"$WORK/agent.log" &
	local apid=$!
	nsx client wrk -t2 -c16 -d6s -H "Connection: close" "http://$VIP/" > "$WORK/wrk.txt" 2>&1 &
	local wpid=$!
	sleep 1.5
	kill -TERM $apid; wait $apid
	sleep 1.5	# no agent at all for a while
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent -f "$CFG" 2>>"$WORK/agent.log" &
	apid=$!
	wait $wpid
	kill -TERM $apid; wait $apid
	cat "$WORK/wrk.txt"
	grep -qE "Socket errors|Non-2xx" "$WORK/wrk.txt" && { echo "wrk saw errors"; return 1; }
	local n; n=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
	[ "${n:-0}" -gt 500 ] || { echo "only ${n:-0} requests"; return 1; }
}

# After its first packets, an established flow takes the fast path
# (bpf/lib/fastpath.h), which rewrites IPv6 through the same nat_rewrite.
ipv6_download_20mb_is_intact_over_the_fast_path() {
	write_config "$CFG" nat Tuple
	maglb apply -f "$CFG" >/dev/null || return 1
	download_intact 20M "[$VIP6]"
}

check seed_sourceip_requests_all_land_on_the_lookup_backend
check seed_tuple_requests_spread_over_backends
check ipv6_requests_all_land_on_the_lookup_backend
check ipv6_download_20mb_is_intact_over_the_fast_path
check second_attach_reuses_pins_and_native_failure_is_clear
check attach_refuses_to_run_beside_an_older_releases_pins
check stats_and_bpftool_show_named_per_backend_counters
check download_50mb_survives_backend_add_and_remove
check bad_config_is_rejected_and_old_one_keeps_serving
check agent_reloads_on_edit_and_ignores_bad_edit
check agent_restart_during_wrk_loses_no_requests
