#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# One-arm snat topology: client, node and 10 nginx pods on one bridge; the
# node's single NIC answers out of itself, full NAT from 10.10.0.1.
TOPO=mlb-snat
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start snat

# egress_packets DEV PATH: what `maglb stats` counts out of DEV by PATH.
egress_packets() {
	maglb stats --json | jq --arg d "$1" --arg p "$2" \
		'[.egress[] | select(.dev == $d and .path == $p) | .packets] | add // 0'
}

# The node's one NIC is a veth on a bridge, whose port has no XDP program
# and no GRO: it takes no XDP_TX frame, so everything maglb sends back out
# of eth0 goes by TC, and nothing by XDP_TX.
one_arm_replies_leave_by_tc_not_xdp_tx() {
	local tc tx
	tc=$(egress_packets eth0 tc) tx=$(egress_packets eth0 xdp_tx)
	echo "out of eth0: tc $tc packets, xdp_tx $tx"
	((tc > 0 && tx == 0))
}

download_10mb_sha256_matches() { download_intact 10M "$VIP"; }

spliced_download() {	# url-host
	write_config "$CFG" snat Cookie
	maglb apply -f "$CFG" >/dev/null || return 1
	download_intact 10M "$1" --cookie FooBar=dl
}

# No cookie sent: Set-Cookie comes back through the one-arm path, and the
# jar keeps the client on the pod that answered.
generated_cookie_sticks() {	# url-host
	local first pod i
	write_config "$CFG" snat Cookie
	maglb apply -f "$CFG" >/dev/null || return 1
	rm -f "$WORK/jar"
	first=$(nsx client curl -g -sS -m 10 -D "$WORK/h" -c "$WORK/jar" -b "$WORK/jar" \
		-H "Host: www.example.com" "http://$1/cookie") || return 1
	tr -d '\r' < "$WORK/h" | grep -i '^set-cookie' || { echo "no Set-Cookie"; return 1; }
	for i in 1 2 3 4 5; do
		pod=$(nsx client curl -g -sS -m 10 -c "$WORK/jar" -b "$WORK/jar" \
			-H "Host: www.example.com" "http://$1/cookie")
		[ "$pod" = "$first" ] || { echo "request $i: $pod, first: $first"; return 1; }
	done
	echo "5 more requests with the cookie: all on $first"
}

generated_cookie_sticks_over_ipv4() { generated_cookie_sticks "$VIP"; }
generated_cookie_sticks_over_ipv6() { generated_cookie_sticks "[$VIP6]"; }

download_10mb_through_a_spliced_connection() { spliced_download "$VIP"; }
ipv6_download_10mb_through_a_spliced_connection() { spliced_download "[$VIP6]"; }

check seed_sourceip_requests_all_land_on_the_lookup_backend
check seed_cookie_requests_land_on_the_lookup_backend
check download_10mb_through_a_spliced_connection
check ipv6_cookie_requests_land_on_the_lookup_backend
check ipv6_download_10mb_through_a_spliced_connection
check generated_cookie_sticks_over_ipv4
check generated_cookie_sticks_over_ipv6
check seed_tuple_requests_spread_over_backends
check ipv6_requests_all_land_on_the_lookup_backend
check l4_connections_end_up_confirmed
check one_arm_replies_leave_by_tc_not_xdp_tx
check download_10mb_sha256_matches
