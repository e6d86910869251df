/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* source.h - what the loader asks of the API server watcher (kubeapi.c). */
#ifndef MAGLB_SOURCE_H
#define MAGLB_SOURCE_H

#include <yaml.h>

/*
 * Kubernetes objects that do not come from the files: the API server
 * watcher's view. objects() calls fn with the Service NS/NAME (kind
 * "Service") and each of its EndpointSlices, each as a YAML document
 * built from the object's JSON; label names it in errors. It returns fn's
 * first non-zero result, or 0.
 */
typedef int (*cfg_object_fn)(void *fnarg, const char *label,
			     yaml_document_t *doc);
struct cfg_source {
	int (*objects)(void *arg, const char *ns, const char *name,
		       cfg_object_fn fn, void *fnarg);
	void *arg;
};

#endif
