// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli.c - what every command of cli/ shares: --json, and the option table
 * of a command that has no other option. Apart from main.c, so that main's
 * dispatch table and the commands do not depend on each other.
 */
#include "cli/cli.h"
#include "common/cliopt.h"

bool json_output;

int cli_simple_opts(int argc, char **argv, const char *use)
{
	struct cli_opt opts[] = {
		{ "json", 'j', CLI_FLAG, &json_output },
		{}
	};

	return cli_parse(argc, argv, opts, use, false);
}
