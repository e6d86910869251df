// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - every rejection names the file, the line, the field and
 * the reason; valid files produce the fields and defaults we document.
 */
#include <errno.h>
#include <stdlib.h>
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

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_report(bad[i].name, check_bad(&bad[i]));
	RUN_TEST(valid_config_gets_documented_defaults);
	RUN_TEST(seed_cookie_policy_is_accepted);
	RUN_TEST(shipped_example_configs_are_valid);
	return test_exit();
}
