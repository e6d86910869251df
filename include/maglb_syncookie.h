/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglb_syncookie.h - the syncookie's MAC, made and checked. The datapath
 * (bpf/lib/syncookie.h, which adds the clock and the replay record) and the
 * unit tests include this same code, so the 2^26-forgery test measures the
 * function XDP runs. Nothing here reads a clock: callers pass the slot.
 *
 * Slot t = TAI ns >> MAGLB_COOKIE_T_SHIFT (2^35 ns, ~34.4 s). The key of
 * slot t is derived from the master key (maglb_secret, syncookieKey or a
 * node's random one): K_t = SipHash-2-4(master, TAG^t, 0) ||
 * SipHash-2-4(master, TAG^t, 1). Every node with the same master and an
 * NTP-disciplined clock derives the same K_t without talking. A cookie of
 * slot t verifies in slots t and t+1 only (K_t and K_{t-1} are the two live
 * keys; the slot's low 2 bits in the cookie say which), so a cookie lives
 * 34.4 to 68.7 s and one two slots old is refused.
 *
 *   mac  = SipHash-2-4(K_t, saddr, daddr, sport, dport, client ISN, t,
 *                      bits | ts << 9)                         (64 bits)
 *   ISN  = mac[31:9] | sack << 8 | (t & 3) << 6 | mss_idx << 4 | wscale
 *   TSval of our SYN-ACK = mac[63:32]       (only if the client sent TS)
 *
 * Without timestamps the ISN alone carries 23 MAC bits: a blind forger
 * succeeds once per 2^23 (8.4M) tries. With timestamps the client echoes
 * our TSval as TSecr, so an ACK must match 23 + 32 = 55 bits (one per
 * 3.6e16). The ts bit is in the MAC input, so stripping the TS option from
 * a timestamped handshake does not turn it into a valid ISN-only one.
 *
 * Needs: struct maglb_flow, struct maglb_secret (maglb.h). In BPF, `in`
 * must be 8-byte aligned memory (a map value): the verifier rejects
 * misaligned reads.
 */
#ifndef MAGLB_SYNCOOKIE_H
#define MAGLB_SYNCOOKIE_H

#include "maglb.h"

#ifndef MAGLB_INLINE
#define MAGLB_INLINE static inline __attribute__((always_inline))
#endif

/* BPF needs the loop unrolled (n is a constant); gcc has no such pragma. */
#ifdef __clang__
#define MAGLB_UNROLL _Pragma("unroll")
#else
#define MAGLB_UNROLL
#endif

#define MAGLB_COOKIE_T_SHIFT	35
#define MAGLB_COOKIE_WS_NONE	15
#define MAGLB_COOKIE_OPT_MASK	0x1FFU	/* the ISN's low bits: not MAC */
#define MAGLB_COOKIE_TS_BIT	(1U << 9)	/* MAC input only */
/* "maglbsc" in the top bytes, the slot below: the KDF's domain. */
#define MAGLB_COOKIE_KDF_TAG	0x6d61676c62736300ULL

struct cookie_in {
	union maglb_addr saddr;
	union maglb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u32 isn;
	__u32 t;
	__u32 bits;
};

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

/*
 * SipHash-2-4 over n 64-bit words (n a constant: the loop unrolls). The
 * words are read with memcpy: a struct read through a __u64 pointer breaks
 * strict aliasing, and the compiler may then hash the fields before the
 * caller's stores to them land.
 */
MAGLB_INLINE __u64 maglb_siphash(const void *data, int n,
				 const struct maglb_secret *k)
{
	const __u8 *p = (const __u8 *)data;
	__u64 w;
	__u64 v0 = k->k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k->k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k->k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k->k1 ^ 0x7465646279746573ULL;
	__u64 b = (__u64)(n * 8) << 56;
	int i;

	MAGLB_UNROLL
	for (i = 0; i < n; i++) {
		__builtin_memcpy(&w, p + 8 * i, sizeof(w));
		v3 ^= w;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* K_t from the master: the rotation rule every node shares. */
MAGLB_INLINE void cookie_slot_key(const struct maglb_secret *master, __u32 t,
				  struct maglb_secret *key)
{
	__u64 m[2] = { MAGLB_COOKIE_KDF_TAG ^ t, 0 };

	key->k0 = maglb_siphash(m, 2, master);
	m[1] = 1;
	key->k1 = maglb_siphash(m, 2, master);
}

/* The MAC of a filled input block, under its slot's key. */
MAGLB_INLINE __u64 cookie_mac_block(const struct cookie_in *in,
				    const struct maglb_secret *master)
{
	struct maglb_secret key;

	cookie_slot_key(master, in->t, &key);
	return maglb_siphash(in, 6, &key);
}

/* BPF calls cookie_mac_block through a global function, verified once
 * (bpf/lib/syncookie.h); user space inlines it. */
#ifndef MAGLB_COOKIE_MAC_BLOCK
#define MAGLB_COOKIE_MAC_BLOCK cookie_mac_block
#endif

MAGLB_INLINE __u64 cookie_mac(const struct maglb_flow *f, __u32 isn, __u32 t,
			      __u32 bits, const struct maglb_secret *master,
			      struct cookie_in *in)
{
	in->saddr = f->saddr;
	in->daddr = f->daddr;
	in->sport = f->sport;
	in->dport = f->dport;
	in->isn = isn;
	in->t = t;
	in->bits = bits;
	return MAGLB_COOKIE_MAC_BLOCK(in, master);
}

/*
 * Our SYN-ACK's ISN for a client SYN with ISN isn in slot t; with ts, our
 * TSval goes to *tsval. opt_bits from cookie_opt_bits().
 */
MAGLB_INLINE __u32 cookie_make_at(const struct maglb_flow *f, __u32 isn,
				  __u32 opt_bits, int ts, __u32 t,
				  const struct maglb_secret *master,
				  struct cookie_in *in, __u32 *tsval)
{
	__u32 bits = (opt_bits & 0x13F) | (t & 3) << 6;
	__u64 mac = cookie_mac(f, isn, t, bits | (ts ? MAGLB_COOKIE_TS_BIT : 0),
			       master, in);

	*tsval = mac >> 32;
	return ((__u32)mac & ~MAGLB_COOKIE_OPT_MASK) | bits;
}

/*
 * The ACK (or first data) of a handshake: isn is its seq - 1, cookie its
 * ack - 1; ts says it carries the TS option, tsecr its echo. now is the
 * current slot. A valid cookie returns its option bits (>= 0) and leaves
 * the MAC in *mac and its slot in *slot; a forgery returns -1. The slot
 * the cookie names is the one of now and now - 1 whose low 2 bits it
 * carries: at most one MAC is computed.
 */
MAGLB_INLINE int cookie_check_at(const struct maglb_flow *f, __u32 isn,
				 __u32 cookie, int ts, __u32 tsecr, __u32 now,
				 const struct maglb_secret *master,
				 struct cookie_in *in, __u64 *mac, __u32 *slot)
{
	__u32 bits = cookie & MAGLB_COOKIE_OPT_MASK;
	__u32 t = now - ((now - (bits >> 6)) & 3);
	__u64 m;

	if (now - t > 1)
		return -1;
	m = cookie_mac(f, isn, t, bits | (ts ? MAGLB_COOKIE_TS_BIT : 0),
		       master, in);
	if (((__u32)m & ~MAGLB_COOKIE_OPT_MASK) !=
	    (cookie & ~MAGLB_COOKIE_OPT_MASK))
		return -1;
	if (ts && (__u32)(m >> 32) != tsecr)
		return -1;
	*mac = m;
	*slot = t;
	return bits;
}

/* The replay record of a verified handshake (bpf/lib/syncookie.h): its
 * two candidate buckets of maglb_cookie_used (choice 0 or 1, from
 * disjoint bits of the MAC), and the cell value that marks it used. */
MAGLB_INLINE __u32 cookie_used_bucket(__u64 mac, __u32 t, int choice)
{
	__u64 h = choice ? mac >> 47 : mac ^ (mac >> 29);

	return (t & 1) * MAGLB_COOKIE_USED_BUCKETS +
	       (__u32)(h & (MAGLB_COOKIE_USED_BUCKETS - 1));
}

MAGLB_INLINE __u64 cookie_used_mark(__u64 mac, __u32 t)
{
	__u64 h = mac ^ (mac >> 29);

	return (__u64)t << 32 | (__u32)(h >> 17) | 1;
}

#endif /* MAGLB_SYNCOOKIE_H */
