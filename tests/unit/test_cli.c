// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cli.c - the declared option tables (user/common/cliopt.c): each row is a
 * command line, the index of its first operand (or CLI_HELP / CLI_BAD),
 * and what the options must have set. No root needed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/cliopt.h"
#include "testlib.h"

struct cli_case {
	const char *name;
	const char *argv[8];
	bool in_order;
	int rc;			/* first operand, CLI_HELP or CLI_BAD */
	bool json;
	const char *file0, *file1, *mode;
	long port;
	bool kube;
};

static const struct cli_case cases[] = {
	{ "no_options_first_operand_is_1", { "cmd", "svc" }, false, 1 },
	{ "flag_by_long_and_short_name", { "cmd", "-j", "svc" }, false, 2, .json = true },
	/* getopt moves the operands after the options it took */
	{ "options_after_operands_are_taken", { "cmd", "svc", "--json" }, false, 2, .json = true },
	{ "in_order_stops_at_the_first_operand", { "cmd", "svc", "--json" }, true, 1 },
	{ "value_in_the_next_word", { "cmd", "--mode", "generic", "eth0" }, false, 3,
	  .mode = "generic" },
	{ "value_after_equals", { "cmd", "--mode=native", "eth0" }, false, 2, .mode = "native" },
	{ "repeated_option_collects_in_order", { "cmd", "-f", "a.yaml", "--file", "b.yaml" },
	  false, 5, .file0 = "a.yaml", .file1 = "b.yaml" },
	{ "number_in_range", { "cmd", "--port", "65535" }, false, 3, .port = 65535 },
	{ "number_out_of_range_is_refused", { "cmd", "--port", "0" }, false, CLI_BAD },
	{ "number_with_trailing_junk_is_refused", { "cmd", "--port", "80x" }, false, CLI_BAD },
	{ "missing_value_is_refused", { "cmd", "--mode" }, false, CLI_BAD },
	{ "unknown_option_is_refused", { "cmd", "--nope" }, false, CLI_BAD },
	{ "help_is_always_there", { "cmd", "--help" }, false, CLI_HELP },
	{ "also_sets_a_second_flag", { "cmd", "--kubeconfig", "/k" }, false, 3, .kube = true },
};

static int check_case(const struct cli_case *c)
{
	const char *files[2] = {}, *mode = NULL, *kubeconfig = NULL;
	struct cli_strs fs = { files, 0, 2 };
	bool json = false, kube = false;
	long port = 0;
	struct cli_opt opts[] = {
		{ "json", 'j', CLI_FLAG, &json },
		{ "mode", 'm', CLI_STR, &mode },
		{ "file", 'f', CLI_STRS, &fs },
		{ "port", 0, CLI_LONG, &port, 1, 65535 },
		{ "kubeconfig", 0, CLI_STR, &kubeconfig, .also = &kube },
		{}
	};
	char *argv[8] = {};
	int argc, rc, out;

	for (argc = 0; c->argv[argc]; argc++)
		argv[argc] = (char *)c->argv[argc];
	/* the usage and error lines are not the point here */
	fflush(stdout);
	out = dup(1);
	freopen("/dev/null", "w", stdout);
	freopen("/dev/null", "w", stderr);
	rc = cli_parse(argc, argv, opts, "cmd [OPTIONS]", c->in_order);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	ASSERT_EQ(rc, c->rc);
	if (rc < 0)
		return 0;
	ASSERT_EQ(json, c->json);
	ASSERT_EQ(kube, c->kube);
	ASSERT_EQ(port, c->port);
	ASSERT_TRUE(!c->mode == !mode && (!mode || !strcmp(mode, c->mode)),
		    "mode %s, expected %s", mode ? mode : "-", c->mode ? c->mode : "-");
	ASSERT_EQ(fs.n, !!c->file0 + !!c->file1);
	ASSERT_TRUE(!c->file0 || !strcmp(files[0], c->file0), "file 0 %s", files[0]);
	ASSERT_TRUE(!c->file1 || !strcmp(files[1], c->file1), "file 1 %s", files[1]);
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_report(cases[i].name, check_case(&cases[i]));
	return test_exit();
}
