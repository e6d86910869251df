/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpseg.h - turn the frame in hand into a different TCP segment: XDP cannot
 * create packets, so the SYN we got becomes our SYN-ACK, the client's first
 * data becomes our SYN to the backend, and the backend's SYN-ACK becomes the
 * ACK that carries the stashed data. The Ethernet header and VLAN tags stay;
 * everything after them is rewritten through bpf_xdp_store_bytes() from
 * stack copies, with checksums computed in full. Afterwards every packet
 * pointer is stale, so seg_write() re-parses into *p.
 */
#ifndef MAGLB_BPF_TCPSEG_H
#define MAGLB_BPF_TCPSEG_H

#include "csum.h"
#include "parse.h"
#include "tcpopt.h"

struct seg {
	union maglb_addr saddr;
	union maglb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u32 seq;		/* host order */
	__u32 ack;
	__u16 window;
	__u8 flags;
	__u8 optlen;		/* multiple of 4, <= 40 */
	__u8 opts[TCPOPT_MAX];
};

struct tcp_hdr_buf {
	struct tcphdr th;
	__u8 opts[TCPOPT_MAX];
	union {				/* the IP header being built */
		struct iphdr ip;
		struct ipv6hdr ip6;
	} l3;
};

/* The segment step's part of the per-CPU scratch (scratch.h), shared by
 * every feature that reads a segment's options or writes a segment: the
 * splice path, the steady-state translation, cookie insertion. */
struct seg_scratch {
	struct tcp_opts opts;		/* the segment in hand's options */
	struct seg seg;			/* the segment being written */
	struct tcp_hdr_buf tbuf;	/* its headers, as seg_write() builds them */
};

static __always_inline __u64 sum_words(const void *buf, __u32 len, __u64 s)
{
	const __u16 *w = buf;
	__u32 i;

	for (i = 0; i < 30; i++) {
		if (2 * i >= len)
			break;
		s += w[i];
	}
	return s;
}

static __always_inline __u64 pseudo_sum(const struct seg *s, __u8 family,
					__u32 l4len)
{
	__u64 sum = 0;

	if (family == MAGLB_AF_INET) {
		sum += s->saddr.v4;
		sum += s->daddr.v4;
	} else {
		sum = sum_words(&s->saddr, 16, sum);
		sum = sum_words(&s->daddr, 16, sum);
	}
	return sum + bpf_htons(IPPROTO_TCP) + bpf_htons(l4len);
}

/* A fresh segment from the VIP back to the flow's sender. */
static __always_inline void seg_answer(struct seg *s, const struct maglb_flow *f)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->saddr = f->daddr;
	s->daddr = f->saddr;
	s->sport = f->dport;
	s->dport = f->sport;
}

/* A fresh segment from our side of the backend connection to it. */
static __always_inline void seg_to_backend(struct seg *s,
					   const struct maglb_ct_entry *fwd)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->saddr = fwd->nat_saddr;
	s->daddr = fwd->nat_daddr;
	s->sport = fwd->nat_sport;
	s->dport = fwd->nat_dport;
}

/* Write segment s after the frame's L2 header, with plen bytes of payload
 * from payload (whose one's complement sum is psum). 0 on success. */
static __always_inline int seg_write(CTX *ctx, struct pkt *p,
				     const struct seg *s, const __u8 *payload,
				     __u32 plen, __u32 psum,
				     struct tcp_hdr_buf *t)
{
	__u8 family = p->flow.family;
	__u32 l3 = p->l3_off, iplen = family == MAGLB_AF_INET ? 20 : 40;
	__u32 tcplen = 20 + (s->optlen & 0x3c);
	__u64 sum;

	if (l3 > 22 || plen > MAGLB_SEG_MAX || tcplen > 20 + TCPOPT_MAX)
		return -1;
	if (ctx_resize(ctx, l3 + iplen + tcplen + plen, p->len))
		return -1;

	__builtin_memset(&t->l3, 0, sizeof(t->l3));
	if (family == MAGLB_AF_INET) {
		struct iphdr *ip = &t->l3.ip;

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		ip->frag_off = bpf_htons(0x4000);	/* DF */
		ip->tot_len = bpf_htons(iplen + tcplen + plen);
		ip->saddr = s->saddr.v4;
		ip->daddr = s->daddr.v4;
		ip->check = ~csum_fold64(sum_words(ip, 20, 0));
		if (ctx_store_header(ctx, l3, ip))
			return -1;
	} else {
		struct ipv6hdr *ip6 = &t->l3.ip6;

		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = IPPROTO_TCP;
		ip6->payload_len = bpf_htons(tcplen + plen);
		__builtin_memcpy(&ip6->saddr, &s->saddr, 16);
		__builtin_memcpy(&ip6->daddr, &s->daddr, 16);
		if (ctx_store_header(ctx, l3, ip6))
			return -1;
	}

	__builtin_memset(&t->th, 0, sizeof(t->th) + TCPOPT_MAX);
	t->th.source = s->sport;
	t->th.dest = s->dport;
	t->th.seq = bpf_htonl(s->seq);
	t->th.ack_seq = bpf_htonl(s->ack);
	t->th.doff = tcplen / 4;
	((__u8 *)&t->th)[13] = s->flags;
	t->th.window = bpf_htons(s->window);
	__builtin_memcpy(t->opts, s->opts, TCPOPT_MAX);
	sum = pseudo_sum(s, family, tcplen + plen);
	sum = sum_words(t, tcplen, sum) + psum;
	t->th.check = ~csum_fold64(sum);
	if (ctx_store_bytes(ctx, l3 + iplen, t, tcplen, 64))
		return -1;
	if (plen && payload &&
	    ctx_store_bytes(ctx, l3 + iplen + tcplen, payload, plen,
			    MAGLB_SEG_BUF))
		return -1;
	return parse_packet(ctx, p) == PARSE_OK ? 0 : -1;
}

/* Options of a SYN or SYN-ACK, in Linux's order: MSS, SACK-permitted,
 * timestamps, window scale; absent ones become NOPs (20 bytes always). */
static __always_inline void seg_syn_opts(struct seg *s, __u16 mss, __u8 sack,
					 __u8 ts, __u32 tsval, __u32 tsecr,
					 __u8 wscale)
{
	__u8 *o = s->opts;

	/* Absent options become NOPs, so the block is always 20 bytes. */
	o[0] = TCPOPT_MSS;
	o[1] = 4;
	o[2] = mss >> 8;
	o[3] = mss;
	o[4] = sack ? TCPOPT_SACKOK : TCPOPT_NOP;
	o[5] = sack ? 2 : TCPOPT_NOP;
	o[6] = ts ? TCPOPT_TS : TCPOPT_NOP;
	o[7] = ts ? 10 : TCPOPT_NOP;
	opt_put32(o, 8, ts ? tsval : 0x01010101);
	opt_put32(o, 12, ts ? tsecr : 0x01010101);
	o[16] = TCPOPT_NOP;
	o[17] = wscale != WSCALE_NONE ? TCPOPT_WS : TCPOPT_NOP;
	o[18] = wscale != WSCALE_NONE ? 3 : TCPOPT_NOP;
	o[19] = wscale != WSCALE_NONE ? wscale : TCPOPT_NOP;
	s->optlen = 20;
}

/* NOP, NOP, timestamps: the options of an established segment. */
static __always_inline void seg_ts_opts(struct seg *s, __u8 ts, __u32 tsval,
					__u32 tsecr)
{
	s->optlen = 0;
	if (!ts)
		return;
	s->opts[0] = TCPOPT_NOP;
	s->opts[1] = TCPOPT_NOP;
	s->opts[2] = TCPOPT_TS;
	s->opts[3] = 10;
	opt_put32(s->opts, 4, tsval);
	opt_put32(s->opts, 8, tsecr);
	s->optlen = 12;
}

#endif /* MAGLB_BPF_TCPSEG_H */
