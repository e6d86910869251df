/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * route.h - which HTTP route of a listener a request belongs to, by its
 * Host and path (Gateway API HTTPRoute hostnames and path matches).
 *
 * The agent writes each listener's matches in precedence order (exact
 * host, then longer wildcard, then none; within those, exact path, then
 * longer prefix), so the first match that fits wins. Strings compare a
 * 64-bit word at a time: the host right-aligned (a wildcard is a suffix,
 * so its bytes line up at the end), the path left-aligned. Words are
 * little-endian here, as on every host XDP runs on in practice: byte k of
 * a word is bits 8k..8k+7.
 */
#ifndef MAGLB_BPF_ROUTE_H
#define MAGLB_BPF_ROUTE_H

#include "maps.h"
#include "http.h"

/* Route matching's part of the per-CPU scratch (scratch.h). */
struct route_scratch {
	struct maglb_vip_key vip;	/* a route's service key */
	char rhost[MAGLB_MATCH_LEN];	/* the Host, right-aligned */
};

/* The last len bytes of two 64-byte buffers are equal. */
static __always_inline bool tail_eq(const __u64 *a, const __u64 *b, __u32 len)
{
	__u32 from = MAGLB_MATCH_LEN - len;
	int w;

#pragma unroll
	for (w = 0; w < MAGLB_MATCH_LEN / 8; w++) {
		__u32 lo = w * 8;
		__u64 mask = ~0ULL;

		if (lo + 8 <= from)
			continue;
		if (lo < from)
			mask <<= 8 * (from - lo);
		if ((a[w] ^ b[w]) & mask)
			return false;
	}
	return true;
}

/* The first len bytes of two 64-byte buffers are equal. */
static __always_inline bool head_eq(const __u64 *a, const __u64 *b, __u32 len)
{
	int w;

#pragma unroll
	for (w = 0; w < MAGLB_MATCH_LEN / 8; w++) {
		__u32 lo = w * 8;
		__u64 mask = ~0ULL;

		if (lo >= len)
			break;
		if (lo + 8 > len)
			mask = (1ULL << (8 * (len - lo))) - 1;
		if ((a[w] ^ b[w]) & mask)
			return false;
	}
	return true;
}

struct route_loop {
	const struct http_parser *ps;	/* the parsed head */
	struct route_scratch *rs;
	__u32 svc_id;
	__u32 route;		/* out: the match's route, 0 for none */
};

static __always_inline bool host_fits(const struct maglb_route_match *m,
				      const struct http_parser *ps,
				      const struct route_scratch *rs)
{
	__u32 n = ps->have_host ? ps->host_len : 0;

	if (m->host_match == MAGLB_MATCH_ANY)
		return true;
	if (m->host_len > MAGLB_MATCH_LEN ||
	    (m->host_match == MAGLB_MATCH_EXACT ? n != m->host_len :
						  n <= m->host_len))
		return false;
	return tail_eq((const __u64 *)rs->rhost, (const __u64 *)m->host,
		       m->host_len);
}

static __always_inline bool path_fits(const struct maglb_route_match *m,
				      const struct http_parser *ps)
{
	__u32 n = ps->path_len, len = m->path_len;

	if (m->path_match == MAGLB_MATCH_ANY)
		return true;
	if (len > MAGLB_MATCH_LEN || !len || n < len ||
	    (m->path_match == MAGLB_MATCH_EXACT && n != len) ||
	    !head_eq((const __u64 *)ps->path, (const __u64 *)m->path, len))
		return false;
	/* PathPrefix matches whole segments: /cookie is /cookie or
	 * /cookie/..., not /cookies. The path is normalised (http.h) and
	 * may be longer than the bytes kept: byte 64 is kept apart, so a
	 * 64-byte prefix is checked exactly too. */
	return m->path_match == MAGLB_MATCH_EXACT || n == len ||
	       m->path[buf_idx(len - 1, MAGLB_MATCH_LEN)] == '/' ||
	       (len < MAGLB_MATCH_LEN ?
		ps->path[buf_idx(len, MAGLB_MATCH_LEN)] : ps->path_over) == '/';
}

/* A callback: the verifier sees one match at a time. */
static __noinline long route_step(__u32 i, void *data)
{
	struct route_loop *l = data;
	struct maglb_match_key k = { .svc_id = l->svc_id, .idx = i };
	struct maglb_route_match *m;

	m = bpf_map_lookup_elem(&maglb_matches, &k);
	if (!m)
		return 1;
	if (host_fits(m, l->ps, l->rs) && path_fits(m, l->ps)) {
		l->route = m->route;
		return 1;
	}
	return 0;
}

/* Bytes i * HTTP_CHUNK.. of the right-aligned host, counted from the end. */
static __noinline long rhost_step(__u32 i, void *data)
{
	const struct http_parser *ps = ((struct route_loop *)data)->ps;
	struct route_scratch *rs = ((struct route_loop *)data)->rs;
	__u32 n = ps->have_host ? ps->host_len : 0, j, at;

#pragma unroll
	for (j = 0; j < HTTP_CHUNK; j++) {
		at = i * HTTP_CHUNK + j;
		rs->rhost[buf_idx(MAGLB_MATCH_LEN - 1 - at, MAGLB_MATCH_LEN)] =
			at < n ? ps->host[buf_idx(n - 1 - at, HTTP_HOST_MAX)] : 0;
	}
	return 0;
}

/*
 * The route service for the parsed head ps, or NULL when no match fits.
 * rs->vip holds the listener's key; a route's service is the same key
 * with route = N.
 */
static __always_inline struct maglb_service *
route_pick(const struct http_parser *ps, struct route_scratch *rs,
	   const struct maglb_service *listener)
{
	struct route_loop l = { .ps = ps, .rs = rs, .svc_id = listener->id };

	bpf_loop(MAGLB_MATCH_LEN / HTTP_CHUNK, rhost_step, &l, 0);
	bpf_loop(listener->n_matches, route_step, &l, 0);
	if (!l.route)
		return NULL;
	rs->vip.route = l.route;
	return bpf_map_lookup_elem(&maglb_vips, &rs->vip);
}

#endif /* MAGLB_BPF_ROUTE_H */
