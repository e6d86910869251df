/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * routes.h - HTTPRoute hostnames and path matches as maglb matches, and
 * their precedence on a listener.
 */
#ifndef MAGLB_ROUTES_H
#define MAGLB_ROUTES_H

#include "input/cfgparse.h"
#include "model/config.h"

/* One hostname ("www.example.com" exact, "*.example.com" a suffix), or
 * one path match ({type: PathPrefix|Exact, value}), into m. */
int route_read_hostname(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			struct cfg_match *m);
int route_read_path(struct cfg_ctx *c, yaml_node_t *pm, const char *path,
		    struct cfg_match *m);

/* A match with what breaks its ties: the route's namespace/name, its rule. */
struct route_rank {
	struct cfg_match m;
	const char *ns, *name;
	int rule;
};

/* Sort into Gateway API precedence: the first that fits wins. */
void routes_order(struct route_rank *r, int n);

#endif
