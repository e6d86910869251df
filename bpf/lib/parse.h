/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - bounds-checked header parsing for the XDP entry point.
 *
 * parse_packet() fills struct pkt and returns PARSE_OK, PARSE_FRAG or
 * PARSE_TRUNC_L4 (the caller decides by destination whether those are
 * ours), or a pass reason (enum maglb_reason) for anything that can never be
 * a VIP packet. The rule for bad input: whatever we cannot read far enough to
 * judge is passed to the kernel, which validates and drops it itself; we
 * never rewrite a packet whose headers we did not fully read.
 */
#ifndef MAGLB_BPF_PARSE_H
#define MAGLB_BPF_PARSE_H

#include "maglb.h"
#include "ctx.h"
#include "bounded.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF
#define MAX_VLAN_DEPTH	2
#define IPV6_NH_FRAGMENT	44

#define PARSE_OK	(-1)
#define PARSE_FRAG	(-2)
#define PARSE_TRUNC_L4	(-3)

struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;	/* exactly one of ip4/ip6 is set */
	struct ipv6hdr *ip6;
	__be16 *ports;		/* sport, dport of TCP or UDP */
	__sum16 *l4_csum;
	struct maglb_flow flow;
	__u32 len;		/* frame length, for byte counters */
	__u16 l3_off;		/* after Ethernet and VLAN tags */
	__u16 l4_off;
	__u8 tcp_flags;		/* TCP_F_* below; 0 for UDP */
};

#define TCP_F_FIN	0x01
#define TCP_F_SYN	0x02
#define TCP_F_RST	0x04
#define TCP_F_PSH	0x08
#define TCP_F_ACK	0x10

static __always_inline int parse_l4(struct pkt *p, void *l4, void *end)
{
	if (p->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end || th->doff < 5 ||
		    l4 + th->doff * 4 > end)
			return PARSE_TRUNC_L4;
		p->l4_csum = &th->check;
		/* Byte 13 holds the flags; the bitfields would cost 4 loads. */
		p->tcp_flags = ((__u8 *)th)[13];
	} else {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return PARSE_TRUNC_L4;
		p->l4_csum = &uh->check;
	}
	p->ports = l4;
	p->flow.sport = p->ports[0];
	p->flow.dport = p->ports[1];
	return PARSE_OK;
}

static __always_inline int parse_ipv4(struct pkt *p, struct iphdr *ip,
				      void *end)
{
	__u32 hlen;

	if ((void *)(ip + 1) > end)
		return MAGLB_PASS_MALFORMED_L3;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return MAGLB_PASS_MALFORMED_L3;
	if ((void *)ip + hlen > end)
		return MAGLB_PASS_MALFORMED_L3;
	/* A tot_len beyond the frame means the datagram was cut short. */
	if (be16_len(ip->tot_len) < hlen ||
	    (void *)ip + be16_len(ip->tot_len) > end)
		return MAGLB_PASS_MALFORMED_L3;
	p->ip4 = ip;
	p->flow.family = MAGLB_AF_INET;
	p->flow.proto = ip->protocol;
	p->flow.saddr.v4 = ip->saddr;
	p->flow.daddr.v4 = ip->daddr;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return MAGLB_PASS_NOT_L4;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PARSE_FRAG;
	p->l4_off = p->l3_off + hlen;
	return parse_l4(p, (void *)ip + hlen, end);
}

/* IANA's IPv6 extension header numbers, fragment (44) aside. */
static __always_inline bool ipv6_ext_hdr(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 50 || nh == 51 || nh == 60 ||
	       nh == 135 || nh == 139 || nh == 140 || nh == 253 || nh == 254;
}

static __always_inline int parse_ipv6(struct pkt *p, struct ipv6hdr *ip6,
				      void *end)
{
	if ((void *)(ip6 + 1) > end)
		return MAGLB_PASS_MALFORMED_L3;
	if (ip6->version != 6 ||
	    (void *)(ip6 + 1) + be16_len(ip6->payload_len) > end)
		return MAGLB_PASS_MALFORMED_L3;
	p->ip6 = ip6;
	p->flow.family = MAGLB_AF_INET6;
	p->flow.proto = ip6->nexthdr;
	__builtin_memcpy(&p->flow.saddr, &ip6->saddr, 16);
	__builtin_memcpy(&p->flow.daddr, &ip6->daddr, 16);
	/* Stated rule: only TCP/UDP directly after the fixed header are ours.
	 * A fragment header makes it a fragment; any other extension header
	 * (hop-by-hop, routing, destination options, AH, ESP, mobility, HIP,
	 * shim6, experimental) is not skipped over: such packets go to the
	 * kernel untouched, counted as pass_ipv6_ext. Rewriting them would
	 * mean rewriting (or dropping) the headers, and a routing header's
	 * final address changes the TCP checksum. */
	if (ip6->nexthdr == IPV6_NH_FRAGMENT)
		return PARSE_FRAG;
	if (ipv6_ext_hdr(ip6->nexthdr))
		return MAGLB_PASS_IPV6_EXT;
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
		return MAGLB_PASS_NOT_L4;
	p->l4_off = p->l3_off + sizeof(*ip6);
	return parse_l4(p, ip6 + 1, end);
}

/* The TCP header, re-proven: parsing checked all 20 bytes, but a later
 * reader cannot show the verifier that p->ports came from the TCP branch
 * (UDP proved 8 bytes). NULL if the packet is not TCP. */
static __always_inline struct tcphdr *pkt_tcp(CTX *ctx,
					      const struct pkt *p)
{
	struct tcphdr *th = (struct tcphdr *)p->ports;

	if (!th || p->flow.proto != IPPROTO_TCP ||
	    (void *)(th + 1) > ctx_data_end(ctx))
		return NULL;
	return th;
}

/* Bytes of the IP datagram (header included), from its length fields. */
static __always_inline __u32 pkt_l3_len(const struct pkt *p)
{
	if (p->ip4)
		return be16_len(p->ip4->tot_len);
	if (p->ip6)
		return sizeof(struct ipv6hdr) + be16_len(p->ip6->payload_len);
	return 0;
}

static __always_inline int parse_packet(CTX *ctx, struct pkt *p)
{
	void *data = ctx_data(ctx);
	void *end = ctx_data_end(ctx);
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__u16 off = sizeof(*eth);
	__be16 proto;
	int i;

	/* Re-parsing after a resize: no stale pointer may survive. */
	p->ip4 = NULL;
	p->ip6 = NULL;
	p->ports = NULL;
	p->l4_csum = NULL;
	p->tcp_flags = 0;
	p->len = end - data;
	if (cur > end)
		return MAGLB_PASS_MALFORMED_L2;
	p->eth = eth;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < MAX_VLAN_DEPTH; i++) {
		struct vlan_hdr *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return MAGLB_PASS_MALFORMED_L2;
		proto = vh->h_vlan_encapsulated_proto;
		cur = vh + 1;
		off += sizeof(*vh);
	}
	p->l3_off = off;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(p, cur, end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(p, cur, end);
	return MAGLB_PASS_NON_IP;
}

#endif /* MAGLB_BPF_PARSE_H */
