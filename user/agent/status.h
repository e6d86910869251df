/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - writes cfg->status (model/status.h) to the API server as
 * Gateway API status, through each object's status subresource. Only
 * the holder of the status lease (agent/lease.h) calls it.
 */
#ifndef MAGLB_AGENT_STATUS_H
#define MAGLB_AGENT_STATUS_H

#include <json-c/json.h>
#include "model/status.h"

struct kube;
struct maglb_config;
struct status_writer;

struct status_writer *status_new(struct kube *k);
/* Bring every object's status (the objects cfg holds from the API
 * server) to what cfg says, cfg being applied to this node's datapath.
 * Writes only what differs from what was last written or read; cheap to
 * call again. Returns the number of writes that failed (tried again on
 * the next call). */
int status_sync(struct status_writer *w, const struct maglb_config *cfg);
/* Forget what was written: the next status_sync() reads every object
 * first (another agent may have written meanwhile). */
void status_forget(struct status_writer *w);
void status_free(struct status_writer *w);

/* The parts, pure (tests/unit/test_status.c):
 * status_build: maglb's part of o's status (GatewayClass, Gateway: the
 * status; HTTPRoute, policy: maglb's parents/ancestors entries; o NULL:
 * none), given prev, the part as last written (for lastTransitionTime), or
 * NULL, with now (RFC 3339) for the conditions that change. */
json_object *status_build(const struct st_object *o, json_object *prev,
			  const char *controller, const char *now);
/* maglb's part of a status the server holds. */
json_object *status_ours(enum st_kind k, json_object *status,
			 const char *controller);
/* The status to write: ours, with the other controllers' entries of
 * server_status kept (HTTPRoute, policy). */
json_object *status_merged(enum st_kind k, json_object *server_status,
			   json_object *ours, const char *controller);

#endif
