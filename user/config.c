// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - YAML (libyaml document API) to struct maglb_config. Every
 * field is checked here, before anything touches a map, so a bad file can
 * never change what is running. Unknown fields are errors: a typo must not
 * silently become a default.
 *
 * The loadBalancer block uses Envoy Gateway's BackendTrafficPolicy names.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "addr.h"
#include "config.h"
#include "maglev.h"
#include "lib/http.h"

#define SNAT_PORT_MIN_DEFAULT	20000
#define SNAT_PORT_MAX_DEFAULT	29999
#define WEIGHT_MAX		1000000

struct ctx {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, yaml_node_t *n, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, yaml_node_t *n, const char *path,
		const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file,
		 n ? (unsigned long)n->start_mark.line + 1 : 1UL, path, reason);
	return -1;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		(const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(struct ctx *c, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(c->doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(c->doc, p->value);
	}
	return NULL;
}

/* Reject fields we do not know, naming them. */
static int check_fields(struct ctx *c, yaml_node_t *map, const char *path,
			const char *const *known)
{
	yaml_node_pair_t *p;
	const char *const *k;

	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, path, "must be a mapping");
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *name = scalar(kn);

		if (!name)
			return fail(c, kn, path, "field names must be scalars");
		for (k = known; *k; k++)
			if (!strcmp(*k, name))
				break;
		if (!*k) {
			char sub[256];

			snprintf(sub, sizeof(sub), "%s.%s", path, name);
			return fail(c, kn, sub, "unknown field");
		}
	}
	return 0;
}

static int get_str(struct ctx *c, yaml_node_t *n, const char *path,
		   const char **out)
{
	*out = scalar(n);
	if (!*out)
		return fail(c, n, path, "must be a string");
	return 0;
}

#define PATH_LEN 256

/* Field NAME of MAP, its dotted path written to p. opt() returns NULL when
 * it is absent; need() also fails with "required" then. */
static yaml_node_t *opt(struct ctx *c, yaml_node_t *map, const char *path,
			const char *name, char *p)
{
	snprintf(p, PATH_LEN, "%s.%s", path, name);
	return map_get(c, map, name);
}

static yaml_node_t *need(struct ctx *c, yaml_node_t *map, const char *path,
			 const char *name, char *p, const char *hint)
{
	yaml_node_t *n = opt(c, map, path, name, p);

	if (!n)
		fail(c, map, p, "required%s", hint);
	return n;
}

static int get_uint(struct ctx *c, yaml_node_t *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s = scalar(n);
	char *end;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return fail(c, n, path, "must be a whole number");
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end)
		return fail(c, n, path, "\"%s\" is not a whole number", s);
	if (*out < min || *out > max)
		return fail(c, n, path, "%lu is out of range %lu..%lu", *out,
			    min, max);
	return 0;
}

static int get_bool(struct ctx *c, yaml_node_t *n, const char *path,
		    bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = !strcmp(s, "true");
		return 0;
	}
	return fail(c, n, path, "must be true or false");
}

/* "250ms", "90", "90s", "5m", "6h" -> milliseconds, 1 ms .. max_ms. */
static int parse_duration(struct ctx *c, yaml_node_t *n, const char *path,
			  __u64 max_ms, __u64 *out)
{
	const char *s = scalar(n);
	unsigned long long v, mult = 1000;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return fail(c, n, path, "must be a duration like 500ms, 60s, 5m, 6h");
	v = strtoull(s, &end, 10);
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else if (*end && strcmp(end, "s"))
		return fail(c, n, path, "\"%s\": unit must be ms, s, m or h", s);
	if (!v || v > max_ms / mult)
		return fail(c, n, path, "\"%s\" is out of range", s);
	*out = v * mult;
	return 0;
}

static int get_duration_ms(struct ctx *c, yaml_node_t *n, const char *path,
			   __u32 *out)
{
	__u64 ms;

	if (parse_duration(c, n, path, 3600000ULL, &ms))
		return -1;
	*out = ms;
	return 0;
}

/* Whole seconds (conntrack timeouts). */
static int get_duration(struct ctx *c, yaml_node_t *n, const char *path,
			__u32 *out)
{
	__u64 ms;

	if (parse_duration(c, n, path, 365ULL * 86400000, &ms))
		return -1;
	if (ms < 1000)
		return fail(c, n, path, "must be at least 1s");
	*out = ms / 1000;
	return 0;
}

struct enum_name {
	const char *name;
	int value;
};

/* An optional field with a fixed set of names; *out keeps its default when
 * the field is absent. */
static int get_enum(struct ctx *c, yaml_node_t *map, const char *field,
		    const char *path, const struct enum_name *names, int *out)
{
	const struct enum_name *e;
	char p[256], list[128] = "";
	yaml_node_t *n = map_get(c, map, field);
	const char *s;

	snprintf(p, sizeof(p), "%s.%s", path, field);
	if (!n)
		return 0;
	if (get_str(c, n, p, &s))
		return -1;
	for (e = names; e->name; e++) {
		if (!strcmp(e->name, s)) {
			*out = e->value;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", e == names ? "" : (e[1].name ? ", " : " or "),
			 e->name);
	}
	return fail(c, n, p, "\"%s\" is not %s", s, list);
}

static int get_addr(struct ctx *c, yaml_node_t *n, const char *path,
		    union maglb_addr *a, __u8 *family)
{
	const char *s;

	if (get_str(c, n, path, &s))
		return -1;
	*family = addr_parse(s, a);
	if (!*family)
		return fail(c, n, path, "\"%s\" is not an IPv4 or IPv6 address",
			    s);
	return 0;
}

/* RFC 7230 token characters: what header and cookie names may hold. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
			return false;
	return true;
}

static int get_key_name(struct ctx *c, yaml_node_t *map, const char *path,
			const char *what, struct cfg_service *svc)
{
	static const char *const fields_cookie[] = {
		"name", "ttl", "attributes", NULL };
	static const char *const fields_header[] = { "name", NULL };
	bool cookie = !strcmp(what, "cookie");
	char p[PATH_LEN], q[PATH_LEN];
	yaml_node_t *n, *f;
	const char *s;
	int i;

	if (!(n = need(c, map, path, what, p, "")) ||
	    check_fields(c, n, p, cookie ? fields_cookie : fields_header))
		return -1;
	if (!(f = need(c, n, p, "name", q, "")) || get_str(c, f, q, &s))
		return -1;
	if (!is_token(s) || strlen(s) >= MAGLB_KEY_NAME_LEN)
		return fail(c, f, q, "\"%s\" is not a valid %s name (1..%d token characters)",
			    s, what, MAGLB_KEY_NAME_LEN - 1);
	for (i = 0; s[i]; i++)	/* header names compare case-insensitively */
		svc->key_name[i] = cookie ? s[i] : http_lower(s[i]);
	if (!cookie)
		return 0;
	if ((f = opt(c, n, p, "ttl", q)) && get_duration(c, f, q, &svc->cookie_ttl))
		return -1;
	if ((f = opt(c, n, p, "attributes", q))) {
		yaml_node_pair_t *pr;
		size_t len = 0;

		if (f->type != YAML_MAPPING_NODE)
			return fail(c, f, q, "must be a mapping, e.g. {SameSite: Strict}");
		for (pr = f->data.mapping.pairs.start;
		     pr < f->data.mapping.pairs.top; pr++) {
			const char *k = scalar(yaml_document_get_node(c->doc, pr->key));
			const char *v = scalar(yaml_document_get_node(c->doc, pr->value));

			if (!k || !v || !is_token(k) || strpbrk(v, ";\r\n"))
				return fail(c, f, q, "attributes must be NAME: VALUE pairs without ';'");
			len += snprintf(svc->cookie_attrs + len,
					len < sizeof(svc->cookie_attrs) ?
					sizeof(svc->cookie_attrs) - len : 0,
					"%s%s=%s", len ? "; " : "", k, v);
			if (len >= sizeof(svc->cookie_attrs))
				return fail(c, f, q, "attributes are too long");
		}
	}
	return 0;
}

static int parse_hash(struct ctx *c, yaml_node_t *lb, const char *path,
		      struct cfg_service *svc)
{
	static const char *const lb_fields[] = { "type", "consistentHash", NULL };
	static const char *const ch_fields[] = {
		"type", "tableSize", "header", "cookie", "fallback", NULL };
	static const struct enum_name types[] = {
		{ "SourceIP", MAGLB_HASH_SOURCE_IP }, { "Tuple", MAGLB_HASH_TUPLE },
		{ "Cookie", MAGLB_HASH_COOKIE }, { "Header", MAGLB_HASH_HEADER }, {} };
	static const struct enum_name fallbacks[] = {
		{ "SourceIP", MAGLB_HASH_SOURCE_IP }, { "Tuple", MAGLB_HASH_TUPLE }, {} };
	char p[PATH_LEN], q[PATH_LEN];
	int type = -1, fallback = MAGLB_HASH_SOURCE_IP;
	yaml_node_t *n, *ch;
	unsigned long v;
	const char *s;

	svc->hash_type = MAGLB_HASH_SOURCE_IP;
	svc->fallback_hash = MAGLB_HASH_SOURCE_IP;
	svc->table_size = MAGLB_TABLE_DEFAULT;
	if (!lb)
		return 0;
	if (check_fields(c, lb, path, lb_fields))
		return -1;
	if (!(n = need(c, lb, path, "type", p, " (ConsistentHash)")) ||
	    get_str(c, n, p, &s))
		return -1;
	if (strcmp(s, "ConsistentHash"))
		return fail(c, n, p, "\"%s\" is not supported; maglb does ConsistentHash (Maglev)", s);
	if (!(ch = need(c, lb, path, "consistentHash", p, " when type is ConsistentHash")) ||
	    check_fields(c, ch, p, ch_fields))
		return -1;
	if (!need(c, ch, p, "type", q, " (SourceIP, Tuple, Cookie or Header)") ||
	    get_enum(c, ch, "type", p, types, &type))
		return -1;
	svc->hash_type = type;
	if (type == MAGLB_HASH_COOKIE || type == MAGLB_HASH_HEADER) {
		if (svc->proto != IPPROTO_TCP)
			return fail(c, ch, p, "%s hashing needs protocol: TCP",
				    type == MAGLB_HASH_COOKIE ? "Cookie" : "Header");
		if (get_key_name(c, ch, p, type == MAGLB_HASH_COOKIE ?
				 "cookie" : "header", svc))
			return -1;
		if (get_enum(c, ch, "fallback", p, fallbacks, &fallback))
			return -1;
		svc->fallback_hash = fallback;
	} else {
		const char *const extra[] = { "cookie", "header", "fallback" };
		int i;

		for (i = 0; i < 3; i++)
			if ((n = opt(c, ch, p, extra[i], q)))
				return fail(c, n, q, "only valid with type Cookie or Header");
	}
	if ((n = opt(c, ch, p, "tableSize", q))) {
		if (get_uint(c, n, q, MAGLB_TABLE_MIN, MAGLB_TABLE_MAX, &v))
			return -1;
		if (!maglev_is_prime(v))
			return fail(c, n, q, "%lu is not prime (Maglev needs a prime size, e.g. 65537)", v);
		svc->table_size = v;
	}
	return 0;
}

static int parse_backend(struct ctx *c, yaml_node_t *n, const char *path,
			 const struct cfg_service *svc, struct cfg_backend *be)
{
	static const char *const fields[] = {
		"address", "port", "weight", "name", NULL };
	char p[PATH_LEN], ap[ADDR_STRLEN];
	yaml_node_t *f;
	unsigned long v;
	const char *s;

	if (check_fields(c, n, path, fields))
		return -1;
	if (!(f = need(c, n, path, "address", p, "")) ||
	    get_addr(c, f, p, &be->addr, &be->family))
		return -1;
	if (be->family != svc->family)
		return fail(c, f, p, "address family differs from the service address %s",
			    addr_str(&svc->addr, svc->family, ap));
	if (!(f = need(c, n, path, "port", p, "")) ||
	    get_uint(c, f, p, 1, 65535, &v))
		return -1;
	be->port = v;
	be->weight = 1;
	if ((f = opt(c, n, path, "weight", p))) {
		if (get_uint(c, f, p, 0, WEIGHT_MAX, &v))
			return -1;
		be->weight = v;
	}
	if ((f = opt(c, n, path, "name", p))) {
		if (get_str(c, f, p, &s))
			return -1;
		if (!*s || strlen(s) >= sizeof(be->name))
			return fail(c, f, p, "must be 1..%zu characters",
				    sizeof(be->name) - 1);
		snprintf(be->name, sizeof(be->name), "%s", s);
	} else {
		snprintf(be->name, sizeof(be->name), "%s",
			 addr_port_str(&be->addr, be->family, htons(be->port), ap));
	}
	return 0;
}

static int parse_snat(struct ctx *c, yaml_node_t *n, const char *path,
		      struct cfg_service *svc)
{
	static const char *const fields[] = {
		"address", "portMin", "portMax", NULL };
	char p[PATH_LEN], ap[ADDR_STRLEN];
	unsigned long v;
	yaml_node_t *f;
	__u8 fam;

	svc->snat_port_min = SNAT_PORT_MIN_DEFAULT;
	svc->snat_port_max = SNAT_PORT_MAX_DEFAULT;
	if (svc->forwarding != MAGLB_FWD_SNAT) {
		if (n)
			return fail(c, n, path, "only valid with forwarding: snat");
		return 0;
	}
	if (!n)
		return fail(c, NULL, path, "required with forwarding: snat (the node address to NAT from)");
	if (check_fields(c, n, path, fields))
		return -1;
	if (!(f = need(c, n, path, "address", p, "")) ||
	    get_addr(c, f, p, &svc->snat_addr, &fam))
		return -1;
	if (fam != svc->family)
		return fail(c, f, p, "address family differs from the service address %s",
			    addr_str(&svc->addr, svc->family, ap));
	if ((f = opt(c, n, path, "portMin", p))) {
		if (get_uint(c, f, p, 1024, 65535, &v))
			return -1;
		svc->snat_port_min = v;
	}
	if ((f = opt(c, n, path, "portMax", p))) {
		if (get_uint(c, f, p, 1024, 65535, &v))
			return -1;
		svc->snat_port_max = v;
	}
	if (svc->snat_port_max < svc->snat_port_min)
		return fail(c, n, path, "portMax %u is below portMin %u",
			    svc->snat_port_max, svc->snat_port_min);
	return 0;
}

static int parse_health(struct ctx *c, yaml_node_t *n, const char *path,
			struct cfg_health *h)
{
	static const char *const hc_fields[] = { "active", NULL };
	static const char *const act_fields[] = {
		"type", "interval", "timeout", "healthyThreshold",
		"unhealthyThreshold", "http", NULL };
	static const char *const http_fields[] = {
		"path", "expectedStatuses", NULL };
	static const struct enum_name types[] = {
		{ "TCP", 0 }, { "HTTP", 1 }, {} };
	char p[PATH_LEN], q[PATH_LEN], r[PATH_LEN];
	yaml_node_t *a, *f, *hn;
	unsigned long v;
	int type = 0;
	const char *s;

	if (!n)
		return 0;
	if (check_fields(c, n, path, hc_fields) ||
	    !(a = need(c, n, path, "active", p, "")) ||
	    check_fields(c, a, p, act_fields))
		return -1;
	/* Envoy's defaults are not usable for a load balancer's own checks:
	 * ours are 2s, 1s, 1 and 2, stated in the README. */
	h->enabled = true;
	h->interval_ms = 2000;
	h->timeout_ms = 1000;
	h->healthy_threshold = 1;
	h->unhealthy_threshold = 2;
	snprintf(h->path, sizeof(h->path), "/");
	h->statuses[0] = 200;
	h->n_statuses = 1;
	if (!need(c, a, p, "type", q, " (TCP or HTTP)") ||
	    get_enum(c, a, "type", p, types, &type))
		return -1;
	h->http = type == 1;
	if ((f = opt(c, a, p, "interval", q)) && get_duration_ms(c, f, q, &h->interval_ms))
		return -1;
	if ((f = opt(c, a, p, "timeout", q)) && get_duration_ms(c, f, q, &h->timeout_ms))
		return -1;
	if ((f = opt(c, a, p, "healthyThreshold", q))) {
		if (get_uint(c, f, q, 1, 100, &v))
			return -1;
		h->healthy_threshold = v;
	}
	if ((f = opt(c, a, p, "unhealthyThreshold", q))) {
		if (get_uint(c, f, q, 1, 100, &v))
			return -1;
		h->unhealthy_threshold = v;
	}
	if (h->timeout_ms >= h->interval_ms)
		return fail(c, a, p, "timeout must be shorter than interval");
	hn = opt(c, a, p, "http", q);
	if (hn && !h->http)
		return fail(c, hn, q, "only valid with type HTTP");
	if (hn) {
		if (check_fields(c, hn, q, http_fields))
			return -1;
		if ((f = opt(c, hn, q, "path", r))) {
			if (get_str(c, f, r, &s))
				return -1;
			if (s[0] != '/' || strlen(s) >= sizeof(h->path) ||
			    strpbrk(s, " \r\n"))
				return fail(c, f, r, "\"%s\" is not a path", s);
			snprintf(h->path, sizeof(h->path), "%s", s);
		}
		if ((f = opt(c, hn, q, "expectedStatuses", r))) {
			int i, k;

			if (f->type != YAML_SEQUENCE_NODE)
				return fail(c, f, r, "must be a list of status codes");
			k = f->data.sequence.items.top - f->data.sequence.items.start;
			if (k < 1 || k > 8)
				return fail(c, f, r, "give 1..8 status codes");
			for (i = 0; i < k; i++) {
				yaml_node_t *e = yaml_document_get_node(c->doc,
						f->data.sequence.items.start[i]);

				if (get_uint(c, e, r, 100, 599, &v))
					return -1;
				h->statuses[i] = v;
			}
			h->n_statuses = k;
		}
	}
	return 0;
}

static int parse_service(struct ctx *c, yaml_node_t *n, const char *path,
			 struct cfg_service *svc)
{
	static const char *const fields[] = {
		"name", "address", "port", "protocol", "forwarding", "snat",
		"loadBalancer", "backends", "closeConnectionsOnRemoval",
		"healthCheck", NULL };
	static const struct enum_name protocols[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, {} };
	static const struct enum_name forwardings[] = {
		{ "nat", MAGLB_FWD_NAT }, { "snat", MAGLB_FWD_SNAT }, {} };
	int proto, fwd;
	char p[256];
	yaml_node_t *f;
	unsigned long v;
	const char *s;
	int i, j;

	if (check_fields(c, n, path, fields))
		return -1;

	if (!(f = need(c, n, path, "name", p, "")) || get_str(c, f, p, &s))
		return -1;
	if (!*s || strlen(s) >= MAGLB_NAME_LEN)
		return fail(c, f, p, "must be 1..%d characters",
			    MAGLB_NAME_LEN - 1);
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return fail(c, f, p, "\"%s\": use letters, digits, '-', '_' or '.'", s);
	snprintf(svc->name, sizeof(svc->name), "%s", s);
	if (!(f = need(c, n, path, "address", p, " (the VIP)")) ||
	    get_addr(c, f, p, &svc->addr, &svc->family))
		return -1;
	if (!(f = need(c, n, path, "port", p, "")) ||
	    get_uint(c, f, p, 1, 65535, &v))
		return -1;
	svc->port = v;

	proto = IPPROTO_TCP;
	if (get_enum(c, n, "protocol", path, protocols, &proto))
		return -1;
	svc->proto = proto;
	fwd = MAGLB_FWD_NAT;
	if (get_enum(c, n, "forwarding", path, forwardings, &fwd))
		return -1;
	svc->forwarding = fwd;
	snprintf(p, sizeof(p), "%s.snat", path);
	if (parse_snat(c, map_get(c, n, "snat"), p, svc))
		return -1;

	if ((f = opt(c, n, path, "closeConnectionsOnRemoval", p)) &&
	    get_bool(c, f, p, &svc->close_on_removal))
		return -1;

	snprintf(p, sizeof(p), "%s.loadBalancer", path);
	if (parse_hash(c, map_get(c, n, "loadBalancer"), p, svc))
		return -1;
	snprintf(p, sizeof(p), "%s.healthCheck", path);
	if (parse_health(c, map_get(c, n, "healthCheck"), p, &svc->health))
		return -1;

	if (!(f = need(c, n, path, "backends", p, " (may be an empty list)")))
		return -1;
	if (f->type != YAML_SEQUENCE_NODE)
		return fail(c, f, p, "must be a list");
	svc->n_backends = f->data.sequence.items.top -
			  f->data.sequence.items.start;
	if (svc->n_backends > MAGLB_MAX_BACKENDS)
		return fail(c, f, p, "%d backends; at most %d", svc->n_backends,
			    MAGLB_MAX_BACKENDS);
	if ((__u32)svc->n_backends > svc->table_size)
		return fail(c, f, p, "%d backends do not fit tableSize %u",
			    svc->n_backends, svc->table_size);
	svc->backends = calloc(svc->n_backends ?: 1, sizeof(*svc->backends));
	if (!svc->backends)
		return fail(c, f, p, "out of memory");
	for (i = 0; i < svc->n_backends; i++) {
		yaml_node_t *b = yaml_document_get_node(c->doc,
					f->data.sequence.items.start[i]);
		char bp[256];

		snprintf(bp, sizeof(bp), "%s[%d]", p, i);
		if (parse_backend(c, b, bp, svc, &svc->backends[i]))
			return -1;
		for (j = 0; j < i; j++) {
			if (!memcmp(&svc->backends[j].addr, &svc->backends[i].addr,
				    sizeof(union maglb_addr)) &&
			    svc->backends[j].port == svc->backends[i].port)
				return fail(c, b, bp, "duplicate of backends[%d]", j);
			if (!strcmp(svc->backends[j].name, svc->backends[i].name))
				return fail(c, b, bp, "name \"%s\" is also used by backends[%d]",
					    svc->backends[i].name, j);
		}
	}
	return 0;
}

static int parse_conntrack(struct ctx *c, yaml_node_t *n,
			   struct maglb_config *cfg)
{
	static const char *const fields[] = {
		"tcpTimeout", "udpTimeout", "closedTimeout", NULL };
	yaml_node_t *f;

	/* Cilium's defaults: 6h established TCP, 60s UDP, 10s after close. */
	cfg->ct_tcp_timeout = 21600;
	cfg->ct_udp_timeout = 60;
	cfg->ct_closed_timeout = 10;
	if (!n)
		return 0;
	if (check_fields(c, n, "conntrack", fields))
		return -1;
	if ((f = map_get(c, n, "tcpTimeout")) &&
	    get_duration(c, f, "conntrack.tcpTimeout", &cfg->ct_tcp_timeout))
		return -1;
	if ((f = map_get(c, n, "udpTimeout")) &&
	    get_duration(c, f, "conntrack.udpTimeout", &cfg->ct_udp_timeout))
		return -1;
	if ((f = map_get(c, n, "closedTimeout")) &&
	    get_duration(c, f, "conntrack.closedTimeout",
			 &cfg->ct_closed_timeout))
		return -1;
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root,
		      struct maglb_config *cfg)
{
	static const char *const fields[] = {
		"services", "conntrack", "syncookieKey", NULL };
	yaml_node_t *svcs, *n;
	int i, j, total = 0;

	if (!root)
		return fail(c, NULL, "(document)", "the file is empty");
	if (check_fields(c, root, "(document)", fields))
		return -1;
	if (parse_conntrack(c, map_get(c, root, "conntrack"), cfg))
		return -1;
	if ((n = map_get(c, root, "syncookieKey"))) {
		const char *s = scalar(n);
		char hex[17] = "";
		int i;

		/* 128 bits as 32 hex digits; the same on every node, so any
		 * node accepts the handshakes the others answered. */
		for (i = 0; s && s[i]; i++)
			if (!isxdigit((unsigned char)s[i]))
				break;
		if (!s || i != 32 || s[i])
			return fail(c, n, "syncookieKey", "must be 32 hex digits (128 bits)");
		memcpy(hex, s, 16);
		cfg->syncookie_key[0] = strtoull(hex, NULL, 16);
		memcpy(hex, s + 16, 16);
		cfg->syncookie_key[1] = strtoull(hex, NULL, 16);
		cfg->have_syncookie_key = true;
	}
	svcs = map_get(c, root, "services");
	if (!svcs)
		return fail(c, root, "services", "required");
	if (svcs->type != YAML_SEQUENCE_NODE)
		return fail(c, svcs, "services", "must be a list");
	cfg->n_services = svcs->data.sequence.items.top -
			  svcs->data.sequence.items.start;
	if (cfg->n_services > MAGLB_MAX_SERVICES)
		return fail(c, svcs, "services", "%d services; at most %d",
			    cfg->n_services, MAGLB_MAX_SERVICES);
	cfg->services = calloc(cfg->n_services ?: 1, sizeof(*cfg->services));
	if (!cfg->services)
		return fail(c, svcs, "services", "out of memory");
	for (i = 0; i < cfg->n_services; i++) {
		yaml_node_t *n = yaml_document_get_node(c->doc,
					svcs->data.sequence.items.start[i]);
		struct cfg_service *s = &cfg->services[i];
		char p[64];

		snprintf(p, sizeof(p), "services[%d]", i);
		if (parse_service(c, n, p, s))
			return -1;
		total += s->n_backends;
		for (j = 0; j < i; j++) {
			struct cfg_service *o = &cfg->services[j];

			if (!strcmp(o->name, s->name))
				return fail(c, n, p, "name \"%s\" is also used by services[%d]",
					    s->name, j);
			if (o->family == s->family && o->port == s->port &&
			    o->proto == s->proto &&
			    !memcmp(&o->addr, &s->addr, sizeof(o->addr)))
				return fail(c, n, p, "same address, port and protocol as services[%d]", j);
		}
	}
	/* Each (service, backend) pair owns one id; keep half the ids free
	 * so draining backends of the previous config still have theirs. */
	if (total > MAGLB_MAX_BACKENDS / 2)
		return fail(c, svcs, "services", "%d backends in all; at most %d",
			    total, MAGLB_MAX_BACKENDS / 2);
	return 0;
}

struct maglb_config *config_load(const char *path, char *err, size_t errlen)
{
	struct maglb_config *cfg = calloc(1, sizeof(*cfg));
	struct ctx c = { .file = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int rc;

	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(cfg);
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: (syntax): %s", path,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		free(cfg);
		return NULL;
	}
	c.doc = &doc;
	rc = parse_root(&c, yaml_document_get_root_node(&doc), cfg);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void config_free(struct maglb_config *cfg)
{
	int i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	free(cfg);
}

const struct cfg_service *config_find(const struct maglb_config *cfg,
				      const char *name)
{
	int i;

	for (i = 0; i < cfg->n_services; i++)
		if (!strcmp(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}
