// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cookie.c - which backend a head's cookie picks: the fallback without one,
 * and a cookie maglb generates (service "gen", ttl 60s): the backend its
 * value names, the MSS made room for it, Set-Cookie in the first response
 * and the stream shifted by it.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck (10.10.0.110), gen (.111); clients
 * 10.10.0.2:45010, 47000-47001.
 */
#include "pkt.h"

PKT_TEST(head_without_the_cookie_falls_back_to_source_ip)
{
	struct hs h = { .sport = 45010, .isn = 80000 };
	__u64 b = reason_count(MAGLB_KEY_FALLBACK);
	struct svc_item it = {};
	struct maglb_backend be;
	struct maglb_flow f = {};
	struct pkt_view v;
	__u32 *slots, size;
	struct run r;
	char want[64];

	/* A complete head without the cookie: decided by the fallback. */
	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n\r\n",
		    &r, &v))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - b, 1);
	find_svc("ck", &it);
	inet_pton(AF_INET, "10.10.0.2", &f.saddr);
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(maglb_flow_hash(&f,
			 MAGLB_HASH_SOURCE_IP), size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(v.dst, want), "fallback went to %s, SourceIP says %s",
		    v.dst, want);
	return 0;
}

#define GEN_LINE "Set-Cookie: FooBar=\"%016llx\"; Max-Age=60; Path=/; SameSite=Strict; HttpOnly\r\n"

#define GEN_LINE_LEN 86

/* The value a connection from sport gets, and where it must land. */
static int gen_expect(unsigned short sport, char *value, char *backend)
{
	struct maglb_flow k;
	struct svc_item it = {};
	struct maglb_backend be;
	__u32 *slots, size;
	char kv[64];
	__u64 hash;

	client_key("10.10.0.111", sport, &k);
	snprintf(value, 17, "%016llx",
		 (unsigned long long)maglb_flow_hash(&k, MAGLB_HASH_TUPLE));
	snprintf(kv, sizeof(kv), "FooBar=%s", value);
	find_svc("gen", &it);
	if (kv_key_hash(&it.svc, kv, &hash) || maps_read_ring(&maps, it.svc.id, &slots, &size))
		return -1;
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, backend, 64);
	return 0;
}

PKT_TEST(client_without_cookie_lands_by_a_generated_one_with_room_made)
{
	struct hs h = { .vip = "10.10.0.111", .sport = 47000, .isn = 3000 };
	__u64 gen = reason_count(MAGLB_COOKIE_GENERATED);
	char value[17], want[64];
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n\r\n", &r, &v) ||
	    gen_expect(h.sport, value, want))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_COOKIE_GENERATED) - gen, 1);
	ASSERT_TRUE(!strcmp(v.dst, want), "SYN to %s, FooBar=%s hashes to %s",
		    v.dst, value, want);
	/* the client's 1460, less the line the response will carry */
	ASSERT_TRUE(view_opt(&v, 2), "no MSS");
	ASSERT_EQ((view_opt(&v, 2)[2] << 8) | view_opt(&v, 2)[3], 1460 - GEN_LINE_LEN);
	return 0;
}

/* The response's first segment: XDP passes it up, TC inserts the line
 * after the status line; later segments and the client's acks are
 * shifted by it, and a resend of the first gets the line again. */
PKT_TEST(first_response_carries_set_cookie_and_the_stream_shifts)
{
	struct hs h = { .vip = "10.10.0.111", .sport = 47001, .isn = 4000,
			.isn_b = 600000 };
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	unsigned char bts[12] = { 1, 1, 8, 10, 0, 0, 0x13, 0xec, 0, 0, 0x03, 0x20 };
	char value[17], want[64], line[128], expect[256];
	int rl = strlen(resp), round;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n\r\n", &r, &v) ||
	    gen_expect(h.sport, value, want))
		return -1;
	ASSERT_TRUE(!strcmp(h.backend, want), "SYN to %s, want %s", h.backend, want);
	if (hs_splice(&h, &s, &r))
		return -1;
	snprintf(line, sizeof(line), GEN_LINE, (unsigned long long)strtoull(value, NULL, 16));
	ASSERT_EQ((int)strlen(line), GEN_LINE_LEN);
	snprintf(expect, sizeof(expect), "HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok", line);

	for (round = 0; round < 2; round++) {	/* the second is a resend */
		s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
			.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
			.tcp_flags = TF_ACK | TF_PSH, .seq = h.isn_b + 1,
			.ack = h.isn + 1 + 47, .opts = bts, .optlen = 12,
			.data = resp, .window = 100 };
		ASSERT_OK(run_grown(&s, "b0", &r, &v));
		ASSERT_TRUE(!strcmp(v.src, "10.10.0.111"), "src %s", v.src);
		ASSERT_EQ(v.seq, h.cookie + 1);
		ASSERT_EQ(v.datalen, rl + GEN_LINE_LEN);
		ASSERT_TRUE(!memcmp(v.data, expect, v.datalen), "payload %.*s",
			    v.datalen, v.data);
	}
	/* the next segment, in XDP, lands after the line */
	s.seq = h.isn_b + 1 + rl;
	s.data = "more";
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.seq, h.cookie + 1 + rl + GEN_LINE_LEN);
	/* the client's ack of it all goes back without the line */
	s = (struct pkt_spec){ .family = 4, .src = "10.10.0.2", .sport = h.sport,
		.dst = "10.10.0.111", .dport = 80, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h.isn + 1 + 47,
		.ack = h.cookie + 1 + rl + GEN_LINE_LEN + 4, .opts = h.ts_opts,
		.optlen = 12 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums client->backend");
	ASSERT_EQ(v.ack, h.isn_b + 1 + rl + 4);
	return 0;
}
