// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_syncookie.c - the syncookie's MAC (include/maglb_syncookie.h, the
 * same code XDP runs): forgeries with timestamps, the slot window and the
 * per-slot keys. The datapath's side (the TSval on the wire, replays) is in
 * tests/pkt/syncookie.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "maglb.h"
#include "maglb_syncookie.h"
#include "testlib.h"

#define FORGERIES	(1U << 26)
#define T0		60000000U	/* a slot of 2026 (TAI >> 35) */
#define OPTS		0x137U		/* SACK, MSS 1460, wscale 7 */

static const struct maglb_secret master = { 0x0706050403020100ULL,
					    0x0f0e0d0c0b0a0908ULL };

static void client_flow(struct maglb_flow *f, unsigned short sport)
{
	memset(f, 0, sizeof(*f));
	inet_pton(AF_INET, "10.10.0.2", &f->saddr.v4);
	inet_pton(AF_INET, "10.10.0.110", &f->daddr.v4);
	f->sport = htons(sport);
	f->dport = htons(80);
	f->proto = 6;
	f->family = MAGLB_AF_INET;
}

/* xorshift64*: reproducible "random" guesses. */
static __u64 next_rand(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/*
 * A blind forger knows the 4-tuple, the client ISN, the slot (so the
 * cookie's time bits) and the option bits; it guesses the 23 MAC bits of
 * the ISN and the 32 of the TSval. 2^26 guesses: at 2^-55 each, none may
 * pass (the ISN alone, 2^-23, lets ~8 through).
 */
static int forged_timestamped_acks_with_the_right_time_bits_are_rejected(void)
{
	struct cookie_in in;
	struct maglb_flow f;
	__u32 i, slot, accepted = 0, isn_only = 0;
	__u64 s = 0x9e3779b97f4a7c15ULL, mac;
	int bits;

	client_flow(&f, 45100);
	for (i = 0; i < FORGERIES; i++) {
		__u64 r = next_rand(&s);
		__u32 cookie = ((__u32)r & ~MAGLB_COOKIE_OPT_MASK) | OPTS |
			       (T0 & 3) << 6;

		bits = cookie_check_at(&f, 7000, cookie, 1, (__u32)(r >> 32),
				       T0, &master, &in, &mac, &slot);
		accepted += bits >= 0;
		/* What the ISN alone would have let through: the rate the
		 * TSval's bits take away. */
		isn_only += ((__u32)cookie_mac(&f, 7000, T0, OPTS | (T0 & 3) << 6 |
					       MAGLB_COOKIE_TS_BIT, &master, &in) &
			     ~MAGLB_COOKIE_OPT_MASK) ==
			    (cookie & ~MAGLB_COOKIE_OPT_MASK);
	}
	printf("  %u forgeries: %u accepted, %u with the right ISN MAC\n",
	       FORGERIES, accepted, isn_only);
	ASSERT_EQ(accepted, 0);
	/* The guesses are spread as a forger's would be: the ISN part is
	 * matched at about its 2^-23 rate (8 expected; 0..30 is 99.99%). */
	ASSERT_TRUE(isn_only < 30, "%u ISN matches: guesses not uniform", isn_only);
	return 0;
}

/* A real handshake's cookie verifies with its TSval echoed, in its slot
 * and the next, not with another TSecr, nor two slots later. */
static int cookie_verifies_for_two_slots_and_only_with_its_tsval(void)
{
	static const struct { const char *name; __u32 at; int ts; int tsecr_off;
			      int ok; } cases[] = {
		{ "same slot", T0, 1, 0, 1 },
		{ "next slot (previous key)", T0 + 1, 1, 0, 1 },
		{ "two slots later", T0 + 2, 1, 0, 0 },
		{ "three slots later", T0 + 3, 1, 0, 0 },
		{ "before it was made", T0 - 1, 1, 0, 0 },
		{ "wrong TSecr", T0, 1, 1, 0 },
		{ "TS option stripped", T0, 0, 0, 0 },
	};
	struct cookie_in in;
	struct maglb_flow f;
	__u32 cookie, tsval, slot;
	unsigned int i;
	__u64 mac;
	int bits;

	client_flow(&f, 45101);
	cookie = cookie_make_at(&f, 9000, OPTS, 1, T0, &master, &in, &tsval);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bits = cookie_check_at(&f, 9000, cookie, cases[i].ts,
				       tsval + cases[i].tsecr_off, cases[i].at,
				       &master, &in, &mac, &slot);
		ASSERT_TRUE((bits >= 0) == cases[i].ok, "%s: %s", cases[i].name,
			    bits >= 0 ? "accepted" : "refused");
		if (bits >= 0) {
			ASSERT_EQ((__u32)bits, OPTS | (T0 & 3) << 6);
			ASSERT_EQ(slot, T0);
		}
	}
	/* Without timestamps: the ISN alone, and TSecr means nothing. */
	cookie = cookie_make_at(&f, 9000, OPTS, 0, T0, &master, &in, &tsval);
	ASSERT_TRUE(cookie_check_at(&f, 9000, cookie, 0, 0, T0 + 1, &master,
				    &in, &mac, &slot) >= 0, "ISN-only cookie refused");
	ASSERT_TRUE(cookie_check_at(&f, 9000, cookie, 1, tsval, T0, &master,
				    &in, &mac, &slot) < 0,
		    "ISN-only cookie taken with a TS option added");
	return 0;
}

/* Each slot has its own key, from the master: the same for every node with
 * that master, different for another master or another slot. */
static int slot_keys_follow_the_master_and_the_slot(void)
{
	struct maglb_secret other = master, a, b, c;

	other.k1 ^= 1;
	cookie_slot_key(&master, T0, &a);
	cookie_slot_key(&master, T0, &b);
	ASSERT_TRUE(!memcmp(&a, &b, sizeof(a)), "same master, same slot differ");
	cookie_slot_key(&master, T0 + 1, &b);
	cookie_slot_key(&other, T0, &c);
	ASSERT_TRUE(memcmp(&a, &b, sizeof(a)) && memcmp(&a, &c, sizeof(a)) &&
		    a.k0 != a.k1, "slot keys do not rotate");
	ASSERT_TRUE(memcmp(&a, &master, sizeof(a)), "slot key is the master");
	return 0;
}

/* SipHash-2-4 itself: the reference vector of its paper (key 00..0f,
 * message 00..0f, 16 bytes). */
static int siphash_matches_the_reference_vector(void)
{
	__u64 m[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

	ASSERT_EQ(maglb_siphash(m, 2, &master), 0x3f2acc7f57c29bdbULL);
	return 0;
}

int main(void)
{
	RUN_TEST(siphash_matches_the_reference_vector);
	RUN_TEST(cookie_verifies_for_two_slots_and_only_with_its_tsval);
	RUN_TEST(slot_keys_follow_the_master_and_the_slot);
	RUN_TEST(forged_timestamped_acks_with_the_right_time_bits_are_rejected);
	return test_exit();
}
