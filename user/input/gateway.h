/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gateway.h - Gateway API manifests (Gateway, HTTPRoute, Envoy Gateway's
 * BackendTrafficPolicy, with Service and EndpointSlice objects for the
 * backends) turned into maglb services.
 */
#ifndef MAGLB_GATEWAY_H
#define MAGLB_GATEWAY_H

#include "input/cfgparse.h"
#include "input/source.h"
#include "model/config.h"

/*
 * Append the services that the manifests among docs describe. defaults is
 * the maglb config's `gateway:` block (NULL when absent), read in its own
 * document through dc. src supplies Services and EndpointSlices from the
 * API server (may be NULL). Returns 0 or -1 with the error written.
 */
int gateway_load(struct cfg_doc *docs, int n, struct cfg_ctx *dc,
		 yaml_node_t *defaults, const struct cfg_source *src,
		 struct maglb_config *cfg, char *err, size_t errlen);

/* True when a document's root is a Kubernetes object (has kind). */
bool gateway_is_object(yaml_document_t *doc);

#endif
