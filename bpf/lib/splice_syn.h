/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice_syn.h - the segments delayed binding answers with: our SYN-ACK
 * with a syncookie (no state), the SYN that opens the backend side, and the
 * RST that ends a failed setup. Part of splice.h.
 */
#ifndef MAGLB_BPF_SPLICE_SYN_H
#define MAGLB_BPF_SPLICE_SYN_H

#include "conntrack.h"
#include "scratch.h"
#include "forward.h"
#include "stash.h"
#include "stats.h"
#include "syncookie.h"
#include "tcpseg.h"

/* How long a client may wait for the backend handshake; set by the loader. */
const volatile __u64 splice_timeout_ns = 5000000000ULL;

static __always_inline __u16 splice_mss(__u8 family)
{
	/* Ethernet MTU less headers; never more than we can stash. */
	return family == MAGLB_AF_INET ? 1460 : 1440;
}

/*
 * The MSS the backend path allows: its MTU (maglb_service.mtu, from the
 * agent: routes and the configured value) less the IP and TCP headers,
 * never more than splice_mss(). The SYN-ACK promises the client the
 * smaller of this and its own MSS; the SYN to the backend says the
 * smaller of this and the client's MSS as the cookie carries it (rounded
 * down to a cookie_mss() value: never more than the client takes). So
 * each segment of the client's head is at most this (<= MAGLB_SEG_MAX),
 * whatever the cookie's MSS bits say: code on the ACK side that bounds a
 * client segment must use this, not cookie_mss().
 */
static __always_inline __u16 splice_path_mss(__u8 family, __u16 mtu)
{
	__u16 hdr = family == MAGLB_AF_INET ? 40 : 60;
	__u16 mss = splice_mss(family);

	/* The agent refuses MTUs below 1280; the test is the verifier's. */
	if (mtu >= 576 && mtu - hdr < mss)
		mss = mtu - hdr;
	return mss;
}

/* The largest IP packet a peer that announced MSS mss takes (RFC 9293
 * 3.7.1: the default without the option is 536 / 1220). */
static __always_inline __u16 mss_l3_max(__u16 mss, __u8 family)
{
	__u32 hdr = family == MAGLB_AF_INET ? 40 : 60;

	if (!mss)
		mss = family == MAGLB_AF_INET ? 536 : 1220;
	return mss + hdr > 0xffff ? 0xffff : mss + hdr;
}

static __always_inline struct tcphdr *tcp_hdr(const struct pkt *p)
{
	return (struct tcphdr *)p->ports;
}


/* Reply to the sender itself: swap MACs and send back out. */
static __always_inline int send_back(CTX *ctx, struct pkt *p,
				     struct maglb_scratch *sc)
{
	if (seg_write(ctx, p, &sc->seg.seg, NULL, 0, 0, &sc->seg.tbuf))
		return ACT_DROP;
	return egress_back(ctx, p);
}

/* SYN to a Cookie/Header VIP: answer with a cookie, keep nothing. */
static __always_inline int splice_syn(CTX *ctx, struct pkt *p,
				      __u16 mtu, struct maglb_scratch *sc,
				      enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct tcp_opts *o = &sc->seg.opts;
	struct seg *s = &sc->seg.seg;
	struct maglb_secret *k;
	__u32 zero = 0, isn, bits, tsval;
	__u16 mss;

	k = bpf_map_lookup_elem(&maglb_secret, &zero);
	if (!k || tcpopt_load(ctx, p->l4_off, th->doff * 4, o)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	isn = bpf_ntohl(th->seq);
	bits = cookie_opt_bits(o->mss ? o->mss : 536, o->wscale, o->sack_ok);
	/* The backend path's MSS, and not more than the client's own:
	 * segments bigger than the path are never forwarded (icmp.h). */
	mss = splice_path_mss(p->flow.family, mtu);
	if (o->mss && o->mss < mss)
		mss = o->mss;
	seg_answer(s, &p->flow);
	/* With timestamps our TSval is 32 more MAC bits, echoed back as
	 * TSecr (maglb_syncookie.h). Later TSvals of ours continue from it:
	 * the backend's are shifted onto it (splice_setup.h). */
	s->seq = cookie_make(&p->flow, isn, bits, o->ts_ok, k,
			     &sc->splice.syncookie, &tsval);
	s->ack = isn + 1;
	s->flags = TCP_F_SYN | TCP_F_ACK;
	/* A window that ends where the stash does (stash.h): the whole
	 * head comes at once, and nothing past what we can hold. */
	s->window = MAGLB_HEAD_MAX;
	seg_syn_opts(s, mss, o->sack_ok, o->ts_ok,
		     tsval, o->tsval,
		     o->wscale == WSCALE_NONE ? WSCALE_NONE : MAGLB_SPLICE_WSCALE);
	*why = MAGLB_SYNCOOKIE_SENT;
	return send_back(ctx, p, sc);
}

/* The first data segment, as a SYN to the backend with the client's ISN. */
static __always_inline int splice_send_syn(CTX *ctx, struct pkt *p,
					   const struct maglb_splice *sp,
					   const struct maglb_ct_entry *fwd,
					   struct maglb_scratch *sc,
					   enum maglb_reason *why)
{
	struct seg *s = &sc->seg.seg;
	__u32 win = sp->window;
	__u16 mss = sp->mss;

	seg_to_backend(s, fwd);
	s->seq = sp->isn_client;
	s->flags = TCP_F_SYN;
	/* Room for a Set-Cookie line in the first response (cookie.h). */
	if (sp->cookie_len && mss > 536 + sp->cookie_len)
		mss -= sp->cookie_len;
	if (sp->wscale != WSCALE_NONE)
		win <<= sp->wscale & 15;
	s->window = win > 0xffff ? 0xffff : win;	/* a SYN's is unscaled */
	seg_syn_opts(s, mss, sp->sack_ok, sp->ts_ok, sp->tsval_client, 0,
		     sp->wscale);
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->seg.tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	count_reason(MAGLB_SPLICE_SYN, p->len);
	return forward_to_backend(ctx, p, fwd, why, &sc->l4.fib);
}

/* Setup failed: tell the client with an RST from the VIP. */
static __always_inline int splice_rst_client(CTX *ctx, struct pkt *p,
					     const struct maglb_flow *client,
					     __u32 isn_cookie, bool from_client,
					     struct maglb_scratch *sc,
					     enum maglb_reason *why)
{
	struct seg *s = &sc->seg.seg;
	int action;

	seg_answer(s, client);
	s->seq = isn_cookie + 1;
	s->flags = TCP_F_RST;
	count_reason(MAGLB_SPLICE_RST, p->len);
	if (from_client)
		return send_back(ctx, p, sc);
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->seg.tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	action = forward(ctx, p, why, &sc->l4.fib);
	return action;
}

static __always_inline void splice_forget(const struct maglb_flow *client,
					  const struct maglb_flow *reply,
					  struct maglb_flow4 *k4)
{
	bpf_map_delete_elem(&maglb_splice, client);
	ct_delete(client, k4);
	ct_delete(reply, k4);
}

#endif /* MAGLB_BPF_SPLICE_SYN_H */
