/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * testlib.h - a minimal table-driven test harness. Each case prints one line,
 * "PASS name" or "FAIL name: what differed", which tests/run.sh counts. An
 * ASSERT_* failure returns from the case function with the message.
 */
#ifndef MAGLB_TESTLIB_H
#define MAGLB_TESTLIB_H

#include <stdio.h>
#include <string.h>

static char test_msg[1024];
static int tests_failed, tests_passed;

#define ASSERT_TRUE(cond, ...) do {					\
	if (!(cond)) {							\
		int _n = snprintf(test_msg, sizeof(test_msg),		\
				  "%s:%d: ", __FILE__, __LINE__);	\
		snprintf(test_msg + _n, sizeof(test_msg) - _n, __VA_ARGS__); \
		return -1;						\
	}								\
} while (0)

#define ASSERT_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	ASSERT_TRUE(_a == _b, "%s == %lld, expected %s == %lld",	\
		    #a, _a, #b, _b);					\
} while (0)

#define ASSERT_OK(x) do {						\
	long long _r = (long long)(x);					\
	ASSERT_TRUE(_r == 0, "%s returned %lld", #x, _r);		\
} while (0)

static inline void test_report(const char *name, int rc)
{
	if (rc) {
		printf("FAIL %s: %s\n", name, test_msg);
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

#endif
