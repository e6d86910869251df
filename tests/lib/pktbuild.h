/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktbuild.h - build test frames and check them with a checksum routine
 * written from RFC 1071 alone, independent of the datapath's incremental
 * updates. Header-only; used by tests/pkt.
 */
#ifndef MAGLB_PKTBUILD_H
#define MAGLB_PKTBUILD_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

struct pkt_spec {
	int family;		/* 4 or 6; 0 = ARP frame */
	const char *src, *dst;
	unsigned short sport, dport;
	unsigned char proto;	/* IPPROTO_TCP/UDP/ICMP, or IPv6 next header */
	unsigned char tcp_flags;
	int vlans;		/* 0..3 802.1Q tags */
	int payload;		/* bytes after the L4 header */
	int ttl;		/* 0 = 64 */
	int ip_opt_words;	/* IPv4 options, 32-bit words of NOPs */
	bool frag;		/* IPv4 MF / IPv6 fragment header */
	bool df;		/* IPv4 don't-fragment, as Linux sends TCP */
	bool udp_no_csum;	/* IPv4 UDP checksum 0 */
	int l4_cut;		/* >0: L4 header only this long, lengths agree */
	unsigned int seq, ack;	/* TCP; seq 0 means 1000 */
	const unsigned char *opts;	/* TCP options, optlen % 4 == 0 */
	int optlen;
	const char *data;	/* payload bytes (overrides payload) */
	unsigned short window;	/* 0 means 65535 */
	bool bad_csum;		/* corrupt the L4 checksum */
};

static inline __u32 sum16(const void *data, int len, __u32 sum)
{
	const __u8 *p = data;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static inline __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Full L4 checksum over pseudo-header + segment, in host order. */
static inline __u16 l4_csum(int family, const void *saddr, const void *daddr,
			    int proto, const void *l4, int len)
{
	__u32 s = 0;
	int alen = family == 4 ? 4 : 16;

	s = sum16(saddr, alen, s);
	s = sum16(daddr, alen, s);
	s += proto + len;
	s = sum16(l4, len, s);
	return ~fold(s) & 0xffff;
}

static const __u8 mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const __u8 mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

/* Returns the frame length. */
static inline int pkt_build(const struct pkt_spec *s, __u8 *buf, int cap)
{
	struct ethhdr *eth = (void *)buf;
	__u8 *p = buf + sizeof(*eth), *l3, *l4;
	__u16 etype = s->family == 6 ? ETH_P_IPV6 :
		      s->family == 4 ? ETH_P_IP : ETH_P_ARP;
	int i, l4len, hdr, plen;

	memset(buf, 0, cap);
	memcpy(eth->h_dest, mac_a, 6);
	memcpy(eth->h_source, mac_b, 6);
	for (i = 0; i < s->vlans; i++) {
		__u16 *v = (__u16 *)(p - 2);

		*v = htons(ETH_P_8021Q);
		((__u16 *)p)[0] = htons(100 + i);
		p += 4;
	}
	*(__u16 *)(p - 2) = htons(etype);
	l3 = p;
	if (!s->family)
		return p - buf + 28;	/* ARP body: zeros will do */

	hdr = s->proto == IPPROTO_TCP ? 20 + s->optlen :
	      s->proto == IPPROTO_UDP ? 8 : 8;
	plen = s->data ? (int)strlen(s->data) : s->payload;
	l4len = (s->l4_cut ? s->l4_cut : hdr) + plen;
	if (s->family == 4) {
		struct iphdr *ip = (void *)l3;
		int ihl = 5 + s->ip_opt_words;

		ip->version = 4;
		ip->ihl = ihl;
		ip->ttl = s->ttl ? s->ttl : 64;
		ip->protocol = s->proto;
		ip->tot_len = htons(ihl * 4 + l4len);
		ip->id = htons(0x1234);
		if (s->frag)
			ip->frag_off = htons(0x2000);
		else if (s->df)
			ip->frag_off = htons(0x4000);
		inet_pton(AF_INET, s->src, &ip->saddr);
		inet_pton(AF_INET, s->dst, &ip->daddr);
		memset(l3 + 20, 1, s->ip_opt_words * 4);	/* NOP options */
		l4 = l3 + ihl * 4;
	} else {
		struct ipv6hdr *ip6 = (void *)l3;

		ip6->version = 6;
		ip6->hop_limit = s->ttl ? s->ttl : 64;
		ip6->nexthdr = s->frag ? 44 : s->proto;
		ip6->payload_len = htons(l4len + (s->frag ? 8 : 0));
		inet_pton(AF_INET6, s->src, &ip6->saddr);
		inet_pton(AF_INET6, s->dst, &ip6->daddr);
		l4 = l3 + sizeof(*ip6);
		if (s->frag) {
			l4[0] = s->proto;
			l4[3] = 1;	/* M flag */
			l4 += 8;
		}
	}
	for (i = 0; i < plen; i++)
		l4[(s->l4_cut ? s->l4_cut : hdr) + i] =
			s->data ? s->data[i] : 'a' + i % 26;
	if (s->proto == IPPROTO_TCP && !s->l4_cut) {
		struct tcphdr *th = (void *)l4;

		th->source = htons(s->sport);
		th->dest = htons(s->dport);
		th->seq = htonl(s->seq ? s->seq : 1000);
		th->ack_seq = htonl(s->ack);
		th->doff = hdr / 4;
		((__u8 *)th)[13] = s->tcp_flags;
		th->window = htons(s->window ? s->window : 65535);
		if (s->optlen)
			memcpy(th + 1, s->opts, s->optlen);
	} else if (s->proto == IPPROTO_UDP && !s->l4_cut) {
		struct udphdr *uh = (void *)l4;

		uh->source = htons(s->sport);
		uh->dest = htons(s->dport);
		uh->len = htons(l4len);
	} else if (s->l4_cut >= 4) {
		((__u16 *)l4)[0] = htons(s->sport);
		((__u16 *)l4)[1] = htons(s->dport);
	}
	if (s->family == 4) {
		struct iphdr *ip = (void *)l3;

		ip->check = htons(~fold(sum16(ip, ip->ihl * 4, 0)) & 0xffff);
	}
	if (!s->l4_cut && !s->frag &&
	    (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP)) {
		const void *sa = s->family == 4 ? (void *)&((struct iphdr *)l3)->saddr :
						  (void *)&((struct ipv6hdr *)l3)->saddr;
		const void *da = s->family == 4 ? (void *)&((struct iphdr *)l3)->daddr :
						  (void *)&((struct ipv6hdr *)l3)->daddr;
		__u16 c = l4_csum(s->family, sa, da, s->proto, l4, l4len);

		if (s->proto == IPPROTO_TCP)
			((struct tcphdr *)l4)->check = htons(c ^ (s->bad_csum ? 1 : 0));
		else if (!s->udp_no_csum)
			((struct udphdr *)l4)->check = htons(c ? c : 0xffff);
	}
	return l4 - buf + l4len;
}

/* What a test reads back out of a frame. */
struct pkt_view {
	int family;
	char src[64], dst[64];
	unsigned short sport, dport;
	int ttl, vlans;
	const __u8 *dmac, *smac;
	__u16 udp_csum;
	unsigned int seq, ack;	/* TCP, host order */
	int flags, window;
	const __u8 *opts, *data;	/* TCP options and payload */
	int optlen, datalen;
	bool csum_ok;		/* IPv4 header and L4 checksums verify */
};

static inline int pkt_view(const __u8 *buf, int len, struct pkt_view *v)
{
	const __u8 *p = buf + 14, *l4;
	__u16 etype = (buf[12] << 8) | buf[13];
	int proto, l4len;

	memset(v, 0, sizeof(*v));
	v->dmac = buf;
	v->smac = buf + 6;
	while (etype == ETH_P_8021Q) {
		etype = (p[2] << 8) | p[3];
		p += 4;
		v->vlans++;
	}
	if (etype == ETH_P_IP) {
		const struct iphdr *ip = (const void *)p;

		v->family = 4;
		inet_ntop(AF_INET, &ip->saddr, v->src, sizeof(v->src));
		inet_ntop(AF_INET, &ip->daddr, v->dst, sizeof(v->dst));
		v->ttl = ip->ttl;
		proto = ip->protocol;
		l4 = p + ip->ihl * 4;
		l4len = ntohs(ip->tot_len) - ip->ihl * 4;
		v->csum_ok = fold(sum16(ip, ip->ihl * 4, 0)) == 0xffff;
		if (proto == IPPROTO_UDP && !((const struct udphdr *)l4)->check)
			;	/* no checksum: only the IP header counts */
		else
			v->csum_ok &= l4_csum(4, &ip->saddr, &ip->daddr, proto,
					      l4, l4len) == 0;
	} else if (etype == ETH_P_IPV6) {
		const struct ipv6hdr *ip6 = (const void *)p;

		v->family = 6;
		inet_ntop(AF_INET6, &ip6->saddr, v->src, sizeof(v->src));
		inet_ntop(AF_INET6, &ip6->daddr, v->dst, sizeof(v->dst));
		v->ttl = ip6->hop_limit;
		proto = ip6->nexthdr;
		l4 = p + sizeof(*ip6);
		l4len = ntohs(ip6->payload_len);
		v->csum_ok = l4_csum(6, &ip6->saddr, &ip6->daddr, proto, l4,
				     l4len) == 0;
	} else {
		return -1;
	}
	if (l4 + 4 > buf + len)
		return -1;
	v->sport = (l4[0] << 8) | l4[1];
	v->dport = (l4[2] << 8) | l4[3];
	if (proto == IPPROTO_TCP && l4 + 20 <= buf + len) {
		const struct tcphdr *th = (const void *)l4;

		v->seq = ntohl(th->seq);
		v->ack = ntohl(th->ack_seq);
		v->flags = l4[13];
		v->window = ntohs(th->window);
		v->opts = l4 + 20;
		v->optlen = th->doff * 4 - 20;
		v->data = l4 + th->doff * 4;
		v->datalen = l4len - th->doff * 4;
	}
	if (proto == IPPROTO_UDP)
		v->udp_csum = ((const struct udphdr *)l4)->check;
	return 0;
}

#endif
