// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lease.c - leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection package does it (see lease.h):
 *
 *   read the Lease; absent: create it holding it (a 409 means another
 *   agent created it first);
 *   held by another, and its record changed within leaseDurationSeconds
 *   by our own clock: not ours, try again later. The other's renewTime
 *   is not compared with our clock: nodes' clocks differ, so what counts
 *   is when *we* last saw the record change;
 *   else (ours, empty or expired): write it with us as holder, with the
 *   resourceVersion read, so of two candidates one wins and the other
 *   gets a 409;
 *   held: renewed every LEASE_RETRY_MS; a holder that could not renew
 *   for LEASE_RENEW_DEADLINE_MS stops writing status, before the others
 *   may take the lease (LEASE_DURATION_S), so two never write at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "agent/lease.h"
#include "common/log.h"
#include "input/kubeapi.h"

/* client-go's defaults (kube-controller-manager's too): a dead holder is
 * replaced within LEASE_DURATION_S + LEASE_RETRY_MS; a holder that cannot
 * reach the API server gives up at LEASE_RENEW_DEADLINE_MS, 5 s before
 * anyone else may take over. LEASE_REQ_TIMEOUT_MS bounds each request:
 * the agent's loop waits for it (SIGTERM aborts it). */
#define LEASE_DURATION_S	15
#define LEASE_RENEW_DEADLINE_MS	10000
#define LEASE_RETRY_MS		2000
#define LEASE_REQ_TIMEOUT_MS	1000

#define MS	1000000ULL

struct lease {
	struct kube *k;
	char path[600], coll[600];	/* the Lease, its collection */
	char ns[254], name[254], id[254];
	bool held;
	__u64 renewed;			/* our last successful write */
	__u64 due;
	char seen[800];			/* the record as last read */
	__u64 seen_at;			/* when it last changed */
	char acquired[40];		/* acquireTime of our holding */
	long transitions;
};

struct lease *lease_new(struct kube *k, const char *ns, const char *name,
			const char *identity)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->k = k;
	snprintf(l->ns, sizeof(l->ns), "%s", ns);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->id, sizeof(l->id), "%s", identity);
	snprintf(l->coll, sizeof(l->coll),
		 "/apis/coordination.k8s.io/v1/namespaces/%s/leases", ns);
	snprintf(l->path, sizeof(l->path), "%s/%s", l->coll, name);
	log_event("info", "msg=\"status lease\" lease=%s/%s identity=%s duration_s=%d",
		  ns, name, identity, LEASE_DURATION_S);
	return l;
}

bool lease_held(const struct lease *l)
{
	return l->held;
}

__u64 lease_due(const struct lease *l)
{
	return l->due;
}

/* A MicroTime, as the API server writes them. */
static void micro_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", s, ts.tv_nsec / 1000);
}

static const char *spec_str(json_object *spec, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(spec, key, &v) &&
	       json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "";
}

static long spec_int(json_object *spec, const char *key, long dflt)
{
	json_object *v;

	return json_object_object_get_ex(spec, key, &v) &&
	       json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

/* The Lease with us as holder; rv NULL for a create. */
static char *lease_body(struct lease *l, const char *rv, const char *holder,
			int duration)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	json_object *spec = json_object_new_object();
	char now[40], *s;

	micro_now(now, sizeof(now));
	json_object_object_add(o, "apiVersion", json_object_new_string("coordination.k8s.io/v1"));
	json_object_object_add(o, "kind", json_object_new_string("Lease"));
	json_object_object_add(meta, "name", json_object_new_string(l->name));
	json_object_object_add(meta, "namespace", json_object_new_string(l->ns));
	if (rv)
		json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
	json_object_object_add(o, "metadata", meta);
	json_object_object_add(spec, "holderIdentity", json_object_new_string(holder));
	json_object_object_add(spec, "leaseDurationSeconds", json_object_new_int(duration));
	json_object_object_add(spec, "acquireTime", json_object_new_string(l->acquired));
	json_object_object_add(spec, "renewTime", json_object_new_string(now));
	json_object_object_add(spec, "leaseTransitions", json_object_new_int64(l->transitions));
	json_object_object_add(o, "spec", spec);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Write the Lease naming us (create when rv is NULL): 0, or 1 when
 * another agent won the race (409), or -1. */
static int lease_write(struct lease *l, const char *rv)
{
	char *body = lease_body(l, rv, l->id, LEASE_DURATION_S);
	long st;
	int rc;

	if (!body)
		return -1;
	rc = kube_request(l->k, rv ? "PUT" : "POST", rv ? l->path : l->coll,
			  "application/json", body, LEASE_REQ_TIMEOUT_MS, &st, NULL);
	free(body);
	if (rc)
		return -1;
	if (st == 409)
		return 1;
	if (st != 200 && st != 201) {
		log_event("warn", "msg=\"cannot write the status lease\" lease=%s/%s status=%ld",
			  l->ns, l->name, st);
		return -1;
	}
	return 0;
}

static int become(struct lease *l, bool held, __u64 now, const char *why,
		  const char *other)
{
	if (held == l->held)
		return 0;
	l->held = held;
	if (held)
		log_event("info", "msg=\"status lease acquired: this agent writes status\" lease=%s/%s identity=%s",
			  l->ns, l->name, l->id);
	else
		log_event("info", "msg=\"status lease lost: another agent writes status\" lease=%s/%s identity=%s reason=%s holder=%s",
			  l->ns, l->name, l->id, why, other && other[0] ? other : "none");
	return held ? 1 : -1;
}

int lease_tick(struct lease *l, __u64 now)
{
	json_object *o = NULL, *spec = NULL, *meta;
	char record[sizeof(l->seen)], *resp = NULL, rv[64] = "";
	const char *holder;
	long st, dur;
	int rc;

	l->due = now + LEASE_RETRY_MS * MS;
	rc = kube_request(l->k, "GET", l->path, NULL, NULL, LEASE_REQ_TIMEOUT_MS,
			  &st, &resp);
	if (!rc && st == 404) {
		free(resp);
		micro_now(l->acquired, sizeof(l->acquired));
		l->transitions = 0;
		rc = lease_write(l, NULL);
		if (!rc) {
			l->renewed = now;
			return become(l, true, now, "created", NULL);
		}
		goto failed;
	}
	if (rc || st != 200 || !(o = json_tokener_parse(resp ? resp : "")) ||
	    !json_object_object_get_ex(o, "spec", &spec)) {
		if (!rc)
			log_event("warn", "msg=\"cannot read the status lease\" lease=%s/%s status=%ld",
				  l->ns, l->name, st);
		free(resp);
		json_object_put(o);
		goto failed;
	}
	free(resp);
	if (json_object_object_get_ex(o, "metadata", &meta))
		snprintf(rv, sizeof(rv), "%s", spec_str(meta, "resourceVersion"));
	holder = spec_str(spec, "holderIdentity");
	dur = spec_int(spec, "leaseDurationSeconds", LEASE_DURATION_S);
	snprintf(record, sizeof(record), "%s|%s|%s|%ld|%ld", holder,
		 spec_str(spec, "acquireTime"), spec_str(spec, "renewTime"), dur,
		 spec_int(spec, "leaseTransitions", 0));
	if (strcmp(record, l->seen) || !l->seen_at) {
		snprintf(l->seen, sizeof(l->seen), "%s", record);
		l->seen_at = now;
	}
	if (holder[0] && strcmp(holder, l->id) &&
	    now < l->seen_at + (__u64)dur * 1000 * MS) {
		/* Another's, and alive. */
		rc = become(l, false, now, "held by another", holder);
		json_object_put(o);
		return rc;
	}
	if (strcmp(holder, l->id)) {	/* empty or expired: take it */
		micro_now(l->acquired, sizeof(l->acquired));
		l->transitions = spec_int(spec, "leaseTransitions", 0) + 1;
		if (holder[0])
			log_event("info", "msg=\"status lease expired, taking it\" lease=%s/%s holder=%s",
				  l->ns, l->name, holder);
	} else if (!l->acquired[0]) {	/* ours from before a restart */
		snprintf(l->acquired, sizeof(l->acquired), "%s",
			 spec_str(spec, "acquireTime"));
		l->transitions = spec_int(spec, "leaseTransitions", 0);
	}
	json_object_put(o);
	rc = lease_write(l, rv);
	if (!rc) {
		l->renewed = now;
		return become(l, true, now, "renewed", NULL);
	}
	if (rc > 0) {	/* another won the race: read it next time */
		l->seen_at = 0;
		return become(l, false, now, "conflict", NULL);
	}
failed:
	/* No answer: keep writing until the renew deadline, which comes
	 * before anyone else may take the lease. */
	if (l->held && now >= l->renewed + LEASE_RENEW_DEADLINE_MS * MS)
		return become(l, false, now, "renew deadline passed", NULL);
	return 0;
}

void lease_release(struct lease *l)
{
	json_object *o = NULL, *meta, *spec;
	char *resp = NULL, *body, rv[64] = "";
	long st;

	if (!l)
		return;
	/* As client-go's ReleaseOnCancel: no holder and a 1 s duration, so
	 * the others take it on their next try. */
	if (l->held &&
	    !kube_request(l->k, "GET", l->path, NULL, NULL, LEASE_REQ_TIMEOUT_MS,
			  &st, &resp) && st == 200 &&
	    (o = json_tokener_parse(resp ? resp : "")) &&
	    json_object_object_get_ex(o, "metadata", &meta) &&
	    json_object_object_get_ex(o, "spec", &spec) &&
	    !strcmp(spec_str(spec, "holderIdentity"), l->id)) {
		snprintf(rv, sizeof(rv), "%s", spec_str(meta, "resourceVersion"));
		body = lease_body(l, rv, "", 1);
		if (body && !kube_request(l->k, "PUT", l->path, "application/json",
					  body, LEASE_REQ_TIMEOUT_MS, &st, NULL) &&
		    st == 200)
			log_event("info", "msg=\"status lease released\" lease=%s/%s identity=%s",
				  l->ns, l->name, l->id);
		free(body);
	}
	json_object_put(o);
	free(resp);
	free(l);
}
