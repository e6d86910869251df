// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_replay.c - how many new connections the replay record refuses
 * (drop_cookie_used_full) at a given rate of cookie handshakes. One slot's
 * records fill maglb_cookie_used's half for that slot's parity: each goes
 * to the emptier of its two candidate buckets (cookie_used_bucket, the
 * datapath's own function from include/maglb_syncookie.h), as
 * bpf/lib/syncookie.h places it; with a single bucket, as before, for
 * comparison. MACs are random 64-bit values, as SipHash's output is to
 * anyone without the key.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "maglb.h"
#include "maglb_syncookie.h"

#define SLOT_S	((double)(1ULL << MAGLB_COOKIE_T_SHIFT) / 1e9)

static __u8 used[2][MAGLB_COOKIE_USED_BUCKETS];	/* cells taken, per policy */

static __u64 rnd(__u64 *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Place one record: 0 if it found a cell. */
static int place(__u8 *n, __u64 mac, bool two)
{
	__u32 a = cookie_used_bucket(mac, 0, 0), b = cookie_used_bucket(mac, 0, 1);

	if (two && n[b] < n[a])
		a = b;
	if (n[a] >= MAGLB_COOKIE_USED_WAYS)
		return 1;
	n[a]++;
	return 0;
}

int main(void)
{
	static const unsigned rates[] = { 5000, 10000, 16000, 20000, 25000, 30000 };
	__u64 x;
	int i;

	if (getrandom(&x, sizeof(x), 0) != sizeof(x) || !x)
		x = 88172645463325252ULL;
	printf("Replay record (maglb_cookie_used: %u buckets of %u cells per slot parity, "
	       "slot %.1f s): new cookie connections refused, drop_cookie_used_full\n\n",
	       MAGLB_COOKIE_USED_BUCKETS, MAGLB_COOKIE_USED_WAYS, SLOT_S);
	printf("| %-18s | %-16s | %-10s | %-22s | %-22s |\n", "connections/s", "records a slot",
	       "of cells", "refused, one bucket", "refused, two choices");
	printf("|--------------------|------------------|------------|------------------------|------------------------|\n");
	for (i = 0; i < (int)(sizeof(rates) / sizeof(rates[0])); i++) {
		long n = (long)(rates[i] * SLOT_S), k, refused[2] = { 0, 0 };
		char one[32], two[32];

		memset(used, 0, sizeof(used));
		for (k = 0; k < n; k++) {
			__u64 mac = rnd(&x);

			refused[0] += place(used[0], mac, false);
			refused[1] += place(used[1], mac, true);
		}
		snprintf(one, sizeof(one), "%ld (%.3f%%)", refused[0], 100.0 * refused[0] / n);
		snprintf(two, sizeof(two), "%ld (%.3f%%)", refused[1], 100.0 * refused[1] / n);
		printf("| %18u | %16ld | %9.0f%% | %22s | %22s |\n", rates[i], n,
		       100.0 * n / (MAGLB_COOKIE_USED_BUCKETS * MAGLB_COOKIE_USED_WAYS),
		       one, two);
	}
	return 0;
}
