#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# HTTP route matching in the datapath: the seed's HTTPRoute (hostname
# www.example.com, PathPrefix /cookie) shares its listener with a wildcard
# route and an exact-path route, each with its own pods; real curl and
# nginx through native XDP show which pods answer, and that a request no
# route matches gets a 404 (or, if configured, a reset) and never hangs.
TOPO=mlb-rt
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat
SEED=$ROOT/tests/fixtures/seed

# Pods 0-4 serve the seed's Service "backend", 5-8 "api", 9 "health".
slices_json() {
	python3 - <<'EOF'
import json
def sl(svc, pods, v6):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": svc + ("-v6" if v6 else "-v4"), "namespace": "default",
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv6" if v6 else "IPv4",
            "ports": [{"name": "http", "port": 3000, "protocol": "TCP"}],
            "endpoints": [{"addresses": [("fd00:20::%d" if v6 else "10.20.1.%d") % (10 + i)],
                           "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "name": "backend-%d" % i}}
                          for i in pods]}
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
    sl(name, pods, v6) for v6 in (False, True)
    for name, pods in (("backend", range(0, 5)), ("api", range(5, 9)), ("health", [9]))]}))
EOF
}

write_files() {	# noRouteMatch
	cat > "$WORK/defaults.yaml" <<EOF
gateway:
  addresses: [$VIP, "$VIP6"]
  forwarding: nat
  noRouteMatch: $1
EOF
	cat > "$WORK/routes.yaml" <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  parentRefs: [{name: load-balancing-gateway}]
  hostnames: ["*.example.com"]
  rules:
  - backendRefs: [{name: api, port: 3000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: health, namespace: default}
spec:
  parentRefs: [{name: load-balancing-gateway}]
  rules:
  - matches: [{path: {type: Exact, value: /healthz}}]
    backendRefs: [{name: health, port: 3000}]
EOF
	slices_json > "$WORK/slices.json"
}

apply_routes() {
	maglb apply -f "$WORK/defaults.yaml" -f "$SEED/backend.yaml" -f "$SEED/gateway.yaml" \
		-f "$SEED/cookie-policy-route.yaml" -f "$WORK/routes.yaml" -f "$WORK/slices.json"
}

# get HOST PATH [VIP]: the answering pod's name, or "HTTP <code>"
get() {
	local out code
	out=$(nsx client curl -g -sS --max-time 5 -o "$WORK/body" -w '%{http_code}' \
		-H "Host: $1" "http://${3:-$VIP}$2" 2>&1)
	code=$?
	if [ $code -ne 0 ]; then
		echo "curl exit $code"
	elif [ "$out" = 200 ]; then
		cat "$WORK/body"
	else
		echo "HTTP $out"
	fi
}

in_range() {	# pod first last
	local i=${1#backend-}
	[[ $1 == backend-* ]] && [ "$i" -ge "$2" ] && [ "$i" -le "$3" ]
}

listener_holds_the_routes_in_precedence_order() {
	apply_routes 2>/dev/null | sed -n '/^applied/p'
	maglb apply --check -f "$WORK/defaults.yaml" -f "$SEED/backend.yaml" -f "$SEED/gateway.yaml" \
		-f "$SEED/cookie-policy-route.yaml" -f "$WORK/routes.yaml" -f "$WORK/slices.json" 2>/dev/null |
		grep -E '^service load|^  match' | tee "$WORK/matches"
	# exact host first, then the wildcard, then no host (route numbers
	# follow the files; the order is precedence)
	[ "$(sed -n 2p "$WORK/matches")" = "  match host=exact:www.example.com path=prefix:/cookie route=1" ] &&
	[ "$(sed -n 3p "$WORK/matches")" = "  match host=prefix:*.example.com path=any: route=2" ] &&
	[ "$(sed -n 4p "$WORK/matches")" = "  match host=any: path=exact:/healthz route=3" ]
}

# Listeners, matches, cookie lines, routes over both families: once
# applied, --check finds every write already made.
applied_routes_plan_nothing() {
	local out
	out=$(maglb apply --check -f "$WORK/defaults.yaml" -f "$SEED/backend.yaml" -f "$SEED/gateway.yaml" \
		-f "$SEED/cookie-policy-route.yaml" -f "$WORK/routes.yaml" -f "$WORK/slices.json" 2>&1) || return 1
	grep -E '^(put|del|reset|retire|close|plan)' <<<"$out" | head -20
	grep -qx 'plan: 0 ops (services +0 -0, backends +0 -0)' <<<"$out"
}

seed_requests_land_where_lookup_says() {
	seed_cookies_land_on_the_lookup_backend || return 1
	local be; be=$(only_backend_with 10)
	in_range "backend-$be" 0 4 || { echo "backend-$be is not a pod of Service backend"; return 1; }
}

# Host and path decide the route: each answer comes from that route's pods.
routes_decide() {	# vip
	local host path lo hi got
	while read -r host path lo hi; do
		got=$(get "$host" "$path" "$1")
		echo "$1 $host$path -> $got"
		if [ "$lo" = 404 ]; then [ "$got" = "HTTP 404" ] || return 1; continue; fi
		in_range "$got" "$lo" "$hi" || return 1
	done <<EOF
www.example.com /cookie 0 4
WWW.Example.com:80 /cookie/cart?id=7 0 4
www.example.com /cookies 5 8
www.example.com / 5 8
shop.example.com /cookie 5 8
anything.test /healthz 9 9
shop.example.com /healthz 5 8
other.test /nowhere 404 404
EOF
}

requests_reach_the_route_their_host_and_path_match() { routes_decide "$VIP"; }
ipv6_requests_reach_the_route_their_host_and_path_match() { routes_decide "[$VIP6]"; }

not_found_count() {
	maglb stats --json | grep -o '"route_not_found":{"packets":[0-9]*' | grep -o '[0-9]*$'
}

unmatched_request_gets_404_at_once() {
	local t0 t1 got n0 n1
	n0=$(not_found_count)
	t0=$(date +%s%N)
	got=$(get other.test /nowhere/at/all)
	t1=$(date +%s%N)
	n1=$(not_found_count)
	echo "other.test/nowhere/at/all -> $got in $(((t1 - t0) / 1000000)) ms; route_not_found ${n0:-0} -> $n1"
	# the client's FIN after ours was reset: nothing lingers
	sleep 0.3
	nsx client ss -Htan dst "$VIP" | grep -v TIME-WAIT
	[ "$got" = "HTTP 404" ] && [ "$(((t1 - t0) / 1000000))" -lt 2000 ] &&
		[ "${n1:-0}" -gt "${n0:-0}" ] &&
		[ -z "$(nsx client ss -Htan dst "$VIP" | grep -v TIME-WAIT)" ]
}

unmatched_request_gets_reset_when_configured() {
	local got
	write_files Reset
	apply_routes >/dev/null 2>&1 || return 1
	got=$(get other.test /nowhere/at/all/either)
	echo "other.test -> $got"
	write_files NotFound
	apply_routes >/dev/null 2>&1
	[ "$got" = "curl exit 56" ]
}

# Issue 14's bug: the seed's HTTPRoute edited to plain (no hostnames, no
# matches) took the listener's VIP key with it when the listener left, so
# nothing served until two more applies. One apply must do, and back.
seed_route_made_plain_serves_after_one_apply() {
	local files=(-f "$WORK/defaults.yaml" -f "$SEED/backend.yaml" -f "$SEED/gateway.yaml")
	local got ok=0
	python3 - "$SEED/cookie-policy-route.yaml" "$WORK/plain-route.yaml" <<'EOF'
import sys
t = open(sys.argv[1]).read()
for cut, put in (('  hostnames:\n    - "www.example.com"\n', ''),
                 ('    - matches:\n        - path:\n            type: PathPrefix\n'
                  '            value: /cookie\n      backendRefs:', '    - backendRefs:')):
    assert cut in t, cut
    t = t.replace(cut, put)
open(sys.argv[2], 'w').write(t)
EOF
	maglb apply "${files[@]}" -f "$SEED/cookie-policy-route.yaml" -f "$WORK/slices.json" |
		grep '^applied' || return 1
	got=$(get www.example.com /cookie); echo "routed: www.example.com/cookie -> $got"
	in_range "$got" 0 4 || ok=1
	maglb apply "${files[@]}" -f "$WORK/plain-route.yaml" -f "$WORK/slices.json" |
		grep '^applied' || return 1
	got=$(get other.test /anything); echo "plain: other.test/anything -> $got"
	in_range "$got" 0 4 || ok=1
	maglb apply "${files[@]}" -f "$SEED/cookie-policy-route.yaml" -f "$WORK/slices.json" |
		grep '^applied' || return 1
	got=$(get www.example.com /cookie); echo "routed again: www.example.com/cookie -> $got"
	in_range "$got" 0 4 || ok=1
	got=$(get other.test /anything); echo "routed again: other.test/anything -> $got"
	[ "$got" = "HTTP 404" ] || ok=1
	apply_routes >/dev/null 2>&1 || return 1
	return $ok
}

# The route maglb picks is the one the backend's own reading of the
# request implies. The backend's view comes from a real nginx (1.22, the
# pods' server) in the client's namespace that answers "$host $uri" for a
# raw request target: its decoded, slash-merged, dot-free path. That view
# decides the pods expected (www.example.com: /cookie/... is the seed's
# route, pods 0-4, the rest the wildcard's 5-8); a request nginx refuses
# must get our 400. Rows marked 400 are refused by our choice where
# nginx would serve: an absolute-form authority that is not the Host, a
# duplicate Host, an encoded slash (bpf/lib/http.h says why). The oracle
# runs in the topology's namespace, so e2e_stop ends it with the pods.
oracle_up() {
	mkdir -p "$WORK/oracle"
	cat > "$WORK/oracle/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/oracle/nginx.pid;
error_log $WORK/oracle/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/oracle;
	proxy_temp_path $WORK/oracle;
	fastcgi_temp_path $WORK/oracle;
	uwsgi_temp_path $WORK/oracle;
	scgi_temp_path $WORK/oracle;
	server {
		listen 127.0.0.1:18080;
		location / { default_type text/plain; return 200 "\$host \$uri"; }
	}
}
CONF
	nsx client ip link set lo up
	nsx client nginx -c "$WORK/oracle/nginx.conf" -p "$WORK/oracle" -q
}

oracle_down() {
	local pid
	pid=$(cat "$WORK/oracle/nginx.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	return 0
}

# A head with two Host headers, which curl will not send: one write of
# the whole head (a last segment under 64 bytes would get a reset, not
# the 400: XDP cannot grow a frame), printing what curl's -w and -o would.
two_hosts() {	# HOST TARGET HOST2 ADDR:PORT
	nsx client timeout 5 python3 - "$@" "$WORK/body" <<'PY'
import socket, sys
host, target, host2, addr, body = sys.argv[1:6]
ip, port = addr.rsplit(":", 1)
s = socket.create_connection((ip.strip("[]"), int(port)), timeout=4)
s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nHost: %s\r\n"
           "Connection: close\r\n\r\n" % (target, host, host2)).encode())
got = b""
while True:
    try:
        b = s.recv(4096)
    except ConnectionResetError:
        break
    if not b:
        break
    got += b
head, _, rest = got.partition(b"\r\n\r\n")
open(body, "wb").write(rest)
print(head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "none", end="")
PY
}

# raw HOST TARGET [HOST2] [ADDR]: curl sends TARGET as it is
raw() {
	local out code
	if [ -n "${3:-}" ]; then
		local addr=${4:-$VIP}
		[[ $addr == *:* ]] || addr=$addr:80
		out=$(two_hosts "$1" "$2" "$3" "$addr" 2>&1)
	else
		out=$(nsx client curl -g -sS --max-time 5 --path-as-is --request-target "$2" \
			-o "$WORK/body" -w '%{http_code}' -H "Host: $1" "http://${4:-$VIP}/" 2>&1)
	fi
	code=$?
	if [ $code -ne 0 ]; then
		echo "curl exit $code"
	elif [ "$out" = 200 ]; then
		cat "$WORK/body"
	else
		echo "HTTP $out"
	fi
}

# The pods an nginx view ("host uri") implies, as "lo hi"; 400 for none.
view_pods() {
	local host=${1%% *} uri=${1#* }
	if [ "$1" = "HTTP 400" ]; then
		echo 400
	elif [ "$host" = www.example.com ] && [[ $uri == /cookie || $uri == /cookie/* ]]; then
		echo "0 4"
	else
		echo "5 8"
	fi
}

requests_take_the_route_the_backends_view_implies() {
	local target dup want view pods got ok=0
	oracle_up || return 1
	while read -r target dup want; do
		[ "$dup" = - ] && dup=
		view=$(raw www.example.com "$target" "$dup" 127.0.0.1:18080)
		pods=$want
		[ "$want" = view ] && pods=$(view_pods "$view")
		got=$(raw www.example.com "$target" "$dup")
		echo "$target${dup:+ (and Host: $dup)}: nginx sees \"$view\", want ${pods/ /-}, got $got"
		if [ "$pods" = 400 ]; then
			[ "$got" = "HTTP 400" ] || ok=1
		else
			in_range "$got" ${pods% *} ${pods#* } || ok=1
		fi
	done <<EOF
/cookie/x - view
/x/../cookie - view
//cookie - view
/%63ookie - view
/cookie/./x - view
/./cookie - view
/a//../cookie/x - view
/x/%2e%2e/cookie - view
/.. - view
/%2e%2e/cookie - view
/cookie%00 - view
/cookie%zz - view
/cookie?q=/../x - view
http://www.example.com/cookie/x - view
http://WWW.example.com:80/cookie - view
http://admin.example.com/cookie - 400
http://www.example.com:8080/cookie - 400
/cookie admin.example.com 400
/x%2F..%2Fcookie - 400
EOF
	oracle_down
	return $ok
}

keepalive_load_through_routes_has_no_errors() {
	nsx client wrk -t2 -c16 -d3s -H "Host: www.example.com" -H "Cookie: FooBar=1.2.3.4" \
		"http://$VIP/cookie" > "$WORK/wrk.txt" 2>&1
	grep -E "Requests/sec|Non-2xx|Socket errors" "$WORK/wrk.txt"
	grep -q "Requests/sec" "$WORK/wrk.txt" && ! grep -qE "Non-2xx|Socket errors" "$WORK/wrk.txt"
}

write_files NotFound
check listener_holds_the_routes_in_precedence_order
check applied_routes_plan_nothing
check seed_requests_land_where_lookup_says
check requests_reach_the_route_their_host_and_path_match
check ipv6_requests_reach_the_route_their_host_and_path_match
check unmatched_request_gets_404_at_once
check requests_take_the_route_the_backends_view_implies
check unmatched_request_gets_reset_when_configured
check seed_route_made_plain_serves_after_one_apply
check keepalive_load_through_routes_has_no_errors
