/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice_first.h - a client's data before its connection exists: the first
 * segment and the rest of the head (stash.h), the route and the key it
 * names, the backend, and the entry point maglb_xdp calls for a SYN. Part
 * of splice.h.
 */
#ifndef MAGLB_BPF_SPLICE_FIRST_H
#define MAGLB_BPF_SPLICE_FIRST_H

#include "cookie.h"
#include "http.h"
#include "maglev.h"
#include "route.h"
#include "scratch.h"
#include "splice_syn.h"
#include "stash.h"

struct key_fill {
	struct maglb_scratch *sc;
};

/* Byte i of the key block: the parsed value, unquoted, zero padded. A
 * callback for the same reason as http_loop_cb: inline, 128 steps with a
 * branch each overran the verifier. */
static __noinline long key_fill_step(__u32 i, void *data)
{
	struct maglb_scratch *sc = ((struct key_fill *)data)->sc;
	__u32 n = sc->splice.ps.value_len, off = sc->splice.ps.value_off, j, at;

	/* HTTP_CHUNK bytes per call, as in http_loop_cb. bpf_loop bounds i;
	 * the mask is what the verifier can see (a test would let clang drop
	 * the mask and check another register). */
#pragma unroll
	for (j = 0; j < HTTP_CHUNK; j++) {
		at = i * HTTP_CHUNK + j;
		sc->splice.key.v[buf_idx(at, MAGLB_KEY_MAX)] =
			at < n ? sc->splice.ps.value[buf_idx(at + off, HTTP_KEY_MAX)] : 0;
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
	http_init(&sc->splice.ps, svc->hash_type == MAGLB_HASH_COOKIE ?
		  HTTP_MODE_COOKIE : HTTP_MODE_HEADER, svc->key_name,
		  svc->key_len);
	/* A listener with routes: the whole head is checked (route.h). */
	sc->splice.ps.routes = svc->n_matches != 0;
	return stash_parse(sc, sp->payload, 0, sp->have);
}

/*
 * No route for this request, or one no route may be picked for (bad: a
 * head http.h refuses). Envoy answers 404 (400) and closes; so do we, from
 * the client's own segment: the response, then FIN, with the cookie's
 * sequence numbers. The listener may ask for a reset instead, and a
 * segment too short to hold the response gets one too (XDP cannot grow a
 * veth frame). The client's later ACK and FIN find no state and are
 * answered with a reset (splice_first's no-state rule).
 */
static __always_inline int splice_no_route(CTX *ctx, struct pkt *p,
					   const struct maglb_service *listener,
					   __u32 isn, __u32 cookie, __u32 held,
					   __u32 plen, bool bad,
					   struct maglb_scratch *sc,
					   enum maglb_reason *why)
{
	/* "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	 * "Connection: close\r\n\r\n", 64 bytes as little-endian words: a
	 * string would go to .rodata, whose BTF clang 14 gets wrong. */
	__u64 *w = (__u64 *)sc->splice.seg_copy;
	struct seg *s = &sc->seg.seg;

	seg_answer(s, &p->flow);
	s->seq = cookie + 1;
	if ((!bad && (listener->flags & MAGLB_SVC_F_NO_MATCH_RESET)) ||
	    plen < 64) {
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
	if (bad) {
		/* "HTTP/1.1 400 Bad Request\r\nContent-Length:0\r\n"
		 * "Connection:close\r\n\r\n": 64 bytes too, without the
		 * optional spaces after the colons */
		w[1] = 0x6461422030303420ULL;
		w[2] = 0x7473657571655220ULL;
		w[3] = 0x6e65746e6f430a0dULL;
		w[4] = 0x6874676e654c2d74ULL;
		w[5] = 0x6e6e6f430a0d303aULL;
		w[6] = 0x633a6e6f69746365ULL;
		w[7] = 0x0a0d0a0d65736f6cULL;
	}
	s->ack = isn + 1 + held;
	s->flags = TCP_F_ACK | TCP_F_PSH | TCP_F_FIN;
	s->window = splice_mss(p->flow.family);
	/* Timestamps were agreed in the handshake: keep them (RFC 7323).
	 * Our TSval stays the SYN-ACK's (the cookie's), which the client
	 * echoes: a clock reading could look older to its PAWS check. */
	seg_ts_opts(s, sc->seg.opts.ts_ok, sc->seg.opts.tsecr,
		    sc->seg.opts.tsval);
	if (seg_write(ctx, p, s, sc->splice.seg_copy, 64, csum_buf(sc->splice.seg_copy, 64),
		      &sc->seg.tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	*why = bad ? MAGLB_ROUTE_BAD_REQUEST : MAGLB_ROUTE_NOT_FOUND;
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
 * backend from what sc->splice.ps found, track the connection, and send the
 * backend our SYN. sp is the stash (in maglb_splice); plen the payload of
 * the segment in hand.
 */
static __always_inline int splice_open(CTX *ctx, struct pkt *p,
				       const struct maglb_service *svc,
				       struct maglb_splice *sp,
				       struct maglb_scratch *sc, __u32 plen,
				       __u64 now, enum maglb_reason *why)
{
	struct maglb_ct_entry *fwd = &sc->l4.fwd;
	struct maglb_backend *be;
	struct key_fill fill;
	__u32 be_id;
	__u64 hash = 0;
	int rc;

	if (svc->n_matches) {
		struct maglb_vip_key *vk = &sc->route.vip;
		const struct maglb_service *r;

		__builtin_memset(vk, 0, sizeof(*vk));
		vk->addr = p->flow.daddr;
		vk->port = p->flow.dport;
		vk->proto = p->flow.proto;
		vk->family = p->flow.family;
		r = sc->splice.ps.bad ? NULL :
		    route_pick(&sc->splice.ps, &sc->route, svc);
		if (!r) {
			__u32 isn = sp->isn_client, cookie = sp->isn_cookie;
			__u32 held = sp->have;

			stash_release(&p->flow, &sc->splice.src_key);
			return splice_no_route(ctx, p, svc, isn, cookie, held,
					       plen, sc->splice.ps.bad != 0,
					       sc, why);
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
	sc->cookie.val = 0;
	if (!key_hashed(svc)) {
		hash = maglb_flow_hash(&p->flow, svc->hash_type);
	} else {
		bool found = sc->splice.ps.result == HTTP_FOUND;
		bool gen = !found && svc->hash_type == MAGLB_HASH_COOKIE &&
			   (svc->flags & MAGLB_SVC_F_SET_COOKIE);

		if (found) {
			fill.sc = sc;
			bpf_loop(MAGLB_KEY_MAX / HTTP_CHUNK, key_fill_step,
				 &fill, 0);
			sc->splice.key.len = sc->splice.ps.value_len;
		} else {
			hash = maglb_flow_hash(&p->flow, gen ? MAGLB_HASH_TUPLE :
							     svc->fallback_hash);
		}
		if (gen) {
			sc->cookie.val = hash;
			cookie_key(&sc->splice.key, hash);
		}
		if (found || gen)
			hash = key_block_hash(&sc->splice.key);
		if (!found)
			count_reason(gen ? MAGLB_COOKIE_GENERATED :
					   MAGLB_KEY_FALLBACK, p->len);
	}
	be = maglev_backend(svc->id, hash, &be_id);
	if (!be) {
		*why = MAGLB_DROP_NO_BACKEND;
		goto forget;
	}
	rc = ct_create(p, svc, be_id, be, hash, now, NULL, &sc->l4,
		       MAGLB_CT_F_PENDING | MAGLB_CT_F_SPLICE,
		       MAGLB_CT_F_PENDING | MAGLB_CT_F_SPLICE);
	if (rc) {
		*why = rc;
		goto forget;
	}
	count_entry(fwd, p->len, true);

	sp->cookie_len = 0;
	if (sc->cookie.val) {
		struct maglb_cookie_line *line;
		struct maglb_ct_entry *rev;
		__u32 id = svc->id;

		line = bpf_map_lookup_elem(&maglb_cookies, &id);
		rev = ct_lookup(&sc->l4.key1, &sc->l4.k4);
		if (line && rev && line->len <= MAGLB_COOKIE_LINE_MAX) {
			rev->flags |= MAGLB_CT_F_SET_COOKIE;
			rev->cookie_val = sc->cookie.val;
			rev->cookie_len = line->len;
			sp->cookie_len = line->len;
		}
	}
	sp->state = MAGLB_STASH_OPENING;
	return splice_send_syn(ctx, p, sp, fwd, sc, why);
forget:
	stash_release(&p->flow, &sc->splice.src_key);
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
	__u32 zero = 0, isn, cookie, hlen, plen, from, slot;
	__u64 mac;
	int bits, n;
	bool done, took;

	k = bpf_map_lookup_elem(&maglb_secret, &zero);
	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	if (!k || !sc) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	if ((p->tcp_flags & (TCP_F_SYN | TCP_F_RST)) ||
	    !(p->tcp_flags & TCP_F_ACK)) {
		/* The client gives up a head we are collecting: its RST, at
		 * exactly the next byte we expect (RFC 5961 3: no stranger's
		 * guess), frees the stash and its source's count. */
		sp = bpf_map_lookup_elem(&maglb_splice, &p->flow);
		*why = MAGLB_DROP_NO_STATE;
		if ((p->tcp_flags & TCP_F_RST) && sp &&
		    sp->state == MAGLB_STASH_COLLECTING) {
			*why = MAGLB_DROP_RST_OUT_OF_WINDOW;
			if (bpf_ntohl(th->seq) == sp->isn_client + 1 + sp->have) {
				stash_release(&p->flow, &sc->splice.src_key);
				*why = MAGLB_SPLICE_CLIENT_RST;
			}
		}
		return ACT_DROP;
	}
	/* A FIN with no connection (after our 404, or a stale one): reset
	 * it, as a host does for a connection it does not know (RFC 9293
	 * 3.10.7.1), so the client does not retransmit it for minutes. */
	if (p->tcp_flags & TCP_F_FIN) {
		struct seg *s = &sc->seg.seg;

		seg_answer(s, &p->flow);
		s->seq = bpf_ntohl(th->ack_seq);
		s->flags = TCP_F_RST;
		*why = MAGLB_DROP_NO_STATE;
		return send_back(ctx, p, sc);
	}
	o = &sc->seg.opts;
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
			stash_release(&p->flow, &sc->splice.src_key);
			goto reset;
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
		__builtin_memcpy(&sc->splice.ps, sp->parser, sizeof(sc->splice.ps));
		done = stash_parse(sc, sp->payload, from, from + n);
	} else {
		/* The options first: with timestamps, TSecr is half the
		 * MAC. */
		if (tcpopt_load(ctx, p->l4_off, hlen, o)) {
			*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
			return ACT_DROP;
		}
		isn = bpf_ntohl(th->seq) - 1;
		cookie = bpf_ntohl(th->ack_seq) - 1;
		bits = cookie_check(&p->flow, isn, cookie, o->ts_ok, o->tsecr, k,
				    &sc->splice.syncookie, &mac, &slot);
		if (bits < 0 && plen) {
			/* Data we hold nothing for: a head whose stash was
			 * lost (evicted, or timed out), or a cookie that aged
			 * out. Reset it, as a host does for a connection it
			 * does not know, rather than leave the client
			 * retransmitting for minutes. The RST's seq is the
			 * sender's own ACK: only the holder of our cookie
			 * can have sent one the client accepts. */
			goto reset;
		}
		if (bits < 0) {
			*why = MAGLB_DROP_BAD_COOKIE;
			return ACT_DROP;
		}
		if (!plen) {
			*why = MAGLB_DROP_HANDSHAKE_ACK;
			return ACT_DROP;
		}
		/* The first segment: a stash of its own replaces any older
		 * one of this 4-tuple (the client has moved on from it). */
		sp = &sc->splice.sp;
		n = seg_payload_load(ctx, p, o, hlen, plen, sp->payload);
		if (n) {
			*why = n;
			return ACT_DROP;
		}
		/* One address may not crowd out everyone's handshakes. An
		 * older stash of this 4-tuple is counted already. (Looked
		 * up again, not kept from above: a value live across the
		 * checksum and the stores below cost the verifier 40k more
		 * instructions.) */
		took = !bpf_map_lookup_elem(&maglb_splice, &p->flow);
		if (took && !stash_src_take(&p->flow, &sc->splice.src_key,
					    &sc->splice.src_val, now)) {
			*why = MAGLB_SPLICE_SOURCE_LIMIT;
			goto reset;
		}
		/* Once per handshake: a copy of this segment, sent after the
		 * connection closed, would open another (syncookie.h). After
		 * the source bound, so that a refused first data is not
		 * marked and its retransmit may still come in; the count it
		 * took goes back if it is a replay. */
		n = cookie_mark_used(mac, slot);
		if (n) {
			if (took)
				stash_src_put(&p->flow, &sc->splice.src_key);
			*why = n;
			goto reset;
		}
		stash_init(sp, isn, cookie, bits, o, th, plen, now);
		/* No room to hold it (or evicted at once): fail closed, and
		 * give back the count it holds. A failed update left an
		 * older stash of this 4-tuple in place with its count, so
		 * only what this segment took goes back; a stored one that
		 * was evicted at once had replaced the older stash, whose
		 * count is then nobody's. */
		if (bpf_map_update_elem(&maglb_splice, &p->flow, sp, BPF_ANY)) {
			if (took)
				stash_src_put(&p->flow, &sc->splice.src_key);
			goto reset;
		}
		if (!(sp = bpf_map_lookup_elem(&maglb_splice, &p->flow))) {
			stash_src_put(&p->flow, &sc->splice.src_key);
			goto reset;
		}
		done = parse_head(sc, svc, sp);
	}
	if (!done && sp->have < MAGLB_HEAD_MAX) {
		__builtin_memcpy(sp->parser, &sc->splice.ps, sizeof(sc->splice.ps));
		*why = MAGLB_SPLICE_HEAD_ACK;
		return stash_ack(ctx, p, sp, sc);
	}
	if (!done)
		count_reason(MAGLB_HEAD_TOO_LONG, p->len);
	return splice_open(ctx, p, svc, sp, sc, plen, now, why);
reset:
	/* One RST for every way the stream cannot be held (the verifier
	 * walks this once, not once per cause). cookie: our ISN. */
	return splice_rst_client(ctx, p, &p->flow, cookie, true, sc, why);
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

#endif /* MAGLB_BPF_SPLICE_FIRST_H */
