/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - writes cfg->status (model/status.h) to the API server as
 * Gateway API status, through each object's status subresource. Only
 * the holder of the status lease (agent/lease.h) calls it.
 */
#ifndef MAGLB_AGENT_STATUS_H
#define MAGLB_AGENT_STATUS_H

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

#endif
