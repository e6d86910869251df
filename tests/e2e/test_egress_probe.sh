#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The egress probe (user/datapath/egress.c): which XDP verdicts each device of the
# node takes, as `maglb status --json` shows them, for every kind of device
# it tells apart, and how the decisions follow changes and demotions.
#
#   node: eth0 (veth, peer in pod with XDP; maglb attached here)
#         be-bare, be-xdp, be-gro (veths, peers in pod: none, XDP, GRO)
#         be-proc (veth, peer with GRO in a netns only a process holds)
#         be-same (veth, peer be-same-p in node itself, with XDP)
#         br0 (bridge), lo
# No traffic: only the decisions are looked at.
TOPO=${TOPO:-mlb-egress}
source "$(dirname "$0")/../lib/e2e.sh"
set -u
LABEL=egress
PROC_NS_PID=

cleanup() {
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null
	[ -n "$PROC_NS_PID" ] && kill "$PROC_NS_PID" 2>/dev/null
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" detach eth0 >/dev/null 2>&1
	rm -rf "$PIN_DIR" "$WORK"
	ip netns del "$(ns node)" 2>/dev/null
	ip netns del "$(ns pod)" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pair() {	# node-dev pod-dev: a veth from the node into the pod, both up
	ip -n "$(ns node)" link add "$1" type veth peer name "$2" netns "$(ns pod)"
	ip -n "$(ns node)" link set "$1" up
	ip -n "$(ns pod)" link set "$2" up
}

setup() {
	cleanup
	mkdir -p "$WORK"
	ip netns add "$(ns node)" && ip netns add "$(ns pod)" || return 1
	ip -n "$(ns node)" link set lo up
	pair eth0 p-eth0 && pair be-bare p-bare && pair be-xdp p-xdp &&
		pair be-gro p-gro || return 1
	xdp_pass_on pod p-eth0 && xdp_pass_on pod p-xdp || return 1
	nsx pod ethtool -K p-gro gro on || return 1
	# a netns with no name under /run/netns, as a container runtime's
	unshare --net sleep 600 &
	PROC_NS_PID=$!
	sleep 0.2
	ip -n "$(ns node)" link add be-proc type veth peer name p-proc netns "$PROC_NS_PID" &&
		ip -n "$(ns node)" link set be-proc up &&
		nsenter --net="/proc/$PROC_NS_PID/ns/net" ip link set p-proc up &&
		nsenter --net="/proc/$PROC_NS_PID/ns/net" ethtool -K p-proc gro on || return 1
	ip -n "$(ns node)" link add be-same type veth peer name be-same-p &&
		ip -n "$(ns node)" link set be-same up &&
		ip -n "$(ns node)" link set be-same-p up &&
		xdp_pass_on node be-same-p || return 1
	ip -n "$(ns node)" link add br0 type bridge && ip -n "$(ns node)" link set br0 up || return 1
	cat > "$WORK/maglb.yaml" <<-EOF
	services:
	- name: svc
	  address: 10.99.0.100
	  port: 80
	  forwarding: nat
	  backends:
	  - {name: b0, address: 10.99.1.2, port: 3000}
	EOF
	maglb attach eth0 >/dev/null
}

# eg DEV FIELD...: those fields of DEV's egress entry in `maglb status
# --json`, space-separated ("none" if it has no entry).
eg() {
	maglb status --json | python3 -c '
import json, sys
dev, fields = sys.argv[1], sys.argv[2:]
e = [x for x in json.load(sys.stdin)["egress"] if x["dev"] == dev]
print(" ".join(str(e[0][f]).lower() for f in fields) if e else "none")' "$@"
}

probe() { maglb apply -f "$WORK/maglb.yaml" >/dev/null; }

# expect DEV "redirect xdp_tx peer_redirect" WHY-SUBSTRING
expect() {
	local got why
	got=$(eg "$1" redirect xdp_tx peer_redirect)
	why=$(eg "$1" why)
	echo "$1: redirect xdp_tx peer = $got; $why"
	[ "$got" = "$2" ] || { echo "$1: want $2"; return 1; }
	grep -qi -- "$3" <<<"$why" || { echo "$1: want why '$3'"; return 1; }
}

# What the tracing program does on failed transmits: REDIRECT and TX
# cleared, DEMOTED set, demoted_ns now; the peer fields stay.
demote() {	# dev
	local idx key
	idx=$(eg "$1" ifindex)
	key=$(python3 -c 'import struct, sys; print(" ".join(str(b) for b in struct.pack("<I", int(sys.argv[1]))))' "$idx")
	# shellcheck disable=SC2046
	bpftool -j map lookup pinned "$PIN_DIR/maglb_egress" key $key | python3 -c '
import json, struct, sys, time
v = json.load(sys.stdin)["formatted"]["value"]
flags = (v["flags"] & ~3) | 8
raw = struct.pack("<IIIiIIQ", flags, v["why"], v["peer_ifindex"], v["peer_nsid"],
                  v["peer_prog_id"], v["peer_gro"], time.monotonic_ns())
print(" ".join(str(b) for b in raw))' > "$WORK/value" || return 1
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN_DIR/maglb_egress" key $key value $(cat "$WORK/value")
}

tx_ports() {	# the ifindexes in maglb_tx_ports, sorted
	bpftool -j map dump pinned "$PIN_DIR/maglb_tx_ports" |
		python3 -c 'import json, sys; print(" ".join(sorted(str(int(e["key"][0], 16) + 256 * int(e["key"][1], 16)) for e in json.load(sys.stdin))))'
}

redirect_ifindexes() {
	maglb status --json | python3 -c 'import json, sys; print(" ".join(sorted(str(e["ifindex"]) for e in json.load(sys.stdin)["egress"] if e["redirect"])))'
}

# ---- checks ----------------------------------------------------------------

veth_with_a_bare_peer_in_another_netns_takes_no_xdp_frames() {
	expect be-bare "false false true" "no XDP program and no GRO" || return 1
	[ "$(eg be-bare peer_nsid)" -ge 0 ] || { echo "peer_nsid says same netns"; return 1; }
	[ "$(eg be-bare redirect_path)" = tc ] || { echo "redirect path is not tc"; return 1; }
}

veth_whose_peer_has_an_xdp_program_takes_redirect_and_xdp_tx() {
	expect be-xdp "true true true" "peer has an XDP program" || return 1
	[ "$(eg be-xdp peer_prog_id)" -gt 0 ] || { echo "no peer_prog_id"; return 1; }
	expect eth0 "true true true" "peer has an XDP program"
}

veth_whose_peer_has_gro_takes_redirect_only() {
	expect be-gro "true false true" "peer has GRO" || return 1
	[ "$(eg be-gro peer_gro)" = 1 ] || { echo "peer_gro not 1"; return 1; }
}

gro_is_read_in_a_netns_only_a_process_holds() {
	expect be-proc "true false true" "peer has GRO"
}

veth_with_its_peer_in_the_same_netns_has_no_peer_flag() {
	expect be-same "true true false" "peer has an XDP program" || return 1
	[ "$(eg be-same peer_nsid)" = -1 ] || { echo "peer_nsid $(eg be-same peer_nsid)"; return 1; }
}

bridge_and_loopback_take_no_xdp_frames() {
	expect br0 "false false false" "takes no XDP frames" &&
		expect lo "false false false" "takes no XDP frames"
}

tx_ports_holds_exactly_the_redirect_devices() {
	local want got
	want=$(redirect_ifindexes)
	got=$(tx_ports)
	echo "redirect devices: $want; maglb_tx_ports: $got"
	[ -n "$want" ] && [ "$want" = "$got" ]
}

removing_the_peers_program_moves_the_device_to_tc() {
	nsx pod ip link set dev p-xdp xdpdrv off || return 1
	probe || return 1
	expect be-xdp "false false true" "no XDP program and no GRO" || return 1
	[ "$(eg be-xdp peer_prog_id)" = 0 ] || return 1
	tx_ports_holds_exactly_the_redirect_devices
}

demoted_entry_stays_demoted_while_nothing_changes() {
	demote be-gro || return 1
	probe || return 1
	expect be-gro "false false true" "peer has GRO" || return 1
	[ "$(eg be-gro demoted)" = true ] || { echo "demotion lifted"; return 1; }
	tx_ports_holds_exactly_the_redirect_devices
}

demotion_ends_when_the_peer_changes() {
	xdp_pass_on pod p-gro || return 1
	probe || return 1
	[ "$(eg be-gro demoted)" = false ] || { echo "still demoted"; return 1; }
	expect be-gro "true true true" "peer has an XDP program" &&
		tx_ports_holds_exactly_the_redirect_devices
}

vanished_device_loses_its_entry() {
	local idx; idx=$(eg be-bare ifindex)
	ip -n "$(ns node)" link del be-bare || return 1
	probe || return 1
	[ "$(eg be-bare ifindex)" = none ] || { echo "be-bare still has an entry"; return 1; }
	maglb status --json | grep -q "\"ifindex\":$idx," && { echo "ifindex $idx still listed"; return 1; }
	tx_ports_holds_exactly_the_redirect_devices
}

# A peer's change in another netns raises no link event in the node: the
# agent's periodic probe must see it. Its new demotions are logged too.
agent_sees_a_peer_change_in_another_netns_and_logs_a_demotion() {
	local log=$WORK/agent.log i
	: > "$log"
	AGENT_LOG=$log
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent -f "$WORK/maglb.yaml" \
		>/dev/null 2>>"$log" &
	AGENT=$!
	sleep 0.5
	nsx pod ip link set dev p-gro xdpdrv off || return 1
	for i in $(seq 40); do
		grep -q "egress be-gro .*redirect, xdp_tx -> redirect (veth, peer has GRO" "$log" && break
		sleep 0.1
	done
	grep "egress be-gro" "$log" || { echo "no change logged in 4 s"; return 1; }
	demote be-proc || return 1
	for i in $(seq 40); do
		grep -q 'msg="egress demoted.*dev=be-proc' "$log" && break
		sleep 0.1
	done
	grep 'egress demoted' "$log" || { echo "no demotion logged in 4 s"; return 1; }
	[ "$(grep -c 'egress demoted' "$log")" = 1 ] || { echo "demotion logged twice"; return 1; }
	sleep 2.5	# another probe: the demotion is neither lifted nor logged again
	[ "$(grep -c 'egress demoted' "$log")" = 1 ] || { echo "demotion logged again"; return 1; }
	[ "$(eg be-proc demoted)" = true ] || { echo "agent lifted the demotion"; return 1; }
	kill -TERM "$AGENT"; wait "$AGENT"; AGENT=
}

if ! setup >"$WORK.setup.log" 2>&1; then
	fail "${TOPO}_topology_setup" "$(tail -5 "$WORK.setup.log" | tr '\n' ' ')"
	exit 1
fi
rm -f "$WORK.setup.log"
check veth_with_a_bare_peer_in_another_netns_takes_no_xdp_frames
check veth_whose_peer_has_an_xdp_program_takes_redirect_and_xdp_tx
check veth_whose_peer_has_gro_takes_redirect_only
check gro_is_read_in_a_netns_only_a_process_holds
check veth_with_its_peer_in_the_same_netns_has_no_peer_flag
check bridge_and_loopback_take_no_xdp_frames
check tx_ports_holds_exactly_the_redirect_devices
check removing_the_peers_program_moves_the_device_to_tc
check demoted_entry_stays_demoted_while_nothing_changes
check demotion_ends_when_the_peer_changes
check vanished_device_loses_its_entry
# not in a check's subshell: the agent must outlive it only as a child here
agent_sees_a_peer_change_in_another_netns_and_logs_a_demotion >"$WORK/agent.out" 2>&1
rc=$?
sed 's/^/  # /' "$WORK/agent.out" | tail -n 14
if [ $rc -eq 0 ]; then pass "$LABEL/agent_sees_a_peer_change_in_another_netns_and_logs_a_demotion"
else fail "$LABEL/agent_sees_a_peer_change_in_another_netns_and_logs_a_demotion" "$(tail -n 3 "$WORK/agent.out" | tr '\n' ' ')"; fi
