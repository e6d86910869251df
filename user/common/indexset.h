/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * indexset.h - an open-addressing set of array indices, hashed by the
 * caller's key: "which element has this key" in O(1), where a scan of the
 * array per element made a config of 10,000 backends cost 10^8 compares
 * to parse and 10^9 to plan. The set holds no keys; the caller's match
 * function compares its element at an index with what it looks for.
 */
#ifndef MAGLB_INDEXSET_H
#define MAGLB_INDEXSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index_set {
	uint32_t *slot;		/* index + 1; 0: empty */
	uint32_t *hash;		/* the key's hash, to skip most matches */
	size_t mask;
};

/* Room for n indices (at most half full). 0 or -ENOMEM. */
int index_set_init(struct index_set *s, size_t n);
void index_set_free(struct index_set *s);
/* The first index added with this hash for which match() holds, or -1. */
long index_set_find(const struct index_set *s, uint32_t hash,
		    bool (*match)(long idx, const void *key), const void *key);
/* Adds idx (the caller found it absent, or wants a second one). */
void index_set_add(struct index_set *s, uint32_t hash, long idx);
/* FNV-1a over n bytes, continuing from h (start with INDEX_HASH_SEED). */
#define INDEX_HASH_SEED 2166136261u
uint32_t index_hash(uint32_t h, const void *p, size_t n);

#endif
