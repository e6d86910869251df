// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * apply.c - reconcile the maps with a config. Decides ids and order of
 * writes; maps.c does the writing.
 *
 * Order matters for packets in flight: backends are written before the
 * ring that names them, the ring before the VIP that uses it; removals go
 * the other way round. Ids are reused for what stays, so established
 * connections keep their counters. A freed backend id is reused last
 * (lowest generation first), so counters of draining connections are not
 * mixed into a new backend's for as long as possible.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "datapath/pathmtu.h"
#include "model/maglev.h"
#include "reconcile/apply.h"

struct live {
	struct svc_item *svcs;
	int n_svcs;
	struct maglb_backend *be;	/* [MAGLB_MAX_BACKENDS] */
	bool be_taken[MAGLB_MAX_BACKENDS];
	bool svc_taken[MAGLB_MAX_SERVICES];
	bool svc_kept[MAGLB_MAX_SERVICES];	/* live id still configured */
	bool be_removed[MAGLB_MAX_BACKENDS];
	bool be_close[MAGLB_MAX_BACKENDS];	/* end its connections now */
	bool svc_removed[MAGLB_MAX_SERVICES];
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

/* A listener's route matches, before its VIP entry names how many: the
 * datapath reads entries 0..n_matches-1 of what the entry says. */
static int apply_matches(const struct maglb_maps *m, __u32 id,
			 const struct cfg_service *s)
{
	int i, err;

	for (i = 0; i < s->n_matches; i++) {
		const struct cfg_match *cm = &s->matches[i];
		struct maglb_route_match rm = {
			.host_match = cm->host_match,
			.path_match = cm->path_match,
			.host_len = strlen(cm->host),
			.path_len = strlen(cm->path),
			.route = cm->route,
		};

		/* right-aligned host: see struct maglb_route_match */
		memcpy(rm.host + MAGLB_MATCH_LEN - rm.host_len, cm->host,
		       rm.host_len);
		memcpy(rm.path, cm->path, rm.path_len);
		err = maps_put_match(m, id, i, &rm);
		if (err)
			return err;
	}
	return 0;
}

/* Entries past the listener's count, left by a longer previous config:
 * after the VIP entry stopped naming them. */
static int trim_matches(const struct maglb_maps *m, __u32 id, int from)
{
	int i, err;

	for (i = from; i < MAGLB_MAX_MATCHES; i++)
		if ((err = maps_del_match(m, id, i)))
			return err;
	return 0;
}

static int read_live(const struct maglb_maps *m, struct live *l)
{
	__u32 id;
	int i;

	l->n_svcs = maps_read_services(m, &l->svcs);
	if (l->n_svcs < 0)
		return l->n_svcs;
	for (i = 0; i < l->n_svcs; i++)
		if (l->svcs[i].svc.id < MAGLB_MAX_SERVICES)
			l->svc_taken[l->svcs[i].svc.id] = true;
	l->be = maps_read_backends(m);
	if (!l->be)
		return -errno;
	for (id = 0; id < MAGLB_MAX_BACKENDS; id++)
		if (l->be[id].flags & MAGLB_BE_F_ACTIVE)
			l->be_taken[id] = true;
	return 0;
}

static struct svc_item *live_svc(struct live *l, const char *name)
{
	int i;

	for (i = 0; i < l->n_svcs; i++)
		if (!strcmp(l->svcs[i].svc.name, name))
			return &l->svcs[i];
	return NULL;
}

static int alloc_svc_id(struct live *l, __u32 *id)
{
	__u32 i;

	for (i = 0; i < MAGLB_MAX_SERVICES; i++) {
		if (!l->svc_taken[i]) {
			l->svc_taken[i] = true;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static int alloc_backend_id(struct live *l, __u32 *id)
{
	__u32 i, best = MAGLB_NO_BACKEND;

	for (i = 0; i < MAGLB_MAX_BACKENDS; i++) {
		if (l->be_taken[i])
			continue;
		if (best == MAGLB_NO_BACKEND || l->be[i].gen < l->be[best].gen)
			best = i;
	}
	if (best == MAGLB_NO_BACKEND)
		return -ENOSPC;
	l->be_taken[best] = true;
	*id = best;
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
static __u16 backends_mtu(const struct cfg_service *s)
{
	unsigned mtu = s->mtu ? s->mtu : CFG_MTU_MAX, m;
	int i;

	for (i = 0; i < s->n_backends; i++) {
		m = path_mtu(&s->backends[i].addr, s->backends[i].family);
		if (m && m < mtu)
			mtu = m;
	}
	return mtu == CFG_MTU_MAX ? 0 : mtu;
}

static __u16 service_mtu(const struct maglb_config *cfg,
			 const struct cfg_service *s)
{
	unsigned mtu = backends_mtu(s) ?: CFG_MTU_MAX, m;
	int i;

	for (i = 0; s->n_matches && !s->route && i < cfg->n_services; i++) {
		const struct cfg_service *r = &cfg->services[i];

		if (!r->route || r->family != s->family || r->port != s->port ||
		    r->proto != s->proto ||
		    memcmp(&r->addr, &s->addr, sizeof(r->addr)))
			continue;
		m = backends_mtu(r);
		if (m && m < mtu)
			mtu = m;
	}
	return mtu == CFG_MTU_MAX ? 0 : mtu;
}

/* Write one service's backends and table; the VIP entry goes last. */
static int apply_service(const struct maglb_maps *m, struct live *l,
			 const struct maglb_config *cfg,
			 const struct cfg_service *s, struct apply_stats *st)
{
	struct maglev_backend *mb = NULL;
	struct svc_item *old = live_svc(l, s->name);
	struct maglb_service svc = {};
	struct maglb_vip_key key;
	__u32 id, *table = NULL, *ids = NULL;
	int i, err = 0;
	__u32 b;

	if (old) {
		id = old->svc.id;
		l->svc_kept[id] = true;
	} else {
		err = alloc_svc_id(l, &id);
		if (err)
			return err;
		st->svc_added++;
	}

	ids = calloc(s->n_backends ?: 1, sizeof(*ids));
	mb = calloc(s->n_backends ?: 1, sizeof(*mb));
	table = calloc(s->table_size, sizeof(*table));
	if (!ids || !mb || !table) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < s->n_backends; i++) {
		const struct cfg_backend *cb = &s->backends[i];
		struct maglb_backend be = {};

		ids[i] = MAGLB_NO_BACKEND;
		if (old) {
			for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
				if (same_backend(&l->be[b], id, cb)) {
					ids[i] = b;
					break;
				}
			}
		}
		if (ids[i] == MAGLB_NO_BACKEND) {
			err = alloc_backend_id(l, &ids[i]);
			if (err)
				goto out;
			be.gen = l->be[ids[i]].gen + 1;
			err = maps_reset_counters(m->backend_stats, ids[i]);
			if (err)
				goto out;
			st->be_added++;
		} else {
			be.gen = l->be[ids[i]].gen;
		}
		be.addr = cb->addr;
		be.port = htons(cb->port);
		be.family = cb->family;
		be.flags = MAGLB_BE_F_ACTIVE;
		be.svc_id = id;
		be.weight = cb->weight;
		err = maps_put_backend(m, ids[i], &be);
		if (err)
			goto out;
		l->be[ids[i]] = be;
		mb[i].name = cb->name;
		/* An unhealthy backend keeps its id and counters but no slots:
		 * Maglev moves only its keys (and the usual small churn). */
		mb[i].weight = cb->unhealthy ? 0 : cb->weight;
		mb[i].id = ids[i];
	}

	/* Backends of this service that the config no longer names. */
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
		bool keep = false;

		if (!(l->be[b].flags & MAGLB_BE_F_ACTIVE) || l->be[b].svc_id != id)
			continue;
		for (i = 0; i < s->n_backends; i++)
			keep |= ids[i] == b;
		if (!keep && old) {
			l->be_removed[b] = true;
			l->be_close[b] = s->close_on_removal;
			st->be_removed++;
		}
	}

	err = maglev_build(mb, s->n_backends, s->table_size, table);
	if (err)
		goto out;
	err = maps_swap_ring(m, id, table, s->table_size);
	if (err)
		goto out;

	if (!old) {
		err = maps_reset_counters(m->svc_stats, id);
		if (err)
			goto out;
	}
	svc.id = id;
	svc.hash_type = s->hash_type;
	svc.fallback_hash = s->fallback_hash;
	memcpy(svc.key_name, s->key_name, sizeof(svc.key_name));
	svc.key_len = strlen(s->key_name);
	svc.forwarding = s->forwarding;
	svc.snat_addr = s->snat_addr;
	svc.snat_port_min = s->snat_port_min;
	svc.snat_port_max = s->snat_port_max;
	svc.n_matches = s->n_matches;
	svc.mtu = service_mtu(cfg, s);
	svc.flags = s->no_match_reset ? MAGLB_SVC_F_NO_MATCH_RESET : 0;
	if (s->cookie_generate && s->hash_type == MAGLB_HASH_COOKIE) {
		struct maglb_cookie_line line = {
			.len = s->cookie_line_len,
			.val_off = s->cookie_val_off,
		};

		memcpy(line.text, s->cookie_line, sizeof(line.text));
		err = maps_put_cookie_line(m, id, &line);
		if (err)
			goto out;
		svc.flags |= MAGLB_SVC_F_SET_COOKIE;
	}
	snprintf(svc.name, sizeof(svc.name), "%s", s->name);
	err = apply_matches(m, id, s);
	if (err)
		goto out;
	apply_vip_key(s, &key);
	err = maps_put_service(m, &key, &svc);
	if (!err)
		err = trim_matches(m, id, s->n_matches);
	if (err)
		goto out;
	/* Same name, new VIP: retire the old address after the new is live. */
	if (old && memcmp(&old->key, &key, sizeof(key))) {
		err = maps_del_service(m, &old->key);
		if (err)
			goto out;
	}
	key.port = 0;
	key.proto = 0;
	err = maps_put_vip_addr(m, &key);
	if (!err)
		st->backends += s->n_backends;
out:
	free(ids);
	free(mb);
	free(table);
	return err;
}

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

static bool ct_is_doomed(const struct live *l, const struct ct_item *it)
{
	__u32 b = it->val.backend_id, s = it->val.svc_id;

	return (s < MAGLB_MAX_SERVICES && l->svc_removed[s]) ||
	       (b < MAGLB_MAX_BACKENDS && l->be_close[b]);
}

int apply_config(const struct maglb_maps *m, const struct maglb_config *cfg,
		 struct apply_stats *st)
{
	struct live *l = calloc(1, sizeof(*l));
	struct ct_item *ct = NULL;
	struct svc_item *now = NULL;
	int i, n, err;
	__u32 b;

	memset(st, 0, sizeof(*st));
	if (!l)
		return -ENOMEM;
	err = read_live(m, l);
	if (err)
		goto out;
	if (cfg->have_syncookie_key) {
		struct maglb_secret key = { cfg->syncookie_key[0],
					    cfg->syncookie_key[1] };

		err = maps_put_secret(m, &key, false);
		if (err)
			goto out;
	}

	for (i = 0; i < cfg->n_services; i++) {
		err = apply_service(m, l, cfg, &cfg->services[i], st);
		if (err) {
			pr_warn("maglb: apply: service %s: %s\n",
				cfg->services[i].name, strerror(-err));
			goto out;
		}
	}
	st->services = cfg->n_services;

	/* Services the config dropped: VIP first, then ring, then backends. */
	for (i = 0; i < l->n_svcs; i++) {
		struct svc_item *o = &l->svcs[i];

		if (config_find(cfg, o->svc.name))
			continue;
		/* A service of another name may hold its VIP now (a plain
		 * service replaced by a Gateway listener): that entry stays. */
		err = vip_taken(cfg, &o->key) ? 0 : maps_del_service(m, &o->key);
		if (!err)
			err = maps_del_ring(m, o->svc.id);
		if (!err)
			err = trim_matches(m, o->svc.id, 0);
		if (err)
			goto out;
		if (o->svc.id < MAGLB_MAX_SERVICES)
			l->svc_removed[o->svc.id] = true;
		st->svc_removed++;
		for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
			if ((l->be[b].flags & MAGLB_BE_F_ACTIVE) &&
			    l->be[b].svc_id == o->svc.id) {
				l->be_removed[b] = true;
				st->be_removed++;
			}
		}
	}
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
		if (!l->be_removed[b])
			continue;
		l->be[b].flags &= ~MAGLB_BE_F_ACTIVE;
		err = maps_put_backend(m, b, &l->be[b]);
		if (err)
			goto out;
	}

	/* VIP addresses nobody serves any more. */
	n = maps_read_services(m, &now);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (i = 0; i < l->n_svcs; i++) {
		struct maglb_vip_key k = l->svcs[i].key;
		bool used = false;
		int j;

		k.port = 0;
		k.proto = 0;
		for (j = 0; j < n; j++)
			used |= now[j].key.family == k.family &&
				!memcmp(&now[j].key.addr, &k.addr, sizeof(k.addr));
		if (!used && (err = maps_del_vip_addr(m, &k)))
			goto out;
	}

	/* Connections of removed services always end; those of removed
	 * backends end only with closeConnectionsOnRemoval, else they drain. */
	n = maps_read_ct(m, &ct);
	if (n < 0) {
		err = n;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (ct_is_doomed(l, &ct[i])) {
			maps_del_ct(m, &ct[i].key);
			st->ct_closed++;
		}
	}
	err = 0;
out:
	free(ct);
	free(now);
	free(l->svcs);
	free(l->be);
	free(l);
	return err;
}
