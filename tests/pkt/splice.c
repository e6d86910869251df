// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * splice.c - delayed binding (Cookie service "ck"): the syncookie SYN-ACK,
 * the handshake ACK, first data opening the backend with the client's
 * ISN, TC turning the backend's SYN-ACK into the stashed request, two-way
 * translation, retransmits and replays, resets, TIME_WAIT, the setup
 * timeout, a stranger's SYN on the connection.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck (10.10.0.110); clients
 * 10.10.0.2:45000-45023, 45090.
 */
#include "pkt.h"

PKT_TEST(syn_for_cookie_service_gets_a_stateless_syncookie_synack)
{
	struct pkt_spec s = { CK, .sport = 45000, .tcp_flags = TF_SYN,
			      .seq = 123456, .opts = syn_opts, .optlen = 20 };
	struct maglb_flow k;
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110") && !strcmp(v.dst, "10.10.0.2"),
		    "addresses %s -> %s", v.src, v.dst);
	ASSERT_EQ(v.sport, 80);
	ASSERT_EQ(v.dport, 45000);
	ASSERT_EQ(v.flags, TF_SYN | TF_ACK);
	ASSERT_EQ(v.ack, 123457);
	ASSERT_TRUE(view_opt(&v, 2) && view_opt(&v, 4) && view_opt(&v, 3),
		    "MSS, SACK-permitted and window scale expected");
	ASSERT_EQ(opt32(&v, 8, 6), 0x0309);	/* TSecr = our TSval */
	ASSERT_TRUE(!memcmp(v.dmac, mac_b, 6), "not sent back to the sender");
	client_key("10.10.0.110", 45000, &k);
	ASSERT_TRUE(!ct_has(&k), "a SYN created state");
	return 0;
}

/* A closed plain entry on what is now a Cookie VIP (the service changed,
 * the client reuses its port): the new SYN gets a syncookie and takes the
 * old entries with it, or the handshake ACK would follow them. */
PKT_TEST(syn_on_a_closed_plain_entry_forgets_it)
{
	struct pkt_spec s = { CK, .sport = 45090, .tcp_flags = TF_SYN,
			      .seq = 7000, .opts = syn_opts, .optlen = 20 };
	struct maglb_ct_entry e = { .flags = MAGLB_CT_F_FIN };
	struct maglb_flow k;
	struct run r;

	client_key("10.10.0.110", 45090, &k);
	ASSERT_OK(maps_put_ct(&maps, &k, &e, BPF_ANY));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_TRUE(!ct_has(&k), "the closed entry stayed");
	return 0;
}

PKT_TEST(handshake_ack_is_absorbed_and_forged_ones_dropped)
{
	struct hs h = { .sport = 45001, .isn = 7000 };
	struct pkt_spec s;
	__u64 b0 = reason_count(MAGLB_DROP_HANDSHAKE_ACK);
	__u64 b1 = reason_count(MAGLB_DROP_BAD_COOKIE);
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, NULL);
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_HANDSHAKE_ACK) - b0, 1);
	s.ack ^= 0x1000;		/* a guessed cookie */
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_BAD_COOKIE) - b1, 1);
	return 0;
}

PKT_TEST(first_data_with_bad_checksum_is_dropped)
{
	struct hs h = { .sport = 45002, .isn = 8000 };
	__u64 b = reason_count(MAGLB_DROP_BAD_CSUM);
	struct pkt_spec s;
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, REQ("1.2.3.4"));
	s.bad_csum = true;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_BAD_CSUM) - b, 1);
	return 0;
}

PKT_TEST(first_data_opens_the_cookies_backend_with_the_client_isn)
{
	struct hs h = { .sport = 45003, .isn = 9000 };
	struct svc_item it = {};
	struct maglb_backend be;
	struct pkt_view v;
	struct run r;
	__u32 *slots, size;
	__u64 hash;
	char want[64];

	if (hs_open(&h, REQ("1.2.3.4"), &r, &v))
		return -1;
	find_svc("ck", &it);
	ASSERT_OK(kv_key_hash(&it.svc, "FooBar=1.2.3.4", &hash));
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(v.dst, want), "SYN to %s, cookie hashes to %s",
		    v.dst, want);
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, 9000);		/* the client's own ISN */
	ASSERT_EQ(v.dport, 3000);
	ASSERT_EQ(v.datalen, 0);
	ASSERT_EQ(opt32(&v, 8, 2), 800);		/* client's TSval */
	ASSERT_TRUE(view_opt(&v, 3) && view_opt(&v, 3)[2] == 7,
		    "client's wscale not passed on");
	ASSERT_TRUE(view_opt(&v, 4), "SACK-permitted lost");
	return 0;
}

PKT_TEST(backend_synack_is_turned_into_the_stashed_request_by_tc)
{
	const char *req = REQ("5.6.7.8");
	struct hs h = { .sport = 45004, .isn = 10000, .isn_b = 50000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_grown(&s, "b0", &r, &v));
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.2") && !strcmp(v.dst, h.backend),
		    "%s -> %s", v.src, v.dst);
	ASSERT_EQ(v.flags, TF_ACK | TF_PSH);
	ASSERT_EQ(v.seq, 10001);
	ASSERT_EQ(v.ack, 50001);
	ASSERT_EQ(v.datalen, (int)strlen(req));
	ASSERT_TRUE(!memcmp(v.data, req, strlen(req)), "payload differs");
	ASSERT_EQ(opt32(&v, 8, 6), 5000);	/* TSecr: backend's */
	return 0;
}

/* XDP marks what it passes up for TC with 8 bytes of metadata
 * (bpf/lib/handoff.h). Where the driver keeps metadata, TC leaves unmarked
 * packets alone (the node's own TCP traffic costs it no lookup). Where it
 * does not, TC looks at everything, as the harness runs it. */
PKT_TEST(tc_acts_only_on_packets_xdp_marked)
{
	struct hs h = { .sport = 45012, .isn = 12000, .isn_b = 52000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct maglb_meta m;
	struct run r;
	int err;

	if (hs_open(&h, REQ("9.9.9.9"), &r, &v))
		return -1;
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	/* test_run returns the frame from data_meta on */
	ASSERT_EQ(r.out_len, r.in_len + (int)sizeof(m));
	memcpy(&m, r.out, sizeof(m));
	ASSERT_EQ(m.mark, MAGLB_HANDOFF_MARK);
	ASSERT_TRUE(!memcmp(r.out + sizeof(m), r.in, r.in_len),
		    "the frame passed to TC was changed");
	/* test_run gives TC no metadata: this SYN-ACK arrives unmarked. */
	ASSERT_OK(set_handoff_no_meta(0));
	err = run_tc(&s, "b0", &r);
	set_handoff_no_meta(1);
	ASSERT_OK(err);
	ASSERT_EQ(r.action, 0);			/* TC_ACT_OK */
	ASSERT_TRUE(r.out_len == r.in_len && !memcmp(r.out, r.in, r.in_len),
		    "TC changed an unmarked packet");
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);			/* TC_ACT_REDIRECT */
	return 0;
}

PKT_TEST(spliced_segments_are_translated_both_ways)
{
	struct hs h = { .sport = 45005, .isn = 20000, .isn_b = 900000 };
	/* backend data: seq isn_b+1, TS 5100/800, SACK-less */
	unsigned char bts[12] = { 1, 1, 8, 10, 0, 0, 0x13, 0xec, 0, 0, 0x03, 0x20 };
	/* client ACK with SACK of backend data: NOP NOP TS, NOP NOP SACK 1 */
	unsigned char cts[24] = { 1, 1, 8, 10, 0, 0, 0x03, 0x84, 0, 0, 0, 0,
				  1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	unsigned int delta, ts_delta;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("x"), &r, &v))
		return -1;
	if (hs_splice(&h, &s, &r))
		return -1;
	delta = h.isn_b - h.cookie;
	ts_delta = h.tsval_ours - 5000;

	/* backend -> client: seq and TSval move into the client's space */
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK | TF_PSH, .seq = h.isn_b + 1,
		.ack = h.isn + 1 + 60, .opts = bts, .optlen = 12,
		.data = "HTTP/1.1 200 OK\r\n\r\n", .window = 100 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums backend->client");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110"), "src %s", v.src);
	ASSERT_EQ(v.seq, h.cookie + 1);
	ASSERT_EQ(opt32(&v, 8, 2), 5100 + ts_delta);
	ASSERT_EQ(v.window, 100 << 2);	/* backend wscale 9, ours 7 */

	/* client -> backend: ack, SACK edges and TSecr move back */
	put32(cts + 4, 801);
	put32(cts + 8, 5100 + ts_delta);
	put32(cts + 16, h.cookie + 1 + 100);
	put32(cts + 20, h.cookie + 1 + 200);
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_ACK,
		.seq = h.isn + 1 + 60, .ack = h.cookie + 1 + 19,
		.opts = cts, .optlen = 24 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums client->backend");
	ASSERT_EQ(v.ack, h.isn_b + 1 + 19);
	ASSERT_EQ(v.seq, h.isn + 1 + 60);		/* never translated */
	ASSERT_EQ(opt32(&v, 8, 6), 5100);
	ASSERT_EQ(opt32(&v, 5, 2), h.cookie + 1 + 100 + delta);
	ASSERT_EQ(opt32(&v, 5, 6), h.cookie + 1 + 200 + delta);
	return 0;
}

PKT_TEST(retransmitted_first_data_resends_the_backend_syn)
{
	struct hs h = { .sport = 45006, .isn = 30000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("again"), &r, &v))
		return -1;
	s = hs_data(&h, REQ("again"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, 30000);
	ASSERT_TRUE(opt32(&v, 8, 2) == 800, "resent SYN lacks TS: %02x %02x %02x %02x",
		    v.opts[0], v.opts[1], v.opts[2], v.opts[3]);
	/* A pure ACK meanwhile is held back, not forwarded. */
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	return 0;
}

PKT_TEST(backend_reset_during_setup_reaches_the_client)
{
	struct hs h = { .sport = 45007, .isn = 40000 };
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("rst"), &r, &v))
		return -1;
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_RST | TF_ACK, .ack = h.isn + 1 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110") && !strcmp(v.dst, "10.10.0.2"),
		    "%s -> %s", v.src, v.dst);
	ASSERT_EQ(v.flags & TF_RST, TF_RST);
	ASSERT_EQ(v.seq, h.cookie + 1);
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_TRUE(!ct_has(&k), "state left behind");
	return 0;
}

/* The backend's ACK of the whole request, from its first byte on. */
static struct pkt_spec backend_acks_request(const struct hs *h, const char *req)
{
	return (struct pkt_spec){ .family = 4, .src = h->backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h->sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h->isn_b + 1,
		.ack = h->isn + 1 + strlen(req) };
}

PKT_TEST(repeated_backend_synack_gets_the_request_again_until_acked)
{
	const char *req = REQ("twice");
	struct hs h = { .sport = 45009, .isn = 60000, .isn_b = 70000 };
	struct maglb_ct_entry e;
	struct maglb_flow k;
	struct maglb_splice sp;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	if (hs_splice(&h, &s, &r))
		return -1;
	/* Our data ACK was lost: the backend repeats its SYN-ACK. */
	ASSERT_OK(run_grown(&s, "b0", &r, &v));
	ASSERT_EQ(v.datalen, (int)strlen(req));
	ASSERT_EQ(v.seq, 60001);
	/* The backend acknowledges the request: the stash goes. */
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));
	s = backend_acks_request(&h, req);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_TRUE(bpf_map_lookup_elem(maps.splice, &k, &sp), "stash kept");
	/* A spliced entry never takes the fast path: the full path leaves
	 * it unconfirmed (no store on the shared entry per packet). */
	memset(&k, 0, sizeof(k));
	k.family = MAGLB_AF_INET;
	k.proto = IPPROTO_TCP;
	inet_pton(AF_INET, h.backend, &k.saddr);
	inet_pton(AF_INET, "10.10.0.2", &k.daddr);
	k.sport = htons(3000);
	k.dport = htons(h.sport);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_SPLICE, "not the spliced reply entry");
	ASSERT_EQ(e.fast_jiffies, 0);
	return 0;
}

/* The backend answers our SYN with a bare ACK: a TIME_WAIT socket of an
 * earlier connection on the 4-tuple rejected it. XDP passes it up; TC
 * resets that socket (a clone) and sends our SYN again (the packet). */
PKT_TEST(backend_time_wait_ack_gets_a_reset_and_a_new_syn)
{
	struct hs h = { .sport = 45020, .isn = 123000 };
	__u64 b = reason_count(MAGLB_SPLICE_TW_RESET);
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("tw"), &r, &v))
		return -1;
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = 777, .ack = 4242 };
	ASSERT_OK(run_grown(&s, "b0", &r, &v));
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "to %s", v.dst);
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, h.isn);		/* the client's ISN again */
	ASSERT_EQ(reason_count(MAGLB_SPLICE_TW_RESET) - b, 1);
	return 0;
}

PKT_TEST(setup_timeout_answers_the_client_with_a_reset)
{
	struct hs h = { .sport = 45008, .isn = 50000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("slow"), &r, &v))
		return -1;
	usleep(1100 * 1000);		/* splice_timeout_ns is 1 s here */
	s = hs_data(&h, REQ("slow"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags & TF_RST, TF_RST);
	ASSERT_EQ(v.seq, h.cookie + 1);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "RST to %s", v.dst);
	return 0;
}

/* Entries compare equal but for what any packet of theirs may refresh:
 * the clock and the next-hop cache. */
static bool ct_same(struct maglb_ct_entry a, struct maglb_ct_entry b)
{
	a.last_seen_ns = b.last_seen_ns = 0;
	memset(&a.nh, 0, sizeof(a.nh));
	memset(&b.nh, 0, sizeof(b.nh));
	a.fast_jiffies = b.fast_jiffies = 0;
	return !memcmp(&a, &b, sizeof(a));
}

/* A spliced connection (handshake, first data, the backend's SYN-ACK),
 * and both of its conntrack entries as they are then: k and rk their
 * keys, f and rev the entries. */
static int hs_spliced_entries(struct hs *h, const char *req, struct pkt_spec *s,
			      struct run *r, struct pkt_view *v,
			      struct maglb_flow *k, struct maglb_flow *rk,
			      struct maglb_ct_entry *f, struct maglb_ct_entry *rev)
{
	struct ct_item it;

	if (hs_open(h, req, r, v) || hs_splice(h, s, r))
		return -1;
	client_key("10.10.0.110", h->sport, k);
	ASSERT_OK(maps_get_ct(&maps, k, f));
	it.key = *k;
	it.val = *f;
	ct_partner_key(&it, rk);
	ASSERT_OK(maps_get_ct(&maps, rk, rev));
	return 0;
}

/* A bare SYN with a spliced connection's 4-tuple, whatever its sequence
 * number (RFC 5961 section 4): both entries and the stash stay as they
 * were, the SYN goes on to the backend in its numbers, whose stack answers
 * it with a challenge ACK; that ACK reaches the client in the client's
 * numbers, and the connection's next segment is translated as before. */
PKT_TEST(syn_on_a_spliced_connection_changes_nothing)
{
	struct hs h = { .sport = 45021, .isn = 60000, .isn_b = 600000 };
	const char *req = REQ("syn");
	struct maglb_ct_entry f0, r0, f1, r1;
	__u64 b = reason_count(MAGLB_SYN_CHALLENGE_ACK);
	struct maglb_flow k, rk;
	struct maglb_splice sp;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_spliced_entries(&h, req, &s, &r, &v, &k, &rk, &f0, &r0))
		return -1;
	ASSERT_TRUE(f0.flags & MAGLB_CT_F_STASH, "the stash is gone already");

	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_SYN,
			       .seq = 0x5eed0000, .opts = syn_opts, .optlen = 20 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums of the SYN passed on");
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "SYN to %s, not the backend %s",
		    v.dst, h.backend);
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, 0x5eed0000);	/* client -> backend: never translated */
	ASSERT_EQ(reason_count(MAGLB_SYN_CHALLENGE_ACK) - b, 1);
	ASSERT_OK(maps_get_ct(&maps, &k, &f1));
	ASSERT_OK(maps_get_ct(&maps, &rk, &r1));
	ASSERT_TRUE(ct_same(f0, f1) && ct_same(r0, r1), "the SYN changed an entry");
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));

	/* The backend's challenge ACK, in the client's numbers. */
	s = backend_acks_request(&h, req);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110") && !strcmp(v.dst, "10.10.0.2"),
		    "challenge ACK %s -> %s", v.src, v.dst);
	ASSERT_EQ(v.seq, h.cookie + 1);
	ASSERT_EQ(v.ack, h.isn + 1 + strlen(req));

	/* The connection goes on: the client's next segment, translated. */
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_ACK | TF_PSH,
			       .seq = h.isn + 1 + strlen(req), .ack = h.cookie + 1,
			       .data = "more", .window = 502 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums client -> backend");
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "next segment to %s", v.dst);
	ASSERT_EQ(v.ack, h.isn_b + 1);
	ASSERT_EQ(v.datalen, 4);
	return 0;
}

/* While the backend side still opens there is no backend connection to
 * answer a SYN: it is dropped, and the setup goes on untouched. */
PKT_TEST(syn_while_the_backend_opens_is_dropped_and_changes_nothing)
{
	struct hs h = { .sport = 45022, .isn = 61000, .isn_b = 610000 };
	__u64 b = reason_count(MAGLB_DROP_SPLICE_WAIT);
	struct maglb_ct_entry f0, f1;
	struct maglb_splice sp;
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("wait"), &r, &v))
		return -1;
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &f0));
	ASSERT_TRUE(f0.flags & MAGLB_CT_F_PENDING, "not pending");
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_SYN,
			       .seq = 0x5eed0000, .opts = syn_opts, .optlen = 20 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_SPLICE_WAIT) - b, 1);
	ASSERT_OK(maps_get_ct(&maps, &k, &f1));
	ASSERT_TRUE(ct_same(f0, f1), "the SYN changed the pending entry");
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));
	/* The backend's SYN-ACK still splices it. */
	return hs_splice(&h, &s, &r);
}

/* A stranger's RST on a spliced connection (RFC 5961 section 3): one
 * ahead of what the client sent is dropped, both entries as they were;
 * the client's own, at its SND.NXT (the request held and sent), closes. */
PKT_TEST(rst_on_a_spliced_connection_closes_it_only_when_exact)
{
	struct hs h = { .sport = 45023, .isn = 62000, .isn_b = 620000 };
	__u64 d = reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW);
	const char *req = REQ("rst");
	struct maglb_ct_entry f0, r0, f1, r1;
	struct maglb_flow k, rk;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_spliced_entries(&h, req, &s, &r, &v, &k, &rk, &f0, &r0))
		return -1;

	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_RST,
			       .seq = h.isn + 1 + strlen(req) + 3000 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW) - d, 1);
	ASSERT_OK(maps_get_ct(&maps, &k, &f1));
	ASSERT_OK(maps_get_ct(&maps, &rk, &r1));
	ASSERT_TRUE(ct_same(f0, f1) && ct_same(r0, r1), "the RST changed an entry");

	s.seq = h.isn + 1 + strlen(req);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(maps_get_ct(&maps, &k, &f1));
	ASSERT_TRUE(f1.flags & MAGLB_CT_F_RST, "the client's own reset did not close it");
	return 0;
}
