// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_maglev.c - Maglev table build time (user/model/maglev.c) for the table
 * sizes and backend counts users pick, and the time `maglb apply` takes
 * from a config change to the new table being live (one ring swap) in a
 * loaded datapath, seen by new flows run through the program meanwhile.
 */
#include "harness.h"
#include "benchutil.h"
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include "model/maglev.h"


static char names[1000][32];

/* The datapath probe for "live": new flows (a fresh source address and
 * port each) run through the XDP program in a loop; the first one the
 * program sends to probe_want marks the moment the new ring is in use. */
static __u32 probe_want;
static _Atomic double probe_t0, probe_live;
static _Atomic int probe_stop;

static void *probe(void *arg)
{
	struct pkt_spec sp = { .family = 4, .dst = "10.10.0.100", .dport = 80,
			       .proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct xdp_md ctx = { .ingress_ifindex = if_nametoindex("c0") };
	__u8 in[256], out[256];
	char src[32];
	unsigned int n = 0;
	int len;

	while (!probe_stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
			    .data_out = out, .data_size_out = sizeof(out),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
		__u32 daddr;

		if (!probe_t0 || probe_live) {
			usleep(50);	/* idle: leave the CPU to apply */
			continue;
		}
		n++;
		snprintf(src, sizeof(src), "10.10.%u.%u", 1 + (n >> 8 & 0x7f),
			 n & 0xff);
		sp.src = src;
		sp.sport = 1024 + (n >> 15);
		len = pkt_build(&sp, in, sizeof(in));
		o.data_size_in = len;
		ctx.data_end = len;
		if (bpf_prog_test_run_opts(prog_fd, &o) || o.retval != XDP_REDIRECT)
			continue;
		memcpy(&daddr, out + 14 + 16, sizeof(daddr));
		if (daddr == probe_want)
			probe_live = now_ms();
	}
	return NULL;
}

int main(void)
{
	static const __u32 ms[] = { 16381, 65537, 131071 };
	static const int ns[] = { 10, 100, 1000 };
	struct maglev_backend b[1000];
	double t[7];
	size_t i, j;
	int k, r;

	for (k = 0; k < 1000; k++) {
		snprintf(names[k], sizeof(names[k]), "10.20.%d.%d:3000",
			 k / 250, k % 250 + 2);
		b[k] = (struct maglev_backend){ names[k], 1, k };
	}
	printf("Maglev table build (user/model/maglev.c), median of 7, ms\n\n");
	printf("| %8s |", "M \\ N");
	for (j = 0; j < 3; j++)
		printf(" %8d |", ns[j]);
	printf("\n|----------|----------|----------|----------|\n");
	for (i = 0; i < 3; i++) {
		__u32 *table = malloc(ms[i] * sizeof(*table));

		printf("| %8u |", ms[i]);
		for (j = 0; j < 3; j++) {
			for (r = 0; r < 7; r++) {
				double t0 = now_ms();

				maglev_build(b, ns[j], ms[i], table);
				t[r] = now_ms() - t0;
			}
			qsort(t, 7, sizeof(t[0]), cmp_d);
			printf(" %8.3f |", t[3]);
		}
		printf("\n");
		free(table);
	}

	/* apply -> live: two configs that differ in one backend, swapped */
	{
		const char *a = "services:\n- name: s\n  address: 10.10.0.100\n  port: 80\n"
			"  backends: [{address: 10.20.1.2, port: 3000}, {address: 10.20.1.3, port: 3000}]\n";
		const char *c = "services:\n- name: s\n  address: 10.10.0.100\n  port: 80\n"
			"  backends: [{address: 10.20.1.2, port: 3000}, {address: 10.20.1.4, port: 3000}]\n";
		double ret[7];
		pthread_t th;

		if (setup(a) || pthread_create(&th, NULL, probe, NULL))
			return 1;
		for (r = 0; r < 7; r++) {
			double t0 = now_ms(), deadline;

			/* the backend only the new config has */
			inet_pton(AF_INET, r % 2 ? "10.20.1.3" : "10.20.1.4",
				  &probe_want);
			probe_live = 0;
			probe_t0 = t0;
			if (apply_yaml(r % 2 ? a : c))
				return 1;
			ret[r] = now_ms() - t0;
			deadline = now_ms() + 1000;
			while (!probe_live &&
			       now_ms() < deadline)
				;
			if (!probe_live) {
				fprintf(stderr, "bench: the new table never went live\n");
				return 1;
			}
			t[r] = probe_live - t0;
			probe_t0 = 0;
		}
		probe_stop = 1;
		pthread_join(th, NULL);
		qsort(t, 7, sizeof(t[0]), cmp_d);
		qsort(ret, 7, sizeof(ret[0]), cmp_d);
		printf("\napply -> live (parse, build M=65537, N=2, swap; medians of 7)\n\n"
		       "| step                                                      |       ms |\n"
		       "|-----------------------------------------------------------|----------|\n"
		       "| apply -> first new flow sent to the new backend           | %8.2f |\n"
		       "| apply -> apply returns (the kernel waits out old readers) | %8.2f |\n",
		       t[3], ret[3]);
	}
	return 0;
}
