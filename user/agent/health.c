// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * health.c - decides whether a backend may take new connections. Each
 * backend of a service with healthCheck.active is probed every interval:
 * a TCP connect, or an HTTP GET whose status must be one of the expected.
 * unhealthyThreshold failures in a row take it out of the Maglev table,
 * healthyThreshold successes bring it back. A backend starts healthy, so
 * an agent restart never empties a table. libcurl does the I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "agent/health.h"
#include "common/addr.h"
#include "common/log.h"

struct target {
	char svc[MAGLB_NAME_LEN];
	char name[CFG_BACKEND_NAME_LEN];
	char url[256];
	const struct cfg_health *hc;	/* into the live config */
	CURL *easy;			/* non-NULL while a probe runs */
	__u64 next_ms;
	__u32 ok_run, fail_run;
	bool unhealthy;
};

struct health {
	CURLM *multi;
	struct target *t;
	int n;
	struct health_overlay down;	/* the targets that are unhealthy */
};

static void fill_overlay(struct health *h)
{
	int i;

	h->down.n = 0;
	for (i = 0; i < h->n; i++) {
		struct health_mark *d = &h->down.down[h->down.n];

		if (!h->t[i].unhealthy)
			continue;
		snprintf(d->svc, sizeof(d->svc), "%s", h->t[i].svc);
		snprintf(d->backend, sizeof(d->backend), "%s", h->t[i].name);
		h->down.n++;
	}
}

const struct health_overlay *health_overlay(const struct health *h)
{
	return h ? &h->down : NULL;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

struct health *health_new(const struct maglb_config *cfg,
			  const struct health *old)
{
	struct health *h = calloc(1, sizeof(*h));
	int i, j, k, total = 0;

	if (!h)
		return NULL;
	for (i = 0; i < cfg->n_services; i++)
		if (cfg->services[i].health.enabled)
			total += cfg->services[i].n_backends;
	h->t = calloc(total ?: 1, sizeof(*h->t));
	h->down.down = calloc(total ?: 1, sizeof(*h->down.down));
	h->multi = curl_multi_init();
	if (!h->t || !h->down.down || !h->multi) {
		health_free(h);
		return NULL;
	}
	for (i = 0; i < cfg->n_services; i++) {
		const struct cfg_service *s = &cfg->services[i];

		if (!s->health.enabled)
			continue;
		for (j = 0; j < s->n_backends; j++) {
			const struct cfg_backend *b = &s->backends[j];
			struct target *t = &h->t[h->n++];
			char ip[ADDR_STRLEN];

			snprintf(t->svc, sizeof(t->svc), "%s", s->name);
			snprintf(t->name, sizeof(t->name), "%s", b->name);
			addr_str(&b->addr, b->family, ip);
			snprintf(t->url, sizeof(t->url),
				 b->family == MAGLB_AF_INET6 ? "http://[%s]:%u%s" :
				 "http://%s:%u%s", ip, b->port,
				 s->health.http ? s->health.path : "/");
			t->hc = &s->health;
			for (k = 0; old && k < old->n; k++) {
				if (!strcmp(old->t[k].svc, t->svc) &&
				    !strcmp(old->t[k].name, t->name)) {
					t->unhealthy = old->t[k].unhealthy;
					t->ok_run = old->t[k].ok_run;
					t->fail_run = old->t[k].fail_run;
				}
			}
		}
	}
	fill_overlay(h);
	return h;
}

void health_free(struct health *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		if (h->t[i].easy) {
			curl_multi_remove_handle(h->multi, h->t[i].easy);
			curl_easy_cleanup(h->t[i].easy);
		}
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	free(h->t);
	free(h->down.down);
	free(h);
}

static void start_probe(struct health *h, struct target *t)
{
	CURL *e = curl_easy_init();

	if (!e)
		return;
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->hc->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t->hc->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	if (!t->hc->http)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_multi_add_handle(h->multi, e);
	t->easy = e;
}

static bool probe_passed(const struct target *t, CURLcode rc)
{
	long code = 0;
	int i;

	if (rc != CURLE_OK)
		return false;
	if (!t->hc->http)
		return true;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	for (i = 0; i < t->hc->n_statuses; i++)
		if (code == t->hc->statuses[i])
			return true;
	return false;
}

/* Returns true when the target changed state. */
static bool record(struct target *t, bool ok)
{
	if (ok) {
		t->fail_run = 0;
		if (++t->ok_run >= t->hc->healthy_threshold && t->unhealthy) {
			t->unhealthy = false;
			return true;
		}
	} else {
		t->ok_run = 0;
		if (++t->fail_run >= t->hc->unhealthy_threshold && !t->unhealthy) {
			t->unhealthy = true;
			return true;
		}
	}
	return false;
}

bool health_poll(struct health *h, __u64 now_ms)
{
	bool changed = false;
	struct CURLMsg *m;
	int i, left;

	if (!h || !h->n)
		return false;
	for (i = 0; i < h->n; i++) {
		struct target *t = &h->t[i];

		if (!t->easy && now_ms >= t->next_ms) {
			start_probe(h, t);
			t->next_ms = now_ms + t->hc->interval_ms;
		}
	}
	curl_multi_perform(h->multi, &left);
	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct target *t = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (!t)
			continue;
		if (record(t, probe_passed(t, m->data.result))) {
			changed = true;
			fprintf(stderr, "level=%s msg=\"backend health changed\" service=%s backend=%s healthy=%s\n",
				t->unhealthy ? "warn" : "info", t->svc, t->name,
				t->unhealthy ? "false" : "true");
		}
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	if (!changed)
		return false;
	fill_overlay(h);
	return true;
}

int health_wait_ms(const struct health *h, __u64 now_ms)
{
	int i, w = -1;

	for (i = 0; h && i < h->n; i++) {
		int d;

		if (h->t[i].easy)
			return 20;	/* a probe is running: poll curl soon */
		d = h->t[i].next_ms > now_ms ? (int)(h->t[i].next_ms - now_ms) : 0;
		if (w < 0 || d < w)
			w = d;
	}
	return w;
}
