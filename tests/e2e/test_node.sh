#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kube topology: a Kubernetes-like node with maglb on its uplink and on
# its local pods' veths (backend-0..4), a second node reached over the
# router with pods of its own (backend-5..9), and the client behind the
# router. Nothing runs on any veth's far side. In nat and in snat: the
# seed's requests by SourceIP and Cookie, pods on either node answering,
# a 50 MB download from either node, and an agent restart under wrk.
TOPO=mlb-node
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start kube
AGENT_LOG=$WORK/agent.log

# node's pods and node2's, as backend index ranges for write_config
on_node() { seq 0 $((KUBE_LOCAL - 1)); }
on_node2() { seq "$KUBE_LOCAL" $((NBACKENDS - 1)); }

# With only WHERE's pods as backends, the seed's 10 Cookie requests are all
# answered by one pod there.
seed_requests_answered_on() {	# on_node|on_node2
	local i
	write_config "$CFG" "$MODE" Cookie $($1) || return 1
	maglb apply -f "$CFG" >/dev/null || return 1
	reset_logs
	seed_requests 1.2.3.4 10
	backend_counts | grep -v ' 0 requests'
	i=$(only_backend_with 10) || { echo "not all 10 answered by one pod"; return 1; }
	$1 | grep -qx "$i" || { echo "backend-$i is not ${1#on_}'s"; return 1; }
}

node_pods_answer_the_seed_requests() { seed_requests_answered_on on_node; }
node2_pods_answer_the_seed_requests() { seed_requests_answered_on on_node2; }

download_50mb_from() {	# on_node|on_node2
	write_config "$CFG" "$MODE" SourceIP $($1) || return 1
	maglb apply -f "$CFG" >/dev/null || return 1
	download_intact 50M "$VIP" || return 1
	echo "served by $(maglb lookup cookie-route --src 10.10.0.2)"
}

download_50mb_from_a_node_pod_is_intact() { download_50mb_from on_node; }
download_50mb_from_a_node2_pod_is_intact() { download_50mb_from on_node2; }

# The datapath stays while the agent is away: new connections (Tuple,
# Connection: close) keep reaching pods on both nodes without an error.
agent_restart_under_wrk_has_no_errors() {
	local wpid n
	write_config "$CFG" "$MODE" Tuple
	start_agent -f "$CFG" || { tail -3 "$AGENT_LOG"; return 1; }
	reset_logs
	nsx client wrk -t2 -c16 -d6s -H "Connection: close" "http://$VIP/" > "$WORK/wrk.txt" 2>&1 &
	wpid=$!
	sleep 1.5
	stop_agent || { echo "agent left with status $?"; return 1; }
	sleep 1.5	# no agent at all for a while
	start_agent -f "$CFG" || { tail -3 "$AGENT_LOG"; return 1; }
	wait $wpid
	stop_agent || { echo "agent left with status $?"; return 1; }
	cat "$WORK/wrk.txt"
	grep -qE "Socket errors|Non-2xx" "$WORK/wrk.txt" && { echo "wrk saw errors"; return 1; }
	n=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
	[ "${n:-0}" -gt 500 ] || { echo "only ${n:-0} requests"; return 1; }
	[ "$(backends_hit)" = "$NBACKENDS" ] || { echo "only $(backends_hit) pods answered"; return 1; }
	echo "$n requests over $NBACKENDS pods on both nodes"
}

LABEL=kube check veths_outside_the_node_are_bare
for MODE in nat snat; do
	LABEL=kube-$MODE
	# snat's replies come back to node by their address: no return rule.
	[ "$MODE" = snat ] && kube_return_route off
	check seed_sourceip_requests_all_land_on_the_lookup_backend
	check seed_cookie_requests_land_on_the_lookup_backend
	check ipv6_requests_all_land_on_the_lookup_backend
	check ipv6_cookie_requests_land_on_the_lookup_backend
	check node_pods_answer_the_seed_requests
	check node2_pods_answer_the_seed_requests
	check download_50mb_from_a_node_pod_is_intact
	check download_50mb_from_a_node2_pod_is_intact
	check agent_restart_under_wrk_has_no_errors
done
