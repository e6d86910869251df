/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * apply.h - make the live maps match a validated config: read them into a
 * snapshot, plan the writes (plan.h: ids reused for what stays, every
 * Maglev table built, the write order), perform the plan (execute.h).
 */
#ifndef MAGLB_APPLY_H
#define MAGLB_APPLY_H

#include "datapath/maps.h"
#include "model/config.h"
#include "reconcile/plan.h"

struct apply_stats {
	int services, backends;		/* live after the apply */
	int svc_added, svc_removed;
	int be_added, be_removed;
	int ct_closed;			/* entries deleted (removed svc/backend) */
};

/* Every backend healthy. */
int apply_config(const struct maglb_maps *m, const struct maglb_config *cfg,
		 struct apply_stats *st);
/* Backends the overlay has down get no slots (NULL: all up). */
int apply_config_health(const struct maglb_maps *m,
			const struct maglb_config *cfg,
			const struct health_overlay *health,
			struct apply_stats *st);

/* The counts of a plan for cfg (ct_closed is the executor's). */
void apply_stats_of(const struct plan *p, const struct maglb_config *cfg,
		    struct apply_stats *st);

#endif
