/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice.h - TCP delayed binding for Cookie and Header services: the key
 * lives in the first request, which a client only sends after a handshake,
 * so the handshake is ours and the backend connection opens afterwards.
 *
 *  client SYN        -> SYN-ACK with a syncookie; no state (splice_syn)
 *  client ACK        -> cookie checked, absorbed; no state
 *  client 1st data   -> cookie checked, request head parsed, backend picked,
 *                       data stashed in maglb_splice, the segment becomes
 *                       a SYN to the backend with the client's own ISN
 *  backend SYN-ACK   -> becomes the ACK carrying the stashed data; the
 *                       sequence and timestamp offsets go into conntrack
 *  steady state      -> seq/ack, SACK, TSval/TSecr and window translated in
 *                       both directions (splice_translate), then the usual
 *                       NAT and forwarding
 *
 * XDP has no timer that sends, so client retransmits are the clock: a
 * retransmitted first segment re-sends the backend SYN, and one arriving
 * after splice_timeout_ns becomes an RST to the client. A backend RST
 * during setup reaches the client as an RST too. The backend side reuses
 * the client's ISN, so client->backend sequence numbers never change.
 */
#ifndef MAGLB_BPF_SPLICE_H
#define MAGLB_BPF_SPLICE_H

#include "conntrack.h"
#include "forward.h"
#include "http.h"
#include "maglev.h"
#include "nat.h"
#include "stats.h"
#include "syncookie.h"
#include "stash.h"
#include "tcpseg.h"
#include "route.h"
#include "cookie.h"

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


static __always_inline __u32 tsval_now(void)
{
	return bpf_ktime_get_ns() >> 20;	/* ~1 ms ticks */
}

/* Reply to the sender itself: swap MACs and send back out. */
static __always_inline int send_back(CTX *ctx, struct pkt *p,
				     struct maglb_scratch *sc)
{
	if (seg_write(ctx, p, &sc->seg, NULL, 0, 0, &sc->tbuf))
		return ACT_DROP;
	return egress_back(ctx, p);
}

/* SYN to a Cookie/Header VIP: answer with a cookie, keep nothing. */
static __always_inline int splice_syn(CTX *ctx, struct pkt *p,
				      __u16 mtu, struct maglb_scratch *sc,
				      enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct tcp_opts *o = &sc->opts;
	struct seg *s = &sc->seg;
	struct maglb_secret *k;
	__u32 zero = 0, isn, bits;
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
	s->seq = cookie_make(&p->flow, isn, bits, k, &sc->cookie);
	s->ack = isn + 1;
	s->flags = TCP_F_SYN | TCP_F_ACK;
	/* A window that ends where the stash does (stash.h): the whole
	 * head comes at once, and nothing past what we can hold. */
	s->window = MAGLB_HEAD_MAX;
	seg_syn_opts(s, mss, o->sack_ok, o->ts_ok,
		     tsval_now(), o->tsval,
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
	struct seg *s = &sc->seg;
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
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	count_reason(MAGLB_SPLICE_SYN, p->len);
	return forward_to_backend(ctx, p, fwd, why, &sc->fib);
}

/* Setup failed: tell the client with an RST from the VIP. */
static __always_inline int splice_rst_client(CTX *ctx, struct pkt *p,
					     const struct maglb_flow *client,
					     __u32 isn_cookie, bool from_client,
					     struct maglb_scratch *sc,
					     enum maglb_reason *why)
{
	struct seg *s = &sc->seg;
	int action;

	seg_answer(s, client);
	s->seq = isn_cookie + 1;
	s->flags = TCP_F_RST;
	count_reason(MAGLB_SPLICE_RST, p->len);
	if (from_client)
		return send_back(ctx, p, sc);
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	action = forward(ctx, p, why, &sc->fib);
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

struct key_fill {
	struct maglb_scratch *sc;
};

/* Byte i of the key block: the parsed value, unquoted, zero padded. A
 * callback for the same reason as http_loop_cb: inline, 128 steps with a
 * branch each overran the verifier. */
static __noinline long key_fill_step(__u32 i, void *data)
{
	struct maglb_scratch *sc = ((struct key_fill *)data)->sc;
	__u32 n = sc->ps.value_len, off = sc->ps.value_off, j, at;

	/* HTTP_CHUNK bytes per call, as in http_loop_cb. bpf_loop bounds i;
	 * the mask is what the verifier can see (a test would let clang drop
	 * the mask and check another register). */
#pragma unroll
	for (j = 0; j < HTTP_CHUNK; j++) {
		at = i * HTTP_CHUNK + j;
		sc->key.v[buf_idx(at, MAGLB_KEY_MAX)] =
			at < n ? sc->ps.value[buf_idx(at + off, HTTP_KEY_MAX)] : 0;
	}
	return 0;
}

/*
 * The key hash in a frame of its own. Inlined, XXH64 over the 136-byte
 * block takes every register, and clang spills the rest of splice_first
 * around it into the program's frame: 496 bytes instead of 352. 6.1 caps
 * that frame plus each callee's at 512 bytes, every frame rounded up to 32.
 */
static __noinline __u64 key_block_hash(const struct maglb_key_block *b)
{
	return maglb_key_hash(b);
}

static __always_inline bool key_hashed(const struct maglb_service *svc)
{
	return svc->hash_type == MAGLB_HASH_COOKIE ||
	       svc->hash_type == MAGLB_HASH_HEADER;
}

static __always_inline bool key_names_equal(const struct maglb_service *a,
					    const struct maglb_service *b)
{
	const __u64 *x = (const __u64 *)a->key_name, *y = (const __u64 *)b->key_name;
	int i;

#pragma unroll
	for (i = 0; i < MAGLB_KEY_NAME_LEN / 8; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

/* Run the head parser over all the stream held, looking for svc's key
 * (and, always, the Host and path). True when it needed no more. */
static __always_inline bool parse_head(struct maglb_scratch *sc,
				       const struct maglb_service *svc,
				       const struct maglb_splice *sp)
{
	http_init(&sc->ps, svc->hash_type == MAGLB_HASH_COOKIE ?
		  HTTP_MODE_COOKIE : HTTP_MODE_HEADER, svc->key_name,
		  svc->key_len);
	return stash_parse(sc, sp->payload, 0, sp->have);
}

/*
 * No route for this request. Envoy answers 404 and closes; so do we, from
 * the client's own segment: the response, then FIN, with the cookie's
 * sequence numbers. The listener may ask for a reset instead, and a
 * segment too short to hold the response gets one too (XDP cannot grow a
 * veth frame). The client's later ACK and FIN find no state and are
 * answered with a reset (splice_first's no-state rule).
 */
static __always_inline int splice_no_route(CTX *ctx, struct pkt *p,
					   const struct maglb_service *listener,
					   __u32 isn, __u32 cookie, __u32 held,
					   __u32 plen, struct maglb_scratch *sc,
					   enum maglb_reason *why)
{
	/* "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	 * "Connection: close\r\n\r\n", 64 bytes as little-endian words: a
	 * string would go to .rodata, whose BTF clang 14 gets wrong. */
	__u64 *w = (__u64 *)sc->grow;
	struct seg *s = &sc->seg;

	seg_answer(s, &p->flow);
	s->seq = cookie + 1;
	if ((listener->flags & MAGLB_SVC_F_NO_MATCH_RESET) || plen < 64) {
		s->flags = TCP_F_RST;
		*why = MAGLB_ROUTE_RESET;
		return send_back(ctx, p, sc);
	}
	w[0] = 0x312e312f50545448ULL;
	w[1] = 0x746f4e2034303420ULL;
	w[2] = 0x0a0d646e756f4620ULL;
	w[3] = 0x2d746e65746e6f43ULL;
	w[4] = 0x203a6874676e654cULL;
	w[5] = 0x656e6e6f430a0d30ULL;
	w[6] = 0x63203a6e6f697463ULL;
	w[7] = 0x0a0d0a0d65736f6cULL;
	s->ack = isn + 1 + held;
	s->flags = TCP_F_ACK | TCP_F_PSH | TCP_F_FIN;
	s->window = splice_mss(p->flow.family);
	/* Timestamps were agreed in the handshake: keep them (RFC 7323). */
	seg_ts_opts(s, sc->opts.ts_ok, tsval_now(), sc->opts.tsval);
	if (seg_write(ctx, p, s, sc->grow, 64, csum_buf(sc->grow, 64),
		      &sc->tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	*why = MAGLB_ROUTE_NOT_FOUND;
	return egress_back(ctx, p);
}

/* The facts of the handshake, from the client's first data segment. */
static __always_inline void stash_init(struct maglb_splice *sp, __u32 isn,
				       __u32 cookie, int bits,
				       const struct tcp_opts *o,
				       const struct tcphdr *th, __u32 plen,
				       __u64 now)
{
	sp->isn_client = isn;
	sp->isn_cookie = cookie;
	sp->tsval_client = o->tsval;
	sp->tsval_ours = o->tsecr;
	sp->ts_ok = o->ts_ok;
	sp->have = plen;
	sp->acked = 0;
	sp->chunk = 0;
	sp->mss = cookie_mss(bits >> 4);
	sp->wscale = (bits & 15) == COOKIE_WS_NONE ? WSCALE_NONE : bits & 15;
	sp->sack_ok = (bits >> 8) & 1;
	sp->window = bpf_ntohs(th->window);
	sp->state = MAGLB_STASH_COLLECTING;
	sp->cookie_len = 0;
	sp->created_ns = now;
}

/*
 * The head is complete, or as complete as it gets: pick the route and the
 * backend from what sc->ps found, track the connection, and send the
 * backend our SYN. sp is the stash (in maglb_splice); plen the payload of
 * the segment in hand.
 */
static __always_inline int splice_open(CTX *ctx, struct pkt *p,
				       const struct maglb_service *svc,
				       struct maglb_splice *sp,
				       struct maglb_scratch *sc, __u32 plen,
				       __u64 now, enum maglb_reason *why)
{
	struct maglb_ct_entry *fwd = &sc->fwd;
	struct maglb_backend *be;
	struct key_fill fill;
	__u32 be_id;
	__u64 hash = 0;
	int rc;

	if (svc->n_matches) {
		struct maglb_vip_key *vk = &sc->vip;
		const struct maglb_service *r;

		__builtin_memset(vk, 0, sizeof(*vk));
		vk->addr = p->flow.daddr;
		vk->port = p->flow.dport;
		vk->proto = p->flow.proto;
		vk->family = p->flow.family;
		r = route_pick(sc, svc, vk);
		if (!r) {
			__u32 isn = sp->isn_client, cookie = sp->isn_cookie;
			__u32 held = sp->have;

			bpf_map_delete_elem(&maglb_splice, &p->flow);
			return splice_no_route(ctx, p, svc, isn, cookie, held,
					       plen, sc, why);
		}
		/* The listener's parse looked for the key most routes use
		 * (the agent's choice); this route may want another. */
		if (key_hashed(r) && (r->hash_type != svc->hash_type ||
				      r->key_len != svc->key_len ||
				      !key_names_equal(r, svc))) {
			count_reason(MAGLB_ROUTE_REPARSE, p->len);
			parse_head(sc, r, sp);
		}
		svc = r;
	}
	/* What the client takes (the cookie's, rounded down), and not more
	 * than this service's backend path: the backend sends us no bigger. */
	if (splice_path_mss(p->flow.family, svc->mtu) < sp->mss)
		sp->mss = splice_path_mss(p->flow.family, svc->mtu);
	/* One call site per flow hash: each inlines a whole XXH64. */
	sc->cookie_val = 0;
	if (!key_hashed(svc)) {
		hash = maglb_flow_hash(&p->flow, svc->hash_type);
	} else {
		bool found = sc->ps.result == HTTP_FOUND;
		bool gen = !found && svc->hash_type == MAGLB_HASH_COOKIE &&
			   (svc->flags & MAGLB_SVC_F_SET_COOKIE);

		if (found) {
			fill.sc = sc;
			bpf_loop(MAGLB_KEY_MAX / HTTP_CHUNK, key_fill_step,
				 &fill, 0);
			sc->key.len = sc->ps.value_len;
		} else {
			hash = maglb_flow_hash(&p->flow, gen ? MAGLB_HASH_TUPLE :
							     svc->fallback_hash);
		}
		if (gen) {
			sc->cookie_val = hash;
			cookie_key(&sc->key, hash);
		}
		if (found || gen)
			hash = key_block_hash(&sc->key);
		if (!found)
			count_reason(gen ? MAGLB_COOKIE_GENERATED :
					   MAGLB_KEY_FALLBACK, p->len);
	}
	be = maglev_backend(svc->id, hash, &be_id);
	if (!be) {
		*why = MAGLB_DROP_NO_BACKEND;
		goto forget;
	}
	rc = ct_create(p, svc, be_id, be, hash, now, NULL, fwd,
		       MAGLB_CT_F_PENDING | MAGLB_CT_F_SPLICE, &sc->rev,
		       MAGLB_CT_F_PENDING | MAGLB_CT_F_SPLICE, &sc->key1, &sc->k4);
	if (rc) {
		*why = rc;
		goto forget;
	}
	count_entry(fwd, p->len, true);

	sp->cookie_len = 0;
	if (sc->cookie_val) {
		struct maglb_cookie_line *line;
		struct maglb_ct_entry *rev;
		__u32 id = svc->id;

		line = bpf_map_lookup_elem(&maglb_cookies, &id);
		rev = ct_lookup(&sc->key1, &sc->k4);
		if (line && rev && line->len <= MAGLB_COOKIE_LINE_MAX) {
			rev->flags |= MAGLB_CT_F_SET_COOKIE;
			rev->cookie_val = sc->cookie_val;
			rev->cookie_len = line->len;
			sp->cookie_len = line->len;
		}
	}
	sp->state = MAGLB_STASH_OPENING;
	return splice_send_syn(ctx, p, sp, fwd, sc, why);
forget:
	bpf_map_delete_elem(&maglb_splice, &p->flow);
	return ACT_DROP;
}

/*
 * A client ACK with no connection: the handshake ACK, the first data, or
 * the next segment of a head being collected (stash.h).
 */
static __always_inline int splice_first(CTX *ctx, struct pkt *p,
					const struct maglb_service *svc,
					__u64 now, enum maglb_reason *why)
{
	struct tcphdr *th = tcp_hdr(p);
	struct maglb_scratch *sc;
	struct maglb_secret *k;
	struct maglb_splice *sp;
	struct tcp_opts *o;
	__u32 zero = 0, isn, cookie, hlen, plen, from;
	int bits, n;
	bool done;

	if ((p->tcp_flags & (TCP_F_SYN | TCP_F_RST)) ||
	    !(p->tcp_flags & TCP_F_ACK)) {
		*why = MAGLB_DROP_NO_STATE;
		return ACT_DROP;
	}
	k = bpf_map_lookup_elem(&maglb_secret, &zero);
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!k || !sc) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	/* A FIN with no connection (after our 404, or a stale one): reset
	 * it, as a host does for a connection it does not know (RFC 9293
	 * 3.10.7.1), so the client does not retransmit it for minutes. */
	if (p->tcp_flags & TCP_F_FIN) {
		struct seg *s = &sc->seg;

		seg_answer(s, &p->flow);
		s->seq = bpf_ntohl(th->ack_seq);
		s->flags = TCP_F_RST;
		*why = MAGLB_DROP_NO_STATE;
		return send_back(ctx, p, sc);
	}
	o = &sc->opts;
	hlen = th->doff * 4;
	plen = p->l3_off + pkt_l3_len(p) - p->l4_off - hlen;
	if (plen > 0xffff) {
		*why = MAGLB_DROP_HANDSHAKE_ACK;
		return ACT_DROP;
	}

	sp = bpf_map_lookup_elem(&maglb_splice, &p->flow);
	if (sp && sp->state == MAGLB_STASH_COLLECTING &&
	    bpf_ntohl(th->ack_seq) == sp->isn_cookie + 1) {
		/* The next segment of a head we hold. Its ACK is our cookie,
		 * which only the client knows: a stranger's is not. */
		if (now - sp->created_ns > splice_timeout_ns) {
			cookie = sp->isn_cookie;
			bpf_map_delete_elem(&maglb_splice, &p->flow);
			return splice_rst_client(ctx, p, &p->flow, cookie, true,
						 sc, why);
		}
		if (!plen) {
			*why = MAGLB_DROP_HANDSHAKE_ACK;
			return ACT_DROP;
		}
		if (tcpopt_load(ctx, p->l4_off, hlen, o)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		from = sp->have;
		n = stash_take(ctx, p, sp, sc,
			       bpf_ntohl(th->seq) - sp->isn_client - 1, hlen,
			       plen, why);
		if (n < 0)
			return ACT_DROP;
		if (!n) {
			*why = MAGLB_SPLICE_HEAD_DUP;
			return stash_ack(ctx, p, sp, sc);
		}
		__builtin_memcpy(&sc->ps, sp->parser, sizeof(sc->ps));
		done = stash_parse(sc, sp->payload, from, from + n);
	} else {
		isn = bpf_ntohl(th->seq) - 1;
		cookie = bpf_ntohl(th->ack_seq) - 1;
		bits = cookie_check(&p->flow, isn, cookie, k, &sc->cookie);
		if (bits < 0 && plen) {
			/* Data we hold nothing for: a head whose stash was
			 * lost (evicted, or timed out), or a cookie that aged
			 * out. Reset it, as a host does for a connection it
			 * does not know, rather than leave the client
			 * retransmitting for minutes. The RST's seq is the
			 * sender's own ACK: only the holder of our cookie
			 * can have sent one the client accepts. */
			cookie = bpf_ntohl(th->ack_seq) - 1;
			return splice_rst_client(ctx, p, &p->flow, cookie, true,
						 sc, why);
		}
		if (bits < 0) {
			*why = MAGLB_DROP_BAD_COOKIE;
			return ACT_DROP;
		}
		if (!plen) {
			*why = MAGLB_DROP_HANDSHAKE_ACK;
			return ACT_DROP;
		}
		if (tcpopt_load(ctx, p->l4_off, hlen, o)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		/* The first segment: a stash of its own replaces any older
		 * one of this 4-tuple (the client has moved on from it). */
		sp = &sc->sp;
		n = seg_payload_load(ctx, p, o, hlen, plen, sp->payload);
		if (n) {
			*why = n;
			return ACT_DROP;
		}
		stash_init(sp, isn, cookie, bits, o, th, plen, now);
		/* No room to hold it (or evicted at once): fail closed. */
		if (bpf_map_update_elem(&maglb_splice, &p->flow, sp, BPF_ANY))
			return splice_rst_client(ctx, p, &p->flow, cookie, true,
						 sc, why);
		sp = bpf_map_lookup_elem(&maglb_splice, &p->flow);
		if (!sp)
			return splice_rst_client(ctx, p, &p->flow, cookie, true,
						 sc, why);
		done = parse_head(sc, svc, sp);
	}
	if (!done && sp->have < MAGLB_HEAD_MAX) {
		__builtin_memcpy(sp->parser, &sc->ps, sizeof(sc->ps));
		*why = MAGLB_SPLICE_HEAD_ACK;
		return stash_ack(ctx, p, sp, sc);
	}
	if (!done)
		count_reason(MAGLB_HEAD_TOO_LONG, p->len);
	return splice_open(ctx, p, svc, sp, sc, plen, now, why);
}

#ifndef MAGLB_TC
/*
 * The entry points below are global functions: the verifier checks
 * each once, on its own, instead of once per state of every caller (which
 * took the whole program past a million instructions). Packet pointers
 * cannot cross into a global function, so each parses the frame again;
 * these are the rare paths (handshakes), not the per-segment one.
 */

/* A SYN for a Cookie/Header VIP: answered with a cookie, no state. */
__noinline int splice_syn_in(CTX *ctx, __u32 mtu, __u32 *reason)
{
	enum maglb_reason why = MAGLB_DROP_SPLICE_UNSUPPORTED;
	struct maglb_scratch *sc;
	struct pkt p = {};
	__u32 zero = 0;
	int action;

	if (!ctx || !reason || parse_packet(ctx, &p) != PARSE_OK ||
	    !pkt_tcp(ctx, &p))
		return ACT_DROP;
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!sc) {
		*reason = why;
		return ACT_DROP;
	}
	action = splice_syn(ctx, &p, mtu, sc, &why);
	*reason = why;
	return action;
}

#endif

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
	struct seg *s = &sc->seg;
	__u32 ack = bpf_ntohl(th->ack_seq);

	seg_answer(s, &p->flow);
	s->seq = ack;
	s->flags = TCP_F_RST;
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->tbuf)) {
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
	o = &sc->opts;
	client = &sc->key1;
	reply = &sc->key2;

	if (ct->flags & MAGLB_CT_F_REPLY) {
		*reply = p->flow;
		reply_key(client, &p->flow, ct);	/* same formula back */
		rev = ct;
		fwd = ct_lookup(client, &sc->k4);
	} else {
		*client = p->flow;
		fwd = ct;
		reply_key(reply, &p->flow, ct);
		rev = ct_lookup(reply, &sc->k4);
	}
	sp = bpf_map_lookup_elem(&maglb_splice, client);
	if (!sp || !fwd || !rev) {
		/* The client is waiting for a setup whose state is gone:
		 * tell it (its ACK is our cookie + 1), and forget the rest. */
		if (!(ct->flags & MAGLB_CT_F_REPLY) &&
		    !(p->tcp_flags & TCP_F_RST)) {
			splice_forget(client, reply, &sc->k4);
			return splice_rst_client(ctx, p, client,
						 bpf_ntohl(th->ack_seq) - 1, true,
						 sc, why);
		}
		*why = MAGLB_DROP_NO_STATE;
		return ACT_DROP;
	}

	if (!(ct->flags & MAGLB_CT_F_REPLY)) {
		__u32 hlen = th->doff * 4, plen, off;
		int n;

		if (p->tcp_flags & TCP_F_RST) {
			splice_forget(client, reply, &sc->k4);
			*why = MAGLB_DROP_NO_STATE;
			return ACT_DROP;
		}
		if (now - sp->created_ns > splice_timeout_ns) {
			__u32 isn_cookie = sp->isn_cookie;

			splice_forget(client, reply, &sc->k4);
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

		splice_forget(client, reply, &sc->k4);
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
		     MAGLB_CT_F_STASH;
	rev->seq_add = -delta;
	rev->tsval_add = ts_delta;
	rev->win_shift = (__s8)wb - (__s8)wp;
	rev->flags = (rev->flags & ~MAGLB_CT_F_PENDING) | MAGLB_CT_F_SPLICE |
		     MAGLB_CT_F_STASH;
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
	client = &sc->key1;
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
		if (tcpopt_load(ctx, p->l4_off, th->doff * 4, &sc->opts)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		count_reason(MAGLB_SPLICE_CHUNK, p->len);
		/* The backend's numbers, as splice_translate would make them */
		return stash_send(ctx, p, sp, ct, sp->acked,
				  bpf_ntohl(th->ack_seq) + ct->ack_add,
				  sp->ts_ok && sc->opts.ts_ok,
				  sc->opts.tsecr + ct->tsecr_add, sc, why);
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
			bpf_map_delete_elem(&maglb_splice, client);
			ct->flags &= ~MAGLB_CT_F_STASH;
			fwd = ct_lookup(client, &sc->k4);
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
	fwd = ct_lookup(client, &sc->k4);
	if (!fwd || tcpopt_load(ctx, p->l4_off, th->doff * 4, &sc->opts)) {
		*why = MAGLB_DROP_NO_STATE;
		return ACT_DROP;
	}
	sp->acked = from;
	count_reason(step, p->len);
	return stash_send(ctx, p, sp, fwd, from, ack_b,
			  sp->ts_ok && sc->opts.ts_ok, sc->opts.tsval, sc, why);
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

struct sack_walk {
	struct tcp_opts *o;
	__u32 add;
};

/* Move one SACK edge (a callback: unrolled, 8 edges times the fast path's
 * states overran the verifier). */
static __noinline long sack_step(__u32 i, void *data)
{
	struct sack_walk *w = data;
	struct tcp_opts *o = w->o;
	__u32 at;

	if (i >= 8 || 4 * i + 2 >= o->sack_len)
		return 1;
	at = o->sack_at + 2 + 4 * i;
	opt_put32(o->buf, at, opt_get32(o->buf, at) + w->add);
	return 0;
}

/*
 * Steady state: move seq/ack, SACK edges, timestamps and the window into
 * the other side's space. Header fields are patched in place; the option
 * block is patched in o and written back by splice_store_opts() once no
 * packet pointer is needed any more (bpf_xdp_store_bytes invalidates them).
 */
static __always_inline int splice_translate(CTX *ctx, struct pkt *p,
					    const struct maglb_ct_entry *e,
					    __u32 seq_less, struct tcp_opts *o)
{
	__u32 seq_add = e->seq_add - seq_less;
	struct tcphdr *th = tcp_hdr(p);
	__u32 old, new;
	__u64 d = 0;

	o->len = 0;
	if (!pkt_tcp(ctx, p))
		return -1;
	if (seq_add) {
		old = th->seq;
		new = bpf_htonl(bpf_ntohl(old) + seq_add);
		th->seq = new;
		d = csum_delta32(d, old, new);
	}
	if (e->ack_add && (p->tcp_flags & TCP_F_ACK)) {
		old = th->ack_seq;
		new = bpf_htonl(bpf_ntohl(old) + e->ack_add);
		th->ack_seq = new;
		d = csum_delta32(d, old, new);
	}
	if (e->win_shift) {
		__u16 w = bpf_ntohs(th->window), nw;
		__u32 x = w;

		if (e->win_shift > 0)
			x <<= e->win_shift & 15;
		else
			x >>= -e->win_shift & 15;
		nw = x > 0xffff ? 0xffff : x;
		d = csum_delta16(d, th->window, bpf_htons(nw));
		th->window = bpf_htons(nw);
	}
	/* The usual segment carries only NOP NOP TS: patch it in place, no
	 * option walk and no store helper (the steady state's main cost). */
	if (th->doff == 8 && (e->tsval_add || e->tsecr_add)) {
		__u8 *opt = (__u8 *)(th + 1);

		if ((void *)(opt + 12) <= ctx_data_end(ctx) && opt[0] == 1 &&
		    opt[1] == 1 && opt[2] == 8 && opt[3] == 10) {
			__be32 *tv = (__be32 *)(opt + 4), *te = (__be32 *)(opt + 8);

			old = *tv;
			new = bpf_htonl(bpf_ntohl(old) + e->tsval_add);
			*tv = new;
			d = csum_delta32(d, old, new);
			if (*te) {
				old = *te;
				new = bpf_htonl(bpf_ntohl(old) + e->tsecr_add);
				*te = new;
				d = csum_delta32(d, old, new);
			}
			goto out;
		}
	}
	if (th->doff > 5 && (e->tsval_add || e->tsecr_add || e->sack_add)) {
		__u32 before, after;

		if (tcpopt_load(ctx, p->l4_off, th->doff * 4, o))
			return -1;
		before = tcpopt_sum(o);
		if (o->ts_ok) {
			opt_put32(o->buf, o->ts_at + 2, o->tsval + e->tsval_add);
			if (o->tsecr)
				opt_put32(o->buf, o->ts_at + 6,
					  o->tsecr + e->tsecr_add);
		}
		if (o->sack_at && e->sack_add) {
			struct sack_walk w = { .o = o, .add = e->sack_add };

			bpf_loop(8, sack_step, &w, 0);
		}
		after = tcpopt_sum(o);
		d += (__u16)~csum_fold64(before) + csum_fold64(after);
	}
out:
	if (d)
		*p->l4_csum = csum_apply(*p->l4_csum, d);
	return 0;
}

static __always_inline void splice_store_opts(CTX *ctx,
					      __u32 l4_off,
					      const struct tcp_opts *o)
{
	__u32 len = o->len;

	if (len > TCPOPT_MAX)
		return;
	ctx_store_bytes(ctx, l4_off + 20, o->buf, len, sizeof(o->buf));
}

#ifdef MAGLB_TC
/*
 * The response's first segment, grown by the Set-Cookie line, translated,
 * NATed and forwarded. Returns a TC action. Without room or a status line
 * in it the segment goes on unchanged (no cookie, the session still works).
 */
static __always_inline int cookie_insert(CTX *ctx, struct pkt *p,
					 struct maglb_ct_entry *ct,
					 enum maglb_reason *why)
{
	struct tcphdr *th = (struct tcphdr *)p->ports;
	struct maglb_cookie_line *line;
	struct maglb_scratch *sc;
	struct seg *s;
	__u32 zero = 0, svc = ct->svc_id, hlen, plen, len, ins, l4_off;
	__u64 *w;
	int i, action;

	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	line = bpf_map_lookup_elem(&maglb_cookies, &svc);
	if (!sc || !line || !(ct->flags & MAGLB_CT_F_COOKIE_SENT))
		goto drop;
	hlen = th->doff * 4;
	plen = p->l3_off + pkt_l3_len(p) - p->l4_off - hlen;
	len = ct->cookie_len;
	/* XDP committed the shift after the same check (cookie_commit) */
	ins = cookie_fits(ctx, p, sc, len);
	if (!ins || tcpopt_load(ctx, p->l4_off, hlen, &sc->opts))
		goto drop;
	/* The line (all of its buffer: what follows is overwritten next),
	 * then the value, then the rest of the response after it. The masks
	 * are the bounds the verifier can see: ins <= 256, len <= 256. */
	w = (__u64 *)(sc->grow + buf_idx(ins, 2 * MAGLB_COOKIE_LINE_MAX));
	for (i = 0; i < MAGLB_COOKIE_LINE_MAX / 8; i++)
		w[i] = ((__u64 *)line->text)[i];
	cookie_hex(sc->grow + buf_idx(ins + buf_idx(line->val_off, MAGLB_COOKIE_LINE_MAX),
				      2 * MAGLB_COOKIE_LINE_MAX), ct->cookie_val);
	if (plen > ins &&
	    ctx_load_bytes(ctx, p->l4_off + hlen + ins,
			   sc->grow + buf_idx(ins + len, 4 * MAGLB_COOKIE_LINE_MAX),
			   plen - ins, MAGLB_SEG_BUF))
		goto drop;
	plen += len;
	sc->grow[buf_idx(plen, 2 * MAGLB_SEG_BUF)] = 0;
	sc->grow[buf_idx(plen + 1, 2 * MAGLB_SEG_BUF)] = 0;
	sc->grow[buf_idx(plen + 2, 2 * MAGLB_SEG_BUF)] = 0;

	s = &sc->seg;
	__builtin_memset(s, 0, sizeof(*s));
	s->saddr = p->flow.saddr;
	s->daddr = p->flow.daddr;
	s->sport = p->flow.sport;
	s->dport = p->flow.dport;
	s->seq = bpf_ntohl(th->seq);
	s->ack = bpf_ntohl(th->ack_seq);
	s->flags = p->tcp_flags;
	s->window = bpf_ntohs(th->window);
	s->optlen = sc->opts.len & 0x3c;
	__builtin_memcpy(s->opts, sc->opts.buf, TCPOPT_MAX);
	if (seg_write(ctx, p, s, sc->grow, plen,
		      csum_buf(sc->grow, plen), &sc->tbuf))
		goto drop;
	count_reason(MAGLB_COOKIE_INSERTED, p->len);
	/* This segment starts where the shift does: translate it without
	 * (the shared entry stays as it is for the other CPUs). */
	i = splice_translate(ctx, p, ct, ct->cookie_len, &sc->opts);
	if (i || !nat_rewrite(p, ct))
		goto drop;
	count_entry(ct, p->len, false);
	l4_off = p->l4_off;
	/* the reply entry's next hop toward the client, as XDP uses it */
	action = forward_cached(ctx, p, &ct->nh, bpf_ktime_get_coarse_ns(),
				why, &sc->fib);
	splice_store_opts(ctx, l4_off, &sc->opts);
	return action;
drop:
	/* The shift is committed: this segment cannot go out without the
	 * line. The backend resends it, and the resend is tried again. */
	*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
	return ACT_DROP;
}
#endif /* MAGLB_TC */

#endif /* MAGLB_BPF_SPLICE_H */
