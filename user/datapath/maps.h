/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - file descriptors of the datapath's maps, and every primitive
 * that writes them. maps.c is the only file that writes a map.
 */
#ifndef MAGLB_MAPS_H
#define MAGLB_MAPS_H

#include <stdbool.h>
#include <bpf/libbpf.h>
#include "maglb.h"

#define MAGLB_PIN_DIR_DEFAULT "/sys/fs/bpf/maglb"

/* X-macro: the one list of map names, in include order of bpf/lib/maps.h. */
#define MAGLB_MAPS(X)			\
	X(vips)				\
	X(vip_addrs)			\
	X(rings)			\
	X(backends)			\
	X(backend_nh)			\
	X(revnat)			\
	X(revnat_ports)			\
	X(ct4)				\
	X(ct6)				\
	X(svc_stats)			\
	X(backend_stats)		\
	X(reasons)			\
	X(tx_ports)			\
	X(handoff)			\
	X(progs)			\
	X(splice)			\
	X(stash_src)			\
	X(matches)			\
	X(cookies)			\
	X(secret)			\
	X(egress)			\
	X(egress_stats)			\
	X(xmit_errs)

struct maglb_maps {
#define X(n) int n;
	MAGLB_MAPS(X)
#undef X
};

struct ct_item {
	struct maglb_flow key;
	struct maglb_ct_entry val;
};

void maps_init(struct maglb_maps *m);	/* all fds = -1 */
/* The pin directory every command opens (--pin-dir; main.c sets it). */
extern const char *pin_dir;

int maps_open_pinned(const char *pin_dir, struct maglb_maps *m);
int maps_from_object(struct bpf_object *obj, struct maglb_maps *m);
void maps_close(struct maglb_maps *m);

/* Writers. All return 0 or -errno. */
int maps_put_backend(const struct maglb_maps *m, __u32 id,
		     const struct maglb_backend *be);
int maps_forget_backend_nh(const struct maglb_maps *m);
/* fp: the table's maglev_fingerprint(), stored in the two elements after
 * the slots (the datapath reads only the header and slots 1..M). */
int maps_swap_ring(const struct maglb_maps *m, __u32 svc_id,
		   const __u32 *slots, __u32 size, __u64 fp);
/* n rings at once (one RCU wait for all); *failed: the index of the ring
 * that failed, or -1. */
int maps_swap_rings(const struct maglb_maps *m, int n, const __u32 *svc_ids,
		    const __u32 *const *slots, const __u32 *sizes,
		    const __u64 *fps, int *failed);
int maps_del_ring(const struct maglb_maps *m, __u32 svc_id);
int maps_put_service(const struct maglb_maps *m,
		     const struct maglb_vip_key *k,
		     const struct maglb_service *svc);
int maps_del_service(const struct maglb_maps *m,
		     const struct maglb_vip_key *k);
int maps_put_vip_addr(const struct maglb_maps *m,
		      const struct maglb_vip_key *k);
int maps_put_revnat(const struct maglb_maps *m,
		    const struct maglb_revnat_key *k,
		    const struct maglb_revnat *v);
int maps_del_revnat(const struct maglb_maps *m,
		    const struct maglb_revnat_key *k);
/* Every maglb_revnat entry (malloc'd arrays); the count or -errno. */
int maps_read_revnat(const struct maglb_maps *m, struct maglb_revnat_key **keys,
		     struct maglb_revnat **vals);
int maps_put_revnat_port_word(const struct maglb_maps *m, __u32 i, __u64 w);
/* words: MAGLB_REVNAT_PORT_WORDS of them. */
int maps_read_revnat_ports(const struct maglb_maps *m, __u64 *words);
int maps_del_vip_addr(const struct maglb_maps *m,
		      const struct maglb_vip_key *k);
int maps_reset_counters(int map_fd, __u32 id);
/* The conntrack, keyed by struct maglb_flow whatever the family: these
 * pick maglb_ct4 or maglb_ct6, as ct_lookup() does in the datapath. */
int maps_get_ct(const struct maglb_maps *m, const struct maglb_flow *k,
		struct maglb_ct_entry *e);
int maps_put_ct(const struct maglb_maps *m, const struct maglb_flow *k,
		const struct maglb_ct_entry *e, __u64 flags);
int maps_del_ct(const struct maglb_maps *m, const struct maglb_flow *k);
int maps_put_tx_port(const struct maglb_maps *m, __u32 ifindex);
int maps_del_tx_port(const struct maglb_maps *m, __u32 ifindex);
/* How packets leave by a device (bpf/lib/egress.h). */
int maps_put_egress(const struct maglb_maps *m, __u32 ifindex,
		    const struct maglb_egress *e);
int maps_del_egress(const struct maglb_maps *m, __u32 ifindex);
/* A vanished device's maglb_egress_stats rows and maglb_xmit_errs entry. */
int maps_del_egress_counters(const struct maglb_maps *m, __u32 ifindex);
/* Before loading `to`, point each of its maps at the same-named map of the
 * loaded object `from` (the TC object shares the XDP object's maps). */
int maps_share(struct bpf_object *from, struct bpf_object *to);
/* Install the datapath's tail-call targets from a loaded object. */
int maps_put_progs(const struct maglb_maps *m, struct bpf_object *obj);
/* Set the syncookie key unless one is set (keep=true) or always. */
/* Listener svc_id's route match idx; deleting an absent one is fine. */
int maps_put_match(const struct maglb_maps *m, __u32 svc_id, __u32 idx,
		   const struct maglb_route_match *rm);
int maps_del_match(const struct maglb_maps *m, __u32 svc_id, __u32 idx);
int maps_put_cookie_line(const struct maglb_maps *m, __u32 svc_id,
			 const struct maglb_cookie_line *line);
int maps_put_secret(const struct maglb_maps *m,
		    const struct maglb_secret *key, bool keep);

/* Readers. */
int maps_get_backend(const struct maglb_maps *m, __u32 id,
		     struct maglb_backend *be);
/* All MAGLB_MAX_BACKENDS entries, indexed by id (calloc'd), or NULL with
 * errno set. */
struct maglb_backend *maps_read_backends(const struct maglb_maps *m);
/* Whether a backend from that table is live and serves service svc_id. */
static inline bool backend_serves(const struct maglb_backend *be, __u32 svc_id)
{
	return (be->flags & MAGLB_BE_F_ACTIVE) && be->svc_id == svc_id;
}
int maps_read_counters(int map_fd, __u32 id, struct maglb_counters *sum);
int maps_read_reason(const struct maglb_maps *m, enum maglb_reason r,
		     struct maglb_reason_counters *sum);
int maps_get_egress(const struct maglb_maps *m, __u32 ifindex,
		    struct maglb_egress *e);
/* The ifindexes with a maglb_egress entry (*out malloc'd); the count. */
int maps_read_egress_ifindexes(const struct maglb_maps *m, __u32 **out);
/* The ifindexes in maglb_tx_ports (*out malloc'd); the count. */
int maps_read_tx_ports(const struct maglb_maps *m, __u32 **out);
int maps_get_handoff(const struct maglb_maps *m, struct maglb_handoff *h);
int maps_read_egress_stats(const struct maglb_maps *m, __u32 ifindex,
			   enum maglb_path path,
			   struct maglb_reason_counters *sum);
int maps_read_xmit_errs(const struct maglb_maps *m, __u32 ifindex,
			struct maglb_xmit_errs *sum);
/* The live ring of a service: *slots (malloc'd, size M) and M. */
int maps_read_ring(const struct maglb_maps *m, __u32 svc_id, __u32 **slots,
		   __u32 *size);
/* A ring's size and stored fingerprint (0: none stored), without its
 * slots. */
int maps_read_ring_head(const struct maglb_maps *m, __u32 svc_id, __u32 *size,
			__u64 *fp);
/* Every conntrack entry; *items is malloc'd. Returns the count or -errno. */
int maps_read_ct(const struct maglb_maps *m, struct ct_item **items);
/* fn on every conntrack entry (a batch read; nothing held but a chunk);
 * a non-zero return from fn stops the walk and is returned. */
typedef int (*ct_walk_fn)(const struct ct_item *it, void *arg);
int maps_walk_ct(const struct maglb_maps *m, ct_walk_fn fn, void *arg);
/* Delete n conntrack keys (either family) in batches. */
int maps_del_ct_batch(const struct maglb_maps *m, const struct maglb_flow *k,
		      __u32 n);
/* Before load: both conntrack maps hold conns connections (2 entries
 * each: conntrack.maxEntries counts connections). */
int maps_set_ct_size(struct bpf_object *obj, __u32 conns);
/* The live maps' max_entries (entries, not connections). */
int maps_ct_max_entries(const struct maglb_maps *m, __u32 *max4, __u32 *max6);
/* A map's memory as the kernel counts it (fdinfo memlock), or -1. */
long long maps_memlock(int fd);

struct svc_item {
	struct maglb_vip_key key;
	struct maglb_service svc;
};
/* Every VIP entry, sorted by service name. Returns the count or -errno. */
int maps_read_services(const struct maglb_maps *m, struct svc_item **items);

struct match_item {
	struct maglb_match_key key;
	struct maglb_route_match m;
};
/* Every maglb_matches entry (*items malloc'd). The count or -errno. */
int maps_read_matches(const struct maglb_maps *m, struct match_item **items);
/* Every maglb_vip_addrs key (*keys malloc'd). The count or -errno. */
int maps_read_vip_addrs(const struct maglb_maps *m, struct maglb_vip_key **keys);
int maps_get_secret(const struct maglb_maps *m, struct maglb_secret *key);
int maps_get_cookie_line(const struct maglb_maps *m, __u32 svc_id,
			 struct maglb_cookie_line *line);

/* The reverse direction's conntrack key for an entry (either direction). */
void ct_partner_key(const struct ct_item *it, struct maglb_flow *k);

#endif
