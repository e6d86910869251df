/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cookie.h - sticky sessions for clients that send no cookie (Envoy
 * Gateway's consistentHash.cookie with a ttl).
 *
 * The value: 16 lowercase hex digits of the connection's Tuple hash
 * (addresses and ports, XXH64), so any node derives the same value for the
 * same connection. The connection is balanced by that value's key hash,
 * exactly as if the client had sent it, so its next connection, which
 * carries the cookie, lands on the same backend with no state anywhere.
 *
 * The answer: the backend's first response gets a Set-Cookie line after
 * its status line (maglb_cookies holds the line). That segment must grow,
 * which XDP cannot do on veth, so XDP passes it to TC (pass_to_tc) and
 * TC rewrites it whole with seg_write(). Room is made in advance: the MSS
 * offered to the backend is the client's less the line's length, so the
 * grown segment still fits the client's MSS. From then on the reply
 * side's sequence numbers are shifted by the line's length, and the
 * client's acks and SACK edges back; a retransmitted first segment gets
 * the same line again. The rewrite itself is splice.h's cookie_insert().
 */
#ifndef MAGLB_BPF_COOKIE_H
#define MAGLB_BPF_COOKIE_H

#include "maps.h"
#include "conntrack.h"

/* Cookie generation and insertion's part of the per-CPU scratch
 * (scratch.h). */
struct cookie_scratch {
	__u64 val;			/* a generated cookie */
	__u8 grow[2 * MAGLB_SEG_BUF];	/* a response with Set-Cookie: its
					 * first bytes (cookie_fits), then
					 * all of it (cookie_insert.h) */
};

/* 16 lowercase hex digits of v, most significant first. */
static __always_inline void cookie_hex(__u8 *dst, __u64 v)
{
	int i;

#pragma unroll
	for (i = 0; i < 16; i++) {
		__u8 n = (v >> (60 - 4 * i)) & 15;

		dst[i] = n < 10 ? '0' + n : 'a' + n - 10;
	}
}

/* The generated value v as a key block: what a client sending the cookie
 * with this value would be hashed by. */
static __always_inline void cookie_key(struct maglb_key_block *k, __u64 v)
{
	__builtin_memset(k, 0, sizeof(*k));
	cookie_hex(k->v, v);
	k->len = 16;
}

/* A reply segment that starts the response: it gets the Set-Cookie. */
static __always_inline bool cookie_due(CTX *ctx, struct pkt *p,
				       const struct maglb_ct_entry *ct)
{
	struct tcphdr *th;

	if (!(ct->flags & MAGLB_CT_F_SET_COOKIE) || !pkt_tcp(ctx, p))
		return false;
	th = (struct tcphdr *)p->ports;
	return bpf_ntohl(th->seq) == ct->cookie_seq &&
	       p->l3_off + pkt_l3_len(p) > p->l4_off + th->doff * 4;
}

/* Where the status line ends: a bpf_loop callback over the payload,
 * HTTP_CHUNK bytes per call (each call is an indirect call; see http.h). */
struct nl_find {
	const __u8 *buf;
	__u32 len;
	__u32 at;		/* out: index after the first '\n', 0 = none */
};

static __noinline long nl_step(__u32 i, void *data)
{
	struct nl_find *f = data;
	__u32 j, k;

#pragma unroll
	for (j = 0; j < HTTP_CHUNK; j++) {
		k = i * HTTP_CHUNK + j;
		if (k >= f->len)
			return 1;
		if (f->buf[buf_idx(k, MAGLB_COOKIE_LINE_MAX)] == '\n') {
			f->at = k + 1;
			return 1;
		}
	}
	return 0;
}

/*
 * Can this response segment take the line (len bytes) after its status
 * line? Its first bytes are left in cs->grow. Returns the offset after the
 * status line's '\n', or 0.
 */
static __always_inline __u32 cookie_fits(CTX *ctx, const struct pkt *p,
					 struct cookie_scratch *cs, __u32 len)
{
	struct tcphdr *th = (struct tcphdr *)p->ports;
	__u32 hlen = th->doff * 4, plen, n;
	struct nl_find nf = {};

	plen = p->l3_off + pkt_l3_len(p) - p->l4_off - hlen;
	if (!plen || plen > MAGLB_SEG_MAX || len > MAGLB_COOKIE_LINE_MAX ||
	    plen + len > MAGLB_SEG_MAX)
		return 0;
	n = plen < MAGLB_COOKIE_LINE_MAX ? plen : MAGLB_COOKIE_LINE_MAX;
	if (ctx_load_bytes(ctx, p->l4_off + hlen, cs->grow, n,
			   MAGLB_COOKIE_LINE_MAX))
		return 0;
	nf.buf = cs->grow;
	nf.len = n;
	bpf_loop(MAGLB_COOKIE_LINE_MAX / HTTP_CHUNK, nl_step, &nf, 0);
	return nf.at <= MAGLB_COOKIE_LINE_MAX ? nf.at : 0;
}

/*
 * XDP, before it passes the response's first segment to TC: commit the
 * shift now. The next segments may be translated here before TC has run,
 * and must already count the line. A segment that cannot take the line
 * (no status line in its first 256 bytes) gets none: no cookie, no shift.
 * Returns true when TC is to insert it.
 */
static __always_inline bool cookie_commit(CTX *ctx, const struct pkt *p,
					  struct maglb_ct_entry *ct,
					  struct l4_scratch *l4,
					  struct cookie_scratch *cs)
{
	struct maglb_ct_entry *fwd;

	if (ct->flags & MAGLB_CT_F_COOKIE_SENT)
		return true;		/* a resend: insert again */
	if (!cookie_fits(ctx, p, cs, ct->cookie_len)) {
		ct->flags &= ~MAGLB_CT_F_SET_COOKIE;
		return false;
	}
	reply_key(&l4->key1, &p->flow, ct);
	fwd = ct_lookup(&l4->key1, &l4->k4);
	if (fwd) {
		fwd->ack_add -= ct->cookie_len;
		fwd->sack_add -= ct->cookie_len;
	}
	ct->seq_add += ct->cookie_len;
	ct->flags |= MAGLB_CT_F_COOKIE_SENT;
	return true;
}


#endif /* MAGLB_BPF_COOKIE_H */
