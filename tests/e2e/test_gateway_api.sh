#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# maglb as a Gateway API controller: the seed's kubectl session verbatim
# (a real kubectl against the test API server, tests/kube/apiserver.py),
# the status maglb writes as Gateway API defines it, its GatewayClass rule,
# and the one status writer chosen by a Lease, handed over on kill -9 and
# on SIGTERM. Real curl and nginx through the XDP datapath (nat topology).
TOPO=mlb-gwapi
source "$(dirname "$0")/../lib/e2e.sh"
source "$ROOT/tests/lib/kubeapi.sh"
set -u
LABEL=gateway-api
e2e_start nat
SEED=$ROOT/tests/fixtures/seed
TOKEN=maglb-test-token-$$
D=$WORK/api
LEASE_NS=maglb-system
POOL=10.200.0.0/24	# maglb's default gateway.addressPool

# ---- the API server, kubectl, the agents -------------------------------

mkdir -p "$D" "$WORK/home" "$WORK/logs/default"
kubeapi_certs "$D"
kubeapi_kubeconfig "$D" https://127.0.0.1:6443 "$TOKEN"
nsx node python3 "$ROOT/tests/kube/apiserver.py" --cert "$D/server.crt" \
	--key "$D/server.key" --token "$TOKEN" --pod-logs "$WORK/logs" >"$D/server.log" 2>&1 &
API_PID=$!

# kubectl as a user's shell has it (KUBECONFIG, a HOME for its cache),
# run in the node's namespace, where the API server listens.
export KUBECONFIG=$D/kubeconfig HOME=$WORK/home
KUBECTL=$(command -v kubectl)
kubectl() { ip netns exec "$(ns node)" "$KUBECTL" "$@"; }

ctl() {	# VERB: the API server's control port (log, rv)
	nsx node curl -sS --max-time 5 "http://127.0.0.1:6444/ctl/$1"
}

# maglb's own settings: forwarding; addresses come from the default pool,
# which the client routes to the node.
CFG=$WORK/maglb.yaml
echo "gateway: {forwarding: nat}" > "$CFG"
nsx client ip route add "$POOL" via 10.10.0.1

# start_agent_as ID: an agent with that Lease identity, its log
# $WORK/agent-ID.log, its pid in $WORK/agent-ID.pid. Both agents program
# the same pins (an apply is idempotent); only the Lease holder writes
# status.
start_agent_as() {
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" agent -f "$CFG" \
		--kubeconfig "$D/kubeconfig" --lease-namespace "$LEASE_NS" --identity "$1" \
		>/dev/null 2>>"$WORK/agent-$1.log" &
	echo $! > "$WORK/agent-$1.pid"
}
agent_pid() { cat "$WORK/agent-$1.pid"; }
# running PID: not yet exited. An agent a check started is reaped by init
# when it exits (the check's subshell is gone), so a zombie counts as
# exited.
running() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }

# jp RESOURCE JSONPATH: a field as kubectl prints it
jp() { kubectl get "$1" -o jsonpath="$2"; }

# until_eq SECONDS WANT CMD...: until CMD prints WANT
until_eq() {
	local t=$1 want=$2 i got
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		got=$("$@" 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	echo "$*: got [$got], want [$want]"
	return 1
}

holder() { kubectl -n "$LEASE_NS" get lease/maglb-status -o jsonpath='{.spec.holderIdentity}'; }

# The EndpointSlice the endpoint controller would write for the
# Deployment's 10 pods: the topology's nginx pods.
slices() {
	python3 - <<'PY'
import json
eps = [{"addresses": ["10.20.1.%d" % (10 + i)],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "default", "name": "backend-%d" % i}}
       for i in range(10)]
print(json.dumps({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "backend-x7k2p", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "backend",
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
    "addressType": "IPv4", "endpoints": eps,
    "ports": [{"name": "http", "port": 3000, "protocol": "TCP"}]}))
PY
}

# The Deployment's 10 pods as the API server would list them (nothing runs
# pods here): backend-0..9, the topology's nginx pods.
pods() {
	python3 - <<'PY'
import json
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "backend-%d" % i, "namespace": "default",
                  "labels": {"app": "backend", "version": "v1"}},
     "spec": {"serviceAccountName": "backend", "containers": [
         {"name": "backend", "image": "gcr.io/k8s-staging-gateway-api/echo-basic:v20231214-v1.0.0-140-gf544a46e",
          "ports": [{"containerPort": 3000}]}]}}
    for i in range(10)]}))
PY
}

# What `kubectl logs` prints for each pod: the echo server's two start-up
# lines (the seed's "- 2"), then a line per request, from nginx's log.
pod_logs() {
	local i
	for ((i = 0; i < NBACKENDS; i++)); do
		{ printf 'Echo server listening on port 3000.\nstarting\n'
		  cat "$WORK/backend-$i/access.log"; } > "$WORK/logs/default/backend-$i"
	done
}

# ---- the seed, steps 1 to 6 ------------------------------------------------

# The cluster's GatewayClass, as the tests create it: the seed's class
# name with maglb's controllerName.
seed_class_and_steps_1_to_3_apply_verbatim() {
	kubectl apply -f "$ROOT/tests/fixtures/gatewayclass.yaml" || return 1
	kubectl apply -f - < "$SEED/backend.yaml" &&
	kubectl apply -f - < "$SEED/gateway.yaml" &&
	cat "$SEED/cookie-policy-route.yaml" | kubectl apply -f - || return 1
	pods | kubectl apply -f - >/dev/null && slices | kubectl apply -f - || return 1
	until_eq 10 True jp gatewayclass/tigera-gateway-class \
		'{.status.conditions[?(@.type=="Accepted")].status}'
}

# Step 5, verbatim: the address is in status, and it is the one maglb
# serves (from its pool).
seed_step_5_prints_the_address_maglb_assigned() {
	local i served
	for i in $(seq 100); do	# the seed sleeps 30 s; this waits for it
		[ -n "$(jp gateway/load-balancing-gateway '{.status.addresses[0].value}')" ] && break
		sleep 0.1
	done
	export GATEWAY_LB_DEMO=$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.status.addresses[0].value}')
	echo "GATEWAY_LB_DEMO is: $GATEWAY_LB_DEMO"
	echo "$GATEWAY_LB_DEMO" > "$WORK/gateway-address"
	served=$(maglb status --json | python3 -c 'import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["name"] == "cookie-route": print(s["vip"].rsplit(":", 1)[0])')
	echo "maglb serves cookie-route at $served"
	[[ $GATEWAY_LB_DEMO == 10.200.0.* ]] && [ "$served" = "$GATEWAY_LB_DEMO" ]
}

# Step 6, verbatim, from the client (the seed's bastion): 10 requests with
# one cookie, then the seed's results line, all on one pod.
seed_step_6_all_requests_reach_one_pod() {
	local out
	reset_logs
	GATEWAY_LB_DEMO=$(cat "$WORK/gateway-address") nsx client bash -c '
	for i in {1..10}; do curl -I --header "Host: www.example.com" --cookie "FooBar=1.2.3.4" http://${GATEWAY_LB_DEMO}/cookie ; sleep 1; done' \
		> "$WORK/step6.out" 2>&1
	echo "HTTP answers: $(grep -c '^HTTP/1.1 200' "$WORK/step6.out") of 10"
	pod_logs
	out=$(kubectl get pods -l app=backend --no-headers -o custom-columns=":metadata.name" | while read -r pod; do echo "$pod: received $(($(kubectl logs $pod | wc -l) - 2)) requests"; done)
	echo "$out"
	[ "$(grep -c '^HTTP/1.1 200' "$WORK/step6.out")" = 10 ] &&
	[ "$(grep -c ': received 10 requests$' <<<"$out")" = 1 ] &&
	[ "$(grep -c ': received 0 requests$' <<<"$out")" = 9 ]
}

# ---- status, as Gateway API defines it ----------------------------------------

status_yaml() { kubectl get "$1" -o yaml | sed -n '/^status:/,$p'; }

gateway_status_is_accepted_and_programmed() {
	local gen
	status_yaml gateway/load-balancing-gateway | head -40
	gen=$(jp gateway/load-balancing-gateway '{.metadata.generation}')
	[ "$(jp gateway/load-balancing-gateway '{.status.conditions[?(@.type=="Accepted")].status}')" = True ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.conditions[?(@.type=="Programmed")].status}')" = True ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.conditions[*].observedGeneration}')" = "$gen $gen" ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.listeners[?(@.name=="http")].attachedRoutes}')" = 1 ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.listeners[0].supportedKinds[0].kind}')" = HTTPRoute ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.listeners[0].conditions[*].type}')" = "Accepted Programmed ResolvedRefs Conflicted" ] &&
	[ "$(jp gateway/load-balancing-gateway '{.status.listeners[0].conditions[*].status}')" = "True True True False" ]
}

route_and_policy_status_name_maglb() {
	status_yaml httproute/cookie-route
	status_yaml backendtrafficpolicy/cookie-policy
	[ "$(jp httproute/cookie-route '{.status.parents[0].controllerName}')" = maglb.dev/gateway-controller ] &&
	[ "$(jp httproute/cookie-route '{.status.parents[0].parentRef.name}')" = load-balancing-gateway ] &&
	[ "$(jp httproute/cookie-route '{.status.parents[0].conditions[*].status}')" = "True True" ] &&
	[ "$(jp httproute/cookie-route '{.status.parents[0].conditions[0].observedGeneration}')" = \
	  "$(jp httproute/cookie-route '{.metadata.generation}')" ] &&
	[ "$(jp backendtrafficpolicy/cookie-policy '{.status.ancestors[0].ancestorRef.name}')" = cookie-route ] &&
	[ "$(jp backendtrafficpolicy/cookie-policy '{.status.ancestors[0].controllerName}')" = maglb.dev/gateway-controller ] &&
	[ "$(jp backendtrafficpolicy/cookie-policy '{.status.ancestors[0].conditions[?(@.type=="Accepted")].status}')" = True ]
}

# A status write only when something changed: re-applying what is there
# writes nothing.
status_does_not_churn() {
	local before after
	before=$(ctl log | grep -c '/status auth=ok')
	sleep 5	# two lease renewals and their status passes
	after=$(ctl log | grep -c '/status auth=ok')
	echo "status writes in 5 s: $((after - before))"
	[ "$after" = "$before" ]
}

extra_route() {	# [filters]: a second route on the seed's Gateway
	cat <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: extra-route
  namespace: default
spec:
  parentRefs:
    - name: load-balancing-gateway
  hostnames:
    - "extra.example.com"
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
EOF
	[ "${1:-}" = filters ] && cat <<EOF
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            add:
              - name: X-Test
                value: "1"
EOF
	cat <<EOF
      backendRefs:
        - name: backend
          port: 3000
EOF
}

served_host() {	# HOST: a request through the Gateway's address
	nsx client curl -sS --max-time 5 --header "Host: $1" --cookie "FooBar=1.2.3.4" \
		"http://$(cat "$WORK/gateway-address")/cookie"
}

route_accepted() { jp httproute/extra-route '{.status.parents[0].conditions[?(@.type=="Accepted")].status}'; }

unsupported_filter_is_accepted_false_and_the_others_serve() {
	local msg
	extra_route | kubectl apply -f - || return 1
	until_eq 10 True route_accepted || return 1
	until_eq 10 2 jp gateway/load-balancing-gateway '{.status.listeners[0].attachedRoutes}' || return 1
	extra_route filters | kubectl apply -f - || return 1
	until_eq 10 False route_accepted || return 1
	msg=$(jp httproute/extra-route '{.status.parents[0].conditions[?(@.type=="Accepted")].message}')
	echo "extra-route Accepted False: $(jp httproute/extra-route '{.status.parents[0].conditions[?(@.type=="Accepted")].reason}'): $msg"
	[[ $msg == *"not supported by maglb"* ]] || return 1
	echo "cookie-route still served: $(served_host www.example.com)"
	[[ $(served_host www.example.com) == backend-* ]]
}

fixed_route_is_accepted_again_with_its_new_generation() {
	local gen
	extra_route | kubectl apply -f - || return 1
	gen=$(jp httproute/extra-route '{.metadata.generation}')
	until_eq 10 True route_accepted || return 1
	until_eq 10 "$gen" jp httproute/extra-route '{.status.parents[0].conditions[0].observedGeneration}' || return 1
	echo "extra-route generation $gen, Accepted True; served: $(served_host extra.example.com)"
	[ "$gen" -ge 3 ] && [[ $(served_host extra.example.com) == backend-* ]]
}

# A Gateway of another controller's class: no status from maglb, not served.
other_class_gateway_gets_no_status_and_is_not_served() {
	kubectl apply -f - <<EOF || return 1
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: other-class
spec:
  controllerName: example.com/other-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: other-gateway
spec:
  gatewayClassName: other-class
  addresses:
    - type: IPAddress
      value: 10.200.0.250
  listeners:
    - name: http
      protocol: HTTP
      port: 80
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: other-route
spec:
  parentRefs:
    - name: other-gateway
  rules:
    - backendRefs:
        - name: backend
          port: 3000
EOF
	# a change maglb does act on, after those: then they have been seen
	kubectl annotate httproute cookie-route maglb.test/seen=1 --overwrite >/dev/null
	sleep 2
	echo "other-gateway status: [$(jp gateway/other-gateway '{.status}')]"
	echo "other-route status: [$(jp httproute/other-route '{.status}')]"
	echo "other-class status: [$(jp gatewayclass/other-class '{.status}')]"
	[ -z "$(jp gateway/other-gateway '{.status}')" ] &&
	[ -z "$(jp httproute/other-route '{.status}')" ] &&
	[ -z "$(jp gatewayclass/other-class '{.status}')" ] || return 1
	maglb status --json | python3 -c 'import json, sys
s = [x["name"] for x in json.load(sys.stdin)["services"] if x["vip"].startswith("10.200.0.250:")]
print("services at 10.200.0.250:", s or "none"); sys.exit(1 if s else 0)' || return 1
	! nsx client curl -sS -o /dev/null --max-time 2 http://10.200.0.250/ 2>/dev/null
}

# ---- one writer: the Lease ---------------------------------------------------

wrote() { grep -c 'msg="status written"' "$WORK/agent-$1.log"; }

# Two agents: the first holds the Lease and writes; the second waits.
only_the_lease_holder_writes_status() {
	local a b
	start_agent_as node-b
	sleep 3	# more than one retry period
	a=$(wrote node-a) b=$(wrote node-b)
	kubectl annotate httproute cookie-route maglb.test/edit=1 --overwrite >/dev/null
	extra_route | sed 's|value: /$|value: /x|' | kubectl apply -f - >/dev/null || return 1
	until_eq 10 "$(jp httproute/extra-route '{.metadata.generation}')" \
		jp httproute/extra-route '{.status.parents[0].conditions[0].observedGeneration}' || return 1
	echo "holder: $(holder); writes since node-b started: node-a $(($(wrote node-a) - a)), node-b $(($(wrote node-b) - b))"
	grep -o 'msg="status lease [a-z]*[^"]*" lease=[^ ]* identity=[^ ]*' "$WORK"/agent-node-*.log | head -3
	kubectl -n "$LEASE_NS" get lease maglb-status -o yaml | sed -n '/^spec:/,$p'
	[ "$(holder)" = node-a ] && [ "$(wrote node-b)" = 0 ] && [ "$(wrote node-a)" -gt "$a" ] &&
	[ "$(kubectl -n "$LEASE_NS" get lease maglb-status -o jsonpath='{.spec.leaseDurationSeconds}')" = 15 ]
}

# kill -9 of the holder: the other takes the Lease once it expires
# (leaseDurationSeconds 15, by its own clock from when it saw the last
# renewal, which is up to one 2 s retry late, then up to one more retry
# until its next try: 19 s at most, 21 with kubectl's own lag), and status
# keeps following the objects.
killed_holder_is_replaced_within_the_lease_duration() {
	local t0 t1 gen
	kill -9 "$(agent_pid node-a)"
	t0=$(date +%s.%N)
	until_eq 25 node-b holder || return 1
	t1=$(date +%s.%N)
	echo "node-b holds the lease $(printf %.2f "$(echo "$t1 - $t0" | bc)") s after kill -9 of node-a"
	extra_route | sed 's|value: /$|value: /y|' | kubectl apply -f - >/dev/null || return 1
	gen=$(jp httproute/extra-route '{.metadata.generation}')
	until_eq 10 "$gen" jp httproute/extra-route '{.status.parents[0].conditions[0].observedGeneration}' || return 1
	echo "extra-route generation $gen observed; node-b wrote $(wrote node-b)"
	[ "$(wrote node-b)" -gt 0 ] && (( $(echo "$t1 - $t0 < 21" | bc) ))
}

# SIGTERM of the holder releases the Lease: the other takes it on its next
# try, and the stopping agent is gone within a second.
sigterm_hands_the_lease_over_at_once() {
	local t0 t1 t2 pid
	start_agent_as node-a
	sleep 3
	[ "$(holder)" = node-b ] || { echo "holder $(holder)"; return 1; }
	pid=$(agent_pid node-b)
	t0=$(date +%s.%N)
	kill -TERM "$pid"
	while running "$pid"; do sleep 0.02; done
	t1=$(date +%s.%N)
	until_eq 10 node-a holder || return 1
	t2=$(date +%s.%N)
	echo "node-b stopped $(printf %.2f "$(echo "$t1 - $t0" | bc)") s after SIGTERM; node-a holds the lease $(printf %.2f "$(echo "$t2 - $t0" | bc)") s after it"
	grep -o 'msg="status lease released"[^ ]* lease=[^ ]* identity=[^ ]*' "$WORK/agent-node-b.log"
	(( $(echo "$t1 - $t0 < 1" | bc) )) && (( $(echo "$t2 - $t0 < 5" | bc) ))
}

# ---- the seed's clean-up -------------------------------------------------------

seed_cleanup_takes_the_service_out_of_the_datapath() {
	local GATEWAY_LB_DEMO
	GATEWAY_LB_DEMO=$(cat "$WORK/gateway-address")
	kubeapi_seed_cleanup || return 1
	kubectl delete pods -l app=backend >/dev/null	# what the Deployment's deletion does
	until_eq 10 "" sh -c "'$MAGLB' --pin-dir '$PIN_DIR' --netns '$(ns node)' status --json | python3 -c 'import json, sys
print(\" \".join(s[\"name\"] for s in json.load(sys.stdin)[\"services\"]))'" || return 1
	echo "maglb status: no services"
	if nsx client curl -sS -o /dev/null --max-time 2 --header "Host: www.example.com" "http://${GATEWAY_LB_DEMO}/cookie" 2>/dev/null; then
		echo "$GATEWAY_LB_DEMO still answers"
		return 1
	fi
	echo "$GATEWAY_LB_DEMO no longer answers"
}

gwapi_cleanup() {
	local id
	for id in node-a node-b; do
		[ -f "$WORK/agent-$id.pid" ] && kill -TERM "$(agent_pid "$id")" 2>/dev/null
	done
	kill "$API_PID" 2>/dev/null
	e2e_stop
}
trap gwapi_cleanup EXIT

if ! wait_port node 6443; then
	fail gateway-api/api_server_start "$(tail -3 "$D/server.log" | tr '\n' ' ')"
	exit 1
fi
start_agent_as node-a
until_eq 10 node-a holder >/dev/null || { fail gateway-api/agent_start "$(tail -3 "$WORK/agent-node-a.log" | tr '\n' ' ')"; exit 1; }
check seed_class_and_steps_1_to_3_apply_verbatim
check seed_step_5_prints_the_address_maglb_assigned
check seed_step_6_all_requests_reach_one_pod
check gateway_status_is_accepted_and_programmed
check route_and_policy_status_name_maglb
check status_does_not_churn
check unsupported_filter_is_accepted_false_and_the_others_serve
check fixed_route_is_accepted_again_with_its_new_generation
check other_class_gateway_gets_no_status_and_is_not_served
check only_the_lease_holder_writes_status
check killed_holder_is_replaced_within_the_lease_duration
check sigterm_hands_the_lease_over_at_once
check seed_cleanup_takes_the_service_out_of_the_datapath
grep 'level=error' "$WORK"/agent-node-*.log | head -3
true
