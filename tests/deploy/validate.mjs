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
	const mod = await import(`kubernetes-models/${path}/${doc.kind}`);
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
