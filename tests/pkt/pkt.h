/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - what the packet test files in tests/pkt/ (linked into one binary,
 * build/tests/test_pkt) share: the test registry, the client and
 * handshake helpers (helpers.c), the single-packet case table's row type.
 *
 * A test is PKT_TEST(name) { ... return 0; }, or one per row of a table
 * with PKT_TABLE(table, check) (rows named by their first member, name).
 * Both land in the linker section "pkt_tests"; main.c runs them ordered by
 * file name, then by line. Every test opens its own flows (client ports
 * are unique across the files, see each file's header) and puts back what
 * it changes, so that any subset (-t NAME) in any order (-s SEED) passes.
 */
#ifndef MAGLB_PKT_H
#define MAGLB_PKT_H

#include <stddef.h>
#include "harness.h"
#include "model/keyhash.h"
#include "maglb_hash.h"
#include "common/names.h"
#include "datapath/sweep.h"
#include "testlib.h"

struct pkt_test {
	const char *name;		/* a PKT_TEST; NULL for a table */
	int (*fn)(void);
	/* a table: one test per row, each named by the row's first member
	 * (a const char *), prefixed with "prefix/" when prefix is set */
	const char *prefix;
	const void *rows;
	int n_rows;
	size_t row_size;
	int (*row_fn)(const void *row, int idx);
	const char *file;
	int line;
};

#define PKT_REGISTER(entry)						\
	static const struct pkt_test *const entry##_ptr			\
	__attribute__((section("pkt_tests"), used)) = &entry

#define PKT_TEST(fn_name)						\
	static int fn_name(void);					\
	static const struct pkt_test pkt_test_##fn_name = {		\
		.name = #fn_name, .fn = fn_name,			\
		.file = __FILE__, .line = __LINE__ };			\
	PKT_REGISTER(pkt_test_##fn_name);				\
	static int fn_name(void)

/* check(const ROW *row, int idx): idx is the row's index in table. */
#define PKT_TABLE_PREFIXED(table, check, pfx)				\
	_Static_assert(offsetof(__typeof__((table)[0]), name) == 0,	\
		       #table ": rows are named by their first member"); \
	static int table##_row(const void *row, int idx)		\
	{								\
		return check((const __typeof__((table)[0]) *)row, idx);	\
	}								\
	static const struct pkt_test pkt_table_##table = {		\
		.prefix = pfx, .rows = table,				\
		.n_rows = sizeof(table) / sizeof((table)[0]),		\
		.row_size = sizeof((table)[0]), .row_fn = table##_row,	\
		.file = __FILE__, .line = __LINE__ };			\
	PKT_REGISTER(pkt_table_##table)

#define PKT_TABLE(table, check) PKT_TABLE_PREFIXED(table, check, NULL)

/* ---- clients, services, counters (helpers.c) ---------------------------- */

#define WEB	.dst = "10.10.0.100", .dport = 80, .proto = IPPROTO_TCP
#define CLIENT	.family = 4, .src = "10.10.0.2"
#define ONE_ARM	.dst = "10.10.0.200", .dport = 80, .proto = IPPROTO_TCP
#define EG_ALL	(MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX)

__u64 reason_count(enum maglb_reason why);
/* Conntrack key of the client 10.10.0.2:sport to vip:80 over TCP. */
void client_key(const char *vip, unsigned short sport, struct maglb_flow *k);
bool ct_has(const struct maglb_flow *k);
struct svc_item *find_svc(const char *name, struct svc_item *out);
/* What `maglb lookup` answers for this client flow: the backend address. */
void maglev_answer(const char *svc_name, const struct pkt_spec *s,
		   char *addr, unsigned short *port);
/* Run s, want_action, a view with valid checksums. */
int send_and_view(const struct pkt_spec *s, const char *dev, int want_action,
		  struct pkt_view *v);

/* ---- an L4 connection's handshake (helpers.c) ---------------------------- */

/* The backend's ISN in l4_handshake. */
#define L4_BACKEND_ISN	9000

/* The backend's SYN-ACK, in through dev, to the client SYN that left as
 * *syn (its view after the rewrite); it must leave as want_action. Only
 * a client ACK of that (isn_b + 1) confirms the connection. */
int l4_syn_ack(const struct pkt_view *syn, const char *dev,
	       unsigned int isn_b, int want_action);
/* SYN (s->seq), the backend's SYN-ACK in through bdev, the client's ACK:
 * a confirmed connection; s is left the ACK, *v its view. */
int l4_handshake(struct pkt_spec *s, const char *bdev, int want_action,
		 struct pkt_view *v);

/* One packet in, one verdict, one counter, and the rewrite Maglev implies:
 * the rows of l4.c, parse.c and snat.c. */
struct pkt_case {
	const char *name;
	struct pkt_spec in;
	const char *dev;		/* ingress, default c0 */
	int action;
	enum maglb_reason reason;
	/* expectations for rewritten packets; NULL dst = must be untouched */
	const char *svc;		/* dst comes from this service's Maglev */
	const char *src, *dst;
	int sport_min, sport_max, dport, ttl;
};

int check_case(const struct pkt_case *c, int idx);

/* ---- TCP options --------------------------------------------------------- */

const __u8 *view_opt(const struct pkt_view *v, int kind);
unsigned int get32(const __u8 *p);
/* 32 bits at offset off of option kind; a missing option reads as a value
 * no test wants. */
unsigned int opt32(const struct pkt_view *v, int kind, int off);
void put32(__u8 *p, unsigned int v);
/* The MSS option's value, -1 without one. */
int mss_of(const struct pkt_view *v);

/* ---- delayed binding: the client's handshake with a Cookie service ------ */

#define CK	.family = 4, .src = "10.10.0.2", .dst = "10.10.0.110", .dport = 80, \
		.proto = IPPROTO_TCP
#define REQ(c)	"GET /cookie HTTP/1.1\r\nHost: www.example.com\r\nCookie: FooBar=" c "\r\n\r\n"

struct hs {
	const char *vip;		/* NULL: the "ck" service */
	unsigned short sport;
	unsigned int isn, cookie, tsval_ours;
	unsigned char ts_opts[12];	/* NOP NOP TS(tsval 800, our TSval) */
	char backend[64];
	unsigned int isn_b;
};

/* The backend's SYN-ACK options: MSS 1460, SACK ok, TS 5000/800, WS 9. */
extern const unsigned char backend_opts[20];

/* Client SYN: our SYN-ACK gives the cookie and our TSval. */
int hs_syn(struct hs *h);
/* The client's first data segment carrying req. */
struct pkt_spec hs_data(const struct hs *h, const char *req);
/* Client SYN and first data: the backend SYN comes out (the view points
 * into *r, which the caller owns). */
int hs_open(struct hs *h, const char *req, struct run *r, struct pkt_view *syn);
/* The backend's SYN-ACK to our SYN. */
struct pkt_spec hs_synack(const struct hs *h, const __u8 *opts);
/* After hs_open: the backend's SYN-ACK (left in *s) becomes, in TC, the
 * ACK with the stashed request. The connection is spliced. */
int hs_splice(struct hs *h, struct pkt_spec *s, struct run *r);
int run_grown(const struct pkt_spec *s, const char *dev, struct run *r,
	      struct pkt_view *v);

#endif
