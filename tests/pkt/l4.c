// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * l4.c - the L4 path: a VIP packet is DNATed to the backend Maglev names
 * and leaves by redirect; replies are reverse-NATed; FIN and RST are
 * tracked; the established fast path gives the full path's bytes; counters;
 * drain vs. close when a backend is removed.
 *
 * Fixture (tests/fixtures/pkt.yaml): web (10.10.0.100), web6, dns, empty,
 * unresolved; clients 10.10.0.2:40001-40015, 41000-41005, 41010-41049,
 * 43000-43049, 48200-48219.
 */
#include "pkt.h"

static const struct pkt_case l4_cases[] = {
	{ "vip_tcp_syn_is_dnat_to_maglev_backend_and_redirected",
	  { CLIENT, .sport = 40001, WEB, .tcp_flags = TF_SYN },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40001, .dport = 3000, .ttl = 63 },
	{ "vip_tcp_with_payload_is_rewritten_with_valid_checksums",
	  { CLIENT, .sport = 40002, WEB, .tcp_flags = TF_ACK | TF_PSH, .payload = 333 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40002, .dport = 3000, .ttl = 63 },
	{ "vip_udp_is_dnat_by_tuple_hash",
	  { CLIENT, .sport = 5000, .dst = "10.10.0.100", .dport = 53, .proto = IPPROTO_UDP, .payload = 40 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "dns",
	  .src = "10.10.0.2", .sport_min = 5000, .dport = 5353, .ttl = 63 },
	{ "vip_udp_zero_checksum_stays_zero",
	  { CLIENT, .sport = 5001, .dst = "10.10.0.100", .dport = 53, .proto = IPPROTO_UDP, .payload = 7, .udp_no_csum = true },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "dns",
	  .src = "10.10.0.2", .sport_min = 5001, .dport = 5353, .ttl = 63 },
	{ "ipv6_vip_syn_is_dnat_to_maglev_backend",
	  { .family = 6, .src = "fd00:10::2", .sport = 40007, .dst = "fd00:10::100", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web6",
	  .src = "fd00:10::2", .sport_min = 40007, .dport = 3000, .ttl = 63 },
	{ "unresolved_neighbour_passes_rewritten_packet_to_kernel",
	  { CLIENT, .sport = 40009, .dst = "10.10.0.102", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_FIB_NEIGH, .svc = "unresolved",
	  .src = "10.10.0.2", .sport_min = 40009, .dport = 3000, .ttl = 63 },
	{ "non_vip_tcp_passes_untouched",
	  { CLIENT, .sport = 40010, .dst = "10.10.0.1", .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_VIP },
	{ "vip_address_on_other_port_passes_untouched",
	  { CLIENT, .sport = 40011, .dst = "10.10.0.100", .dport = 81, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_VIP },
	{ "ttl_1_passes_untouched_for_icmp_time_exceeded",
	  { CLIENT, .sport = 40014, WEB, .tcp_flags = TF_SYN, .ttl = 1 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_FIB_OTHER },
	{ "vip_without_backends_is_dropped",
	  { CLIENT, .sport = 40015, .dst = "10.10.0.101", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_DROP, .reason = MAGLB_DROP_NO_BACKEND },
};

PKT_TABLE(l4_cases, check_case);

PKT_TEST(reply_is_reverse_nated_to_the_vip)
{
	struct pkt_spec syn = { CLIENT, .sport = 41000, WEB, .tcp_flags = TF_SYN };
	struct pkt_spec back = { .family = 4, .dport = 41000, .dst = "10.10.0.2",
				 .proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK };
	struct pkt_view v;

	if (send_and_view(&syn, "c0", XDP_REDIRECT, &v))
		return -1;
	back.src = v.dst;
	back.sport = v.dport;
	if (send_and_view(&back, "b0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.100"), "reply src %s", v.src);
	ASSERT_EQ(v.sport, 80);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "reply dst %s", v.dst);
	ASSERT_EQ(v.dport, 41000);
	ASSERT_TRUE(!memcmp(v.dmac, "\x02\0\0\0\xc0\x02", 6), "reply dmac");
	return 0;
}

PKT_TEST(fin_and_rst_are_forwarded_and_tracked)
{
	struct pkt_spec s = { CLIENT, .sport = 41002, WEB, .tcp_flags = TF_SYN };
	struct maglb_ct_entry e;
	struct maglb_flow k = {};
	struct maglb_counters c0, c1;
	struct svc_item it;
	struct pkt_view v;

	find_svc("web", &it);
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_FIN | TF_ACK;
	s.seq = 1;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", 41002, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_FIN, "FIN not recorded");
	s.tcp_flags = TF_RST;
	s.seq = 2;			/* the client's SND.NXT after its FIN */
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_RST, "RST not recorded");
	/* The 4-tuple is reused: a bare SYN is a new connection. */
	maps_read_counters(maps.svc_stats, it.svc.id, &c0);
	s.tcp_flags = TF_SYN;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	maps_read_counters(maps.svc_stats, it.svc.id, &c1);
	ASSERT_EQ(c1.new_conns - c0.new_conns, 1);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_EQ(e.flags & (MAGLB_CT_F_RST | MAGLB_CT_F_FIN), 0);
	return 0;
}

/* After the full path has confirmed an entry, the next packets take the
 * fast path (bpf/lib/fastpath.h): the same bytes must come out, counters
 * must still count, and FIN, RST and TTL 1 must still take the full path. */
PKT_TEST(established_fast_path_matches_the_full_path)
{
	struct pkt_spec s = { CLIENT, .sport = 41010, WEB, .tcp_flags = TF_SYN };
	struct maglb_counters c0, c1;
	struct maglb_ct_entry e;
	struct maglb_flow k = {};
	struct run full, fast;
	struct pkt_view v;
	char first[64];
	int i;

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(first, sizeof(first), "%s", v.dst);
	/* That SYN looked up the backend's next hop: a new flow to the same
	 * backend starts confirmed (forward.h, backend_nh). */
	for (i = 1; i < 40; i++) {
		s.sport = 41010 + i;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
		if (!strcmp(v.dst, first))
			break;
	}
	ASSERT_TRUE(i < 40, "no second flow reached %s", first);
	client_key("10.10.0.100", s.sport, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.fast_jiffies != 0, "a new flow to a known backend starts unconfirmed");
	/* The backend answers; the client's ACK of that is the first packet
	 * the fast path could take. */
	if (l4_syn_ack(&v, "b0", L4_BACKEND_ISN, XDP_REDIRECT))
		return -1;
	/* Unconfirm it: the next packet takes the full path and confirms. */
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	e.fast_jiffies = 0;
	ASSERT_OK(maps_put_ct(&maps, &k, &e, BPF_EXIST));
	s.tcp_flags = TF_ACK;
	s.seq = 1001;
	s.ack = L4_BACKEND_ISN + 1;
	s.payload = 100;
	ASSERT_OK(run_pkt(&s, "c0", &full));
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.fast_jiffies != 0, "the full path did not confirm the entry");
	maps_read_counters(maps.backend_stats, e.backend_id, &c0);
	ASSERT_OK(run_pkt(&s, "c0", &fast));
	maps_read_counters(maps.backend_stats, e.backend_id, &c1);
	ASSERT_EQ(fast.action, full.action);
	ASSERT_EQ(fast.out_len, full.out_len);
	ASSERT_TRUE(!memcmp(fast.out, full.out, full.out_len),
		    "fast path output differs from the full path's");
	ASSERT_EQ(c1.packets - c0.packets, 1);
	ASSERT_EQ(c1.bytes - c0.bytes, (__u64)full.in_len);
	/* TTL 1: untouched, for the kernel's time exceeded */
	s.ttl = 1;
	ASSERT_OK(run_pkt(&s, "c0", &fast));
	ASSERT_EQ(fast.action, XDP_PASS);
	ASSERT_TRUE(!memcmp(fast.out, fast.in, fast.in_len), "TTL 1 packet changed");
	s.ttl = 0;
	s.tcp_flags = TF_FIN | TF_ACK;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_FIN, "FIN after fast-path packets not recorded");
	return 0;
}

PKT_TEST(counters_count_packets_bytes_and_connections)
{
	struct pkt_spec s = { CLIENT, .sport = 41003, WEB, .tcp_flags = TF_SYN };
	struct maglb_counters b0, b1, s0, s1;
	struct svc_item it;
	struct pkt_view v;
	struct run r;
	__u32 id;
	char dst[64];
	unsigned short port;

	find_svc("web", &it);
	maglev_answer("web", &s, dst, &port);
	for (id = 0; id < MAGLB_MAX_BACKENDS; id++) {
		struct maglb_backend be;
		char a[64];

		maps_get_backend(&maps, id, &be);
		inet_ntop(AF_INET, &be.addr, a, sizeof(a));
		if ((be.flags & MAGLB_BE_F_ACTIVE) && be.svc_id == it.svc.id &&
		    !strcmp(a, dst))
			break;
	}
	maps_read_counters(maps.backend_stats, id, &b0);
	maps_read_counters(maps.svc_stats, it.svc.id, &s0);
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_ACK;
	s.payload = 100;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	maps_read_counters(maps.backend_stats, id, &b1);
	maps_read_counters(maps.svc_stats, it.svc.id, &s1);
	ASSERT_EQ(b1.packets - b0.packets, 2);
	ASSERT_EQ(b1.new_conns - b0.new_conns, 1);
	ASSERT_EQ(b1.bytes - b0.bytes, 14 + 40 + 14 + 40 + 100);
	ASSERT_EQ(s1.packets - s0.packets, 2);
	return 0;
}

static const char *without_backend(const char *dst, bool close)
{
	static char buf[4096];
	const char *all[] = { "10.20.1.2", "10.20.1.3", "10.20.1.4" };
	int n, i;

	n = snprintf(buf, sizeof(buf),
		     "services:\n- name: web\n  address: 10.10.0.100\n  port: 80\n"
		     "  closeConnectionsOnRemoval: %s\n  backends:\n",
		     close ? "true" : "false");
	for (i = 0; i < 3; i++)
		if (strcmp(all[i], dst))
			n += snprintf(buf + n, sizeof(buf) - n,
				      "  - {address: %s, port: 3000}\n", all[i]);
	return buf;
}

PKT_TEST(established_flow_keeps_backend_when_it_is_removed)
{
	struct pkt_spec s = { CLIENT, .sport = 41004, WEB, .tcp_flags = TF_SYN };
	struct pkt_view v;
	char was[64];
	int i;

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(was, sizeof(was), "%s", v.dst);
	/* an established flow: the backend answered before it went */
	if (l4_syn_ack(&v, "b0", L4_BACKEND_ISN, XDP_REDIRECT))
		return -1;
	ASSERT_OK(apply_yaml(without_backend(was, false)));
	s.tcp_flags = TF_ACK;
	s.seq = 1001;
	s.ack = L4_BACKEND_ISN + 1;
	s.payload = 50;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.dst, was), "established flow moved %s -> %s",
		    was, v.dst);
	/* New connections never go to the removed backend. */
	for (i = 0; i < 50; i++) {
		s.sport = 43000 + i;
		s.src = "10.10.0.2";
		s.tcp_flags = TF_SYN;
		s.payload = 0;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
		ASSERT_TRUE(strcmp(v.dst, was), "new flow went to removed %s", was);
	}
	ASSERT_OK(apply_fixture());
	return 0;
}

PKT_TEST(close_on_removal_moves_established_flows)
{
	struct pkt_spec s = { CLIENT, .sport = 41005, WEB, .tcp_flags = TF_SYN };
	struct pkt_view v;
	char was[64];

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v) ||
	    l4_syn_ack(&v, "b0", L4_BACKEND_ISN, XDP_REDIRECT))
		return -1;
	snprintf(was, sizeof(was), "%s", v.dst);
	ASSERT_OK(apply_yaml(without_backend(was, true)));
	s.tcp_flags = TF_ACK;
	s.seq = 1001;
	s.ack = L4_BACKEND_ISN + 1;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(strcmp(v.dst, was), "flow still on removed backend %s", was);
	ASSERT_OK(apply_fixture());
	return 0;
}

/* A bare SYN on a live entry of a plain service (RFC 5961 section 4): the
 * entry stays, the SYN goes on to the same backend, whose stack answers
 * it (a challenge ACK when established, a SYN-ACK again when the handshake
 * is still open: no challenge then, not counted). On a closed entry it is
 * a new connection. */
static const struct syn_case {
	const char *name;
	unsigned short sport;
	__u8 before[2];			/* client segments first, 0 ends */
	bool challenge;			/* counted as syn_challenge_ack */
	bool new_conn;			/* the entry started afresh */
} syn_cases[] = {
	{ "syn_on_an_established_entry_is_passed_on_and_changes_nothing",
	  48200, { TF_SYN, TF_ACK }, true, false },
	{ "syn_retransmit_on_an_open_handshake_is_passed_on",
	  48201, { TF_SYN, 0 }, false, false },
	{ "syn_after_a_reset_is_a_new_connection",
	  48202, { TF_SYN, TF_RST | TF_ACK }, false, true },
};

static int check_syn_case(const struct syn_case *c, int idx)
{
	struct pkt_spec s = { CLIENT, WEB, .sport = c->sport, .seq = 1000 };
	__u64 b = reason_count(MAGLB_SYN_CHALLENGE_ACK);
	struct maglb_counters c0, c1;
	struct maglb_ct_entry e0, e1;
	struct maglb_flow k;
	struct svc_item it;
	struct pkt_view v;
	char first[64];
	int i;

	(void)idx;
	find_svc("web", &it);
	for (i = 0; i < 2 && c->before[i]; i++) {
		s.tcp_flags = c->before[i];
		s.seq = 1000 + !!i;
		s.ack = i ? L4_BACKEND_ISN + 1 : 0;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
		if (i)
			continue;
		snprintf(first, sizeof(first), "%s", v.dst);
		/* The backend's SYN-ACK, for the client segment after it. */
		if (c->before[1] &&
		    l4_syn_ack(&v, "b0", L4_BACKEND_ISN, XDP_REDIRECT))
			return -1;
	}
	client_key("10.10.0.100", c->sport, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e0));
	maps_read_counters(maps.svc_stats, it.svc.id, &c0);
	s.tcp_flags = TF_SYN;
	s.seq = 0x5eed0000;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	maps_read_counters(maps.svc_stats, it.svc.id, &c1);
	ASSERT_TRUE(!strcmp(v.dst, first), "SYN to %s, the connection's is %s",
		    v.dst, first);
	ASSERT_EQ(v.seq, 0x5eed0000);
	ASSERT_EQ(reason_count(MAGLB_SYN_CHALLENGE_ACK) - b, c->challenge);
	ASSERT_EQ(c1.new_conns - c0.new_conns, c->new_conn);
	ASSERT_OK(maps_get_ct(&maps, &k, &e1));
	if (c->new_conn)
		ASSERT_TRUE(!(e1.flags & MAGLB_CT_F_RST), "the reset stayed");
	else
		ASSERT_TRUE(e1.flags == e0.flags && e1.created_ns == e0.created_ns,
			    "the SYN changed the entry: flags %#x -> %#x",
			    e0.flags, e1.flags);
	return 0;
}

PKT_TABLE(syn_cases, check_syn_case);

/* An RST on an established entry (RFC 5961 section 3), against the
 * client's SND.NXT as the entry saw it (1101: ISN 1000, 100 bytes sent
 * by the fast path, one segment overlapping the last): only the exact
 * one closes; one behind may
 * be in the backend's window and is passed on for its stack to judge,
 * the entry untouched; one ahead of anything the client sent, or behind
 * by more than any window, is dropped and counted. The backend's
 * direction is judged by its own sequence numbers. */
static const struct rst_case {
	const char *name;
	unsigned short sport;
	bool reply;			/* from the backend */
	int off;			/* the RST's seq less the sender's SND.NXT */
	int action;
	bool closes;
} rst_cases[] = {
	{ "rst_with_the_exact_sequence_closes_the_entry",
	  48210, false, 0, XDP_REDIRECT, true },
	{ "rst_in_the_window_is_passed_on_and_changes_nothing",
	  48211, false, -50, XDP_REDIRECT, false },
	{ "rst_ahead_of_the_sender_is_dropped_and_changes_nothing",
	  48212, false, 5000, XDP_DROP, false },
	{ "rst_behind_any_window_is_dropped_and_changes_nothing",
	  48213, false, -(1 << 30) - 1, XDP_DROP, false },
	{ "backend_rst_with_its_exact_sequence_closes_the_entry",
	  48214, true, 0, XDP_REDIRECT, true },
	{ "backend_rst_ahead_of_it_is_dropped_and_changes_nothing",
	  48215, true, 70000, XDP_DROP, false },
};

static int check_rst_case(const struct rst_case *c, int idx)
{
	struct pkt_spec s = { CLIENT, WEB, .sport = c->sport };
	struct pkt_spec b = { .family = 4, .sport = 3000, .dst = "10.10.0.2",
			      .dport = c->sport, .proto = IPPROTO_TCP };
	__u64 d0 = reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW);
	struct maglb_ct_entry e0, e1;
	struct maglb_flow k, rk;
	struct ct_item it;
	struct pkt_view v;
	struct run r;
	char backend[64];
	int i;

	(void)idx;
	s.tcp_flags = TF_SYN;
	s.seq = 1000;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(backend, sizeof(backend), "%s", v.dst);
	b.src = backend;
	b.tcp_flags = TF_SYN | TF_ACK;
	b.seq = 7000;
	b.ack = 1001;
	if (send_and_view(&b, "b0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_ACK;
	s.seq = 1001;
	s.ack = 7001;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	/* Confirmed now: the fast path carries the data, the second
	 * segment a retransmit of the first's last 20 bytes and 50 more. */
	for (i = 0; i < 2; i++) {
		s.tcp_flags = TF_ACK | TF_PSH;
		s.payload = 50 + 20 * i;
		s.seq = 1001 + 30 * i;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
	}
	b.tcp_flags = TF_ACK | TF_PSH;
	b.seq = 7001;
	b.ack = 1101;
	b.payload = 200;
	if (send_and_view(&b, "b0", XDP_REDIRECT, &v))
		return -1;

	client_key("10.10.0.100", c->sport, &k);
	it.key = k;
	ASSERT_OK(maps_get_ct(&maps, &k, &it.val));
	ct_partner_key(&it, &rk);
	ASSERT_OK(maps_get_ct(&maps, c->reply ? &rk : &k, &e0));
	if (c->reply) {
		b.tcp_flags = TF_RST;
		b.payload = 0;
		b.seq = 7201 + c->off;
		ASSERT_OK(run_pkt(&b, "b0", &r));
	} else {
		s.tcp_flags = TF_RST;
		s.payload = 0;
		s.seq = 1101 + c->off;
		ASSERT_OK(run_pkt(&s, "c0", &r));
	}
	ASSERT_EQ(r.action, c->action);
	ASSERT_EQ(reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW) - d0,
		  c->action == XDP_DROP);
	ASSERT_OK(maps_get_ct(&maps, c->reply ? &rk : &k, &e1));
	if (c->closes) {
		ASSERT_TRUE(e1.flags & MAGLB_CT_F_RST, "the reset did not close it");
	} else {
		ASSERT_TRUE(e1.flags == e0.flags && e1.seq_next == e0.seq_next,
			    "the RST changed the entry: flags %#x -> %#x, "
			    "seq_next %u -> %u", e0.flags, e1.flags,
			    e0.seq_next, e1.seq_next);
	}
	return 0;
}

PKT_TABLE(rst_cases, check_rst_case);

/* A FIN from nowhere the client has got to is passed on but not recorded,
 * so a SYN after it still changes nothing (blind FIN, then SYN, was a
 * teardown); the client's own FIN, in order, is recorded. */
PKT_TEST(fin_out_of_order_is_not_recorded_and_the_syn_after_it_changes_nothing)
{
	struct pkt_spec s = { CLIENT, WEB, .sport = 48216, .seq = 1000,
			      .tcp_flags = TF_SYN };
	struct maglb_ct_entry e;
	struct maglb_flow k;
	struct pkt_view v;

	if (l4_handshake(&s, "b0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_FIN | TF_ACK;
	s.seq = 1001 + 0x40000000;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", 48216, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(!(e.flags & MAGLB_CT_F_FIN), "a blind FIN was recorded");
	s.tcp_flags = TF_SYN;
	s.seq = 0x5eed0000;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(!(e.flags & MAGLB_CT_F_UNCONFIRMED), "the SYN made a new entry");
	s.tcp_flags = TF_FIN | TF_ACK;
	s.seq = 1001;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_FIN, "the client's own FIN was not recorded");
	return 0;
}

/*
 * A slow flow: its entry's fast window (FAST_JIFFIES) has passed when its
 * next packet comes. The fast path renews the entry itself while the next
 * hop is fresh (bpf/lib/fastpath.h, fast_renew): the cached next hop is
 * used and last_seen_ns moves on, or the sweep would end a flow that is
 * alive. Past NH_CACHE_NS the entry takes its backend's next hop, if that
 * one is fresh (forward.h, nh_take: one lookup a second per backend, not
 * per flow); else it is looked up again, and the backend's cache gets the
 * result too (forward_cached's shared cache).
 */
enum slow_mac { SLOW_ENTRY_MAC, SLOW_BACKEND_MAC, SLOW_LOOKED_UP };

static const struct slow_case {
	const char *name;
	__u64 nh_age_ns;	/* how old the entry's next hop is */
	__u64 be_age_ns;	/* how old its backend's is */
	enum slow_mac mac;	/* the (marked) MAC the packet leaves with */
} slow_cases[] = {
	{ "slow_flow_with_a_fresh_next_hop_keeps_it_and_stays_alive",
	  10000000ULL, 10000000ULL, SLOW_ENTRY_MAC },
	{ "slow_flow_past_the_next_hop_cache_takes_its_backends_fresh_one",
	  2000000000ULL, 10000000ULL, SLOW_BACKEND_MAC },
	{ "slow_flow_past_both_next_hop_caches_looks_it_up_for_both",
	  2000000000ULL, 2000000000ULL, SLOW_LOOKED_UP },
};

static int check_slow_case(const struct slow_case *c, int idx)
{
	static const __u8 marks[][6] = {
		[SLOW_ENTRY_MAC] = { 0x02, 0, 0, 0, 0xee, 0xee },
		[SLOW_BACKEND_MAC] = { 0x02, 0, 0, 0, 0xbe, 0xbe },
	};
	static const char *const what[] = { "the entry's", "the backend's", "a looked-up" };
	struct pkt_spec s = { CLIENT, .sport = (unsigned short)(41500 + idx), WEB,
			      .tcp_flags = TF_SYN };
	struct maglb_backend_nh bnh;
	struct maglb_ct_entry e;
	struct maglb_flow k = {};
	struct timespec ts;
	struct pkt_view v;
	enum slow_mac got;
	struct run r;
	__u64 now;

	if (l4_handshake(&s, "b0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", s.sport, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_EQ(e.flags & MAGLB_CT_F_UNCONFIRMED, 0);
	/* the datapath's clock: bpf_ktime_get_coarse_ns() */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	e.fast_jiffies = 0;			/* its window long past */
	e.last_seen_ns = now - 30000000000ULL;	/* seen 30 s ago */
	e.nh.time_ns = now - c->nh_age_ns;
	memcpy(e.nh.dmac, marks[SLOW_ENTRY_MAC], 6);
	ASSERT_OK(maps_put_ct(&maps, &k, &e, BPF_EXIST));
	/* The backend's cache, as its handshake left it, aged and marked. */
	ASSERT_OK(bpf_map_lookup_elem(maps.backend_nh, &e.backend_id, &bnh));
	ASSERT_TRUE(bnh.nh.ifindex == e.nh.ifindex, "the handshake left no backend next hop");
	bnh.nh.time_ns = now - c->be_age_ns;
	memcpy(bnh.nh.dmac, marks[SLOW_BACKEND_MAC], 6);
	ASSERT_OK(bpf_map_update_elem(maps.backend_nh, &e.backend_id, &bnh, BPF_EXIST));
	s.payload = 100;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	for (got = SLOW_ENTRY_MAC; got < SLOW_LOOKED_UP; got++)
		if (!memcmp(r.out, marks[got], 6))
			break;
	ASSERT_TRUE(got == c->mac,
		    "destination MAC %02x:%02x:%02x:%02x:%02x:%02x: %s next hop, want %s",
		    r.out[0], r.out[1], r.out[2], r.out[3], r.out[4], r.out[5],
		    what[got], what[c->mac]);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.last_seen_ns + 5000000000ULL > now,
		    "last_seen_ns not renewed: %llu ns behind",
		    (unsigned long long)(now - e.last_seen_ns));
	ASSERT_TRUE(e.fast_jiffies != 0, "the entry was not confirmed again");
	if (c->mac == SLOW_LOOKED_UP) {
		/* one lookup, for the backend's other flows too */
		ASSERT_OK(bpf_map_lookup_elem(maps.backend_nh, &e.backend_id, &bnh));
		ASSERT_TRUE(bnh.nh.time_ns == e.nh.time_ns && !memcmp(bnh.nh.dmac, e.nh.dmac, 6),
			    "the backend's next hop was not refreshed by the lookup (%llu ns old)",
			    (unsigned long long)(now - bnh.nh.time_ns));
	}
	return 0;
}
PKT_TABLE(slow_cases, check_slow_case);
