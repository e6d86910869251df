/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h - write a conntrack entry's addresses and ports into the packet
 * and fix the IPv4 header and TCP/UDP checksums incrementally. Forward
 * (DNAT/SNAT) and reply (reverse NAT) traffic both come through here: the
 * entry already says what the new source and destination are.
 *
 * We route, so TTL/hop limit drops by one. Returns false when it would
 * reach zero: the caller passes the untouched packet so the kernel can send
 * ICMP time exceeded.
 */
#ifndef MAGLB_BPF_NAT_H
#define MAGLB_BPF_NAT_H

#include "csum.h"
#include "parse.h"

static __always_inline bool nat_rewrite(struct pkt *p,
					const struct maglb_ct_entry *e)
{
	__u32 new_ports = (__u32)e->nat_sport | ((__u32)e->nat_dport << 16);
	__u32 old_ports;
	__u64 l4 = 0;
	int i;

	if (p->ip4) {
		struct iphdr *ip = p->ip4;
		__u16 old_ttl_word, new_ttl_word;
		__u64 l3 = 0;

		if (ip->ttl <= 1)
			return false;
		l3 = csum_delta32(l3, ip->saddr, e->nat_saddr.v4);
		l3 = csum_delta32(l3, ip->daddr, e->nat_daddr.v4);
		l4 = l3;	/* the pseudo-header carries the same addresses */
		/* TTL shares a 16-bit checksum word with the protocol byte. */
		old_ttl_word = *(__u16 *)&ip->ttl;
		ip->ttl--;
		new_ttl_word = *(__u16 *)&ip->ttl;
		l3 = csum_delta16(l3, old_ttl_word, new_ttl_word);
		ip->saddr = e->nat_saddr.v4;
		ip->daddr = e->nat_daddr.v4;
		ip->check = csum_apply(ip->check, l3);
	} else if (p->ip6) {
		struct ipv6hdr *ip6 = p->ip6;
		__be32 *s = (__be32 *)&ip6->saddr, *d = (__be32 *)&ip6->daddr;

		if (ip6->hop_limit <= 1)
			return false;
#pragma unroll
		for (i = 0; i < 4; i++) {
			l4 = csum_delta32(l4, s[i], e->nat_saddr.v6[i]);
			l4 = csum_delta32(l4, d[i], e->nat_daddr.v6[i]);
			s[i] = e->nat_saddr.v6[i];
			d[i] = e->nat_daddr.v6[i];
			/* One word at a time: clang would keep all 16
			 * words live to sum them last, and spill them into
			 * the frame that 6.1 counts with the splice calls'
			 * against the 512-byte limit. */
			asm volatile("" : "+r"(l4) : : "memory");
		}
		ip6->hop_limit--;
	} else {
		return false;
	}

	old_ports = *(__u32 *)p->ports;
	l4 = csum_delta32(l4, old_ports, new_ports);
	*(__u32 *)p->ports = new_ports;

	/* An IPv4 UDP checksum of 0 means "none": keep it that way. */
	if (p->flow.proto == IPPROTO_UDP) {
		if (p->ip4 && *p->l4_csum == 0)
			return true;
		*p->l4_csum = csum_apply(*p->l4_csum, l4);
		if (*p->l4_csum == 0)
			*p->l4_csum = 0xffff;
	} else {
		*p->l4_csum = csum_apply(*p->l4_csum, l4);
	}
	return true;
}

#endif /* MAGLB_BPF_NAT_H */
