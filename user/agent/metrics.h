/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the agent's HTTP endpoint (libmicrohttpd, its own thread):
 * /metrics in Prometheus text format, /healthz (alive) and /readyz (a
 * config is applied).
 */
#ifndef MAGLB_METRICS_H
#define MAGLB_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include "datapath/maps.h"
#include "model/config.h"
#include "reconcile/plan.h"

/* What the agent shares with the endpoint; lock guards all of it. */
struct metrics_state {
	pthread_mutex_t lock;
	const struct maglb_maps *maps;
	const struct maglb_config *cfg;	/* live config, NULL before the first */
	const struct health_overlay *health;	/* its backends that are down */
	unsigned long generation;	/* successful applies */
	time_t last_apply;		/* wall clock of the last attempt */
	bool last_ok;
};

struct metrics;

/* addr: "PORT" or ":PORT" (127.0.0.1), or "IP:PORT" ("0.0.0.0:PORT": every
 * address). NULL with a message on error. */
struct metrics *metrics_start(const char *addr, struct metrics_state *st);
void metrics_stop(struct metrics *m);

#endif
