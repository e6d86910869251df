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
