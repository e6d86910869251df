/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cliopt.h - a command's options as a declared table: the parser, the
 * short-option string and the error messages all come from it, so no
 * command keeps a getopt loop of its own. --help (-h) is always there.
 */
#ifndef MAGLB_CLIOPT_H
#define MAGLB_CLIOPT_H

#include <stdbool.h>

enum cli_kind {
	CLI_FLAG,	/* dst: bool *, set to true */
	CLI_STR,	/* dst: const char **, the last one given wins */
	CLI_STRS,	/* dst: struct cli_strs *, every one given, in order */
	CLI_LONG,	/* dst: long *, in min..max */
};

#define CLI_HELP	(-1)	/* --help: the usage went to stdout; exit 0 */
#define CLI_BAD		(-2)	/* a bad option: the reason went to stderr */

struct cli_strs {
	const char **v;
	int n, max;
};

struct cli_opt {
	const char *name;	/* --name */
	char key;		/* -k too, or 0 */
	enum cli_kind kind;
	void *dst;
	long min, max;		/* CLI_LONG's range */
	bool *also;		/* set to true as well when given, or NULL */
};

/* Parse argv[1..] (argv[0] is the command's name) by opts, which ends
 * with an entry whose name is NULL. in_order: stop at the first operand
 * (global options before a command); else options and operands mix.
 * Returns the index of the first operand, CLI_HELP or CLI_BAD. */
int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      const char *use, bool in_order);

#endif
