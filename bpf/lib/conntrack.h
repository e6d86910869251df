/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - connection affinity. A new flow gets its entries in the
 * conntrack (maglb_ct4 or maglb_ct6, by family): the forward one keyed by
 * the client's flow and, for snat and spliced connections, the reply one
 * keyed by the flow the backend sends back. A plain NAT connection has the
 * forward entry only (MAGLB_CT_F_ONE): its reply comes from the backend's
 * address and port, which maglb_revnat maps back to the VIP, and its state
 * is the forward entry's rev (ct_reply.h). Established connections are served from here and never look at
 * the Maglev ring again, so they keep their backend whatever the table
 * becomes. The maps are plain hashes sized by the operator
 * (conntrack.maxEntries): a full table refuses a new flow, counted as
 * drop_ct_full, and never evicts a live connection for it. A connection
 * has all its entries or none: ct_create removes the first when the second
 * does not fit. The agent sweeps idle and closed entries, and under
 * pressure the unconfirmed ones first (user/datapath/sweep.c).
 */
#ifndef MAGLB_BPF_CONNTRACK_H
#define MAGLB_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"
#include "maglb_hash.h"
#include "revnat.h"

#define CT_TOUCH_NS		1000000000ULL	/* refresh last_seen at most 1/s */
/* Probes of one new snat flow: a range up to this many ports is searched
 * whole, so a port is found while any is free; a wider one fails only
 * when nearly full (at 99% taken, 0.99^256: 1 SYN in 13). Bounded, since
 * every probe of a full range is a failed map update. */
#define SNAT_PORT_TRIES		256
/* bpf_map_update_elem() on a hash map with no free element: the kernel's
 * -E2BIG (uapi errno 7; BPF programs have no errno.h). */
#define CT_ERR_FULL		(-7)

/* The snat port search (ct_create, snat_probe): the next port to try, as
 * an offset from min, and the step, co-prime to the range. */
struct snat_search {
	__u32 cur;
	__u32 stride;
	__u32 range;
	__u16 min;
	__u16 found;
};

/* The L4 path's part of the per-CPU scratch (scratch.h): a new flow's two
 * entries, the flow keys being built, and the next-hop lookup (forward.h). */
struct l4_scratch {
	struct maglb_ct_entry fwd;	/* a new flow's two entries */
	struct maglb_ct_entry rev;
	struct maglb_flow key1;		/* flow keys being built */
	struct maglb_flow key2;
	struct maglb_flow4 k4;		/* an IPv4 conntrack key (below) */
	struct maglb_revnat_key rn;	/* a maglb_revnat key (revnat.h) */
	struct maglb_ct_entry view;	/* a one-entry reply (ct_reply.h) */
	struct bpf_fib_lookup fib;
	struct snat_search snat;
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

/*
 * RST and sequence tracking (RFC 5961 section 3). Each direction's entry
 * keeps seq_next: the sequence number after the last byte that direction
 * sent (its SND.NXT), from the segments as they arrive, before any
 * translation. A NAT entry sees no windows it could trust (no window
 * scale is parsed outside the splice), so what decides is where an RST
 * falls against what its sender has sent:
 *   - exactly seq_next: the sender's own reset (a stack resets with
 *     SND.NXT): the entry is closed (RST flag, closedTimeout);
 *   - after seq_next: no sender of this connection sent that far: dropped,
 *     drop_rst_out_of_window;
 *   - before it, by less than the largest TCP window (RFC 7323: 2^30):
 *     it may be in the receiver's window (a reset with SEG.ACK, answering
 *     a segment the sender's stack no longer knows): passed on untouched,
 *     the endpoint's own RFC 5961 check resets or sends a challenge ACK;
 *   - further before: no receiver's window reaches it: dropped.
 * An RST on a SEQ-less entry (no segment but a SYN seen that way yet: the
 * backend refusing the SYN) is not judged: it closes, as before. SYNs are
 * not tracked (a stranger's SYN on a live entry changes nothing), but for
 * the backend's first SYN-ACK of a connection still unconfirmed, which
 * sets seq_next (ct_syn_ack_record, below); otherwise the first other
 * segment sets it. A segment moves it on only when it
 * starts at most CT_SEQ_SLACK past it, so a blind segment far ahead
 * cannot (within the slack a lucky one can: the entry then lingers until
 * tcpTimeout after the real reset; it is never torn down).
 * A FIN is recorded only when its segment reaches past seq_next and
 * starts at most CT_SEQ_SLACK past it: a blind FIN then a SYN would
 * otherwise tear the connection down. The fast path keeps seq_next too
 * (fastpath.h): a lagging seq_next would drop the sender's real reset as
 * "after".
 */
#define CT_RST_WINDOW		(1U << 30)
#define CT_SEQ_SLACK		(1U << 20)

enum ct_rst {
	CT_RST_CLOSE,		/* exact, or nothing seen to judge it by */
	CT_RST_PASS,		/* maybe in the receiver's window */
	CT_RST_DROP,		/* no receiver can accept it */
};

static __always_inline enum ct_rst ct_rst_judge(const struct maglb_ct_entry *e,
						__u32 seq)
{
	__u32 behind = e->seq_next - seq;

	if (!(e->flags & MAGLB_CT_F_SEQ) || !behind)
		return CT_RST_CLOSE;
	if ((__s32)behind < 0 || behind >= CT_RST_WINDOW)
		return CT_RST_DROP;
	return CT_RST_PASS;
}

/* Bytes of TCP payload, plus one each for SYN and FIN: how far the
 * segment moves its sender's SND.NXT. */
static __always_inline __u32 tcp_seq_len(const struct pkt *p,
					 const struct tcphdr *th)
{
	return p->l3_off + pkt_l3_len(p) - p->l4_off - th->doff * 4 +
	       !!(p->tcp_flags & TCP_F_SYN) + !!(p->tcp_flags & TCP_F_FIN);
}

/* The segment [seq, end) reaches past seq_next and starts at most
 * CT_SEQ_SLACK past it: where its sender has got to (a retransmit that
 * also carries new bytes starts behind). */
static __always_inline bool ct_seq_moves(const struct maglb_ct_entry *e,
					 __u32 seq, __u32 end)
{
	__u32 ahead = seq - e->seq_next;

	return (__s32)(end - e->seq_next) > 0 &&
	       ((__s32)ahead <= 0 || ahead <= CT_SEQ_SLACK);
}

/* A FIN to record: in order, or nothing seen to judge it by. */
static __always_inline bool ct_fin_in_order(const struct maglb_ct_entry *e,
					    const struct pkt *p,
					    const struct tcphdr *th)
{
	__u32 seq = bpf_ntohl(th->seq);

	return !(e->flags & MAGLB_CT_F_SEQ) ||
	       ct_seq_moves(e, seq, seq + tcp_seq_len(p, th));
}

/* seq_next after this (non-RST) segment; writes only when it moves. */
static __always_inline void ct_seq_advance(struct maglb_ct_entry *e,
					   const struct pkt *p,
					   const struct tcphdr *th)
{
	__u32 seq = bpf_ntohl(th->seq), end = seq + tcp_seq_len(p, th);

	if (!(e->flags & MAGLB_CT_F_SEQ)) {
		e->seq_next = end;
		e->flags |= MAGLB_CT_F_SEQ;
		return;
	}
	if (ct_seq_moves(e, seq, end))
		e->seq_next = end;
}

/* The key of an entry's partner: the reply entry's from a forward one,
 * and, the same formula run back, the forward entry's from a reply one
 * (its nat_* fields are the client's flow as it arrived). */
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
 * Confirming a connection a SYN made (UNCONFIRMED, l4_new_flow). A blind
 * spoofer who sends a SYN from someone else's address can send the ACK
 * after it as well: any bare ACK used to confirm, and its entry then held
 * its slot (and snat port) for tcpTimeout and was never evicted first.
 * What it cannot send is an ACK of the backend's SYN-ACK, which went to
 * the address it spoofed. So the reply entry records that SYN-ACK
 * (ct_syn_ack_record) and only a client ACK in [ISN + 1, seq_next] of
 * the backend confirms (ct_acks_syn_ack): the handshake's last ACK, or a
 * later one once the backend has sent data. An ACK before any SYN-ACK
 * was seen confirms nothing; a later one can. Both steps look up the
 * partner entry, so they run only while the forward entry is unconfirmed
 * (a SYN-ACK on a reply entry is one lookup per connection): established
 * flows pay one flag test. l4 is per-CPU scratch for the partner's key;
 * NULL on the spliced path, whose entries have their own handshake and
 * are never UNCONFIRMED.
 */

/* A SYN-ACK on reply entry e: the backend answering the SYN of a
 * connection still unconfirmed, for the first time. Anything else
 * changes nothing: on a confirmed connection (or one picked up mid-stream)
 * a stranger's SYN-ACK would move seq_next where the backend's segments
 * and its real RST no longer reach (SYNs are not tracked, above). The
 * first one wins: the backend's retransmits carry the same ISN. seq_next
 * starts at its end even when a segment set it before: nothing the
 * backend sends precedes its SYN-ACK, so that was a stranger's. Returns
 * the flags to add. */
static __always_inline __u32 ct_syn_ack_record(struct maglb_ct_entry *e,
					       const struct pkt *p,
					       const struct tcphdr *th,
					       struct l4_scratch *l4)
{
	const struct maglb_ct_entry *fwd;
	__u32 seq;

	if ((e->flags & (MAGLB_CT_F_REPLY | MAGLB_CT_F_SYN_ACK)) !=
	    MAGLB_CT_F_REPLY)
		return 0;
	reply_key(&l4->key2, &p->flow, e);
	fwd = ct_lookup(&l4->key2, &l4->k4);
	if (!fwd || !(fwd->flags & MAGLB_CT_F_UNCONFIRMED))
		return 0;
	seq = bpf_ntohl(th->seq);
	e->syn_ack_next = seq + 1;
	e->seq_next = seq + tcp_seq_len(p, th);
	return MAGLB_CT_F_SYN_ACK | MAGLB_CT_F_SEQ;
}

/* A bare ACK on unconfirmed forward entry e: true when it acknowledges
 * the backend's SYN-ACK, and no further than the backend has sent
 * (serial-number compares, RFC 1982: the numbers wrap). */
static __always_inline bool ct_acks_syn_ack(const struct maglb_ct_entry *e,
					    const struct pkt *p,
					    const struct tcphdr *th,
					    struct l4_scratch *l4)
{
	const struct maglb_ct_entry *rev;
	__u32 ack = bpf_ntohl(th->ack_seq), flags, isn1, next;

	if (e->flags & MAGLB_CT_F_ONE) {	/* the reply is e's own */
		flags = e->rev.flags;
		isn1 = e->rev.syn_ack_next;
		next = e->rev.seq_next;
	} else {
		reply_key(&l4->key2, &p->flow, e);
		rev = ct_lookup(&l4->key2, &l4->k4);
		if (!rev)
			return false;
		flags = rev->flags;
		isn1 = rev->syn_ack_next;
		next = rev->seq_next;
	}
	return (flags & MAGLB_CT_F_SYN_ACK) && (__s32)(ack - isn1) >= 0 &&
	       (__s32)(next - ack) >= 0;
}

/*
 * Per-packet bookkeeping of the full path; writes only when something
 * changed, to keep the shared entry's cache line clean. The client's ACK
 * of the backend's SYN-ACK confirms a forward entry a SYN made (above):
 * it leaves synTimeout for tcpTimeout (user/datapath/sweep.c), and the
 * fast path may take it. l4: scratch for that, NULL where no entry is
 * unconfirmed (above).
 * Returns false for a packet to drop: an RST out of the window (above).
 */
static __always_inline bool ct_touch(CTX *ctx, struct maglb_ct_entry *e,
				     const struct pkt *p, __u64 now,
				     struct l4_scratch *l4)
{
	struct tcphdr *th = pkt_tcp(ctx, p);
	__u8 tcp_flags = p->tcp_flags;
	__u32 flags, set = 0, clear = 0;

	if (th && (tcp_flags & TCP_F_RST)) {
		enum ct_rst r = ct_rst_judge(e, bpf_ntohl(th->seq));

		if (r == CT_RST_DROP)
			return false;
		if (r == CT_RST_PASS)
			tcp_flags &= ~TCP_F_RST;
	} else if (th && !(tcp_flags & TCP_F_SYN)) {
		/* A FIN closes this direction (and lets a SYN reuse the
		 * 4-tuple: syn_on_entry) only where its sender has got to. */
		if ((tcp_flags & TCP_F_FIN) && !ct_fin_in_order(e, p, th))
			tcp_flags &= ~TCP_F_FIN;
		ct_seq_advance(e, p, th);
		if (l4 && (e->flags & MAGLB_CT_F_UNCONFIRMED) &&
		    (tcp_flags & TCP_F_ACK) && ct_acks_syn_ack(e, p, th, l4))
			clear = MAGLB_CT_F_UNCONFIRMED;
	} else if (th && l4 && (tcp_flags & TCP_F_ACK)) {
		/* a SYN-ACK */
		set = ct_syn_ack_record(e, p, th, l4);
	}
	flags = (e->flags | set) & ~clear;
	if (tcp_flags & TCP_F_RST)
		flags |= MAGLB_CT_F_RST;
	if (tcp_flags & TCP_F_FIN)
		flags |= MAGLB_CT_F_FIN;
	if (flags != e->flags)
		e->flags = flags;
	if (now - e->last_seen_ns > CT_TOUCH_NS)
		e->last_seen_ns = now;
	return true;
}

/* Primes above 65535: each is co-prime to every range size (1..65535),
 * and so is its remainder by it, which makes it a stride that visits the
 * whole range before it repeats. Several, so that two flows whose search
 * starts near each other do not walk the same ports. */
static const __u32 snat_primes[16] = {
	65537, 65539, 65543, 65551, 65557, 65563, 65579, 65581,
	65587, 65599, 65609, 65617, 65629, 65633, 65647, 65651,
};

struct snat_walk {
	struct l4_scratch *l4;
};

/* One probe of the snat port search: claim the reply key for port
 * min + cur (BPF_NOEXIST makes the claim race-free across CPUs), or step
 * on. A bpf_loop callback: verified once, where an unrolled loop of 16
 * probes cost the verifier each probe's states again (and 6.1 rejects
 * the back-edge clang gives a plain loop). */
static __noinline long snat_probe(__u32 i, void *data)
{
	struct snat_walk *w = data;
	struct l4_scratch *l4 = w->l4;
	struct snat_search *s = &l4->snat;

	l4->fwd.nat_sport = bpf_htons((__u16)(s->min + s->cur));
	l4->key1.dport = l4->fwd.nat_sport;	/* as reply_key() */
	long err = ct_update(&l4->key1, &l4->rev, BPF_NOEXIST, &l4->k4);

	if (!err || err == CT_ERR_FULL) {
		/* Full: no other port can fit either; stop probing. */
		s->found = err ? 2 : 1;
		return 1;
	}
	s->cur += s->stride;
	if (s->cur >= s->range)
		s->cur -= s->range;
	return 0;
}

/*
 * Create both entries for flow p->flow to backend be of service svc, in
 * l4 (l4->fwd, l4->rev; l4->key1 is left the reply key). For snat, pick
 * a free source port on the node address; the search starts and steps
 * from the hash of the whole 5-tuple: the service's hash is one value per
 * client under SourceIP (or per cookie), and a search from it gave one
 * client the same few ports for all its connections.
 * nh, if not NULL, is a fresh next hop toward the backend: the forward
 * entry starts with it, confirmed for the fast path. Returns 0 or a drop
 * reason.
 */
static __always_inline int ct_create(const struct pkt *p,
				     const struct maglb_service *svc,
				     __u32 be_id, const struct maglb_backend *be,
				     __u64 hash, __u64 now,
				     const struct maglb_nh *nh,
				     struct l4_scratch *l4, __u32 fwd_flags,
				     __u32 rev_flags)
{
	struct maglb_ct_entry *fwd = &l4->fwd, *revp = &l4->rev;

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
		struct snat_search *s = &l4->snat;
		struct snat_walk w = { .l4 = l4 };
		__u64 seed;

		fwd->flags = MAGLB_CT_F_SNAT | fwd_flags;
		revp->flags |= MAGLB_CT_F_SNAT;
		fwd->nat_saddr = svc->snat_addr;
		if (range == 0 || range > 65535)
			return MAGLB_DROP_SNAT_EXHAUSTED;
		seed = svc->hash_type == MAGLB_HASH_TUPLE ? hash :
		       maglb_flow_hash(&p->flow, MAGLB_HASH_TUPLE);
		s->cur = seed % range;
		s->stride = snat_primes[(seed >> 32) & 15] % range;
		s->range = range;
		s->min = svc->snat_port_min;
		s->found = 0;
		reply_key(&l4->key1, &p->flow, fwd);
		bpf_loop(range < SNAT_PORT_TRIES ? range : SNAT_PORT_TRIES,
			 snat_probe, &w, 0);
		if (s->found == 2)
			return MAGLB_DROP_CT_FULL;
		if (!s->found)
			return MAGLB_DROP_SNAT_EXHAUSTED;
	} else {
		fwd->flags = fwd_flags;
		fwd->nat_saddr = p->flow.saddr;
		fwd->nat_sport = p->flow.sport;
		reply_key(&l4->key1, &p->flow, fwd);
		/* One entry where the reply can find it (ct_reply.h): not
		 * spliced, and the VIP listed for the backend. The reply's
		 * flags start in rev, as they would in its own entry. */
		if (!(fwd_flags & MAGLB_CT_F_SPLICE) &&
		    revnat_serves(&l4->rn, &be->addr, be->port, &p->flow)) {
			fwd->flags |= MAGLB_CT_F_ONE;
			fwd->rev.flags = rev_flags;
		} else if (ct_update(&l4->key1, revp, BPF_ANY, &l4->k4)) {
			return MAGLB_DROP_CT_FULL;
		}
	}
	/* All or nothing: a reply entry without its forward one would hold
	 * its slot (and snat port) with nothing to find it by but the sweep. */
	if (ct_update(&p->flow, fwd, BPF_ANY, &l4->k4)) {
		if (!(fwd->flags & MAGLB_CT_F_ONE))
			ct_delete(&l4->key1, &l4->k4);
		return MAGLB_DROP_CT_FULL;
	}
	return 0;
}

#endif /* MAGLB_BPF_CONNTRACK_H */
