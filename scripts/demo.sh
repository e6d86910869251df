#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# demo.sh - the seed's consistent-hash scenario with maglb in place of the
# gateway: installs what is missing, builds, builds a client, a node and 10
# nginx "pods" in network namespaces, sends the seed's 10 curl requests and
# prints the seed's per-pod counts. Both topologies: two-arm nat, one-arm
# snat. Everything is torn down at the end (also on Ctrl-C or failure).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }
./scripts/deps.sh
make -s -j"$(nproc)"

TOPO=${TOPO:-maglb-demo}
source scripts/lib/topo.sh
trap topo_down EXIT
topo_down >/dev/null 2>&1

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show() { echo "\$ $*"; }

seed_round() {	# cookie
	show "for i in {1..10}; do curl -I --header \"Host: www.example.com\" --cookie \"FooBar=$1\" http://$VIP/cookie; done"
	reset_logs
	seed_requests "$1"
	backend_counts
}

for mode in nat snat; do
	if [ $mode = nat ]; then
		say "=== nat (two-arm): client -- node [maglb XDP on eth0+eth1] -- 10 backend pods"
	else
		say "=== snat (one-arm): client, node [maglb on eth0, answering back out of it] and 10 pods on one bridge"
	fi
	topo_up $mode
	cfg=scripts/demo/maglb-$mode.yaml
	maglb status | sed -n '/attached/,/services/p' | grep -v services
	show "maglb apply -f $cfg"
	maglb apply -f "$cfg"

	say "Cookie (the seed's BackendTrafficPolicy): the cookie picks the pod"
	sed 's/type: SourceIP/type: Cookie\n      cookie: {name: FooBar, ttl: 60s, attributes: {SameSite: Strict}}/' \
		"$cfg" > "$WORK/cookie.yaml"
	maglb apply -f "$WORK/cookie.yaml"
	for v in 1.2.3.4 5.6.7.8; do
		seed_round "$v"
		show "maglb lookup cookie-route --cookie FooBar=$v"
		maglb lookup cookie-route --cookie "FooBar=$v"
	done

	say "A client without the cookie (ttl: 60s): the datapath answers with Set-Cookie, and the cookie sticks"
	show "curl -c jar -b jar -D - --header \"Host: www.example.com\" http://$VIP/cookie   # 10 times; the first has no cookie"
	reset_logs
	rm -f "$WORK/jar"
	for i in {1..10}; do
		nsx client curl -sS -D - -o /dev/null -c "$WORK/jar" -b "$WORK/jar" \
			--header "Host: www.example.com" "http://$VIP/cookie" | tr -d '\r' | grep -i '^set-cookie' || true
	done
	backend_counts
	value=$(awk '$6 == "FooBar" {print $7}' "$WORK/jar" | tr -d '"')
	show "maglb lookup cookie-route --cookie FooBar=$value"
	maglb lookup cookie-route --cookie "FooBar=$value"

	say "SourceIP: the same client address always lands on the same pod"
	maglb apply -f "$cfg"
	seed_round 1.2.3.4
	show "maglb lookup cookie-route --src 10.10.0.2"
	maglb lookup cookie-route --src 10.10.0.2

	say "Tuple: each new connection (new source port) hashes anew"
	sed 's/type: SourceIP/type: Tuple/' "$cfg" > "$WORK/tuple.yaml"
	maglb apply -f "$WORK/tuple.yaml"
	seed_round 1.2.3.4

	if [ $mode = nat ]; then
		say "Per-backend counters (maglb stats; also bpftool map dump pinned $PIN_DIR/maglb_backend_stats)"
		maglb stats | sed -n '1,/reasons/p' | grep -v reasons
	fi
	topo_down
done
say "Done: all namespaces, pins and nginx processes removed."
