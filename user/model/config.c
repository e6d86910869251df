// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - the desired state's own operations: growing the service
 * list, notes, freeing, lookup by name, and the values derived from a
 * service's fields alone. Nothing here reads a file or a map.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/config.h"

/*
 * The line a generated cookie is answered with, Envoy's format:
 *   Set-Cookie: NAME="VALUE"; Max-Age=TTL; Path=/; ATTRIBUTES; HttpOnly
 * (no Max-Age for ttl 0: a session cookie). VALUE is 16 '0's here; the
 * datapath writes the hex digits over them.
 */
int config_cookie_line(struct cfg_service *svc)
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

void config_note(struct maglb_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->n_notes >= CFG_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(cfg->notes[cfg->n_notes++], CFG_ERR_LEN, fmt, ap);
	va_end(ap);
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
	st_free(&cfg->status);
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
