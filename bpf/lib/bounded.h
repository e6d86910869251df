/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bounded.h - values the verifier of every supported kernel (6.1, 6.12,
 * 6.18) can bound. Each helper names what older verifiers lack; code that
 * does arithmetic on packet pointers or passes a length to a helper takes
 * its numbers from here instead of masking at the call site.
 *
 * The barrier: clang drops a mask it can prove changes nothing (a 16-bit
 * byte swap fits in 16 bits; an index it has compared), so the mask is an
 * asm statement the compiler must keep and the verifier sees. http.h is
 * also built for the host (unit tests, fuzzing), which has no verifier to
 * convince: there the mask is plain C.
 */
#ifndef MAGLB_BPF_BOUNDED_H
#define MAGLB_BPF_BOUNDED_H

/* VAL, proven to the verifier to be at most MASK (a 2^n - 1 constant). */
#ifdef __bpf__
#define bounded_mask(val, mask) ({					\
	__u32 __b = (val);						\
	asm volatile("%[b] &= %[m]" : [b] "+r"(__b) : [m] "i"(mask));	\
	__b;								\
})
#else
#define bounded_mask(val, mask) ((__u32)(val) & (mask))
#endif

/*
 * A 16-bit length field in host order, known to be 0..0xffff. The
 * verifier of 6.12 and earlier keeps no bounds across a byte swap
 * (BPF_END): the swapped tot_len or payload_len is "any scalar", and
 * adding it to a packet pointer is refused as math with an unbounded
 * register.
 */
#ifdef __bpf__
static __always_inline __u32 be16_len(__be16 v)
{
	return bounded_mask(bpf_ntohs(v), 0xffff);
}
#endif

/*
 * LEN as a helper's size argument: the verifier sees 1..CAP (a power of
 * two), and for LEN in 1..CAP the value is LEN. Callers reject other LEN
 * first. Compared in C instead, clang is free to test one register and
 * pass another (a copy, a spill reload, or len - 1 for a cheaper compare);
 * 6.1 links none of those to the tested one, 6.12 not across a spill.
 */
#define helper_len(len, cap) ({						\
	_Static_assert(((cap) & ((cap) - 1)) == 0, "cap: a power of 2");	\
	bounded_mask((len) - 1, (cap) - 1) + 1;				\
})

/*
 * I as an index into a buffer of CAP bytes (a power of two): I itself for
 * I < CAP. A C mask does not do: once clang has proven I < CAP it drops
 * the mask, and the verifier may not have kept the compare's bound on the
 * register it indexes with (see helper_len). A constant I (an unrolled
 * loop's) stays a constant offset.
 */
#define buf_idx(i, cap) ({						\
	_Static_assert(((cap) & ((cap) - 1)) == 0, "cap: a power of 2");	\
	__builtin_constant_p(i) ? (__u32)(i) & ((cap) - 1) :		\
				  bounded_mask(i, (cap) - 1);		\
})

#endif /* MAGLB_BPF_BOUNDED_H */
