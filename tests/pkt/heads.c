// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * heads.c - request heads over several segments (bpf/lib/stash.h): each
 * ACKed and stashed until the head ends, then the backend opened and the
 * head replayed to it in its MSS; out of order, retransmits, overlaps,
 * the limit, a lost stash, a lost segment to the backend.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck (10.10.0.110); clients
 * 10.10.0.2:45300-45308, 45320-45323.
 */
#include "pkt.h"

/*
 * A browser-like head of exactly len bytes: the request line, Host, padding
 * headers, and last the Cookie header with other cookies before FooBar
 * (value val). len 0: no Cookie header and no end (head_too_long).
 */
static int big_head(char *buf, int len, const char *val, bool end)
{
	const char *tail_fmt = "Cookie: _ga=GA1.2.3; sid=abc; FooBar=%s\r\n\r\n";
	char tail[128];
	int n, i = 0;

	n = snprintf(buf, len + 1, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n");
	snprintf(tail, sizeof(tail), tail_fmt, val);
	if (!end)
		tail[0] = 0;
	while (n + (int)strlen(tail) < len) {
		int room = len - n - (int)strlen(tail), w;

		/* "X-Pad-NN: " + value + CRLF, at least 14 bytes a line */
		w = room > 200 ? 200 : room;
		if (room - w > 0 && room - w < 14)
			w = room - 14;
		if (w < 14)
			w = room;
		n += snprintf(buf + n, len + 1 - n, "X-Pad-%02d: %.*s\r\n", i++ % 100,
			      w - 12, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	}
	memcpy(buf + n, tail, strlen(tail) + 1);
	return (int)strlen(buf) == len ? 0 : -1;
}

/* The client's segment with bytes [from, to) of req. */
static struct pkt_spec hs_slice(const struct hs *h, const char *req, int from,
				int to, char *buf)
{
	struct pkt_spec s;

	memcpy(buf, req + from, to - from);
	buf[to - from] = 0;
	s = hs_data(h, buf);
	s.seq = h->isn + 1 + from;
	return s;
}

struct head_step {
	int from, to;			/* bytes of the head it carries */
	int action;			/* XDP's verdict */
	enum maglb_reason why;		/* the counter it moves */
	int acked;			/* XDP_TX: the bytes our ACK covers */
};

struct head_case {
	const char *name;
	unsigned short sport;
	int len;			/* head bytes */
	bool no_end;			/* no cookie, no blank line */
	struct head_step step[8];	/* in sending order; to == 0 ends */
	int tc_held;			/* steps after the SYN: held by TC */
	unsigned short backend_mss;
	int chunks;			/* segments the backend gets */
};

#define HS_ACK(f, t, a)	{ f, t, XDP_TX, MAGLB_SPLICE_HEAD_ACK, a }

#define HS_DUP(f, t, a)	{ f, t, XDP_TX, MAGLB_SPLICE_HEAD_DUP, a }

#define HS_SYN(f, t)	{ f, t, XDP_REDIRECT, MAGLB_SPLICE_SYN, 0 }

static const struct head_case head_cases[] = {
	{ "chrome_764_bytes_in_one_segment", 45300, 764,
	  .step = { HS_SYN(0, 764) }, .backend_mss = 1460, .chunks = 1 },
	{ "two_segments", 45301, 1400,
	  .step = { HS_ACK(0, 720, 720), HS_SYN(720, 1400) },
	  .backend_mss = 1460, .chunks = 1 },
	{ "three_segments_backend_mss_1000", 45302, 3000,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_SYN(2896, 3000) },
	  .backend_mss = 1000, .chunks = 4 },
	{ "out_of_order_is_acked_again_then_resent", 45303, 3000,
	  .step = { HS_ACK(0, 1448, 1448), HS_DUP(2896, 3000, 1448),
		    HS_ACK(1448, 2896, 2896), HS_SYN(2896, 3000) },
	  .backend_mss = 1460, .chunks = 3 },
	{ "retransmit_is_acked_again", 45304, 2000,
	  .step = { HS_ACK(0, 1000, 1000), HS_DUP(0, 1000, 1000),
		    HS_SYN(1000, 2000) },
	  .backend_mss = 1460, .chunks = 2 },
	{ "retransmit_overlapping_new_bytes", 45305, 2000,
	  .step = { HS_ACK(0, 1000, 1000), HS_SYN(500, 2000) },
	  .backend_mss = 1460, .chunks = 2 },
	{ "four_kib", 45306, 4096,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_SYN(2896, 4096) },
	  .backend_mss = 1460, .chunks = 3 },
	/* the last ACK before the limit: 96 bytes of room, a window of 1 */
	{ "head_ending_in_the_last_window_unit", 45308, 8150,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_ACK(2896, 4344, 4344), HS_ACK(4344, 5792, 5792),
		    HS_ACK(5792, 7240, 7240), HS_ACK(7240, 8096, 8096),
		    HS_SYN(8096, 8150) },
	  .backend_mss = 1460, .chunks = 6 },
	{ "body_after_the_head_is_held_while_the_backend_opens", 45307, 1200,
	  .step = { HS_SYN(0, 700), { 700, 1200, XDP_PASS, MAGLB_PASS_TO_TC, 0 } },
	  .tc_held = 1, .backend_mss = 1460, .chunks = 1 },
};

/* The head must open the backend FooBar=val names, and reach it whole. */
static int check_head_case(const struct head_case *c, int idx)
{
	char req[MAGLB_HEAD_MAX + 1], val[32], seg[2048], want[64];
	struct hs h = { .sport = c->sport, .isn = 300000 + 10000 * idx,
			.isn_b = 900000 };
	__u64 fb = reason_count(MAGLB_KEY_FALLBACK), before;
	struct svc_item it = {};
	struct maglb_backend be;
	struct maglb_flow k;
	struct maglb_splice sp;
	struct pkt_spec s;
	struct pkt_view v;
	__u32 *slots, size;
	struct run r;
	__u64 hash;
	int i, got, held_end = 0, syn_to = 0;
	char kv[64];

	snprintf(val, sizeof(val), "10.0.%d.%d", idx, c->sport % 250);
	/* The body case: the head is the first 700 bytes. */
	ASSERT_TRUE(!big_head(req, c->tc_held ? c->step[0].to : c->len, val,
			      !c->no_end), "cannot build a %d-byte head", c->len);
	for (i = (int)strlen(req); i < c->len; i++)
		req[i] = 'b';
	req[c->len] = 0;
	if (hs_syn(&h))
		return -1;
	client_key("10.10.0.110", h.sport, &k);
	for (i = 0; i < 8 && c->step[i].to; i++) {
		const struct head_step *st = &c->step[i];

		before = reason_count(st->why);
		s = hs_slice(&h, req, st->from, st->to, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_TRUE(r.action == st->action, "step %d: action %d, expected %d",
			    i, r.action, st->action);
		ASSERT_TRUE(reason_count(st->why) - before == 1,
			    "step %d: %s not counted", i, reason_name(st->why));
		if (st->action == XDP_TX) {
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_TRUE(v.csum_ok, "step %d: ACK checksums", i);
			ASSERT_EQ(v.flags, TF_ACK);
			ASSERT_EQ(v.datalen, 0);
			ASSERT_EQ(v.seq, h.cookie + 1);
			ASSERT_EQ(v.ack, h.isn + 1 + st->acked);
			/* the window ends where the stash does (scaled by 7,
			 * rounded up: never zero before the limit) */
			ASSERT_EQ(v.window, (MAGLB_HEAD_MAX - st->acked + 127) >> 7);
			ASSERT_EQ(opt32(&v, 8, 2), h.tsval_ours);
			ASSERT_TRUE(!ct_has(&k), "step %d: state before the head's end", i);
		} else if (st->action == XDP_REDIRECT) {
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_EQ(v.flags, TF_SYN);
			ASSERT_EQ(v.seq, h.isn);
			snprintf(h.backend, sizeof(h.backend), "%s", v.dst);
			syn_to = st->to;
		} else {
			/* XDP passes more of the stream to TC, which holds it */
			ASSERT_OK(run_tc(&s, "c0", &r));
			ASSERT_EQ(r.action, 2);		/* TC_ACT_SHOT: kept */
			held_end = st->to;
		}
	}
	ASSERT_TRUE(syn_to, "no backend SYN");
	snprintf(kv, sizeof(kv), "FooBar=%s", val);
	find_svc("ck", &it);
	ASSERT_OK(kv_key_hash(&it.svc, kv, &hash));
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(h.backend, want), "SYN to %s, the cookie hashes to %s",
		    h.backend, want);
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - fb, 0);

	/* The backend's SYN-ACK, then its ACKs: one segment each (TC). */
	{
		unsigned char opts[20];
		int total = held_end > syn_to ? held_end : syn_to, at = 0, n = 0;

		memcpy(opts, backend_opts, sizeof(opts));
		opts[2] = c->backend_mss >> 8;
		opts[3] = c->backend_mss & 0xff;
		s = hs_synack(&h, opts);
		while (at < total) {
			if (run_grown(&s, "b0", &r, &v))
				return -1;	/* test_msg says why */
			ASSERT_TRUE(!strcmp(v.dst, h.backend), "segment %d to %s", n, v.dst);
			ASSERT_EQ(v.seq, h.isn + 1 + at);
			ASSERT_EQ(v.ack, h.isn_b + 1);
			ASSERT_TRUE(v.datalen > 0 && v.datalen + 12 <= c->backend_mss,
				    "segment %d: %d bytes for MSS %d", n, v.datalen,
				    c->backend_mss);
			ASSERT_TRUE(!memcmp(v.data, req + at, v.datalen),
				    "segment %d: bytes differ", n);
			at += v.datalen;
			n++;
			/* the backend acknowledges it */
			s = (struct pkt_spec){ .family = 4, .src = h.backend,
				.sport = 3000, .dst = "10.10.0.2", .dport = h.sport,
				.proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
				.seq = h.isn_b + 1, .ack = h.isn + 1 + at,
				.opts = backend_opts + 8, .optlen = 0 };
		}
		ASSERT_EQ(at, total);
		ASSERT_EQ(n, c->chunks);
		/* The ACK of everything goes on to the client; the stash goes. */
		ASSERT_OK(run_pkt(&s, "b0", &r));
		ASSERT_EQ(r.action, XDP_REDIRECT);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "final ACK to %s", v.dst);
		ASSERT_EQ(v.ack, h.isn + 1 + total);
		got = bpf_map_lookup_elem(maps.splice, &k, &sp);
		ASSERT_TRUE(got, "the stash outlived the backend's ACK");
	}
	return 0;
}

PKT_TABLE_PREFIXED(head_cases, check_head_case,
		   "heads_over_segments_reach_the_cookies_backend_whole");

/* The state of a handshake is lost (the LRU evicted it): the client's
 * next segment gets an RST at once, not silence until it gives up. */
PKT_TEST(head_segment_whose_stash_was_lost_gets_a_reset)
{
	char req[4096], seg[2048];
	struct hs h = { .sport = 45322, .isn = 720000 };
	__u64 b = reason_count(MAGLB_SPLICE_RST);
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;
	int step;

	ASSERT_OK(big_head(req, 2800, "lost", true));
	for (step = 0; step < 2; step++) {
		/* 0: collecting, no connection yet; 1: the backend opening */
		h.sport = 45322 + step;
		if (hs_syn(&h))
			return -1;
		s = hs_slice(&h, req, 0, 1448, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
		if (step) {
			s = hs_slice(&h, req, 1448, 2800, seg);
			ASSERT_OK(run_pkt(&s, "c0", &r));
			ASSERT_EQ(r.action, XDP_REDIRECT);
		}
		client_key("10.10.0.110", h.sport, &k);
		ASSERT_OK(bpf_map_delete_elem(maps.splice, &k));
		s = hs_slice(&h, req, 1448, 2800, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(v.csum_ok, "checksums");
		ASSERT_EQ(v.flags & TF_RST, TF_RST);
		ASSERT_EQ(v.seq, h.cookie + 1);
		ASSERT_TRUE(!ct_has(&k), "state left behind");
	}
	ASSERT_EQ(reason_count(MAGLB_SPLICE_RST) - b, 2);
	return 0;
}

/* No blank line in MAGLB_HEAD_MAX bytes: decided by what it held, by the
 * fallback here (no cookie in it), and counted. */
PKT_TEST(head_longer_than_the_limit_falls_back_counted)
{
	static char req[MAGLB_HEAD_MAX + 1];
	struct hs h = { .sport = 45320, .isn = 700000 };
	__u64 fb = reason_count(MAGLB_KEY_FALLBACK);
	__u64 tl = reason_count(MAGLB_HEAD_TOO_LONG);
	char seg[2048];
	struct pkt_spec s;
	struct run r;
	int at, to;

	ASSERT_OK(big_head(req, MAGLB_HEAD_MAX, "x", false));
	if (hs_syn(&h))
		return -1;
	for (at = 0; at < MAGLB_HEAD_MAX; at = to) {
		to = at + 1448 < MAGLB_HEAD_MAX ? at + 1448 : MAGLB_HEAD_MAX;
		s = hs_slice(&h, req, at, to, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, to < MAGLB_HEAD_MAX ? XDP_TX : XDP_REDIRECT);
	}
	ASSERT_EQ(reason_count(MAGLB_HEAD_TOO_LONG) - tl, 1);
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - fb, 1);
	return 0;
}

/* A segment to the backend was lost: it sends nothing more, and the
 * client's retransmit of the bytes we never acknowledged sends it again. */
PKT_TEST(lost_segment_to_the_backend_goes_again_on_the_clients_retransmit)
{
	char req[4096], seg[2048];
	struct hs h = { .sport = 45321, .isn = 710000, .isn_b = 910000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	ASSERT_OK(big_head(req, 2500, "lost", true));
	if (hs_syn(&h))
		return -1;
	s = hs_slice(&h, req, 0, 1448, seg);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	s = hs_slice(&h, req, 1448, 2500, seg);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	snprintf(h.backend, sizeof(h.backend), "%s", v.dst);
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.seq, h.isn + 1);
	/* That segment is lost. The client resends its last one. */
	s = hs_slice(&h, req, 1448, 2500, seg);
	ASSERT_OK(run_grown(&s, "c0", &r, &v));
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "to %s", v.dst);
	ASSERT_EQ(v.seq, h.isn + 1);		/* from what the backend lacks */
	ASSERT_EQ(v.ack, h.isn_b + 1);
	ASSERT_EQ(v.datalen, 1448);
	ASSERT_TRUE(!memcmp(v.data, req, 1448), "bytes differ");
	/* A duplicate ACK from the backend is nobody's business. */
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h.isn_b + 1, .ack = h.isn + 1 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	return 0;
}
