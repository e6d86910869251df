/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* benchutil.h - the clock and the sort the control-plane benches share. */
#ifndef MAGLB_BENCHUTIL_H
#define MAGLB_BENCHUTIL_H

#include <time.h>

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* qsort() order of doubles, for medians */
static inline int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
