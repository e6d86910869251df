/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * harness.h - run the datapath programs under bpf_prog_test_run_opts() in a
 * private network namespace: two veths ("c0" toward clients, "b0" toward
 * backends) with static neighbours, so bpf_fib_lookup() gives real answers.
 * Maps are filled by the real config loader and apply path. Shared by the
 * packet tests and the per-packet benchmark.
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
#include "apply.h"
#include "config.h"
#include "maps.h"
#include "maglb.skel.h"
#include "maglb_tc.skel.h"
#include "pktbuild.h"

#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3
#define XDP_REDIRECT 4

static struct maglb_bpf *skel;
static struct maglb_tc_bpf *tc_skel;
static int tc_fd;
static const struct maglb_secret test_key = { 0x0706050403020100ULL,
					      0x0f0e0d0c0b0a0908ULL };
static struct maglb_maps maps;

static inline int set_handoff_no_meta(__u32 on)
{
	struct maglb_handoff h = { .no_meta = on };
	__u32 zero = 0;

	return bpf_map_update_elem(maps.handoff, &zero, &h, BPF_ANY);
}
static int prog_fd;

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
	struct maglb_backend_nh none = {};
	__u32 id;

	for (id = 0; id < MAGLB_MAX_BACKENDS; id++)
		if (bpf_map_update_elem(maps.backend_nh, &id, &none, BPF_ANY))
			return -errno;
	return 0;
}

/* Linux's SYN options: MSS 1460, SACK-permitted, TS 777/0, NOP, WS 7. */
static const unsigned char syn_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
	0, 0, 0x03, 0x09, 0, 0, 0, 0, 1, 3, 3, 7 };

static const char *topology =
	"set -e\n"
	"ip link set lo up\n"
	"ip link add c0 address 02:00:00:00:c0:01 type veth peer name c0p\n"
	"ip link add b0 address 02:00:00:00:b0:01 type veth peer name b0p\n"
	"for d in c0 c0p b0 b0p; do ip link set $d up; done\n"
	"ip addr add 10.10.0.1/24 dev c0\n"
	"ip addr add fd00:10::1/64 dev c0 nodad\n"
	"ip addr add 10.20.1.1/24 dev b0\n"
	"ip addr add fd00:20::1/64 dev b0 nodad\n"
	"ip neigh add 10.10.0.2 lladdr 02:00:00:00:c0:02 dev c0 nud permanent\n"
	"ip neigh add 10.10.0.11 lladdr 02:00:00:00:c0:11 dev c0 nud permanent\n"
	"ip neigh add fd00:10::2 lladdr 02:00:00:00:c0:02 dev c0 nud permanent\n"
	"for i in 2 3 4; do\n"
	"  ip neigh add 10.20.1.$i lladdr 02:00:00:00:b0:0$i dev b0 nud permanent\n"
	"  ip neigh add fd00:20::$i lladdr 02:00:00:00:b0:0$i dev b0 nud permanent\n"
	"done\n"
	"sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1\n";

static inline int apply_yaml(const char *yaml)
{
	char path[] = "/tmp/maglb-pkt-XXXXXX", err[CFG_ERR_LEN];
	struct maglb_config *cfg;
	struct apply_stats st;
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml))
		return -errno;
	close(fd);
	cfg = config_load(path, err, sizeof(err));
	unlink(path);
	if (!cfg) {
		fprintf(stderr, "config: %s\n", err);
		return -EINVAL;
	}
	rc = apply_config(&maps, cfg, &st);
	config_free(cfg);
	return rc;
}

static inline int setup(const char *config)
{
	struct bpf_map *map;
	int err;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare");
		return -1;
	}
	if (system(topology)) {
		fprintf(stderr, "topology setup failed\n");
		return -1;
	}
	skel = maglb_bpf__open();
	if (!skel)
		return -1;
	/* Test instances never touch the pins of a real installation. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	/* Short enough for a test to outwait. */
	skel->rodata->splice_timeout_ns = 1000000000ULL;
	err = maglb_bpf__load(skel);
	if (err)
		return err;
	prog_fd = bpf_program__fd(skel->progs.maglb_xdp);
	err = maps_from_object(skel->obj, &maps);
	if (err)
		return err;
	err = maps_put_progs(&maps, skel->obj);
	if (err)
		return err;
	tc_skel = maglb_tc_bpf__open();
	if (tc_skel)
		tc_skel->rodata->splice_timeout_ns = 1000000000ULL;
	if (!tc_skel || maps_share(skel->obj, tc_skel->obj) ||
	    maglb_tc_bpf__load(tc_skel))
		return -1;
	tc_fd = bpf_program__fd(tc_skel->progs.maglb_tc);
	/* test_run cannot give an skb XDP metadata: TC looks at every TCP
	 * packet, as on a driver without it (bpf/lib/handoff.h). */
	if (set_handoff_no_meta(1))
		return -1;
	maps_put_secret(&maps, &test_key, false);
	/* Both devices take XDP frames, as veths whose peers run NAPI do; the
	 * egress tests (test_pkt.c) change that per case. */
	if (set_egress("c0", MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX) ||
	    set_egress("b0", MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX))
		return -1;
	return apply_yaml(config);
}

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
