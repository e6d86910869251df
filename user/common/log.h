/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* log.h - leveled logging to stderr; -v raises the level to debug. */
#ifndef MAGLB_LOG_H
#define MAGLB_LOG_H

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/* The agent's event lines: one logfmt line per event ("ts=... level=...
 * msg=..."), written whole so threads never interleave. */
void log_event(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void log_setup_libbpf(void);

#endif
