/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * forward.h - send a rewritten packet on its way: bpf_fib_lookup() for the
 * next hop's MACs and egress device, then XDP_TX (same device, the one-arm
 * case) or a devmap redirect. Sets *reason for the counters.
 */
#ifndef MAGLB_BPF_FORWARD_H
#define MAGLB_BPF_FORWARD_H

#include "maps.h"
#include "parse.h"

#define AF_INET		2
#define AF_INET6	10
#define IPV6_FLOWINFO_MASK	bpf_htonl(0x0FFFFFFF)

/* fib: working memory (the per-CPU scratch: 64 bytes the stack lacks). */
static __always_inline int forward(CTX *ctx, struct pkt *p,
				   enum maglb_reason *reason,
				   struct bpf_fib_lookup *fibp)
{
#define fib (*fibp)
	int rc;

	__builtin_memset(fibp, 0, sizeof(*fibp));
	fib.ifindex = ctx_ifindex(ctx);
	fib.l4_protocol = p->flow.proto;
	if (p->ip4) {
		fib.family = AF_INET;
		fib.tos = p->ip4->tos;
		fib.tot_len = bpf_ntohs(p->ip4->tot_len);
		fib.ipv4_src = p->ip4->saddr;
		fib.ipv4_dst = p->ip4->daddr;
	} else if (p->ip6) {
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)p->ip6 & IPV6_FLOWINFO_MASK;
		fib.tot_len = bpf_ntohs(p->ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &p->ip6->daddr, 16);
	}

	rc = bpf_fib_lookup(ctx, fibp, sizeof(*fibp), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* Headers are already rewritten and valid: the kernel
		 * resolves the neighbour and forwards (needs ip_forward). */
		*reason = MAGLB_PASS_FIB_NEIGH;
		return ACT_PASS;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		*reason = MAGLB_DROP_FIB;
		return ACT_DROP;
	default:
		/* Not forwarded, forwarding disabled, needs fragmentation:
		 * the kernel's slow path handles it, ICMP included. */
		*reason = MAGLB_PASS_FIB_OTHER;
		return ACT_PASS;
	}

	__builtin_memcpy(p->eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, fib.smac, ETH_ALEN);
#ifdef MAGLB_TC
	*reason = fib.ifindex == ctx_ifindex(ctx) ? MAGLB_TX : MAGLB_REDIRECT;
	return bpf_redirect(fib.ifindex, 0);
#else
	if (fib.ifindex == ctx_ifindex(ctx)) {
		*reason = MAGLB_TX;
		return XDP_TX;
	}
	*reason = MAGLB_REDIRECT;
	/* A device missing from the devmap falls back to XDP_PASS (the low
	 * bits of flags), and the kernel forwards the valid packet. */
	return bpf_redirect_map(&maglb_tx_ports, fib.ifindex, XDP_PASS);
#endif
#undef fib
}

#endif /* MAGLB_BPF_FORWARD_H */
