/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp.h - a packet too big for where it goes next becomes, in place, the
 * ICMP that tells its sender so: "fragmentation needed" (type 3 code 4)
 * with the next-hop MTU for IPv4, Packet Too Big (type 2) for IPv6. The
 * sender's kernel finds its socket by the quoted header, lowers the path
 * MTU and resends smaller. Two callers (maglb.bpf.c): the FIB says the
 * egress device's MTU is too small (forward.h, MAGLB_PASS_FIB_FRAG), and a
 * spliced client segment is bigger than the backend's MSS allows
 * (maglb_ct_entry.l3_max, from its SYN-ACK in splice.h).
 *
 * The quote must be the packet as its sender wrote it, or no socket
 * matches: the caller gives the flow as it arrived and what it added to
 * the sequence number (a spliced reply's seq_add); the rest of the quoted
 * IP header is the packet's own. We quote the IP header and 8 bytes of L4
 * (ports and sequence number): all that RFC 792 asks, and all that Linux,
 * the BSDs and Windows read; more would carry NATed bytes the sender never
 * sent. The answer comes from the address the packet was sent to (the VIP,
 * for a client's): the one address the sender knows is on this path, and
 * a node address may not be routable from it.
 */
#ifndef MAGLB_BPF_ICMP_H
#define MAGLB_BPF_ICMP_H

#include "csum.h"
#include "parse.h"
#include "egress.h"
#include "icmp_frame.h"

#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMPV6_PKT_TOOBIG	2
#define IPPROTO_ICMP_		1
#define IPPROTO_ICMPV6_		58

/* Should an IPv4 packet bigger than the path get an ICMP? Only with DF:
 * without it, a router fragments (RFC 791), and so does the kernel. */
static __always_inline bool icmp_df(const struct pkt *p)
{
	return !p->ip4 || (p->ip4->frag_off & bpf_htons(0x4000));
}

/*
 * Turn the packet in hand into the ICMP too-big for its sender, and send
 * it back out of the device it came in by. orig: the flow as the packet
 * arrived; seq_add: added to its TCP sequence number since (0: none).
 * Returns an action and sets *why: MAGLB_ICMP_TOO_BIG, or a drop reason
 * when the packet cannot be quoted (IPv4 options, no room). Invalidates
 * every packet pointer.
 */
static __always_inline int icmp_too_big(CTX *ctx, struct pkt *p,
					const struct maglb_flow *orig,
					__u32 seq_add, __u32 mtu,
					union icmp_frame *f,
					enum maglb_reason *why)
{
	__u32 l3 = p->l3_off, len;
	__be32 *seqp;
	__u64 sum;

	*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
	if (l3 > 22 || !p->ports ||
	    (void *)p->ports + 8 > ctx_data_end(ctx))
		return ACT_DROP;
	seqp = (__be32 *)(p->ports + 2);
	__builtin_memset(f, 0, sizeof(*f));
	if (p->ip4) {
		struct icmp4_frame *i = &f->v4;

		if (p->l4_off != l3 + sizeof(struct iphdr))
			return ACT_DROP;	/* options: not worth quoting */
		i->qip = *p->ip4;
		i->qip.saddr = orig->saddr.v4;
		i->qip.daddr = orig->daddr.v4;
		i->qip.check = 0;
		i->qip.check = ~csum_fold64(sum_words(&i->qip, 20, 0));
		i->qports[0] = orig->sport;
		i->qports[1] = orig->dport;
		i->qseq = orig->proto == IPPROTO_TCP ?
			  bpf_htonl(bpf_ntohl(*seqp) - seq_add) : *seqp;
		i->type = ICMP_DEST_UNREACH;
		i->code = ICMP_FRAG_NEEDED;
		i->mtu = bpf_htons(mtu);
		i->check = ~csum_fold64(sum_words(&i->type, 36, 0));
		i->ip.version = 4;
		i->ip.ihl = 5;
		i->ip.tos = 0xc0;	/* internetwork control, as Linux */
		i->ip.ttl = 64;
		i->ip.protocol = IPPROTO_ICMP_;
		i->ip.tot_len = bpf_htons(sizeof(*i));
		i->ip.saddr = orig->daddr.v4;
		i->ip.daddr = orig->saddr.v4;
		i->ip.check = ~csum_fold64(sum_words(&i->ip, 20, 0));
		len = sizeof(*i);
	} else if (p->ip6) {
		struct icmp6_frame *i = &f->v6;

		i->qip6 = *p->ip6;
		__builtin_memcpy(&i->qip6.saddr, &orig->saddr, 16);
		__builtin_memcpy(&i->qip6.daddr, &orig->daddr, 16);
		i->qports[0] = orig->sport;
		i->qports[1] = orig->dport;
		i->qseq = orig->proto == IPPROTO_TCP ?
			  bpf_htonl(bpf_ntohl(*seqp) - seq_add) : *seqp;
		i->type = ICMPV6_PKT_TOOBIG;
		i->mtu = bpf_htonl(mtu);
		i->ip6.version = 6;
		i->ip6.hop_limit = 64;
		i->ip6.nexthdr = IPPROTO_ICMPV6_;
		i->ip6.payload_len = bpf_htons(sizeof(*i) - sizeof(i->ip6));
		__builtin_memcpy(&i->ip6.saddr, &orig->daddr, 16);
		__builtin_memcpy(&i->ip6.daddr, &orig->saddr, 16);
		/* pseudo-header: addresses, length, next header */
		sum = sum_words(&i->ip6.saddr, 16, 0);
		sum = sum_words(&i->ip6.daddr, 16, sum);
		sum += bpf_htons(sizeof(*i) - sizeof(i->ip6)) +
		       bpf_htons(IPPROTO_ICMPV6_);
		sum = sum_words(&i->type, 56, sum);
		i->check = ~csum_fold64(sum);
		len = sizeof(*i);
	} else {
		return ACT_DROP;
	}
	/* Shrink (a too-big packet is always longer than its answer), then
	 * write; the MACs and VLAN tags stay and are swapped below. */
	if (p->len < l3 + len || ctx_resize(ctx, l3 + len, p->len) ||
	    ctx_store_bytes(ctx, l3, f, len, 128))
		return ACT_DROP;
	p->eth = ctx_data(ctx);
	if ((void *)(p->eth + 1) > ctx_data_end(ctx))
		return ACT_DROP;
	p->len = l3 + len;
	*why = MAGLB_ICMP_TOO_BIG;
	return egress_back(ctx, p);
}

#endif /* MAGLB_BPF_ICMP_H */
