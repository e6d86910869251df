// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lookup.c - `maglb lookup`: the backend the datapath would pick for a new
 * connection. It builds the same struct maglb_flow and calls the same
 * maglb_flow_hash() as bpf/maglb.bpf.c; for Cookie and Header services it
 * runs the datapath's own request parser (bpf/lib/http.h) over a request
 * carrying the given cookie or header, and hashes the same key block.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "common/addr.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "datapath/maps.h"
#include "model/keyhash.h"
#include "maglb_hash.h"

int do_lookup(int argc, char **argv)
{
	const char *use = "maglb lookup SERVICE [--src IP[:PORT]] [--dst-port P] [--cookie NAME=VALUE | --header NAME=VALUE] [--json]";
	const char *cookie = NULL, *header = NULL;
	struct svc_item *svcs = NULL, *it = NULL;
	struct maglb_flow flow = {};
	struct maglb_backend be;
	struct maglb_maps m;
	const char *src = NULL;
	__u32 *slots = NULL, size, id;
	__u64 hash;
	char ap[ADDR_STRLEN];
	__u16 sport = 0;
	long dport = 0;
	int c, i, n, fam, oi, rc = 1;

	{
		struct cli_opt opts[] = {
			{ "src", 's', CLI_STR, &src },
			{ "dst-port", 'd', CLI_LONG, &dport, 1, 65535 },
			{ "cookie", 'c', CLI_STR, &cookie },
			{ "header", 'H', CLI_STR, &header },
			{ "json", 'j', CLI_FLAG, &json_output },
			{}
		};

		c = cli_parse(argc, argv, opts, use, false);
		if (c < 0)
			return c == CLI_HELP ? 0 : 2;
		oi = c;
	}
	if (oi >= argc || (!src && !cookie && !header)) {
		fprintf(stderr, "Usage: %s\n", use);
		return 2;
	}
	fam = src ? addr_port_parse(src, &flow.saddr, &sport) : 0;
	if (src && !fam) {
		pr_warn("maglb: lookup: --src %s is not IP or IP:PORT\n", src);
		return 2;
	}
	if (maps_open_pinned(pin_dir, &m))
		return 1;
	n = maps_read_services(&m, &svcs);
	for (i = 0; i < n; i++)
		if (!strcmp(svcs[i].svc.name, argv[oi]))
			it = &svcs[i];
	if (!it) {
		pr_warn("maglb: lookup: no service named '%s' is live\n",
			argv[oi]);
		goto out;
	}
	if (src && fam != it->key.family) {
		pr_warn("maglb: lookup: --src family differs from the service's\n");
		goto out;
	}
	flow.daddr = it->key.addr;
	flow.sport = htons(sport);
	flow.dport = dport ? htons(dport) : it->key.port;
	flow.proto = it->key.proto;
	flow.family = it->key.family;
	if (maps_read_ring(&m, it->svc.id, &slots, &size) || !size) {
		pr_warn("maglb: lookup: service %s has no table\n", argv[oi]);
		goto out;
	}
	if (kv_key_hash(&it->svc, it->svc.hash_type == MAGLB_HASH_COOKIE ?
			cookie : header, &hash)) {
		if (it->svc.hash_type == MAGLB_HASH_COOKIE ||
		    it->svc.hash_type == MAGLB_HASH_HEADER) {
			if (!src) {
				pr_warn("maglb: lookup: %s carries no %s; the fallback hash needs --src\n",
					argv[oi], it->svc.key_name);
				goto out;
			}
			hash = maglb_flow_hash(&flow, it->svc.fallback_hash);
		} else if (!src) {
			pr_warn("maglb: lookup: %s hashes by address: give --src\n",
				argv[oi]);
			goto out;
		} else {
			hash = maglb_flow_hash(&flow, it->svc.hash_type);
		}
	}
	id = slots[maglb_ring_slot(hash, size) - MAGLB_RING_HDR];
	if (id == MAGLB_NO_BACKEND || maps_get_backend(&m, id, &be)) {
		pr_warn("maglb: lookup: service %s has no backend\n", argv[oi]);
		goto out;
	}
	addr_port_str(&be.addr, be.family, be.port, ap);
	if (json_output)
		printf("{\"service\":\"%s\",\"backend\":\"%s\",\"backend_id\":%u}\n",
		       argv[oi], ap, id);
	else
		printf("%s\n", ap);
	rc = 0;
out:
	free(slots);
	free(svcs);
	maps_close(&m);
	return rc;
}
