/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ct_reply.h - the reply direction of a connection with one entry
 * (MAGLB_CT_F_ONE, include/maglb_ct_reply.h). A packet with no entry of its
 * own may come from a backend: maglb_revnat names the VIPs its address and
 * port serve, and under each the client's flow to it is looked up. The
 * packet then goes the way a reply entry's always went, on a view of one
 * in per-CPU scratch, and what it changed goes back into the forward
 * entry's rev (ct_reply_store).
 *
 * Cost: a packet that is nobody's pays the revnat miss (a small map) on
 * top of the conntrack miss it paid before; a reply pays the conntrack
 * miss, the revnat hit and the forward entry's lookup, where its own entry
 * cost one lookup. What that is at a million flows is a bench row
 * (docs/performance.md).
 */
#ifndef MAGLB_BPF_CT_REPLY_H
#define MAGLB_BPF_CT_REPLY_H

#include "maglb_ct_reply.h"
#include "conntrack.h"
#include "revnat.h"

/*
 * The view of the reply p is, in l4->view, or NULL; *fwdp the forward
 * entry it came from. Unrolled over the VIPs: a bpf_loop callback could
 * not hand the map value back.
 */
static __always_inline struct maglb_ct_entry *
ct_reply_find(const struct pkt *p, struct l4_scratch *l4,
	      struct maglb_ct_entry **fwdp)
{
	struct maglb_revnat *rn;
	struct maglb_ct_entry *fwd;
	int i;

	rn = revnat_get(&l4->rn, &p->flow.saddr, p->flow.sport,
			p->flow.family);
	if (!rn)
		return NULL;
	for (i = 0; i < MAGLB_REVNAT_VIPS; i++) {
		if (i >= rn->n || rn->vip[i].proto != p->flow.proto)
			continue;
		maglb_ct_forward_key(&l4->key2, &p->flow, &rn->vip[i]);
		fwd = ct_lookup(&l4->key2, &l4->k4);
		if (fwd && maglb_ct_one_of(fwd, &p->flow)) {
			maglb_ct_reply_view(&l4->view, fwd, &l4->key2);
			*fwdp = fwd;
			return &l4->view;
		}
	}
	return NULL;
}

/* Any of the next hop's four words (struct maglb_nh is 32 bytes). */
static __always_inline bool nh_differs(const struct maglb_nh *a,
				       const struct maglb_nh *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] != y[0] || x[1] != y[1] || x[2] != y[2] || x[3] != y[3];
}

/* What handling the reply changed in view v, into fwd: only the fields
 * that moved, to keep the forward direction's cache line clean. Its
 * close flags stay the reply's own (rev.flags), as in an entry of its
 * own; last_seen_ns is the connection's. */
static __always_inline void ct_reply_store(struct maglb_ct_entry *fwd,
					   const struct maglb_ct_entry *v)
{
	__u32 flags = v->flags & ~(MAGLB_CT_F_REPLY | MAGLB_CT_F_ONE);

	if (fwd->rev.flags != flags)
		fwd->rev.flags = flags;
	if (fwd->rev.seq_next != v->seq_next)
		fwd->rev.seq_next = v->seq_next;
	if (fwd->rev.syn_ack_next != v->syn_ack_next)
		fwd->rev.syn_ack_next = v->syn_ack_next;
	if (fwd->rev.fast_jiffies != v->fast_jiffies)
		fwd->rev.fast_jiffies = v->fast_jiffies;
	if (nh_differs(&fwd->rev.nh, &v->nh))
		fwd->rev.nh = v->nh;
	if ((__s64)(v->last_seen_ns - fwd->last_seen_ns) > 0)
		fwd->last_seen_ns = v->last_seen_ns;
}

#endif /* MAGLB_BPF_CT_REPLY_H */
