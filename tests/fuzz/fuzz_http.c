// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http.c - libFuzzer target: the request-head state machine
 * (bpf/lib/http.h) must never crash and must always agree with the plain
 * reference parser (tests/lib/http_ref.h). Byte 0 picks the mode, the
 * name looked for and (bit 3) whether a listener with routes reads it:
 * then the normalised path and the 400 must agree too; the rest is the
 * head.
 */
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/http.h"
#include "http_ref.h"

static const char *const names[] = { "FooBar", "a", "session-id", "x-user" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[HTTP_NAME_MAX] = {};
	struct http_parser ps, one;
	struct http_ref ref;
	const char *head;
	size_t i, n;
	int mode, routes, checked;

	if (size < 1)
		return 0;
	mode = data[0] & 1 ? HTTP_MODE_HEADER : HTTP_MODE_COOKIE;
	strcpy(name, names[(data[0] >> 1) & 3]);
	/* Header targets are stored lowercase (the agent lowercases them). */
	for (i = 0; mode == HTTP_MODE_HEADER && name[i]; i++)
		name[i] = http_lower(name[i]);
	head = (const char *)data + 1;
	n = size - 1;
	/* NUL cannot reach the reference's string functions intact. */
	if (memchr(head, 0, n))
		return 0;
	routes = (data[0] >> 3) & 1;
	http_init(&ps, mode, name, strlen(name));
	ps.routes = routes;
	for (i = 0; i < n; i++)
		if (http_feed(&ps, head[i]))
			break;
	/* http_feed skips the bytes the state machine ignores: the state
	 * must be the one byte-by-byte http_step reaches. */
	http_init(&one, mode, name, strlen(name));
	one.routes = routes;
	for (i = 0; i < n; i++)
		if (http_step(&one, head[i]))
			break;
	if (memcmp(&one, &ps, sizeof(ps))) {
		fprintf(stderr, "skip disagreement: http_feed and http_step end in other states\n");
		abort();
	}
	http_ref_parse(head, n, mode, name, &ref);
	/* With routes: a head the reference read to its end, in origin form,
	 * is refused by both or by neither; and a refused one stops the
	 * parser wherever it is, so nothing else is compared. */
	checked = routes && ps.result != HTTP_NOT_HTTP && ref.head_done && ref.origin;
	if (checked && !!ps.bad != ref.bad) {
		fprintf(stderr, "400 disagreement: parser %d, reference %d\n", ps.bad, ref.bad);
		abort();
	}
	if (routes && (ps.bad || ps.abs || !ref.origin || ref.bad))
		return 0;
	if (ps.result != HTTP_NOT_HTTP && ref.line_done && ref.origin &&
	    !ps.bad && !ref.bad && ps.have_path && ps.path_len <= HTTP_PATH_MAX + 1 &&
	    ref.path_len != ps.path_len && (ref.path_len <= HTTP_PATH_MAX ||
					    ps.path_len <= HTTP_PATH_MAX)) {
		fprintf(stderr, "path length disagreement: %d vs %d\n", ps.path_len, ref.path_len);
		abort();
	}
	if (ps.result != HTTP_NOT_HTTP && ref.line_done && ref.origin && ps.have_path &&
	    !ps.bad && !ref.bad &&
	    (memcmp(ps.path, ref.path, ps.path_len < HTTP_PATH_MAX ? ps.path_len : HTTP_PATH_MAX) ||
	     (ps.path_len > HTTP_PATH_MAX && ps.path_over != (__u8)ref.path[HTTP_PATH_MAX]))) {
		fprintf(stderr, "path disagreement: \"%.*s\" vs \"%.*s\"\n",
			ps.path_len > 64 ? 64 : ps.path_len, ps.path, ref.path_len > 64 ? 64 : ref.path_len, ref.path);
		abort();
	}
	/* Once the parser stopped early it may not have read the Host; it
	 * must agree wherever it read the whole head or found the Host. */
	if (ps.result != HTTP_NOT_HTTP && ref.line_done &&
	    ps.have_path != ref.have_path) {
		fprintf(stderr, "path seen by one only\n");
		abort();
	}
	if (ps.result != HTTP_NOT_HTTP && ps.have_host &&
	    (!ref.have_host || ps.host_len != ref.host_len ||
	     memcmp(ps.host, ref.host, ps.host_len))) {
		fprintf(stderr, "host disagreement: \"%.*s\" vs \"%.*s\"\n",
			ps.host_len, ps.host, ref.host_len, ref.host);
		abort();
	}
	if (ps.result == HTTP_ABSENT && ref.have_host && !ps.have_host) {
		fprintf(stderr, "host missed\n");
		abort();
	}
	if (ps.result != ref.result ||
	    (ps.result == HTTP_FOUND &&
	     (ps.value_len != ref.value_len ||
	      memcmp(ps.value + ps.value_off, ref.value, ps.value_len)))) {
		fprintf(stderr, "disagreement: parser %d \"%.*s\", reference %d \"%.*s\"\n",
			ps.result, ps.value_len, ps.value + ps.value_off, ref.result,
			ref.value_len, ref.value);
		abort();
	}
	return 0;
}
