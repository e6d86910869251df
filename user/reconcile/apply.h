/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * apply.h - make the live maps match a validated config: reuse ids of
 * services and backends that stay, build every Maglev table, swap each
 * ring atomically, then retire what left.
 */
#ifndef MAGLB_APPLY_H
#define MAGLB_APPLY_H

#include "datapath/maps.h"
#include "model/config.h"

struct apply_stats {
	int services, backends;		/* live after the apply */
	int svc_added, svc_removed;
	int be_added, be_removed;
	int ct_closed;			/* entries deleted (removed svc/backend) */
};

int apply_config(const struct maglb_maps *m, const struct maglb_config *cfg,
		 struct apply_stats *st);

/* Fill a VIP key from a config service (shared with lookup). */
void apply_vip_key(const struct cfg_service *s, struct maglb_vip_key *k);

#endif
