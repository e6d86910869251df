// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gateway.c - Gateway API manifests to maglb services.
 *
 * The input is what a user already runs under Envoy Gateway, unchanged:
 * Gateway (listener port and addresses), HTTPRoute (parentRefs, hostnames,
 * rules with backendRefs), Envoy Gateway's BackendTrafficPolicy
 * (loadBalancer.consistentHash and healthCheck.active, read by the same
 * code as a maglb service's blocks), and Service and EndpointSlice objects
 * for the backends, from the files or the API server (cfg_source).
 *
 * One maglb service per (HTTPRoute rule, listener, address). A listener
 * whose routes match on hostnames or paths (or that has several) becomes a
 * service of its own holding the matches in Gateway API precedence order,
 * and each route a numbered service at the same address; the datapath
 * picks the route from the request head (bpf/lib/route.h). Fields that
 * change behaviour and that maglb cannot honour are errors that name
 * them; fields accepted but not enforced become notes; kinds that do not
 * describe load balancing (ServiceAccount, Deployment...) are noted and
 * skipped. Everything is decided here, before any map is touched.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"
#include "input/addrpool.h"
#include "input/endpoints.h"
#include "input/gateway.h"
#include "input/routes.h"
#include "input/service.h"

#define GW_GROUP	"gateway.networking.k8s.io"
#define EG_GROUP	"gateway.envoyproxy.io"
#define MAX_ADDRS	4

enum obj_kind { K_CLASS, K_GATEWAY, K_ROUTE, K_POLICY, K_GRANT, K_SERVICE, K_SLICE };

struct obj {
	struct cfg_ctx c;
	enum obj_kind kind;
	yaml_node_t *root, *spec;
	const char *name, *ns;
	char label[160];	/* "HTTPRoute default/cookie-route: spec" */
	bool ours;		/* a Gateway of maglb's class (gateway_classes) */
	bool from_api;		/* from the API server: its faults go to status */
	bool bad;		/* a policy that failed its checks (from_api) */
	long generation;	/* metadata.generation */
	int st;			/* its entry in cfg->status, -1: none yet */
	/* a Gateway's addresses, decided by gateway_addresses() */
	union maglb_addr addrs[MAX_ADDRS];
	__u8 fams[MAX_ADDRS];
	int n_addrs;
};

struct member;

struct gw {
	struct obj *objs;
	int n;
	struct member *mem;	/* route services, before grouping */
	int n_mem;
	struct maglb_config *cfg;
	const struct cfg_source *src;
	struct cfg_ctx *dc;	/* the maglb config's document */
	yaml_node_t *defaults;	/* its gateway: block */
	char *err;		/* where cfg_fail writes */
	/* While a route from the API server is turned into services: what
	 * a failure means for its status (see route_status). */
	const char *why;	/* a Gateway API reason */
	bool why_resolved;	/* ResolvedRefs, not Accepted */
	struct attach { struct obj *gw; const char *listener; } *att;
	int n_att;
	char missing[ST_MSG_LEN];	/* a backendRef's Service not found */
};

static const struct { const char *kind, *api; enum obj_kind k; } kinds[] = {
	{ "GatewayClass", GW_GROUP "/", K_CLASS },
	{ "Gateway", GW_GROUP "/", K_GATEWAY },
	{ "HTTPRoute", GW_GROUP "/", K_ROUTE },
	{ "BackendTrafficPolicy", EG_GROUP "/", K_POLICY },
	{ "ReferenceGrant", GW_GROUP "/", K_GRANT },
	{ "Service", "v1", K_SERVICE },
	{ "EndpointSlice", "discovery.k8s.io/v1", K_SLICE },
};

bool gateway_is_object(yaml_document_t *doc)
{
	struct cfg_ctx c = { .doc = doc };
	yaml_node_t *root = yaml_document_get_root_node(doc);

	return root && root->type == YAML_MAPPING_NODE &&
	       cfg_get(&c, root, "kind") && cfg_get(&c, root, "apiVersion");
}

/* A list field: absent is an empty list; anything else must be a list. */
static int get_list(struct cfg_ctx *c, yaml_node_t *map, const char *path,
		    const char *name, char *p, yaml_node_t **out)
{
	*out = cfg_opt(c, map, path, name, p);
	if (*out && (*out)->type != YAML_SEQUENCE_NODE)
		return cfg_fail(c, *out, p, "must be a list");
	return 0;
}

static const char *opt_str(struct cfg_ctx *c, yaml_node_t *map,
			   const char *name, const char *dflt)
{
	const char *s = cfg_scalar(cfg_get(c, map, name));

	return s ? s : dflt;
}

/* Read a document's kind, name and namespace; classify it. Returns 1 for
 * an object we use, 0 for one we skip (noted), -1 on error. */
static int read_object(struct gw *g, struct cfg_ctx *c, yaml_node_t *root,
		       struct obj *o)
{
	yaml_node_t *meta;
	const char *kind = cfg_scalar(cfg_get(c, root, "kind"));
	const char *api = cfg_scalar(cfg_get(c, root, "apiVersion"));
	char p[PATH_LEN];
	unsigned i;

	if (!kind || !api)
		return cfg_fail(c, root, "kind", "kind and apiVersion must be strings");
	memset(o, 0, sizeof(*o));
	o->c = *c;
	o->root = root;
	o->st = -1;
	o->from_api = c->no_lines;	/* built from the API server's JSON */
	if (!(meta = cfg_need(c, root, kind, "metadata", p, "")) ||
	    !(o->name = cfg_scalar(cfg_get(c, meta, "name"))))
		return cfg_fail(c, meta ? meta : root, p, "needs metadata.name");
	o->ns = opt_str(c, meta, "namespace", "default");
	o->generation = strtol(opt_str(c, meta, "generation", "0"), NULL, 10);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t l = strlen(kinds[i].api);

		if (strcmp(kind, kinds[i].kind))
			continue;
		if (kinds[i].api[l - 1] == '/' ? strncmp(api, kinds[i].api, l) :
		    strcmp(api, kinds[i].api))
			return cfg_fail(c, root, "apiVersion", "%s: \"%s\" is not %s%s",
					kind, api, kinds[i].api,
					kinds[i].api[l - 1] == '/' ? "*" : "");
		o->kind = kinds[i].k;
		snprintf(o->label, sizeof(o->label), "%s %s/%s: spec", kind,
			 o->ns, o->name);
		o->spec = cfg_get(c, root, "spec");
		return 1;
	}
	/* Routing and policy kinds change what traffic does: refuse them. */
	if (!strncmp(api, GW_GROUP "/", strlen(GW_GROUP) + 1) ||
	    !strncmp(api, EG_GROUP "/", strlen(EG_GROUP) + 1))
		return cfg_fail(c, root, kind, "%s/%s: this kind is not supported by maglb",
				o->ns, o->name);
	config_note(g->cfg, "%s:%lu: %s %s/%s: skipped (not a load-balancing object)",
		    c->file, (unsigned long)root->start_mark.line + 1, kind,
		    o->ns, o->name);
	return 0;
}

static struct obj *find(struct gw *g, enum obj_kind k, const char *ns,
			const char *name)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->objs[i].kind == k && !strcmp(g->objs[i].ns, ns) &&
		    !strcmp(g->objs[i].name, name))
			return &g->objs[i];
	return NULL;
}

/* ---- Gateway ---------------------------------------------------------- */

struct listener {
	const char *name;
	__u16 port;
	__u8 proto;
	bool all_namespaces;	/* allowedRoutes.namespaces.from: All */
};

static int read_listener(struct gw *g, struct obj *o, yaml_node_t *n,
			 const char *path, struct listener *l)
{
	static const char *const known[] = {
		"name", "protocol", "port", "hostname", "allowedRoutes", NULL };
	static const char *const unsup[] = { "tls", NULL };
	static const struct enum_name protos[] = {
		{ "HTTP", IPPROTO_TCP }, { "TCP", IPPROTO_TCP },
		{ "UDP", IPPROTO_UDP }, {} };
	static const char *const ar_known[] = { "namespaces", "kinds", NULL };
	struct cfg_ctx *c = &o->c;
	char p[PATH_LEN], q[PATH_LEN];
	yaml_node_t *f, *ns;
	int proto = IPPROTO_TCP;
	unsigned long v;
	const char *s;

	if (cfg_check_api_fields(c, n, path, known, unsup))
		return -1;
	if (!(f = cfg_need(c, n, path, "name", p, "")) || cfg_str(c, f, p, &l->name))
		return -1;
	if (!(f = cfg_need(c, n, path, "port", p, "")) ||
	    cfg_uint(c, f, p, 1, 65535, &v))
		return -1;
	l->port = v;
	if (!cfg_need(c, n, path, "protocol", p, "") ||
	    cfg_enum(c, n, "protocol", path, protos, &proto)) {
		s = cfg_scalar(cfg_get(c, n, "protocol"));
		if (s && (!strcmp(s, "HTTPS") || !strcmp(s, "TLS")))
			snprintf(c->err, c->errlen, "%s:%lu: %s.protocol: %s needs TLS termination, which maglb does not do",
				 c->file, (unsigned long)n->start_mark.line + 1, path, s);
		return -1;
	}
	l->proto = proto;
	if ((f = cfg_opt(c, n, path, "hostname", p)))
		config_note(g->cfg, "%s:%lu: %s: accepted, not enforced yet: every request to port %u is balanced",
			    c->file, (unsigned long)f->start_mark.line + 1, p, l->port);
	if ((f = cfg_opt(c, n, path, "allowedRoutes", p))) {
		if (cfg_check_fields(c, f, p, ar_known))
			return -1;
		if ((ns = cfg_opt(c, f, p, "namespaces", q))) {
			s = opt_str(c, ns, "from", "Same");
			if (!strcmp(s, "All"))
				l->all_namespaces = true;
			else if (strcmp(s, "Same"))
				return cfg_fail(c, ns, q, "from: %s is not supported (Same or All)", s);
		}
	}
	return 0;
}

/* ---- status (model/status.h) ------------------------------------------
 *
 * Every object maglb reads gets an entry in cfg->status. An object from the
 * API server that maglb cannot serve is reported there (Accepted: False,
 * with the message file mode prints as an error) and left out, so one bad
 * HTTPRoute never stops the others; from a file, it is an error as
 * before, and the running config stays.
 */
static struct st_object *st_of(struct gw *g, struct obj *o)
{
	static const enum st_kind kinds_st[] = {
		[K_CLASS] = ST_CLASS, [K_GATEWAY] = ST_GATEWAY,
		[K_ROUTE] = ST_ROUTE, [K_POLICY] = ST_POLICY };
	struct st_object *e;

	if (o->st >= 0)
		return &g->cfg->status.objs[o->st];
	e = st_add(&g->cfg->status, kinds_st[o->kind],
		   o->kind == K_CLASS ? "" : o->ns, o->name, o->generation);
	if (!e)
		return NULL;
	e->from_api = o->from_api;
	o->st = g->cfg->status.n - 1;
	return e;
}

/* The error cfg_fail just wrote, for a status message: without the
 * "apiserver KIND NS/NAME: " that names the object the status is on. */
static const char *err_text(struct gw *g)
{
	const char *e = g->err;

	if (!strncmp(e, "apiserver ", 10) && (e = strstr(e, ": ")))
		return e + 2;
	return g->err;
}

/* A fault of an object from the API server: kept for its status, and the
 * error buffer cleared. Returns 0 (go on) for those, -1 for a file's. */
static int fault(struct gw *g, struct obj *o, struct st_cond *c,
		 const char *reason)
{
	if (!o->from_api || !c)
		return -1;
	st_set(c, reason, "%s", err_text(g));
	g->err[0] = 0;
	return 0;
}

/* ---- GatewayClass -----------------------------------------------------
 *
 * maglb serves the Gateways whose GatewayClass names maglb's controller
 * (gateway.controllerName, default MAGLB_CONTROLLER_NAME) and leaves every
 * other Gateway, and the routes attached only to those, alone, as each
 * Gateway API implementation does. Offline, with files that hold no
 * GatewayClass at all (the seed's manifests assume a cluster that has
 * one), every Gateway is taken as maglb's, and a note says so.
 */
/* GatewayClass is cluster-scoped: found by name alone. */
static struct obj *find_class(struct gw *g, const char *name)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->objs[i].kind == K_CLASS && !strcmp(g->objs[i].name, name))
			return &g->objs[i];
	return NULL;
}

static int gateway_classes(struct gw *g)
{
	const char *mine = MAGLB_CONTROLLER_NAME, *cls, *ctl;
	struct obj *c;
	bool any = false;
	char p[PATH_LEN];
	yaml_node_t *f;
	int i;

	if (g->defaults && (f = cfg_opt(g->dc, g->defaults, "gateway", "controllerName", p))) {
		if (cfg_str(g->dc, f, p, &mine))
			return -1;
		if (!strchr(mine, '/') || mine[0] == '/' || strlen(mine) > 253)
			return cfg_fail(g->dc, f, p, "\"%s\" is not DOMAIN/PATH, such as %s",
					mine, MAGLB_CONTROLLER_NAME);
	}
	snprintf(g->cfg->status.controller, sizeof(g->cfg->status.controller), "%s", mine);
	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];

		if (o->kind != K_CLASS)
			continue;
		any = true;
		ctl = cfg_scalar(cfg_get(&o->c, o->spec, "controllerName"));
		if (ctl && !strcmp(ctl, mine) && !st_of(g, o))	/* Accepted */
			return cfg_fail(&o->c, o->root, o->label, "out of memory");
	}
	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];

		if (o->kind != K_GATEWAY)
			continue;
		if (!any) {
			o->ours = true;
			continue;
		}
		cls = cfg_scalar(cfg_get(&o->c, o->spec, "gatewayClassName"));
		c = cls ? find_class(g, cls) : NULL;
		ctl = c ? cfg_scalar(cfg_get(&c->c, c->spec, "controllerName")) : NULL;
		o->ours = ctl && !strcmp(ctl, mine);
		if (o->ours)
			continue;
		if (!cls)
			config_note(g->cfg, "Gateway %s/%s: left alone: no gatewayClassName",
				    o->ns, o->name);
		else if (!c)
			config_note(g->cfg, "Gateway %s/%s: left alone: GatewayClass %s is not among the inputs",
				    o->ns, o->name, cls);
		else
			config_note(g->cfg, "Gateway %s/%s: left alone: GatewayClass %s belongs to %s",
				    o->ns, o->name, cls, ctl ? ctl : "(no controllerName)");
	}
	if (!any)
		for (i = 0; i < g->n; i++)
			if (g->objs[i].kind == K_GATEWAY) {
				config_note(g->cfg, "no GatewayClass among the inputs: every Gateway is taken as %s's",
					    mine);
				break;
			}
	return 0;
}

/* ---- Addresses --------------------------------------------------------
 *
 * A Gateway's addresses are its spec.addresses; else the maglb config's
 * gateway.addresses (the same for every Gateway); else one per family of
 * gateway.addressPool (default ADDR_POOL_DEFAULT). A pool address already
 * in the Gateway's status.addresses is kept, so that an address outlives
 * restarts and pool edits; otherwise it is the slot the Gateway's
 * namespace/name hashes to (addrpool.c). Nothing else of status is read:
 * status is what maglb reports, not what it is told.
 */

/* An address list of type IPAddress: spec.addresses or gateway.addresses. */
static int addr_list(struct cfg_ctx *c, yaml_node_t *list, const char *p,
		     bool typed, struct obj *o)
{
	int i;

	for (i = 0; i < cfg_seq_len(list) && o->n_addrs < MAX_ADDRS; i++) {
		yaml_node_t *e = cfg_seq_at(c, list, i);
		const char *type = typed ? opt_str(c, e, "type", "IPAddress") : "IPAddress";

		if (strcmp(type, "IPAddress"))
			return cfg_fail(c, e, p, "type %s is not supported (IPAddress)", type);
		if (cfg_addr(c, typed ? cfg_get(c, e, "value") : e, p,
			     &o->addrs[o->n_addrs], &o->fams[o->n_addrs]))
			return -1;
		o->n_addrs++;
	}
	return 0;
}

/* Is a held by a Gateway, or by a service of the maglb config? */
static bool addr_claimed(void *arg, const union maglb_addr *a, __u8 fam)
{
	struct gw *g = arg;
	int i, j;

	for (i = 0; i < g->n; i++)
		for (j = 0; g->objs[i].kind == K_GATEWAY && j < g->objs[i].n_addrs; j++)
			if (g->objs[i].fams[j] == fam &&
			    !memcmp(&g->objs[i].addrs[j], a, sizeof(*a)))
				return true;
	for (i = 0; i < g->cfg->n_services; i++)
		if (g->cfg->services[i].family == fam &&
		    !memcmp(&g->cfg->services[i].addr, a, sizeof(*a)))
			return true;
	return false;
}

static bool has_family(const struct obj *o, __u8 fam)
{
	int i;

	for (i = 0; i < o->n_addrs; i++)
		if (o->fams[i] == fam)
			return true;
	return false;
}

/* Gateways in namespace/name order: every node assigns in the same order. */
static int cmp_gateway(const void *x, const void *y)
{
	const struct obj *a = *(struct obj *const *)x, *b = *(struct obj *const *)y;
	int r = strcmp(a->ns, b->ns);

	return r ? r : strcmp(a->name, b->name);
}

static int gateway_addresses(struct gw *g)
{
	struct addr_pool pools[MAX_ADDRS];
	struct obj **from_pool = NULL;
	yaml_node_t *list = NULL;
	int i, j, k, n_pools = 0, n = 0, rc = 0;
	char p[PATH_LEN];

	if (g->defaults && get_list(g->dc, g->defaults, "gateway", "addressPool", p, &list))
		return -1;
	for (i = 0; i < cfg_seq_len(list); i++) {
		yaml_node_t *e = cfg_seq_at(g->dc, list, i);

		snprintf(p, sizeof(p), "gateway.addressPool[%d]", i);
		if (i >= MAX_ADDRS)
			return cfg_fail(g->dc, e, p, "at most %d pools", MAX_ADDRS);
		if (addr_pool_parse(cfg_scalar(e), &pools[i]))
			return cfg_fail(g->dc, e, p, "\"%s\" is not a CIDR with its host bits zero, such as %s",
					cfg_scalar(e) ?: "", ADDR_POOL_DEFAULT);
		n_pools++;
	}
	if (!n_pools)
		addr_pool_parse(ADDR_POOL_DEFAULT, &pools[n_pools++]);

	from_pool = calloc(g->n ?: 1, sizeof(*from_pool));
	if (!from_pool)
		return -1;
	for (i = 0; i < g->n && !rc; i++) {
		struct obj *o = &g->objs[i];
		yaml_node_t *given = o->kind == K_GATEWAY ?
				     cfg_get(&o->c, o->spec, "addresses") : NULL;

		if (o->kind != K_GATEWAY || !o->ours)
			continue;
		snprintf(p, sizeof(p), "%s.addresses", o->label);
		if (cfg_seq_len(given)) {
			rc = addr_list(&o->c, given, p, true, o);
			if (rc && !(rc = fault(g, o, &st_of(g, o)->accepted, "UnsupportedAddress")))
				o->ours = false;	/* reported; nothing served */
		} else if (g->defaults &&
			 cfg_seq_len(given = cfg_get(g->dc, g->defaults, "addresses")))
			rc = addr_list(g->dc, given, "gateway.addresses", false, o);
		else
			from_pool[n++] = o;
	}
	qsort(from_pool, n, sizeof(*from_pool), cmp_gateway);
	/* First what status already holds, if a pool still covers it. */
	for (i = 0; i < n && !rc; i++) {
		struct obj *o = from_pool[i];
		yaml_node_t *st = cfg_get(&o->c, cfg_get(&o->c, o->root, "status"), "addresses");

		for (j = 0; j < cfg_seq_len(st) && o->n_addrs < MAX_ADDRS; j++) {
			const char *v = cfg_scalar(cfg_get(&o->c, cfg_seq_at(&o->c, st, j), "value"));
			union maglb_addr a;
			__u8 fam = v ? addr_parse(v, &a) : 0;

			for (k = 0; fam && k < n_pools; k++) {
				if (!addr_pool_contains(&pools[k], &a, fam) ||
				    has_family(o, fam) || addr_claimed(g, &a, fam))
					continue;
				o->addrs[o->n_addrs] = a;
				o->fams[o->n_addrs++] = fam;
			}
		}
	}
	/* Then a slot for each family still missing, the pools in order. */
	for (i = 0; i < n && !rc; i++) {
		struct obj *o = from_pool[i];
		char key[2 * MAGLB_NAME_LEN];

		snprintf(key, sizeof(key), "%s/%s", o->ns, o->name);
		for (k = 0; k < n_pools && o->n_addrs < MAX_ADDRS; k++) {
			if (has_family(o, pools[k].family))
				continue;
			if (!addr_pool_pick(&pools[k], key, addr_claimed, g,
					    &o->addrs[o->n_addrs]))
				o->fams[o->n_addrs++] = pools[k].family;
		}
		if (!o->n_addrs) {
			rc = cfg_fail(&o->c, o->root, o->label,
				      "Gateway %s/%s has no address: gateway.addressPool is used up; set spec.addresses, or widen the pool",
				      o->ns, o->name);
			if (!(rc = fault(g, o, &st_of(g, o)->accepted, "AddressNotAssigned")))
				o->ours = false;
		}
	}
	free(from_pool);
	/* What status.addresses will say. */
	for (i = 0; i < g->n && !rc; i++) {
		struct obj *o = &g->objs[i];
		struct st_object *e;

		if (o->kind != K_GATEWAY || !o->ours)
			continue;
		if (!(e = st_of(g, o)))
			return -1;
		memcpy(e->addrs, o->addrs, sizeof(e->addrs));
		memcpy(e->fams, o->fams, sizeof(e->fams));
		e->n_addrs = o->n_addrs;
	}
	return rc;
}

/* Each listener of our Gateways, for status: what read_listener thinks of
 * it. Never an error here: a file's bad listener is one when a route
 * attaches to it (route_parent), as before. */
static int gateway_listeners(struct gw *g)
{
	int i, j, notes = g->cfg->n_notes;	/* route_parent notes them */

	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];
		struct st_object *e;
		yaml_node_t *lsn;
		char p[PATH_LEN];

		if (o->kind != K_GATEWAY || !o->ours)
			continue;
		if (!(e = st_of(g, o)))
			return -1;
		if (get_list(&o->c, o->spec, o->label, "listeners", p, &lsn)) {
			st_set(&e->accepted, "Invalid", "%s", err_text(g));
			g->err[0] = 0;
			continue;
		}
		for (j = 0; j < cfg_seq_len(lsn) && j < ST_MAX_LISTENERS; j++) {
			struct st_listener *sl = &e->listeners[e->n_listeners++];
			yaml_node_t *n = cfg_seq_at(&o->c, lsn, j);
			struct listener l = {};
			char lp[PATH_LEN];

			snprintf(lp, sizeof(lp), "%s[%d]", p, j);
			snprintf(sl->name, sizeof(sl->name), "%s",
				 opt_str(&o->c, n, "name", ""));
			sl->accepted.ok = sl->resolved.ok = true;
			if (read_listener(g, o, n, lp, &l)) {
				const char *proto = opt_str(&o->c, n, "protocol", "");

				st_set(&sl->accepted, strcmp(proto, "HTTP") && strcmp(proto, "TCP") &&
				       strcmp(proto, "UDP") ? "UnsupportedProtocol" : "UnsupportedValue",
				       "%s", err_text(g));
				g->err[0] = 0;
			}
		}
	}
	g->cfg->n_notes = notes;
	return 0;
}

/* ---- BackendTrafficPolicy -------------------------------------------- */

/* Does the policy target this route (2) or its Gateway (1)? */
static int policy_targets(struct obj *p, const struct obj *route,
			  const char *gw_ns, const char *gw_name)
{
	static const char *const keys[] = { "targetRef", "targetRefs" };
	struct cfg_ctx *c = &p->c;
	int best = 0, i, j;

	for (i = 0; i < 2; i++) {
		yaml_node_t *n = cfg_get(c, p->spec, keys[i]);
		int k = i ? cfg_seq_len(n) : (n ? 1 : 0);

		for (j = 0; j < k; j++) {
			yaml_node_t *t = i ? cfg_seq_at(c, n, j) : n;
			const char *kind = opt_str(c, t, "kind", "");
			const char *name = opt_str(c, t, "name", "");

			if (!strcmp(kind, "HTTPRoute") && !strcmp(p->ns, route->ns) &&
			    !strcmp(name, route->name))
				best = 2;
			else if (!strcmp(kind, "Gateway") && !strcmp(p->ns, gw_ns) &&
				 !strcmp(name, gw_name) && best < 1)
				best = 1;
		}
	}
	return best;
}

static int check_policy(struct obj *p)
{
	static const char *const known[] = {
		"targetRef", "targetRefs", "loadBalancer", "healthCheck", NULL };
	static const char *const unsup[] = {
		"targetSelectors", "circuitBreaker", "retry", "timeout",
		"faultInjection", "rateLimit", "proxyProtocol", "tcpKeepalive",
		"connection", "dns", "http2", "compression", "useClientProtocol",
		"mergeType", "responseOverride", "requestBuffer", "telemetry",
		"routingType", "httpUpgrade", NULL };
	static const char *const ref_known[] = {
		"group", "kind", "name", "sectionName", NULL };
	struct cfg_ctx *c = &p->c;
	char q[PATH_LEN];
	yaml_node_t *t, *l;
	int i;

	if (!p->spec)
		return cfg_fail(c, p->root, p->label, "required");
	if (cfg_check_api_fields(c, p->spec, p->label, known, unsup))
		return -1;
	if ((t = cfg_opt(c, p->spec, p->label, "targetRef", q)) &&
	    cfg_check_fields(c, t, q, ref_known))
		return -1;
	if (get_list(c, p->spec, p->label, "targetRefs", q, &l))
		return -1;
	for (i = 0; i < cfg_seq_len(l); i++)
		if (cfg_check_fields(c, cfg_seq_at(c, l, i), q, ref_known))
			return -1;
	if (!t && !cfg_seq_len(l))
		return cfg_fail(c, p->spec, p->label, "needs targetRefs");
	return 0;
}

/* The route's policy: one aimed at the route wins over one aimed at its
 * Gateway (Envoy Gateway's precedence); two at the same level conflict. */
static int route_policy(struct gw *g, const struct obj *route,
			const struct obj *gwo, struct obj **out)
{
	int i, best = 0, lvl;

	*out = NULL;
	for (i = 0; i < g->n; i++) {
		struct obj *p = &g->objs[i];

		if (p->kind != K_POLICY || p->bad)
			continue;
		lvl = policy_targets(p, route, gwo->ns, gwo->name);
		if (!lvl || lvl < best)
			continue;
		if (lvl == best) {
			struct obj *q = *out;

			cfg_fail(&p->c, p->root, p->label,
				 "targets HTTPRoute %s/%s as BackendTrafficPolicy %s/%s does; give it one policy",
				 route->ns, route->name, q->ns, q->name);
			if (!p->from_api && !q->from_api)
				return -1;
			/* Both are reported, and neither applies. */
			st_set(&st_of(g, q)->accepted, "Conflicted", "%s", err_text(g));
			st_set(&st_of(g, p)->accepted, "Conflicted", "%s", err_text(g));
			g->err[0] = 0;
			p->bad = q->bad = true;
			*out = NULL;
			return route_policy(g, route, gwo, out);
		}
		best = lvl;
		*out = p;
	}
	return 0;
}

/* ---- HTTPRoute -------------------------------------------------------- */

static int check_route(struct obj *r, yaml_node_t **rules)
{
	static const char *const known[] = {
		"parentRefs", "hostnames", "rules", NULL };
	static const char *const rule_known[] = {
		"name", "matches", "backendRefs", NULL };
	static const char *const rule_unsup[] = {
		"filters", "timeouts", "retry", "sessionPersistence", NULL };
	static const char *const match_known[] = { "path", NULL };
	static const char *const match_unsup[] = {
		"headers", "queryParams", "method", NULL };
	struct cfg_ctx *c = &r->c;
	char p[PATH_LEN], q[PATH_LEN], m[PATH_LEN];
	yaml_node_t *ms;
	int i, j;

	if (!r->spec)
		return cfg_fail(c, r->root, r->label, "required");
	if (cfg_check_api_fields(c, r->spec, r->label, known, NULL) ||
	    get_list(c, r->spec, r->label, "rules", p, rules))
		return -1;
	if (!cfg_seq_len(*rules))
		return cfg_fail(c, r->spec, p, "needs a rule with backendRefs");
	for (i = 0; i < cfg_seq_len(*rules); i++) {
		yaml_node_t *ru = cfg_seq_at(c, *rules, i);

		snprintf(q, sizeof(q), "%s[%d]", p, i);
		if (cfg_check_api_fields(c, ru, q, rule_known, rule_unsup) ||
		    get_list(c, ru, q, "matches", m, &ms))
			return -1;
		/* before the walk: rules can be aliases of one long list */
		if (cfg_seq_len(ms) > MAGLB_MAX_MATCHES)
			return cfg_fail(c, ms, m, "%d matches; a listener holds at most %d route matches",
					cfg_seq_len(ms), MAGLB_MAX_MATCHES);
		for (j = 0; j < cfg_seq_len(ms); j++) {
			char mp[PATH_LEN];

			snprintf(mp, sizeof(mp), "%s[%d]", m, j);
			if (cfg_check_api_fields(c, cfg_seq_at(c, ms, j), mp,
						 match_known, match_unsup))
				return -1;
		}
	}
	return 0;
}

/*
 * The route's hostnames times the rule's matches. A listener holds at most
 * MAGLB_MAX_MATCHES of them in all, so a rule that has more on its own is
 * refused before anything is allocated: YAML aliases make a list of 65,536
 * hostnames a few hundred KB, and the product of two such lists does not
 * fit an int (nor, multiplied by the size of a match, memory).
 */
static int rule_matches(struct obj *r, yaml_node_t *rule, const char *path,
			struct cfg_match **out, int *n)
{
	struct cfg_ctx *c = &r->c;
	yaml_node_t *hosts = cfg_get(c, r->spec, "hostnames");
	yaml_node_t *ms = cfg_get(c, rule, "matches");
	size_t nh = (size_t)cfg_seq_len(hosts) ?: 1, nm = (size_t)cfg_seq_len(ms) ?: 1;
	size_t h, k, total;
	char p[PATH_LEN];

	*out = NULL;
	if (__builtin_mul_overflow(nh, nm, &total) || total > MAGLB_MAX_MATCHES)
		return cfg_fail(c, rule, path, "%zu hostnames x %zu matches; a listener holds at most %d route matches",
				nh, nm, MAGLB_MAX_MATCHES);
	*out = calloc(total, sizeof(**out));
	if (!*out)
		return cfg_fail(c, rule, path, "out of memory");
	*n = total;
	for (h = 0; h < nh; h++) {
		for (k = 0; k < nm; k++) {
			struct cfg_match *m = &(*out)[h * nm + k];
			yaml_node_t *pm;

			snprintf(p, sizeof(p), "%s.hostnames[%zu]", r->label, h);
			if (cfg_seq_len(hosts) &&
			    route_read_hostname(c, cfg_seq_at(c, hosts, h), p, m))
				goto fail;
			snprintf(p, sizeof(p), "%s.matches[%zu].path", path, k);
			pm = cfg_seq_len(ms) ? cfg_get(c, cfg_seq_at(c, ms, k), "path") : NULL;
			if (pm && route_read_path(c, pm, p, m))
				goto fail;
		}
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	return -1;
}

/* The listeners of parentRefs[i] that this route attaches to. */
static int route_parent(struct gw *g, struct obj *r, yaml_node_t *ref,
			const char *path, struct obj **gwo,
			struct listener *ls, int max)
{
	static const char *const known[] = {
		"group", "kind", "namespace", "name", "sectionName", "port", NULL };
	struct cfg_ctx *c = &r->c;
	const char *ns, *name, *section;
	char p[PATH_LEN];
	yaml_node_t *lsn, *f;
	unsigned long port = 0;
	int i, k = 0;

	if (cfg_check_fields(c, ref, path, known))
		return -1;
	if (strcmp(opt_str(c, ref, "kind", "Gateway"), "Gateway"))
		return cfg_fail(c, ref, path, "kind: only Gateway parents are supported");
	if (!(f = cfg_need(c, ref, path, "name", p, "")) || cfg_str(c, f, p, &name))
		return -1;
	ns = opt_str(c, ref, "namespace", r->ns);
	section = opt_str(c, ref, "sectionName", NULL);
	if ((f = cfg_opt(c, ref, path, "port", p)) &&
	    cfg_uint(c, f, p, 1, 65535, &port))
		return -1;
	*gwo = find(g, K_GATEWAY, ns, name);
	if (!*gwo && r->from_api)
		return 0;	/* not one we know: not ours to report on */
	if (!*gwo)
		return cfg_fail(c, ref, path, "Gateway %s/%s is not among the manifests", ns, name);
	if (!(*gwo)->ours)
		return 0;	/* another implementation's: gateway_classes noted it */
	if (!(*gwo)->spec)
		return cfg_fail(&(*gwo)->c, (*gwo)->root, (*gwo)->label, "required");
	if (get_list(&(*gwo)->c, (*gwo)->spec, (*gwo)->label, "listeners", p, &lsn))
		return -1;
	for (i = 0; i < cfg_seq_len(lsn) && k < max; i++) {
		struct listener l = {};
		char lp[PATH_LEN];

		snprintf(lp, sizeof(lp), "%s[%d]", p, i);
		if (read_listener(g, *gwo, cfg_seq_at(&(*gwo)->c, lsn, i), lp, &l)) {
			if (!r->from_api)
				return -1;
			g->err[0] = 0;	/* the Gateway's status says why */
			continue;
		}
		if ((section && strcmp(section, l.name)) || (port && port != l.port))
			continue;
		if (!l.all_namespaces && strcmp(ns, r->ns))
			continue;	/* allowedRoutes: Same */
		ls[k++] = l;
	}
	if (!k) {
		g->why = "NoMatchingParent";
		return cfg_fail(c, ref, path, "matches no listener of Gateway %s/%s that admits routes from namespace %s",
				ns, name, r->ns);
	}
	return k;
}

/* ---- backends --------------------------------------------------------- */

/* Does a ReferenceGrant in to_ns let route r (an HTTPRoute) refer to
 * Service to_ns/name? Gateway API: spec.from names the referring group,
 * kind and namespace; spec.to the group and kind, and a name if only one
 * object may be referred to. */
static bool granted(struct gw *g, const struct obj *r, const char *to_ns,
		    const char *name)
{
	int i, j;

	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];
		struct cfg_ctx *c = &o->c;
		yaml_node_t *from = cfg_get(c, o->spec, "from"), *to = cfg_get(c, o->spec, "to");
		bool f = false, t = false;

		if (o->kind != K_GRANT || strcmp(o->ns, to_ns))
			continue;
		for (j = 0; j < cfg_seq_len(from) && !f; j++) {
			yaml_node_t *e = cfg_seq_at(c, from, j);

			f = !strcmp(opt_str(c, e, "group", ""), GW_GROUP) &&
			    !strcmp(opt_str(c, e, "kind", ""), "HTTPRoute") &&
			    !strcmp(opt_str(c, e, "namespace", ""), r->ns);
		}
		for (j = 0; j < cfg_seq_len(to) && !t; j++) {
			yaml_node_t *e = cfg_seq_at(c, to, j);
			const char *n = opt_str(c, e, "name", NULL);

			t = !strcmp(opt_str(c, e, "group", "-"), "") &&
			    !strcmp(opt_str(c, e, "kind", ""), "Service") &&
			    (!n || !strcmp(n, name));
		}
		if (f && t)
			return true;
	}
	return false;
}

struct src_arg {
	struct ep_ref *e;
	struct cfg_ctx *tmpl;	/* for the error buffer */
};

static int from_source(void *arg, const char *label, yaml_document_t *doc)
{
	struct src_arg *s = arg;
	struct cfg_ctx c = { .file = label, .no_lines = true, .doc = doc,
			     .err = s->tmpl->err, .errlen = s->tmpl->errlen };

	return endpoints_object(s->e, &c, yaml_document_get_root_node(doc));
}

static int feed(struct gw *g, struct ep_ref *e, enum obj_kind k)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->objs[i].kind == k &&
		    endpoints_object(e, &g->objs[i].c, g->objs[i].root))
			return -1;
	return 0;
}

/* The rule's backendRefs: Services, resolved through their EndpointSlices
 * from the files and from the API server. */
static int route_backends(struct gw *g, struct obj *r, yaml_node_t *rule,
			  struct cfg_service *svc)
{
	static const char *const known[] = {
		"group", "kind", "namespace", "name", "port", "weight", NULL };
	static const char *const unsup[] = { "filters", NULL };
	struct cfg_ctx *c = &r->c;
	char p[PATH_LEN], rp[PATH_LEN], q[PATH_LEN];
	yaml_node_t *refs, *f;
	int i, k;

	snprintf(rp, sizeof(rp), "%s.rules[].backendRefs", r->label);
	if (get_list(c, rule, r->label, "backendRefs", p, &refs))
		return -1;
	k = cfg_seq_len(refs);
	for (i = 0; i < k; i++) {
		yaml_node_t *ref = cfg_seq_at(c, refs, i);
		struct ep_ref e = { .family = svc->family };
		struct src_arg sa = { &e, c };
		unsigned long port, weight = 1;
		int rc;

		snprintf(p, sizeof(p), "%s[%d]", rp, i);
		if (cfg_check_api_fields(c, ref, p, known, unsup))
			return -1;
		if (strcmp(opt_str(c, ref, "kind", "Service"), "Service") ||
		    strcmp(opt_str(c, ref, "group", ""), ""))
			return cfg_fail(c, ref, p, "only Service backends are supported");
		if (!(f = cfg_need(c, ref, p, "name", q, "")) || cfg_str(c, f, q, &e.name))
			return -1;
		e.ns = opt_str(c, ref, "namespace", r->ns);
		if (strcmp(e.ns, r->ns) && !granted(g, r, e.ns, e.name)) {
			g->why = "RefNotPermitted";
			g->why_resolved = true;
			return cfg_fail(c, ref, p, "Service %s/%s: a Service in another namespace needs a ReferenceGrant in %s that lets HTTPRoutes of %s refer to it",
					e.ns, e.name, e.ns, r->ns);
		}
		if (!(f = cfg_need(c, ref, p, "port", q, " (a Service port)")) ||
		    cfg_uint(c, f, q, 1, 65535, &port))
			return -1;
		e.port = port;
		if ((f = cfg_opt(c, ref, p, "weight", q)) &&
		    cfg_uint(c, f, q, 0, 1000000, &weight))
			return -1;
		rc = feed(g, &e, K_SERVICE);
		if (!rc && g->src)
			rc = g->src->objects(g->src->arg, e.ns, e.name, from_source, &sa);
		if (!rc)
			rc = feed(g, &e, K_SLICE);
		if (!rc && !e.have_service && !e.n_eps) {
			config_note(g->cfg, "%s: Service %s/%s: not found, no backends yet",
				    p, e.ns, e.name);
			snprintf(g->missing, sizeof(g->missing),
				 "Service %s/%s: not found, no backends yet", e.ns, e.name);
		}
		if (!rc)
			rc = endpoints_append(&e, weight, k, svc, c, ref, p);
		endpoints_free(&e);
		if (rc)
			return -1;
	}
	return 0;
}

/* ---- services --------------------------------------------------------- */

/* forwarding, snat and closeConnectionsOnRemoval from gateway: */
static int apply_defaults(struct gw *g, struct cfg_service *svc)
{
	static const char *const known[] = {
		"addresses", "addressPool", "controllerName", "forwarding", "snat",
		"closeConnectionsOnRemoval", "noRouteMatch", "mtu", NULL };
	static const struct enum_name fwds[] = {
		{ "nat", MAGLB_FWD_NAT }, { "snat", MAGLB_FWD_SNAT }, {} };
	struct cfg_ctx *c = g->dc;
	yaml_node_t *d = g->defaults, *f, *snat = NULL;
	int fwd = MAGLB_FWD_NAT, i;
	char p[PATH_LEN];

	if (d) {
		if (cfg_check_fields(c, d, "gateway", known) ||
		    cfg_enum(c, d, "forwarding", "gateway", fwds, &fwd))
			return -1;
		if ((f = cfg_opt(c, d, "gateway", "closeConnectionsOnRemoval", p)) &&
		    cfg_bool(c, f, p, &svc->close_on_removal))
			return -1;
		if ((f = cfg_opt(c, d, "gateway", "mtu", p))) {
			unsigned long v;

			if (cfg_uint(c, f, p, CFG_MTU_MIN, CFG_MTU_MAX, &v))
				return -1;
			svc->mtu = v;
		}
		if (get_list(c, d, "gateway", "snat", p, &f))
			return -1;
		/* the snat entry of the VIP's family */
		for (i = 0; i < cfg_seq_len(f) && !snat; i++) {
			union maglb_addr a;
			__u8 fam;

			snat = cfg_seq_at(c, f, i);
			if (cfg_addr(c, cfg_get(c, snat, "address"), p, &a, &fam))
				return -1;
			if (fam != svc->family)
				snat = NULL;
		}
	}
	svc->forwarding = fwd;
	snprintf(p, sizeof(p), "gateway.snat (for %s)", svc->name);
	return parse_snat(c, snat, p, svc);
}

/* A route's service, waiting to be grouped with the others on its
 * listener (group_listeners). */
struct member {
	int svc;			/* index into cfg->services */
	struct obj *route, *gw;
	const char *listener;
	int rule;
	struct cfg_match *m;
	int n_m;
};

static int add_member(struct gw *g, const struct member *mb)
{
	struct member *t = realloc(g->mem, (g->n_mem + 1) * sizeof(*t));

	if (!t)
		return -1;
	g->mem = t;
	g->mem[g->n_mem++] = *mb;
	return 0;
}

/* The status entry for one parentRef of r, when it names one of our
 * Gateways: Accepted and ResolvedRefs until something says otherwise. */
static int route_ref(struct gw *g, struct obj *r, yaml_node_t *ref)
{
	struct cfg_ctx *c = &r->c;
	const char *ns = opt_str(c, ref, "namespace", r->ns);
	const char *name = opt_str(c, ref, "name", "");
	struct obj *gwo = find(g, K_GATEWAY, ns, name);
	struct st_object *e = st_of(g, r);
	struct st_ref *sr;

	if (!e)
		return -1;
	if (!gwo || !gwo->ours || e->n_refs >= ST_MAX_PARENTS)
		return 0;
	sr = &e->refs[e->n_refs++];
	snprintf(sr->kind, sizeof(sr->kind), "Gateway");
	snprintf(sr->ns, sizeof(sr->ns), "%s", ns);
	snprintf(sr->name, sizeof(sr->name), "%s", name);
	snprintf(sr->section, sizeof(sr->section), "%s", opt_str(c, ref, "sectionName", ""));
	sr->port = strtoul(opt_str(c, ref, "port", "0"), NULL, 10);
	sr->accepted.ok = sr->resolved.ok = true;
	return 0;
}

static int add_services(struct gw *g, struct obj *r);

/* One route's services. From the API server, a route maglb cannot serve
 * is reported on each of its parents, what it had added is taken back,
 * and the others go on. */
static int route_status(struct gw *g, struct obj *r)
{
	struct maglb_config *cfg = g->cfg;
	int n_svc = cfg->n_services, n_mem = g->n_mem, i, j;
	struct st_object *e = st_of(g, r);
	yaml_node_t *parents;

	if (!e)
		return -1;
	g->why = "UnsupportedValue";
	g->why_resolved = false;
	g->n_att = 0;
	g->missing[0] = 0;
	i = add_services(g, r);
	e = st_of(g, r);	/* the report may have grown meanwhile */
	if (i) {
		if (!r->from_api)
			return -1;
		while (cfg->n_services > n_svc) {
			struct cfg_service *s = &cfg->services[--cfg->n_services];

			free(s->backends);
			free(s->matches);
		}
		while (g->n_mem > n_mem)
			free(g->mem[--g->n_mem].m);
		/* It failed before its parents were read: report on each. */
		parents = cfg_get(&r->c, r->spec, "parentRefs");
		for (i = 0; !e->n_refs && i < cfg_seq_len(parents); i++)
			if (route_ref(g, r, cfg_seq_at(&r->c, parents, i)))
				return -1;
		e = st_of(g, r);
		for (i = 0; i < e->n_refs; i++)
			st_set(g->why_resolved ? &e->refs[i].resolved : &e->refs[i].accepted,
			       g->why, "%s", err_text(g));
		g->err[0] = 0;
		return 0;
	}
	for (i = 0; i < e->n_refs && g->missing[0]; i++)
		st_set(&e->refs[i].resolved, "BackendNotFound", "%s", g->missing);
	/* attachedRoutes: once per route and listener */
	for (i = 0; i < g->n_att; i++) {
		struct st_object *ge = st_of(g, g->att[i].gw);
		bool seen = false;

		for (j = 0; j < i; j++)
			seen |= g->att[j].gw == g->att[i].gw &&
				!strcmp(g->att[j].listener, g->att[i].listener);
		for (j = 0; ge && !seen && j < ge->n_listeners; j++)
			if (!strcmp(ge->listeners[j].name, g->att[i].listener))
				ge->listeners[j].attached++;
	}
	return 0;
}

static int add_services(struct gw *g, struct obj *r)
{
	struct listener ls[8];
	struct obj *gwo = NULL, *pol;
	yaml_node_t *parents, *rules = NULL;
	char p[PATH_LEN];
	int i, j, a, k, na, ri;

	if (check_route(r, &rules) ||
	    get_list(&r->c, r->spec, r->label, "parentRefs", p, &parents))
		return -1;
	if (!cfg_seq_len(parents))
		return cfg_fail(&r->c, r->spec, p, "needs a Gateway parent");
	for (i = 0; i < cfg_seq_len(parents); i++) {
		char rp[PATH_LEN];

		snprintf(rp, sizeof(rp), "%s[%d]", p, i);
		if (route_ref(g, r, cfg_seq_at(&r->c, parents, i)))
			return cfg_fail(&r->c, r->root, r->label, "out of memory");
		k = route_parent(g, r, cfg_seq_at(&r->c, parents, i), rp, &gwo, ls, 8);
		if (k < 0)
			return -1;
		if (!k)
			continue;
		for (j = 0; j < k; j++) {
			struct attach *t = realloc(g->att, (g->n_att + 1) * sizeof(*t));

			if (!t)
				return cfg_fail(&r->c, r->root, r->label, "out of memory");
			g->att = t;
			g->att[g->n_att++] = (struct attach){ gwo, ls[j].name };
		}
		if (route_policy(g, r, gwo, &pol))
			return -1;
		na = gwo->n_addrs;
		for (j = 0; j < k; j++) for (a = 0; a < na; a++) for (ri = 0; ri < cfg_seq_len(rules); ri++) {
			yaml_node_t *rule = cfg_seq_at(&r->c, rules, ri);
			struct cfg_service *svc = config_add_service(g->cfg);
			const char *rname = opt_str(&r->c, rule, "name", NULL);
			struct member mb = { .route = r, .gw = gwo,
					     .listener = ls[j].name, .rule = ri };
			char sp[PATH_LEN];
			size_t l;

			if (!svc)
				return cfg_fail(&r->c, r->root, r->label, "too many services");
			mb.svc = g->cfg->n_services - 1;
			/* The route's name, as Envoy Gateway's own stats
			 * name the route; suffixes only when a route needs
			 * several services. */
			snprintf(svc->name, sizeof(svc->name), "%s", r->name);
			l = strlen(svc->name);
			if (ri && rname)
				l += snprintf(svc->name + l, sizeof(svc->name) - l, "-%s", rname);
			else if (ri)
				l += snprintf(svc->name + l, sizeof(svc->name) - l, "-%d", ri);
			if (gwo->fams[a] == 6)
				l += snprintf(svc->name + l, sizeof(svc->name) - l, "-v6");
			if (k > 1 || cfg_seq_len(parents) > 1)
				snprintf(svc->name + l, sizeof(svc->name) - l, "-%u", ls[j].port);
			svc->addr = gwo->addrs[a];
			svc->family = gwo->fams[a];
			svc->port = ls[j].port;
			svc->proto = ls[j].proto;
			if (apply_defaults(g, svc))
				return -1;
			if (pol) {
				snprintf(sp, sizeof(sp), "%s.loadBalancer", pol->label);
				if (check_policy(pol) ||
				    parse_hash(&pol->c, cfg_get(&pol->c, pol->spec, "loadBalancer"), sp, svc))
					return -1;
				snprintf(sp, sizeof(sp), "%s.healthCheck", pol->label);
				if (parse_health(&pol->c, cfg_get(&pol->c, pol->spec, "healthCheck"), sp, &svc->health))
					return -1;
			} else if (parse_hash(&r->c, NULL, "", svc)) {
				return -1;
			}
			snprintf(sp, sizeof(sp), "%s.rules[%d]", r->label, ri);
			if (route_backends(g, r, rule, svc) ||
			    rule_matches(r, rule, sp, &mb.m, &mb.n_m))
				return -1;
			if (add_member(g, &mb)) {
				free(mb.m);
				return cfg_fail(&r->c, r->root, r->label, "out of memory");
			}
		}
	}
	return 0;
}

/* Every policy's checks, before any route: one from the API server that
 * fails them is reported and left out, so the routes it targets are served
 * as if it were not there (SourceIP). */
static int policies_check(struct gw *g)
{
	char sp[PATH_LEN];
	int i, rc;

	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];
		struct cfg_service tmp = { .proto = IPPROTO_TCP };

		if (o->kind != K_POLICY)
			continue;
		if (!st_of(g, o))
			return -1;
		rc = check_policy(o);
		snprintf(sp, sizeof(sp), "%s.loadBalancer", o->label);
		if (!rc)
			rc = parse_hash(&o->c, cfg_get(&o->c, o->spec, "loadBalancer"), sp, &tmp);
		snprintf(sp, sizeof(sp), "%s.healthCheck", o->label);
		if (!rc)
			rc = parse_health(&o->c, cfg_get(&o->c, o->spec, "healthCheck"), sp,
					  &tmp.health);
		if (rc && fault(g, o, &st_of(g, o)->accepted, "Invalid"))
			return -1;
		o->bad = rc;
	}
	return 0;
}

/* A policy's ancestors: what it targets, with its verdict on each. */
static void policy_ancestors(struct gw *g)
{
	static const char *const keys[] = { "targetRef", "targetRefs" };
	int i, j, t;

	for (i = 0; i < g->n; i++) {
		struct obj *o = &g->objs[i];
		struct st_object *e;

		if (o->kind != K_POLICY || !(e = st_of(g, o)))
			continue;
		for (t = 0; t < 2; t++) {
			yaml_node_t *n = cfg_get(&o->c, o->spec, keys[t]);
			int k = t ? cfg_seq_len(n) : (n ? 1 : 0);

			for (j = 0; j < k && e->n_refs < ST_MAX_PARENTS; j++) {
				yaml_node_t *tr = t ? cfg_seq_at(&o->c, n, j) : n;
				struct st_ref *r = &e->refs[e->n_refs++];

				snprintf(r->kind, sizeof(r->kind), "%s", opt_str(&o->c, tr, "kind", ""));
				snprintf(r->ns, sizeof(r->ns), "%s", o->ns);
				snprintf(r->name, sizeof(r->name), "%s", opt_str(&o->c, tr, "name", ""));
				snprintf(r->section, sizeof(r->section), "%s",
					 opt_str(&o->c, tr, "sectionName", ""));
				r->accepted = e->accepted;
				r->resolved.ok = true;
			}
		}
	}
}

static bool same_listener(const struct cfg_service *a, const struct cfg_service *b)
{
	return a->family == b->family && a->port == b->port &&
	       a->proto == b->proto && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static bool matches_all(const struct member *mb)
{
	int i;

	for (i = 0; i < mb->n_m; i++)
		if (mb->m[i].host_match || mb->m[i].path_match)
			return false;
	return mb->n_m > 0;
}

/*
 * Routes on one listener: a single route that matches everything stays a
 * plain service at the listener's address. Otherwise the listener becomes
 * a service of its own (<gateway>-<listener>) holding the matches, and
 * each route its service number N (route = N) at the same address.
 */
static int group_listeners(struct gw *g, int first_svc)
{
	static const struct enum_name answers[] = {
		{ "NotFound", 0 }, { "Reset", 1 }, {} };
	bool *done = calloc(g->n_mem ?: 1, sizeof(*done));
	struct route_rank *rk = NULL;
	int i, j, k, n, reset = 0, rc = -1;

	if (!done)
		return -1;
	if (g->defaults && cfg_enum(g->dc, g->defaults, "noRouteMatch", "gateway",
				    answers, &reset))
		goto out;
	for (i = 0; i < g->n_mem; i++) {
		struct cfg_service *lst, *s0;
		struct member *m0 = &g->mem[i];
		int key_from = -1, route = 0;

		if (done[i])
			continue;
		for (n = 0, j = i; j < g->n_mem; j++)
			if (!done[j] && same_listener(&g->cfg->services[g->mem[j].svc],
						      &g->cfg->services[m0->svc]))
				n += g->mem[j].n_m;
		if (n == m0->n_m && matches_all(m0)) {
			done[i] = true;	/* one route, everything: plain */
			continue;
		}
		if (n > MAGLB_MAX_MATCHES) {
			cfg_fail(&m0->route->c, m0->route->root, m0->route->label,
				 "listener %s of Gateway %s/%s has %d route matches (hostnames x matches); at most %d",
				 m0->listener, m0->gw->ns, m0->gw->name, n, MAGLB_MAX_MATCHES);
			goto out;
		}
		free(rk);
		rk = calloc(n, sizeof(*rk));
		lst = config_add_service(g->cfg);
		if (!rk || !lst) {
			cfg_fail(&m0->route->c, m0->route->root, m0->route->label, "out of memory");
			goto out;
		}
		s0 = &g->cfg->services[m0->svc];
		snprintf(lst->name, sizeof(lst->name), "%s-%s%s", m0->gw->name,
			 m0->listener, s0->family == 6 ? "-v6" : "");
		lst->addr = s0->addr;
		lst->family = s0->family;
		lst->port = s0->port;
		lst->proto = s0->proto;
		lst->forwarding = s0->forwarding;
		lst->snat_addr = s0->snat_addr;
		lst->snat_port_min = s0->snat_port_min;
		lst->snat_port_max = s0->snat_port_max;
		lst->close_on_removal = s0->close_on_removal;
		lst->mtu = s0->mtu;
		lst->table_size = MAGLB_TABLE_MIN;	/* no backends of its own */
		lst->no_match_reset = reset;
		for (k = 0, j = i; j < g->n_mem; j++) {
			struct member *mb = &g->mem[j];
			struct cfg_service *s = &g->cfg->services[mb->svc];
			int h;

			if (done[j] || !same_listener(s, lst))
				continue;
			done[j] = true;
			s->route = ++route;
			/* The listener's parse looks for the first key a
			 * route hashes by; other keys cost a second parse. */
			if (key_from < 0 && (s->hash_type == MAGLB_HASH_COOKIE ||
					     s->hash_type == MAGLB_HASH_HEADER)) {
				key_from = mb->svc;
				lst->hash_type = s->hash_type;
				memcpy(lst->key_name, s->key_name, sizeof(lst->key_name));
			}
			for (h = 0; h < mb->n_m; h++) {
				rk[k].m = mb->m[h];
				rk[k].m.route = s->route;
				rk[k].ns = mb->route->ns;
				rk[k].name = mb->route->name;
				rk[k++].rule = mb->rule;
			}
		}
		routes_order(rk, k);
		lst->matches = calloc(k, sizeof(*lst->matches));
		if (!lst->matches) {
			cfg_fail(&m0->route->c, m0->route->root, m0->route->label, "out of memory");
			goto out;
		}
		for (j = 0; j < k; j++)
			lst->matches[j] = rk[j].m;
		lst->n_matches = k;
	}
	/* only now are the services final: names and VIP keys unique */
	for (i = first_svc; i < g->cfg->n_services; i++) {
		struct obj *o = NULL;

		for (j = 0; j < g->n_mem && !o; j++)
			if (g->mem[j].svc == i)
				o = g->mem[j].route;
		if (!o && g->n_mem)
			o = g->mem[0].route;
		if (o && service_check_unique(&o->c, o->root, o->label, g->cfg, i))
			goto out;
	}
	rc = 0;
out:
	free(rk);
	free(done);
	return rc;
}

/* One object, or each item of a List (kubectl get -o yaml|json). */
static int add_objects(struct gw *g, struct cfg_ctx *c, yaml_node_t *root)
{
	const char *kind = cfg_scalar(cfg_get(c, root, "kind"));
	yaml_node_t *items;
	struct obj *t;
	int i, rc;

	if (kind && !strcmp(kind, "List")) {
		items = cfg_get(c, root, "items");
		for (i = 0; i < cfg_seq_len(items); i++) {
			yaml_node_t *it = cfg_seq_at(c, items, i);

			if (it->type != YAML_MAPPING_NODE || !cfg_get(c, it, "kind"))
				return cfg_fail(c, it, "items", "each item needs kind and apiVersion");
			if (add_objects(g, c, it))
				return -1;
		}
		return 0;
	}
	t = realloc(g->objs, (g->n + 1) * sizeof(*t));
	if (!t)
		return cfg_fail(c, root, "(document)", "out of memory");
	g->objs = t;
	rc = read_object(g, c, root, &g->objs[g->n]);
	if (rc > 0)
		g->n++;
	return rc < 0 ? -1 : 0;
}

int gateway_load(struct cfg_doc *docs, int n, struct cfg_ctx *dc,
		 yaml_node_t *defaults, const struct cfg_source *src,
		 struct maglb_config *cfg, char *err, size_t errlen)
{
	struct gw g = { .cfg = cfg, .src = src, .dc = dc, .defaults = defaults,
			.err = err };
	int i, rc = 0, first;

	for (i = 0; i < n && !rc; i++) {
		/* An API object's YAML was built from its JSON: no lines. */
		struct cfg_ctx c = { .file = docs[i].file, .doc = &docs[i].doc,
				     .err = err, .errlen = errlen,
				     .no_lines = docs[i].own != NULL };

		if (gateway_is_object(&docs[i].doc))
			rc = add_objects(&g, &c, yaml_document_get_root_node(c.doc));
	}
	if (!rc)
		rc = gateway_classes(&g);
	if (!rc)
		rc = gateway_addresses(&g);
	if (!rc)
		rc = gateway_listeners(&g);
	if (!rc)
		rc = policies_check(&g);	/* also unattached ones */
	first = cfg->n_services;
	for (i = 0; i < g.n && !rc; i++)
		if (g.objs[i].kind == K_ROUTE)
			rc = route_status(&g, &g.objs[i]);
	if (!rc)
		rc = group_listeners(&g, first);
	if (!rc)
		policy_ancestors(&g);
	for (i = 0; i < g.n_mem; i++)
		free(g.mem[i].m);
	free(g.mem);
	free(g.att);
	free(g.objs);
	return rc;
}
