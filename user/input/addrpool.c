// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * addrpool.c - picking a Gateway's address from gateway.addressPool.
 *
 * The slot is a hash of the Gateway's namespace/name, so two nodes that see
 * the same objects pick the same address without talking, and a Gateway
 * keeps its slot when others come and go (only a collision moves it, to
 * the next free slot). Offsets are counted in the low 32 bits of the
 * address: an IPv6 pool larger than 2^32 uses its first 2^32 addresses.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"
#include "input/addrpool.h"

int addr_pool_parse(const char *s, struct addr_pool *p)
{
	char buf[ADDR_STRLEN], *slash, *end;
	unsigned long plen;
	int i, bits;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	memset(p, 0, sizeof(*p));
	p->family = addr_parse(buf, &p->base);
	if (!p->family || !slash[1])
		return -1;
	plen = strtoul(slash + 1, &end, 10);
	bits = p->family == 4 ? 32 : 128;
	if (*end || plen > (unsigned long)bits)
		return -1;
	p->plen = plen;
	/* host bits must be zero */
	for (i = plen; i < bits; i++) {
		const __u8 *b = (const __u8 *)&p->base;

		if (b[i / 8] & (0x80 >> (i % 8)))
			return -1;
	}
	return 0;
}

bool addr_pool_contains(const struct addr_pool *p, const union maglb_addr *a,
			__u8 family)
{
	const __u8 *x = (const __u8 *)a, *b = (const __u8 *)&p->base;
	int i;

	if (family != p->family)
		return false;
	for (i = 0; i < p->plen; i++)
		if ((x[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

/* FNV-1a: fixed here, so that a Gateway's slot never changes with the
 * build. */
static __u32 key_hash(const char *s)
{
	__u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (__u8)*s) * 16777619u;
	return h;
}

/* base + off, off counted in the address's low 32 bits. */
static void slot_addr(const struct addr_pool *p, __u32 off,
		      union maglb_addr *out)
{
	*out = p->base;
	if (p->family == 4)
		out->v4 = htonl(ntohl(p->base.v4) + off);
	else
		out->v6[3] = htonl(ntohl(p->base.v6[3]) + off);
}

int addr_pool_pick(const struct addr_pool *p, const char *key,
		   addr_taken_fn taken, void *arg, union maglb_addr *out)
{
	int host = (p->family == 4 ? 32 : 128) - p->plen;
	__u64 size = host >= 32 ? 1ull << 32 : 1ull << host, i;
	__u32 first = 0, start;

	/* An IPv4 network's first and last addresses are its network and
	 * broadcast to many hosts and routers: never hand them out. */
	if (p->family == 4 && size >= 4) {
		first = 1;
		size -= 2;
	}
	start = key_hash(key) % size;
	for (i = 0; i < size; i++) {
		slot_addr(p, first + (__u32)((start + i) % size), out);
		if (!taken(arg, out, p->family))
			return 0;
	}
	return -1;
}
