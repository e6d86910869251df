// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * endpoints.c - a Service and its EndpointSlices (discovery.k8s.io/v1) to
 * maglb backends. These objects are data written by Kubernetes, not by
 * the user, so fields we do not read are not errors here.
 *
 * Kubernetes' rules, as kube-proxy and Cilium apply them:
 *   - a slice belongs to a Service by its kubernetes.io/service-name label;
 *   - a slice port belongs to a Service port by name (both "" if unnamed);
 *   - conditions.ready absent means ready; only the first address counts;
 *   - ready: takes new connections; terminating: drains (weight 0);
 *     neither: left out (its connections drain like any removed backend).
 * A backend's Maglev name is its Pod's name, so every node builds the same
 * table whatever order the slices arrive in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "common/addr.h"
#include "input/endpoints.h"

static const char *str_at(struct cfg_ctx *c, yaml_node_t *map,
			  const char *a, const char *b)
{
	yaml_node_t *n = cfg_get(c, map, a);

	return cfg_scalar(b ? cfg_get(c, n, b) : n);
}

static bool cond(struct cfg_ctx *c, yaml_node_t *conds, const char *name,
		 bool dflt)
{
	const char *s = conds ? cfg_scalar(cfg_get(c, conds, name)) : NULL;

	return s ? !strcmp(s, "true") : dflt;
}

static int read_service(struct ep_ref *e, struct cfg_ctx *c, yaml_node_t *root)
{
	yaml_node_t *spec = cfg_get(c, root, "spec"), *ports;
	const char *type = spec ? str_at(c, spec, "type", NULL) : NULL;
	char p[PATH_LEN];
	int i;

	snprintf(p, sizeof(p), "Service %s/%s: spec.ports", e->ns, e->name);
	if (type && !strcmp(type, "ExternalName"))
		return cfg_fail(c, spec, p, "an ExternalName Service has no endpoints to balance");
	ports = spec ? cfg_get(c, spec, "ports") : NULL;
	for (i = 0; i < cfg_seq_len(ports); i++) {
		yaml_node_t *sp = cfg_seq_at(c, ports, i);
		const char *port = str_at(c, sp, "port", NULL);
		const char *name = str_at(c, sp, "name", NULL);

		if (port && strtoul(port, NULL, 10) == e->port) {
			snprintf(e->port_name, sizeof(e->port_name), "%s",
				 name ? name : "");
			e->have_service = true;
			return 0;
		}
	}
	return cfg_fail(c, ports ? ports : root, p, "has no port %u (the backendRef's port)",
			e->port);
}

/* The slice port that serves the Service port; 0 when the slice has none. */
static int slice_port(struct ep_ref *e, struct cfg_ctx *c, yaml_node_t *ports,
		      const char *label, __u16 *out)
{
	unsigned long v;
	int i, k = cfg_seq_len(ports);

	*out = 0;
	if (!e->have_service && k > 1)
		return cfg_fail(c, ports, label,
				"Service %s/%s is unknown, so which of %d ports serves port %u cannot be told",
				e->ns, e->name, k, e->port);
	for (i = 0; i < k; i++) {
		yaml_node_t *sp = cfg_seq_at(c, ports, i);
		const char *name = str_at(c, sp, "name", NULL);

		if (e->have_service && strcmp(name ? name : "", e->port_name))
			continue;
		if (cfg_uint(c, cfg_get(c, sp, "port"), label, 1, 65535, &v))
			return -1;
		*out = v;
		return 0;
	}
	return 0;
}

static int add_endpoint(struct ep_ref *e, const struct cfg_backend *b)
{
	struct cfg_backend *t;
	int i;

	for (i = 0; i < e->n_eps; i++) {
		if (memcmp(&e->eps[i].addr, &b->addr, sizeof(b->addr)) ||
		    e->eps[i].port != b->port)
			continue;
		/* The same endpoint in two slices (a slice being split or
		 * merged): ready wins. */
		if (b->weight && !e->eps[i].weight) {
			e->eps[i] = *b;
			e->n_ready++;
		}
		return 0;
	}
	t = realloc(e->eps, (e->n_eps + 1) * sizeof(*t));
	if (!t)
		return -1;
	e->eps = t;
	e->eps[e->n_eps++] = *b;
	e->n_ready += b->weight ? 1 : 0;
	return 0;
}

static int read_slice(struct ep_ref *e, struct cfg_ctx *c, yaml_node_t *root)
{
	const char *name = str_at(c, root, "metadata", "name");
	const char *type = str_at(c, root, "addressType", NULL);
	yaml_node_t *eps = cfg_get(c, root, "endpoints");
	char label[PATH_LEN], ap[ADDR_STRLEN];
	__u16 port;
	int i;

	snprintf(label, sizeof(label), "EndpointSlice %s/%s: ports", e->ns,
		 name ? name : "?");
	if (!type || strcmp(type, e->family == 6 ? "IPv6" : "IPv4"))
		return 0;	/* the other family, or FQDN */
	if (slice_port(e, c, cfg_get(c, root, "ports"), label, &port))
		return -1;
	if (!port)
		return 0;
	for (i = 0; i < cfg_seq_len(eps); i++) {
		yaml_node_t *ep = cfg_seq_at(c, eps, i);
		yaml_node_t *addrs = cfg_get(c, ep, "addresses");
		yaml_node_t *conds = cfg_get(c, ep, "conditions");
		const char *pod = str_at(c, ep, "targetRef", "name");
		struct cfg_backend b = { .port = port };
		char p[PATH_LEN];

		snprintf(p, sizeof(p), "EndpointSlice %s/%s: endpoints[%d].addresses",
			 e->ns, name ? name : "?", i);
		if (!cfg_seq_len(addrs))
			return cfg_fail(c, ep, p, "required");
		if (cfg_addr(c, cfg_seq_at(c, addrs, 0), p, &b.addr, &b.family))
			return -1;
		if (b.family != e->family)
			return cfg_fail(c, ep, p, "not an %s address", type);
		if (cond(c, conds, "ready", true))
			b.weight = 1;
		else if (!cond(c, conds, "terminating", false))
			continue;
		snprintf(b.name, sizeof(b.name), "%s", pod ? pod :
			 addr_port_str(&b.addr, b.family, htons(port), ap));
		if (add_endpoint(e, &b))
			return cfg_fail(c, ep, p, "out of memory");
	}
	return 0;
}

int endpoints_object(struct ep_ref *e, struct cfg_ctx *c, yaml_node_t *root)
{
	const char *kind = str_at(c, root, "kind", NULL);
	const char *ns = str_at(c, root, "metadata", "namespace");

	if (!kind || strcmp(ns ? ns : "default", e->ns))
		return 0;
	if (!strcmp(kind, "Service")) {
		const char *name = str_at(c, root, "metadata", "name");

		return name && !strcmp(name, e->name) && !e->have_service ?
			read_service(e, c, root) : 0;
	}
	if (!strcmp(kind, "EndpointSlice")) {
		yaml_node_t *meta = cfg_get(c, root, "metadata");
		const char *svc = meta ? str_at(c, meta, "labels",
						"kubernetes.io/service-name") : NULL;

		return svc && !strcmp(svc, e->name) ? read_slice(e, c, root) : 0;
	}
	return 0;
}

int endpoints_append(struct ep_ref *e, __u32 weight, int n_refs,
		     struct cfg_service *svc, struct cfg_ctx *c,
		     yaml_node_t *at, const char *path)
{
	struct cfg_backend *t;
	char ap[ADDR_STRLEN];
	__u32 w = weight ? 1 : 0;
	int i, j;

	/* Several refs split traffic by their weights (Gateway API), each
	 * ref's share spread evenly over its ready endpoints. */
	if (n_refs > 1 && weight && e->n_ready)
		w = weight * 1000 / e->n_ready ?: 1;
	t = realloc(svc->backends, (svc->n_backends + e->n_eps + 1) * sizeof(*t));
	if (!t)
		return cfg_fail(c, at, path, "out of memory");
	svc->backends = t;
	for (i = 0; i < e->n_eps; i++) {
		struct cfg_backend *b = &svc->backends[svc->n_backends];

		*b = e->eps[i];
		b->weight = b->weight ? w : 0;
		for (j = 0; j < svc->n_backends; j++) {
			if (!memcmp(&t[j].addr, &b->addr, sizeof(b->addr)) &&
			    t[j].port == b->port)
				break;
			if (!strcmp(t[j].name, b->name))	/* one pod, two refs */
				snprintf(b->name, sizeof(b->name), "%s",
					 addr_port_str(&b->addr, b->family,
						       htons(b->port), ap));
		}
		if (j == svc->n_backends)
			svc->n_backends++;
	}
	if (svc->n_backends > MAGLB_MAX_BACKENDS)
		return cfg_fail(c, at, path, "%d endpoints; at most %d",
				svc->n_backends, MAGLB_MAX_BACKENDS);
	if ((__u32)svc->n_backends > svc->table_size)
		return cfg_fail(c, at, path, "%d endpoints do not fit tableSize %u",
				svc->n_backends, svc->table_size);
	return 0;
}

void endpoints_free(struct ep_ref *e)
{
	free(e->eps);
	e->eps = NULL;
	e->n_eps = e->n_ready = 0;
}
