# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.sh - helpers for end-to-end tests: result lines that tests/run.sh
# counts, and a cleanup trap that always runs. Source after setting TOPO;
# TOPO_PREFIX, if set, is put before it (runs side by side on one machine).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOPO=${TOPO_PREFIX:-}$TOPO
source "$ROOT/scripts/lib/topo.sh"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# check FN: run a check function named for the behaviour it proves, as
# "$LABEL/FN" (LABEL defaults to the topology's mode). Its
# output is shown as '#' lines (the evidence); a failure quotes its tail.
check() {
	local out rc
	out=$("$1" 2>&1)
	rc=$?
	[ -n "$out" ] && sed 's/^/  # /' <<<"$out" | tail -n 14
	if [ $rc -eq 0 ]; then
		pass "${LABEL:-$MODE}/$1"
	else
		fail "${LABEL:-$MODE}/$1" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
}

e2e_start() {	# mode
	MODE=$1
	CFG=$WORK/maglb.yaml
	trap 'e2e_stop' EXIT
	trap 'exit 130' INT TERM
	topo_down >/dev/null 2>&1	# leftovers of an interrupted run
	if ! topo_up "$1" >"$WORK.setup.log" 2>&1; then
		fail "${TOPO}_topology_setup" "$(tail -5 "$WORK.setup.log" | tr '\n' ' ')"
		exit 1
	fi
	rm -f "$WORK.setup.log"
}

# start_agent ARGS...: `maglb agent ARGS` in the node, logging to
# $AGENT_LOG, started from the top level (a check runs in a command
# substitution, which would wait for a child holding its stdout). Waits for
# its next "config applied".
start_agent() {
	local n
	n=$(grep -c "config applied" "$AGENT_LOG" 2>/dev/null)
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent "$@" \
		>/dev/null 2>>"$AGENT_LOG" &
	AGENT=$!
	for _ in $(seq 100); do
		[ "$(grep -c "config applied" "$AGENT_LOG" 2>/dev/null)" -gt "${n:-0}" ] && return 0
		sleep 0.1
	done
	return 1
}

# The agent must leave cleanly on SIGTERM (status 0): the datapath stays.
stop_agent() {
	kill -TERM "$AGENT" 2>/dev/null
	wait "$AGENT"
}

# download_intact SIZE HOST [curl args...]: SIZE random bytes served by the
# pods come through the VIP (HOST as in a URL) with the same sha256. The
# response headers are left in $WORK/headers.
download_intact() {
	local size=$1 host=$2
	shift 2
	head -c "$size" /dev/urandom > "$WORK/files/dl.bin"
	nsx client curl -g -sS -m 120 -D "$WORK/headers" -o "$WORK/got.bin" "$@" \
		"http://$host/files/dl.bin" || return 1
	[ "$(sha256sum < "$WORK/files/dl.bin")" = "$(sha256sum < "$WORK/got.bin")" ] ||
		{ echo "sha256 differs"; return 1; }
	rm -f "$WORK/files/dl.bin" "$WORK/got.bin"
	echo "$size through $host, sha256 equal"
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

# ---- checks both topologies run (MODE is nat or snat) ----------------------

# The address a backend sees as the client: the client's own with nat, the
# node's with snat.
seen_client() {	# 4|6
	case $MODE$1 in
	nat4) echo 10.10.0.2 ;; nat6) echo fd00:10::2 ;;
	snat4) echo "$SNAT4" ;; snat6) echo "$SNAT6" ;;
	esac
}

# The seed's 10 requests land on one backend, the one `maglb lookup` names,
# and that backend sees the expected client address.
lands_on_lookup_backend() {	# 4|6
	local vip=$VIP src=10.10.0.2 svc=cookie-route i want addr
	if [ "$1" = 6 ]; then vip="[$VIP6]"; src=fd00:10::2; svc=cookie-route-v6; fi
	write_config "$CFG" "$MODE" SourceIP
	maglb apply -f "$CFG" >/dev/null || return 1
	reset_logs
	seed_requests 1.2.3.4 10 "$vip"
	backend_counts
	i=$(only_backend_with 10) || { echo "not all 10 on one backend"; return 1; }
	want=$(maglb lookup "$svc" --src "$src") || return 1
	echo "10 requests to $vip on backend-$i; maglb lookup says $want"
	if [ "$1" = 6 ]; then addr="[$(backend_addr6 "$MODE" "$i")]"; else addr=$(backend_addr "$MODE" "$i"); fi
	[ "$want" = "$addr:3000" ] || return 1
	tail -1 "$WORK/backend-$i/access.log" | grep -q "^$(seen_client "$1") " ||
		{ echo "backend saw $(tail -1 "$WORK/backend-$i/access.log" | cut -d' ' -f1)"; return 1; }
}

seed_sourceip_requests_all_land_on_the_lookup_backend() { lands_on_lookup_backend 4; }
ipv6_requests_all_land_on_the_lookup_backend() { lands_on_lookup_backend 6; }

# ct_l4_conns MASK: forward entries of plain L4 TCP connections in both
# conntrack maps (not reply, spliced or binding ones, and none an RST
# closed, such as a refused SYN's), those with every bit of MASK set.
# MAGLB_CT_F_*: REPLY 1, RST 4, SPLICE 16, PENDING 32, UNCONFIRMED 512.
ct_l4_conns() {
	cat <(bpftool map dump pinned "$PIN_DIR/maglb_ct4") \
	    <(bpftool map dump pinned "$PIN_DIR/maglb_ct6") |
		jq -s --argjson m "$1" '
			def bit($b): ((.value.flags / $b) | floor) % 2 == 1;
			[.[][] | select(.key.proto == 6 and (bit(1) or bit(4) or bit(16) or bit(32) | not))
			       | select($m == 0 or bit($m))] | length'
}

# Real TCP connections through the L4 path end up confirmed: the client's
# ACK of the backend's SYN-ACK clears UNCONFIRMED (bpf/lib/conntrack.h,
# ct_acks_syn_ack); one left unconfirmed would be ended by the agent's
# sweep after synTimeout (60 s), and never take the fast path.
l4_connections_end_up_confirmed() {
	local all unconf
	write_config "$CFG" "$MODE" SourceIP
	maglb apply -f "$CFG" >/dev/null || return 1
	seed_requests 5.6.7.8 5
	seed_requests 5.6.7.8 5 "[$VIP6]"
	all=$(ct_l4_conns 0) && unconf=$(ct_l4_conns 512) || return 1
	echo "$all L4 TCP connections in the conntrack, $unconf of them unconfirmed"
	[ "$all" -ge 10 ] && [ "$unconf" = 0 ]
}

seed_tuple_requests_spread_over_backends() {
	write_config "$CFG" "$MODE" Tuple
	maglb apply -f "$CFG" >/dev/null || return 1
	reset_logs
	seed_requests 5.6.7.8 10
	backend_counts
	local n; n=$(backends_hit)
	# 10 fresh source ports over 10 backends: P(<= 2 backends) < 1e-5
	[ "$n" -ge 3 ] || { echo "only $n backends got requests"; return 1; }
}

# The seed's Cookie scenario: each cookie's 10 requests land on one backend,
# the one `maglb lookup --cookie` names, under whatever config is live.
seed_cookies_land_on_the_lookup_backend() {	# [4|6]
	local v i want vip=$VIP svc=cookie-route addr
	[ "${1:-4}" = 6 ] && vip="[$VIP6]" svc=cookie-route-v6
	for v in 1.2.3.4 5.6.7.8; do
		reset_logs
		seed_requests "$v" 10 "$vip"
		backend_counts | grep -v ' 0 requests'
		i=$(only_backend_with 10) || { echo "FooBar=$v: not all on one backend"; return 1; }
		want=$(maglb lookup "$svc" --cookie "FooBar=$v") || return 1
		echo "$vip FooBar=$v -> backend-$i, maglb lookup says $want"
		if [ "${1:-4}" = 6 ]; then addr="[$(backend_addr6 "$MODE" "$i")]"; else addr=$(backend_addr "$MODE" "$i"); fi
		[ "$want" = "$addr:3000" ] || return 1
	done
}

seed_cookie_requests_land_on_the_lookup_backend() {
	write_config "$CFG" "$MODE" Cookie
	maglb apply -f "$CFG" >/dev/null || return 1
	seed_cookies_land_on_the_lookup_backend 4
}

ipv6_cookie_requests_land_on_the_lookup_backend() {
	write_config "$CFG" "$MODE" Cookie
	maglb apply -f "$CFG" >/dev/null || return 1
	seed_cookies_land_on_the_lookup_backend 6
}

# No veth outside the node has an XDP program or GRO: the datapath gets no
# help from the far side of a device it sends into, as on a real node.
veths_outside_the_node_are_bare() {
	local n dev count=0
	for n in $(ip netns list | awk '{print $1}' | grep "^$TOPO-" | grep -vx "$(ns node)"); do
		for dev in $(ip -n "$n" -o link show type veth | awk -F'[:@ ]+' '{print $2}'); do
			ip -n "$n" link show dev "$dev" | grep -q "prog/xdp" &&
				{ echo "$n $dev has an XDP program"; return 1; }
			ip netns exec "$n" ethtool -k "$dev" | grep -q "^generic-receive-offload: on" &&
				{ echo "$n $dev has GRO on"; return 1; }
			count=$((count + 1))
		done
	done
	echo "$count veths outside the node: no XDP program, GRO off"
	[ "$count" -gt 0 ]
}
