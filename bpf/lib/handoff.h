/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * handoff.h - which packets TC looks at. XDP passes some packets up on
 * purpose and marks each with 8 bytes of XDP metadata (struct maglb_meta),
 * which the kernel hands to TC as skb->data_meta: MAGLB_HANDOFF_MARK for
 * frames that must grow (reason pass_to_tc, see maglb_tc.bpf.c), and
 * MAGLB_HANDOFF_FWD for rewritten packets whose egress device takes no XDP
 * frames (egress.h). TC acts on marked packets only, so the node's own
 * TCP traffic, which XDP also passes, costs TC no conntrack lookup.
 *
 * A driver without XDP metadata support refuses bpf_xdp_adjust_meta. XDP
 * then sets maglb_handoff.no_meta, for good, and TC falls back to looking
 * at every TCP packet: slower, never wrong. veth keeps metadata (tested);
 * generic XDP and the common native drivers support it too (untested).
 */
#ifndef MAGLB_BPF_HANDOFF_H
#define MAGLB_BPF_HANDOFF_H

#include "maps.h"
#include "ctx.h"

static __always_inline struct maglb_handoff *handoff_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&maglb_handoff, &zero);
}

#ifdef MAGLB_TC
/* The mark XDP left on this packet, or 0. */
static __always_inline __u32 handoff_get(struct __sk_buff *skb, __u32 *ifindex)
{
	struct maglb_meta *m = (void *)(long)skb->data_meta;

	if ((void *)(m + 1) > (void *)(long)skb->data)
		return 0;
	*ifindex = m->ifindex;
	return m->mark;
}

/* Whether TC has work to look for in this packet, given its mark. */
static __always_inline bool handoff_wanted(__u32 mark)
{
	struct maglb_handoff *h;

	if (mark == MAGLB_HANDOFF_MARK)
		return true;
	h = handoff_state();
	return h && h->no_meta;
}
#else
/* Mark a packet XDP passes up for TC; 0, or -1 where the driver keeps no
 * metadata (and from then on, none is tried). Invalidates packet
 * pointers. */
static __always_inline int handoff_put(struct xdp_md *ctx, __u32 mark,
				       __u32 ifindex)
{
	struct maglb_handoff *h;
	struct maglb_meta *m;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m))) {
		h = handoff_state();
		if (h && !h->no_meta)
			h->no_meta = 1;
		return -1;
	}
	m = (void *)(long)ctx->data_meta;
	/* the verifier wants the bound checked, though adjust_meta did */
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return -1;
	m->ifindex = ifindex;
	m->mark = mark;
	return 0;
}

static __always_inline void handoff_mark(struct xdp_md *ctx)
{
	handoff_put(ctx, MAGLB_HANDOFF_MARK, 0);
}
#endif

#endif /* MAGLB_BPF_HANDOFF_H */
