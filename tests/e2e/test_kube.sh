#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# maglb agent --kubernetes against a scripted API server (tests/kube/):
# the seed's Gateway and HTTPRoute/BackendTrafficPolicy files, verbatim,
# with the Service and its EndpointSlices listed and watched over HTTPS.
# Real curl and nginx through the XDP datapath show where requests land.
TOPO=mlb-kube
source "$(dirname "$0")/../lib/e2e.sh"
source "$ROOT/tests/lib/kubeapi.sh"
set -u
e2e_start nat
AGENT_LOG=$WORK/agent.log
API=$ROOT/tests/kube/apiserver.py
SEED=$ROOT/tests/fixtures/seed
TOKEN=maglb-test-token-$$

# ---- the API server and its objects ----------------------------------

# slice_json NAME INDEX:STATE... (STATE ready|terminating|notready): an
# EndpointSlice of Service default/backend with the topology's pods.
slice_json() {
	python3 - "$@" <<'PY'
import json, sys
name, eps = sys.argv[1], []
for arg in sys.argv[2:]:
    i, state = arg.split(":")
    eps.append({"addresses": ["10.20.1.%d" % (10 + int(i))],
                "conditions": {"ready": state == "ready",
                               "serving": state != "notready",
                               "terminating": state == "terminating"},
                "nodeName": "node-1",
                "targetRef": {"kind": "Pod", "namespace": "default", "name": "backend-%s" % i}})
print(json.dumps({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": name, "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "backend",
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
    "addressType": "IPv4", "endpoints": eps,
    "ports": [{"name": "http", "port": 3000, "protocol": "TCP"}]}))
PY
}

api_setup() {
	local d=$WORK/api
	mkdir -p "$d"
	kubeapi_certs "$d"
	kubeapi_kubeconfig "$d" https://127.0.0.1:6443 "$TOKEN"
	# The seed's Service, as the API server returns it.
	cat > "$d/service.json" <<'EOF'
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "backend", "namespace": "default", "labels": {"app": "backend", "service": "backend"}},
 "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50",
          "ports": [{"name": "http", "port": 3000, "targetPort": 3000, "protocol": "TCP"}],
          "selector": {"app": "backend"}}}
EOF
	slice_json backend-a 0:ready 1:ready 2:ready 3:ready 4:ready > "$d/slice-a.json"
	slice_json backend-b 5:ready 6:ready 7:ready 8:terminating 9:notready > "$d/slice-b.json"
	cat > "$WORK/gateway-defaults.yaml" <<EOF
gateway:
  addresses: [$VIP]
  forwarding: nat
EOF
}

# Pages of one object, so the agent must follow "continue".
api_start() {
	nsx node python3 "$API" --cert "$WORK/api/server.crt" --key "$WORK/api/server.key" \
		--token "$TOKEN" --page 1 "$WORK/api/service.json" \
		"$WORK/api/slice-a.json" "$WORK/api/slice-b.json" \
		>"$WORK/api/server.log" 2>&1 &
	API_PID=$!
	wait_port node 6444 && wait_port node 6443
}

ctl() {	# VERB [JSON]
	nsx node curl -sS --max-time 5 -X "$([ "$1" = log ] || [ "$1" = rv ] && echo GET || echo POST)" \
		${2:+--data-binary "$2"} "http://127.0.0.1:6444/ctl/$1"
}

api_log_count() { ctl log | grep -c "$1"; }

# ---- the agent -----------------------------------------------------------

AGENT_FILES=(-f "$WORK/gateway-defaults.yaml" -f "$SEED/gateway.yaml" -f "$SEED/cookie-policy-route.yaml")

# backends of cookie-route as "name:weight" lines
table_backends() {
	maglb table cookie-route --json | python3 -c 'import json, sys
for b in json.load(sys.stdin)["backends"]:
    pod = int(b["backend"].split(":")[0].split(".")[3]) - 10  # 10.20.1.(10+i)
    print("backend-%d:%d" % (pod, b["weight"]))' | sort
}

# wait_table EXPECTED: until the table's backends are EXPECTED (5 s)
wait_table() {
	local i
	for i in $(seq 50); do
		[ "$(table_backends | tr '\n' ' ')" = "$1" ] && return 0
		sleep 0.1
	done
	echo "table: $(table_backends | tr '\n' ' ')"
	echo "want:  $1"
	return 1
}

# The pods' states as the API server has them, kept in a file: checks run
# in subshells. set_state I=STATE... then push_slices sends both slices;
# expected_table is what the datapath must then hold.
STATE_FILE=$WORK/pod-states
echo "ready ready ready ready ready ready ready ready terminating notready" > "$STATE_FILE"

set_state() {
	local kv
	read -ra STATE < "$STATE_FILE"
	for kv in "$@"; do STATE[${kv%%=*}]=${kv#*=}; done
	echo "${STATE[*]}" > "$STATE_FILE"
}

push_slices() {
	local i a=() b=()
	read -ra STATE < "$STATE_FILE"
	for i in 0 1 2 3 4; do [ "${STATE[$i]}" = gone ] || a+=("$i:${STATE[$i]}"); done
	for i in 5 6 7 8 9; do [ "${STATE[$i]}" = gone ] || b+=("$i:${STATE[$i]}"); done
	ctl apply "$(slice_json backend-a "${a[@]}")" >/dev/null &&
		ctl apply "$(slice_json backend-b "${b[@]}")" >/dev/null
}

expected_table() {
	local i
	read -ra STATE < "$STATE_FILE"
	for i in $(seq 0 9); do
		case ${STATE[$i]} in
		ready) echo "backend-$i:1" ;;
		terminating) echo "backend-$i:0" ;;
		esac
	done | sort | tr '\n' ' '
}

# ---- the checks ------------------------------------------------------------

agent_lists_pages_and_applies_ready_endpoints() {
	ctl log | grep "^LIST EndpointSlice" | head -3
	[ "$(ctl log | grep -c '^LIST EndpointSlice rv= continue=[0-9]')" -ge 1 ] || {
		echo "the agent did not follow continue"; return 1; }
	ctl log | grep -q "auth=bad" && { echo "a request without the token"; return 1; }
	grep -o 'msg="kubernetes list" kind=EndpointSlice objects=[0-9]*' "$AGENT_LOG" | tail -1
	# ready in, terminating drains (weight 0), not ready out
	wait_table "$(expected_table)"
}

seed_requests_land_where_lookup_says() {
	seed_cookies_land_on_the_lookup_backend
}

ready_endpoint_joins_on_modified_event() {
	set_state 9=ready
	push_slices && wait_table "$(expected_table)" || return 1
	grep -o 'type=MODIFIED name=backend-b resource_version=[0-9]*' "$AGENT_LOG" | tail -1
}

# A keep-alive connection to a pod that starts terminating keeps being
# served by it; a new connection with the same cookie goes elsewhere.
terminating_endpoint_drains_its_connections() {
	local cookie be name out i ka
	cookie=FooBar=drain-$RANDOM
	be=$(maglb lookup cookie-route --cookie "$cookie" | grep -o '10\.20\.1\.[0-9]*')
	name=backend-$((${be##*.} - 10))
	echo "cookie $cookie -> $name"
	rm -f "$WORK/go"
	nsx client python3 "$ROOT/tests/kube/keepalive.py" "$VIP" "$cookie" "$WORK/go" \
		> "$WORK/ka.out" 2>&1 &
	ka=$!
	for i in $(seq 50); do grep -q before "$WORK/ka.out" && break; sleep 0.1; done
	set_state "${name#backend-}=terminating"
	push_slices && wait_table "$(expected_table)" || return 1
	touch "$WORK/go"
	wait "$ka"
	cat "$WORK/ka.out"
	out=$(nsx client curl -sS --max-time 5 -H "Host: www.example.com" --cookie "$cookie" "http://$VIP/cookie")
	echo "new connection: $out"
	grep -qx "before $name" "$WORK/ka.out" && grep -qx "after $name" "$WORK/ka.out" &&
		[ -n "$out" ] && [ "$out" != "$name" ]
}

deleted_slice_takes_its_endpoints_away() {
	ctl delete '{"kind": "EndpointSlice", "namespace": "default", "name": "backend-b"}'
	set_state 5=gone 6=gone 7=gone 8=gone 9=gone
	wait_table "$(expected_table)"
}

# A dropped watch resumes from the last resourceVersion it saw (a
# BOOKMARK's included), with no new list; what changed meanwhile arrives.
dropped_watch_resumes_from_the_bookmark() {
	local lists rv
	lists=$(api_log_count "^LIST EndpointSlice")
	rv=$(ctl bookmark)
	sleep 0.5
	ctl drop >/dev/null
	set_state 5=ready 6=ready 7=ready 8=ready 9=ready
	push_slices
	wait_table "$(expected_table)" || return 1
	ctl log | grep "^WATCH EndpointSlice" | tail -2
	ctl log | grep -q "^WATCH EndpointSlice rv=$rv " || { echo "no watch resumed from the bookmark $rv"; return 1; }
	[ "$(api_log_count "^LIST EndpointSlice")" = "$lists" ] || { echo "the agent listed again"; return 1; }
}

# "Too old resource version" means list again, whether the server says it
# as an ERROR event in the watch stream or as an HTTP 410; a change made
# meanwhile arrives with the new list.
relists_on() {	# ctl-verb agent-log-line pod-state
	local lists
	lists=$(api_log_count "^LIST EndpointSlice rv= continue= ")
	ctl "$1" >/dev/null
	set_state "0=$3"
	push_slices
	wait_table "$(expected_table)" || return 1
	grep -o "$2" "$AGENT_LOG" | tail -1
	[ "$(api_log_count "^LIST EndpointSlice rv= continue= ")" -gt "$lists" ]
}

expired_version_in_the_stream_relists() {
	relists_on expire 'msg="watch error event" kind=EndpointSlice code=410 reason="[^"]*"' notready
}

gone_status_relists() {
	relists_on gone-status 'msg="resource version gone, listing again" kind=EndpointSlice' ready
}

# A list's pages are one snapshot, as in Kubernetes: a write between two
# pages is not in the second (the watch from the list's version brings
# it), and a continue token from before a compaction is a 410 (the client
# lists again). Without this a client could take page 1 before a change
# and page 2 after it, and watch from a version past the change it missed.
api_get() {	# PATH: status code, then the body
	nsx node curl -sS --max-time 5 --cacert "$WORK/api/ca.crt" \
		-H "Authorization: Bearer $TOKEN" -w '\n%{http_code}\n' "https://127.0.0.1:6443$1"
}
list_pages_are_one_snapshot() {
	local url=/apis/discovery.k8s.io/v1/endpointslices?limit=1 p1 p2 tok
	p1=$(api_get "$url") || return 1
	tok=$(sed '$d' <<<"$p1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["continue"])') || return 1
	push_slices	# both slices get a new resourceVersion
	p2=$(api_get "$url&continue=$tok") || return 1
	sed '$d' <<<"$p2" | python3 -c 'import json, sys
p1, p2 = json.loads(sys.argv[1]), json.load(sys.stdin)
o = p2["items"][0]["metadata"]
print("page 1 rv=%s, page 2 rv=%s, %s rv=%s" % (p1["metadata"]["resourceVersion"],
      p2["metadata"]["resourceVersion"], o["name"], o["resourceVersion"]))
assert p2["metadata"]["resourceVersion"] == p1["metadata"]["resourceVersion"]
assert int(o["resourceVersion"]) <= int(p1["metadata"]["resourceVersion"])' "$(sed '$d' <<<"$p1")" || return 1
	ctl expire >/dev/null
	p2=$(api_get "$url&continue=$tok")
	echo "after a compaction: HTTP $(tail -1 <<<"$p2")"
	[ "$(tail -1 <<<"$p2")" = 410 ]
}

# The pod's service account: KUBERNETES_SERVICE_HOST/PORT and the token
# and CA under /var/run/secrets (bind-mounted in a private mount ns).
in_cluster_config_is_used() {
	local sa=$WORK/sa n
	mkdir -p "$sa" "$SA_DIR"
	cp "$WORK/api/ca.crt" "$sa/ca.crt"
	echo "$TOKEN" > "$sa/token"
	stop_agent
	n=$(api_log_count "^LIST EndpointSlice rv= continue= ")
	unshare -m bash -c "mount --bind '$sa' '$SA_DIR' &&
		KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=6443 exec '$MAGLB' \
		--pin-dir '$PIN_DIR' --netns '$(ns node)' agent ${AGENT_FILES[*]} --kubernetes" \
		>/dev/null 2>>"$AGENT_LOG" &
	AGENT=$!
	for _ in $(seq 50); do
		[ "$(api_log_count "^LIST EndpointSlice rv= continue= ")" -gt "$n" ] && break
		sleep 0.1
	done
	grep -o 'msg="watching kubernetes" server=[^ ]* auth=[^ ]*' "$AGENT_LOG" | tail -1
	grep -q 'server=https://127.0.0.1:6443 auth=in-cluster' "$AGENT_LOG" &&
		[ "$(api_log_count "^LIST EndpointSlice rv= continue= ")" -gt "$n" ] &&
		wait_table "$(expected_table)"
}

# Every agent on this test's pins, whichever check started it: a check
# runs in a subshell, so an agent started there is not the top level's
# $AGENT (in_cluster_config_is_used leaves one running).
stop_all_agents() {
	local i
	pkill -TERM -f -- "--pin-dir $PIN_DIR --netns" 2>/dev/null
	for i in $(seq 50); do
		pgrep -f -- "--pin-dir $PIN_DIR --netns" >/dev/null || return 0
		sleep 0.1
	done
	echo "agents still running: $(pgrep -f -- "--pin-dir $PIN_DIR --netns" | tr '\n' ' ')"
	return 1
}

# An agent whose API server is a port where nothing listens.
start_agent_api_down() {
	mkdir -p "$WORK/api-down"
	cp "$WORK/api/ca.crt" "$WORK/api-down/"
	kubeapi_kubeconfig "$WORK/api-down" https://127.0.0.1:6445 "$TOKEN"
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent "${AGENT_FILES[@]}" \
		--kubeconfig "$WORK/api-down/kubeconfig" >/dev/null 2>>"$AGENT_LOG" &
	AGENT=$!
}

# An API server that does not answer when the agent starts (a node that
# reboots into a control-plane outage): what is pinned keeps serving, for
# longer than any fixed wait (the agent used to give up after 30 s and
# apply an empty backend set), and SIGTERM still stops it at once.
unreachable_api_server_keeps_the_pinned_state() {
	local before t0 n
	stop_all_agents || return 1
	before=$(table_backends | tr '\n' ' ')
	n=$(grep -c "config applied" "$AGENT_LOG")
	start_agent_api_down
	t0=$(date +%s)
	while (( $(date +%s) - t0 < 33 )); do
		kill -0 "$AGENT" 2>/dev/null || { echo "the agent exited"; return 1; }
		sleep 1
	done
	grep -o 'msg="kubernetes not listed yet[^"]*"' "$AGENT_LOG" | tail -1
	[ "$(grep -c "config applied" "$AGENT_LOG")" = "$n" ] ||
		{ grep "config applied" "$AGENT_LOG" | tail -1; return 1; }
	[ "$(table_backends | tr '\n' ' ')" = "$before" ] || { echo "table changed"; return 1; }
	seed_cookies_land_on_the_lookup_backend || return 1
	stop_agent
}

# While it waits for the API server (5 s into the wait, not after it).
sigterm_stops_the_waiting_agent_at_once() {
	local t0 t1
	stop_all_agents || return 1
	start_agent_api_down
	sleep 5
	t0=$(date +%s%N)
	stop_agent || { echo "exit status $?"; return 1; }
	t1=$(date +%s%N)
	AGENT=
	echo "stopped $(( (t1 - t0) / 1000000 )) ms after SIGTERM"
	(( t1 - t0 < 1000000000 ))
}

# A kubeconfig naming an http:// server: every request would carry the
# bearer token in clear text. Refused with a message, unless the operator
# says --kube-allow-http.
plain_http_api_server_is_refused() {
	local rc
	stop_all_agents || return 1
	mkdir -p "$WORK/api-http"
	cp "$WORK/api/ca.crt" "$WORK/api-http/"
	kubeapi_kubeconfig "$WORK/api-http" http://127.0.0.1:6443 "$TOKEN"
	timeout 5 "$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent "${AGENT_FILES[@]}" \
		--kubeconfig "$WORK/api-http/kubeconfig" >/dev/null 2>"$WORK/http.err"
	rc=$?
	tail -1 "$WORK/http.err"
	[ $rc = 1 ] || { echo "exit status $rc"; return 1; }
	grep -q "is plain HTTP, where the bearer token would travel in clear text" "$WORK/http.err" ||
		return 1
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent "${AGENT_FILES[@]}" \
		--kubeconfig "$WORK/api-http/kubeconfig" --kube-allow-http >/dev/null 2>>"$AGENT_LOG" &
	AGENT=$!
	for _ in $(seq 50); do
		grep -q 'msg="watching kubernetes" server=http://127.0.0.1:6443' "$AGENT_LOG" && break
		sleep 0.1
	done
	grep -o 'msg="watching kubernetes" server=http://[^ ]*' "$AGENT_LOG" | tail -1
	grep -q 'msg="watching kubernetes" server=http://127.0.0.1:6443' "$AGENT_LOG" || return 1
	stop_agent
}

SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount
kube_cleanup() {
	[ -n "${AGENT:-}" ] && kill -TERM "$AGENT" 2>/dev/null
	stop_all_agents >/dev/null
	[ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null
	# only what this test made: empty directories
	rmdir "$SA_DIR" /var/run/secrets/kubernetes.io /var/run/secrets 2>/dev/null
	e2e_stop
}
trap kube_cleanup EXIT

api_setup
if ! api_start; then
	fail kube_api_server_start "$(tail -3 "$WORK/api/server.log" | tr '\n' ' ')"
	exit 1
fi
if ! start_agent "${AGENT_FILES[@]}" --kubeconfig "$WORK/api/kubeconfig"; then
	fail kube_agent_start "$(tail -3 "$AGENT_LOG" | tr '\n' ' ')"
	exit 1
fi
check agent_lists_pages_and_applies_ready_endpoints
check seed_requests_land_where_lookup_says
check ready_endpoint_joins_on_modified_event
check terminating_endpoint_drains_its_connections
check deleted_slice_takes_its_endpoints_away
check dropped_watch_resumes_from_the_bookmark
check expired_version_in_the_stream_relists
check gone_status_relists
check in_cluster_config_is_used
check unreachable_api_server_keeps_the_pinned_state
check sigterm_stops_the_waiting_agent_at_once
check plain_http_api_server_is_refused
check list_pages_are_one_snapshot
[ -n "${AGENT:-}" ] && stop_agent
AGENT=
grep 'level=error' "$AGENT_LOG" | head -3
true
