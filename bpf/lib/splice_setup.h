/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice_setup.h - from our SYN to the backend until it holds everything
 * the client sent first: its SYN-ACK (grown in TC into the first held
 * segment), its ACKs (the next ones), retransmits on both sides, a backend
 * in TIME_WAIT (TC), and the entry point for PENDING and STASH entries.
 * Part of splice.h.
 */
#ifndef MAGLB_BPF_SPLICE_SETUP_H
#define MAGLB_BPF_SPLICE_SETUP_H

#include "scratch.h"
#include "splice_syn.h"
#include "stash.h"

#ifdef MAGLB_TC
/* The backend's challenge ACK becomes an RST to it (a clone, sent back
 * out the device it came in on), then our SYN again. */
static __always_inline int splice_tw_reset(CTX *ctx, struct pkt *p,
					   const struct maglb_splice *sp,
					   const struct maglb_ct_entry *fwd,
					   struct maglb_scratch *sc,
					   enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct seg *s = &sc->seg.seg;
	__u32 ack = bpf_ntohl(th->ack_seq);

	seg_answer(s, &p->flow);
	s->seq = ack;
	s->flags = TCP_F_RST;
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->seg.tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	swap_macs(p);
	if (bpf_clone_redirect(ctx, ctx->ifindex, 0)) {	/* in ingress: that device */
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	count_reason(MAGLB_SPLICE_TW_RESET, p->len);
	return splice_send_syn(ctx, p, sp, fwd, sc, why);
}
#endif

static __always_inline int splice_pending_do(CTX *ctx, struct pkt *p,
					     struct maglb_ct_entry *ct, __u64 now,
					     enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct maglb_flow *client, *reply;
	struct maglb_ct_entry *fwd, *rev;
	struct maglb_scratch *sc;
	struct maglb_splice *sp;
	struct tcp_opts *o;
	__u32 isn_b, delta, ts_delta = 0, zero = 0;
	__u8 wb = 0, wp = 0, ts;

	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	o = &sc->seg.opts;
	client = &sc->l4.key1;
	reply = &sc->l4.key2;

	if (ct->flags & MAGLB_CT_F_REPLY) {
		*reply = p->flow;
		reply_key(client, &p->flow, ct);	/* same formula back */
		rev = ct;
		fwd = ct_lookup(client, &sc->l4.k4);
	} else {
		*client = p->flow;
		fwd = ct;
		reply_key(reply, &p->flow, ct);
		rev = ct_lookup(reply, &sc->l4.k4);
	}
	sp = bpf_map_lookup_elem(&maglb_splice, client);
	/* The client gives up: its RST goes on to the backend, which holds
	 * our SYN (and may have answered it), so that neither side is left
	 * half-open. Client -> backend sequence numbers are the same. */
	if (!(ct->flags & MAGLB_CT_F_REPLY) && (p->tcp_flags & TCP_F_RST)) {
		struct seg *s = &sc->seg.seg;

		if (!fwd || !rev) {
			splice_forget(client, reply, sc);
			*why = MAGLB_DROP_NO_STATE;
			return ACT_DROP;
		}
		seg_to_backend(s, fwd);
		s->seq = bpf_ntohl(th->seq);
		s->flags = TCP_F_RST;
		if (seg_write(ctx, p, s, NULL, 0, 0, &sc->seg.tbuf)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		count_reason(MAGLB_SPLICE_RST_BACKEND, p->len);
		splice_forget(client, reply, sc);
		return forward_to_backend(ctx, p, fwd, why, &sc->l4.fib);
	}
	if (!sp || !fwd || !rev) {
		/* A setup whose stash is gone (the LRU evicted it under a
		 * flood of handshakes). The client is told at once (its ACK
		 * is our cookie + 1), and the rest forgotten. */
		*why = MAGLB_SPLICE_STASH_LOST;
		if (!(ct->flags & MAGLB_CT_F_REPLY)) {
			splice_forget(client, reply, sc);
			return splice_rst_client(ctx, p, client,
						 bpf_ntohl(th->ack_seq) - 1, true,
						 sc, why);
		}
		/* The backend's answer: it holds our SYN and would be left
		 * half-open, so it gets an RST (its ACK is the client's ISN
		 * + 1). One packet makes one packet: the entries stay, and
		 * the client's next segment gets its RST as above. Never an
		 * RST for an RST. */
		if ((p->tcp_flags & (TCP_F_RST | TCP_F_ACK)) == TCP_F_ACK) {
			struct seg *s = &sc->seg.seg;

			seg_answer(s, &p->flow);
			s->seq = bpf_ntohl(th->ack_seq);
			s->flags = TCP_F_RST;
			count_reason(MAGLB_SPLICE_RST_BACKEND, p->len);
			return send_back(ctx, p, sc);
		}
		return ACT_DROP;
	}

	if (!(ct->flags & MAGLB_CT_F_REPLY)) {
		__u32 hlen = th->doff * 4, plen, off;
		int n;

		if (now - sp->created_ns > splice_timeout_ns) {
			__u32 isn_cookie = sp->isn_cookie;

			splice_forget(client, reply, sc);
			return splice_rst_client(ctx, p, client, isn_cookie,
						 true, sc, why);
		}
		plen = p->l3_off + pkt_l3_len(p) - p->l4_off - hlen;
		if (plen && plen <= 0xffff) {
			off = bpf_ntohl(th->seq) - sp->isn_client - 1;
			/* A retransmit of what we hold: our clock to re-send
			 * the SYN. */
			if (off < sp->have)
				return splice_send_syn(ctx, p, sp, fwd, sc, why);
			/* More of the stream: held, not acknowledged. In TC:
			 * XDP's frame for splice_ct has no room for it. */
			if (off != sp->have || off >= MAGLB_HEAD_MAX)
				goto wait;
#ifndef MAGLB_TC
			*why = MAGLB_PASS_TO_TC;
			return ACT_PASS;
#endif
			if (tcpopt_load(ctx, p->l4_off, hlen, o)) {
				*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
				return ACT_DROP;
			}
			n = stash_take(ctx, p, sp, sc, off, hlen, plen, why);
			if (n < 0)
				return ACT_DROP;
			if (n) {
				*why = MAGLB_SPLICE_HEAD_HELD;
				return ACT_DROP;
			}
		}
wait:
		*why = MAGLB_DROP_SPLICE_WAIT;
		return ACT_DROP;
	}

	if (p->tcp_flags & TCP_F_RST) {
		__u32 isn_cookie = sp->isn_cookie;

		splice_forget(client, reply, sc);
		return splice_rst_client(ctx, p, client, isn_cookie, false, sc,
					 why);
	}
	/* A bare ACK to our SYN: the backend still holds the 4-tuple in
	 * TIME_WAIT from an earlier connection and rejected the SYN (PAWS,
	 * RFC 7323 5.5; the challenge ACK of RFC 5961 4). Do what the
	 * client's own stack would, at once: reset that old socket, SYN again. */
	if ((p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_ACK) {
#ifndef MAGLB_TC
		*why = MAGLB_PASS_TO_TC;	/* two packets out: TC's clone */
		return ACT_PASS;
#else
		return splice_tw_reset(ctx, p, sp, fwd, sc, why);
#endif
	}
	if ((p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) != (TCP_F_SYN | TCP_F_ACK) ||
	    bpf_ntohl(th->ack_seq) != sp->isn_client + 1 ||
	    tcpopt_load(ctx, p->l4_off, th->doff * 4, o)) {
		*why = MAGLB_DROP_SPLICE_WAIT;
		return ACT_DROP;
	}
#ifndef MAGLB_TC
	/* The backend's SYN-ACK must grow to carry the request, and XDP
	 * can only grow into tailroom that veth sizes to the packet: the
	 * TC program (maglb_tc.bpf.c) does this one step. */
	*why = MAGLB_PASS_TO_TC;
	return ACT_PASS;
#endif
	isn_b = bpf_ntohl(th->seq);
	delta = isn_b - sp->isn_cookie;
	ts = sp->ts_ok && o->ts_ok;
	if (ts)
		ts_delta = sp->tsval_ours - o->tsval;
	if (sp->wscale != WSCALE_NONE) {
		wp = MAGLB_SPLICE_WSCALE;
		wb = o->wscale == WSCALE_NONE ? 0 : o->wscale;
	}
	fwd->ack_add = delta;
	fwd->sack_add = delta;
	/* The backend may take less than we promised the client (its own
	 * device's MTU, behind a host route that says 1500): client
	 * segments bigger than this get an ICMP too-big (maglb.bpf.c). */
	fwd->l3_max = mss_l3_max(o->mss, p->flow.family);
	fwd->tsecr_add = -ts_delta;
	fwd->flags = (fwd->flags & ~MAGLB_CT_F_PENDING) | MAGLB_CT_F_SPLICE |
		     MAGLB_CT_F_STASH | MAGLB_CT_F_SEQ;
	/* Each side's SND.NXT as it arrives, which judges its RST
	 * (conntrack.h): the client has sent what we hold, the backend
	 * its SYN. */
	fwd->seq_next = sp->isn_client + 1 + sp->have;
	rev->seq_next = isn_b + 1;
	rev->seq_add = -delta;
	rev->tsval_add = ts_delta;
	rev->win_shift = (__s8)wb - (__s8)wp;
	rev->flags = (rev->flags & ~MAGLB_CT_F_PENDING) | MAGLB_CT_F_SPLICE |
		     MAGLB_CT_F_STASH | MAGLB_CT_F_SEQ;
	rev->cookie_seq = isn_b + 1;	/* the response starts here */
	/* What we hold goes over in segments the backend takes (stash.h). */
	sp->chunk = stash_chunk(o->mss, ts);
	sp->acked = 0;
	sp->state = MAGLB_STASH_REPLAYING;
	count_reason(MAGLB_SPLICE_ACK, p->len);
	return stash_send(ctx, p, sp, fwd, 0, isn_b + 1, ts, o->tsval, sc, why);
}

/*
 * A packet of a connection whose stash is still kept (STASH: the stream
 * held is going over to the backend, stash.h). From the backend: a
 * repeated SYN-ACK (our first segment was lost) gets it again; an ACK of
 * part of it gets the next segment; an ACK of all of it frees the stash
 * and goes on to the client. From the client: a segment of what we hold
 * means the backend still lacks some, so the next one goes again.
 * Returns an action, or -1 to continue with normal translation.
 */
static __always_inline int splice_stash_do(CTX *ctx, struct pkt *p,
					   struct maglb_ct_entry *ct,
					   enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct maglb_ct_entry *fwd;
	struct maglb_scratch *sc;
	struct maglb_splice *sp;
	struct maglb_flow *client;
	__u32 zero = 0, plen, ack_off, from, ack_b;
	bool reply = ct->flags & MAGLB_CT_F_REPLY;
	enum maglb_reason step;

	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc)
		return -1;
	client = &sc->l4.key1;
	if (reply)
		reply_key(client, &p->flow, ct);	/* the same formula runs back */
	else
		*client = p->flow;
	sp = bpf_map_lookup_elem(&maglb_splice, client);
	if (!sp) {
		ct->flags &= ~MAGLB_CT_F_STASH;
		return -1;
	}
	if (p->tcp_flags & (TCP_F_RST | TCP_F_FIN))
		return -1;
	plen = p->l3_off + pkt_l3_len(p) - p->l4_off - th->doff * 4;
	if (!reply) {
		if (!plen || bpf_ntohl(th->seq) - sp->isn_client - 1 >= sp->have)
			return -1;
#ifndef MAGLB_TC
		*why = MAGLB_PASS_TO_TC;	/* it may have to grow */
		return ACT_PASS;
#else
		if (tcpopt_load(ctx, p->l4_off, th->doff * 4, &sc->seg.opts)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		count_reason(MAGLB_SPLICE_CHUNK, p->len);
		/* The backend's numbers, as splice_translate would make them */
		return stash_send(ctx, p, sp, ct, sp->acked,
				  bpf_ntohl(th->ack_seq) + ct->ack_add,
				  sp->ts_ok && sc->seg.opts.ts_ok,
				  sc->seg.opts.tsecr + ct->tsecr_add, sc, why);
#endif
	}
	if ((p->tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == (TCP_F_SYN | TCP_F_ACK)) {
		/* our first segment was lost: from what it acknowledged */
		from = sp->acked;
		ack_b = bpf_ntohl(th->seq) + 1;
		step = MAGLB_SPLICE_ACK;
	} else {
		if (!(p->tcp_flags & TCP_F_ACK))
			return -1;
		ack_off = bpf_ntohl(th->ack_seq) - sp->isn_client - 1;
		if ((__s32)(ack_off - sp->have) >= 0) {
			stash_release(client, &sc->splice.src_key);
			ct->flags &= ~MAGLB_CT_F_STASH;
			fwd = ct_lookup(client, &sc->l4.k4);
			if (fwd)
				fwd->flags &= ~MAGLB_CT_F_STASH;
			return -1;
		}
		if ((__s32)(ack_off - sp->acked) <= 0) {
			if (plen)
				return -1;	/* its data goes on to the client */
			/* A duplicate ACK: neither side has a use for it. */
			*why = MAGLB_DROP_SPLICE_WAIT;
			return ACT_DROP;
		}
		if (plen) {
			/* Response data already: it goes on, and the client's
			 * retransmit sends what the backend still lacks. */
			sp->acked = ack_off;
			return -1;
		}
		from = ack_off;
		ack_b = bpf_ntohl(th->seq);
		step = MAGLB_SPLICE_CHUNK;
	}
#ifndef MAGLB_TC
	(void)from, (void)ack_b, (void)step;	/* TC's to use */
	*why = MAGLB_PASS_TO_TC;	/* the next segment grows from this one */
	return ACT_PASS;
#else
	fwd = ct_lookup(client, &sc->l4.k4);
	if (!fwd || tcpopt_load(ctx, p->l4_off, th->doff * 4, &sc->seg.opts)) {
		*why = MAGLB_DROP_NO_STATE;
		return ACT_DROP;
	}
	sp->acked = from;
	count_reason(step, p->len);
	return stash_send(ctx, p, sp, fwd, from, ack_b,
			  sp->ts_ok && sc->seg.opts.ts_ok, sc->seg.opts.tsval, sc, why);
#endif
}

#ifndef MAGLB_TC
/* A packet of a connection whose backend side is still opening (PENDING)
 * or whose stash is still kept (STASH); ct is the conntrack entry it
 * matched, a map value. For STASH, -1 means carry on as usual. */
__noinline int splice_ct(CTX *ctx, struct maglb_ct_entry *ct, __u32 *reason)
{
	enum maglb_reason why = MAGLB_DROP_NO_STATE;
	struct pkt p = {};
	int action;

	if (!ctx || !ct || !reason || parse_packet(ctx, &p) != PARSE_OK ||
	    !pkt_tcp(ctx, &p))
		return ACT_DROP;
	if (ct->flags & MAGLB_CT_F_PENDING)
		action = splice_pending_do(ctx, &p, ct, bpf_ktime_get_ns(), &why);
	else
		action = splice_stash_do(ctx, &p, ct, &why);
	*reason = why;
	return action;
}
#endif

#endif /* MAGLB_BPF_SPLICE_SETUP_H */
