/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * addrpool.h - the Gateway address pool (`gateway.addressPool`): one CIDR,
 * and the address a Gateway gets from it. Pure: no I/O.
 */
#ifndef MAGLB_ADDRPOOL_H
#define MAGLB_ADDRPOOL_H

#include <stdbool.h>
#include "maglb.h"

/* Used when the maglb config names neither gateway.addresses nor
 * gateway.addressPool. Outside every usual Service and pod range
 * (kubeadm's 10.96.0.0/12 and 10.244.0.0/16, k3s's 10.42.0.0/15, AKS's
 * 10.0.0.0/16), so an assigned address never shadows a ClusterIP. */
#define ADDR_POOL_DEFAULT	"10.200.0.0/24"

struct addr_pool {
	union maglb_addr base;	/* host bits zero */
	__u8 family;		/* 4 or 6 */
	__u8 plen;		/* prefix length */
};

/* "10.200.0.0/24" or "fd00:200::/120". -1: not a CIDR, or host bits set
 * (a typo that would otherwise move the pool). */
int addr_pool_parse(const char *s, struct addr_pool *p);
bool addr_pool_contains(const struct addr_pool *p, const union maglb_addr *a,
			__u8 family);

typedef bool (*addr_taken_fn)(void *arg, const union maglb_addr *a,
			      __u8 family);
/*
 * The address for key ("NAMESPACE/NAME"): the slot its hash names, else
 * the next one up (wrapping) that taken() refuses. The same key and the
 * same taken set give the same address on every node. An IPv4 pool of 4
 * or more addresses skips its first and last. -1: every slot is taken.
 */
int addr_pool_pick(const struct addr_pool *p, const char *key,
		   addr_taken_fn taken, void *arg, union maglb_addr *out);

#endif
