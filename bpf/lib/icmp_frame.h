/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp_frame.h - the ICMP too-big answer that icmp.h builds, as it goes
 * after the L2 header; apart from icmp.h so that scratch.h can give it
 * room in the per-CPU scratch without taking in icmp.h's logic.
 */
#ifndef MAGLB_BPF_ICMP_FRAME_H
#define MAGLB_BPF_ICMP_FRAME_H

#include <linux/ip.h>
#include <linux/ipv6.h>

/* The whole answer after the L2 header, built in scratch memory. */
struct icmp4_frame {
	struct iphdr ip;
	__u8 type, code;
	__sum16 check;
	__be16 unused;
	__be16 mtu;
	struct iphdr qip;	/* the quote */
	__be16 qports[2];
	__be32 qseq;
};

struct icmp6_frame {
	struct ipv6hdr ip6;
	__u8 type, code;
	__sum16 check;
	__be32 mtu;
	struct ipv6hdr qip6;
	__be16 qports[2];
	__be32 qseq;
};

union icmp_frame {
	struct icmp4_frame v4;
	struct icmp6_frame v6;
};

/* The ICMP step's part of the per-CPU scratch (scratch.h). */
struct icmp_scratch {
	union icmp_frame frame;		/* an ICMP too-big being built */
};

#endif /* MAGLB_BPF_ICMP_FRAME_H */
