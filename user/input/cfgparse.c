// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cfgparse.c - checked reading of YAML nodes, shared by the maglb config
 * (config.c) and the Gateway API manifests (gateway.c). Every failure
 * writes "FILE:LINE: FIELD: REASON" and returns -1.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"
#include "input/cfgparse.h"

int cfg_fail(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (c->no_lines)	/* built from JSON, not read from a file */
		snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, reason);
	else
		snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file,
			 n ? (unsigned long)n->start_mark.line + 1 : 1UL,
			 path, reason);
	return -1;
}

const char *cfg_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
		(const char *)n->data.scalar.value : NULL;
}

yaml_node_t *cfg_get(struct cfg_ctx *c, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;	/* the caller reports the shape, if it cares */
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *k = cfg_scalar(yaml_document_get_node(c->doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(c->doc, p->value);
	}
	return NULL;
}

static bool listed(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

int cfg_check_api_fields(struct cfg_ctx *c, yaml_node_t *map, const char *path,
			 const char *const *known,
			 const char *const *unsupported)
{
	yaml_node_pair_t *p;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_fail(c, map, path, "must be a mapping");
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *name = cfg_scalar(kn);
		char sub[PATH_LEN];

		if (!name)
			return cfg_fail(c, kn, path, "field names must be scalars");
		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		if (listed(unsupported, name))
			return cfg_fail(c, kn, sub, "not supported by maglb");
		if (!listed(known, name))
			return cfg_fail(c, kn, sub, "unknown field");
	}
	return 0;
}

int cfg_check_fields(struct cfg_ctx *c, yaml_node_t *map, const char *path,
		     const char *const *known)
{
	return cfg_check_api_fields(c, map, path, known, NULL);
}

int cfg_seq_len(yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE ?
		n->data.sequence.items.top - n->data.sequence.items.start : 0;
}

yaml_node_t *cfg_seq_at(struct cfg_ctx *c, yaml_node_t *n, int i)
{
	return yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
}

int cfg_str(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		   const char **out)
{
	*out = cfg_scalar(n);
	if (!*out)
		return cfg_fail(c, n, path, "must be a string");
	return 0;
}

/* Field NAME of MAP, its dotted path written to p. cfg_opt() returns NULL when
 * it is absent; cfg_need() also fails with "required" then. */
yaml_node_t *cfg_opt(struct cfg_ctx *c, yaml_node_t *map, const char *path,
			const char *name, char *p)
{
	snprintf(p, PATH_LEN, "%s.%s", path, name);
	return cfg_get(c, map, name);
}

yaml_node_t *cfg_need(struct cfg_ctx *c, yaml_node_t *map, const char *path,
			 const char *name, char *p, const char *hint)
{
	yaml_node_t *n = cfg_opt(c, map, path, name, p);

	if (!n)
		cfg_fail(c, map, p, "required%s", hint);
	return n;
}

int cfg_uint(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	const char *s = cfg_scalar(n);
	char *end;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return cfg_fail(c, n, path, "must be a whole number");
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end)
		return cfg_fail(c, n, path, "\"%s\" is not a whole number", s);
	if (*out < min || *out > max)
		return cfg_fail(c, n, path, "%lu is out of range %lu..%lu", *out,
			    min, max);
	return 0;
}

int cfg_bool(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    bool *out)
{
	const char *s = cfg_scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = !strcmp(s, "true");
		return 0;
	}
	return cfg_fail(c, n, path, "must be true or false");
}

/* "250ms", "90", "90s", "5m", "6h" -> milliseconds, 1 ms .. max_ms. */
static int parse_duration(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			  __u64 max_ms, __u64 *out)
{
	const char *s = cfg_scalar(n);
	unsigned long long v, mult = 1000;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return cfg_fail(c, n, path, "must be a duration like 500ms, 60s, 5m, 6h");
	v = strtoull(s, &end, 10);
	if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else if (*end && strcmp(end, "s"))
		return cfg_fail(c, n, path, "\"%s\": unit must be ms, s, m or h", s);
	if (!v || v > max_ms / mult)
		return cfg_fail(c, n, path, "\"%s\" is out of range", s);
	*out = v * mult;
	return 0;
}

int cfg_duration_ms(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			   __u32 *out)
{
	__u64 ms;

	if (parse_duration(c, n, path, 3600000ULL, &ms))
		return -1;
	*out = ms;
	return 0;
}

/* Whole seconds (conntrack timeouts). */
int cfg_duration(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			__u32 *out)
{
	__u64 ms;

	if (parse_duration(c, n, path, 365ULL * 86400000, &ms))
		return -1;
	if (ms < 1000)
		return cfg_fail(c, n, path, "must be at least 1s");
	*out = ms / 1000;
	return 0;
}

/* An optional field with a fixed set of names; *out keeps its default when
 * the field is absent. */
int cfg_enum(struct cfg_ctx *c, yaml_node_t *map, const char *field,
		    const char *path, const struct enum_name *names, int *out)
{
	const struct enum_name *e;
	char p[256], list[128] = "";
	yaml_node_t *n = cfg_get(c, map, field);
	const char *s;

	snprintf(p, sizeof(p), "%s.%s", path, field);
	if (!n)
		return 0;
	if (cfg_str(c, n, p, &s))
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
	return cfg_fail(c, n, p, "\"%s\" is not %s", s, list);
}

int cfg_addr(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    union maglb_addr *a, __u8 *family)
{
	const char *s;

	if (cfg_str(c, n, path, &s))
		return -1;
	*family = addr_parse(s, a);
	if (!*family)
		return cfg_fail(c, n, path, "\"%s\" is not an IPv4 or IPv6 address",
			    s);
	return 0;
}

/* RFC 7230 token characters: what header and cookie names may hold. */
bool cfg_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
			return false;
	return true;
}
