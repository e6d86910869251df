/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglev.h - pick a backend id from a service's live Maglev ring. The ring
 * is built by user/model/maglev.c; the slot index comes from include/maglb_hash.h
 * so `maglb lookup` computes the same answer.
 */
#ifndef MAGLB_BPF_MAGLEV_H
#define MAGLB_BPF_MAGLEV_H

#include "maps.h"
#include "maglb_hash.h"

static __always_inline __u32 maglev_pick(__u32 svc_id, __u64 hash)
{
	__u32 key = 0, *m, *id;
	void *ring;

	ring = bpf_map_lookup_elem(&maglb_rings, &svc_id);
	if (!ring)
		return MAGLB_NO_BACKEND;
	/* M is read from the same inner map as the slots, so a packet never
	 * pairs one table's size with another table's slots during a swap. */
	m = bpf_map_lookup_elem(ring, &key);
	if (!m || *m == 0)
		return MAGLB_NO_BACKEND;
	key = maglb_ring_slot(hash, *m);
	id = bpf_map_lookup_elem(ring, &key);
	return id ? *id : MAGLB_NO_BACKEND;
}

/* The backend a hash selects in a service's ring, or NULL. */
static __always_inline struct maglb_backend *maglev_backend(__u32 svc_id,
							   __u64 hash,
							   __u32 *id)
{
	*id = maglev_pick(svc_id, hash);
	if (*id >= MAGLB_MAX_BACKENDS)
		return NULL;
	return bpf_map_lookup_elem(&maglb_backends, id);
}

#endif /* MAGLB_BPF_MAGLEV_H */
