// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gateway.c - the seed's Gateway API manifests, verbatim, plus
 * realistic EndpointSlice JSON become the service we document; every field
 * maglb cannot honour is rejected by name, and the endpoint conditions
 * decide who takes new connections.
 *
 * Each case edits one fixture (one string replaced) and loads the set.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/addr.h"
#include "input/addrpool.h"
#include "input/cfgparse.h"
#include "input/load.h"
#include "testlib.h"

enum { F_MAGLB, F_BACKEND, F_GATEWAY, F_ROUTE, F_SLICES, N_FIXTURES };

static const char *const fixtures[N_FIXTURES] = {
	"tests/fixtures/maglb-gateway.yaml",
	"tests/fixtures/seed/backend.yaml",
	"tests/fixtures/seed/gateway.yaml",
	"tests/fixtures/seed/cookie-policy-route.yaml",
	"tests/fixtures/endpointslices.json",
};

struct edit {
	int file;
	const char *from, *to;	/* to NULL: leave the file out */
};

/*
 * The API server's side, for the rows that need it: the Gateway and route
 * fixtures become the documents a watcher would hand over (labelled as
 * kubeapi.c labels them), through the same cfg_source.manifests() the
 * agent uses. Services and slices stay files.
 */
static bool via_api;
static char *api_text[N_FIXTURES];

static int api_manifests(void *arg, struct cfg_doc **docs, int *n)
{
	int i;

	for (i = 0; i < N_FIXTURES; i++) {
		yaml_parser_t ps;

		if (!api_text[i])
			continue;
		yaml_parser_initialize(&ps);
		yaml_parser_set_input_string(&ps, (const unsigned char *)api_text[i],
					     strlen(api_text[i]));
		for (;;) {
			struct cfg_doc *t = realloc(*docs, (*n + 1) * sizeof(*t));
			yaml_node_t *root, *meta;
			struct cfg_ctx c;

			if (!t)
				return -1;
			*docs = t;
			t = &t[*n];
			memset(t, 0, sizeof(*t));
			if (!yaml_parser_load(&ps, &t->doc))
				return -1;
			if (!(root = yaml_document_get_root_node(&t->doc))) {
				yaml_document_delete(&t->doc);
				break;
			}
			c = (struct cfg_ctx){ .doc = &t->doc };
			meta = cfg_get(&c, root, "metadata");
			if (asprintf(&t->own, "apiserver %s %s/%s",
				     cfg_scalar(cfg_get(&c, root, "kind")),
				     cfg_scalar(cfg_get(&c, meta, "namespace")) ?: "default",
				     cfg_scalar(cfg_get(&c, meta, "name"))) < 0)
				return -1;
			t->file = t->own;
			(*n)++;
		}
		yaml_parser_delete(&ps);
	}
	return 0;
}

static int no_objects(void *arg, const char *ns, const char *name,
		      cfg_object_fn fn, void *fnarg)
{
	return 0;
}

static const struct cfg_source api_source = {
	.objects = no_objects, .manifests = api_manifests };

/* The fixtures with edits applied, written to a temp dir, then loaded
 * (with via_api, the Gateway and the route through api_source). */
static struct maglb_config *load_edited(const struct edit *e, int n_edits,
					char *err, size_t errlen)
{
	static char paths[N_FIXTURES][96];
	const char *list[N_FIXTURES];
	struct maglb_config *cfg;
	int i, j, k = 0;

	for (i = 0; i < N_FIXTURES; i++) {
		char *text = test_slurp(fixtures[i]);
		bool skip = false;
		FILE *f;

		if (!text) {
			snprintf(err, errlen, "cannot read %s (run from the repo root)",
				 fixtures[i]);
			return NULL;
		}
		for (j = 0; j < n_edits; j++) {
			char *at, *t;

			if (e[j].file != i)
				continue;
			if (!e[j].to) {
				skip = true;
				continue;
			}
			at = strstr(text, e[j].from);
			if (!at) {
				snprintf(err, errlen, "fixture %s has no \"%s\"",
					 fixtures[i], e[j].from);
				free(text);
				return NULL;
			}
			t = malloc(strlen(text) + strlen(e[j].to) + 1);
			memcpy(t, text, at - text);
			strcpy(t + (at - text), e[j].to);
			strcat(t, at + strlen(e[j].from));
			free(text);
			text = t;
		}
		if (via_api && (i == F_GATEWAY || i == F_ROUTE)) {
			api_text[i] = skip ? (free(text), NULL) : text;
			paths[i][0] = 0;
			continue;
		}
		snprintf(paths[i], sizeof(paths[i]), "/tmp/maglb-gw-test-%d-%d%s",
			 getpid(), i, strstr(fixtures[i], ".json") ? ".json" : ".yaml");
		f = fopen(paths[i], "w");
		fputs(text, f);
		fclose(f);
		free(text);
		if (!skip)
			list[k++] = paths[i];
	}
	cfg = config_load_files(list, k, via_api ? &api_source : NULL, err, errlen);
	for (i = 0; i < N_FIXTURES; i++) {
		if (paths[i][0])
			unlink(paths[i]);
		free(api_text[i]);
		api_text[i] = NULL;
	}
	return cfg;
}

struct bad_case {
	const char *name;
	struct edit e;
	const char *want;
};

static const struct bad_case bad[] = {
	{ "policy_field_maglb_cannot_honour_is_named",
	  { F_ROUTE, "  loadBalancer:\n", "  retry:\n    numRetries: 3\n  loadBalancer:\n" },
	  "BackendTrafficPolicy default/cookie-policy: spec.retry: not supported by maglb" },
	{ "policy_target_that_is_not_a_mapping_is_rejected",
	  { F_ROUTE, "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: HTTPRoute\n      name: cookie-route\n",
	    "  targetRefs:\n    - cookie-route\n" },
	  "spec.targetRefs: must be a mapping" },
	{ "policy_typo_is_an_unknown_field",
	  { F_ROUTE, "  loadBalancer:\n", "  loadBalancr: {}\n  loadBalancer:\n" },
	  "spec.loadBalancr: unknown field" },
	{ "policy_consistent_hash_is_checked_like_a_service",
	  { F_ROUTE, "ttl: 60s", "ttl: 60d" },
	  "BackendTrafficPolicy default/cookie-policy: spec.loadBalancer.consistentHash.cookie.ttl: \"60d\": unit must be" },
	{ "route_filters_are_named",
	  { F_ROUTE, "      backendRefs:\n", "      filters: []\n      backendRefs:\n" },
	  "HTTPRoute default/cookie-route: spec.rules[0].filters: not supported by maglb" },
	{ "header_match_is_named",
	  { F_ROUTE, "        - path:\n", "        - headers: [{name: x, value: y}]\n          path:\n" },
	  "spec.rules[0].matches[0].headers: not supported by maglb" },
	{ "regex_path_match_is_rejected",
	  { F_ROUTE, "type: PathPrefix", "type: RegularExpression" },
	  "matches[0].path: type RegularExpression is not supported" },
	{ "hostname_wildcard_only_as_a_leading_label",
	  { F_ROUTE, "\"www.example.com\"", "\"www.*.com\"" },
	  "HTTPRoute default/cookie-route: spec.hostnames[0]: \"www.*.com\" is not a hostname" },
	{ "path_value_must_start_with_a_slash",
	  { F_ROUTE, "value: /cookie", "value: cookie" },
	  "spec.rules[0].matches[0].path.value: \"cookie\": a path of 1..64 characters starting with /" },
	{ "path_value_with_an_escape_is_refused",
	  { F_ROUTE, "value: /cookie", "value: /c%6Fokie" },
	  "path.value: \"/c%6Fokie\": not a normalised path" },
	{ "path_value_with_a_dot_segment_is_refused",
	  { F_ROUTE, "value: /cookie", "value: /x/../cookie" },
	  "path.value: \"/x/../cookie\": not a normalised path" },
	{ "path_value_with_merged_slashes_is_refused",
	  { F_ROUTE, "value: /cookie", "value: //cookie" },
	  "path.value: \"//cookie\": not a normalised path" },
	{ "no_route_match_answer_is_checked",
	  { F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  noRouteMatch: Drop\n" },
	  "gateway.noRouteMatch: \"Drop\" is not NotFound or Reset" },
	{ "cross_namespace_backend_needs_a_reference_grant",
	  { F_ROUTE, "        - name: backend\n", "        - name: backend\n          namespace: other\n" },
	  "needs a ReferenceGrant" },
	{ "https_listener_is_refused",
	  { F_GATEWAY, "protocol: HTTP", "protocol: HTTPS" },
	  "listeners[0].protocol: HTTPS needs TLS termination" },
	{ "controller_name_must_be_domain_slash_path",
	  { F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  controllerName: maglb\n" },
	  "gateway.controllerName: \"maglb\" is not DOMAIN/PATH" },
	{ "address_pool_must_be_a_cidr_with_host_bits_zero",
	  { F_MAGLB, "  addresses: [10.96.100.100]\n", "  addressPool: [10.200.0.1/24]\n" },
	  "gateway.addressPool[0]: \"10.200.0.1/24\" is not a CIDR with its host bits zero" },
	{ "route_to_a_missing_gateway_is_refused",
	  { F_ROUTE, "    - name: load-balancing-gateway", "    - name: other-gateway" },
	  "parentRefs[0]: Gateway default/other-gateway is not among the manifests" },
	{ "unsupported_gateway_api_kind_is_refused",
	  { F_ROUTE, "kind: HTTPRoute\nmetadata", "kind: GRPCRoute\nmetadata" },
	  "GRPCRoute: default/cookie-route: this kind is not supported by maglb" },
	{ "backend_port_missing_from_service_is_refused",
	  { F_BACKEND, "      port: 3000\n", "      port: 3001\n" },
	  "Service default/backend: spec.ports: has no port 3000" },
	{ "two_policies_for_one_route_conflict",
	  { F_ROUTE, "---\n", "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\n"
	    "metadata: {name: second, namespace: default}\nspec:\n  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cookie-route}]\n---\n" },
	  "give it one policy" },
};

static int check_bad(const struct bad_case *c)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(&c->e, 1, err, sizeof(err));

	ASSERT_TRUE(!cfg, "accepted");
	ASSERT_TRUE(strstr(err, c->want), "error \"%s\" lacks \"%s\"", err, c->want);
	ASSERT_TRUE(strstr(err, "/tmp/maglb-gw-test-") == err,
		    "error does not start with the file: %s", err);
	return 0;
}

static const struct cfg_backend *backend(const struct cfg_service *s,
					 const char *pod)
{
	char name[128];
	int i;

	snprintf(name, sizeof(name), "backend-765694d47f-%s", pod);
	for (i = 0; i < s->n_backends; i++)
		if (!strcmp(s->backends[i].name, name))
			return &s->backends[i];
	return NULL;
}

static int seed_manifests_become_the_cookie_route_service(void)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(NULL, 0, err, sizeof(err));
	const struct cfg_service *s, *l;
	int i, notes = 0;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	/* the route, and its listener (hostnames and a path match) */
	ASSERT_EQ(cfg->n_services, 2);
	s = config_find(cfg, "cookie-route");
	l = config_find(cfg, "load-balancing-gateway-http");
	ASSERT_TRUE(s && l, "want cookie-route and load-balancing-gateway-http");
	ASSERT_EQ(s->family, 4);
	ASSERT_EQ(s->addr.v4, htonl(0x0a606464));	/* 10.96.100.100 */
	ASSERT_EQ(s->port, 80);			/* the Gateway's listener */
	ASSERT_EQ(s->proto, 6);
	ASSERT_EQ(s->route, 1);
	ASSERT_EQ(s->hash_type, MAGLB_HASH_COOKIE);
	ASSERT_TRUE(!strcmp(s->key_name, "FooBar"), "cookie %s", s->key_name);
	ASSERT_EQ(s->cookie_ttl, 60);
	ASSERT_TRUE(!strcmp(s->cookie_attrs, "SameSite=Strict"), "attrs %s", s->cookie_attrs);
	ASSERT_EQ(s->table_size, 65537);
	/* 8 ready, 1 terminating (drains, weight 0), 1 not ready (out) */
	ASSERT_EQ(s->n_backends, 9);
	ASSERT_TRUE(backend(s, "6vfl4") && backend(s, "6vfl4")->weight == 1, "6vfl4");
	ASSERT_EQ(backend(s, "6vfl4")->port, 3000);	/* the slice's "http" port */
	ASSERT_TRUE(backend(s, "whjnm") && backend(s, "whjnm")->weight == 0,
		    "terminating endpoint must drain with weight 0");
	ASSERT_TRUE(!backend(s, "xgzkj"), "not-ready endpoint must be left out");
	/* the listener: same address, route 0, the one match, 404 */
	ASSERT_EQ(l->route, 0);
	ASSERT_EQ(l->addr.v4, s->addr.v4);
	ASSERT_EQ(l->port, 80);
	ASSERT_EQ(l->n_backends, 0);
	ASSERT_EQ(l->no_match_reset, false);
	ASSERT_EQ(l->hash_type, MAGLB_HASH_COOKIE);	/* parse once for FooBar */
	ASSERT_EQ(l->n_matches, 1);
	ASSERT_EQ(l->matches[0].host_match, MAGLB_MATCH_EXACT);
	ASSERT_TRUE(!strcmp(l->matches[0].host, "www.example.com"), "host %s", l->matches[0].host);
	ASSERT_EQ(l->matches[0].path_match, MAGLB_MATCH_PREFIX);
	ASSERT_TRUE(!strcmp(l->matches[0].path, "/cookie"), "path %s", l->matches[0].path);
	ASSERT_EQ(l->matches[0].route, 1);
	for (i = 0; i < cfg->n_notes; i++)
		notes += strstr(cfg->notes[i], "ServiceAccount default/backend: skipped") ||
			 strstr(cfg->notes[i], "Deployment default/backend: skipped");
	ASSERT_EQ(notes, 2);
	/* and that with no GatewayClass given, the Gateway is taken as ours */
	ASSERT_EQ(cfg->n_notes, 3);
	config_free(cfg);
	return 0;
}

/* Three routes on the seed's listener: Gateway API precedence puts the
 * exact host first (longest path first within it), then the wildcard,
 * then the route without hostnames. */
static int routes_on_one_listener_are_ordered_by_precedence(void)
{
	static const struct edit e[] = {
		{ F_ROUTE, "        - path:\n            type: PathPrefix\n            value: /cookie\n",
		  "        - path:\n            type: PathPrefix\n            value: /cookie\n"
		  "        - path:\n            type: Exact\n            value: /cookie/login\n" },
		{ F_GATEWAY, "      port: 80\n", "      port: 80\n"
		  "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
		  "metadata: {name: a-catchall}\nspec:\n  parentRefs: [{name: load-balancing-gateway}]\n"
		  "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n"
		  "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
		  "metadata: {name: b-wild}\nspec:\n  parentRefs: [{name: load-balancing-gateway}]\n"
		  "  hostnames: [\"*.Example.com\"]\n"
		  "  rules: [{matches: [{path: {type: PathPrefix, value: /api/}}], backendRefs: [{name: backend, port: 3000}]}]\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 2, err, sizeof(err));
	const struct cfg_service *l, *wild, *all, *ck;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	l = config_find(cfg, "load-balancing-gateway-http");
	wild = config_find(cfg, "b-wild");
	all = config_find(cfg, "a-catchall");
	ck = config_find(cfg, "cookie-route");
	ASSERT_TRUE(l && wild && all && ck, "services missing");
	ASSERT_EQ(l->n_matches, 4);
	ASSERT_TRUE(l->matches[0].route == ck->route &&
		    l->matches[0].path_match == MAGLB_MATCH_EXACT &&
		    !strcmp(l->matches[0].path, "/cookie/login"), "0: %s", l->matches[0].path);
	ASSERT_TRUE(l->matches[1].route == ck->route &&
		    !strcmp(l->matches[1].path, "/cookie"), "1: %s", l->matches[1].path);
	/* a wildcard is its suffix, lowercase; a trailing / is dropped */
	ASSERT_TRUE(l->matches[2].route == wild->route &&
		    l->matches[2].host_match == MAGLB_MATCH_PREFIX &&
		    !strcmp(l->matches[2].host, ".example.com") &&
		    !strcmp(l->matches[2].path, "/api"), "2: %s %s",
		    l->matches[2].host, l->matches[2].path);
	ASSERT_TRUE(l->matches[3].route == all->route &&
		    l->matches[3].host_match == MAGLB_MATCH_ANY &&
		    l->matches[3].path_match == MAGLB_MATCH_ANY, "3");
	ASSERT_TRUE(all->route && wild->route && ck->route &&
		    all->route != wild->route && wild->route != ck->route, "route numbers");
	config_free(cfg);
	return 0;
}

static int single_route_without_matches_is_a_plain_service(void)
{
	static const struct edit e[] = {
		{ F_ROUTE, "  hostnames:\n    - \"www.example.com\"\n", "" },
		{ F_ROUTE, "    - matches:\n        - path:\n            type: PathPrefix\n            value: /cookie\n      backendRefs:",
		  "    - backendRefs:" },
		{ F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  noRouteMatch: Reset\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 3, err, sizeof(err));

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(cfg->n_services, 1);
	ASSERT_EQ(config_find(cfg, "cookie-route")->route, 0);
	ASSERT_EQ(config_find(cfg, "cookie-route")->n_matches, 0);
	config_free(cfg);
	return 0;
}

static int no_route_match_reset_reaches_the_listener(void)
{
	static const struct edit e[] = {
		{ F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  noRouteMatch: Reset\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 1, err, sizeof(err));

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(config_find(cfg, "load-balancing-gateway-http")->no_match_reset, true);
	config_free(cfg);
	return 0;
}

/* gateway.mtu reaches every Gateway service, the listener included. */
static int gateway_mtu_reaches_route_and_listener(void)
{
	static const struct edit e[] = {
		{ F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  mtu: 1450\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 1, err, sizeof(err));

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(config_find(cfg, "cookie-route")->mtu, 1450);
	ASSERT_EQ(config_find(cfg, "load-balancing-gateway-http")->mtu, 1450);
	config_free(cfg);
	return 0;
}

static int gateway_spec_addresses_win_over_the_default(void)
{
	static const struct edit e[] = {
		{ F_GATEWAY, "  listeners:\n",
		  "  addresses:\n    - value: 10.0.0.7\n    - type: IPAddress\n      value: \"fd00::7\"\n  listeners:\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 1, err, sizeof(err));
	const struct cfg_service *s4, *s6;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	s4 = config_find(cfg, "cookie-route");
	s6 = config_find(cfg, "cookie-route-v6");
	ASSERT_TRUE(s4 && s6, "want cookie-route and cookie-route-v6");
	ASSERT_EQ(s4->addr.v4, htonl(0x0a000007));
	ASSERT_EQ(s6->family, 6);
	ASSERT_EQ(s6->n_backends, 0);	/* the fixture has IPv4 slices only */
	config_free(cfg);
	return 0;
}

#define CLASS(ctl) \
	{ F_GATEWAY, "apiVersion", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n" \
	  "metadata: {name: tigera-gateway-class}\nspec: {controllerName: " ctl "}\n---\napiVersion" }

/* Which Gateways are maglb's: those whose GatewayClass names its
 * controller; with no GatewayClass in the files at all, every one. */
static const struct class_case {
	const char *name;
	struct edit e[2];
	int n_e;
	bool served;			/* cookie-route becomes a service */
	const char *note;		/* a note that must be there */
} class_cases[] = {
	{ "no_gateway_class_given_takes_every_gateway", {}, 0, true,
	  "no GatewayClass among the inputs: every Gateway is taken as maglb.dev/gateway-controller's" },
	{ "class_with_our_controller_name_is_served",
	  { CLASS("maglb.dev/gateway-controller") }, 1, true, NULL },
	{ "class_of_another_controller_is_left_alone",
	  { CLASS("gateway.envoyproxy.io/gatewayclass-controller") }, 1, false,
	  "Gateway default/load-balancing-gateway: left alone: GatewayClass tigera-gateway-class belongs to gateway.envoyproxy.io/gatewayclass-controller" },
	{ "configured_controller_name_is_ours",
	  { CLASS("example.com/lb"),
	    { F_MAGLB, "  forwarding: nat\n", "  forwarding: nat\n  controllerName: example.com/lb\n" } }, 2, true, NULL },
	{ "gateway_of_a_class_not_given_is_left_alone",
	  { { F_GATEWAY, "apiVersion", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
	      "metadata: {name: other-class}\nspec: {controllerName: maglb.dev/gateway-controller}\n---\napiVersion" } }, 1, false,
	  "Gateway default/load-balancing-gateway: left alone: GatewayClass tigera-gateway-class is not among the inputs" },
};

static int check_class(const struct class_case *c)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(c->e, c->n_e, err, sizeof(err));
	bool noted = !c->note;
	int i;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_TRUE(!config_find(cfg, "cookie-route") == !c->served,
		    "cookie-route %s", c->served ? "missing" : "served");
	for (i = 0; i < cfg->n_notes; i++)
		noted |= c->note && strstr(cfg->notes[i], c->note);
	ASSERT_TRUE(noted, "no note \"%s\"", c->note);
	config_free(cfg);
	return 0;
}

/* The seed's route and policy moved to namespace "other", the Gateway
 * admitting routes from all namespaces, the backend left in "default". */
#define ROUTE_IN_OTHER \
	{ F_ROUTE, "  name: cookie-policy\n  namespace: default\n", "  name: cookie-policy\n  namespace: other\n" }, \
	{ F_ROUTE, "  name: cookie-route\n  namespace: default\n", "  name: cookie-route\n  namespace: other\n" }, \
	{ F_ROUTE, "    - name: load-balancing-gateway\n", "    - name: load-balancing-gateway\n      namespace: default\n" }, \
	{ F_ROUTE, "        - name: backend\n", "        - name: backend\n          namespace: default\n" }, \
	{ F_GATEWAY, "      port: 80\n", "      port: 80\n      allowedRoutes: {namespaces: {from: All}}\n" }
#define GRANT(from_ns, to) \
	{ F_BACKEND, "---\n", "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\n" \
	  "metadata: {name: routes-to-backend, namespace: default}\nspec:\n" \
	  "  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: " from_ns "}]\n" \
	  "  to: [" to "]\n---\n" }

/* A backendRef to another namespace needs a ReferenceGrant there. */
static const struct grant_case {
	const char *name;
	struct edit e[6];
	const char *want;		/* NULL: served with the backends */
} grant_cases[] = {
	{ "reference_grant_lets_a_route_use_a_service_of_another_namespace",
	  { ROUTE_IN_OTHER, GRANT("other", "{group: \"\", kind: Service}") } },
	{ "reference_grant_may_name_the_one_service",
	  { ROUTE_IN_OTHER, GRANT("other", "{group: \"\", kind: Service, name: backend}") } },
	{ "reference_grant_for_another_service_does_not_count",
	  { ROUTE_IN_OTHER, GRANT("other", "{group: \"\", kind: Service, name: frontend}") },
	  "Service default/backend: a Service in another namespace needs a ReferenceGrant in default that lets HTTPRoutes of other refer to it" },
	{ "reference_grant_from_another_namespace_does_not_count",
	  { ROUTE_IN_OTHER, GRANT("third", "{group: \"\", kind: Service}") },
	  "needs a ReferenceGrant in default" },
};

static int check_grant(const struct grant_case *c)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(c->e, 6, err, sizeof(err));
	const struct cfg_service *s;

	if (c->want) {
		ASSERT_TRUE(!cfg, "accepted");
		ASSERT_TRUE(strstr(err, c->want), "error \"%s\" lacks \"%s\"", err, c->want);
		return 0;
	}
	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "cookie-route");
	ASSERT_TRUE(s && s->n_backends > 0, "cookie-route %s", s ? "has no backends" : "missing");
	ASSERT_EQ(s->hash_type, MAGLB_HASH_COOKIE);	/* its policy came along */
	config_free(cfg);
	return 0;
}

/* From the API server, a fault is the object's status, not the config's
 * end: what maglb cannot serve is reported and left out, the rest runs. */
static const struct api_case {
	const char *name;
	struct edit e[3];
	int n_e;
	bool served;			/* cookie-route is a service */
	const char *also;		/* and so is this one */
	const char *route_reason;	/* cookie-route's parent: NULL, all true */
	bool on_resolved;		/* the reason is ResolvedRefs' */
	const char *route_msg;
	const char *policy_reason;	/* NULL: Accepted */
	int attached;			/* attachedRoutes of listener "http" */
	const char *https_reason;	/* a listener "https", if added */
} api_cases[] = {
	{ "api_seed_is_served_and_every_object_reported", {}, 0, true, NULL,
	  NULL, false, NULL, NULL, 1 },
	{ "api_route_maglb_cannot_serve_is_reported_and_left_out",
	  { { F_ROUTE, "      backendRefs:\n", "      filters: []\n      backendRefs:\n" } }, 1,
	  false, NULL, "UnsupportedValue", false,
	  "HTTPRoute default/cookie-route: spec.rules[0].filters: not supported by maglb", NULL, 0 },
	{ "api_bad_route_leaves_the_good_one_served",
	  { { F_ROUTE, "      backendRefs:\n", "      filters: []\n      backendRefs:\n" },
	    { F_ROUTE, "          port: 3000\n", "          port: 3000\n"
	      "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	      "metadata: {name: other-route, namespace: default}\nspec:\n"
	      "  parentRefs: [{name: load-balancing-gateway}]\n"
	      "  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n" } }, 2,
	  false, "other-route", "UnsupportedValue", false, "filters: not supported", NULL, 1 },
	{ "api_policy_that_fails_is_reported_and_the_route_served_without_it",
	  { { F_ROUTE, "ttl: 60s", "ttl: 60d" } }, 1, true, NULL, NULL, false, NULL, "Invalid", 1 },
	{ "api_backend_of_another_namespace_without_a_grant_is_not_resolved",
	  { { F_ROUTE, "        - name: backend\n", "        - name: backend\n          namespace: other\n" } }, 1,
	  false, NULL, "RefNotPermitted", true, "needs a ReferenceGrant in other", NULL, 0 },
	{ "api_https_listener_is_reported_and_the_route_takes_the_http_one",
	  { { F_GATEWAY, "      port: 80\n", "      port: 80\n    - name: https\n      protocol: HTTPS\n      port: 443\n" } }, 1,
	  true, NULL, NULL, false, NULL, NULL, 1, "UnsupportedProtocol" },
};

static const struct st_listener *st_listener(const struct st_object *o, const char *name)
{
	int i;

	for (i = 0; o && i < o->n_listeners; i++)
		if (!strcmp(o->listeners[i].name, name))
			return &o->listeners[i];
	return NULL;
}

static int check_api(const struct api_case *c)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;
	const struct st_object *gw, *rt, *pol;
	const struct st_listener *l;
	const struct st_cond *rc;

	via_api = true;
	cfg = load_edited(c->e, c->n_e, err, sizeof(err));
	via_api = false;
	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_TRUE(!config_find(cfg, "cookie-route") == !c->served,
		    "cookie-route %s", c->served ? "missing" : "served");
	ASSERT_TRUE(!c->also || config_find(cfg, c->also), "%s missing", c->also);
	gw = st_find(&cfg->status, ST_GATEWAY, "default", "load-balancing-gateway");
	rt = st_find(&cfg->status, ST_ROUTE, "default", "cookie-route");
	pol = st_find(&cfg->status, ST_POLICY, "default", "cookie-policy");
	ASSERT_TRUE(gw && rt && pol, "report lacks the Gateway, route or policy");
	ASSERT_TRUE(gw->from_api && gw->accepted.ok, "Gateway not accepted from the API");
	ASSERT_TRUE(gw->n_addrs == 1 && gw->addrs[0].v4 == htonl(0x0a606464),
		    "Gateway addresses: %d", gw->n_addrs);
	l = st_listener(gw, "http");
	ASSERT_TRUE(l && l->accepted.ok, "listener http missing or not accepted");
	ASSERT_EQ(l->attached, c->attached);
	if (c->https_reason) {
		l = st_listener(gw, "https");
		ASSERT_TRUE(l && !l->accepted.ok && !strcmp(l->accepted.reason, c->https_reason),
			    "listener https: %s", l ? l->accepted.reason : "missing");
	}
	ASSERT_TRUE(rt->n_refs == 1 && !strcmp(rt->refs[0].name, "load-balancing-gateway"),
		    "route parents: %d", rt->n_refs);
	rc = c->on_resolved ? &rt->refs[0].resolved : &rt->refs[0].accepted;
	if (c->route_reason) {
		ASSERT_TRUE(!rc->ok && !strcmp(rc->reason, c->route_reason),
			    "route condition %s, want %s", rc->ok ? "True" : rc->reason, c->route_reason);
		ASSERT_TRUE(strstr(rc->message, c->route_msg), "message \"%s\" lacks \"%s\"",
			    rc->message, c->route_msg);
	} else {
		ASSERT_TRUE(rt->refs[0].accepted.ok && rt->refs[0].resolved.ok,
			    "route parent: %s %s", rt->refs[0].accepted.reason,
			    rt->refs[0].accepted.message);
	}
	if (c->policy_reason)
		ASSERT_TRUE(!pol->accepted.ok && !strcmp(pol->accepted.reason, c->policy_reason),
			    "policy: %s", pol->accepted.ok ? "accepted" : pol->accepted.reason);
	else
		ASSERT_TRUE(pol->accepted.ok && pol->n_refs == 1 &&
			    !strcmp(pol->refs[0].name, "cookie-route"), "policy ancestors");
	config_free(cfg);
	return 0;
}

/* A second Gateway and a route to it, for the pool cases. */
#define OTHER_GATEWAY \
	"---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n" \
	"metadata: {name: another-gateway}\nspec:\n  gatewayClassName: tigera-gateway-class\n" \
	"  listeners: [{name: http, protocol: HTTP, port: 80}]\n"
#define OTHER_ROUTE \
	"---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n" \
	"metadata: {name: other-route, namespace: default}\nspec:\n" \
	"  parentRefs: [{name: another-gateway}]\n" \
	"  rules: [{backendRefs: [{name: backend, port: 3000}]}]\n"
#define GW_STATUS(addr) \
	{ F_GATEWAY, "      port: 80\n", "      port: 80\nstatus:\n  addresses: [{type: IPAddress, value: \"" addr "\"}]\n" }
#define POOL(list) { F_MAGLB, "  addresses: [10.96.100.100]\n", "  addressPool: " list "\n" }

/* Where a Gateway's address comes from: spec, gateway.addresses, else the
 * pool (status keeps a pool address; nothing else of status counts). */
static const struct addr_case {
	const char *name;
	struct edit e[4];
	int n_e;
	const char *pool;		/* the address must lie in it */
	const char *exact;		/* or be this one */
	const char *v6_pool;		/* and cookie-route-v6 in this one */
	const char *other_pool;		/* other-route's address: in this pool, not the same */
} addr_cases[] = {
	{ "no_maglb_config_takes_the_default_pool",
	  { { F_MAGLB, "x", NULL } }, 1, ADDR_POOL_DEFAULT },
	{ "configured_addresses_win_over_the_pool", {}, 0, NULL, "10.96.100.100" },
	{ "configured_pool_is_used", { POOL("[192.0.2.0/28]") }, 1, "192.0.2.0/28" },
	{ "pool_address_in_status_is_kept",
	  { POOL("[192.0.2.0/28]"), GW_STATUS("192.0.2.13") }, 2, NULL, "192.0.2.13" },
	{ "status_address_outside_the_pool_is_not_taken",
	  { POOL("[192.0.2.0/28]"), GW_STATUS("10.96.100.100") }, 2, "192.0.2.0/28" },
	{ "one_address_per_family_of_the_pool",
	  { POOL("[192.0.2.0/28, \"fd00:200::/120\"]") }, 1, "192.0.2.0/28", NULL, "fd00:200::/120" },
	{ "two_gateways_never_share_a_pool_address",
	  { POOL("[192.0.2.0/30]"), { F_GATEWAY, "      port: 80\n", "      port: 80\n" OTHER_GATEWAY },
	    { F_ROUTE, "          port: 3000\n", "          port: 3000\n" OTHER_ROUTE } }, 3,
	  "192.0.2.0/30", NULL, NULL, "192.0.2.0/30" },
	{ "status_claim_of_one_gateway_moves_the_other",
	  { POOL("[192.0.2.0/30]"), { F_GATEWAY, "      port: 80\n", "      port: 80\n" OTHER_GATEWAY
	      "status:\n  addresses: [{value: 192.0.2.1}]\n" },
	    { F_ROUTE, "          port: 3000\n", "          port: 3000\n" OTHER_ROUTE } }, 3,
	  NULL, "192.0.2.2", NULL, "192.0.2.1/32" },
};

static bool in_pool(const char *cidr, const struct cfg_service *s)
{
	struct addr_pool p;

	return !addr_pool_parse(cidr, &p) && addr_pool_contains(&p, &s->addr, s->family);
}

static int check_addr(const struct addr_case *c)
{
	char err[CFG_ERR_LEN] = "", a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct maglb_config *cfg = load_edited(c->e, c->n_e, err, sizeof(err));
	struct maglb_config *again = load_edited(c->e, c->n_e, err, sizeof(err));
	const struct cfg_service *s, *o;

	ASSERT_TRUE(cfg && again, "rejected: %s", err);
	s = config_find(cfg, "cookie-route");
	ASSERT_TRUE(s, "no cookie-route service");
	addr_str(&s->addr, s->family, a);
	if (c->pool)
		ASSERT_TRUE(in_pool(c->pool, s), "%s is not in %s", a, c->pool);
	if (c->pool && s->family == 4) {	/* never the network or broadcast */
		struct addr_pool p;
		__u32 host, last;

		addr_pool_parse(c->pool, &p);
		host = ntohl(s->addr.v4) - ntohl(p.base.v4);
		last = (1u << (32 - p.plen)) - 1;
		ASSERT_TRUE(host != 0 && host != last, "%s is an edge of %s", a, c->pool);
	}
	if (c->exact)
		ASSERT_TRUE(!strcmp(a, c->exact), "address %s, want %s", a, c->exact);
	/* the same objects, the same address: what every node relies on */
	ASSERT_TRUE(!memcmp(&s->addr, &config_find(again, "cookie-route")->addr, sizeof(s->addr)),
		    "a second load gave another address");
	if (c->v6_pool) {
		o = config_find(cfg, "cookie-route-v6");
		ASSERT_TRUE(o && in_pool(c->v6_pool, o), "no cookie-route-v6 in %s", c->v6_pool);
	}
	if (c->other_pool) {
		o = config_find(cfg, "other-route");
		ASSERT_TRUE(o, "no other-route service");
		addr_str(&o->addr, o->family, b);
		ASSERT_TRUE(in_pool(c->other_pool, o), "other-route's %s is not in %s", b, c->other_pool);
		ASSERT_TRUE(strcmp(a, b), "both Gateways got %s", a);
	}
	config_free(cfg);
	config_free(again);
	return 0;
}

static int pool_used_up_is_an_error_naming_the_gateway(void)
{
	/* a /32 holds one address: the second Gateway has none left */
	static const struct edit e[] = {
		POOL("[192.0.2.9/32]"),
		{ F_GATEWAY, "      port: 80\n", "      port: 80\n" OTHER_GATEWAY },
		{ F_ROUTE, "          port: 3000\n", "          port: 3000\n" OTHER_ROUTE },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 3, err, sizeof(err));

	ASSERT_TRUE(!cfg, "accepted");
	ASSERT_TRUE(strstr(err, "Gateway default/load-balancing-gateway has no address: gateway.addressPool is used up"),
		    "error: %s", err);
	return 0;
}

static int gateway_level_policy_applies_when_no_route_policy(void)
{
	static const struct edit e[] = {
		{ F_ROUTE, "      kind: HTTPRoute\n      name: cookie-route",
		  "      kind: Gateway\n      name: load-balancing-gateway" },
		{ F_ROUTE, "type: Cookie", "type: Header" },
		{ F_ROUTE, "      cookie:\n        name: FooBar\n        ttl: 60s\n        attributes:\n          SameSite: Strict\n",
		  "      header:\n        name: X-User\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 3, err, sizeof(err));
	const struct cfg_service *s;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "cookie-route");
	ASSERT_EQ(s->hash_type, MAGLB_HASH_HEADER);
	ASSERT_TRUE(!strcmp(s->key_name, "x-user"), "header %s", s->key_name);
	config_free(cfg);
	return 0;
}

static int route_without_policy_hashes_the_source_ip(void)
{
	static const struct edit e[] = {
		{ F_ROUTE, "kind: BackendTrafficPolicy", "kind: ConfigMap" },
		{ F_ROUTE, "apiVersion: gateway.envoyproxy.io/v1alpha1", "apiVersion: v1" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 2, err, sizeof(err));

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(config_find(cfg, "cookie-route")->hash_type, MAGLB_HASH_SOURCE_IP);
	config_free(cfg);
	return 0;
}

static int weighted_backend_refs_share_by_weight(void)
{
	/* backend 3 : canary 1, each ref's share spread over its ready pods;
	 * canary's slice port is found through its Service's port name. */
	static const struct edit e[] = {
		{ F_ROUTE, "        - name: backend\n          port: 3000\n",
		  "        - name: backend\n          port: 3000\n          weight: 3\n"
		  "        - name: canary\n          port: 3000\n          weight: 1\n"
		  "---\napiVersion: v1\nkind: Service\nmetadata: {name: canary}\n"
		  "spec:\n  ports: [{name: metrics, port: 9090}, {name: web, port: 3000, targetPort: 8080}]\n"
		  "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		  "metadata: {name: canary-abc, labels: {kubernetes.io/service-name: canary}}\n"
		  "addressType: IPv4\nports: [{name: metrics, port: 9090}, {name: web, port: 8080}]\n"
		  "endpoints:\n- addresses: [10.244.9.1]\n- addresses: [10.244.9.2]\n  conditions: {ready: true}\n" },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 1, err, sizeof(err));
	const struct cfg_service *s;
	__u32 main_w = 0, canary_w = 0;
	int i;

	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "cookie-route");
	ASSERT_EQ(s->n_backends, 11);
	for (i = 0; i < s->n_backends; i++) {
		if (s->backends[i].port == 8080)
			canary_w += s->backends[i].weight;
		else
			main_w += s->backends[i].weight;
	}
	ASSERT_EQ(canary_w, 1000);	/* 2 pods x 500 */
	ASSERT_EQ(main_w, 3000);	/* 8 ready pods x 375; terminating 0 */
	config_free(cfg);
	return 0;
}

static int slices_without_their_service_use_the_only_port(void)
{
	static const struct edit e[] = { { F_BACKEND, "x", NULL } };
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg = load_edited(e, 1, err, sizeof(err));

	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(config_find(cfg, "cookie-route")->n_backends, 9);
	config_free(cfg);
	return 0;
}

/*
 * An alias bomb (issue 16): lists of a few bytes per item through YAML
 * aliases, a 512 KB route whose hostnames x matches once overflowed an int
 * in the expansion. Each is refused with the route and the limit named,
 * before anything the size of the product is allocated.
 */
static const struct bomb_case {
	const char *name;
	int hosts, matches;
	const char *want;
} bomb_cases[] = {
	{ "alias_bomb_of_hostnames_times_matches_is_refused", 65536, 65537,
	  "HTTPRoute default/cookie-route: spec.rules[0].matches: 65537 matches; a listener holds at most 32 route matches" },
	{ "alias_bomb_of_hostnames_is_refused_before_expansion", 65536, 2,
	  "HTTPRoute default/cookie-route: spec.rules[0]: 65536 hostnames x 2 matches; a listener holds at most 32 route matches" },
	{ "hostnames_times_matches_past_the_listener_limit_is_refused", 11, 3,
	  "spec.rules[0]: 11 hostnames x 3 matches; a listener holds at most 32" },
};

/* "  KEY: [&A ITEM, *A, *A, ...]\n": n items, all but the first aliases
 * of it (an anchor A, one letter, is defined once per document). */
static char *alias_list(const char *indent_key, char a, const char *item, int n)
{
	size_t len = strlen(indent_key) + strlen(item) + 16 + 4 * (size_t)n;
	char *s = malloc(len), *p = s;
	int i;

	if (!s)
		return NULL;
	p += sprintf(p, "%s [&%c %s", indent_key, a, item);
	for (i = 1; i < n; i++)
		p += sprintf(p, ", *%c", a);
	strcpy(p, "]\n");
	return s;
}

static int check_bomb(const struct bomb_case *c)
{
	char *hosts = alias_list("  hostnames:", 'h', "www.example.com", c->hosts);
	char *ms = alias_list("    - matches:", 'm', "{path: {type: PathPrefix, value: /cookie}}",
			      c->matches);
	struct edit e[] = {
		{ F_ROUTE, "  hostnames:\n    - \"www.example.com\"\n", hosts },
		{ F_ROUTE, "    - matches:\n        - path:\n            type: PathPrefix\n"
			   "            value: /cookie\n", ms },
	};
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;

	ASSERT_TRUE(hosts && ms, "out of memory");
	cfg = load_edited(e, 2, err, sizeof(err));
	free(hosts);
	free(ms);
	ASSERT_TRUE(!cfg, "accepted");
	ASSERT_TRUE(strstr(err, c->want), "error \"%s\" lacks \"%s\"", err, c->want);
	ASSERT_TRUE(strstr(err, "/tmp/maglb-gw-test-") == err,
		    "error does not start with the file: %s", err);
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_report(bad[i].name, check_bad(&bad[i]));
	RUN_TEST(seed_manifests_become_the_cookie_route_service);
	RUN_TEST(routes_on_one_listener_are_ordered_by_precedence);
	RUN_TEST(single_route_without_matches_is_a_plain_service);
	RUN_TEST(no_route_match_reset_reaches_the_listener);
	RUN_TEST(gateway_mtu_reaches_route_and_listener);
	RUN_TEST(gateway_spec_addresses_win_over_the_default);
	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++)
		test_report(addr_cases[i].name, check_addr(&addr_cases[i]));
	RUN_TEST(pool_used_up_is_an_error_naming_the_gateway);
	for (i = 0; i < sizeof(api_cases) / sizeof(api_cases[0]); i++)
		test_report(api_cases[i].name, check_api(&api_cases[i]));
	for (i = 0; i < sizeof(grant_cases) / sizeof(grant_cases[0]); i++)
		test_report(grant_cases[i].name, check_grant(&grant_cases[i]));
	for (i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]); i++)
		test_report(class_cases[i].name, check_class(&class_cases[i]));
	RUN_TEST(gateway_level_policy_applies_when_no_route_policy);
	RUN_TEST(route_without_policy_hashes_the_source_ip);
	RUN_TEST(weighted_backend_refs_share_by_weight);
	RUN_TEST(slices_without_their_service_use_the_only_port);
	for (i = 0; i < sizeof(bomb_cases) / sizeof(bomb_cases[0]); i++)
		test_report(bomb_cases[i].name, check_bomb(&bomb_cases[i]));
	return test_exit();
}
