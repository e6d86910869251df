// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kubeapi.c - the agent's view of the cluster: Services and EndpointSlices
 * kept current by list-then-watch against the API server, the protocol
 * client-go's reflector speaks (and kube-proxy relies on):
 *
 *   list (paged, limit/continue) -> the store and its resourceVersion;
 *   watch from that resourceVersion, with allowWatchBookmarks: one JSON
 *   event per line of a chunked response (ADDED, MODIFIED, DELETED,
 *   BOOKMARK, ERROR);
 *   a watch that ends (server timeout, dropped connection) resumes from
 *   the last resourceVersion seen, with no re-list;
 *   410 Gone (an HTTP status, or an ERROR event whose Status has code
 *   410) means that version is compacted away: list again.
 *
 * The resources are the table below: Services and EndpointSlices for the
 * backends, and the Gateway API kinds maglb serves (handed to gateway.c as
 * manifests, as if they came from files). A Gateway API kind the server
 * does not serve (its CRD is not installed: 404) counts as listed and
 * empty, and is listed again every RETRY_ABSENT_MS until it appears.
 *
 * A re-list replaces the store only once it is complete, so the datapath
 * never sees a half-listed cluster. HTTP is libcurl, JSON is json-c; the
 * objects reach config.c as YAML documents (cfg_source), read by the same
 * code that reads them from files. One thread per resource.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <yaml.h>
#include "common/log.h"
#include "input/cfgparse.h"
#include "input/kubeapi.h"

#define SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define WATCH_TIMEOUT_S	240	/* the server ends a watch after this */
#define BACKOFF_MAX_MS	30000
#define RETRY_ABSENT_MS	30000	/* a kind whose CRD is not installed */
#define REQUEST_MAX_BYTES (4 << 20)	/* kube_request(): one object's answer */

static const struct resource {
	const char *kind, *api_version, *path;
	bool manifest;		/* a Gateway API kind, for gateway.c */
} resources[] = {
	{ "Service", "v1", "/api/v1/services" },
	{ "EndpointSlice", "discovery.k8s.io/v1",
	  "/apis/discovery.k8s.io/v1/endpointslices" },
	{ "GatewayClass", "gateway.networking.k8s.io/v1",
	  "/apis/gateway.networking.k8s.io/v1/gatewayclasses", true },
	{ "Gateway", "gateway.networking.k8s.io/v1",
	  "/apis/gateway.networking.k8s.io/v1/gateways", true },
	{ "HTTPRoute", "gateway.networking.k8s.io/v1",
	  "/apis/gateway.networking.k8s.io/v1/httproutes", true },
	{ "ReferenceGrant", "gateway.networking.k8s.io/v1beta1",
	  "/apis/gateway.networking.k8s.io/v1beta1/referencegrants", true },
	{ "BackendTrafficPolicy", "gateway.envoyproxy.io/v1alpha1",
	  "/apis/gateway.envoyproxy.io/v1alpha1/backendtrafficpolicies", true },
};
#define N_RES	(sizeof(resources) / sizeof(resources[0]))

struct stored {
	char *ns, *name;
	char *service;		/* Service: its name; slice: its label */
	json_object *obj;
};

struct watch {
	struct kube *k;
	const char *kind, *api_version, *path;
	bool manifest;
	pthread_t thread;
	bool started;
	/* under k->lock */
	int sock;		/* the transfer's socket, -1 if none */
	struct stored *objs;
	int n;
	bool synced;
	/* the thread's own */
	char rv[64];
	char *buf;		/* a list body, or a partial watch line */
	size_t len, cap;
	bool gone;		/* 410: list again */
	bool changed;		/* the store changed during this transfer */
};

struct kube {
	char server[512];
	char ca_file[512];
	char *ca_data, *cert_data, *key_data;	/* PEM, decoded */
	size_t ca_len, cert_len, key_len;
	char token_file[512];
	char token[4096];		/* a literal token from kubeconfig */
	bool insecure;
	bool allow_http;		/* --kube-allow-http */
	int notify_fd;
	volatile bool stop;
	pthread_mutex_t lock;
	struct watch w[N_RES];
	struct cfg_source src;
};

/* ---- configuration: in-cluster or kubeconfig ------------------------- */

static int b64_decode(const char *in, char **out, size_t *len)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), k = 0;
	unsigned int acc = 0;
	int bits = 0;
	char *o = malloc(n / 4 * 3 + 4);

	if (!o)
		return -1;
	for (; *in && *in != '='; in++) {
		const char *p = strchr(tbl, *in);

		if (*in == '\n' || *in == '\r' || *in == ' ')
			continue;
		if (!p) {
			free(o);
			return -1;
		}
		acc = acc << 6 | (p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = acc >> bits & 0xff;
		}
	}
	o[k] = 0;
	*out = o;
	*len = k;
	return 0;
}

/* kubeconfig lookups, through the config reader's helpers */
static yaml_node_t *ymap(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	struct cfg_ctx c = { .doc = d };

	return cfg_get(&c, m, key);
}

static const char *ystr(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	return cfg_scalar(ymap(d, m, key));
}

/* The entry of list (clusters, users, contexts) called name; its inner
 * mapping (cluster, user, context). */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root,
			  const char *list, const char *inner, const char *name)
{
	yaml_node_t *l = ymap(d, root, list);
	yaml_node_item_t *i;

	if (!l || l->type != YAML_SEQUENCE_NODE || !name)
		return NULL;
	for (i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(d, *i);
		const char *n = ystr(d, e, "name");

		if (n && !strcmp(n, name))
			return ymap(d, e, inner);
	}
	return NULL;
}

/* A path in a kubeconfig is relative to the kubeconfig's directory. */
static void rel_path(char *out, size_t len, const char *kubeconfig,
		     const char *p)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s", kubeconfig);
	if (p[0] == '/')
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "%s/%s", dirname(dir), p);
}

static int pem_field(yaml_document_t *d, yaml_node_t *m, const char *field,
		     char **out, size_t *len, const char *kc, char *err,
		     size_t errlen)
{
	const char *s = ystr(d, m, field);

	if (s && b64_decode(s, out, len)) {
		snprintf(err, errlen, "%s: %s: not base64", kc, field);
		return -1;
	}
	return 0;
}

static int load_kubeconfig(struct kube *k, const char *path, char *err,
			   size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t d;
	yaml_node_t *root, *ctx, *cl, *user;
	const char *s, *cur;
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &d)) {
		snprintf(err, errlen, "%s:%lu: %s", path,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "invalid YAML");
		goto out_parser;
	}
	root = yaml_document_get_root_node(&d);
	cur = ystr(&d, root, "current-context");
	ctx = named(&d, root, "contexts", "context", cur);
	if (!ctx) {
		snprintf(err, errlen, "%s: current-context: \"%s\" is not among contexts",
			 path, cur ? cur : "");
		goto out;
	}
	cl = named(&d, root, "clusters", "cluster", ystr(&d, ctx, "cluster"));
	user = named(&d, root, "users", "user", ystr(&d, ctx, "user"));
	if (!cl || !(s = ystr(&d, cl, "server"))) {
		snprintf(err, errlen, "%s: clusters[%s].cluster.server: required",
			 path, ystr(&d, ctx, "cluster") ?: "");
		goto out;
	}
	snprintf(k->server, sizeof(k->server), "%s", s);
	if ((s = ystr(&d, cl, "certificate-authority")))
		rel_path(k->ca_file, sizeof(k->ca_file), path, s);
	if (pem_field(&d, cl, "certificate-authority-data", &k->ca_data,
		      &k->ca_len, path, err, errlen))
		goto out;
	s = ystr(&d, cl, "insecure-skip-tls-verify");
	k->insecure = s && !strcmp(s, "true");
	if (user) {
		if ((s = ystr(&d, user, "token")))
			snprintf(k->token, sizeof(k->token), "%s", s);
		if ((s = ystr(&d, user, "tokenFile")))
			rel_path(k->token_file, sizeof(k->token_file), path, s);
		if (pem_field(&d, user, "client-certificate-data", &k->cert_data,
			      &k->cert_len, path, err, errlen) ||
		    pem_field(&d, user, "client-key-data", &k->key_data,
			      &k->key_len, path, err, errlen))
			goto out;
		if (ystr(&d, user, "client-certificate") || ystr(&d, user, "exec") ||
		    ymap(&d, user, "exec") || ymap(&d, user, "auth-provider")) {
			snprintf(err, errlen, "%s: users[%s]: only token, tokenFile and client-*-data are supported",
				 path, ystr(&d, ctx, "user"));
			goto out;
		}
	}
	rc = 0;
out:
	yaml_document_delete(&d);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

static int load_in_cluster(struct kube *k, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");

	if (!host || !port) {
		snprintf(err, errlen, "not in a cluster (KUBERNETES_SERVICE_HOST/PORT unset); give --kubeconfig PATH");
		return -1;
	}
	snprintf(k->server, sizeof(k->server), strchr(host, ':') ?
		 "https://[%s]:%s" : "https://%s:%s", host, port);
	snprintf(k->ca_file, sizeof(k->ca_file), "%s/ca.crt", SA_DIR);
	/* Bound service-account tokens rotate: read it for every request. */
	snprintf(k->token_file, sizeof(k->token_file), "%s/token", SA_DIR);
	if (access(k->token_file, R_OK)) {
		snprintf(err, errlen, "%s: %s", k->token_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------- */

static int xfer_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
		   curl_off_t d)
{
	struct watch *w = arg;

	return w->k->stop;	/* non-zero aborts the transfer */
}

/* A handle for url with the cluster's auth and TLS: the token (read anew
 * each time, it rotates), the CA, a client certificate. */
static CURL *client(struct kube *k, const char *url, struct curl_slist **hdrs)
{
	char auth[4200], tok[4096] = "";
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	if (k->token_file[0]) {
		FILE *f = fopen(k->token_file, "r");

		if (f) {
			if (!fgets(tok, sizeof(tok), f))
				tok[0] = 0;
			fclose(f);
		}
		tok[strcspn(tok, "\r\n")] = 0;
	} else {
		snprintf(tok, sizeof(tok), "%s", k->token);
	}
	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (tok[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		*hdrs = curl_slist_append(*hdrs, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* Also here, so that nothing (a redirect, an edited URL) takes the
	 * token anywhere but where kube_start allowed. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, k->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "maglb-agent");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	if (k->ca_data) {
		struct curl_blob b = { k->ca_data, k->ca_len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	} else if (k->ca_file[0]) {
		curl_easy_setopt(h, CURLOPT_CAINFO, k->ca_file);
	}
	if (k->cert_data && k->key_data) {
		struct curl_blob c = { k->cert_data, k->cert_len, CURL_BLOB_COPY };
		struct curl_blob y = { k->key_data, k->key_len, CURL_BLOB_COPY };

		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &y);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (k->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return h;
}

/* The watch's socket is known, so that kube_stop() can shut it down: a
 * transfer waiting for data would otherwise see the stop only at its
 * next progress call, up to a second later. */
static curl_socket_t open_sock(void *arg, curlsocktype purpose,
			       struct curl_sockaddr *a)
{
	struct watch *w = arg;
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

	pthread_mutex_lock(&w->k->lock);
	if (w->k->stop && fd >= 0) {
		close(fd);
		fd = -1;
	}
	w->sock = fd;
	pthread_mutex_unlock(&w->k->lock);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int close_sock(void *arg, curl_socket_t fd)
{
	struct watch *w = arg;

	pthread_mutex_lock(&w->k->lock);
	if (w->sock == fd)
		w->sock = -1;
	pthread_mutex_unlock(&w->k->lock);
	return close(fd);
}

/* A list or a watch of w's resource, ended early by kube_stop(). */
static CURL *request(struct watch *w, const char *url,
		     curl_write_callback cb, struct curl_slist **hdrs)
{
	CURL *h = client(w->k, url, hdrs);

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_sock);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, w);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_sock);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, w);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	/* A watch that goes quiet longer than the server's own timeout is
	 * a dead connection. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)WATCH_TIMEOUT_S + 30);
	return h;
}

/* ---- one request (writes: status, the Lease) -------------------------- */

struct reply {
	char *buf;
	size_t len;
	bool full;
};

static size_t reply_write(char *p, size_t sz, size_t n, void *arg)
{
	struct reply *r = arg;
	char *t;

	if (r->len + sz * n > REQUEST_MAX_BYTES) {
		r->full = true;
		return 0;
	}
	t = realloc(r->buf, r->len + sz * n + 1);
	if (!t)
		return 0;
	r->buf = t;
	memcpy(r->buf + r->len, p, sz * n);
	r->len += sz * n;
	r->buf[r->len] = 0;
	return sz * n;
}

/* The caller reads SIGTERM and SIGINT from a signalfd, so while they are
 * blocked a pending one means "stop": give the request up at once. */
static int request_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
		      curl_off_t d)
{
	struct kube *k = arg;
	sigset_t p;

	if (k->stop)
		return 1;
	return !sigpending(&p) && (sigismember(&p, SIGTERM) ||
				   sigismember(&p, SIGINT));
}

int kube_request(struct kube *k, const char *method, const char *path,
		 const char *content_type, const char *body, int timeout_ms,
		 long *status, char **resp)
{
	char url[2048], ct[128];
	struct curl_slist *hdrs = NULL;
	struct reply r = {};
	CURLcode cc;
	CURL *h;

	*status = 0;
	if (resp)
		*resp = NULL;
	snprintf(url, sizeof(url), "%s%s", k->server, path);
	h = client(k, url, &hdrs);
	if (!h)
		return -ENOMEM;
	if (content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, request_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, k);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	else
		log_event(cc == CURLE_ABORTED_BY_CALLBACK ? "debug" : "warn",
			  "msg=\"kubernetes request failed\" method=%s path=%s error=\"%s\"",
			  method, path, r.full ? "answer too long" : curl_easy_strerror(cc));
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		free(r.buf);
		return cc == CURLE_ABORTED_BY_CALLBACK ? -ECANCELED :
		       cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (resp)
		*resp = r.buf;
	else
		free(r.buf);
	return 0;
}

static int buf_add(struct watch *w, const char *p, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *t = realloc(w->buf, cap);

		if (!t)
			return -1;
		w->buf = t;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = 0;
	return 0;
}

/* ---- the store -------------------------------------------------------- */

static const char *jstr(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

static void stored_free(struct stored *s)
{
	free(s->ns);
	free(s->name);
	free(s->service);
	json_object_put(s->obj);
}

static void store_free(struct stored *objs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		stored_free(&objs[i]);
	free(objs);
}

/* Make a stored copy of obj; NULL when it has no name. Items of a list
 * carry no kind or apiVersion: add them, as the files have them. */
static int stored_make(struct watch *w, json_object *obj, struct stored *s)
{
	json_object *meta, *labels, *v;
	const char *name = jstr(obj, "metadata", "name");
	const char *ns = jstr(obj, "metadata", "namespace");
	const char *svc = name;

	if (!name)
		return -1;
	if (!strcmp(w->kind, "EndpointSlice")) {
		svc = NULL;
		if (json_object_object_get_ex(obj, "metadata", &meta) &&
		    json_object_object_get_ex(meta, "labels", &labels) &&
		    json_object_object_get_ex(labels, "kubernetes.io/service-name", &v))
			svc = json_object_get_string(v);
	}
	s->ns = strdup(ns ? ns : "default");
	s->name = strdup(name);
	s->service = strdup(svc ? svc : "");
	s->obj = json_object_get(obj);
	json_object_object_add(obj, "kind", json_object_new_string(w->kind));
	json_object_object_add(obj, "apiVersion", json_object_new_string(w->api_version));
	return 0;
}

static int store_find(struct watch *w, const char *ns, const char *name)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(w->objs[i].ns, ns) && !strcmp(w->objs[i].name, name))
			return i;
	return -1;
}

/* ADDED, MODIFIED or DELETED, under the lock. */
static void store_event(struct watch *w, const char *type, json_object *obj)
{
	struct stored s;
	int i;

	if (stored_make(w, obj, &s))
		return;
	pthread_mutex_lock(&w->k->lock);
	i = store_find(w, s.ns, s.name);
	if (!strcmp(type, "DELETED")) {
		if (i >= 0) {
			stored_free(&w->objs[i]);
			w->objs[i] = w->objs[--w->n];
		}
		stored_free(&s);
	} else if (i >= 0) {
		stored_free(&w->objs[i]);
		w->objs[i] = s;
	} else {
		struct stored *t = realloc(w->objs, (w->n + 1) * sizeof(*t));

		if (t) {
			w->objs = t;
			w->objs[w->n++] = s;
		} else {
			stored_free(&s);
		}
	}
	pthread_mutex_unlock(&w->k->lock);
	w->changed = true;
}

static void notify(struct kube *k)
{
	__u64 one = 1;

	if (write(k->notify_fd, &one, sizeof(one)) < 0)
		log_event("error", "msg=\"cannot wake the agent\" error=\"%s\"",
			  strerror(errno));
}

/* ---- list ------------------------------------------------------------- */

static size_t list_write(char *p, size_t sz, size_t n, void *arg)
{
	return buf_add(arg, p, sz * n) ? 0 : sz * n;
}

/* One page into *objs. Returns the HTTP status, or -1 on a transport or
 * parse error. next gets the continue token ("" on the last page). */
static long list_page(struct watch *w, const char *cont, struct stored **objs,
		      int *n, char *next, size_t nlen)
{
	char url[2048];
	struct curl_slist *hdrs = NULL;
	json_object *body = NULL, *items;
	long status = -1;
	CURLcode cc;
	CURL *h;
	size_t i;

	snprintf(url, sizeof(url), "%s%s?limit=500%s%s", w->k->server, w->path,
		 cont[0] ? "&continue=" : "", cont);
	w->len = 0;
	h = request(w, url, list_write, &hdrs);
	if (!h)
		return -1;
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	else if (!w->k->stop)
		log_event("warn", "msg=\"list failed\" kind=%s error=\"%s\"", w->kind,
			  curl_easy_strerror(cc));
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (status != 200)
		return status;
	body = w->len ? json_tokener_parse(w->buf) : NULL;
	if (!body || !json_object_object_get_ex(body, "items", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		log_event("warn", "msg=\"list answer is not a List\" kind=%s", w->kind);
		json_object_put(body);
		return -1;
	}
	for (i = 0; i < json_object_array_length(items); i++) {
		struct stored *t = realloc(*objs, (*n + 1) * sizeof(*t));

		if (!t)
			break;
		*objs = t;
		if (!stored_make(w, json_object_array_get_idx(items, i), &t[*n]))
			(*n)++;
	}
	snprintf(w->rv, sizeof(w->rv), "%s",
		 jstr(body, "metadata", "resourceVersion") ?: "");
	snprintf(next, nlen, "%s", jstr(body, "metadata", "continue") ?: "");
	json_object_put(body);
	return 200;
}

static long list_all(struct watch *w)
{
	struct stored *objs = NULL, *old;
	char cont[1024] = "", next[1024];
	int n = 0, n_old;
	long st;

	do {
		st = list_page(w, cont, &objs, &n, next, sizeof(next));
		snprintf(cont, sizeof(cont), "%s", next);
	} while (st == 200 && cont[0]);
	if (st != 200) {
		store_free(objs, n);
		return st;
	}
	pthread_mutex_lock(&w->k->lock);
	old = w->objs;
	n_old = w->n;
	w->objs = objs;
	w->n = n;
	w->synced = true;
	pthread_mutex_unlock(&w->k->lock);
	store_free(old, n_old);
	log_event("info", "msg=\"kubernetes list\" kind=%s objects=%d resource_version=%s",
		  w->kind, n, w->rv);
	return 200;
}

/* ---- watch ------------------------------------------------------------ */

static void watch_line(struct watch *w, const char *line)
{
	json_object *ev = json_tokener_parse(line), *obj = NULL, *code;
	const char *type = ev ? jstr(ev, "type", NULL) : NULL;
	const char *rv;

	if (!type || !json_object_object_get_ex(ev, "object", &obj)) {
		log_event("warn", "msg=\"bad watch event\" kind=%s", w->kind);
		json_object_put(ev);
		return;
	}
	if (!strcmp(type, "ERROR")) {
		/* A Status: 410 is "too old resource version". */
		int c = json_object_object_get_ex(obj, "code", &code) ?
			json_object_get_int(code) : 0;

		log_event(c == 410 ? "info" : "warn",
			  "msg=\"watch error event\" kind=%s code=%d reason=\"%s\"",
			  w->kind, c, jstr(obj, "reason", NULL) ?: "");
		w->gone = true;	/* any error: list again */
	} else {
		if (strcmp(type, "BOOKMARK"))
			store_event(w, type, obj);
		if ((rv = jstr(obj, "metadata", "resourceVersion")))
			snprintf(w->rv, sizeof(w->rv), "%s", rv);
		log_event("debug", "msg=\"watch event\" kind=%s type=%s name=%s resource_version=%s",
			  w->kind, type, jstr(obj, "metadata", "name") ?: "", w->rv);
	}
	json_object_put(ev);
}

static size_t watch_write(char *p, size_t sz, size_t n, void *arg)
{
	struct watch *w = arg;
	char *nl;

	if (buf_add(w, p, sz * n))
		return 0;
	while (!w->gone && (nl = memchr(w->buf, '\n', w->len))) {
		*nl = 0;
		if (nl > w->buf)
			watch_line(w, w->buf);
		w->len -= nl + 1 - w->buf;
		memmove(w->buf, nl + 1, w->len);
	}
	if (w->changed) {	/* wake the agent per chunk, not per event */
		w->changed = false;
		notify(w->k);
	}
	return w->gone ? 0 : sz * n;	/* 0 ends the transfer */
}

static long watch_once(struct watch *w)
{
	char url[2048];
	struct curl_slist *hdrs = NULL;
	long status = -1;
	CURLcode cc;
	CURL *h;

	snprintf(url, sizeof(url),
		 "%s%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
		 w->k->server, w->path, w->rv, WATCH_TIMEOUT_S);
	w->len = 0;
	w->gone = false;
	h = request(w, url, watch_write, &hdrs);
	if (!h)
		return -1;
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK && !w->gone && !w->k->stop)
		log_event("info", "msg=\"watch ended\" kind=%s error=\"%s\" resource_version=%s",
			  w->kind, curl_easy_strerror(cc), w->rv);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (w->gone)
		return 410;
	return cc == CURLE_OK || status == 200 ? status : -1;
}

static void nap(struct kube *k, int ms)
{
	for (; ms > 0 && !k->stop; ms -= 100)
		usleep(100000);
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	int backoff = 0;
	bool listed = false;
	long st;

	while (!w->k->stop) {
		if (!listed) {
			st = list_all(w);
			if (st == 404 && w->manifest) {
				pthread_mutex_lock(&w->k->lock);
				if (!w->synced)
					log_event("info", "msg=\"kind not served: is its CRD installed?\" kind=%s path=%s retry_ms=%d",
						  w->kind, w->path, RETRY_ABSENT_MS);
				w->synced = true;	/* listed: none */
				pthread_mutex_unlock(&w->k->lock);
				notify(w->k);
				nap(w->k, RETRY_ABSENT_MS);
				continue;
			}
			if (st != 200) {
				if (!w->k->stop)
					log_event("warn", "msg=\"kubernetes list failed\" kind=%s status=%ld retry_ms=%d",
						  w->kind, st, backoff ?: 500);
				backoff = backoff ? (backoff * 2 > BACKOFF_MAX_MS ?
					  BACKOFF_MAX_MS : backoff * 2) : 500;
				nap(w->k, backoff);
				continue;
			}
			listed = true;
			backoff = 0;
			notify(w->k);
		}
		st = watch_once(w);
		if (st == 410) {
			log_event("info", "msg=\"resource version gone, listing again\" kind=%s resource_version=%s",
				  w->kind, w->rv);
			listed = false;
		} else if (st != 200) {
			/* The server may be restarting: keep the store, and
			 * resume from the same version after a pause. */
			backoff = backoff ? (backoff * 2 > BACKOFF_MAX_MS ?
				  BACKOFF_MAX_MS : backoff * 2) : 500;
			if (!w->k->stop)
				log_event("warn", "msg=\"watch failed\" kind=%s status=%ld retry_ms=%d",
					  w->kind, st, backoff);
			nap(w->k, backoff);
		} else {
			backoff = 0;
		}
	}
	return NULL;
}

/* ---- cfg_source ------------------------------------------------------- */

static int json_to_yaml(yaml_document_t *d, json_object *o)
{
	char buf[32];
	const char *s;
	int id, v;

	switch (json_object_get_type(o)) {
	case json_type_object:
		id = yaml_document_add_mapping(d, NULL, YAML_ANY_MAPPING_STYLE);
		json_object_object_foreach(o, key, val) {
			int k = yaml_document_add_scalar(d, NULL, (yaml_char_t *)key, -1,
							 YAML_ANY_SCALAR_STYLE);

			v = json_to_yaml(d, val);
			if (!id || !k || !v ||
			    !yaml_document_append_mapping_pair(d, id, k, v))
				return 0;
		}
		return id;
	case json_type_array: {
		size_t i;

		id = yaml_document_add_sequence(d, NULL, YAML_ANY_SEQUENCE_STYLE);
		for (i = 0; id && i < json_object_array_length(o); i++) {
			v = json_to_yaml(d, json_object_array_get_idx(o, i));
			if (!v || !yaml_document_append_sequence_item(d, id, v))
				return 0;
		}
		return id;
	}
	case json_type_null:
		s = "";
		break;
	case json_type_string:
		s = json_object_get_string(o);
		break;
	default:	/* numbers and booleans as the YAML parser would give */
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(o));
		s = buf;
	}
	return yaml_document_add_scalar(d, NULL, (yaml_char_t *)s, -1,
					YAML_ANY_SCALAR_STYLE);
}

static int give(struct watch *w, int i, cfg_object_fn fn, void *fnarg)
{
	struct stored *s = &w->objs[i];
	yaml_document_t d;
	char label[256];
	int rc;

	if (!yaml_document_initialize(&d, NULL, NULL, NULL, 1, 1))
		return -1;
	snprintf(label, sizeof(label), "apiserver %s %s/%s", w->kind, s->ns,
		 s->name);
	rc = json_to_yaml(&d, s->obj) ? fn(fnarg, label, &d) : -1;
	yaml_document_delete(&d);
	return rc;
}

/* The Service first, then its slices, in name order so every node (and
 * every re-list) feeds them alike. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct stored *)a)->name,
		      ((const struct stored *)b)->name);
}

static int source_objects(void *arg, const char *ns, const char *name,
			  cfg_object_fn fn, void *fnarg)
{
	struct kube *k = arg;
	int wi, i, rc = 0;

	pthread_mutex_lock(&k->lock);
	for (wi = 0; wi < 2 && !rc; wi++) {	/* Services, EndpointSlices */
		struct watch *w = &k->w[wi];

		qsort(w->objs, w->n, sizeof(*w->objs), cmp_name);
		for (i = 0; i < w->n && !rc; i++)
			if (!strcmp(w->objs[i].ns, ns) &&
			    !strcmp(w->objs[i].service, name))
				rc = give(w, i, fn, fnarg);
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

/* ---- manifests -------------------------------------------------------- */

static int cmp_ns_name(const void *a, const void *b)
{
	const struct stored *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);

	return r ? r : strcmp(x->name, y->name);
}

static int source_manifests(void *arg, struct cfg_doc **docs, int *n)
{
	struct kube *k = arg;
	unsigned wi;
	int i, rc = 0;

	pthread_mutex_lock(&k->lock);
	for (wi = 0; wi < N_RES && !rc; wi++) {
		struct watch *w = &k->w[wi];

		if (!w->manifest)
			continue;
		qsort(w->objs, w->n, sizeof(*w->objs), cmp_ns_name);
		for (i = 0; i < w->n && !rc; i++) {
			struct cfg_doc *t = realloc(*docs, (*n + 1) * sizeof(*t));

			if (!t) {
				rc = -1;
				break;
			}
			*docs = t;
			t = &t[*n];
			memset(t, 0, sizeof(*t));
			if (asprintf(&t->own, "apiserver %s %s/%s", w->kind,
				     w->objs[i].ns, w->objs[i].name) < 0 ||
			    !yaml_document_initialize(&t->doc, NULL, NULL, NULL, 1, 1)) {
				rc = -1;
				free(t->own);
				break;
			}
			t->file = t->own;
			if (!json_to_yaml(&t->doc, w->objs[i].obj)) {
				yaml_document_delete(&t->doc);
				free(t->own);
				rc = -1;
				break;
			}
			(*n)++;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

/* ---- life ------------------------------------------------------------- */

struct kube *kube_start(const char *kubeconfig, bool allow_http, int notify_fd,
			char *err, size_t errlen)
{
	struct kube *k = calloc(1, sizeof(*k));
	int i;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&k->lock, NULL);
	k->notify_fd = notify_fd;
	if (kubeconfig ? load_kubeconfig(k, kubeconfig, err, errlen) :
	    load_in_cluster(k, err, errlen)) {
		kube_stop(k);
		return NULL;
	}
	/* Every request carries the bearer token: never in clear text,
	 * unless the operator says so. */
	k->allow_http = allow_http;
	if (strncmp(k->server, "https://", 8) &&
	    (strncmp(k->server, "http://", 7) || !allow_http)) {
		snprintf(err, errlen, !strncmp(k->server, "http://", 7) ?
			 "%s: server %s is plain HTTP, where the bearer token would travel in clear text; use https://, or --kube-allow-http to accept it" :
			 "%s: server %s is not an https:// URL",
			 kubeconfig ? kubeconfig : "in-cluster config", k->server);
		kube_stop(k);
		return NULL;
	}
	for (i = 0; i < (int)N_RES; i++)
		k->w[i] = (struct watch){ .k = k, .kind = resources[i].kind,
					  .api_version = resources[i].api_version,
					  .path = resources[i].path,
					  .manifest = resources[i].manifest,
					  .sock = -1 };
	k->src = (struct cfg_source){ .objects = source_objects,
				      .manifests = source_manifests, .arg = k };
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < (int)N_RES; i++) {
		if (pthread_create(&k->w[i].thread, NULL, watch_thread, &k->w[i])) {
			snprintf(err, errlen, "cannot start a watch thread");
			kube_stop(k);
			return NULL;
		}
		k->w[i].started = true;
	}
	log_event("info", "msg=\"watching kubernetes\" server=%s auth=%s",
		  k->server, kubeconfig ? kubeconfig : "in-cluster");
	return k;
}

bool kube_synced(struct kube *k)
{
	unsigned i;
	bool s;

	pthread_mutex_lock(&k->lock);
	for (s = true, i = 0; i < N_RES; i++)
		s &= k->w[i].synced;
	pthread_mutex_unlock(&k->lock);
	return s;
}

const struct cfg_source *kube_source(struct kube *k)
{
	return &k->src;
}

void kube_stop(struct kube *k)
{
	int i;

	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	k->stop = true;
	for (i = 0; i < (int)N_RES; i++)
		if (k->w[i].sock >= 0)
			shutdown(k->w[i].sock, SHUT_RDWR);
	pthread_mutex_unlock(&k->lock);
	for (i = 0; i < (int)N_RES; i++) {
		if (k->w[i].started)
			pthread_join(k->w[i].thread, NULL);
		store_free(k->w[i].objs, k->w[i].n);
		free(k->w[i].buf);
	}
	free(k->ca_data);
	free(k->cert_data);
	free(k->key_data);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
