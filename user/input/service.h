/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * service.h - one service's YAML blocks, shared by the maglb config
 * (load.c) and the Gateway API manifests (gateway.c).
 */
#ifndef MAGLB_SERVICE_H
#define MAGLB_SERVICE_H

#include "input/cfgparse.h"
#include "model/config.h"

/* An entry of the maglb config's `services:`. */
int parse_service(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		  struct cfg_service *svc);
/* The blocks a BackendTrafficPolicy shares with a maglb service
 * (svc->proto must be set for parse_hash). */
int parse_hash(struct cfg_ctx *c, yaml_node_t *lb, const char *path,
	       struct cfg_service *svc);
int parse_health(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		 struct cfg_health *h);
int parse_snat(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	       struct cfg_service *svc);
/* services[i] against those before it: name, and address/port/protocol. */
int service_check_unique(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			 const struct maglb_config *cfg, int i);

#endif
