// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - `maglb [GLOBAL OPTIONS] COMMAND [ARGS]`: global options, then a
 * table dispatch to the subcommand (as bpftool does).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "log.h"
#include "maps.h"

const char *pin_dir = MAGLB_PIN_DIR_DEFAULT;
bool json_output;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "attach", do_attach, "DEV... [--mode native|generic]  load and attach, pin links and maps" },
	{ "detach", do_detach, "DEV...                          detach; the last one removes the pins" },
	{ "status", do_status, "[--json]                        attachments, services, backends" },
	{ "apply", do_apply, "-f CONFIG [--check]             validate (and apply) a config once" },
	{ "agent", do_agent, "-f CONFIG [--metrics-address A] apply, watch, health-check, sweep" },
	{ "stats", do_stats, "[--json]                        per-service/backend counters, reasons" },
	{ "table", do_table, "SERVICE [--json]                slots per backend in the live table" },
	{ "conns", do_conns, "[--service S] [--json]          tracked connections" },
	{ "lookup", do_lookup, "SERVICE --src IP[:PORT] [--dst-port P] [--json]  backend for a client" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: maglb [-v] [--pin-dir DIR] [--netns NAME] [--json] COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].help);
}

int cli_simple_opts(int argc, char **argv, const char *use)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json_output = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr, "Usage: %s\n", use);
			return c == 'h' ? -2 : -1;
		}
	}
	return optind;
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
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+vp:n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'n':
			if (enter_netns(optarg))
				return 1;
			break;
		case 'j':
			json_output = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	log_setup_libbpf();
	argc -= optind;
	argv += optind;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc, argv);
	pr_warn("maglb: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
