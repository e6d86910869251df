// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_maglev.c - Maglev table build time (user/maglev.c) for the table
 * sizes and backend counts users pick, and the time `maglb apply` takes
 * from a config change to the new table being live (one ring swap) in a
 * loaded datapath.
 */
#include "harness.h"
#include <time.h>
#include "maglev.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char names[1000][32];

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
	printf("Maglev table build (user/maglev.c), median of 7, ms\n\n");
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

		if (setup(a))
			return 1;
		for (r = 0; r < 7; r++) {
			double t0 = now_ms();

			apply_yaml(r % 2 ? a : c);
			t[r] = now_ms() - t0;
		}
		qsort(t, 7, sizeof(t[0]), cmp_d);
		printf("\napply -> live (parse, build M=65537, N=2, swap): median %.2f ms\n",
		       t[3]);
	}
	return 0;
}
