/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * scratch.h - the per-CPU working memory, composed of each feature's part:
 * far beyond the 512-byte stack, and BPF-private, so it lives here rather
 * than in include/. Each part is declared by the feature that owns it;
 * only the steps that span features (the programs, the splice steps,
 * cookie insertion) take the whole of it.
 *
 * One layout for both programs: maglb_tc.bpf.c includes this too, and
 * `maglb attach` hands it the XDP object's map by fd (maps_share()), so
 * both objects must agree on the value. Sharing one map is safe because
 * nothing in it outlives a program run, and on one CPU XDP has returned
 * before TC ingress sees the skb it made.
 */
#ifndef MAGLB_BPF_SCRATCH_H
#define MAGLB_BPF_SCRATCH_H

#include "conntrack.h"		/* struct l4_scratch */
#include "tcpseg.h"		/* struct seg_scratch */
#include "splice_scratch.h"	/* struct splice_scratch */
#include "route.h"		/* struct route_scratch */
#include "cookie.h"		/* struct cookie_scratch */
#include "icmp_frame.h"		/* struct icmp_scratch */

struct maglb_scratch {
	struct l4_scratch l4;
	struct seg_scratch seg;
	struct splice_scratch splice;
	struct route_scratch route;
	struct cookie_scratch cookie;
	struct icmp_scratch icmp;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maglb_scratch);
} maglb_scratch SEC(".maps");

#endif /* MAGLB_BPF_SCRATCH_H */
