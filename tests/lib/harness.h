/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * harness.h - run the datapath programs under bpf_prog_test_run_opts() in a
 * private network namespace: two veths ("c0" toward clients, "b0" toward
 * backends) with static neighbours, so bpf_fib_lookup() gives real answers.
 * Maps are filled by the real config loader and apply path, from a fixture
 * file (tests/fixtures/). Shared by the packet tests and the per-packet
 * benchmark, which link harness.c.
 */
#ifndef MAGLB_HARNESS_H
#define MAGLB_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "reconcile/apply.h"
#include "model/config.h"
#include "datapath/maps.h"
#include "maglb.skel.h"
#include "maglb_tc.skel.h"
#include "pktbuild.h"

#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3
#define XDP_REDIRECT 4

/* The loaded programs and their maps (harness.c), one set per process. */
extern struct maglb_bpf *skel;
extern struct maglb_tc_bpf *tc_skel;
extern int prog_fd, tc_fd;
extern struct maglb_maps maps;
extern const struct maglb_secret test_key;
/* The fixture setup_fixture() applied, as a path apply_fixture() reads
 * again. */
extern char fixture_path[4096];

/* Build the namespace, load the programs, apply a config: the YAML text
 * given, or tests/fixtures/NAME (found from the binary's path, harness.c).
 * 0 or an error, said on stderr. */
/* Connections the test conntrack holds (conntrack.maxEntries): 32768,
 * i.e. 65536 entries a map, unless MAGLB_TEST_CT_CONNS says otherwise. */
#define HARNESS_CT_CONNS	32768
__u32 harness_ct_conns(void);
int setup(const char *yaml);
int setup_fixture(const char *name);
void teardown(void);
/* Apply a config given as text, or the fixture again. */
int apply_yaml(const char *yaml);
int apply_fixture(void);

static inline int set_handoff_no_meta(__u32 on)
{
	struct maglb_handoff h = { .no_meta = on };
	__u32 zero = 0;

	return bpf_map_update_elem(maps.handoff, &zero, &h, BPF_ANY);
}

/* What maglb_egress says of a device, and its devmap entry to match. */
static inline int set_egress(const char *dev, __u32 flags)
{
	struct maglb_egress e = { .flags = flags, .peer_nsid = -1 };
	__u32 ifindex = if_nametoindex(dev);

	if (flags & MAGLB_EG_F_REDIRECT)
		maps_put_tx_port(&maps, ifindex);
	else
		maps_del_tx_port(&maps, ifindex);
	return maps_put_egress(&maps, ifindex, &e);
}

/* Forget every backend's next hop, and with it the egress flags it keeps. */
static inline int forget_backend_nh(void)
{
	return maps_forget_backend_nh(&maps);
}

/* Linux's SYN options: MSS 1460, SACK-permitted, TS 777/0, NOP, WS 7. */
static const unsigned char syn_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
	0, 0, 0x03, 0x09, 0, 0, 0, 0, 1, 3, 3, 7 };

struct run {
	__u8 in[2048], out[2048];	/* a grown segment carries a request */
	int in_len, out_len, action;
};

/* Build s, run program fd on it with context ctx, record the result. */
static inline int run_fd(int fd, const struct pkt_spec *s, void *ctx,
			 __u32 ctx_size, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = r->in,
		    .data_out = r->out, .data_size_out = sizeof(r->out),
		    .ctx_in = ctx, .ctx_size_in = ctx_size, .repeat = 1);

	r->in_len = pkt_build(s, r->in, sizeof(r->in));
	opts.data_size_in = r->in_len;
	if (ctx_size == sizeof(struct xdp_md))
		((struct xdp_md *)ctx)->data_end = r->in_len;
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	r->out_len = opts.data_size_out;
	r->action = opts.retval;
	return 0;
}

/* The XDP program on one frame arriving on dev. */
static inline int run_pkt(const struct pkt_spec *s, const char *dev, struct run *r)
{
	struct xdp_md ctx = { .ingress_ifindex = if_nametoindex(dev) };

	return run_fd(prog_fd, s, &ctx, sizeof(ctx), r);
}


/* The TC program (maglb_tc.bpf.c) on one frame arriving on dev. */
static inline int run_tc(const struct pkt_spec *s, const char *dev, struct run *r)
{
	struct __sk_buff ctx = { .ifindex = if_nametoindex(dev) };

	return run_fd(tc_fd, s, &ctx, sizeof(ctx), r);
}

#endif
