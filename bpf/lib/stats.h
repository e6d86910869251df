/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats.h - per-CPU counters, so no packet ever waits on another CPU's
 * cache line. Needs the maps from maps.h.
 */
#ifndef MAGLB_BPF_STATS_H
#define MAGLB_BPF_STATS_H

#include "maps.h"

static __always_inline void count_reason(enum maglb_reason r, __u32 len)
{
	struct maglb_reason_counters *c;
	__u32 key = r;

	c = bpf_map_lookup_elem(&maglb_reasons, &key);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void count_flow(void *map, __u32 id, __u32 len,
				       bool reply, bool new_conn)
{
	struct maglb_counters *c = bpf_map_lookup_elem(map, &id);

	if (!c)
		return;
	if (reply) {
		c->reply_packets++;
		c->reply_bytes += len;
	} else {
		c->packets++;
		c->bytes += len;
	}
	if (new_conn)
		c->new_conns++;
}

/* A packet of conntrack entry e: its service's and its backend's
 * counters, in e's direction (every forwarding path counts this way). */
static __always_inline void count_entry(const struct maglb_ct_entry *e,
					__u32 len, bool new_conn)
{
	bool reply = e->flags & MAGLB_CT_F_REPLY;

	count_flow(&maglb_svc_stats, e->svc_id, len, reply, new_conn);
	count_flow(&maglb_backend_stats, e->backend_id, len, reply, new_conn);
}

#endif /* MAGLB_BPF_STATS_H */
