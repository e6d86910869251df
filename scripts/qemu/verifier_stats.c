// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verifier_stats - load each program of the given BPF objects on its own and
 * print what the verifier says about it:
 *
 *   prog maglb_xdp ok insns 690585 stack 504+0+16
 *   prog maglb_tc FAIL insns 1234 stack 0 error: R4 min value is negative
 *
 * One program at a time, so that the first failure does not hide the rest
 * (bpf_object__load stops at it). The log level is BPF_LOG_STATS alone: the
 * kernel then prints its error messages and the final statistics but not the
 * instruction trace, which for a program near the 1M limit does not fit any
 * buffer. A program that fails is loaded once more at log level 1 to find
 * the source line ("; ... @ file:line") the error follows; when that log
 * does not fit, the line is left out rather than guessed.
 * Maps are created, never pinned; nothing stays loaded.
 */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#define LOG_LEVEL1 1	/* BPF_LOG_LEVEL1: the instruction trace */
#define LOG_STATS 4	/* BPF_LOG_STATS */

static char log_buf[1 << 20];

static int silent(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return 0;
}

/* The value after KEY on the log's line that starts with KEY, or "?". */
static void log_field(const char *key, char *val, size_t len)
{
	const char *p = strstr(log_buf, key), *e;

	snprintf(val, len, "?");
	if (!p)
		return;
	p += strlen(key);
	e = p + strcspn(p, " \n");
	snprintf(val, len, "%.*s", (int)(e - p), p);
}

/* The verifier's error: the last log line before its statistics. */
static void log_error(char *val, size_t len)
{
	char *end = strstr(log_buf, "verification time"), *p;

	snprintf(val, len, "?");
	if (!end || end == log_buf)
		return;
	end[-1] = 0;
	p = strrchr(log_buf, '\n');
	snprintf(val, len, "%s", p ? p + 1 : log_buf);
	end[-1] = '\n';
}

/* Load only program NAME of FILE at log LEVEL into log_buf. */
static int load(const char *file, const char *name, __u32 level)
{
	struct bpf_object *obj = bpf_object__open_file(file, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	int rc;

	if (!obj)
		return -1;
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), name));
	prog = bpf_object__find_program_by_name(obj, name);
	log_buf[0] = 0;
	bpf_program__set_log_buf(prog, log_buf, sizeof(log_buf));
	bpf_program__set_log_level(prog, level);
	rc = bpf_object__load(obj);
	bpf_object__close(obj);
	return rc;
}

/*
 * The last source annotation before ERR in the log: its "file:line", or on
 * kernels that print only the source text (6.1), that text.
 */
static void log_source(const char *err, char *val, size_t len)
{
	char *at = strstr(log_buf, err), *p, *q;

	val[0] = 0;
	if (!at)
		return;
	*at = 0;
	p = NULL;
	for (q = log_buf; (q = strstr(q, "\n; ")); q++)
		p = q + 3;
	if (!p)
		return;
	q = strstr(p, " @ ");
	if (q && q < p + strcspn(p, "\n"))
		snprintf(val, len, " (%.*s)", (int)strcspn(q + 3, " \n"), q + 3);
	else
		snprintf(val, len, " (at \"%.*s\")", (int)strcspn(p, "\n"), p);
}

static int load_one(const char *file, const char *name)
{
	char insns[32], stack[64], err[512], src[128];

	if (!load(file, name, LOG_STATS)) {
		log_field("processed ", insns, sizeof(insns));
		log_field("stack depth ", stack, sizeof(stack));
		printf("prog %s ok insns %s stack %s\n", name, insns, stack);
		return 0;
	}
	log_field("processed ", insns, sizeof(insns));
	log_field("stack depth ", stack, sizeof(stack));
	log_error(err, sizeof(err));
	load(file, name, LOG_LEVEL1);
	log_source(err, src, sizeof(src));
	printf("prog %s FAIL insns %s stack %s error: %s%s\n", name, insns, stack, err, src);
	return -1;
}

int main(int argc, char **argv)
{
	int i, failed = 0;

	libbpf_set_print(silent);
	for (i = 1; i < argc; i++) {
		struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
		struct bpf_program *prog;

		if (!obj) {
			fprintf(stderr, "verifier_stats: cannot open %s\n", argv[i]);
			return 2;
		}
		bpf_object__for_each_program(prog, obj)
			failed |= load_one(argv[i], bpf_program__name(prog)) != 0;
		bpf_object__close(obj);
	}
	return failed;
}
