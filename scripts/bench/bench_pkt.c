// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_pkt.c - per-packet cost of the datapath, through
 * bpf_prog_test_run_opts() with repeat=1 in a loop: the programs rewrite
 * packets, so repeat>1 would time their own output. Each figure is the
 * median of the kernel-reported durations, printed as ns and as ns above
 * a bare XDP_TX and above a parse-only program, measured in the same run.
 */
#include "harness.h"
#include <arpa/inet.h>
#include "bench.skel.h"
#include "datapath/sweep.h"
#include "benchutil.h"

#define N_DEFAULT 100000

/*
 * The packet tests' fixture, tests/fixtures/pkt.yaml (harness.c finds it):
 * the L4 rows hit its "web" (10.10.0.100, SourceIP), the snat rows its
 * "one-arm-wide" (10.10.0.201, 1000 ports: the test's "one-arm" has 10,
 * fewer than the flows these rows keep open), the cookie rows "ck"
 * (10.10.0.110, FooBar).
 */
#define FIXTURE "pkt.yaml"

static int n_iter = N_DEFAULT;
static __u64 *samples;

#define ROUNDS 9	/* odd: the median is a measured round */
#define MAX_CASES 32

static double median_d(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++)	/* n is tiny: insertion sort */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* One timed run of prog on frame in (len bytes) arriving on dev; a TC
 * program (tc) gets an skb context. */
static int run_once(int fd, const __u8 *in, int len, const char *dev,
		    bool tc, __u64 *ns, int *action)
{
	static char last_dev[IF_NAMESIZE];
	static unsigned int last_ifindex;
	struct xdp_md ctx = { .data_end = len };
	struct __sk_buff skb = {};

	/* if_nametoindex() opens a socket: not per call, or the loop spends
	 * its time there and the profile of a case shows little else. */
	if (strncmp(dev, last_dev, sizeof(last_dev))) {
		snprintf(last_dev, sizeof(last_dev), "%s", dev);
		last_ifindex = if_nametoindex(dev);
	}
	ctx.ingress_ifindex = last_ifindex;
	skb.ifindex = last_ifindex;
	__u8 out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = tc ? (void *)&skb : (void *)&ctx,
		    .ctx_size_in = tc ? sizeof(skb) : sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	if (action)
		*action = o.retval;
	return 0;
}

struct bench_case {
	const char *name;
	int fd;
	struct pkt_spec spec;
	const char *dev;
	int unique_flow;	/* vary the source port (and address) per call */
	int want_action;
	/* per-iteration preparation that is not timed; may rewrite buf */
	int (*prepare)(__u8 *buf, int *len, int i);
	int tc;			/* a TC program: compared with the TC baseline */
	int no_meta;		/* TC and eg_dev cases: maglb_handoff.no_meta */
	/* An egress case: eg_dev's maglb_egress flags are eg_flags while it
	 * runs (both devices take every XDP frame otherwise), and each of
	 * its packets must leave eg_dev by eg_path (maglb_egress_stats). */
	const char *eg_dev;
	__u32 eg_flags;
	enum maglb_path eg_path;
	int open_sport;		/* established: a SYN opens the flow first,
				 * from this port plus the round */
	int segs;		/* prepare fills seg_buf: the figure is the
				 * sum of its segments' runs */
	int keyed;		/* a first data whose cookie must be found:
				 * key_fallback must not move */
};

/* median_ns of a multi-segment case whose head was decided before its
 * last segment: the datapath does not collect such heads. */
#define CASE_NA -2

/* A head over several segments, as a Linux client sends it within a
 * window of several MSS: 1448 bytes each (MSS 1460 less the TS option). */
#define MAX_SEGS 4
static __u8 seg_buf[MAX_SEGS][4096];
static int seg_len[MAX_SEGS], n_segs;

#define EG_ALL	(MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX)

/* The backends' ISN in the L4 handshakes the rows open. */
#define BACKEND_ISN	9000

/*
 * The backend's SYN-ACK to the client SYN r holds as it left (to the
 * backend, from the client or the snat address), in through dev, the
 * backend's side: the reply entry records it, and only a client ACK of
 * BACKEND_ISN + 1 confirms the connection (bpf/lib/conntrack.h,
 * ct_acks_syn_ack), which then takes the fast path. Where it goes from
 * here is no row's concern.
 */
static int backend_syn_ack(const struct run *r, const char *dev)
{
	struct pkt_spec b = { .proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK,
			      .seq = BACKEND_ISN };
	struct pkt_view v;
	struct run out;

	if (pkt_view(r->out, r->out_len, &v))
		return -1;
	b.family = v.family;
	b.src = v.dst;
	b.dst = v.src;
	b.sport = v.dport;
	b.dport = v.sport;
	b.ack = v.seq + 1;
	return run_pkt(&b, dev, &out);
}

static __u64 egress_packets(const char *dev, enum maglb_path path)
{
	struct maglb_reason_counters sum = {};

	maps_read_egress_stats(&maps, if_nametoindex(dev), path, &sum);
	return sum.packets;
}

/* Give c's egress device its flags, and open c's flow through them: the
 * next-hop caches (per backend and per flow) keep the flags they were
 * looked up with, so the backend's is emptied first and the flow is new. */
static int egress_begin(const struct bench_case *c, struct pkt_spec *spec,
			int round)
{
	struct pkt_spec syn;
	struct run r;

	if (forget_backend_nh() || set_egress(c->eg_dev, c->eg_flags))
		return -1;
	if (!c->open_sport)
		return 0;
	spec->sport = c->open_sport + round;
	syn = *spec;
	syn.tcp_flags = TF_SYN;
	syn.seq = 1000;
	syn.payload = 0;
	/* the backend is behind eg_dev; the rows' ACKs acknowledge it */
	spec->seq = 1001;
	spec->ack = BACKEND_ISN + 1;
	return run_pkt(&syn, c->dev, &r) || backend_syn_ack(&r, c->eg_dev);
}

/* Back to every XDP frame taken, for the cases that follow. */
static int egress_end(const struct bench_case *c)
{
	return forget_backend_nh() || set_egress(c->eg_dev, EG_ALL) ||
	       set_handoff_no_meta(1);
}

/* n calls of case c; the median duration. first: the iteration number
 * to start from (unique flows and prepared handshakes differ per call). */
static double median_ns(const struct bench_case *c, int first, int n)
{
	struct pkt_spec spec = c->spec;
	int len, i, action = 0, bad = 0;
	struct maglb_reason_counters fb = {}, fb2 = {};
	__u64 sent = 0;
	__u8 buf[4096];

	if (c->eg_dev) {
		if (egress_begin(c, &spec, first / n))
			return -1;
		sent = egress_packets(c->eg_dev, c->eg_path);
	}
	if (c->keyed && maps_read_reason(&maps, MAGLB_KEY_FALLBACK, &fb))
		return -1;
	len = c->prepare ? 0 : pkt_build(&spec, buf, sizeof(buf));
	if ((c->tc || c->eg_dev) && set_handoff_no_meta(c->no_meta))
		return -1;
	for (i = first; i < first + n; i++) {
		if (c->unique_flow) {
			/* source port and last address byte; the L4 checksum is
			 * not checked on the L4 path, so no need to fix it */
			int l4 = 14 + 20;

			buf[l4] = 1 + (i >> 8 & 0x3f);
			buf[l4 + 1] = i & 0xff;
			buf[14 + 15] = 2 + (i >> 14);
		}
		if (c->prepare && c->prepare(buf, &len, i))
			return -1;
		if (c->segs) {
			__u64 ns, sum = 0;
			int s;

			for (s = 0; s < n_segs; s++) {
				if (run_once(c->fd, seg_buf[s], seg_len[s], c->dev,
					     0, &ns, &action))
					return -1;
				/* an earlier segment already went out as the
				 * backend SYN: decided without the rest */
				if (s < n_segs - 1 && action == c->want_action)
					return CASE_NA;
				sum += ns;
			}
			samples[i - first] = sum;
		} else if (run_once(c->fd, buf, len, c->dev, c->tc,
				    &samples[i - first], &action))
			return -1;
		bad += c->want_action && action != c->want_action;
	}
	if (bad)
		fprintf(stderr, "%s: %d of %d runs returned action %d, not %d\n",
			c->name, bad, n, action, c->want_action);
	if (c->eg_dev) {
		sent = egress_packets(c->eg_dev, c->eg_path) - sent;
		if (egress_end(c))
			return -1;
		if (sent != (__u64)n) {
			fprintf(stderr, "%s: %llu of %d packets left %s by path %u\n",
				c->name, (unsigned long long)sent, n, c->eg_dev,
				c->eg_path);
			return -1;
		}
	}
	if (c->keyed) {
		if (maps_read_reason(&maps, MAGLB_KEY_FALLBACK, &fb2))
			return -1;
		if (fb2.packets != fb.packets) {
			fprintf(stderr, "%s: %llu of %d heads missed their cookie\n",
				c->name, (unsigned long long)(fb2.packets - fb.packets), n);
			return -1;
		}
	}
	qsort(samples, n, sizeof(*samples), cmp_u64);
	return samples[n / 2];
}

/* ---- cookie first data: a fresh handshake per iteration (untimed SYN) ---- */

static char head600[700];
static char head1400[1401], head4096[4097];

/* Bigger heads: head600's lines up to its Cookie, X-Pad-N lines of about
 * 100 bytes, then the same Cookie line last, SIZE bytes in all. */
static void make_head(char *buf, int size)
{
	const char *ck = strstr(head600, "Cookie: ");
	int pre = ck - head600, tail = strlen(ck), n = 1, len;

	memcpy(buf, head600, pre);
	while (size - tail - pre > 0) {
		int left = size - tail - pre;
		char name[16];

		len = left > 200 ? 100 : left;	/* with its CRLF */
		snprintf(name, sizeof(name), "X-Pad-%d: ", n++);
		pre += sprintf(buf + pre, "%s", name);
		memset(buf + pre, 'p', len - strlen(name) - 2);
		pre += len - strlen(name) - 2;
		pre += sprintf(buf + pre, "\r\n");
	}
	memcpy(buf + pre, ck, tail + 1);
}

/* A handshake from src:sport (untimed): our SYN-ACK's ISN + 1 in *ack, and
 * in ts the TS option a Linux client sends back. */
/* Forget an earlier connection on this 4-tuple, as the sweep would: the
 * rows reuse client ports, and a SYN on a live or opening entry changes
 * nothing (RFC 5961; bpf/maglb.bpf.c, syn_on_entry). Not timed. */
static void forget_flow(const char *src, unsigned short sport)
{
	struct ct_item it = {};

	it.key.family = MAGLB_AF_INET;
	it.key.proto = IPPROTO_TCP;
	inet_pton(AF_INET, src, &it.key.saddr);
	inet_pton(AF_INET, "10.10.0.110", &it.key.daddr);
	it.key.sport = htons(sport);
	it.key.dport = htons(80);
	bpf_map_delete_elem(maps.splice, &it.key);
	if (maps_get_ct(&maps, &it.key, &it.val))
		return;
	maps_del_ct(&maps, &it.key);
	ct_partner_key(&it, &it.key);
	maps_del_ct(&maps, &it.key);
}

/* The ISN of the latest handshake: each a new one, since rows reuse
 * 4-tuples and the first data of a handshake opens one connection only
 * (the syncookie's replay record, bpf/lib/syncookie.h). */
static unsigned int client_isn = 1000;

static int handshake(const char *src, unsigned short sport, unsigned int *ack,
		     unsigned char ts[12])
{
	struct pkt_spec syn = { .family = 4, .src = src,
		.dst = "10.10.0.110", .dport = 80, .proto = IPPROTO_TCP,
		.tcp_flags = TF_SYN, .sport = sport,
		.opts = syn_opts, .optlen = 20 };
	const unsigned char ts0[12] = { 1, 1, 8, 10, 0, 0, 0x03, 0x10 };
	struct pkt_view v;
	struct run r;

	forget_flow(src, sport);
	client_isn += 65536;
	syn.seq = client_isn;
	if (run_pkt(&syn, "c0", &r) || r.action != XDP_TX ||
	    pkt_view(r.out, r.out_len, &v))
		return -1;
	memcpy(ts, ts0, 12);
	memcpy(ts + 8, v.opts + 6 + 2, 4);	/* our SYN-ACK: TS at a fixed place */
	*ack = v.seq + 1;
	return 0;
}

/* One data segment of the client's, bytes [off, off + len) of head. */
static int head_segment(const char *src, unsigned short sport, unsigned int ack,
			const unsigned char ts[12], const char *head, int off,
			int len, __u8 *buf)
{
	char data[1500];
	struct pkt_spec d = { .family = 4, .src = src, .dst = "10.10.0.110",
		.dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK | TF_PSH,
		.seq = client_isn + 1 + off, .ack = ack, .sport = sport, .opts = ts,
		.optlen = 12, .data = data, .window = 502 };

	if (len >= (int)sizeof(data))
		return -1;
	memcpy(data, head + off, len);
	data[len] = 0;
	return pkt_build(&d, buf, 4096);
}

/* The client of call i: one address holds at most MAGLB_STASH_PER_SOURCE
 * stashes (bpf/lib/stash.h), and a stash of a call lives on (its backend
 * never answers here), so the calls come from many clients, as a node's
 * new connections do: net.X.Y, a new address every 16 calls. The spliced
 * flow (i = 999999) keeps the row's own address. */
static const char *client_of(const char *src, int net, int i, char *buf, size_t len)
{
	unsigned int a = (unsigned int)i / 16;

	if (i == 999999)
		return src;
	snprintf(buf, len, "10.%d.%u.%u", net, (a >> 8) & 0xff, a & 0xff);
	return buf;
}

static int first_data_of(__u8 *buf, int *len, int i, const char *src,
			 const char *head)
{
	unsigned short sport = 20000 + (i % 40000);
	unsigned char ts[12];
	unsigned int ack;
	char cb[32];

	src = client_of(src, head == head600 ? 11 : 12, i, cb, sizeof(cb));
	if (handshake(src, sport, &ack, ts))
		return -1;
	*len = head_segment(src, sport, ack, ts, head, 0, strlen(head), buf);
	return *len > 0 ? 0 : -1;
}

static int first_data_prepare(__u8 *buf, int *len, int i)
{
	return first_data_of(buf, len, i, "10.10.0.2", head600);
}

/* Other clients than the 600-byte case's: their flows stay apart. */
static int first_data_prepare_1400(__u8 *buf, int *len, int i)
{
	return first_data_of(buf, len, i, "10.10.5.2", head1400);
}

/* The 4 KiB head's segments: see seg_buf. */

static int first_data_prepare_4096(__u8 *buf, int *len, int i)
{
	unsigned short sport = 20000 + (i % 40000);
	int off, total = strlen(head4096);
	unsigned char ts[12];
	unsigned int ack;
	char cb[32];
	const char *src = client_of("10.10.6.2", 13, i, cb, sizeof(cb));

	if (handshake(src, sport, &ack, ts))
		return -1;
	for (n_segs = 0, off = 0; off < total && n_segs < MAX_SEGS; n_segs++) {
		int l = total - off < 1448 ? total - off : 1448;

		seg_len[n_segs] = head_segment(src, sport, ack, ts,
					       head4096, off, l, seg_buf[n_segs]);
		if (seg_len[n_segs] <= 0)
			return -1;
		off += l;
	}
	*len = seg_len[0];
	return off == total ? 0 : -1;
}

/* ---- spliced steady state: one full splice, then one segment, timed ---- */

static __u8 spliced[4096];
static int spliced_len;

static int make_spliced_flow(void)
{
	unsigned char ts[12] = { 1, 1, 8, 10, 0, 0, 0x03, 0x10 };
	unsigned char bopts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x13,
				    0x88, 0, 0, 0x03, 0x10, 1, 3, 3, 7 };
	struct pkt_view v;
	struct run r;
	__u8 buf[4096];
	int len;
	unsigned int cookie;

	if (first_data_prepare(buf, &len, 999999)) {
		fprintf(stderr, "bench: handshake failed\n");
		return -1;
	}
	memcpy(&cookie, buf + 14 + 20 + 8, 4);		/* ack = cookie + 1 */
	cookie = ntohl(cookie) - 1;
	{
		struct xdp_md ctx = { .data_end = len,
				      .ingress_ifindex = if_nametoindex("c0") };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
			    .data_size_in = len, .data_out = r.out,
			    .data_size_out = sizeof(r.out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(prog_fd, &o) || o.retval != XDP_REDIRECT) {
			fprintf(stderr, "bench: first data gave action %u\n", o.retval);
			return -1;
		}
		pkt_view(r.out, o.data_size_out, &v);
	}
	{
		struct pkt_spec sa = { .family = 4, .src = v.dst, .sport = 3000,
			.dst = "10.10.0.2", .dport = 20000 + (999999 % 40000),
			.proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK,
			.seq = 555555, .ack = client_isn + 1, .opts = bopts, .optlen = 20 };

		if (run_tc(&sa, "b0", &r) || r.action != 7) {
			fprintf(stderr, "bench: backend SYN-ACK gave TC action %d\n",
				r.action);
			return -1;
		}
		/* The backend acknowledges the request: the stash goes, and
		 * what follows is the steady state. */
		sa.tcp_flags = TF_ACK;
		sa.seq = 555556;
		sa.ack = client_isn + 1 + strlen(head600);
		sa.optlen = 0;
		if (run_pkt(&sa, "b0", &r) || r.action != XDP_REDIRECT) {
			fprintf(stderr, "bench: backend ACK gave action %d\n",
				r.action);
			return -1;
		}
	}
	{
		struct pkt_spec d = { .family = 4, .src = "10.10.0.2",
			.dst = "10.10.0.110", .dport = 80, .proto = IPPROTO_TCP,
			.sport = 20000 + (999999 % 40000),
			.tcp_flags = TF_ACK, .seq = client_isn + 1 + strlen(head600),
			.ack = cookie + 1 + 1000, .opts = ts, .optlen = 12,
			.payload = 100 };

		spliced_len = pkt_build(&d, spliced, sizeof(spliced));
	}
	return 0;
}

/*
 * A slow flow: each packet comes after the entry's fast window
 * (FAST_JIFFIES, bpf/lib/fastpath.h) has passed, as for a flow that sends
 * a packet every second. Before each call (untimed) the entry is made to
 * look so: fast_jiffies and last_seen_ns long past, its next hop fresh
 * (the fast path renews the entry itself), or past NH_CACHE_NS with its
 * backend's fresh (the fast path takes that one, nh_take) or stale too
 * (the full path looks the next hop up again). The flow is opened on
 * first use.
 */
enum slow_nh {
	SLOW_FRESH,		/* the entry's next hop is fresh */
	SLOW_ADOPT,		/* stale; its backend's is fresh (nh_take) */
	SLOW_FIB,		/* both stale: bpf_fib_lookup */
};

static int slow_prepare(__u8 *buf, int *len, unsigned short sport, enum slow_nh nh)
{
	struct pkt_spec s = { .family = 4, .src = "10.10.0.2", .sport = sport,
			      .dst = "10.10.0.100", .dport = 80,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
			      .payload = 100 };
	struct maglb_flow k = { .sport = htons(sport), .dport = htons(80),
				.proto = IPPROTO_TCP, .family = MAGLB_AF_INET };
	struct maglb_backend_nh bnh;
	struct maglb_ct_entry e;
	struct timespec ts;
	struct run r;
	__u64 now;

	inet_pton(AF_INET, s.src, &k.saddr);
	inet_pton(AF_INET, s.dst, &k.daddr);
	if (maps_get_ct(&maps, &k, &e)) {
		s.tcp_flags = TF_SYN;
		s.payload = 0;
		if (run_pkt(&s, "c0", &r) || backend_syn_ack(&r, "b0"))
			return -1;
		s.tcp_flags = TF_ACK;
		s.seq = 1001;
		s.ack = BACKEND_ISN + 1;
		s.payload = 100;
		if (run_pkt(&s, "c0", &r) || maps_get_ct(&maps, &k, &e))
			return -1;
		if (e.flags & MAGLB_CT_F_UNCONFIRMED) {
			fprintf(stderr, "bench: slow flow %u unconfirmed\n", sport);
			return -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	/* Its backend's cache: what a lookup 10 ms ago left (the entry's own
	 * next hop goes to the same place), or empty. Other cases empty it. */
	bnh = (struct maglb_backend_nh){ .nh = e.nh, .gen = e.backend_gen };
	bnh.nh.time_ns = now - 10000000ULL;
	if (nh == SLOW_FIB)
		bnh.nh.ifindex = 0;
	if (nh != SLOW_FRESH &&
	    bpf_map_update_elem(maps.backend_nh, &e.backend_id, &bnh, BPF_EXIST))
		return -1;
	e.fast_jiffies = 0;
	e.last_seen_ns = now - 2000000000ULL;
	e.nh.time_ns = nh == SLOW_FRESH ? now - 10000000ULL : 0;
	if (maps_put_ct(&maps, &k, &e, BPF_EXIST))
		return -1;
	s.seq = 1001;
	s.ack = BACKEND_ISN + 1;
	*len = pkt_build(&s, buf, 4096);
	return *len > 0 ? 0 : -1;
}

static int slow_fresh_prepare(__u8 *buf, int *len, int i)
{
	(void)i;
	return slow_prepare(buf, len, 46000, SLOW_FRESH);
}

static int slow_stale_prepare(__u8 *buf, int *len, int i)
{
	(void)i;
	return slow_prepare(buf, len, 46001, SLOW_FIB);
}

static int slow_adopt_prepare(__u8 *buf, int *len, int i)
{
	(void)i;
	return slow_prepare(buf, len, 46002, SLOW_ADOPT);
}

/*
 * A streaming flow: each packet carries the next 100 bytes, so the fast
 * path moves the entry's seq_next on every one (ct_seq_advance, its one
 * store), where the established row's repeated segment (the same size)
 * leaves it. The flow is opened on first use.
 */
static int stream_prepare(__u8 *buf, int *len, int i)
{
	static __u32 seq;
	struct pkt_spec s = { .family = 4, .src = "10.10.0.2", .sport = 46003,
			      .dst = "10.10.0.100", .dport = 80,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct run r;

	(void)i;
	if (!seq) {	/* opened and confirmed: the backend's SYN-ACK, acked */
		if (run_pkt(&s, "c0", &r) || backend_syn_ack(&r, "b0"))
			return -1;
		seq = 1001;
	}
	s.tcp_flags = TF_ACK;
	s.ack = BACKEND_ISN + 1;
	s.payload = 100;	/* as the established row's */
	s.seq = seq;
	seq += s.payload;
	*len = pkt_build(&s, buf, 4096);
	return *len > 0 ? 0 : -1;
}

static int spliced_prepare(__u8 *buf, int *len, int i)
{
	memcpy(buf, spliced, spliced_len);
	*len = spliced_len;
	return 0;
}

/* Open the flows of the established (6), reply (7) and snat (8) cases:
 * SYN and the backend's SYN-ACK; the rows' first ACK of it confirms. */
static int open_flows(struct bench_case *cases)
{
	static char backend[64];
	static int round;
	struct pkt_spec syn, snat;
	struct pkt_view v;
	struct run r;

	/* Fresh ports each time: the new-flow case in between churns the
	 * LRU, which may have evicted one side of the previous flows. */
	round++;
	cases[6].spec.sport = 40000 + round;
	cases[7].spec.dport = 40000 + round;
	cases[8].spec.sport = 50000 + round;
	syn = cases[6].spec;
	snat = cases[8].spec;

	syn.tcp_flags = TF_SYN;
	syn.payload = 0;
	if (run_pkt(&syn, "c0", &r) || pkt_view(r.out, r.out_len, &v) ||
	    backend_syn_ack(&r, "b0"))
		return -1;
	snprintf(backend, sizeof(backend), "%s", v.dst);
	cases[6].spec.seq = 1001;
	cases[6].spec.ack = BACKEND_ISN + 1;
	cases[7].spec.src = backend;
	cases[7].spec.seq = BACKEND_ISN + 1;
	cases[7].spec.ack = 1001;
	cases[8].spec.seq = 1001;
	cases[8].spec.ack = BACKEND_ISN + 1;
	snat.tcp_flags = TF_SYN;
	snat.payload = 0;
	/* one-arm: the backend is on the client side */
	return run_pkt(&snat, "c0", &r) || backend_syn_ack(&r, "c0");
}

/* bench_nat_redirect's entry and devmap: toward "b0", as an established
 * flow's packets go. */
static int fill_nat_floor(struct bench_bpf *b)
{
	struct bpf_devmap_val dv = { .ifindex = if_nametoindex("b0") };
	struct maglb_ct_entry e = { .nh.ifindex = dv.ifindex };
	__u32 zero = 0;

	inet_pton(AF_INET, "10.10.0.2", &e.nat_saddr.v4);
	inet_pton(AF_INET, "10.20.1.2", &e.nat_daddr.v4);
	e.nat_sport = htons(40000);
	e.nat_dport = htons(3000);
	if (!dv.ifindex ||
	    bpf_map__update_elem(b->maps.bench_tx_ports, &dv.ifindex,
				 sizeof(dv.ifindex), &dv, sizeof(dv), 0) ||
	    bpf_map__update_elem(b->maps.bench_entry, &zero, sizeof(zero), &e,
				 sizeof(e), 0)) {
		fprintf(stderr, "bench: could not fill the NAT floor's maps\n");
		return -1;
	}
	return 0;
}

/* ---- conntrack scale: cost against the flows tracked and the fill ------ */

/* The scale rows' conntrack: conntrack.maxEntries = 1Mi connections (2Mi
 * entries a map), as harness.c sizes it from MAGLB_TEST_CT_CONNS. */
#define SCALE_CONNS	1048576
#define SCALE_FLOWS	1000000
#define EST_NET		0x64400000U	/* 100.64.0.0/10: established clients */
#define NEW_NET		0xc6120000U	/* 198.18.0.0/15: the new-flow rows' */
#define SCALE_ROUNDS	5
#define SCALE_CALLS	30000

static __u8 est_pkt[256], syn_pkt[256];
static int est_len, syn_len;
static __u32 est_open;	/* clients EST_NET + [0, est_open) are open */
static __u32 new_next;	/* the next NEW_NET client a new-flow row takes */

static void set_saddr(__u8 *buf, __u32 a)
{
	__be32 v = htonl(a);

	memcpy(buf + 14 + 12, &v, 4);	/* no IP options; not checksummed */
}

static __u32 xorshift(__u32 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* A segment to scale client a (port 40000) from the backend its forward
 * entry names, as it comes in through b0: flags, and 100 bytes of data
 * unless it is the SYN-ACK. Its length in buf, or -1. */
static int scale_backend_pkt(__u32 a, __u8 flags, __u8 *buf, int size)
{
	char be[INET_ADDRSTRLEN], cl[INET_ADDRSTRLEN];
	struct maglb_flow k = { .family = MAGLB_AF_INET, .proto = IPPROTO_TCP,
				.sport = htons(40000), .dport = htons(80) };
	struct pkt_spec s = { .family = 4, .src = be, .dst = cl,
			      .dport = 40000, .proto = IPPROTO_TCP,
			      .tcp_flags = flags, .ack = 1001 };
	struct in_addr ca = { htonl(a) };
	struct maglb_ct_entry e;

	k.saddr.v4 = ca.s_addr;
	inet_pton(AF_INET, "10.10.0.100", &k.daddr);
	if (maps_get_ct(&maps, &k, &e))
		return -1;
	inet_ntop(AF_INET, &e.nat_daddr.v4, be, sizeof(be));
	inet_ntop(AF_INET, &ca, cl, sizeof(cl));
	s.sport = ntohs(e.nat_dport);
	s.seq = flags & TF_SYN ? BACKEND_ISN : BACKEND_ISN + 1;
	s.payload = flags & TF_SYN ? 0 : 100;
	return pkt_build(&s, buf, size);
}

/* The backend's SYN-ACK to scale client a's SYN (seq 1000): the reply
 * entry records it, and only a client ACK of it confirms (conntrack.h).
 * Its verdict, or -1. */
static int scale_syn_ack(__u32 a)
{
	__u8 in[256];
	__u64 ns;
	int len = scale_backend_pkt(a, TF_SYN | TF_ACK, in, sizeof(in)), act;

	if (len < 0 || run_once(prog_fd, in, len, "b0", 0, &ns, &act))
		return -1;
	return act;
}

/* Open established clients up to `to` (SYN, the backend's SYN-ACK, then
 * the client's ACK of it, which confirms); stops at the first SYN refused
 * (a full table). */
static int scale_open(__u32 to)
{
	__u64 ns;
	int act;

	for (; est_open < to; est_open++) {
		set_saddr(syn_pkt, EST_NET + est_open);
		if (run_once(prog_fd, syn_pkt, syn_len, "c0", 0, &ns, &act))
			return -1;
		if (act == XDP_DROP)
			return 0;	/* drop_ct_full */
		if (act == XDP_REDIRECT)
			act = scale_syn_ack(EST_NET + est_open);
		set_saddr(est_pkt, EST_NET + est_open);
		if (act != XDP_REDIRECT ||
		    run_once(prog_fd, est_pkt, est_len, "c0", 0, &ns, &act) ||
		    act != XDP_REDIRECT) {
			fprintf(stderr, "bench: scale flow %u: action %d\n",
				est_open, act);
			return -1;
		}
	}
	return 0;
}

/* Every conntrack entry gone: the table at 0%. */
static int scale_clear(void)
{
	struct ct_item *items = NULL;
	struct maglb_flow *k;
	int n = maps_read_ct(&maps, &items), i, err;

	if (n < 0)
		return -1;
	k = malloc((n ? n : 1) * sizeof(*k));
	for (i = 0; k && i < n; i++)
		k[i] = items[i].key;
	err = k ? maps_del_ct_batch(&maps, k, n) : -1;
	free(k);
	free(items);
	est_open = 0;
	return err;
}

struct scale_row {
	const char *name;
	double ns, above;
};

/* SCALE_CALLS calls of fd in SCALE_ROUNDS rounds, each after as many of
 * the XDP_TX baseline: n_flows > 0 visits EST_NET + a random one of
 * [0, n_flows) per call; 0 opens a new NEW_NET client per call. */
static int scale_measure(struct scale_row *row, int fd, __u32 n_flows,
			 int want, int tx_fd, bool reply)
{
	static __u8 rpkt[256];
	int rlen;
	static __u64 samples[SCALE_CALLS / SCALE_ROUNDS];	/* not main's */
	int per = SCALE_CALLS / SCALE_ROUNDS, r, i, act, bad = 0;
	double v[SCALE_ROUNDS], d[SCALE_ROUNDS];
	__u32 rnd = 2463534242U;
	__u8 *pkt = n_flows ? est_pkt : syn_pkt;
	int len = n_flows ? est_len : syn_len;

	for (r = 0; r < SCALE_ROUNDS; r++) {
		double tx;

		for (i = 0; i < per; i++)
			if (run_once(tx_fd, pkt, len, "c0", 0, &samples[i], NULL))
				return -1;
		qsort(samples, per, sizeof(*samples), cmp_u64);
		tx = samples[per / 2];
		for (i = 0; i < per; i++) {
			__u32 a = n_flows ? EST_NET + xorshift(&rnd) % n_flows :
					    NEW_NET + new_next++;

			if (reply) {	/* the backend's data to client a */
				rlen = scale_backend_pkt(a, TF_ACK, rpkt, sizeof(rpkt));
				if (rlen < 0 ||
				    run_once(fd, rpkt, rlen, "b0", 0, &samples[i], &act))
					return -1;
			} else {
				set_saddr(pkt, a);
				if (run_once(fd, pkt, len, "c0", 0, &samples[i], &act))
					return -1;
			}
			bad += act != want;
		}
		qsort(samples, per, sizeof(*samples), cmp_u64);
		v[r] = samples[per / 2];
		d[r] = v[r] - tx;
	}
	if (bad)
		fprintf(stderr, "%s: %d of %d runs not action %d\n", row->name,
			bad, per * SCALE_ROUNDS, want);
	row->ns = median_d(v, SCALE_ROUNDS);
	row->above = median_d(d, SCALE_ROUNDS);
	return 0;
}

/* Connections tracked now: their forward entries (a plain NAT one has
 * no other, MAGLB_CT_F_ONE). */
static __u32 ct_conns(void)
{
	struct ct_item *items = NULL;
	int n = maps_read_ct(&maps, &items), i;
	__u32 c = 0;

	for (i = 0; i < n; i++)
		c += !(items[i].val.flags & MAGLB_CT_F_REPLY);
	free(items);
	return c;
}

/* Entries a scale connection takes: 1 (MAGLB_CT_F_ONE) or 2. */
static __u32 scale_per_conn(void)
{
	struct maglb_flow k = { .family = MAGLB_AF_INET, .proto = IPPROTO_TCP,
				.sport = htons(40000), .dport = htons(80) };
	struct maglb_ct_entry e;

	k.saddr.v4 = htonl(EST_NET);
	inet_pton(AF_INET, "10.10.0.100", &k.daddr);
	if (maps_get_ct(&maps, &k, &e))
		return 2;
	return e.flags & MAGLB_CT_F_ONE ? 1 : 2;
}

static double sweep_ms(int *freed, double *read_ms)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600,
				    .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10,
				    .ct_syn_timeout = 60 };
	struct timespec a, b;

	struct ct_item *items = NULL;
	int n;

	/* The read alone first: how much of the sweep it is. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	n = maps_read_ct(&maps, &items);
	clock_gettime(CLOCK_MONOTONIC, &b);
	free(items);
	*read_ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	if (n < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	*freed = ct_sweep(&maps, &cfg, a.tv_sec * 1000000000ULL + a.tv_nsec);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

/* bench_ct4_big holds the keys of the 1M-flow row's clients (sport
 * 40000); with both, each followed by another (sport 40001), as the
 * conntrack holds two entries a connection, inserted one after the
 * other: a lookup there walks the chains of a table nearly full, past
 * the entries hashed to its bucket after it. Whatever the map held
 * before goes first. */
static int fill_floor(struct bench_bpf *b, bool both)
{
	int fd = bpf_map__fd(b->maps.bench_ct4_big);
	enum { CHUNK = 8192 };
	static struct maglb_flow4 keys[CHUNK];
	static struct maglb_ct_entry vals[CHUNK];
	__u32 i, j, n, per = both ? 2 : 1, total = SCALE_FLOWS * per;

	for (i = 0; i < 2 * SCALE_FLOWS; i += n) {	/* empty it */
		n = 2 * SCALE_FLOWS - i < CHUNK ? 2 * SCALE_FLOWS - i : CHUNK;
		for (j = 0; j < n; j++) {
			keys[j] = (struct maglb_flow4){
				.saddr = htonl(EST_NET + (i + j) / 2),
				.sport = htons(40000 + (i + j) % 2), .dport = htons(80),
				.proto = IPPROTO_TCP };
			inet_pton(AF_INET, "10.10.0.100", &keys[j].daddr);
			bpf_map_delete_elem(fd, &keys[j]);
		}
	}
	for (i = 0; i < total; i += n) {
		n = total - i < CHUNK ? total - i : CHUNK;
		for (j = 0; j < n; j++) {
			keys[j] = (struct maglb_flow4){
				.saddr = htonl(EST_NET + (i + j) / per),
				.sport = htons(40000 + (i + j) % per), .dport = htons(80),
				.proto = IPPROTO_TCP };
			inet_pton(AF_INET, "10.10.0.100", &keys[j].daddr);
		}
		if (bpf_map_update_batch(fd, keys, vals, &n, NULL))
			return -1;
	}
	return 0;
}

/* fill_floor(b, true)'s second keys (sport 40001) gone: half full. */
static int floor_drop_pairs(struct bench_bpf *b)
{
	int fd = bpf_map__fd(b->maps.bench_ct4_big);
	struct maglb_flow4 k = { .sport = htons(40001), .dport = htons(80),
				 .proto = IPPROTO_TCP };
	__u32 i;

	inet_pton(AF_INET, "10.10.0.100", &k.daddr);
	for (i = 0; i < SCALE_FLOWS; i++) {
		k.saddr = htonl(EST_NET + i);
		if (bpf_map_delete_elem(fd, &k))
			return -1;
	}
	return 0;
}

/* The new-flow floor rows' keys gone from bench_ct4_big again: clients
 * NEW_NET + [from, to), each key and its swapped one (big_inserts). */
static int floor_forget(struct bench_bpf *b, __u32 from, __u32 to)
{
	int fd = bpf_map__fd(b->maps.bench_ct4_big);
	struct maglb_flow4 k = { .sport = htons(40000), .dport = htons(80),
				 .proto = IPPROTO_TCP };
	__be32 vip;
	__u32 i;

	inet_pton(AF_INET, "10.10.0.100", &vip);
	for (i = from; i < to; i++) {
		k.saddr = htonl(NEW_NET + i);
		k.daddr = vip;
		bpf_map_delete_elem(fd, &k);
		k.saddr = vip;
		k.daddr = htonl(NEW_NET + i);
		bpf_map_delete_elem(fd, &k);
	}
	return 0;
}

static int scale_rows(struct bench_bpf *b)
{
	struct pkt_spec est = { .family = 4, .src = "100.64.0.0", .sport = 40000,
				.dst = "10.10.0.100", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
				.seq = 1001, .ack = BACKEND_ISN + 1,
				.payload = 100 };
	struct pkt_spec syn = est;
	static const __u32 flows[] = { 1, 1000, 100000, SCALE_FLOWS };
	struct scale_row rows[16] = {};
	int tx = bpf_program__fd(b->progs.bench_tx), nr = 0, i, freed[2];
	double sweep[2], rd[2];
	__u32 n_sweep[2];
	__u32 first_new;
	char name[80];

	syn.tcp_flags = TF_SYN;
	syn.seq = 1000;
	syn.ack = 0;
	syn.payload = 0;
	est_len = pkt_build(&est, est_pkt, sizeof(est_pkt));
	syn_len = pkt_build(&syn, syn_pkt, sizeof(syn_pkt));
	if (harness_ct_conns() != SCALE_CONNS || scale_clear())
		return -1;
	rows[nr].name = "new flow, conntrack 0% full";
	if (scale_measure(&rows[nr++], prog_fd, 0, XDP_REDIRECT, tx, false) ||
	    scale_clear() || scale_open(100000))
		return -1;
	n_sweep[0] = ct_conns();
	sweep[0] = sweep_ms(&freed[0], &rd[0]);
	/* Fill is of entries: a map holds 2 * SCALE_CONNS, one or two a
	 * connection. */
	if (scale_open(SCALE_CONNS / scale_per_conn()))
		return -1;
	rows[nr].name = "new flow, conntrack 50% full";
	if (scale_measure(&rows[nr++], prog_fd, 0, XDP_REDIRECT, tx, false) ||
	    scale_open(SCALE_CONNS * 4))	/* until refused */
		return -1;
	rows[nr].name = "new flow, conntrack 100% full (refused)";
	if (scale_measure(&rows[nr++], prog_fd, 0, XDP_DROP, tx, false))
		return -1;
	/* Full, with the 50% row's SYNs unconfirmed: pressure frees them. */
	n_sweep[1] = ct_conns();
	sweep[1] = sweep_ms(&freed[1], &rd[1]);
	if (est_open < SCALE_FLOWS) {
		fprintf(stderr, "bench: only %u scale flows fit\n", est_open);
		return -1;
	}
	/* Then the backends' side of the 100k and 1M flows: reply entries
	 * go toward clients, and have no shared next hop to take
	 * (forward.h). */
	for (i = 0; i < 6; i++) {
		bool reply = i >= 4;
		__u32 n = flows[reply ? i - 2 : i];

		snprintf(name, sizeof(name), "established%s, %u flows, random order",
			 reply ? " reply" : "", n);
		rows[nr].name = strdup(name);
		if (scale_measure(&rows[nr++], prog_fd, n, XDP_REDIRECT, tx, reply))
			return -1;
	}
	if (fill_floor(b, false))
		return -1;
	rows[nr].name = "cache-miss floor: 1M random reads, map of 1M entries";
	if (scale_measure(&rows[nr++], bpf_program__fd(b->progs.bench_ct4_read),
			  SCALE_FLOWS, XDP_TX, tx, false))
		return -1;
	/* The same reads in a map as full as the conntrack of the rows
	 * above: 2M entries (2M plain NAT connections, or 1M of two). */
	if (fill_floor(b, true))
		return -1;
	rows[nr].name = "cache-miss floor: 1M random reads, map of 2M (full)";
	if (scale_measure(&rows[nr++], bpf_program__fd(b->progs.bench_ct4_read),
			  SCALE_FLOWS, XDP_TX, tx, false))
		return -1;
	/* The new-flow floor, in that map half emptied again (churned, as
	 * the conntrack's 50% row is): miss + 1 insert (one entry per
	 * connection) against miss + 2 (today's two). */
	if (floor_drop_pairs(b))
		return -1;
	first_new = new_next;
	rows[nr].name = "new-flow floor: miss + 1 insert, map 50% full";
	if (scale_measure(&rows[nr++], bpf_program__fd(b->progs.bench_big_insert1),
			  0, XDP_TX, tx, false))
		return -1;
	rows[nr].name = "new-flow floor: miss + 2 inserts, map 50% full";
	if (scale_measure(&rows[nr++], bpf_program__fd(b->progs.bench_big_insert2),
			  0, XDP_TX, tx, false) ||
	    floor_forget(b, first_new, new_next))
		return -1;
	/* profile.sh scale: the 1M-flow row (or its reply row, with
	 * BENCH_SCALE_REPLY) again and again for BENCH_SCALE_PROFILE
	 * seconds, for perf to sample. */
	if (getenv("BENCH_SCALE_PROFILE")) {
		struct scale_row pr = { .name = "profile" };
		const char *rep = getenv("BENCH_SCALE_REPLY");
		double t0 = now_ms();

		fprintf(stderr, "bench: profiling the 1M-flow row\n");

		while (now_ms() - t0 < 1000 * atof(getenv("BENCH_SCALE_PROFILE")))
			if (scale_measure(&pr, prog_fd, SCALE_FLOWS, XDP_REDIRECT, tx,
					  rep && *rep))
				return -1;
	}
	printf("\nConntrack scale (conntrack.maxEntries %u: %u entries a map; "
	       "%d calls a row in %d rounds, each after as many XDP_TX calls)\n\n",
	       SCALE_CONNS, 2 * SCALE_CONNS, SCALE_CALLS, SCALE_ROUNDS);
	printf("| %-56s | %7s | %12s |\n", "case", "ns", "ns above TX");
	printf("|----------------------------------------------------------|---------|--------------|\n");
	for (i = 0; i < nr; i++)
		printf("| %-56s | %7.0f | %12.0f |\n", rows[i].name, rows[i].ns,
		       rows[i].above);
	printf("\nsweep (ct_sweep, nothing expired; of it, the batch read): "
	       "%u connections %.0f ms (read %.0f ms, freed %d); "
	       "%u connections, table full, %.0f ms (read %.0f ms, freed %d unconfirmed)\n",
	       n_sweep[0], sweep[0], rd[0], freed[0], n_sweep[1], sweep[1], rd[1],
	       freed[1]);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_bpf *base;
	double parse = 0;
	int i, k;

	if (argc > 1)
		n_iter = atoi(argv[1]);
	samples = calloc(n_iter, sizeof(*samples));
	/* a realistic ~600-byte browser request head, cookie near the end */
	snprintf(head600, sizeof(head600),
		 "GET /cookie/cart?id=42 HTTP/1.1\r\nHost: www.example.com\r\n"
		 "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
		 "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
		 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
		 "image/avif,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\n"
		 "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
		 "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
		 "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: none\r\n"
		 "Cache-Control: max-age=0\r\nReferer: http://www.example.com/\r\n"
		 "Cookie: _ga=GA1.2.1234567890.1700000000; session=abcdef0123456789; "
		 "theme=dark; FooBar=1.2.3.4\r\n\r\n");
	make_head(head1400, 1400);
	make_head(head4096, 4096);
	/* The conntrack sized for the scale rows (harness.c reads it); a
	 * profile of a new-flow case (profile.sh) may ask for more room. */
	setenv("MAGLB_TEST_CT_CONNS", "1048576", 0);
	if (setup_fixture(FIXTURE)) {
		fprintf(stderr, "bench: setup failed\n");
		return 1;
	}
	base = bench_bpf__open();
	if (!base ||
	    bpf_map__set_max_entries(base->maps.bench_ct4_big, 2 * SCALE_CONNS) ||
	    bench_bpf__load(base) || fill_nat_floor(base))
		return 1;

	struct bench_case cases[] = {
		{ "baseline: XDP_TX only", bpf_program__fd(base->progs.bench_tx),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "baseline: parse eth/ip/tcp + XDP_TX", bpf_program__fd(base->progs.bench_parse),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "part: parse + bpf_fib_lookup (to a pod)", bpf_program__fd(base->progs.bench_fib),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.20.1.2",
		    .dport = 3000, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "part: parse + bpf_ktime_get_ns", bpf_program__fd(base->progs.bench_clock),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "non-VIP pass", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.1",
		    .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_PASS },
		{ "VIP SYN, new flow (miss, Maglev, insert)", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 1, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
		  "c0", 1, XDP_REDIRECT },
		{ "established flow (conntrack hit)", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_REDIRECT },
		{ "reply path (reverse NAT)", prog_fd,
		  { .family = 4, .src = NULL, .sport = 3000, .dst = "10.10.0.2",
		    .dport = 40000, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "b0", 0, XDP_REDIRECT },
		{ "snat, established", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 40001, .dst = "10.10.0.201",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_TX },
		/* A port no first-data row opens (they take 20000-59999): a
		 * SYN on their opening entries is dropped (syn_on_entry). */
		{ "cookie: SYN answered with syncookie", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 61000, .dst = "10.10.0.110",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN, .opts = syn_opts,
		    .optlen = 20 },
		  "c0", 0, XDP_TX },
		{ "cookie: first data, 600-byte head, parse + backend SYN", prog_fd,
		  { .family = 4 }, "c0", 0, XDP_REDIRECT, first_data_prepare,
		  .keyed = 1 },
		{ "cookie: spliced steady-state segment", prog_fd,
		  { .family = 4 }, "c0", 0, XDP_REDIRECT, spliced_prepare },
		{ "cookie: first data, 1.4 KiB head (one segment)", prog_fd,
		  { .family = 4 }, "c0", 0, XDP_REDIRECT, first_data_prepare_1400,
		  .keyed = 1 },
		{ "cookie: first data, 4 KiB head, 3 segments summed", prog_fd,
		  { .family = 4 }, "c0", 0, XDP_REDIRECT, first_data_prepare_4096,
		  .segs = 3, .keyed = 1 },
		/* appended: the cases above are referred to by index */
		{ "part: parse + LRU hit, 40-byte key (maglb_ct6's)",
		  bpf_program__fd(base->progs.bench_ct6_hit),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "part: parse + two LRU inserts, 16-byte key",
		  bpf_program__fd(base->progs.bench_ct4_insert2),
		  { .family = 4, .src = "10.10.0.2", .sport = 1, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
		  "c0", 1, XDP_TX },
		{ "part: parse + LRU hit, 16-byte key (maglb_ct4's)",
		  bpf_program__fd(base->progs.bench_ct4_hit),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK },
		  "c0", 0, XDP_TX },
		{ "part: parse + one LRU insert, 16-byte key",
		  bpf_program__fd(base->progs.bench_ct4_insert1),
		  { .family = 4, .src = "10.10.0.3", .sport = 1, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
		  "c0", 1, XDP_TX },
		{ "part: parse + NAT rewrite + redirect, no lookup",
		  bpf_program__fd(base->progs.bench_nat_redirect),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_REDIRECT },
		/* TC rows: "above" is above the TC baseline (first of them) */
		{ "baseline (TC): TC_ACT_OK only", bpf_program__fd(base->progs.bench_tc_ok),
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.1",
		    .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, 0, .tc = 1 },
		{ "TC: the node's own TCP packet (unmarked)", tc_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.1",
		    .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, 0, .tc = 1, .no_meta = 0 },
		{ "TC: the same, on a driver without XDP metadata", tc_fd,
		  { .family = 4, .src = "10.10.0.2", .sport = 40000, .dst = "10.10.0.1",
		    .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, 0, .tc = 1, .no_meta = 1 },
		/* egress rows: the kernel path where the device takes no XDP
		 * frames (TC redirects the marked packet; TC's own cost is
		 * not here: test_run gives an skb no metadata), and the
		 * stack where the driver keeps no metadata. Fresh addresses
		 * (10.10.N.x) keep their new flows apart from case 5's. */
		{ "established flow, kernel path (TC mark)", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_PASS, .eg_dev = "b0", .eg_path = MAGLB_PATH_TC,
		  .open_sport = 42000 },
		{ "established flow, stack path (no metadata)", prog_fd,
		  { .family = 4, .src = "10.10.0.2", .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_PASS, .no_meta = 1, .eg_dev = "b0",
		  .eg_path = MAGLB_PATH_STACK, .open_sport = 43000 },
		{ "VIP SYN, new flow, kernel path (TC mark)", prog_fd,
		  { .family = 4, .src = "10.10.1.2", .sport = 1, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
		  "c0", 1, XDP_PASS, .eg_dev = "b0", .eg_path = MAGLB_PATH_TC },
		{ "VIP SYN, new flow, stack path (no metadata)", prog_fd,
		  { .family = 4, .src = "10.10.2.2", .sport = 1, .dst = "10.10.0.100",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
		  "c0", 1, XDP_PASS, .no_meta = 1, .eg_dev = "b0",
		  .eg_path = MAGLB_PATH_STACK },
		/* Another client than case 8's: snat ports for a SourceIP
		 * service come from the client's hash, SNAT_PORT_TRIES of
		 * them per client (bpf/lib/conntrack.h), and these flows
		 * stay open. */
		{ "snat, established, kernel path (TC mark)", prog_fd,
		  { .family = 4, .src = "10.10.0.3", .dst = "10.10.0.201",
		    .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
		  "c0", 0, XDP_PASS, .eg_dev = "c0", .eg_path = MAGLB_PATH_TC,
		  .open_sport = 44000 },
		/* Slow flows (slow_prepare): the established row's packet
		 * when its fast window has passed. */
		{ "established, slow flow (fast path renews it)", prog_fd,
		  {}, "c0", 0, XDP_REDIRECT, .prepare = slow_fresh_prepare },
		{ "established, slow flow past the next-hop cache (fib lookup)", prog_fd,
		  {}, "c0", 0, XDP_REDIRECT, .prepare = slow_stale_prepare },
		{ "established, slow flow past the next-hop cache (its backend's)", prog_fd,
		  {}, "c0", 0, XDP_REDIRECT, .prepare = slow_adopt_prepare },
		{ "established, streaming flow (seq_next moves each packet)", prog_fd,
		  {}, "c0", 0, XDP_REDIRECT, .prepare = stream_prepare },
	};
	int nc = sizeof(cases) / sizeof(cases[0]);
	double res[MAX_CASES], above[MAX_CASES], per[ROUNDS][MAX_CASES];
	bool na[MAX_CASES] = {};
	int r, only, tc_base = 0, per_round = n_iter / ROUNDS;

	/* A B A B: every case runs in each of ROUNDS rounds, and a figure is
	 * the median over rounds. On a shared VM the clock and the neighbours
	 * drift over a run; a case measured all at once would carry its
	 * moment's drift, and the baseline another's. */
	/* BENCH_CASE=K runs only case K (and the XDP_TX baseline), for a
	 * profiler attached meanwhile (`perf record -e cpu-clock -a`). */
	if (nc > MAX_CASES)
		return 1;
	only = getenv("BENCH_CASE") ? atoi(getenv("BENCH_CASE")) : -1;
	for (k = nc - 1; k >= 0; k--)
		if (cases[k].tc)
			tc_base = k;	/* the first TC row is their baseline */
	for (r = 0; r < ROUNDS; r++) {
		bool flows_open = false;

		for (k = 0; k < nc; k++) {
			if (only >= 0 && k && k != only && k != tc_base) {
				per[r][k] = 0;
				continue;
			}
			/* The flows the established cases (6-8) hit are made
			 * right before the first of them that runs: the
			 * new-flow cases churn the LRU maps. */
			if (k >= 6 && k <= 8 && !flows_open) {
				if (open_flows(cases))
					return 1;
				flows_open = true;
			}
			if (k == 11 && make_spliced_flow()) {
				fprintf(stderr, "bench: could not set up a spliced flow\n");
				return 1;
			}
			per[r][k] = na[k] ? CASE_NA :
				    median_ns(&cases[k], r * per_round, per_round);
			if (per[r][k] == CASE_NA) {
				na[k] = true;
				per[r][k] = 0;
				continue;
			}
			if (per[r][k] < 0) {
				fprintf(stderr, "bench: case %d failed\n", k);
				return 1;
			}
		}
	}
	for (k = 0; k < nc; k++) {
		double v[ROUNDS], d[ROUNDS];

		for (r = 0; r < ROUNDS; r++) {
			v[r] = per[r][k];
			d[r] = per[r][k] - per[r][cases[k].tc ? tc_base : 0];
		}
		res[k] = median_d(v, ROUNDS);
		above[k] = median_d(d, ROUNDS);
	}
	parse = above[1];
	printf("Per-packet cost (bpf_prog_test_run_opts, repeat=1 x %d per case, in %d\n"
	       "interleaved rounds; medians over rounds, \"above\" taken within each round)\n\n",
	       per_round * ROUNDS, ROUNDS);
	printf("| %-54s | %7s | %12s | %13s |\n", "case", "ns", "ns above TX",
	       "ns above parse");
	printf("|%s|---------|--------------|---------------|\n",
	       "--------------------------------------------------------");
	for (i = 0; i < nc; i++)
		if (na[i])	/* the head is not collected over its segments */
			printf("| %-54s | %7s | %12s | %13s |\n", cases[i].name,
			       "n/a", "n/a", "n/a");
		else if (cases[i].tc)	/* above the TC baseline; no parse row */
			printf("| %-54s | %7.0f | %12.0f | %13s |\n",
			       cases[i].name, res[i], above[i], "-");
		else
			printf("| %-54s | %7.0f | %12.0f | %13.0f |\n",
			       cases[i].name, res[i], above[i], above[i] - parse);
	if (only < 0 || getenv("BENCH_SCALE")) {
		fflush(stdout);
		if (scale_rows(base)) {
			fprintf(stderr, "bench: the conntrack scale rows failed\n");
			return 1;
		}
	}
	bench_bpf__destroy(base);
	return 0;
}
