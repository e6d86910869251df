// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench.bpf.c - the baselines `make bench` measures maglb against, through
 * the same bpf_prog_test_run_opts() loop: a bare XDP_TX, and our own parse
 * (lib/parse.h) followed by XDP_TX.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp")
int bench_parse(struct xdp_md *ctx)
{
	struct pkt p = {};

	return parse_packet(ctx, &p) == PARSE_OK ? XDP_TX : XDP_PASS;
}

/* Parts of the established path, to see where its time goes. */
SEC("xdp")
int bench_fib(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK || !p.ip4)
		return XDP_PASS;
	fib.family = 2;
	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = bpf_ntohs(p.ip4->tot_len);
	fib.ipv4_src = p.ip4->saddr;
	fib.ipv4_dst = p.ip4->daddr;
	return bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) == 0 ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int bench_clock(struct xdp_md *ctx)
{
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	return bpf_ktime_get_ns() ? XDP_TX : XDP_PASS;
}

/* The conntrack map's shape (key, value, size, LRU) without its contents:
 * what one lookup, and a new flow's two inserts, cost by themselves. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow);
	__type(value, struct maglb_ct_entry);
} bench_ct SEC(".maps");

SEC("xdp")
int bench_ct_hit(struct xdp_md *ctx)
{
	struct maglb_ct_entry v = {};
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	/* the first call of a run fills the entry the others hit */
	if (!bpf_map_lookup_elem(&bench_ct, &p.flow))
		bpf_map_update_elem(&bench_ct, &p.flow, &v, BPF_ANY);
	return XDP_TX;
}

SEC("xdp")
int bench_ct_insert2(struct xdp_md *ctx)
{
	struct maglb_ct_entry v = {};
	struct maglb_flow rev;
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	rev = p.flow;
	rev.saddr = p.flow.daddr;
	rev.daddr = p.flow.saddr;
	bpf_map_update_elem(&bench_ct, &rev, &v, BPF_ANY);
	bpf_map_update_elem(&bench_ct, &p.flow, &v, BPF_ANY);
	return XDP_TX;
}
