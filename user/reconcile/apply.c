// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * apply.c - reconcile: snapshot the maps, plan (plan.c decides ids,
 * tables and the order of writes), execute (execute.c writes, through
 * maps.c).
 */
#include <errno.h>
#include <string.h>
#include "common/log.h"
#include "datapath/pathmtu.h"
#include "reconcile/apply.h"
#include "reconcile/execute.h"

void apply_stats_of(const struct plan *p, const struct maglb_config *cfg,
		    struct apply_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	st->services = cfg->n_services;
	for (i = 0; i < cfg->n_services; i++)
		st->backends += cfg->services[i].n_backends;
	/* a new id's counters are zeroed, and an id leaves by its last op */
	st->svc_added = plan_count(p, PLAN_RESET_SERVICE_COUNTERS);
	st->be_added = plan_count(p, PLAN_RESET_BACKEND_COUNTERS);
	st->svc_removed = plan_count(p, PLAN_CLOSE_CT_SERVICE);
	st->be_removed = plan_count(p, PLAN_RETIRE_BACKEND);
}

int apply_config_health(const struct maglb_maps *m,
			const struct maglb_config *cfg,
			const struct health_overlay *health,
			struct apply_stats *st)
{
	const struct plan_env env = { .health = health, .path_mtu = path_mtu };
	struct plan_snapshot *snap;
	struct plan p;
	int err;

	memset(st, 0, sizeof(*st));
	err = snapshot_read(m, &snap);
	if (err)
		return err;
	err = plan_build(cfg, snap, &env, &p);
	plan_snapshot_free(snap);
	if (err) {
		pr_warn("maglb: apply: service %s: %s\n",
			p.failed[0] ? p.failed : "-", strerror(-err));
		return err;
	}
	apply_stats_of(&p, cfg, st);
	err = plan_execute(m, &p, &st->ct_closed);
	plan_free(&p);
	return err;
}

int apply_config(const struct maglb_maps *m, const struct maglb_config *cfg,
		 struct apply_stats *st)
{
	return apply_config_health(m, cfg, NULL, st);
}
