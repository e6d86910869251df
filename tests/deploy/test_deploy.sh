#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# deploy/ cannot be exercised here (no Docker engine, no API server), so it
# is kept consistent: manifests validate against the Kubernetes schemas,
# the image's binary path and the DaemonSet's command agree, the commands
# and config the DaemonSet uses are accepted by this build, and every
# Debian package the Dockerfile names exists.
set -u
cd "$(dirname "$0")/../.."
MAGLB=build/maglb
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
work=build/deploy
mkdir -p "$work"

# 1. schemas (npm: kubernetes-models, js-yaml; cached in build/deploy)
cp tests/deploy/package.json "$work/"
if (cd "$work" && npm install --silent --no-audit --no-fund >/dev/null 2>&1); then
	cp tests/deploy/validate.mjs "$work/"
	node "$work/validate.mjs" deploy/maglb.yaml
else
	fail manifests_validate_against_kubernetes_schemas "npm install failed"
fi

# 2. the image's binary is what the DaemonSet runs
bin=$(awk '/^COPY --from=build/ {print $NF}' deploy/Dockerfile)
if grep -q "\"$bin\"" deploy/maglb.yaml && grep -q "ENTRYPOINT \[\"$bin\"\]" deploy/Dockerfile; then
	pass image_binary_path_matches_the_daemonset
else
	fail image_binary_path_matches_the_daemonset "Dockerfile installs $bin"
fi

# 3. the DaemonSet's commands and config are ones this maglb accepts: the
# ConfigMap's maglb.yaml (its only key) as the file the agent reads, with
# what the API server would hold: the GatewayClass the tests create (the
# seed's name, with the controllerName of deploy/'s own class), the seed's
# objects and realistic EndpointSlices. The Gateway's address comes from
# the pool.
cfgdir=$(mktemp -d)
python3 - deploy/maglb.yaml "$cfgdir" <<'EOF'
import sys, re
text = open(sys.argv[1]).read()
for name, block in re.findall(r"\n  ([\w.-]+\.yaml): \|\n((?:    .*\n|\n)+)", text):
    open("%s/%s" % (sys.argv[2], name), "w").write(
        "".join(l[4:] + "\n" if l.strip() else "\n" for l in block.splitlines()))
EOF
ctl=$(awk '/^kind: GatewayClass/ {c = 1} c && /controllerName:/ {print $2; exit}' deploy/maglb.yaml)
printf 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: tigera-gateway-class}\nspec: {controllerName: %s}\n' \
	"$ctl" > "$cfgdir/class.yaml"
if [ "$(ls "$cfgdir")" = "class.yaml
maglb.yaml" ] && [ "$ctl" = maglb.dev/gateway-controller ] &&
	out=$($MAGLB apply --check -f "$cfgdir/maglb.yaml" -f "$cfgdir/class.yaml" \
	-f tests/fixtures/seed/gateway.yaml -f tests/fixtures/seed/cookie-policy-route.yaml \
	-f tests/fixtures/seed/backend.yaml -f tests/fixtures/endpointslices.json 2>&1) &&
	grep -q "^service cookie-route 10.200.0.[0-9]*:80 TCP nat Cookie:FooBar backends=9" <<<"$out"; then
	pass configmap_config_is_valid
else
	fail configmap_config_is_valid "$(tr '\n' ' ' <<<"$out")"
fi
rm -rf "$cfgdir"
ok=1
for sub in attach agent; do
	$MAGLB "$sub" --help >/dev/null 2>&1 || ok=0
done
grep -q 'args: \["agent", "-f", "/etc/maglb/maglb.yaml",$' deploy/maglb.yaml || ok=0
# the status Lease's namespace and identity from the downward API
grep -q "fieldPath: metadata.namespace" deploy/maglb.yaml && grep -q "fieldPath: spec.nodeName" deploy/maglb.yaml || ok=0
grep -q '"--kubernetes", "--metrics-address", "$(POD_IP):9100"\]' deploy/maglb.yaml || ok=0
[ $ok = 1 ] && pass daemonset_commands_exist_in_maglb || fail daemonset_commands_exist_in_maglb "unknown subcommand or args"
# probes point at what the agent serves
grep -q "path: /healthz, port: 9100" deploy/maglb.yaml && grep -q "path: /readyz, port: 9100" deploy/maglb.yaml &&
	grep -q '"$(POD_IP):9100"' deploy/maglb.yaml && grep -q 'fieldPath: status.podIP' deploy/maglb.yaml &&
		pass probes_match_the_metrics_endpoint ||
	fail probes_match_the_metrics_endpoint "port or paths differ"

# The RBAC grants what the agent asks for: list/watch of each kind in
# kubeapi.c's table, patch of each status path status.c writes, and the
# Lease verbs lease.c uses (a 403 would leave the agent waiting forever).
if out=$(python3 - deploy/maglb.yaml user/input/kubeapi.c user/agent/status.c <<'EOF'
import re, sys
import yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
grants = set()
for d in docs:
    if d["kind"] in ("ClusterRole", "Role"):
        for r in d["rules"]:
            for g in r["apiGroups"]:
                for res in r["resources"]:
                    for v in r["verbs"]:
                        grants.add((g, res, v))
need = []
for m in re.finditer(r'"(/apis?/[^"]+)"', open(sys.argv[2]).read()):
    parts = m.group(1).split("/")
    group = "" if parts[1] == "api" else parts[2]
    need += [(group, parts[-1], v) for v in ("list", "watch")]
for m in re.finditer(r'"/apis/" GW_GROUP "/v1", "(\w+)"|"/apis/([\w.]+)/\w+",\s*"(\w+)"', open(sys.argv[3]).read()):
    group, res = ("gateway.networking.k8s.io", m.group(1)) if m.group(1) else (m.group(2), m.group(3))
    need += [(group, res, "get"), (group, res + "/status", "patch")]
need += [("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")]
missing = [n for n in need if n not in grants]
print("%d grants needed" % len(need))
for n in missing:
    print("not granted: %s %s %s" % n)
sys.exit(1 if missing or len(need) < 20 else 0)
EOF
); then
	pass rbac_grants_what_the_agent_requests
else
	fail rbac_grants_what_the_agent_requests "$(tr '\n' ' ' <<<"$out")"
fi

# 4. every package the Dockerfile installs exists in Debian 12
missing=""
pkgs=$(sed -n '/apt-get install/,/rm -rf/p' deploy/Dockerfile | tr -d '\\' | tr ' \t' '\n\n' |
	grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|update|rf|y|no)$')
echo "# Dockerfile packages checked: $(echo $pkgs | wc -w)"
[ "$(echo $pkgs | wc -w)" -ge 10 ] || missing=" (found too few package names to check)"
for p in $pkgs; do
	apt-cache show "$p" >/dev/null 2>&1 || missing+=" $p"
done
[ -z "$missing" ] && pass dockerfile_packages_exist_in_debian || fail dockerfile_packages_exist_in_debian "missing:$missing"
