// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sweep.c - the userspace conntrack sweep (user/datapath/sweep.c) on entries the
 * datapath made: abandoned handshakes after closedTimeout, closed then idle
 * connections, each with its reply entry, SYNs the client never ACKed after
 * synTimeout.
 *
 * Fixture (tests/fixtures/pkt.yaml): web (10.10.0.100), ck (.110),
 * one-arm-wide (.201); clients 10.10.0.2:44000-44001, 45011, 48100-48116.
 */
#include "pkt.h"

PKT_TEST(sweep_expires_abandoned_handshakes_after_closed_timeout)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600,
				    .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10,
				    .ct_syn_timeout = 60 };
	struct hs h = { .sport = 45011, .isn = 90000 };
	struct maglb_flow k;
	struct timespec ts;
	struct pkt_view v;
	struct run r;
	__u64 now;

	if (hs_open(&h, REQ("gone"), &r, &v))
		return -1;	/* the backend never answers */
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_TRUE(ct_has(&k), "no pending entry");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 5000000000ULL) >= 0, "sweep");
	ASSERT_TRUE(ct_has(&k), "expired before closedTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 11000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&k), "an abandoned handshake outlived closedTimeout");
	return 0;
}

PKT_TEST(sweep_expires_closed_then_idle_connections_in_pairs)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 100,
				    .ct_udp_timeout = 10,
				    .ct_closed_timeout = 5,
				    .ct_syn_timeout = 60 };
	struct pkt_spec s = { CLIENT, WEB, .tcp_flags = TF_SYN };
	struct maglb_flow open_k, closed_k, open_r, closed_r;
	struct ct_item it;
	struct timespec ts;
	struct pkt_view v;
	__u64 now;

	s.sport = 44000;
	/* confirmed: tcpTimeout, not synTimeout */
	if (l4_handshake(&s, "b0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_SYN;
	s.seq = 1000;
	s.ack = 0;
	s.sport = 44001;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_RST;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", 44000, &open_k);
	client_key("10.10.0.100", 44001, &closed_k);
	it.key = open_k;
	ASSERT_OK(maps_get_ct(&maps, &open_k, &it.val));
	ct_partner_key(&it, &open_r);
	it.key = closed_k;
	ASSERT_OK(maps_get_ct(&maps, &closed_k, &it.val));
	ct_partner_key(&it, &closed_r);
	ASSERT_TRUE(ct_has(&open_r) && ct_has(&closed_r), "reply entries missing");

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 2000000000ULL) >= 0, "sweep");
	ASSERT_TRUE(ct_has(&closed_k), "closed flow expired before closedTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 6000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&closed_k) && !ct_has(&closed_r),
		    "reset flow survived closedTimeout");
	ASSERT_TRUE(ct_has(&open_k) && ct_has(&open_r),
		    "open flow expired before tcpTimeout");
	/* past synTimeout: a confirmed connection is not judged by it */
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 70000000000ULL) >= 0, "sweep");
	ASSERT_TRUE(ct_has(&open_k) && ct_has(&open_r),
		    "open flow expired at synTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 101000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&open_k) && !ct_has(&open_r),
		    "idle flow survived tcpTimeout");
	return 0;
}

/* 16 SYNs "from" a client that never ACKs (spoofed): each holds an snat
 * port only for synTimeout, not tcpTimeout. A connection the client
 * confirmed stays. */
PKT_TEST(sweep_frees_spoofed_syns_after_syn_timeout)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600,
				    .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10,
				    .ct_syn_timeout = 60 };
	struct pkt_spec s = { CLIENT, .dst = "10.10.0.201", .dport = 80,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct maglb_flow k[17], rk[17];
	struct ct_item it;
	struct timespec ts;
	struct pkt_view v;
	__u64 now;
	int i, left;

	for (i = 0; i < 17; i++) {
		s.sport = 48100 + i;
		s.tcp_flags = TF_SYN;
		if (send_and_view(&s, "c0", XDP_TX, &v))
			return -1;
		client_key("10.10.0.201", s.sport, &k[i]);
		it.key = k[i];
		ASSERT_OK(maps_get_ct(&maps, &k[i], &it.val));
		ct_partner_key(&it, &rk[i]);
	}
	/* The last one, confirmed: its backend (on the client side, one-arm)
	 * answers, and the client acknowledges that. */
	if (l4_syn_ack(&v, "c0", L4_BACKEND_ISN, XDP_TX))
		return -1;
	s.tcp_flags = TF_ACK;
	s.seq = 1001;
	s.ack = L4_BACKEND_ISN + 1;
	if (send_and_view(&s, "c0", XDP_TX, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k[16], &it.val));
	ASSERT_TRUE(!(it.val.flags & MAGLB_CT_F_UNCONFIRMED),
		    "the client's ACK of the SYN-ACK did not confirm it");

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 30000000000ULL) >= 0, "sweep");
	for (i = 0; i < 17; i++)
		ASSERT_TRUE(ct_has(&k[i]) && ct_has(&rk[i]),
			    "SYN %d expired before synTimeout", i);
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 61000000000ULL) >= 16, "sweep");
	for (i = 0, left = 0; i < 16; i++)
		left += ct_has(&k[i]) + ct_has(&rk[i]);
	ASSERT_TRUE(left == 0, "%d entries of 16 unanswered SYNs outlived "
		    "synTimeout", left);
	ASSERT_TRUE(ct_has(&k[16]) && ct_has(&rk[16]),
		    "a confirmed connection went with them");
	maps_del_ct(&maps, &k[16]);
	maps_del_ct(&maps, &rk[16]);
	return 0;
}
