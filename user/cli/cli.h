/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cli.h - global options and the subcommands of cli/ that main.c
 * dispatches (the agent's are in agent/agent.h). */
#ifndef MAGLB_CLI_H
#define MAGLB_CLI_H

#include <stdbool.h>

extern bool json_output;	/* --json, global or per command */

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_status(int argc, char **argv);
int do_apply(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_table(int argc, char **argv);
int do_conns(int argc, char **argv);
int do_lookup(int argc, char **argv);

/* Parse a subcommand's --json/--help: the first operand's index, or
 * CLI_HELP / CLI_BAD (cliopt.h). */
int cli_simple_opts(int argc, char **argv, const char *usage);

#endif
