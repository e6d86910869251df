# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# topo.sh - network-namespace topologies with real nginx backends, shared
# by scripts/demo.sh and tests/e2e. Source it; set TOPO (a short prefix that
# names every namespace, pin dir and temp dir) first. topo_down undoes
# everything by name, so it is safe to call from a trap at any point.
#
#   nat (two-arm):  client --- node(eth0 | eth1) --- bridge --- backend-N
#   snat (one-arm): client, node and backend-N all on one bridge
#
# Names: $TOPO-client, $TOPO-node, $TOPO-lan (bridge), $TOPO-be0..9.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MAGLB=${MAGLB:-$ROOT/build/maglb}
XDP_PASS_OBJ=$ROOT/build/xdp_pass.bpf.o
TOPO=${TOPO:-mlb}
NBACKENDS=${NBACKENDS:-10}
PIN_DIR=/sys/fs/bpf/$TOPO
WORK=/tmp/$TOPO
VIP=10.10.0.100
VIP6=fd00:10::100

ns() { echo "$TOPO-$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
maglb() { "$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" "$@"; }

# A veth's sender must hand XDP full checksums (see README, "Testing").
tx_off() { nsx "$1" ethtool -K "$2" tx off >/dev/null; }
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
	}
}
CONF
	nsx "be$i" nginx -c "$dir/nginx.conf" -p "$dir" -q
}

backend_addr() {	# mode index
	if [ "$1" = nat ]; then echo "10.20.1.$((10 + $2))"; else echo "10.10.0.$((10 + $2))"; fi
}

backend_addr6() {	# mode index
	if [ "$1" = nat ]; then echo "fd00:20::$((10 + $2))"; else echo "fd00:10::$((10 + $2))"; fi
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

# topo_up nat|snat: build the namespaces, start nginx, attach maglb.
topo_up() {
	local mode=$1 i
	mkdir -p "$WORK/files"
	ip netns add "$(ns client)"
	ip netns add "$(ns node)"
	ip netns add "$(ns lan)"
	for n in client node lan; do nsx $n ip link set lo up; done
	nsx lan ip link add br0 type bridge
	nsx lan ip link set br0 up
	nsx node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

	if [ "$mode" = nat ]; then
		# client eth0 <-> node eth0; node eth1 <-> bridge (backends)
		ip -n "$(ns client)" link add eth0 type veth peer name eth0 netns "$(ns node)"
		ip -n "$(ns node)" link add eth1 type veth peer name node netns "$(ns lan)"
		nsx node ip addr add 10.20.1.1/24 dev eth1
		nsx node ip addr add fd00:20::1/64 dev eth1 nodad
		nsx node ip link set eth1 up
		tx_off node eth1
	else
		# one arm: client and node both hang off the bridge
		ip -n "$(ns client)" link add eth0 type veth peer name client netns "$(ns lan)"
		ip -n "$(ns node)" link add eth0 type veth peer name node netns "$(ns lan)"
		nsx lan ip link set client master br0 up
	fi
	[ "$mode" = nat ] || tx_off node eth0
	nsx lan ip link set node master br0 up
	nsx client ip addr add 10.10.0.2/24 dev eth0
	nsx node ip addr add 10.10.0.1/24 dev eth0
	nsx client ip link set eth0 up
	nsx node ip link set eth0 up
	nsx client ip addr add fd00:10::2/64 dev eth0 nodad
	nsx node ip addr add fd00:10::1/64 dev eth0 nodad
	nsx client ip route add $VIP/32 via 10.10.0.1
	nsx client ip -6 route add $VIP6/128 via fd00:10::1
	tx_off client eth0
	# XDP_REDIRECT/XDP_TX into a veth need an XDP program on its peer.
	xdp_pass_on lan node
	[ "$mode" = nat ] && xdp_pass_on client eth0
	for ((i = 0; i < NBACKENDS; i++)); do add_backend "$mode" "$i"; done
	for ((i = 0; i < NBACKENDS; i++)); do wait_port "be$i" 3000 || return 1; done
	if [ "$mode" = nat ]; then
		maglb attach eth0 eth1 >/dev/null || return 1
	else
		maglb attach eth0 >/dev/null || return 1
	fi
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
		[ "$mode" = snat ] && echo "  snat: {address: 10.10.0.1}"
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
		[ "$mode" = snat ] && echo "  snat: {address: 'fd00:10::1'}"
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
