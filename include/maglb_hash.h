/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglb_hash.h - the one hash definition. The datapath picks a Maglev slot
 * with it and `maglb lookup` answers with it, so they can never disagree.
 * The function is XXH64 (xxHash, 64-bit, little-endian reads), the hash
 * Envoy's Maglev uses; tests pin it with a known-answer vector that the
 * reference `xxhsum` also produces.
 *
 * Needs: struct maglb_flow (maglb.h). Callers pass 8-byte aligned buffers
 * when running in BPF: the verifier rejects misaligned stack reads.
 */
#ifndef MAGLB_HASH_H
#define MAGLB_HASH_H

#include "maglb.h"

#ifndef MAGLB_INLINE
#define MAGLB_INLINE static inline __attribute__((always_inline))
#endif

#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

/* Seeds: 0 picks the slot for a packet, 0 and 1 give a backend's
 * offset and skip (as in Envoy's Maglev). */
#define MAGLB_SEED_FLOW		0
#define MAGLB_SEED_OFFSET	0
#define MAGLB_SEED_SKIP		1

MAGLB_INLINE __u64 xxh_rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

MAGLB_INLINE __u64 xxh_read64(const __u8 *p)
{
	__u64 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

MAGLB_INLINE __u32 xxh_read32(const __u8 *p)
{
	__u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

#define xxh_aligned(obj) __builtin_assume_aligned(obj, __alignof__(*(obj)))

MAGLB_INLINE __u64 xxh_round(__u64 acc, __u64 in)
{
	acc += in * XXH_P2;
	acc = xxh_rotl(acc, 31);
	return acc * XXH_P1;
}

MAGLB_INLINE __u64 xxh_merge(__u64 acc, __u64 v)
{
	acc ^= xxh_round(0, v);
	return acc * XXH_P1 + XXH_P4;
}

/* XXH64 of len bytes. In BPF, len must be a constant so the verifier
 * sees bounded loops, and callers pass data through xxh_aligned(): BPF
 * has no unaligned loads, so without it clang reads every word byte by
 * byte (8 loads and 7 shifts per word), and the spills of that cost the
 * first-data program the stack it needs on 6.1. */
MAGLB_INLINE __u64 maglb_xxh64(const void *data, __u32 len, __u64 seed)
{
	const __u8 *p = (const __u8 *)data;
	__u32 left = len;
	__u64 h;

	if (len >= 32) {
		__u64 v1 = seed + XXH_P1 + XXH_P2, v2 = seed + XXH_P2;
		__u64 v3 = seed, v4 = seed - XXH_P1;

		while (left >= 32) {
			v1 = xxh_round(v1, xxh_read64(p));
			v2 = xxh_round(v2, xxh_read64(p + 8));
			v3 = xxh_round(v3, xxh_read64(p + 16));
			v4 = xxh_round(v4, xxh_read64(p + 24));
			p += 32;
			left -= 32;
		}
		h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) +
		    xxh_rotl(v4, 18);
		h = xxh_merge(h, v1);
		h = xxh_merge(h, v2);
		h = xxh_merge(h, v3);
		h = xxh_merge(h, v4);
	} else {
		h = seed + XXH_P5;
	}
	h += len;
	while (left >= 8) {
		h ^= xxh_round(0, xxh_read64(p));
		h = xxh_rotl(h, 27) * XXH_P1 + XXH_P4;
		p += 8;
		left -= 8;
	}
	if (left >= 4) {
		h ^= (__u64)xxh_read32(p) * XXH_P1;
		h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
		left -= 4;
	}
	while (left > 0) {
		h ^= (__u64)(*p) * XXH_P5;
		h = xxh_rotl(h, 11) * XXH_P1;
		p++;
		left--;
	}
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
}

/*
 * The key a flow hashes to, per the service's policy.
 * SourceIP: the 16-byte client address (IPv4 in the first word, rest 0).
 * Tuple: the whole struct maglb_flow (both addresses, ports, protocol).
 */
MAGLB_INLINE __u64 maglb_flow_hash(const struct maglb_flow *f, __u8 type)
{
	if (type == MAGLB_HASH_TUPLE)
		return maglb_xxh64(xxh_aligned(f), sizeof(*f), MAGLB_SEED_FLOW);
	return maglb_xxh64(xxh_aligned(&f->saddr), sizeof(f->saddr),
			   MAGLB_SEED_FLOW);
}

/*
 * The hash of a cookie or header value: XXH64 of a fixed 136-byte block,
 * the value's first 128 bytes zero padded, then its length (le64). A fixed
 * size keeps the BPF verifier's view of the hash constant; only 128 bytes
 * count because bpf/lib/http.h keeps no more (HTTP_KEY_MAX).
 */
#define MAGLB_KEY_MAX 128

struct maglb_key_block {
	__u8 v[MAGLB_KEY_MAX];
	__u64 len;
};

MAGLB_INLINE __u64 maglb_key_hash(const struct maglb_key_block *b)
{
	return maglb_xxh64(xxh_aligned(b), sizeof(*b), MAGLB_SEED_FLOW);
}

/* Slot index (1-based, after the size header) for a hash in a ring of m. */
MAGLB_INLINE __u32 maglb_ring_slot(__u64 hash, __u32 m)
{
	return (__u32)(hash % m) + MAGLB_RING_HDR;
}

#endif /* MAGLB_HASH_H */
