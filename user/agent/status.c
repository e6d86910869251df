// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status.c - Gateway API status from cfg->status (see status.h), as the
 * Gateway API v1 types define it:
 *
 *   GatewayClass  conditions: Accepted
 *   Gateway       addresses, conditions: Accepted, Programmed;
 *                 listeners[]: name, supportedKinds, attachedRoutes,
 *                 conditions: Accepted, Programmed, ResolvedRefs, Conflicted
 *   HTTPRoute     parents[]: parentRef, controllerName, conditions:
 *                 Accepted, ResolvedRefs
 *   BackendTrafficPolicy  ancestors[]: ancestorRef, controllerName,
 *                 conditions: Accepted
 *
 * Every condition carries the object's metadata.generation as
 * observedGeneration, and a lastTransitionTime that moves only when the
 * condition's status does (taken from what was last written, or read).
 *
 * maglb owns a GatewayClass's and a Gateway's whole status: a merge patch
 * of it. A route's parents and a policy's ancestors are shared with other
 * controllers (each its own entries, told by controllerName): those are
 * read, maglb's entries replaced, and written back with the
 * resourceVersion read, so a concurrent write is a 409, not lost.
 *
 * The cache holds what maglb's part of each status was after the last
 * write (or read): a status_sync() with nothing new writes nothing, so
 * status never churns and each apply costs no requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "agent/status.h"
#include "common/addr.h"
#include "common/log.h"
#include "input/kubeapi.h"
#include "model/config.h"
#include "model/status.h"

/* A write waits this long at most: the agent's loop waits for it. */
#define STATUS_REQ_TIMEOUT_MS	1000

#define GW_GROUP	"gateway.networking.k8s.io"

struct cached {
	enum st_kind kind;
	char ns[ST_NAME_LEN], name[ST_NAME_LEN];
	json_object *ours;	/* maglb's part of status; NULL: not read yet */
	bool known;		/* ours is what the server holds */
	bool seen;		/* in this sync's report */
};

struct status_writer {
	struct kube *k;
	struct cached *c;
	int n;
};

static const struct {
	const char *prefix, *plural;
	bool namespaced;
} kinds[] = {
	[ST_CLASS] = { "/apis/" GW_GROUP "/v1", "gatewayclasses", false },
	[ST_GATEWAY] = { "/apis/" GW_GROUP "/v1", "gateways", true },
	[ST_ROUTE] = { "/apis/" GW_GROUP "/v1", "httproutes", true },
	[ST_POLICY] = { "/apis/gateway.envoyproxy.io/v1alpha1",
			"backendtrafficpolicies", true },
};

static const char *kind_name(enum st_kind k)
{
	static const char *const n[] = { [ST_CLASS] = "GatewayClass",
		[ST_GATEWAY] = "Gateway", [ST_ROUTE] = "HTTPRoute",
		[ST_POLICY] = "BackendTrafficPolicy" };

	return n[k];
}

static void obj_path(char *buf, size_t len, enum st_kind k, const char *ns,
		     const char *name, const char *sub)
{
	if (kinds[k].namespaced)
		snprintf(buf, len, "%s/namespaces/%s/%s/%s%s", kinds[k].prefix, ns,
			 kinds[k].plural, name, sub);
	else
		snprintf(buf, len, "%s/%s/%s%s", kinds[k].prefix, kinds[k].plural,
			 name, sub);
}

struct status_writer *status_new(struct kube *k)
{
	struct status_writer *w = calloc(1, sizeof(*w));

	if (w)
		w->k = k;
	return w;
}

void status_forget(struct status_writer *w)
{
	int i;

	for (i = 0; i < w->n; i++) {
		json_object_put(w->c[i].ours);
		w->c[i].ours = NULL;
		w->c[i].known = false;
	}
}

void status_free(struct status_writer *w)
{
	if (!w)
		return;
	status_forget(w);
	free(w->c);
	free(w);
}

static struct cached *cache_get(struct status_writer *w, const struct st_object *o)
{
	struct cached *t;
	int i;

	for (i = 0; i < w->n; i++)
		if (w->c[i].kind == o->kind && !strcmp(w->c[i].ns, o->ns) &&
		    !strcmp(w->c[i].name, o->name))
			return &w->c[i];
	t = realloc(w->c, (w->n + 1) * sizeof(*t));
	if (!t)
		return NULL;
	w->c = t;
	t = &t[w->n++];
	memset(t, 0, sizeof(*t));
	t->kind = o->kind;
	snprintf(t->ns, sizeof(t->ns), "%s", o->ns);
	snprintf(t->name, sizeof(t->name), "%s", o->name);
	return t;
}

/* ---- building status ---------------------------------------------------- */

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "";
}

/* The entry of array a whose key is val. */
static json_object *find_by(json_object *a, const char *key, const char *val)
{
	size_t i;

	for (i = 0; a && json_object_is_type(a, json_type_array) &&
		    i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (!strcmp(get_str(e, key), val))
			return e;
	}
	return NULL;
}

struct build {
	long gen;
	char now[32];		/* RFC 3339, for conditions that change */
	const char *controller;
};

/* Condition type of conditions: status from ok, reason (the true reason
 * when ok), message. prev: the conditions last written, for
 * lastTransitionTime. */
static void cond(json_object *conds, json_object *prev, const struct build *b,
		 const char *type, bool ok, const char *reason, const char *msg)
{
	json_object *c = json_object_new_object(), *p = find_by(prev, "type", type);
	const char *status = ok ? "True" : "False";
	const char *ltt = p && !strcmp(get_str(p, "status"), status) &&
			  get_str(p, "lastTransitionTime")[0] ?
			  get_str(p, "lastTransitionTime") : b->now;

	json_object_object_add(c, "type", json_object_new_string(type));
	json_object_object_add(c, "status", json_object_new_string(status));
	json_object_object_add(c, "reason", json_object_new_string(reason));
	json_object_object_add(c, "message", json_object_new_string(msg));
	json_object_object_add(c, "observedGeneration", json_object_new_int64(b->gen));
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(ltt));
	json_object_array_add(conds, c);
}

/* A condition from an st_cond: true with true_reason, else its own. */
static void cond_st(json_object *conds, json_object *prev, const struct build *b,
		    const char *type, const struct st_cond *s,
		    const char *true_reason, const char *true_msg)
{
	cond(conds, prev, b, type, s->ok, s->ok ? true_reason : s->reason,
	     s->ok ? true_msg : s->message);
}

static json_object *class_status(const struct st_object *o, json_object *prev,
				 const struct build *b)
{
	json_object *st = json_object_new_object(), *conds = json_object_new_array();

	cond_st(conds, get(prev, "conditions"), b, "Accepted", &o->accepted,
		"Accepted", "Accepted by maglb");
	json_object_object_add(st, "conditions", conds);
	return st;
}

static json_object *gateway_status(const struct st_object *o, json_object *prev,
				   const struct build *b)
{
	json_object *st = json_object_new_object(), *conds = json_object_new_array();
	json_object *addrs = json_object_new_array(), *ls = json_object_new_array();
	char ip[ADDR_STRLEN];
	int i;

	for (i = 0; i < o->n_addrs; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "type", json_object_new_string("IPAddress"));
		json_object_object_add(a, "value", json_object_new_string(
			addr_str(&o->addrs[i], o->fams[i], ip)));
		json_object_array_add(addrs, a);
	}
	json_object_object_add(st, "addresses", addrs);
	cond_st(conds, get(prev, "conditions"), b, "Accepted", &o->accepted,
		"Accepted", "Accepted by maglb");
	/* Programmed: written after this node's apply of it succeeded. */
	if (!o->accepted.ok)
		cond(conds, get(prev, "conditions"), b, "Programmed", false, "Invalid",
		     o->accepted.message);
	else if (!o->n_addrs)
		cond(conds, get(prev, "conditions"), b, "Programmed", false,
		     "AddressNotAssigned", "no address: give spec.addresses or gateway.addressPool");
	else
		cond(conds, get(prev, "conditions"), b, "Programmed", true, "Programmed",
		     "Programmed in the datapath");
	json_object_object_add(st, "conditions", conds);
	for (i = 0; i < o->n_listeners; i++) {
		const struct st_listener *l = &o->listeners[i];
		json_object *e = json_object_new_object(), *kinds = json_object_new_array();
		json_object *k = json_object_new_object(), *lc = json_object_new_array();
		json_object *pl = get(find_by(get(prev, "listeners"), "name", l->name),
				      "conditions");
		bool conflict = !l->accepted.ok &&
				(!strcmp(l->accepted.reason, "ProtocolConflict") ||
				 !strcmp(l->accepted.reason, "HostnameConflict"));
		bool ok = o->accepted.ok && l->accepted.ok && l->resolved.ok;

		json_object_object_add(e, "name", json_object_new_string(l->name));
		json_object_object_add(k, "group", json_object_new_string(GW_GROUP));
		json_object_object_add(k, "kind", json_object_new_string("HTTPRoute"));
		json_object_array_add(kinds, k);
		json_object_object_add(e, "supportedKinds", kinds);
		json_object_object_add(e, "attachedRoutes", json_object_new_int(l->attached));
		cond_st(lc, pl, b, "Accepted", &l->accepted, "Accepted", "Accepted by maglb");
		cond(lc, pl, b, "Programmed", ok, ok ? "Programmed" : "Invalid",
		     ok ? "Programmed in the datapath" :
		     !l->accepted.ok ? l->accepted.message :
		     !l->resolved.ok ? l->resolved.message : o->accepted.message);
		cond_st(lc, pl, b, "ResolvedRefs", &l->resolved, "ResolvedRefs",
			"References resolved");
		cond(lc, pl, b, "Conflicted", conflict,
		     conflict ? l->accepted.reason : "NoConflicts",
		     conflict ? l->accepted.message : "No conflicts");
		json_object_object_add(e, "conditions", lc);
		json_object_array_add(ls, e);
	}
	json_object_object_add(st, "listeners", ls);
	return st;
}

static json_object *ref_json(const struct st_ref *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "group", json_object_new_string(GW_GROUP));
	json_object_object_add(o, "kind", json_object_new_string(r->kind));
	json_object_object_add(o, "namespace", json_object_new_string(r->ns));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	if (r->section[0])
		json_object_object_add(o, "sectionName", json_object_new_string(r->section));
	if (r->port)
		json_object_object_add(o, "port", json_object_new_int(r->port));
	return o;
}

/* The entry of prev (parents or ancestors) with the same reference. */
static json_object *find_ref(json_object *prev, const char *refkey, json_object *ref)
{
	size_t i;

	for (i = 0; prev && i < json_object_array_length(prev); i++) {
		json_object *e = json_object_array_get_idx(prev, i);

		if (json_object_equal(get(e, refkey), ref))
			return e;
	}
	return NULL;
}

/* HTTPRoute parents or policy ancestors: maglb's entries. */
static json_object *refs_status(const struct st_object *o, json_object *prev,
				const struct build *b)
{
	bool route = o->kind == ST_ROUTE;
	const char *refkey = route ? "parentRef" : "ancestorRef";
	json_object *list = json_object_new_array();
	int i;

	for (i = 0; i < o->n_refs; i++) {
		const struct st_ref *r = &o->refs[i];
		json_object *e = json_object_new_object(), *ref = ref_json(r);
		json_object *conds = json_object_new_array();
		json_object *pc = get(find_ref(prev, refkey, ref), "conditions");

		json_object_object_add(e, refkey, ref);
		json_object_object_add(e, "controllerName",
				       json_object_new_string(b->controller));
		cond_st(conds, pc, b, "Accepted", &r->accepted, "Accepted",
			"Accepted by maglb");
		if (route)
			cond_st(conds, pc, b, "ResolvedRefs", &r->resolved,
				"ResolvedRefs", "References resolved");
		json_object_object_add(e, "conditions", conds);
		json_object_array_add(list, e);
	}
	return list;
}

static json_object *build(const struct st_object *o, json_object *prev,
			  const struct build *b)
{
	if (!o)		/* no longer maglb's: no entries */
		return json_object_new_array();
	switch (o->kind) {
	case ST_CLASS:
		return class_status(o, prev, b);
	case ST_GATEWAY:
		return gateway_status(o, prev, b);
	default:
		return refs_status(o, prev, b);
	}
}

/* ---- reading and writing ----------------------------------------------- */

static const char *list_key(enum st_kind k)
{
	return k == ST_ROUTE ? "parents" : "ancestors";
}

json_object *status_build(const struct st_object *o, json_object *prev,
			  const char *controller, const char *now)
{
	struct build b = { .gen = o ? o->generation : 0, .controller = controller };

	snprintf(b.now, sizeof(b.now), "%s", now);
	return build(o, prev, &b);
}

json_object *status_ours(enum st_kind k, json_object *status,
			 const char *controller)
{
	json_object *list, *out;
	size_t i;

	if (k == ST_CLASS || k == ST_GATEWAY)
		return status ? json_object_get(status) : NULL;
	list = get(status, list_key(k));
	out = json_object_new_array();
	for (i = 0; list && json_object_is_type(list, json_type_array) &&
		    i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);

		if (!strcmp(get_str(e, "controllerName"), controller))
			json_object_array_add(out, json_object_get(e));
	}
	return out;
}

json_object *status_merged(enum st_kind k, json_object *server_status,
			   json_object *ours, const char *controller)
{
	json_object *list = get(server_status, list_key(k)), *all, *st;
	size_t i;

	if (k == ST_CLASS || k == ST_GATEWAY)
		return json_object_get(ours);
	all = json_object_new_array();
	for (i = 0; list && json_object_is_type(list, json_type_array) &&
		    i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);

		if (strcmp(get_str(e, "controllerName"), controller))
			json_object_array_add(all, json_object_get(e));
	}
	for (i = 0; i < json_object_array_length(ours); i++)
		json_object_array_add(all, json_object_get(json_object_array_get_idx(ours, i)));
	st = json_object_new_object();
	json_object_object_add(st, list_key(k), all);
	return st;
}

/* GET the object: its status in *status (a reference into *obj) and its
 * resourceVersion. 0, -ENOENT, or another -errno. */
static int read_obj(struct status_writer *w, const struct cached *c,
		    json_object **obj, json_object **status, char *rv, size_t rvlen)
{
	char path[1024], *resp = NULL;
	long st;
	int rc;

	obj_path(path, sizeof(path), c->kind, c->ns, c->name, "");
	rc = kube_request(w->k, "GET", path, NULL, NULL, STATUS_REQ_TIMEOUT_MS,
			  &st, &resp);
	if (rc)
		return rc;
	*obj = st == 200 && resp ? json_tokener_parse(resp) : NULL;
	free(resp);
	if (st == 404)
		return -ENOENT;
	if (!*obj) {
		log_event("warn", "msg=\"cannot read for status\" kind=%s name=%s/%s status=%ld",
			  kind_name(c->kind), c->ns, c->name, st);
		return -EPROTO;
	}
	*status = get(*obj, "status");
	snprintf(rv, rvlen, "%s", get_str(get(*obj, "metadata"), "resourceVersion"));
	return 0;
}

/* Write maglb's part: the whole status (class, Gateway), or the others'
 * entries with ours (route, policy), as of resourceVersion rv. */
static int write_status(struct status_writer *w, const struct cached *c,
			json_object *ours, json_object *server_status,
			const char *rv, const char *controller)
{
	json_object *patch = json_object_new_object(), *st;
	char path[1024];
	long code;
	int rc;

	st = status_merged(c->kind, server_status, ours, controller);
	if (c->kind == ST_ROUTE || c->kind == ST_POLICY) {
		json_object *meta = json_object_new_object();

		json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
		json_object_object_add(patch, "metadata", meta);
	}
	json_object_object_add(patch, "status", st);
	obj_path(path, sizeof(path), c->kind, c->ns, c->name, "/status");
	rc = kube_request(w->k, "PATCH", path, "application/merge-patch+json",
			  json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN),
			  STATUS_REQ_TIMEOUT_MS, &code, NULL);
	json_object_put(patch);
	if (rc)
		return rc;
	if (code == 200) {
		log_event("info", "msg=\"status written\" kind=%s name=%s%s%s",
			  kind_name(c->kind), c->ns, c->ns[0] ? "/" : "", c->name);
		return 0;
	}
	log_event(code == 409 || code == 404 ? "info" : "warn",
		  "msg=\"status not written\" kind=%s name=%s%s%s status=%ld",
		  kind_name(c->kind), c->ns, c->ns[0] ? "/" : "", c->name, code);
	return code == 404 ? -ENOENT : code == 409 ? -EAGAIN : -EPROTO;
}

/* One object to desired: 0 (done, or nothing to do), or -errno: those of
 * kube_request() when no answer came, else -ENOENT (the object is gone),
 * -EAGAIN (a concurrent write), -EPROTO (another refusal). */
static int sync_one(struct status_writer *w, struct cached *c,
		    const struct st_object *o, const struct build *b)
{
	json_object *obj = NULL, *server = NULL, *want;
	bool shared = c->kind == ST_ROUTE || c->kind == ST_POLICY;
	char rv[64] = "";
	int rc;

	if (!c->known) {
		rc = read_obj(w, c, &obj, &server, rv, sizeof(rv));
		if (rc)
			return rc;
		json_object_put(c->ours);
		c->ours = status_ours(c->kind, server, b->controller);
		c->known = true;
	}
	want = build(o, c->ours, b);
	if (c->ours && json_object_equal(want, c->ours)) {
		json_object_put(want);
		json_object_put(obj);
		return 0;
	}
	if (shared && !obj) {	/* the others' entries, as of now */
		rc = read_obj(w, c, &obj, &server, rv, sizeof(rv));
		if (rc) {
			json_object_put(want);
			return rc;
		}
	}
	rc = write_status(w, c, want, server, rv, b->controller);
	json_object_put(obj);
	if (rc) {
		json_object_put(want);
		c->known = false;	/* read it again next time */
		return rc;
	}
	json_object_put(c->ours);
	c->ours = want;
	return 0;
}

/* No answer (or stopping): the rest would wait as long, each; the next
 * call tries again. */
static bool unreachable(int rc)
{
	return rc == -ETIMEDOUT || rc == -EIO || rc == -ECANCELED;
}

int status_sync(struct status_writer *w, const struct maglb_config *cfg)
{
	const struct st_report *r = &cfg->status;
	struct build b = { .controller = r->controller[0] ? r->controller :
				       MAGLB_CONTROLLER_NAME };
	struct timespec ts;
	struct tm tm;
	int i, failed = 0, rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(b.now, sizeof(b.now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (i = 0; i < w->n; i++)
		w->c[i].seen = false;
	for (i = 0; i < r->n; i++) {
		const struct st_object *o = &r->objs[i];
		struct cached *c;

		if (!o->from_api)
			continue;
		if (!(c = cache_get(w, o)))
			return failed + 1;
		c->seen = true;
		b.gen = o->generation;
		rc = sync_one(w, c, o, &b);
		if (unreachable(rc))
			return failed + 1;
		failed += rc && rc != -ENOENT;
	}
	/* No longer in the report: a route or policy maglb no longer serves
	 * loses maglb's entries; then it is forgotten. */
	for (i = 0; i < w->n; i++) {
		struct cached *c = &w->c[i];

		if (c->seen)
			continue;
		rc = 0;
		if ((c->kind == ST_ROUTE || c->kind == ST_POLICY) &&
		    (!c->known || json_object_array_length(c->ours)))
			rc = sync_one(w, c, NULL, &b);
		if (unreachable(rc))
			return failed + 1;
		if (rc && rc != -ENOENT) {
			failed++;
			continue;
		}
		json_object_put(c->ours);
		w->c[i--] = w->c[--w->n];
	}
	return failed;
}
