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
 *    (the request line's second word, without its query or fragment),
 *    normalised as the backend will see it (http_path_*, below), and the
 *    first Host header's value (lowercase, without a port), each once
 *    complete; the first 64 bytes of each are kept;
 *  - it stops once it has the key and the Host, or at the end of the head;
 *    with `routes` set (a listener with route matches) it reads to the end
 *    of the head, checking the whole of it, and stops at a request that a
 *    route must not be picked for (`bad`, answered with a 400).
 *
 * Path normalisation. maglb forwards the client's bytes unchanged, so the
 * route it picks must be the one the backend's own reading of the path
 * implies. nginx (checked with 1.22: tests/e2e/test_routes.sh) decodes
 * every %-escape, merges slashes, then removes dot-segments, and answers
 * 400 to a ".." above the root, %00 and a broken escape. We do the same,
 * one byte at a time (no step loops: the verifier sees straight code):
 *  - every %XX is decoded (so no hex case is left to normalise); %2F and
 *    %5C are a 400: nginx reads %2F as a slash, other servers (Envoy's
 *    default among them) as data, so no single view is the backend's;
 *  - slashes are merged before dot-segments are removed (nginx's order:
 *    /a//../b is /b, not RFC 3986's /a/b);
 *  - "." and ".." segments go (RFC 3986 section 5.2.4); a ".." that would
 *    climb above the root is a 400;
 *  - the absolute form (GET http://host/path) is read as nginx does, the
 *    authority as the host; the Host header must name the same host and
 *    port (the scheme's default when none), or it is a 400; so is one
 *    with userinfo, an IPv6 literal, or no Host header at all;
 *  - a second Host header is a 400, as in nginx;
 *  - with routes, a Host (or authority) longer than 64 bytes is a 400:
 *    route hosts compare up to 64, and a cut name could match a suffix
 *    it does not have.
 * The whole path is normalised, however long (within the MAGLB_HEAD_MAX
 * head): the first 64 bytes are kept, plus byte 64 and whether the path is
 * longer, which is all a match of at most 64 bytes needs. The offsets of
 * the kept slashes are a 64-bit map, so ".." finds its parent with a
 * 6-step search; slashes past byte 64 are only counted (`deep`), since
 * removing one never changes the kept bytes.
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

/* Why a head must not be routed: answered with a 400 (splice_first.h). */
enum http_bad {
	HTTP_BAD_NONE = 0,
	HTTP_BAD_ESCAPE,	/* '%' without two hex digits, or %00 */
	HTTP_BAD_SLASH,		/* %2F or %5C */
	HTTP_BAD_DOTDOT,	/* ".." above the root */
	HTTP_BAD_TARGET,	/* not origin form nor http(s)://host */
	HTTP_BAD_AUTHORITY,	/* absolute form: Host names another */
	HTTP_BAD_DUP_HOST,	/* a second Host header */
	HTTP_BAD_LONG_HOST,	/* Host or authority over HTTP_HOST_MAX */
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
	HS_TARGET,		/* request-target's first byte */
	HS_SCHEME,		/* absolute form: "http://" or "https://" */
	HS_AUTH,		/* absolute form: the authority's host */
	HS_AUTH_PORT,		/* absolute form: after ':' */
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
	__u16 path_len;		/* > HTTP_PATH_MAX: longer than kept */
	char host[HTTP_HOST_MAX];
	char path[HTTP_PATH_MAX];
	/* normalisation and the checks that go with routes */
	__u64 slashes;		/* bit k: path[k] is a kept '/' */
	__u16 deep;		/* slashes at or past byte HTTP_PATH_MAX */
	__u8 path_over;		/* path byte HTTP_PATH_MAX */
	__u8 seg_len;		/* current segment's bytes, up to 3 */
	__u8 seg_dots;		/* ... all of them '.' */
	__u8 pct;		/* 1, 2: hex digits of a %XX read */
	__u8 pct_val;
	__u8 routes;		/* set by the caller: check, read it all */
	__u8 bad;		/* enum http_bad */
	__u8 abs;		/* absolute form: 1 http, 2 https */
	__u8 hosts;		/* Host headers seen, up to 2 */
	__u8 host_long;		/* the host did not fit */
	__u8 cmp_pos;		/* Host vs authority: bytes compared */
	__u8 cmp_diff;		/* ... they differ */
	__u8 cmp_ws;		/* ... whitespace seen */
	__u8 pad3;
	__u32 auth_port;	/* absolute form's port, 0: none */
	__u32 host_port;	/* Host header's port, 0: none */
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
	return ps->have_host && !ps->routes ? 1 : 0;
}

static __always_inline void http_keep_host(struct http_parser *ps, char c)
{
	__u16 n = ps->host_len;

	if (n >= HTTP_HOST_MAX) {
		if (c != ' ' && c != '\t')
			ps->host_long = 1;
		return;
	}
	ps->host[buf_idx(n, HTTP_HOST_MAX)] = c;
	ps->host_len = n + 1;
	if (c != ' ' && c != '\t')
		ps->host_trim = n + 1;
}

/* A request a route must not be picked for. Final with routes; without,
 * nothing reads the path, and the parse goes on for the key. */
static __always_inline int http_bad(struct http_parser *ps, __u8 why)
{
	if (!ps->bad)
		ps->bad = why;
	return ps->routes;
}

static __always_inline int http_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = http_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Highest set bit of x (x != 0): six steps, no loop. */
static __always_inline __u32 http_fls64(__u64 x)
{
	__u32 r = 0;

	if (x >> 32) { x >>= 32; r += 32; }
	if (x >> 16) { x >>= 16; r += 16; }
	if (x >> 8) { x >>= 8; r += 8; }
	if (x >> 4) { x >>= 4; r += 4; }
	if (x >> 2) { x >>= 2; r += 2; }
	if (x >> 1)
		r += 1;
	return r;
}

/* Append one byte to the normalised path. Past the kept bytes only the
 * length moves (and byte HTTP_PATH_MAX is kept for the segment rule). */
static __always_inline void http_path_put(struct http_parser *ps, char c)
{
	__u16 n = ps->path_len;

	if (n < HTTP_PATH_MAX)
		ps->path[buf_idx(n, HTTP_PATH_MAX)] = c;
	else if (n == HTTP_PATH_MAX)
		ps->path_over = c;
	if (n < 0xffff)
		ps->path_len = n + 1;
}

/* A decoded byte of a segment. */
static __always_inline void http_path_char(struct http_parser *ps, char c)
{
	if (c != '.')
		ps->seg_dots = 0;
	if (ps->seg_len < 3)
		ps->seg_len++;
	http_path_put(ps, c);
}

/* The current segment is "." or "..": remove it (and, for "..", the
 * segment before it), leaving the path ending in that segment's '/'.
 * While slashes past the kept bytes remain (deep) the length is only
 * known to be past them, so it stays above HTTP_PATH_MAX. Returns 1 when
 * the parse is final (a ".." above the root). */
static __always_inline int http_path_dots(struct http_parser *ps)
{
	__u32 top;

	if (ps->seg_len == 1) {
		ps->path_len--;
	} else {
		/* drop the ".." segment's own slash, then cut after its
		 * parent's */
		if (ps->deep) {
			ps->deep--;
		} else if (ps->slashes) {
			ps->slashes &= ~(1ULL << http_fls64(ps->slashes));
		}
		if (!ps->deep) {
			if (!ps->slashes)
				return http_bad(ps, HTTP_BAD_DOTDOT);
			top = http_fls64(ps->slashes);
			ps->path_len = top + 1;
		}
	}
	if (ps->deep && ps->path_len <= HTTP_PATH_MAX)
		ps->path_len = HTTP_PATH_MAX + 1;
	ps->seg_len = 0;
	ps->seg_dots = 1;
	return 0;
}

/* A literal '/' of the path. */
static __always_inline int http_path_slash(struct http_parser *ps)
{
	__u16 n = ps->path_len;

	if (n && !ps->seg_len)
		return 0;			/* merged into the last one */
	if (n && ps->seg_dots && ps->seg_len <= 2)
		return http_path_dots(ps);
	if (n < HTTP_PATH_MAX)
		ps->slashes |= 1ULL << n;
	else if (ps->deep < 0xffff)
		ps->deep++;
	http_path_put(ps, '/');
	ps->seg_len = 0;
	ps->seg_dots = 1;
	return 0;
}

/* The path ended (at ' ', '\n', '?' or '#'). */
static __always_inline int http_path_end(struct http_parser *ps)
{
	ps->have_path = 1;
	if (ps->pct)
		return http_bad(ps, HTTP_BAD_ESCAPE);
	if (ps->path_len && ps->seg_dots && ps->seg_len &&
	    ps->seg_len <= 2 && http_path_dots(ps))
		return 1;
	if (!ps->path_len)
		http_path_put(ps, '/');		/* http://host is http://host/ */
	return 0;
}

/* One byte of the path (before its end). */
static __always_inline int http_path_byte(struct http_parser *ps, char c)
{
	int h;

	if (ps->pct) {
		h = http_hex(c);
		if (h < 0)
			return http_bad(ps, HTTP_BAD_ESCAPE);
		if (ps->pct == 1) {
			ps->pct_val = h;
			ps->pct = 2;
			return 0;
		}
		ps->pct = 0;
		c = (char)(ps->pct_val << 4 | h);
		if (c == '/' || c == '\\')
			return http_bad(ps, HTTP_BAD_SLASH);
		if (!c)
			return http_bad(ps, HTTP_BAD_ESCAPE);
		http_path_char(ps, c);
		return 0;
	}
	if (c == '%') {
		ps->pct = 1;
		return 0;
	}
	if (c == '/')
		return http_path_slash(ps);
	http_path_char(ps, c);
	return 0;
}

/* A port digit (or not) into *port; 0x10000 and up: not a port. */
static __always_inline void http_port(__u32 *port, char c)
{
	if (c >= '0' && c <= '9' && *port < 0x10000)
		*port = *port * 10 + (c - '0');
	else if (c != ' ' && c != '\t')
		*port = 0x10000;
}

/* A Host header byte while the authority is the host: compare, don't
 * keep. Whitespace may only trail. */
static __always_inline void http_host_cmp(struct http_parser *ps, char c)
{
	if (c == ' ' || c == '\t') {
		ps->cmp_ws = 1;
		return;
	}
	if (ps->cmp_ws || ps->cmp_pos >= ps->host_len ||
	    ps->host[buf_idx(ps->cmp_pos, HTTP_HOST_MAX)] != c)
		ps->cmp_diff = 1;
	if (ps->cmp_pos < 255)
		ps->cmp_pos++;
}

/* The Host header ended. 1: the parse is final. */
static __always_inline int http_host_end(struct http_parser *ps)
{
	__u32 dflt = ps->abs == 2 ? 443 : 80;
	__u32 a = ps->auth_port ? ps->auth_port : dflt;
	__u32 h = ps->host_port ? ps->host_port : dflt;

	if (!ps->abs) {
		ps->host_len = ps->host_trim;
		ps->have_host = 1;
		if (ps->routes && ps->host_long)
			return http_bad(ps, HTTP_BAD_LONG_HOST);
		return 0;
	}
	if (ps->cmp_diff || ps->cmp_pos != ps->host_len || a != h ||
	    a >= 0x10000)
		return http_bad(ps, HTTP_BAD_AUTHORITY);
	return 0;
}

/* The request-target's first byte: origin form, or absolute form. */
static __always_inline int http_target(struct http_parser *ps, char c)
{
	if (http_lower(c) == 'h' && ps->routes) {
		ps->pos = 1;
		ps->state = HS_SCHEME;
		return 0;
	}
	ps->state = HS_PATH;
	return http_path_byte(ps, c);
}

/* "http://" or "https://" after the 'h': pos counts what matched. */
static __always_inline int http_scheme(struct http_parser *ps, char c)
{
	__u8 i = ps->pos;
	int ok;

	c = http_lower(c);
	if (i == 4 && c == 's' && !ps->abs) {
		ps->abs = 2;		/* pos stays: ':' comes next */
		return 0;
	}
	/* "ttp://" little-endian in a constant: a string literal would be
	 * .rodata, whose BTF clang 14 gets wrong (as "host" below). */
	ok = i >= 1 && i <= 6 &&
	     c == (char)(0x2f2f3a707474ULL >> (8 * ((i - 1) & 7)));
	if (!ok)
		return http_bad(ps, HTTP_BAD_TARGET);
	if (i == 4 && !ps->abs)
		ps->abs = 1;
	if (i == 6)
		ps->state = HS_AUTH;
	ps->pos = i + 1;
	return 0;
}

/* The absolute form's authority, until the path. */
static __always_inline int http_auth(struct http_parser *ps, char c)
{
	if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\n') {
		if (!ps->host_len || ps->host_long || ps->auth_port >= 0x10000)
			return http_bad(ps, ps->host_long ? HTTP_BAD_LONG_HOST :
						       HTTP_BAD_AUTHORITY);
		ps->have_host = 1;
		ps->state = HS_PATH;
		if (c == '/')
			return http_path_slash(ps);
		if (http_path_end(ps))
			return 1;
		ps->state = c == ' ' ? HS_SKIP_LINE :
			    c == '\n' ? HS_LINE_START : HS_QUERY;
		return 0;
	}
	if (c == '@' || c == '[' || c == '%')
		return http_bad(ps, HTTP_BAD_AUTHORITY);
	if (ps->state == HS_AUTH_PORT) {
		http_port(&ps->auth_port, c);
		return 0;
	}
	if (c == ':') {
		ps->state = HS_AUTH_PORT;
		return 0;
	}
	http_keep_host(ps, http_lower(c));
	return 0;
}

/* Feed one byte. Returns 1 when the result is final, 0 for more. */
static __always_inline int http_step_one(struct http_parser *ps, char c)
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
			ps->state = HS_TARGET;
		else if (c == '\n')
			ps->state = HS_LINE_START;
		return 0;
	case HS_TARGET:
		if (c == ' ' || c == '\n') {
			ps->have_path = 1;
			ps->state = c == ' ' ? HS_SKIP_LINE : HS_LINE_START;
			return 0;
		}
		return http_target(ps, c);
	case HS_SCHEME:
		if (c == ' ' || c == '\n')
			return http_bad(ps, HTTP_BAD_TARGET);
		return http_scheme(ps, c);
	case HS_AUTH:
	case HS_AUTH_PORT:
		return http_auth(ps, c);
	case HS_PATH:
		if (c == ' ' || c == '\n' || c == '?' || c == '#') {
			if (http_path_end(ps))
				return 1;
			ps->state = c == ' ' ? HS_SKIP_LINE :
				    c == '\n' ? HS_LINE_START : HS_QUERY;
			return 0;
		}
		if (http_path_byte(ps, c))
			return 1;
		if (ps->bad)		/* without routes: skip the rest */
			ps->state = HS_QUERY;
		return 0;
	case HS_QUERY:
		if (c == ' ' || c == '\n') {
			ps->have_path = 1;
			ps->state = c == ' ' ? HS_SKIP_LINE : HS_LINE_START;
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
			if (ps->abs && !ps->hosts)
				http_bad(ps, HTTP_BAD_AUTHORITY);
			return 1;
		}
		ps->pos = 0;
		ps->match = ps->result != HTTP_FOUND;	/* first key wins */
		/* with routes every Host is read: a second one is refused */
		ps->host_match = ps->routes || !ps->have_host;
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
				if (ps->state == HS_HOST_OWS && ps->routes &&
				    ps->hosts++)
					return http_bad(ps, HTTP_BAD_DUP_HOST);
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
			ps->state = HS_LINE_START;
			if (http_host_end(ps))
				return 1;
			return ps->result == HTTP_FOUND && !ps->routes;
		}
		if (ps->state == HS_HOST_PORT) {
			http_port(&ps->host_port, c);
			return 0;
		}
		if (c == ':') {
			ps->state = HS_HOST_PORT;
			return 0;
		}
		if (ps->abs)
			http_host_cmp(ps, http_lower(c));
		else
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

/* A byte that leaves the parser as it is: the rest of a header line we
 * do not read, or of a cookie we do not want. Most of a browser's head is
 * such bytes (User-Agent, Accept-*, other cookies), so http_feed tests
 * this inline and calls http_step only for the others: the call and the
 * state machine's switch cost more than the byte (a 600-byte head: 9.5
 * against 4.2 us before routes made the parser read the whole head). */
static __always_inline int http_ignores(const struct http_parser *ps, char c)
{
	__u8 st = ps->state;

	return (st == HS_SKIP_LINE && c != '\n') ||
	       (st == HS_C_SKIP && c != ';' && c != '\n');
}

/*
 * http_step: one byte. In BPF a global function, which the verifier
 * checks once, on its own: inlined, the normaliser's branches times the
 * HTTP_CHUNK bytes of a bpf_loop() callback took maglb_splice_first past
 * a million instructions. A call per byte costs a few instructions.
 */
#ifdef __bpf__
__noinline int http_step(struct http_parser *ps, char c)
{
	if (!ps)		/* a global function's pointer may be NULL */
		return 1;
	return http_step_one(ps, c);
}
#else
static inline int http_step(struct http_parser *ps, char c)
{
	return http_step_one(ps, c);
}
#endif

/* Feed one byte, as http_step does: every caller's way in. */
static __always_inline int http_feed(struct http_parser *ps, char c)
{
	if (http_ignores(ps, c))
		return 0;
	return http_step(ps, c);
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
