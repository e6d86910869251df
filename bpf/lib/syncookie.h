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
 * of 8-way buckets: a full bucket refuses the new connection rather than
 * forget a live record (fail closed), and both refusals are counted.
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

/*
 * Mark the handshake (mac, slot t) used. 0: recorded now; otherwise the
 * reason to refuse it. A plain read then write, no compare-and-swap (that
 * needs -mcpu=v3 for the whole object): RSS puts every copy of one
 * 4-tuple on one queue, so two copies are not checked at once.
 */
static __always_inline int cookie_mark_used(__u64 mac, __u32 t)
{
	__u32 idx = cookie_used_bucket(mac, t);
	__u64 mark = cookie_used_mark(mac, t), c;
	struct maglb_cookie_used *b;
	int i, free = -1;

	b = bpf_map_lookup_elem(&maglb_cookie_used, &idx);
	if (!b)
		return MAGLB_DROP_COOKIE_USED_FULL;
#pragma unroll
	for (i = 0; i < MAGLB_COOKIE_USED_WAYS; i++) {
		c = b->cell[i];
		if (c == mark)
			return MAGLB_DROP_COOKIE_REPLAY;
		/* A cell of this parity but another slot is two or more slots
		 * old: its cookie no longer verifies. */
		if (free < 0 && (c >> 32) != t)
			free = i;
	}
	if (free < 0)
		return MAGLB_DROP_COOKIE_USED_FULL;
	b->cell[free & (MAGLB_COOKIE_USED_WAYS - 1)] = mark;
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
