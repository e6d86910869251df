/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * endpoints.h - a Service and its EndpointSlices to backends, with
 * Kubernetes' endpoint conditions: ready endpoints take new connections,
 * terminating ones drain (weight 0: their connections stay, no new ones),
 * and the rest are left out.
 */
#ifndef MAGLB_ENDPOINTS_H
#define MAGLB_ENDPOINTS_H

#include "input/cfgparse.h"
#include "model/config.h"

/* One HTTPRoute backendRef being resolved. */
struct ep_ref {
	const char *ns, *name;	/* the Service */
	__u16 port;		/* the backendRef's port: a Service port */
	__u8 family;		/* the VIP's: only slices of this family */
	bool have_service;
	char port_name[64];	/* that Service port's name, "" if unnamed */
	struct cfg_backend *eps;
	int n_eps, n_ready;
};

/* Feed one Service or EndpointSlice document (others are ignored, as are
 * objects of other Services). The Service must come before its slices. */
int endpoints_object(struct ep_ref *e, struct cfg_ctx *c, yaml_node_t *root);

/* Add e's endpoints to svc. weight is the backendRef's; with several refs
 * it is shared out over each ref's ready endpoints. */
int endpoints_append(struct ep_ref *e, __u32 weight, int n_refs,
		     struct cfg_service *svc, struct cfg_ctx *c,
		     yaml_node_t *at, const char *path);
void endpoints_free(struct ep_ref *e);

#endif
