// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "common/cliopt.h"

#define CLI_MAX_OPTS	32

/* getopt_long's value for entry i: its short key, or past every char. */
static int opt_val(const struct cli_opt *o, int i)
{
	return o->key ? o->key : 256 + i;
}

static int take(const struct cli_opt *o, const char *arg)
{
	struct cli_strs *ss;
	char *end;
	long v;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->dst = true;
		break;
	case CLI_STR:
		*(const char **)o->dst = arg;
		break;
	case CLI_STRS:
		ss = o->dst;
		if (ss->n >= ss->max) {
			fprintf(stderr, "maglb: --%s: at most %d\n", o->name, ss->max);
			return -1;
		}
		ss->v[ss->n++] = arg;
		break;
	case CLI_LONG:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < o->min || v > o->max) {
			fprintf(stderr, "maglb: --%s: '%s' is not a number in %ld..%ld\n",
				o->name, arg, o->min, o->max);
			return -1;
		}
		*(long *)o->dst = v;
		break;
	}
	if (o->also)
		*o->also = true;
	return 0;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts,
	      const char *use, bool in_order)
{
	struct option lo[CLI_MAX_OPTS + 2] = {};
	char so[3 * CLI_MAX_OPTS + 4], *s = so;
	int i, n, c, idx;

	if (in_order)
		*s++ = '+';
	*s++ = ':';		/* a missing value: ':' not '?' */
	for (n = 0; opts[n].name; n++) {
		if (n == CLI_MAX_OPTS)
			return CLI_BAD;
		lo[n].name = opts[n].name;
		lo[n].has_arg = opts[n].kind == CLI_FLAG ? no_argument :
							  required_argument;
		lo[n].val = opt_val(&opts[n], n);
		if (opts[n].key) {
			*s++ = opts[n].key;
			if (opts[n].kind != CLI_FLAG)
				*s++ = ':';
		}
	}
	lo[n].name = "help";
	lo[n].val = 'h';
	*s++ = 'h';
	*s = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, &idx)) != -1) {
		if (c == 'h') {
			printf("Usage: %s\n", use);
			return CLI_HELP;
		}
		for (i = 0; i < n; i++)
			if (c == opt_val(&opts[i], i))
				break;
		if (i == n) {
			if (c == ':')
				fprintf(stderr, "maglb: %s needs a value\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "maglb: unknown option %s\n",
					argv[optind - 1]);
			fprintf(stderr, "Usage: %s\n", use);
			return CLI_BAD;
		}
		if (take(&opts[i], optarg))
			return CLI_BAD;
	}
	return optind;
}
