// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * show.c - `maglb stats|table|conns`: read-only views of the live maps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "common/addr.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "common/names.h"
#include "datapath/egress.h"
#include "datapath/maps.h"


static void print_counters(const char *indent, const char *kind,
			   const char *name, const char *addr,
			   const struct maglb_counters *c, bool first)
{
	if (json_output) {
		printf("%s{\"%s\":\"%s\",\"address\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"new_conns\":%llu,\"reply_packets\":%llu,\"reply_bytes\":%llu",
		       first ? "" : ",", kind, name, addr, c->packets, c->bytes,
		       c->new_conns, c->reply_packets, c->reply_bytes);
		return;
	}
	if (strcmp(name, addr))
		printf("%s%s %s %s\n", indent, kind, name, addr);
	else
		printf("%s%s %s\n", indent, kind, addr);
	printf("%s  packets %-10llu bytes %-12llu conns %-8llu reply_packets %-10llu reply_bytes %llu\n",
	       indent, c->packets, c->bytes, c->new_conns, c->reply_packets,
	       c->reply_bytes);
}

/* Per device: packets by path (nonzero rows), then the kernel's failed
 * XDP transmits (devices that had any). */
static void print_egress_counts(const struct maglb_maps *m)
{
	struct egress_counts *c = NULL;
	int i, p, n = egress_read_counts(m, &c), first = 1;
	size_t k;

	printf(json_output ? ",\"egress\":[" : "egress:\n");
	for (i = 0; i < n; i++) {
		for (p = 0; p < MAGLB_PATH_MAX; p++) {
			const struct maglb_reason_counters *r = &c[i].path[p];

			if (!r->packets && !r->bytes)
				continue;
			if (json_output)
				printf("%s{\"dev\":\"%s\",\"ifindex\":%u,\"path\":\"%s\",\"packets\":%llu,\"bytes\":%llu}",
				       first ? "" : ",", c[i].dev, c[i].ifindex,
				       path_name(p), r->packets, r->bytes);
			else
				printf("  %-16s %-8s packets %-10llu bytes %llu\n",
				       c[i].dev, path_name(p), r->packets, r->bytes);
			first = 0;
		}
	}
	printf(json_output ? "],\"xmit_errors\":[" : "xmit errors:\n");
	for (i = 0, first = 1; i < n; i++) {
		const __u64 *e = (const __u64 *)&c[i].errs;

		if (!c[i].has_errs)
			continue;
		if (json_output)
			printf("%s{\"dev\":\"%s\",\"ifindex\":%u", first ? "" : ",",
			       c[i].dev, c[i].ifindex);
		else
			printf("  %-16s", c[i].dev);
		for (k = 0; k < EGRESS_XMIT_FIELDS; k++)
			printf(json_output ? ",\"%s\":%llu" : " %s %llu",
			       egress_xmit_names[k], e[k]);
		printf(json_output ? "}" : "\n");
		first = 0;
	}
	if (json_output)
		printf("]");
	free(c);
}

int do_stats(int argc, char **argv)
{
	struct svc_item *svcs = NULL;
	struct maglb_backend *all;
	struct maglb_counters c;
	struct maglb_maps m;
	char ap[ADDR_STRLEN];
	int i, n, r;
	__u32 b;

	if ((i = cli_simple_opts(argc, argv, "maglb stats [--json]")) < 0)
		return i == CLI_HELP ? 0 : 2;
	if (maps_open_pinned(pin_dir, &m))
		return 1;
	n = maps_read_services(&m, &svcs);
	all = maps_read_backends(&m);
	if (!all)
		n = 0;
	if (json_output)
		printf("{\"services\":[");
	for (i = 0; i < n; i++) {
		const struct maglb_service *s = &svcs[i].svc;
		bool first = true;

		maps_read_counters(m.svc_stats, s->id, &c);
		addr_port_str(&svcs[i].key.addr, svcs[i].key.family,
			      svcs[i].key.port, ap);
		print_counters("", "service", s->name, ap, &c, i == 0);
		if (json_output)
			printf(",\"backends\":[");
		for (b = 0; b < MAGLB_MAX_BACKENDS; b++) {
			const struct maglb_backend *be = &all[b];

			if (!backend_serves(be, s->id))
				continue;
			maps_read_counters(m.backend_stats, b, &c);
			addr_port_str(&be->addr, be->family, be->port, ap);
			print_counters("  ", "backend", ap, ap, &c, first);
			if (json_output)
				printf(",\"id\":%u,\"weight\":%u}", b, be->weight);
			first = false;
		}
		if (json_output)
			printf("]}");
	}
	printf(json_output ? "],\"reasons\":{" : "reasons:\n");
	for (r = 0; r < MAGLB_REASON_MAX; r++) {
		struct maglb_reason_counters rc;

		maps_read_reason(&m, r, &rc);
		if (json_output)
			printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}",
			       r ? "," : "", reason_name(r), rc.packets,
			       rc.bytes);
		else
			printf("  %-22s packets %-10llu bytes %llu\n",
			       reason_name(r), rc.packets, rc.bytes);
	}
	if (json_output)
		printf("}");
	print_egress_counts(&m);
	if (json_output)
		printf("}\n");
	free(all);
	free(svcs);
	maps_close(&m);
	return 0;
}

static int find_service(const struct maglb_maps *m, const char *name,
			struct svc_item *out)
{
	struct svc_item *svcs;
	int i, n = maps_read_services(m, &svcs);

	for (i = 0; i < n; i++) {
		if (!strcmp(svcs[i].svc.name, name)) {
			*out = svcs[i];
			free(svcs);
			return 0;
		}
	}
	if (n >= 0)
		free(svcs);
	pr_warn("maglb: no service named '%s' is live\n", name);
	return -1;
}

int do_table(int argc, char **argv)
{
	__u32 *slots = NULL, size = 0, i, *count = NULL;
	struct maglb_backend *all = NULL;
	bool dump_slots = false;
	struct svc_item it;
	struct maglb_maps m;
	char ap[ADDR_STRLEN];
	int oi, first = 1, rc = 1;

	/* --slots: one line per slot, "SLOT BACKEND" (disruption checks) */
	struct cli_opt opts[] = {
		{ "json", 'j', CLI_FLAG, &json_output },
		{ "slots", 0, CLI_FLAG, &dump_slots },
		{}
	};

	oi = cli_parse(argc, argv, opts, "maglb table SERVICE [--json] [--slots]",
		       false);
	if (oi < 0)
		return oi == CLI_HELP ? 0 : 2;
	if (oi >= argc) {
		pr_warn("maglb: table: name a service\n");
		return 2;
	}
	if (maps_open_pinned(pin_dir, &m))
		return 1;
	if (find_service(&m, argv[oi], &it))
		goto out;
	if (maps_read_ring(&m, it.svc.id, &slots, &size)) {
		pr_warn("maglb: table: service %s has no live table\n", argv[oi]);
		goto out;
	}
	count = calloc(MAGLB_MAX_BACKENDS, sizeof(*count));
	all = maps_read_backends(&m);
	if (!count || !all)
		goto out;
	if (dump_slots) {
		for (i = 0; i < size; i++) {
			const struct maglb_backend *be = &all[slots[i] %
							      MAGLB_MAX_BACKENDS];

			printf("%u %s\n", i, slots[i] < MAGLB_MAX_BACKENDS ?
			       addr_port_str(&be->addr, be->family, be->port, ap) : "-");
		}
		rc = 0;
		goto out;
	}
	for (i = 0; i < size; i++)
		if (slots[i] < MAGLB_MAX_BACKENDS)
			count[slots[i]]++;
	/* mtu: the backend path's, what the SYN-ACK's MSS is cut to (0:
	 * not known, 1500 assumed) */
	if (json_output)
		printf("{\"service\":\"%s\",\"table_size\":%u,\"mtu\":%u,\"backends\":[",
		       argv[oi], size, it.svc.mtu);
	else
		printf("service %s table_size %u mtu %u\n", argv[oi], size,
		       it.svc.mtu);
	for (i = 0; i < MAGLB_MAX_BACKENDS; i++) {
		const struct maglb_backend *be = &all[i];

		if (!backend_serves(be, it.svc.id))
			continue;
		addr_port_str(&be->addr, be->family, be->port, ap);
		if (json_output)
			printf("%s{\"backend\":\"%s\",\"weight\":%u,\"slots\":%u}",
			       first ? "" : ",", ap, be->weight, count[i]);
		else
			printf("  %-24s weight %-6u slots %-8u %6.2f%%\n", ap,
			       be->weight, count[i], 100.0 * count[i] / size);
		first = 0;
	}
	if (json_output)
		printf("]}\n");
	rc = 0;
out:
	free(all);
	free(count);
	free(slots);
	maps_close(&m);
	return rc;
}

static const char *ct_state(const struct maglb_ct_entry *e, int proto)
{
	if (e->flags & MAGLB_CT_F_PENDING)
		return "binding";
	if (e->flags & MAGLB_CT_F_RST)
		return "reset";
	if (e->flags & MAGLB_CT_F_FIN)
		return "closing";
	return proto == IPPROTO_UDP ? "active" : "established";
}

int do_conns(int argc, char **argv)
{
	struct svc_item *svcs = NULL;
	const char *only = NULL;
	struct ct_item *ct = NULL;
	struct maglb_maps m;
	struct timespec ts;
	__u64 now;
	int c, i, j, n, ns, first = 1;

	struct cli_opt opts[] = {
		{ "service", 's', CLI_STR, &only },
		{ "json", 'j', CLI_FLAG, &json_output },
		{}
	};

	c = cli_parse(argc, argv, opts, "maglb conns [--service S] [--json]",
		      false);
	if (c < 0)
		return c == CLI_HELP ? 0 : 2;
	if (maps_open_pinned(pin_dir, &m))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ns = maps_read_services(&m, &svcs);
	n = maps_read_ct(&m, &ct);
	if (json_output)
		printf("[");
	else
		printf("%-16s %-5s %-42s %-42s %-42s %8s %s\n", "SERVICE",
		       "PROTO", "CLIENT", "VIP", "BACKEND", "AGE(s)", "STATE");
	for (i = 0; i < n; i++) {
		const struct ct_item *it = &ct[i];
		const char *svc = "?";
		char cl[ADDR_STRLEN], vip[ADDR_STRLEN], be[ADDR_STRLEN];
		double age;

		if (it->val.flags & MAGLB_CT_F_REPLY)
			continue;	/* one line per connection */
		for (j = 0; j < ns; j++)
			if (svcs[j].svc.id == it->val.svc_id)
				svc = svcs[j].svc.name;
		if (only && strcmp(only, svc))
			continue;
		addr_port_str(&it->key.saddr, it->key.family, it->key.sport, cl);
		addr_port_str(&it->key.daddr, it->key.family, it->key.dport, vip);
		addr_port_str(&it->val.nat_daddr, it->key.family,
			      it->val.nat_dport, be);
		age = (now - it->val.created_ns) / 1e9;
		if (json_output)
			printf("%s{\"service\":\"%s\",\"protocol\":\"%s\",\"client\":\"%s\",\"vip\":\"%s\",\"backend\":\"%s\",\"age_s\":%.1f,\"idle_s\":%.1f,\"state\":\"%s\"}",
			       first ? "" : ",", svc, proto_str(it->key.proto),
			       cl, vip, be, age,
			       (now - it->val.last_seen_ns) / 1e9,
			       ct_state(&it->val, it->key.proto));
		else
			printf("%-16s %-5s %-42s %-42s %-42s %8.1f %s\n", svc,
			       proto_str(it->key.proto), cl, vip, be, age,
			       ct_state(&it->val, it->key.proto));
		first = 0;
	}
	if (json_output)
		printf("]\n");
	free(ct);
	free(svcs);
	maps_close(&m);
	return n < 0;
}
