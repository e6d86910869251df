#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A real kubectl against the test API server (tests/kube/apiserver.py), as
# the seed uses it: its manifests applied verbatim, a re-apply of an edited
# one, the status subresource and generation, a stale resourceVersion's
# 409, watches of the Gateway API kinds, Leases as leader election uses
# them, and the seed's clean-up. No topology and no root: the server and
# kubectl run on 127.0.0.1 on ports the kernel picks.
TOPO=mlb-kubectl
source "$(dirname "$0")/../lib/e2e.sh"
source "$ROOT/tests/lib/kubeapi.sh"
set -u
LABEL=kubectl
SEED=$ROOT/tests/fixtures/seed
TOKEN=maglb-test-token-$$
D=$WORK/api

cleanup() {
	[ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$D" "$WORK/home" "$WORK/logs/default"
if ! command -v kubectl >/dev/null; then
	fail kubectl/kubectl_installed "no kubectl (Debian's kubernetes-client; ./scripts/deps.sh)"
	exit 1
fi
echo "INFO kubectl/client $(kubectl version --client -o json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
kubeapi_certs "$D"
python3 "$ROOT/tests/kube/apiserver.py" --port 0 --ctl-port 0 --ports-file "$D/ports" \
	--cert "$D/server.crt" --key "$D/server.key" --token "$TOKEN" --page 4 --pod-logs "$WORK/logs" \
	>"$D/server.log" 2>&1 &
API_PID=$!
for _ in $(seq 50); do [ -s "$D/ports" ] && break; sleep 0.1; done
if ! read -r API_PORT CTL_PORT < "$D/ports" 2>/dev/null; then
	fail kubectl/api_server_start "$(tail -3 "$D/server.log" | tr '\n' ' ')"
	exit 1
fi
API=https://127.0.0.1:$API_PORT
kubeapi_kubeconfig "$D" "$API" "$TOKEN"
# As a user's shell has it: KUBECONFIG, and a HOME of its own for
# kubectl's discovery cache. kubectl itself runs with no extra flags.
export KUBECONFIG=$D/kubeconfig HOME=$WORK/home

# ---- helpers -------------------------------------------------------------

# kubectl, bounded: a server that keeps answering "continue" must fail a
# check, not hang the suite.
KUBECTL_BIN=$(command -v kubectl)
kubectl() { timeout 30 "$KUBECTL_BIN" "$@"; }

# api METHOD PATH [curl args...]: the API with the token; prints the body,
# then the HTTP status on a last line of its own.
# The body is JSON unless the arguments name another Content-Type.
api() {
	local m=$1 p=$2 ctype=(-H 'Content-Type: application/json')
	shift 2
	[[ " $* " == *" Content-Type: "* ]] && ctype=()
	curl -sS --max-time 10 --cacert "$D/ca.crt" -H "Authorization: Bearer $TOKEN" \
		"${ctype[@]}" -X "$m" -w '\n%{http_code}\n' "$@" "$API$p"
}
# api_code METHOD PATH [curl args...]: only the status
api_code() { api "$@" | tail -1; }
# api_body METHOD PATH [curl args...]: only the body
api_body() { api "$@" | sed '$d'; }

ctl() {	# VERB [JSON]: the control port
	curl -sS --max-time 5 -X POST ${2:+--data-binary "$2"} "http://127.0.0.1:$CTL_PORT/ctl/$1"
}

# jf EXPR: a field of the JSON object on stdin, EXPR in Python over `o`
jf() { python3 -c "import json, sys; o = json.load(sys.stdin); print($1)"; }

GW=/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways/load-balancing-gateway
ROUTE=/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/cookie-route
MERGE=(-H 'Content-Type: application/merge-patch+json')

gen_of() { kubectl get "$1" -o jsonpath='{.metadata.generation}'; }
rv_of() { kubectl get "$1" -o jsonpath='{.metadata.resourceVersion}'; }

# The seed's objects, as its clean-up step names them.
SEED_OBJECTS=(
	"ServiceAccount backend"
	"service backend"
	"deployment backend"
	"gateway load-balancing-gateway"
	"BackendTrafficPolicy cookie-policy"
	"HTTPRoute cookie-route"
)

# ---- the checks ------------------------------------------------------------

# The seed's steps 1 to 3, verbatim: its three manifests through
# `kubectl apply -f -` (the third piped from cat, as the seed does). Each
# object then comes back from the server with the manifest's fields, in
# namespace default, with the fields the server sets.
seed_manifests_apply_and_each_object_is_gettable() {
	local out obj want ns gen uid ts last path
	out=$(kubectl apply -f - < "$SEED/backend.yaml" 2>&1 &&
		kubectl apply -f - < "$SEED/gateway.yaml" 2>&1 &&
		cat "$SEED/cookie-policy-route.yaml" | kubectl apply -f - 2>&1) ||
		{ echo "$out"; return 1; }
	echo "$out"
	[ "$(grep -c ' created$' <<<"$out")" = 6 ] || { echo "not 6 created"; return 1; }
	for obj in "${SEED_OBJECTS[@]}"; do
		# shellcheck disable=SC2086
		out=$(kubectl get $obj -o jsonpath='{.metadata.namespace} {.metadata.generation} {.metadata.uid} {.metadata.creationTimestamp} {.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}') ||
			return 1
		read -r ns gen uid ts last <<<"$out"
		echo "$obj: ns=$ns generation=$gen uid=${uid:0:8}... created=$ts"
		[ "$ns" = default ] && [ "$gen" = 1 ] && [ ${#uid} = 36 ] &&
			[[ $ts =~ ^20[0-9-]+T[0-9:]+Z$ ]] && [ "${last:0:1}" = "{" ] ||
			{ echo "$obj: bad metadata"; return 1; }
	done
	# the manifests' own fields, as kubectl reads them back
	while read -r obj path want; do
		out=$(kubectl get "$obj" -o jsonpath="{$path}")
		[ "$out" = "$want" ] || { echo "$obj $path: '$out', want '$want'"; return 1; }
	done <<-'EOF'
	deployment/backend .spec.replicas 10
	deployment/backend .spec.template.spec.containers[0].env[1].valueFrom.fieldRef.fieldPath metadata.namespace
	service/backend .metadata.labels.service backend
	gateway/load-balancing-gateway .spec.gatewayClassName tigera-gateway-class
	httproute/cookie-route .spec.parentRefs[0].name load-balancing-gateway
	backendtrafficpolicy/cookie-policy .spec.loadBalancer.consistentHash.cookie.attributes.SameSite Strict
	EOF
}

# Discovery as kubectl reads it: the short names the kinds' definitions
# declare, and GatewayClass cluster-scoped (no namespace, whatever -n says).
short_names_and_cluster_scope_resolve() {
	local out
	kubectl apply -f "$ROOT/tests/fixtures/gatewayclass.yaml" || return 1
	out=$(kubectl get gtw,btp,gc --no-headers -o custom-columns=':kind,:metadata.name') || return 1
	echo "$out"
	[ "$(echo $out)" = "Gateway load-balancing-gateway BackendTrafficPolicy cookie-policy GatewayClass tigera-gateway-class" ] ||
		return 1
	out=$(kubectl -n kube-system get gc tigera-gateway-class -o jsonpath='[{.metadata.namespace}] {.spec.controllerName}') ||
		return 1
	echo "gatewayclass from -n kube-system: $out"
	[ "$out" = "[] maglb.dev/gateway-controller" ] || return 1
	kubectl api-resources --api-group=gateway.networking.k8s.io 2>&1
	[ "$(api_code GET /apis/gateway.networking.k8s.io/v1/namespaces/default/gatewayclasses/tigera-gateway-class)" = 404 ]
}

# A second `kubectl apply` of an edited manifest patches (merge patch for
# the Gateway, strategic merge for the Deployment): generation goes up by
# one for a spec edit, not for an unchanged re-apply, and the Deployment's
# containers keep what the patch does not name.
reapplied_edit_patches_and_bumps_generation() {
	local g0 out
	g0=$(gen_of gateway/load-balancing-gateway)
	out=$(sed 's/port: 80$/port: 8080/' "$SEED/gateway.yaml" | kubectl apply -f -) || return 1
	echo "$out"
	grep -q configured <<<"$out" || return 1
	out=$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.metadata.generation} {.spec.listeners[0].port} {.spec.listeners[0].name}')
	echo "after the edit: generation, port, name = $out"
	[ "$out" = "$((g0 + 1)) 8080 http" ] || return 1
	out=$(sed 's/port: 80$/port: 8080/' "$SEED/gateway.yaml" | kubectl apply -f -) || return 1
	echo "$out"
	grep -q unchanged <<<"$out" && [ "$(gen_of gateway/load-balancing-gateway)" = $((g0 + 1)) ] || return 1
	kubectl apply -f - < "$SEED/gateway.yaml" >/dev/null &&
		[ "$(gen_of gateway/load-balancing-gateway)" = $((g0 + 2)) ] || return 1
	# strategic merge: replicas and one container port change, env stays
	sed 's/replicas: 10/replicas: 3/; s/containerPort: 3000/containerPort: 3001/' \
		"$SEED/backend.yaml" | kubectl apply -f - | grep deployment || return 1
	out=$(kubectl get deployment/backend -o jsonpath='{.metadata.generation} {.spec.replicas} {.spec.template.spec.containers[0].ports[*].containerPort} {.spec.template.spec.containers[0].env[*].name} {.spec.template.spec.containers[0].imagePullPolicy}')
	echo "deployment: generation, replicas, ports, env, pull = $out"
	[ "$out" = "2 3 3001 POD_NAME NAMESPACE IfNotPresent" ] || return 1
	kubectl apply -f - < "$SEED/backend.yaml" >/dev/null &&
		[ "$(kubectl get deployment/backend -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].ports[*].containerPort}')" = "10 3000" ]
}

# kubectl patch in each of its types; each changes the spec (generation
# up by one) and leaves the rest of the object.
patch_types_each_apply() {
	local type obj patch path want g0 out rc=0
	while IFS='|' read -r type obj patch path want; do
		g0=$(gen_of "$obj")
		kubectl patch "$obj" --type="$type" -p "$patch" >/dev/null || { rc=1; continue; }
		out=$(kubectl get "$obj" -o jsonpath="{.metadata.generation} {$path}")
		echo "$type $obj: $out"
		[ "$out" = "$((g0 + 1)) $want" ] || rc=1
	done <<-'EOF'
	merge|gateway/load-balancing-gateway|{"spec":{"listeners":[{"name":"http","protocol":"HTTP","port":81}]}}|.spec.listeners[0].port} {.spec.gatewayClassName|81 tigera-gateway-class
	json|gateway/load-balancing-gateway|[{"op":"replace","path":"/spec/listeners/0/port","value":80},{"op":"add","path":"/spec/listeners/-","value":{"name":"x","protocol":"HTTP","port":82}}]|.spec.listeners[*].port|80 82
	json|gateway/load-balancing-gateway|[{"op":"test","path":"/spec/listeners/1/name","value":"x"},{"op":"remove","path":"/spec/listeners/1"}]|.spec.listeners[*].name|http
	strategic|deployment/backend|{"spec":{"template":{"spec":{"containers":[{"name":"backend","env":[{"name":"EXTRA","value":"1"}]}]}}}}|.spec.template.spec.containers[0].env[*].name} {.spec.template.spec.containers[0].image|POD_NAME NAMESPACE EXTRA gcr.io/k8s-staging-gateway-api/echo-basic:v20231214-v1.0.0-140-gf544a46e
	strategic|deployment/backend|{"spec":{"template":{"spec":{"containers":[{"name":"backend","env":[{"name":"EXTRA","$patch":"delete"}]}]}}}}|.spec.template.spec.containers[0].env[*].name|POD_NAME NAMESPACE
	EOF
	# a failed JSON patch test changes nothing
	g0=$(gen_of gateway/load-balancing-gateway)
	out=$(kubectl patch gateway/load-balancing-gateway --type=json \
		-p '[{"op":"replace","path":"/spec/gatewayClassName","value":"x"},{"op":"test","path":"/spec/listeners/0/name","value":"wrong"}]' 2>&1) && rc=1
	echo "failed test op: $out; generation $g0 -> $(gen_of gateway/load-balancing-gateway)"
	[ "$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.metadata.generation} {.spec.gatewayClassName}')" = "$g0 tigera-gateway-class" ] ||
		rc=1
	return $rc
}

# The seed's step 5: what a controller writes to the status subresource
# is what `kubectl get -o jsonpath` prints. A status write changes the
# resourceVersion, not the generation.
status_write_is_what_the_seeds_step_5_reads() {
	local g0 rv0 code out GATEWAY_LB_DEMO
	g0=$(gen_of gateway/load-balancing-gateway)
	rv0=$(rv_of gateway/load-balancing-gateway)
	code=$(api_code PATCH "$GW/status" "${MERGE[@]}" --data-binary \
		'{"status": {"addresses": [{"type": "IPAddress", "value": "198.18.0.10"}],
		  "conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed",
		  "observedGeneration": '"$g0"', "lastTransitionTime": "2026-01-01T00:00:00Z", "message": ""}]}}') ||
		return 1
	echo "PATCH $GW/status: $code"
	[ "$code" = 200 ] || return 1
	# shellcheck disable=SC2155 # the seed's line, verbatim
	export GATEWAY_LB_DEMO=$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.status.addresses[0].value}')
	echo "GATEWAY_LB_DEMO is: $GATEWAY_LB_DEMO"
	[ "$GATEWAY_LB_DEMO" = 198.18.0.10 ] || return 1
	# and kubectl's table: the Gateway API CRD's columns
	out=$(kubectl get gateway)
	echo "$out"
	[ "$(tail -1 <<<"$out" | awk '{print $1, $2, $3, $4}')" = "load-balancing-gateway tigera-gateway-class 198.18.0.10 True" ] ||
		return 1
	echo "generation $g0 -> $(gen_of gateway/load-balancing-gateway), resourceVersion $rv0 -> $(rv_of gateway/load-balancing-gateway)"
	[ "$(gen_of gateway/load-balancing-gateway)" = "$g0" ] &&
		[ "$(rv_of gateway/load-balancing-gateway)" -gt "$rv0" ] || return 1
	# PUT of the whole object to /status, as client-go's UpdateStatus
	api_body GET "$ROUTE" | python3 -c 'import json, sys
o = json.load(sys.stdin)
o["status"] = {"parents": [{"parentRef": {"name": "load-balancing-gateway"},
    "controllerName": "maglb.dev/gateway-controller", "conditions": []}]}
print(json.dumps(o))' > "$WORK/route.json"
	code=$(api_code PUT "$ROUTE/status" --data-binary @"$WORK/route.json")
	echo "PUT $ROUTE/status: $code"
	[ "$code" = 200 ] &&
		[ "$(kubectl get httproute cookie-route -o jsonpath='{.status.parents[0].controllerName} {.metadata.generation}')" = "maglb.dev/gateway-controller 1" ]
}

# A write to /status changes only status; a write to the object itself
# (kubectl apply, kubectl patch, a PUT) leaves status as it was.
status_and_spec_are_written_apart() {
	local out
	api_code PATCH "$GW/status" "${MERGE[@]}" --data-binary \
		'{"spec": {"gatewayClassName": "other"}, "metadata": {"labels": {"via": "status"}},
		  "status": {"addresses": [{"type": "IPAddress", "value": "198.18.0.11"}]}}' >/dev/null
	out=$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.spec.gatewayClassName} [{.metadata.labels.via}] {.status.addresses[0].value}')
	echo "after a status patch naming spec and labels: $out"
	[ "$out" = "tigera-gateway-class [] 198.18.0.11" ] || return 1
	# kubectl apply of a manifest with a status block
	{ cat "$SEED/gateway.yaml"; printf 'status:\n  addresses:\n    - type: IPAddress\n      value: 203.0.113.1\n'; } |
		kubectl apply -f - >/dev/null || return 1
	kubectl patch gateway load-balancing-gateway --type=merge \
		-p '{"status": {"addresses": [{"type": "IPAddress", "value": "203.0.113.2"}]}}' >/dev/null || return 1
	api_body GET "$GW" | python3 -c 'import json, sys
o = json.load(sys.stdin)
o["status"]["addresses"][0]["value"] = "203.0.113.3"
print(json.dumps(o))' > "$WORK/gw.json"
	[ "$(api_code PUT "$GW" --data-binary @"$WORK/gw.json")" = 200 ] || return 1
	out=$(kubectl get gateway/load-balancing-gateway -o jsonpath='{.status.addresses[0].value}')
	echo "after apply, patch and PUT of the object naming status: $out"
	[ "$out" = 198.18.0.11 ] || return 1
	# create drops status too
	printf '{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "with-status"},
	  "spec": {"gatewayClassName": "x", "listeners": []}, "status": {"addresses": [{"value": "203.0.113.4"}]}}' |
		kubectl create -f - >/dev/null || return 1
	out=$(kubectl get gateway/with-status -o jsonpath='[{.status}]')
	kubectl delete gateway with-status >/dev/null
	echo "created with a status: $out"
	[ "$out" = "[]" ]
}

# An update whose resourceVersion is not the stored one is a 409, whether
# kubectl replace or curl sends it; with the current one it succeeds.
stale_update_conflicts() {
	local out code
	kubectl get httproute cookie-route -o json > "$WORK/stale.json" || return 1
	kubectl label httproute cookie-route edited=yes >/dev/null || return 1
	if out=$(kubectl replace -f "$WORK/stale.json" 2>&1); then
		echo "kubectl replace of a stale object succeeded: $out"
		return 1
	fi
	echo "$out"
	grep -q 'Error from server (Conflict).*the object has been modified' <<<"$out" || return 1
	code=$(api_code PUT "$ROUTE" --data-binary @"$WORK/stale.json")
	echo "curl PUT, stale resourceVersion: $code"
	[ "$code" = 409 ] || return 1
	kubectl get httproute cookie-route -o json > "$WORK/fresh.json"
	code=$(api_code PUT "$ROUTE" --data-binary @"$WORK/fresh.json")
	echo "curl PUT, current resourceVersion: $code"
	[ "$code" = 200 ]
}

# Watches of each Gateway API kind, from a resourceVersion: exactly that
# kind's ADDED, MODIFIED (a label, then status where it has one) and
# DELETED, in order, with rising resourceVersions.
watch_sees_gateway_api_kinds_in_order() {
	local rv plural api kind name i pids=() rc=0 got want
	rv=$(curl -sS "http://127.0.0.1:$CTL_PORT/ctl/rv")
	while read -r api plural kind; do
		api GET "/apis/$api/namespaces/default/$plural?watch=1&resourceVersion=$rv&timeoutSeconds=60" \
			-N > "$WORK/watch-$plural" 2>&1 &
		pids+=($!)
	done < <(watch_kinds)
	sleep 0.5
	while read -r api plural kind; do
		name=watched-$plural
		printf '{"apiVersion": "%s", "kind": "%s", "metadata": {"name": "%s"}, "spec": {}}' \
			"$api" "$kind" "$name" | kubectl create -f - >/dev/null &&
		kubectl label "$plural.${api%/*}" "$name" step=two >/dev/null || return 1
		if [ "$plural" != referencegrants ]; then
			[ "$(api_code PATCH "/apis/$api/namespaces/default/$plural/$name/status" "${MERGE[@]}" \
				--data-binary '{"status": {"conditions": []}}')" = 200 ] || return 1
		fi
		kubectl delete "$plural.${api%/*}" "$name" >/dev/null || return 1
	done < <(watch_kinds)
	sleep 0.5
	ctl drop >/dev/null	# ends the watches
	for i in "${pids[@]}"; do wait "$i"; done
	while read -r api plural kind; do
		want="ADDED MODIFIED MODIFIED DELETED"
		[ "$plural" = referencegrants ] && want="ADDED MODIFIED DELETED"
		got=$(python3 -c 'import json, sys
last, out = 0, []
for line in sys.stdin:
    if not line.startswith("{"):
        continue	# curl: the cut connection, the status code
    e = json.loads(line)
    rv = int(e["object"]["metadata"]["resourceVersion"])
    out.append(e["type"] + ("" if rv > last else "(rv not rising)") +
               ("" if e["object"]["kind"] == sys.argv[1] else "(" + e["object"]["kind"] + ")"))
    last = rv
print(" ".join(out))' "$kind" < "$WORK/watch-$plural")
		echo "$kind: $got"
		[ "$got" = "$want" ] || rc=1
	done < <(watch_kinds)
	return $rc
}

watch_kinds() {
	cat <<-'EOF'
	gateway.networking.k8s.io/v1 gateways Gateway
	gateway.networking.k8s.io/v1 httproutes HTTPRoute
	gateway.networking.k8s.io/v1beta1 referencegrants ReferenceGrant
	gateway.envoyproxy.io/v1alpha1 backendtrafficpolicies BackendTrafficPolicy
	EOF
}

# What client-go's leader election relies on: get (404), create, a second
# create is AlreadyExists, an update with the resourceVersion it read
# succeeds, one with an older resourceVersion is a 409 Conflict.
LEASES=/apis/coordination.k8s.io/v1/namespaces/kube-system/leases
lease_updates_need_the_current_resource_version() {
	local body code rv1 rv2 out
	code=$(api_code GET "$LEASES/maglb-status")
	echo "get before: $code"
	[ "$code" = 404 ] || return 1
	body='{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "maglb-status"},
	       "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 15, "leaseTransitions": 0}}'
	out=$(api POST "$LEASES" --data-binary "$body")
	[ "$(tail -1 <<<"$out")" = 201 ] || { echo "$out"; return 1; }
	rv1=$(sed '$d' <<<"$out" | jf 'o["metadata"]["resourceVersion"]')
	code=$(api_code POST "$LEASES" --data-binary "$body")
	echo "create: 201 at $rv1; create again: $code"
	[ "$code" = 409 ] || return 1
	lease_put() {	# RV HOLDER
		api PUT "$LEASES/maglb-status" --data-binary '{"apiVersion": "coordination.k8s.io/v1",
		  "kind": "Lease", "metadata": {"name": "maglb-status", "namespace": "kube-system",
		  "resourceVersion": "'"$1"'"}, "spec": {"holderIdentity": "'"$2"'", "leaseDurationSeconds": 15}}'
	}
	out=$(lease_put "$rv1" node-1)
	[ "$(tail -1 <<<"$out")" = 200 ] || { echo "$out"; return 1; }
	rv2=$(sed '$d' <<<"$out" | jf 'o["metadata"]["resourceVersion"]')
	echo "renew at $rv1: 200, now $rv2"
	out=$(lease_put "$rv1" node-2)
	echo "take-over from the stale $rv1: $(tail -1 <<<"$out") $(sed '$d' <<<"$out" | jf 'o["reason"]')"
	[ "$(tail -1 <<<"$out")" = 409 ] && [ "$rv2" -gt "$rv1" ] || return 1
	out=$(kubectl -n kube-system get lease maglb-status -o jsonpath='{.spec.holderIdentity} {.metadata.resourceVersion}')
	echo "holder: $out"
	[ "$out" = "node-1 $rv2" ]
}

# The seed's results step lists pods by label and counts their log
# lines. Nothing runs pods here: the test side creates them through the
# control port (the same store), ten of the Deployment's and one other,
# and writes their logs (the server serves pods/NAME/log from files):
# two start-up lines each, and ten requests for one pod. Lists are paged
# (--page 4).
seed_pod_listing_by_label() {
	local i out names hit=$((RANDOM % 10)) want
	for i in $(seq 0 9); do
		ctl apply '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "backend-'"$i"'",
		  "namespace": "default", "labels": {"app": "backend", "version": "v1"}},
		  "spec": {"serviceAccountName": "backend", "containers": [{"name": "backend", "image": "echo-basic"}]},
		  "status": {"phase": "Running", "podIP": "10.20.1.'"$((10 + i))"'"}}' >/dev/null || return 1
		printf 'Echo server listening on port 3000.\nstarting\n' > "$WORK/logs/default/backend-$i"
		[ "$i" = "$hit" ] && for _ in $(seq 10); do echo "GET /cookie"; done >> "$WORK/logs/default/backend-$i"
	done
	ctl apply '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other", "namespace": "default",
	  "labels": {"app": "other"}}, "spec": {}}' >/dev/null
	out=$(kubectl get pods -l app=backend --no-headers -o custom-columns=":metadata.name")
	names=$(echo $out)
	echo "kubectl get pods -l app=backend: $names"
	[ "$names" = "$(echo backend-{0..9})" ] || return 1
	# the seed's own line, verbatim
	out=$(kubectl get pods -l app=backend --no-headers -o custom-columns=":metadata.name" | while read -r pod; do echo "$pod: received $(($(kubectl logs $pod | wc -l) - 2)) requests"; done)
	echo "$out"
	want=$(for i in $(seq 0 9); do echo "backend-$i: received $([ "$i" = "$hit" ] && echo 10 || echo 0) requests"; done)
	[ "$out" = "$want" ] || return 1
	out=$(kubectl get pods -l 'app notin (backend)' --no-headers -o custom-columns=":metadata.name,:status.phase")
	echo "app notin (backend): $out"
	[ "$(echo $out)" = "other <none>" ] || return 1
	out=$(kubectl get pods --field-selector metadata.name=backend-7 --no-headers -o custom-columns=":status.podIP")
	echo "metadata.name=backend-7: $out"
	[ "$(echo $out)" = 10.20.1.17 ] || return 1
	# pages of 4, each but the last with a continue token; following them
	# gives each pod once, even with one deleted between pages
	local token='' pages=0 page
	names=
	while :; do
		page=$(api_body GET "/api/v1/namespaces/default/pods?labelSelector=app%3Dbackend&limit=10${token:+&continue=$token}" |
			jf '" ".join([o["metadata"].get("continue", "-")] + [i["metadata"]["name"] for i in o["items"]])') ||
			return 1
		pages=$((pages + 1))
		token=${page%% *}
		names+=" ${page#* }"
		[ $pages = 1 ] && kubectl delete pod backend-0 >/dev/null
		[ "$token" = - ] || [ $pages -gt 5 ] && break
	done
	echo "$pages pages:$names"
	[ "$pages" = 3 ] && [ "$(echo $names)" = "$(echo backend-{0..9})" ] || return 1
	kubectl delete pods -l app=backend >/dev/null && kubectl delete pod other >/dev/null &&
		[ -z "$(kubectl get pods --no-headers -o name)" ]
}

# Errors are Status objects kubectl prints as the real server's.
errors_read_as_kubectls_own() {
	local out
	out=$(kubectl get gateway no-such 2>&1) && return 1
	echo "$out"
	[ "$out" = 'Error from server (NotFound): gateways.gateway.networking.k8s.io "no-such" not found' ] ||
		return 1
	out=$(printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}' |
		kubectl create -f - 2>&1) && return 1
	echo "$out"
	[[ $out == 'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'* ]] ||
		return 1
	out=$(printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}' |
		kubectl create -f - 2>&1 && printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}' |
		kubectl create -f - 2>&1)
	kubectl delete configmap cm >/dev/null
	echo "$out"
	grep -q 'Error from server (AlreadyExists): .*configmaps "cm" already exists' <<<"$out"
}

# `kubectl delete -f` of what `kubectl apply -f` made, in another
# namespace: gone there, default untouched.
delete_f_removes_what_apply_f_made() {
	local out
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n' | kubectl apply -f - || return 1
	kubectl -n other apply -f "$SEED/backend.yaml" >/dev/null || return 1
	out=$(kubectl get deploy -A --no-headers -o custom-columns=':metadata.namespace,:metadata.name')
	echo "deployments: $(echo $out)"
	[ "$(echo $out)" = "default backend other backend" ] || return 1
	kubectl -n other delete -f "$SEED/backend.yaml" || return 1
	out=$(kubectl -n other get serviceaccount,service,deployment --no-headers 2>&1)
	echo "left in other: [$out]"
	[ "$out" = "No resources found in other namespace." ] &&
		kubectl get deployment backend >/dev/null
}

# The seed's clean-up step, verbatim: each object deleted, then a get of
# it is NotFound.
seed_cleanup_deletes_everything() {
	local out obj rc=0
	kubeapi_seed_cleanup || return 1
	for obj in "${SEED_OBJECTS[@]}"; do
		# shellcheck disable=SC2086
		if out=$(kubectl get $obj 2>&1); then
			echo "$obj still there: $out"
			rc=1
		fi
		grep -q "Error from server (NotFound)" <<<"$out" || { echo "$out"; rc=1; }
	done
	return $rc
}

check seed_manifests_apply_and_each_object_is_gettable
check short_names_and_cluster_scope_resolve
check reapplied_edit_patches_and_bumps_generation
check patch_types_each_apply
check status_write_is_what_the_seeds_step_5_reads
check status_and_spec_are_written_apart
check stale_update_conflicts
check watch_sees_gateway_api_kinds_in_order
check lease_updates_need_the_current_resource_version
check seed_pod_listing_by_label
check errors_read_as_kubectls_own
check delete_f_removes_what_apply_f_made
check seed_cleanup_deletes_everything
true
