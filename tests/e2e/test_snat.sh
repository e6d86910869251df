#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# One-arm snat topology: client, node and 10 nginx pods on one bridge; the
# node's single NIC answers with XDP_TX and full NAT from 10.10.0.1.
TOPO=mlb-snat
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start snat
CFG=$WORK/maglb.yaml

snat_seed_sourceip_requests_all_land_on_the_lookup_backend() {
	write_config "$CFG" snat SourceIP
	maglb apply -f "$CFG" || return 1
	reset_logs
	seed_requests 1.2.3.4 10
	backend_counts
	local i want
	i=$(only_backend_with 10) || { echo "not all 10 on one backend"; return 1; }
	want=$(maglb lookup cookie-route --src 10.10.0.2) || return 1
	[ "$want" = "$(backend_addr snat "$i"):3000" ] ||
		{ echo "landed on backend-$i, lookup says $want"; return 1; }
}

snat_backends_see_the_node_address_as_client() {
	local log
	log=$(cat "$WORK"/backend-*/access.log | head -1)
	echo "$log"
	[[ "$log" == 10.10.0.1\ * ]] || { echo "backend saw ${log%% *}"; return 1; }
}

snat_tuple_requests_spread_and_leave_by_xdp_tx() {
	write_config "$CFG" snat Tuple
	maglb apply -f "$CFG" || return 1
	reset_logs
	seed_requests 5.6.7.8 10
	backend_counts
	local n; n=$(backends_hit)
	[ "$n" -ge 3 ] || { echo "only $n backends got requests"; return 1; }
	maglb stats --json | grep -o '"tx":{"packets":[0-9]*' | grep -qv '"packets":0$' ||
		{ echo "no XDP_TX counted"; return 1; }
}

snat_ipv6_requests_come_from_the_node_address() {
	write_config "$CFG" snat SourceIP
	maglb apply -f "$CFG" >/dev/null || return 1
	reset_logs
	seed_requests 1.2.3.4 10 "[$VIP6]"
	local i want
	i=$(only_backend_with 10) || { backend_counts; echo "not all 10 on one backend"; return 1; }
	want=$(maglb lookup cookie-route-v6 --src fd00:10::2) || return 1
	echo "10 requests to [$VIP6] on backend-$i; lookup says $want"
	[ "$want" = "[$(backend_addr6 snat "$i")]:3000" ] || return 1
	tail -1 "$WORK/backend-$i/access.log" | grep -q "^fd00:10::1 " ||
		{ echo "backend did not see the node address"; return 1; }
}

snat_download_10mb_sha256_matches() {
	head -c 10M /dev/urandom > "$WORK/files/f.bin"
	nsx client curl -sS -o "$WORK/got.bin" "http://$VIP/files/f.bin" || return 1
	[ "$(sha256sum < "$WORK/files/f.bin")" = "$(sha256sum < "$WORK/got.bin")" ] ||
		{ echo "sha256 differs"; return 1; }
}

check snat_seed_sourceip_requests_all_land_on_the_lookup_backend
check snat_backends_see_the_node_address_as_client
check snat_tuple_requests_spread_and_leave_by_xdp_tx
check snat_ipv6_requests_come_from_the_node_address
check snat_download_10mb_sha256_matches
