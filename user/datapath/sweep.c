// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sweep.c - decides when a tracked connection is over. A connection is
 * judged by both of its entries together: it is idle only when neither
 * direction has seen a packet for the timeout (a one-way UDP stream keeps
 * its reply entry alive), and closed after an RST, or FINs both ways. A
 * connection the client never ACKed (UNCONFIRMED: a SYN made it, spoofed
 * or not answered, and no ACK of the backend's SYN-ACK came: a spoofer's
 * blind ACK does not confirm, bpf/lib/conntrack.h) has synTimeout, not
 * tcpTimeout: a stranger's SYNs cannot hold snat ports or table room for
 * hours.
 *
 * Under pressure (a family's map above CT_PRESSURE_HIGH of its
 * max_entries) the sweep also deletes closed connections, then
 * unconfirmed ones, before their timeouts, oldest first within each,
 * until the map is down to CT_PRESSURE_LOW: the
 * datapath refuses new flows at full (drop_ct_full) and never evicts, so
 * this is what makes room for new connections during a SYN flood while
 * established ones stay. "Unconfirmed" here is UNCONFIRMED (a SYN whose
 * SYN-ACK the client never ACKed) or PENDING (a spliced handshake the
 * backend has not finished).
 *
 * Cost: the table is read by batch lookups (one syscall per 8192
 * entries) into compact records (what the sweep judges by: 100 bytes an
 * entry, not the 200 of a whole ct_item), each entry's partner is found in
 * an in-memory index of what was read (no syscall per entry), and the
 * deletions go out in batches.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "datapath/sweep.h"

/* Per mille of a map's max_entries. */
#define CT_PRESSURE_HIGH	900
#define CT_PRESSURE_LOW		800

/* One entry, as much of it as the sweep needs. */
struct sw_item {
	struct maglb_flow key;
	struct maglb_flow pk;		/* its partner's key */
	__u64 last_seen_ns;
	__u64 created_ns;
	__u32 flags;
};

struct sw_arr {
	struct sw_item *v;
	int n, cap;
};

static int sw_add(const struct ct_item *it, void *arg)
{
	struct sw_arr *a = arg;
	struct sw_item *x;

	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 4096;
		struct sw_item *tmp = realloc(a->v, cap * sizeof(*tmp));

		if (!tmp)
			return -1;
		a->v = tmp;
		a->cap = cap;
	}
	x = &a->v[a->n++];
	x->key = it->key;
	ct_partner_key(it, &x->pk);
	x->last_seen_ns = it->val.last_seen_ns;
	x->created_ns = it->val.created_ns;
	x->flags = it->val.flags;
	if (it->val.flags & MAGLB_CT_F_ONE) {
		/* Both directions in one entry, which has no partner to
		 * find: closed as a pair would be, by an RST either way or
		 * FINs both ways. */
		x->flags |= it->val.rev.flags & MAGLB_CT_F_RST;
		if (!(it->val.rev.flags & MAGLB_CT_F_FIN))
			x->flags &= ~MAGLB_CT_F_FIN;
	}
	return 0;
}

/* An open-addressing index of the items read: key -> item index + 1,
 * with 32 more bits of the key's hash beside it, so that a probe reads
 * an item (a cache miss into a table of 2M) only when it likely is the
 * one. */
struct ct_slot {
	__u32 item;	/* index + 1; 0: empty */
	__u32 tag;
};

struct ct_index {
	struct ct_slot *slot;
	__u32 mask;
};

static __u64 flow_hash(const struct maglb_flow *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < sizeof(*k) / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL + (h >> 29);
	/* murmur3's finalizer: every key bit reaches the low bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int index_build(struct ct_index *ix, const struct sw_item *items, int n)
{
	__u32 size = 16, i;

	while (size < (__u32)n * 2)
		size *= 2;
	ix->slot = calloc(size, sizeof(*ix->slot));
	if (!ix->slot)
		return -1;
	ix->mask = size - 1;
	for (i = 0; i < (__u32)n; i++) {
		__u64 h = flow_hash(&items[i].key);
		__u32 s = h & ix->mask;

		while (ix->slot[s].item)
			s = (s + 1) & ix->mask;
		ix->slot[s] = (struct ct_slot){ i + 1, h >> 32 };
	}
	return 0;
}

static int index_find(const struct ct_index *ix, const struct sw_item *items,
		      const struct maglb_flow *k)
{
	__u64 h = flow_hash(k);
	__u32 s = h & ix->mask;

	for (; ix->slot[s].item; s = (s + 1) & ix->mask)
		if (ix->slot[s].tag == (__u32)(h >> 32) &&
		    !memcmp(&items[ix->slot[s].item - 1].key, k, sizeof(*k)))
			return ix->slot[s].item - 1;
	return -1;
}

/* A connection still standing that may go under pressure: a closed one
 * (FINs both ways or an RST, in its closedTimeout) first, then an
 * unconfirmed or pending one; oldest first within each. A connection
 * that closed is what Linux's conntrack drops early too: at a high rate
 * of short connections they are most of the table. */
struct ct_cand {
	__u64 created_ns;
	int cls;		/* 0 closed, 1 unconfirmed or pending */
	int item;
	int peer;
};

static int by_class_and_age(const void *a, const void *b)
{
	const struct ct_cand *x = a, *y = b;

	if (x->cls != y->cls)
		return x->cls - y->cls;
	return x->created_ns < y->created_ns ? -1 :
	       x->created_ns > y->created_ns;
}

struct ct_dels {
	struct maglb_flow *k;
	__u32 n;
};

static void del_add(struct ct_dels *d, const struct sw_item *items, int i,
		    int peer)
{
	d->k[d->n++] = items[i].key;
	if (peer >= 0)
		d->k[d->n++] = items[i].pk;
}

int ct_sweep(const struct maglb_maps *m, const struct maglb_config *cfg,
	     __u64 now)
{
	struct sw_arr a = {};
	struct sw_item *items;
	struct ct_cand *cand = NULL;
	struct ct_dels dels = {};
	struct ct_index ix = {};
	__u32 max4 = 0, max6 = 0, n_cand = 0;
	long live[2] = {}, cap[2];
	int i, n, deleted = 0, err = 0;

	if (maps_walk_ct(m, sw_add, &a)) {
		free(a.v);
		return -1;
	}
	items = a.v;
	n = a.n;
	if (maps_ct_max_entries(m, &max4, &max6))
		max4 = max6 = 0;	/* no pressure step */
	cap[0] = max4;
	cap[1] = max6;
	dels.k = malloc((n ? n : 1) * sizeof(*dels.k));
	cand = malloc((n ? n : 1) * sizeof(*cand));
	if (!dels.k || !cand || index_build(&ix, items, n)) {
		err = -1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct sw_item *it = &items[i];
		const struct sw_item *peer = NULL;
		bool closed;
		__u64 seen = it->last_seen_ns, timeout;
		__u32 flags = it->flags, both;
		int p, fam = it->key.family != MAGLB_AF_INET;

		live[fam]++;
		p = index_find(&ix, items, &it->pk);
		/* Each connection once: at its lower-indexed entry. */
		if (p >= 0 && p < i)
			continue;
		if (p == i)
			p = -1;
		if (p >= 0) {
			peer = &items[p];
			if (peer->last_seen_ns > seen)
				seen = peer->last_seen_ns;
			flags |= peer->flags & MAGLB_CT_F_RST;
		}
		both = flags | (peer ? peer->flags : 0);
		closed = (flags & MAGLB_CT_F_RST) ||
			 ((flags & MAGLB_CT_F_FIN) &&
			  (!peer || (peer->flags & MAGLB_CT_F_FIN)));
		/* A handshake the backend never finished: the client gave up
		 * long ago (its retransmits would have reset it). */
		if (both & MAGLB_CT_F_PENDING)
			timeout = cfg->ct_closed_timeout;
		else if (closed)
			timeout = cfg->ct_closed_timeout;
		else if (both & MAGLB_CT_F_UNCONFIRMED)
			timeout = cfg->ct_syn_timeout;
		else if (it->key.proto == IPPROTO_TCP)
			timeout = cfg->ct_tcp_timeout;
		else
			timeout = cfg->ct_udp_timeout;
		if (now < seen || now - seen <= timeout * 1000000000ULL) {
			/* Its age: the older entry's (both are made at once). */
			if (closed ||
			    (both & (MAGLB_CT_F_UNCONFIRMED | MAGLB_CT_F_PENDING)))
				cand[n_cand++] = (struct ct_cand){
					peer && peer->created_ns < it->created_ns ?
					peer->created_ns : it->created_ns,
					closed ? 0 : 1, i, p };
			continue;
		}
		del_add(&dels, items, i, p);
		live[fam] -= 1 + (p >= 0);
		deleted++;
	}
	/* live[] counted entries as read, less the expired; the partner of
	 * an entry seen later is counted when reached, so it balances. */
	if (n_cand && ((cap[0] && live[0] * 1000 > cap[0] * CT_PRESSURE_HIGH) ||
		       (cap[1] && live[1] * 1000 > cap[1] * CT_PRESSURE_HIGH))) {
		bool want[2] = {
			cap[0] && live[0] * 1000 > cap[0] * CT_PRESSURE_HIGH,
			cap[1] && live[1] * 1000 > cap[1] * CT_PRESSURE_HIGH };
		__u32 c;

		qsort(cand, n_cand, sizeof(*cand), by_class_and_age);
		for (c = 0; c < n_cand; c++) {
			const struct sw_item *it = &items[cand[c].item];
			int fam = it->key.family != MAGLB_AF_INET;

			if (!want[fam])
				continue;
			if (live[fam] * 1000 <= cap[fam] * CT_PRESSURE_LOW) {
				want[fam] = false;
				continue;
			}
			del_add(&dels, items, cand[c].item, cand[c].peer);
			live[fam] -= 1 + (cand[c].peer >= 0);
			deleted++;
		}
	}
	if (dels.n && maps_del_ct_batch(m, dels.k, dels.n))
		err = -1;
out:
	free(ix.slot);
	free(cand);
	free(dels.k);
	free(items);
	return err ? -1 : deleted;
}
