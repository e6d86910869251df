/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * syncookie.h - our own keyed SYN cookies, so that a SYN costs no state and
 * any node holding the same key (maglb_secret) accepts the handshake.
 *
 * cookie = SipHash-2-4(key, addresses, ports, client ISN, t, bits)[31:9]
 *          | sack << 8 | (t & 3) << 6 | mss_idx << 4 | wscale
 * t counts 2^36 ns (~69 s) of TAI time, which NTP keeps equal across nodes;
 * a cookie is accepted in its own slot and the next. The low 9 bits carry
 * the client's SYN options (wscale 15 = none) and are covered by the MAC.
 * The 23-bit MAC means a blind forger needs ~4M tries per connection.
 */
#ifndef MAGLB_BPF_SYNCOOKIE_H
#define MAGLB_BPF_SYNCOOKIE_H

#include "maglb.h"

#define COOKIE_T_SHIFT	36
#define COOKIE_WS_NONE	15

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

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

struct cookie_in {
	union maglb_addr saddr;
	union maglb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u32 isn;
	__u32 t;
	__u32 bits;
};

/* SipHash-2-4 over 6 words (48 bytes). */
static __always_inline __u64 siphash48(const __u64 *m, const struct maglb_secret *k)
{
	__u64 v0 = k->k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k->k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k->k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k->k1 ^ 0x7465646279746573ULL;
	__u64 b = 48ULL << 56;
	int i;

#pragma unroll
	for (i = 0; i < 6; i++) {
		v3 ^= m[i];
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m[i];
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

/* in: 48 bytes of working memory (scratch). */
static __always_inline __u32 cookie_mac(const struct maglb_flow *f, __u32 isn,
					__u32 t, __u32 bits,
					const struct maglb_secret *k,
					struct cookie_in *in)
{
	in->saddr = f->saddr;
	in->daddr = f->daddr;
	in->sport = f->sport;
	in->dport = f->dport;
	in->isn = isn;
	in->t = t;
	in->bits = bits;
	return (__u32)siphash48((const __u64 *)in, k);
}

static __always_inline __u32 cookie_now(void)
{
	return bpf_ktime_get_tai_ns() >> COOKIE_T_SHIFT;
}

static __always_inline __u32 cookie_make(const struct maglb_flow *f, __u32 isn,
					 __u32 opt_bits,
					 const struct maglb_secret *k,
					 struct cookie_in *in)
{
	__u32 t = cookie_now(), bits = opt_bits | (t & 3) << 6;

	return (cookie_mac(f, isn, t, bits, k, in) & 0xFFFFFE00) | bits;
}

/* Valid cookies return their option bits (>= 0); forgeries return -1. */
static __always_inline int cookie_check(const struct maglb_flow *f, __u32 isn,
					__u32 cookie,
					const struct maglb_secret *k,
					struct cookie_in *in)
{
	__u32 bits = cookie & 0x1FF, now = cookie_now(), t;
	int i;

#pragma unroll
	for (i = 0; i < 2; i++) {
		t = now - i;
		if ((t & 3) != ((bits >> 6) & 3))
			continue;
		if ((cookie_mac(f, isn, t, bits, k, in) & 0xFFFFFE00) ==
		    (cookie & 0xFFFFFE00))
			return bits;
	}
	return -1;
}

static __always_inline __u32 cookie_opt_bits(__u16 mss, __u8 wscale,
					     __u8 sack_ok)
{
	__u32 idx = mss >= 1460 ? 3 : mss >= 1440 ? 2 : mss >= 1220 ? 1 : 0;

	return (sack_ok ? 1U << 8 : 0) | idx << 4 |
	       (wscale == 0xff ? COOKIE_WS_NONE : wscale);
}

#endif /* MAGLB_BPF_SYNCOOKIE_H */
