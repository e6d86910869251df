/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * execute.h - the map side of reconcile: the live maps as a plan
 * snapshot, and a plan performed on them.
 */
#ifndef MAGLB_EXECUTE_H
#define MAGLB_EXECUTE_H

#include "datapath/maps.h"
#include "reconcile/plan.h"

/* What the planner compares against (*out: plan_snapshot_free() it). */
int snapshot_read(const struct maglb_maps *m, struct plan_snapshot **out);

/* Every op in the plan's order; stops at the first failure (named on
 * stderr). *closed: conntrack entries deleted. Returns 0 or -errno. */
int plan_execute(const struct maglb_maps *m, const struct plan *p, int *closed);

#endif
