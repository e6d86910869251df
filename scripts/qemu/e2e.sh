#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.sh - the short end-to-end run check.sh does inside each guest (and that
# runs as well on the host, as root): the plain topology (scripts/lib/topo.sh)
# with $NBACKENDS (default 4) nginx pods, maglb attached in native XDP mode
# on the node's veths, nat forwarding; then the seed's SourceIP and Cookie
# requests and one Set-Cookie round for a client without a cookie, over
# IPv4 and IPv6. One PASS/FAIL line per check (tests/lib/e2e.sh). If the
# topology cannot be built (attach refused by the verifier), every check
# fails at once with the reason, rather than waiting for timeouts.
# TOPO_PREFIX prefixes every name, as for tests/e2e.
TOPO=kx
NBACKENDS=${NBACKENDS:-4}
source "$(dirname "$0")/../../tests/lib/e2e.sh"
set -u
MODE=nat
LABEL=e2e
CFG=$WORK/maglb.yaml

# set_cookie_round 4|6: the first answer to a client without a cookie carries
# the seed's Set-Cookie; sent back, the cookie keeps the next requests on
# that pod, the one `maglb lookup --cookie` names.
set_cookie_round() {
	local vip=$VIP svc=cookie-route jar=$WORK/jar$1 first pod value want i
	[ "$1" = 6 ] && vip="[$VIP6]" svc=cookie-route-v6
	get() {
		nsx client curl -g -sS -m 10 -D "$WORK/headers" -b "$jar" -c "$jar" \
			-H "Host: www.example.com" "http://$vip/cookie"
	}
	rm -f "$jar"
	first=$(get) || return 1
	tr -d '\r' <"$WORK/headers" | grep -i '^set-cookie:' || { echo "no Set-Cookie"; return 1; }
	tr -d '\r' <"$WORK/headers" | grep -Eq '^Set-Cookie: FooBar="[0-9a-f]{16}"; Max-Age=60; Path=/; SameSite=Strict; HttpOnly$' ||
		return 1
	for i in 1 2 3; do
		pod=$(get) || return 1
		[ "$pod" = "$first" ] || { echo "request $i went to $pod, not $first"; return 1; }
	done
	value=$(awk '$6 == "FooBar" {print $7}' "$jar" | tr -d '"')
	want=$(maglb lookup "$svc" --cookie "FooBar=$value") || return 1
	echo "$vip: 4 requests with FooBar=$value -> $first; maglb lookup says $want"
	if [ "$1" = 6 ]; then
		[ "$want" = "[$(backend_addr6 nat "${first#backend-}")]:3000" ]
	else
		[ "$want" = "$(backend_addr nat "${first#backend-}"):3000" ]
	fi
}

set_cookie_keeps_a_new_client_on_its_pod() { set_cookie_round 4; }
ipv6_set_cookie_keeps_a_new_client_on_its_pod() { set_cookie_round 6; }

# In order: the Cookie checks apply the Cookie config the Set-Cookie
# rounds then use.
CHECKS=(
	veths_outside_the_node_are_bare
	seed_sourceip_requests_all_land_on_the_lookup_backend
	ipv6_requests_all_land_on_the_lookup_backend
	seed_cookie_requests_land_on_the_lookup_backend
	ipv6_cookie_requests_land_on_the_lookup_backend
	set_cookie_keeps_a_new_client_on_its_pod
	ipv6_set_cookie_keeps_a_new_client_on_its_pod
)

trap e2e_stop EXIT
trap 'exit 130' INT TERM
topo_down >/dev/null 2>&1	# leftovers of an interrupted run
if ! topo_up plain >"$WORK.setup.log" 2>&1; then
	why=$(grep '^maglb: ' "$WORK.setup.log" | tail -n1)
	[ -n "$why" ] || why=$(tail -n1 "$WORK.setup.log")
	[ -n "$why" ] || why="topo_up plain failed without a message"
	for c in "${CHECKS[@]}"; do
		fail "$LABEL/$c" "not run: the topology was not set up: $why"
	done
	exit 1
fi
status=0
for c in "${CHECKS[@]}"; do
	out=$(check "$c")
	echo "$out"
	grep -q '^FAIL ' <<<"$out" && status=1
done
exit $status
