// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maps.c - the only file that writes the datapath's maps.
 *
 * Ring swaps are atomic: a complete new inner array is built off to the
 * side, then one update of maglb_rings[svc_id] makes it live. A packet sees
 * either the old table or the new one, never a mix. Rings are
 * BPF_F_MMAPABLE: filling 65538 slots through one mmap takes microseconds,
 * where a batch update copied them one element at a time (~20 ms).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "common/log.h"
#include "datapath/maps.h"
#include "maglb_ct_reply.h"

void maps_init(struct maglb_maps *m)
{
#define X(n) m->n = -1;
	MAGLB_MAPS(X)
#undef X
}

const char *pin_dir = MAGLB_PIN_DIR_DEFAULT;

int maps_open_pinned(const char *pin_dir, struct maglb_maps *m)
{
	char path[512];

	maps_init(m);
#define X(n)								\
	snprintf(path, sizeof(path), "%s/maglb_" #n, pin_dir);		\
	m->n = bpf_obj_get(path);					\
	if (m->n < 0) {							\
		int err = -errno;					\
		pr_warn("maglb: cannot open %s: %s (is maglb attached? run 'maglb attach DEV')\n", \
			path, strerror(errno));				\
		maps_close(m);						\
		return err;						\
	}
	MAGLB_MAPS(X)
#undef X
	return 0;
}

int maps_from_object(struct bpf_object *obj, struct maglb_maps *m)
{
	maps_init(m);
#define X(n)								\
	m->n = bpf_object__find_map_fd_by_name(obj, "maglb_" #n);	\
	if (m->n < 0)							\
		return -ENOENT;
	MAGLB_MAPS(X)
#undef X
	/* Borrowed from the object: dup so maps_close() is always right. */
#define X(n) m->n = dup(m->n);
	MAGLB_MAPS(X)
#undef X
	return 0;
}

void maps_close(struct maglb_maps *m)
{
#define X(n) if (m->n >= 0) close(m->n); m->n = -1;
	MAGLB_MAPS(X)
#undef X
}

static int upd(int fd, const void *k, const void *v, __u64 flags)
{
	return bpf_map_update_elem(fd, k, v, flags) ? -errno : 0;
}

static int del(int fd, const void *k)
{
	if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
		return -errno;
	return 0;
}

int maps_put_backend(const struct maglb_maps *m, __u32 id,
		     const struct maglb_backend *be)
{
	return upd(m->backends, &id, be, BPF_ANY);
}

/* Every backend's next-hop cache emptied: a device's egress flags
 * changed, and the caches keep the flags they were looked up with
 * (bpf/lib/forward.h). One batch where the kernel takes it. */
int maps_forget_backend_nh(const struct maglb_maps *m)
{
	__u32 *ids = calloc(MAGLB_MAX_BACKENDS, sizeof(*ids)), n = MAGLB_MAX_BACKENDS, i;
	struct maglb_backend_nh *none = calloc(MAGLB_MAX_BACKENDS, sizeof(*none));
	int err = 0;

	if (!ids || !none) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		ids[i] = i;
	if (bpf_map_update_batch(m->backend_nh, ids, none, &n, NULL))
		for (i = 0; i < MAGLB_MAX_BACKENDS && !err; i++)
			err = upd(m->backend_nh, &i, none, BPF_ANY);
out:
	free(ids);
	free(none);
	return err;
}

/* A ring's storage as mapped memory. Array elements are 8-byte aligned,
 * so slot i's __u32 sits at i * RING_STRIDE. */
#define RING_STRIDE	8

static void *ring_mmap(int fd, __u32 n, int prot, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = ((size_t)n * RING_STRIDE + page - 1) / page * page;
	p = mmap(NULL, *len, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static __u32 *ring_at(void *base, __u32 i)
{
	return (__u32 *)((char *)base + (size_t)i * RING_STRIDE);
}

/* The fingerprint's two elements, after the header and the slots. */
#define RING_FP_SLOTS	2

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's own, which BPF syscalls pass out */
#endif

/* A new ring map holding slots, its size first and its fingerprint
 * after them: its fd, or -errno. */
static int ring_create(const __u32 *slots, __u32 size, __u64 fp)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__u32 n = size + MAGLB_RING_HDR + RING_FP_SLOTS, i;
	size_t len;
	void *ring;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "maglb_ring", sizeof(__u32),
			    sizeof(__u32), n, &opts);
	if (fd < 0)
		return -errno;
	ring = ring_mmap(fd, n, PROT_READ | PROT_WRITE, &len);
	if (!ring) {
		err = -errno;
		close(fd);
		return err;
	}
	*ring_at(ring, 0) = size;
	for (i = 0; i < size; i++)
		*ring_at(ring, i + MAGLB_RING_HDR) = slots[i];
	*ring_at(ring, size + MAGLB_RING_HDR) = (__u32)fp;
	*ring_at(ring, size + MAGLB_RING_HDR + 1) = (__u32)(fp >> 32);
	munmap(ring, len);
	return fd;
}

int maps_swap_ring(const struct maglb_maps *m, __u32 svc_id,
		   const __u32 *slots, __u32 size, __u64 fp)
{
	int failed;

	return maps_swap_rings(m, 1, &svc_id, &slots, &size, &fp, &failed);
}

/*
 * Each update of a map-in-map waits out an RCU grace period (10-25 ms
 * here) before the syscall returns, so that no program still reads the
 * old inner map: 1000 rings one by one took 15 s. A batch update waits
 * once (since 6.8; 6.1 does not wait at all), so all but the last ring go
 * in one batch and the last alone: its wait covers them all. A kernel
 * that refuses batches for this map type gets them one by one.
 */
int maps_swap_rings(const struct maglb_maps *m, int n, const __u32 *svc_ids,
		    const __u32 *const *slots, const __u32 *sizes,
		    const __u64 *fps, int *failed)
{
	int *fds = calloc(n ?: 1, sizeof(*fds)), i, err = 0;
	__u32 count;

	*failed = -1;
	if (!fds)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n && !err; i++) {
		fds[i] = ring_create(slots[i], sizes[i], fps[i]);
		if (fds[i] < 0) {
			err = fds[i];
			*failed = i;
		}
	}
	i = 0;
	if (!err && n > 1) {
		count = n - 1;
		if (!bpf_map_update_batch(m->rings, svc_ids, fds, &count, NULL))
			i = n - 1;
		else if (errno != EINVAL && errno != EOPNOTSUPP &&
			 errno != ENOTSUPP) {
			err = -errno;
			*failed = count;
		}
	}
	/* The ring is live when this returns 0 (the kernel then still waits
	 * out readers of the old ring before the call comes back). */
	for (; i < n && !err; i++) {
		err = upd(m->rings, &svc_ids[i], &fds[i], BPF_ANY);
		if (err)
			*failed = i;
	}
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);	/* the outer map holds the reference now */
	free(fds);
	return err;
}

int maps_del_ring(const struct maglb_maps *m, __u32 svc_id)
{
	return del(m->rings, &svc_id);
}

int maps_put_service(const struct maglb_maps *m,
		     const struct maglb_vip_key *k,
		     const struct maglb_service *svc)
{
	return upd(m->vips, k, svc, BPF_ANY);
}

int maps_del_service(const struct maglb_maps *m, const struct maglb_vip_key *k)
{
	return del(m->vips, k);
}

int maps_put_match(const struct maglb_maps *m, __u32 svc_id, __u32 idx,
		   const struct maglb_route_match *rm)
{
	struct maglb_match_key k = { .svc_id = svc_id, .idx = idx };

	return upd(m->matches, &k, rm, BPF_ANY);
}

int maps_del_match(const struct maglb_maps *m, __u32 svc_id, __u32 idx)
{
	struct maglb_match_key k = { .svc_id = svc_id, .idx = idx };

	return del(m->matches, &k);
}

int maps_put_cookie_line(const struct maglb_maps *m, __u32 svc_id,
			 const struct maglb_cookie_line *line)
{
	return upd(m->cookies, &svc_id, line, BPF_ANY);
}

int maps_put_vip_addr(const struct maglb_maps *m,
		      const struct maglb_vip_key *k)
{
	__u32 one = 1;

	return upd(m->vip_addrs, k, &one, BPF_ANY);
}

int maps_del_vip_addr(const struct maglb_maps *m,
		      const struct maglb_vip_key *k)
{
	return del(m->vip_addrs, k);
}

int maps_put_revnat(const struct maglb_maps *m,
		    const struct maglb_revnat_key *k,
		    const struct maglb_revnat *v)
{
	return upd(m->revnat, k, v, BPF_ANY);
}

int maps_del_revnat(const struct maglb_maps *m,
		    const struct maglb_revnat_key *k)
{
	return del(m->revnat, k);
}

int maps_put_revnat_port_word(const struct maglb_maps *m, __u32 i, __u64 w)
{
	return upd(m->revnat_ports, &i, &w, BPF_ANY);
}

int maps_read_revnat_ports(const struct maglb_maps *m, __u64 *words)
{
	__u32 i;

	for (i = 0; i < MAGLB_REVNAT_PORT_WORDS; i++)
		if (bpf_map_lookup_elem(m->revnat_ports, &i, &words[i]))
			return -errno;
	return 0;
}

int maps_reset_counters(int map_fd, __u32 id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct maglb_counters *zero;
	int err;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	err = upd(map_fd, &id, zero, BPF_ANY);
	free(zero);
	return err;
}

/* The family's map and the key to use in it; k4 holds an IPv4 key. */
static int ct_key(const struct maglb_maps *m, const struct maglb_flow *k,
		  struct maglb_flow4 *k4, const void **key)
{
	if (k->family == MAGLB_AF_INET) {
		maglb_flow4_of(k4, k);
		*key = k4;
		return m->ct4;
	}
	*key = k;
	return m->ct6;
}

/* The reply k of a connection with one entry, as the datapath sees it
 * (include/maglb_ct_reply.h): under each VIP maglb_revnat names for k's
 * source. */
static int get_reply_view(const struct maglb_maps *m, const struct maglb_flow *k,
			  struct maglb_ct_entry *e, struct maglb_flow *fkey)
{
	struct maglb_revnat_key rk = { .addr = k->saddr, .port = k->sport,
				       .family = k->family };
	struct maglb_ct_entry fwd;
	struct maglb_revnat rn;
	struct maglb_flow fk;
	struct maglb_flow4 k4;
	const void *key;
	__u32 i;

	if (bpf_map_lookup_elem(m->revnat, &rk, &rn))
		return -ENOENT;
	for (i = 0; i < rn.n && i < MAGLB_REVNAT_VIPS; i++) {
		int fd;

		if (rn.vip[i].proto != k->proto)
			continue;
		maglb_ct_forward_key(&fk, k, &rn.vip[i]);
		fd = ct_key(m, &fk, &k4, &key);
		if (bpf_map_lookup_elem(fd, key, &fwd) ||
		    !maglb_ct_one_of(&fwd, k))
			continue;
		memset(e, 0, sizeof(*e));
		maglb_ct_reply_view(e, &fwd, &fk);
		if (fkey)
			*fkey = fk;
		return 0;
	}
	return -ENOENT;
}

int maps_get_ct(const struct maglb_maps *m, const struct maglb_flow *k,
		struct maglb_ct_entry *e)
{
	struct maglb_flow4 k4;
	const void *key;
	int fd = ct_key(m, k, &k4, &key);

	if (!bpf_map_lookup_elem(fd, key, e))
		return 0;
	return errno == ENOENT ? get_reply_view(m, k, e, NULL) : -errno;
}

int maps_put_ct(const struct maglb_maps *m, const struct maglb_flow *k,
		const struct maglb_ct_entry *e, __u64 flags)
{
	struct maglb_ct_entry view, fwd;
	struct maglb_flow fk;
	struct maglb_flow4 k4;
	const void *key;
	int fd = ct_key(m, k, &k4, &key), err = upd(fd, key, e, flags);

	/* An existing reply of a connection with one entry: its view,
	 * written back into that entry. */
	if (err != -ENOENT || flags != BPF_EXIST ||
	    get_reply_view(m, k, &view, &fk))
		return err;
	fd = ct_key(m, &fk, &k4, &key);
	if (bpf_map_lookup_elem(fd, key, &fwd))
		return -errno;
	maglb_ct_reply_unview(&fwd, e);
	return upd(fd, key, &fwd, BPF_EXIST);
}

int maps_del_ct(const struct maglb_maps *m, const struct maglb_flow *k)
{
	struct maglb_flow4 k4;
	const void *key;
	int fd = ct_key(m, k, &k4, &key);

	return del(fd, key);
}

int maps_put_tx_port(const struct maglb_maps *m, __u32 ifindex)
{
	struct bpf_devmap_val v = { .ifindex = ifindex };

	return upd(m->tx_ports, &ifindex, &v, BPF_ANY);
}

int maps_del_tx_port(const struct maglb_maps *m, __u32 ifindex)
{
	return del(m->tx_ports, &ifindex);
}

int maps_put_egress(const struct maglb_maps *m, __u32 ifindex,
		    const struct maglb_egress *e)
{
	return upd(m->egress, &ifindex, e, BPF_ANY);
}

int maps_del_egress(const struct maglb_maps *m, __u32 ifindex)
{
	return del(m->egress, &ifindex);
}

int maps_del_egress_counters(const struct maglb_maps *m, __u32 ifindex)
{
	struct maglb_egress_key k = { .ifindex = ifindex };
	int err = 0;

	for (k.path = 0; k.path < MAGLB_PATH_MAX; k.path++)
		err = del(m->egress_stats, &k) ?: err;
	return del(m->xmit_errs, &ifindex) ?: err;
}

int maps_share(struct bpf_object *from, struct bpf_object *to)
{
	struct bpf_map *map;
	int fd;

	bpf_object__for_each_map(map, to) {
		fd = bpf_object__find_map_fd_by_name(from, bpf_map__name(map));
		bpf_map__set_pin_path(map, NULL);	/* the fd is the share */
		if (fd >= 0 && bpf_map__reuse_fd(map, fd))
			return -errno;
	}
	return 0;
}

int maps_put_progs(const struct maglb_maps *m, struct bpf_object *obj)
{
	struct bpf_program *prog;
	__u32 idx = MAGLB_PROG_SPLICE_FIRST;
	int fd;

	static const char *const names[MAGLB_PROG_MAX] = {
		[MAGLB_PROG_SPLICE_FIRST] = "maglb_splice_first",
		[MAGLB_PROG_REPLY_ONE] = "maglb_reply_one",
	};
	int err;

	for (idx = 0; idx < MAGLB_PROG_MAX; idx++) {
		prog = bpf_object__find_program_by_name(obj, names[idx]);
		if (!prog)
			return -ENOENT;
		fd = bpf_program__fd(prog);
		err = upd(m->progs, &idx, &fd, BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

int maps_put_secret(const struct maglb_maps *m,
		    const struct maglb_secret *key, bool keep)
{
	struct maglb_secret cur = {};
	__u32 zero = 0;

	if (keep && !bpf_map_lookup_elem(m->secret, &zero, &cur) &&
	    (cur.k0 || cur.k1))
		return 0;
	return upd(m->secret, &zero, key, BPF_ANY);
}

int maps_get_backend(const struct maglb_maps *m, __u32 id,
		     struct maglb_backend *be)
{
	return bpf_map_lookup_elem(m->backends, &id, be) ? -errno : 0;
}

struct maglb_backend *maps_read_backends(const struct maglb_maps *m)
{
	struct maglb_backend *all = calloc(MAGLB_MAX_BACKENDS, sizeof(*all));
	__u32 *keys = calloc(MAGLB_MAX_BACKENDS, sizeof(*keys));
	__u32 out, n = 0, count;
	void *in = NULL;
	int err = 0;

	if (!all || !keys) {
		err = -ENOMEM;
		goto out;
	}
	/* One syscall per batch instead of one per id: apply, show and the
	 * metrics endpoint read the whole table each time. */
	while (n < MAGLB_MAX_BACKENDS) {
		bool last;

		count = MAGLB_MAX_BACKENDS - n;
		last = bpf_map_lookup_batch(m->backends, in, &out, keys + n,
					    all + n, &count, NULL);
		if (last && errno != ENOENT) {
			err = -errno;
			break;
		}
		n += count;
		if (last || !count)
			break;
		in = &out;
	}
out:
	free(keys);
	if (err) {
		free(all);
		errno = -err;
		return NULL;
	}
	return all;
}

/* Sum a per-CPU value made only of __u64 counters, field by field. */
static int percpu_sum_key(int map_fd, const void *key, __u64 *sum,
			  size_t words)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	size_t w;
	__u64 *v;

	memset(sum, 0, words * sizeof(*sum));
	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, words * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, key, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++)
		for (w = 0; w < words; w++)
			sum[w] += v[i * words + w];
	free(v);
	return 0;
}

static int percpu_sum(int map_fd, __u32 key, __u64 *sum, size_t words)
{
	return percpu_sum_key(map_fd, &key, sum, words);
}

int maps_read_egress_stats(const struct maglb_maps *m, __u32 ifindex,
			   enum maglb_path path,
			   struct maglb_reason_counters *sum)
{
	struct maglb_egress_key k = { .ifindex = ifindex, .path = path };

	return percpu_sum_key(m->egress_stats, &k, (__u64 *)sum,
			      sizeof(*sum) / sizeof(__u64));
}

int maps_read_xmit_errs(const struct maglb_maps *m, __u32 ifindex,
			struct maglb_xmit_errs *sum)
{
	return percpu_sum(m->xmit_errs, ifindex, (__u64 *)sum,
			  sizeof(*sum) / sizeof(__u64));
}

int maps_get_egress(const struct maglb_maps *m, __u32 ifindex,
		    struct maglb_egress *e)
{
	return bpf_map_lookup_elem(m->egress, &ifindex, e) ? -errno : 0;
}

/* Every __u32 key of a hash map (*out malloc'd); the count or -errno. */
static int read_u32_keys(int fd, __u32 **out)
{
	__u32 key, next, *arr = NULL, *grown;
	int n = 0, cap = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(arr, cap * sizeof(*arr));
			if (!grown) {
				free(arr);
				return -ENOMEM;
			}
			arr = grown;
		}
		arr[n++] = next;
		key = next;
		prev = &key;
	}
	*out = arr;
	return n;
}

int maps_read_egress_ifindexes(const struct maglb_maps *m, __u32 **out)
{
	return read_u32_keys(m->egress, out);
}

int maps_read_tx_ports(const struct maglb_maps *m, __u32 **out)
{
	return read_u32_keys(m->tx_ports, out);
}

int maps_get_handoff(const struct maglb_maps *m, struct maglb_handoff *h)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->handoff, &zero, h) ? -errno : 0;
}

int maps_read_counters(int map_fd, __u32 id, struct maglb_counters *sum)
{
	return percpu_sum(map_fd, id, (__u64 *)sum, sizeof(*sum) / sizeof(__u64));
}

int maps_read_reason(const struct maglb_maps *m, enum maglb_reason r,
		     struct maglb_reason_counters *sum)
{
	return percpu_sum(m->reasons, r, (__u64 *)sum,
			  sizeof(*sum) / sizeof(__u64));
}

/* An fd of service svc_id's live ring, or -errno. */
static int ring_fd(const struct maglb_maps *m, __u32 svc_id)
{
	__u32 inner_id;
	int fd;

	if (bpf_map_lookup_elem(m->rings, &svc_id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	return fd < 0 ? -errno : fd;
}

int maps_read_ring(const struct maglb_maps *m, __u32 svc_id, __u32 **slots,
		   __u32 *size)
{
	__u32 key = 0, i, n;
	size_t len;
	void *ring;
	int fd, err = 0;

	*slots = NULL;
	*size = 0;
	fd = ring_fd(m, svc_id);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, &n)) {
		err = -errno;
		goto out;
	}
	ring = ring_mmap(fd, n + MAGLB_RING_HDR, PROT_READ, &len);
	if (!ring) {
		err = -errno;
		goto out;
	}
	*slots = calloc(n ?: 1, sizeof(__u32));
	if (*slots) {
		for (i = 0; i < n; i++)
			(*slots)[i] = *ring_at(ring, i + MAGLB_RING_HDR);
		*size = n;
	} else {
		err = -ENOMEM;
	}
	munmap(ring, len);
out:
	close(fd);
	return err;
}

int maps_read_ring_head(const struct maglb_maps *m, __u32 svc_id, __u32 *size,
			__u64 *fp)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), key = 0, lo, hi;
	int fd, err = 0;

	*size = 0;
	*fp = 0;
	fd = ring_fd(m, svc_id);
	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, size) ||
	    bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		err = -errno;
		goto out;
	}
	/* an older release's ring ends at its last slot */
	if (info.max_entries >= *size + MAGLB_RING_HDR + RING_FP_SLOTS) {
		key = *size + MAGLB_RING_HDR;
		if (bpf_map_lookup_elem(fd, &key, &lo)) {
			err = -errno;
			goto out;
		}
		key++;
		if (bpf_map_lookup_elem(fd, &key, &hi)) {
			err = -errno;
			goto out;
		}
		*fp = (__u64)hi << 32 | lo;
	}
out:
	close(fd);
	return err;
}

/* Calls fn on each entry of one map, keys as maglb_flow, by batch
 * lookups: one syscall per CT_BATCH entries, where a walk by
 * bpf_map_get_next_key() made two per entry (1 s per 262k). The cursor is
 * a bucket, so an entry deleted meanwhile does not restart the walk. */
#define CT_BATCH	8192

static int walk_ct_map(int fd, size_t key_size, ct_walk_fn fn, void *arg)
{
	size_t chunk = CT_BATCH;
	char *keys = NULL;
	struct maglb_ct_entry *vals = NULL;
	__u64 in = 0, out = 0;	/* a hash map's cursor: a u32 bucket */
	bool first = true;
	struct ct_item it;
	int err = 0;

	for (;;) {
		__u32 count = chunk, i;
		int rc;

		if (!keys) {
			keys = malloc(chunk * key_size);
			vals = malloc(chunk * sizeof(*vals));
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		rc = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					  vals, &count, NULL);
		if (rc && errno == ENOSPC && !count) {
			/* One bucket holds more than chunk: a bigger one. */
			chunk *= 2;
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			continue;
		}
		if (rc && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (i = 0; i < count && !err; i++) {
			if (key_size == sizeof(struct maglb_flow4))
				maglb_flow_of4(&it.key, (struct maglb_flow4 *)
					       (keys + i * key_size));
			else
				memcpy(&it.key, keys + i * key_size, key_size);
			it.val = vals[i];
			err = fn(&it, arg);
		}
		if (rc || err)	/* ENOENT: that was the last bucket */
			break;
		in = out;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

int maps_walk_ct(const struct maglb_maps *m, ct_walk_fn fn, void *arg)
{
	int err = walk_ct_map(m->ct4, sizeof(struct maglb_flow4), fn, arg);

	return err ? err : walk_ct_map(m->ct6, sizeof(struct maglb_flow), fn,
				       arg);
}

struct ct_arr {
	struct ct_item *arr;
	int n, cap;
};

static int ct_arr_add(const struct ct_item *it, void *arg)
{
	struct ct_arr *a = arg;

	if (a->n == a->cap) {
		int cap = a->cap ? a->cap * 2 : 1024;
		struct ct_item *tmp = realloc(a->arr, cap * sizeof(*tmp));

		if (!tmp)
			return -ENOMEM;
		a->arr = tmp;
		a->cap = cap;
	}
	a->arr[a->n++] = *it;
	return 0;
}

int maps_read_ct(const struct maglb_maps *m, struct ct_item **items)
{
	struct ct_arr a = {};
	int err = maps_walk_ct(m, ct_arr_add, &a);

	if (err) {
		free(a.arr);
		return err;
	}
	*items = a.arr;
	return a.n;
}

/* Deletes keys[0..n) (each key_size bytes) from fd in batches; a key gone
 * meanwhile (the datapath or another sweep) is stepped over. */
static int del_batch(int fd, const char *keys, size_t key_size, __u32 n)
{
	__u32 done = 0;

	while (done < n) {
		__u32 count = n - done;

		if (!bpf_map_delete_batch(fd, keys + done * key_size, &count,
					  NULL))
			return 0;
		if (errno != ENOENT)
			return -errno;
		done += count + 1;	/* count deleted, then the missing one */
	}
	return 0;
}

int maps_del_ct_batch(const struct maglb_maps *m, const struct maglb_flow *k,
		      __u32 n)
{
	struct maglb_flow4 *k4 = malloc((n ? n : 1) * sizeof(*k4));
	struct maglb_flow *k6 = malloc((n ? n : 1) * sizeof(*k6));
	__u32 i, n4 = 0, n6 = 0;
	int err;

	if (!k4 || !k6) {
		free(k4);
		free(k6);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (k[i].family == MAGLB_AF_INET)
			maglb_flow4_of(&k4[n4++], &k[i]);
		else
			k6[n6++] = k[i];
	}
	err = del_batch(m->ct4, (const char *)k4, sizeof(*k4), n4);
	if (!err)
		err = del_batch(m->ct6, (const char *)k6, sizeof(*k6), n6);
	free(k4);
	free(k6);
	return err;
}

int maps_set_ct_size(struct bpf_object *obj, __u32 conns)
{
	struct bpf_map *m4 = bpf_object__find_map_by_name(obj, "maglb_ct4");
	struct bpf_map *m6 = bpf_object__find_map_by_name(obj, "maglb_ct6");

	if (!m4 || !m6)
		return -ENOENT;
	if (bpf_map__set_max_entries(m4, conns * 2) ||
	    bpf_map__set_max_entries(m6, conns * 2))
		return -errno;
	return 0;
}

int maps_ct_max_entries(const struct maglb_maps *m, __u32 *max4, __u32 *max6)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(m->ct4, &info, &len))
		return -errno;
	*max4 = info.max_entries;
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(m->ct6, &info, &len))
		return -errno;
	*max6 = info.max_entries;
	return 0;
}

long long maps_memlock(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	/* The kernel's own count of what the map holds (map_mem_usage(),
	 * 6.4+: every preallocated element); older kernels estimate. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int by_svc_name(const void *a, const void *b)
{
	const struct svc_item *x = a, *y = b;

	return strcmp(x->svc.name, y->svc.name);
}

int maps_read_services(const struct maglb_maps *m, struct svc_item **items)
{
	struct maglb_vip_key key, next;
	struct svc_item *arr;
	void *prev = NULL;
	int n = 0;

	arr = calloc(MAGLB_MAX_SERVICES, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	while (n < MAGLB_MAX_SERVICES &&
	       !bpf_map_get_next_key(m->vips, prev, &next)) {
		key = next;
		prev = &key;
		arr[n].key = key;
		if (!bpf_map_lookup_elem(m->vips, &key, &arr[n].svc))
			n++;
	}
	qsort(arr, n, sizeof(*arr), by_svc_name);
	*items = arr;
	return n;
}

/* Every entry of a hash map: keys and values side by side (malloc'd,
 * key_size and val_size apart). The count or -errno. */
static int read_hash(int fd, size_t key_size, size_t val_size, void **keys,
		     void **vals)
{
	char key[64], next[64];
	char *k = NULL, *v = NULL, *t;
	void *prev = NULL;
	int n = 0, cap = 0;

	*keys = *vals = NULL;
	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(t = realloc(k, cap * key_size)))
				goto nomem;
			k = t;
			if (val_size) {
				if (!(t = realloc(v, cap * val_size)))
					goto nomem;
				v = t;
			}
		}
		/* Deleted since: skip it then. */
		if (val_size && bpf_map_lookup_elem(fd, key, v + n * val_size))
			continue;
		memcpy(k + n * key_size, key, key_size);
		n++;
	}
	*keys = k;
	*vals = v;
	return n;
nomem:
	free(k);
	free(v);
	return -ENOMEM;
}

int maps_read_matches(const struct maglb_maps *m, struct match_item **items)
{
	struct maglb_match_key *k;
	struct maglb_route_match *v;
	int n = read_hash(m->matches, sizeof(*k), sizeof(*v), (void **)&k,
			  (void **)&v), i;

	*items = NULL;
	if (n < 0)
		return n;
	*items = calloc(n ?: 1, sizeof(**items));
	for (i = 0; *items && i < n; i++) {
		(*items)[i].key = k[i];
		(*items)[i].m = v[i];
	}
	free(k);
	free(v);
	return *items ? n : -ENOMEM;
}

int maps_read_revnat(const struct maglb_maps *m, struct maglb_revnat_key **keys,
		     struct maglb_revnat **vals)
{
	return read_hash(m->revnat, sizeof(**keys), sizeof(**vals),
			 (void **)keys, (void **)vals);
}

int maps_read_vip_addrs(const struct maglb_maps *m, struct maglb_vip_key **keys)
{
	void *none;

	return read_hash(m->vip_addrs, sizeof(**keys), 0, (void **)keys, &none);
}

int maps_get_secret(const struct maglb_maps *m, struct maglb_secret *key)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->secret, &zero, key) ? -errno : 0;
}

int maps_get_cookie_line(const struct maglb_maps *m, __u32 svc_id,
			 struct maglb_cookie_line *line)
{
	return bpf_map_lookup_elem(m->cookies, &svc_id, line) ? -errno : 0;
}

void ct_partner_key(const struct ct_item *it, struct maglb_flow *k)
{
	if (it->val.flags & MAGLB_CT_F_ONE) {
		/* Its reply has no entry: the key of its view. */
		maglb_ct_reply_key(k, &it->key, &it->val);
		return;
	}
	memset(k, 0, sizeof(*k));
	k->saddr = it->val.nat_daddr;
	k->daddr = it->val.nat_saddr;
	k->sport = it->val.nat_dport;
	k->dport = it->val.nat_sport;
	k->proto = it->key.proto;
	k->family = it->key.family;
}
