// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * plan.c - decide the writes that make the maps match a config (plan.h).
 *
 * Ids are reused for what stays: the same service name keeps its service
 * id, the same backend address, port and family within that service keeps
 * its backend id, so established connections keep their counters. A freed
 * backend id is reused last (lowest generation first), so counters of
 * draining connections are not mixed into a new backend's for as long as
 * possible. Ids freed by this plan are not reused by it: a packet may still
 * be on its way to them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"
#include "model/maglev.h"
#include "common/indexset.h"
#include "reconcile/plan.h"

/* The planner's view while it decides: the snapshot's backends as the
 * plan leaves them, and which ids it has given out or taken back. */
struct work {
	const struct maglb_config *cfg;
	const struct plan_snapshot *snap;
	const struct plan_env *env;
	struct plan *p;
	struct plan_vip *live;		/* snap->vips by name */
	int n_live;
	struct maglb_backend be[MAGLB_MAX_BACKENDS];
	bool be_taken[MAGLB_MAX_BACKENDS];
	bool be_removed[MAGLB_MAX_BACKENDS];
	bool be_close[MAGLB_MAX_BACKENDS];	/* end its connections now */
	bool svc_taken[MAGLB_MAX_SERVICES];
	bool be_named[MAGLB_MAX_BACKENDS];	/* by the service being planned */
	/* The snapshot's live backends by service and address (indexset.h),
	 * and the free ids in the order alloc_backend_id() gives them out. */
	struct index_set be_index;
	__u32 free_ids[MAGLB_MAX_BACKENDS];
	__u32 n_free, next_free;
	/* The snapshot's live backend ids by service: svc_ids[svc_start[s]
	 * .. svc_start[s + 1]) are service s's, in id order. */
	__u32 svc_start[MAGLB_MAX_SERVICES + 1];
	__u32 svc_ids[MAGLB_MAX_BACKENDS];
	/* maglb_vip_addrs as the plan leaves it */
	struct maglb_vip_key *addrs;
	int n_addrs;
	/* VIP keys the plan deletes */
	struct maglb_vip_key *deleted;
	int n_deleted;
};

void apply_vip_key(const struct cfg_service *s, struct maglb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	k->addr = s->addr;
	k->port = htons(s->port);
	k->proto = s->proto;
	k->family = s->family;
	k->route = s->route;
}

bool health_is_down(const struct health_overlay *o, const char *svc,
		    const char *backend)
{
	int i;

	for (i = 0; o && i < o->n; i++)
		if (!strcmp(o->down[i].svc, svc) &&
		    !strcmp(o->down[i].backend, backend))
			return true;
	return false;
}

struct plan_snapshot *plan_snapshot_new(void)
{
	struct plan_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->backends = calloc(MAGLB_MAX_BACKENDS, sizeof(*s->backends));
	s->cookies = calloc(MAGLB_MAX_SERVICES, sizeof(*s->cookies));
	if (!s->backends || !s->cookies) {
		plan_snapshot_free(s);
		return NULL;
	}
	return s;
}

void plan_snapshot_free(struct plan_snapshot *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->n_rings; i++)
		free(s->rings[i].slots);
	free(s->rings);
	free(s->vips);
	free(s->backends);
	free(s->matches);
	free(s->cookies);
	free(s->vip_addrs);
	free(s);
}

void plan_free(struct plan *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->ops[i].kind == PLAN_PUT_RING)
			free(p->ops[i].ring.slots);
	free(p->ops);
	p->ops = NULL;
	p->n = p->cap = 0;
}

int plan_count(const struct plan *p, enum plan_kind k)
{
	int i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->ops[i].kind == k;
	return n;
}

static struct plan_op *emit(struct work *w, enum plan_kind kind, __u32 id,
			    const char *svc)
{
	struct plan *p = w->p;
	struct plan_op *op;

	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 64;
		struct plan_op *t = realloc(p->ops, cap * sizeof(*t));

		if (!t)
			return NULL;
		p->ops = t;
		p->cap = cap;
	}
	op = &p->ops[p->n];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->seq = p->n++;
	op->id = id;
	snprintf(op->svc, sizeof(op->svc), "%s", svc);
	return op;
}

/* Lookups in the snapshot: a write is planned only when they differ. */

struct plan_vip *plan_snapshot_vip(const struct plan_snapshot *s,
				   const struct maglb_vip_key *k)
{
	int i;

	for (i = 0; i < s->n_vips; i++)
		if (!memcmp(&s->vips[i].key, k, sizeof(*k)))
			return &s->vips[i];
	return NULL;
}

struct plan_ring *plan_snapshot_ring(const struct plan_snapshot *s, __u32 svc_id)
{
	int i;

	for (i = 0; i < s->n_rings; i++)
		if (s->rings[i].svc_id == svc_id)
			return &s->rings[i];
	return NULL;
}

static const struct plan_match *snap_match(const struct plan_snapshot *s,
					   __u32 svc_id, __u32 idx)
{
	int i;

	for (i = 0; i < s->n_matches; i++)
		if (s->matches[i].key.svc_id == svc_id &&
		    s->matches[i].key.idx == idx)
			return &s->matches[i];
	return NULL;
}

static int key_in(const struct maglb_vip_key *v, int n,
		  const struct maglb_vip_key *k)
{
	int i;

	for (i = 0; i < n; i++)
		if (!memcmp(&v[i], k, sizeof(*k)))
			return i;
	return -1;
}

static int key_add(struct maglb_vip_key **v, int *n,
		   const struct maglb_vip_key *k)
{
	struct maglb_vip_key *t = realloc(*v, (*n + 1) * sizeof(*t));

	if (!t)
		return -ENOMEM;
	t[(*n)++] = *k;
	*v = t;
	return 0;
}

static const struct plan_vip *live_svc(const struct work *w, const char *name)
{
	int i;

	for (i = 0; i < w->n_live; i++)
		if (!strcmp(w->live[i].svc.name, name))
			return &w->live[i];
	return NULL;
}

static bool same_backend(const struct maglb_backend *b, __u32 svc_id,
			 const struct cfg_backend *c);

static int alloc_svc_id(struct work *w, __u32 *id)
{
	__u32 i;

	for (i = 0; i < MAGLB_MAX_SERVICES; i++) {
		if (!w->svc_taken[i]) {
			w->svc_taken[i] = true;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The free id least often given out (lowest gen), the lowest of those:
 * an id comes back as late as it can, so that a stale reference to it
 * (a conntrack entry's backend_gen) is least likely to match. Ids are
 * only taken while services are planned (plan_removed() frees them
 * after), so the order is fixed once, in plan_build(). */
static int alloc_backend_id(struct work *w, __u32 *id)
{
	while (w->next_free < w->n_free &&
	       w->be_taken[w->free_ids[w->next_free]])
		w->next_free++;
	if (w->next_free == w->n_free)
		return -ENOSPC;
	*id = w->free_ids[w->next_free++];
	w->be_taken[*id] = true;
	return 0;
}

static const struct work *sort_w;	/* qsort has no context argument */

static int by_gen(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	__u32 gx = sort_w->be[x].gen, gy = sort_w->be[y].gen;

	if (gx != gy)
		return gx < gy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* What identifies a live backend for the planner: its service, family,
 * address and port (same_backend()). */
static __u32 backend_key_hash(__u32 svc_id, __u8 family,
			      const union maglb_addr *addr, __u16 port)
{
	__u32 h = index_hash(INDEX_HASH_SEED, &svc_id, sizeof(svc_id));

	h = index_hash(h, &family, sizeof(family));
	h = index_hash(h, addr, sizeof(*addr));
	return index_hash(h, &port, sizeof(port));
}

struct backend_want {
	const struct work *w;
	__u32 svc_id;
	const struct cfg_backend *cb;
};

static bool is_wanted(long id, const void *key)
{
	const struct backend_want *k = key;

	return same_backend(&k->w->be[id], k->svc_id, k->cb);
}

static int index_backends(struct work *w)
{
	__u32 b, n = 0;
	int err;

	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		n += !!(w->be[b].flags & MAGLB_BE_F_ACTIVE);
	err = index_set_init(&w->be_index, n);
	if (err)
		return err;
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
		const struct maglb_backend *be = &w->be[b];

		if (be->flags & MAGLB_BE_F_ACTIVE)
			index_set_add(&w->be_index,
				      backend_key_hash(be->svc_id, be->family,
						       &be->addr, ntohs(be->port)),
				      b);
		else
			w->free_ids[w->n_free++] = b;
	}
	sort_w = w;
	qsort(w->free_ids, w->n_free, sizeof(*w->free_ids), by_gen);
	sort_w = NULL;
	/* counting sort by service, ids ascending within each */
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		if ((w->be[b].flags & MAGLB_BE_F_ACTIVE) &&
		    w->be[b].svc_id < MAGLB_MAX_SERVICES)
			w->svc_start[w->be[b].svc_id + 1]++;
	for (n = 0; n < MAGLB_MAX_SERVICES; n++)
		w->svc_start[n + 1] += w->svc_start[n];
	{
		__u32 fill[MAGLB_MAX_SERVICES] = { 0 }, s;

		for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
			s = w->be[b].svc_id;
			if ((w->be[b].flags & MAGLB_BE_F_ACTIVE) &&
			    s < MAGLB_MAX_SERVICES)
				w->svc_ids[w->svc_start[s] + fill[s]++] = b;
		}
	}
	return 0;
}

static bool same_backend(const struct maglb_backend *b, __u32 svc_id,
			 const struct cfg_backend *c)
{
	return (b->flags & MAGLB_BE_F_ACTIVE) && b->svc_id == svc_id &&
	       b->family == c->family && ntohs(b->port) == c->port &&
	       !memcmp(&b->addr, &c->addr, sizeof(b->addr));
}

/*
 * A service's backend path MTU (maglb_service.mtu): the smallest, over its
 * backends, of what the kernel routes toward each with (route mtu, else
 * the device's), and not above the configured `mtu`. A listener with
 * routes promises one MSS for all of them: its routes' smallest. 0: none
 * known (the datapath assumes 1500).
 */
static __u16 backends_mtu(const struct plan_env *env,
			  const struct cfg_service *s)
{
	unsigned mtu = s->mtu ? s->mtu : CFG_MTU_MAX, m;
	int i;

	for (i = 0; env->path_mtu && i < s->n_backends; i++) {
		m = env->path_mtu(&s->backends[i].addr, s->backends[i].family);
		if (m && m < mtu)
			mtu = m;
	}
	return mtu == CFG_MTU_MAX ? 0 : mtu;
}

static __u16 service_mtu(const struct work *w, const struct cfg_service *s)
{
	const struct maglb_config *cfg = w->cfg;
	unsigned mtu = backends_mtu(w->env, s) ?: CFG_MTU_MAX, m;
	int i;

	for (i = 0; s->n_matches && !s->route && i < cfg->n_services; i++) {
		const struct cfg_service *r = &cfg->services[i];

		if (!r->route || r->family != s->family || r->port != s->port ||
		    r->proto != s->proto ||
		    memcmp(&r->addr, &s->addr, sizeof(r->addr)))
			continue;
		m = backends_mtu(w->env, r);
		if (m && m < mtu)
			mtu = m;
	}
	return mtu == CFG_MTU_MAX ? 0 : mtu;
}

/* Does a desired service own this VIP key? Then no removal deletes it. */
static bool vip_taken(const struct maglb_config *cfg,
		      const struct maglb_vip_key *k)
{
	struct maglb_vip_key c;
	int i;

	for (i = 0; i < cfg->n_services; i++) {
		apply_vip_key(&cfg->services[i], &c);
		if (!memcmp(&c, k, sizeof(c)))
			return true;
	}
	return false;
}

static int put_backend(struct work *w, __u32 id, const struct maglb_backend *be,
		       enum plan_kind kind, const char *svc)
{
	struct plan_op *op;

	w->be[id] = *be;
	if (!memcmp(&w->snap->backends[id], be, sizeof(*be)))
		return 0;
	if (!(op = emit(w, kind, id, svc)))
		return -ENOMEM;
	op->be = *be;
	return 0;
}

/* The live ring was built from these inputs: nothing to build. */
static bool ring_current(const struct work *w, __u32 id, __u32 size, __u64 fp)
{
	const struct plan_ring *r = plan_snapshot_ring(w->snap, id);

	return r && r->size == size && r->fp == fp;
}

/* Takes table (malloc'd) either way. A live ring of unknown inputs (no
 * fingerprint) is compared slot by slot. */
static int put_ring(struct work *w, __u32 id, __u32 *table, __u32 size,
		    __u64 fp, const char *svc)
{
	const struct plan_ring *r = plan_snapshot_ring(w->snap, id);
	struct plan_op *op;

	if (r && r->size == size && !r->fp && r->slots &&
	    !memcmp(r->slots, table, size * sizeof(*table))) {
		free(table);
		return 0;
	}
	if (!(op = emit(w, PLAN_PUT_RING, id, svc))) {
		free(table);
		return -ENOMEM;
	}
	op->ring.slots = table;
	op->ring.size = size;
	op->ring.fp = fp;
	return 0;
}

static int del_matches(struct work *w, __u32 id, int from, const char *svc)
{
	int i;

	for (i = from; i < MAGLB_MAX_MATCHES; i++) {
		struct plan_op *op;

		if (!snap_match(w->snap, id, i))
			continue;
		if (!(op = emit(w, PLAN_DEL_MATCH, id, svc)))
			return -ENOMEM;
		op->idx = i;
	}
	return 0;
}

/* The listener's route matches: the datapath reads entries
 * 0..n_matches-1 of what its VIP entry says. */
static int put_matches(struct work *w, __u32 id, const struct cfg_service *s)
{
	int i;

	for (i = 0; i < s->n_matches; i++) {
		const struct cfg_match *cm = &s->matches[i];
		const struct plan_match *old = snap_match(w->snap, id, i);
		struct maglb_route_match rm = {
			.host_match = cm->host_match,
			.path_match = cm->path_match,
			.host_len = strlen(cm->host),
			.path_len = strlen(cm->path),
			.route = cm->route,
		};
		struct plan_op *op;

		/* right-aligned host: see struct maglb_route_match */
		memcpy(rm.host + MAGLB_MATCH_LEN - rm.host_len, cm->host,
		       rm.host_len);
		memcpy(rm.path, cm->path, rm.path_len);
		if (old && !memcmp(&old->m, &rm, sizeof(rm)))
			continue;
		if (!(op = emit(w, PLAN_PUT_MATCH, id, s->name)))
			return -ENOMEM;
		op->idx = i;
		op->match = rm;
	}
	return 0;
}

static int put_vip_addr(struct work *w, const struct maglb_vip_key *svc_key,
			const char *svc)
{
	struct maglb_vip_key k = *svc_key;
	struct plan_op *op;

	k.port = 0;
	k.proto = 0;
	if (key_in(w->addrs, w->n_addrs, &k) >= 0)
		return 0;
	if (!(op = emit(w, PLAN_PUT_VIP_ADDR, 0, svc)))
		return -ENOMEM;
	op->key = k;
	return key_add(&w->addrs, &w->n_addrs, &k);
}

static int del_service(struct work *w, const struct plan_vip *o)
{
	struct plan_op *op = emit(w, PLAN_DEL_SERVICE, o->svc.id, o->svc.name);

	if (!op)
		return -ENOMEM;
	op->key = o->key;
	return key_add(&w->deleted, &w->n_deleted, &o->key);
}

static void fill_service(const struct work *w, const struct cfg_service *s,
			 __u32 id, struct maglb_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	svc->id = id;
	svc->hash_type = s->hash_type;
	svc->fallback_hash = s->fallback_hash;
	memcpy(svc->key_name, s->key_name, sizeof(svc->key_name));
	svc->key_len = strlen(s->key_name);
	svc->forwarding = s->forwarding;
	svc->snat_addr = s->snat_addr;
	svc->snat_port_min = s->snat_port_min;
	svc->snat_port_max = s->snat_port_max;
	svc->n_matches = s->n_matches;
	svc->mtu = service_mtu(w, s);
	svc->flags = s->no_match_reset ? MAGLB_SVC_F_NO_MATCH_RESET : 0;
	if (s->cookie_generate && s->hash_type == MAGLB_HASH_COOKIE)
		svc->flags |= MAGLB_SVC_F_SET_COOKIE;
	snprintf(svc->name, sizeof(svc->name), "%s", s->name);
}

/* One desired service: its backends, table, matches and VIP entry. */
static int plan_service(struct work *w, const struct cfg_service *s)
{
	const struct plan_vip *old = live_svc(w, s->name);
	const struct plan_vip *cur;
	struct maglev_backend *mb = NULL;
	struct maglb_service svc;
	struct maglb_vip_key key;
	__u32 id, *table = NULL, *ids = NULL, b, j;
	struct plan_op *op;
	int i, err = 0;
	__u64 fp;

	if (old) {
		id = old->svc.id;
	} else {
		err = alloc_svc_id(w, &id);
		if (err)
			return err;
	}

	ids = calloc(s->n_backends ?: 1, sizeof(*ids));
	mb = calloc(s->n_backends ?: 1, sizeof(*mb));
	if (!ids || !mb) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < s->n_backends; i++) {
		const struct cfg_backend *cb = &s->backends[i];
		struct maglb_backend be = {};

		ids[i] = MAGLB_NO_BACKEND;
		if (old) {
			const struct backend_want want = { w, id, cb };
			long found = index_set_find(&w->be_index,
				backend_key_hash(id, cb->family, &cb->addr, cb->port),
				is_wanted, &want);

			if (found >= 0)
				ids[i] = found;
		}
		if (ids[i] == MAGLB_NO_BACKEND) {
			err = alloc_backend_id(w, &ids[i]);
			if (err)
				goto out;
			be.gen = w->be[ids[i]].gen + 1;
			if (!emit(w, PLAN_RESET_BACKEND_COUNTERS, ids[i], s->name)) {
				err = -ENOMEM;
				goto out;
			}
		} else {
			be.gen = w->be[ids[i]].gen;
		}
		be.addr = cb->addr;
		be.port = htons(cb->port);
		be.family = cb->family;
		be.flags = MAGLB_BE_F_ACTIVE;
		be.svc_id = id;
		be.weight = cb->weight;
		w->be_named[ids[i]] = true;
		err = put_backend(w, ids[i], &be, PLAN_PUT_BACKEND, s->name);
		if (err)
			goto out;
		mb[i].name = cb->name;
		/* A backend a check took down keeps its id and counters but
		 * no slots: Maglev moves only its keys (and the usual small
		 * churn). */
		mb[i].weight = health_is_down(w->env->health, s->name, cb->name) ?
			       0 : cb->weight;
		mb[i].id = ids[i];
	}

	/* Backends of this service that the config no longer names. */
	for (j = old && id < MAGLB_MAX_SERVICES ? w->svc_start[id] : 0;
	     old && id < MAGLB_MAX_SERVICES && j < w->svc_start[id + 1]; j++) {
		b = w->svc_ids[j];
		if (!(w->be[b].flags & MAGLB_BE_F_ACTIVE) || w->be[b].svc_id != id ||
		    w->be_named[b])
			continue;
		w->be_removed[b] = true;
		w->be_close[b] = s->close_on_removal;
	}
	for (i = 0; i < s->n_backends; i++)
		if (ids[i] != MAGLB_NO_BACKEND)
			w->be_named[ids[i]] = false;

	/* Building a table is the plan's dearest step (1-3 ms at the
	 * default M): only for a service whose inputs changed. */
	fp = maglev_fingerprint(mb, s->n_backends, s->table_size);
	if (!ring_current(w, id, s->table_size, fp)) {
		table = calloc(s->table_size, sizeof(*table));
		err = table ? maglev_build(mb, s->n_backends, s->table_size, table) :
			      -ENOMEM;
		if (err)
			goto out;
		err = put_ring(w, id, table, s->table_size, fp, s->name);
		table = NULL;
		if (err)
			goto out;
	}

	if (!old && !emit(w, PLAN_RESET_SERVICE_COUNTERS, id, s->name)) {
		err = -ENOMEM;
		goto out;
	}
	fill_service(w, s, id, &svc);
	if (svc.flags & MAGLB_SVC_F_SET_COOKIE) {
		struct maglb_cookie_line line = {
			.len = s->cookie_line_len,
			.val_off = s->cookie_val_off,
		};

		memcpy(line.text, s->cookie_line, sizeof(line.text));
		if (memcmp(&w->snap->cookies[id], &line, sizeof(line))) {
			if (!(op = emit(w, PLAN_PUT_COOKIE_LINE, id, s->name))) {
				err = -ENOMEM;
				goto out;
			}
			op->line = line;
		}
	}
	err = put_matches(w, id, s);
	if (err)
		goto out;
	apply_vip_key(s, &key);
	cur = plan_snapshot_vip(w->snap, &key);
	if (!cur || memcmp(&cur->svc, &svc, sizeof(svc))) {
		if (!(op = emit(w, PLAN_PUT_SERVICE, id, s->name))) {
			err = -ENOMEM;
			goto out;
		}
		op->vip.key = key;
		op->vip.svc = svc;
	}
	/* Entries past the count, left by a longer previous config: after
	 * the VIP entry stopped naming them. */
	err = del_matches(w, id, s->n_matches, s->name);
	if (err)
		goto out;
	/* Same name, new VIP: retire the old key after the new is live,
	 * unless another desired service owns it now (see plan_removed()). */
	if (old && memcmp(&old->key, &key, sizeof(key)) &&
	    !vip_taken(w->cfg, &old->key)) {
		err = del_service(w, old);
		if (err)
			goto out;
	}
	err = put_vip_addr(w, &key, s->name);
out:
	free(ids);
	free(mb);
	free(table);
	return err;
}

/* Live services the config dropped: VIP first, then ring, then matches;
 * their backends are retired with the others. */
static int plan_removed(struct work *w)
{
	int i, err;
	__u32 b;

	for (i = 0; i < w->n_live; i++) {
		const struct plan_vip *o = &w->live[i];
		struct plan_op *op;

		if (config_find(w->cfg, o->svc.name))
			continue;
		/* A service of another name may hold its VIP now (a plain
		 * service replaced by a Gateway listener, or a listener by
		 * its one remaining route): that entry stays. */
		if (!vip_taken(w->cfg, &o->key) && (err = del_service(w, o)))
			return err;
		if (plan_snapshot_ring(w->snap, o->svc.id) &&
		    !emit(w, PLAN_DEL_RING, o->svc.id, o->svc.name))
			return -ENOMEM;
		if ((err = del_matches(w, o->svc.id, 0, o->svc.name)))
			return err;
		if (!(op = emit(w, PLAN_CLOSE_CT_SERVICE, o->svc.id, o->svc.name)))
			return -ENOMEM;
		for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
			if ((w->be[b].flags & MAGLB_BE_F_ACTIVE) &&
			    w->be[b].svc_id == o->svc.id)
				w->be_removed[b] = true;
	}
	return 0;
}

static const char *svc_name_of(const struct work *w, __u32 svc_id)
{
	int i;

	for (i = 0; i < w->n_live; i++)
		if (w->live[i].svc.id == svc_id)
			return w->live[i].svc.name;
	return "";
}

static int plan_retired(struct work *w)
{
	struct maglb_backend be;
	__u32 b;
	int err;

	for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
		const char *svc;

		if (!w->be_removed[b])
			continue;
		svc = svc_name_of(w, w->be[b].svc_id);
		be = w->be[b];
		be.flags &= ~MAGLB_BE_F_ACTIVE;
		err = put_backend(w, b, &be, PLAN_RETIRE_BACKEND, svc);
		if (err)
			return err;
		/* Connections of removed services always end; those of
		 * removed backends only with closeConnectionsOnRemoval,
		 * else they drain. */
		if (w->be_close[b] && !emit(w, PLAN_CLOSE_CT_BACKEND, b, svc))
			return -ENOMEM;
	}
	return 0;
}

/* VIP addresses that no VIP entry has once the plan ran. */
static int plan_vip_addrs(struct work *w)
{
	struct maglb_vip_key c;
	int i, j, k;

	for (i = 0; i < w->n_live; i++) {
		struct maglb_vip_key a = w->live[i].key;
		bool used = false;
		struct plan_op *op;

		a.port = 0;
		a.proto = 0;
		for (j = 0; j < w->cfg->n_services && !used; j++) {
			apply_vip_key(&w->cfg->services[j], &c);
			used = c.family == a.family &&
			       !memcmp(&c.addr, &a.addr, sizeof(a.addr));
		}
		for (j = 0; j < w->n_live && !used; j++) {
			c = w->live[j].key;
			used = c.family == a.family &&
			       !memcmp(&c.addr, &a.addr, sizeof(a.addr)) &&
			       key_in(w->deleted, w->n_deleted, &c) < 0;
		}
		k = key_in(w->addrs, w->n_addrs, &a);
		if (used || k < 0)
			continue;
		if (!(op = emit(w, PLAN_DEL_VIP_ADDR, 0, w->live[i].svc.name)))
			return -ENOMEM;
		op->key = a;
		w->addrs[k] = w->addrs[--w->n_addrs];
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct plan_vip *x = a, *y = b;
	int c = strcmp(x->svc.name, y->svc.name);

	return c ? c : memcmp(&x->key, &y->key, sizeof(x->key));
}

/* The write order (enum plan_kind), stable: a kind's ops stay in the
 * order they were decided. */
static int by_kind(const void *a, const void *b)
{
	const struct plan_op *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int plan_build(const struct maglb_config *cfg, const struct plan_snapshot *snap,
	       const struct plan_env *env, struct plan *p)
{
	static const struct plan_env no_env;
	struct work *w = calloc(1, sizeof(*w));
	struct plan_op *op;
	int i, err = 0;
	__u32 b;

	memset(p, 0, sizeof(*p));
	if (!w)
		return -ENOMEM;
	w->cfg = cfg;
	w->snap = snap;
	w->env = env ? env : &no_env;
	w->p = p;
	w->n_live = snap->n_vips;
	w->live = calloc(snap->n_vips ?: 1, sizeof(*w->live));
	w->addrs = calloc(snap->n_vip_addrs ?: 1, sizeof(*w->addrs));
	if (!w->live || !w->addrs) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(w->live, snap->vips, snap->n_vips * sizeof(*w->live));
	qsort(w->live, w->n_live, sizeof(*w->live), by_name);
	memcpy(w->addrs, snap->vip_addrs, snap->n_vip_addrs * sizeof(*w->addrs));
	w->n_addrs = snap->n_vip_addrs;
	memcpy(w->be, snap->backends, sizeof(w->be));
	for (i = 0; i < w->n_live; i++)
		if (w->live[i].svc.id < MAGLB_MAX_SERVICES)
			w->svc_taken[w->live[i].svc.id] = true;
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
		w->be_taken[b] = w->be[b].flags & MAGLB_BE_F_ACTIVE;
	err = index_backends(w);
	if (err)
		goto out;

	if (cfg->have_syncookie_key) {
		struct maglb_secret key = { cfg->syncookie_key[0],
					    cfg->syncookie_key[1] };

		if (!snap->have_secret || memcmp(&snap->secret, &key, sizeof(key))) {
			if (!(op = emit(w, PLAN_PUT_SECRET, 0, ""))) {
				err = -ENOMEM;
				goto out;
			}
			op->secret = key;
		}
	}
	for (i = 0; i < cfg->n_services; i++) {
		err = plan_service(w, &cfg->services[i]);
		if (err) {
			snprintf(p->failed, sizeof(p->failed), "%s",
				 cfg->services[i].name);
			goto out;
		}
	}
	err = plan_removed(w);
	if (!err)
		err = plan_retired(w);
	if (!err)
		err = plan_vip_addrs(w);
	if (!err)
		qsort(p->ops, p->n, sizeof(*p->ops), by_kind);
out:
	if (err)
		plan_free(p);
	free(w->live);
	free(w->addrs);
	free(w->deleted);
	index_set_free(&w->be_index);
	free(w);
	return err;
}

static const char *key_str(const struct maglb_vip_key *k, char *buf)
{
	char a[ADDR_STRLEN];

	snprintf(buf, ADDR_STRLEN + 32, "%s/%s route %u",
		 addr_port_str(&k->addr, k->family, k->port, a),
		 k->proto == IPPROTO_UDP ? "udp" : "tcp", k->route);
	return buf;
}

const char *plan_op_str(const struct plan_op *op, char *buf, size_t len)
{
	static const char *const kinds[] = { "any", "exact", "prefix" };
	char a[ADDR_STRLEN], k[ADDR_STRLEN + 32];
	const struct maglb_route_match *m = &op->match;

	switch (op->kind) {
	case PLAN_PUT_SECRET:
		snprintf(buf, len, "put secret");
		break;
	case PLAN_RESET_BACKEND_COUNTERS:
		snprintf(buf, len, "reset counters backend %u svc=%s", op->id, op->svc);
		break;
	case PLAN_PUT_BACKEND:
	case PLAN_RETIRE_BACKEND:
		snprintf(buf, len, "%s backend %u svc=%s %s w=%u gen=%u",
			 op->kind == PLAN_PUT_BACKEND ? "put" : "retire", op->id,
			 op->svc, addr_port_str(&op->be.addr, op->be.family,
						op->be.port, a),
			 op->be.weight, op->be.gen);
		break;
	case PLAN_PUT_RING:
		snprintf(buf, len, "put ring svc %u (%s) %u slots", op->id,
			 op->svc, op->ring.size);
		break;
	case PLAN_RESET_SERVICE_COUNTERS:
		snprintf(buf, len, "reset counters svc %u (%s)", op->id, op->svc);
		break;
	case PLAN_PUT_COOKIE_LINE:
		snprintf(buf, len, "put cookie-line svc %u (%s) %u bytes", op->id,
			 op->svc, op->line.len);
		break;
	case PLAN_PUT_MATCH:
		snprintf(buf, len, "put match svc %u (%s) %u host=%s:%.*s path=%s:%.*s route=%u",
			 op->id, op->svc, op->idx, kinds[m->host_match % 3],
			 m->host_len, m->host + MAGLB_MATCH_LEN - m->host_len,
			 kinds[m->path_match % 3], m->path_len, m->path, m->route);
		break;
	case PLAN_PUT_SERVICE:
		snprintf(buf, len, "put service %s (%s) id %u matches %u mtu %u",
			 key_str(&op->vip.key, k), op->svc, op->id,
			 op->vip.svc.n_matches, op->vip.svc.mtu);
		break;
	case PLAN_PUT_VIP_ADDR:
	case PLAN_DEL_VIP_ADDR:
		snprintf(buf, len, "%s vip-addr %s route %u (%s)",
			 op->kind == PLAN_PUT_VIP_ADDR ? "put" : "del",
			 addr_str(&op->key.addr, op->key.family, a), op->key.route,
			 op->svc);
		break;
	case PLAN_DEL_SERVICE:
		snprintf(buf, len, "del service %s (%s)", key_str(&op->key, k),
			 op->svc);
		break;
	case PLAN_DEL_RING:
		snprintf(buf, len, "del ring svc %u (%s)", op->id, op->svc);
		break;
	case PLAN_DEL_MATCH:
		snprintf(buf, len, "del match svc %u (%s) %u", op->id, op->svc,
			 op->idx);
		break;
	case PLAN_CLOSE_CT_SERVICE:
		snprintf(buf, len, "close conns svc %u (%s)", op->id, op->svc);
		break;
	case PLAN_CLOSE_CT_BACKEND:
		snprintf(buf, len, "close conns backend %u svc=%s", op->id, op->svc);
		break;
	default:
		snprintf(buf, len, "op %d", op->kind);
	}
	return buf;
}
