/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gateway.h - Gateway API manifests (Gateway, HTTPRoute, Envoy Gateway's
 * BackendTrafficPolicy, with Service and EndpointSlice objects for the
 * backends) turned into maglb services; and the parts of the maglb config
 * parser that both read.
 */
#ifndef MAGLB_GATEWAY_H
#define MAGLB_GATEWAY_H

#include "cfgparse.h"
#include "config.h"

/* One YAML document with the file it came from. */
struct cfg_doc {
	yaml_document_t doc;
	const char *file;
};

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

/* From config.c: the blocks a BackendTrafficPolicy shares with a maglb
 * service (svc->proto must be set for parse_hash). */
int parse_hash(struct cfg_ctx *c, yaml_node_t *lb, const char *path,
	       struct cfg_service *svc);
int parse_health(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		 struct cfg_health *h);
int parse_snat(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	       struct cfg_service *svc);
/* A new zeroed service at the end of cfg->services (NULL: no memory). */
struct cfg_service *config_add_service(struct maglb_config *cfg);
/* services[i] against those before it: name, and address/port/protocol. */
int config_check_unique(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			const struct maglb_config *cfg, int i);
void config_note(struct maglb_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
