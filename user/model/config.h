/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - the desired state: services, their backends and routes, as
 * the inputs (input/: the maglb YAML, Gateway API manifests, the API
 * server) describe them once every field has been checked. Values derived
 * from the fields alone (the Set-Cookie line) are computed here, once.
 * Runtime state (health) is not part of it: see agent/health.h.
 */
#ifndef MAGLB_CONFIG_H
#define MAGLB_CONFIG_H

#include <stdbool.h>
#include <linux/types.h>
#include "maglb.h"
#include "model/status.h"

#define CFG_BACKEND_NAME_LEN 128
#define CFG_ERR_LEN 512
#define CFG_NOTES 16

struct cfg_backend {
	char name[CFG_BACKEND_NAME_LEN];	/* Maglev key: name or ADDR:PORT */
	union maglb_addr addr;
	__u8 family;
	__u16 port;				/* host order */
	__u32 weight;
};

/* Envoy Gateway's BackendTrafficPolicy.healthCheck.active. */
struct cfg_health {
	bool enabled;
	bool http;			/* HTTP GET, else a TCP connect */
	__u32 interval_ms;
	__u32 timeout_ms;
	__u32 healthy_threshold;
	__u32 unhealthy_threshold;
	char path[128];
	int statuses[8];
	int n_statuses;
};

/* One HTTP route match of a listener (Gateway API hostnames x matches). */
struct cfg_match {
	__u8 host_match;		/* enum maglb_match */
	__u8 path_match;
	char host[MAGLB_MATCH_LEN + 1];	/* lowercase; a wildcard as ".suffix" */
	char path[MAGLB_MATCH_LEN + 1];
	__u32 route;			/* the route service's `route` */
};

struct cfg_service {
	char name[MAGLB_NAME_LEN];
	union maglb_addr addr;
	__u8 family;
	__u16 port;
	__u8 proto;			/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 forwarding;		/* enum maglb_forwarding */
	__u8 hash_type;			/* enum maglb_hash_type */
	__u8 fallback_hash;		/* SourceIP or Tuple, when the key is absent */
	char key_name[MAGLB_KEY_NAME_LEN];	/* cookie or header name */
	__u32 cookie_ttl;		/* seconds; 0: a session cookie */
	char cookie_attrs[256];		/* "K=V; K2=V2", as configured */
	/* ttl given: clients without the cookie get one (Envoy's rule),
	 * answered with this line; 16 '0's at cookie_val_off are the value */
	bool cookie_generate;
	char cookie_line[MAGLB_COOKIE_LINE_MAX];
	__u16 cookie_line_len;
	__u16 cookie_val_off;
	__u32 table_size;
	union maglb_addr snat_addr;
	__u16 snat_port_min, snat_port_max;
	bool close_on_removal;
	/* `mtu`: the backend path's MTU as configured (0: not given); the
	 * routes' own toward the backends can only lower it (apply.c) */
	__u16 mtu;
	struct cfg_health health;
	struct cfg_backend *backends;
	int n_backends;
	/* HTTP routes. A listener has matches, in precedence order, and no
	 * backends; each route is a service at the listener's address with
	 * route > 0, and its own backends and hash. */
	__u32 route;			/* 0: a listener or a plain service */
	bool no_match_reset;		/* listener: RST rather than 404 */
	struct cfg_match *matches;
	int n_matches;
};

struct maglb_config {
	struct cfg_service *services;
	int n_services;
	__u32 ct_tcp_timeout;		/* seconds */
	__u32 ct_udp_timeout;
	__u32 ct_closed_timeout;
	__u32 ct_syn_timeout;		/* a SYN's entry the client never ACKed */
	__u32 ct_max_entries;		/* conntrack.maxEntries: connections
					 * (two map entries each) */
	bool have_syncookie_key;	/* syncookieKey given */
	__u64 syncookie_key[2];
	/* Accepted but not enforced (e.g. an HTTPRoute's hostnames), or
	 * skipped (kinds that do not describe load balancing): apply prints
	 * them and the agent logs them. */
	char notes[CFG_NOTES][CFG_ERR_LEN];
	int n_notes;
	/* What to say about each Gateway API object read (gateway.c). */
	struct st_report status;
};

/* A configured path MTU: 1280 (IPv6's minimum, and what maglb's stash
 * needs) .. 65535 bytes. */
#define CFG_MTU_MIN	1280
#define CFG_MTU_MAX	65535

/* A new zeroed service at the end of cfg->services (NULL: no memory). */
struct cfg_service *config_add_service(struct maglb_config *cfg);
/* Fill cookie_line, cookie_line_len and cookie_val_off from key_name,
 * cookie_ttl and cookie_attrs. -1: longer than MAGLB_COOKIE_LINE_MAX. */
int config_cookie_line(struct cfg_service *svc);
void config_note(struct maglb_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void config_free(struct maglb_config *cfg);
const struct cfg_service *config_find(const struct maglb_config *cfg,
				      const char *name);

#endif
