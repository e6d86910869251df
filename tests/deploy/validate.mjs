// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
// Validate every object of a multi-document manifest against the
// Kubernetes OpenAPI schemas (kubernetes-models), with no API server.
// Prints PASS/FAIL lines; a deliberately broken copy must fail too.
import fs from "node:fs";
import yaml from "js-yaml";

async function check(doc) {
	const [group, version] = doc.apiVersion.includes("/")
		? doc.apiVersion.split("/") : ["", doc.apiVersion];
	const path = group ? `${group}/${version}` : version;
	// Gateway API kinds: their CRDs' schemas
	const pkg = group.startsWith("gateway.networking.k8s.io") ?
		"@kubernetes-models/gateway-api" : "kubernetes-models";
	const mod = await import(`${pkg}/${path}/${doc.kind}`);
	new mod[doc.kind](doc).validate();
}

const file = process.argv[2];
const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter(Boolean);
let failed = 0;
for (const doc of docs) {
	const name = `${doc.kind}/${doc.metadata?.name}`;
	try {
		await check(doc);
		console.log(`PASS manifest_${doc.kind.toLowerCase()}_${doc.metadata.name}_is_valid`);
	} catch (e) {
		failed++;
		console.log(`FAIL manifest_${doc.kind.toLowerCase()}_is_valid: ${name}: ${String(e.message).split("\n")[0]}`);
	}
}
// What the API server checks beyond the schemas (its own validation of a
// pod template), for the rules this manifest could break. Each returns a
// reason, or null.
function podRules(spec) {
	const problems = [];
	const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
	const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
	const names = new Set();
	for (const c of all) {
		if (names.has(c.name))
			problems.push(`container name ${c.name} is used twice`);
		names.add(c.name);
		const sc = c.securityContext ?? {};
		const paths = new Set();
		for (const m of c.volumeMounts ?? []) {
			if (!volumes.has(m.name))
				problems.push(`${c.name}: volumeMount ${m.name} names no volume`);
			if (paths.has(m.mountPath))
				problems.push(`${c.name}: mountPath ${m.mountPath} twice`);
			paths.add(m.mountPath);
			if (m.mountPropagation === "Bidirectional" && sc.privileged !== true)
				problems.push(`${c.name}: Bidirectional mount propagation is available only to privileged containers`);
		}
		if (sc.allowPrivilegeEscalation === false &&
		    (sc.privileged === true || (sc.capabilities?.add ?? []).includes("SYS_ADMIN")))
			problems.push(`${c.name}: allowPrivilegeEscalation false with privileged or CAP_SYS_ADMIN`);
		for (const p of c.ports ?? [])
			if (spec.hostNetwork && p.hostPort !== undefined && p.hostPort !== p.containerPort)
				problems.push(`${c.name}: with hostNetwork, hostPort must equal containerPort`);
		for (const probe of ["livenessProbe", "startupProbe"])
			if ((c[probe]?.successThreshold ?? 1) !== 1)
				problems.push(`${c.name}: ${probe}.successThreshold must be 1`);
	}
	for (const c of spec.initContainers ?? [])
		for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"])
			if (c[k] && c.restartPolicy !== "Always")
				problems.push(`${c.name}: an init container may not have ${k}`);
	return problems;
}

for (const doc of docs.filter((d) => d.kind === "DaemonSet")) {
	const problems = podRules(doc.spec.template.spec);
	if (problems.length) {
		failed++;
		console.log(`FAIL daemonset_${doc.metadata.name}_passes_the_api_server_pod_rules: ${problems.join("; ")}`);
	} else {
		console.log(`PASS daemonset_${doc.metadata.name}_passes_the_api_server_pod_rules`);
	}
}

// The pod rules must be able to say no: one broken copy per rule.
const breakers = {
	bidirectional_without_privileged: (s) => { delete s.initContainers[0].securityContext.privileged; },
	duplicate_container_name: (s) => { s.containers[0].name = s.initContainers[0].name; },
	mount_of_no_volume: (s) => { s.containers[0].volumeMounts[0].name = "nowhere"; },
	host_port_differs: (s) => { s.containers[0].ports[0].hostPort = 1; },
	init_container_probe: (s) => { s.initContainers[0].livenessProbe = s.containers[0].livenessProbe; },
};
for (const [name, breakIt] of Object.entries(breakers)) {
	const copy = structuredClone(docs.find((d) => d.kind === "DaemonSet").spec.template.spec);
	breakIt(copy);
	if (podRules(copy).length) {
		console.log(`PASS pod_rules_reject_${name}`);
	} else {
		failed++;
		console.log(`FAIL pod_rules_reject_${name}: accepted`);
	}
}

// The validator must be able to say no.
const ds = structuredClone(docs.find((d) => d.kind === "DaemonSet"));
ds.spec.template.spec.containers[0].ports[0].containerPort = "nine-thousand";
try {
	await check(ds);
	console.log("FAIL manifest_validator_rejects_a_broken_daemonset: accepted");
	failed++;
} catch {
	console.log("PASS manifest_validator_rejects_a_broken_daemonset");
}
process.exit(failed ? 1 : 0);
