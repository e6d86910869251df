// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz.c - random and mutated packets through the XDP program: whatever
 * comes in, a frame it sends (XDP_TX or XDP_REDIRECT) must be a valid
 * one: lengths that agree with the frame, a right IPv4 header checksum
 * and a right TCP/UDP checksum. Issue 16 asked to keep this checked.
 *
 * The inputs start from valid packets of the fixture's services (L4, UDP,
 * snat, Cookie, IPv6), then get header bytes overwritten, are cut short
 * or are random bytes after a valid Ethernet header. Mutated packets get
 * their checksums made right again half of the time: a valid packet with
 * odd fields must come out valid, and one with a wrong checksum must not
 * come out with a right-looking one.
 */
#include "pkt.h"

#define FUZZ_RUNS	200000

struct fuzz_stats {
	unsigned long sent, forwarded, invalid;
};

static __u32 rnd_state = 0x2545f491;

static __u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Make buf's IPv4 header checksum and TCP/UDP checksum right for what it
 * holds now, where its headers still say where they are. */
static void fix_csums(__u8 *buf, int len)
{
	__u16 et = buf[12] << 8 | buf[13];
	int l3 = 14, l4, l4len, proto, fam;
	const __u8 *sa, *da;

	if (et == 0x0800 && len >= l3 + 20) {
		int ihl = (buf[l3] & 15) * 4, tot = buf[l3 + 2] << 8 | buf[l3 + 3];
		__u16 c;

		if (ihl < 20 || l3 + ihl > len || tot < ihl || l3 + tot > len)
			return;
		buf[l3 + 10] = buf[l3 + 11] = 0;
		c = ~fold(sum16(buf + l3, ihl, 0));
		buf[l3 + 10] = c >> 8;
		buf[l3 + 11] = c;
		l4 = l3 + ihl;
		l4len = tot - ihl;
		proto = buf[l3 + 9];
		sa = buf + l3 + 12;
		da = buf + l3 + 16;
		fam = 4;
	} else if (et == 0x86dd && len >= l3 + 40) {
		l4 = l3 + 40;
		l4len = buf[l3 + 4] << 8 | buf[l3 + 5];
		if (l4 + l4len > len)
			return;
		proto = buf[l3 + 6];
		sa = buf + l3 + 8;
		da = buf + l3 + 24;
		fam = 6;
	} else {
		return;
	}
	if ((proto == IPPROTO_TCP && l4len >= 20) || (proto == IPPROTO_UDP && l4len >= 8)) {
		int off = proto == IPPROTO_TCP ? 16 : 6;
		__u16 c;

		buf[l4 + off] = buf[l4 + off + 1] = 0;
		c = l4_csum(fam, sa, da, proto, buf + l4, l4len);
		buf[l4 + off] = c >> 8;
		buf[l4 + off + 1] = c;
	}
}

/* Why frame out (len bytes) is not a valid frame to send, or NULL. */
static const char *frame_fault(const __u8 *out, int len)
{
	__u16 et = out[12] << 8 | out[13];
	int l3 = 14, l4, l4len, proto, fam;
	const __u8 *sa, *da;

	if (len < 14)
		return "shorter than Ethernet";
	if (et == 0x0800) {
		int ihl, tot;

		if (len < l3 + 20)
			return "IPv4 header cut";
		ihl = (out[l3] & 15) * 4;
		tot = out[l3 + 2] << 8 | out[l3 + 3];
		if ((out[l3] >> 4) != 4 || ihl < 20 || tot < ihl || l3 + tot > len)
			return "IPv4 lengths";
		if (fold(sum16(out + l3, ihl, 0)) != 0xffff)
			return "IPv4 header checksum";
		if (out[l3 + 6] & 0x3f || out[l3 + 7])
			return NULL;	/* a fragment: its L4 is not whole */
		l4 = l3 + ihl;
		l4len = tot - ihl;
		proto = out[l3 + 9];
		sa = out + l3 + 12;
		da = out + l3 + 16;
		fam = 4;
	} else if (et == 0x86dd) {
		if (len < l3 + 40)
			return "IPv6 header cut";
		l4len = out[l3 + 4] << 8 | out[l3 + 5];
		l4 = l3 + 40;
		if (l4 + l4len > len)
			return "IPv6 payload length";
		proto = out[l3 + 6];
		sa = out + l3 + 8;
		da = out + l3 + 24;
		fam = 6;
	} else {
		return NULL;	/* not IP: not ours to judge */
	}
	if (proto == IPPROTO_TCP) {
		if (l4len < 20 || (out[l4 + 12] >> 4) * 4 > l4len)
			return "TCP header";
		if (l4_csum(fam, sa, da, proto, out + l4, l4len) != 0)
			return "TCP checksum";
	} else if (proto == IPPROTO_UDP) {
		if (l4len < 8 || (out[l4 + 4] << 8 | out[l4 + 5]) != l4len)
			return "UDP length";
		if ((fam == 6 || out[l4 + 6] || out[l4 + 7]) &&
		    l4_csum(fam, sa, da, proto, out + l4, l4len) != 0)
			return "UDP checksum";
	}
	return NULL;
}

static const char head[] = "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n"
			   "Cookie: FooBar=1.2.3.4\r\n\r\n";

/* Valid starting points: the fixture's services (tests/fixtures/pkt.yaml). */
static const struct pkt_spec seeds[] = {
	{ .family = 4, .src = "10.10.0.2", .dst = "10.10.0.100", .sport = 40100,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	{ .family = 4, .src = "10.10.0.2", .dst = "10.10.0.100", .sport = 40101,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 200 },
	{ .family = 4, .src = "10.10.0.2", .dst = "10.10.0.201", .sport = 40102,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	{ .family = 4, .src = "10.10.0.2", .dst = "10.10.0.110", .sport = 40103,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN,
	  .opts = syn_opts, .optlen = sizeof(syn_opts) },
	{ .family = 4, .src = "10.10.0.2", .dst = "10.10.0.110", .sport = 40104,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK | TF_PSH,
	  .data = head },
	{ .family = 6, .src = "fd00:10::2", .dst = "fd00:10::100", .sport = 40105,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	{ .family = 6, .src = "fd00:10::2", .dst = "fd00:10::100", .sport = 40106,
	  .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_ACK, .payload = 100 },
};

static int fuzz_one(struct fuzz_stats *st, char *why, size_t wlen)
{
	const struct pkt_spec *s = &seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
	struct xdp_md ctx = { .ingress_ifindex = if_nametoindex("c0") };
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);
	static __u8 in[2048], out[2048];
	int len = pkt_build(s, in, sizeof(in)), k, n;
	__u32 how = rnd() % 10;
	const char *fault;

	if (len <= 0)
		return -1;
	if (how == 0) {		/* random bytes after a valid Ethernet header */
		n = 14 + rnd() % 200;
		for (k = 14; k < n; k++)
			in[k] = rnd();
		in[14] = (in[14] & 0x0f) | (in[12] == 0x86 ? 0x60 : 0x40);
		len = n;
	} else if (how == 1) {	/* cut short */
		len = 14 + rnd() % (len - 14);
	} else {		/* 1-4 bytes of the headers overwritten */
		n = 1 + rnd() % 4;
		for (k = 0; k < n; k++)
			in[14 + rnd() % (len - 14 < 80 ? len - 14 : 80)] = rnd();
		if (rnd() & 1)
			fix_csums(in, len);
	}
	o.data_in = in;
	o.data_size_in = len;
	o.data_out = out;
	o.data_size_out = sizeof(out);
	o.ctx_in = &ctx;
	o.ctx_size_in = sizeof(ctx);
	ctx.data_end = len;
	st->sent++;
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return 0;	/* the kernel refused the frame itself */
	if (o.retval != XDP_TX && o.retval != XDP_REDIRECT)
		return 0;
	st->forwarded++;
	/* An input whose own checksums were wrong may go out as wrong: we
	 * adjust checksums, we do not verify them (the receiver does). */
	if (frame_fault(in, len) && !frame_fault(out, o.data_size_out))
		return 0;
	fault = frame_fault(in, len) ? NULL : frame_fault(out, o.data_size_out);
	if (fault) {
		st->invalid++;
		snprintf(why, wlen, "%s (input %d bytes, %s seed %d:%d)", fault, len,
			 how == 0 ? "random" : how == 1 ? "cut" : "mutated",
			 s->family, s->sport);
	}
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct maglb_flow));
}

/* Delete every conntrack entry not in before[0..n) (sorted by key): the
 * flows the fuzz made, which would fill the harness's table for the
 * tests after it. */
static int forget_new_flows(struct ct_item *before, int n)
{
	struct ct_item *now = NULL;
	int m = maps_read_ct(&maps, &now), i;

	if (m < 0)
		return m;
	for (i = 0; i < m; i++)
		if (!bsearch(&now[i], before, n, sizeof(*before), by_key))
			maps_del_ct(&maps, &now[i].key);
	free(now);
	return 0;
}

PKT_TEST(random_and_mutated_packets_never_leave_as_invalid_frames)
{
	struct fuzz_stats st = {};
	struct ct_item *before = NULL;
	char why[256] = "";
	int i, n;

	n = maps_read_ct(&maps, &before);
	ASSERT_TRUE(n >= 0, "conntrack read");
	qsort(before, n, sizeof(*before), by_key);

	/* The judge can fail: a forwarded frame with one byte changed. */
	{
		struct run r;
		const char *f;

		ASSERT_OK(run_pkt(&seeds[1], "c0", &r));
		ASSERT_EQ(r.action, XDP_REDIRECT);
		f = frame_fault(r.out, r.out_len);
		ASSERT_TRUE(!f, "a plain forwarded frame judged invalid: %s", f);
		r.out[r.out_len - 1] ^= 0x5a;
		ASSERT_TRUE(frame_fault(r.out, r.out_len) != NULL,
			    "a frame with a changed byte passed the judge");
	}
	for (i = 0; i < FUZZ_RUNS; i++)
		ASSERT_OK(fuzz_one(&st, why, sizeof(why)));
	ASSERT_OK(forget_new_flows(before, n));
	free(before);
	printf("  # %lu packets, %lu forwarded, %lu invalid frames sent\n",
	       st.sent, st.forwarded, st.invalid);
	ASSERT_TRUE(st.invalid == 0, "%lu invalid frames sent, the last: %s",
		    st.invalid, why);
	ASSERT_TRUE(st.forwarded > FUZZ_RUNS / 10, "only %lu forwarded: the seeds are off",
		    st.forwarded);
	return 0;
}
