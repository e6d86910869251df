// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglev.c - Maglev table construction.
 *
 * Each backend's preference list is perm[j] = (offset + j * skip) mod M,
 * with offset = XXH64(name, 0) mod M and skip = XXH64(name, 1) mod (M-1) + 1
 * (M prime, so every skip visits every slot). Backends take turns claiming
 * their next free preferred slot. Weights follow Envoy: in round t a
 * backend of weight w takes a turn only when t * w >= its target, and each
 * turn raises the target by the largest weight, so it claims w/max of the
 * rounds. Backends are sorted by name first, so list order never matters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/maglev.h"
#include "maglb.h"
#include "maglb_hash.h"

/* Kept small and free of pointers: the fill loop below walks these
 * entries round after round. */
struct build_entry {
	__u32 pos;		/* current permutation value */
	__u32 skip;
	__u32 weight;
	__u32 id;
	__u64 target;
};

bool maglev_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (d = 3; (__u64)d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

static int by_name(const void *a, const void *b)
{
	const struct maglev_backend *x = *(const struct maglev_backend **)a;
	const struct maglev_backend *y = *(const struct maglev_backend **)b;

	return strcmp(x->name, y->name);
}

int maglev_build(const struct maglev_backend *bes, int n, __u32 m,
		 __u32 *table)
{
	const struct maglev_backend **sorted = NULL;
	struct build_entry *e = NULL;
	__u64 *used = NULL;
	__u64 max_w = 0, filled = 0, round;
	int i, k = 0, err = 0;

	if (m < 2 || !maglev_is_prime(m) || n < 0)
		return -EINVAL;
	for (i = 0; i < (int)m; i++)
		table[i] = MAGLB_NO_BACKEND;
	if (n == 0)
		return 0;

	sorted = calloc(n, sizeof(*sorted));
	e = calloc(n, sizeof(*e));
	if (!sorted || !e) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &bes[i];
	qsort(sorted, n, sizeof(*sorted), by_name);

	for (i = 0; i < n; i++) {
		const char *name = sorted[i]->name;
		__u32 len = strlen(name);

		if (!sorted[i]->weight)
			continue;
		e[k].pos = maglb_xxh64(name, len, MAGLB_SEED_OFFSET) % m;
		e[k].skip = maglb_xxh64(name, len, MAGLB_SEED_SKIP) % (m - 1) + 1;
		e[k].weight = sorted[i]->weight;
		e[k].id = sorted[i]->id;
		if (sorted[i]->weight > max_w)
			max_w = sorted[i]->weight;
		k++;
	}
	if (!k)
		goto cleanup;

	/* Which slots are taken, one bit each: 8 KiB for M=65537, so the
	 * probing (about M ln M reads in all) stays in L1 rather than
	 * walking the 4-byte table. */
	used = calloc((m + 63) / 64, sizeof(*used));
	if (!used) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (round = 1; filled < m; round++) {
		for (i = 0; i < k && filled < m; i++) {
			struct build_entry *b = &e[i];
			__u32 pos = b->pos;

			if (round * b->weight < b->target)
				continue;
			b->target += max_w;
			while (used[pos >> 6] & (1ULL << (pos & 63))) {
				pos += b->skip;
				if (pos >= m)
					pos -= m;
			}
			used[pos >> 6] |= 1ULL << (pos & 63);
			table[pos] = b->id;
			b->pos = pos;
			filled++;
		}
	}
cleanup:
	free(used);
	free(sorted);
	free(e);
	return err;
}

static __u64 fnv64(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 1099511628211ULL;
	}
	return h;
}

__u64 maglev_fingerprint(const struct maglev_backend *bes, int n, __u32 m)
{
	__u64 h = 14695981039346656037ULL;
	__u32 v = MAGLEV_VERSION;
	int i;

	h = fnv64(h, &v, sizeof(v));
	h = fnv64(h, &m, sizeof(m));
	h = fnv64(h, &n, sizeof(n));
	for (i = 0; i < n; i++) {
		/* the name with its NUL, so that names cannot run together */
		h = fnv64(h, bes[i].name, strlen(bes[i].name) + 1);
		h = fnv64(h, &bes[i].weight, sizeof(bes[i].weight));
		h = fnv64(h, &bes[i].id, sizeof(bes[i].id));
	}
	return h ? h : 1;
}
