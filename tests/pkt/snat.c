// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * snat.c - one-arm (snat) services: the SYN leaves from the node's address
 * by XDP_TX, the reply returns to the client, a port range runs out
 * (dropped, counted), and one client gets more ports than the probes.
 *
 * Fixture (tests/fixtures/pkt.yaml): one-arm (10.10.0.200), one-arm-wide
 * (.201), one-arm-small (.202), one-arm-64 (.203); clients
 * 10.10.0.2:40008, 41001, 42000-42005, 43000-43063, 48000-48064.
 */
#include "pkt.h"

static const struct pkt_case snat_cases[] = {
	{ "snat_syn_leaves_from_node_address_by_xdp_tx",
	  { CLIENT, .sport = 40008, .dst = "10.10.0.200", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_TX, .reason = MAGLB_TX, .svc = "one-arm",
	  .src = "10.10.0.1", .sport_min = 20000, .sport_max = 20009, .dport = 3000, .ttl = 63 },
};

PKT_TABLE(snat_cases, check_case);

PKT_TEST(snat_reply_returns_to_the_client)
{
	struct pkt_spec syn = { CLIENT, .sport = 41001, .dst = "10.10.0.200",
				.dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct pkt_spec back = { .family = 4, .src = "10.10.0.11", .sport = 3000,
				 .dst = "10.10.0.1", .proto = IPPROTO_TCP,
				 .tcp_flags = TF_SYN | TF_ACK, .payload = 10 };
	struct pkt_view v;

	if (send_and_view(&syn, "c0", XDP_TX, &v))
		return -1;
	back.dport = v.sport;
	if (send_and_view(&back, "c0", XDP_TX, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.200"), "reply src %s", v.src);
	ASSERT_EQ(v.sport, 80);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "reply dst %s", v.dst);
	ASSERT_EQ(v.dport, 41001);
	return 0;
}

/* one-arm-small has 4 ports, and only this test uses it. A new flow
 * probes every port of a range this small: each free port is found, and
 * past the last every SYN is dropped, counted. */
PKT_TEST(snat_port_range_exhaustion_drops_and_counts)
{
	struct pkt_spec syn = { CLIENT, .dst = "10.10.0.202", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	__u64 before = reason_count(MAGLB_DROP_SNAT_EXHAUSTED);
	struct pkt_view v;
	struct run r;
	int i;

	for (i = 0; i < 6; i++) {
		syn.sport = 42000 + i;
		ASSERT_OK(run_pkt(&syn, "c0", &r));
		if (i < 4) {
			ASSERT_EQ(r.action, XDP_TX);
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_TRUE(v.sport >= 20010 && v.sport <= 20013,
				    "flow %d: port %u outside 20010-20013", i, v.sport);
		} else {
			ASSERT_EQ(r.action, XDP_DROP);
		}
	}
	ASSERT_EQ(reason_count(MAGLB_DROP_SNAT_EXHAUSTED) - before, 2);
	return 0;
}

/* A SourceIP snat service hashes one client to one value: its
 * connections must still find ports beyond the first SNAT_PORT_TRIES. */
PKT_TEST(snat_one_client_opens_more_connections_than_port_tries)
{
	struct pkt_spec syn = { CLIENT, .dst = "10.10.0.201", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct run r;
	int i;

	for (i = 0; i < 64; i++) {
		syn.sport = 43000 + i;
		ASSERT_OK(run_pkt(&syn, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
	}
	return 0;
}

/* One client address, SourceIP (one service hash for all its flows),
 * as many connections as one-arm-64 has ports: the search, seeded from
 * the whole 5-tuple and stepping co-prime to the range, finds every one
 * of them, the last SYN too; one more is dropped, counted. */
PKT_TEST(snat_one_client_gets_every_port_of_a_range)
{
	struct pkt_spec syn = { CLIENT, .dst = "10.10.0.203", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	__u64 before = reason_count(MAGLB_DROP_SNAT_EXHAUSTED);
	unsigned char seen[64] = {};
	struct maglb_ct_entry e;
	struct maglb_flow k;
	struct ct_item it;
	struct pkt_view v;
	struct run r;
	int i, got = 0, fail = -1, last;

	for (i = 0; i < 64; i++) {
		syn.sport = 48000 + i;
		if (run_pkt(&syn, "c0", &r) || r.action != XDP_TX ||
		    pkt_view(r.out, r.out_len, &v)) {
			if (fail < 0)
				fail = i;
			continue;
		}
		if (v.sport >= 21000 && v.sport <= 21063 && !seen[v.sport - 21000]++)
			got++;
	}
	syn.sport = 48064;
	ASSERT_OK(run_pkt(&syn, "c0", &r));
	last = r.action;
	/* Put the range back for the next run. */
	for (i = 0; i <= 64; i++) {
		client_key("10.10.0.203", 48000 + i, &k);
		if (maps_get_ct(&maps, &k, &e))
			continue;
		it.key = k;
		it.val = e;
		ct_partner_key(&it, &k);
		maps_del_ct(&maps, &k);
		maps_del_ct(&maps, &it.key);
	}
	ASSERT_TRUE(got == 64, "%d of 64 connections got a port of their own "
		    "(the first to fail: %d)", got, fail);
	ASSERT_EQ(last, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_SNAT_EXHAUSTED) - before, 1);
	return 0;
}
