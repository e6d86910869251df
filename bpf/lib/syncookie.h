/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syncookie.h - our own keyed SYN cookies, so that a SYN costs no state and
 * any node holding the same master key (maglb_secret) accepts the
 * handshake. The MAC, its format and the per-slot keys are in
 * include/maglb_syncookie.h (shared with the unit tests); this adds the
 * clock and the replay record.
 *
 * Replay: a cookie verifies for up to two slots, and the first data that
 * proves it is in the clear, so it can be captured and sent again after
 * the connection closed. The first data that opens a connection marks its
 * handshake used in maglb_cookie_used until the cookie can no longer
 * verify; a second one is refused (and reset). The table is a fixed array
 * of 8-way buckets, two of which can take a record: two full buckets
 * refuse the new connection rather than forget a live record (fail
 * closed), and both refusals are counted.
 * Records are per node.
 */
#ifndef MAGLB_BPF_SYNCOOKIE_H
#define MAGLB_BPF_SYNCOOKIE_H

#include "maglb.h"
#include "maps.h"

/* Three SipHash runs (the slot key, then the MAC) inlined into each path
 * that reaches them cost the XDP program ~110k verified instructions; as a
 * global function the verifier checks them once. */
struct cookie_in;
__u64 cookie_mac_global(const struct cookie_in *in,
			const struct maglb_secret *master);
#define MAGLB_COOKIE_MAC_BLOCK cookie_mac_global
#include "maglb_syncookie.h"

__noinline __u64 cookie_mac_global(const struct cookie_in *in,
				   const struct maglb_secret *master)
{
	/* Never NULL at run time; the test is the verifier's. ~0 is no
	 * MAC's value that a check can be steered to: see cookie_check_at. */
	if (!in || !master)
		return ~0ULL;
	return cookie_mac_block(in, master);
}

#define COOKIE_WS_NONE	MAGLB_COOKIE_WS_NONE

/* MSS values a cookie can carry: the largest not above the client's. A
 * switch, not a static const table: clang 14 gives such a table a .rodata
 * BTF offset the kernel rejects, and with it all of the object's BTF. */
static __always_inline __u16 cookie_mss(__u32 idx)
{
	switch (idx & 3) {
	case 3:
		return 1460;
	case 2:
		return 1440;
	case 1:
		return 1220;
	default:
		return 536;
	}
}

/* TAI, not the boot clock: NTP keeps it equal across nodes. */
static __always_inline __u32 cookie_now(void)
{
	return bpf_ktime_get_tai_ns() >> MAGLB_COOKIE_T_SHIFT;
}

static __always_inline __u32 cookie_make(const struct maglb_flow *f, __u32 isn,
					 __u32 opt_bits, int ts,
					 const struct maglb_secret *k,
					 struct cookie_in *in, __u32 *tsval)
{
	return cookie_make_at(f, isn, opt_bits, ts, cookie_now(), k, in, tsval);
}

static __always_inline int cookie_check(const struct maglb_flow *f, __u32 isn,
					__u32 cookie, int ts, __u32 tsecr,
					const struct maglb_secret *k,
					struct cookie_in *in, __u64 *mac,
					__u32 *slot)
{
	return cookie_check_at(f, isn, cookie, ts, tsecr, cookie_now(), k, in,
			       mac, slot);
}

/* Cells of bucket b free for a record of slot t (a cell of this parity
 * but another slot is two or more slots old: its cookie no longer
 * verifies), and the first of them in *first; -1 if b holds mark. */
static __always_inline int cookie_used_free(const struct maglb_cookie_used *b,
					    __u64 mark, __u32 t, int *first)
{
	int i, n = 0;
	__u64 c;

	*first = 0;
#pragma unroll
	for (i = 0; i < MAGLB_COOKIE_USED_WAYS; i++) {
		c = b->cell[i];
		if (c == mark)
			return -1;
		if ((c >> 32) != t && !n++)
			*first = i;
	}
	return n;
}

/*
 * Mark the handshake (mac, slot t) used. 0: recorded now; otherwise the
 * reason to refuse it. A plain read then write, no compare-and-swap (that
 * needs -mcpu=v3 for the whole object): RSS puts every copy of one
 * 4-tuple on one queue, so two copies are not checked at once.
 * Two choices: a record goes to the emptier of its two buckets, and a
 * replay is looked for in both. With one bucket, 550k handshakes in a
 * slot (16k a second) found a full one 1.1% of the time (a refused
 * connection); with two, none did up to 66% of the cells. A global
 * function: the two scans' branches, inlined into the first-data path,
 * took that program from 173k to 991k verified instructions; so it is
 * verified once, on its own.
 */
__noinline int cookie_mark_used(__u64 mac, __u32 t)
{
	__u32 i0 = cookie_used_bucket(mac, t, 0), i1 = cookie_used_bucket(mac, t, 1);
	__u64 mark = cookie_used_mark(mac, t);
	struct maglb_cookie_used *b0, *b1;
	int f0, f1, n0, n1;

	b0 = bpf_map_lookup_elem(&maglb_cookie_used, &i0);
	b1 = bpf_map_lookup_elem(&maglb_cookie_used, &i1);
	if (!b0 || !b1)
		return MAGLB_DROP_COOKIE_USED_FULL;
	n0 = cookie_used_free(b0, mark, t, &f0);
	n1 = cookie_used_free(b1, mark, t, &f1);
	if (n0 < 0 || n1 < 0)
		return MAGLB_DROP_COOKIE_REPLAY;
	if (!n0 && !n1)
		return MAGLB_DROP_COOKIE_USED_FULL;
	if (n0 >= n1)
		b0->cell[f0 & (MAGLB_COOKIE_USED_WAYS - 1)] = mark;
	else
		b1->cell[f1 & (MAGLB_COOKIE_USED_WAYS - 1)] = mark;
	return 0;
}

static __always_inline __u32 cookie_opt_bits(__u16 mss, __u8 wscale,
					     __u8 sack_ok)
{
	__u32 idx = mss >= 1460 ? 3 : mss >= 1440 ? 2 : mss >= 1220 ? 1 : 0;

	return (sack_ok ? 1U << 8 : 0) | idx << 4 |
	       (wscale == 0xff ? COOKIE_WS_NONE : wscale);
}

#endif /* MAGLB_BPF_SYNCOOKIE_H */
