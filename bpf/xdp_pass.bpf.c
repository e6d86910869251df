// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pass.bpf.c - a bare XDP_PASS. A veth only accepts XDP_REDIRECT/XDP_TX
 * frames when its peer runs an XDP program; test topologies attach this one
 * to the peers of maglb's devices.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
