// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - what Prometheus scrapes. Counters come straight from the
 * per-CPU maps at scrape time (summed like `maglb stats`), so both always
 * agree; health, generation and apply results come from the agent under
 * the shared lock. The conntrack is counted before the lock is taken.
 *
 * The endpoint is reachable by whoever can connect, so: 127.0.0.1 unless
 * an address is given, epoll (descriptors past FD_SETSIZE, as thousands of
 * idle connections make), a few connections per client address and an
 * idle timeout, so that the liveness probe still gets in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <microhttpd.h>
#include "agent/metrics.h"
#include "common/addr.h"
#include "common/log.h"
#include "common/names.h"
#include "datapath/egress.h"

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_state *st;
};

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && b->len + n < b->cap) {
			b->len += n;
			return;
		}
		b->cap = b->cap ? b->cap * 2 : 65536;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

static void help(struct buf *b, const char *name, const char *type,
		 const char *text)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Health of backend `addr` of service `svc` in the live config: 1 unless a
 * check has marked it down (the health overlay names it). */
static int healthy(const struct maglb_config *cfg,
		   const struct health_overlay *down, const char *svc,
		   const struct maglb_backend *be)
{
	int i, j;

	for (i = 0; cfg && i < cfg->n_services; i++) {
		const struct cfg_service *s = &cfg->services[i];

		if (strcmp(s->name, svc))
			continue;
		for (j = 0; j < s->n_backends; j++)
			if (s->backends[j].family == be->family &&
			    htons(s->backends[j].port) == be->port &&
			    !memcmp(&s->backends[j].addr, &be->addr, sizeof(be->addr)))
				return !health_is_down(down, svc,
						       s->backends[j].name);
	}
	return 1;
}

/* Per device and path (nonzero rows), and the kernel's failed XDP
 * transmits of devices that had any (as `maglb stats`). */
static void render_egress(struct metrics_state *st, struct buf *b)
{
	struct egress_counts *c = NULL;
	int i, p, n = egress_read_counts(st->maps, &c);
	size_t k;

	help(b, "maglb_egress_packets_total", "counter",
	     "packets sent out of a device, by path (redirect, xdp_tx, tc, stack)");
	for (i = 0; i < n; i++)
		for (p = 0; p < MAGLB_PATH_MAX; p++)
			if (c[i].path[p].packets)
				put(b, "maglb_egress_packets_total{device=\"%s\",path=\"%s\"} %llu\n",
				    c[i].dev, path_name(p), c[i].path[p].packets);
	help(b, "maglb_egress_bytes_total", "counter",
	     "bytes sent out of a device, by path");
	for (i = 0; i < n; i++)
		for (p = 0; p < MAGLB_PATH_MAX; p++)
			if (c[i].path[p].bytes)
				put(b, "maglb_egress_bytes_total{device=\"%s\",path=\"%s\"} %llu\n",
				    c[i].dev, path_name(p), c[i].path[p].bytes);
	help(b, "maglb_xmit_errors_total", "counter",
	     "XDP frames the kernel failed to send after our verdict, by kind");
	/* every field but demotions, which has a metric of its own */
	for (i = 0; i < n; i++)
		for (k = 0; c[i].has_errs && k < EGRESS_XMIT_DEMOTIONS; k++)
			put(b, "maglb_xmit_errors_total{device=\"%s\",kind=\"%s\"} %llu\n",
			    c[i].dev, egress_xmit_names[k],
			    ((const __u64 *)&c[i].errs)[k]);
	help(b, "maglb_egress_demotions_total", "counter",
	     "times a device was moved to the kernel path for failed XDP transmits");
	for (i = 0; i < n; i++)
		if (c[i].has_errs)
			put(b, "maglb_egress_demotions_total{device=\"%s\"} %llu\n",
			    c[i].dev, c[i].errs.demotions);
	free(c);
}

/*
 * Entries of one conntrack map, by batch lookups of CT_CHUNK at a time into
 * a fixed buffer: N / CT_CHUNK syscalls and no copy of the table, where
 * maps_read_ct() makes two per entry and holds it all. The batch cursor is
 * a bucket, so entries evicted meanwhile do not restart the walk (as
 * bpf_map_get_next_key() from a deleted key does); the count is a moment's
 * gauge either way. -1 if the kernel cannot batch (before 5.6).
 */
#define CT_CHUNK 1024

static long count_entries(int fd, size_t key_size)
{
	size_t val_size = sizeof(struct maglb_ct_entry);
	void *keys = malloc(CT_CHUNK * key_size);
	void *vals = malloc(CT_CHUNK * val_size);
	__u64 in = 0, out = 0;	/* a hash map's cursor: a u32 bucket */
	bool first = true;
	long n = 0;

	while (keys && vals) {
		__u32 count = CT_CHUNK;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out,
					       keys, vals, &count, NULL);

		if (err && errno != ENOENT) {
			n = -1;
			break;
		}
		n += count;
		if (err)	/* ENOENT: the last buckets */
			break;
		in = out;
		first = false;
	}
	if (!keys || !vals)
		n = -1;
	free(keys);
	free(vals);
	return n;
}

static long count_ct(const struct maglb_maps *maps)
{
	long n4 = count_entries(maps->ct4, sizeof(struct maglb_flow4));
	long n6 = count_entries(maps->ct6, sizeof(struct maglb_flow));

	return n4 < 0 || n6 < 0 ? -1 : n4 + n6;
}

/* The live backends grouped by service: ids[start[s] .. start[s+1]) are
 * service s's, in id order, cnt[] their counters (one read per id). */
struct svc_backends {
	__u32 start[MAGLB_MAX_SERVICES + 1];
	__u32 *ids;
	struct maglb_counters *cnt;
};

static int svc_backends(const struct maglb_backend *all, struct svc_backends *sb)
{
	__u32 id, s, n = 0, fill[MAGLB_MAX_SERVICES] = { 0 };

	memset(sb->start, 0, sizeof(sb->start));
	for (id = 0; id < MAGLB_MAX_BACKENDS; id++) {
		s = all[id].svc_id;
		if ((all[id].flags & MAGLB_BE_F_ACTIVE) && s < MAGLB_MAX_SERVICES) {
			sb->start[s + 1]++;
			n++;
		}
	}
	for (s = 0; s < MAGLB_MAX_SERVICES; s++)
		sb->start[s + 1] += sb->start[s];
	sb->ids = calloc(n ?: 1, sizeof(*sb->ids));
	sb->cnt = calloc(n ?: 1, sizeof(*sb->cnt));
	if (!sb->ids || !sb->cnt) {
		free(sb->ids);
		free(sb->cnt);
		return -ENOMEM;
	}
	for (id = 0; id < MAGLB_MAX_BACKENDS; id++) {
		s = all[id].svc_id;
		if (!(all[id].flags & MAGLB_BE_F_ACTIVE) || s >= MAGLB_MAX_SERVICES)
			continue;
		sb->ids[sb->start[s] + fill[s]++] = id;
	}
	return 0;
}

static void svc_backends_read(const struct metrics_state *st, struct svc_backends *sb)
{
	__u32 j;

	for (j = 0; j < sb->start[MAGLB_MAX_SERVICES]; j++)
		maps_read_counters(st->maps->backend_stats, sb->ids[j], &sb->cnt[j]);
}

/* Service s's part of sb: [*from, *to); empty for an id out of range. */
static void svc_range(const struct svc_backends *sb, __u32 s, __u32 *from,
		      __u32 *to)
{
	*from = *to = 0;
	if (s < MAGLB_MAX_SERVICES) {
		*from = sb->start[s];
		*to = sb->start[s + 1];
	}
}

static void svc_backends_free(struct svc_backends *sb)
{
	free(sb->ids);
	free(sb->cnt);
}

static void render(struct metrics_state *st, struct buf *b, long nct)
{
	static const char *const cn[] = { "packets", "bytes", "connections",
					  "reply_packets", "reply_bytes" };
	struct svc_item *svcs = NULL;
	struct maglb_backend *all;
	struct svc_backends sb;
	int n, i, k, r;

	n = maps_read_services(st->maps, &svcs);
	/* the backend table once per scrape, in one batch */
	all = maps_read_backends(st->maps);
	for (k = 0; k < 5; k++) {
		char name[96];

		snprintf(name, sizeof(name), "maglb_service_%s_total", cn[k]);
		help(b, name, "counter", "per service, client to backend (reply_*: back)");
		for (i = 0; i < n; i++) {
			struct maglb_counters c;
			char vip[ADDR_STRLEN];

			maps_read_counters(st->maps->svc_stats, svcs[i].svc.id, &c);
			addr_port_str(&svcs[i].key.addr, svcs[i].key.family,
				      svcs[i].key.port, vip);
			put(b, "%s{service=\"%s\",vip=\"%s\"} %llu\n", name,
			    svcs[i].svc.name, vip, ((__u64 *)&c)[k]);
		}
	}
	/* Each service's backends, in id order, and their counters, read
	 * once: a scan of every id for every service was 10^7 steps a scrape
	 * at 1000 services. */
	if (all && svc_backends(all, &sb) == 0) {
		svc_backends_read(st, &sb);
		for (k = 0; k < 5; k++) {
			char name[96];

			snprintf(name, sizeof(name), "maglb_backend_%s_total", cn[k]);
			help(b, name, "counter", "per backend, client to backend (reply_*: back)");
			for (i = 0; i < n; i++) {
				__u32 j, to;

				svc_range(&sb, svcs[i].svc.id, &j, &to);
				for (; j < to; j++) {
					const struct maglb_backend *be = &all[sb.ids[j]];
					char ap[ADDR_STRLEN];

					addr_port_str(&be->addr, be->family, be->port, ap);
					put(b, "%s{service=\"%s\",backend=\"%s\"} %llu\n",
					    name, svcs[i].svc.name, ap,
					    ((__u64 *)&sb.cnt[j])[k]);
				}
			}
		}
		help(b, "maglb_backend_healthy", "gauge",
		     "1 if the backend may take new connections (health checks)");
		for (i = 0; i < n; i++) {
			__u32 j, to;

			svc_range(&sb, svcs[i].svc.id, &j, &to);
			for (; j < to; j++) {
				const struct maglb_backend *be = &all[sb.ids[j]];
				char ap[ADDR_STRLEN];

				put(b, "maglb_backend_healthy{service=\"%s\",backend=\"%s\"} %d\n",
				    svcs[i].svc.name,
				    addr_port_str(&be->addr, be->family, be->port, ap),
				    healthy(st->cfg, st->health, svcs[i].svc.name, be));
			}
		}
		svc_backends_free(&sb);
	}
	help(b, "maglb_packets_total", "counter",
	     "datapath verdicts by reason (passes, drops, tx, redirect, splice steps)");
	for (r = 0; r < MAGLB_REASON_MAX; r++) {
		struct maglb_reason_counters c;

		maps_read_reason(st->maps, r, &c);
		put(b, "maglb_packets_total{reason=\"%s\"} %llu\n", reason_name(r),
		    c.packets);
	}
	render_egress(st, b);
	help(b, "maglb_conntrack_entries", "gauge",
	     "tracked flow directions (two per connection)");
	if (nct >= 0)	/* no sample rather than a wrong one */
		put(b, "maglb_conntrack_entries %ld\n", nct);
	/* A gauge: the generation live now (it only grows, but it is a
	 * version, not a count to rate(); promtool wants _total on a counter). */
	help(b, "maglb_config_generation", "gauge",
	     "the live config's generation: successful applies since the agent started");
	put(b, "maglb_config_generation %lu\n", st->generation);
	help(b, "maglb_last_apply_timestamp_seconds", "gauge",
	     "when the agent last applied a config");
	put(b, "maglb_last_apply_timestamp_seconds %ld\n", (long)st->last_apply);
	help(b, "maglb_last_apply_success", "gauge", "1 if the last apply worked");
	put(b, "maglb_last_apply_success %d\n", st->last_ok);
	free(all);
	free(svcs);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	struct buf b = {};
	unsigned int code = 200;
	enum MHD_Result ret;

	long nct = 0;

	if (strcmp(method, "GET"))
		return MHD_NO;
	/* the maps are the agent's for its lifetime: no lock to read them */
	if (!strcmp(url, "/metrics"))
		nct = count_ct(m->st->maps);
	pthread_mutex_lock(&m->st->lock);
	if (!strcmp(url, "/metrics")) {
		render(m->st, &b, nct);
	} else if (!strcmp(url, "/healthz")) {
		put(&b, "ok\n");
	} else if (!strcmp(url, "/readyz")) {
		code = m->st->generation ? 200 : 503;
		put(&b, code == 200 ? "ready\n" : "no config applied yet\n");
	} else {
		code = 404;
		put(&b, "not found\n");
	}
	pthread_mutex_unlock(&m->st->lock);
	resp = MHD_create_response_from_buffer(b.len, b.p,
					       MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type",
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * The endpoint's limits. A scraper or a probe holds one connection, so a
 * client address gets a few; the total is what a node's clients may hold
 * at once (each connection's memory pool is 16 KB, allocated as used);
 * idle ones are closed after the timeout, which is longer than a probe's
 * or a scrape's own.
 */
#define METRICS_CONNS_PER_IP	32
#define METRICS_CONNS_MAX	8192
#define METRICS_IDLE_TIMEOUT_S	10
#define METRICS_CONN_MEMORY	(16 * 1024)

struct metrics *metrics_start(const char *addr, struct metrics_state *st)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct metrics *m = calloc(1, sizeof(*m));
	const char *colon = strrchr(addr, ':');
	long port = strtol(colon ? colon + 1 : addr, NULL, 10);
	/* "PORT" and ":PORT": this host only; exposing it takes an address */
	char ip[64] = "127.0.0.1";
	unsigned int flags = MHD_USE_ERROR_LOG;

	if (!m)
		return NULL;
	if (colon && colon != addr)
		snprintf(ip, sizeof(ip), "%.*s", (int)(colon - addr), addr);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1) {
		pr_warn("maglb: --metrics-address %s: give [IPv4]:PORT\n", addr);
		free(m);
		return NULL;
	}
	sin.sin_port = htons(port);
	m->st = st;
	/* select() stops at descriptor FD_SETSIZE (1024): epoll has no limit */
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ?
		 MHD_USE_EPOLL_INTERNAL_THREAD : MHD_USE_POLL_INTERNAL_THREAD;
	m->d = MHD_start_daemon(flags, port, NULL, NULL, answer, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned int)METRICS_CONNS_PER_IP,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNS_MAX,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)METRICS_IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)METRICS_CONN_MEMORY,
				MHD_OPTION_END);
	if (!m->d) {
		pr_warn("maglb: cannot serve metrics on %s:%ld\n", ip, port);
		free(m);
		return NULL;
	}
	log_event("info", "msg=\"metrics listening\" address=%s:%ld", ip, port);
	return m;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
