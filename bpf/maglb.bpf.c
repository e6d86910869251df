// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglb.bpf.c - the XDP entry point. Order of decisions, cheapest first for
 * established traffic: parse -> conntrack (both directions) -> VIP ->
 * Maglev -> create conntrack -> rewrite -> forward, with established flows
 * leaving right after the conntrack hit (lib/fastpath.h). Cookie and Header
 * services, and listeners with HTTP routes (lib/route.h), go through TCP
 * delayed binding (lib/splice.h) until their backend connection is open,
 * then take the same path with a translation step. The logic lives in the headers under bpf/lib/; this file only
 * sequences it.
 */
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
#include "lib/maglev.h"
#include "lib/conntrack.h"
#include "lib/nat.h"
#include "lib/forward.h"
#include "lib/fastpath.h"
#include "lib/splice.h"
#include "lib/handoff.h"
#include "lib/icmp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Fragments and truncated L4 are ours to drop only if they target a VIP. */
static __always_inline int verdict_unparsed(struct pkt *p, int rc)
{
	struct maglb_vip_key k = {};
	bool vip;

	k.addr = p->flow.daddr;
	k.family = p->flow.family;
	vip = bpf_map_lookup_elem(&maglb_vip_addrs, &k) != NULL;
	if (rc == PARSE_FRAG) {
		count_reason(vip ? MAGLB_DROP_FRAGMENT : MAGLB_PASS_FRAGMENT,
			     p->len);
	} else {
		count_reason(vip ? MAGLB_DROP_TRUNCATED_L4 :
				   MAGLB_PASS_MALFORMED_L4, p->len);
	}
	return vip ? XDP_DROP : XDP_PASS;
}

/* The service a flow's destination is, or NULL. */
static __always_inline struct maglb_service *vip_lookup(const struct maglb_flow *f)
{
	struct maglb_vip_key k = {};

	k.addr = f->daddr;
	k.port = f->dport;
	k.proto = f->proto;
	k.family = f->family;
	return bpf_map_lookup_elem(&maglb_vips, &k);
}

/* An L4 service's first packet of a flow: hash, pick, track. Returns -1
 * with sc->l4.fwd filled and *nhp the next-hop cache toward the backend, or a
 * drop reason. */
static __always_inline int l4_new_flow(struct pkt *p,
				       const struct maglb_service *svc,
				       struct maglb_scratch *sc, __u64 now,
				       struct maglb_nh **nhp)
{
	struct maglb_backend *be;
	struct maglb_nh *nh;
	__u32 be_id;
	__u64 hash;
	int rc;

	hash = maglb_flow_hash(&p->flow, svc->hash_type);
	be = maglev_backend(svc->id, hash, &be_id);
	if (!be)
		return MAGLB_DROP_NO_BACKEND;
	nh = backend_nh(be_id, be->gen);
	*nhp = nh;
	rc = ct_create(p, svc, be_id, be, hash, now,
		       nh && nh_fresh(nh, p, now) ? nh : NULL, &sc->l4.fwd, 0,
		       &sc->l4.rev, 0, &sc->l4.key1, &sc->l4.k4);
	return rc ? rc : -1;
}

/* Every exit but the fast path's: count the reason; a packet passed up
 * for TC gets the mark TC looks for (lib/handoff.h). */
static __always_inline int verdict(struct xdp_md *ctx, enum maglb_reason why,
				   int action, __u32 len)
{
	count_reason(why, len);
	if (why == MAGLB_PASS_TO_TC && action == XDP_PASS)
		handoff_mark(ctx);
	return action;
}

/*
 * The packet in hand, of conntrack entry ct, as an ICMP too-big for its
 * sender (lib/icmp.h). orig: the flow as it arrived (p.flow before any
 * rewrite); ct says what translation added to its sequence number. mtu:
 * the next hop's, with TOO_BIG_FIB when bpf_fib_lookup said so (the packet
 * is rewritten then, and an IPv4 one without DF goes on to the kernel,
 * which fragments it: XDP_PASS, pass_fib_frag). A spliced IPv4 segment
 * without DF cannot be answered so: dropped, drop_too_big. A global
 * function: verified once, not once per path through maglb_xdp to its
 * two callers, and packet pointers cannot cross into it, so it parses
 * again.
 */
#define TOO_BIG_FIB	(1U << 16)

__noinline int too_big_in(struct xdp_md *ctx, const struct maglb_ct_entry *ct,
			  const struct maglb_flow *orig, __u32 mtu,
			  __u32 *reason)
{
	enum maglb_reason why = MAGLB_DROP_TOO_BIG;
	struct maglb_scratch *sc;
	struct pkt p = {};
	__u32 zero = 0;
	int action;

	if (!ctx || !ct || !orig || !reason)
		return XDP_DROP;
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc || parse_packet(ctx, &p) != PARSE_OK) {
		*reason = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return XDP_DROP;
	}
	if (!icmp_df(&p)) {
		*reason = (mtu & TOO_BIG_FIB) ? MAGLB_PASS_FIB_FRAG :
						MAGLB_DROP_TOO_BIG;
		return (mtu & TOO_BIG_FIB) ? XDP_PASS : XDP_DROP;
	}
	action = icmp_too_big(ctx, &p, orig,
			      (ct->flags & MAGLB_CT_F_SPLICE) ? ct->seq_add : 0,
			      mtu & 0xffff, &sc->icmp.frame, &why);
	*reason = why;
	return action;
}

SEC("xdp")
int maglb_xdp(struct xdp_md *ctx)
{
	struct maglb_ct_entry *ct;
	enum maglb_reason reason = MAGLB_PASS_NON_VIP;
	struct maglb_service *svc = NULL;
	struct maglb_scratch *sc = NULL;
	struct maglb_nh *nh = NULL;
	struct maglb_flow4 k4;
	struct pkt p = {};
	bool new_conn = false;
	__u32 l4_off, zero = 0;
	__u64 now;
	int rc, action;

	rc = parse_packet(ctx, &p);
	if (rc == PARSE_FRAG || rc == PARSE_TRUNC_L4)
		return verdict_unparsed(&p, rc);
	if (rc != PARSE_OK)
		return verdict(ctx, rc, XDP_PASS, p.len);

	ct = ct_lookup(&p.flow, &k4);
	if (ct && fast_ok(ct, &p))
		return fast_forward(ctx, &p, ct);
	/* Traffic that is not ours leaves before the scratch and the clock. */
	if (!ct) {
		svc = vip_lookup(&p.flow);
		if (!svc)
			return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS, p.len);
	}

	/* Per-CPU working memory: the 512-byte stack is shared with the
	 * splice subprograms, so nothing big lives on ours. */
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc)
		return XDP_ABORTED;
	/* The coarse clock is enough for once-a-second bookkeeping and costs
	 * far less than bpf_ktime_get_ns (~60 ns here). */
	now = bpf_ktime_get_coarse_ns();
	/* A bare SYN on a closed entry is a new connection reusing the
	 * 4-tuple: schedule it afresh rather than follow the old backend,
	 * and forget the old entries.
	 * On a spliced entry it always is (we answer SYN retransmits with
	 * cookies, we never forward a client SYN), and the old entries must
	 * go now, or the handshake ACK would meet the old offsets. */
	if (ct && !(ct->flags & MAGLB_CT_F_REPLY) &&
	    (p.tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN &&
	    ((ct->flags & (MAGLB_CT_F_SPLICE | MAGLB_CT_F_PENDING)) ||
	     ct_closed(ct))) {
		/* A closed plain entry goes too: the VIP may be a Cookie one
		 * now, whose handshake ACK would find it and follow it. */
		reply_key(&sc->l4.key2, &p.flow, ct);
		ct_delete(&sc->l4.key2, &sc->l4.k4);
		bpf_map_delete_elem(&maglb_splice, &p.flow);
		ct_delete(&p.flow, &sc->l4.k4);
		ct = NULL;
	}
	if (ct) {
		if (ct->flags & MAGLB_CT_F_PENDING) {
			action = splice_ct(ctx, ct, &reason);
			return verdict(ctx, reason, action, p.len);
		}
		ct_touch(ct, p.tcp_flags, now);
		if (ct->flags & MAGLB_CT_F_STASH) {
			action = splice_ct(ctx, ct, &reason);
			if (action >= 0)
				return verdict(ctx, reason, action, p.len);
			/* The helper calls in there made our pointers stale. */
			if (parse_packet(ctx, &p) != PARSE_OK)
				return verdict(ctx, MAGLB_PASS_MALFORMED_L3, XDP_PASS,
					       p.len);
		}
		/* A response that gets a Set-Cookie must grow: TC does it. */
		if (cookie_due(ctx, &p, ct)) {
			if (cookie_commit(ctx, &p, ct, &sc->l4, &sc->cookie))
				return verdict(ctx, MAGLB_PASS_TO_TC, XDP_PASS, p.len);
			if (parse_packet(ctx, &p) != PARSE_OK)
				return verdict(ctx, MAGLB_PASS_MALFORMED_L3, XDP_PASS,
					       p.len);
		}
	} else {
		/* A closed entry dropped above: its flow was not looked up. */
		if (!svc)
			svc = vip_lookup(&p.flow);
		if (!svc)
			return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS, p.len);
		/* Delayed binding: the key or the route is in the head. */
		if (key_hashed(svc) || svc->n_matches) {
			if (p.flow.proto != IPPROTO_TCP)
				return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS,
					       p.len);
			if ((p.tcp_flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) ==
			    TCP_F_SYN) {
				action = splice_syn_in(ctx, svc->mtu, &reason);
				return verdict(ctx, reason, action, p.len);
			}
			bpf_tail_call(ctx, &maglb_progs, MAGLB_PROG_SPLICE_FIRST);
			/* Only a missing tail-call target gets here. */
			return verdict(ctx, MAGLB_DROP_SPLICE_UNSUPPORTED, XDP_DROP,
				       p.len);
		}
		rc = l4_new_flow(&p, svc, sc, now, &nh);
		if (rc >= 0)
			return verdict(ctx, rc, XDP_DROP, p.len);
		ct = &sc->l4.fwd;
		new_conn = true;
	}

	/* A spliced client segment bigger than the backend's MSS allows
	 * (ct->l3_max: 0 on every other entry, so one compare here). */
	sc->l4.key2 = p.flow;	/* as it arrived: an ICMP quotes it (too_big_in) */
	if (pkt_l3_len(&p) > ct->l3_max && ct->l3_max) {
		action = too_big_in(ctx, ct, &sc->l4.key2, ct->l3_max, &reason);
		return verdict(ctx, reason, action, p.len);
	}

	count_entry(ct, p.len, new_conn);

	sc->seg.opts.len = 0;
	if ((ct->flags & MAGLB_CT_F_SPLICE) &&
	    splice_translate(ctx, &p, ct, 0, &sc->seg.opts))
		return verdict(ctx, MAGLB_DROP_SPLICE_UNSUPPORTED, XDP_DROP, p.len);
	if (!nat_rewrite(&p, ct))
		return verdict(ctx, MAGLB_PASS_FIB_OTHER, XDP_PASS, p.len);
	l4_off = p.l4_off;
	action = forward_cached(ctx, &p, new_conn ? nh : &ct->nh, now, &reason,
				&sc->l4.fib);
	/* ct_touch and forward_cached have just brought it up to date. */
	if (!new_conn && (reason == MAGLB_TX || reason == MAGLB_REDIRECT ||
			  reason == MAGLB_PASS_KERNEL_TC ||
			  reason == MAGLB_PASS_KERNEL_STACK))
		fast_confirm(ct);
	/* Last: it invalidates every packet pointer. */
	splice_store_opts(ctx, l4_off, &sc->seg.opts);
	/* Bigger than the egress device takes: tell the sender (with DF;
	 * IPv6 always), as the kernel would if the VIP were its own. Here,
	 * where every path meets. The flow as it arrived is in sc->l4.key2:
	 * keeping p.flow alive this long costs the verifier a fifth more
	 * states (the stack slots stay live across the egress paths). */
	if (reason == MAGLB_PASS_FIB_FRAG)
		action = too_big_in(ctx, ct, &sc->l4.key2,
				    sc->l4.fib.mtu_result | TOO_BIG_FIB, &reason);
	return verdict(ctx, reason, action, p.len);
}

/*
 * A Cookie/Header client's segment with no connection: the handshake ACK or
 * the first data. Tail-called from maglb_xdp so it gets a stack of its own
 * (parsing, hashing and the backend SYN need most of 512 bytes).
 */
SEC("xdp")
int maglb_splice_first(struct xdp_md *ctx)
{
	enum maglb_reason reason = MAGLB_DROP_NO_STATE;
	struct maglb_service *svc;
	struct pkt p = {};
	int action;

	if (parse_packet(ctx, &p) != PARSE_OK || !pkt_tcp(ctx, &p))
		return verdict(ctx, MAGLB_DROP_NO_STATE, XDP_DROP, p.len);
	svc = vip_lookup(&p.flow);
	if (!svc)
		return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS, p.len);
	action = splice_first(ctx, &p, svc, bpf_ktime_get_ns(), &reason);
	return verdict(ctx, reason, action, p.len);
}
