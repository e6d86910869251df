// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglb_tc.bpf.c - TC ingress, for the steps XDP cannot be trusted with.
 * Sending a rewritten packet to a device that takes no XDP frames: XDP
 * marks it with the device (MAGLB_HANDOFF_FWD, lib/egress.h) and TC
 * redirects the skb. And frames that must grow: a backend's SYN-ACK or
 * ACK, or a client's retransmit, becomes a segment of the stream we hold
 * (lib/stash.h), and a response's first segment takes a Set-Cookie line (lib/cookie.h); an XDP
 * frame only has the tailroom its driver left (veth: about none).
 * maglb_xdp passes exactly these up (reason pass_to_tc) with a mark
 * (lib/handoff.h); everything else is TC_ACT_OK at once. Same logic as
 * XDP, built from the same headers with MAGLB_TC; the maps are the XDP
 * object's, shared by pin or fd.
 */
#define MAGLB_TC
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "maglb.h"
#include "maglb_hash.h"
#include "lib/maps.h"
#include "lib/scratch.h"
#include "lib/parse.h"
#include "lib/stats.h"
#include "lib/nat.h"
#include "lib/conntrack.h"
#include "lib/splice.h"
#include "lib/cookie_insert.h"
#include "lib/handoff.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* XDP rewrote this packet for a device that takes no XDP frames. A veth
 * with its peer in another netns (a pod) gets it in the peer's ingress
 * directly, the MACs as they are: the skb is PACKET_HOST already, and no
 * backlog queue is crossed. Anything else goes out through the
 * neighbour table, which writes the MACs. */
static __always_inline int tc_forward(__u32 ifindex)
{
	struct maglb_egress *e = bpf_map_lookup_elem(&maglb_egress, &ifindex);

	if (e && (e->flags & MAGLB_EG_F_PEER))
		return bpf_redirect_peer(ifindex, 0);
	return bpf_redirect_neigh(ifindex, NULL, 0, 0);
}

SEC("tc")
int maglb_tc(struct __sk_buff *skb)
{
	enum maglb_reason why = MAGLB_DROP_NO_STATE;
	struct maglb_ct_entry *ct;
	struct maglb_flow4 k4;
	struct pkt p = {};
	__u32 mark, ifindex = 0;
	int action;

	mark = handoff_get(skb, &ifindex);
	if (mark == MAGLB_HANDOFF_FWD)
		return tc_forward(ifindex);
	if (!handoff_wanted(mark))
		return TC_ACT_OK;
	/* Else clang reuses handoff_wanted's &skb->data, and the verifier
	 * refuses a load through a moved context pointer. */
	barrier_var(skb);
	if (parse_packet(skb, &p) != PARSE_OK || !pkt_tcp(skb, &p))
		return TC_ACT_OK;
	ct = ct_lookup(&p.flow, &k4);
	if (!ct)
		return TC_ACT_OK;
	if (ct->flags & MAGLB_CT_F_PENDING) {
		action = splice_pending_do(skb, &p, ct, bpf_ktime_get_ns(), &why);
	} else {
		action = -1;
		if (ct->flags & MAGLB_CT_F_STASH)
			action = splice_stash_do(skb, &p, ct, &why);
		/* Not a stash step: a response that XDP committed to carry
		 * a Set-Cookie line, or nothing for us. */
		if (action < 0) {
			if (!(ct->flags & MAGLB_CT_F_REPLY) ||
			    (p.tcp_flags & (TCP_F_SYN | TCP_F_ACK)) ==
			    (TCP_F_SYN | TCP_F_ACK) ||
			    !cookie_due(skb, &p, ct))
				return TC_ACT_OK;
			action = cookie_insert(skb, &p, ct, &why);
		}
	}
	count_reason(why, p.len);
	return action;
}
