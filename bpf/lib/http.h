/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http.h - find the hash key in an HTTP/1.x request head: the value of a
 * named cookie, or of a named header. A byte-at-a-time state machine, so
 * the BPF side can drive it with bpf_loop() (a few bytes per callback keep
 * the verifier's view small; splice.h) and userspace, the fuzzer and
 * `maglb lookup` run the very same code.
 *
 * Rules (Envoy's where it has one):
 *  - header names match case-insensitively (the target is stored lowercase);
 *  - cookie names match exactly: XFooBar is not FooBar; the first match wins,
 *    across several Cookie headers too; surrounding double quotes are
 *    stripped from a cookie value;
 *  - a header value loses leading and trailing spaces/tabs;
 *  - '\r' is ignored everywhere, so bare '\n' line ends work too;
 *  - only the first HTTP_KEY_MAX bytes of a value are kept (and hashed);
 *  - a head whose first byte is not an uppercase letter is not HTTP (TLS);
 *  - alongside the key it records, for route matching, the request path
 *    (the request line's second word, without its query or fragment) and
 *    the first Host header's value (lowercase, without a port), each once
 *    complete and cut to 64 bytes;
 *  - it stops once it has the key and the Host, or at the end of the head.
 *
 * Needs __u8/__u16 (linux/types.h) and __builtin_memcpy.
 */
#ifndef MAGLB_HTTP_H
#define MAGLB_HTTP_H

#include "bounded.h"

/* Bytes the BPF side handles per bpf_loop() callback (splice.h, route.h,
 * cookie.h). Each iteration is an indirect call, and with retpolines that
 * costs more than a parser step: one byte per call made a 600-byte head
 * cost ~15 us. */
#define HTTP_CHUNK	8

#define HTTP_KEY_MAX	128
#define HTTP_NAME_MAX	64
#define HTTP_HOST_MAX	64
#define HTTP_PATH_MAX	64

enum http_mode {
	HTTP_MODE_COOKIE = 0,
	HTTP_MODE_HEADER = 1,
};

enum http_result {
	HTTP_MORE = 0,		/* head not complete, key not seen yet */
	HTTP_FOUND,		/* value[0..value_len) is the key */
	HTTP_ABSENT,		/* head complete, no such cookie/header */
	HTTP_NOT_HTTP,
};

enum http_state {
	HS_START = 0,		/* first byte of the request line */
	HS_REQ_LINE,
	HS_LINE_START,
	HS_NAME,		/* header name, matching the target */
	HS_SKIP_LINE,
	HS_HVAL_OWS,		/* target header: leading whitespace */
	HS_HVAL,
	HS_C_OWS,		/* Cookie header: before a cookie name */
	HS_C_NAME,
	HS_C_VAL,
	HS_C_SKIP,		/* another cookie's value */
	HS_PATH,		/* request line: the request-target */
	HS_HOST_OWS,		/* Host header: leading whitespace */
	HS_HOST,
	HS_QUERY,		/* request-target after '?' or '#' */
	HS_HOST_PORT,		/* Host header after ':' */
};

struct http_parser {
	/* set by http_init() */
	char target[HTTP_NAME_MAX];	/* lowercase header name */
	char cookie[HTTP_NAME_MAX];	/* cookie name, exact */
	__u8 target_len;
	__u8 cookie_len;
	__u8 mode;
	/* running state */
	__u8 state;
	__u8 pos;		/* chars matched of target or cookie */
	__u8 match;		/* still matching */
	__u8 result;
	__u8 value_off;		/* the key is value[value_off..+value_len) */
	__u16 value_len;	/* bytes kept in value */
	__u16 trim_len;		/* value_len without trailing whitespace */
	char value[HTTP_KEY_MAX];
	/* route facts */
	__u8 host_match;	/* this header's name is still "host" */
	__u8 have_host;		/* host[] is complete */
	__u8 have_path;		/* path[] is complete */
	__u8 pad2;
	__u16 host_len;
	__u16 host_trim;
	__u16 path_len;
	char host[HTTP_HOST_MAX];
	char path[HTTP_PATH_MAX];
} __attribute__((aligned(8)));	/* saved and restored whole (stash.h) */

static __always_inline char http_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static __always_inline void http_keep(struct http_parser *ps, char c)
{
	__u16 n = ps->value_len;

	if (n >= HTTP_KEY_MAX)
		return;		/* past the kept prefix: neither kept nor trimmed */
	ps->value[buf_idx(n, HTTP_KEY_MAX)] = c;
	ps->value_len = n + 1;
	if (c != ' ' && c != '\t')
		ps->trim_len = n + 1;
}

/* The value is complete: trim, unquote (cookies, by offset: a shifting
 * loop would become a memmove, which BPF cannot call). Stop if the Host is
 * known too; else skip to the next line (`next`) and look for it. */
static __always_inline int http_found(struct http_parser *ps, __u8 next)
{
	__u16 n = ps->trim_len;

	ps->value_len = n;
	ps->value_off = 0;
	if (ps->mode == HTTP_MODE_COOKIE && n >= 2 && ps->value[0] == '"' &&
	    ps->value[buf_idx(n - 1, HTTP_KEY_MAX)] == '"') {
		ps->value_off = 1;
		ps->value_len = n - 2;
	}
	ps->result = HTTP_FOUND;
	ps->state = next;
	return ps->have_host ? 1 : 0;
}

static __always_inline void http_keep_host(struct http_parser *ps, char c)
{
	__u16 n = ps->host_len;

	if (n >= HTTP_HOST_MAX)
		return;
	ps->host[buf_idx(n, HTTP_HOST_MAX)] = c;
	ps->host_len = n + 1;
	if (c != ' ' && c != '\t')
		ps->host_trim = n + 1;
}

/* Feed one byte. Returns 1 when the result is final, 0 for more. */
static __always_inline int http_step(struct http_parser *ps, char c)
{
	if (c == '\r')
		return 0;
	switch (ps->state) {
	case HS_START:
		if (c < 'A' || c > 'Z') {
			ps->result = HTTP_NOT_HTTP;
			return 1;
		}
		ps->state = HS_REQ_LINE;
		return 0;
	case HS_REQ_LINE:
		if (c == ' ')
			ps->state = HS_PATH;
		else if (c == '\n')
			ps->state = HS_LINE_START;
		return 0;
	case HS_PATH:
	case HS_QUERY:
		if (c == ' ' || c == '\n') {
			ps->have_path = 1;
			ps->state = c == ' ' ? HS_SKIP_LINE : HS_LINE_START;
		} else if (c == '?' || c == '#' || ps->state == HS_QUERY) {
			ps->state = HS_QUERY;
		} else if (ps->path_len < HTTP_PATH_MAX) {
			ps->path[buf_idx(ps->path_len, HTTP_PATH_MAX)] = c;
			ps->path_len++;
		}
		return 0;
	case HS_SKIP_LINE:
		if (c == '\n')
			ps->state = HS_LINE_START;
		return 0;
	case HS_LINE_START:
		if (c == '\n') {		/* empty line: end of head */
			if (ps->result != HTTP_FOUND)
				ps->result = HTTP_ABSENT;
			return 1;
		}
		ps->pos = 0;
		ps->match = ps->result != HTTP_FOUND;	/* first key wins */
		ps->host_match = !ps->have_host;
		ps->state = HS_NAME;
		/* c is the first name byte */
		__attribute__((__fallthrough__));
	case HS_NAME:
		if (c == '\n') {		/* no colon: not a header */
			ps->state = HS_LINE_START;
			return 0;
		}
		if (c == ':') {
			if (!ps->match || ps->pos != ps->target_len) {
				ps->state = ps->host_match && ps->pos == 4 ?
					    HS_HOST_OWS : HS_SKIP_LINE;
			} else if (ps->mode == HTTP_MODE_COOKIE) {
				ps->state = HS_C_OWS;
			} else {
				ps->value_len = 0;
				ps->trim_len = 0;
				ps->state = HS_HVAL_OWS;
			}
			return 0;
		}
		if (ps->match && (ps->pos >= ps->target_len ||
				  http_lower(c) != ps->target[buf_idx(ps->pos, HTTP_NAME_MAX)]))
			ps->match = 0;
		/* "host", little-endian in a constant: a string literal would
		 * be .rodata, whose BTF clang 14 gets wrong. */
		if (ps->host_match &&
		    (ps->pos >= 4 ||
		     http_lower(c) != (char)(0x74736f68U >> (8 * (ps->pos & 3)))))
			ps->host_match = 0;
		if (ps->pos < 255)
			ps->pos++;
		return 0;
	case HS_HOST_OWS:
		if (c == ' ' || c == '\t')
			return 0;
		ps->state = HS_HOST;
		__attribute__((__fallthrough__));
	case HS_HOST:
	case HS_HOST_PORT:
		if (c == '\n') {
			ps->host_len = ps->host_trim;
			ps->have_host = 1;
			ps->state = HS_LINE_START;
			return ps->result == HTTP_FOUND;
		}
		if (c == ':')
			ps->state = HS_HOST_PORT;
		if (ps->state == HS_HOST)
			http_keep_host(ps, http_lower(c));
		return 0;
	case HS_HVAL_OWS:
		if (c == ' ' || c == '\t')
			return 0;
		ps->state = HS_HVAL;
		__attribute__((__fallthrough__));
	case HS_HVAL:
		if (c == '\n')
			return http_found(ps, HS_LINE_START);
		http_keep(ps, c);
		return 0;
	case HS_C_OWS:
		if (c == ' ' || c == '\t')
			return 0;
		ps->pos = 0;
		ps->match = 1;
		ps->state = HS_C_NAME;
		__attribute__((__fallthrough__));
	case HS_C_NAME:
		if (c == '\n') {
			ps->state = HS_LINE_START;
		} else if (c == ';') {		/* a cookie without '=' */
			ps->state = HS_C_OWS;
		} else if (c == '=') {
			if (ps->match && ps->pos == ps->cookie_len) {
				ps->value_len = 0;
				ps->trim_len = 0;
				ps->state = HS_C_VAL;
			} else {
				ps->state = HS_C_SKIP;
			}
		} else {
			if (ps->match && (ps->pos >= ps->cookie_len ||
					  c != ps->cookie[buf_idx(ps->pos, HTTP_NAME_MAX)]))
				ps->match = 0;
			if (ps->pos < 255)
				ps->pos++;
		}
		return 0;
	case HS_C_VAL:
		if (c == ';' || c == '\n')
			return http_found(ps, c == ';' ? HS_SKIP_LINE : HS_LINE_START);
		http_keep(ps, c);
		return 0;
	case HS_C_SKIP:
		if (c == ';')
			ps->state = HS_C_OWS;
		else if (c == '\n')
			ps->state = HS_LINE_START;
		return 0;
	}
	return 1;
}

/*
 * Prepare to look for cookie `name` (mode COOKIE) or header `name` (mode
 * HEADER). name_len < HTTP_NAME_MAX; a header name must be lowercase.
 */
static __always_inline void http_init(struct http_parser *ps, __u8 mode,
				      const char *name, __u8 name_len)
{
	__builtin_memset(ps, 0, sizeof(*ps));
	ps->mode = mode;
	if (mode == HTTP_MODE_COOKIE) {
		__builtin_memcpy(ps->target, "cookie", 6);
		ps->target_len = 6;
		__builtin_memcpy(ps->cookie, name, HTTP_NAME_MAX);
		ps->cookie_len = name_len;
	} else {
		__builtin_memcpy(ps->target, name, HTTP_NAME_MAX);
		ps->target_len = name_len;
	}
}

#endif /* MAGLB_HTTP_H */
