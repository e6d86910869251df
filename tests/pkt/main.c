// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - build/tests/test_pkt: the XDP and TC programs, packet by packet,
 * through bpf_prog_test_run_opts(). The process moves into its own network
 * namespace with two veths ("c0" toward clients, "b0" toward backends) and
 * static neighbours, so bpf_fib_lookup() gives real answers (harness.c).
 * Maps are filled by the real config loader and apply path from
 * tests/fixtures/pkt.yaml. Rewritten headers are checked with an
 * independent full checksum (tests/lib/pktbuild.h).
 *
 *   test_pkt               every test, one "PASS name" / "FAIL name: why" each
 *   test_pkt -t NAME ...   only the tests whose name contains NAME (-t repeats)
 *   test_pkt -l            list the names (with -t: those it selects)
 *   test_pkt -s SEED       in an order shuffled by SEED, for finding a test
 *                          that leans on another's leftovers
 *
 * The tests are those the files registered with PKT_TEST and PKT_TABLE
 * (pkt.h), in the order of their file names, then of their lines.
 */
#include "pkt.h"		/* first: harness.h asks for _GNU_SOURCE */
#include <getopt.h>

extern const struct pkt_test *const __start_pkt_tests[];
extern const struct pkt_test *const __stop_pkt_tests[];

struct selected {
	char *name;
	const struct pkt_test *t;
	int row;
};

static int by_place(const void *a, const void *b)
{
	const struct pkt_test *x = *(const struct pkt_test *const *)a;
	const struct pkt_test *y = *(const struct pkt_test *const *)b;
	int c = strcmp(x->file, y->file);

	return c ? c : x->line - y->line;
}

/* ct_scale_* tests need a conntrack sized for them (MAGLB_TEST_CT_CONNS)
 * and run in their own stage (tests/run.sh): only when a filter names the
 * prefix itself. */
#define SCALE_PREFIX	"ct_scale_"

static bool wanted(const char *name, char **filters, int n_filters)
{
	bool scale = !strncmp(name, SCALE_PREFIX, strlen(SCALE_PREFIX));
	int i;

	for (i = 0; i < n_filters; i++)
		if (strstr(name, filters[i]) &&
		    (!scale || strstr(filters[i], SCALE_PREFIX)))
			return true;
	return !n_filters && !scale;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: test_pkt [-l] [-t NAME]... [-s SEED]\n"
		"  -t NAME  run only the tests whose name contains NAME (repeatable)\n"
		"  -l       list the test names instead of running them\n"
		"  -s SEED  run in an order shuffled by SEED\n");
}

int main(int argc, char **argv)
{
	size_t n_entries = __stop_pkt_tests - __start_pkt_tests, i;
	const struct pkt_test **entries;
	struct selected *sel = NULL;
	char **filters = calloc(argc, sizeof(*filters));
	int n_filters = 0, n_sel = 0, cap = 0, opt, r;
	bool list = false;
	long seed = -1;

	while ((opt = getopt(argc, argv, "t:ls:h")) != -1) {
		switch (opt) {
		case 't':
			filters[n_filters++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 's':
			seed = strtol(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* The linker gathers the entries in whatever order it meets them. */
	entries = malloc(n_entries * sizeof(*entries) + 1);
	memcpy(entries, __start_pkt_tests, n_entries * sizeof(*entries));
	qsort(entries, n_entries, sizeof(*entries), by_place);
	for (i = 0; i < n_entries; i++) {
		const struct pkt_test *t = entries[i];

		for (r = 0; r < (t->rows ? t->n_rows : 1); r++) {
			const char *row = t->rows ?
				*(const char *const *)((const char *)t->rows +
						       r * t->row_size) : t->name;
			char *name;

			if (t->prefix ? asprintf(&name, "%s/%s", t->prefix, row) < 0 :
			    !(name = strdup(row)))
				return 1;
			if (!wanted(name, filters, n_filters)) {
				free(name);
				continue;
			}
			if (n_sel == cap) {
				cap = cap ? 2 * cap : 128;
				sel = realloc(sel, cap * sizeof(*sel));
				if (!sel)
					return 1;
			}
			sel[n_sel++] = (struct selected){ name, t, r };
		}
	}
	if (!n_sel) {
		fprintf(stderr, "test_pkt: no test name contains %s\n",
			n_filters ? filters[0] : "anything");
		return 2;
	}
	if (seed >= 0) {
		srandom(seed);
		for (r = n_sel - 1; r > 0; r--) {
			int j = random() % (r + 1);
			struct selected t = sel[r];

			sel[r] = sel[j];
			sel[j] = t;
		}
	}
	if (list) {
		for (r = 0; r < n_sel; r++)
			printf("%s\n", sel[r].name);
		return 0;
	}
	if (setup_fixture("pkt.yaml")) {
		printf("FAIL pkt_setup: could not build namespace, load or apply\n");
		return 1;
	}
	for (r = 0; r < n_sel; r++) {
		const struct pkt_test *t = sel[r].t;

		test_report(sel[r].name, t->rows ?
			    t->row_fn((const char *)t->rows + sel[r].row * t->row_size,
				      sel[r].row) :
			    t->fn());
		free(sel[r].name);
	}
	teardown();
	return test_exit();
}
