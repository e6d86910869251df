// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * parse.c - what the parser makes of odd and bad packets: IPv4 options,
 * VLAN tags, non-IP, ICMP, IPv6 extension headers, fragments, truncated
 * headers, and a frame cut at every byte (never forwarded).
 *
 * Fixture (tests/fixtures/pkt.yaml): web (10.10.0.100); clients
 * 10.10.0.2:40003-40013, 41006.
 */
#include "pkt.h"

static const struct pkt_case parse_cases[] = {
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
};

PKT_TABLE(parse_cases, check_case);

PKT_TEST(truncation_at_every_byte_is_never_forwarded)
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
