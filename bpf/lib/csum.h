/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * csum.h - incremental Internet checksum updates (RFC 1624, eqn. 3):
 * HC' = ~(~HC + ~m + m'). Words are summed as they lie in memory, which
 * is valid in either byte order because one's-complement addition commutes
 * with byte swapping. Inline arithmetic instead of bpf_csum_diff(): no
 * helper call on the per-packet path.
 */
#ifndef MAGLB_BPF_CSUM_H
#define MAGLB_BPF_CSUM_H

#include "bounded.h"

static __always_inline __u16 csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Accumulate the replacement of 32-bit word `from` by `to`. */
static __always_inline __u64 csum_delta32(__u64 acc, __u32 from, __u32 to)
{
	return acc + (__u32)~from + to;
}

/* Accumulate the replacement of 16-bit word `from` by `to`. */
static __always_inline __u64 csum_delta16(__u64 acc, __u16 from, __u16 to)
{
	return acc + (__u16)~from + to;
}

/* Apply an accumulated delta to a stored checksum. */
static __always_inline __u16 csum_apply(__u16 check, __u64 delta)
{
	return ~csum_fold64((__u16)~check + delta);
}

/*
 * One's complement sum of LEN bytes at BUF (at most MAGLB_SEG_BUF, zero
 * padded to 4 bytes past LEN), in bpf_csum_diff() calls of up to 512
 * bytes. The size goes through helper_len(): clang tests the clamped size
 * in one register and may pass another.
 */
static __always_inline __u32 csum_buf(const __u8 *buf, __u32 len)
{
	__s64 s = 0;
	__u32 off, n;
	int i;

#pragma unroll
	for (i = 0; i < MAGLB_SEG_BUF / 512; i++) {
		off = i * 512;
		if (off >= len)
			break;
		n = len - off < 512 ? len - off : 512;
		s = bpf_csum_diff(NULL, 0, (__be32 *)(buf + off),
				  helper_len((n + 3) & ~3U, 512), (__u32)s);
		if (s < 0)
			return 0;
	}
	return (__u32)s;
}

#endif /* MAGLB_BPF_CSUM_H */
