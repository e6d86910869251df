// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * log.c - one place that writes diagnostics. Warnings are plain
 * "maglb: ..." lines, so a config error reads as a sentence; the agent
 * timestamps its own event lines through the same function.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "common/log.h"

enum log_level log_level = LOG_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void log_event(const char *level, const char *fmt, ...)
{
	char line[2048];
	time_t t = time(NULL);
	va_list ap;
	int n;

	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	n += snprintf(line + n, sizeof(line) - n, " level=%s ", level);
	va_start(ap, fmt);
	if (n < (int)sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			va_list ap)
{
	if (lvl == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	if (lvl == LIBBPF_INFO && log_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
