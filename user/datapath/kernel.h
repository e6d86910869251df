/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* kernel.h - does the running kernel have what maglb's programs call? */
#ifndef MAGLB_KERNEL_H
#define MAGLB_KERNEL_H

/* 0, or -1 after one line naming the first missing helper, the Linux
 * release that added it, and the oldest release maglb supports. */
int kernel_check(const char *who);

#endif
