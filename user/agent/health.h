/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * health.h - active health checks of backends (TCP connect or HTTP GET,
 * through libcurl's multi interface), with Envoy-style thresholds.
 */
#ifndef MAGLB_HEALTH_H
#define MAGLB_HEALTH_H

#include <stdbool.h>
#include "model/config.h"
#include "reconcile/plan.h"

struct health;

/* Checks for every service of cfg that has healthCheck (cfg must outlive
 * the checker). State carries over from old (may be NULL) for backends
 * that stay (same service and name). */
struct health *health_new(const struct maglb_config *cfg,
			  const struct health *old);
void health_free(struct health *h);

/* The backends that are down now, for the planner; NULL for no checker.
 * It changes only in health_poll(). */
const struct health_overlay *health_overlay(const struct health *h);

/* Start due probes and collect finished ones. Returns true when a backend
 * crossed a threshold (the overlay changed: re-apply). */
bool health_poll(struct health *h, __u64 now_ms);

/* Milliseconds until health_poll() has work (-1: nothing configured). */
int health_wait_ms(const struct health *h, __u64 now_ms);

#endif
