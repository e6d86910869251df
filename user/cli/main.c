// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - `maglb [GLOBAL OPTIONS] COMMAND [ARGS]`: global options, then a
 * table dispatch to the subcommand (as bpftool does). Every command's
 * options are a declared table too (cliopt.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent/agent.h"
#include "cli/cli.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "datapath/maps.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "attach", do_attach, "DEV... [--mode native|generic] [--config F|--ct-max-entries N]  load and attach, pin links and maps" },
	{ "detach", do_detach, "DEV...                          detach; the last one removes the pins" },
	{ "status", do_status, "[--json]                        attachments, services, backends" },
	{ "apply", do_apply, "-f CONFIG [--check]             apply a config once; --check: print the plan only" },
	{ "agent", do_agent, "-f CONFIG [--metrics-address A] apply, watch, health-check, sweep" },
	{ "stats", do_stats, "[--json]                        per-service/backend counters, reasons" },
	{ "table", do_table, "SERVICE [--json]                slots per backend in the live table" },
	{ "conns", do_conns, "[--service S] [--json]          tracked connections" },
	{ "lookup", do_lookup, "SERVICE --src IP[:PORT] [--dst-port P] [--json]  backend for a client" },
};

#define MAGLB_USAGE \
	"maglb [-v] [--pin-dir DIR] [--netns NAME] [--json] [--version] COMMAND [ARGS]"

#ifndef MAGLB_VERSION
#define MAGLB_VERSION "unknown"	/* the Makefile passes git describe */
#endif

static void commands(FILE *f)
{
	size_t i;

	fprintf(f, "\nCommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].help);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s\n", MAGLB_USAGE);
	commands(f);
}

static int enter_netns(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s%s", strchr(name, '/') ? "" :
		 "/run/netns/", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		pr_warn("maglb: cannot enter network namespace %s: %m\n", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	bool verbose = false, version = false;
	struct cli_opt opts[] = {
		{ "verbose", 'v', CLI_FLAG, &verbose },
		{ "pin-dir", 'p', CLI_STR, &pin_dir },
		{ "netns", 'n', CLI_STR, &netns },
		{ "json", 'j', CLI_FLAG, &json_output },
		{ "version", 'V', CLI_FLAG, &version },
		{}
	};
	size_t i;
	int oi;

	oi = cli_parse(argc, argv, opts, MAGLB_USAGE, true);
	if (oi < 0) {
		commands(oi == CLI_HELP ? stdout : stderr);
		return oi == CLI_HELP ? 0 : 2;
	}
	if (version) {
		printf("maglb %s\n", MAGLB_VERSION);
		return 0;
	}
	if (verbose)
		log_level = LOG_DEBUG;
	if (netns && enter_netns(netns))
		return 1;
	if (oi >= argc) {
		usage(stderr);
		return 2;
	}
	log_setup_libbpf();
	argc -= oi;
	argv += oi;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc, argv);
	pr_warn("maglb: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
