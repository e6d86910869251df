#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_xmit_errors.sh - a drop in the kernel after maglb's verdict is never
# silent (maglb_trace.bpf.c). maglb sends XDP frames out of a veth whose
# peer runs an XDP program (the egress probe, run by apply, grants them),
# then the peer's program is removed under traffic, with no agent to
# probe again: the kernel refuses every frame after
# that. The tracing program must count the drops for that device, demote
# it (REDIRECT/TX cleared, DEMOTED set, one demotion), and the requests
# after it must be answered by the kernel path.
#
#   client eth0 -- cl0 node be0 -- eth0 be0 (nginx 10.20.1.10)
#   client eth0 also holds 10.10.0.20, a one-arm backend (nginx) behind cl0
#
# redirect: nat VIP 10.99.0.100 -> 10.20.1.10, XDP_REDIRECT into be0.
# XDP_TX:   snat VIP 10.99.0.101 -> 10.10.0.20, XDP_TX back out of cl0.
set -u
TOPO=mlb-xmit NBACKENDS=1
source "$(dirname "$0")/../lib/e2e.sh"
NODE=$TOPO-node CL=$TOPO-client BE=$TOPO-be0

trap topo_down EXIT
[ -n "${XE_KEEP:-}" ] && trap - EXIT
trap 'exit 130' INT TERM
topo_down >/dev/null 2>&1

# nginx in the client's netns, for the one-arm service (start_nginx runs
# it in $TOPO-be<index>; this one is the client's).
start_nginx_in_client() {
	( nsx() { shift; ip netns exec "$CL" "$@"; }; start_nginx arm )
}

# The plain topology with one pod (be0, 10.20.1.10); the client also holds
# the one-arm backend.
xe_up() {
	topo_up plain || return 1
	ip -n "$CL" addr add 10.10.0.20/24 dev eth0
	ip -n "$CL" route add 10.99.0.0/24 via 10.10.0.1 src 10.10.0.2
	start_nginx_in_client || return 1
	cat > "$WORK/maglb.yaml" <<CFG
services:
- name: l4
  address: 10.99.0.100
  port: 80
  forwarding: nat
  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}
  backends: [{address: 10.20.1.10, port: 3000}]
- name: arm
  address: 10.99.0.101
  port: 80
  forwarding: snat
  snat: {address: 10.10.0.1}
  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}
  backends: [{address: 10.10.0.20, port: 3000}]
CFG
	maglb apply -f "$WORK/maglb.yaml" >/dev/null
}

ifx() { ip -n "$NODE" -j link show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])'; }

# The probe (run by apply) must grant a node device both XDP verdicts now
# that its peer runs an XDP program.
probe_grants() {	# node-dev
	local f
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" apply -f "$WORK/maglb.yaml" >/dev/null || return 1
	f=$(eg_flags "$1")
	[ "$f" -ge 0 ] && [ $((f & 3)) -eq 3 ] || { echo "the probe gave $1 flags $f"; return 1; }
}

# FIELD of a node device's maglb_xmit_errs, summed over CPUs (0: no entry).
xmit_err() {	# node-dev field
	bpftool -j map dump pinned "$PIN_DIR/maglb_xmit_errs" | python3 -c '
import json, sys
ifx, field = int(sys.argv[1]), sys.argv[2]
print(sum(c["value"][field] for e in json.load(sys.stdin)
          if e["formatted"]["key"] == ifx for c in e["formatted"]["values"]))' "$(ifx "$1")" "$2"
}

# A node device's maglb_egress flags (-1: no entry).
eg_flags() {	# node-dev
	bpftool -j map dump pinned "$PIN_DIR/maglb_egress" | python3 -c '
import json, sys
ifx = int(sys.argv[1])
print(next((e["formatted"]["value"]["flags"] for e in json.load(sys.stdin)
            if e["formatted"]["key"] == ifx), -1))' "$(ifx "$1")"
}

# Packets maglb sent out of a node device on PATH (enum maglb_path).
sent_by() {	# node-dev path
	bpftool -j map dump pinned "$PIN_DIR/maglb_egress_stats" | python3 -c '
import json, sys
ifx, path = int(sys.argv[1]), int(sys.argv[2])
print(sum(c["value"]["packets"] for e in json.load(sys.stdin)
          if e["formatted"]["key"] == {"ifindex": ifx, "path": path}
          for c in e["formatted"]["values"]))' "$(ifx "$1")" "$2"
}

answered() {	# vip count: how many of COUNT fresh requests got a 200
	local i n=0
	for ((i = 0; i < $2; i++)); do
		[ "$(nsx client curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$1/")" = 200 ] &&
			n=$((n + 1))
	done
	echo $n
}

# demotes VERDICT: the case for one verdict, table-driven by its row.
#   verdict  node-dev  peer-ns  vip          path  counter   flag
CASES=(
	"redirect  be0  $BE  10.99.0.100  0  devmap_drops  1"
	"xdp_tx    cl0  $CL  10.99.0.101  1  tx_drops      2"
)

demotes() {
	local verdict dev peer vip path counter flag f n drops
	read -r verdict dev peer vip path counter flag <<<"$1"
	ip -n "$peer" link set dev eth0 xdpdrv obj "$XDP_PASS_OBJ" sec xdp || return 1
	probe_grants "$dev" || return 1
	n=$(answered "$vip" 3)
	[ "$n" = 3 ] || { echo "fast path: $n of 3 answered before the peer lost its program"; return 1; }
	[ "$(sent_by "$dev" "$path")" -gt 0 ] || { echo "no $verdict frames out of $dev"; return 1; }
	echo "$verdict out of $dev: 3 of 3 answered, $(sent_by "$dev" "$path") frames"
	# wrk's connections are open when the program goes: frames in flight
	nsx client wrk -t1 -c4 -d3s --timeout 2s "http://$vip/" >"$WORK/wrk.log" 2>&1 &
	local wrk=$!
	sleep 1
	ip -n "$peer" link set dev eth0 xdpdrv off
	wait $wrk
	grep -E "requests in" "$WORK/wrk.log"
	drops=$(xmit_err "$dev" "$counter")
	f=$(eg_flags "$dev")
	echo "$dev: $counter $drops, flags $f, demotions $(xmit_err "$dev" demotions)"
	[ "$drops" -gt 0 ] || { echo "no $counter counted for $dev"; return 1; }
	[ $((f & 8)) -ne 0 ] || { echo "$dev not DEMOTED"; return 1; }
	[ $((f & flag)) -eq 0 ] || { echo "$dev still takes $verdict frames"; return 1; }
	[ "$(xmit_err "$dev" demotions)" = 1 ] || { echo "demotions is not 1"; return 1; }
	# The tracing program's demotion leaves the next hops as they are
	# (only the agent's probe empties them): they forget the old flags
	# within NH_CACHE_NS.
	sleep 1.1
	n=$(answered "$vip" 5)
	echo "after the demotion: $n of 5 answered"
	[ "$n" = 5 ]
}

# The ids of the links pinned under trace/, one a line.
trace_link_ids() {
	local f
	for f in "$PIN_DIR"/trace/*; do
		bpftool -j link show pinned "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
	done
}

# The ids of the node's links on xdp tracepoints (bpftool calls a tp_btf
# link raw_tracepoint), one a line.
xdp_tp_link_ids() {
	bpftool -j link show | python3 -c '
import json, sys
for l in json.load(sys.stdin):
    if l["type"] == "raw_tracepoint" and l.get("tp_name", "").startswith("xdp_"):
        print(l["id"])'
}

# One link per program, and a second attach replaces them: the old links
# are gone from the kernel, not left attached beside the new ones.
second_attach_replaces_the_trace_links() {
	local old new id
	old=$(trace_link_ids)
	echo "under trace/: $(ls "$PIN_DIR/trace" | tr '\n' ' ')(links $(echo $old))"
	[ "$(wc -l <<<"$old")" = 4 ] || return 1
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" attach cl0 be0 >/dev/null 2>&1 || return 1
	new=$(trace_link_ids)
	echo "after a second attach: links $(echo $new)"
	[ "$(wc -l <<<"$new")" = 4 ] || return 1
	for id in $old; do
		! grep -qx "$id" <<<"$new" || { echo "link $id kept"; return 1; }
		! xdp_tp_link_ids | grep -qx "$id" || { echo "old link $id still attached"; return 1; }
	done
}

# A tracing program that cannot be set up costs one warning, not the
# attach: a directory where a link's pin goes makes pinning it fail.
attach_without_the_tracing_program_warns_once_and_forwards() {
	local out rc n
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" detach cl0 be0 >/dev/null 2>&1
	mkdir -p "$PIN_DIR/trace/maglb_bulk_tx" || return 1
	out=$("$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" attach cl0 be0 2>&1)
	rc=$?
	grep -i trace <<<"$out"
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" apply -f "$WORK/maglb.yaml" >/dev/null || return 1
	n=$(answered 10.99.0.100 3)
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" detach cl0 be0 >/dev/null 2>&1
	rmdir "$PIN_DIR/trace/maglb_bulk_tx" "$PIN_DIR/trace"
	echo "attach exit $rc, $n of 3 answered"
	[ $rc = 0 ] && [ "$n" = 3 ] || return 1
	[ "$(grep -ci trace <<<"$out")" = 1 ] ||
		{ echo "not exactly one line about the tracing program"; return 1; }
	grep -q "maglb_trace: File exists.*forwarding goes on" <<<"$out"
}

if ! xe_up >"$WORK.log" 2>&1; then
	fail xmit_errors_setup "$(tail -3 "$WORK.log" | tr '\n' ' ')"
	exit 1
fi
rm -f "$WORK.log"
LABEL=xmit
check second_attach_replaces_the_trace_links
for c in "${CASES[@]}"; do
	read -r verdict _ <<<"$c"
	name=${verdict}_drops_after_the_verdict_are_counted_and_demote_the_device
	out=$(demotes "$c" 2>&1)
	rc=$?
	sed 's/^/  # /' <<<"$out" | tail -n 14
	if [ $rc -eq 0 ]; then pass "$LABEL/$name"; else fail "$LABEL/$name" "$(tail -n 2 <<<"$out" | tr '\n' ' ')"; fi
done

# The tracepoints fire for every namespace, and ifindexes are per
# namespace: XDP_TX drops on a stranger's device that has the ifindex of
# our be0 must neither count for be0 nor demote it. The stranger: a veth
# pair in its own netns, the same ifindex as be0, an XDP_TX program on
# one end and a bare peer (in a second netns), which refuses every frame.
stranger_drops_with_our_ifindex_do_not_touch_ours() {
	local ns=$TOPO-stranger idx f before after errs
	idx=$(ifx be0)
	ip -n "$BE" link set dev eth0 xdpdrv obj "$XDP_PASS_OBJ" sec xdp || return 1
	probe_grants be0 || return 1
	before=$(xmit_err be0 tx_drops)
	ip netns add "$ns" && ip netns add "$ns-peer" || return 1
	ip -n "$ns" link add sx index "$idx" type veth peer name sy netns "$ns-peer" || return 1
	ip -n "$ns" addr add 10.77.0.1/24 dev sx
	ip -n "$ns-peer" addr add 10.77.0.2/24 dev sy
	ip -n "$ns" link set sx up
	ip -n "$ns-peer" link set sy up
	# bench_tx, the object's first program: XDP_TX for every frame.
	bpftool prog load "$ROOT/build/bench.bpf.o" "$PIN_DIR/stranger_tx" type xdp || return 1
	nsenter --net="/run/netns/$ns" bpftool net attach xdpdrv pinned "$PIN_DIR/stranger_tx" dev sx
	rm -f "$PIN_DIR/stranger_tx"	# the attachment holds it
	ip -n "$ns-peer" neigh add 10.77.0.1 lladdr "$(ip -n "$ns" -j link show sx |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')" dev sy
	# sy -> sx: sx bounces each datagram back by XDP_TX into bare sy.
	ip netns exec "$ns-peer" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b"x" * 64, ("10.77.0.1", 9))'
	sleep 0.5
	errs=$(ip netns exec "$ns" ethtool -S sx | awk '/xdp_tx_errors/ {n += $2} END {print n + 0}')
	after=$(xmit_err be0 tx_drops)
	f=$(eg_flags be0)
	echo "stranger sx (ifindex $idx): $errs XDP_TX errors; our be0: tx_drops $before -> $after, flags $f"
	ip netns del "$ns"
	ip netns del "$ns-peer"
	[ "$errs" -gt 0 ] || { echo "the stranger's frames were not refused: nothing shown"; return 1; }
	[ "$after" = "$before" ] || { echo "be0 counted the stranger's drops"; return 1; }
	[ $((f & 3)) -eq 3 ] && [ $((f & 8)) -eq 0 ] || { echo "be0 was demoted by the stranger"; return 1; }
}
check stranger_drops_with_our_ifindex_do_not_touch_ours

last_detach_removes_the_trace_links() {
	local old id
	old=$(trace_link_ids)
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$NODE" detach cl0 be0 >/dev/null || return 1
	[ ! -e "$PIN_DIR/trace" ] || { echo "$PIN_DIR/trace is still there"; return 1; }
	for id in $old; do
		! xdp_tp_link_ids | grep -qx "$id" || { echo "link $id still attached"; return 1; }
	done
	echo "trace/ removed; links $(echo $old) detached"
}
check last_detach_removes_the_trace_links
check attach_without_the_tracing_program_warns_once_and_forwards
