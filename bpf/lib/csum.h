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

#endif /* MAGLB_BPF_CSUM_H */
