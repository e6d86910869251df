// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_plan.c - the reconcile planner (user/plan.c) over config
 * transitions, without root and without a map. Each row applies its
 * configs one after the other to an in-memory snapshot, through the
 * planner and a tiny simulator of the maps. After every op of every plan
 * the simulator checks what a packet in flight relies on: each VIP entry's
 * ring exists, its slots name live backends of that service, and a
 * listener's matches exist and name live routes. After every step: each
 * desired service is live at its VIP key, nothing else is, and planning
 * the same config again plans nothing. Then the row checks its own
 * expectations on the last plan and the maps it left.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "input/load.h"
#include "reconcile/plan.h"
#include "testlib.h"

#define MAX_STEPS 4

/* A config: YAML text, or the seed's Gateway API manifests. */
enum seed { YAML = 0, SEED_ROUTED, SEED_PLAIN };

struct step {
	enum seed seed;
	const char *yaml;
	const char *down;	/* "SERVICE/BACKEND" a health check has down */
};

/* What a row's check sees of its last step. */
struct ctx {
	const struct maglb_config *cfg;		/* the last config */
	const struct plan *plan;		/* its plan */
	const struct plan_snapshot *before;	/* the maps it started from */
	const struct plan_snapshot *after;	/* and left */
};

struct row {
	const char *name;
	struct step steps[MAX_STEPS];
	int (*check)(const struct ctx *c);
	void (*prepare)(struct plan_snapshot *s);	/* the maps before step 0 */
	void (*between)(struct plan_snapshot *s);	/* and before each later step */
};

/* The path MTU toward a backend, as if the kernel said so: 1400 toward
 * 10.0.9.0/24, 1450 toward 10.244.2.0/24 (some of the seed's pods), 1500
 * toward every other address. */
static unsigned fake_mtu(const union maglb_addr *a, __u8 family)
{
	if (family == MAGLB_AF_INET && (ntohl(a->v4) >> 8) == 0x0a0009)
		return 1400;
	if (family == MAGLB_AF_INET && (ntohl(a->v4) >> 8) == 0x0af402)
		return 1450;
	return 1500;
}

/* ---- configs ---- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The seed's HTTPRoute as a plain service: no hostnames, no matches (the
 * edit an operator makes when one route is enough). */
static char *route_made_plain(const char *text)
{
	static const char *const cut[] = {
		"  hostnames:\n    - \"www.example.com\"\n",
		"    - matches:\n        - path:\n            type: PathPrefix\n            value: /cookie\n      backendRefs:",
	};
	static const char *const put[] = { "", "    - backendRefs:" };
	char *s = strdup(text), *at, *t;
	size_t i;

	for (i = 0; s && i < 2; i++) {
		at = strstr(s, cut[i]);
		if (!at) {
			free(s);
			return NULL;
		}
		t = malloc(strlen(s) + strlen(put[i]) + 1);
		memcpy(t, s, at - s);
		strcpy(t + (at - s), put[i]);
		strcat(t, at + strlen(cut[i]));
		free(s);
		s = t;
	}
	return s;
}

static struct maglb_config *load_step(const struct step *st, char *err,
				      size_t errlen)
{
	static const char *const seed[] = {
		"tests/fixtures/maglb-gateway.yaml",
		"tests/fixtures/seed/backend.yaml",
		"tests/fixtures/seed/gateway.yaml",
		"tests/fixtures/seed/cookie-policy-route.yaml",
		"tests/fixtures/endpointslices.json",
	};
	char paths[5][64];
	const char *list[5];
	struct maglb_config *cfg;
	int i, n = 0;

	if (st->seed == YAML) {
		snprintf(paths[0], sizeof(paths[0]), "/tmp/maglb-plan-%d.yaml", getpid());
		if (write_file(paths[0], st->yaml)) {
			snprintf(err, errlen, "cannot write %s", paths[0]);
			return NULL;
		}
		list[n++] = paths[0];
	} else {
		for (i = 0; i < 5; i++) {
			char *text = test_slurp(seed[i]), *edited = text;

			if (!text) {
				snprintf(err, errlen, "cannot read %s (run from the repo root)",
					 seed[i]);
				return NULL;
			}
			if (i == 3 && st->seed == SEED_PLAIN) {
				edited = route_made_plain(text);
				free(text);
				if (!edited) {
					snprintf(err, errlen, "%s changed: the edit does not apply",
						 seed[i]);
					return NULL;
				}
			}
			snprintf(paths[i], sizeof(paths[i]), "/tmp/maglb-plan-%d-%d%s",
				 getpid(), i, i == 4 ? ".json" : ".yaml");
			write_file(paths[i], edited);
			free(edited);
			list[n++] = paths[i];
		}
	}
	cfg = config_load_files(list, n, NULL, err, errlen);
	for (i = 0; i < n; i++)
		unlink(list[i]);
	return cfg;
}

/* ---- the maps, simulated ---- */

static struct plan_match *sim_match(const struct plan_snapshot *s, __u32 id,
				    __u32 idx)
{
	int i;

	for (i = 0; i < s->n_matches; i++)
		if (s->matches[i].key.svc_id == id && s->matches[i].key.idx == idx)
			return &s->matches[i];
	return NULL;
}

static int sim_addr(const struct plan_snapshot *s, const struct maglb_vip_key *k)
{
	int i;

	for (i = 0; i < s->n_vip_addrs; i++)
		if (!memcmp(&s->vip_addrs[i], k, sizeof(*k)))
			return i;
	return -1;
}

/* Grow an array of n elements by one, zeroed; the new element. */
static void *grow(void *arr, int *n, size_t size)
{
	char *t = realloc(arr, (*n + 1) * size);

	if (!t)
		abort();
	memset(t + *n * size, 0, size);
	(*n)++;
	return t;
}

static void sim_op(struct plan_snapshot *s, const struct plan_op *op)
{
	struct plan_vip *v;
	struct plan_ring *r;
	struct plan_match *m;
	int i;

	switch (op->kind) {
	case PLAN_PUT_SECRET:
		s->have_secret = true;
		s->secret = op->secret;
		break;
	case PLAN_PUT_BACKEND:
	case PLAN_RETIRE_BACKEND:
		s->backends[op->id] = op->be;
		break;
	case PLAN_PUT_RING:
		if (!(r = plan_snapshot_ring(s, op->id))) {
			s->rings = grow(s->rings, &s->n_rings, sizeof(*r));
			r = &s->rings[s->n_rings - 1];
			r->svc_id = op->id;
		}
		free(r->slots);
		r->slots = malloc(op->ring.size * sizeof(__u32));
		memcpy(r->slots, op->ring.slots, op->ring.size * sizeof(__u32));
		r->size = op->ring.size;
		r->fp = op->ring.fp;
		break;
	case PLAN_DEL_RING:
		if ((r = plan_snapshot_ring(s, op->id))) {
			free(r->slots);
			*r = s->rings[--s->n_rings];
		}
		break;
	case PLAN_PUT_COOKIE_LINE:
		s->cookies[op->id] = op->line;
		break;
	case PLAN_PUT_MATCH:
		if (!(m = sim_match(s, op->id, op->idx))) {
			s->matches = grow(s->matches, &s->n_matches, sizeof(*m));
			m = &s->matches[s->n_matches - 1];
			m->key.svc_id = op->id;
			m->key.idx = op->idx;
		}
		m->m = op->match;
		break;
	case PLAN_DEL_MATCH:
		if ((m = sim_match(s, op->id, op->idx)))
			*m = s->matches[--s->n_matches];
		break;
	case PLAN_PUT_SERVICE:
		if (!(v = plan_snapshot_vip(s, &op->vip.key))) {
			s->vips = grow(s->vips, &s->n_vips, sizeof(*v));
			v = &s->vips[s->n_vips - 1];
		}
		v->key = op->vip.key;
		v->svc = op->vip.svc;
		break;
	case PLAN_DEL_SERVICE:
		if ((v = plan_snapshot_vip(s, &op->key)))
			*v = s->vips[--s->n_vips];
		break;
	case PLAN_PUT_VIP_ADDR:
		if (sim_addr(s, &op->key) < 0) {
			s->vip_addrs = grow(s->vip_addrs, &s->n_vip_addrs,
					    sizeof(op->key));
			s->vip_addrs[s->n_vip_addrs - 1] = op->key;
		}
		break;
	case PLAN_DEL_VIP_ADDR:
		if ((i = sim_addr(s, &op->key)) >= 0)
			s->vip_addrs[i] = s->vip_addrs[--s->n_vip_addrs];
		break;
	default:	/* counters and conntrack: nothing the planner reads */
		break;
	}
}

/* What a packet arriving now relies on, for every VIP entry. */
static int in_flight_ok(const struct plan_snapshot *s, char *why, size_t len)
{
	int i, j;
	__u32 k;

	for (i = 0; i < s->n_vips; i++) {
		const struct maglb_service *svc = &s->vips[i].svc;
		const struct plan_ring *r = plan_snapshot_ring(s, svc->id);

		if (!r) {
			snprintf(why, len, "VIP of %s names service id %u, which has no ring",
				 svc->name, svc->id);
			return -1;
		}
		for (k = 0; k < r->size; k++) {
			const struct maglb_backend *be = &s->backends[r->slots[k]];

			if (r->slots[k] == MAGLB_NO_BACKEND)
				continue;
			if (r->slots[k] >= MAGLB_MAX_BACKENDS ||
			    !(be->flags & MAGLB_BE_F_ACTIVE) || be->svc_id != svc->id) {
				snprintf(why, len, "ring of %s (id %u) names backend %u, not a live backend of it",
					 svc->name, svc->id, r->slots[k]);
				return -1;
			}
		}
		for (j = 0; j < svc->n_matches; j++) {
			const struct plan_match *m = sim_match(s, svc->id, j);
			struct maglb_vip_key rk = s->vips[i].key;

			if (!m) {
				snprintf(why, len, "listener %s says %u matches, match %d is missing",
					 svc->name, svc->n_matches, j);
				return -1;
			}
			rk.route = m->m.route;
			if (!plan_snapshot_vip(s, &rk)) {
				snprintf(why, len, "listener %s match %d names route %u, which has no VIP entry",
					 svc->name, j, m->m.route);
				return -1;
			}
		}
	}
	return 0;
}

static int sim_apply(struct plan_snapshot *s, const struct plan *p, char *why,
		     size_t len)
{
	char line[512];
	int i, n;

	for (i = 0; i < p->n; i++) {
		sim_op(s, &p->ops[i]);
		if (in_flight_ok(s, why, len)) {
			n = strlen(why);
			snprintf(why + n, len - n, ", after op %d \"%s\"", i,
				 plan_op_str(&p->ops[i], line, sizeof(line)));
			return -1;
		}
	}
	return 0;
}

static struct plan_snapshot *snap_copy(const struct plan_snapshot *s)
{
	struct plan_snapshot *c = plan_snapshot_new();
	int i;

	memcpy(c->backends, s->backends, MAGLB_MAX_BACKENDS * sizeof(*s->backends));
	memcpy(c->cookies, s->cookies, MAGLB_MAX_SERVICES * sizeof(*s->cookies));
	c->vips = malloc((s->n_vips + 1) * sizeof(*s->vips));
	memcpy(c->vips, s->vips, s->n_vips * sizeof(*s->vips));
	c->n_vips = s->n_vips;
	c->matches = malloc((s->n_matches + 1) * sizeof(*s->matches));
	memcpy(c->matches, s->matches, s->n_matches * sizeof(*s->matches));
	c->n_matches = s->n_matches;
	c->vip_addrs = malloc((s->n_vip_addrs + 1) * sizeof(*s->vip_addrs));
	memcpy(c->vip_addrs, s->vip_addrs, s->n_vip_addrs * sizeof(*s->vip_addrs));
	c->n_vip_addrs = s->n_vip_addrs;
	c->rings = calloc(s->n_rings + 1, sizeof(*s->rings));
	for (i = 0; i < s->n_rings; i++) {
		c->rings[i] = s->rings[i];
		c->rings[i].slots = malloc(s->rings[i].size * sizeof(__u32) + 1);
		memcpy(c->rings[i].slots, s->rings[i].slots,
		       s->rings[i].size * sizeof(__u32));
	}
	c->n_rings = s->n_rings;
	c->have_secret = s->have_secret;
	c->secret = s->secret;
	return c;
}

/* ---- what every step must leave ---- */

static const struct plan_vip *vip_of(const struct plan_snapshot *s,
				     const struct cfg_service *cs)
{
	struct maglb_vip_key k;

	apply_vip_key(cs, &k);
	return plan_snapshot_vip(s, &k);
}

static int live_backends(const struct plan_snapshot *s, __u32 svc_id)
{
	int b, n = 0;

	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		n += (s->backends[b].flags & MAGLB_BE_F_ACTIVE) &&
		     s->backends[b].svc_id == svc_id;
	return n;
}

static int converged(const struct maglb_config *cfg,
		     const struct plan_snapshot *s, const struct plan_env *env)
{
	struct plan again;
	char line[512];
	int i;

	for (i = 0; i < cfg->n_services; i++) {
		const struct cfg_service *cs = &cfg->services[i];
		const struct plan_vip *v = vip_of(s, cs);

		ASSERT_TRUE(v && !strcmp(v->svc.name, cs->name),
			    "service %s is not live at its VIP key (%s there)", cs->name,
			    v ? v->svc.name : "nothing");
		ASSERT_EQ(plan_snapshot_ring(s, v->svc.id)->size, cs->table_size);
		ASSERT_TRUE(live_backends(s, v->svc.id) == cs->n_backends,
			    "service %s: %d live backends, config has %d", cs->name,
			    live_backends(s, v->svc.id), cs->n_backends);
	}
	ASSERT_TRUE(s->n_vips == cfg->n_services, "%d VIP entries for %d services",
		    s->n_vips, cfg->n_services);
	ASSERT_TRUE(s->n_rings == cfg->n_services, "%d rings for %d services",
		    s->n_rings, cfg->n_services);
	for (i = 0; i < s->n_vips; i++) {
		struct maglb_vip_key a = s->vips[i].key;

		a.port = 0;
		a.proto = 0;
		ASSERT_TRUE(sim_addr(s, &a) >= 0, "VIP address of %s missing",
			    s->vips[i].svc.name);
	}
	for (i = 0; i < s->n_matches; i++) {
		const struct plan_match *m = &s->matches[i];
		bool named = false;
		int j;

		for (j = 0; j < s->n_vips; j++)
			named |= s->vips[j].svc.id == m->key.svc_id &&
				 m->key.idx < s->vips[j].svc.n_matches;
		ASSERT_TRUE(named, "match %u of service id %u is left over",
			    m->key.idx, m->key.svc_id);
	}
	ASSERT_OK(plan_build(cfg, s, env, &again));
	if (again.n) {
		plan_op_str(&again.ops[0], line, sizeof(line));
		i = again.n;
		plan_free(&again);
		TEST_FAIL("planning the same config again gives %d ops, first \"%s\"",
			  i, line);
	}
	return 0;
}

/* ---- the rows ---- */

/* The position of the first op of a kind in the plan, or -1. */
static int first(const struct plan *p, enum plan_kind k)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->ops[i].kind == k)
			return i;
	return -1;
}

static const struct plan_vip *vip_named(const struct plan_snapshot *s,
					const char *name)
{
	int i;

	for (i = 0; i < s->n_vips; i++)
		if (!strcmp(s->vips[i].svc.name, name))
			return &s->vips[i];
	return NULL;
}

/* The backend id serving svc at ADDR:PORT (IPv4), or -1. */
static int backend_id(const struct plan_snapshot *s, __u32 svc_id,
		      const char *ip, __u16 port)
{
	struct in_addr a;
	int b;

	inet_pton(AF_INET, ip, &a);
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		if ((s->backends[b].flags & MAGLB_BE_F_ACTIVE) &&
		    s->backends[b].svc_id == svc_id &&
		    s->backends[b].addr.v4 == a.s_addr &&
		    s->backends[b].port == htons(port))
			return b;
	return -1;
}

static int slots_of(const struct plan_snapshot *s, __u32 svc_id, int b)
{
	const struct plan_ring *r = plan_snapshot_ring(s, svc_id);
	__u32 k;
	int n = 0;

	for (k = 0; r && k < r->size; k++)
		n += r->slots[k] == (__u32)b;
	return n;
}

#define WEB(addr, backends)						\
	"services:\n- name: web\n  address: " addr "\n  port: 80\n"	\
	"  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, tableSize: 251}}\n" \
	"  backends: [" backends "]\n"

#define B(ip) "{address: " ip ", port: 80}"

/* The bug of issue 14: the listener's removal deleted the VIP key the
 * route, now plain, had just taken over. */
static int check_routed_to_plain(const struct ctx *c)
{
	const struct plan_vip *was = vip_named(c->before, "cookie-route");
	const struct plan_vip *now = vip_named(c->after, "cookie-route");

	ASSERT_TRUE(was && was->key.route == 1, "cookie-route was not route 1");
	ASSERT_TRUE(now && now->key.route == 0, "cookie-route is not at route 0");
	ASSERT_EQ(now->svc.id, was->svc.id);
	ASSERT_EQ(now->svc.n_matches, 0);
	ASSERT_TRUE(!vip_named(c->after, "load-balancing-gateway-http"),
		    "the listener is still live");
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_BACKEND_COUNTERS), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_BACKEND), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_MATCH), 1);	/* the listener's one */
	ASSERT_EQ(plan_count(c->plan, PLAN_CLOSE_CT_SERVICE), 1);
	return 0;
}

static int check_plain_to_routed(const struct ctx *c)
{
	const struct plan_vip *was = vip_named(c->before, "cookie-route");
	const struct plan_vip *now = vip_named(c->after, "cookie-route");
	const struct plan_vip *l = vip_named(c->after, "load-balancing-gateway-http");

	ASSERT_TRUE(was && was->key.route == 0, "cookie-route was not plain");
	ASSERT_TRUE(now && now->key.route == 1 && now->svc.id == was->svc.id,
		    "cookie-route is not route 1 with its id");
	ASSERT_TRUE(l && l->key.route == 0 && l->svc.n_matches == 1,
		    "the listener is not at route 0 with its match");
	/* cookie-route's old key is the listener's now: not deleted */
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_SERVICE), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_MATCH), 1);
	return 0;
}

/* Back to routed: the route keeps its service and backend ids all along;
 * only the listener, gone for a step, is new. */
static int check_and_back(const struct ctx *c)
{
	const struct plan_vip *was = vip_named(c->before, "cookie-route");
	const struct plan_vip *now = vip_named(c->after, "cookie-route");

	ASSERT_TRUE(was && now && now->svc.id == was->svc.id, "cookie-route's id changed");
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_BACKEND_COUNTERS), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_RETIRE_BACKEND), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_SERVICE_COUNTERS), 1);
	ASSERT_TRUE(c->plan->ops[first(c->plan, PLAN_RESET_SERVICE_COUNTERS)].id ==
		    vip_named(c->after, "load-balancing-gateway-http")->svc.id,
		    "the new id is not the listener's");
	return 0;
}

static int check_renamed(const struct ctx *c)
{
	const struct plan_vip *old = vip_named(c->before, "web");
	const struct plan_vip *now = vip_named(c->after, "site");

	ASSERT_TRUE(old && now, "web before, site after");
	ASSERT_TRUE(now->svc.id != old->svc.id, "a new name kept id %u", old->svc.id);
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_SERVICE_COUNTERS), 1);
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_BACKEND_COUNTERS), 2);
	ASSERT_EQ(plan_count(c->plan, PLAN_RETIRE_BACKEND), 2);
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_RING), 1);
	/* same key: site's put replaces it, no delete */
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_SERVICE), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_VIP_ADDR), 0);
	ASSERT_TRUE(plan_count(c->plan, PLAN_CLOSE_CT_SERVICE) == 1 &&
		    c->plan->ops[first(c->plan, PLAN_CLOSE_CT_SERVICE)].id == old->svc.id,
		    "web's connections are not closed");
	return 0;
}

static int check_moved_vip(const struct ctx *c)
{
	const struct plan_vip *old = vip_named(c->before, "web");
	const struct plan_vip *now = vip_named(c->after, "web");
	int put = first(c->plan, PLAN_PUT_SERVICE), del = first(c->plan, PLAN_DEL_SERVICE);

	ASSERT_TRUE(old && now && now->svc.id == old->svc.id, "web lost its id");
	ASSERT_TRUE(put >= 0 && del > put, "new key at op %d, old deleted at op %d",
		    put, del);
	ASSERT_TRUE(!memcmp(&c->plan->ops[del].key, &old->key, sizeof(old->key)),
		    "the deleted key is not web's old one");
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_BACKEND), 0);	/* nothing else changed */
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_RING), 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_VIP_ADDR), 1);
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_VIP_ADDR), 1);
	ASSERT_EQ(c->after->n_vip_addrs, 1);
	return 0;
}

/* 10.0.1.1..3, then .2..5: .2 and .3 keep their ids; .4 and .5 get the
 * free ids of lowest generation (ids 3, 4: never used), not .1's id 0,
 * which this plan retires. */
static int check_churn(const struct ctx *c)
{
	__u32 id = vip_named(c->after, "web")->svc.id;

	ASSERT_EQ(backend_id(c->after, id, "10.0.1.2", 80), backend_id(c->before, id, "10.0.1.2", 80));
	ASSERT_EQ(backend_id(c->after, id, "10.0.1.3", 80), backend_id(c->before, id, "10.0.1.3", 80));
	ASSERT_EQ(backend_id(c->after, id, "10.0.1.1", 80), -1);
	ASSERT_EQ(backend_id(c->after, id, "10.0.1.4", 80), 3);
	ASSERT_EQ(backend_id(c->after, id, "10.0.1.5", 80), 4);
	ASSERT_EQ(c->after->backends[3].gen, 1);
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_BACKEND_COUNTERS), 2);
	ASSERT_TRUE(plan_count(c->plan, PLAN_RETIRE_BACKEND) == 1 &&
		    c->plan->ops[first(c->plan, PLAN_RETIRE_BACKEND)].id == 0,
		    "backend id 0 is not retired");
	ASSERT_EQ(c->after->backends[0].gen, 1);	/* kept for draining counters */
	ASSERT_EQ(plan_count(c->plan, PLAN_CLOSE_CT_BACKEND), 0);	/* it drains */
	return 0;
}

/* Every id has been used twice, ids 9 and 4 only once: new backends get
 * 4 then 9, each with its generation bumped. */
static void used_ids(struct plan_snapshot *s)
{
	int b;

	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		s->backends[b].gen = b == 4 || b == 9 ? 1 : 2;
}

static int check_lowest_gen(const struct ctx *c)
{
	__u32 id = vip_named(c->after, "web")->svc.id;

	ASSERT_EQ(backend_id(c->after, id, "10.0.1.1", 80), 4);
	ASSERT_EQ(backend_id(c->after, id, "10.0.1.2", 80), 9);
	ASSERT_EQ(c->after->backends[4].gen, 2);
	ASSERT_EQ(c->after->backends[9].gen, 2);
	ASSERT_TRUE(backend_id(c->after, id, "10.0.1.3", 80) == 0 &&
		    c->after->backends[0].gen == 3, "the third: id 0, gen 3");
	return 0;
}

static int check_weights_zero(const struct ctx *c)
{
	__u32 id = vip_named(c->after, "web")->svc.id;
	int a = backend_id(c->after, id, "10.0.1.1", 80);

	ASSERT_EQ(a, backend_id(c->before, id, "10.0.1.1", 80));
	ASSERT_EQ(c->after->backends[a].weight, 0);
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_BACKEND), 2);
	ASSERT_EQ(plan_count(c->plan, PLAN_RETIRE_BACKEND), 0);
	ASSERT_EQ(slots_of(c->after, id, MAGLB_NO_BACKEND), 251);
	return 0;
}

static int check_v4_v6(const struct ctx *c)
{
	int i;

	/* only web6 changed */
	for (i = 0; i < c->plan->n; i++)
		ASSERT_TRUE(!strcmp(c->plan->ops[i].svc, "web6"),
			    "op %d is for %s", i, c->plan->ops[i].svc);
	ASSERT_EQ(vip_named(c->after, "web6")->key.family, MAGLB_AF_INET6);
	ASSERT_EQ(vip_named(c->after, "web")->key.family, MAGLB_AF_INET);
	ASSERT_EQ(c->after->n_vip_addrs, 2);
	ASSERT_EQ(plan_count(c->plan, PLAN_RESET_BACKEND_COUNTERS), 1);
	ASSERT_EQ(plan_count(c->plan, PLAN_RETIRE_BACKEND), 1);
	return 0;
}

static int check_shared_vip(const struct ctx *c)
{
	ASSERT_TRUE(vip_named(c->after, "web") && !vip_named(c->after, "dns"),
		    "web stays, dns goes");
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_SERVICE), 1);
	/* web still serves the address */
	ASSERT_EQ(plan_count(c->plan, PLAN_DEL_VIP_ADDR), 0);
	ASSERT_EQ(c->after->n_vip_addrs, 1);
	return 0;
}

static int check_last_leaves(const struct ctx *c)
{
	static const enum plan_kind order[] = {
		PLAN_DEL_SERVICE, PLAN_DEL_RING, PLAN_RETIRE_BACKEND,
		PLAN_DEL_VIP_ADDR, PLAN_CLOSE_CT_SERVICE,
	};
	size_t i;

	ASSERT_EQ(c->plan->n, 5 + 1);	/* two backends retired */
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		ASSERT_TRUE(first(c->plan, order[i]) == (int)i + (i >= 3),
			    "op kind %d is not at %zu", order[i], i);
	ASSERT_EQ(c->after->n_vips, 0);
	ASSERT_EQ(c->after->n_vip_addrs, 0);
	return 0;
}

static int check_health_down(const struct ctx *c)
{
	__u32 id = vip_named(c->after, "web")->svc.id;
	int b = backend_id(c->after, id, "10.0.1.2", 80);

	ASSERT_TRUE(b >= 0 && b == backend_id(c->before, id, "10.0.1.2", 80),
		    "the down backend lost its id");
	ASSERT_TRUE(slots_of(c->before, id, b) > 0, "it had no slots before");
	ASSERT_EQ(slots_of(c->after, id, b), 0);
	ASSERT_EQ(slots_of(c->after, id, MAGLB_NO_BACKEND), 0);
	/* only the table changes */
	ASSERT_EQ(c->plan->n, 1);
	ASSERT_EQ(c->plan->ops[0].kind, PLAN_PUT_RING);
	return 0;
}

static int check_nothing(const struct ctx *c)
{
	ASSERT_EQ(c->plan->n, 0);
	return 0;
}

/* Rings as an older release left them: no fingerprint, slots only. */
static void forget_fingerprints(struct plan_snapshot *s)
{
	int i;

	for (i = 0; i < s->n_rings; i++)
		s->rings[i].fp = 0;
}

/* A ring that is not what its fingerprint says: the planner, trusting
 * the fingerprint, must not look (it builds no table to compare with). */
static void scramble_slots(struct plan_snapshot *s)
{
	int i;

	for (i = 0; i < s->n_rings; i++)
		s->rings[i].slots[0] ^= 1;
}

static void stale_fingerprints(struct plan_snapshot *s)
{
	int i;

	for (i = 0; i < s->n_rings; i++)
		s->rings[i].fp ^= 1;
}

/* The same table again, written because its fingerprint differed. */
static int check_rebuilt_same(const struct ctx *c)
{
	const struct plan_ring *b, *a;

	ASSERT_EQ(c->plan->n, 1);
	ASSERT_EQ(c->plan->ops[0].kind, PLAN_PUT_RING);
	b = plan_snapshot_ring(c->before, c->plan->ops[0].id);
	a = plan_snapshot_ring(c->after, c->plan->ops[0].id);
	ASSERT_TRUE(a && b && a->size == b->size &&
		    !memcmp(a->slots, b->slots, a->size * sizeof(__u32)),
		    "the rebuilt table differs");
	ASSERT_TRUE(a->fp == (b->fp ^ 1), "the fingerprint was not renewed");
	return 0;
}

static int check_close_on_removal(const struct ctx *c)
{
	ASSERT_EQ(plan_count(c->plan, PLAN_RETIRE_BACKEND), 1);
	ASSERT_TRUE(plan_count(c->plan, PLAN_CLOSE_CT_BACKEND) == 1 &&
		    c->plan->ops[first(c->plan, PLAN_CLOSE_CT_BACKEND)].id ==
		    c->plan->ops[first(c->plan, PLAN_RETIRE_BACKEND)].id,
		    "the removed backend's connections are not closed");
	return 0;
}

/* A service's path MTU: its backends' smallest, not above `mtu`; 0 with
 * no backend. */
static int check_mtu(const struct ctx *c)
{
	ASSERT_EQ(vip_named(c->after, "api")->svc.mtu, 1400);
	ASSERT_EQ(vip_named(c->after, "site")->svc.mtu, 1500);
	ASSERT_EQ(vip_named(c->after, "capped")->svc.mtu, 1300);
	ASSERT_EQ(vip_named(c->after, "none")->svc.mtu, 0);
	return 0;
}

/* A listener has no backends but promises one MSS for all its routes:
 * their smallest. */
static int check_listener_mtu(const struct ctx *c)
{
	ASSERT_EQ(vip_named(c->after, "cookie-route")->svc.mtu, 1450);
	ASSERT_EQ(vip_named(c->after, "load-balancing-gateway-http")->svc.mtu, 1450);
	return 0;
}

static int check_health_up(const struct ctx *c)
{
	__u32 id = vip_named(c->after, "web")->svc.id;
	int b = backend_id(c->after, id, "10.0.1.2", 80);

	ASSERT_TRUE(b >= 0 && b == backend_id(c->before, id, "10.0.1.2", 80),
		    "the backend lost its id");
	ASSERT_EQ(slots_of(c->before, id, b), 0);
	ASSERT_TRUE(slots_of(c->after, id, b) > 0, "no slots back");
	ASSERT_EQ(c->plan->n, 1);
	ASSERT_EQ(c->plan->ops[0].kind, PLAN_PUT_RING);
	return 0;
}

static int check_secret_and_cookie(const struct ctx *c)
{
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_SECRET), 1);
	ASSERT_EQ(plan_count(c->plan, PLAN_PUT_COOKIE_LINE), 1);
	ASSERT_TRUE(c->after->have_secret && c->after->secret.k0 == 0x0011223344556677ULL,
		    "secret not written");
	ASSERT_TRUE(strstr(c->after->cookies[vip_named(c->after, "ck")->svc.id].text,
			   "Set-Cookie: sid="), "cookie line not written");
	return 0;
}

#define TWO_FAMILIES(v6backends)					\
	"services:\n"							\
	"- {name: web, address: 10.0.0.1, port: 80, backends: [" B("10.0.1.1") ", " B("10.0.1.2") "]}\n" \
	"- {name: web6, address: 'fd00::1', port: 80, backends: [" v6backends "]}\n"

#define SHARED(dns)							\
	"services:\n"							\
	"- {name: web, address: 10.0.0.1, port: 80, backends: [" B("10.0.1.1") "]}\n" \
	dns

#define DNS "- {name: dns, address: 10.0.0.1, port: 53, protocol: UDP, backends: [{address: 10.0.1.9, port: 53}]}\n"

static const struct row rows[] = {
	{ "routed_to_plain_keeps_the_route_live",
	  { { SEED_ROUTED }, { SEED_PLAIN } }, check_routed_to_plain },
	{ "plain_to_routed_keeps_route_and_listener_live",
	  { { SEED_PLAIN }, { SEED_ROUTED } }, check_plain_to_routed },
	{ "routed_to_plain_and_back_reuses_every_id",
	  { { SEED_ROUTED }, { SEED_PLAIN }, { SEED_ROUTED } }, check_and_back },
	{ "renamed_service_gets_new_ids_and_the_old_leaves",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, "services:\n- name: site\n  address: 10.0.0.1\n  port: 80\n"
		    "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, tableSize: 251}}\n"
		    "  backends: [" B("10.0.1.1") "," B("10.0.1.2") "]\n" } },
	  check_renamed },
	{ "moved_vip_is_put_before_the_old_key_goes",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1")) },
	    { YAML, WEB("10.0.0.2", B("10.0.1.1")) } }, check_moved_vip },
	{ "churning_backends_keep_ids_of_those_that_stay",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2") "," B("10.0.1.3")) },
	    { YAML, WEB("10.0.0.1", B("10.0.1.2") "," B("10.0.1.3") "," B("10.0.1.4") "," B("10.0.1.5")) } },
	  check_churn },
	{ "freed_ids_are_reused_lowest_generation_first",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2") "," B("10.0.1.3")) } },
	  check_lowest_gen, used_ids },
	{ "weights_to_zero_keep_ids_and_empty_the_table",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, WEB("10.0.0.1", "{address: 10.0.1.1, port: 80, weight: 0}, {address: 10.0.1.2, port: 80, weight: 0}") } },
	  check_weights_zero },
	{ "ipv4_and_ipv6_side_by_side_change_apart",
	  { { YAML, TWO_FAMILIES("{address: 'fd00:1::1', port: 80}") },
	    { YAML, TWO_FAMILIES("{address: 'fd00:1::2', port: 80}") } }, check_v4_v6 },
	{ "two_services_share_a_vip_on_different_ports",
	  { { YAML, SHARED(DNS) }, { YAML, SHARED("") } }, check_shared_vip },
	{ "last_service_leaves_vip_then_ring_then_backends",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, "services: []\n" } }, check_last_leaves },
	{ "health_down_backend_keeps_its_id_but_no_slots",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2") "," B("10.0.1.3")) },
	    { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2") "," B("10.0.1.3")),
	      "web/10.0.1.2:80" } }, check_health_down },
	{ "health_back_up_restores_the_table",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")), "web/10.0.1.2:80" },
	    { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) } }, check_health_up },
	{ "reapplying_the_seed_plans_nothing",
	  { { SEED_ROUTED }, { SEED_ROUTED } }, check_nothing },
	{ "unchanged_inputs_build_no_table",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) } },
	  check_nothing, NULL, scramble_slots },
	{ "ring_without_a_fingerprint_is_compared_slot_by_slot",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) } },
	  check_nothing, NULL, forget_fingerprints },
	{ "ring_whose_fingerprint_differs_is_rebuilt",
	  { { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) },
	    { YAML, WEB("10.0.0.1", B("10.0.1.1") "," B("10.0.1.2")) } },
	  check_rebuilt_same, NULL, stale_fingerprints },
	{ "removed_backend_closes_conns_with_close_on_removal",
	  { { YAML, "services:\n- {name: web, address: 10.0.0.1, port: 80, closeConnectionsOnRemoval: true, backends: ["
		    B("10.0.1.1") ", " B("10.0.1.2") "]}\n" },
	    { YAML, "services:\n- {name: web, address: 10.0.0.1, port: 80, closeConnectionsOnRemoval: true, backends: ["
		    B("10.0.1.1") "]}\n" } }, check_close_on_removal },
	{ "service_mtu_is_its_backends_smallest_under_mtu",
	  { { YAML, "services:\n"
		    "- {name: api, address: 10.0.0.1, port: 80, backends: [" B("10.0.1.1") ", " B("10.0.9.1") "]}\n"
		    "- {name: site, address: 10.0.0.2, port: 80, backends: [" B("10.0.1.1") "]}\n"
		    "- {name: capped, address: 10.0.0.3, port: 80, mtu: 1300, backends: [" B("10.0.1.1") "]}\n"
		    "- {name: none, address: 10.0.0.4, port: 80, backends: []}\n" } }, check_mtu },
	{ "listener_mtu_is_its_routes_smallest",
	  { { SEED_ROUTED } }, check_listener_mtu },
	{ "syncookie_key_and_cookie_line_are_written_once",
	  { { YAML, "syncookieKey: 00112233445566778899aabbccddeeff\nservices:\n"
		    "- name: ck\n  address: 10.0.0.1\n  port: 80\n"
		    "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: sid, ttl: 60s}}}\n"
		    "  backends: [" B("10.0.1.1") "]\n" } }, check_secret_and_cookie },
};

static int run_row(const struct row *r)
{
	struct plan_env env = { .path_mtu = fake_mtu };
	struct plan_snapshot *s = plan_snapshot_new(), *before = NULL;
	struct maglb_config *cfg = NULL;
	struct health_mark mark;
	struct health_overlay ov = { &mark, 1 };
	char err[CFG_ERR_LEN], why[1024];
	struct plan p = {};
	int i, rc = 0;

	if (r->prepare)
		r->prepare(s);
	for (i = 0; i < MAX_STEPS && (r->steps[i].seed || r->steps[i].yaml); i++) {
		const struct step *st = &r->steps[i];

		config_free(cfg);
		plan_free(&p);
		plan_snapshot_free(before);
		cfg = load_step(st, err, sizeof(err));
		if (!cfg) {
			snprintf(test_msg, sizeof(test_msg), "step %d: config: %s", i, err);
			rc = -1;
			break;
		}
		env.health = NULL;
		if (st->down) {
			const char *slash = strchr(st->down, '/');

			snprintf(mark.svc, sizeof(mark.svc), "%.*s",
				 (int)(slash - st->down), st->down);
			snprintf(mark.backend, sizeof(mark.backend), "%s", slash + 1);
			env.health = &ov;
		}
		if (i > 0 && r->between)
			r->between(s);
		before = snap_copy(s);
		if ((rc = plan_build(cfg, s, &env, &p))) {
			snprintf(test_msg, sizeof(test_msg), "step %d: plan_build: %s",
				 i, strerror(-rc));
			break;
		}
		if ((rc = sim_apply(s, &p, why, sizeof(why)))) {
			snprintf(test_msg, sizeof(test_msg), "step %d: %s", i, why);
			break;
		}
		if ((rc = converged(cfg, s, &env))) {
			snprintf(why, sizeof(why), "%s", test_msg);
			snprintf(test_msg, sizeof(test_msg), "step %d: %s", i, why);
			break;
		}
	}
	if (!rc && r->check) {
		struct ctx c = { cfg, &p, before, s };

		rc = r->check(&c);
	}
	config_free(cfg);
	plan_free(&p);
	plan_snapshot_free(before);
	plan_snapshot_free(s);
	return rc;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		test_report(rows[i].name, run_row(&rows[i]));
	return test_exit();
}
