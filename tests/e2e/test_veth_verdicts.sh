#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_veth_verdicts.sh - what a veth takes, measured on this kernel: which
# XDP verdicts reach the far side for each state of the peer (nothing, GRO,
# threaded NAPI, an XDP program). user/datapath/egress.c grants a verdict only to
# the peer states shown here to take all of it; every other device gets the
# kernel path. The table is printed for docs/kernels.md; a granted verdict that
# loses frames fails.
#
# maglb is forced to send XDP frames (maglb_egress set by hand): SYNs from
# random sources to a SourceIP VIP are redirected into be0 (peer: the
# backend's eth0); SYNs to a Cookie VIP are answered with syncookie
# SYN-ACKs by XDP_TX out of cl0 (peer: the client's eth0). Frames handed
# over are maglb_egress_stats' count; frames taken are an nftables netdev
# ingress counter on the peer.
set -u
TOPO=mlb-vv NBACKENDS=1
source "$(dirname "$0")/../lib/e2e.sh"
NODE=$TOPO-node CL=$TOPO-client BE=$TOPO-be0
SECS=${SECS:-1}

trap topo_down EXIT
[ -n "${VV_KEEP:-}" ] && trap - EXIT
topo_down >/dev/null 2>&1

# The plain topology with one pod (be0, 10.20.1.10), the VIPs routed.
vv_up() {
	topo_up plain || return 1
	ip -n "$CL" route add 10.99.0.0/24 via 10.10.0.1
	cat > "$WORK/maglb.yaml" <<CFG
services:
- name: l4
  address: 10.99.0.100
  port: 80
  backends: [{address: 10.20.1.10, port: 3000}]
- name: ck
  address: 10.99.0.110
  port: 80
  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: FooBar}}}
  backends: [{address: 10.20.1.10, port: 3000}]
CFG
	maglb apply -f "$WORK/maglb.yaml" >/dev/null &&
		# No tracing program: it would move a refusing device to the
		# kernel path at the first refusal, and that is not measured here.
		rm -f "$PIN_DIR"/trace/*
}

ifx() { ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])'; }
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

# Make maglb send XDP frames out of a node device, whatever its peer is.
force_frames() {	# node-dev
	bpftool map update pinned "$PIN_DIR/maglb_egress" key hex $(le32 "$(ifx "$NODE" "$1")") \
		value hex $(le32 3) $(le32 0) $(le32 0) ff ff ff ff $(le32 0) $(le32 0) \
		00 00 00 00 00 00 00 00
	# and the devmap must hold it; the kernel resolves a devmap's ifindex
	# in the updating process's netns, so update from the node's
	nsenter --net="/run/netns/$NODE" bpftool map update pinned "$PIN_DIR/maglb_tx_ports" \
		key hex $(le32 "$(ifx "$NODE" "$1")") value hex $(le32 "$(ifx "$NODE" "$1")") $(le32 0)
	# and, as the agent does when it writes a device's flags, empty the
	# next hops toward the backends, which keep the flags they saw
	forget_backend_nh
}

# Every non-empty maglb_backend_nh entry zeroed, in one bpftool run.
forget_backend_nh() {
	bpftool -j map dump pinned "$PIN_DIR/maglb_backend_nh" | python3 -c '
import json, sys
zero = " ".join(["00"] * 40)
for e in json.load(sys.stdin):
    if e["formatted"]["value"]["nh"]["ifindex"]:
        k = e["formatted"]["key"]
        print("map update pinned %s key %d %d %d %d value %s" % (sys.argv[1],
              k & 255, k >> 8 & 255, k >> 16 & 255, k >> 24, zero))' \
		"$PIN_DIR/maglb_backend_nh" > "$WORK/forget.batch" &&
		bpftool batch file "$WORK/forget.batch" >/dev/null
}

peer_state() {	# ns dev state
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" xdpdrv off 2>/dev/null
	ip netns exec "$ns" ethtool -K "$dev" gro off >/dev/null
	ip netns exec "$ns" sh -c "echo 0 > /sys/class/net/$dev/threaded" 2>/dev/null
	case $3 in
	gro) ip netns exec "$ns" ethtool -K "$dev" gro on >/dev/null ;;
	threaded) ip netns exec "$ns" sh -c "echo 1 > /sys/class/net/$dev/threaded" 2>/dev/null ||
		return 1 ;;
	xdp) ip -n "$ns" link set dev "$dev" xdpdrv obj "$XDP_PASS_OBJ" sec xdp ;;
	esac
}

counter_on() {	# ns dev match
	ip netns exec "$1" nft -f - <<NFT
table netdev vv
delete table netdev vv
table netdev vv {
	chain in {
		type filter hook ingress device $2 priority 0;
		$3 counter
	}
}
NFT
}
counter_read() { ip netns exec "$1" nft -j list table netdev vv | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("rule", {}).get("expr", []):
        if "counter" in e: print(e["counter"]["packets"])'; }

handed() {	# node-dev path
	bpftool -j map dump pinned "$PIN_DIR/maglb_egress_stats" | python3 -c '
import json, sys
want_if, want_path = int(sys.argv[1]), int(sys.argv[2])
n = 0
for e in json.load(sys.stdin):
    k = e["formatted"]["key"]
    if k["ifindex"] == want_if and k["path"] == want_path:
        n += sum(c["value"]["packets"] for c in e["formatted"]["values"])
print(n)' "$(ifx "$NODE" "$1")" "$2"
}

# measure VERDICT STATE: prints "handed taken".
measure() {
	local verdict=$1 state=$2 ns dev ndev vip path match h0 h1 t
	if [ "$verdict" = redirect ]; then
		ns=$BE dev=eth0 ndev=be0 vip=10.99.0.100 path=0 match="tcp dport 3000"
	else
		ns=$CL dev=eth0 ndev=cl0 vip=10.99.0.110 path=1 match="tcp flags & (syn|ack) == syn|ack"
	fi
	peer_state "$ns" "$dev" "$state" || { echo "- -"; return; }
	force_frames "$ndev"
	counter_on "$ns" "$dev" "$match"
	h0=$(handed "$ndev" "$path")
	# 4096 clients: their SYNs repeat on their entries, where random ones
	# would fill the conntrack, which refuses new flows when full.
	ip netns exec "$CL" python3 "$ROOT/tests/lib/synflood.py" "$vip" 80 "$SECS" 4096 >/dev/null
	sleep 0.3
	h1=$(handed "$ndev" "$path")
	t=$(counter_read "$ns")
	echo "$((h1 - h0)) $t"
}

# What user/datapath/egress.c grants, per peer state: the verdicts it must see taken.
granted() {	# verdict state
	case "$1/$2" in
	redirect/xdp | tx/xdp | redirect/gro) return 0 ;;
	esac
	return 1
}

if ! vv_up > "$WORK.log" 2>&1; then
	fail veth_verdicts_setup "$(tail -3 "$WORK.log" | tr '\n' ' ')"
	exit 1
fi
rm -f "$WORK.log"
echo "  # kernel $(uname -r): frames maglb handed over / frames the peer took"
printf '  # %-10s %-14s %-14s\n' "peer" "redirect" "XDP_TX"
for state in bare gro threaded xdp; do
	row=()
	for verdict in redirect tx; do
		read -r h t < <(measure "$verdict" "$state")
		if [ "$h" = - ]; then
			row+=("n/a")	# the kernel refused the state
			continue
		fi
		row+=("$t/$h")
		name=veth_peer_${state}_${verdict}
		if granted "$verdict" "$state"; then
			if [ "$h" -gt 0 ] && [ "$t" -ge "$h" ]; then
				pass "veth/${name}_takes_every_frame"
			else
				fail "veth/${name}_takes_every_frame" "took $t of $h"
			fi
		fi
	done
	printf '  # %-10s %-14s %-14s\n' "$state" "${row[0]}" "${row[1]}"
done
