// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ct.c - the conntrack as a bounded table (bpf/lib/conntrack.h,
 * user/datapath/sweep.c): a SYN flood fills it and is refused
 * (drop_ct_full) while idle established connections keep both entries and
 * their backend; a full table refuses and counts, a connection has both
 * entries or none; the sweep under pressure frees unconfirmed connections,
 * oldest first, and leaves confirmed ones; only the client's ACK of the
 * backend's SYN-ACK confirms. ct_scale_* (its own stage in tests/run.sh,
 * with MAGLB_TEST_CT_CONNS=1048576): a million connections opened through
 * test_run are all tracked.
 *
 * The harness sizes the conntrack to HARNESS_CT_CONNS connections.
 * Fixture (tests/fixtures/pkt.yaml): web (10.10.0.100), one-arm-wide
 * (10.10.0.201); clients 10.10.0.2:50000-50260, and every address of
 * 100.64.0.0/10 (the flood's, removed again by each test).
 */
#include "pkt.h"

#define FLOOD_NET	0x64400000U	/* 100.64.0.0/10 */
#define FLOOD_MASK	0xffc00000U

static bool in_flood(__be32 a)
{
	return (ntohl(a) & FLOOD_MASK) == FLOOD_NET;
}

/* Removes every entry to or from 100.64.0.0/10; the count left or -1. */
static int flood_forget(void)
{
	struct ct_item *items = NULL;
	struct maglb_flow *k;
	int n = maps_read_ct(&maps, &items), i, m = 0, err;

	if (n < 0)
		return -1;
	k = malloc((n ? n : 1) * sizeof(*k));
	for (i = 0; k && i < n; i++)
		if (items[i].key.family == MAGLB_AF_INET &&
		    (in_flood(items[i].key.saddr.v4) ||
		     in_flood(items[i].key.daddr.v4)))
			k[m++] = items[i].key;
	err = k ? maps_del_ct_batch(&maps, k, m) : -1;
	free(k);
	free(items);
	return err;
}

/* Entries in both conntrack maps now, by batch read. */
static int ct_count(void)
{
	struct ct_item *items = NULL;
	int n = maps_read_ct(&maps, &items);

	free(items);
	return n;
}

static void flood_addr(char *buf, size_t len, __u32 i)
{
	__u32 a = FLOOD_NET | (i & ~FLOOD_MASK);

	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

/* One segment from 100.64.0.0/10 + i to web: its verdict, or -1. */
static int flood_seg(__u32 i, unsigned short sport, unsigned char flags,
		     unsigned int seq, unsigned int ack, struct run *r)
{
	static struct xdp_md ctx;
	char src[32];
	struct pkt_spec s = { .family = 4, .src = src, WEB, .sport = sport,
			      .tcp_flags = flags, .seq = seq, .ack = ack };

	if (!ctx.ingress_ifindex)
		ctx.ingress_ifindex = if_nametoindex("c0");
	flood_addr(src, sizeof(src), i);
	if (run_fd(prog_fd, &s, &ctx, sizeof(ctx), r))
		return -1;
	return r->action;
}

static int flood_send(__u32 i, unsigned short sport, unsigned char flags,
		      struct run *r)
{
	return flood_seg(i, sport, flags, 1000, 1, r);
}

/* A confirmed connection from 100.64.0.0/10 + i: its SYN (seq 1000), the
 * backend's SYN-ACK (ISN L4_BACKEND_ISN) in through b0, the client's ACK
 * of it (seq 1001). 0 when all three were forwarded. */
static int flood_open(__u32 i, unsigned short sport, struct run *r)
{
	static struct xdp_md ctx;
	struct pkt_spec b = { .family = 4, .proto = IPPROTO_TCP,
			      .tcp_flags = TF_SYN | TF_ACK,
			      .seq = L4_BACKEND_ISN, .ack = 1001 };
	struct pkt_view v;

	if (!ctx.ingress_ifindex)
		ctx.ingress_ifindex = if_nametoindex("b0");
	ASSERT_EQ(flood_seg(i, sport, TF_SYN, 1000, 0, r), XDP_REDIRECT);
	ASSERT_OK(pkt_view(r->out, r->out_len, &v));
	b.src = v.dst;
	b.dst = v.src;
	b.sport = v.dport;
	b.dport = v.sport;
	ASSERT_OK(run_fd(prog_fd, &b, &ctx, sizeof(ctx), r));
	ASSERT_EQ(r->action, XDP_REDIRECT);
	ASSERT_EQ(flood_seg(i, sport, TF_ACK, 1001, L4_BACKEND_ISN + 1, r),
		  XDP_REDIRECT);
	return 0;
}

/* Entries flood client i's connection (sport) holds: 1 (MAGLB_CT_F_ONE,
 * its reply has none of its own) or 2; 0 if it has none. */
static __u32 flood_entries(__u32 i, unsigned short sport)
{
	__u32 a = FLOOD_NET | (i & ~FLOOD_MASK);
	struct maglb_flow k = { .family = MAGLB_AF_INET, .proto = IPPROTO_TCP,
				.sport = htons(sport), .dport = htons(80) };
	struct maglb_ct_entry e;

	k.saddr.v4 = htonl(a);
	inet_pton(AF_INET, "10.10.0.100", &k.daddr);
	if (maps_get_ct(&maps, &k, &e))
		return 0;
	return e.flags & MAGLB_CT_F_ONE ? 1 : 2;
}

/* A client connection's two keys and where its backend is. */
struct conn {
	struct maglb_flow fwd, rev;
	char backend[64];
	unsigned short bport;
	__u64 created_ns;
};

/* The whole handshake through test_run: the client's SYN, the backend's
 * SYN-ACK (the reply direction), the client's ACK. */
static int open_established(unsigned short sport, struct conn *c)
{
	struct pkt_spec syn = { CLIENT, WEB, .sport = sport, .tcp_flags = TF_SYN,
				.seq = 7000 };
	struct pkt_spec back = { .family = 4, .dst = "10.10.0.2", .dport = sport,
				 .proto = IPPROTO_TCP,
				 .tcp_flags = TF_SYN | TF_ACK, .seq = 9000,
				 .ack = 7001 };
	struct ct_item it;
	struct pkt_view v;

	if (send_and_view(&syn, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(c->backend, sizeof(c->backend), "%s", v.dst);
	c->bport = v.dport;
	back.src = c->backend;
	back.sport = c->bport;
	if (send_and_view(&back, "b0", XDP_REDIRECT, &v))
		return -1;
	syn.tcp_flags = TF_ACK;
	syn.seq = 7001;
	syn.ack = 9001;
	if (send_and_view(&syn, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", sport, &c->fwd);
	it.key = c->fwd;
	ASSERT_OK(maps_get_ct(&maps, &c->fwd, &it.val));
	ASSERT_TRUE(!(it.val.flags & MAGLB_CT_F_UNCONFIRMED),
		    "port %u: the client's ACK did not confirm it", sport);
	ct_partner_key(&it, &c->rev);
	ASSERT_TRUE(ct_has(&c->rev), "port %u: no reply entry", sport);
	c->created_ns = it.val.created_ns;
	return 0;
}

#define N_IDLE		250
#define N_FLOOD		200000

PKT_TEST(idle_established_connections_survive_a_random_source_syn_flood)
{
	static struct conn conns[N_IDLE];
	__u64 full0 = reason_count(MAGLB_DROP_CT_FULL);
	__u32 i, dropped = 0, seed = 12345;
	struct run r;

	for (i = 0; i < N_IDLE; i++)
		if (open_established(50000 + i, &conns[i]))
			return -1;
	/* Random sources and ports over 100.64.0.0/10: 200k SYNs, more than
	 * six times what the table holds. */
	for (i = 0; i < N_FLOOD; i++) {
		int act;

		seed = seed * 1103515245 + 12345;
		act = flood_send(seed >> 10, 1024 + (seed & 0x3ff) * 61,
				 TF_SYN, &r);
		ASSERT_TRUE(act >= 0, "test_run");
		dropped += act == XDP_DROP;
	}
	ASSERT_TRUE(dropped > 0, "a flood of %d SYNs into %u connections' room refused none",
		    N_FLOOD, harness_ct_conns());
	ASSERT_EQ(reason_count(MAGLB_DROP_CT_FULL) - full0, dropped);
	for (i = 0; i < N_IDLE; i++) {
		struct pkt_spec data = { CLIENT, WEB, .sport = 50000 + i,
					 .tcp_flags = TF_ACK | TF_PSH,
					 .seq = 7001, .ack = 9001,
					 .payload = 100 };
		struct maglb_ct_entry e;
		struct pkt_view v;

		/* Both entries, the very ones the handshake made. */
		ASSERT_TRUE(!maps_get_ct(&maps, &conns[i].fwd, &e) &&
			    e.created_ns == conns[i].created_ns,
			    "connection %u: forward entry evicted by the flood", i);
		ASSERT_TRUE(ct_has(&conns[i].rev),
			    "connection %u: reply entry evicted by the flood", i);
		if (send_and_view(&data, "c0", XDP_REDIRECT, &v))
			return -1;
		ASSERT_TRUE(!strcmp(v.dst, conns[i].backend) &&
			    v.dport == conns[i].bport,
			    "connection %u: went to %s:%u, not its %s:%u", i,
			    v.dst, v.dport, conns[i].backend, conns[i].bport);
	}
	for (i = 0; i < N_IDLE; i++) {
		maps_del_ct(&maps, &conns[i].fwd);
		maps_del_ct(&maps, &conns[i].rev);
	}
	ASSERT_OK(flood_forget());
	return 0;
}

/* The pressure tests' timeouts: none of them passes during a test. */
static const struct maglb_config sweep_cfg = { .ct_tcp_timeout = 21600,
					       .ct_udp_timeout = 60,
					       .ct_closed_timeout = 10,
					       .ct_syn_timeout = 60 };

/* SYNs of flood clients from, from + 1, ... until the full table refuses
 * one; *n: how many it took. A map holds 2 * conns entries, at least one
 * a connection. */
static int syns_until_refused(__u32 from, unsigned short sport, __u32 *n)
{
	__u32 conns = harness_ct_conns(), i;
	struct run r;

	*n = 0;
	for (i = from; i <= from + 2 * conns; i++) {
		int act = flood_send(i, sport, TF_SYN, &r);

		if (act == XDP_DROP)
			return 0;
		ASSERT_EQ(act, XDP_REDIRECT);
		(*n)++;
	}
	snprintf(test_msg, sizeof(test_msg), "the table never filled (%u SYNs)", *n);
	return -1;
}

PKT_TEST(full_table_refuses_and_counts_and_the_sweep_frees_unconfirmed_first)
{
	__u32 conns = harness_ct_conns(), n_conf, per, i, n_syn = 0;
	__u64 full0 = reason_count(MAGLB_DROP_CT_FULL), base_ns = 1;
	struct ct_item *items = NULL;
	struct timespec ts;
	struct run r;
	int n, left_conf = 0, left_unconf = 0, base = ct_count();
	__u32 oldest_left = ~0U;

	ASSERT_TRUE(base >= 0 && (__u32)base < conns, "%d entries before the test", base);
	/* Half the room (2 * conns entries): confirmed connections (the
	 * whole handshake), of one entry or two (per). */
	ASSERT_OK(flood_open(0, 40000, &r));
	per = flood_entries(0, 40000);
	ASSERT_TRUE(per, "flood connection 0 has no entry");
	n_conf = conns / per;
	for (i = 1; i < n_conf; i++)
		ASSERT_OK(flood_open(i, 40000, &r));
	/* The rest: SYNs only, until one is refused. */
	ASSERT_OK(syns_until_refused(n_conf, 40000, &n_syn));
	ASSERT_EQ(reason_count(MAGLB_DROP_CT_FULL) - full0, 1);
	/* All its entries or none: every connection holds per. */
	n = ct_count();
	ASSERT_TRUE((n - base) % per == 0, "%d entries: a connection with part of its",
		    n - base);
	ASSERT_EQ((__u32)(n - base) / per, n_conf + n_syn);
	/* Deterministic ages (the datapath's clock is coarse): the i-th SYN
	 * of the unconfirmed ones is the i-th oldest. */
	n = maps_read_ct(&maps, &items);
	ASSERT_TRUE(n > 0, "read");
	for (i = 0; i < (__u32)n; i++) {
		struct ct_item *it = &items[i];

		if (!in_flood(it->key.saddr.v4) ||
		    !(it->val.flags & MAGLB_CT_F_UNCONFIRMED))
			continue;
		it->val.created_ns = base_ns + (ntohl(it->key.saddr.v4) & ~FLOOD_MASK);
		ASSERT_OK(maps_put_ct(&maps, &it->key, &it->val, BPF_EXIST));
	}
	free(items);
	items = NULL;

	/* Nothing has timed out: only the pressure step deletes. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_TRUE(ct_sweep(&maps, &sweep_cfg, ts.tv_sec * 1000000000ULL +
			     ts.tv_nsec) > 0, "the sweep under pressure freed nothing");
	n = maps_read_ct(&maps, &items);
	ASSERT_TRUE(n > 0, "read");
	for (i = 0; i < (__u32)n; i++) {
		struct ct_item *it = &items[i];
		__u32 idx = ntohl(it->key.saddr.v4) & ~FLOOD_MASK;

		if (!in_flood(it->key.saddr.v4))
			continue;
		if (it->val.flags & MAGLB_CT_F_UNCONFIRMED) {
			left_unconf++;
			if (idx < oldest_left)
				oldest_left = idx;
		} else {
			left_conf++;
		}
	}
	free(items);
	ASSERT_EQ((__u32)left_conf, n_conf);
	ASSERT_TRUE(left_unconf > 0 && (__u32)left_unconf < n_syn,
		    "%d of %u unconfirmed left", left_unconf, n_syn);
	/* Oldest first: the ones left are the last n sent. */
	ASSERT_EQ(oldest_left, n_conf + n_syn - left_unconf);
	ASSERT_TRUE((__u64)(ct_count() - base) * 10 <= (__u64)conns * 2 * 8,
		    "the table is still above 80%%");
	/* Room again: a new flow is taken. */
	ASSERT_EQ(flood_send(2 * conns + 1, 40000, TF_SYN, &r), XDP_REDIRECT);
	ASSERT_OK(flood_forget());
	return 0;
}

/* At a high rate of short connections, closed ones (in their
 * closedTimeout) are most of the table: under pressure they go first,
 * before unconfirmed ones, and confirmed ones never. */
PKT_TEST(sweep_under_pressure_frees_closed_connections_before_unconfirmed)
{
	__u32 conns = harness_ct_conns(), n_conf, n_closed, per, i, n_syn = 0;
	int n, left_conf = 0, left_unconf = 0, left_closed = 0, base = ct_count();
	struct ct_item *items = NULL;
	struct timespec ts;
	struct run r;

	ASSERT_TRUE(base >= 0 && (__u32)base < conns, "%d entries before the test", base);
	/* Of the room (2 * conns entries, per a connection): half
	 * confirmed, 30% closed, the rest SYNs. */
	ASSERT_OK(flood_open(0, 40002, &r));
	per = flood_entries(0, 40002);
	ASSERT_TRUE(per, "flood connection 0 has no entry");
	n_conf = conns / per;
	n_closed = conns * 2 * 3 / 10 / per;
	for (i = 1; i < n_conf + n_closed; i++) {
		ASSERT_OK(flood_open(i, 40002, &r));
		/* at the client's exact next byte: the connection is over */
		if (i >= n_conf)
			ASSERT_EQ(flood_seg(i, 40002, TF_RST, 1001, 0, &r),
				  XDP_REDIRECT);
	}
	ASSERT_OK(syns_until_refused(n_conf + n_closed, 40002, &n_syn));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ASSERT_TRUE(ct_sweep(&maps, &sweep_cfg, ts.tv_sec * 1000000000ULL +
			     ts.tv_nsec) > 0, "the sweep under pressure freed nothing");
	n = maps_read_ct(&maps, &items);
	ASSERT_TRUE(n > 0, "read");
	for (i = 0; i < (__u32)n; i++) {
		const struct ct_item *it = &items[i];
		__u32 idx = ntohl(it->key.saddr.v4) & ~FLOOD_MASK;

		if (!in_flood(it->key.saddr.v4) || (it->val.flags & MAGLB_CT_F_REPLY))
			continue;
		if (it->val.flags & MAGLB_CT_F_UNCONFIRMED)
			left_unconf++;
		else if (idx >= n_conf)
			left_closed++;
		else
			left_conf++;
	}
	free(items);
	printf("  # %u confirmed, %u closed, %u unconfirmed; left %d, %d, %d\n",
	       n_conf, n_closed, n_syn, left_conf, left_closed, left_unconf);
	ASSERT_EQ((__u32)left_conf, n_conf);
	ASSERT_EQ((__u32)left_unconf, n_syn);
	ASSERT_TRUE((__u32)left_closed < n_closed, "no closed connection was freed");
	ASSERT_TRUE((__u64)(ct_count() - base) * 10 <= (__u64)conns * 2 * 8,
		    "the table is still above 80%%");
	ASSERT_OK(flood_forget());
	return 0;
}

#define N_SCALE		1000000

static int by_flow(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct maglb_flow));
}

PKT_TEST(ct_scale_a_million_connections_opened_are_all_tracked)
{
	struct ct_item *items = NULL;
	struct maglb_flow *rev;
	__u32 i, n_fwd = 0, n_rev = 0, n_one = 0, paired = 0;
	struct run r;
	int n;

	ASSERT_TRUE(harness_ct_conns() >= N_SCALE,
		    "run with MAGLB_TEST_CT_CONNS=1048576 (the table holds %u)",
		    harness_ct_conns());
	for (i = 0; i < N_SCALE; i++)
		ASSERT_OK(flood_open(i, 40001, &r));
	n = maps_read_ct(&maps, &items);
	ASSERT_TRUE(n >= N_SCALE, "%d entries for %d connections", n,
		    N_SCALE);
	rev = malloc(n * sizeof(*rev));
	ASSERT_TRUE(rev != NULL, "malloc");
	for (i = 0; i < (__u32)n; i++)
		if (in_flood(items[i].key.daddr.v4))
			rev[n_rev++] = items[i].key;
	qsort(rev, n_rev, sizeof(*rev), by_flow);
	for (i = 0; i < (__u32)n; i++) {
		struct maglb_flow pk;

		if (!in_flood(items[i].key.saddr.v4))
			continue;
		n_fwd++;
		ASSERT_TRUE(!(items[i].val.flags & MAGLB_CT_F_UNCONFIRMED),
			    "an ACKed connection is unconfirmed");
		ct_partner_key(&items[i], &pk);
		if (items[i].val.flags & MAGLB_CT_F_ONE) {
			/* its reply, found as the datapath finds it */
			struct maglb_ct_entry e;

			n_one++;
			paired += !maps_get_ct(&maps, &pk, &e) &&
				  (e.flags & MAGLB_CT_F_REPLY);
		} else {
			paired += !!bsearch(&pk, rev, n_rev, sizeof(*rev),
					    by_flow);
		}
	}
	free(rev);
	free(items);
	printf("  # %u connections: %u with one entry, %u reply entries\n",
	       n_fwd, n_one, n_rev);
	ASSERT_EQ(n_fwd, N_SCALE);
	ASSERT_EQ(n_rev + n_one, N_SCALE);
	ASSERT_EQ(paired, N_SCALE);
	ASSERT_OK(flood_forget());
	return 0;
}

/*
 * What confirms a connection a SYN made (bpf/lib/conntrack.h,
 * ct_acks_syn_ack): only a client ACK of the backend's SYN-ACK, which its
 * reply entry records, up to what the backend has sent. A blind spoofer's
 * SYN then ACK leaves the entry unconfirmed: synTimeout, first to go under
 * pressure, never the fast path. Once confirmed, the fast path takes it.
 */
#define CONFIRM_ISN	7000	/* the client's */

static const struct confirm_case {
	const char *name;
	unsigned short sport;
	bool snat;		/* one-arm-wide (backend on c0, XDP_TX); else web */
	bool early_ack;		/* first an ACK of isn_b + 1, before the SYN-ACK */
	int syn_acks;		/* the backend's SYN-ACKs first: 0, 1, or 2, the
				 * second a stranger's with another ISN */
	int data;		/* bytes the backend sends after its SYN-ACK */
	int ack_off;		/* the client's ACK: isn_b + 1 + ack_off */
	bool confirmed;
} confirm_cases[] = {
	{ "spoofed_ack_does_not_confirm_an_entry",
	  50250, false, false, 0, 0, 0x1234567, false },
	{ "ack_of_the_syn_ack_confirms_an_entry",
	  50251, false, false, 1, 0, 0, true },
	{ "ack_of_the_syn_ack_confirms_an_snat_entry",
	  50252, true, false, 1, 0, 0, true },
	{ "ack_before_the_syn_ack_confirms_nothing_and_the_one_after_it_does",
	  50253, false, true, 1, 0, 0, true },
	{ "ack_short_of_the_syn_ack_does_not_confirm_an_entry",
	  50254, false, false, 1, 0, -1, false },
	{ "ack_past_what_the_backend_sent_does_not_confirm_an_entry",
	  50255, false, false, 1, 0, 1, false },
	{ "ack_of_the_backends_first_data_confirms_an_entry",
	  50256, false, false, 1, 100, 100, true },
	{ "ack_of_a_second_syn_ack_with_another_isn_does_not_confirm_an_entry",
	  50257, false, false, 2, 0, 0x10000, false },
	{ "ack_of_the_first_syn_ack_confirms_although_a_second_one_came",
	  50258, false, false, 2, 0, 0, true },
};

/*
 * Whether entry k's packet s (forwarded as act) takes the fast path. The
 * full path refreshes a last_seen_ns a second old (ct_touch); the fast
 * path leaves it while within FAST_JIFFIES of the entry's confirmation
 * (fastpath.h). Past that window the fast path renews the entry, as the
 * full path would, and moves fast_jiffies: then it is tried again.
 */
static int takes_fast_path(const struct maglb_flow *k, const struct pkt_spec *s,
			   const char *dev, int act, bool *fast)
{
	struct maglb_ct_entry e, e1;
	struct pkt_view v;
	int i;

	for (i = 0; i < 8; i++) {
		ASSERT_OK(maps_get_ct(&maps, k, &e));
		e.last_seen_ns -= 30000000000ULL;
		ASSERT_OK(maps_put_ct(&maps, k, &e, BPF_EXIST));
		if (send_and_view(s, dev, act, &v))
			return -1;
		ASSERT_OK(maps_get_ct(&maps, k, &e1));
		*fast = e1.last_seen_ns == e.last_seen_ns;
		if (*fast || e1.fast_jiffies == e.fast_jiffies)
			return 0;
	}
	snprintf(test_msg, sizeof(test_msg), "fast_jiffies moved on each try");
	return -1;
}

static int check_confirm_case(const struct confirm_case *c, int idx)
{
	const char *vip = c->snat ? "10.10.0.201" : "10.10.0.100";
	const char *bdev = c->snat ? "c0" : "b0";
	int act = c->snat ? XDP_TX : XDP_REDIRECT;
	unsigned int isn_b = 9000 + 1000 * idx;
	struct pkt_spec s = { CLIENT, .dst = vip, .dport = 80,
			      .proto = IPPROTO_TCP, .sport = c->sport,
			      .tcp_flags = TF_SYN, .seq = CONFIRM_ISN };
	struct pkt_spec b = { .family = 4, .proto = IPPROTO_TCP,
			      .tcp_flags = TF_ACK | TF_PSH,
			      .seq = isn_b + 1, .ack = CONFIRM_ISN + 1,
			      .payload = c->data };
	struct maglb_ct_entry e, re;
	struct pkt_view syn, v;
	struct ct_item it;
	struct maglb_flow rk;
	bool fast;
	int i;

	if (send_and_view(&s, "c0", act, &syn))
		return -1;
	client_key(vip, c->sport, &it.key);
	ASSERT_OK(maps_get_ct(&maps, &it.key, &it.val));
	ASSERT_TRUE(it.val.flags & MAGLB_CT_F_UNCONFIRMED, "a SYN made it confirmed");
	ct_partner_key(&it, &rk);
	s.tcp_flags = TF_ACK;
	s.seq = CONFIRM_ISN + 1;
	if (c->early_ack) {
		s.ack = isn_b + 1;
		if (send_and_view(&s, "c0", act, &v))
			return -1;
		ASSERT_OK(maps_get_ct(&maps, &it.key, &e));
		ASSERT_TRUE(e.flags & MAGLB_CT_F_UNCONFIRMED,
			    "an ACK before any SYN-ACK confirmed it");
	}
	for (i = 0; i < c->syn_acks; i++) {
		if (l4_syn_ack(&syn, bdev, isn_b + 0x10000 * i, act))
			return -1;
		/* The first is recorded, and only the first. */
		ASSERT_OK(maps_get_ct(&maps, &rk, &re));
		ASSERT_TRUE(re.flags & MAGLB_CT_F_SYN_ACK, "SYN-ACK not recorded");
		ASSERT_EQ(re.syn_ack_next, isn_b + 1);
		ASSERT_EQ(re.seq_next, isn_b + 1);
	}
	if (c->data) {
		b.src = syn.dst;
		b.dst = syn.src;
		b.sport = syn.dport;
		b.dport = syn.sport;
		if (send_and_view(&b, bdev, act, &v))
			return -1;
		ASSERT_OK(maps_get_ct(&maps, &rk, &re));
		ASSERT_EQ(re.seq_next, isn_b + 1 + c->data);
	}
	s.ack = isn_b + 1 + c->ack_off;
	if (send_and_view(&s, "c0", act, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &it.key, &e));
	ASSERT_TRUE(!(e.flags & MAGLB_CT_F_UNCONFIRMED) == c->confirmed,
		    "the client's ACK of %u (the backend's ISN + 1 %+d) %s it",
		    s.ack, c->ack_off, c->confirmed ? "did not confirm" : "confirmed");
	/* Data from the client, as a confirmed flow's goes: by the fast path. */
	s.tcp_flags = TF_ACK | TF_PSH;
	s.payload = 10;
	if (takes_fast_path(&it.key, &s, "c0", act, &fast))
		return -1;
	ASSERT_TRUE(fast == c->confirmed, "the fast path %s it",
		    fast ? "took" : "did not take");
	/* The reply direction's entry, SYN-ACK recorded or not, is the fast
	 * path's either way. */
	b.src = syn.dst;
	b.dst = syn.src;
	b.sport = syn.dport;
	b.dport = syn.sport;
	b.seq = isn_b + 1 + c->data;
	b.payload = 10;
	if (takes_fast_path(&rk, &b, bdev, act, &fast))
		return -1;
	ASSERT_TRUE(fast, "the backend's data did not take the fast path");
	maps_del_ct(&maps, &it.key);
	maps_del_ct(&maps, &rk);
	return 0;
}

PKT_TABLE(confirm_cases, check_confirm_case);

/* A SYN-ACK on the reply entry of a connection that is not unconfirmed (a
 * stranger's: it knows the 4-tuple) changes nothing. SYNs are not tracked
 * (conntrack.h): had it set seq_next, the backend's segments could no
 * longer move it, and its real RST would be dropped. */
static const struct stray_case {
	const char *name;
	unsigned short sport;
	bool handshake;		/* else picked up mid-stream: no SYN */
} stray_cases[] = {
	{ "syn_ack_on_an_established_connection_changes_nothing", 50259, true },
	{ "syn_ack_on_a_connection_picked_up_mid_stream_changes_nothing",
	  50260, false },
};

static int check_stray_case(const struct stray_case *c, int idx)
{
	struct pkt_spec s = { CLIENT, WEB, .sport = c->sport, .seq = 1000,
			      .tcp_flags = TF_ACK | TF_PSH, .ack = 5000,
			      .payload = 10 };
	struct maglb_ct_entry re0, re1;
	struct pkt_view v, syn;
	struct maglb_flow rk;
	struct ct_item it;

	(void)idx;
	if (c->handshake) {
		if (l4_handshake(&s, "b0", XDP_REDIRECT, &v))
			return -1;
	} else if (send_and_view(&s, "c0", XDP_REDIRECT, &v)) {
		return -1;
	}
	client_key("10.10.0.100", c->sport, &it.key);
	ASSERT_OK(maps_get_ct(&maps, &it.key, &it.val));
	ASSERT_TRUE(!(it.val.flags & MAGLB_CT_F_UNCONFIRMED), "unconfirmed");
	ct_partner_key(&it, &rk);
	ASSERT_OK(maps_get_ct(&maps, &rk, &re0));
	/* v is a client segment as it left: the SYN-ACK's 4-tuple. */
	syn = v;
	syn.seq = 0x5eed0000;
	if (l4_syn_ack(&syn, "b0", 0x77770000, XDP_REDIRECT))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &rk, &re1));
	ASSERT_TRUE(re1.flags == re0.flags && re1.seq_next == re0.seq_next &&
		    re1.syn_ack_next == re0.syn_ack_next,
		    "the SYN-ACK changed the reply entry: flags %#x -> %#x, "
		    "seq_next %u -> %u", re0.flags, re1.flags, re0.seq_next,
		    re1.seq_next);
	maps_del_ct(&maps, &it.key);
	maps_del_ct(&maps, &rk);
	return 0;
}

PKT_TABLE(stray_cases, check_stray_case);
