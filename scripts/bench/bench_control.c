// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_control.c - the control plane at scale: how long a one-backend
 * change takes from `maglb apply` to the new ring being live, at 1, 100
 * and 1000 services and at 10, 1000 and 10000 backends, step by step
 * (parse, snapshot of the live maps, plan, execute), so that the table
 * says which step dominates; then what the agent's periodic work costs
 * with 100k tracked connections (the sweep, the metrics' conntrack count).
 *
 * It runs the same functions as apply_config_health() (reconcile/apply.c)
 * one by one, on the programs and maps of the packet-test harness. "Live"
 * is the moment the changed service's slot in maglb_rings points at the
 * new ring: from then on, every new flow of that service is hashed on it
 * (bench_maglev's apply row shows that with flows).
 */
#include "harness.h"
#include "benchutil.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include "input/load.h"
#include "datapath/sweep.h"
#include "reconcile/execute.h"
#include "reconcile/plan.h"

#define ROUNDS 5


static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/*
 * n_svc services on 10.10.0.100, ports 1000.., n_be backends each, in
 * 10.128.0.0/9 (routed through 10.20.1.2, so that the next hop is known).
 * variant 1 replaces service 0's first backend by one no other config has.
 */
static char *config_text(int n_svc, int n_be, int variant)
{
	size_t cap = (size_t)n_svc * (128 + (size_t)n_be * 64) + 64, len = 0;
	char *s = malloc(cap);
	int i, b;

	if (!s)
		return NULL;
	len += snprintf(s + len, cap - len, "services:\n");
	for (i = 0; i < n_svc; i++) {
		len += snprintf(s + len, cap - len,
				"- name: s%d\n  address: 10.10.0.100\n  port: %d\n  backends:\n",
				i, 1000 + i);
		for (b = 0; b < n_be; b++) {
			unsigned int a = (unsigned int)i * n_be + b + 1;

			if (i == 0 && b == 0 && variant)
				a = 0x7fffff;	/* 10.255.255.255 - 1: unused */
			len += snprintf(s + len, cap - len,
					"  - {address: 10.%u.%u.%u, port: 3000}\n",
					128 + (a >> 16), (a >> 8) & 0xff, a & 0xff);
		}
	}
	return s;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* The ring map id in maglb_rings[svc_id], polled by a second thread. */
static __u32 ring_id(__u32 svc_id)
{
	__u32 id = 0;

	bpf_map_lookup_elem(maps.rings, &svc_id, &id);
	return id;
}

static __u32 watch_svc, watch_old;
static _Atomic double watch_live;
static _Atomic int watch_on, watch_stop;

static void *watch(void *arg)
{
	(void)arg;
	while (!watch_stop) {
		if (!watch_on || watch_live) {
			usleep(100);
			continue;
		}
		if (ring_id(watch_svc) != watch_old)
			watch_live = now_ms();
	}
	return NULL;
}

static int svc_id_of(const char *name, __u32 *id)
{
	struct svc_item *items = NULL;
	int n = maps_read_services(&maps, &items), i, rc = -ENOENT;

	for (i = 0; i < n; i++)
		if (!strcmp(items[i].svc.name, name) && !items[i].key.route) {
			*id = items[i].svc.id;
			rc = 0;
			break;
		}
	free(items);
	return rc;
}

struct steps {
	double parse, snapshot, plan, execute, live, total;
};

/* One apply of path, step by step, timed; the ring of svc_id watched. */
static int timed_apply(const char *path, __u32 svc_id, struct steps *st)
{
	char err[CFG_ERR_LEN];
	struct maglb_config *cfg;
	struct plan_snapshot *snap;
	const struct plan_env env = { 0 };
	struct plan p;
	double t0, t;
	int closed, rc;

	watch_svc = svc_id;
	watch_old = ring_id(svc_id);
	watch_live = 0;
	t0 = now_ms();
	watch_on = 1;
	cfg = config_load(path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	t = now_ms();
	st->parse = t - t0;
	rc = snapshot_read(&maps, &snap);
	st->snapshot = now_ms() - t;
	if (rc)
		goto out;
	t = now_ms();
	rc = plan_build(cfg, snap, &env, &p);
	st->plan = now_ms() - t;
	plan_snapshot_free(snap);
	if (rc)
		goto out;
	t = now_ms();
	rc = plan_execute(&maps, &p, &closed);
	st->execute = now_ms() - t;
	plan_free(&p);
	st->total = now_ms() - t0;
	/* the watcher polls every few microseconds; give it a moment */
	for (t = now_ms(); !watch_live && now_ms() - t < 100;)
		;
	if (!watch_live) {
		fprintf(stderr, "bench: the changed ring never went live\n");
		rc = -1;
	}
	st->live = watch_live - t0;
out:
	watch_on = 0;
	config_free(cfg);
	return rc;
}

struct scale {
	const char *what;
	int n_svc, n_be;
};

static int bench_scale(const struct scale *sc)
{
	char a_path[] = "/tmp/maglb-bench-a-XXXXXX", b_path[] = "/tmp/maglb-bench-b-XXXXXX";
	double parse[ROUNDS], snap[ROUNDS], plan[ROUNDS], exec[ROUNDS],
		live[ROUNDS], total[ROUNDS];
	char *a = config_text(sc->n_svc, sc->n_be, 0);
	char *b = config_text(sc->n_svc, sc->n_be, 1);
	const char *dom;
	struct steps st;
	double first;
	__u32 id;
	int r, fa = mkstemp(a_path), fb = mkstemp(b_path), rc = -1;

	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	if (!a || !b || fa < 0 || fb < 0 || write_file(a_path, a) ||
	    write_file(b_path, b))
		goto out;
	/* the first apply creates every service: timed, shown apart */
	first = now_ms();
	if (apply_yaml(a))
		goto out;
	first = now_ms() - first;
	if (svc_id_of("s0", &id))
		goto out;
	for (r = 0; r < ROUNDS; r++) {
		if (timed_apply(r % 2 ? a_path : b_path, id, &st))
			goto out;
		parse[r] = st.parse;
		snap[r] = st.snapshot;
		plan[r] = st.plan;
		exec[r] = st.execute;
		live[r] = st.live;
		total[r] = st.total;
	}
	st.parse = median(parse, ROUNDS);
	st.snapshot = median(snap, ROUNDS);
	st.plan = median(plan, ROUNDS);
	st.execute = median(exec, ROUNDS);
	dom = "parse";
	if (st.snapshot > st.parse)
		dom = "snapshot";
	if (st.plan > st.parse && st.plan > st.snapshot)
		dom = "plan";
	if (st.execute > st.parse && st.execute > st.snapshot &&
	    st.execute > st.plan)
		dom = "execute";
	printf("| %-22s | %5d | %6d | %9.1f | %6.2f | %8.2f | %6.2f | %7.2f | %7.2f | %6.2f | %-8s |\n",
	       sc->what, sc->n_svc, sc->n_svc * sc->n_be, first, st.parse,
	       st.snapshot, st.plan, st.execute, median(live, ROUNDS),
	       median(total, ROUNDS), dom);
	fflush(stdout);
	/* empty again for the next row */
	rc = apply_yaml("services: []\n");
out:
	unlink(a_path);
	unlink(b_path);
	free(a);
	free(b);
	return rc;
}

static long rss_kb(const char *field)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return v;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

/* n connections through the XDP program: each client's SYN, the
 * backend's SYN-ACK (ISN 5000) back through b0, then the client's ACK of
 * it, which confirms the entry as a real handshake does (only an ACK of
 * the SYN-ACK confirms: bpf/lib/conntrack.h). */
static int open_conns(int n)
{
	struct xdp_md ctx = { .ingress_ifindex = if_nametoindex("c0") };
	struct xdp_md bctx = { .ingress_ifindex = if_nametoindex("b0") };
	struct pkt_spec sp = { .family = 4, .dst = "10.10.0.100", .dport = 80,
			       .proto = IPPROTO_TCP };
	struct pkt_spec sa = { .family = 4, .proto = IPPROTO_TCP,
			       .tcp_flags = TF_SYN | TF_ACK, .seq = 5000,
			       .ack = 1001 };
	struct pkt_view v;
	struct run r;
	char src[32];
	int i, k;

	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "10.%u.%u.%u", 64 + (i >> 16),
			 (i >> 8) & 0xff, i & 0xff);
		sp.src = src;
		sp.sport = 20000 + (i & 0x3ff);
		for (k = 0; k < 3; k++) {
			if (k == 1) {
				/* the backend the SYN went to answers it */
				if (pkt_view(r.out, r.out_len, &v))
					return -1;
				sa.src = v.dst;
				sa.sport = v.dport;
				sa.dst = src;
				sa.dport = sp.sport;
			}
			sp.tcp_flags = k ? TF_ACK : TF_SYN;
			sp.seq = k ? 1001 : 1000;
			sp.ack = k ? 5001 : 0;
			if (run_fd(prog_fd, k == 1 ? &sa : &sp,
				   k == 1 ? &bctx : &ctx, sizeof(ctx), &r) ||
			    r.action != XDP_REDIRECT) {
				fprintf(stderr, "bench: connection %d: action %d\n",
					i, r.action);
				return -1;
			}
		}
	}
	return 0;
}

static int bench_agent(int n)
{
	const char *yaml = "services:\n- name: web\n  address: 10.10.0.100\n  port: 80\n"
		"  backends: [{address: 10.20.1.2, port: 3000}, {address: 10.20.1.3, port: 3000}]\n";
	double sweep[ROUNDS], read[ROUNDS], cpu[ROUNDS], t;
	long hwm0, hwm1, entries = 0;
	struct maglb_config *cfg;
	struct ct_item *items;
	char err[CFG_ERR_LEN], path[] = "/tmp/maglb-bench-c-XXXXXX";
	int r, fd = mkstemp(path), got;
	struct timespec ts;

	if (fd < 0)
		return -1;
	close(fd);
	if (write_file(path, yaml) || apply_yaml(yaml) || open_conns(n))
		goto fail;
	cfg = config_load(path, err, sizeof(err));
	unlink(path);
	if (!cfg)
		return -1;
	/* the peak from here on: what the sweep itself adds */
	if (write_file("/proc/self/clear_refs", "5"))
		fprintf(stderr, "bench: cannot reset the peak RSS\n");
	hwm0 = rss_kb("VmRSS:");
	for (r = 0; r < ROUNDS; r++) {
		double c0 = cpu_ms();

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = now_ms();
		got = ct_sweep(&maps, cfg, ts.tv_sec * 1000000000ULL + ts.tv_nsec);
		sweep[r] = now_ms() - t;
		cpu[r] = cpu_ms() - c0;
		if (got != 0) {
			fprintf(stderr, "bench: the sweep removed %d live connections\n", got);
			config_free(cfg);
			return -1;
		}
		t = now_ms();
		items = NULL;
		entries = maps_read_ct(&maps, &items);
		read[r] = now_ms() - t;
		free(items);
	}
	hwm1 = rss_kb("VmHWM:");
	config_free(cfg);
	printf("\nThe agent with %d tracked connections (%ld conntrack entries; medians of %d)\n\n"
	       "| periodic work | wall ms | CPU ms | CPU share at the 5 s sweep interval |\n"
	       "|---|---:|---:|---:|\n"
	       "| sweep (read all, judge, delete none) | %.1f | %.1f | %.1f%% |\n"
	       "| conntrack dump (`maglb conntrack`, what a sweep reads) | %.1f | - | - |\n"
	       "\nThe sweep's peak memory: %ld KiB above the %ld KiB resident before it.\n",
	       n, entries, ROUNDS, median(sweep, ROUNDS), median(cpu, ROUNDS),
	       median(cpu, ROUNDS) / 5000 * 100, median(read, ROUNDS),
	       hwm1 - hwm0, hwm0);
	return 0;
fail:
	unlink(path);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct scale scales[] = {
		{ "1 service, 10 backends", 1, 10 },
		{ "100 services, 10 each", 100, 10 },
		{ "1000 services, 10 each", 1000, 10 },
		{ "1 service, 1000 backends", 1, 1000 },
		{ "1 service, 10000 backends", 1, 10000 },
	};
	int conns = argc > 1 ? atoi(argv[1]) : 100000;
	pthread_t th;
	size_t i;

	if (setup("services: []\n") ||
	    system("ip route add 10.128.0.0/9 via 10.20.1.2 dev b0") ||
	    /* the agent rows' clients (open_conns), for their SYN-ACKs */
	    system("ip route add 10.64.0.0/10 via 10.10.0.2 dev c0") ||
	    pthread_create(&th, NULL, watch, NULL))
		return 1;
	printf("apply -> live for a one-backend change (tableSize 65537; ms, medians of %d)\n\n"
	       "| config | svcs | backends | first apply | parse | snapshot | plan | execute | live | apply | dominant |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n", ROUNDS);
	for (i = 0; i < sizeof(scales) / sizeof(scales[0]); i++)
		if (bench_scale(&scales[i]))
			return 1;
	watch_stop = 1;
	pthread_join(th, NULL);
	if (bench_agent(conns))
		return 1;
	teardown();
	return 0;
}
