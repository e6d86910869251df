// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mtu.c - path MTU: the SYN-ACK's MSS clamped by a service's mtu, a
 * segment above the backend's MSS answered with ICMP "fragmentation
 * needed", a packet above the egress MTU with Packet Too Big.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck-mtu (10.10.0.112), ck, web6, web;
 * clients 10.10.0.2:45200-45222.
 */
#include "pkt.h"

/* ck-mtu says mtu 1400: its SYN-ACK promises 1360 (not the client's
 * 1460), a smaller client MSS is kept, and the SYN to the backend says
 * the same as the promise. */
PKT_TEST(synack_mss_is_clamped_by_the_service_mtu)
{
	static const unsigned char small[20] = { 2, 4, 0x04, 0xb0, 4, 2, 8, 10,
		0, 0, 0x03, 0x20, 0, 0, 0, 0, 1, 3, 3, 7 };	/* MSS 1200 */
	struct hs h = { .vip = "10.10.0.112", .sport = 45200, .isn = 31000 };
	struct pkt_spec s = { CK, .sport = 45201, .tcp_flags = TF_SYN,
			      .seq = 5, .opts = small, .optlen = 20 };
	struct svc_item it = {};
	struct pkt_view v;
	struct run r;

	find_svc("ck-mtu", &it);
	ASSERT_EQ(it.svc.mtu, 1400);
	s.dst = "10.10.0.112";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ASSERT_EQ(mss_of(&v), 1200);		/* the client's, smaller */

	/* MSS 1460 from the client: the service's 1400 - 40 */
	s = (struct pkt_spec){ CK, .sport = 45200, .tcp_flags = TF_SYN,
			       .seq = 31000, .opts = syn_opts, .optlen = 20 };
	s.dst = "10.10.0.112";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ASSERT_EQ(mss_of(&v), 1360);
	/* the backend SYN, from the first data */
	if (hs_open(&h, REQ("m"), &r, &v))
		return -1;
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(mss_of(&v), 1360);
	/* the plain "ck" (no mtu, routes at 1500) promises 1460 */
	s.dst = "10.10.0.110";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(mss_of(&v), 1460);
	return 0;
}

static __u16 csum16(const void *p, int len, __u32 sum)
{
	return ~fold(sum16(p, len, sum)) & 0xffff;
}

/* An ICMP(v6) too-big in r: its addresses, type, MTU, checksums and the
 * quote of the original packet (addresses, ports, seq as the client sent). */
static int check_too_big(const struct run *r, int family, const char *from,
			 const char *to, unsigned mtu, unsigned short sport,
			 unsigned short dport, unsigned seq, unsigned tot_len)
{
	const __u8 *l3 = r->out + 14, *icmp, *q;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (family == 4) {
		ASSERT_EQ(r->out_len, 14 + 56);
		ASSERT_EQ((r->out[12] << 8) | r->out[13], 0x0800);
		ASSERT_EQ(l3[0], 0x45);
		ASSERT_EQ(l3[9], 1);			/* ICMP */
		ASSERT_EQ((l3[2] << 8) | l3[3], 56);
		ASSERT_EQ(csum16(l3, 20, 0), 0);	/* IP header */
		inet_ntop(AF_INET, l3 + 12, a, sizeof(a));
		inet_ntop(AF_INET, l3 + 16, b, sizeof(b));
		icmp = l3 + 20;
		ASSERT_EQ(icmp[0], 3);
		ASSERT_EQ(icmp[1], 4);
		ASSERT_EQ((icmp[6] << 8) | icmp[7], mtu);
		ASSERT_EQ(csum16(icmp, 36, 0), 0);
		q = icmp + 8;
		ASSERT_EQ(csum16(q, 20, 0), 0);		/* quoted header */
		ASSERT_EQ((q[2] << 8) | q[3], tot_len);
		ASSERT_TRUE(!memcmp(q + 12, l3 + 16, 4) &&
			    !memcmp(q + 16, l3 + 12, 4),
			    "quote's addresses are not the answer's swapped");
		q += 20;
	} else {
		__u32 ph;

		ASSERT_EQ(r->out_len, 14 + 96);
		ASSERT_EQ((r->out[12] << 8) | r->out[13], 0x86dd);
		ASSERT_EQ(l3[6], 58);			/* ICMPv6 */
		ASSERT_EQ((l3[4] << 8) | l3[5], 56);
		inet_ntop(AF_INET6, l3 + 8, a, sizeof(a));
		inet_ntop(AF_INET6, l3 + 24, b, sizeof(b));
		icmp = l3 + 40;
		ASSERT_EQ(icmp[0], 2);
		ASSERT_EQ(icmp[1], 0);
		ASSERT_EQ(get32(icmp + 4), mtu);
		ph = sum16(l3 + 8, 32, 0) + 56 + 58;
		ASSERT_EQ(csum16(icmp, 56, ph), 0);
		q = icmp + 8;
		ASSERT_EQ(((q[4] << 8) | q[5]) + 40, tot_len);
		ASSERT_TRUE(!memcmp(q + 8, l3 + 24, 16) &&
			    !memcmp(q + 24, l3 + 8, 16),
			    "quote's addresses are not the answer's swapped");
		q += 40;
	}
	ASSERT_TRUE(!strcmp(a, from) && !strcmp(b, to), "ICMP %s -> %s", a, b);
	ASSERT_EQ((q[0] << 8) | q[1], sport);
	ASSERT_EQ((q[2] << 8) | q[3], dport);
	ASSERT_EQ(get32(q + 4), seq);
	ASSERT_TRUE(!memcmp(r->out, r->in + 6, 6) &&
		    !memcmp(r->out + 6, r->in, 6), "MACs not swapped");
	return 0;
}

/* The backend answers MSS 1410 (its eth0 at 1450) to our SYN: a client
 * segment of 1500 bytes (its MSS was 1460) is not forwarded but answered
 * with "fragmentation needed, MTU 1450"; one of 1450 goes through. Without
 * DF it is dropped, counted. */
PKT_TEST(segment_above_the_backend_mss_gets_icmp_frag_needed)
{
	static unsigned char opts1410[20] = { 2, 4, 0x05, 0x82, 4, 2, 8, 10,
		0, 0, 0x13, 0x88, 0, 0, 0x03, 0x20, 1, 3, 3, 9 };
	const char *req = REQ("big");
	struct hs h = { .sport = 45210, .isn = 41000, .isn_b = 71000 };
	__u64 b = reason_count(MAGLB_ICMP_TOO_BIG);
	__u64 d = reason_count(MAGLB_DROP_TOO_BIG);
	unsigned seq = h.isn + 1 + strlen(req);
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	s = hs_synack(&h, opts1410);
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_ACK,
		.seq = seq, .ack = h.cookie + 1, .opts = h.ts_opts, .optlen = 12,
		.payload = 1500 - 52, .df = true };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	if (check_too_big(&r, 4, "10.10.0.110", "10.10.0.2", 1450, h.sport, 80,
			  seq, 1500))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_ICMP_TOO_BIG) - b, 1);
	s.df = false;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_TOO_BIG) - d, 1);
	s.df = true;
	s.payload = 1450 - 52;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok && !strcmp(v.dst, h.backend), "not forwarded whole");
	return 0;
}

/* bpf_fib_lookup says frag-needed (b0 takes 1500): an IPv6 packet to a
 * plain service gets Packet Too Big, its quote as the client sent it (to
 * the VIP, not the backend it was rewritten for); IPv4 without DF is left
 * to the kernel, which fragments it. */
PKT_TEST(packet_above_the_egress_mtu_gets_packet_too_big)
{
	struct pkt_spec s = { .family = 6, .src = "fd00:10::2",
			      .dst = "fd00:10::100", .sport = 45220, .dport = 80,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
			      .seq = 777, .ack = 1, .payload = 1560 - 60 };
	__u64 b = reason_count(MAGLB_ICMP_TOO_BIG);
	__u64 f = reason_count(MAGLB_PASS_FIB_FRAG);
	struct run r;

	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	if (check_too_big(&r, 6, "fd00:10::100", "fd00:10::2", 1500, 45220, 80,
			  777, 1560))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_ICMP_TOO_BIG) - b, 1);
	s = (struct pkt_spec){ .family = 4, .src = "10.10.0.2",
			       .dst = "10.10.0.100", .sport = 45221, .dport = 80,
			       .proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
			       .seq = 778, .ack = 1, .payload = 1560 - 40 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_EQ(reason_count(MAGLB_PASS_FIB_FRAG) - f, 1);
	s.df = true;
	s.sport = 45222;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	return check_too_big(&r, 4, "10.10.0.100", "10.10.0.2", 1500, 45222, 80,
			     778, 1560);
}
