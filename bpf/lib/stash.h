/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stash.h - the client's stream while delayed binding holds it
 * (struct maglb_splice in maglb_splice; splice.h drives the steps).
 *
 * A browser's request head is 0.5 to 2 KiB, the cookies near its end, so
 * it often spans segments. Our SYN-ACK offers a window that ends
 * MAGLB_HEAD_MAX bytes into the stream, so the client sends the whole
 * head at once, and we keep every in-order byte from the first:
 *
 *  collecting  a segment that leaves the head incomplete is held and
 *              acknowledged from the VIP, so the client's own TCP recovers
 *              any loss; one past a gap, or held already, gets the same
 *              ACK again (we keep no out-of-order queue, as a receiver
 *              may; the client resends);
 *  opening     the head is complete (or the key and Host are known, or
 *              MAGLB_HEAD_MAX is reached): the backend is picked and sent
 *              our SYN. What the client sends meanwhile is held too, not
 *              acknowledged: its retransmits are the clock that re-sends
 *              the SYN;
 *  replaying   the backend's SYN-ACK carries the first MSS of what we hold
 *              (grown in TC), each ACK from it the next; its ACK of all of
 *              it goes on to the client, and the stash goes. A lost
 *              segment is sent again when the client retransmits the
 *              bytes we never acknowledged.
 *
 * One segment at a time towards the backend: XDP and TC turn one packet
 * into one packet. A pod answers a new connection's first segments at
 * once (Linux's quick-ack mode), so a 4 KiB head costs two more round
 * trips on the node's own network.
 *
 * Failing closed. maglb_splice is an LRU: a flood of handshakes that
 * never finish makes room for new ones by evicting the oldest, which may
 * be a live setup. Every later packet of such a setup is then answered
 * with an RST (splice_setup.h, splice_first.h), so no client waits on a
 * stash that is gone. And one client address holds at most
 * MAGLB_STASH_PER_SOURCE stashes (maglb_stash_src, below): past that its
 * first data gets an RST at once, so one address cannot evict everyone's
 * handshakes. The syncookie has already shown that the address is the
 * client's (it received our SYN-ACK), so counting by address means
 * something.
 */
#ifndef MAGLB_BPF_STASH_H
#define MAGLB_BPF_STASH_H

#include "csum.h"
#include "forward.h"
#include "http.h"
#include "maps.h"
#include "scratch.h"
#include "tcpseg.h"

_Static_assert(sizeof(struct http_parser) <= MAGLB_PARSER_BYTES,
	       "maglb_splice.parser holds the head parser");

/* How long a client may wait for the backend handshake, and so how long
 * a stash may live while the backend opens; set by the loader. */
const volatile __u64 splice_timeout_ns = 5000000000ULL;

/*
 * The per-source count (maglb_stash_src). Taken when a stash is stored,
 * given back when one is deleted by us; bpf_map_delete_elem() says which
 * CPU deleted it, so a stash is given back once. A stash the LRU evicts is
 * never given back, and nothing can tell us: so a count that has not been
 * 0 for splice_timeout_ns starts again from 0 (no setup of a client that
 * has come back lives longer than that; the evicted ones are dead). A
 * source can thus open at most MAGLB_STASH_PER_SOURCE stashes per
 * splice_timeout_ns beyond those it finishes. The read and the add are
 * not one atomic step (a fetch-and-add needs BPF ISA v3): CPUs that race
 * on one source may each pass, so the bound can be overrun by one per
 * CPU at most.
 */
static __always_inline void stash_src_key(struct maglb_stash_src_key *k,
					  const struct maglb_flow *client)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = client->family;
	k->addr.v6[0] = client->saddr.v6[0];
	if (client->family != MAGLB_AF_INET)
		k->addr.v6[1] = client->saddr.v6[1];	/* the /64 */
}

/* 1 if client may hold one more stash (counted), 0 if its source holds
 * the most it may. k, v: scratch. */
static __always_inline int stash_src_take(const struct maglb_flow *client,
					  struct maglb_stash_src_key *k,
					  struct maglb_stash_src *v, __u64 now)
{
	struct maglb_stash_src *c;

	stash_src_key(k, client);
	c = bpf_map_lookup_elem(&maglb_stash_src, k);
	if (!c) {
		v->n = 1;
		v->pad = 0;
		v->since_ns = now;
		/* Should another CPU's first stash of this source get
		 * in first, this one goes uncounted (NOEXIST fails). */
		bpf_map_update_elem(&maglb_stash_src, k, v, BPF_NOEXIST);
		return 1;
	}
	if (c->n <= 0 || now - c->since_ns > splice_timeout_ns) {
		c->n = 0;
		c->since_ns = now;
	}
	if (c->n >= MAGLB_STASH_PER_SOURCE)
		return 0;
	__sync_fetch_and_add(&c->n, 1);
	return 1;
}

/* Give back what stash_src_take() took. */
static __always_inline void stash_src_put(const struct maglb_flow *client,
					  struct maglb_stash_src_key *k)
{
	struct maglb_stash_src *c;

	stash_src_key(k, client);
	c = bpf_map_lookup_elem(&maglb_stash_src, k);
	if (c && c->n > 0)
		__sync_fetch_and_add(&c->n, -1);
}

/* Delete client's stash, and give its count back if it was still there
 * (a stash the LRU evicted, or another CPU deleted, is not ours to give). */
static __always_inline void stash_release(const struct maglb_flow *client,
					  struct maglb_stash_src_key *k)
{
	if (!bpf_map_delete_elem(&maglb_splice, client))
		stash_src_put(client, k);
}

/*
 * Our receive window while we hold the stream: up to MAGLB_HEAD_MAX. With
 * window scaling, rounded up: rounded down, the last < 2^MAGLB_SPLICE_WSCALE
 * bytes before the limit would be a zero window, and a head ending there
 * would stall until the setup timeout. The client may then send up to
 * that many bytes past the limit; stash_take() keeps none of them, and the
 * client resends them once the backend has acknowledged the rest.
 */
static __always_inline __u16 stash_window(const struct maglb_splice *sp)
{
	__u32 room = MAGLB_HEAD_MAX - sp->have;

	if (sp->have > MAGLB_HEAD_MAX)
		return 0;
	if (sp->wscale != WSCALE_NONE)
		room = (room + (1U << MAGLB_SPLICE_WSCALE) - 1) >>
		       MAGLB_SPLICE_WSCALE;
	return room;
}

/*
 * Load a client segment's plen payload bytes into buf (MAGLB_SEG_BUF
 * bytes, zero padded after them) and check its TCP checksum: we re-emit
 * these bytes with a checksum of our own, so they must be the ones the
 * client sent. o holds the segment's options. Returns 0 or a drop reason.
 */
static __always_inline int seg_payload_load(CTX *ctx, const struct pkt *p,
					    const struct tcp_opts *o,
					    __u32 hlen, __u32 plen, __u8 *buf)
{
	struct tcphdr *th = (struct tcphdr *)p->ports;
	__u64 sum = 0;

	if (plen > MAGLB_SEG_MAX ||
	    ctx_load_bytes(ctx, p->l4_off + hlen, buf, plen, MAGLB_SEG_BUF))
		return MAGLB_DROP_SPLICE_UNSUPPORTED;
	/* Zero pad to a 4-byte word for csum_buf() (plen <= 1500 here). */
	buf[buf_idx(plen, MAGLB_SEG_BUF)] = 0;
	buf[buf_idx(plen + 1, MAGLB_SEG_BUF)] = 0;
	buf[buf_idx(plen + 2, MAGLB_SEG_BUF)] = 0;
	if (p->ip4) {
		sum += p->flow.saddr.v4;
		sum += p->flow.daddr.v4;
	} else {
		sum = sum_words(&p->flow.saddr, 16, sum);
		sum = sum_words(&p->flow.daddr, 16, sum);
	}
	sum += bpf_htons(IPPROTO_TCP) + bpf_htons(hlen + plen);
	sum = sum_words(th, 20, sum) + tcpopt_sum(o) + csum_buf(buf, plen);
	return csum_fold64(sum) == 0xffff ? 0 : MAGLB_DROP_BAD_CSUM;
}

/* Zero the 3 bytes after the held ones (csum_buf() sums 4-byte words). */
static __always_inline void stash_pad(struct maglb_splice *sp)
{
	/* have is 1..MAGLB_HEAD_MAX here: helper_len's range is the bound */
	__u32 end = helper_len(sp->have, MAGLB_HEAD_MAX);

	sp->payload[end] = 0;
	sp->payload[end + 1] = 0;
	sp->payload[end + 2] = 0;
}

/*
 * A client segment at stream offset off: keep its bytes past what sp
 * holds, if it starts at or before that end. Returns the bytes kept (0:
 * nothing new, a duplicate or past a gap), or -1 with *why set. The
 * segment is checked whole (sc->splice.seg_copy is the copy) before any byte is kept.
 */
static __always_inline int stash_take(CTX *ctx, const struct pkt *p,
				      struct maglb_splice *sp,
				      struct maglb_scratch *sc, __u32 off,
				      __u32 hlen, __u32 plen,
				      enum maglb_reason *why)
{
	__u32 have = sp->have, end = off + plen, n;
	int rc;

	if (off > have || end <= have || have >= MAGLB_HEAD_MAX)
		return 0;
	if (end > MAGLB_HEAD_MAX)
		end = MAGLB_HEAD_MAX;
	n = end - have;
	rc = seg_payload_load(ctx, p, &sc->seg.opts, hlen, plen, sc->splice.seg_copy);
	if (rc) {
		*why = rc;
		return -1;
	}
	if (ctx_load_bytes(ctx, p->l4_off + hlen + (have - off),
			   sp->payload + buf_idx(have, MAGLB_HEAD_MAX), n,
			   MAGLB_SEG_BUF)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return -1;
	}
	sp->have = have + n;
	stash_pad(sp);
	if (sc->seg.opts.ts_ok)
		sp->tsval_client = sc->seg.opts.tsval;
	sp->window = bpf_ntohs(((struct tcphdr *)p->ports)->window);
	return n;
}

/* Head bytes per http_loop_cb call. More than HTTP_CHUNK: most bytes
 * only pass http_feed's inline test, so the bpf_loop call per chunk is
 * a large part of their cost; the callback is verified once, so a longer
 * chunk costs the verifier its length, not more states. */
#define HEAD_CHUNK	32

struct http_loop {
	struct http_parser *ps;
	const __u8 *buf;	/* a maglb_splice payload */
	__u32 from;
	__u32 to;
	__u32 done;		/* the parser needs no more bytes */
};

static __noinline long http_loop_cb(__u32 i, void *data)
{
	struct http_loop *l = data;
	__u32 j, at;

#pragma unroll
	for (j = 0; j < HEAD_CHUNK; j++) {
		at = l->from + i * HEAD_CHUNK + j;
		if (at >= l->to)
			return 1;
		/* The mask, not the test above, is what the verifier can
		 * use. A callback must return exactly 0 or 1. */
		if (http_feed(l->ps, l->buf[buf_idx(at, MAGLB_HEAD_MAX)])) {
			l->done = 1;
			return 1;
		}
	}
	return 0;
}

/* Feed the parser in sc->splice.ps payload[from..to). True when it is done:
 * the head's end, the key and the Host, or not HTTP. */
static __always_inline bool stash_parse(struct maglb_scratch *sc,
					const __u8 *payload, __u32 from,
					__u32 to)
{
	struct http_loop loop = { .ps = &sc->splice.ps, .buf = payload,
				  .from = from, .to = to };

	if (to > from)
		bpf_loop((to - from + HEAD_CHUNK - 1) / HEAD_CHUNK,
			 http_loop_cb, &loop, 0);
	return loop.done;
}

/* Answer a client segment from the VIP: everything held is acknowledged,
 * with the window that ends at MAGLB_HEAD_MAX. Our TSval stays the
 * SYN-ACK's: the backend's, shifted onto it later, must not run behind. */
static __always_inline int stash_ack(CTX *ctx, struct pkt *p,
				     const struct maglb_splice *sp,
				     struct maglb_scratch *sc)
{
	struct seg *s = &sc->seg.seg;

	seg_answer(s, &p->flow);
	s->seq = sp->isn_cookie + 1;
	s->ack = sp->isn_client + 1 + sp->have;
	s->flags = TCP_F_ACK;
	s->window = stash_window(sp);
	seg_ts_opts(s, sp->ts_ok, sp->tsval_ours, sp->tsval_client);
	if (seg_write(ctx, p, s, NULL, 0, 0, &sc->seg.tbuf))
		return ACT_DROP;
	return egress_back(ctx, p);
}

/*
 * Turn the frame in hand into the held bytes from offset `from` to the
 * backend: one segment of at most sp->chunk bytes, acknowledging ack_b
 * (the backend's next sequence number), with TSecr tsecr_b.
 */
static __always_inline int stash_send(CTX *ctx, struct pkt *p,
				      const struct maglb_splice *sp,
				      const struct maglb_ct_entry *fwd,
				      __u32 from, __u32 ack_b, __u8 ts,
				      __u32 tsecr_b, struct maglb_scratch *sc,
				      enum maglb_reason *why)
{
	struct seg *s = &sc->seg.seg;
	const __u8 *data;
	__u32 n;

	if (from >= sp->have || from >= MAGLB_HEAD_MAX || !sp->chunk) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	n = sp->have - from;
	if (n > sp->chunk)
		n = sp->chunk;
	seg_to_backend(s, fwd);
	s->seq = sp->isn_client + 1 + from;
	s->ack = ack_b;
	s->flags = TCP_F_ACK | (from + n == sp->have ? TCP_F_PSH : 0);
	s->window = sp->window;	/* the backend knows the client's scale */
	seg_ts_opts(s, ts, sp->tsval_client, tsecr_b);
	/* A chunk is a multiple of 4 bytes, so csum_buf's words stop at its
	 * end, or the last one ends at `have`, where the padding is. */
	data = sp->payload + buf_idx(from, MAGLB_HEAD_MAX);
	if (n > MAGLB_SEG_MAX ||
	    seg_write(ctx, p, s, data, n, csum_buf(data, n), &sc->seg.tbuf)) {
		*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
		return ACT_DROP;
	}
	return forward_to_backend(ctx, p, fwd, why, &sc->l4.fib);
}

/* Payload per segment toward a backend that said MSS mss (0: none, so
 * 536), with timestamps or not: a multiple of 4 (see stash_send). */
static __always_inline __u16 stash_chunk(__u16 mss, __u8 ts)
{
	__u32 n = mss ? mss : 536;

	if (ts)
		n -= 12;
	if (n > MAGLB_SEG_MAX)
		n = MAGLB_SEG_MAX;
	return n & ~3U;
}

#endif /* MAGLB_BPF_STASH_H */
