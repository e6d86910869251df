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
#include "gateway.h"
#include "maglev.h"
#include "lib/http.h"

#define SNAT_PORT_MIN_DEFAULT	20000
#define SNAT_PORT_MAX_DEFAULT	29999
#define WEIGHT_MAX		1000000

/*
 * The line a generated cookie is answered with, Envoy's format:
 *   Set-Cookie: NAME="VALUE"; Max-Age=TTL; Path=/; ATTRIBUTES; HttpOnly
 * (no Max-Age for ttl 0: a session cookie). VALUE is 16 '0's here; the
 * datapath writes the hex digits over them.
 */
static int cookie_line(struct cfg_service *svc)
{
	char *l = svc->cookie_line, age[32] = "";
	int n, head;

	if (svc->cookie_ttl)
		snprintf(age, sizeof(age), "; Max-Age=%u", svc->cookie_ttl);
	head = snprintf(NULL, 0, "Set-Cookie: %s=\"", svc->key_name);
	n = snprintf(l, MAGLB_COOKIE_LINE_MAX,
		     "Set-Cookie: %s=\"0000000000000000\"%s; Path=/%s%s; HttpOnly\r\n",
		     svc->key_name, age, svc->cookie_attrs[0] ? "; " : "",
		     svc->cookie_attrs);
	if (n < 0 || n >= MAGLB_COOKIE_LINE_MAX)
		return -1;
	svc->cookie_line_len = n;
	svc->cookie_val_off = head;
	return 0;
}

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
	if (svc->cookie_generate && cookie_line(svc))
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

static int parse_service(struct cfg_ctx *c, yaml_node_t *n, const char *path,
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
	int i, j;

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
	if (!svc->backends)
		return cfg_fail(c, f, p, "out of memory");
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
				return cfg_fail(c, b, bp, "duplicate of backends[%d]", j);
			if (!strcmp(svc->backends[j].name, svc->backends[i].name))
				return cfg_fail(c, b, bp, "name \"%s\" is also used by backends[%d]",
					    svc->backends[i].name, j);
		}
	}
	return 0;
}

static int parse_conntrack(struct cfg_ctx *c, yaml_node_t *n,
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
	if (cfg_check_fields(c, n, "conntrack", fields))
		return -1;
	if ((f = cfg_get(c, n, "tcpTimeout")) &&
	    cfg_duration(c, f, "conntrack.tcpTimeout", &cfg->ct_tcp_timeout))
		return -1;
	if ((f = cfg_get(c, n, "udpTimeout")) &&
	    cfg_duration(c, f, "conntrack.udpTimeout", &cfg->ct_udp_timeout))
		return -1;
	if ((f = cfg_get(c, n, "closedTimeout")) &&
	    cfg_duration(c, f, "conntrack.closedTimeout",
			 &cfg->ct_closed_timeout))
		return -1;
	return 0;
}

struct cfg_service *config_add_service(struct maglb_config *cfg)
{
	struct cfg_service *t;

	if (cfg->n_services >= MAGLB_MAX_SERVICES)
		return NULL;
	t = realloc(cfg->services, (cfg->n_services + 1) * sizeof(*t));
	if (!t)
		return NULL;
	cfg->services = t;
	memset(&t[cfg->n_services], 0, sizeof(*t));
	return &t[cfg->n_services++];
}

int config_check_unique(struct cfg_ctx *c, yaml_node_t *n, const char *path,
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

void config_note(struct maglb_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->n_notes >= CFG_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(cfg->notes[cfg->n_notes++], CFG_ERR_LEN, fmt, ap);
	va_end(ap);
}

static int parse_syncookie_key(struct cfg_ctx *c, yaml_node_t *n,
			       struct maglb_config *cfg)
{
	const char *s = cfg_scalar(n);
	char hex[17] = "";
	int i;

	/* 128 bits as 32 hex digits; the same on every node, so any node
	 * accepts the handshakes the others answered. */
	for (i = 0; s && s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			break;
	if (!s || i != 32 || s[i])
		return cfg_fail(c, n, "syncookieKey", "must be 32 hex digits (128 bits)");
	memcpy(hex, s, 16);
	cfg->syncookie_key[0] = strtoull(hex, NULL, 16);
	memcpy(hex, s + 16, 16);
	cfg->syncookie_key[1] = strtoull(hex, NULL, 16);
	cfg->have_syncookie_key = true;
	return 0;
}

/* The maglb config document. services may be absent when manifests
 * describe them; *gateway is its `gateway:` block for gateway_load(). */
static int parse_root(struct cfg_ctx *c, yaml_node_t *root,
		      struct maglb_config *cfg, bool have_manifests,
		      yaml_node_t **gateway)
{
	static const char *const fields[] = {
		"services", "conntrack", "syncookieKey", "gateway", NULL };
	yaml_node_t *svcs, *n;
	int i, k;

	if (cfg_check_fields(c, root, "(document)", fields))
		return -1;
	if (parse_conntrack(c, cfg_get(c, root, "conntrack"), cfg))
		return -1;
	if ((n = cfg_get(c, root, "syncookieKey")) &&
	    parse_syncookie_key(c, n, cfg))
		return -1;
	*gateway = cfg_get(c, root, "gateway");
	if (*gateway && !have_manifests)
		return cfg_fail(c, *gateway, "gateway", "only valid with Gateway API manifests (give them with another -f)");
	svcs = cfg_get(c, root, "services");
	if (!svcs && have_manifests)
		return 0;
	if (!svcs)
		return cfg_fail(c, root, "services", "required");
	if (svcs->type != YAML_SEQUENCE_NODE)
		return cfg_fail(c, svcs, "services", "must be a list");
	k = svcs->data.sequence.items.top - svcs->data.sequence.items.start;
	if (k > MAGLB_MAX_SERVICES)
		return cfg_fail(c, svcs, "services", "%d services; at most %d",
				k, MAGLB_MAX_SERVICES);
	for (i = 0; i < k; i++) {
		yaml_node_t *n = yaml_document_get_node(c->doc,
					svcs->data.sequence.items.start[i]);
		struct cfg_service *s = config_add_service(cfg);
		char p[64];

		snprintf(p, sizeof(p), "services[%d]", i);
		if (!s)
			return cfg_fail(c, n, p, "out of memory");
		if (parse_service(c, n, p, s) ||
		    config_check_unique(c, n, p, cfg, cfg->n_services - 1))
			return -1;
	}
	return 0;
}

/* Every YAML document of every file, in order. */
static int load_docs(const char *const *paths, int n, struct cfg_doc **out,
		     int *n_out, char *err, size_t errlen)
{
	struct cfg_doc *docs = NULL;
	int i, k = 0, rc = 0;

	for (i = 0; i < n && !rc; i++) {
		yaml_parser_t parser;
		int before = k;
		FILE *f = fopen(paths[i], "r");

		if (!f) {
			snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
			rc = -1;
			break;
		}
		yaml_parser_initialize(&parser);
		yaml_parser_set_input_file(&parser, f);
		for (;;) {
			struct cfg_doc *t = realloc(docs, (k + 1) * sizeof(*t));

			if (!t) {
				snprintf(err, errlen, "%s: out of memory", paths[i]);
				rc = -1;
				break;
			}
			docs = t;
			if (!yaml_parser_load(&parser, &docs[k].doc)) {
				snprintf(err, errlen, "%s:%lu: (syntax): %s", paths[i],
					 (unsigned long)parser.problem_mark.line + 1,
					 parser.problem ? parser.problem : "invalid YAML");
				rc = -1;
				break;
			}
			if (!yaml_document_get_root_node(&docs[k].doc)) {
				yaml_document_delete(&docs[k].doc);	/* end of stream */
				break;
			}
			docs[k++].file = paths[i];
		}
		yaml_parser_delete(&parser);
		fclose(f);
		if (!rc && k == before) {
			snprintf(err, errlen, "%s:1: (document): the file is empty", paths[i]);
			rc = -1;
		}
	}
	*out = docs;
	*n_out = k;
	return rc;
}

struct maglb_config *config_load_files(const char *const *paths, int n,
				       const struct cfg_source *src,
				       char *err, size_t errlen)
{
	struct maglb_config *cfg = calloc(1, sizeof(*cfg));
	struct cfg_ctx c = { .err = err, .errlen = errlen };
	yaml_node_t *gateway = NULL;
	struct cfg_doc *docs = NULL;
	int i, k = 0, manifests = 0, rc, total = 0;
	int native = -1;

	if (!cfg) {
		snprintf(err, errlen, "%s: out of memory", paths[0]);
		return NULL;
	}
	rc = load_docs(paths, n, &docs, &k, err, errlen);
	for (i = 0; !rc && i < k; i++) {
		if (gateway_is_object(&docs[i].doc)) {
			manifests++;
		} else if (native >= 0) {
			c.file = docs[i].file;
			c.doc = &docs[i].doc;
			rc = cfg_fail(&c, yaml_document_get_root_node(c.doc), "(document)",
				      "a second maglb config (the first is in %s); Kubernetes objects need apiVersion and kind",
				      docs[native].file);
		} else {
			native = i;
		}
	}
	if (!rc && native >= 0) {
		c.file = docs[native].file;
		c.doc = &docs[native].doc;
		rc = parse_root(&c, yaml_document_get_root_node(c.doc), cfg,
				manifests > 0, &gateway);
	} else if (!rc) {
		rc = parse_conntrack(&c, NULL, cfg);	/* the defaults */
	}
	if (!rc && manifests)
		rc = gateway_load(docs, k, &c, gateway, src, cfg, err, errlen);
	/* Each (service, backend) pair owns one id; keep half the ids free
	 * so draining backends of the previous config still have theirs. */
	for (i = 0; !rc && i < cfg->n_services; i++)
		total += cfg->services[i].n_backends;
	if (!rc && total > MAGLB_MAX_BACKENDS / 2) {
		snprintf(err, errlen, "%s: services: %d backends in all; at most %d",
			 paths[0], total, MAGLB_MAX_BACKENDS / 2);
		rc = -1;
	}
	for (i = 0; i < k; i++)
		yaml_document_delete(&docs[i].doc);
	free(docs);
	if (rc) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct maglb_config *config_load(const char *path, char *err, size_t errlen)
{
	return config_load_files(&path, 1, NULL, err, errlen);
}

void config_free(struct maglb_config *cfg)
{
	int i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_services; i++) {
		free(cfg->services[i].backends);
		free(cfg->services[i].matches);
	}
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
