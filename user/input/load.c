// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * load.c - files to struct maglb_config: every YAML document of every
 * file, the maglb config document (conntrack, syncookieKey, services,
 * gateway defaults) and the Gateway API manifests beside it (gateway.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "input/gateway.h"
#include "input/load.h"
#include "input/service.h"

static int parse_conntrack(struct cfg_ctx *c, yaml_node_t *n,
			   struct maglb_config *cfg)
{
	static const char *const fields[] = {
		"tcpTimeout", "udpTimeout", "closedTimeout", "synTimeout",
		"maxEntries", NULL };
	yaml_node_t *f;

	/* Cilium's defaults: 6h established TCP, 60s UDP, 10s after close,
	 * 60s for a SYN the client never ACKed (its CT_SYN_TIMEOUT). */
	cfg->ct_tcp_timeout = 21600;
	cfg->ct_udp_timeout = 60;
	cfg->ct_closed_timeout = 10;
	cfg->ct_syn_timeout = 60;
	cfg->ct_max_entries = MAGLB_CT_DEFAULT_CONNS;
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
	if ((f = cfg_get(c, n, "synTimeout")) &&
	    cfg_duration(c, f, "conntrack.synTimeout", &cfg->ct_syn_timeout))
		return -1;
	/* Connections, not map entries: each takes a forward and a reply
	 * entry, so the maps get twice this (attach, maps_set_ct_size). */
	if ((f = cfg_get(c, n, "maxEntries"))) {
		unsigned long v;

		if (cfg_uint(c, f, "conntrack.maxEntries", MAGLB_CT_MIN_CONNS,
			     MAGLB_CT_MAX_CONNS, &v))
			return -1;
		cfg->ct_max_entries = v;
	}
	return 0;
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
		    service_check_unique(c, n, p, cfg, cfg->n_services - 1))
			return -1;
	}
	return 0;
}

static const char *file_type(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/*
 * A config file's bytes. Only a regular file, and at most
 * MAGLB_CONFIG_MAX_BYTES: a FIFO renamed over the config (or a symlink to
 * one) would hold open() until a writer came, signals and all, so the
 * open is non-blocking and fstat() decides before any read. Symlinks are
 * followed: a Kubernetes ConfigMap's files are symlinks into ..data/.
 */
int config_read_file(const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *b;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s; a config file must be a regular file",
			 path, file_type(st.st_mode));
		close(fd);
		return -1;
	}
	if (st.st_size > MAGLB_CONFIG_MAX_BYTES)
		goto too_big;
	/* one byte more than the limit, to see a file that grew since */
	b = malloc(MAGLB_CONFIG_MAX_BYTES + 2);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (n <= MAGLB_CONFIG_MAX_BYTES &&
	       (r = read(fd, b + n, MAGLB_CONFIG_MAX_BYTES + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		n += r;
	}
	if (n > MAGLB_CONFIG_MAX_BYTES) {
		free(b);
		goto too_big;
	}
	close(fd);
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
too_big:
	snprintf(err, errlen, "%s: larger than %d bytes (1 MiB), the most a config file may hold",
		 path, MAGLB_CONFIG_MAX_BYTES);
	close(fd);
	return -1;
}

static void syntax_error(const char *path, const yaml_parser_t *ps,
			 char *err, size_t errlen)
{
	snprintf(err, errlen, "%s:%lu: (syntax): %s", path,
		 (unsigned long)ps->problem_mark.line + 1,
		 ps->problem ? ps->problem : "invalid YAML");
}

/*
 * Nesting no deeper than MAGLB_CONFIG_MAX_DEPTH, checked on libyaml's
 * events before any document is built: its scanner and loader cost grows
 * with the square of the depth (200k levels of "[" took over a minute),
 * and the walk stops at the first level past the limit.
 */
static int check_depth(const char *path, const char *text, size_t len,
		       char *err, size_t errlen)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	bool done = false;

	yaml_parser_initialize(&ps);
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&ps, &ev)) {
			syntax_error(path, &ps, err, errlen);
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAGLB_CONFIG_MAX_DEPTH) {
				snprintf(err, errlen, "%s:%lu: (document): nested deeper than %d levels",
					 path, (unsigned long)ev.start_mark.line + 1,
					 MAGLB_CONFIG_MAX_DEPTH);
				rc = -1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	return rc;
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
		size_t len;
		char *text;

		if (config_read_file(paths[i], &text, &len, err, errlen) ||
		    check_depth(paths[i], text, len, err, errlen)) {
			free(text);
			rc = -1;
			break;
		}
		yaml_parser_initialize(&parser);
		yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
		for (;;) {
			struct cfg_doc *t = realloc(docs, (k + 1) * sizeof(*t));

			if (!t) {
				snprintf(err, errlen, "%s: out of memory", paths[i]);
				rc = -1;
				break;
			}
			docs = t;
			if (!yaml_parser_load(&parser, &docs[k].doc)) {
				syntax_error(paths[i], &parser, err, errlen);
				rc = -1;
				break;
			}
			if (!yaml_document_get_root_node(&docs[k].doc)) {
				yaml_document_delete(&docs[k].doc);	/* end of stream */
				break;
			}
			docs[k].own = NULL;
			docs[k++].file = paths[i];
		}
		yaml_parser_delete(&parser);
		free(text);
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
	/* The Gateway API objects the API server holds, after the files'. */
	if (!rc && src && src->manifests && src->manifests(src->arg, &docs, &k)) {
		snprintf(err, errlen, "%s: out of memory", paths[0]);
		rc = -1;
	}
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
				manifests > 0 || (src && src->manifests), &gateway);
	} else if (!rc) {
		rc = parse_conntrack(&c, NULL, cfg);	/* the defaults */
	}
	if (!rc && (manifests || (src && src->manifests)))
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
	for (i = 0; i < k; i++) {
		yaml_document_delete(&docs[i].doc);
		free(docs[i].own);
	}
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
