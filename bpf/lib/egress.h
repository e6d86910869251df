/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * egress.h - how a rewritten packet leaves, decided per egress device.
 *
 * An XDP frame (XDP_TX or a redirect) is only as good as the device that
 * must take it: a veth takes one only while its peer runs NAPI (an XDP
 * program or GRO there), many drivers only with an XDP program of their
 * own, a bridge or a tunnel never, and the kernel drops a refused frame
 * after our verdict, where the program cannot see it. The node's other
 * devices are not ours to change, so XDP frames go only where maglb_egress
 * (filled by the agent from netlink, user/datapath/egress.c) says they are taken.
 *
 * Every other packet takes the kernel path: XDP_PASS with the MACs as they
 * arrived and XDP metadata naming the egress device (MAGLB_HANDOFF_FWD);
 * TC ingress (maglb_tc.bpf.c) sends the skb on with bpf_redirect_peer (a
 * veth whose peer is a pod: straight into the pod's ingress, no backlog)
 * or bpf_redirect_neigh (anything else: the kernel resolves the MACs). A
 * driver that refuses metadata gets the stack path: the same XDP_PASS
 * without the mark, and the kernel routes the rewritten packet (the TTL is
 * then taken twice, and a source that is a local address, as snat's is,
 * is refused as martian: such a driver needs accept_local for snat).
 *
 * The MACs are the difference: the kernel path leaves them as they came
 * (the destination is our device, so the skb is PACKET_HOST), because a
 * next hop's MAC there would make the skb PACKET_OTHERHOST, which the
 * stack drops and bpf_redirect_peer carries into the pod as it is.
 */
#ifndef MAGLB_BPF_EGRESS_H
#define MAGLB_BPF_EGRESS_H

#include "maps.h"
#include "ctx.h"
#include "parse.h"
#include "handoff.h"

/* A first packet's counter starts from this (a map value: no stack). */
static const struct maglb_reason_counters egress_zero;

static __always_inline void count_egress(__u32 ifindex, __u32 path, __u32 len)
{
	struct maglb_egress_key k = { .ifindex = ifindex, .path = path };
	struct maglb_reason_counters *c;

	c = bpf_map_lookup_elem(&maglb_egress_stats, &k);
	if (!c) {
		bpf_map_update_elem(&maglb_egress_stats, &k, &egress_zero,
				    BPF_NOEXIST);
		c = bpf_map_lookup_elem(&maglb_egress_stats, &k);
		if (!c)
			return;
	}
	c->packets++;
	c->bytes += len;
}

/* maglb_egress flags of a device; 0 (the kernel path) for one not known. */
static __always_inline __u8 egress_flags(__u32 ifindex)
{
	struct maglb_egress *e = bpf_map_lookup_elem(&maglb_egress, &ifindex);

	return e ? e->flags : 0;
}

static __always_inline void swap_macs(struct pkt *p)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p->eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline void write_macs(struct pkt *p, const __u8 *dmac,
				       const __u8 *smac)
{
	__builtin_memcpy(p->eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, smac, ETH_ALEN);
}

#ifdef MAGLB_TC
/* TC hands the skb to the device itself: every device takes an skb. */
static __always_inline int egress_send(CTX *ctx, struct pkt *p, __u32 ifindex,
				       __u8 flags, const __u8 *dmac,
				       const __u8 *smac,
				       enum maglb_reason *reason)
{
	write_macs(p, dmac, smac);
	*reason = ifindex == ctx_ifindex(ctx) ? MAGLB_TX : MAGLB_REDIRECT;
	count_egress(ifindex, MAGLB_PATH_TC, p->len);
	return bpf_redirect(ifindex, 0);
}

static __always_inline int egress_back(CTX *ctx, struct pkt *p)
{
	swap_macs(p);
	count_egress(ctx_ifindex(ctx), MAGLB_PATH_TC, p->len);
	return bpf_redirect(ctx_ifindex(ctx), 0);
}
#else
/* The kernel path (see above). Invalidates packet pointers. */
static __always_inline int egress_kernel(CTX *ctx, __u32 ifindex, __u32 len,
					 enum maglb_reason *reason)
{
	struct maglb_handoff *h = handoff_state();

	if (!(h && h->no_meta) &&
	    !handoff_put(ctx, MAGLB_HANDOFF_FWD, ifindex)) {
		*reason = MAGLB_PASS_KERNEL_TC;
		count_egress(ifindex, MAGLB_PATH_TC, len);
	} else {
		*reason = MAGLB_PASS_KERNEL_STACK;
		count_egress(ifindex, MAGLB_PATH_STACK, len);
	}
	return XDP_PASS;
}

/*
 * Out of ifindex toward the next hop dmac, from smac. flags: maglb_egress
 * flags of ifindex (a next-hop cache keeps them). Back out of the ingress
 * device is XDP_TX, anywhere else a devmap redirect, each where the device
 * takes it; the kernel path otherwise, or when the devmap lacks the device
 * (bpf_redirect_map only records the target, so the MACs can wait for its
 * answer).
 */
static __always_inline int egress_send(CTX *ctx, struct pkt *p, __u32 ifindex,
				       __u8 flags, const __u8 *dmac,
				       const __u8 *smac,
				       enum maglb_reason *reason)
{
	if (ifindex == ctx_ifindex(ctx)) {
		if (flags & MAGLB_EG_F_TX) {
			write_macs(p, dmac, smac);
			*reason = MAGLB_TX;
			count_egress(ifindex, MAGLB_PATH_TX, p->len);
			return XDP_TX;
		}
	} else if ((flags & MAGLB_EG_F_REDIRECT) &&
		   bpf_redirect_map(&maglb_tx_ports, ifindex, 0) == XDP_REDIRECT) {
		write_macs(p, dmac, smac);
		*reason = MAGLB_REDIRECT;
		count_egress(ifindex, MAGLB_PATH_REDIRECT, p->len);
		return XDP_REDIRECT;
	}
	return egress_kernel(ctx, ifindex, p->len, reason);
}

/* An answer of ours back to the sender (a syncookie SYN-ACK, a 404, a
 * reset), its headers written: out of the device it came in on. */
static __always_inline int egress_back(CTX *ctx, struct pkt *p)
{
	__u32 ifindex = ctx_ifindex(ctx);
	enum maglb_reason unused;

	if (egress_flags(ifindex) & MAGLB_EG_F_TX) {
		swap_macs(p);
		count_egress(ifindex, MAGLB_PATH_TX, p->len);
		return XDP_TX;
	}
	return egress_kernel(ctx, ifindex, p->len, &unused);
}
#endif

#endif /* MAGLB_BPF_EGRESS_H */
