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
	char path[HTTP_PATH_MAX], host[HTTP_HOST_MAX];
};

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
				r->path_len = q - sp - 1 > HTTP_PATH_MAX ?
					      HTTP_PATH_MAX : q - sp - 1;
				memcpy(r->path, sp + 1, r->path_len);
			}
		} else if (next == line) {
			return;			/* end of head */
		} else if (!r->have_host && next - line >= 5 &&
			   !strncasecmp(line, "host:", 5)) {
			char *v = line + 5, *colon;
			int k, i;

			while (v < next && (*v == ' ' || *v == '\t'))
				v++;
			colon = memchr(v, ':', next - v);
			k = (colon ? colon : next) - v;
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
