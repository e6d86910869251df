// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syncookie.c - the syncookie in the datapath (bpf/lib/syncookie.h): the
 * TSval of our SYN-ACK is MAC bits the client must echo, a cookie verifies
 * in its slot and the next (the previous slot's key) but not two slots
 * later, and a handshake's first data opens one connection only. The MAC
 * over 2^26 forgeries is tested in user space on the same code
 * (tests/unit/test_syncookie.c); here a sample goes through XDP.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck (10.10.0.110), clients
 * 10.10.0.2:45400-45408; gw (10.10.0.120): 45407.
 */
#include <time.h>
#include "pkt.h"
#include "maglb_syncookie.h"

#define SAMPLE		4096
#define OPTS		0x137U		/* SACK, MSS 1460, wscale 7 */

/* The slot XDP's clock is in (both read CLOCK_TAI). */
static __u32 slot_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_TAI, &ts);
	return ((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec) >>
	       MAGLB_COOKIE_T_SHIFT;
}

/* NOP NOP TS(tsval, tsecr) */
static void ts_opts(unsigned char *o, unsigned int tsval, unsigned int tsecr)
{
	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	put32(o + 4, tsval);
	put32(o + 8, tsecr);
}

/*
 * An ACK with the cookie of a real SYN-ACK but a TSecr that is not our
 * TSval: the ISN's 23 MAC bits are right, the TSval's 32 are not. Each is
 * refused: a pure ACK dropped, first data reset, no backend SYN.
 */
PKT_TEST(acks_with_the_right_isn_cookie_but_another_tsecr_are_refused)
{
	struct hs h = { .sport = 45400, .isn = 11000 };
	__u64 bad = reason_count(MAGLB_DROP_BAD_COOKIE);
	__u64 ok = reason_count(MAGLB_DROP_HANDSHAKE_ACK);
	__u64 rst = reason_count(MAGLB_SPLICE_RST);
	unsigned int i, seed = 1;
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, NULL);
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	for (i = 0; i < SAMPLE; i++) {
		seed = seed * 1103515245 + 12345;
		put32(h.ts_opts + 8, h.tsval_ours ^ (seed | 1));
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, XDP_DROP);
	}
	ASSERT_EQ(reason_count(MAGLB_DROP_BAD_COOKIE) - bad, SAMPLE);
	ASSERT_EQ(reason_count(MAGLB_DROP_HANDSHAKE_ACK) - ok, 0);
	/* First data the same way: reset, nothing opened. */
	s = hs_data(&h, REQ("1.2.3.4"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(reason_count(MAGLB_SPLICE_RST) - rst, 1);
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_TRUE(!ct_has(&k), "a forged TSecr opened a connection");
	/* With the TSval echoed, the same handshake is good. */
	put32(h.ts_opts + 8, h.tsval_ours);
	s = hs_data(&h, NULL);
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(reason_count(MAGLB_DROP_HANDSHAKE_ACK) - ok, 1);
	return 0;
}

/* A cookie made by the same rule (the shared code, the harness's master
 * key) at slot t: first data with it opens the backend or is reset. */
static int first_data_of_slot(unsigned short sport, __u32 isn, __u32 back,
			      struct run *r)
{
	unsigned char opts[12];
	struct cookie_in in;
	struct maglb_flow f;
	struct pkt_spec s = { CK, .sport = sport, .tcp_flags = TF_ACK | TF_PSH,
			      .seq = isn + 1, .opts = opts, .optlen = 12,
			      .data = REQ("1.2.3.4"), .window = 502 };
	__u32 t, cookie, tsval;
	int tries;

	client_key("10.10.0.110", sport, &f);
	/* Sent at a slot boundary, the cookie would be a slot older than
	 * meant: then it is made again (once per 34 s, so a retry or two). */
	for (tries = 0; tries < 3; tries++) {
		t = slot_now();
		cookie = cookie_make_at(&f, isn, OPTS, 1, t - back, &test_key,
					&in, &tsval);
		ts_opts(opts, 800, tsval);
		s.ack = cookie + 1;
		ASSERT_OK(run_pkt(&s, "c0", r));
		if (slot_now() == t)
			return 0;
	}
	ASSERT_TRUE(0, "the slot kept changing");
	return -1;
}

/*
 * Rotation: a handshake whose SYN-ACK came in the previous slot (under the
 * previous slot's key) completes; one from two slots ago is refused.
 */
PKT_TEST(handshake_of_the_previous_slot_completes_and_two_slots_old_is_refused)
{
	static const struct { const char *name; unsigned short sport;
			      __u32 back; int action; } cases[] = {
		{ "this slot", 45401, 0, XDP_REDIRECT },
		{ "previous slot", 45402, 1, XDP_REDIRECT },
		{ "two slots old", 45403, 2, XDP_TX },
		{ "three slots old", 45404, 3, XDP_TX },
	};
	struct pkt_view v;
	unsigned int i;
	struct run r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (first_data_of_slot(cases[i].sport, 12000 + i, cases[i].back,
				       &r))
			return -1;
		ASSERT_TRUE(r.action == cases[i].action, "%s: action %d, want %d",
			    cases[i].name, r.action, cases[i].action);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(v.flags == (cases[i].action == XDP_TX ? TF_RST : TF_SYN),
			    "%s: flags %#x", cases[i].name, v.flags);
	}
	return 0;
}

/*
 * A captured first segment sent again after its connection was swept: the
 * handshake's cookie still verifies (it is in its window), but its first
 * data opened a connection already. Refused with an RST, counted, and no
 * SYN goes to a backend.
 */
PKT_TEST(first_data_replayed_after_close_and_sweep_is_refused)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600,
				    .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10,
				    .ct_syn_timeout = 60 };
	struct hs h = { .sport = 45405, .isn = 13000 };
	__u64 replay = reason_count(MAGLB_DROP_COOKIE_REPLAY);
	struct maglb_flow k;
	struct timespec ts;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("1.2.3.4"), &r, &v))
		return -1;
	client_key("10.10.0.110", h.sport, &k);
	/* The connection ends and the sweep removes all of it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_TRUE(ct_sweep(&maps, &cfg, ts.tv_sec * 1000000000ULL +
			     ts.tv_nsec + 11000000000ULL) >= 1, "sweep");
	bpf_map_delete_elem(bpf_map__fd(skel->maps.maglb_splice), &k);
	ASSERT_TRUE(!ct_has(&k), "entry outlived the sweep");

	s = hs_data(&h, REQ("1.2.3.4"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_TRUE(r.action == XDP_TX, "replay: action %d (a backend SYN is XDP_REDIRECT, 4)",
		    r.action);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(reason_count(MAGLB_DROP_COOKIE_REPLAY) - replay, 1);
	ASSERT_TRUE(!ct_has(&k), "the replay opened a connection");
	return 0;
}

/*
 * A handshake's replay record has two candidate buckets (syncookie.h,
 * cookie_mark_used). One whose 8 cells hold live records of this slot
 * leaves the other; when both are full the next handshake that lands
 * there is refused (fail closed) and counted, and none of the records is
 * lost. A record in either bucket stops a replay.
 */
static const struct used_full_case {
	const char *name;
	bool full[2];		/* candidate buckets filled beforehand */
} used_full_cases[] = {
	{ "first_data_whose_replay_buckets_are_both_full_is_refused_and_counted",
	  { true, true } },
	{ "first_data_whose_first_replay_bucket_is_full_is_recorded_in_its_second",
	  { true, false } },
	{ "first_data_whose_second_replay_bucket_is_full_is_recorded_in_its_first",
	  { false, true } },
};

static int check_used_full(const struct used_full_case *c, int idx)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600, .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10, .ct_syn_timeout = 60 };
	struct hs h = { .sport = (unsigned short)(45406 + idx), .isn = 14000 + 1000 * idx };
	__u64 full = reason_count(MAGLB_DROP_COOKIE_USED_FULL);
	__u64 replay = reason_count(MAGLB_DROP_COOKIE_REPLAY);
	int fd = bpf_map__fd(skel->maps.maglb_cookie_used);
	struct maglb_cookie_used b[2], saved[2], after[2];
	bool refused = c->full[0] && c->full[1];
	struct cookie_in in;
	struct maglb_flow k;
	struct timespec ts;
	struct pkt_spec s;
	struct pkt_view v;
	__u32 t, id[2], i, j;
	struct run r;
	__u64 mac, mark;

	if (hs_syn(&h))
		return -1;
	client_key("10.10.0.110", h.sport, &k);
	t = slot_now();
	mac = cookie_mac(&k, h.isn, t, (h.cookie & MAGLB_COOKIE_OPT_MASK) |
			 MAGLB_COOKIE_TS_BIT, &test_key, &in);
	ASSERT_EQ((__u32)(mac >> 32), h.tsval_ours);	/* the SYN-ACK's slot */
	mark = cookie_used_mark(mac, t);
	for (j = 0; j < 2; j++) {
		id[j] = cookie_used_bucket(mac, t, j);
		ASSERT_OK(bpf_map_lookup_elem(fd, &id[j], &saved[j]));
		b[j] = saved[j];
		for (i = 0; c->full[j] && i < MAGLB_COOKIE_USED_WAYS; i++)
			b[j].cell[i] = (__u64)t << 32 | (0x1000 + 16 * j + 2 * i + 1);
		ASSERT_OK(bpf_map_update_elem(fd, &id[j], &b[j], BPF_ANY));
	}
	ASSERT_TRUE(id[0] != id[1], "one bucket twice: pick another port");
	s = hs_data(&h, REQ("1.2.3.4"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	for (j = 0; j < 2; j++)
		ASSERT_OK(bpf_map_lookup_elem(fd, &id[j], &after[j]));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	if (refused) {
		for (j = 0; j < 2; j++)
			ASSERT_OK(bpf_map_update_elem(fd, &id[j], &saved[j], BPF_ANY));
		ASSERT_EQ(r.action, XDP_TX);
		ASSERT_EQ(v.flags, TF_RST);
		ASSERT_EQ(reason_count(MAGLB_DROP_COOKIE_USED_FULL) - full, 1);
		ASSERT_TRUE(!memcmp(after, b, sizeof(b)), "a live record was evicted");
		ASSERT_TRUE(!ct_has(&k), "opened without a record");
		return 0;
	}
	/* Opened (our SYN to the backend), recorded in the bucket with room. */
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_EQ(v.flags, TF_SYN);
	j = c->full[0];		/* the one with room */
	ASSERT_TRUE(!memcmp(&after[!j], &b[!j], sizeof(b[0])), "the full bucket changed");
	for (i = 0; i < MAGLB_COOKIE_USED_WAYS && after[j].cell[i] != mark; i++)
		;
	ASSERT_TRUE(i < MAGLB_COOKIE_USED_WAYS, "no record in bucket %u", j);
	/* The connection ends and is swept; its first data again is a replay. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_TRUE(ct_sweep(&maps, &cfg, ts.tv_sec * 1000000000ULL +
			     ts.tv_nsec + 11000000000ULL) >= 1, "sweep");
	bpf_map_delete_elem(bpf_map__fd(skel->maps.maglb_splice), &k);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	for (j = 0; j < 2; j++)
		ASSERT_OK(bpf_map_update_elem(fd, &id[j], &saved[j], BPF_ANY));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(reason_count(MAGLB_DROP_COOKIE_REPLAY) - replay, 1);
	return 0;
}
PKT_TABLE(used_full_cases, check_used_full);

/*
 * Our TSval is the cookie's MAC, not a clock: the 404 we answer a head
 * without a route with keeps the SYN-ACK's TSval, which the client's PAWS
 * check compares with (a clock reading would look older half the time).
 */
PKT_TEST(our_404_keeps_the_synacks_tsval)
{
	struct hs h = { .vip = "10.10.0.120", .sport = 45407, .isn = 15000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, "GET /nothing HTTP/1.1\r\nHost: example.com\r\n"
		    "Accept: text/html,*/*\r\n\r\n");
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_ACK | TF_PSH | TF_FIN);
	ASSERT_EQ(opt32(&v, 8, 2), h.tsval_ours);
	ASSERT_EQ(opt32(&v, 8, 6), 800);
	return 0;
}
