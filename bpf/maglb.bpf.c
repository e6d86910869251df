// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglb.bpf.c - the XDP entry point. It reads in stages, cheapest first for
 * established traffic:
 *
 *   parse      parse_packet() (lib/parse.h); fragments and truncated L4
 *              are dropped only if they target a VIP
 *   fast path  a conntrack hit that needs no more (lib/fastpath.h)
 *   classify   conntrack entry or VIP, and which path it takes
 *   L4 path    l4_path(): Maglev and new entries for a new flow, the
 *              cookie step for an entry; then l4_forward(): translate
 *              (spliced entries), NAT, forward (lib/forward.h)
 *   splice     splice_path(): Cookie and Header services, and listeners
 *              with HTTP routes (lib/route.h), go through TCP delayed
 *              binding (lib/splice.h) until their backend connection is
 *              open, then take the L4 path with a translation step
 *
 * The logic lives in the headers under bpf/lib/; this file only sequences
 * it.
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
#include "lib/ct_reply.h"
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
	/* A connection a SYN opens is unconfirmed until the client ACKs
	 * the backend's SYN-ACK (conntrack.h, ct_acks_syn_ack): a spoofed
	 * SYN's entry (and its snat port) goes after synTimeout. */
	rc = ct_create(p, svc, be_id, be, hash, now,
		       nh && nh_fresh(nh, p, now) ? nh : NULL, &sc->l4,
		       (p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN ?
		       MAGLB_CT_F_UNCONFIRMED : 0, 0);
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

/*
 * What a packet is, once the fast path has not taken it. Each class goes
 * one way: NOT_OURS, NO_SCRATCH and CT_SYN_WAIT leave at once, CT_L4 and
 * NEW_L4 take the L4 path, the rest the splice path (CT_STASH may come
 * back from it to the L4 path, as an established flow).
 */
enum xdp_class {
	NOT_OURS,		/* no entry, and not a VIP we serve */
	NO_SCRATCH,		/* the per-CPU map failed us */
	CT_SPLICE_PENDING,	/* a spliced entry, backend side still opening */
	CT_STASH,		/* a spliced entry whose stream we still hold */
	CT_L4,			/* any other entry */
	CT_SYN_WAIT,		/* a client SYN on a PENDING entry */
	NEW_SPLICE_SYN,		/* delayed binding: the client's SYN */
	NEW_SPLICE_FIRST,	/* delayed binding: its handshake ACK or data */
	NEW_L4,			/* an L4 service's first packet of a flow */
};

/* What classify() found, for the path that follows. */
struct xdp_flow {
	struct maglb_ct_entry *ct;	/* in: the conntrack hit, if any */
	struct maglb_service *svc;	/* the NEW_* classes' service */
	struct maglb_scratch *sc;
	__u64 now;
};

/*
 * A bare SYN from the client's side of an entry. On a closed entry (RST,
 * or FIN seen) it is a new connection reusing the 4-tuple: schedule it
 * afresh rather than follow the old backend. The old entries must go now:
 * on a spliced entry the handshake ACK would meet the old offsets, and on
 * a plain one the VIP may be a Cookie one now, whose handshake ACK would
 * find it and follow it.
 *
 * On a live entry it changes nothing (RFC 5961 section 4): anyone who
 * knows the 4-tuple can send it, whatever its sequence number, and
 * tearing the connection down for it was a blind reset. It is passed on
 * as any segment of the connection, translated when spliced, and the
 * backend's stack, which holds the connection's real SND.NXT and RCV.NXT,
 * answers it with the challenge ACK (Linux does RFC 5961); that ACK
 * comes back through the reply entry, translated into the client's
 * numbers. We cannot send it ourselves: a spliced entry keeps offsets,
 * not the current sequence numbers, and a NAT entry does not terminate
 * TCP. A client that really did start again (it lost its old socket)
 * answers the challenge ACK with an RST carrying the acknowledged number,
 * which closes the entry (ct_rst_check), and its SYN retransmit then
 * opens afresh. While the backend side still opens (PENDING) there is no
 * backend connection to answer: the SYN is dropped (drop_splice_wait) and
 * the client's retransmit comes once it is spliced.
 */
enum syn_on_entry {
	SYN_NONE,		/* not a bare SYN from the client */
	SYN_REUSE,		/* closed entry: forget it, a new connection */
	SYN_WAIT,		/* backend side opening: drop */
	SYN_PASS,		/* live: passed on, nothing changes */
};

static __always_inline enum syn_on_entry syn_on_entry(const struct maglb_ct_entry *ct,
						      const struct pkt *p)
{
	if ((ct->flags & MAGLB_CT_F_REPLY) ||
	    (p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) != TCP_F_SYN)
		return SYN_NONE;
	if (ct_closed(ct))
		return SYN_REUSE;
	if (ct->flags & MAGLB_CT_F_PENDING)
		return SYN_WAIT;
	/* A SYN retransmit of a handshake not yet finished is no
	 * challenge: it goes on to the backend as it always did. */
	if (!(ct->flags & MAGLB_CT_F_UNCONFIRMED))
		count_reason(MAGLB_SYN_CHALLENGE_ACK, p->len);
	return SYN_PASS;
}

/*
 * Which way a packet the fast path left goes. f->ct is the conntrack hit
 * (or NULL); on return f holds the scratch, the clock, the entry still in
 * force and, for the NEW_* classes, the service.
 */
static __always_inline enum xdp_class classify(struct pkt *p,
					       struct xdp_flow *f)
{
	struct maglb_ct_entry *ct = f->ct;
	struct maglb_service *svc = NULL;
	struct maglb_scratch *sc;
	__u32 zero = 0;

	/* Traffic that is not ours leaves before the scratch and the clock. */
	if (!ct) {
		svc = vip_lookup(&p->flow);
		if (!svc)
			return NOT_OURS;
	}
	/* Per-CPU working memory: the 512-byte stack is shared with the
	 * splice subprograms, so nothing big lives on ours. */
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc)
		return NO_SCRATCH;
	f->sc = sc;
	/* The coarse clock is enough for once-a-second bookkeeping and costs
	 * far less than bpf_ktime_get_ns (~60 ns here). */
	f->now = bpf_ktime_get_coarse_ns();
	if (ct) {
		switch (syn_on_entry(ct, p)) {
		case SYN_REUSE:
			if (!(ct->flags & MAGLB_CT_F_ONE)) {
				reply_key(&sc->l4.key2, &p->flow, ct);
				ct_delete(&sc->l4.key2, &sc->l4.k4);
			}
			stash_release(&p->flow, &sc->splice.src_key);
			ct_delete(&p->flow, &sc->l4.k4);
			f->ct = ct = NULL;
			break;
		case SYN_WAIT:
			return CT_SYN_WAIT;
		default:
			break;
		}
	}
	if (ct) {
		if (ct->flags & MAGLB_CT_F_PENDING)
			return CT_SPLICE_PENDING;
		if (ct->flags & MAGLB_CT_F_STASH)
			return CT_STASH;
		return CT_L4;
	}
	/* A closed entry dropped above: its flow was not looked up. */
	if (!svc)
		svc = vip_lookup(&p->flow);
	if (!svc)
		return NOT_OURS;
	f->svc = svc;
	/* Delayed binding: the key or the route is in the head. */
	if (key_hashed(svc) || svc->n_matches) {
		if (p->flow.proto != IPPROTO_TCP)
			return NOT_OURS;
		if ((p->tcp_flags & (TCP_F_SYN | TCP_F_ACK | TCP_F_RST)) ==
		    TCP_F_SYN)
			return NEW_SPLICE_SYN;
		return NEW_SPLICE_FIRST;
	}
	return NEW_L4;
}

/*
 * The splice path (lib/splice.h): the handshake is ours, and the backend
 * connection opens once the head names its backend. True with *action
 * the verdict; false for a CT_STASH packet that was no stash step, which
 * the L4 path takes on as an established flow. (A flag, not a negative
 * action: splice_ct's action goes out as it is for every other class.)
 */
static __always_inline bool splice_path(struct xdp_md *ctx, struct pkt *p,
					enum xdp_class cls,
					const struct xdp_flow *f, int *action)
{
	enum maglb_reason reason = MAGLB_PASS_NON_VIP;

	switch (cls) {
	case NEW_SPLICE_SYN:
		*action = splice_syn_in(ctx, f->svc->mtu, &reason);
		break;
	case NEW_SPLICE_FIRST:
		bpf_tail_call(ctx, &maglb_progs, MAGLB_PROG_SPLICE_FIRST);
		/* Only a missing tail-call target gets here. */
		*action = XDP_DROP;
		reason = MAGLB_DROP_SPLICE_UNSUPPORTED;
		break;
	case CT_SPLICE_PENDING:
		*action = splice_ct(ctx, f->ct, &reason);
		break;
	default:	/* CT_STASH */
		/* Spliced: never UNCONFIRMED, no handshake step (NULL). */
		if (!ct_touch(ctx, f->ct, p, f->now, NULL)) {
			*action = XDP_DROP;
			reason = MAGLB_DROP_RST_OUT_OF_WINDOW;
			break;
		}
		*action = splice_ct(ctx, f->ct, &reason);
		if (*action >= 0)
			break;
		/* The helper calls in there made our pointers stale. */
		if (parse_packet(ctx, p) == PARSE_OK)
			return false;
		*action = XDP_PASS;
		reason = MAGLB_PASS_MALFORMED_L3;
		break;
	}
	*action = verdict(ctx, reason, *action, p->len);
	return true;
}

/*
 * An established spliced reply whose first response segment is to carry
 * a Set-Cookie line (lib/cookie.h): it must grow, and TC does it. Returns
 * the verdict, or -1 to forward the packet here.
 */
static __always_inline int cookie_step(struct xdp_md *ctx, struct pkt *p,
				       struct maglb_ct_entry *ct,
				       struct maglb_scratch *sc)
{
	if (!cookie_due(ctx, p, ct))
		return -1;
	if (cookie_commit(ctx, p, ct, &sc->l4, &sc->cookie))
		return verdict(ctx, MAGLB_PASS_TO_TC, XDP_PASS, p->len);
	if (parse_packet(ctx, p) != PARSE_OK)
		return verdict(ctx, MAGLB_PASS_MALFORMED_L3, XDP_PASS, p->len);
	return -1;
}

/* What l4_forward() forwards for: a new flow (its entry is being made),
 * an entry's packet, or the reply of a connection with one entry, whose
 * view is never spliced (lib/ct_reply.h): a constant at each call, so
 * the splice steps are not even compiled into maglb_reply_one, where the
 * verifier could not tell they never run. */
enum fwd_for {
	FWD_NEW,
	FWD_ENTRY,
	FWD_REPLY_ONE,
};

/*
 * Where every forwarded packet meets: the MSS check of a spliced entry,
 * counters, translation (spliced entries), NAT, and forwarding through
 * the next-hop cache: nh, the new flow's (FWD_NEW) or the entry's own.
 */
static __always_inline int l4_forward(struct xdp_md *ctx, struct pkt *p,
				      struct maglb_ct_entry *ct,
				      struct maglb_scratch *sc,
				      struct maglb_nh *nh, __u64 now,
				      enum fwd_for why)
{
	enum maglb_reason reason = MAGLB_PASS_NON_VIP;
	bool new_conn = why == FWD_NEW, spliced = why != FWD_REPLY_ONE;
	__u32 l4_off;
	int action;

	/* A spliced client segment bigger than the backend's MSS allows
	 * (ct->l3_max: 0 on every other entry, so one compare here). */
	sc->l4.key2 = p->flow;	/* as it arrived: an ICMP quotes it (too_big_in) */
	if (spliced && pkt_l3_len(p) > ct->l3_max && ct->l3_max) {
		action = too_big_in(ctx, ct, &sc->l4.key2, ct->l3_max, &reason);
		return verdict(ctx, reason, action, p->len);
	}

	count_entry(ct, p->len, new_conn);

	sc->seg.opts.len = 0;
	if (spliced && (ct->flags & MAGLB_CT_F_SPLICE) &&
	    splice_translate(ctx, p, ct, 0, &sc->seg.opts))
		return verdict(ctx, MAGLB_DROP_SPLICE_UNSUPPORTED, XDP_DROP, p->len);
	if (!nat_rewrite(p, ct))
		return verdict(ctx, MAGLB_PASS_FIB_OTHER, XDP_PASS, p->len);
	l4_off = p->l4_off;
	/* An entry's own cache, backed by its backend's (a new flow's nh is
	 * the backend's already). */
	action = forward_cached(ctx, p, nh, new_conn ? NULL : entry_backend_nh(ct),
				now, &reason, &sc->l4.fib);
	/* ct_touch and forward_cached have just brought it up to date. */
	if (!new_conn && (reason == MAGLB_TX || reason == MAGLB_REDIRECT ||
			  reason == MAGLB_PASS_KERNEL_TC ||
			  reason == MAGLB_PASS_KERNEL_STACK))
		fast_confirm(ct);
	/* Last: it invalidates every packet pointer. */
	if (spliced)
		splice_store_opts(ctx, l4_off, &sc->seg.opts);
	/* Bigger than the egress device takes: tell the sender (with DF;
	 * IPv6 always), as the kernel would if the VIP were its own. Here,
	 * where every path meets. The flow as it arrived is in sc->l4.key2:
	 * keeping p->flow alive this long costs the verifier a fifth more
	 * states (the stack slots stay live across the egress paths). */
	if (reason == MAGLB_PASS_FIB_FRAG)
		action = too_big_in(ctx, ct, &sc->l4.key2,
				    sc->l4.fib.mtu_result | TOO_BIG_FIB, &reason);
	return verdict(ctx, reason, action, p->len);
}

/*
 * The L4 path: an L4 service's new flow gets a backend and its entries;
 * an entry's packet (CT_L4, or CT_STASH back from the splice path) takes
 * the cookie step first. Both then go through l4_forward().
 */
static __always_inline int l4_path(struct xdp_md *ctx, struct pkt *p,
				   enum xdp_class cls, const struct xdp_flow *f)
{
	struct maglb_ct_entry *ct = f->ct;
	struct maglb_nh *nh = NULL;
	int rc;

	if (cls == NEW_L4) {
		rc = l4_new_flow(p, f->svc, f->sc, f->now, &nh);
		if (rc >= 0)
			return verdict(ctx, rc, XDP_DROP, p->len);
		return l4_forward(ctx, p, &f->sc->l4.fwd, f->sc, nh, f->now,
				  FWD_NEW);
	}
	if (cls == CT_L4 && !ct_touch(ctx, ct, p, f->now, &f->sc->l4))
		return verdict(ctx, MAGLB_DROP_RST_OUT_OF_WINDOW, XDP_DROP,
			       p->len);
	rc = cookie_step(ctx, p, ct, f->sc);
	if (rc >= 0)
		return rc;
	return l4_forward(ctx, p, ct, f->sc, &ct->nh, f->now, FWD_ENTRY);
}

/* The packet is the reply of a connection with one entry
 * (lib/ct_reply.h). */
static __always_inline bool reply_of_one(const struct pkt *p)
{
	struct maglb_ct_entry *fwd;
	struct maglb_scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	return sc && ct_reply_find(p, &sc->l4, &fwd);
}

/* Parse, fast path, classify, then the L4 path or the splice path. */
SEC("xdp")
int maglb_xdp(struct xdp_md *ctx)
{
	struct xdp_flow f = {};
	struct maglb_flow4 k4;
	enum xdp_class cls;
	struct pkt p = {};
	int rc;

	rc = parse_packet(ctx, &p);
	if (rc == PARSE_FRAG || rc == PARSE_TRUNC_L4)
		return verdict_unparsed(&p, rc);
	if (rc != PARSE_OK)
		return verdict(ctx, rc, XDP_PASS, p.len);

	/* A reply of a connection with one entry: a program of its own,
	 * since its view would be a third kind of entry pointer for the
	 * verifier to walk every path below with. */
	if (revnat_port(p.flow.sport) && reply_of_one(&p)) {
		bpf_tail_call(ctx, &maglb_progs, MAGLB_PROG_REPLY_ONE);
		return verdict(ctx, MAGLB_DROP_NO_PROG, XDP_DROP, p.len);
	}
	f.ct = ct_lookup(&p.flow, &k4);
	if (f.ct && fast_ok(f.ct, &p))
		return fast_forward(ctx, &p, f.ct);

	cls = classify(&p, &f);
	switch (cls) {
	case NOT_OURS:
		return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS, p.len);
	case NO_SCRATCH:
		return XDP_ABORTED;
	case CT_SYN_WAIT:
		return verdict(ctx, MAGLB_DROP_SPLICE_WAIT, XDP_DROP, p.len);
	case CT_L4:
	case NEW_L4:
		break;
	default:
		if (splice_path(ctx, &p, cls, &f, &rc))
			return rc;
		break;
	}
	return l4_path(ctx, &p, cls, &f);
}

/*
 * The reply of a connection with one entry (lib/ct_reply.h), tail-called
 * from maglb_xdp once it found one: the fast path, else what the L4 path
 * does for a reply entry's packet (a reply is never a client SYN, pending
 * or spliced, so no class but CT_L4), on a view of the reply; then what
 * it changed goes back into the entry. Looked up again: a tail call
 * carries no pointers.
 */
SEC("xdp")
int maglb_reply_one(struct xdp_md *ctx)
{
	struct maglb_ct_entry *fwd = NULL, *v;
	struct maglb_scratch *sc;
	struct pkt p = {};
	__u32 zero = 0;
	__u64 now;
	int rc;

	if (parse_packet(ctx, &p) != PARSE_OK)
		return verdict(ctx, MAGLB_PASS_MALFORMED_L3, XDP_PASS, p.len);
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc)
		return XDP_ABORTED;
	v = ct_reply_find(&p, &sc->l4, &fwd);
	if (!v || !fwd)	/* swept since maglb_xdp looked */
		return verdict(ctx, MAGLB_PASS_NON_VIP, XDP_PASS, p.len);
	if (fast_ok(v, &p)) {
		rc = fast_forward(ctx, &p, v);
	} else {
		now = bpf_ktime_get_coarse_ns();
		if (ct_touch(ctx, v, &p, now, &sc->l4))
			rc = l4_forward(ctx, &p, v, sc, &v->nh, now,
					FWD_REPLY_ONE);
		else
			rc = verdict(ctx, MAGLB_DROP_RST_OUT_OF_WINDOW, XDP_DROP,
				     p.len);
	}
	ct_reply_store(fwd, v);
	return rc;
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
