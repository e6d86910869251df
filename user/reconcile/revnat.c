// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * revnat.c - which VIPs each backend address and port serves with one
 * conntrack entry per connection (bpf/lib/ct_reply.h): every VIP of a
 * service that forwards without snat on the L4 path (not Cookie or Header,
 * no routes: those splice, with two entries) is listed for each backend of
 * that service, retired (draining) ones too, since their connections go
 * on. Derived from the maps after a plan ran, so it cannot disagree with
 * them; a backend with more than MAGLB_REVNAT_VIPS such VIPs has the first
 * ones listed, and the others' connections get two entries.
 *
 * Order, against the datapath reading while we write: a new flow gets one
 * entry only if both its VIP is listed and its backend's port bit is set
 * (revnat.h), and a reply is looked for only where the bit is set. So
 * entries are written before bits are set, and bits cleared before entries
 * go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "reconcile/revnat.h"

static bool one_entry_service(const struct maglb_service *svc)
{
	return svc->forwarding != MAGLB_FWD_SNAT &&
	       svc->hash_type != MAGLB_HASH_COOKIE &&
	       svc->hash_type != MAGLB_HASH_HEADER && !svc->n_matches;
}

struct want {
	struct maglb_revnat_key key;
	struct maglb_revnat val;
};

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct maglb_revnat_key));
}

/* One VIP a backend address lists. */
struct pair {
	struct maglb_revnat_key key;
	struct maglb_revnat_vip vip;
};

static int by_pair(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pair));
}

/* The entries the maps call for, sorted by key; the count or -errno.
 * Each backend's VIPs are its service's (a list per service id), so the
 * cost is backends x VIPs a service, sorted once. */
static int wanted(const struct maglb_maps *m, struct want **out)
{
	struct maglb_backend *be = maps_read_backends(m);
	int *first = NULL, *next = NULL, n_si, n_p = 0, n = 0, cap = 0, i;
	struct svc_item *si = NULL;
	struct pair *pr = NULL, *t;
	struct want *w = NULL;
	__u32 b;

	*out = NULL;
	if (!be)
		return -errno;
	n_si = maps_read_services(m, &si);
	if (n_si < 0) {
		free(be);
		return n_si;
	}
	first = malloc(MAGLB_MAX_SERVICES * sizeof(*first));
	next = malloc((n_si ?: 1) * sizeof(*next));
	if (!first || !next)
		goto nomem;
	for (i = 0; i < MAGLB_MAX_SERVICES; i++)
		first[i] = -1;
	for (i = 0; i < n_si; i++) {
		__u32 id = si[i].svc.id;

		if (id >= MAGLB_MAX_SERVICES || !one_entry_service(&si[i].svc))
			continue;
		next[i] = first[id];
		first[id] = i;
	}
	for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
		if (!be[b].family || !be[b].port ||
		    be[b].svc_id >= MAGLB_MAX_SERVICES)
			continue;
		for (i = first[be[b].svc_id]; i >= 0; i = next[i]) {
			struct pair *x;

			if (n_p == cap) {
				cap = cap ? 2 * cap : 1024;
				if (!(t = realloc(pr, cap * sizeof(*pr))))
					goto nomem;
				pr = t;
			}
			x = &pr[n_p++];
			memset(x, 0, sizeof(*x));
			x->key.addr = be[b].addr;
			x->key.port = be[b].port;
			x->key.family = be[b].family;
			x->vip.addr = si[i].key.addr;
			x->vip.port = si[i].key.port;
			x->vip.proto = si[i].key.proto;
		}
	}
	qsort(pr, n_p, sizeof(*pr), by_pair);
	w = calloc(n_p ?: 1, sizeof(*w));
	if (!w)
		goto nomem;
	for (i = 0; i < n_p; i++) {
		struct maglb_revnat *v;

		if (i && !by_pair(&pr[i - 1], &pr[i]))
			continue;	/* two backend ids, one address */
		if (!n || by_key(&w[n - 1].key, &pr[i].key))
			w[n++].key = pr[i].key;
		v = &w[n - 1].val;
		if (v->n < MAGLB_REVNAT_VIPS)
			v->vip[v->n++] = pr[i].vip;
	}
	free(be);
	free(si);
	free(first);
	free(next);
	free(pr);
	*out = w;
	return n;
nomem:
	free(be);
	free(si);
	free(first);
	free(next);
	free(pr);
	return -ENOMEM;
}

static void port_set(__u64 *words, __be16 port)
{
	__u16 p = ntohs(port);

	words[p >> 6] |= 1ULL << (p & 63);
}

int revnat_sync(const struct maglb_maps *m)
{
	static __u64 have_bits[MAGLB_REVNAT_PORT_WORDS];
	static __u64 want_bits[MAGLB_REVNAT_PORT_WORDS];
	struct maglb_revnat_key *hk = NULL;
	struct maglb_revnat *hv = NULL;
	struct want *w = NULL, *h = NULL, *x;
	int n_w, n_h, i, err = 0;

	n_w = wanted(m, &w);
	if (n_w < 0)
		return n_w;
	n_h = maps_read_revnat(m, &hk, &hv);
	if (n_h < 0) {
		free(w);
		return n_h;
	}
	h = calloc(n_h ?: 1, sizeof(*h));
	if (!h) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_h; i++) {
		h[i].key = hk[i];
		h[i].val = hv[i];
	}
	qsort(h, n_h, sizeof(*h), by_key);
	if ((err = maps_read_revnat_ports(m, have_bits)))
		goto out;
	memset(want_bits, 0, sizeof(want_bits));
	for (i = 0; i < n_w; i++)
		port_set(want_bits, w[i].key.port);
	/* Entries first (a bit set only over keys written), ... */
	for (i = 0; i < n_w && !err; i++) {
		x = bsearch(&w[i], h, n_h, sizeof(*h), by_key);
		if (!x || memcmp(&x->val, &w[i].val, sizeof(x->val)))
			err = maps_put_revnat(m, &w[i].key, &w[i].val);
	}
	/* ... then the bits, set or cleared, ... */
	for (i = 0; i < MAGLB_REVNAT_PORT_WORDS && !err; i++)
		if (have_bits[i] != want_bits[i])
			err = maps_put_revnat_port_word(m, i, want_bits[i]);
	/* ... and last the entries no backend has now. */
	for (i = 0; i < n_h && !err; i++)
		if (!bsearch(&h[i], w, n_w, sizeof(*w), by_key))
			err = maps_del_revnat(m, &h[i].key);
out:
	free(w);
	free(h);
	free(hk);
	free(hv);
	return err;
}
