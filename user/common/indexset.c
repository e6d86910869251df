// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* indexset.c - see indexset.h. Linear probing; never more than half full,
 * so a miss ends at an empty slot within a few probes. */
#include <errno.h>
#include <stdlib.h>
#include "common/indexset.h"

int index_set_init(struct index_set *s, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->hash = calloc(cap, sizeof(*s->hash));
	s->mask = cap - 1;
	if (!s->slot || !s->hash) {
		index_set_free(s);
		return -ENOMEM;
	}
	return 0;
}

void index_set_free(struct index_set *s)
{
	free(s->slot);
	free(s->hash);
	s->slot = NULL;
	s->hash = NULL;
}

long index_set_find(const struct index_set *s, uint32_t hash,
		    bool (*match)(long idx, const void *key), const void *key)
{
	size_t i;

	for (i = hash & s->mask; s->slot[i]; i = (i + 1) & s->mask)
		if (s->hash[i] == hash && match((long)s->slot[i] - 1, key))
			return (long)s->slot[i] - 1;
	return -1;
}

void index_set_add(struct index_set *s, uint32_t hash, long idx)
{
	size_t i;

	for (i = hash & s->mask; s->slot[i]; i = (i + 1) & s->mask)
		;
	s->slot[i] = (uint32_t)idx + 1;
	s->hash[i] = hash;
}

uint32_t index_hash(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}
