/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * revnat.h - reads of maglb_revnat: which VIPs a backend address and port
 * serves with one conntrack entry per connection (include/maglb.h). A new
 * flow asks it before making one entry (conntrack.h, ct_create), a packet
 * from a backend before looking for its connection (ct_reply.h): the same
 * map both ways, so a connection with one entry is always one its reply
 * can find.
 */
#ifndef MAGLB_BPF_REVNAT_H
#define MAGLB_BPF_REVNAT_H

#include "maps.h"

static __always_inline bool revnat_addr_eq(const union maglb_addr *a,
					   const union maglb_addr *b)
{
	return a->v6[0] == b->v6[0] && a->v6[1] == b->v6[1] &&
	       a->v6[2] == b->v6[2] && a->v6[3] == b->v6[3];
}

/* Some backend serves on port (network order), so its packet may be a
 * reply to look up (ct_reply.h). */
static __always_inline bool revnat_port(__be16 port)
{
	__u32 p = bpf_ntohs(port), w = p >> 6;
	__u64 *bits = bpf_map_lookup_elem(&maglb_revnat_ports, &w);

	return bits && (*bits >> (p & 63)) & 1;
}

/* The VIPs backend addr:port serves so, or NULL. k: room for the key
 * (per-CPU scratch: the callers' stacks have no 20 bytes to spare). */
static __always_inline struct maglb_revnat *
revnat_get(struct maglb_revnat_key *k, const union maglb_addr *addr,
	   __be16 port, __u8 family)
{
	k->addr = *addr;
	k->port = port;
	k->family = family;
	k->pad = 0;
	return bpf_map_lookup_elem(&maglb_revnat, k);
}

/* Backend addr:port's reply finds its connection under VIP f's
 * destination (f: the client's flow). */
static __always_inline bool revnat_serves(struct maglb_revnat_key *k,
					  const union maglb_addr *addr,
					  __be16 port,
					  const struct maglb_flow *f)
{
	struct maglb_revnat *rn = revnat_get(k, addr, port, f->family);
	int i;

	if (!rn)
		return false;
	for (i = 0; i < MAGLB_REVNAT_VIPS; i++) {
		const struct maglb_revnat_vip *v = &rn->vip[i];

		if (i >= rn->n)
			break;
		if (v->port == f->dport && v->proto == f->proto &&
		    revnat_addr_eq(&v->addr, &f->daddr))
			return true;
	}
	return false;
}

#endif /* MAGLB_BPF_REVNAT_H */
