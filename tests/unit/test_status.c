// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_status.c - the Gateway API status maglb writes (agent/status.c),
 * from status reports (model/status.h) to the JSON the API server gets,
 * without an API server. Each row builds one object's report, the status
 * from it (at T1), and checks fields by path; rows with a second report
 * build again at T2 from the first result, as the writer does, and check
 * what moved: lastTransitionTime only when a condition's status changes,
 * and an unchanged report giving the same JSON (nothing to write).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "agent/status.h"
#include "testlib.h"

#define CTL	MAGLB_CONTROLLER_NAME
#define T1	"2026-01-01T00:00:00Z"
#define T2	"2026-01-01T00:05:00Z"
#define GW_GROUP "gateway.networking.k8s.io"

/* The value at path in o, as a string: keys and [index] or
 * [type=Accepted] (the entry whose "type", "name" or the like is that). */
static const char *at(json_object *o, const char *path)
{
	static char out[512];
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && o; p = strtok_r(NULL, ".", &save)) {
		char *br = strchr(p, '[');

		if (br)
			*br = 0;
		if (*p && !json_object_object_get_ex(o, p, &o))
			return NULL;
		while (br && o) {
			char *end = strchr(br + 1, ']'), *eq;
			json_object *hit = NULL;
			size_t i;

			*end = 0;
			if (!json_object_is_type(o, json_type_array))
				return NULL;
			if ((eq = strchr(br + 1, '='))) {
				*eq = 0;
				for (i = 0; i < json_object_array_length(o); i++) {
					json_object *e = json_object_array_get_idx(o, i), *v;

					if (json_object_object_get_ex(e, br + 1, &v) &&
					    !strcmp(json_object_get_string(v), eq + 1))
						hit = e;
				}
			} else {
				hit = json_object_array_get_idx(o, atoi(br + 1));
			}
			o = hit;
			br = strchr(end + 1, '[');
		}
	}
	if (!o)
		return NULL;
	snprintf(out, sizeof(out), "%s", json_object_get_string(o));
	return out;
}

/* ---- reports ------------------------------------------------------------ */

static void gateway(struct st_object *o, long gen)
{
	memset(o, 0, sizeof(*o));
	o->kind = ST_GATEWAY;
	snprintf(o->ns, sizeof(o->ns), "default");
	snprintf(o->name, sizeof(o->name), "load-balancing-gateway");
	o->generation = gen;
	o->accepted.ok = true;
	inet_pton(AF_INET, "10.200.0.13", &o->addrs[0].v4);
	o->fams[0] = MAGLB_AF_INET;
	o->n_addrs = 1;
	snprintf(o->listeners[0].name, ST_NAME_LEN, "http");
	o->listeners[0].attached = 1;
	o->listeners[0].accepted.ok = o->listeners[0].resolved.ok = true;
	o->n_listeners = 1;
}

static void route(struct st_object *o, long gen)
{
	memset(o, 0, sizeof(*o));
	o->kind = ST_ROUTE;
	snprintf(o->ns, sizeof(o->ns), "default");
	snprintf(o->name, sizeof(o->name), "cookie-route");
	o->generation = gen;
	o->accepted.ok = true;
	snprintf(o->refs[0].kind, 32, "Gateway");
	snprintf(o->refs[0].ns, ST_NAME_LEN, "default");
	snprintf(o->refs[0].name, ST_NAME_LEN, "load-balancing-gateway");
	o->refs[0].accepted.ok = o->refs[0].resolved.ok = true;
	o->n_refs = 1;
}

static void policy(struct st_object *o, long gen)
{
	route(o, gen);
	o->kind = ST_POLICY;
	snprintf(o->name, sizeof(o->name), "cookie-policy");
	snprintf(o->refs[0].kind, 32, "HTTPRoute");
	snprintf(o->refs[0].name, ST_NAME_LEN, "cookie-route");
}

static void class(struct st_object *o, long gen)
{
	memset(o, 0, sizeof(*o));
	o->kind = ST_CLASS;
	snprintf(o->name, sizeof(o->name), "tigera-gateway-class");
	o->generation = gen;
	o->accepted.ok = true;
}

/* ---- rows ---------------------------------------------------------------- */

struct want {
	const char *path, *value;	/* value NULL: absent */
};

struct row {
	const char *name;
	void (*make)(struct st_object *o, long gen);
	void (*edit)(struct st_object *o);	/* the first report's change */
	struct want first[12];
	/* a second report, built from the first's JSON at T2 */
	void (*edit2)(struct st_object *o);
	long gen2;			/* its generation (0: the same) */
	int same;			/* 1: the same JSON, 0: different */
	struct want second[6];
};

static void gw_invalid(struct st_object *o)
{
	st_set(&o->accepted, "Invalid", "Gateway default/x: spec.listeners: required");
}

static void gw_no_address(struct st_object *o)
{
	o->n_addrs = 0;
}

static void gw_conflict(struct st_object *o)
{
	st_set(&o->listeners[0].accepted, "ProtocolConflict", "port 80: HTTP and TCP");
}

static void gw_https(struct st_object *o)
{
	st_set(&o->listeners[0].accepted, "UnsupportedProtocol",
	       "spec.listeners[0].protocol: HTTPS: not supported by maglb");
}

static void rt_filters(struct st_object *o)
{
	st_set(&o->refs[0].accepted, "UnsupportedValue",
	       "HTTPRoute default/cookie-route: spec.rules[0].filters: not supported by maglb");
}

static void rt_missing(struct st_object *o)
{
	st_set(&o->refs[0].resolved, "BackendNotFound", "Service default/backend: not found");
}

static void rt_section(struct st_object *o)
{
	snprintf(o->refs[0].section, ST_NAME_LEN, "http");
	o->refs[0].port = 80;
}

static void gw_two_routes(struct st_object *o)
{
	o->listeners[0].attached = 2;
}

static const struct row rows[] = {
	{ "gateway_is_accepted_and_programmed_at_its_generation", gateway, NULL, {
		{ "addresses[0].type", "IPAddress" },
		{ "addresses[0].value", "10.200.0.13" },
		{ "conditions[type=Accepted].status", "True" },
		{ "conditions[type=Accepted].reason", "Accepted" },
		{ "conditions[type=Accepted].observedGeneration", "4" },
		{ "conditions[type=Programmed].status", "True" },
		{ "conditions[type=Programmed].reason", "Programmed" },
		{ "conditions[type=Programmed].lastTransitionTime", T1 },
		{ "listeners[name=http].attachedRoutes", "1" },
		{ "listeners[0].supportedKinds[0].kind", "HTTPRoute" },
		{ "listeners[0].supportedKinds[0].group", GW_GROUP } } },
	{ "listener_has_the_four_conditions", gateway, NULL, {
		{ "listeners[0].conditions[type=Accepted].status", "True" },
		{ "listeners[0].conditions[type=Programmed].status", "True" },
		{ "listeners[0].conditions[type=ResolvedRefs].status", "True" },
		{ "listeners[0].conditions[type=Conflicted].status", "False" },
		{ "listeners[0].conditions[type=Conflicted].reason", "NoConflicts" },
		{ "listeners[0].conditions[type=Conflicted].observedGeneration", "4" } } },
	{ "invalid_gateway_is_not_accepted_nor_programmed", gateway, gw_invalid, {
		{ "conditions[type=Accepted].status", "False" },
		{ "conditions[type=Accepted].reason", "Invalid" },
		{ "conditions[type=Accepted].message", "Gateway default/x: spec.listeners: required" },
		{ "conditions[type=Programmed].status", "False" },
		{ "conditions[type=Programmed].reason", "Invalid" },
		{ "listeners[0].conditions[type=Programmed].status", "False" } } },
	{ "gateway_without_address_is_address_not_assigned", gateway, gw_no_address, {
		{ "conditions[type=Accepted].status", "True" },
		{ "conditions[type=Programmed].status", "False" },
		{ "conditions[type=Programmed].reason", "AddressNotAssigned" },
		{ "addresses[0]", NULL } } },
	{ "listener_protocol_conflict_is_conflicted", gateway, gw_conflict, {
		{ "listeners[0].conditions[type=Accepted].status", "False" },
		{ "listeners[0].conditions[type=Conflicted].status", "True" },
		{ "listeners[0].conditions[type=Conflicted].reason", "ProtocolConflict" },
		{ "listeners[0].conditions[type=Programmed].status", "False" },
		{ "listeners[0].conditions[type=Programmed].reason", "Invalid" } } },
	{ "unsupported_listener_is_not_accepted_with_the_reason", gateway, gw_https, {
		{ "listeners[0].conditions[type=Accepted].reason", "UnsupportedProtocol" },
		{ "listeners[0].conditions[type=Accepted].message",
		  "spec.listeners[0].protocol: HTTPS: not supported by maglb" },
		{ "listeners[0].conditions[type=Conflicted].status", "False" },
		{ "conditions[type=Accepted].status", "True" } } },
	{ "route_parent_names_the_gateway_and_maglb", route, NULL, {
		{ "[0].parentRef.group", GW_GROUP },
		{ "[0].parentRef.kind", "Gateway" },
		{ "[0].parentRef.namespace", "default" },
		{ "[0].parentRef.name", "load-balancing-gateway" },
		{ "[0].parentRef.sectionName", NULL },
		{ "[0].parentRef.port", NULL },
		{ "[0].controllerName", CTL },
		{ "[0].conditions[type=Accepted].status", "True" },
		{ "[0].conditions[type=ResolvedRefs].status", "True" },
		{ "[0].conditions[type=ResolvedRefs].observedGeneration", "4" } } },
	{ "route_parent_keeps_section_and_port", route, rt_section, {
		{ "[0].parentRef.sectionName", "http" },
		{ "[0].parentRef.port", "80" } } },
	{ "unsupported_route_is_not_accepted_with_maglbs_message", route, rt_filters, {
		{ "[0].conditions[type=Accepted].status", "False" },
		{ "[0].conditions[type=Accepted].reason", "UnsupportedValue" },
		{ "[0].conditions[type=Accepted].message",
		  "HTTPRoute default/cookie-route: spec.rules[0].filters: not supported by maglb" },
		{ "[0].conditions[type=ResolvedRefs].status", "True" } } },
	{ "missing_backend_is_not_resolved", route, rt_missing, {
		{ "[0].conditions[type=Accepted].status", "True" },
		{ "[0].conditions[type=ResolvedRefs].status", "False" },
		{ "[0].conditions[type=ResolvedRefs].reason", "BackendNotFound" } } },
	{ "policy_ancestor_is_its_target", policy, NULL, {
		{ "[0].ancestorRef.kind", "HTTPRoute" },
		{ "[0].ancestorRef.name", "cookie-route" },
		{ "[0].controllerName", CTL },
		{ "[0].conditions[type=Accepted].status", "True" },
		{ "[0].conditions[type=ResolvedRefs]", NULL } } },
	{ "class_is_accepted", class, NULL, {
		{ "conditions[type=Accepted].status", "True" },
		{ "conditions[type=Accepted].reason", "Accepted" },
		{ "conditions[1]", NULL } } },
	/* the writer's second pass */
	{ "unchanged_report_is_the_same_status", route, NULL, {}, NULL, 0, 1, {
		{ "[0].conditions[type=Accepted].lastTransitionTime", T1 } } },
	{ "new_generation_moves_observed_generation_not_transition_time", route, NULL, {},
	  NULL, 5, 0, {
		{ "[0].conditions[type=Accepted].observedGeneration", "5" },
		{ "[0].conditions[type=Accepted].lastTransitionTime", T1 } } },
	{ "status_change_moves_its_transition_time_alone", route, NULL, {},
	  rt_filters, 5, 0, {
		{ "[0].conditions[type=Accepted].status", "False" },
		{ "[0].conditions[type=Accepted].lastTransitionTime", T2 },
		{ "[0].conditions[type=ResolvedRefs].lastTransitionTime", T1 } } },
	{ "fixed_route_turns_accepted_again", route, rt_filters, {},
	  NULL, 0, 0, {
		{ "[0].conditions[type=Accepted].status", "True" },
		{ "[0].conditions[type=Accepted].reason", "Accepted" },
		{ "[0].conditions[type=Accepted].lastTransitionTime", T2 } } },
	{ "attached_routes_change_is_a_new_status", gateway, NULL, {},
	  gw_two_routes, 0, 0, {
		{ "listeners[0].attachedRoutes", "2" },
		{ "listeners[0].conditions[type=Accepted].lastTransitionTime", T1 } } },
};

static int check_wants(json_object *j, const struct want *w, int n, const char *which)
{
	int i;

	for (i = 0; i < n && w[i].path; i++) {
		const char *got = at(j, w[i].path);

		if (!w[i].value && got)
			TEST_FAIL("%s: %s is \"%s\", expected absent", which, w[i].path, got);
		if (w[i].value && (!got || strcmp(got, w[i].value)))
			TEST_FAIL("%s: %s is %s%s%s, expected \"%s\"", which, w[i].path,
				  got ? "\"" : "", got ? got : "absent", got ? "\"" : "",
				  w[i].value);
	}
	return 0;
}

static int check_row(const struct row *r)
{
	struct st_object o;
	json_object *j, *j2;
	int rc;

	r->make(&o, 4);
	if (r->edit)
		r->edit(&o);
	j = status_build(&o, NULL, CTL, T1);
	ASSERT_TRUE(j, "no status built");
	rc = check_wants(j, r->first, 12, "first");
	if (!rc && r->second[0].path) {
		r->make(&o, r->gen2 ? r->gen2 : 4);
		if (r->edit2)
			r->edit2(&o);
		j2 = status_build(&o, j, CTL, T2);
		rc = check_wants(j2, r->second, 6, "second");
		if (!rc && json_object_equal(j, j2) != r->same) {
			snprintf(test_msg, sizeof(test_msg), "the second status is %s the first",
				 r->same ? "not" : "still");
			rc = -1;
		}
		json_object_put(j2);
	}
	json_object_put(j);
	return rc;
}

/* Another controller's entries stay; maglb's old ones are replaced; the
 * part read back is maglb's alone. */
static int others_parents_are_kept(void)
{
	struct st_object o;
	json_object *server, *ours, *merged, *read_back;

	route(&o, 2);
	server = json_tokener_parse(
		"{\"parents\": ["
		"{\"parentRef\": {\"name\": \"eg\"}, \"controllerName\": \"gateway.envoyproxy.io/gatewayclass-controller\", \"conditions\": []},"
		"{\"parentRef\": {\"name\": \"old\"}, \"controllerName\": \"" CTL "\", \"conditions\": []}]}");
	ASSERT_TRUE(server, "bad JSON");
	ours = status_build(&o, NULL, CTL, T1);
	merged = status_merged(ST_ROUTE, server, ours, CTL);
	ASSERT_EQ(json_object_array_length(json_object_object_get(merged, "parents")), 2);
	ASSERT_TRUE(!strcmp(at(merged, "parents[0].parentRef.name"), "eg"), "%s",
		    at(merged, "parents[0].parentRef.name"));
	ASSERT_TRUE(!strcmp(at(merged, "parents[1].parentRef.name"), "load-balancing-gateway"),
		    "%s", at(merged, "parents[1].parentRef.name"));
	read_back = status_ours(ST_ROUTE, merged, CTL);
	ASSERT_TRUE(json_object_equal(read_back, ours), "read back: %s",
		    json_object_to_json_string(read_back));
	json_object_put(read_back);
	json_object_put(merged);
	json_object_put(ours);
	json_object_put(server);
	return 0;
}

/* A route no longer maglb's: its entries go, the others' stay. */
static int route_left_alone_loses_maglbs_entries(void)
{
	json_object *server, *none, *merged;

	server = json_tokener_parse(
		"{\"parents\": [{\"parentRef\": {\"name\": \"x\"}, \"controllerName\": \"" CTL "\"},"
		"{\"parentRef\": {\"name\": \"eg\"}, \"controllerName\": \"other/ctl\"}]}");
	none = status_build(NULL, NULL, CTL, T1);
	merged = status_merged(ST_ROUTE, server, none, CTL);
	ASSERT_EQ(json_object_array_length(json_object_object_get(merged, "parents")), 1);
	ASSERT_TRUE(!strcmp(at(merged, "parents[0].controllerName"), "other/ctl"), "%s",
		    at(merged, "parents[0].controllerName"));
	json_object_put(merged);
	json_object_put(none);
	json_object_put(server);
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		test_report(rows[i].name, check_row(&rows[i]));
	RUN_TEST(others_parents_are_kept);
	RUN_TEST(route_left_alone_loses_maglbs_entries);
	return test_exit();
}
