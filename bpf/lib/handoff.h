/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * handoff.h - which packets TC looks at. XDP passes a few packets up on
 * purpose (reason pass_to_tc: frames that must grow, see maglb_tc.bpf.c)
 * and marks each with 4 bytes of XDP metadata, which the kernel hands to
 * TC as skb->data_meta. TC acts on marked packets only, so the node's own
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
/* Whether TC has work to look for in this packet. */
static __always_inline bool handoff_wanted(struct __sk_buff *skb)
{
	__u32 *m = (void *)(long)skb->data_meta;
	struct maglb_handoff *h;

	if ((void *)(m + 1) <= (void *)(long)skb->data && *m == MAGLB_HANDOFF_MARK)
		return true;
	h = handoff_state();
	return h && h->no_meta;
}
#else
/* Mark a packet XDP passes up for TC. Invalidates packet pointers. */
static __always_inline void handoff_mark(struct xdp_md *ctx)
{
	struct maglb_handoff *h;
	__u32 *m;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m))) {
		h = handoff_state();
		if (h && !h->no_meta)
			h->no_meta = 1;
		return;
	}
	m = (void *)(long)ctx->data_meta;
	/* the verifier wants the bound checked, though adjust_meta did */
	if ((void *)(m + 1) <= (void *)(long)ctx->data)
		*m = MAGLB_HANDOFF_MARK;
}
#endif

#endif /* MAGLB_BPF_HANDOFF_H */
