/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http_ref.h - a deliberately plain reference for bpf/lib/http.h: strip
 * '\r', split lines, split cookies with the C library. The fuzzer checks
 * that the state machine always agrees with it.
 */
#ifndef MAGLB_HTTP_REF_H
#define MAGLB_HTTP_REF_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_ref {
	int result;			/* enum http_result */
	char value[HTTP_KEY_MAX];
	int value_len;
	int have_path, path_len, have_host, host_len, line_done;
	char path[HTTP_PATH_MAX + 1], host[HTTP_HOST_MAX];
	/* for a parser with routes: the head's end was seen, the target is
	 * in origin form, and whether the head must be refused */
	int head_done, origin, bad;
};

/* RFC 3986 the plain way, nginx's order: decode every escape, split at
 * '/', drop empty and "." segments, pop for "..". The result's first
 * HTTP_PATH_MAX + 1 bytes go to r->path, its length to r->path_len. */
static inline void ref_norm(const char *p, int n, struct http_ref *r)
{
	char *dec = malloc(n + 1), *out = malloc(n + 2), *seg;
	int *starts = malloc(sizeof(int) * (n + 1));
	int i, k = 0, depth = 0, len = 0, last_dir = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '%') {
			dec[k++] = p[i];
			continue;
		}
		if (i + 2 >= n) {
			r->bad = 1;
			goto out;
		}
		if (!isxdigit((unsigned char)p[i + 1]) || !isxdigit((unsigned char)p[i + 2])) {
			r->bad = 1;
			goto out;
		}
		char hx[3] = { p[i + 1], p[i + 2], 0 };
		int v = (int)strtol(hx, NULL, 16);

		if (v == '/' || v == '\\' || v == 0) {
			r->bad = 1;
			goto out;
		}
		dec[k++] = (char)v;
		i += 2;
	}
	dec[k] = 0;
	/* dec starts with '/' (origin form): walk its segments */
	seg = dec + 1;
	for (;;) {
		char *end = strchr(seg, '/');
		int sl = end ? end - seg : (int)strlen(seg);

		last_dir = 0;
		if (sl == 0 || (sl == 1 && seg[0] == '.')) {
			last_dir = 1;
		} else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			if (!depth) {
				r->bad = 1;
				goto out;
			}
			len = starts[--depth];
			last_dir = 1;
		} else {
			starts[depth++] = len;
			out[len++] = '/';
			memcpy(out + len, seg, sl);
			len += sl;
		}
		if (!end)
			break;
		seg = end + 1;
	}
	if (!len || last_dir)
		out[len++] = '/';
	r->path_len = len;
	memcpy(r->path, out, len > HTTP_PATH_MAX + 1 ? HTTP_PATH_MAX + 1 : len);
out:
	free(dec);
	free(out);
	free(starts);
}


/* Request path and first Host of the complete lines of buf (no '\r'). */
static inline void ref_route(char *buf, size_t n, struct http_ref *r)
{
	char *line = buf, *next, *sp, *end;
	int first = 1;

	while (line < buf + n && (next = memchr(line, '\n', buf + n - line))) {
		if (first) {
			first = 0;
			r->line_done = 1;
			sp = memchr(line, ' ', next - line);
			if (sp) {
				end = memchr(sp + 1, ' ', next - sp - 1);
				if (!end)
					end = next;
				char *q = sp + 1;

				while (q < end && *q != '?' && *q != '#')
					q++;
				r->have_path = 1;
				r->origin = q > sp + 1 && sp[1] == '/';
				if (r->origin)
					ref_norm(sp + 1, q - sp - 1, r);
			}
		} else if (next == line) {
			r->head_done = 1;
			return;			/* end of head */
		} else if (r->have_host && next - line >= 5 &&
			   !strncasecmp(line, "host:", 5)) {
			r->bad = 1;		/* a second Host */
		} else if (!r->have_host && next - line >= 5 &&
			   !strncasecmp(line, "host:", 5)) {
			char *v = line + 5, *colon;
			int k, i;

			while (v < next && (*v == ' ' || *v == '\t'))
				v++;
			colon = memchr(v, ':', next - v);
			k = (colon ? colon : next) - v;
			while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				k--;
			if (k > HTTP_HOST_MAX)
				r->bad = 1;	/* too long to match */
			if (k > HTTP_HOST_MAX)
				k = HTTP_HOST_MAX;
			while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				k--;
			for (i = 0; i < k; i++)
				r->host[i] = tolower((unsigned char)v[i]);
			r->host_len = k;
			r->have_host = 1;
		}
		line = next + 1;
	}
}

static inline void ref_set(struct http_ref *r, const char *v, int n, int cookie)
{
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n > HTTP_KEY_MAX)
		n = HTTP_KEY_MAX;
	/* trimming happens within the kept bytes, as the state machine does */
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (cookie && n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	memcpy(r->value, v, n);
	r->value_len = n;
	r->result = HTTP_FOUND;
}

static inline void http_ref_parse(const char *in, size_t len, int mode,
				  const char *name, struct http_ref *r)
{
	char *buf = malloc(len + 1), *line, *next;
	size_t i, n = 0;
	int first = 1;

	memset(r, 0, sizeof(*r));
	r->result = HTTP_MORE;
	for (i = 0; i < len; i++)
		if (in[i] != '\r')
			buf[n++] = in[i];
	buf[n] = 0;
	if (n == 0)
		goto out;
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		ref_route(buf, n, r);
	if (buf[0] < 'A' || buf[0] > 'Z') {
		r->result = HTTP_NOT_HTTP;
		goto out;
	}
	for (line = buf; line <= buf + n; line = next + 1) {
		char *colon, *v, *end;
		int partial = 0;

		/* A last line without '\n' still yields a cookie that a ';'
		 * already ended; anything else in it needs more bytes. */
		next = memchr(line, '\n', buf + n - line);
		if (!next) {
			if (first || mode == HTTP_MODE_HEADER)
				goto out;
			partial = 1;
			next = buf + n;
		}
		*next = 0;
		if (first) {
			first = 0;
			continue;
		}
		if (!*line) {
			if (!partial)
				r->result = HTTP_ABSENT;
			goto out;
		}
		colon = strchr(line, ':');
		if (!colon) {
			if (partial)
				goto out;
			continue;
		}
		*colon = 0;
		if (strcasecmp(line, mode == HTTP_MODE_COOKIE ? "cookie" : name) ||
		    strlen(line) != strlen(mode == HTTP_MODE_COOKIE ? "cookie" : name))
			continue;
		v = colon + 1;
		if (mode == HTTP_MODE_HEADER) {
			while (*v == ' ' || *v == '\t')
				v++;
			ref_set(r, v, strlen(v), 0);
			goto out;
		}
		while (*v) {
			char *eq, *semi;

			while (*v == ' ' || *v == '\t')
				v++;
			semi = strchr(v, ';');
			if (partial && !semi)
				goto out;
			end = semi ? semi : v + strlen(v);
			eq = memchr(v, '=', end - v);
			if (eq && (size_t)(eq - v) == strlen(name) &&
			    !strncmp(v, name, eq - v)) {
				ref_set(r, eq + 1, end - eq - 1, 1);
				goto out;
			}
			if (!semi)
				break;
			v = semi + 1;
		}
		if (partial)
			goto out;
	}
out:
	free(buf);
}

#endif
