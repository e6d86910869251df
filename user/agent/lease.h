/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lease.h - one status writer among the DaemonSet's agents, chosen by a
 * coordination.k8s.io/v1 Lease the way client-go's leader election does
 * it: acquire it when absent or expired, renew it while held, release it
 * on the way out.
 */
#ifndef MAGLB_LEASE_H
#define MAGLB_LEASE_H

#include <stdbool.h>
#include <linux/types.h>

struct kube;
struct lease;

/* The Lease ns/name, held as identity. NULL: no memory. */
struct lease *lease_new(struct kube *k, const char *ns, const char *name,
			const char *identity);
/* One try to acquire or renew, when due (lease_due()); now is
 * CLOCK_MONOTONIC in ns. Returns 1 when this call gained the lease, -1
 * when it lost it, 0 when nothing changed. */
int lease_tick(struct lease *l, __u64 now);
bool lease_held(const struct lease *l);
/* When lease_tick() wants to run next (CLOCK_MONOTONIC ns). */
__u64 lease_due(const struct lease *l);
/* If held, hand it over: the others take it on their next try instead of
 * waiting for it to expire. Then free. */
void lease_release(struct lease *l);

#endif
