/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - connection affinity. A new flow gets two entries in the
 * conntrack (maglb_ct4 or maglb_ct6, by family): the forward one keyed by
 * the client's flow, and the reply one keyed by the flow the backend sends
 * back. Established connections are served from here and never look at
 * the Maglev ring again, so they keep their backend whatever the table
 * becomes. The agent sweeps idle and closed entries; the LRU bounds memory
 * if it cannot keep up.
 */
#ifndef MAGLB_BPF_CONNTRACK_H
#define MAGLB_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"

#define CT_TOUCH_NS		1000000000ULL	/* refresh last_seen at most 1/s */
#define SNAT_PORT_TRIES		16

/* The L4 path's part of the per-CPU scratch (scratch.h): a new flow's two
 * entries, the flow keys being built, and the next-hop lookup (forward.h). */
struct l4_scratch {
	struct maglb_ct_entry fwd;	/* a new flow's two entries */
	struct maglb_ct_entry rev;
	struct maglb_flow key1;		/* flow keys being built */
	struct maglb_flow key2;
	struct maglb_flow4 k4;		/* an IPv4 conntrack key (below) */
	struct bpf_fib_lookup fib;
};

/*
 * The only ways into the conntrack maps: they pick the family's map, so
 * every caller keys by struct maglb_flow. k4 is room for the IPv4 key: the
 * first lookup of a packet passes its stack, and the paths that already
 * hold per-CPU scratch pass sc->l4.k4, because maglb_splice_first has no 16
 * bytes of stack to spare (the verifier caps a call chain at 512).
 */
static __always_inline struct maglb_ct_entry *
ct_lookup(const struct maglb_flow *f, struct maglb_flow4 *k4)
{
	if (f->family == MAGLB_AF_INET) {
		maglb_flow4_of(k4, f);
		return bpf_map_lookup_elem(&maglb_ct4, k4);
	}
	return bpf_map_lookup_elem(&maglb_ct6, f);
}

static __always_inline long ct_update(const struct maglb_flow *f,
				      const struct maglb_ct_entry *e,
				      __u64 flags, struct maglb_flow4 *k4)
{
	if (f->family == MAGLB_AF_INET) {
		maglb_flow4_of(k4, f);
		return bpf_map_update_elem(&maglb_ct4, k4, e, flags);
	}
	return bpf_map_update_elem(&maglb_ct6, f, e, flags);
}

static __always_inline void ct_delete(const struct maglb_flow *f,
				      struct maglb_flow4 *k4)
{
	if (f->family == MAGLB_AF_INET) {
		maglb_flow4_of(k4, f);
		bpf_map_delete_elem(&maglb_ct4, k4);
	} else {
		bpf_map_delete_elem(&maglb_ct6, f);
	}
}

static __always_inline bool ct_closed(const struct maglb_ct_entry *e)
{
	return e->flags & (MAGLB_CT_F_RST | MAGLB_CT_F_FIN);
}

/* Per-packet bookkeeping; writes only when something changed, to keep the
 * shared entry's cache line clean on the fast path. */
static __always_inline void ct_touch(struct maglb_ct_entry *e, __u8 tcp_flags,
				     __u64 now)
{
	__u32 flags = e->flags;

	if (tcp_flags & TCP_F_RST)
		flags |= MAGLB_CT_F_RST;
	if (tcp_flags & TCP_F_FIN)
		flags |= MAGLB_CT_F_FIN;
	if (flags != e->flags)
		e->flags = flags;
	if (now - e->last_seen_ns > CT_TOUCH_NS)
		e->last_seen_ns = now;
}

static __always_inline void reply_key(struct maglb_flow *rk,
				      const struct maglb_flow *f,
				      const struct maglb_ct_entry *fwd)
{
	rk->saddr = fwd->nat_daddr;
	rk->daddr = fwd->nat_saddr;
	rk->sport = fwd->nat_dport;
	rk->dport = fwd->nat_sport;
	rk->proto = f->proto;
	rk->family = f->family;
	rk->pad = 0;
}

/*
 * Create both entries for flow f to backend be of service svc. For snat,
 * pick a free source port on the node address: start from the flow hash and
 * probe linearly; BPF_NOEXIST makes the claim race-free across CPUs.
 * nh, if not NULL, is a fresh next hop toward the backend: the forward
 * entry starts with it, confirmed for the fast path. rkp and k4 are
 * scratch for the keys. Returns 0 or a drop reason.
 */
static __always_inline int ct_create(const struct pkt *p,
				     const struct maglb_service *svc,
				     __u32 be_id, const struct maglb_backend *be,
				     __u64 hash, __u64 now,
				     const struct maglb_nh *nh,
				     struct maglb_ct_entry *fwd, __u32 fwd_flags,
				     struct maglb_ct_entry *revp, __u32 rev_flags,
				     struct maglb_flow *rkp,
				     struct maglb_flow4 *k4)
{
	int i;

	/* Both live in per-CPU scratch: nothing of the last flow may stay. */
	__builtin_memset(fwd, 0, sizeof(*fwd));
	__builtin_memset(revp, 0, sizeof(*revp));
	if (nh) {
		fwd->nh = *nh;
		fwd->fast_jiffies = bpf_jiffies64();
	}
	fwd->nat_daddr = be->addr;
	fwd->nat_dport = be->port;
	fwd->svc_id = svc->id;
	fwd->backend_id = be_id;
	fwd->backend_gen = be->gen;
	fwd->created_ns = now;
	fwd->last_seen_ns = now;

	revp->nat_saddr = p->flow.daddr;
	revp->nat_sport = p->flow.dport;
	revp->nat_daddr = p->flow.saddr;
	revp->nat_dport = p->flow.sport;
	revp->svc_id = svc->id;
	revp->backend_id = be_id;
	revp->backend_gen = be->gen;
	revp->flags = MAGLB_CT_F_REPLY | rev_flags;
	revp->created_ns = now;
	revp->last_seen_ns = now;

	if (svc->forwarding == MAGLB_FWD_SNAT) {
		__u32 range = (__u32)svc->snat_port_max - svc->snat_port_min + 1;
		bool ok = false;
		__u64 start;

		fwd->flags = MAGLB_CT_F_SNAT | fwd_flags;
		revp->flags |= MAGLB_CT_F_SNAT;
		fwd->nat_saddr = svc->snat_addr;
		if (range == 0 || range > 65535)
			return MAGLB_DROP_SNAT_EXHAUSTED;
		/* Start from the service's hash mixed with the client's
		 * port: a SourceIP hash is one value per client, and its
		 * connections would all probe the same SNAT_PORT_TRIES ports. */
		start = hash ^ ((__u64)p->flow.sport * 0x9e3779b97f4a7c15ULL);
		/* Unrolled: clang lays this loop out with a fall-through
		 * back-edge, which the CFG check of 6.1 rejects outright
		 * (later kernels accept any bounded back-edge). */
#pragma unroll
		for (i = 0; i < SNAT_PORT_TRIES; i++) {
			__u16 port = svc->snat_port_min +
				     (__u16)((start + i) % range);

			fwd->nat_sport = bpf_htons(port);
			reply_key(rkp, &p->flow, fwd);
			if (!ct_update(rkp, revp, BPF_NOEXIST, k4)) {
				ok = true;
				break;
			}
		}
		if (!ok)
			return MAGLB_DROP_SNAT_EXHAUSTED;
	} else {
		fwd->flags = fwd_flags;
		fwd->nat_saddr = p->flow.saddr;
		fwd->nat_sport = p->flow.sport;
		reply_key(rkp, &p->flow, fwd);
		ct_update(rkp, revp, BPF_ANY, k4);
	}
	ct_update(&p->flow, fwd, BPF_ANY, k4);
	return 0;
}

#endif /* MAGLB_BPF_CONNTRACK_H */
