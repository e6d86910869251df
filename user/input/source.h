/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* source.h - what the loader asks of the API server watcher (kubeapi.c). */
#ifndef MAGLB_SOURCE_H
#define MAGLB_SOURCE_H

#include <yaml.h>

/* One YAML document with where it came from: a file's path, or a label
 * such as "apiserver Gateway default/web" (own: then freed with it). */
struct cfg_doc {
	yaml_document_t doc;
	const char *file;
	char *own;
};

/*
 * Kubernetes objects that do not come from the files: the API server
 * watcher's view. objects() calls fn with the Service NS/NAME (kind
 * "Service") and each of its EndpointSlices, each as a YAML document
 * built from the object's JSON; label names it in errors. It returns fn's
 * first non-zero result, or 0.
 */
typedef int (*cfg_object_fn)(void *fnarg, const char *label,
			     yaml_document_t *doc);
/* manifests() appends every Gateway API object it holds (GatewayClass,
 * Gateway, HTTPRoute, ReferenceGrant, BackendTrafficPolicy) to *docs, in
 * kind, namespace and name order; the caller deletes them. NULL: only
 * files describe Gateways. Both return 0 or -1 (out of memory). */
struct cfg_source {
	int (*objects)(void *arg, const char *ns, const char *name,
		       cfg_object_fn fn, void *fnarg);
	int (*manifests)(void *arg, struct cfg_doc **docs, int *n);
	void *arg;
};

#endif
