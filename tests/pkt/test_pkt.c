// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pkt.c - the XDP program, packet by packet, through
 * bpf_prog_test_run_opts(). The process moves into its own network
 * namespace with two veths ("c0" toward clients, "b0" toward backends) and
 * static neighbours, so bpf_fib_lookup() gives real answers. Maps are filled
 * by the real config loader and apply path. Rewritten headers are checked
 * with an independent full checksum (tests/lib/pktbuild.h).
 */
#include "harness.h"
#include "keyhash.h"
#include "maglb_hash.h"
#include "names.h"
#include "sweep.h"
#include "testlib.h"

static const char *base_config =
	"services:\n"
	"- name: web\n"
	"  address: 10.10.0.100\n"
	"  port: 80\n"
	"  backends:\n"
	"  - {address: 10.20.1.2, port: 3000}\n"
	"  - {address: 10.20.1.3, port: 3000}\n"
	"  - {address: 10.20.1.4, port: 3000}\n"
	"- name: dns\n"
	"  address: 10.10.0.100\n"
	"  port: 53\n"
	"  protocol: UDP\n"
	"  loadBalancer: {type: ConsistentHash, consistentHash: {type: Tuple, tableSize: 251}}\n"
	"  backends: [{address: 10.20.1.2, port: 5353}]\n"
	"- name: one-arm\n"
	"  address: 10.10.0.200\n"
	"  port: 80\n"
	"  forwarding: snat\n"
	"  snat: {address: 10.10.0.1, portMin: 20000, portMax: 20009}\n"
	"  backends: [{address: 10.10.0.11, port: 3000}]\n"
	"- name: one-arm-wide\n"
	"  address: 10.10.0.201\n"
	"  port: 80\n"
	"  forwarding: snat\n"
	"  snat: {address: 10.10.0.1, portMin: 30000, portMax: 30999}\n"
	"  backends: [{address: 10.10.0.11, port: 3000}]\n"
	"- name: web6\n"
	"  address: 'fd00:10::100'\n"
	"  port: 80\n"
	"  backends: [{address: 'fd00:20::2', port: 3000}, {address: 'fd00:20::3', port: 3000}]\n"
	"- name: empty\n"
	"  address: 10.10.0.101\n"
	"  port: 80\n"
	"  backends: []\n"
	"- name: ck\n"
	"  address: 10.10.0.110\n"
	"  port: 80\n"
	"  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: FooBar}}}\n"
	"  backends:\n"
	"  - {address: 10.20.1.2, port: 3000}\n"
	"  - {address: 10.20.1.3, port: 3000}\n"
	"  - {address: 10.20.1.4, port: 3000}\n"
	"- name: gen\n"
	"  address: 10.10.0.111\n"
	"  port: 80\n"
	"  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie,\n"
	"    cookie: {name: FooBar, ttl: 60s, attributes: {SameSite: Strict}}}}\n"
	"  backends:\n"
	"  - {address: 10.20.1.2, port: 3000}\n"
	"  - {address: 10.20.1.3, port: 3000}\n"
	"  - {address: 10.20.1.4, port: 3000}\n"
	"- name: unresolved\n"
	"  address: 10.10.0.102\n"
	"  port: 80\n"
	"  backends: [{address: 10.20.1.5, port: 3000}]\n"
	/* a Cookie service with a configured path MTU (see "path MTU") */
	"- name: ck-mtu\n"
	"  address: 10.10.0.112\n"
	"  port: 80\n"
	"  mtu: 1400\n"
	"  loadBalancer: {type: ConsistentHash, consistentHash: {type: Cookie, cookie: {name: FooBar}}}\n"
	"  backends: [{address: 10.20.1.2, port: 3000}]\n"
	/* HTTP routes on one listener, one backend each (see "routes") */
	"---\n"
	"apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
	"metadata: {name: gw}\n"
	"spec:\n  addresses: [{value: 10.10.0.120}]\n"
	"  listeners: [{name: http, protocol: HTTP, port: 80}]\n"
	"---\n"
	"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	"metadata: {name: rt-cookie}\n"
	"spec:\n  parentRefs: [{name: gw}]\n  hostnames: [www.example.com]\n"
	"  rules: [{matches: [{path: {type: PathPrefix, value: /cookie}}], backendRefs: [{name: be-a, port: 3000}]}]\n"
	"---\n"
	"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	"metadata: {name: rt-wild}\n"
	"spec:\n  parentRefs: [{name: gw}]\n  hostnames: ['*.example.com']\n"
	"  rules: [{backendRefs: [{name: be-b, port: 3000}]}]\n"
	"---\n"
	"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	"metadata: {name: rt-health}\n"
	"spec:\n  parentRefs: [{name: gw}]\n"
	"  rules: [{matches: [{path: {type: Exact, value: /health}}], backendRefs: [{name: be-c, port: 3000}]}]\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: be-a-1, labels: {kubernetes.io/service-name: be-a}}\n"
	"addressType: IPv4\nports: [{port: 3000}]\nendpoints: [{addresses: [10.20.1.2]}]\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: be-b-1, labels: {kubernetes.io/service-name: be-b}}\n"
	"addressType: IPv4\nports: [{port: 3000}]\nendpoints: [{addresses: [10.20.1.3]}]\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: be-c-1, labels: {kubernetes.io/service-name: be-c}}\n"
	"addressType: IPv4\nports: [{port: 3000}]\nendpoints: [{addresses: [10.20.1.4]}]\n";

static __u64 reason_count(enum maglb_reason why)
{
	struct maglb_reason_counters c;

	maps_read_reason(&maps, why, &c);
	return c.packets;
}

/* Conntrack key of the client 10.10.0.2:sport to vip:80 over TCP. */
static void client_key(const char *vip, unsigned short sport,
		       struct maglb_flow *k)
{
	memset(k, 0, sizeof(*k));
	k->family = MAGLB_AF_INET;
	k->proto = IPPROTO_TCP;
	inet_pton(AF_INET, "10.10.0.2", &k->saddr);
	inet_pton(AF_INET, vip, &k->daddr);
	k->sport = htons(sport);
	k->dport = htons(80);
}

static struct svc_item *find_svc(const char *name, struct svc_item *out)
{
	struct svc_item *all;
	int i, n = maps_read_services(&maps, &all);

	for (i = 0; i < n; i++)
		if (!strcmp(all[i].svc.name, name))
			*out = all[i];
	free(all);
	return out;
}

/* What `maglb lookup` answers for this client flow: the backend address. */
static void maglev_answer(const char *svc_name, const struct pkt_spec *s,
			  char *addr, unsigned short *port)
{
	struct maglb_flow f = {};
	struct svc_item it = {};
	struct maglb_backend be;
	__u32 *slots, size;

	find_svc(svc_name, &it);
	f.family = s->family == 6 ? MAGLB_AF_INET6 : MAGLB_AF_INET;
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->src, &f.saddr);
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->dst, &f.daddr);
	f.sport = htons(s->sport);
	f.dport = htons(s->dport);
	f.proto = s->proto;
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(
		maglb_flow_hash(&f, it.svc.hash_type), size) - 1], &be);
	inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, &be.addr, addr, 64);
	*port = ntohs(be.port);
	free(slots);
}

/* ---- single-packet cases ------------------------------------------------ */

#define WEB	.dst = "10.10.0.100", .dport = 80, .proto = IPPROTO_TCP
#define CLIENT	.family = 4, .src = "10.10.0.2"

struct pkt_case {
	const char *name;
	struct pkt_spec in;
	const char *dev;		/* ingress, default c0 */
	int action;
	enum maglb_reason reason;
	/* expectations for rewritten packets; NULL dst = must be untouched */
	const char *svc;		/* dst comes from this service's Maglev */
	const char *src, *dst;
	int sport_min, sport_max, dport, ttl;
};

static const struct pkt_case cases[] = {
	{ "vip_tcp_syn_is_dnat_to_maglev_backend_and_redirected",
	  { CLIENT, .sport = 40001, WEB, .tcp_flags = TF_SYN },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40001, .dport = 3000, .ttl = 63 },
	{ "vip_tcp_with_payload_is_rewritten_with_valid_checksums",
	  { CLIENT, .sport = 40002, WEB, .tcp_flags = TF_ACK | TF_PSH, .payload = 333 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40002, .dport = 3000, .ttl = 63 },
	{ "vip_udp_is_dnat_by_tuple_hash",
	  { CLIENT, .sport = 5000, .dst = "10.10.0.100", .dport = 53, .proto = IPPROTO_UDP, .payload = 40 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "dns",
	  .src = "10.10.0.2", .sport_min = 5000, .dport = 5353, .ttl = 63 },
	{ "vip_udp_zero_checksum_stays_zero",
	  { CLIENT, .sport = 5001, .dst = "10.10.0.100", .dport = 53, .proto = IPPROTO_UDP, .payload = 7, .udp_no_csum = true },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "dns",
	  .src = "10.10.0.2", .sport_min = 5001, .dport = 5353, .ttl = 63 },
	{ "ipv4_options_are_skipped_by_ihl",
	  { CLIENT, .sport = 40003, WEB, .tcp_flags = TF_SYN, .ip_opt_words = 3 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40003, .dport = 3000, .ttl = 63 },
	{ "one_vlan_tag_is_parsed_and_kept",
	  { CLIENT, .sport = 40004, WEB, .tcp_flags = TF_SYN, .vlans = 1 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40004, .dport = 3000, .ttl = 63 },
	{ "two_vlan_tags_are_parsed_and_kept",
	  { CLIENT, .sport = 40005, WEB, .tcp_flags = TF_SYN, .vlans = 2 },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web",
	  .src = "10.10.0.2", .sport_min = 40005, .dport = 3000, .ttl = 63 },
	{ "three_vlan_tags_pass_as_non_ip",
	  { CLIENT, .sport = 40006, WEB, .tcp_flags = TF_SYN, .vlans = 3 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_IP },
	{ "ipv6_vip_syn_is_dnat_to_maglev_backend",
	  { .family = 6, .src = "fd00:10::2", .sport = 40007, .dst = "fd00:10::100", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_REDIRECT, .reason = MAGLB_REDIRECT, .svc = "web6",
	  .src = "fd00:10::2", .sport_min = 40007, .dport = 3000, .ttl = 63 },
	{ "snat_syn_leaves_from_node_address_by_xdp_tx",
	  { CLIENT, .sport = 40008, .dst = "10.10.0.200", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_TX, .reason = MAGLB_TX, .svc = "one-arm",
	  .src = "10.10.0.1", .sport_min = 20000, .sport_max = 20009, .dport = 3000, .ttl = 63 },
	{ "unresolved_neighbour_passes_rewritten_packet_to_kernel",
	  { CLIENT, .sport = 40009, .dst = "10.10.0.102", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_FIB_NEIGH, .svc = "unresolved",
	  .src = "10.10.0.2", .sport_min = 40009, .dport = 3000, .ttl = 63 },
	{ "non_vip_tcp_passes_untouched",
	  { CLIENT, .sport = 40010, .dst = "10.10.0.1", .dport = 22, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_VIP },
	{ "vip_address_on_other_port_passes_untouched",
	  { CLIENT, .sport = 40011, .dst = "10.10.0.100", .dport = 81, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_VIP },
	{ "arp_passes_untouched", { .family = 0 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NON_IP },
	{ "icmp_to_vip_passes_as_not_l4",
	  { CLIENT, .dst = "10.10.0.100", .proto = IPPROTO_ICMP, .payload = 8 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NOT_L4 },
	{ "ipv6_hop_by_hop_header_passes_as_ipv6_ext",
	  { .family = 6, .src = "fd00:10::2", .dst = "fd00:10::100", .proto = 0, .payload = 8 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_IPV6_EXT },
	{ "ipv6_destination_options_header_passes_as_ipv6_ext",
	  { .family = 6, .src = "fd00:10::2", .dst = "fd00:10::100", .proto = 60, .payload = 8 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_IPV6_EXT },
	{ "icmpv6_passes_as_not_l4",
	  { .family = 6, .src = "fd00:10::2", .dst = "fd00:10::100", .proto = 58, .payload = 8 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_NOT_L4 },
	{ "ipv4_fragment_to_vip_is_dropped",
	  { CLIENT, .sport = 1, WEB, .frag = true, .payload = 20 },
	  .action = XDP_DROP, .reason = MAGLB_DROP_FRAGMENT },
	{ "ipv4_fragment_to_other_address_passes",
	  { CLIENT, .sport = 1, .dst = "10.10.0.1", .dport = 80, .proto = IPPROTO_TCP, .frag = true, .payload = 20 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_FRAGMENT },
	{ "ipv6_fragment_to_vip_is_dropped",
	  { .family = 6, .src = "fd00:10::2", .sport = 1, .dst = "fd00:10::100", .dport = 80, .proto = IPPROTO_TCP, .frag = true, .payload = 20 },
	  .action = XDP_DROP, .reason = MAGLB_DROP_FRAGMENT },
	{ "truncated_tcp_header_to_vip_is_dropped",
	  { CLIENT, .sport = 40012, WEB, .l4_cut = 12 },
	  .action = XDP_DROP, .reason = MAGLB_DROP_TRUNCATED_L4 },
	{ "truncated_udp_header_to_other_address_passes",
	  { CLIENT, .sport = 40013, .dst = "10.10.0.1", .dport = 53, .proto = IPPROTO_UDP, .l4_cut = 6 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_MALFORMED_L4 },
	{ "ttl_1_passes_untouched_for_icmp_time_exceeded",
	  { CLIENT, .sport = 40014, WEB, .tcp_flags = TF_SYN, .ttl = 1 },
	  .action = XDP_PASS, .reason = MAGLB_PASS_FIB_OTHER },
	{ "vip_without_backends_is_dropped",
	  { CLIENT, .sport = 40015, .dst = "10.10.0.101", .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN },
	  .action = XDP_DROP, .reason = MAGLB_DROP_NO_BACKEND },
};

static int check_case(const struct pkt_case *c)
{
	const char *dev = c->dev ? c->dev : "c0";
	__u64 before = reason_count(c->reason);
	struct pkt_view v;
	struct run r;
	char want_dst[64];
	unsigned short want_port;

	ASSERT_OK(run_pkt(&c->in, dev, &r));
	ASSERT_EQ(r.action, c->action);
	ASSERT_EQ(reason_count(c->reason) - before, 1);
	ASSERT_EQ(r.out_len, r.in_len);
	if (!c->svc) {
		ASSERT_TRUE(!memcmp(r.in, r.out, r.in_len),
			    "packet changed although it was not ours");
		return 0;
	}
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	maglev_answer(c->svc, &c->in, want_dst, &want_port);
	ASSERT_TRUE(v.csum_ok, "checksums do not verify after rewrite");
	ASSERT_TRUE(!strcmp(v.dst, want_dst), "dst %s, Maglev says %s", v.dst,
		    want_dst);
	ASSERT_TRUE(!strcmp(v.src, c->src), "src %s, want %s", v.src, c->src);
	ASSERT_EQ(v.dport, c->dport);
	ASSERT_EQ(want_port, c->dport);
	ASSERT_TRUE(v.sport >= c->sport_min &&
		    v.sport <= (c->sport_max ? c->sport_max : c->sport_min),
		    "sport %u", v.sport);
	ASSERT_EQ(v.ttl, c->ttl);
	ASSERT_EQ(v.vlans, c->in.vlans);
	if (c->in.udp_no_csum)
		ASSERT_EQ(v.udp_csum, 0);
	if (c->action == XDP_REDIRECT || c->action == XDP_TX)
		ASSERT_TRUE(v.dmac[0] == 2 && v.dmac[5] != 0xa,
			    "destination MAC not taken from the FIB");
	return 0;
}

/* ---- multi-packet scenarios -------------------------------------------- */

static int send_and_view(const struct pkt_spec *s, const char *dev,
			 int want_action, struct pkt_view *v)
{
	struct run r;

	ASSERT_OK(run_pkt(s, dev, &r));
	ASSERT_EQ(r.action, want_action);
	ASSERT_OK(pkt_view(r.out, r.out_len, v));
	ASSERT_TRUE(v->csum_ok, "checksums do not verify");
	return 0;
}

static int reply_is_reverse_nated_to_the_vip(void)
{
	struct pkt_spec syn = { CLIENT, .sport = 41000, WEB, .tcp_flags = TF_SYN };
	struct pkt_spec back = { .family = 4, .dport = 41000, .dst = "10.10.0.2",
				 .proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK };
	struct pkt_view v;

	if (send_and_view(&syn, "c0", XDP_REDIRECT, &v))
		return -1;
	back.src = v.dst;
	back.sport = v.dport;
	if (send_and_view(&back, "b0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.100"), "reply src %s", v.src);
	ASSERT_EQ(v.sport, 80);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "reply dst %s", v.dst);
	ASSERT_EQ(v.dport, 41000);
	ASSERT_TRUE(!memcmp(v.dmac, "\x02\0\0\0\xc0\x02", 6), "reply dmac");
	return 0;
}

static int snat_reply_returns_to_the_client(void)
{
	struct pkt_spec syn = { CLIENT, .sport = 41001, .dst = "10.10.0.200",
				.dport = 80, .proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct pkt_spec back = { .family = 4, .src = "10.10.0.11", .sport = 3000,
				 .dst = "10.10.0.1", .proto = IPPROTO_TCP,
				 .tcp_flags = TF_SYN | TF_ACK, .payload = 10 };
	struct pkt_view v;

	if (send_and_view(&syn, "c0", XDP_TX, &v))
		return -1;
	back.dport = v.sport;
	if (send_and_view(&back, "c0", XDP_TX, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.200"), "reply src %s", v.src);
	ASSERT_EQ(v.sport, 80);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "reply dst %s", v.dst);
	ASSERT_EQ(v.dport, 41001);
	return 0;
}

static int snat_port_range_exhaustion_drops_and_counts(void)
{
	struct pkt_spec syn = { CLIENT, .dst = "10.10.0.200", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	__u64 before = reason_count(MAGLB_DROP_SNAT_EXHAUSTED);
	int i, used = 0;
	struct run r;

	/* 10 ports; earlier cases hold some. Open flows until it says no. */
	for (i = 0; i < 12; i++) {
		syn.sport = 42000 + i;
		ASSERT_OK(run_pkt(&syn, "c0", &r));
		if (r.action == XDP_TX)
			used++;
		else
			ASSERT_EQ(r.action, XDP_DROP);
	}
	ASSERT_TRUE(used <= 10, "%d flows got a port from a range of 10", used);
	ASSERT_TRUE(reason_count(MAGLB_DROP_SNAT_EXHAUSTED) - before >= 2,
		    "exhaustion not counted");
	return 0;
}


/* A SourceIP snat service hashes one client to one value: its
 * connections must still find ports beyond the first SNAT_PORT_TRIES. */
static int snat_one_client_opens_more_connections_than_port_tries(void)
{
	struct pkt_spec syn = { CLIENT, .dst = "10.10.0.201", .dport = 80,
				.proto = IPPROTO_TCP, .tcp_flags = TF_SYN };
	struct run r;
	int i;

	for (i = 0; i < 64; i++) {
		syn.sport = 43000 + i;
		ASSERT_OK(run_pkt(&syn, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
	}
	return 0;
}

static int fin_and_rst_are_forwarded_and_tracked(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41002, WEB, .tcp_flags = TF_SYN };
	struct maglb_ct_entry e;
	struct maglb_flow k = {};
	struct maglb_counters c0, c1;
	struct svc_item it;
	struct pkt_view v;

	find_svc("web", &it);
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_FIN | TF_ACK;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", 41002, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_FIN, "FIN not recorded");
	s.tcp_flags = TF_RST;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_RST, "RST not recorded");
	/* The 4-tuple is reused: a bare SYN is a new connection. */
	maps_read_counters(maps.svc_stats, it.svc.id, &c0);
	s.tcp_flags = TF_SYN;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	maps_read_counters(maps.svc_stats, it.svc.id, &c1);
	ASSERT_EQ(c1.new_conns - c0.new_conns, 1);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_EQ(e.flags & (MAGLB_CT_F_RST | MAGLB_CT_F_FIN), 0);
	return 0;
}

/* After the full path has confirmed an entry, the next packets take the
 * fast path (bpf/lib/fastpath.h): the same bytes must come out, counters
 * must still count, and FIN, RST and TTL 1 must still take the full path. */
static int established_fast_path_matches_the_full_path(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41010, WEB, .tcp_flags = TF_SYN };
	struct maglb_counters c0, c1;
	struct maglb_ct_entry e;
	struct maglb_flow k = {};
	struct run full, fast;
	struct pkt_view v;
	char first[64];
	int i;

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(first, sizeof(first), "%s", v.dst);
	/* That SYN looked up the backend's next hop: a new flow to the same
	 * backend starts confirmed (forward.h, backend_nh). */
	for (i = 1; i < 40; i++) {
		s.sport = 41010 + i;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
		if (!strcmp(v.dst, first))
			break;
	}
	ASSERT_TRUE(i < 40, "no second flow reached %s", first);
	client_key("10.10.0.100", s.sport, &k);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.fast_jiffies != 0, "a new flow to a known backend starts unconfirmed");
	/* Unconfirm it: the next packet takes the full path and confirms. */
	e.fast_jiffies = 0;
	ASSERT_OK(maps_put_ct(&maps, &k, &e, BPF_EXIST));
	s.tcp_flags = TF_ACK;
	s.payload = 100;
	ASSERT_OK(run_pkt(&s, "c0", &full));
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.fast_jiffies != 0, "the full path did not confirm the entry");
	maps_read_counters(maps.backend_stats, e.backend_id, &c0);
	ASSERT_OK(run_pkt(&s, "c0", &fast));
	maps_read_counters(maps.backend_stats, e.backend_id, &c1);
	ASSERT_EQ(fast.action, full.action);
	ASSERT_EQ(fast.out_len, full.out_len);
	ASSERT_TRUE(!memcmp(fast.out, full.out, full.out_len),
		    "fast path output differs from the full path's");
	ASSERT_EQ(c1.packets - c0.packets, 1);
	ASSERT_EQ(c1.bytes - c0.bytes, (__u64)full.in_len);
	/* TTL 1: untouched, for the kernel's time exceeded */
	s.ttl = 1;
	ASSERT_OK(run_pkt(&s, "c0", &fast));
	ASSERT_EQ(fast.action, XDP_PASS);
	ASSERT_TRUE(!memcmp(fast.out, fast.in, fast.in_len), "TTL 1 packet changed");
	s.ttl = 0;
	s.tcp_flags = TF_FIN | TF_ACK;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_FIN, "FIN after fast-path packets not recorded");
	return 0;
}

static int counters_count_packets_bytes_and_connections(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41003, WEB, .tcp_flags = TF_SYN };
	struct maglb_counters b0, b1, s0, s1;
	struct svc_item it;
	struct pkt_view v;
	struct run r;
	__u32 id;
	char dst[64];
	unsigned short port;

	find_svc("web", &it);
	maglev_answer("web", &s, dst, &port);
	for (id = 0; id < MAGLB_MAX_BACKENDS; id++) {
		struct maglb_backend be;
		char a[64];

		maps_get_backend(&maps, id, &be);
		inet_ntop(AF_INET, &be.addr, a, sizeof(a));
		if ((be.flags & MAGLB_BE_F_ACTIVE) && be.svc_id == it.svc.id &&
		    !strcmp(a, dst))
			break;
	}
	maps_read_counters(maps.backend_stats, id, &b0);
	maps_read_counters(maps.svc_stats, it.svc.id, &s0);
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_ACK;
	s.payload = 100;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	maps_read_counters(maps.backend_stats, id, &b1);
	maps_read_counters(maps.svc_stats, it.svc.id, &s1);
	ASSERT_EQ(b1.packets - b0.packets, 2);
	ASSERT_EQ(b1.new_conns - b0.new_conns, 1);
	ASSERT_EQ(b1.bytes - b0.bytes, 14 + 40 + 14 + 40 + 100);
	ASSERT_EQ(s1.packets - s0.packets, 2);
	return 0;
}

static const char *without_backend(const char *dst, bool close)
{
	static char buf[4096];
	const char *all[] = { "10.20.1.2", "10.20.1.3", "10.20.1.4" };
	int n, i;

	n = snprintf(buf, sizeof(buf),
		     "services:\n- name: web\n  address: 10.10.0.100\n  port: 80\n"
		     "  closeConnectionsOnRemoval: %s\n  backends:\n",
		     close ? "true" : "false");
	for (i = 0; i < 3; i++)
		if (strcmp(all[i], dst))
			n += snprintf(buf + n, sizeof(buf) - n,
				      "  - {address: %s, port: 3000}\n", all[i]);
	return buf;
}

static int established_flow_keeps_backend_when_it_is_removed(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41004, WEB, .tcp_flags = TF_SYN };
	struct pkt_view v;
	char was[64];
	int i;

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(was, sizeof(was), "%s", v.dst);
	ASSERT_OK(apply_yaml(without_backend(was, false)));
	s.tcp_flags = TF_ACK;
	s.payload = 50;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(!strcmp(v.dst, was), "established flow moved %s -> %s",
		    was, v.dst);
	/* New connections never go to the removed backend. */
	for (i = 0; i < 50; i++) {
		s.sport = 43000 + i;
		s.src = "10.10.0.2";
		s.tcp_flags = TF_SYN;
		s.payload = 0;
		if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
			return -1;
		ASSERT_TRUE(strcmp(v.dst, was), "new flow went to removed %s", was);
	}
	ASSERT_OK(apply_yaml(base_config));
	return 0;
}

static int close_on_removal_moves_established_flows(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41005, WEB, .tcp_flags = TF_SYN };
	struct pkt_view v;
	char was[64];

	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	snprintf(was, sizeof(was), "%s", v.dst);
	ASSERT_OK(apply_yaml(without_backend(was, true)));
	s.tcp_flags = TF_ACK;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	ASSERT_TRUE(strcmp(v.dst, was), "flow still on removed backend %s", was);
	ASSERT_OK(apply_yaml(base_config));
	return 0;
}

static bool ct_has(const struct maglb_flow *k);

/* ---- delayed binding (Cookie service "ck") ------------------------------ */

#define CK	.family = 4, .src = "10.10.0.2", .dst = "10.10.0.110", .dport = 80, \
		.proto = IPPROTO_TCP
#define REQ(c)	"GET /cookie HTTP/1.1\r\nHost: www.example.com\r\nCookie: FooBar=" c "\r\n\r\n"

struct hs {
	const char *vip;		/* NULL: the "ck" service */
	unsigned short sport;
	unsigned int isn, cookie, tsval_ours;
	unsigned char ts_opts[12];	/* NOP NOP TS(tsval 800, our TSval) */
	char backend[64];
	unsigned int isn_b;
};

static const __u8 *view_opt(const struct pkt_view *v, int kind)
{
	int i = 0;

	while (i < v->optlen) {
		if (v->opts[i] == 0)
			break;
		if (v->opts[i] == 1) {
			i++;
			continue;
		}
		if (v->opts[i] == kind)
			return v->opts + i;
		i += v->opts[i + 1] ? v->opts[i + 1] : 1;
	}
	return NULL;
}

static unsigned int get32(const __u8 *p)
{
	return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/* 32 bits at offset off of option kind; a missing option reads as a value
 * no test wants. */
static unsigned int opt32(const struct pkt_view *v, int kind, int off)
{
	const __u8 *o = view_opt(v, kind);

	return o ? get32(o + off) : 0xdeadbeef;
}

static void put32(__u8 *p, unsigned int v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Client SYN: our SYN-ACK gives the cookie and our TSval. */
static int hs_syn(struct hs *h)
{
	struct pkt_spec s = { CK, .sport = h->sport, .tcp_flags = TF_SYN,
			      .seq = h->isn, .opts = syn_opts, .optlen = 20 };
	struct pkt_view v;
	const __u8 *ts;
	struct run r;

	if (h->vip)
		s.dst = h->vip;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ts = view_opt(&v, 8);
	ASSERT_TRUE(ts, "no timestamps in SYN-ACK");
	h->cookie = v.seq;
	h->tsval_ours = get32(ts + 2);
	h->ts_opts[0] = h->ts_opts[1] = 1;
	h->ts_opts[2] = 8;
	h->ts_opts[3] = 10;
	put32(h->ts_opts + 4, 800);
	put32(h->ts_opts + 8, h->tsval_ours);
	return 0;
}

static struct pkt_spec hs_data(const struct hs *h, const char *req)
{
	struct pkt_spec s = { CK, .sport = h->sport,
			      .tcp_flags = TF_ACK | TF_PSH, .seq = h->isn + 1,
			      .ack = h->cookie + 1, .opts = h->ts_opts,
			      .optlen = 12, .data = req, .window = 502 };

	if (h->vip)
		s.dst = h->vip;
	return s;
}

/* Client SYN and first data: the backend SYN comes out (the view points
 * into *r, which the caller owns). */
static int hs_open(struct hs *h, const char *req, struct run *r,
		   struct pkt_view *syn)
{
	struct pkt_spec s;

	if (hs_syn(h))
		return -1;
	s = hs_data(h, req);
	ASSERT_OK(run_pkt(&s, "c0", r));
	ASSERT_EQ(r->action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r->out, r->out_len, syn));
	ASSERT_TRUE(syn->csum_ok, "backend SYN checksums");
	snprintf(h->backend, sizeof(h->backend), "%s", syn->src[0] ? syn->dst : "");
	return 0;
}

/* The backend's SYN-ACK to our SYN. */
static struct pkt_spec hs_synack(const struct hs *h, const __u8 *opts)
{
	struct pkt_spec s = { .family = 4, .src = h->backend, .sport = 3000,
			      .dst = "10.10.0.2", .dport = h->sport,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK,
			      .seq = h->isn_b, .ack = h->isn + 1, .opts = opts,
			      .optlen = 20 };
	return s;
}

/* The backend's SYN-ACK options: MSS 1460, SACK ok, TS 5000/800, WS 9. */
static unsigned char backend_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
	0, 0, 0x13, 0x88, 0, 0, 0x03, 0x20, 1, 3, 3, 9 };

/* After hs_open: the backend's SYN-ACK (left in *s) becomes, in TC, the
 * ACK with the stashed request. The connection is spliced. */
static int hs_splice(struct hs *h, struct pkt_spec *s, struct run *r)
{
	*s = hs_synack(h, backend_opts);
	ASSERT_OK(run_tc(s, "b0", r));
	ASSERT_EQ(r->action, 7);		/* TC_ACT_REDIRECT */
	return 0;
}

/* A closed plain entry on what is now a Cookie VIP (the service changed,
 * the client reuses its port): the new SYN gets a syncookie and takes the
 * old entries with it, or the handshake ACK would follow them. */
static int syn_on_a_closed_plain_entry_forgets_it(void)
{
	struct pkt_spec s = { CK, .sport = 45090, .tcp_flags = TF_SYN,
			      .seq = 7000, .opts = syn_opts, .optlen = 20 };
	struct maglb_ct_entry e = { .flags = MAGLB_CT_F_FIN };
	struct maglb_flow k;
	struct run r;

	client_key("10.10.0.110", 45090, &k);
	ASSERT_OK(maps_put_ct(&maps, &k, &e, BPF_ANY));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_TRUE(!ct_has(&k), "the closed entry stayed");
	return 0;
}

static int syn_for_cookie_service_gets_a_stateless_syncookie_synack(void)
{
	struct pkt_spec s = { CK, .sport = 45000, .tcp_flags = TF_SYN,
			      .seq = 123456, .opts = syn_opts, .optlen = 20 };
	struct maglb_flow k;
	struct pkt_view v;
	struct run r;

	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110") && !strcmp(v.dst, "10.10.0.2"),
		    "addresses %s -> %s", v.src, v.dst);
	ASSERT_EQ(v.sport, 80);
	ASSERT_EQ(v.dport, 45000);
	ASSERT_EQ(v.flags, TF_SYN | TF_ACK);
	ASSERT_EQ(v.ack, 123457);
	ASSERT_TRUE(view_opt(&v, 2) && view_opt(&v, 4) && view_opt(&v, 3),
		    "MSS, SACK-permitted and window scale expected");
	ASSERT_EQ(opt32(&v, 8, 6), 0x0309);	/* TSecr = our TSval */
	ASSERT_TRUE(!memcmp(v.dmac, mac_b, 6), "not sent back to the sender");
	client_key("10.10.0.110", 45000, &k);
	ASSERT_TRUE(!ct_has(&k), "a SYN created state");
	return 0;
}

static int handshake_ack_is_absorbed_and_forged_ones_dropped(void)
{
	struct hs h = { .sport = 45001, .isn = 7000 };
	struct pkt_spec s;
	__u64 b0 = reason_count(MAGLB_DROP_HANDSHAKE_ACK);
	__u64 b1 = reason_count(MAGLB_DROP_BAD_COOKIE);
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, NULL);
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_HANDSHAKE_ACK) - b0, 1);
	s.ack ^= 0x1000;		/* a guessed cookie */
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_BAD_COOKIE) - b1, 1);
	return 0;
}

static int first_data_with_bad_checksum_is_dropped(void)
{
	struct hs h = { .sport = 45002, .isn = 8000 };
	__u64 b = reason_count(MAGLB_DROP_BAD_CSUM);
	struct pkt_spec s;
	struct run r;

	if (hs_syn(&h))
		return -1;
	s = hs_data(&h, REQ("1.2.3.4"));
	s.bad_csum = true;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_BAD_CSUM) - b, 1);
	return 0;
}

static int first_data_opens_the_cookies_backend_with_the_client_isn(void)
{
	struct hs h = { .sport = 45003, .isn = 9000 };
	struct svc_item it = {};
	struct maglb_backend be;
	struct pkt_view v;
	struct run r;
	__u32 *slots, size;
	__u64 hash;
	char want[64];

	if (hs_open(&h, REQ("1.2.3.4"), &r, &v))
		return -1;
	find_svc("ck", &it);
	ASSERT_OK(kv_key_hash(&it.svc, "FooBar=1.2.3.4", &hash));
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(v.dst, want), "SYN to %s, cookie hashes to %s",
		    v.dst, want);
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, 9000);		/* the client's own ISN */
	ASSERT_EQ(v.dport, 3000);
	ASSERT_EQ(v.datalen, 0);
	ASSERT_EQ(opt32(&v, 8, 2), 800);		/* client's TSval */
	ASSERT_TRUE(view_opt(&v, 3) && view_opt(&v, 3)[2] == 7,
		    "client's wscale not passed on");
	ASSERT_TRUE(view_opt(&v, 4), "SACK-permitted lost");
	return 0;
}

static int backend_synack_is_turned_into_the_stashed_request_by_tc(void)
{
	const char *req = REQ("5.6.7.8");
	struct hs h = { .sport = 45004, .isn = 10000, .isn_b = 50000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_pkt(&s, "b0", &r));	/* XDP hands it to TC */
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);			/* TC_ACT_REDIRECT */
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums of the grown segment");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.2") && !strcmp(v.dst, h.backend),
		    "%s -> %s", v.src, v.dst);
	ASSERT_EQ(v.flags, TF_ACK | TF_PSH);
	ASSERT_EQ(v.seq, 10001);
	ASSERT_EQ(v.ack, 50001);
	ASSERT_EQ(v.datalen, (int)strlen(req));
	ASSERT_TRUE(!memcmp(v.data, req, strlen(req)), "payload differs");
	ASSERT_EQ(opt32(&v, 8, 6), 5000);	/* TSecr: backend's */
	return 0;
}

/* XDP marks what it passes up for TC with 8 bytes of metadata
 * (bpf/lib/handoff.h). Where the driver keeps metadata, TC leaves unmarked
 * packets alone (the node's own TCP traffic costs it no lookup). Where it
 * does not, TC looks at everything, as the harness runs it. */
static int tc_acts_only_on_packets_xdp_marked(void)
{
	struct hs h = { .sport = 45012, .isn = 12000, .isn_b = 52000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct maglb_meta m;
	struct run r;
	int err;

	if (hs_open(&h, REQ("9.9.9.9"), &r, &v))
		return -1;
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	/* test_run returns the frame from data_meta on */
	ASSERT_EQ(r.out_len, r.in_len + (int)sizeof(m));
	memcpy(&m, r.out, sizeof(m));
	ASSERT_EQ(m.mark, MAGLB_HANDOFF_MARK);
	ASSERT_TRUE(!memcmp(r.out + sizeof(m), r.in, r.in_len),
		    "the frame passed to TC was changed");
	/* test_run gives TC no metadata: this SYN-ACK arrives unmarked. */
	ASSERT_OK(set_handoff_no_meta(0));
	err = run_tc(&s, "b0", &r);
	set_handoff_no_meta(1);
	ASSERT_OK(err);
	ASSERT_EQ(r.action, 0);			/* TC_ACT_OK */
	ASSERT_TRUE(r.out_len == r.in_len && !memcmp(r.out, r.in, r.in_len),
		    "TC changed an unmarked packet");
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);			/* TC_ACT_REDIRECT */
	return 0;
}

/*
 * How a rewritten packet leaves follows what its egress device takes
 * (bpf/lib/egress.h): an XDP frame only where maglb_egress allows the
 * verdict (and the devmap has the device), else the kernel path: XDP_PASS
 * with the MACs as they came, marked for TC with the egress device, or
 * unmarked where the driver keeps no metadata. Each case is a fresh flow
 * from c0, its egress device set up first.
 */
struct egress_case {
	const char *name;
	struct pkt_spec in;
	const char *out_dev;		/* the device it must leave by */
	__u32 flags;			/* that device's maglb_egress flags */
	bool no_devmap;			/* ... but missing from the devmap */
	bool no_meta;			/* the driver keeps no metadata */
	int action;
	enum maglb_path path;
	enum maglb_reason reason;
};

#define EG_ALL	(MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX)
#define ONE_ARM	.dst = "10.10.0.200", .dport = 80, .proto = IPPROTO_TCP

static const struct egress_case egress_cases[] = {
	{ "egress_redirects_where_the_peer_takes_frames",
	  { CLIENT, .sport = 46001, WEB, .tcp_flags = TF_SYN }, "b0", EG_ALL,
	  false, false, XDP_REDIRECT, MAGLB_PATH_REDIRECT, MAGLB_REDIRECT },
	{ "egress_to_a_bare_peer_is_handed_to_tc",
	  { CLIENT, .sport = 46002, WEB, .tcp_flags = TF_SYN }, "b0", 0,
	  false, false, XDP_PASS, MAGLB_PATH_TC, MAGLB_PASS_KERNEL_TC },
	{ "egress_tx_only_device_is_no_redirect_target",
	  { CLIENT, .sport = 46003, WEB, .tcp_flags = TF_SYN }, "b0",
	  MAGLB_EG_F_TX, false, false, XDP_PASS, MAGLB_PATH_TC,
	  MAGLB_PASS_KERNEL_TC },
	{ "egress_demoted_device_is_handed_to_tc",
	  { CLIENT, .sport = 46004, WEB, .tcp_flags = TF_SYN }, "b0",
	  MAGLB_EG_F_DEMOTED, false, false, XDP_PASS, MAGLB_PATH_TC,
	  MAGLB_PASS_KERNEL_TC },
	{ "egress_device_missing_from_the_devmap_is_handed_to_tc",
	  { CLIENT, .sport = 46005, WEB, .tcp_flags = TF_SYN }, "b0", EG_ALL,
	  true, false, XDP_PASS, MAGLB_PATH_TC, MAGLB_PASS_KERNEL_TC },
	{ "egress_without_metadata_leaves_it_to_the_stack",
	  { CLIENT, .sport = 46006, WEB, .tcp_flags = TF_SYN }, "b0", 0,
	  false, true, XDP_PASS, MAGLB_PATH_STACK, MAGLB_PASS_KERNEL_STACK },
	{ "egress_one_arm_tx_where_the_peer_takes_frames",
	  { CLIENT, .sport = 46007, ONE_ARM, .tcp_flags = TF_SYN }, "c0", EG_ALL,
	  false, false, XDP_TX, MAGLB_PATH_TX, MAGLB_TX },
	{ "egress_one_arm_to_a_peer_taking_only_redirects_is_handed_to_tc",
	  { CLIENT, .sport = 46008, ONE_ARM, .tcp_flags = TF_SYN }, "c0",
	  MAGLB_EG_F_REDIRECT, false, false, XDP_PASS, MAGLB_PATH_TC,
	  MAGLB_PASS_KERNEL_TC },
	{ "egress_syncookie_to_a_bare_peer_is_handed_to_tc",
	  { CK, .sport = 46009, .tcp_flags = TF_SYN, .seq = 5, .opts = syn_opts,
	    .optlen = 20 }, "c0", 0, false, false, XDP_PASS, MAGLB_PATH_TC,
	  MAGLB_SYNCOOKIE_SENT },
	{ "egress_syncookie_to_a_bare_peer_without_metadata_is_not_sent_as_a_frame",
	  { CK, .sport = 46010, .tcp_flags = TF_SYN, .seq = 5, .opts = syn_opts,
	    .optlen = 20 }, "c0", 0, false, true, XDP_PASS, MAGLB_PATH_STACK,
	  MAGLB_SYNCOOKIE_SENT },
};

static __u64 egress_count(const char *dev, enum maglb_path path)
{
	struct maglb_reason_counters c;

	if (maps_read_egress_stats(&maps, if_nametoindex(dev), path, &c))
		return 0;
	return c.packets;
}

static int check_egress_case(const struct egress_case *c)
{
	__u32 ifindex = if_nametoindex(c->out_dev);
	__u64 before = egress_count(c->out_dev, c->path);
	__u64 reason_before = reason_count(c->reason);
	int meta = 0, err;
	struct maglb_meta m;
	struct pkt_view v;
	struct run r;

	ASSERT_OK(forget_backend_nh());
	ASSERT_OK(set_egress(c->out_dev, c->flags));
	if (c->no_devmap)
		maps_del_tx_port(&maps, ifindex);
	ASSERT_OK(set_handoff_no_meta(c->no_meta));
	err = run_pkt(&c->in, "c0", &r);
	set_handoff_no_meta(1);
	set_egress(c->out_dev, EG_ALL);
	ASSERT_OK(err);
	ASSERT_EQ(r.action, c->action);
	ASSERT_EQ(egress_count(c->out_dev, c->path) - before, 1);
	ASSERT_EQ(reason_count(c->reason) - reason_before, 1);
	if (c->path == MAGLB_PATH_TC) {
		meta = sizeof(m);
		memcpy(&m, r.out, sizeof(m));
		ASSERT_EQ(m.mark, MAGLB_HANDOFF_FWD);
		ASSERT_EQ(m.ifindex, ifindex);
	}
	ASSERT_EQ(r.out_len, r.in_len + meta);
	ASSERT_OK(pkt_view(r.out + meta, r.out_len - meta, &v));
	ASSERT_TRUE(v.csum_ok, "checksums do not verify");
	if (c->action == XDP_PASS) {
		/* The MACs as they came: the kernel sees its own packet. */
		ASSERT_TRUE(!memcmp(v.dmac, mac_a, 6) && !memcmp(v.smac, mac_b, 6),
			    "MACs changed on the kernel path");
		ASSERT_TRUE(strcmp(v.dst, "10.10.0.100") && strcmp(v.dst, "10.10.0.200"),
			    "not rewritten: dst %s", v.dst);
	} else {
		ASSERT_TRUE(memcmp(v.dmac, mac_a, 6), "next hop's MAC not written");
	}
	return 0;
}

static int spliced_segments_are_translated_both_ways(void)
{
	struct hs h = { .sport = 45005, .isn = 20000, .isn_b = 900000 };
	/* backend data: seq isn_b+1, TS 5100/800, SACK-less */
	unsigned char bts[12] = { 1, 1, 8, 10, 0, 0, 0x13, 0xec, 0, 0, 0x03, 0x20 };
	/* client ACK with SACK of backend data: NOP NOP TS, NOP NOP SACK 1 */
	unsigned char cts[24] = { 1, 1, 8, 10, 0, 0, 0x03, 0x84, 0, 0, 0, 0,
				  1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	unsigned int delta, ts_delta;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("x"), &r, &v))
		return -1;
	if (hs_splice(&h, &s, &r))
		return -1;
	delta = h.isn_b - h.cookie;
	ts_delta = h.tsval_ours - 5000;

	/* backend -> client: seq and TSval move into the client's space */
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK | TF_PSH, .seq = h.isn_b + 1,
		.ack = h.isn + 1 + 60, .opts = bts, .optlen = 12,
		.data = "HTTP/1.1 200 OK\r\n\r\n", .window = 100 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums backend->client");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110"), "src %s", v.src);
	ASSERT_EQ(v.seq, h.cookie + 1);
	ASSERT_EQ(opt32(&v, 8, 2), 5100 + ts_delta);
	ASSERT_EQ(v.window, 100 << 2);	/* backend wscale 9, ours 7 */

	/* client -> backend: ack, SACK edges and TSecr move back */
	put32(cts + 4, 801);
	put32(cts + 8, 5100 + ts_delta);
	put32(cts + 16, h.cookie + 1 + 100);
	put32(cts + 20, h.cookie + 1 + 200);
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_ACK,
		.seq = h.isn + 1 + 60, .ack = h.cookie + 1 + 19,
		.opts = cts, .optlen = 24 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums client->backend");
	ASSERT_EQ(v.ack, h.isn_b + 1 + 19);
	ASSERT_EQ(v.seq, h.isn + 1 + 60);		/* never translated */
	ASSERT_EQ(opt32(&v, 8, 6), 5100);
	ASSERT_EQ(opt32(&v, 5, 2), h.cookie + 1 + 100 + delta);
	ASSERT_EQ(opt32(&v, 5, 6), h.cookie + 1 + 200 + delta);
	return 0;
}

static int retransmitted_first_data_resends_the_backend_syn(void)
{
	struct hs h = { .sport = 45006, .isn = 30000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("again"), &r, &v))
		return -1;
	s = hs_data(&h, REQ("again"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, 30000);
	ASSERT_TRUE(opt32(&v, 8, 2) == 800, "resent SYN lacks TS: %02x %02x %02x %02x",
		    v.opts[0], v.opts[1], v.opts[2], v.opts[3]);
	/* A pure ACK meanwhile is held back, not forwarded. */
	s.data = NULL;
	s.tcp_flags = TF_ACK;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	return 0;
}

static int backend_reset_during_setup_reaches_the_client(void)
{
	struct hs h = { .sport = 45007, .isn = 40000 };
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("rst"), &r, &v))
		return -1;
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_RST | TF_ACK, .ack = h.isn + 1 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.src, "10.10.0.110") && !strcmp(v.dst, "10.10.0.2"),
		    "%s -> %s", v.src, v.dst);
	ASSERT_EQ(v.flags & TF_RST, TF_RST);
	ASSERT_EQ(v.seq, h.cookie + 1);
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_TRUE(!ct_has(&k), "state left behind");
	return 0;
}

static int repeated_backend_synack_gets_the_request_again_until_acked(void)
{
	const char *req = REQ("twice");
	struct hs h = { .sport = 45009, .isn = 60000, .isn_b = 70000 };
	struct maglb_ct_entry e;
	struct maglb_flow k;
	struct maglb_splice sp;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	if (hs_splice(&h, &s, &r))
		return -1;
	/* Our data ACK was lost: the backend repeats its SYN-ACK. */
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.datalen, (int)strlen(req));
	ASSERT_EQ(v.seq, 60001);
	/* The backend acknowledges the request: the stash goes. */
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_OK(bpf_map_lookup_elem(maps.splice, &k, &sp));
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h.isn_b + 1,
		.ack = h.isn + 1 + strlen(req) };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_TRUE(bpf_map_lookup_elem(maps.splice, &k, &sp), "stash kept");
	/* A spliced entry never takes the fast path: the full path leaves
	 * it unconfirmed (no store on the shared entry per packet). */
	memset(&k, 0, sizeof(k));
	k.family = MAGLB_AF_INET;
	k.proto = IPPROTO_TCP;
	inet_pton(AF_INET, h.backend, &k.saddr);
	inet_pton(AF_INET, "10.10.0.2", &k.daddr);
	k.sport = htons(3000);
	k.dport = htons(h.sport);
	ASSERT_OK(maps_get_ct(&maps, &k, &e));
	ASSERT_TRUE(e.flags & MAGLB_CT_F_SPLICE, "not the spliced reply entry");
	ASSERT_EQ(e.fast_jiffies, 0);
	return 0;
}

/* The backend answers our SYN with a bare ACK: a TIME_WAIT socket of an
 * earlier connection on the 4-tuple rejected it. XDP passes it up; TC
 * resets that socket (a clone) and sends our SYN again (the packet). */
static int backend_time_wait_ack_gets_a_reset_and_a_new_syn(void)
{
	struct hs h = { .sport = 45020, .isn = 123000 };
	__u64 b = reason_count(MAGLB_SPLICE_TW_RESET);
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("tw"), &r, &v))
		return -1;
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = 777, .ack = 4242 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);			/* TC_ACT_REDIRECT */
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "to %s", v.dst);
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(v.seq, h.isn);		/* the client's ISN again */
	ASSERT_EQ(reason_count(MAGLB_SPLICE_TW_RESET) - b, 1);
	return 0;
}

static int head_without_the_cookie_falls_back_to_source_ip(void)
{
	struct hs h = { .sport = 45010, .isn = 80000 };
	__u64 b = reason_count(MAGLB_KEY_FALLBACK);
	struct svc_item it = {};
	struct maglb_backend be;
	struct maglb_flow f = {};
	struct pkt_view v;
	__u32 *slots, size;
	struct run r;
	char want[64];

	/* A complete head without the cookie: decided by the fallback. */
	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n\r\n",
		    &r, &v))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - b, 1);
	find_svc("ck", &it);
	inet_pton(AF_INET, "10.10.0.2", &f.saddr);
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(maglb_flow_hash(&f,
			 MAGLB_HASH_SOURCE_IP), size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(v.dst, want), "fallback went to %s, SourceIP says %s",
		    v.dst, want);
	return 0;
}

/* ---- request heads over several segments (bpf/lib/stash.h) ------------- */

/*
 * A browser-like head of exactly len bytes: the request line, Host, padding
 * headers, and last the Cookie header with other cookies before FooBar
 * (value val). len 0: no Cookie header and no end (head_too_long).
 */
static int big_head(char *buf, int len, const char *val, bool end)
{
	const char *tail_fmt = "Cookie: _ga=GA1.2.3; sid=abc; FooBar=%s\r\n\r\n";
	char tail[128];
	int n, i = 0;

	n = snprintf(buf, len + 1, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n");
	snprintf(tail, sizeof(tail), tail_fmt, val);
	if (!end)
		tail[0] = 0;
	while (n + (int)strlen(tail) < len) {
		int room = len - n - (int)strlen(tail), w;

		/* "X-Pad-NN: " + value + CRLF, at least 14 bytes a line */
		w = room > 200 ? 200 : room;
		if (room - w > 0 && room - w < 14)
			w = room - 14;
		if (w < 14)
			w = room;
		n += snprintf(buf + n, len + 1 - n, "X-Pad-%02d: %.*s\r\n", i++ % 100,
			      w - 12, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	}
	memcpy(buf + n, tail, strlen(tail) + 1);
	return (int)strlen(buf) == len ? 0 : -1;
}

/* The client's segment with bytes [from, to) of req. */
static struct pkt_spec hs_slice(const struct hs *h, const char *req, int from,
				int to, char *buf)
{
	struct pkt_spec s;

	memcpy(buf, req + from, to - from);
	buf[to - from] = 0;
	s = hs_data(h, buf);
	s.seq = h->isn + 1 + from;
	return s;
}

struct head_step {
	int from, to;			/* bytes of the head it carries */
	int action;			/* XDP's verdict */
	enum maglb_reason why;		/* the counter it moves */
	int acked;			/* XDP_TX: the bytes our ACK covers */
};

struct head_case {
	const char *name;
	unsigned short sport;
	int len;			/* head bytes */
	bool no_end;			/* no cookie, no blank line */
	struct head_step step[8];	/* in sending order; to == 0 ends */
	int tc_held;			/* steps after the SYN: held by TC */
	unsigned short backend_mss;
	int chunks;			/* segments the backend gets */
};

#define HS_ACK(f, t, a)	{ f, t, XDP_TX, MAGLB_SPLICE_HEAD_ACK, a }
#define HS_DUP(f, t, a)	{ f, t, XDP_TX, MAGLB_SPLICE_HEAD_DUP, a }
#define HS_SYN(f, t)	{ f, t, XDP_REDIRECT, MAGLB_SPLICE_SYN, 0 }

static const struct head_case head_cases[] = {
	{ "chrome_764_bytes_in_one_segment", 45300, 764,
	  .step = { HS_SYN(0, 764) }, .backend_mss = 1460, .chunks = 1 },
	{ "two_segments", 45301, 1400,
	  .step = { HS_ACK(0, 720, 720), HS_SYN(720, 1400) },
	  .backend_mss = 1460, .chunks = 1 },
	{ "three_segments_backend_mss_1000", 45302, 3000,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_SYN(2896, 3000) },
	  .backend_mss = 1000, .chunks = 4 },
	{ "out_of_order_is_acked_again_then_resent", 45303, 3000,
	  .step = { HS_ACK(0, 1448, 1448), HS_DUP(2896, 3000, 1448),
		    HS_ACK(1448, 2896, 2896), HS_SYN(2896, 3000) },
	  .backend_mss = 1460, .chunks = 3 },
	{ "retransmit_is_acked_again", 45304, 2000,
	  .step = { HS_ACK(0, 1000, 1000), HS_DUP(0, 1000, 1000),
		    HS_SYN(1000, 2000) },
	  .backend_mss = 1460, .chunks = 2 },
	{ "retransmit_overlapping_new_bytes", 45305, 2000,
	  .step = { HS_ACK(0, 1000, 1000), HS_SYN(500, 2000) },
	  .backend_mss = 1460, .chunks = 2 },
	{ "four_kib", 45306, 4096,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_SYN(2896, 4096) },
	  .backend_mss = 1460, .chunks = 3 },
	/* the last ACK before the limit: 96 bytes of room, a window of 1 */
	{ "head_ending_in_the_last_window_unit", 45308, 8150,
	  .step = { HS_ACK(0, 1448, 1448), HS_ACK(1448, 2896, 2896),
		    HS_ACK(2896, 4344, 4344), HS_ACK(4344, 5792, 5792),
		    HS_ACK(5792, 7240, 7240), HS_ACK(7240, 8096, 8096),
		    HS_SYN(8096, 8150) },
	  .backend_mss = 1460, .chunks = 6 },
	{ "body_after_the_head_is_held_while_the_backend_opens", 45307, 1200,
	  .step = { HS_SYN(0, 700), { 700, 1200, XDP_PASS, MAGLB_PASS_TO_TC, 0 } },
	  .tc_held = 1, .backend_mss = 1460, .chunks = 1 },
};

/* The head must open the backend FooBar=val names, and reach it whole. */
static int check_head_case(const struct head_case *c, int idx)
{
	char req[MAGLB_HEAD_MAX + 1], val[32], seg[2048], want[64];
	struct hs h = { .sport = c->sport, .isn = 300000 + 10000 * idx,
			.isn_b = 900000 };
	__u64 fb = reason_count(MAGLB_KEY_FALLBACK), before;
	struct svc_item it = {};
	struct maglb_backend be;
	struct maglb_flow k;
	struct maglb_splice sp;
	struct pkt_spec s;
	struct pkt_view v;
	__u32 *slots, size;
	struct run r;
	__u64 hash;
	int i, got, held_end = 0, syn_to = 0;
	char kv[64];

	snprintf(val, sizeof(val), "10.0.%d.%d", idx, c->sport % 250);
	/* The body case: the head is the first 700 bytes. */
	ASSERT_TRUE(!big_head(req, c->tc_held ? c->step[0].to : c->len, val,
			      !c->no_end), "cannot build a %d-byte head", c->len);
	for (i = (int)strlen(req); i < c->len; i++)
		req[i] = 'b';
	req[c->len] = 0;
	if (hs_syn(&h))
		return -1;
	client_key("10.10.0.110", h.sport, &k);
	for (i = 0; i < 8 && c->step[i].to; i++) {
		const struct head_step *st = &c->step[i];

		before = reason_count(st->why);
		s = hs_slice(&h, req, st->from, st->to, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_TRUE(r.action == st->action, "step %d: action %d, expected %d",
			    i, r.action, st->action);
		ASSERT_TRUE(reason_count(st->why) - before == 1,
			    "step %d: %s not counted", i, reason_name(st->why));
		if (st->action == XDP_TX) {
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_TRUE(v.csum_ok, "step %d: ACK checksums", i);
			ASSERT_EQ(v.flags, TF_ACK);
			ASSERT_EQ(v.datalen, 0);
			ASSERT_EQ(v.seq, h.cookie + 1);
			ASSERT_EQ(v.ack, h.isn + 1 + st->acked);
			/* the window ends where the stash does (scaled by 7,
			 * rounded up: never zero before the limit) */
			ASSERT_EQ(v.window, (MAGLB_HEAD_MAX - st->acked + 127) >> 7);
			ASSERT_EQ(opt32(&v, 8, 2), h.tsval_ours);
			ASSERT_TRUE(!ct_has(&k), "step %d: state before the head's end", i);
		} else if (st->action == XDP_REDIRECT) {
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_EQ(v.flags, TF_SYN);
			ASSERT_EQ(v.seq, h.isn);
			snprintf(h.backend, sizeof(h.backend), "%s", v.dst);
			syn_to = st->to;
		} else {
			/* XDP passes more of the stream to TC, which holds it */
			ASSERT_OK(run_tc(&s, "c0", &r));
			ASSERT_EQ(r.action, 2);		/* TC_ACT_SHOT: kept */
			held_end = st->to;
		}
	}
	ASSERT_TRUE(syn_to, "no backend SYN");
	snprintf(kv, sizeof(kv), "FooBar=%s", val);
	find_svc("ck", &it);
	ASSERT_OK(kv_key_hash(&it.svc, kv, &hash));
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, want, sizeof(want));
	ASSERT_TRUE(!strcmp(h.backend, want), "SYN to %s, the cookie hashes to %s",
		    h.backend, want);
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - fb, 0);

	/* The backend's SYN-ACK, then its ACKs: one segment each (TC). */
	{
		unsigned char opts[20];
		int total = held_end > syn_to ? held_end : syn_to, at = 0, n = 0;

		memcpy(opts, backend_opts, sizeof(opts));
		opts[2] = c->backend_mss >> 8;
		opts[3] = c->backend_mss & 0xff;
		s = hs_synack(&h, opts);
		while (at < total) {
			ASSERT_OK(run_pkt(&s, "b0", &r));
			ASSERT_TRUE(r.action == XDP_PASS, "segment %d: XDP %d", n, r.action);
			ASSERT_OK(run_tc(&s, "b0", &r));
			ASSERT_EQ(r.action, 7);		/* TC_ACT_REDIRECT */
			ASSERT_OK(pkt_view(r.out, r.out_len, &v));
			ASSERT_TRUE(v.csum_ok, "segment %d checksums", n);
			ASSERT_TRUE(!strcmp(v.dst, h.backend), "segment %d to %s", n, v.dst);
			ASSERT_EQ(v.seq, h.isn + 1 + at);
			ASSERT_EQ(v.ack, h.isn_b + 1);
			ASSERT_TRUE(v.datalen > 0 && v.datalen + 12 <= c->backend_mss,
				    "segment %d: %d bytes for MSS %d", n, v.datalen,
				    c->backend_mss);
			ASSERT_TRUE(!memcmp(v.data, req + at, v.datalen),
				    "segment %d: bytes differ", n);
			at += v.datalen;
			n++;
			/* the backend acknowledges it */
			s = (struct pkt_spec){ .family = 4, .src = h.backend,
				.sport = 3000, .dst = "10.10.0.2", .dport = h.sport,
				.proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
				.seq = h.isn_b + 1, .ack = h.isn + 1 + at,
				.opts = backend_opts + 8, .optlen = 0 };
		}
		ASSERT_EQ(at, total);
		ASSERT_EQ(n, c->chunks);
		/* The ACK of everything goes on to the client; the stash goes. */
		ASSERT_OK(run_pkt(&s, "b0", &r));
		ASSERT_EQ(r.action, XDP_REDIRECT);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "final ACK to %s", v.dst);
		ASSERT_EQ(v.ack, h.isn + 1 + total);
		got = bpf_map_lookup_elem(maps.splice, &k, &sp);
		ASSERT_TRUE(got, "the stash outlived the backend's ACK");
	}
	return 0;
}

static int heads_over_segments_reach_the_cookies_backend_whole(void)
{
	unsigned int i;
	int bad = 0;

	for (i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++)
		if (check_head_case(&head_cases[i], i)) {
			fprintf(stderr, "  case %s: %s\n", head_cases[i].name, test_msg);
			bad++;
		}
	ASSERT_EQ(bad, 0);
	return 0;
}

/* The state of a handshake is lost (the LRU evicted it): the client's
 * next segment gets an RST at once, not silence until it gives up. */
static int head_segment_whose_stash_was_lost_gets_a_reset(void)
{
	char req[4096], seg[2048];
	struct hs h = { .sport = 45322, .isn = 720000 };
	__u64 b = reason_count(MAGLB_SPLICE_RST);
	struct maglb_flow k;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;
	int step;

	ASSERT_OK(big_head(req, 2800, "lost", true));
	for (step = 0; step < 2; step++) {
		/* 0: collecting, no connection yet; 1: the backend opening */
		h.sport = 45322 + step;
		if (hs_syn(&h))
			return -1;
		s = hs_slice(&h, req, 0, 1448, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
		if (step) {
			s = hs_slice(&h, req, 1448, 2800, seg);
			ASSERT_OK(run_pkt(&s, "c0", &r));
			ASSERT_EQ(r.action, XDP_REDIRECT);
		}
		client_key("10.10.0.110", h.sport, &k);
		ASSERT_OK(bpf_map_delete_elem(maps.splice, &k));
		s = hs_slice(&h, req, 1448, 2800, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, XDP_TX);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(v.csum_ok, "checksums");
		ASSERT_EQ(v.flags & TF_RST, TF_RST);
		ASSERT_EQ(v.seq, h.cookie + 1);
		ASSERT_TRUE(!ct_has(&k), "state left behind");
	}
	ASSERT_EQ(reason_count(MAGLB_SPLICE_RST) - b, 2);
	return 0;
}

/* No blank line in MAGLB_HEAD_MAX bytes: decided by what it held, by the
 * fallback here (no cookie in it), and counted. */
static int head_longer_than_the_limit_falls_back_counted(void)
{
	static char req[MAGLB_HEAD_MAX + 1];
	struct hs h = { .sport = 45320, .isn = 700000 };
	__u64 fb = reason_count(MAGLB_KEY_FALLBACK);
	__u64 tl = reason_count(MAGLB_HEAD_TOO_LONG);
	char seg[2048];
	struct pkt_spec s;
	struct run r;
	int at, to;

	ASSERT_OK(big_head(req, MAGLB_HEAD_MAX, "x", false));
	if (hs_syn(&h))
		return -1;
	for (at = 0; at < MAGLB_HEAD_MAX; at = to) {
		to = at + 1448 < MAGLB_HEAD_MAX ? at + 1448 : MAGLB_HEAD_MAX;
		s = hs_slice(&h, req, at, to, seg);
		ASSERT_OK(run_pkt(&s, "c0", &r));
		ASSERT_EQ(r.action, to < MAGLB_HEAD_MAX ? XDP_TX : XDP_REDIRECT);
	}
	ASSERT_EQ(reason_count(MAGLB_HEAD_TOO_LONG) - tl, 1);
	ASSERT_EQ(reason_count(MAGLB_KEY_FALLBACK) - fb, 1);
	return 0;
}

/* A segment to the backend was lost: it sends nothing more, and the
 * client's retransmit of the bytes we never acknowledged sends it again. */
static int lost_segment_to_the_backend_goes_again_on_the_clients_retransmit(void)
{
	char req[4096], seg[2048];
	struct hs h = { .sport = 45321, .isn = 710000, .isn_b = 910000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	ASSERT_OK(big_head(req, 2500, "lost", true));
	if (hs_syn(&h))
		return -1;
	s = hs_slice(&h, req, 0, 1448, seg);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	s = hs_slice(&h, req, 1448, 2500, seg);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	snprintf(h.backend, sizeof(h.backend), "%s", v.dst);
	s = hs_synack(&h, backend_opts);
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.seq, h.isn + 1);
	/* That segment is lost. The client resends its last one. */
	s = hs_slice(&h, req, 1448, 2500, seg);
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_OK(run_tc(&s, "c0", &r));
	ASSERT_EQ(r.action, 7);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums");
	ASSERT_TRUE(!strcmp(v.dst, h.backend), "to %s", v.dst);
	ASSERT_EQ(v.seq, h.isn + 1);		/* from what the backend lacks */
	ASSERT_EQ(v.ack, h.isn_b + 1);
	ASSERT_EQ(v.datalen, 1448);
	ASSERT_TRUE(!memcmp(v.data, req, 1448), "bytes differ");
	/* A duplicate ACK from the backend is nobody's business. */
	s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
		.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h.isn_b + 1, .ack = h.isn + 1 };
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	return 0;
}

/* ---- generated cookies (service "gen", ttl 60s) ------------------------ */

#define GEN_LINE "Set-Cookie: FooBar=\"%016llx\"; Max-Age=60; Path=/; SameSite=Strict; HttpOnly\r\n"
#define GEN_LINE_LEN 86

/* The value a connection from sport gets, and where it must land. */
static int gen_expect(unsigned short sport, char *value, char *backend)
{
	struct maglb_flow k;
	struct svc_item it = {};
	struct maglb_backend be;
	__u32 *slots, size;
	char kv[64];
	__u64 hash;

	client_key("10.10.0.111", sport, &k);
	snprintf(value, 17, "%016llx",
		 (unsigned long long)maglb_flow_hash(&k, MAGLB_HASH_TUPLE));
	snprintf(kv, sizeof(kv), "FooBar=%s", value);
	find_svc("gen", &it);
	if (kv_key_hash(&it.svc, kv, &hash) || maps_read_ring(&maps, it.svc.id, &slots, &size))
		return -1;
	maps_get_backend(&maps, slots[maglb_ring_slot(hash, size) - 1], &be);
	free(slots);
	inet_ntop(AF_INET, &be.addr, backend, 64);
	return 0;
}

static int client_without_cookie_lands_by_a_generated_one_with_room_made(void)
{
	struct hs h = { .vip = "10.10.0.111", .sport = 47000, .isn = 3000 };
	__u64 gen = reason_count(MAGLB_COOKIE_GENERATED);
	char value[17], want[64];
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n\r\n", &r, &v) ||
	    gen_expect(h.sport, value, want))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_COOKIE_GENERATED) - gen, 1);
	ASSERT_TRUE(!strcmp(v.dst, want), "SYN to %s, FooBar=%s hashes to %s",
		    v.dst, value, want);
	/* the client's 1460, less the line the response will carry */
	ASSERT_TRUE(view_opt(&v, 2), "no MSS");
	ASSERT_EQ((view_opt(&v, 2)[2] << 8) | view_opt(&v, 2)[3], 1460 - GEN_LINE_LEN);
	return 0;
}

/* The response's first segment: XDP passes it up, TC inserts the line
 * after the status line; later segments and the client's acks are
 * shifted by it, and a resend of the first gets the line again. */
static int first_response_carries_set_cookie_and_the_stream_shifts(void)
{
	struct hs h = { .vip = "10.10.0.111", .sport = 47001, .isn = 4000,
			.isn_b = 600000 };
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	unsigned char bts[12] = { 1, 1, 8, 10, 0, 0, 0x13, 0xec, 0, 0, 0x03, 0x20 };
	char value[17], want[64], line[128], expect[256];
	int rl = strlen(resp), round;
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, "GET /cookie HTTP/1.1\r\nHost: www.example.com\r\n\r\n", &r, &v) ||
	    gen_expect(h.sport, value, want))
		return -1;
	ASSERT_TRUE(!strcmp(h.backend, want), "SYN to %s, want %s", h.backend, want);
	if (hs_splice(&h, &s, &r))
		return -1;
	snprintf(line, sizeof(line), GEN_LINE, (unsigned long long)strtoull(value, NULL, 16));
	ASSERT_EQ((int)strlen(line), GEN_LINE_LEN);
	snprintf(expect, sizeof(expect), "HTTP/1.1 200 OK\r\n%sContent-Length: 2\r\n\r\nok", line);

	for (round = 0; round < 2; round++) {	/* the second is a resend */
		s = (struct pkt_spec){ .family = 4, .src = h.backend, .sport = 3000,
			.dst = "10.10.0.2", .dport = h.sport, .proto = IPPROTO_TCP,
			.tcp_flags = TF_ACK | TF_PSH, .seq = h.isn_b + 1,
			.ack = h.isn + 1 + 47, .opts = bts, .optlen = 12,
			.data = resp, .window = 100 };
		ASSERT_OK(run_pkt(&s, "b0", &r));
		ASSERT_EQ(r.action, XDP_PASS);
		ASSERT_OK(run_tc(&s, "b0", &r));
		ASSERT_EQ(r.action, 7);
		ASSERT_OK(pkt_view(r.out, r.out_len, &v));
		ASSERT_TRUE(v.csum_ok, "checksums of the grown response");
		ASSERT_TRUE(!strcmp(v.src, "10.10.0.111"), "src %s", v.src);
		ASSERT_EQ(v.seq, h.cookie + 1);
		ASSERT_EQ(v.datalen, rl + GEN_LINE_LEN);
		ASSERT_TRUE(!memcmp(v.data, expect, v.datalen), "payload %.*s",
			    v.datalen, v.data);
	}
	/* the next segment, in XDP, lands after the line */
	s.seq = h.isn_b + 1 + rl;
	s.data = "more";
	ASSERT_OK(run_pkt(&s, "b0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.seq, h.cookie + 1 + rl + GEN_LINE_LEN);
	/* the client's ack of it all goes back without the line */
	s = (struct pkt_spec){ .family = 4, .src = "10.10.0.2", .sport = h.sport,
		.dst = "10.10.0.111", .dport = 80, .proto = IPPROTO_TCP,
		.tcp_flags = TF_ACK, .seq = h.isn + 1 + 47,
		.ack = h.cookie + 1 + rl + GEN_LINE_LEN + 4, .opts = h.ts_opts,
		.optlen = 12 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "checksums client->backend");
	ASSERT_EQ(v.ack, h.isn_b + 1 + rl + 4);
	return 0;
}

/* ---- HTTP routes (listener 10.10.0.120: rt-cookie -> 10.20.1.2,
 * rt-wild -> 10.20.1.3, rt-health -> 10.20.1.4) ----------------------- */

struct route_case {
	const char *name;
	const char *req;
	const char *backend;	/* the SYN's destination; NULL: answered */
	int flags;		/* the answer's TCP flags */
	bool not_found;		/* the answer carries the 404 */
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

static int check_route_case(const struct route_case *c, int i)
{
	struct hs h = { .vip = "10.10.0.120", .sport = 46000 + i,
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

/* After our 404 and FIN the client's FIN meets no state: it is reset. */
static int fin_without_a_connection_is_reset(void)
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

static int sweep_expires_abandoned_handshakes_after_closed_timeout(void)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 21600,
				    .ct_udp_timeout = 60,
				    .ct_closed_timeout = 10 };
	struct hs h = { .sport = 45011, .isn = 90000 };
	struct maglb_flow k;
	struct timespec ts;
	struct pkt_view v;
	struct run r;
	__u64 now;

	if (hs_open(&h, REQ("gone"), &r, &v))
		return -1;	/* the backend never answers */
	client_key("10.10.0.110", h.sport, &k);
	ASSERT_TRUE(ct_has(&k), "no pending entry");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 5000000000ULL) >= 0, "sweep");
	ASSERT_TRUE(ct_has(&k), "expired before closedTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 11000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&k), "an abandoned handshake outlived closedTimeout");
	return 0;
}

static int setup_timeout_answers_the_client_with_a_reset(void)
{
	struct hs h = { .sport = 45008, .isn = 50000 };
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, REQ("slow"), &r, &v))
		return -1;
	usleep(1100 * 1000);		/* splice_timeout_ns is 1 s here */
	s = hs_data(&h, REQ("slow"));
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(v.flags & TF_RST, TF_RST);
	ASSERT_EQ(v.seq, h.cookie + 1);
	ASSERT_TRUE(!strcmp(v.dst, "10.10.0.2"), "RST to %s", v.dst);
	return 0;
}

/* ---- path MTU ---------------------------------------------------------- */

static int mss_of(const struct pkt_view *v)
{
	const __u8 *o = view_opt(v, 2);

	return o ? (o[2] << 8) | o[3] : -1;
}

/* ck-mtu says mtu 1400: its SYN-ACK promises 1360 (not the client's
 * 1460), a smaller client MSS is kept, and the SYN to the backend says
 * the same as the promise. */
static int synack_mss_is_clamped_by_the_service_mtu(void)
{
	static const unsigned char small[20] = { 2, 4, 0x04, 0xb0, 4, 2, 8, 10,
		0, 0, 0x03, 0x20, 0, 0, 0, 0, 1, 3, 3, 7 };	/* MSS 1200 */
	struct hs h = { .vip = "10.10.0.112", .sport = 45200, .isn = 31000 };
	struct pkt_spec s = { CK, .sport = 45201, .tcp_flags = TF_SYN,
			      .seq = 5, .opts = small, .optlen = 20 };
	struct svc_item it = {};
	struct pkt_view v;
	struct run r;

	find_svc("ck-mtu", &it);
	ASSERT_EQ(it.svc.mtu, 1400);
	s.dst = "10.10.0.112";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ASSERT_EQ(mss_of(&v), 1200);		/* the client's, smaller */

	/* MSS 1460 from the client: the service's 1400 - 40 */
	s = (struct pkt_spec){ CK, .sport = 45200, .tcp_flags = TF_SYN,
			       .seq = 31000, .opts = syn_opts, .optlen = 20 };
	s.dst = "10.10.0.112";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ASSERT_EQ(mss_of(&v), 1360);
	/* the backend SYN, from the first data */
	if (hs_open(&h, REQ("m"), &r, &v))
		return -1;
	ASSERT_EQ(v.flags, TF_SYN);
	ASSERT_EQ(mss_of(&v), 1360);
	/* the plain "ck" (no mtu, routes at 1500) promises 1460 */
	s.dst = "10.10.0.110";
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_EQ(mss_of(&v), 1460);
	return 0;
}

static __u16 csum16(const void *p, int len, __u32 sum)
{
	return ~fold(sum16(p, len, sum)) & 0xffff;
}

/* An ICMP(v6) too-big in r: its addresses, type, MTU, checksums and the
 * quote of the original packet (addresses, ports, seq as the client sent). */
static int check_too_big(const struct run *r, int family, const char *from,
			 const char *to, unsigned mtu, unsigned short sport,
			 unsigned short dport, unsigned seq, unsigned tot_len)
{
	const __u8 *l3 = r->out + 14, *icmp, *q;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (family == 4) {
		ASSERT_EQ(r->out_len, 14 + 56);
		ASSERT_EQ((r->out[12] << 8) | r->out[13], 0x0800);
		ASSERT_EQ(l3[0], 0x45);
		ASSERT_EQ(l3[9], 1);			/* ICMP */
		ASSERT_EQ((l3[2] << 8) | l3[3], 56);
		ASSERT_EQ(csum16(l3, 20, 0), 0);	/* IP header */
		inet_ntop(AF_INET, l3 + 12, a, sizeof(a));
		inet_ntop(AF_INET, l3 + 16, b, sizeof(b));
		icmp = l3 + 20;
		ASSERT_EQ(icmp[0], 3);
		ASSERT_EQ(icmp[1], 4);
		ASSERT_EQ((icmp[6] << 8) | icmp[7], mtu);
		ASSERT_EQ(csum16(icmp, 36, 0), 0);
		q = icmp + 8;
		ASSERT_EQ(csum16(q, 20, 0), 0);		/* quoted header */
		ASSERT_EQ((q[2] << 8) | q[3], tot_len);
		ASSERT_TRUE(!memcmp(q + 12, l3 + 16, 4) &&
			    !memcmp(q + 16, l3 + 12, 4),
			    "quote's addresses are not the answer's swapped");
		q += 20;
	} else {
		__u32 ph;

		ASSERT_EQ(r->out_len, 14 + 96);
		ASSERT_EQ((r->out[12] << 8) | r->out[13], 0x86dd);
		ASSERT_EQ(l3[6], 58);			/* ICMPv6 */
		ASSERT_EQ((l3[4] << 8) | l3[5], 56);
		inet_ntop(AF_INET6, l3 + 8, a, sizeof(a));
		inet_ntop(AF_INET6, l3 + 24, b, sizeof(b));
		icmp = l3 + 40;
		ASSERT_EQ(icmp[0], 2);
		ASSERT_EQ(icmp[1], 0);
		ASSERT_EQ(get32(icmp + 4), mtu);
		ph = sum16(l3 + 8, 32, 0) + 56 + 58;
		ASSERT_EQ(csum16(icmp, 56, ph), 0);
		q = icmp + 8;
		ASSERT_EQ(((q[4] << 8) | q[5]) + 40, tot_len);
		ASSERT_TRUE(!memcmp(q + 8, l3 + 24, 16) &&
			    !memcmp(q + 24, l3 + 8, 16),
			    "quote's addresses are not the answer's swapped");
		q += 40;
	}
	ASSERT_TRUE(!strcmp(a, from) && !strcmp(b, to), "ICMP %s -> %s", a, b);
	ASSERT_EQ((q[0] << 8) | q[1], sport);
	ASSERT_EQ((q[2] << 8) | q[3], dport);
	ASSERT_EQ(get32(q + 4), seq);
	ASSERT_TRUE(!memcmp(r->out, r->in + 6, 6) &&
		    !memcmp(r->out + 6, r->in, 6), "MACs not swapped");
	return 0;
}

/* The backend answers MSS 1410 (its eth0 at 1450) to our SYN: a client
 * segment of 1500 bytes (its MSS was 1460) is not forwarded but answered
 * with "fragmentation needed, MTU 1450"; one of 1450 goes through. Without
 * DF it is dropped, counted. */
static int segment_above_the_backend_mss_gets_icmp_frag_needed(void)
{
	static unsigned char opts1410[20] = { 2, 4, 0x05, 0x82, 4, 2, 8, 10,
		0, 0, 0x13, 0x88, 0, 0, 0x03, 0x20, 1, 3, 3, 9 };
	const char *req = REQ("big");
	struct hs h = { .sport = 45210, .isn = 41000, .isn_b = 71000 };
	__u64 b = reason_count(MAGLB_ICMP_TOO_BIG);
	__u64 d = reason_count(MAGLB_DROP_TOO_BIG);
	unsigned seq = h.isn + 1 + strlen(req);
	struct pkt_spec s;
	struct pkt_view v;
	struct run r;

	if (hs_open(&h, req, &r, &v))
		return -1;
	s = hs_synack(&h, opts1410);
	ASSERT_OK(run_tc(&s, "b0", &r));
	ASSERT_EQ(r.action, 7);
	s = (struct pkt_spec){ CK, .sport = h.sport, .tcp_flags = TF_ACK,
		.seq = seq, .ack = h.cookie + 1, .opts = h.ts_opts, .optlen = 12,
		.payload = 1500 - 52, .df = true };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	if (check_too_big(&r, 4, "10.10.0.110", "10.10.0.2", 1450, h.sport, 80,
			  seq, 1500))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_ICMP_TOO_BIG) - b, 1);
	s.df = false;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_DROP);
	ASSERT_EQ(reason_count(MAGLB_DROP_TOO_BIG) - d, 1);
	s.df = true;
	s.payload = 1450 - 52;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok && !strcmp(v.dst, h.backend), "not forwarded whole");
	return 0;
}

/* bpf_fib_lookup says frag-needed (b0 takes 1500): an IPv6 packet to a
 * plain service gets Packet Too Big, its quote as the client sent it (to
 * the VIP, not the backend it was rewritten for); IPv4 without DF is left
 * to the kernel, which fragments it. */
static int packet_above_the_egress_mtu_gets_packet_too_big(void)
{
	struct pkt_spec s = { .family = 6, .src = "fd00:10::2",
			      .dst = "fd00:10::100", .sport = 45220, .dport = 80,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
			      .seq = 777, .ack = 1, .payload = 1560 - 60 };
	__u64 b = reason_count(MAGLB_ICMP_TOO_BIG);
	__u64 f = reason_count(MAGLB_PASS_FIB_FRAG);
	struct run r;

	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	if (check_too_big(&r, 6, "fd00:10::100", "fd00:10::2", 1500, 45220, 80,
			  777, 1560))
		return -1;
	ASSERT_EQ(reason_count(MAGLB_ICMP_TOO_BIG) - b, 1);
	s = (struct pkt_spec){ .family = 4, .src = "10.10.0.2",
			       .dst = "10.10.0.100", .sport = 45221, .dport = 80,
			       .proto = IPPROTO_TCP, .tcp_flags = TF_ACK,
			       .seq = 778, .ack = 1, .payload = 1560 - 40 };
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_PASS);
	ASSERT_EQ(reason_count(MAGLB_PASS_FIB_FRAG) - f, 1);
	s.df = true;
	s.sport = 45222;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	return check_too_big(&r, 4, "10.10.0.100", "10.10.0.2", 1500, 45222, 80,
			     778, 1560);
}

static bool ct_has(const struct maglb_flow *k)
{
	struct maglb_ct_entry e;

	return !maps_get_ct(&maps, k, &e);
}

static int sweep_expires_closed_then_idle_connections_in_pairs(void)
{
	struct maglb_config cfg = { .ct_tcp_timeout = 100,
				    .ct_udp_timeout = 10,
				    .ct_closed_timeout = 5 };
	struct pkt_spec s = { CLIENT, WEB, .tcp_flags = TF_SYN };
	struct maglb_flow open_k, closed_k, open_r, closed_r;
	struct ct_item it;
	struct timespec ts;
	struct pkt_view v;
	__u64 now;

	s.sport = 44000;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.sport = 44001;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	s.tcp_flags = TF_RST;
	if (send_and_view(&s, "c0", XDP_REDIRECT, &v))
		return -1;
	client_key("10.10.0.100", 44000, &open_k);
	client_key("10.10.0.100", 44001, &closed_k);
	it.key = open_k;
	ASSERT_OK(maps_get_ct(&maps, &open_k, &it.val));
	ct_partner_key(&it, &open_r);
	it.key = closed_k;
	ASSERT_OK(maps_get_ct(&maps, &closed_k, &it.val));
	ct_partner_key(&it, &closed_r);
	ASSERT_TRUE(ct_has(&open_r) && ct_has(&closed_r), "reply entries missing");

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 2000000000ULL) >= 0, "sweep");
	ASSERT_TRUE(ct_has(&closed_k), "closed flow expired before closedTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 6000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&closed_k) && !ct_has(&closed_r),
		    "reset flow survived closedTimeout");
	ASSERT_TRUE(ct_has(&open_k) && ct_has(&open_r),
		    "open flow expired before tcpTimeout");
	ASSERT_TRUE(ct_sweep(&maps, &cfg, now + 101000000000ULL) >= 1, "sweep");
	ASSERT_TRUE(!ct_has(&open_k) && !ct_has(&open_r),
		    "idle flow survived tcpTimeout");
	return 0;
}

static int truncation_at_every_byte_is_never_forwarded(void)
{
	struct pkt_spec s = { CLIENT, .sport = 41006, WEB, .tcp_flags = TF_SYN,
			      .vlans = 2, .ip_opt_words = 1 };
	__u8 full[512], out[512];
	int len, cut;

	len = pkt_build(&s, full, sizeof(full));
	for (cut = 1; cut < len; cut++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = full,
			    .data_size_in = cut, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		struct xdp_md ctx = { .data_end = cut,
				      .ingress_ifindex = if_nametoindex("c0") };

		/* test_run wants at least an Ethernet header. */
		if (cut < 14)
			continue;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
		ASSERT_OK(bpf_prog_test_run_opts(prog_fd, &opts));
		ASSERT_TRUE(opts.retval == XDP_PASS || opts.retval == XDP_DROP,
			    "cut at %d/%d: action %u", cut, len, opts.retval);
		ASSERT_TRUE(!memcmp(full, out, cut), "cut at %d: rewritten", cut);
	}
	return 0;
}

int main(void)
{
	size_t i;

	if (setup(base_config)) {
		printf("FAIL pkt_setup: could not build namespace, load or apply\n");
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_report(cases[i].name, check_case(&cases[i]));
	RUN_TEST(syn_for_cookie_service_gets_a_stateless_syncookie_synack);
	RUN_TEST(syn_on_a_closed_plain_entry_forgets_it);
	RUN_TEST(handshake_ack_is_absorbed_and_forged_ones_dropped);
	RUN_TEST(first_data_with_bad_checksum_is_dropped);
	RUN_TEST(first_data_opens_the_cookies_backend_with_the_client_isn);
	RUN_TEST(backend_synack_is_turned_into_the_stashed_request_by_tc);
	RUN_TEST(tc_acts_only_on_packets_xdp_marked);
	for (i = 0; i < sizeof(egress_cases) / sizeof(egress_cases[0]); i++)
		test_report(egress_cases[i].name, check_egress_case(&egress_cases[i]));
	RUN_TEST(spliced_segments_are_translated_both_ways);
	RUN_TEST(retransmitted_first_data_resends_the_backend_syn);
	RUN_TEST(backend_reset_during_setup_reaches_the_client);
	RUN_TEST(repeated_backend_synack_gets_the_request_again_until_acked);
	RUN_TEST(head_without_the_cookie_falls_back_to_source_ip);
	RUN_TEST(heads_over_segments_reach_the_cookies_backend_whole);
	RUN_TEST(head_longer_than_the_limit_falls_back_counted);
	RUN_TEST(head_segment_whose_stash_was_lost_gets_a_reset);
	RUN_TEST(lost_segment_to_the_backend_goes_again_on_the_clients_retransmit);
	RUN_TEST(backend_time_wait_ack_gets_a_reset_and_a_new_syn);
	for (i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++)
		test_report(route_cases[i].name, check_route_case(&route_cases[i], i));
	RUN_TEST(fin_without_a_connection_is_reset);
	RUN_TEST(synack_mss_is_clamped_by_the_service_mtu);
	RUN_TEST(segment_above_the_backend_mss_gets_icmp_frag_needed);
	RUN_TEST(packet_above_the_egress_mtu_gets_packet_too_big);
	RUN_TEST(client_without_cookie_lands_by_a_generated_one_with_room_made);
	RUN_TEST(first_response_carries_set_cookie_and_the_stream_shifts);
	RUN_TEST(sweep_expires_abandoned_handshakes_after_closed_timeout);
	RUN_TEST(setup_timeout_answers_the_client_with_a_reset);
	RUN_TEST(reply_is_reverse_nated_to_the_vip);
	RUN_TEST(snat_reply_returns_to_the_client);
	RUN_TEST(snat_port_range_exhaustion_drops_and_counts);
	RUN_TEST(snat_one_client_opens_more_connections_than_port_tries);
	RUN_TEST(fin_and_rst_are_forwarded_and_tracked);
	RUN_TEST(counters_count_packets_bytes_and_connections);
	RUN_TEST(established_fast_path_matches_the_full_path);
	RUN_TEST(established_flow_keeps_backend_when_it_is_removed);
	RUN_TEST(close_on_removal_moves_established_flows);
	RUN_TEST(truncation_at_every_byte_is_never_forwarded);
	RUN_TEST(sweep_expires_closed_then_idle_connections_in_pairs);
	maps_close(&maps);
	maglb_tc_bpf__destroy(tc_skel);
	maglb_bpf__destroy(skel);
	return test_exit();
}
