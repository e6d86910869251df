// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * routes.c - HTTP routes on one listener (10.10.0.120: rt-cookie ->
 * 10.20.1.2, rt-wild -> 10.20.1.3, rt-health -> 10.20.1.4): the route a
 * head matches picks its backend; no match gets a 404 or a reset.
 *
 * Fixture (tests/fixtures/pkt.yaml): gw (10.10.0.120); clients
 * 10.10.0.2:46000-46006, 46100, 46200-46229.
 */
#include "pkt.h"

struct route_case {
	const char *name;
	const char *req;
	const char *backend;	/* the SYN's destination; NULL: answered */
	int flags;		/* the answer's TCP flags */
	bool not_found;		/* the answer carries the 404 */
	bool bad;		/* the answer carries the 400 */
};

static const struct route_case route_cases[] = {
	{ "route_exact_host_and_path_prefix_picks_its_backend",
	  "GET /cookie/cart HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n", "10.20.1.2" },
	{ "route_host_compares_without_case_or_port",
	  "GET /cookie HTTP/1.1\r\nHost: WWW.Example.COM:80\r\nAccept: */*\r\n\r\n", "10.20.1.2" },
	{ "route_path_prefix_matches_whole_segments_only",
	  "GET /cookies HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n", "10.20.1.3" },
	{ "route_wildcard_host_matches_a_subdomain",
	  "GET /anything?q=1 HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\n\r\n", "10.20.1.3" },
	{ "route_exact_path_without_host_matches_its_path",
	  "GET /health?probe=1 HTTP/1.1\r\nHost: other.test\r\nAccept: */*\r\n\r\n", "10.20.1.4" },
	{ "route_no_match_gets_404_and_fin",
	  "GET /nothing HTTP/1.1\r\nHost: example.com\r\nAccept: text/html,*/*\r\n\r\n", NULL,
	  TF_ACK | TF_PSH | TF_FIN, true },
	{ "route_no_match_too_short_for_404_gets_reset",
	  "GET /x HTTP/1.0\r\n\r\n", NULL, TF_RST, false },
};

static int check_route_at(const struct route_case *c, int i, int port)
{
	struct hs h = { .vip = "10.10.0.120", .sport = port + i,
			.isn = 70000 + 1000 * i };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, c->req);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	if (c->backend) {
		ASSERT_EQ(r.action, XDP_REDIRECT);
		ASSERT_EQ(v.flags, TF_SYN);
		ASSERT_TRUE(!strcmp(v.dst, c->backend), "SYN to %s, want %s",
			    v.dst, c->backend);
		return 0;
	}
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2") && v.sport == 80, "not to the client");
	ASSERT_EQ(v.flags, c->flags);
	ASSERT_EQ(v.seq, h.cookie + 1);
	if (c->bad) {
		ASSERT_EQ(v.ack, h.isn + 1 + (unsigned int)strlen(c->req));
		ASSERT_EQ(v.datalen, 64);
		ASSERT_TRUE(!memcmp(v.data, "HTTP/1.1 400 Bad Request\r\nContent-Length:0\r\n"
				    "Connection:close\r\n\r\n", 64), "payload %.*s",
			    v.datalen, v.data);
	}
	if (c->not_found) {
		ASSERT_EQ(v.ack, h.isn + 1 + (unsigned int)strlen(c->req));
		ASSERT_EQ(v.datalen, 64);
		ASSERT_EQ(opt32(&v, 8, 6), 800);	/* echoes the client's TSval */
		ASSERT_TRUE(!memcmp(v.data, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
				    "Connection: close\r\n\r\n", 64), "payload %.*s",
			    v.datalen, v.data);
	}
	return 0;
}

static int check_route_case(const struct route_case *c, int i)
{
	return check_route_at(c, i, 46000);
}

PKT_TABLE(route_cases, check_route_case);

/*
 * The route is the one the backend's own reading of the request implies
 * (http.h: nginx's, checked against a real one in test_routes.sh). Here
 * rt-cookie's /cookie plays the protected path and rt-wild the public
 * catch-all.
 */
#define WWW	" HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
#define BAD	NULL, TF_ACK | TF_PSH | TF_FIN, false, true
#define A70	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct route_case norm_cases[] = {
	{ "route_dot_dot_segment_is_removed_before_matching",
	  "GET /x/../cookie" WWW, "10.20.1.2" },
	{ "route_dot_segments_are_removed_before_matching",
	  "GET /./cookie/./x" WWW, "10.20.1.2" },
	{ "route_merged_slashes_match",
	  "GET //cookie" WWW, "10.20.1.2" },
	{ "route_slashes_merge_before_dot_segments_as_nginx",
	  "GET /a//../cookie/x" WWW, "10.20.1.2" },
	{ "route_escaped_unreserved_bytes_are_decoded",
	  "GET /%63ooki%65/x" WWW, "10.20.1.2" },
	{ "route_exact_path_matches_after_normalising",
	  "GET /a/b/../../health HTTP/1.1\r\nHost: other.test\r\nAccept: */*\r\n\r\n",
	  "10.20.1.4" },
	{ "route_long_path_normalises_past_the_kept_bytes",
	  "GET /" A70 "/b/../../cookie" WWW, "10.20.1.2" },
	{ "route_absolute_form_matches_its_path",
	  "GET http://www.example.com/cookie/x" WWW, "10.20.1.2" },
	{ "route_absolute_form_authority_compares_without_case_default_port",
	  "GET http://WWW.example.com:80/cookie" WWW, "10.20.1.2" },
	{ "route_absolute_form_other_host_gets_400",
	  "GET http://admin.example.com/" WWW, BAD },
	{ "route_absolute_form_other_port_gets_400",
	  "GET http://www.example.com:8080/cookie" WWW, BAD },
	{ "route_absolute_form_without_host_gets_400",
	  "GET http://www.example.com/cookie HTTP/1.1\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n",
	  BAD },
	{ "route_duplicate_host_gets_400",
	  "GET /x HTTP/1.1\r\nHost: www.example.com\r\nHost: admin.example.com\r\n\r\n", BAD },
	{ "route_dot_dot_above_root_gets_400",
	  "GET /.." WWW, BAD },
	{ "route_escaped_dot_dot_above_root_gets_400",
	  "GET /%2e%2E/cookie" WWW, BAD },
	{ "route_escaped_slash_gets_400",
	  "GET /x%2F..%2Fcookie" WWW, BAD },
	{ "route_escaped_backslash_gets_400",
	  "GET /x%5c..%5ccookie" WWW, BAD },
	{ "route_broken_escape_gets_400",
	  "GET /cookie%zz" WWW, BAD },
	{ "route_escaped_nul_gets_400",
	  "GET /cookie%00" WWW, BAD },
	{ "route_host_longer_than_kept_gets_400",
	  "GET /cookie HTTP/1.1\r\nHost: " A70 ".example.com\r\n\r\n", BAD },
};

static int check_norm_case(const struct route_case *c, int i)
{
	return check_route_at(c, i, 46200);
}

PKT_TABLE(norm_cases, check_norm_case);

/* After our 404 and FIN the client's FIN meets no state: it is reset. */
PKT_TEST(fin_without_a_connection_is_reset)
{
	struct pkt_spec s = { CK, .sport = 46100, .tcp_flags = TF_FIN | TF_ACK,
			      .seq = 5000, .ack = 777777 };
	struct pkt_view v;
	struct run r;

	s.dst = "10.10.0.120";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_EQ(v.flags, TF_RST);
	ASSERT_EQ(v.seq, 777777);
	return 0;
}
