// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_http.c - the request-head parser (bpf/lib/http.h), compiled for
 * userspace from the same source the XDP program uses.
 */
#include <linux/types.h>
#include <stdio.h>
#include <string.h>
#include "lib/http.h"
#include "maglb_hash.h"
#include "testlib.h"

struct http_case {
	const char *name;
	int mode;
	const char *key;
	const char *head;
	int result;
	const char *value;
};

#define GET "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n"

static const struct http_case cases[] = {
	{ "cookie_value_is_found", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: FooBar=1.2.3.4\r\n\r\n", HTTP_FOUND, "1.2.3.4" },
	{ "cookie_name_matches_exactly_not_as_suffix", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: XFooBar=1; FooBarX=2; FooBar=3\r\n\r\n", HTTP_FOUND, "3" },
	{ "cookie_name_is_case_sensitive", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: foobar=1\r\n\r\n", HTTP_ABSENT, NULL },
	{ "first_matching_cookie_wins", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: a=b; FooBar=first; FooBar=second\r\n\r\n", HTTP_FOUND, "first" },
	{ "first_match_wins_across_cookie_headers", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: a=b\r\ncookie: FooBar=one\r\nCookie: FooBar=two\r\n\r\n", HTTP_FOUND, "one" },
	{ "surrounding_quotes_are_stripped", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: FooBar=\"5.6.7.8\"\r\n\r\n", HTTP_FOUND, "5.6.7.8" },
	{ "unbalanced_quote_is_kept", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: FooBar=\"5.6\r\n\r\n", HTTP_FOUND, "\"5.6" },
	{ "empty_cookie_value_is_a_value", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: FooBar=; x=y\r\n\r\n", HTTP_FOUND, "" },
	{ "cookie_header_name_is_case_insensitive", HTTP_MODE_COOKIE, "FooBar",
	  GET "COOKIE: FooBar=v\r\n\r\n", HTTP_FOUND, "v" },
	{ "cookie_absent_in_complete_head", HTTP_MODE_COOKIE, "FooBar",
	  GET "Accept: */*\r\n\r\n", HTTP_ABSENT, NULL },
	{ "set_cookie_like_headers_do_not_count", HTTP_MODE_COOKIE, "FooBar",
	  GET "X-Cookie: FooBar=1\r\nCookies: FooBar=2\r\n\r\n", HTTP_ABSENT, NULL },
	{ "incomplete_head_without_cookie_needs_more", HTTP_MODE_COOKIE, "FooBar",
	  GET "Accept: */*\r\nUser-Ag", HTTP_MORE, NULL },
	{ "cookie_found_before_head_ends", HTTP_MODE_COOKIE, "FooBar",
	  GET "Cookie: FooBar=early; z=1\r\nUser-Ag", HTTP_FOUND, "early" },
	{ "bare_newlines_work", HTTP_MODE_COOKIE, "FooBar",
	  "GET / HTTP/1.0\nCookie: FooBar=nl\n\n", HTTP_FOUND, "nl" },
	{ "tls_client_hello_is_not_http", HTTP_MODE_COOKIE, "FooBar",
	  "\x16\x03\x01\x02\x00\x01", HTTP_NOT_HTTP, NULL },
	{ "header_name_is_case_insensitive", HTTP_MODE_HEADER, "x-user",
	  GET "X-USER: alice\r\n\r\n", HTTP_FOUND, "alice" },
	{ "header_value_is_trimmed", HTTP_MODE_HEADER, "x-user",
	  GET "x-user: \t bob \t\r\n\r\n", HTTP_FOUND, "bob" },
	{ "header_quotes_are_kept", HTTP_MODE_HEADER, "x-user",
	  GET "x-user: \"q\"\r\n\r\n", HTTP_FOUND, "\"q\"" },
	{ "header_prefix_does_not_match", HTTP_MODE_HEADER, "x-user",
	  GET "x-user-id: 1\r\nx-use: 2\r\n\r\n", HTTP_ABSENT, NULL },
	{ "first_header_wins", HTTP_MODE_HEADER, "x-user",
	  GET "x-user: one\r\nx-user: two\r\n\r\n", HTTP_FOUND, "one" },
};

static int run(const struct http_case *c)
{
	char name[HTTP_NAME_MAX] = {};
	struct http_parser ps;
	size_t i, n = strlen(c->head);

	/* the TLS case has an embedded NUL-free but binary prefix */
	strncpy(name, c->key, sizeof(name) - 1);
	http_init(&ps, c->mode, name, strlen(c->key));
	for (i = 0; i < n; i++)
		if (http_feed(&ps, c->head[i]))
			break;
	ASSERT_EQ(ps.result, c->result);
	if (c->value) {
		ASSERT_EQ(ps.value_len, strlen(c->value));
		ASSERT_TRUE(!memcmp(ps.value + ps.value_off, c->value, ps.value_len),
			    "value \"%.*s\", want \"%s\"", ps.value_len,
			    ps.value + ps.value_off, c->value);
	}
	return 0;
}

static int long_values_keep_the_first_128_bytes(void)
{
	char head[1024], want[HTTP_KEY_MAX], name[HTTP_NAME_MAX] = "k";
	struct http_parser ps;
	int i, n;

	memset(want, 'v', sizeof(want));
	n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nCookie: k=");
	for (i = 0; i < 300; i++)
		head[n++] = 'v';
	n += snprintf(head + n, sizeof(head) - n, "\r\n\r\n");
	http_init(&ps, HTTP_MODE_COOKIE, name, 1);
	for (i = 0; i < n && !http_feed(&ps, head[i]); i++)
		;
	ASSERT_EQ(ps.result, HTTP_FOUND);
	ASSERT_EQ(ps.value_len, HTTP_KEY_MAX);
	ASSERT_TRUE(!memcmp(ps.value, want, HTTP_KEY_MAX), "value differs");
	return 0;
}

struct route_case {
	const char *head;
	const char *path, *host;	/* NULL: not recorded */
};

static const struct route_case routes[] = {
	/* routes match the path without its query, the host without port */
	{ "GET /cookie?x=1 HTTP/1.1\r\nHost: www.example.com:8080\r\nCookie: FooBar=v\r\n\r\n",
	  "/cookie", "www.example.com" },
	{ "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", "/a", "a" },
	/* Host after the cookie: the parser reads on until it has it; names
	 * compare case-insensitively, so it is kept lowercase */
	{ "GET /a HTTP/1.1\r\nCookie: FooBar=v\r\nHOST:  Example.COM \r\n\r\n",
	  "/a", "example.com" },
	{ "GET / HTTP/1.1\r\nHost: one\r\nHost: two\r\n\r\n", "/", "one" },
	{ "GET /no-host HTTP/1.0\r\nCookie: FooBar=v\r\n\r\n", "/no-host", NULL },
	{ "GET /partial", NULL, NULL },
};

static int route_facts_are_recorded(void)
{
	char name[HTTP_NAME_MAX] = "FooBar";
	struct http_parser ps;
	size_t c, i;

	for (c = 0; c < sizeof(routes) / sizeof(routes[0]); c++) {
		const struct route_case *r = &routes[c];

		http_init(&ps, HTTP_MODE_COOKIE, name, 6);
		for (i = 0; i < strlen(r->head); i++)
			if (http_feed(&ps, r->head[i]))
				break;
		ASSERT_EQ(ps.have_path, r->path != NULL);
		if (r->path)
			ASSERT_TRUE(ps.path_len == strlen(r->path) &&
				    !memcmp(ps.path, r->path, ps.path_len),
				    "case %zu: path \"%.*s\"", c, ps.path_len, ps.path);
		ASSERT_EQ(ps.have_host, r->host != NULL);
		if (r->host)
			ASSERT_TRUE(ps.host_len == strlen(r->host) &&
				    !memcmp(ps.host, r->host, ps.host_len),
				    "case %zu: host \"%.*s\"", c, ps.host_len, ps.host);
	}
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_report(cases[i].name, run(&cases[i]));
	RUN_TEST(long_values_keep_the_first_128_bytes);
	RUN_TEST(route_facts_are_recorded);
	return test_exit();
}
