// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * routes.c - what an HTTPRoute match means to maglb, and the order a
 * listener's matches are tried in (Gateway API precedence). The datapath
 * (bpf/lib/route.h) takes the first match that fits, so this order is
 * the precedence.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "input/routes.h"
#include "lib/http.h"

/* A hostname: "www.example.com" is exact, "*.example.com" matches any
 * name that ends in ".example.com" (one label or more, as Gateway API
 * says), stored as that suffix. */
int route_read_hostname(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			 struct cfg_match *m)
{
	const char *s;
	size_t i, len;

	if (cfg_str(c, n, path, &s))
		return -1;
	m->host_match = strncmp(s, "*.", 2) ? MAGLB_MATCH_EXACT : MAGLB_MATCH_PREFIX;
	if (m->host_match == MAGLB_MATCH_PREFIX)
		s++;
	len = strlen(s);
	if (!len || len > MAGLB_MATCH_LEN)
		return cfg_fail(c, n, path, "\"%s\": 1..%d characters (maglb compares the Host's first %d)",
				s, MAGLB_MATCH_LEN, MAGLB_MATCH_LEN);
	for (i = 0; i < len; i++) {
		char ch = http_lower(s[i]);

		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '.')
			return cfg_fail(c, n, path, "\"%s\" is not a hostname (a wildcard is only a leading \"*.\")", s);
		m->host[i] = ch;
	}
	m->host[len] = 0;
	return 0;
}

/* v (starting with '/') has no escape, no empty, "." or ".." segment
 * (but may end in '/'). */
static bool route_path_normal(const char *v)
{
	const char *s = v;

	if (strchr(v, '%'))
		return false;
	while (*s == '/') {
		const char *e = strchr(s + 1, '/');
		size_t n;

		if (!e)
			e = s + strlen(s);
		n = e - s - 1;

		if ((n == 0 && *e) || (n == 1 && s[1] == '.') ||
		    (n == 2 && s[1] == '.' && s[2] == '.'))
			return false;
		s = e;
	}
	return true;
}

int route_read_path(struct cfg_ctx *c, yaml_node_t *pm, const char *path,
		     struct cfg_match *m)
{
	static const char *const known[] = { "type", "value", NULL };
	const char *type, *v;
	char p[PATH_LEN];

	if (cfg_check_fields(c, pm, path, known))
		return -1;
	type = cfg_scalar(cfg_get(c, pm, "type")) ?: "PathPrefix";
	v = cfg_scalar(cfg_get(c, pm, "value")) ?: "/";
	snprintf(p, sizeof(p), "%s.value", path);
	if (strcmp(type, "PathPrefix") && strcmp(type, "Exact"))
		return cfg_fail(c, pm, path, "type %s is not supported (PathPrefix or Exact)", type);
	if (v[0] != '/' || strlen(v) > MAGLB_MATCH_LEN || strpbrk(v, "?# \t"))
		return cfg_fail(c, pm, p, "\"%s\": a path of 1..%d characters starting with /",
				v, MAGLB_MATCH_LEN);
	/* Requests are matched with their path normalised (bpf/lib/http.h):
	 * a value that is not normalised itself could never match. */
	if (!route_path_normal(v))
		return cfg_fail(c, pm, p, "\"%s\": not a normalised path (no %%-escapes, "
				"\"//\", \".\" or \"..\" segments): requests are matched normalised",
				v);
	/* PathPrefix "/" is every path: Gateway API's default match. */
	if (!strcmp(type, "PathPrefix") && !strcmp(v, "/"))
		return 0;
	m->path_match = strcmp(type, "Exact") ? MAGLB_MATCH_PREFIX : MAGLB_MATCH_EXACT;
	snprintf(m->path, sizeof(m->path), "%s", v);
	/* a trailing slash is not part of the segment match */
	if (m->path_match == MAGLB_MATCH_PREFIX && strlen(m->path) > 1 &&
	    m->path[strlen(m->path) - 1] == '/')
		m->path[strlen(m->path) - 1] = 0;
	return 0;
}

/* Gateway API precedence: exact host, then the longest wildcard, then
 * none; then exact path, then the longest prefix, then none; ties go to
 * the route first by namespace/name (we have no creation times), then the
 * rule order. */
static int rank(__u8 kind, const char *s)
{
	return kind == MAGLB_MATCH_EXACT ? 1000 :
	       kind == MAGLB_MATCH_PREFIX ? 100 + (int)strlen(s) : 0;
}

static int cmp_rank(const void *x, const void *y)
{
	const struct route_rank *a = x, *b = y;
	int d;

	if ((d = rank(b->m.host_match, b->m.host) - rank(a->m.host_match, a->m.host)))
		return d;
	if ((d = rank(b->m.path_match, b->m.path) - rank(a->m.path_match, a->m.path)))
		return d;
	if ((d = strcmp(a->ns, b->ns)) || (d = strcmp(a->name, b->name)))
		return d;
	return a->rule - b->rule;
}

void routes_order(struct route_rank *r, int n)
{
	qsort(r, n, sizeof(*r), cmp_rank);
}
