/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * forward.h - send a rewritten packet on its way: bpf_fib_lookup() for the
 * next hop's MACs and egress device (remembered per flow and per backend),
 * then out by the path that device takes (egress.h). Sets *reason for the
 * counters.
 */
#ifndef MAGLB_BPF_FORWARD_H
#define MAGLB_BPF_FORWARD_H

#include "maps.h"
#include "parse.h"
#include "egress.h"

#define AF_INET		2
#define AF_INET6	10
#define IPV6_FLOWINFO_MASK	bpf_htonl(0x0FFFFFFF)

/* How long a conntrack entry may reuse its looked-up next hop: a neighbour
 * or route change, and a device's egress flags (egress.h), reach
 * established flows within this. */
#define NH_CACHE_NS	1000000000ULL

/*
 * The next hop by bpf_fib_lookup(): MACs and egress device in *fibp (the
 * per-CPU scratch: 64 bytes the stack lacks). Returns -1 on success, or
 * the action for a packet the FIB will not let us send, *reason set.
 */
static __always_inline int fib_next_hop(CTX *ctx, struct pkt *p,
					enum maglb_reason *reason,
					struct bpf_fib_lookup *fibp)
{
	__builtin_memset(fibp, 0, sizeof(*fibp));
	fibp->ifindex = ctx_ifindex(ctx);
	fibp->l4_protocol = p->flow.proto;
	if (p->ip4) {
		fibp->family = AF_INET;
		fibp->tos = p->ip4->tos;
		fibp->tot_len = bpf_ntohs(p->ip4->tot_len);
		fibp->ipv4_src = p->ip4->saddr;
		fibp->ipv4_dst = p->ip4->daddr;
	} else if (p->ip6) {
		fibp->family = AF_INET6;
		fibp->flowinfo = *(__be32 *)p->ip6 & IPV6_FLOWINFO_MASK;
		fibp->tot_len = bpf_ntohs(p->ip6->payload_len);
		__builtin_memcpy(fibp->ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(fibp->ipv6_dst, &p->ip6->daddr, 16);
	}

	switch (bpf_fib_lookup(ctx, fibp, sizeof(*fibp), 0)) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		return -1;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* Headers are already rewritten and valid: the kernel
		 * resolves the neighbour and forwards (needs ip_forward). */
		*reason = MAGLB_PASS_FIB_NEIGH;
		return ACT_PASS;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		/* Bigger than the egress MTU (fibp->mtu_result says it). A
		 * caller that can answers with ICMP too-big (icmp.h); the
		 * kernel fragments an IPv4 packet without DF. */
		*reason = MAGLB_PASS_FIB_FRAG;
		return ACT_PASS;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		*reason = MAGLB_DROP_FIB;
		return ACT_DROP;
	default:
		/* Not forwarded, forwarding disabled: the kernel's slow
		 * path handles it. */
		*reason = MAGLB_PASS_FIB_OTHER;
		return ACT_PASS;
	}
}

/* Out by a remembered next hop: its MACs, its device, its egress flags. */
static __always_inline int nh_send(CTX *ctx, struct pkt *p,
				   const struct maglb_nh *c,
				   enum maglb_reason *reason)
{
	return egress_send(ctx, p, c->ifindex, c->eg_flags, c->dmac, c->smac,
			   reason);
}

/* c may send a packet of l3_len bytes now. */
static __always_inline bool nh_fresh_for(const struct maglb_nh *c,
					 __u32 l3_len, __u64 now)
{
	return c->ifindex && now - c->time_ns < NH_CACHE_NS &&
	       l3_len <= c->len_ok;
}

static __always_inline bool nh_fresh(const struct maglb_nh *c,
				     const struct pkt *p, __u64 now)
{
	return nh_fresh_for(c, pkt_l3_len(p), now);
}

/* c is stale: take shared (its backend's, entry_backend_nh below) if that
 * one is fresh for a packet of l3_len bytes. c then keeps shared's
 * time_ns, so it is never older than NH_CACHE_NS from the lookup that
 * made it. A length, not the packet: on the fast path the packet
 * pointers are no longer known to the verifier there. */
static __always_inline bool nh_take(struct maglb_nh *c,
				    const struct maglb_nh *shared,
				    __u32 l3_len, __u64 now)
{
	if (!shared || !nh_fresh_for(shared, l3_len, now))
		return false;
	*c = *shared;
	return true;
}

/*
 * Forward using a remembered next hop: bpf_fib_lookup costs ~300 ns here,
 * more than the rest of an established packet, so it runs once per
 * NH_CACHE_NS per cache. A conntrack entry caches its own direction's
 * (the reply goes to the client); a new flow uses its backend's
 * (backend_nh). shared: a cache that serves c's destination too (a
 * forward entry's backend's, entry_backend_nh), taken when c is stale and
 * filled with c by a lookup; NULL if none. Falls back to forward() on a
 * miss and stores the result. c may be NULL (nowhere to cache).
 */
static __always_inline int forward_cached(CTX *ctx, struct pkt *p,
					  struct maglb_nh *c,
					  struct maglb_nh *shared, __u64 now,
					  enum maglb_reason *reason,
					  struct bpf_fib_lookup *fibp)
{
	__u32 l3_len = pkt_l3_len(p);
	__u8 eg;
	int rc;

	if (c && (nh_fresh_for(c, l3_len, now) || nh_take(c, shared, l3_len, now)))
		return nh_send(ctx, p, c, reason);
	rc = fib_next_hop(ctx, p, reason, fibp);
	if (rc >= 0)
		return rc;
	eg = egress_flags(fibp->ifindex);
	if (c) {
		__builtin_memcpy(c->dmac, fibp->dmac, ETH_ALEN);
		__builtin_memcpy(c->smac, fibp->smac, ETH_ALEN);
		/* On success the helper leaves tot_len as given: that length
		 * fits the path MTU; bigger packets look up again. */
		if (fibp->tot_len > c->len_ok || now - c->time_ns >= NH_CACHE_NS)
			c->len_ok = fibp->tot_len;
		c->ifindex = fibp->ifindex;
		c->eg_flags = eg;
		c->time_ns = now;
		if (shared)	/* stale, or it would have been taken */
			*shared = *c;
	}
	return egress_send(ctx, p, fibp->ifindex, eg, fibp->dmac, fibp->smac,
			   reason);
}

/* A packet with no next-hop cache to use or fill. */
static __always_inline int forward(CTX *ctx, struct pkt *p,
				   enum maglb_reason *reason,
				   struct bpf_fib_lookup *fibp)
{
	return forward_cached(ctx, p, NULL, NULL, 0, reason, fibp);
}

/* The cache toward backend id, emptied if the id now names another
 * backend than the one it was filled for (ids are reused; gen says). */
static __always_inline struct maglb_nh *backend_nh(__u32 id, __u32 gen)
{
	struct maglb_backend_nh *b = bpf_map_lookup_elem(&maglb_backend_nh, &id);

	if (!b)
		return NULL;
	if (b->gen != gen) {
		b->nh.ifindex = 0;
		b->gen = gen;
	}
	return &b->nh;
}

/*
 * A forward entry goes where its backend's new flows go: the same
 * destination after the rewrite, so one bpf_fib_lookup a second per
 * backend can serve all its connections (at a million flows, each one's
 * own cache is stale at almost every visit, and a lookup costs more than
 * the rest of the packet). The cache of e's backend, or NULL: a reply
 * entry (toward a client: no shared cache), or an id that now names
 * another backend. Read only: the full path's backend_nh() empties a
 * cache whose gen moved on.
 */
static __always_inline struct maglb_nh *entry_backend_nh(const struct maglb_ct_entry *e)
{
	struct maglb_backend_nh *b;
	__u32 id = e->backend_id;

	if (e->flags & MAGLB_CT_F_REPLY)
		return NULL;
	b = bpf_map_lookup_elem(&maglb_backend_nh, &id);
	return b && b->gen == e->backend_gen ? &b->nh : NULL;
}

/* A segment we built toward fwd's backend (delayed binding's SYN and first
 * data): through the backend's shared next-hop cache. */
static __always_inline int forward_to_backend(CTX *ctx, struct pkt *p,
					      const struct maglb_ct_entry *fwd,
					      enum maglb_reason *reason,
					      struct bpf_fib_lookup *fibp)
{
	return forward_cached(ctx, p,
			      backend_nh(fwd->backend_id, fwd->backend_gen), NULL,
			      bpf_ktime_get_coarse_ns(), reason, fibp);
}

#endif /* MAGLB_BPF_FORWARD_H */
