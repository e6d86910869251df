/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctx.h - one name for the packet context of either attach point, so the
 * parsing and segment-building helpers compile for XDP (struct xdp_md) and
 * for TC (struct __sk_buff, when MAGLB_TC is defined). TC exists for the
 * one job XDP cannot do everywhere: growing a small frame (see splice.h).
 */
#ifndef MAGLB_BPF_CTX_H
#define MAGLB_BPF_CTX_H

#include <linux/pkt_cls.h>

#include "bounded.h"

#ifdef MAGLB_TC
#define CTX		struct __sk_buff
#define ACT_PASS	TC_ACT_OK
#define ACT_DROP	TC_ACT_SHOT

static __always_inline int ctx_resize(CTX *c, __u32 new_len, __u32 old_len)
{
	return bpf_skb_change_tail(c, new_len, 0);
}

static __always_inline int __ctx_store_bytes(CTX *c, __u32 off,
					     const void *b, __u32 len)
{
	return bpf_skb_store_bytes(c, off, b, len, 0);
}

static __always_inline int __ctx_load_bytes(CTX *c, __u32 off, void *b,
					    __u32 len)
{
	return bpf_skb_load_bytes(c, off, b, len);
}

static __always_inline __u32 ctx_ifindex(CTX *c)
{
	return c->ifindex;
}
#else
#define CTX		struct xdp_md
#define ACT_PASS	XDP_PASS
#define ACT_DROP	XDP_DROP

/* Grows only into the frame's tailroom: on veth that can be a few bytes. */
static __always_inline int ctx_resize(CTX *c, __u32 new_len, __u32 old_len)
{
	return new_len == old_len ? 0 :
	       bpf_xdp_adjust_tail(c, (int)new_len - (int)old_len);
}

static __always_inline int __ctx_store_bytes(CTX *c, __u32 off,
					     const void *b, __u32 len)
{
	return bpf_xdp_store_bytes(c, off, (void *)b, len);
}

static __always_inline int __ctx_load_bytes(CTX *c, __u32 off, void *b,
					    __u32 len)
{
	return bpf_xdp_load_bytes(c, off, b, len);
}

/*
 * The verifier takes a context field only as a load at a constant offset
 * from the context pointer itself, and LLVM may keep &c->ingress_ifindex
 * in a register for several reads instead (fib_next_hop, then egress_send):
 * "dereference of modified ctx ptr". barrier_var() hides c from it, so each
 * read starts from c again.
 */
static __always_inline __u32 ctx_ifindex(CTX *c)
{
	barrier_var(c);
	return c->ingress_ifindex;
}
#endif

/*
 * Copy LEN bytes between the packet at OFF and BUF, which has room for
 * CAP bytes (a power of two). Any LEN outside 1..CAP fails (-1) and copies
 * nothing; the helper gets its size through helper_len() (bounded.h).
 */
#define ctx_load_bytes(c, off, buf, len, cap) ({			\
	__u32 __n = (len);						\
	__n - 1 < (cap) ?						\
		__ctx_load_bytes(c, off, buf, helper_len(__n, cap)) : -1;	\
})

#define ctx_store_bytes(c, off, buf, len, cap) ({			\
	__u32 __n = (len);						\
	__n - 1 < (cap) ?						\
		__ctx_store_bytes(c, off, buf, helper_len(__n, cap)) : -1;	\
})

/* A whole header struct: its size is a constant, nothing to prove. */
#define ctx_store_header(c, off, hdr) \
	__ctx_store_bytes(c, off, hdr, sizeof(*(hdr)))

static __always_inline void *ctx_data(CTX *c)
{
	return (void *)(long)c->data;
}

static __always_inline void *ctx_data_end(CTX *c)
{
	return (void *)(long)c->data_end;
}

#endif /* MAGLB_BPF_CTX_H */
