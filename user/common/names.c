// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "common/names.h"
#include "maglb.h"

static const char *const reasons[MAGLB_REASON_MAX] = {
	[MAGLB_PASS_NON_IP] = "pass_non_ip",
	[MAGLB_PASS_NON_VIP] = "pass_non_vip",
	[MAGLB_PASS_MALFORMED_L2] = "pass_malformed_l2",
	[MAGLB_PASS_MALFORMED_L3] = "pass_malformed_l3",
	[MAGLB_PASS_NOT_L4] = "pass_not_l4",
	[MAGLB_PASS_FRAGMENT] = "pass_fragment",
	[MAGLB_PASS_MALFORMED_L4] = "pass_malformed_l4",
	[MAGLB_DROP_FRAGMENT] = "drop_fragment",
	[MAGLB_DROP_TRUNCATED_L4] = "drop_truncated_l4",
	[MAGLB_DROP_NO_BACKEND] = "drop_no_backend",
	[MAGLB_DROP_SNAT_EXHAUSTED] = "drop_snat_exhausted",
	[MAGLB_DROP_FIB] = "drop_fib",
	[MAGLB_PASS_FIB_NEIGH] = "pass_fib_neigh",
	[MAGLB_PASS_FIB_OTHER] = "pass_fib_other",
	[MAGLB_TX] = "tx",
	[MAGLB_REDIRECT] = "redirect",
	[MAGLB_SYNCOOKIE_SENT] = "syncookie_sent",
	[MAGLB_DROP_HANDSHAKE_ACK] = "drop_handshake_ack",
	[MAGLB_DROP_BAD_COOKIE] = "drop_bad_cookie",
	[MAGLB_DROP_BAD_CSUM] = "drop_bad_csum",
	[MAGLB_DROP_SPLICE_UNSUPPORTED] = "drop_splice_unsupported",
	[MAGLB_DROP_SPLICE_WAIT] = "drop_splice_wait",
	[MAGLB_DROP_NO_STATE] = "drop_no_state",
	[MAGLB_SPLICE_SYN] = "splice_syn",
	[MAGLB_SPLICE_ACK] = "splice_ack",
	[MAGLB_SPLICE_RST] = "splice_rst",
	[MAGLB_KEY_FALLBACK] = "key_fallback",
	[MAGLB_ROUTE_NOT_FOUND] = "route_not_found",
	[MAGLB_ROUTE_RESET] = "route_reset",
	[MAGLB_ROUTE_REPARSE] = "route_reparse",
	[MAGLB_COOKIE_GENERATED] = "cookie_generated",
	[MAGLB_COOKIE_INSERTED] = "cookie_inserted",
	[MAGLB_PASS_IPV6_EXT] = "pass_ipv6_ext",
	[MAGLB_SPLICE_TW_RESET] = "splice_tw_reset",
	[MAGLB_PASS_TO_TC] = "pass_to_tc",
	[MAGLB_PASS_KERNEL_TC] = "pass_kernel_tc",
	[MAGLB_PASS_KERNEL_STACK] = "pass_kernel_stack",
	[MAGLB_SPLICE_HEAD_ACK] = "splice_head_ack",
	[MAGLB_SPLICE_HEAD_DUP] = "splice_head_dup",
	[MAGLB_SPLICE_HEAD_HELD] = "splice_head_held",
	[MAGLB_HEAD_TOO_LONG] = "head_too_long",
	[MAGLB_ROUTE_BAD_REQUEST] = "route_bad_request",
	[MAGLB_SPLICE_CHUNK] = "splice_chunk",
	[MAGLB_ICMP_TOO_BIG] = "icmp_too_big",
	[MAGLB_DROP_TOO_BIG] = "drop_too_big",
	[MAGLB_PASS_FIB_FRAG] = "pass_fib_frag",
	[MAGLB_SYN_CHALLENGE_ACK] = "syn_challenge_ack",
	[MAGLB_DROP_RST_OUT_OF_WINDOW] = "drop_rst_out_of_window",
	[MAGLB_DROP_COOKIE_REPLAY] = "drop_cookie_replay",
	[MAGLB_DROP_COOKIE_USED_FULL] = "drop_cookie_used_full",
	[MAGLB_SPLICE_SOURCE_LIMIT] = "splice_source_limit",
	[MAGLB_SPLICE_STASH_LOST] = "splice_stash_lost",
	[MAGLB_SPLICE_RST_BACKEND] = "splice_rst_backend",
	[MAGLB_SPLICE_CLIENT_RST] = "splice_client_rst",
	[MAGLB_DROP_CT_FULL] = "drop_ct_full",
	[MAGLB_DROP_NO_PROG] = "drop_no_prog",
};

const char *reason_name(int r)
{
	return r >= 0 && r < MAGLB_REASON_MAX && reasons[r] ? reasons[r] : "?";
}

const char *hash_name(int t)
{
	static const char *const names[] = { "SourceIP", "Tuple", "Cookie",
					     "Header" };

	return t >= 0 && t < 4 ? names[t] : "?";
}

const char *path_name(int p)
{
	static const char *const names[MAGLB_PATH_MAX] = {
		[MAGLB_PATH_REDIRECT] = "redirect",
		[MAGLB_PATH_TX] = "xdp_tx",
		[MAGLB_PATH_TC] = "tc",
		[MAGLB_PATH_STACK] = "stack",
	};

	return p >= 0 && p < MAGLB_PATH_MAX ? names[p] : "?";
}

const char *egress_why_name(int w)
{
	static const char *const names[MAGLB_EGW_MAX] = {
		[MAGLB_EGW_UNKNOWN] = "not probed",
		[MAGLB_EGW_VETH_PEER_XDP] = "veth, peer has an XDP program",
		[MAGLB_EGW_VETH_PEER_GRO] = "veth, peer has GRO (no XDP program)",
		[MAGLB_EGW_VETH_PEER_BARE] = "veth, peer has no XDP program and no GRO",
		[MAGLB_EGW_XDP_XMIT] = "driver takes XDP frames (ndo_xdp_xmit, XDP program loaded)",
		[MAGLB_EGW_NO_XDP_XMIT] = "device takes no XDP frames (bridge, bond, tunnel, loopback or driver without ndo_xdp_xmit)",
		[MAGLB_EGW_NO_PROG] = "driver needs an XDP program of its own to take XDP frames",
	};

	return w >= 0 && w < MAGLB_EGW_MAX ? names[w] : "?";
}
