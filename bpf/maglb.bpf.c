// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglb.bpf.c - the XDP entry point. Order of decisions, cheapest first for
 * established traffic: parse -> conntrack (both directions) -> VIP ->
 * Maglev -> create conntrack -> rewrite -> forward. The logic lives in
 * the headers under bpf/lib/; this file only sequences it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_ALEN 6

#include "maglb.h"
#include "maglb_hash.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/stats.h"
#include "lib/maglev.h"
#include "lib/conntrack.h"
#include "lib/nat.h"
#include "lib/forward.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Fragments and truncated L4 are ours to drop only if they target a VIP. */
static __always_inline int verdict_unparsed(struct pkt *p, int rc)
{
	struct maglb_vip_key k = {};
	bool vip;

	k.addr = p->flow.daddr;
	k.family = p->flow.family;
	vip = bpf_map_lookup_elem(&maglb_vip_addrs, &k) != NULL;
	if (rc == PARSE_FRAG) {
		count_reason(vip ? MAGLB_DROP_FRAGMENT : MAGLB_PASS_FRAGMENT,
			     p->len);
	} else {
		count_reason(vip ? MAGLB_DROP_TRUNCATED_L4 :
				   MAGLB_PASS_MALFORMED_L4, p->len);
	}
	return vip ? XDP_DROP : XDP_PASS;
}

/* First packet of a flow we have no entry for: is it for a VIP? */
static __always_inline int new_flow(struct pkt *p, struct maglb_ct_entry *e,
				    __u64 now)
{
	struct maglb_vip_key k = {};
	struct maglb_service *svc;
	struct maglb_backend *be;
	__u32 be_id;
	__u64 hash;
	int rc;

	k.addr = p->flow.daddr;
	k.port = p->flow.dport;
	k.proto = p->flow.proto;
	k.family = p->flow.family;
	svc = bpf_map_lookup_elem(&maglb_vips, &k);
	if (!svc)
		return MAGLB_PASS_NON_VIP;

	hash = maglb_flow_hash(&p->flow, svc->hash_type);
	be_id = maglev_pick(svc->id, hash);
	if (be_id >= MAGLB_MAX_BACKENDS)
		return MAGLB_DROP_NO_BACKEND;
	be = bpf_map_lookup_elem(&maglb_backends, &be_id);
	if (!be)
		return MAGLB_DROP_NO_BACKEND;
	rc = ct_create(p, svc, be_id, be, hash, now, e);
	if (rc)
		return rc;
	return -1;
}

SEC("xdp")
int maglb_xdp(struct xdp_md *ctx)
{
	struct maglb_ct_entry *ct, fresh;
	enum maglb_reason reason;
	struct pkt p = {};
	bool new_conn = false, reply;
	__u64 now;
	int rc, action;

	rc = parse_packet(ctx, &p);
	if (rc == PARSE_FRAG || rc == PARSE_TRUNC_L4)
		return verdict_unparsed(&p, rc);
	if (rc != PARSE_OK) {
		count_reason(rc, p.len);
		return XDP_PASS;
	}

	now = bpf_ktime_get_ns();
	ct = bpf_map_lookup_elem(&maglb_ct, &p.flow);
	/* A bare SYN on a closed entry is a new connection reusing the
	 * 4-tuple: schedule it afresh rather than follow the old backend. */
	if (ct && !(ct->flags & MAGLB_CT_F_REPLY) &&
	    (p.tcp_flags & (TCP_F_SYN | TCP_F_ACK)) == TCP_F_SYN &&
	    ct_closed(ct))
		ct = NULL;
	if (ct) {
		ct_touch(ct, p.tcp_flags, now);
	} else {
		rc = new_flow(&p, &fresh, now);
		if (rc >= 0) {
			count_reason(rc, p.len);
			return rc == MAGLB_PASS_NON_VIP ? XDP_PASS : XDP_DROP;
		}
		ct = &fresh;
		new_conn = true;
	}

	reply = ct->flags & MAGLB_CT_F_REPLY;
	count_flow(&maglb_svc_stats, ct->svc_id, p.len, reply, new_conn);
	count_flow(&maglb_backend_stats, ct->backend_id, p.len, reply,
		   new_conn);

	if (!nat_rewrite(&p, ct)) {
		count_reason(MAGLB_PASS_FIB_OTHER, p.len);
		return XDP_PASS;
	}
	action = forward(ctx, &p, &reason);
	count_reason(reason, p.len);
	return action;
}
