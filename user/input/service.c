// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * service.c - the blocks of a service, in the maglb config's `services:`
 * and, for loadBalancer, healthCheck and snat, in a BackendTrafficPolicy
 * (gateway.c): the hash, its key, backends, snat and health checks. Every
 * field is checked here, before anything touches a map, so a bad file can
 * never change what is running. Unknown fields are errors: a typo must not
 * silently become a default.
 *
 * The loadBalancer block uses Envoy Gateway's BackendTrafficPolicy names.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "common/addr.h"
#include "common/indexset.h"
#include "input/service.h"
#include "model/maglev.h"
#include "lib/http.h"

#define SNAT_PORT_MIN_DEFAULT	20000
#define SNAT_PORT_MAX_DEFAULT	29999
#define WEIGHT_MAX		1000000

static int get_key_name(struct cfg_ctx *c, yaml_node_t *map, const char *path,
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

	if (!(n = cfg_need(c, map, path, what, p, "")) ||
	    cfg_check_fields(c, n, p, cookie ? fields_cookie : fields_header))
		return -1;
	if (!(f = cfg_need(c, n, p, "name", q, "")) || cfg_str(c, f, q, &s))
		return -1;
	if (!cfg_is_token(s) || strlen(s) >= MAGLB_KEY_NAME_LEN)
		return cfg_fail(c, f, q, "\"%s\" is not a valid %s name (1..%d token characters)",
			    s, what, MAGLB_KEY_NAME_LEN - 1);
	for (i = 0; s[i]; i++)	/* header names compare case-insensitively */
		svc->key_name[i] = cookie ? s[i] : http_lower(s[i]);
	if (!cookie)
		return 0;
	if ((f = cfg_opt(c, n, p, "ttl", q))) {
		const char *t = cfg_scalar(f);

		/* 0 is a session cookie (no Max-Age), as in Envoy */
		if (t && (!strcmp(t, "0") || !strcmp(t, "0s")))
			svc->cookie_ttl = 0;
		else if (cfg_duration(c, f, q, &svc->cookie_ttl))
			return -1;
		svc->cookie_generate = true;
	}
	if ((f = cfg_opt(c, n, p, "attributes", q))) {
		yaml_node_pair_t *pr;
		size_t len = 0;

		if (f->type != YAML_MAPPING_NODE)
			return cfg_fail(c, f, q, "must be a mapping, e.g. {SameSite: Strict}");
		for (pr = f->data.mapping.pairs.start;
		     pr < f->data.mapping.pairs.top; pr++) {
			const char *k = cfg_scalar(yaml_document_get_node(c->doc, pr->key));
			const char *v = cfg_scalar(yaml_document_get_node(c->doc, pr->value));

			if (!k || !v || !cfg_is_token(k) || strpbrk(v, ";\r\n"))
				return cfg_fail(c, f, q, "attributes must be NAME: VALUE pairs without ';'");
			len += snprintf(svc->cookie_attrs + len,
					len < sizeof(svc->cookie_attrs) ?
					sizeof(svc->cookie_attrs) - len : 0,
					"%s%s=%s", len ? "; " : "", k, v);
			if (len >= sizeof(svc->cookie_attrs))
				return cfg_fail(c, f, q, "attributes are too long");
		}
	}
	if (svc->cookie_generate && config_cookie_line(svc))
		return cfg_fail(c, n, p, "the Set-Cookie line would pass %d bytes; shorten the name or attributes",
				MAGLB_COOKIE_LINE_MAX);
	return 0;
}

int parse_hash(struct cfg_ctx *c, yaml_node_t *lb, const char *path,
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
	if (cfg_check_fields(c, lb, path, lb_fields))
		return -1;
	if (!(n = cfg_need(c, lb, path, "type", p, " (ConsistentHash)")) ||
	    cfg_str(c, n, p, &s))
		return -1;
	if (strcmp(s, "ConsistentHash"))
		return cfg_fail(c, n, p, "\"%s\" is not supported; maglb does ConsistentHash (Maglev)", s);
	if (!(ch = cfg_need(c, lb, path, "consistentHash", p, " when type is ConsistentHash")) ||
	    cfg_check_fields(c, ch, p, ch_fields))
		return -1;
	if (!cfg_need(c, ch, p, "type", q, " (SourceIP, Tuple, Cookie or Header)") ||
	    cfg_enum(c, ch, "type", p, types, &type))
		return -1;
	svc->hash_type = type;
	if (type == MAGLB_HASH_COOKIE || type == MAGLB_HASH_HEADER) {
		if (svc->proto != IPPROTO_TCP)
			return cfg_fail(c, ch, p, "%s hashing needs protocol: TCP",
				    type == MAGLB_HASH_COOKIE ? "Cookie" : "Header");
		if (get_key_name(c, ch, p, type == MAGLB_HASH_COOKIE ?
				 "cookie" : "header", svc))
			return -1;
		if (cfg_enum(c, ch, "fallback", p, fallbacks, &fallback))
			return -1;
		svc->fallback_hash = fallback;
	} else {
		const char *const extra[] = { "cookie", "header", "fallback" };
		int i;

		for (i = 0; i < 3; i++)
			if ((n = cfg_opt(c, ch, p, extra[i], q)))
				return cfg_fail(c, n, q, "only valid with type Cookie or Header");
	}
	if ((n = cfg_opt(c, ch, p, "tableSize", q))) {
		if (cfg_uint(c, n, q, MAGLB_TABLE_MIN, MAGLB_TABLE_MAX, &v))
			return -1;
		if (!maglev_is_prime(v))
			return cfg_fail(c, n, q, "%lu is not prime (Maglev needs a prime size, e.g. 65537)", v);
		svc->table_size = v;
	}
	return 0;
}

static int parse_backend(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			 const struct cfg_service *svc, struct cfg_backend *be)
{
	static const char *const fields[] = {
		"address", "port", "weight", "name", NULL };
	char p[PATH_LEN], ap[ADDR_STRLEN];
	yaml_node_t *f;
	unsigned long v;
	const char *s;

	if (cfg_check_fields(c, n, path, fields))
		return -1;
	if (!(f = cfg_need(c, n, path, "address", p, "")) ||
	    cfg_addr(c, f, p, &be->addr, &be->family))
		return -1;
	if (be->family != svc->family)
		return cfg_fail(c, f, p, "address family differs from the service address %s",
			    addr_str(&svc->addr, svc->family, ap));
	if (!(f = cfg_need(c, n, path, "port", p, "")) ||
	    cfg_uint(c, f, p, 1, 65535, &v))
		return -1;
	be->port = v;
	be->weight = 1;
	if ((f = cfg_opt(c, n, path, "weight", p))) {
		if (cfg_uint(c, f, p, 0, WEIGHT_MAX, &v))
			return -1;
		be->weight = v;
	}
	if ((f = cfg_opt(c, n, path, "name", p))) {
		if (cfg_str(c, f, p, &s))
			return -1;
		if (!*s || strlen(s) >= sizeof(be->name))
			return cfg_fail(c, f, p, "must be 1..%zu characters",
				    sizeof(be->name) - 1);
		snprintf(be->name, sizeof(be->name), "%s", s);
	} else {
		snprintf(be->name, sizeof(be->name), "%s",
			 addr_port_str(&be->addr, be->family, htons(be->port), ap));
	}
	return 0;
}

int parse_snat(struct cfg_ctx *c, yaml_node_t *n, const char *path,
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
			return cfg_fail(c, n, path, "only valid with forwarding: snat");
		return 0;
	}
	if (!n)
		return cfg_fail(c, NULL, path, "required with forwarding: snat (the node address to NAT from)");
	if (cfg_check_fields(c, n, path, fields))
		return -1;
	if (!(f = cfg_need(c, n, path, "address", p, "")) ||
	    cfg_addr(c, f, p, &svc->snat_addr, &fam))
		return -1;
	if (fam != svc->family)
		return cfg_fail(c, f, p, "address family differs from the service address %s",
			    addr_str(&svc->addr, svc->family, ap));
	if ((f = cfg_opt(c, n, path, "portMin", p))) {
		if (cfg_uint(c, f, p, 1024, 65535, &v))
			return -1;
		svc->snat_port_min = v;
	}
	if ((f = cfg_opt(c, n, path, "portMax", p))) {
		if (cfg_uint(c, f, p, 1024, 65535, &v))
			return -1;
		svc->snat_port_max = v;
	}
	if (svc->snat_port_max < svc->snat_port_min)
		return cfg_fail(c, n, path, "portMax %u is below portMin %u",
			    svc->snat_port_max, svc->snat_port_min);
	return 0;
}

int parse_health(struct cfg_ctx *c, yaml_node_t *n, const char *path,
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
	if (cfg_check_fields(c, n, path, hc_fields) ||
	    !(a = cfg_need(c, n, path, "active", p, "")) ||
	    cfg_check_fields(c, a, p, act_fields))
		return -1;
	/* Envoy's defaults are not usable for a load balancer's own checks:
	 * ours are 2s, 1s, 1 and 2, stated in docs/configuration.md. */
	h->enabled = true;
	h->interval_ms = 2000;
	h->timeout_ms = 1000;
	h->healthy_threshold = 1;
	h->unhealthy_threshold = 2;
	snprintf(h->path, sizeof(h->path), "/");
	h->statuses[0] = 200;
	h->n_statuses = 1;
	if (!cfg_need(c, a, p, "type", q, " (TCP or HTTP)") ||
	    cfg_enum(c, a, "type", p, types, &type))
		return -1;
	h->http = type == 1;
	if ((f = cfg_opt(c, a, p, "interval", q)) && cfg_duration_ms(c, f, q, &h->interval_ms))
		return -1;
	if ((f = cfg_opt(c, a, p, "timeout", q)) && cfg_duration_ms(c, f, q, &h->timeout_ms))
		return -1;
	if ((f = cfg_opt(c, a, p, "healthyThreshold", q))) {
		if (cfg_uint(c, f, q, 1, 100, &v))
			return -1;
		h->healthy_threshold = v;
	}
	if ((f = cfg_opt(c, a, p, "unhealthyThreshold", q))) {
		if (cfg_uint(c, f, q, 1, 100, &v))
			return -1;
		h->unhealthy_threshold = v;
	}
	if (h->timeout_ms >= h->interval_ms)
		return cfg_fail(c, a, p, "timeout must be shorter than interval");
	hn = cfg_opt(c, a, p, "http", q);
	if (hn && !h->http)
		return cfg_fail(c, hn, q, "only valid with type HTTP");
	if (hn) {
		if (cfg_check_fields(c, hn, q, http_fields))
			return -1;
		if ((f = cfg_opt(c, hn, q, "path", r))) {
			if (cfg_str(c, f, r, &s))
				return -1;
			if (s[0] != '/' || strlen(s) >= sizeof(h->path) ||
			    strpbrk(s, " \r\n"))
				return cfg_fail(c, f, r, "\"%s\" is not a path", s);
			snprintf(h->path, sizeof(h->path), "%s", s);
		}
		if ((f = cfg_opt(c, hn, q, "expectedStatuses", r))) {
			int i, k;

			if (f->type != YAML_SEQUENCE_NODE)
				return cfg_fail(c, f, r, "must be a list of status codes");
			k = f->data.sequence.items.top - f->data.sequence.items.start;
			if (k < 1 || k > 8)
				return cfg_fail(c, f, r, "give 1..8 status codes");
			for (i = 0; i < k; i++) {
				yaml_node_t *e = yaml_document_get_node(c->doc,
						f->data.sequence.items.start[i]);

				if (cfg_uint(c, e, r, 100, 599, &v))
					return -1;
				h->statuses[i] = v;
			}
			h->n_statuses = k;
		}
	}
	return 0;
}
/* Backends already parsed, for the duplicate checks (indexset.h). */
struct dup_key {
	const struct cfg_backend *all;
	const struct cfg_backend *be;
};

static bool same_addr(long idx, const void *key)
{
	const struct dup_key *k = key;
	const struct cfg_backend *o = &k->all[idx];

	return !memcmp(&o->addr, &k->be->addr, sizeof(o->addr)) &&
	       o->port == k->be->port;
}

static bool same_name(long idx, const void *key)
{
	const struct dup_key *k = key;

	return !strcmp(k->all[idx].name, k->be->name);
}


int parse_service(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		  struct cfg_service *svc)
{
	static const char *const fields[] = {
		"name", "address", "port", "protocol", "forwarding", "snat",
		"loadBalancer", "backends", "closeConnectionsOnRemoval",
		"healthCheck", "mtu", NULL };
	static const struct enum_name protocols[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, {} };
	static const struct enum_name forwardings[] = {
		{ "nat", MAGLB_FWD_NAT }, { "snat", MAGLB_FWD_SNAT }, {} };
	int proto, fwd;
	char p[256];
	yaml_node_t *f;
	unsigned long v;
	const char *s;
	struct index_set by_addr = {}, by_name = {};
	struct dup_key dk;
	const struct cfg_backend *be;
	__u32 ha, hn;
	long ja, jn;
	int i, rc = -1;

	if (cfg_check_fields(c, n, path, fields))
		return -1;

	if (!(f = cfg_need(c, n, path, "name", p, "")) || cfg_str(c, f, p, &s))
		return -1;
	if (!*s || strlen(s) >= MAGLB_NAME_LEN)
		return cfg_fail(c, f, p, "must be 1..%d characters",
			    MAGLB_NAME_LEN - 1);
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return cfg_fail(c, f, p, "\"%s\": use letters, digits, '-', '_' or '.'", s);
	snprintf(svc->name, sizeof(svc->name), "%s", s);
	if (!(f = cfg_need(c, n, path, "address", p, " (the VIP)")) ||
	    cfg_addr(c, f, p, &svc->addr, &svc->family))
		return -1;
	if (!(f = cfg_need(c, n, path, "port", p, "")) ||
	    cfg_uint(c, f, p, 1, 65535, &v))
		return -1;
	svc->port = v;

	proto = IPPROTO_TCP;
	if (cfg_enum(c, n, "protocol", path, protocols, &proto))
		return -1;
	svc->proto = proto;
	fwd = MAGLB_FWD_NAT;
	if (cfg_enum(c, n, "forwarding", path, forwardings, &fwd))
		return -1;
	svc->forwarding = fwd;
	snprintf(p, sizeof(p), "%s.snat", path);
	if (parse_snat(c, cfg_get(c, n, "snat"), p, svc))
		return -1;

	if ((f = cfg_opt(c, n, path, "closeConnectionsOnRemoval", p)) &&
	    cfg_bool(c, f, p, &svc->close_on_removal))
		return -1;
	if ((f = cfg_opt(c, n, path, "mtu", p))) {
		if (cfg_uint(c, f, p, CFG_MTU_MIN, CFG_MTU_MAX, &v))
			return -1;
		svc->mtu = v;
	}

	snprintf(p, sizeof(p), "%s.loadBalancer", path);
	if (parse_hash(c, cfg_get(c, n, "loadBalancer"), p, svc))
		return -1;
	snprintf(p, sizeof(p), "%s.healthCheck", path);
	if (parse_health(c, cfg_get(c, n, "healthCheck"), p, &svc->health))
		return -1;

	if (!(f = cfg_need(c, n, path, "backends", p, " (may be an empty list)")))
		return -1;
	if (f->type != YAML_SEQUENCE_NODE)
		return cfg_fail(c, f, p, "must be a list");
	svc->n_backends = f->data.sequence.items.top -
			  f->data.sequence.items.start;
	if (svc->n_backends > MAGLB_MAX_BACKENDS)
		return cfg_fail(c, f, p, "%d backends; at most %d", svc->n_backends,
			    MAGLB_MAX_BACKENDS);
	if ((__u32)svc->n_backends > svc->table_size)
		return cfg_fail(c, f, p, "%d backends do not fit tableSize %u",
			    svc->n_backends, svc->table_size);
	svc->backends = calloc(svc->n_backends ?: 1, sizeof(*svc->backends));
	if (!svc->backends || index_set_init(&by_addr, svc->n_backends) ||
	    index_set_init(&by_name, svc->n_backends)) {
		index_set_free(&by_addr);
		return cfg_fail(c, f, p, "out of memory");
	}
	dk.all = svc->backends;
	for (i = 0; i < svc->n_backends; i++) {
		yaml_node_t *b = yaml_document_get_node(c->doc,
					f->data.sequence.items.start[i]);
		char bp[256];

		snprintf(bp, sizeof(bp), "%s[%d]", p, i);
		if (parse_backend(c, b, bp, svc, &svc->backends[i]))
			goto fail;
		be = &svc->backends[i];
		ha = index_hash(index_hash(INDEX_HASH_SEED, &be->addr, sizeof(be->addr)),
				&be->port, sizeof(be->port));
		hn = index_hash(INDEX_HASH_SEED, be->name, strlen(be->name));
		dk.be = be;
		ja = index_set_find(&by_addr, ha, same_addr, &dk);
		jn = index_set_find(&by_name, hn, same_name, &dk);
		/* the first earlier backend either way, as a scan would say */
		if (ja >= 0 && (jn < 0 || ja <= jn)) {
			cfg_fail(c, b, bp, "duplicate of backends[%ld]", ja);
			goto fail;
		}
		if (jn >= 0) {
			cfg_fail(c, b, bp, "name \"%s\" is also used by backends[%ld]",
				 be->name, jn);
			goto fail;
		}
		index_set_add(&by_addr, ha, i);
		index_set_add(&by_name, hn, i);
	}
	rc = 0;
fail:
	index_set_free(&by_addr);
	index_set_free(&by_name);
	return rc;
}

int service_check_unique(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			 const struct maglb_config *cfg, int i)
{
	const struct cfg_service *s = &cfg->services[i], *o;
	int j;

	for (j = 0; j < i; j++) {
		o = &cfg->services[j];
		if (!strcmp(o->name, s->name))
			return cfg_fail(c, n, path, "name \"%s\" is also used by another service",
					s->name);
		if (o->family == s->family && o->port == s->port &&
		    o->proto == s->proto && o->route == s->route &&
		    !memcmp(&o->addr, &s->addr, sizeof(o->addr)))
			return cfg_fail(c, n, path, "same address, port and protocol as service \"%s\"",
					o->name);
	}
	return 0;
}
