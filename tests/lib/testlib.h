/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * testlib.h - a minimal table-driven test harness. Each case prints one line,
 * "PASS name" or "FAIL name: what differed", which tests/run.sh counts. An
 * ASSERT_* failure returns from the case function with the message: the
 * file and line, the expression, the values, so that the FAIL line names
 * the test and what it checked.
 */
#ifndef MAGLB_TESTLIB_H
#define MAGLB_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weak: one copy in a program however many of its files include this
 * (the packet tests are several files linked into one binary). */
__attribute__((weak)) char test_msg[1024];
__attribute__((weak)) int tests_failed, tests_passed;

/* test_msg = "FILE:LINE: " and the rest from the format. */
#define TEST_FAIL(...) do {						\
	int _n = snprintf(test_msg, sizeof(test_msg), "%s:%d: ",	\
			  __FILE__, __LINE__);				\
	snprintf(test_msg + _n, sizeof(test_msg) - _n, __VA_ARGS__);	\
	return -1;							\
} while (0)

/* "FILE:LINE: (cond) is false: " and the message. */
#define ASSERT_TRUE(cond, fmt, ...)					\
	do {								\
		if (!(cond))						\
			TEST_FAIL("(%s) is false: " fmt, #cond, ##__VA_ARGS__); \
	} while (0)

#define ASSERT_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		TEST_FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
} while (0)

#define ASSERT_OK(x) do {						\
	long long _r = (long long)(x);					\
	if (_r)								\
		TEST_FAIL("%s returned %lld", #x, _r);			\
} while (0)

static inline void test_report(const char *name, int rc)
{
	if (rc) {
		printf("FAIL %s: %s\n", name,
		       test_msg[0] ? test_msg : "failed without an ASSERT_* message");
		tests_failed++;
	} else {
		printf("PASS %s\n", name);
		tests_passed++;
	}
	fflush(stdout);
	test_msg[0] = 0;
}

#define RUN_TEST(fn) test_report(#fn, fn())

static inline int test_exit(void)
{
	return tests_failed ? 1 : 0;
}

/* A whole file as a string (NULL: unreadable); the caller frees it. */
static inline char *test_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

#endif
