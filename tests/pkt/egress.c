// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress.c - how a rewritten packet leaves follows what its egress device
 * takes (bpf/lib/egress.h).
 *
 * Fixture (tests/fixtures/pkt.yaml): web, one-arm, ck; clients
 * 10.10.0.2:46001-46010.
 */
#include "pkt.h"

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

static int check_egress_case(const struct egress_case *c, int idx)
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
	/* Back to what the other tests expect: every frame taken, and no
	 * backend's next hop cached with this case's flags. */
	set_handoff_no_meta(1);
	set_egress(c->out_dev, EG_ALL);
	ASSERT_OK(forget_backend_nh());
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

PKT_TABLE(egress_cases, check_egress_case);
