// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * apply.c - `maglb apply`: load the files once, reconcile the maps with
 * them (reconcile/apply.c), warm the backends' neighbour entries and probe
 * the devices, then exit. With --check, validate and print the plan: the
 * writes an apply would make, in their order, and write nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include "cli/cli.h"
#include "common/addr.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "common/names.h"
#include "datapath/egress.h"
#include "datapath/maps.h"
#include "datapath/neigh.h"
#include "datapath/pathmtu.h"
#include "input/load.h"
#include "model/config.h"
#include "reconcile/apply.h"
#include "reconcile/execute.h"

#define MAX_FILES 8

/* One line per service and per backend: what --check would apply. */
static void print_service(const struct cfg_service *s)
{
	char a[ADDR_STRLEN];
	int i;

	static const char *const kinds[] = { "any", "exact", "prefix" };

	printf("service %s %s %s %s %s%s%s backends=%d", s->name,
	       addr_port_str(&s->addr, s->family, htons(s->port), a),
	       s->proto == IPPROTO_UDP ? "UDP" : "TCP",
	       s->forwarding == MAGLB_FWD_SNAT ? "snat" : "nat",
	       hash_name(s->hash_type), s->key_name[0] ? ":" : "", s->key_name,
	       s->n_backends);
	if (s->route)
		printf(" route=%u", s->route);
	if (s->n_matches)
		printf(" no_match=%s", s->no_match_reset ? "reset" : "404");
	printf("\n");
	for (i = 0; i < s->n_matches; i++)
		printf("  match host=%s:%s%s path=%s:%s route=%u\n",
		       kinds[s->matches[i].host_match % 3],
		       s->matches[i].host_match == MAGLB_MATCH_PREFIX ? "*" : "",
		       s->matches[i].host,
		       kinds[s->matches[i].path_match % 3], s->matches[i].path,
		       s->matches[i].route);
	for (i = 0; i < s->n_backends; i++)
		printf("  backend %s %s weight=%u\n", s->backends[i].name,
		       addr_port_str(&s->backends[i].addr, s->backends[i].family,
				     htons(s->backends[i].port), a),
		       s->backends[i].weight);
}

/* --check: the writes an apply would make now, one per line, in their
 * order; nothing is written. Without pinned maps (no attach here, or not
 * root), what a first apply would write. */
static int print_plan(const struct maglb_config *cfg)
{
	const struct plan_env env = { .path_mtu = path_mtu };
	struct plan_snapshot *snap = NULL;
	struct apply_stats st;
	struct maglb_maps m;
	char path[512], line[512];
	struct plan p;
	int i, err;

	snprintf(path, sizeof(path), "%s/maglb_vips", pin_dir);
	if (access(path, F_OK)) {
		printf("plan: no maps at %s (%s): as a first apply\n", pin_dir,
		       strerror(errno));
		snap = plan_snapshot_new();
		err = snap ? 0 : -ENOMEM;
	} else {
		err = maps_open_pinned(pin_dir, &m);
		if (err)
			return err;
		err = snapshot_read(&m, &snap);
		maps_close(&m);
	}
	if (err) {
		pr_warn("maglb: cannot read the maps: %s\n", strerror(-err));
		return err;
	}
	err = plan_build(cfg, snap, &env, &p);
	plan_snapshot_free(snap);
	if (err) {
		pr_warn("maglb: plan: service %s: %s\n",
			p.failed[0] ? p.failed : "-", strerror(-err));
		return err;
	}
	for (i = 0; i < p.n; i++)
		printf("%s\n", plan_op_str(&p.ops[i], line, sizeof(line)));
	apply_stats_of(&p, cfg, &st);
	printf("plan: %d ops (services +%d -%d, backends +%d -%d)\n", p.n,
	       st.svc_added, st.svc_removed, st.be_added, st.be_removed);
	plan_free(&p);
	return 0;
}

int do_apply(int argc, char **argv)
{
	const char *files[MAX_FILES];
	struct cli_strs fl = { files, 0, MAX_FILES };
	bool check = false;
	struct cli_opt opts[] = {
		{ "file", 'f', CLI_STRS, &fl },
		{ "check", 0, CLI_FLAG, &check },
		{}
	};
	static const char use[] = "maglb apply -f FILE [-f FILE...] [--check]";
	struct maglb_config *cfg;
	struct apply_stats st;
	struct maglb_maps m;
	char err[CFG_ERR_LEN];
	const char *file;
	int rc, i;

	rc = cli_parse(argc, argv, opts, use, false);
	if (rc < 0)
		return rc == CLI_HELP ? 0 : 2;
	if (!fl.n) {
		fprintf(stderr, "Usage: %s\n", use);
		return 2;
	}
	file = files[0];
	cfg = config_load_files(files, fl.n, NULL, err, sizeof(err));
	if (!cfg) {
		pr_warn("maglb: invalid config: %s\n", err);
		return 1;
	}
	for (i = 0; i < cfg->n_notes; i++)
		pr_warn("maglb: note: %s\n", cfg->notes[i]);
	if (check) {	/* validate and plan: nothing is written */
		printf("%s: valid (%d services)\n", file, cfg->n_services);
		for (i = 0; i < cfg->n_services; i++)
			print_service(&cfg->services[i]);
		rc = print_plan(cfg);
		config_free(cfg);
		return rc ? 1 : 0;
	}
	if (maps_open_pinned(pin_dir, &m)) {
		config_free(cfg);
		return 1;
	}
	rc = apply_config(&m, cfg, &st);
	if (!rc) {
		__u32 max4, max6;

		neigh_warm(cfg);
		if (!maps_ct_max_entries(&m, &max4, &max6) &&
		    (max4 != cfg->ct_max_entries * 2 ||
		     max6 != cfg->ct_max_entries * 2))
			pr_warn("maglb: note: conntrack.maxEntries is %u, the live maps hold %u connections; it applies at the next attach after a detach\n",
				cfg->ct_max_entries, max4 / 2);
	}
	if (!rc)
		printf("applied %s: %d services, %d backends (services +%d -%d, backends +%d -%d, connections closed %d)\n",
		       file, st.services, st.backends, st.svc_added,
		       st.svc_removed, st.be_added, st.be_removed, st.ct_closed);
	/* the devices may have changed since attach (and no agent runs) */
	if (!rc && egress_probe(&m, false))
		rc = -EIO;
	maps_close(&m);
	config_free(cfg);
	return rc ? 1 : 0;
}
