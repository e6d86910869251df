// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * execute.c - the map side of reconcile: read the live maps into a plan
 * snapshot, and perform a plan (plan.h), op by op, in the order it has.
 * Nothing is decided here; maps.c does the writing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "reconcile/execute.h"
#include "reconcile/revnat.h"

int snapshot_read(const struct maglb_maps *m, struct plan_snapshot **out)
{
	struct plan_snapshot *s = plan_snapshot_new();
	struct match_item *mi = NULL;
	struct svc_item *si = NULL;
	struct maglb_backend *be;
	int i, n, err = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	n = maps_read_services(m, &si);
	if (n < 0) {
		err = n;
		goto fail;
	}
	s->vips = calloc(n ?: 1, sizeof(*s->vips));
	s->rings = calloc(n ?: 1, sizeof(*s->rings));
	if (!s->vips || !s->rings) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct plan_ring *r = &s->rings[s->n_rings];
		int j;

		s->vips[i].key = si[i].key;
		s->vips[i].svc = si[i].svc;
		s->n_vips++;
		for (j = 0; j < s->n_rings; j++)
			if (s->rings[j].svc_id == si[i].svc.id)
				break;
		if (j < s->n_rings)
			continue;
		/* The slots only where no fingerprint says what they hold:
		 * reading all of them cost 0.3 ms per service. */
		err = maps_read_ring_head(m, si[i].svc.id, &r->size, &r->fp);
		if (!err && !r->fp)
			err = maps_read_ring(m, si[i].svc.id, &r->slots, &r->size);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err)
			goto fail;
		r->svc_id = si[i].svc.id;
		s->n_rings++;
	}
	be = maps_read_backends(m);
	if (!be) {
		err = -errno;
		goto fail;
	}
	free(s->backends);
	s->backends = be;
	n = maps_read_matches(m, &mi);
	if (n < 0) {
		err = n;
		goto fail;
	}
	s->matches = calloc(n ?: 1, sizeof(*s->matches));
	if (!s->matches) {
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		s->matches[i].key = mi[i].key;
		s->matches[i].m = mi[i].m;
	}
	s->n_matches = n;
	/* Only the live services' lines: the planner writes a line unless
	 * the snapshot holds the same, and a line is never all zeros, so one
	 * not read is written (a new id's). */
	for (i = 0; i < s->n_vips; i++) {
		__u32 id = s->vips[i].svc.id;

		if (id < MAGLB_MAX_SERVICES &&
		    (err = maps_get_cookie_line(m, id, &s->cookies[id])))
			goto fail;
	}
	n = maps_read_vip_addrs(m, &s->vip_addrs);
	if (n < 0) {
		err = n;
		goto fail;
	}
	s->n_vip_addrs = n;
	s->have_secret = !maps_get_secret(m, &s->secret);
	free(si);
	free(mi);
	*out = s;
	return 0;
fail:
	free(si);
	free(mi);
	plan_snapshot_free(s);
	return err;
}

static int op_run(const struct maglb_maps *m, const struct plan_op *op)
{
	switch (op->kind) {
	case PLAN_PUT_SECRET:
		return maps_put_secret(m, &op->secret, false);
	case PLAN_RESET_BACKEND_COUNTERS:
		return maps_reset_counters(m->backend_stats, op->id);
	case PLAN_PUT_BACKEND:
	case PLAN_RETIRE_BACKEND:
		return maps_put_backend(m, op->id, &op->be);
	case PLAN_PUT_RING:	/* put_rings(), all at once */
		return 0;
	case PLAN_RESET_SERVICE_COUNTERS:
		return maps_reset_counters(m->svc_stats, op->id);
	case PLAN_PUT_COOKIE_LINE:
		return maps_put_cookie_line(m, op->id, &op->line);
	case PLAN_PUT_MATCH:
		return maps_put_match(m, op->id, op->idx, &op->match);
	case PLAN_PUT_SERVICE:
		return maps_put_service(m, &op->vip.key, &op->vip.svc);
	case PLAN_PUT_VIP_ADDR:
		return maps_put_vip_addr(m, &op->key);
	case PLAN_DEL_SERVICE:
		return maps_del_service(m, &op->key);
	case PLAN_DEL_RING:
		return maps_del_ring(m, op->id);
	case PLAN_DEL_MATCH:
		return maps_del_match(m, op->id, op->idx);
	case PLAN_DEL_VIP_ADDR:
		return maps_del_vip_addr(m, &op->key);
	case PLAN_CLOSE_CT_SERVICE:
	case PLAN_CLOSE_CT_BACKEND:
	case PLAN_KINDS:
		break;
	}
	return 0;
}

/* The close ops come last (enum plan_kind): one pass over the conntrack
 * ends the connections of every service and backend they name. */
static int close_conns(const struct maglb_maps *m, const struct plan *p,
		       int *closed)
{
	bool *svc = calloc(MAGLB_MAX_SERVICES, sizeof(*svc));
	bool *be = calloc(MAGLB_MAX_BACKENDS, sizeof(*be));
	struct ct_item *ct = NULL;
	int i, n, any = 0;

	if (!svc || !be) {
		free(svc);
		free(be);
		return -ENOMEM;
	}
	for (i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];

		if (op->kind == PLAN_CLOSE_CT_SERVICE && op->id < MAGLB_MAX_SERVICES)
			any = svc[op->id] = true;
		if (op->kind == PLAN_CLOSE_CT_BACKEND && op->id < MAGLB_MAX_BACKENDS)
			any = be[op->id] = true;
	}
	n = any ? maps_read_ct(m, &ct) : 0;
	for (i = 0; i < n; i++) {
		__u32 b = ct[i].val.backend_id, s = ct[i].val.svc_id;

		if ((s < MAGLB_MAX_SERVICES && svc[s]) ||
		    (b < MAGLB_MAX_BACKENDS && be[b])) {
			maps_del_ct(m, &ct[i].key);
			(*closed)++;
		}
	}
	free(ct);
	free(svc);
	free(be);
	return n < 0 ? n : 0;
}

/* The run of PUT_RING ops from i (the plan sorts them together): in one
 * maps_swap_rings() call. Returns how many ops it took; *bad the failed
 * one's index, or -1. */
static int put_rings(const struct maglb_maps *m, const struct plan *p, int i,
		     int *bad, int *err)
{
	int n = 0, j, failed;
	__u32 *ids, *sizes;
	const __u32 **slots;
	__u64 *fps;

	while (i + n < p->n && p->ops[i + n].kind == PLAN_PUT_RING)
		n++;
	ids = calloc(n, sizeof(*ids));
	sizes = calloc(n, sizeof(*sizes));
	slots = calloc(n, sizeof(*slots));
	fps = calloc(n, sizeof(*fps));
	*bad = -1;
	if (!ids || !sizes || !slots || !fps) {
		*err = -ENOMEM;
		*bad = i;
	} else {
		for (j = 0; j < n; j++) {
			ids[j] = p->ops[i + j].id;
			sizes[j] = p->ops[i + j].ring.size;
			slots[j] = p->ops[i + j].ring.slots;
			fps[j] = p->ops[i + j].ring.fp;
		}
		*err = maps_swap_rings(m, n, ids, slots, sizes, fps, &failed);
		if (*err)
			*bad = i + (failed < 0 ? 0 : failed);
	}
	free(ids);
	free(sizes);
	free(slots);
	free(fps);
	return n;
}

int plan_execute(const struct maglb_maps *m, const struct plan *p, int *closed)
{
	char line[512];
	int i, err, bad;

	*closed = 0;
	for (i = 0; i < p->n; i++) {
		if (p->ops[i].kind == PLAN_PUT_RING) {
			int n = put_rings(m, p, i, &bad, &err);

			if (err) {
				pr_warn("maglb: apply: %s: %s\n",
					plan_op_str(&p->ops[bad], line, sizeof(line)),
					strerror(-err));
				return err;
			}
			i += n - 1;
			continue;
		}
		err = op_run(m, &p->ops[i]);
		if (err) {
			pr_warn("maglb: apply: %s: %s\n",
				plan_op_str(&p->ops[i], line, sizeof(line)),
				strerror(-err));
			return err;
		}
	}
	/* The plan's services and backends are live: which VIPs their
	 * replies are found under (reconcile/revnat.c). */
	err = revnat_sync(m);
	if (err) {
		pr_warn("maglb: apply: maglb_revnat: %s\n", strerror(-err));
		return err;
	}
	return close_conns(m, p, closed);
}
