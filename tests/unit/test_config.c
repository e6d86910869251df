// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - every rejection names the file, the line, the field and
 * the reason; valid files produce the fields and defaults we document.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "input/load.h"
#include "testlib.h"

static const char *svc_head =
	"services:\n- name: web\n  address: 10.10.0.100\n  port: 80\n";

struct bad_case {
	const char *name;
	const char *yaml;		/* appended to svc_head unless full */
	bool full;
	const char *want;		/* substring of the error */
};

static const struct bad_case bad[] = {
	{ "table_size_not_prime_is_rejected",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, tableSize: 65536}}\n  backends: []\n",
	  false, ":5: services[0].loadBalancer.consistentHash.tableSize: 65536 is not prime" },
	{ "table_size_out_of_range_is_rejected",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, tableSize: 7}}\n  backends: []\n",
	  false, "tableSize: 7 is out of range 251..5000011" },
	{ "cookie_hash_needs_a_cookie_name",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie}}\n  backends: []\n",
	  false, "services[0].loadBalancer.consistentHash.cookie: required" },
	{ "cookie_hash_needs_tcp",
	  "  protocol: UDP\n  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: a}}}\n  backends: []\n",
	  false, "consistentHash: Cookie hashing needs protocol: TCP" },
	{ "cookie_name_must_be_a_token",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: 'a;b'}}}\n  backends: []\n",
	  false, "consistentHash.cookie.name: \"a;b\" is not a valid cookie name" },
	{ "header_name_is_required",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Header, header: {}}}\n  backends: []\n",
	  false, "consistentHash.header.name: required" },
	{ "fallback_only_with_cookie_or_header",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP, fallback: Tuple}}\n  backends: []\n",
	  false, "consistentHash.fallback: only valid with type Cookie or Header" },
	{ "fallback_must_be_l4",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: a}, fallback: Cookie}}\n  backends: []\n",
	  false, "consistentHash.fallback: \"Cookie\" is not SourceIP or Tuple" },
	{ "unknown_hash_type_is_rejected",
	  "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Random}}\n  backends: []\n",
	  false, "consistentHash.type: \"Random\" is not SourceIP, Tuple, Cookie or Header" },
	{ "other_load_balancer_types_are_rejected",
	  "  loadBalancer: {type: RoundRobin}\n  backends: []\n",
	  false, "loadBalancer.type: \"RoundRobin\" is not supported" },
	{ "mtu_below_the_ipv6_minimum_is_rejected",
	  "  mtu: 1000\n  backends: []\n", false,
	  ":5: services[0].mtu: 1000 is out of range 1280..65535" },
	{ "unknown_field_is_named",
	  "  backends: []\n  timeoutz: 5\n", false, "services[0].timeoutz: unknown field" },
	{ "bad_backend_address_is_rejected",
	  "  backends:\n  - {address: 10.20.1.300, port: 3000}\n",
	  false, ":6: services[0].backends[0].address: \"10.20.1.300\" is not an IPv4 or IPv6 address" },
	{ "backend_family_must_match_vip",
	  "  backends:\n  - {address: '2001:db8::1', port: 3000}\n",
	  false, "backends[0].address: address family differs" },
	{ "port_out_of_range_is_rejected",
	  "  backends:\n  - {address: 10.20.1.2, port: 70000}\n",
	  false, "backends[0].port: 70000 is out of range 1..65535" },
	{ "duplicate_backend_is_rejected",
	  "  backends:\n  - {address: 10.20.1.2, port: 3000}\n  - {address: 10.20.1.2, port: 3000}\n",
	  false, "backends[1]: duplicate of backends[0]" },
	{ "duplicate_backend_names_the_first_of_its_kind",
	  "  backends:\n  - {address: 10.20.1.2, port: 3000}\n  - {address: 10.20.1.3, port: 3000}\n"
	  "  - {address: 10.20.1.3, port: 3000}\n  - {address: 10.20.1.2, port: 3000}\n",
	  false, "backends[2]: duplicate of backends[1]" },
	{ "backend_name_used_twice_is_rejected",
	  "  backends:\n  - {address: 10.20.1.2, port: 3000, name: a}\n"
	  "  - {address: 10.20.1.3, port: 3000, name: b}\n  - {address: 10.20.1.4, port: 3000, name: a}\n",
	  false, "backends[2]: name \"a\" is also used by backends[0]" },
	{ "backend_named_as_another_backends_address_is_rejected",
	  "  backends:\n  - {address: 10.20.1.2, port: 3000}\n"
	  "  - {address: 10.20.1.3, port: 3000, name: \"10.20.1.2:3000\"}\n",
	  false, "backends[1]: name \"10.20.1.2:3000\" is also used by backends[0]" },
	{ "missing_backends_is_rejected", "", false,
	  "services[0].backends: required" },
	{ "snat_without_address_is_rejected",
	  "  forwarding: snat\n  backends: []\n", false,
	  "services[0].snat: required with forwarding: snat" },
	{ "bad_protocol_is_rejected",
	  "  protocol: SCTP\n  backends: []\n", false,
	  "services[0].protocol: \"SCTP\" is not TCP or UDP" },
	{ "duplicate_vip_is_rejected",
	  "services:\n- {name: a, address: 10.0.0.1, port: 80, backends: []}\n"
	  "- {name: b, address: 10.0.0.1, port: 80, backends: []}\n", true,
	  "services[1]: same address, port and protocol as service \"a\"" },
	{ "health_check_timeout_must_be_below_interval",
	  "  healthCheck: {active: {type: TCP, interval: 1s, timeout: 2s}}\n  backends: []\n",
	  false, "services[0].healthCheck.active: timeout must be shorter than interval" },
	{ "health_check_http_block_needs_http_type",
	  "  healthCheck: {active: {type: TCP, http: {path: /}}}\n  backends: []\n",
	  false, "services[0].healthCheck.active.http: only valid with type HTTP" },
	{ "yaml_syntax_error_names_the_line",
	  "services:\n- name: [unclosed\n", true, ":3: (syntax):" },
	{ "bad_duration_is_rejected",
	  "conntrack: {tcpTimeout: 5d}\nservices: []\n", true,
	  "conntrack.tcpTimeout: \"5d\": unit must be ms, s, m or h" },
	{ "bad_syn_timeout_is_rejected",
	  "conntrack: {synTimeout: 1d}\nservices: []\n", true,
	  "conntrack.synTimeout: \"1d\": unit must be ms, s, m or h" },
	{ "ct_max_entries_below_the_minimum_is_rejected",
	  "conntrack: {maxEntries: 100}\nservices: []\n", true,
	  "conntrack.maxEntries: 100 is out of range 1024..16777216" },
	{ "ct_max_entries_must_be_a_number",
	  "conntrack: {maxEntries: 1M}\nservices: []\n", true,
	  "conntrack.maxEntries: \"1M\" is not a whole number" },
};

static char fixture[64];

static struct maglb_config *load(const char *text, char *err, size_t len)
{
	FILE *f;

	snprintf(fixture, sizeof(fixture), "/tmp/maglb-config-test-%d.yaml",
		 getpid());
	f = fopen(fixture, "w");
	fputs(text, f);
	fclose(f);
	return config_load(fixture, err, len);
}

static int check_bad(const struct bad_case *c)
{
	char text[2048], err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;

	snprintf(text, sizeof(text), "%s%s", c->full ? "" : svc_head, c->yaml);
	cfg = load(text, err, sizeof(err));
	unlink(fixture);
	ASSERT_TRUE(!cfg, "accepted");
	ASSERT_TRUE(strstr(err, fixture) == err, "error does not start with the file: %s", err);
	ASSERT_TRUE(strstr(err, c->want), "error \"%s\" lacks \"%s\"", err, c->want);
	return 0;
}

static int valid_config_gets_documented_defaults(void)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;
	const struct cfg_service *s;

	cfg = load("services:\n- name: web\n  address: 10.10.0.100\n  port: 80\n"
		   "  backends:\n  - {address: 10.20.1.2, port: 3000}\n"
		   "  - {address: 10.20.1.3, port: 3000, weight: 3, name: pod-b}\n",
		   err, sizeof(err));
	unlink(fixture);
	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "web");
	ASSERT_TRUE(s, "no service web");
	ASSERT_EQ(s->proto, 6);
	ASSERT_EQ(s->forwarding, MAGLB_FWD_NAT);
	ASSERT_EQ(s->hash_type, MAGLB_HASH_SOURCE_IP);
	ASSERT_EQ(s->table_size, 65537);
	ASSERT_EQ(s->mtu, 0);	/* not given: the routes' (apply.c) */
	ASSERT_EQ(s->n_backends, 2);
	ASSERT_EQ(s->backends[0].weight, 1);
	ASSERT_TRUE(!strcmp(s->backends[0].name, "10.20.1.2:3000"), "name %s",
		    s->backends[0].name);
	ASSERT_TRUE(!strcmp(s->backends[1].name, "pod-b"), "name %s",
		    s->backends[1].name);
	ASSERT_EQ(cfg->ct_tcp_timeout, 21600);
	ASSERT_EQ(cfg->ct_udp_timeout, 60);
	ASSERT_EQ(cfg->ct_syn_timeout, 60);
	ASSERT_EQ(cfg->ct_max_entries, 131072);	/* connections */
	config_free(cfg);
	cfg = load("conntrack: {maxEntries: 1048576}\nservices: []\n", err,
		   sizeof(err));
	unlink(fixture);
	ASSERT_TRUE(cfg, "rejected: %s", err);
	ASSERT_EQ(cfg->ct_max_entries, 1048576);
	config_free(cfg);
	return 0;
}

/* The seed's BackendTrafficPolicy block, pasted unchanged. */
static int seed_cookie_policy_is_accepted(void)
{
	char err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;
	const struct cfg_service *s;

	cfg = load("services:\n- name: cookie-route\n  address: 10.10.0.100\n  port: 80\n"
		   "  loadBalancer:\n"
		   "    type: ConsistentHash\n"
		   "    consistentHash:\n"
		   "      type: Cookie\n"
		   "      cookie:\n"
		   "        name: FooBar\n"
		   "        ttl: 60s\n"
		   "        attributes:\n"
		   "          SameSite: Strict\n"
		   "  backends: []\n", err, sizeof(err));
	unlink(fixture);
	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "cookie-route");
	ASSERT_EQ(s->hash_type, MAGLB_HASH_COOKIE);
	ASSERT_EQ(s->fallback_hash, MAGLB_HASH_SOURCE_IP);
	ASSERT_TRUE(!strcmp(s->key_name, "FooBar"), "cookie name %s", s->key_name);
	ASSERT_EQ(s->cookie_ttl, 60);
	ASSERT_TRUE(!strcmp(s->cookie_attrs, "SameSite=Strict"), "attrs %s",
		    s->cookie_attrs);
	config_free(cfg);
	cfg = load("services:\n- name: h\n  address: 10.10.0.100\n  port: 80\n"
		   "  loadBalancer: {type: ConsistentHash, consistentHash: {type: Header, header: {name: X-User}, fallback: Tuple}}\n"
		   "  backends: []\n", err, sizeof(err));
	unlink(fixture);
	ASSERT_TRUE(cfg, "rejected: %s", err);
	s = config_find(cfg, "h");
	ASSERT_TRUE(!strcmp(s->key_name, "x-user"), "header name not lowercased: %s",
		    s->key_name);
	ASSERT_EQ(s->fallback_hash, MAGLB_HASH_TUPLE);
	config_free(cfg);
	return 0;
}

static int shipped_example_configs_are_valid(void)
{
	static const char *const files[] = {
		"scripts/demo/maglb-nat.yaml", "scripts/demo/maglb-snat.yaml",
	};
	char err[CFG_ERR_LEN];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct maglb_config *cfg = config_load(files[i], err, sizeof(err));

		ASSERT_TRUE(cfg, "%s", err);
		config_free(cfg);
	}
	return 0;
}

/*
 * Hostile files (issue 16): each is refused at once with a message that
 * names the file and the limit. The loads are timed; a load that blocks
 * (a FIFO's open()) or takes seconds (libyaml on deep nesting) is left by
 * a watchdog after 5 s, and fails.
 */
enum hostile { H_NESTED, H_BIG, H_FIFO, H_FIFO_LINK, H_DIR, H_LINK_TO_FILE };

static const struct hostile_case {
	const char *name;
	enum hostile kind;
	size_t bytes;		/* H_NESTED: the file's size */
	const char *want;	/* NULL: loads */
} hostile[] = {
	{ "nested_2mb_file_is_refused_in_under_100ms", H_NESTED, 2 << 20,
	  ": larger than 1048576 bytes (1 MiB), the most a config file may hold" },
	{ "nested_file_under_the_size_limit_is_refused_in_under_100ms", H_NESTED, 1000000,
	  ":1: (document): nested deeper than 64 levels" },
	{ "nesting_at_the_limit_is_parsed", H_NESTED, 2 * 64,
	  ":1: (document): must be a mapping" },
	{ "file_past_1mib_is_refused", H_BIG, 0,
	  ": larger than 1048576 bytes (1 MiB), the most a config file may hold" },
	{ "fifo_as_config_is_refused_at_once", H_FIFO, 0,
	  ": a FIFO; a config file must be a regular file" },
	{ "symlink_swapped_to_a_fifo_is_refused_at_once", H_FIFO_LINK, 0,
	  ": a FIFO; a config file must be a regular file" },
	{ "directory_as_config_is_refused", H_DIR, 0,
	  ": a directory; a config file must be a regular file" },
	{ "symlink_to_a_file_is_followed_as_configmaps_need", H_LINK_TO_FILE, 0, NULL },
};

/* A load still running after 5 s is left (its memory with it) for the
 * next case: the handler jumps back into check_hostile(). */
static sigjmp_buf watchdog_jmp;

static void watchdog(int sig)
{
	siglongjmp(watchdog_jmp, 1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	size_t w;

	if (!f)
		return -1;
	w = fwrite(text, 1, len, f);
	return fclose(f) || w != len ? -1 : 0;
}

static int check_hostile(const struct hostile_case *c)
{
	char path[96], target[96], err[CFG_ERR_LEN] = "";
	struct maglb_config *cfg;
	char *text = NULL;
	volatile double t0;
	double ms;
	size_t i, len = 0;
	int rc = 0;

	snprintf(path, sizeof(path), "/tmp/maglb-hostile-%d.yaml", getpid());
	snprintf(target, sizeof(target), "/tmp/maglb-hostile-%d.target", getpid());
	unlink(path);
	unlink(target);
	rmdir(path);
	switch (c->kind) {
	case H_NESTED:	/* "[[[...]]]": a level every two bytes */
		len = c->bytes;
		text = malloc(len + 1);
		ASSERT_TRUE(text, "out of memory");
		for (i = 0; i < len; i++)
			text[i] = i < len / 2 ? '[' : ']';
		rc = write_file(path, text, len);
		break;
	case H_BIG:	/* valid YAML, a comment past the limit */
		len = MAGLB_CONFIG_MAX_BYTES + 1;
		text = malloc(len + 1);
		ASSERT_TRUE(text, "out of memory");
		memset(text, ' ', len);
		memcpy(text, svc_head, strlen(svc_head));
		text[strlen(svc_head)] = '#';
		rc = write_file(path, text, len);
		break;
	case H_FIFO:
		rc = mkfifo(path, 0600);
		break;
	case H_FIFO_LINK:	/* the agent's file, renamed over by a symlink */
		rc = mkfifo(target, 0600) || symlink(target, path);
		break;
	case H_DIR:
		rc = mkdir(path, 0700);
		break;
	case H_LINK_TO_FILE:
		len = strlen(svc_head) + strlen("  backends: []\n");
		text = malloc(len + 1);
		ASSERT_TRUE(text, "out of memory");
		snprintf(text, len + 1, "%s  backends: []\n", svc_head);
		rc = write_file(target, text, len) || symlink(target, path);
		break;
	}
	free(text);
	ASSERT_OK(rc);
	t0 = now_ms();
	if (sigsetjmp(watchdog_jmp, 1)) {
		unlink(path);
		rmdir(path);
		unlink(target);
		TEST_FAIL("config_load() still running after 5 s");
	}
	alarm(5);
	cfg = config_load(path, err, sizeof(err));
	alarm(0);
	ms = now_ms() - t0;
	unlink(path);
	rmdir(path);
	unlink(target);
	if (!c->want) {
		ASSERT_TRUE(cfg, "rejected: %s", err);
		config_free(cfg);
		return 0;
	}
	ASSERT_TRUE(!cfg, "accepted");
	ASSERT_TRUE(strstr(err, path) == err, "error does not start with the file: %s", err);
	ASSERT_TRUE(strstr(err, c->want), "error \"%s\" lacks \"%s\"", err, c->want);
	/* the bound issue 16 asks for; at once is a few ms here */
	ASSERT_TRUE(ms < 100, "took %.1f ms", ms);
	return 0;
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_report(bad[i].name, check_bad(&bad[i]));
	RUN_TEST(valid_config_gets_documented_defaults);
	RUN_TEST(seed_cookie_policy_is_accepted);
	RUN_TEST(shipped_example_configs_are_valid);
	signal(SIGALRM, watchdog);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		test_report(hostile[i].name, check_hostile(&hostile[i]));
	return test_exit();
}
