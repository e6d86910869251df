/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglb_ct_reply.h - the reply direction of a connection that has one
 * conntrack entry (MAGLB_CT_F_ONE). A plain NAT connection on the L4 path
 * keeps the client's address, so its reply comes from the backend's
 * address and port to the client's: maglb_revnat names the VIPs that
 * backend serves, and the forward entry is the one under the client's
 * flow to one of them. One insert per new flow instead of two: the second
 * insert, into a cold bucket of a table of millions, cost more than the
 * whole rest of a new flow (docs/performance.md, the new-flow floor rows).
 *
 * The reply is handled as a reply entry always was, on a view: an entry
 * built from the forward one and its key, with the reply's own state from
 * fwd->rev. The datapath builds it in per-CPU scratch and writes what
 * changed back (bpf/lib/ct_reply.h); `maglb show`, the sweep and the tests
 * read the same view (user/datapath/maps.c). One definition, so the two
 * sides cannot disagree on what a reply entry of such a connection holds.
 */
#ifndef MAGLB_CT_REPLY_H
#define MAGLB_CT_REPLY_H

#include "maglb.h"

#ifndef MAGLB_INLINE
#define MAGLB_INLINE static inline __attribute__((always_inline))
#endif

/* The key of fwd's connection's reply, from the backend to the client. */
MAGLB_INLINE void maglb_ct_reply_key(struct maglb_flow *rk,
				     const struct maglb_flow *fkey,
				     const struct maglb_ct_entry *fwd)
{
	rk->saddr = fwd->nat_daddr;
	rk->daddr = fkey->saddr;
	rk->sport = fwd->nat_dport;
	rk->dport = fkey->sport;
	rk->proto = fkey->proto;
	rk->family = fkey->family;
	rk->pad = 0;
}

/* The forward key a reply rk would have under VIP vip: the client's flow
 * to it. */
MAGLB_INLINE void maglb_ct_forward_key(struct maglb_flow *fk,
				       const struct maglb_flow *rk,
				       const struct maglb_revnat_vip *vip)
{
	fk->saddr = rk->daddr;
	fk->daddr = vip->addr;
	fk->sport = rk->dport;
	fk->dport = vip->port;
	fk->proto = rk->proto;
	fk->family = rk->family;
	fk->pad = 0;
}

/* fwd, under fkey, is the one entry of the connection rk is the reply of. */
MAGLB_INLINE bool maglb_ct_one_of(const struct maglb_ct_entry *fwd,
				  const struct maglb_flow *rk)
{
	return (fwd->flags & (MAGLB_CT_F_ONE | MAGLB_CT_F_REPLY)) ==
	       MAGLB_CT_F_ONE &&
	       fwd->nat_daddr.v6[0] == rk->saddr.v6[0] &&
	       fwd->nat_daddr.v6[1] == rk->saddr.v6[1] &&
	       fwd->nat_daddr.v6[2] == rk->saddr.v6[2] &&
	       fwd->nat_daddr.v6[3] == rk->saddr.v6[3] &&
	       fwd->nat_dport == rk->sport;
}

/*
 * The reply entry fwd's connection would have had, in *v: what ct_create
 * gave a reply entry (the VIP as source, the client as destination, the
 * ids), fwd's times, and the reply's own state. The splice and cookie
 * fields are not written: a view is never spliced, and the caller's *v
 * holds zeros there (per-CPU scratch no path writes them in, or a zeroed
 * struct).
 */
MAGLB_INLINE void maglb_ct_reply_view(struct maglb_ct_entry *v,
				      const struct maglb_ct_entry *fwd,
				      const struct maglb_flow *fkey)
{
	v->nat_saddr = fkey->daddr;
	v->nat_sport = fkey->dport;
	v->nat_daddr = fkey->saddr;
	v->nat_dport = fkey->sport;
	v->flags = MAGLB_CT_F_REPLY | MAGLB_CT_F_ONE | fwd->rev.flags;
	v->svc_id = fwd->svc_id;
	v->backend_id = fwd->backend_id;
	v->backend_gen = fwd->backend_gen;
	v->nh = fwd->rev.nh;
	v->fast_jiffies = fwd->rev.fast_jiffies;
	v->created_ns = fwd->created_ns;
	v->last_seen_ns = fwd->last_seen_ns;
	v->seq_next = fwd->rev.seq_next;
	v->syn_ack_next = fwd->rev.syn_ack_next;
}

/* View v's reply state back into fwd: what user space writes through a
 * view (the datapath writes only what moved, bpf/lib/ct_reply.h). */
MAGLB_INLINE void maglb_ct_reply_unview(struct maglb_ct_entry *fwd,
					const struct maglb_ct_entry *v)
{
	fwd->rev.flags = v->flags & ~(MAGLB_CT_F_REPLY | MAGLB_CT_F_ONE);
	fwd->rev.seq_next = v->seq_next;
	fwd->rev.syn_ack_next = v->syn_ack_next;
	fwd->rev.fast_jiffies = v->fast_jiffies;
	fwd->rev.nh = v->nh;
	fwd->last_seen_ns = v->last_seen_ns;
}

#endif /* MAGLB_CT_REPLY_H */
