/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * egress.h - which XDP verdicts each device of this network namespace
 * takes (maglb_egress), decided from what rtnetlink, ethtool and the
 * netdev family say about it and its veth peer.
 */
#ifndef MAGLB_EGRESS_H
#define MAGLB_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include "datapath/maps.h"

/* Look at every device in the current netns and write its maglb_egress
 * entry; delete the entries (and counters) of vanished ifindexes; keep
 * maglb_tx_ports to the devices with MAGLB_EG_F_REDIRECT. log_changes:
 * one line per device whose path changed. 0 or -errno. */
int egress_probe(const struct maglb_maps *m, bool log_changes);

/* A non-blocking rtnetlink socket that hears link events (RTMGRP_LINK),
 * or -errno; egress_monitor_drain() reads what is queued and says whether
 * a probe is due (a link changed, or events were lost). */
int egress_monitor_open(void);
bool egress_monitor_drain(int fd);

/* The demotions already logged, by (ifindex, demoted_ns). */
struct egress_seen {
	struct egress_demotion {
		__u32 ifindex;
		__u64 demoted_ns;
	} *v;
	int n;
};

/* Log each demotion (MAGLB_EG_F_DEMOTED, set by the tracing program) not
 * logged before, with the device's xmit error counts; *seen becomes the
 * demotions now in force. */
void egress_log_demotions(const struct maglb_maps *m,
			  struct egress_seen *seen);

/* The path a redirected (tx=false) or an XDP_TX (tx=true) packet takes
 * out of a device with this entry (NULL: no entry); no_meta: TC cannot
 * be told, so it is the stack. */
enum maglb_path egress_path(const struct maglb_egress *e, bool tx,
			    bool no_meta);

/* The device's name here, or "ifN" when it has none (vanished). */
const char *egress_dev_name(__u32 ifindex, char buf[IF_NAMESIZE + 8]);

/* The ifindexes with a maglb_egress entry, ascending (*out malloc'd);
 * the count or -errno. */
int egress_ifindexes(const struct maglb_maps *m, __u32 **out);

/* What left by a device and what the kernel failed to send there. */
struct egress_counts {
	__u32 ifindex;
	char dev[IF_NAMESIZE + 8];
	struct maglb_reason_counters path[MAGLB_PATH_MAX];
	bool has_errs;			/* maglb_xmit_errs has an entry */
	struct maglb_xmit_errs errs;
};

/* struct maglb_xmit_errs is all __u64: names of its fields, in order. */
#define EGRESS_XMIT_FIELDS (sizeof(struct maglb_xmit_errs) / sizeof(__u64))
#define EGRESS_XMIT_DEMOTIONS \
	(offsetof(struct maglb_xmit_errs, demotions) / sizeof(__u64))
extern const char *const egress_xmit_names[EGRESS_XMIT_FIELDS];

/* The counters of every device with a maglb_egress entry, by ifindex
 * (*out malloc'd); the count or -errno. */
int egress_read_counts(const struct maglb_maps *m, struct egress_counts **out);

#endif
