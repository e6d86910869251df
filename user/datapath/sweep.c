// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sweep.c - decides when a tracked connection is over. A connection is
 * judged by both of its entries together: it is idle only when neither
 * direction has seen a packet for the timeout (a one-way UDP stream keeps
 * its reply entry alive), and closed after an RST, or FINs both ways. A
 * connection the client never ACKed (UNCONFIRMED: a SYN made it, spoofed
 * or not answered) has synTimeout, not tcpTimeout: a stranger's SYNs
 * cannot hold snat ports or table room for hours.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "datapath/sweep.h"

int ct_sweep(const struct maglb_maps *m, const struct maglb_config *cfg,
	     __u64 now)
{
	struct ct_item *items = NULL;
	int i, n, deleted = 0;

	n = maps_read_ct(m, &items);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		const struct ct_item *it = &items[i];
		struct maglb_ct_entry peer;
		struct maglb_flow pk;
		bool have_peer, closed;
		__u64 seen = it->val.last_seen_ns, timeout;
		__u32 flags = it->val.flags;

		ct_partner_key(it, &pk);
		have_peer = !maps_get_ct(m, &pk, &peer);
		if (have_peer) {
			if (peer.last_seen_ns > seen)
				seen = peer.last_seen_ns;
			flags |= peer.flags & MAGLB_CT_F_RST;
		}
		closed = (flags & MAGLB_CT_F_RST) ||
			 ((flags & MAGLB_CT_F_FIN) &&
			  (!have_peer || (peer.flags & MAGLB_CT_F_FIN)));
		/* A handshake the backend never finished: the client gave up
		 * long ago (its retransmits would have reset it). */
		if ((flags | (have_peer ? peer.flags : 0)) & MAGLB_CT_F_PENDING)
			timeout = cfg->ct_closed_timeout;
		else if (closed)
			timeout = cfg->ct_closed_timeout;
		else if ((flags | (have_peer ? peer.flags : 0)) &
			 MAGLB_CT_F_UNCONFIRMED)
			timeout = cfg->ct_syn_timeout;
		else if (it->key.proto == IPPROTO_TCP)
			timeout = cfg->ct_tcp_timeout;
		else
			timeout = cfg->ct_udp_timeout;
		if (now < seen || now - seen <= timeout * 1000000000ULL)
			continue;
		maps_del_ct(m, &it->key);
		if (have_peer)
			maps_del_ct(m, &pk);
		deleted++;
	}
	free(items);
	return deleted;
}
