# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# topo.sh - network-namespace topologies with real nginx backends, shared
# by scripts/demo.sh and tests/e2e. Source it; set TOPO (a short prefix that
# names every namespace, pin dir and temp dir) first. topo_down undoes
# everything by name, so it is safe to call from a trap at any point.
#
#   nat (two-arm):  client --- node(eth0 | eth1) --- bridge --- backend-N
#   snat (one-arm): client, node and backend-N all on one bridge
#   plain:          client --- node(cl0 | be0..be9) --- backend-N, one veth
#                   pair per pod, as a CNI wires pods (see add_pod)
#   kube:           client --- router --- node(eth0 | be0..be4) --- backend-0..4
#                                  `----- node2(eth0 | be5..be9) --- backend-5..9
#                   the router bridges the nodes' uplinks (the node network)
#                   and routes the client's subnet to it; maglb runs on node
#
# No topology gives the far side of a veth an XDP program or GRO: a pod's
# veth has neither on a real node, so the datapath must do without (only
# tests/e2e/test_plain.sh adds one, to show the fast path where it may).
#
# Names: $TOPO-client, $TOPO-node, $TOPO-lan (bridge), $TOPO-router,
# $TOPO-node2, $TOPO-be0..9.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MAGLB=${MAGLB:-$ROOT/build/maglb}
XDP_PASS_OBJ=$ROOT/build/xdp_pass.bpf.o
TOPO=${TOPO:-mlb}
NBACKENDS=${NBACKENDS:-10}
PIN_DIR=/sys/fs/bpf/$TOPO
WORK=/tmp/$TOPO
VIP=10.10.0.100
VIP6=fd00:10::100
# The node's own addresses, toward the client: the snat source.
SNAT4=10.10.0.1
SNAT6=fd00:10::1
KUBE_LOCAL=5	# kube: backend-0..4 on node, the rest on node2
KIND=		# the topology up: set by topo_up

ns() { echo "$TOPO-$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
maglb() { "$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" "$@"; }

# A veth's sender must hand XDP full checksums (see docs/testing.md, "Topologies").
tx_off() { nsx "$1" ethtool -K "$2" tx off >/dev/null; }
# A program on a veth's far side makes it take XDP frames (test_plain.sh).
xdp_pass_on() { nsx "$1" ip link set dev "$2" xdpdrv obj "$XDP_PASS_OBJ" sec xdp; }

wait_port() {	# ns port [tries]
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		nsx "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "port $2 in $(ns "$1") never opened" >&2
	return 1
}

backend_name() { echo "backend-$1"; }

start_nginx() {	# index address
	local i=$1 dir=$WORK/backend-$1
	mkdir -p "$dir/tmp"
	cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
user root;	# test pods write uploads into the test dir
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
	log_format maglb '\$remote_addr - - [\$time_local] "\$request" \$status \$body_bytes_sent len=\$request_length cookie=\$cookie_FooBar';
	access_log $dir/access.log maglb;
	client_max_body_size 8m;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	keepalive_requests 1000000;
	server {
		listen 3000 reuseport;
		listen [::]:3000 reuseport;
		location / { default_type text/plain; return 200 "$(backend_name "$i")\n"; }
		location /files/ { alias $WORK/files/; }
		# A POST's body, stored whole (as a PUT to ourselves) for a checksum.
		location = /upload { proxy_method PUT; proxy_pass http://127.0.0.1:3000/store/upload.bin; }
		location /store/ { dav_methods PUT; root $dir; create_full_put_path on; }
		# The same under /cookie/, which the seed's HTTPRoute matches.
		location /cookie/files/ { alias $WORK/files/; }
		location = /cookie/upload { proxy_method PUT; proxy_pass http://127.0.0.1:3000/store/upload.bin; }
	}
}
CONF
	nsx "be$i" nginx -c "$dir/nginx.conf" -p "$dir" -q
}

# A pod's address by forwarding mode and index. The pods share the
# client's subnet only on the one-arm snat bridge; kube's node2 has a pod
# subnet of its own.
backend_addr() {	# mode index
	case ${KIND:-$1}:$1 in
	snat:snat) echo "10.10.0.$((10 + $2))" ;;
	kube:*) if (($2 < KUBE_LOCAL)); then echo "10.20.1.$((10 + $2))"; else echo "10.20.2.$((10 + $2))"; fi ;;
	*) echo "10.20.1.$((10 + $2))" ;;
	esac
}

backend_addr6() {	# mode index
	case ${KIND:-$1}:$1 in
	snat:snat) echo "fd00:10::$((10 + $2))" ;;
	kube:*) if (($2 < KUBE_LOCAL)); then echo "fd00:20::$((10 + $2))"; else echo "fd00:20:2::$((10 + $2))"; fi ;;
	*) echo "fd00:20::$((10 + $2))" ;;
	esac
}

add_backend() {	# mode index
	local i=$2 n; n=$(ns "be$i")
	ip netns add "$n"
	ip -n "$(ns lan)" link add "b$i" type veth peer name eth0 netns "$n"
	ip -n "$(ns lan)" link set "b$i" master br0 up
	nsx "be$i" ip link set lo up
	nsx "be$i" ip link set eth0 up
	nsx "be$i" ip addr add "$(backend_addr "$1" "$i")/24" dev eth0
	nsx "be$i" ip addr add "$(backend_addr6 "$1" "$i")/64" dev eth0 nodad
	if [ "$1" = nat ]; then
		nsx "be$i" ip route add default via 10.20.1.1
		nsx "be$i" ip -6 route add default via fd00:20::1
	fi
	tx_off "be$i" eth0
	start_nginx "$i"
}

# add_pod HOST index gw4: pod backend-index behind its own veth pair (be<index>
# in HOST, eth0 in the pod), wired as the CNI ptp plugin (kindnet) does: the
# pod has a /32 and a /128 and routes everything to gw4 / fe80::1, which the
# host side holds; HOST routes the pod's addresses to the veth. Nothing runs
# on the pod's side but its stack.
add_pod() {
	local host=$1 i=$2 gw=$3 n a4 a6
	n=$(ns "be$i") a4=$(backend_addr "$KIND" "$i") a6=$(backend_addr6 "$KIND" "$i")
	ip netns add "$n"
	ip -n "$(ns "$host")" link add "be$i" type veth peer name eth0 netns "$n"
	nsx "$host" ip addr add "$gw/32" dev "be$i"
	nsx "$host" ip addr add fe80::1/64 dev "be$i" nodad
	nsx "$host" ip link set "be$i" up
	nsx "$host" ip route add "$a4/32" dev "be$i"
	nsx "$host" ip -6 route add "$a6/128" dev "be$i"
	nsx "be$i" ip link set lo up
	nsx "be$i" ip link set eth0 up
	nsx "be$i" ip addr add "$a4/32" dev eth0
	nsx "be$i" ip addr add "$a6/128" dev eth0 nodad
	nsx "be$i" ip route add "$gw" dev eth0 scope link
	nsx "be$i" ip route add default via "$gw" dev eth0
	nsx "be$i" ip -6 route add default via fe80::1 dev eth0
	tx_off "be$i" eth0
	start_nginx "$i"
}

add_netns() {	# name...
	local n
	for n in "$@"; do
		ip netns add "$(ns "$n")"
		nsx "$n" ip link set lo up
	done
}

# The client, eth0 10.10.0.2 / fd00:10::2, its far end PEER in namespace HOST.
add_client() {	# host peer
	ip -n "$(ns client)" link add eth0 type veth peer name "$2" netns "$(ns "$1")"
	nsx client ip addr add 10.10.0.2/24 dev eth0
	nsx client ip addr add fd00:10::2/64 dev eth0 nodad
	nsx client ip link set eth0 up
	tx_off client eth0
}

# add_client, with HOST's end as the client's gateway: 10.10.0.GW and
# fd00:10::GW on PEER, and the client routes the VIPs to it.
add_client_gw() {	# host peer gw
	add_client "$1" "$2"
	nsx "$1" ip addr add "10.10.0.$3/24" dev "$2"
	nsx "$1" ip addr add "fd00:10::$3/64" dev "$2" nodad
	nsx "$1" ip link set "$2" up
	nsx client ip route add "$VIP/32" via "10.10.0.$3"
	nsx client ip -6 route add "$VIP6/128" via "fd00:10::$3"
}

forwarding_on() { nsx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; }

# The bridge topologies: nat (two-arm) and snat (one-arm).
topo_up_bridge() {
	local mode=$1 i
	add_netns client node lan
	nsx lan ip link add br0 type bridge
	nsx lan ip link set br0 up
	forwarding_on node

	if [ "$mode" = nat ]; then
		# client eth0 <-> node eth0; node eth1 <-> bridge (backends)
		add_client node eth0
		ip -n "$(ns node)" link add eth1 type veth peer name node netns "$(ns lan)"
		nsx node ip addr add 10.20.1.1/24 dev eth1
		nsx node ip addr add fd00:20::1/64 dev eth1 nodad
		nsx node ip link set eth1 up
		tx_off node eth1
	else
		# one arm: client and node both hang off the bridge
		add_client lan client
		ip -n "$(ns node)" link add eth0 type veth peer name node netns "$(ns lan)"
		nsx lan ip link set client master br0 up
		tx_off node eth0
	fi
	nsx lan ip link set node master br0 up
	nsx node ip addr add 10.10.0.1/24 dev eth0
	nsx node ip addr add fd00:10::1/64 dev eth0 nodad
	nsx node ip link set eth0 up
	nsx client ip route add $VIP/32 via 10.10.0.1
	nsx client ip -6 route add $VIP6/128 via fd00:10::1
	for ((i = 0; i < NBACKENDS; i++)); do add_backend "$mode" "$i"; done
	if [ "$mode" = nat ]; then
		maglb attach eth0 eth1 >/dev/null
	else
		maglb attach eth0 >/dev/null
	fi
}

# plain: the client on cl0, every pod on be<i>, all in the node; maglb on all.
topo_up_plain() {
	local i devs=(cl0)
	add_netns client node
	forwarding_on node
	add_client_gw node cl0 1
	for ((i = 0; i < NBACKENDS; i++)); do
		add_pod node "$i" 10.20.1.1
		devs+=("be$i")
	done
	maglb attach "${devs[@]}" >/dev/null
}

# kube: the client behind a router, whose bridge br0 is the node network
# (10.30.0.0/24, fd00:30::/64): node (eth0 .1) and node2 (eth0 .2) hang off
# it and route each other's pod subnets to each other (10.20.1.0/24,
# fd00:20::/64 on node; 10.20.2.0/24, fd00:20:2::/64 on node2), as a CNI
# without encapsulation does. The router sends the VIP to node, where maglb
# runs on the uplink and the local pods' veths. The uplink's far side is a
# bridge port, bare like every pod's.
topo_up_kube() {
	local i devs=(eth0)
	add_netns client router node node2
	forwarding_on router
	forwarding_on node
	forwarding_on node2
	# The VIP is in the client's subnet: route it, not ARP for it.
	add_client_gw router client 254
	nsx router ip link add br0 type bridge
	nsx router ip addr add 10.30.0.254/24 dev br0
	nsx router ip addr add fd00:30::254/64 dev br0 nodad
	nsx router ip link set br0 up
	nsx router ip route add $VIP/32 via 10.30.0.1
	nsx router ip -6 route add $VIP6/128 via fd00:30::1
	kube_node node 1 2
	kube_node node2 2 1
	tx_off node2 eth0
	for ((i = 0; i < NBACKENDS; i++)); do
		if ((i < KUBE_LOCAL)); then
			add_pod node "$i" 10.20.1.1
			devs+=("be$i")
		else
			add_pod node2 "$i" 10.20.2.1
		fi
	done
	kube_return_route on
	maglb attach "${devs[@]}" >/dev/null
}

kube_node() {	# name its-number other's-number
	ip -n "$(ns "$1")" link add eth0 type veth peer name "$1" netns "$(ns router)"
	nsx router ip link set "$1" master br0 up
	nsx "$1" ip addr add "10.30.0.$2/24" dev eth0
	nsx "$1" ip addr add "fd00:30::$2/64" dev eth0 nodad
	nsx "$1" ip link set eth0 up
	nsx "$1" ip route add default via 10.30.0.254
	nsx "$1" ip -6 route add default via fd00:30::254
	nsx "$1" ip route add "10.20.$3.0/24" via "10.30.0.$3"
	nsx "$1" ip -6 route add "$([ "$3" = 1 ] && echo fd00:20::/64 || echo fd00:20:2::/64)" via "fd00:30::$3"
}

# kube_return_route on|off: nat keeps the client's address, so node2's pods
# answer the client itself, and only node can undo its DNAT: node2 must
# hand those replies to node. A policy rule does that for pod-sourced
# packets to the client's subnet only (node2's own traffic keeps its
# default route), the state kube-proxy avoids under externalTrafficPolicy
# Cluster by masquerading to the node's address, as maglb's snat does:
# snat needs no rule.
kube_return_route() {
	local op=add
	[ "$1" = on ] || op=del
	nsx node2 ip rule $op from 10.20.2.0/24 to 10.10.0.0/24 table 100
	nsx node2 ip -6 rule $op from fd00:20:2::/64 to fd00:10::/64 table 100
	if [ "$1" = on ]; then
		nsx node2 ip route replace default via 10.30.0.1 table 100
		nsx node2 ip -6 route replace default via fd00:30::1 table 100
	fi
}

# topo_up nat|snat|plain|kube: build the namespaces, start nginx, attach maglb.
topo_up() {
	local i
	KIND=$1
	mkdir -p "$WORK/files"
	case $1 in
	nat|snat) topo_up_bridge "$1" ;;
	plain) topo_up_plain ;;
	kube) SNAT4=10.30.0.1 SNAT6=fd00:30::1; topo_up_kube ;;
	*) echo "topo_up: no topology $1" >&2; return 1 ;;
	esac || return 1
	for ((i = 0; i < NBACKENDS; i++)); do wait_port "be$i" 3000 || return 1; done
}

# The seed's cookie policy, or a header, for Cookie/Header hashing.
key_block() {	# hash indent
	case $1 in
	Cookie) echo "$2cookie: {name: FooBar, ttl: 60s, attributes: {SameSite: Strict}}" ;;
	Header) echo "$2header: {name: X-User}" ;;
	esac
}

# write_config FILE mode hash [backend indexes...] (default: all)
write_config() {
	local file=$1 mode=$2 hash=$3 i
	shift 3
	local idx=("$@")
	[ ${#idx[@]} -gt 0 ] || idx=($(seq 0 $((NBACKENDS - 1))))
	{
		echo "services:"
		echo "- name: cookie-route"
		echo "  address: $VIP"
		echo "  port: 80"
		echo "  protocol: TCP"
		echo "  forwarding: $mode"
		[ "$mode" = snat ] && echo "  snat: {address: $SNAT4}"
		echo "  loadBalancer:"
		echo "    type: ConsistentHash"
		echo "    consistentHash:"
		echo "      type: $hash"
		key_block "$hash" "      "
		echo "      tableSize: 65537"
		echo "  backends:"
		for i in "${idx[@]}"; do
			echo "  - {name: $(backend_name "$i"), address: $(backend_addr "$mode" "$i"), port: 3000, weight: 1}"
		done
		echo "- name: cookie-route-v6"
		echo "  address: '$VIP6'"
		echo "  port: 80"
		echo "  forwarding: $mode"
		[ "$mode" = snat ] && echo "  snat: {address: '$SNAT6'}"
		echo "  loadBalancer:"
		echo "    type: ConsistentHash"
		echo "    consistentHash:"
		echo "      type: $hash"
		key_block "$hash" "      "
		echo "  backends:"
		for i in "${idx[@]}"; do
			echo "  - {name: $(backend_name "$i"), address: '$(backend_addr6 "$mode" "$i")', port: 3000}"
		done
	} > "$file"
}

reset_logs() {
	local i
	for ((i = 0; i < NBACKENDS; i++)); do
		: > "$WORK/backend-$i/access.log"
	done
}

# The seed's per-pod count, one line per backend.
backend_counts() {
	local i
	for ((i = 0; i < NBACKENDS; i++)); do
		echo "$(backend_name "$i"): received $(wc -l < "$WORK/backend-$i/access.log") requests"
	done
}

# The seed's test: 10 curl requests with the cookie, Host header, to /cookie.
seed_requests() {	# cookie [count] [vip]
	local i
	for ((i = 0; i < ${2:-10}; i++)); do
		nsx client curl -sS -o /dev/null -I --max-time 5 -g \
			--header "Host: www.example.com" --cookie "FooBar=$1" \
			"http://${3:-$VIP}/cookie" || echo "curl request $i failed" >&2
	done
}

topo_down() {
	local i pid
	if [ -d "$PIN_DIR/links" ]; then
		for l in "$PIN_DIR"/links/*; do
			[ -e "$l" ] && "$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" detach "$(basename "$l")" >/dev/null 2>&1
		done
	fi
	rm -rf "$PIN_DIR"
	for ((i = 0; i < 10; i++)); do
		pid=$(cat "$WORK/backend-$i/nginx.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	done
	for n in $(ip netns list | awk '{print $1}' | grep "^$TOPO-"); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$n"
	done
	rm -rf "$WORK"
}
