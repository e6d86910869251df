#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The DaemonSet's image, for real, without a registry: Debian 12 root
# filesystems made by mmdebstrap from Debian's mirror become the base
# images, deploy/Dockerfile builds on them with podman, and the image's
# two containers run as deploy/maglb.yaml runs them (its command, args,
# env, securityContext and volumeMounts, read from the manifest) on a test
# node: a network namespace of the nat topology stands for the node's host
# network. The init container attaches in native XDP, the agent container
# takes its backends from the test API server through its service account,
# and the seed's curls from the client reach nginx through it.
#
# The rootfs tarballs and podman's storage (so its layer cache too) live in
# $MAGLB_IMAGE_CACHE (default /var/cache/maglb-images); a rerun with the
# same package lists and Dockerfile rebuilds only from COPY on.
TOPO=mlb-img
source "$(dirname "$0")/../lib/e2e.sh"
source "$ROOT/tests/lib/kubeapi.sh"
set -u
LABEL=image
MANIFEST=$ROOT/deploy/maglb.yaml
SEED=$ROOT/tests/fixtures/seed
# The node's address on the client side: the pod IP of a hostNetwork pod.
POD_IP=10.10.0.1
CACHE=${MAGLB_IMAGE_CACHE:-/var/cache/maglb-images}
MIRROR=${MAGLB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${MAGLB_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
IMAGE=localhost/maglb:test-$TOPO
BASE=localhost/maglb-base:12
BASE_SLIM=localhost/maglb-base:12-slim
AGENT_CTR=$TOPO-agent
TOKEN=maglb-image-token-$$
T0=$(date +%s)

if [ "$(id -u)" != 0 ]; then
	fail image/run_as_root "needs root (mmdebstrap, podman, XDP)"
	exit 1
fi
for c in mmdebstrap podman; do
	command -v $c >/dev/null || { fail "image/${c}_installed" "no $c (./scripts/deps.sh)"; exit 1; }
done

# info STEP: the step's time since the last one.
info() {
	local now; now=$(date +%s)
	echo "INFO image/$1 $((now - T0)) s"
	T0=$now
}

# Podman's own storage under the cache: the test's images never mix with
# the host's, and a cleanup cannot touch anyone else's.
PODMAN=(podman --root "$CACHE/storage" --runroot "/run/maglb-images")
# Limits the container gets: podman asks for more open files and processes
# than the caller has, which only CAP_SYS_RESOURCE may grant (a container
# sandbox without it fails with "setrlimit RLIMIT_NOFILE: Operation not
# permitted"); these are the caller's own, so they need nothing. conmon
# runs with at most 32768 processes when podman cannot raise its own.
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")

image_cleanup() {
	"${PODMAN[@]}" rm -f -i -t 0 "$AGENT_CTR" "$TOPO-attach" >/dev/null 2>&1
	# --no-prune: rmi would take the untagged layers under it too.
	"${PODMAN[@]}" rmi --no-prune "$IMAGE" >/dev/null 2>&1
	# The layers from a COPY on (the sources, the binary) are this run's
	# alone; those under them (the packages) are the next build's cache,
	# kept for a week as the root filesystems are. Newest first: children
	# go before their parents.
	local id
	for id in $("${PODMAN[@]}" images -a -q --no-trunc --sort created 2>/dev/null); do
		grep -qx "$id" "$WORK.images" 2>/dev/null && continue
		"${PODMAN[@]}" history --no-trunc --format '{{.CreatedBy}}' "$id" 2>/dev/null |
			grep -q '#(nop) COPY ' && "${PODMAN[@]}" rmi --no-prune "$id" >/dev/null 2>&1
	done
	"${PODMAN[@]}" image prune -f --filter until=168h >/dev/null 2>&1
	rm -f "$WORK.images"
	[ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null
	e2e_stop
}

# ---- the base images: Debian 12 root filesystems --------------------------

SOURCES=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main"
	"deb $SECURITY bookworm-security main")
# debian:12-slim is debian:12 without documentation, manuals and locales.
SLIM_OPTS=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/info/*')

# base_image TAG [mmdebstrap options]: TAG from a minbase tarball, cached by
# what makes it (sources, options, mmdebstrap's version) and for a week (a
# week's security updates, then a fresh one).
base_image() {
	local tag=$1 key tar have
	shift
	key=$(printf '%s\n' "${SOURCES[@]}" "$@" "$(mmdebstrap --version)" | sha256sum | cut -c1-16)
	tar=$CACHE/rootfs/debian12-minbase-$key.tar
	mkdir -p "$CACHE/rootfs"
	find "$CACHE/rootfs" -name 'debian12-*.tar' -mtime +7 -delete
	if [ ! -s "$tar" ]; then
		mmdebstrap --quiet --variant=minbase --mode=root --format=tar "$@" \
			bookworm "$tar.tmp" "${SOURCES[@]}" || return 1
		mv "$tar.tmp" "$tar"
	fi
	have=$("${PODMAN[@]}" image inspect --format '{{index .Labels "maglb.rootfs"}}' "$tag" 2>/dev/null)
	if [ "$have" != "$key" ]; then
		"${PODMAN[@]}" import -q --change "LABEL maglb.rootfs=$key" \
			--change 'CMD ["bash"]' "$tar" "$tag" >/dev/null || return 1
	fi
	echo "$tag from $(basename "$tar") ($(du -m "$tar" | cut -f1) MB)"
}

# ---- the runtime: what runs containers on this machine ---------------------

# crun (podman's default) refuses a hybrid cgroup layout with controllers
# on the v2 hierarchy ("cgroups in hybrid mode not supported"); runc runs
# there. The first that runs a container is used.
pick_runtime() {
	local rt out
	for rt in crun runc; do
		command -v $rt >/dev/null || continue
		out=$("${PODMAN[@]}" run --rm --runtime "$rt" "${LIMITS[@]}" --network none "$BASE" true 2>&1) &&
			{ echo "$rt" > "$WORK/runtime"; echo "runtime $rt"; return 0; }
		echo "runtime $rt: $out"
	done
	return 1
}

# ---- the DaemonSet, as podman arguments ------------------------------------

# pod_args CONTAINER: one "KIND VALUE" line per setting of the DaemonSet's
# container (init: the init container): command, args, env, privileged,
# capabilities, seccomp, mounts and the volumes they name.
pod_args() {
	python3 - "$MANIFEST" "$1" "$POD_IP" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
pod = ds["spec"]["template"]["spec"]
c = pod["initContainers"][0] if sys.argv[2] == "init" else pod["containers"][0]
vols = {v["name"]: v for v in pod.get("volumes", [])}
print("hostNetwork", str(pod.get("hostNetwork", False)).lower())
print("serviceAccount", pod.get("serviceAccountName", "default"))
for a in c.get("command", []): print("command", a)
for a in c.get("args", []): print("arg", a)
# The downward API's fields, as the kubelet fills them on the test node.
down = {"metadata.namespace": ds["metadata"].get("namespace", "default"),
        "spec.nodeName": "node-1", "status.podIP": sys.argv[3]}
for e in c.get("env", []):
    ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    print("env", "%s=%s" % (e["name"], down[ref] if ref else e.get("value", "")))
sc = c.get("securityContext", {})
print("privileged", str(sc.get("privileged", False)).lower())
for cap in sc.get("capabilities", {}).get("drop", []): print("capdrop", cap)
for cap in sc.get("capabilities", {}).get("add", []): print("capadd", cap)
seccomp = sc.get("seccompProfile", pod.get("securityContext", {}).get("seccompProfile", {}))
print("seccomp", seccomp.get("type", "Unconfined"))
for m in c.get("volumeMounts", []):
    v = vols[m["name"]]
    prop = {"Bidirectional": "rshared", "HostToContainer": "rslave"}.get(
        m.get("mountPropagation", "None"), "rprivate")
    ro = ",ro" if m.get("readOnly") else ""
    if "hostPath" in v:
        print("mount", "%s:%s:%s%s" % (v["hostPath"]["path"], m["mountPath"], prop, ro))
    elif "configMap" in v:
        print("configmap", "%s %s %s" % (v["configMap"]["name"], m["mountPath"], prop + ro))
    else:
        print("unsupported", m["name"])
for p in ("livenessProbe", "readinessProbe"):
    g = c.get(p, {}).get("httpGet")
    if g: print("probe", "%s %s %s" % (p, g["port"], g["path"]))
PY
}

# configmap_dir NAME: the ConfigMap's data as files, as the kubelet mounts it.
configmap_dir() {
	local d=$WORK/configmap-$1
	mkdir -p "$d"
	python3 - "$MANIFEST" "$1" "$d" <<'PY'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == sys.argv[2]:
        for k, v in doc.get("data", {}).items():
            open("%s/%s" % (sys.argv[3], k), "w").write(v)
PY
	echo "$d"
}

# podman_args CONTAINER: fills ARGS (podman run options) and CMD (the
# entrypoint's arguments, with --pin-dir for the test's pins and each
# $(VAR) of the manifest's env expanded; MAGLB_DEVICE is the node's
# devices, one argument each).
podman_args() {
	local kind val entry= envs=() word
	ARGS=("${LIMITS[@]}" --runtime "$RUNTIME") CMD=()
	while read -r kind val; do
		case $kind in
		hostNetwork) [ "$val" = true ] && ARGS+=(--network "ns:/run/netns/$(ns node)") ;;
		serviceAccount) ARGS+=(-v "$WORK/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro"
			-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT=6443) ;;
		command) if [ -z "$entry" ]; then entry=$val; else CMD+=("$val"); fi ;;
		arg) CMD+=("$val") ;;
		env) envs+=("$val"); ARGS+=(-e "$val") ;;
		privileged) [ "$val" = true ] && ARGS+=(--privileged) ;;
		capdrop) ARGS+=(--cap-drop "$val") ;;
		capadd) ARGS+=(--cap-add "$val") ;;
		# The kubelet runs a container Unconfined unless told otherwise.
		seccomp) [ "$val" = RuntimeDefault ] || ARGS+=(--security-opt seccomp=unconfined) ;;
		mount) ARGS+=(-v "$val") ;;
		configmap) read -r name path opts <<<"$val"
			ARGS+=(-v "$(configmap_dir "$name"):$path:$opts") ;;
		probe) ;;
		*) echo "podman_args: $kind $val: not modelled" >&2; return 1 ;;
		esac
	done < <(pod_args "$1")
	ARGS+=(--entrypoint "$entry")
	local out=()
	for word in "${CMD[@]}"; do
		if [ "$word" = '$(MAGLB_DEVICE)' ]; then
			out+=("${ATTACH_DEVS[@]}")
		else
			# $(NAME) of the container's env, as the kubelet expands it
			for entry in "${envs[@]}"; do
				word=${word//"\$(${entry%%=*})"/${entry#*=}}
			done
			out+=("$word")
		fi
	done
	CMD=(--pin-dir "$PIN_DIR" "${out[@]}")
}

# ---- the checks ---------------------------------------------------------------

image_builds_from_debian_packages() {
	local v t0=$SECONDS
	base_image "$BASE" || return 1
	base_image "$BASE_SLIM" "${SLIM_OPTS[@]}" || return 1
	echo "base images: $((SECONDS - t0)) s"
	pick_runtime || return 1
	RUNTIME=$(cat "$WORK/runtime")
	t0=$SECONDS
	# what was there before this build (its own layers go in the cleanup)
	"${PODMAN[@]}" images -a -q --no-trunc > "$WORK.images"
	v=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
	# --pull=never: the bases are the local ones, no registry is asked.
	"${PODMAN[@]}" build -q --pull=never --runtime "$RUNTIME" "${LIMITS[@]}" --network host \
		--build-arg BASE="$BASE" --build-arg BASE_SLIM="$BASE_SLIM" \
		--build-arg MAGLB_VERSION="$v" -t "$IMAGE" -f "$ROOT/deploy/Dockerfile" "$ROOT" \
		> "$WORK/build.log" 2>&1 || { tail -5 "$WORK/build.log"; return 1; }
	echo "podman build: $((SECONDS - t0)) s"
	"${PODMAN[@]}" image inspect --format "$IMAGE {{.Id}} {{.Size}}" "$IMAGE" |
		awk '{printf "%s %.12s %d MB\n", $1, $2, $3 / 1e6}'
}

image_binary_runs() {
	local got want
	want="maglb $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	got=$("${PODMAN[@]}" run --rm --runtime "$RUNTIME" "${LIMITS[@]}" --network none "$IMAGE" --version) || return 1
	echo "$IMAGE --version: $got (want $want)"
	[ "$got" = "$want" ]
}

container_attaches_with_the_daemonsets_privileges() {
	local dev mode ok=0
	podman_args init || return 1
	echo "podman run ${ARGS[*]} $IMAGE ${CMD[*]}" | sed "s#$WORK#\$WORK#g"
	"${PODMAN[@]}" run --rm --name "$TOPO-attach" "${ARGS[@]}" "$IMAGE" "${CMD[@]}" || return 1
	for dev in "${ATTACH_DEVS[@]}"; do
		mode=$(nsx node ip -d link show dev "$dev" | grep -o 'prog/xdp[a-z]*' | head -1)
		echo "$dev: ${mode:-no XDP}; pinned: $(ls "$PIN_DIR/links" 2>/dev/null | grep -c "$dev")"
		[ "$mode" = prog/xdp ] || ok=1	# native (driver) mode, not xdpgeneric
	done
	return $ok
}

api_start() {
	local d=$WORK/api i
	mkdir -p "$d" "$WORK/sa"
	kubeapi_certs "$d" || return 1
	cp "$d/ca.crt" "$WORK/sa/ca.crt"
	echo "$TOKEN" > "$WORK/sa/token"
	echo default > "$WORK/sa/namespace"
	# The seed's Service and, since nothing runs its pods, EndpointSlices
	# with the topology's.
	python3 - "$SEED/backend.yaml" "$d" "$NBACKENDS" <<'PY'
import json, sys, yaml
svc = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Service")
svc["metadata"].setdefault("namespace", "default")
json.dump(svc, open(sys.argv[2] + "/service.json", "w"))
eps = [{"addresses": ["10.20.1.%d" % (10 + i)],
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "nodeName": "node-1",
        "targetRef": {"kind": "Pod", "namespace": "default", "name": "backend-%d" % i}}
       for i in range(int(sys.argv[3]))]
port = svc["spec"]["ports"][0]
json.dump({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "backend-img", "namespace": "default",
                        "labels": {"kubernetes.io/service-name": svc["metadata"]["name"],
                                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
           "addressType": "IPv4", "endpoints": eps,
           "ports": [{"name": port.get("name", "http"), "port": port.get("targetPort", port["port"]),
                      "protocol": "TCP"}]},
          open(sys.argv[2] + "/slice.json", "w"))
PY
	# The Gateway API objects come from the cluster too: the seed's, and
	# the class it names, with maglb's controller.
	python3 - "$ROOT/tests/fixtures/gatewayclass.yaml" "$SEED/gateway.yaml" \
		"$SEED/cookie-policy-route.yaml" "$d" <<'PY'
import json, sys, yaml
items = []
for f in sys.argv[1:4]:
    for doc in yaml.safe_load_all(open(f)):
        if doc:
            doc["metadata"].setdefault("namespace", "default")
            items.append(doc)
json.dump({"apiVersion": "v1", "kind": "List", "items": items},
          open(sys.argv[4] + "/gateway-api.json", "w"))
PY
	nsx node python3 "$ROOT/tests/kube/apiserver.py" --cert "$d/server.crt" --key "$d/server.key" \
		--token "$TOKEN" "$d/service.json" "$d/slice.json" "$d/gateway-api.json" \
		> "$d/server.log" 2>&1 &
	API_PID=$!
	wait_port node 6444 && wait_port node 6443
}

agent_container_applies_the_seeds_config() {
	local i
	podman_args agent || return 1
	echo "podman run ${ARGS[*]} $IMAGE ${CMD[*]}" | sed "s#$WORK#\$WORK#g"
	"${PODMAN[@]}" run -d --name "$AGENT_CTR" "${ARGS[@]}" "$IMAGE" "${CMD[@]}" >/dev/null || return 1
	for i in $(seq 100); do
		"${PODMAN[@]}" logs "$AGENT_CTR" 2>&1 | grep -q "config applied" && break
		sleep 0.1
	done
	"${PODMAN[@]}" logs "$AGENT_CTR" 2>&1 | grep -o 'msg="watching kubernetes".*\|msg="config applied".*' | cut -c1-160
	"${PODMAN[@]}" logs "$AGENT_CTR" 2>&1 | grep -q "config applied.*backends=$NBACKENDS " ||
		{ "${PODMAN[@]}" logs "$AGENT_CTR" 2>&1 | tail -3; return 1; }
	agent_has_the_manifests_capabilities
}

# The agent's process holds exactly the manifest's capabilities (names to
# bits from the UAPI header), in every set but the bounding one's extras.
agent_has_the_manifests_capabilities() {
	local pid
	pid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$AGENT_CTR") || return 1
	python3 - "/proc/$pid/status" /usr/include/linux/capability.h <<PY
import re, sys
bits = {n: int(v) for n, v in re.findall(r"#define CAP_(\w+)\s+(\d+)\n", open(sys.argv[2]).read())}
want = set("$(pod_args agent | sed -n 's/^capadd //p' | tr '
' ' ')".split())
status = dict(l.split(":\t", 1) for l in open(sys.argv[1]).read().splitlines() if ":\t" in l)
ok = True
for field in ("CapEff", "CapPrm", "CapBnd"):
    v = int(status[field], 16)
    have = {n for n, b in bits.items() if v >> b & 1}
    print("%s: %s" % (field, " ".join(sorted(have)) or "none"))
    ok &= have == want
sys.exit(0 if ok else 1)
PY
}

# The probes' port and paths, as the kubelet would ask them on the node.
# The kubelet probes the pod's address (status.podIP: the node's here).
agent_container_answers_the_daemonsets_probes() {
	local kind port path code ok=0
	while read -r kind port path; do
		code=$(nsx node curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://$POD_IP:$port$path")
		echo "$kind GET :$port$path: $code"
		[ "$code" = 200 ] || ok=1
	done < <(pod_args agent | sed -n 's/^probe //p')
	return $ok
}

# The Gateway's address as the seed's step 5 reads it: from the status the
# agent container writes (it takes the Lease first), through the API.
gateway_addr() {
	local i a
	for i in $(seq 100); do
		a=$(nsx node curl -sS --max-time 2 --cacert "$WORK/api/ca.crt" -H "Authorization: Bearer $TOKEN" \
			https://127.0.0.1:6443/apis/gateway.networking.k8s.io/v1/namespaces/default/gateways/load-balancing-gateway |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["addresses"][0]["value"])' 2>/dev/null) &&
			[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.1
	done
	echo "no address in the Gateway's status" >&2
	return 1
}

# The seed's step 6 against the Gateway's address from its status: each cookie's
# 10 requests on one pod, the one `maglb lookup` names.
seed_cookie_requests_reach_the_pods_through_the_container() {
	local addr v i want svc
	addr=$(gateway_addr) || return 1
	nsx client ip route replace "$addr/32" via "$POD_IP"
	svc=$(python3 -c 'import sys, yaml; print(next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "HTTPRoute")["metadata"]["name"])' \
		"$SEED/cookie-policy-route.yaml") || return 1
	local before after
	before=$(syncookies_sent)
	for v in 1.2.3.4 5.6.7.8; do
		reset_logs
		seed_requests "$v" 10 "$addr"
		i=$(only_backend_with 10) || { backend_counts; echo "FooBar=$v: not all 10 on one pod"; return 1; }
		want=$(maglb lookup "$svc" --cookie "FooBar=$v") || return 1
		echo "http://$addr/cookie FooBar=$v: 10 on backend-$i, maglb lookup says $want"
		[ "$want" = "$(backend_addr nat "$i"):3000" ] || return 1
	done
	# maglb answers each handshake from XDP before it picks the pod by cookie.
	after=$(syncookies_sent)
	echo "SYN-ACKs sent from XDP: $before -> $after"
	[ $((after - before)) -ge 20 ]
}

syncookies_sent() {
	maglb stats --json | grep -o '"syncookie_sent":{"packets":[0-9]*' | grep -o '[0-9]*$'
}

# A rollout's SIGTERM: the agent container exits 0, and the pinned
# datapath serves on without it.
agent_container_stops_cleanly_and_the_datapath_stays() {
	local code addr
	addr=$(gateway_addr) || return 1
	"${PODMAN[@]}" stop -t 10 "$AGENT_CTR" >/dev/null || return 1
	code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$AGENT_CTR")
	echo "agent container exit status after SIGTERM: $code"
	[ "$code" = 0 ] || return 1
	reset_logs
	seed_requests 1.2.3.4 10 "$addr"
	only_backend_with 10 >/dev/null || { backend_counts; return 1; }
	echo "10 requests served with no agent running"
}

# ---- run ------------------------------------------------------------------------

mkdir -p "$CACHE"
# A node as users have it: systemd mounts the BPF filesystem at
# /sys/fs/bpf on every boot of a Debian 12 node, so the DaemonSet's
# hostPath volume brings the host's bpffs and the pins outlive the
# containers. A machine whose init does not (a CI container) would give
# the init container an empty directory, where attach mounts a bpffs of
# its own that dies with the container.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || exit 1
# The topology's own attach is the init container's job here: record the
# devices it would attach instead.
maglb() {
	if [ "$1" = attach ]; then
		shift
		echo "$*" > "$WORK/attach-devs"
		return 0
	fi
	"$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" "$@"
}
e2e_start nat
trap image_cleanup EXIT
read -ra ATTACH_DEVS < "$WORK/attach-devs"
maglb() { "$MAGLB" --pin-dir "$PIN_DIR" --netns "$(ns node)" "$@"; }
mkdir -p "$WORK/sa"	# the service account volume (filled by api_start)
info topology

check image_builds_from_debian_packages
info build
# (checks run in subshells: the runtime the build found is in a file)
RUNTIME=$(cat "$WORK/runtime" 2>/dev/null)
[ -n "$RUNTIME" ] && "${PODMAN[@]}" image exists "$IMAGE" || exit 1
check image_binary_runs
check container_attaches_with_the_daemonsets_privileges | tee "$WORK/attach.out"
info attach
grep -q '^PASS' "$WORK/attach.out" || exit 1
if ! api_start; then
	fail image/api_server_start "$(tail -3 "$WORK/api/server.log" | tr '\n' ' ')"
	exit 1
fi
check agent_container_applies_the_seeds_config | tee "$WORK/agent.out"
grep -q '^PASS' "$WORK/agent.out" || exit 1
check agent_container_answers_the_daemonsets_probes
check seed_cookie_requests_reach_the_pods_through_the_container
check agent_container_stops_cleanly_and_the_datapath_stays
info agent
