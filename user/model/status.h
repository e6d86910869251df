/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - what maglb has to say about each Gateway API object it read:
 * the facts behind Gateway API's status conditions. input/gateway.c fills
 * them while it turns the objects into services; agent/status.c writes
 * them to the API server (the status subresource) as Gateway API defines
 * it. Pure data: no I/O, no JSON.
 *
 * A condition here is true, or false with a reason (Gateway API's reason
 * names, e.g. "UnsupportedValue", "BackendNotFound", "RefNotPermitted")
 * and a message (the same text file mode prints as an error, such as
 * "spec.rules[0].filters: not supported by maglb").
 */
#ifndef MAGLB_STATUS_H
#define MAGLB_STATUS_H

#include <stdbool.h>
#include <linux/types.h>
#include "maglb.h"

/* maglb's GatewayClass spec.controllerName, unless gateway.controllerName
 * says otherwise: the name input/gateway.c matches classes against and
 * agent/status.c writes as the parents' controllerName. */
#define MAGLB_CONTROLLER_NAME	"maglb.dev/gateway-controller"

#define ST_NAME_LEN	254	/* a DNS subdomain, and its NUL */
#define ST_REASON_LEN	48
#define ST_MSG_LEN	320
#define ST_MAX_LISTENERS 8
#define ST_MAX_PARENTS	8
#define ST_MAX_ADDRS	4

struct st_cond {
	bool ok;
	char reason[ST_REASON_LEN];	/* when !ok */
	char message[ST_MSG_LEN];
};

/* A reference to a parent (HTTPRoute) or an ancestor (policy). */
struct st_ref {
	char kind[32];			/* Gateway, HTTPRoute */
	char ns[ST_NAME_LEN], name[ST_NAME_LEN];
	char section[ST_NAME_LEN];	/* sectionName, "" if none */
	__u16 port;			/* the parentRef's port, 0 if none */
	struct st_cond accepted, resolved;
};

struct st_listener {
	char name[ST_NAME_LEN];
	int attached;			/* routes attached: attachedRoutes */
	struct st_cond accepted, resolved;
};

enum st_kind { ST_CLASS, ST_GATEWAY, ST_ROUTE, ST_POLICY };

struct st_object {
	enum st_kind kind;
	char ns[ST_NAME_LEN], name[ST_NAME_LEN];
	long generation;		/* metadata.generation: observedGeneration */
	bool from_api;			/* from the API server, not a file */
	/* GatewayClass, Gateway, BackendTrafficPolicy (overall) */
	struct st_cond accepted;
	/* Gateway */
	union maglb_addr addrs[ST_MAX_ADDRS];
	__u8 fams[ST_MAX_ADDRS];
	int n_addrs;
	struct st_listener listeners[ST_MAX_LISTENERS];
	int n_listeners;
	/* HTTPRoute: parents; BackendTrafficPolicy: ancestors (its targets) */
	struct st_ref refs[ST_MAX_PARENTS];
	int n_refs;
};

struct st_report {
	struct st_object *objs;
	int n;
	char controller[ST_NAME_LEN];	/* the effective controllerName */
};

/* A new zeroed object at the end (NULL: no memory). */
struct st_object *st_add(struct st_report *r, enum st_kind kind,
			 const char *ns, const char *name, long generation);
struct st_object *st_find(struct st_report *r, enum st_kind kind,
			  const char *ns, const char *name);
/* c false, with a reason and a printf message (true when reason is NULL). */
void st_set(struct st_cond *c, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void st_free(struct st_report *r);

#endif
