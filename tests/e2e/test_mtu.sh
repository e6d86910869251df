#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Path MTU below 1500 on the backend side (what a VXLAN or IPIP overlay
# leaves), through Cookie and Header services and an HTTPRoute listener,
# IPv4 and IPv6, plain topology (a veth pair per pod, as a CNI wires them):
# real curl POSTs 300 KB and GETs 20 MB from real nginx, sha256 equal.
#   path:  the pods' veths at the MTU on both sides: apply reads it from
#          the route, the SYN-ACK promises it; no ICMP is needed
#   pod:   only the pod's eth0 lower (the host's route says 1500): the
#          backend's SYN-ACK MSS is smaller than our promise, and bigger
#          client segments are answered with ICMP too-big
#   route: a route mtu set after apply (stale service MTU): bpf_fib_lookup
#          says frag-needed, and the client gets the ICMP too-big
TOPO=mlb-mtu
NBACKENDS=${NBACKENDS:-2}
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start plain
SEED=$ROOT/tests/fixtures/seed

# use_family 4|6: the VIP as a URL host and the check label's suffix.
use_family() {
	if [ "$1" = 6 ]; then V="[$VIP6]" VADDR=$VIP6 FAM=6; else V=$VIP VADDR=$VIP FAM=4; fi
}

pod_addr() { if [ "$FAM" = 6 ]; then backend_addr6 plain "$1"; else backend_addr plain "$1"; fi; }

reason() {	# name: its packet count
	maglb stats --json | grep -o "\"$1\":{\"packets\":[0-9]*" | grep -o '[0-9]*$'
}

# set_mtu CASE MTU: the links (and routes) as CASE says; the client's
# learned path MTUs are forgotten, so each case starts from 1500.
set_mtu() {
	local i host pod
	case $1 in
	path) host=$2 pod=$2 ;;
	pod) host=1500 pod=$2 ;;
	*) host=1500 pod=1500 ;;
	esac
	for ((i = 0; i < NBACKENDS; i++)); do
		nsx node ip link set "be$i" mtu "$host"
		nsx "be$i" ip link set eth0 mtu "$pod"
		nsx node ip route replace "$(backend_addr plain "$i")/32" dev "be$i"
		nsx node ip -6 route replace "$(backend_addr6 plain "$i")/128" dev "be$i"
	done
	# A learned PMTU hangs off the route's next hop: a new route has none.
	nsx client ip route del "$VIP/32"
	nsx client ip route add "$VIP/32" via 10.10.0.1
	nsx client ip -6 route del "$VIP6/128"
	nsx client ip -6 route add "$VIP6/128" via fd00:10::1
}

# The route case: an mtu on the node's routes to the pods, after apply.
# Locked: the kernel (and bpf_fib_lookup) applies a route's mtu to
# forwarded packets only so (or with ip_forward_use_pmtu).
set_route_mtu() {
	local i
	for ((i = 0; i < NBACKENDS; i++)); do
		nsx node ip route replace "$(backend_addr plain "$i")/32" dev "be$i" mtu lock "$1"
		nsx node ip -6 route replace "$(backend_addr6 plain "$i")/128" dev "be$i" mtu lock "$1"
	done
	sleep 1.1	# past NH_CACHE_NS: next hops are looked up again
}

write_services() {	# [mtu]
	local name fam addr port hash i
	{
		echo "services:"
		for fam in 4 6; do
			for hash in Cookie Header; do
				name=$(tr A-Z a-z <<<"$hash")$fam
				addr=$VIP port=80
				[ "$fam" = 6 ] && addr=$VIP6
				[ "$hash" = Header ] && port=81
				echo "- name: $name"
				echo "  address: '$addr'"
				echo "  port: $port"
				[ -n "${1:-}" ] && echo "  mtu: $1"
				echo "  loadBalancer:"
				echo "    type: ConsistentHash"
				echo "    consistentHash:"
				echo "      type: $hash"
				if [ "$hash" = Cookie ]; then
					echo "      cookie: {name: FooBar}"
				else
					echo "      header: {name: X-User}"
				fi
				echo "  backends:"
				for ((i = 0; i < NBACKENDS; i++)); do
					use_family "$fam"
					echo "  - {name: $(backend_name "$i"), address: '$(pod_addr "$i")', port: 3000}"
				done
			done
		done
	} > "$CFG"
}

write_routes() {
	cat > "$WORK/defaults.yaml" <<EOF
gateway:
  addresses: [$VIP, "$VIP6"]
  forwarding: nat
EOF
	python3 - "$NBACKENDS" > "$WORK/slices.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
def sl(v6):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "backend" + ("-v6" if v6 else "-v4"), "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "backend"}},
            "addressType": "IPv6" if v6 else "IPv4",
            "ports": [{"name": "http", "port": 3000, "protocol": "TCP"}],
            "endpoints": [{"addresses": [("fd00:20::%d" if v6 else "10.20.1.%d") % (10 + i)],
                           "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "name": "backend-%d" % i}}
                          for i in range(n)]}
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [sl(False), sl(True)]}))
EOF
}

apply_services() { maglb apply -f "$CFG" >/dev/null; }
apply_routes() {
	maglb apply -f "$WORK/defaults.yaml" -f "$SEED/backend.yaml" -f "$SEED/gateway.yaml" \
		-f "$SEED/cookie-policy-route.yaml" -f "$WORK/slices.json" >/dev/null
}

# The MSS option of the SYN-ACK the client gets from VIP:port, read off
# its eth0 by a packet socket while it connects.
synack_mss() {	# port
	nsx client python3 - "$VADDR" "$1" "$FAM" <<'EOF'
import socket, struct, sys
vip, port, fam = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
r.bind(("eth0", 0))
r.settimeout(5)
c = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET)
c.settimeout(5)
c.connect((vip, port))
while True:
    f = r.recv(4096)
    et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0800 and f[23] == 6:
        l4 = 14 + (f[14] & 15) * 4
    elif et == 0x86DD and f[20] == 6:
        l4 = 54
    else:
        continue
    if f[l4 + 13] & 0x12 != 0x12 or struct.unpack("!H", f[l4:l4 + 2])[0] != port:
        continue
    opts, i = f[l4 + 20:l4 + (f[l4 + 12] >> 4) * 4], 0
    while i < len(opts) and opts[i] != 0:
        if opts[i] == 1:
            i += 1
            continue
        if opts[i] == 2:
            print(struct.unpack("!H", opts[i + 2:i + 4])[0])
            sys.exit(0)
        i += opts[i + 1]
    print("no MSS option")
    sys.exit(1)
EOF
}

# post URL CURL-ARGS...: 300 KB, stored by nginx, sha256 compared.
post() {
	local url=$1 code f t0 t1
	shift
	head -c 300K /dev/urandom > "$WORK/post.bin"
	rm -f "$WORK"/backend-*/store/upload.bin
	t0=$(date +%s.%N)
	code=$(nsx client curl -g -sS -m 20 -o /dev/null -w '%{http_code}' "$@" \
		--data-binary @"$WORK/post.bin" "$url")
	t1=$(date +%s.%N)
	f=$(ls "$WORK"/backend-*/store/upload.bin 2>/dev/null | head -1)
	printf 'POST 300 KB: HTTP %s in %.2f s, stored by %s\n' "${code:-none}" \
		"$(bc <<<"$t1 - $t0")" "${f:-nobody}"
	[ -n "$f" ] && [ "$(sha256sum < "$f")" = "$(sha256sum < "$WORK/post.bin")" ] ||
		{ echo "POST body not stored whole"; return 1; }
}

get() {	# URL CURL-ARGS...: 20 MB, sha256 compared
	local url=$1 t0 t1
	shift
	head -c 20M /dev/urandom > "$WORK/files/dl.bin"
	t0=$(date +%s.%N)
	nsx client curl -g -sS -m 30 -o "$WORK/got.bin" "$@" "$url" || return 1
	t1=$(date +%s.%N)
	cmp -s "$WORK/files/dl.bin" "$WORK/got.bin" ||
		{ echo "GET 20 MB: sha256 differs"; return 1; }
	printf 'GET 20 MB in %.2f s, sha256 equal\n' "$(bc <<<"$t1 - $t0")"
	rm -f "$WORK/got.bin"
}

# Each check runs with CASE, MTU, FAM and KIND_ (cookie|header|route) set.
args() {
	case $KIND_ in
	cookie) echo "--cookie FooBar=mtu-$FAM" ;;
	header) echo "-H X-User:mtu-$FAM" ;;
	route) echo "-H Host:www.example.com --cookie FooBar=mtu-$FAM" ;;
	esac
}
base() { case $KIND_ in header) echo "http://$V:81" ;; route) echo "http://$V/cookie" ;; *) echo "http://$V" ;; esac; }

post_300kb_arrives_whole() { post "$(base)/upload" $(args); }
get_20mb_arrives_whole() { get "$(base)/files/dl.bin" $(args); }

# apply read the MTU from the route, and the SYN-ACK promises it.
service_mtu_comes_from_the_route() {
	local want=$WANT_MTU svc got
	for svc in cookie4 header4 cookie6 header6; do
		got=$(maglb table "$svc" | head -1)
		echo "$got"
		grep -q " mtu $want\$" <<<"$got" || return 1
	done
}

synack_promises_the_path_mss() {	# for WANT_MTU
	local hdr=40 want got
	[ "$FAM" = 6 ] && hdr=60
	want=$((WANT_MTU - hdr))
	got=$(synack_mss 80) || { echo "$got"; return 1; }
	echo "MTU $WANT_MTU, IPv$FAM: SYN-ACK MSS $got, want $want"
	[ "$got" = "$want" ]
}

# The configured mtu wins over a larger route MTU.
configured_mtu_caps_the_promise() {
	write_services 1400
	apply_services || return 1
	WANT_MTU=1400
	service_mtu_comes_from_the_route || return 1
	use_family 4; synack_promises_the_path_mss || return 1
	use_family 6; synack_promises_the_path_mss
}

transfers() {	# label: every kind, both families
	local k
	for FAM in 4 6; do
		use_family "$FAM"
		for k in cookie header; do
			KIND_=$k LABEL=$1/$k/ipv$FAM check post_300kb_arrives_whole
			KIND_=$k LABEL=$1/$k/ipv$FAM check get_20mb_arrives_whole
		done
	done
}

route_transfers() {	# label
	apply_routes || { fail "$1/route_apply" "apply failed"; return; }
	for FAM in 4 6; do
		use_family "$FAM"
		KIND_=route LABEL=$1/route/ipv$FAM check post_300kb_arrives_whole
		KIND_=route LABEL=$1/route/ipv$FAM check get_20mb_arrives_whole
	done
}

# icmp_too_big since N0: none with the promise alone (path), some when
# the backend or a route takes less than promised.
no_icmp_needed() {
	local now; now=$(reason icmp_too_big)
	echo "icmp_too_big ${N0:-0} -> ${now:-0}; pass_fib_frag $(reason pass_fib_frag), drop_too_big $(reason drop_too_big), pass_fib_other $(reason pass_fib_other)"
	[ "${now:-0}" = "${N0:-0}" ]
}
too_big_answered_with_icmp() {
	local now; now=$(reason icmp_too_big)
	echo "icmp_too_big ${N0:-0} -> ${now:-0}; pass_fib_frag $(reason pass_fib_frag), drop_too_big $(reason drop_too_big), pass_fib_other $(reason pass_fib_other)"
	[ "${now:-0}" -gt "${N0:-0}" ]
}

write_routes
for MTU in 1450 1280; do
	# path: both sides of every pod's veth at MTU
	set_mtu path "$MTU"
	write_services
	apply_services
	WANT_MTU=$MTU
	LABEL=path-$MTU check service_mtu_comes_from_the_route
	for FAM in 4 6; do
		use_family "$FAM"
		LABEL=path-$MTU/ipv$FAM check synack_promises_the_path_mss
	done
	N0=$(reason icmp_too_big)
	transfers "path-$MTU"
	route_transfers "path-$MTU"
	LABEL=path-$MTU check no_icmp_needed

	# pod: the host says 1500, the pod's eth0 takes MTU
	set_mtu pod "$MTU"
	write_services
	apply_services
	N0=$(reason icmp_too_big)
	transfers "pod-$MTU"
	route_transfers "pod-$MTU"
	LABEL=pod-$MTU check too_big_answered_with_icmp

	# route: links at 1500, a route mtu of MTU set after apply
	set_mtu none 1500
	write_services
	apply_services
	set_route_mtu "$MTU"
	N0=$(reason icmp_too_big)
	transfers "route-$MTU"
	LABEL=route-$MTU check too_big_answered_with_icmp
done

set_mtu none 1500
LABEL=configured check configured_mtu_caps_the_promise
