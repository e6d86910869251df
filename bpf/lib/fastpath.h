/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fastpath.h - the established-flow fast path. Most packets of a connection
 * are a conntrack hit on a plain NAT entry whose next hop is known: they
 * need the rewrite, the MACs and the counters, and nothing else. The full
 * path (maglb.bpf.c) also reads the clock, takes per-CPU scratch memory and
 * checks for splicing, cookies, SYN reuse and close flags; here all of that
 * is replaced by one test on the entry.
 *
 * The entry's fast_jiffies says when it was last confirmed: the next hop
 * fresh (forward.h, NH_CACHE_NS) and last_seen_ns refreshed. For
 * FAST_JIFFIES after that, packets come here on one jiffies compare:
 * bpf_jiffies64 is a plain load once the verifier inlines it, where a
 * nanosecond clock is a helper call. 64 jiffies is 64 ms at HZ=1000 and
 * 640 ms at HZ=100, so a flow's last_seen_ns lags by at most that beyond
 * CT_TOUCH_NS, and a changed next hop reaches it as late.
 * Past FAST_JIFFIES the fast path confirms the entry itself (fast_renew):
 * one coarse clock read, and while the next hop is fresh the entry's
 * clock moves on and the packet stays here. A slow flow (a packet every
 * second, say) used to take the whole full path for each packet; now only
 * a flow idle past NH_CACHE_NS whose backend has no fresh next hop
 * either (forward.h, nh_take) goes there, for its bpf_fib_lookup.
 */
#ifndef MAGLB_BPF_FASTPATH_H
#define MAGLB_BPF_FASTPATH_H

#include "maps.h"
#include "parse.h"
#include "nat.h"
#include "forward.h"
#include "stats.h"
#include "conntrack.h"

#define FAST_JIFFIES	64

/* Entry flags the fast path can carry: direction, snat, one entry (the
 * reply's view is as plain as an entry of its own, ct_reply.h), the close
 * flags (already recorded; the packet that set them went the full way),
 * and what the handshake recorded (SEQ, SYN_ACK). Not UNCONFIRMED: the
 * client's ACKs go the full way until one acknowledges the backend's
 * SYN-ACK and clears it (conntrack.h, ct_touch). */
#define FAST_FLAGS	(MAGLB_CT_F_REPLY | MAGLB_CT_F_SNAT | MAGLB_CT_F_ONE | \
			 MAGLB_CT_F_FIN | MAGLB_CT_F_RST | MAGLB_CT_F_SEQ | \
			 MAGLB_CT_F_SYN_ACK)

/* A plain NAT entry: nothing but the rewrite to do for its packets. */
static __always_inline bool fast_entry(const struct maglb_ct_entry *e)
{
	return !(e->flags & ~FAST_FLAGS);
}

/* What the full path would do for this entry's packet (ct_touch,
 * forward_cached, fast_confirm) when its next hop is still fresh: move
 * last_seen_ns on and confirm it again. False: the full path's job. */
static __always_inline bool fast_renew(struct maglb_ct_entry *e,
				       __u32 l3_len)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (!nh_fresh_for(&e->nh, l3_len, now) &&
	    !nh_take(&e->nh, entry_backend_nh(e), l3_len, now))
		return false;
	if (now - e->last_seen_ns > CT_TOUCH_NS)
		e->last_seen_ns = now;
	e->fast_jiffies = bpf_jiffies64();
	return true;
}

static __always_inline bool fast_ok(struct maglb_ct_entry *e,
				    const struct pkt *p)
{
	__u32 l3_len;

	/* SYN (4-tuple reuse), FIN and RST change the entry: full path. */
	if (p->tcp_flags & (TCP_F_SYN | TCP_F_FIN | TCP_F_RST))
		return false;
	l3_len = pkt_l3_len(p);
	if (!fast_entry(e) || l3_len > e->nh.len_ok)
		return false;
	return bpf_jiffies64() - e->fast_jiffies < FAST_JIFFIES ||
	       fast_renew(e, l3_len);
}

/* The full path calls this once the entry is confirmed (see above); a new
 * flow's entry is born confirmed when its backend's next hop is fresh.
 * Spliced and cookie entries never take the fast path: no store for them,
 * which would dirty the shared entry on every one of their packets. */
static __always_inline void fast_confirm(struct maglb_ct_entry *e)
{
	if (fast_entry(e))
		e->fast_jiffies = bpf_jiffies64();
}

static __always_inline int fast_forward(CTX *ctx, struct pkt *p,
					struct maglb_ct_entry *e)
{
	struct tcphdr *th = pkt_tcp(ctx, p);
	enum maglb_reason reason;
	int action;

	/* The one store here, and only when data moved it: the sender's
	 * SND.NXT, which decides its RST (conntrack.h). The entry is this
	 * direction's, which one CPU mostly serves. */
	if (th)
		ct_seq_advance(e, p, th);

	/* false only for TTL <= 1, before any write: let the kernel answer */
	if (!nat_rewrite(p, e)) {
		count_reason(MAGLB_PASS_FIB_OTHER, p->len);
		return XDP_PASS;
	}
	count_entry(e, p->len, false);
	action = nh_send(ctx, p, &e->nh, &reason);
	count_reason(reason, p->len);
	return action;
}

#endif /* MAGLB_BPF_FASTPATH_H */
