// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench.bpf.c - the baselines `make bench` measures maglb against, through
 * the same bpf_prog_test_run_opts() loop: a bare XDP_TX, and our own parse
 * (lib/parse.h) followed by XDP_TX; and parts of the datapath alone.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/parse.h"
#include "lib/nat.h"

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

/* The TC rows' baseline. */
SEC("tc")
int bench_tc_ok(struct __sk_buff *skb)
{
	return 0;	/* TC_ACT_OK */
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

/* The conntrack maps' shapes (key, value, size, LRU) without their
 * contents: what one lookup, and a new flow's inserts, cost by themselves.
 * maglb_ct4 and maglb_ct6 differ only in the key. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow4);
	__type(value, struct maglb_ct_entry);
} bench_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow);
	__type(value, struct maglb_ct_entry);
} bench_ct6 SEC(".maps");

/* the first call of a run fills the entry the others hit */
static __always_inline int hit(void *map, const void *key)
{
	struct maglb_ct_entry v = {};

	if (!bpf_map_lookup_elem(map, key))
		bpf_map_update_elem(map, key, &v, BPF_ANY);
	return XDP_TX;
}

SEC("xdp")
int bench_ct4_hit(struct xdp_md *ctx)
{
	struct maglb_flow4 k;
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	maglb_flow4_of(&k, &p.flow);
	return hit(&bench_ct4, &k);
}

SEC("xdp")
int bench_ct6_hit(struct xdp_md *ctx)
{
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	return hit(&bench_ct6, &p.flow);
}

/* n inserts into map, as an IPv4 new flow makes (n = 2: the reply key is
 * the flow with its addresses swapped). miss: first the lookup that
 * misses, and inserts that must each succeed (XDP_PASS if not). */
static __always_inline int inserts(struct xdp_md *ctx, void *map, int n,
				   bool miss)
{
	__u64 flags = miss ? BPF_NOEXIST : BPF_ANY;
	struct maglb_ct_entry v = {};
	struct maglb_flow4 k;
	struct pkt p = {};
	__be32 a;

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	maglb_flow4_of(&k, &p.flow);
	if (miss && bpf_map_lookup_elem(map, &k))
		return XDP_PASS;
	if (bpf_map_update_elem(map, &k, &v, flags) && miss)
		return XDP_PASS;
	if (n == 2) {
		a = k.saddr;
		k.saddr = k.daddr;
		k.daddr = a;
		if (bpf_map_update_elem(map, &k, &v, flags) && miss)
			return XDP_PASS;
	}
	return XDP_TX;
}

SEC("xdp")
int bench_ct4_insert1(struct xdp_md *ctx)
{
	return inserts(ctx, &bench_ct4, 1, false);
}

SEC("xdp")
int bench_ct4_insert2(struct xdp_md *ctx)
{
	return inserts(ctx, &bench_ct4, 2, false);
}

/* The floor of any NAT design that forwards to another device: the rewrite
 * of an established packet (from a fixed entry, no lookup), the MACs and the
 * devmap redirect. bench_pkt fills both maps. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maglb_ct_entry);
} bench_entry SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} bench_tx_ports SEC(".maps");

SEC("xdp")
int bench_nat_redirect(struct xdp_md *ctx)
{
	struct maglb_ct_entry *e;
	struct pkt p = {};
	__u32 zero = 0;

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	e = bpf_map_lookup_elem(&bench_entry, &zero);
	if (!e || !nat_rewrite(&p, e))
		return XDP_PASS;
	__builtin_memcpy(p.eth->h_dest, e->nh.dmac, ETH_ALEN);
	__builtin_memcpy(p.eth->h_source, e->nh.smac, ETH_ALEN);
	return bpf_redirect_map(&bench_tx_ports, e->nh.ifindex, XDP_PASS);
}

/* The cache-miss floor of the scale rows (bench_pkt's "conntrack scale"):
 * maglb_ct4's shape as it is now (a preallocated hash, 16-byte key, the
 * entry as value) with as many slots as the scaled conntrack, of which
 * bench_pkt fills the keys the 1M-flow row visits. A call looks its
 * packet's flow up and reads the entry's first and last cache lines (what
 * the established path reads at least): the memory cost of a random
 * visit and nothing else. max_entries is set by bench_pkt before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow4);
	__type(value, struct maglb_ct_entry);
} bench_ct4_big SEC(".maps");

SEC("xdp")
int bench_ct4_read(struct xdp_md *ctx)
{
	struct maglb_ct_entry *e;
	struct maglb_flow4 k;
	struct pkt p = {};

	if (parse_packet(ctx, &p) != PARSE_OK)
		return XDP_PASS;
	maglb_flow4_of(&k, &p.flow);
	e = bpf_map_lookup_elem(&bench_ct4_big, &k);
	if (!e)
		return XDP_PASS;
	return e->flags + (__u32)e->last_seen_ns == 0xffffffff ? XDP_PASS : XDP_TX;
}

/* What a new flow's conntrack work could cost at scale: the lookup that
 * misses, then one insert (one entry per connection) or two (today's
 * forward and reply entries), in bench_ct4_big as the scale rows leave
 * it (half full, after churn). */
SEC("xdp")
int bench_big_insert1(struct xdp_md *ctx)
{
	return inserts(ctx, &bench_ct4_big, 1, true);
}

SEC("xdp")
int bench_big_insert2(struct xdp_md *ctx)
{
	return inserts(ctx, &bench_ct4_big, 2, true);
}
