// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* status.c - the status report's own operations (see status.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/status.h"

struct st_object *st_add(struct st_report *r, enum st_kind kind,
			 const char *ns, const char *name, long generation)
{
	struct st_object *t = realloc(r->objs, (r->n + 1) * sizeof(*t)), *o;

	if (!t)
		return NULL;
	r->objs = t;
	o = &t[r->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	snprintf(o->ns, sizeof(o->ns), "%s", ns ? ns : "");
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->generation = generation;
	o->accepted.ok = true;
	return o;
}

struct st_object *st_find(struct st_report *r, enum st_kind kind,
			  const char *ns, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->objs[i].kind == kind && !strcmp(r->objs[i].ns, ns ? ns : "") &&
		    !strcmp(r->objs[i].name, name))
			return &r->objs[i];
	return NULL;
}

void st_set(struct st_cond *c, const char *reason, const char *fmt, ...)
{
	va_list ap;

	c->ok = !reason;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
	c->message[0] = 0;
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

void st_free(struct st_report *r)
{
	free(r->objs);
	r->objs = NULL;
	r->n = 0;
}
