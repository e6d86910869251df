/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglev.h - Maglev table construction (Eisenbud et al., NSDI 2016) with
 * Envoy-style weights. Pure arithmetic: no BPF, no I/O.
 */
#ifndef MAGLB_MAGLEV_H
#define MAGLB_MAGLEV_H

#include <stdbool.h>
#include <linux/types.h>

struct maglev_backend {
	const char *name;	/* stable name: hashed for offset and skip */
	__u32 weight;		/* 0 = takes no slots */
	__u32 id;		/* written into the slots */
};

bool maglev_is_prime(__u32 m);

/*
 * Fill table[0..m-1] with backend ids. The result depends only on the set
 * of (name, weight, id), never on the order of bes[], so every node builds
 * the same table. With no backend of positive weight every slot gets
 * MAGLB_NO_BACKEND. m must be prime. Returns 0 or -errno.
 */
int maglev_build(const struct maglev_backend *bes, int n, __u32 m,
		 __u32 *table);
/*
 * What maglev_build() would make of these inputs, in 64 bits: the same
 * inputs give the same table, so a ring stored with its fingerprint
 * need not be built again to know it is current (reconcile/plan.c). Never
 * 0, which means "not known". MAGLEV_VERSION is part of it: bump it when
 * the build changes what it writes.
 */
#define MAGLEV_VERSION	1
__u64 maglev_fingerprint(const struct maglev_backend *bes, int n, __u32 m);

#endif
