/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * plan.h - reconcile as a pure function: the desired state (a validated
 * config), a snapshot of the live maps and the health overlay in; an
 * ordered list of map writes out. No map, no syscall, no libbpf here: the
 * executor (execute.c) reads the snapshot and performs the plan, so the
 * decisions (ids, tables, what to retire, in which order) run in unit
 * tests without root (tests/unit/test_plan.c).
 */
#ifndef MAGLB_PLAN_H
#define MAGLB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include "model/config.h"
#include "maglb.h"

/*
 * The kinds of write, declared in the order they are made. Packets are in
 * flight while the plan runs, and the datapath follows VIP -> service id ->
 * ring -> backend id -> backend. So whatever a VIP entry names must be
 * live before the entry is: backends before the ring naming them, the ring
 * (and the listener's matches, its cookie line, zeroed counters) before
 * the VIP entry. Removals go the other way round: the VIP entry first
 * (a moved VIP's old key only after the new one is live), then the ring,
 * then the matches it no longer names, then the backends, then the VIP
 * address, and connections last. plan_build() emits each service's ops as
 * it decides them and then sorts them, stably, by this enum: this is the
 * one place the order is decided.
 */
enum plan_kind {
	PLAN_PUT_SECRET,
	PLAN_RESET_BACKEND_COUNTERS,	/* a new backend id */
	PLAN_PUT_BACKEND,
	PLAN_PUT_RING,			/* atomic swap of the whole table */
	PLAN_RESET_SERVICE_COUNTERS,	/* a new service id */
	PLAN_PUT_COOKIE_LINE,
	PLAN_PUT_MATCH,
	PLAN_PUT_SERVICE,		/* the VIP key: makes it live */
	PLAN_PUT_VIP_ADDR,
	PLAN_DEL_SERVICE,
	PLAN_DEL_RING,
	PLAN_DEL_MATCH,			/* past a listener's count, or all */
	PLAN_RETIRE_BACKEND,		/* written with MAGLB_BE_F_ACTIVE cleared */
	PLAN_DEL_VIP_ADDR,
	PLAN_CLOSE_CT_SERVICE,		/* a removed service's connections */
	PLAN_CLOSE_CT_BACKEND,		/* closeConnectionsOnRemoval */
	PLAN_KINDS,
};

struct plan_op {
	enum plan_kind kind;
	int seq;			/* emission order: the sort's tie-break */
	__u32 id;			/* backend id or service id */
	__u32 idx;			/* match index */
	char svc[MAGLB_NAME_LEN];	/* the service concerned, for people */
	union {
		struct maglb_backend be;
		struct {
			__u32 *slots;	/* owned by the plan */
			__u32 size;
			__u64 fp;	/* maglev_fingerprint() of its inputs */
		} ring;
		struct maglb_route_match match;
		struct maglb_cookie_line line;
		struct {
			struct maglb_vip_key key;
			struct maglb_service svc;
		} vip;
		struct maglb_vip_key key;	/* DEL_SERVICE, *_VIP_ADDR */
		struct maglb_secret secret;
	};
};

struct plan {
	struct plan_op *ops;
	int n, cap;
	char failed[MAGLB_NAME_LEN];	/* the service that could not be planned */
};

/* One maglb_vips entry. */
struct plan_vip {
	struct maglb_vip_key key;
	struct maglb_service svc;
};

struct plan_ring {
	__u32 svc_id;
	__u32 size;
	/* maglev_fingerprint() of the inputs it was built from, stored with
	 * the ring; 0: not known (a ring an older release wrote), and then
	 * slots holds the table to compare with. */
	__u64 fp;
	__u32 *slots;
};

struct plan_match {
	struct maglb_match_key key;
	struct maglb_route_match m;
};

/*
 * What the maps hold, as plain data. The planner leaves out a write that
 * would store what is already there, so everything it compares is here:
 * applying the same config twice plans nothing the second time.
 */
struct plan_snapshot {
	struct plan_vip *vips;
	int n_vips;
	struct maglb_backend *backends;		/* [MAGLB_MAX_BACKENDS] */
	struct plan_ring *rings;		/* of the live services' ids */
	int n_rings;
	struct plan_match *matches;
	int n_matches;
	/* [MAGLB_MAX_SERVICES]; zeros where not read (a line never is) */
	struct maglb_cookie_line *cookies;
	struct maglb_vip_key *vip_addrs;
	int n_vip_addrs;
	bool have_secret;
	struct maglb_secret secret;
};

/* An empty snapshot (what a fresh attach leaves), or NULL. */
struct plan_snapshot *plan_snapshot_new(void);
void plan_snapshot_free(struct plan_snapshot *s);
/* A snapshot's entry for a VIP key or a service's ring (NULL: none). Not
 * const: test_plan's simulator applies ops to a snapshot through them. */
struct plan_vip *plan_snapshot_vip(const struct plan_snapshot *s,
				   const struct maglb_vip_key *k);
struct plan_ring *plan_snapshot_ring(const struct plan_snapshot *s, __u32 svc_id);

/*
 * Runtime health, kept apart from the config: the (service, backend)
 * pairs a health check has taken down. Such a backend keeps its id and
 * counters but gets no slots. health.c keeps one; NULL: all healthy.
 */
struct health_mark {
	char svc[MAGLB_NAME_LEN];
	char backend[CFG_BACKEND_NAME_LEN];
};

struct health_overlay {
	struct health_mark *down;
	int n;
};

bool health_is_down(const struct health_overlay *o, const char *svc,
		    const char *backend);

struct plan_env {
	const struct health_overlay *health;	/* NULL: every backend up */
	/* The path MTU toward a backend (path_mtu() in pathmtu.c asks the
	 * kernel); 0 or a NULL function: not known. */
	unsigned (*path_mtu)(const union maglb_addr *a, __u8 family);
};

/*
 * The writes that make snap match cfg, ordered by enum plan_kind. Returns
 * 0, or -ENOSPC (no free service or backend id; p->failed names the
 * service) or -ENOMEM; nothing is to be written then. plan_free() after.
 */
int plan_build(const struct maglb_config *cfg, const struct plan_snapshot *snap,
	       const struct plan_env *env, struct plan *p);
void plan_free(struct plan *p);
int plan_count(const struct plan *p, enum plan_kind k);

/* One op as a line for people (`maglb apply --check`), e.g.
 * "put backend 3 svc=web 10.0.0.2:80 w=1 gen=1". */
const char *plan_op_str(const struct plan_op *op, char *buf, size_t len);

/* A config service's VIP key. */
void apply_vip_key(const struct cfg_service *s, struct maglb_vip_key *k);

#endif
