// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stash_flood.c - the splice fails closed (bpf/lib/stash.h): 20,000
 * handshakes with first data towards backends that never answer, from
 * many addresses and from one, then a setup that was in flight before
 * them; the per-source bound and its counter. Every packet these tests
 * send is checked: when it raises drop_no_state, what came out is an RST.
 *
 * Fixture (tests/fixtures/pkt.yaml): ck (10.10.0.110), ck6
 * (fd00:10::110); clients 10.10.0.2:45420-45423 (syncookie.c has 45400-45408;
 * a test order that runs both must not meet the other's entries); flood sources
 * 10.12.0.1-10.12.78.32, 10.13.0.1-10.13.0.2 and fd00:1x::5eed:0:N (any
 * port), whose state each test removes.
 */
#include <time.h>
#include "pkt.h"

#define FLOOD		20000
#define MANY_BASE	0x0a0c0000U	/* 10.12.0.0: one address each */
#define ONE_SRC		"10.13.0.1"
#define BOUND_SRC	"10.13.0.2"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Run s; if drop_no_state rose, what came out must be an RST. */
static int run_checked(const struct pkt_spec *s, const char *dev, struct run *r)
{
	__u64 b = reason_count(MAGLB_DROP_NO_STATE);
	struct pkt_view v;

	ASSERT_OK(run_pkt(s, dev, r));
	if (reason_count(MAGLB_DROP_NO_STATE) == b)
		return 0;
	ASSERT_TRUE(r->action == XDP_TX || r->action == XDP_REDIRECT,
		    "drop_no_state rose with verdict %d: nothing sent", r->action);
	ASSERT_OK(pkt_view(r->out, r->out_len, &v));
	ASSERT_TRUE(v.flags & TF_RST, "drop_no_state rose, flags %#x sent", v.flags);
	return 0;
}

/* An RST from the VIP to the client src:sport whose cookie is cookie. */
static int is_client_rst(const struct run *r, const char *src,
			 unsigned short sport, unsigned int cookie)
{
	const char *vip = strchr(src, ':') ? "fd00:10::110" : "10.10.0.110";
	struct pkt_view v;

	ASSERT_EQ(r->action, XDP_TX);
	ASSERT_OK(pkt_view(r->out, r->out_len, &v));
	ASSERT_TRUE(v.csum_ok, "RST checksums");
	ASSERT_TRUE(!strcmp(v.src, vip) && !strcmp(v.dst, src),
		    "RST %s -> %s", v.src, v.dst);
	ASSERT_EQ(v.dport, sport);
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(v.seq, cookie + 1);
	return 0;
}

enum outcome { OPENED, RESET };

/* One flood handshake: SYN, then first data, never anything more. The
 * data either opens the backend (our SYN to it) or gets an RST. */
static int flood_one(const char *src, unsigned short sport, unsigned int isn,
		     enum outcome *out)
{
	bool v6 = strchr(src, ':');
	struct pkt_spec s = { .family = v6 ? 6 : 4, .src = src,
			      .dst = v6 ? "fd00:10::110" : "10.10.0.110",
			      .sport = sport, .dport = 80, .proto = IPPROTO_TCP,
			      .tcp_flags = TF_SYN, .seq = isn, .opts = syn_opts,
			      .optlen = 20 };
	unsigned char ts[12] = { 1, 1, 8, 10 };
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_checked(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	put32(ts + 4, 800);
	put32(ts + 8, opt32(&v, 8, 2));
	s.tcp_flags = TF_ACK | TF_PSH;
	s.seq = isn + 1;
	s.ack = v.seq + 1;
	s.opts = ts;
	s.optlen = 12;
	s.data = REQ("flood");
	s.window = 502;
	ASSERT_OK(run_checked(&s, "c0", &r));
	if (r.action == XDP_REDIRECT) {
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_EQ(v.flags, TF_SYN);
		*out = OPENED;
		return 0;
	}
	*out = RESET;
	return is_client_rst(&r, src, sport, s.ack - 1);
}

static bool flood_addr(const union maglb_addr *a)
{
	__u32 h = ntohl(a->v4);

	if (a->v6[2] == htonl(0x5eed) && ntohl(a->v6[0]) >> 16 == 0xfd00)
		return true;					/* ::5eed:0:N */
	return (h >> 16) == 0x0a0c || (h >> 16) == 0x0a0d;	/* 10.12, 10.13 */
}

/* The /64s of the IPv6 sources, fd00:10::/64 and fd00:11::/64, as the
 * per-source counts key them. */
static bool flood_64(const struct maglb_stash_src_key *k)
{
	__u32 w = ntohl(k->addr.v6[0]);

	return k->family == MAGLB_AF_INET6 && !k->addr.v6[1] &&
	       (w == 0xfd000010 || w == 0xfd000011);
}

/* Remove every stash, conntrack entry and source count of the flood. */
static void flood_cleanup(void)
{
	struct maglb_stash_src_key sk, snext;
	struct maglb_flow k, next, *keys;
	struct ct_item *items;
	int i, n = 0;
	void *prev = NULL;

	keys = calloc(8192, sizeof(*keys));
	while (keys && n < 8192 && !bpf_map_get_next_key(maps.splice, prev, &next)) {
		k = next;
		if (flood_addr(&k.saddr))
			keys[n++] = k;
		prev = &k;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(maps.splice, &keys[i]);
	free(keys);
	n = maps_read_ct(&maps, &items);
	for (i = 0; i < n; i++)
		if (flood_addr(&items[i].key.saddr) || flood_addr(&items[i].key.daddr))
			maps_del_ct(&maps, &items[i].key);
	if (n >= 0)
		free(items);
	prev = NULL;
	while (!bpf_map_get_next_key(maps.stash_src, prev, &snext)) {
		sk = snext;
		prev = &sk;
		if ((flood_addr(&sk.addr) || flood_64(&sk)) &&
		    !bpf_map_delete_elem(maps.stash_src, &sk))
			prev = NULL;	/* start again: the key is gone */
	}
}

/* After the flood: a setup opened before it. Its client's retransmit of
 * the first data either goes on (our SYN again, then the backend's
 * SYN-ACK splices it) or gets an RST at once. */
static int retransmit_completes_or_is_reset(struct hs *h, const char *req,
					    bool must_complete)
{
	struct pkt_spec s = hs_data(h, req);
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_checked(&s, "c0", &r));
	if (r.action == XDP_TX && !must_complete) {
		printf("  retransmit of %u: reset\n", h->sport);
		return is_client_rst(&r, "10.10.0.2", h->sport, h->cookie);
	}
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, h->isn);
	s = hs_synack(h, backend_opts);
	ASSERT_OK(run_checked(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_PASS);		/* to TC, which grows it */
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);			/* TC_ACT_REDIRECT */
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.datalen, (int)strlen(req));
	printf("  retransmit of %u: completed\n", h->sport);
	return 0;
}

/* The backend's SYN-ACK comes first: it is taken (the stash is there) or
 * the backend gets an RST, and then the client's retransmit gets one. */
static int synack_completes_or_resets_both(struct hs *h, const char *req)
{
	struct pkt_spec s = hs_synack(h, backend_opts);
	__u64 b = reason_count(MAGLB_SPLICE_RST_BACKEND);
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_checked(&s, "b0", &r));
	if (r.action == XDP_PASS) {
		ASSERT_OK(run_tc(&s, "b0", &r));
		ASSERT_EQ(r.action, 7);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_EQ(v.datalen, (int)strlen(req));
		printf("  SYN-ACK of %u: completed\n", h->sport);
		return 0;
	}
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "backend RST checksums");
	ASSERT_TRUE(!strcmp(v.dst, h->backend) && !strcmp(v.src, "10.10.0.2"),
		    "backend RST %s -> %s", v.src, v.dst);
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(v.seq, h->isn + 1);
	ASSERT_EQ(reason_count(MAGLB_SPLICE_RST_BACKEND) - b, 1);
	s = hs_data(h, req);
	ASSERT_OK(run_checked(&s, "c0", &r));
	printf("  SYN-ACK of %u: stash evicted, both sides reset\n", h->sport);
	return is_client_rst(&r, "10.10.0.2", h->sport, h->cookie);
}

PKT_TEST(flood_from_many_sources_leaves_setups_completed_or_reset)
{
	struct hs a = { .sport = 45420, .isn = 1400000 };
	struct hs b = { .sport = 45421, .isn = 1410000, .isn_b = 1420000 };
	const char *req = REQ("early");
	int i, opened = 0, err = -1;
	char src[INET_ADDRSTRLEN];
	struct pkt_view v;
	enum outcome o;
	struct run r;
	__u32 addr;

	a.isn_b = 1430000;
	if (hs_open(&a, req, &r, &v) || hs_open(&b, req, &r, &v))
		goto out;
	for (i = 0; i < FLOOD; i++) {
		addr = htonl(MANY_BASE + 1 + i);
		inet_ntop(AF_INET, &addr, src, sizeof(src));
		if (flood_one(src, 1024 + (i & 0x7fff), 7 * i + 1, &o))
			goto out;
		opened += o == OPENED;
	}
	printf("  %d of %d flood handshakes opened\n", opened, FLOOD);
	if (retransmit_completes_or_is_reset(&a, req, false) ||
	    synack_completes_or_resets_both(&b, req))
		goto out;
	err = 0;
out:
	flood_cleanup();
	return err;
}

PKT_TEST(flood_from_one_source_is_bounded_and_evicts_no_one)
{
	struct hs h = { .sport = 45422, .isn = 1500000, .isn_b = 1510000 };
	__u64 b = reason_count(MAGLB_SPLICE_SOURCE_LIMIT), t0;
	const char *req = REQ("early");
	int i, opened = 0, err = -1;
	struct maglb_splice sp;
	struct maglb_flow k;
	__u64 windows;
	struct pkt_view v;
	enum outcome o;
	struct run r;

	t0 = now_ns();
	if (hs_open(&h, req, &r, &v))
		goto out;
	for (i = 0; i < FLOOD; i++) {
		if (flood_one(ONE_SRC, 1024 + i, 11 * i + 1, &o))
			goto out;
		opened += o == OPENED;
	}
	client_key("10.10.0.110", h.sport, &k);
	if (bpf_map_lookup_elem(maps.splice, &k, &sp)) {
		fprintf(stderr, "  the earlier setup's stash was evicted\n");
		goto out;
	}
	/* The count starts again once per splice_timeout_ns (1 s here) of a
	 * source never at 0 (stash.h): that many windows, that many bounds. */
	windows = (now_ns() - t0) / 1000000000ULL + 1;
	printf("  %d of %d opened in %llu window(s)\n", opened, FLOOD,
	       (unsigned long long)windows);
	if (opened < MAGLB_STASH_PER_SOURCE ||
	    opened > (int)(MAGLB_STASH_PER_SOURCE * windows)) {
		fprintf(stderr, "  %d opened, bound %d per window\n", opened,
			MAGLB_STASH_PER_SOURCE);
		goto out;
	}
	if (reason_count(MAGLB_SPLICE_SOURCE_LIMIT) - b != (__u64)(FLOOD - opened)) {
		fprintf(stderr, "  splice_source_limit rose by %llu, %d refused\n",
			(unsigned long long)(reason_count(MAGLB_SPLICE_SOURCE_LIMIT) - b),
			FLOOD - opened);
		goto out;
	}
	/* Its retransmit completes the splice, unless the flood took longer
	 * than the setup timeout (a slow guest): then it is reset for that. */
	if (retransmit_completes_or_is_reset(&h, req,
					     now_ns() - t0 < 1000000000ULL))
		goto out;
	err = 0;
out:
	flood_cleanup();
	return err;
}

/* The first of BOUND_SRC's setups (port 2000, ISN 77) is given up by its
 * client: the RST goes on to the backend, which holds our SYN. */
static int client_gives_up(void)
{
	struct pkt_spec s = { .family = 4, .src = BOUND_SRC, .dst = "10.10.0.110",
			      .sport = 2000, .dport = 80, .proto = IPPROTO_TCP,
			      .tcp_flags = TF_RST, .seq = 78 };
	__u64 rb = reason_count(MAGLB_SPLICE_RST_BACKEND);
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_checked(&s, "c0", &r));
	ASSERT_TRUE(r.action == XDP_REDIRECT || r.action == XDP_TX,
		    "client RST: verdict %d", r.action);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "RST to the backend: checksums");
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(v.seq, 78);
	ASSERT_TRUE(!strcmp(v.src, BOUND_SRC) && strcmp(v.dst, "10.10.0.110"),
		    "client RST %s -> %s, not to the backend", v.src, v.dst);
	ASSERT_EQ(v.dport, 3000);
	ASSERT_EQ(reason_count(MAGLB_SPLICE_RST_BACKEND) - rb, 1);
	return 0;
}

/* The bound counts stashes held: the source's next first data past it
 * gets an RST (splice_source_limit), and one setup given up makes room
 * for one more. */
PKT_TEST(source_bound_refuses_with_a_reset_and_gives_back_on_release)
{
	__u64 lim = reason_count(MAGLB_SPLICE_SOURCE_LIMIT), t0 = now_ns();
	int i, err = -1;
	enum outcome o;

	for (i = 0; i < MAGLB_STASH_PER_SOURCE; i++) {
		if (flood_one(BOUND_SRC, 2000 + i, 1000 * i + 77, &o))
			goto out;
		if (o != OPENED) {
			fprintf(stderr, "  stash %d of %d refused\n", i + 1,
				MAGLB_STASH_PER_SOURCE);
			goto out;
		}
	}
	if (flood_one(BOUND_SRC, 2100, 5, &o))
		goto out;
	/* Past splice_timeout_ns (1 s here) the count starts again. */
	if (now_ns() - t0 < 1000000000ULL &&
	    (o != RESET || reason_count(MAGLB_SPLICE_SOURCE_LIMIT) - lim != 1)) {
		fprintf(stderr, "  one past the bound: %s, splice_source_limit +%llu\n",
			o == RESET ? "reset" : "opened",
			(unsigned long long)(reason_count(MAGLB_SPLICE_SOURCE_LIMIT) - lim));
		goto out;
	}
	if (client_gives_up() || flood_one(BOUND_SRC, 2101, 6, &o))
		goto out;
	if (o != OPENED) {
		fprintf(stderr, "  no room after a release\n");
		goto out;
	}
	err = 0;
out:
	flood_cleanup();
	return err;
}

/* An IPv6 address counts by its /64, which one host may hold whole:
 * fd00:10::5eed:0:1 .. :32 use up their /64's share, another address of
 * it is refused, an address of another /64 is not. */
PKT_TEST(ipv6_sources_are_bounded_by_their_64)
{
	__u64 lim = reason_count(MAGLB_SPLICE_SOURCE_LIMIT), t0 = now_ns();
	char src[INET6_ADDRSTRLEN];
	int i, err = -1;
	enum outcome o;

	for (i = 1; i <= MAGLB_STASH_PER_SOURCE; i++) {
		snprintf(src, sizeof(src), "fd00:10::5eed:0:%x", i);
		if (flood_one(src, 3000 + i, 1000 * i + 77, &o))
			goto out;
		if (o != OPENED) {
			fprintf(stderr, "  %s refused\n", src);
			goto out;
		}
	}
	if (flood_one("fd00:10::5eed:0:99", 3100, 5, &o))
		goto out;
	if (now_ns() - t0 < 1000000000ULL &&
	    (o != RESET || reason_count(MAGLB_SPLICE_SOURCE_LIMIT) - lim != 1)) {
		fprintf(stderr, "  another address of the /64: %s\n",
			o == RESET ? "reset" : "opened");
		goto out;
	}
	if (flood_one("fd00:11::5eed:0:1", 3101, 6, &o))
		goto out;
	if (o != OPENED) {
		fprintf(stderr, "  another /64 was refused\n");
		goto out;
	}
	err = 0;
out:
	flood_cleanup();
	return err;
}

/* The count of 10.10.0.2, the clients' address. */
static int client_count(void)
{
	struct maglb_stash_src_key k = { .family = MAGLB_AF_INET };
	struct maglb_stash_src v;

	inet_pton(AF_INET, "10.10.0.2", &k.addr.v4);
	return bpf_map_lookup_elem(maps.stash_src, &k, &v) ? -1 : v.n;
}

/* A client that gives up a head still being collected (no backend yet)
 * sends an RST at the next byte we expect: the stash goes, and its count
 * with it. A stranger's RST, one byte off, changes nothing. */
PKT_TEST(client_reset_while_collecting_frees_the_stash_and_its_count)
{
	const char *part = "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n";
	struct hs h = { .sport = 45423, .isn = 1600000 };
	struct maglb_splice sp;
	struct maglb_flow k;
	struct pkt_spec s;
	struct run r;
	__u64 b;
	int n;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, part);
	ASSERT_OK(run_checked(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);		/* held and acknowledged */
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));
	n = client_count();
	ASSERT_TRUE(n >= 1, "count %d after a stash", n);
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_RST | TF_ACK,
			       .seq = h.isn + 1 + strlen(part) + 1,
			       .ack = h.cookie + 1 };
	b = reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW);
	ASSERT_OK(run_checked(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_RST_OUT_OF_WINDOW) - b, 1);
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));
	ASSERT_EQ(client_count(), n);
	s.seq--;
	b = reason_count(MAGLB_SPLICE_CLIENT_RST);
	ASSERT_OK(run_checked(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_SPLICE_CLIENT_RST) - b, 1);
	ASSERT_TRUE(bpf_map_lookup_elem(maps.splice, &k, &sp), "the stash stayed");
	ASSERT_EQ(client_count(), n - 1);
	return 0;
}
