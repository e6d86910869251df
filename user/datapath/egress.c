// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress.c - the user side of per-device egress decisions (issue 17).
 *
 * The kernel drops an XDP frame a device will not take after our program
 * has returned, silently: a veth whose peer runs no NAPI (no XDP program,
 * no GRO), a driver without ndo_xdp_xmit or without an XDP program of its
 * own, any bridge or tunnel. So the datapath sends XDP frames only where
 * maglb_egress allows it, and this file decides that, device by device,
 * from rtnetlink (RTM_GETLINK), ethtool (GRO) and the netdev generic
 * netlink family (xdp-features). Raw netlink sockets: libbpf's attribute
 * helpers are not public and libnl is one dependency too many for this.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include "common/log.h"
#include "common/names.h"
#include "datapath/egress.h"

/* The netdev generic netlink family (Linux 6.3, include/uapi/linux/
 * netdev.h); Debian 12's headers predate it. */
#define NETDEV_FAMILY_NAME		"netdev"
#define NETDEV_CMD_DEV_GET		1
#define NETDEV_A_DEV_IFINDEX		1
#define NETDEV_A_DEV_XDP_FEATURES	3
#define NETDEV_XDP_ACT_NDO_XMIT		(1ULL << 2)

/* ---- netlink: requests, answers, attributes ----------------------------- */

#define NL_BUF	65536	/* one recv of a dump: a link message is ~1-2 KiB */

struct nl_req {
	struct nlmsghdr h;
	char body[256];
};

/* tb[type] = the attribute of that type in data (types above max are
 * skipped); the nested flag is masked off, so a walk works for nests. */
static void attrs_parse(const struct nlattr **tb, int max, const void *data,
			int len)
{
	const struct nlattr *a = data;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = a;
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static int attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* Attributes are only 4-byte aligned: copy, never cast. */
static __u64 attr_uint(const struct nlattr *a, __u64 def)
{
	__u64 v64 = 0;
	__u32 v32 = 0;
	__u16 v16 = 0;
	__u8 v8 = 0;

	if (!a)
		return def;
	switch (attr_len(a)) {
	case 8: memcpy(&v64, attr_data(a), 8); return v64;
	case 4: memcpy(&v32, attr_data(a), 4); return v32;
	case 2: memcpy(&v16, attr_data(a), 2); return v16;
	case 1: memcpy(&v8, attr_data(a), 1); return v8;
	}
	return def;
}

static void nested(const struct nlattr **tb, int max, const struct nlattr *a)
{
	attrs_parse(tb, max, a ? attr_data(a) : NULL, a ? attr_len(a) : 0);
}

/* Start a request: header, then a family header of hlen bytes (zeroed). */
static void *req_init(struct nl_req *r, __u16 type, __u16 flags, size_t hlen)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(hlen);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | flags;
	return NLMSG_DATA(&r->h);
}

static void req_put(struct nl_req *r, int type, const void *data, int len)
{
	struct nlattr *a = (void *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

typedef int (*nl_cb)(const struct nlmsghdr *h, void *arg);

/* Send r and hand every answer to cb until the dump is done or the ack
 * (NLM_F_ACK) comes. 0, the kernel's -errno, or cb's nonzero return. */
static int nl_talk(int fd, struct nl_req *r, nl_cb cb, void *arg)
{
	static __u32 seq;
	char *buf = malloc(NL_BUF);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	r->h.nlmsg_seq = ++seq;
	if (send(fd, r, r->h.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF, MSG_TRUNC);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || n > NL_BUF) {
			err = n < 0 ? -errno : -EMSGSIZE;
			goto out;
		}
		for (h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;	/* a late answer to an older request */
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			if (!err)
				err = cb(h, arg);
			/* on a cb error, read on to the end of the answer */
		}
	}
out:
	free(buf);
	return err;
}

static int nl_open(int proto)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);

	return fd < 0 ? -errno : fd;
}

/* ---- what rtnetlink says of a device ------------------------------------ */

struct link {
	int ifindex;
	unsigned int flags;	/* IFF_* */
	unsigned short type;	/* ARPHRD_* */
	char name[IF_NAMESIZE];
	char kind[16];		/* IFLA_INFO_KIND; "" for a plain driver */
	int peer;		/* IFLA_LINK: a veth's peer; 0 none */
	int peer_nsid;		/* IFLA_LINK_NETNSID; -1 same netns */
	int master;		/* IFLA_MASTER: a bridge's or bond's port */
	__u32 drv_prog;		/* native XDP program id; 0 none */
};

static int parse_link(const struct nlmsghdr *h, struct link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const struct nlattr *xdp[IFLA_XDP_MAX + 1];
	int hl = NLMSG_LENGTH(sizeof(*ifi));

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < (__u32)hl)
		return -EINVAL;
	attrs_parse(tb, IFLA_MAX, (const char *)h + NLMSG_ALIGN(hl),
		    h->nlmsg_len - NLMSG_ALIGN(hl));
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->type = ifi->ifi_type;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%.*s",
			 attr_len(tb[IFLA_IFNAME]),
			 (const char *)attr_data(tb[IFLA_IFNAME]));
	nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);
	if (li[IFLA_INFO_KIND])
		snprintf(l->kind, sizeof(l->kind), "%.*s",
			 attr_len(li[IFLA_INFO_KIND]),
			 (const char *)attr_data(li[IFLA_INFO_KIND]));
	l->peer = attr_uint(tb[IFLA_LINK], 0);
	l->peer_nsid = (__s32)attr_uint(tb[IFLA_LINK_NETNSID], (__u32)-1);
	l->master = attr_uint(tb[IFLA_MASTER], 0);
	/* Only a native (driver) program: a generic one neither gives a veth
	 * its NAPI nor sets up a driver's XDP transmit queues. */
	nested(xdp, IFLA_XDP_MAX, tb[IFLA_XDP]);
	l->drv_prog = attr_uint(xdp[IFLA_XDP_DRV_PROG_ID], 0);
	return 0;
}

struct links {
	struct link *v;
	int n, cap;
};

static int add_link(const struct nlmsghdr *h, void *arg)
{
	struct links *ls = arg;
	struct link *grown;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 64;
		grown = realloc(ls->v, ls->cap * sizeof(*ls->v));
		if (!grown)
			return -ENOMEM;
		ls->v = grown;
	}
	return parse_link(h, &ls->v[ls->n]) ? 0 : (ls->n++, 0);
}

/* Every device of this netns. Stats are skipped: they are most of a
 * link message and we read none. */
static int dump_links(int rt, struct links *ls)
{
	__u32 mask = RTEXT_FILTER_SKIP_STATS;
	struct nl_req r;

	req_init(&r, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
	req_put(&r, IFLA_EXT_MASK, &mask, sizeof(mask));
	return nl_talk(rt, &r, add_link, ls);
}

static int one_link(const struct nlmsghdr *h, void *arg)
{
	return parse_link(h, arg);
}

/* A device of the netns that nsid names here (IFLA_TARGET_NETNSID,
 * Linux 4.20): a veth's peer. */
static int get_link_in(int rt, int ifindex, int nsid, struct link *l)
{
	__u32 mask = RTEXT_FILTER_SKIP_STATS;
	struct ifinfomsg *ifi;
	struct nl_req r;

	ifi = req_init(&r, RTM_GETLINK, NLM_F_ACK, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	req_put(&r, IFLA_TARGET_NETNSID, &nsid, sizeof(nsid));
	req_put(&r, IFLA_EXT_MASK, &mask, sizeof(mask));
	l->ifindex = 0;
	return nl_talk(rt, &r, one_link, l) ?: (l->ifindex ? 0 : -ENODEV);
}

/* ---- GRO, in whichever netns the device is ------------------------------ */

/* One probe's view of other namespaces: nsid -> an fd of that netns,
 * found on first need and kept until the probe ends. */
struct netns_map {
	bool scanned;
	int self;		/* our netns, to come back to */
	struct netns_ent {
		int nsid;
		int fd;
	} *v;
	int n;
	ino_t *seen;		/* netns inodes already asked about */
	int n_seen;
};

static int nsid_answer(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[NETNSA_MAX + 1];
	int hl = NLMSG_LENGTH(sizeof(struct rtgenmsg));

	if (h->nlmsg_type != RTM_NEWNSID || h->nlmsg_len < (__u32)hl)
		return 0;
	attrs_parse(tb, NETNSA_MAX, (const char *)h + NLMSG_ALIGN(hl),
		    h->nlmsg_len - NLMSG_ALIGN(hl));
	*(int *)arg = (__s32)attr_uint(tb[NETNSA_NSID], (__u32)-1);
	return 0;
}

/* The nsid our netns has for the netns of fd (RTM_GETNSID), or -1. */
static int nsid_of(int rt, int fd)
{
	struct rtgenmsg *g;
	struct nl_req r;
	int nsid = -1;

	g = req_init(&r, RTM_GETNSID, NLM_F_ACK, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	req_put(&r, NETNSA_FD, &fd, sizeof(fd));
	return nl_talk(rt, &r, nsid_answer, &nsid) ? -1 : nsid;
}

static bool seen_before(struct netns_map *nm, ino_t ino)
{
	ino_t *grown;
	int i;

	for (i = 0; i < nm->n_seen; i++)
		if (nm->seen[i] == ino)
			return true;
	grown = realloc(nm->seen, (nm->n_seen + 1) * sizeof(*grown));
	if (grown) {
		nm->seen = grown;
		nm->seen[nm->n_seen++] = ino;
	}
	return false;
}

static void netns_consider(int rt, struct netns_map *nm, const char *path)
{
	struct netns_ent *grown;
	struct stat st;
	int fd, nsid;

	if (stat(path, &st) || seen_before(nm, st.st_ino))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	nsid = nsid_of(rt, fd);
	grown = nsid < 0 ? NULL : realloc(nm->v, (nm->n + 1) * sizeof(*grown));
	if (!grown) {
		close(fd);
		return;
	}
	nm->v = grown;
	nm->v[nm->n++] = (struct netns_ent){ .nsid = nsid, .fd = fd };
}

/* Every netns we can name a path of: iproute2's bind mounts and every
 * process's (a container runtime's pods need not be under /run/netns). */
static void netns_scan(int rt, struct netns_map *nm)
{
	char path[300];
	struct dirent *d;
	struct stat st;
	DIR *dp;

	nm->scanned = true;
	if (!stat("/proc/thread-self/ns/net", &st))
		seen_before(nm, st.st_ino);	/* our own has no nsid */
	dp = opendir("/run/netns");
	while (dp && (d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		netns_consider(rt, nm, path);
	}
	if (dp)
		closedir(dp);
	dp = opendir("/proc");
	while (dp && (d = readdir(dp))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
		netns_consider(rt, nm, path);
	}
	if (dp)
		closedir(dp);
}

static int netns_fd(int rt, struct netns_map *nm, int nsid)
{
	int i;

	if (!nm->scanned)
		netns_scan(rt, nm);
	for (i = 0; i < nm->n; i++)
		if (nm->v[i].nsid == nsid)
			return nm->v[i].fd;
	return -1;
}

static void netns_free(struct netns_map *nm)
{
	int i;

	for (i = 0; i < nm->n; i++)
		close(nm->v[i].fd);
	free(nm->v);
	free(nm->seen);
}

/* GRO of a device of the current netns, by name (ETHTOOL_GGRO). */
static bool gro_here(const char *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool on;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	on = !ioctl(fd, SIOCETHTOOL, &ifr) && ev.data;
	close(fd);
	return on;
}

/* GRO of a device of the netns nsid names (-1: ours). ethtool answers per
 * netns, so this enters it for the question (this thread only) and comes
 * back. A netns we find no path to counts as GRO off: that only costs the
 * kernel path, where a wrong "on" would lose packets. */
static bool gro_of(int rt, struct netns_map *nm, const char *name, int nsid)
{
	int fd;
	bool on;

	if (nsid < 0)
		return gro_here(name);
	fd = netns_fd(rt, nm, nsid);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		return false;
	on = gro_here(name);
	if (setns(nm->self, CLONE_NEWNET)) {
		/* every later map write and lookup would be for a wrong netns */
		pr_warn("maglb: egress: cannot return to our network namespace: %m\n");
		abort();
	}
	return on;
}

/* ---- xdp-features (netdev family) ---------------------------------------- */

struct xdp_features {
	bool known;		/* the kernel has the netdev family */
	struct { int ifindex; __u64 features; } *v;
	int n;
};

static int family_answer(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	int hl = NLMSG_LENGTH(GENL_HDRLEN);

	if (h->nlmsg_len < (__u32)hl)
		return 0;
	attrs_parse(tb, CTRL_ATTR_MAX, (const char *)h + hl, h->nlmsg_len - hl);
	*(int *)arg = attr_uint(tb[CTRL_ATTR_FAMILY_ID], 0);
	return 0;
}

static int feature_answer(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[NETDEV_A_DEV_XDP_FEATURES + 1];
	struct xdp_features *xf = arg;
	int hl = NLMSG_LENGTH(GENL_HDRLEN);
	void *grown;

	if (h->nlmsg_len < (__u32)hl)
		return 0;
	attrs_parse(tb, NETDEV_A_DEV_XDP_FEATURES, (const char *)h + hl,
		    h->nlmsg_len - hl);
	if (!tb[NETDEV_A_DEV_IFINDEX] || !tb[NETDEV_A_DEV_XDP_FEATURES])
		return 0;
	grown = realloc(xf->v, (xf->n + 1) * sizeof(*xf->v));
	if (!grown)
		return -ENOMEM;
	xf->v = grown;
	xf->v[xf->n].ifindex = attr_uint(tb[NETDEV_A_DEV_IFINDEX], 0);
	xf->v[xf->n++].features = attr_uint(tb[NETDEV_A_DEV_XDP_FEATURES], 0);
	return 0;
}

/* NETDEV_CMD_DEV_GET for every device (Linux 6.3); before that kernel the
 * family is missing and xf->known stays false. */
static void read_xdp_features(struct xdp_features *xf)
{
	static const char name[] = NETDEV_FAMILY_NAME;
	struct genlmsghdr *g;
	struct nl_req r;
	int fd = nl_open(NETLINK_GENERIC), family = 0;

	if (fd < 0)
		return;
	g = req_init(&r, GENL_ID_CTRL, NLM_F_ACK, GENL_HDRLEN);
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	req_put(&r, CTRL_ATTR_FAMILY_NAME, name, sizeof(name));
	if (!nl_talk(fd, &r, family_answer, &family) && family) {
		g = req_init(&r, family, NLM_F_DUMP, GENL_HDRLEN);
		g->cmd = NETDEV_CMD_DEV_GET;
		g->version = 1;
		xf->known = !nl_talk(fd, &r, feature_answer, xf);
	}
	close(fd);
	if (xf->known)
		pr_debug("maglb: egress: xdp-features of %d devices\n", xf->n);
	else
		pr_debug("maglb: egress: no netdev family: whether drivers have ndo_xdp_xmit is unknown\n");
}

/* Whether the driver has ndo_xdp_xmit: 1 yes, 0 no, -1 unknown. */
static int has_ndo_xdp_xmit(const struct xdp_features *xf, int ifindex)
{
	int i;

	for (i = 0; xf->known && i < xf->n; i++)
		if (xf->v[i].ifindex == ifindex)
			return !!(xf->v[i].features & NETDEV_XDP_ACT_NDO_XMIT);
	return -1;
}

/* ---- the classifier ------------------------------------------------------ */

struct probe {
	const struct maglb_maps *m;
	int rt;			/* rtnetlink */
	struct links links;	/* this netns's devices */
	struct netns_map ns;
	struct xdp_features xf;
	bool changed;		/* a device's entry was written or removed */
};

static const struct link *find_link(const struct links *ls, int ifindex)
{
	int i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	return NULL;
}

static bool is_loopback(const struct link *l)
{
	return l->flags & IFF_LOOPBACK;
}

static bool not_ether(const struct link *l)
{
	return l->type != ARPHRD_ETHER;
}

static bool is_veth(const struct link *l)
{
	return !strcmp(l->kind, "veth");
}

static bool has_kind(const struct link *l)
{
	return l->kind[0];
}

static bool any(const struct link *l)
{
	return true;
}

static void decide_none(struct probe *p, const struct link *l,
			struct maglb_egress *e)
{
	e->why = MAGLB_EGW_NO_XDP_XMIT;
}

/* A veth takes XDP frames (redirected or XDP_TX) only into a peer whose
 * receive queue runs NAPI: an XDP program there, or GRO. The issue
 * measured GRO-only peers refusing XDP_TX frames, so GRO earns redirect
 * alone. */
static void decide_veth(struct probe *p, const struct link *l,
			struct maglb_egress *e)
{
	struct link peer;
	bool found;

	e->peer_ifindex = l->peer;
	e->peer_nsid = l->peer_nsid;
	if (l->peer_nsid >= 0) {
		found = !get_link_in(p->rt, l->peer, l->peer_nsid, &peer);
		/* TC may bpf_redirect_peer: the skb reaches the peer's stack
		 * with our MACs, right for a pod. A bridge's or bond's port
		 * would switch it by its destination MAC, ours, and drop it:
		 * such a peer (a node's uplink) gets the neighbour path. */
		if (!(found && peer.master))
			e->flags |= MAGLB_EG_F_PEER;
	} else {
		const struct link *same = find_link(&p->links, l->peer);

		found = same;
		if (same)
			peer = *same;
	}
	if (!found) {
		e->why = MAGLB_EGW_VETH_PEER_BARE;	/* no peer we can see */
		return;
	}
	e->peer_prog_id = peer.drv_prog;
	if (peer.drv_prog) {
		e->flags |= MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX;
		e->why = MAGLB_EGW_VETH_PEER_XDP;
		return;
	}
	e->peer_gro = gro_of(p->rt, &p->ns, peer.name, l->peer_nsid);
	if (e->peer_gro) {
		e->flags |= MAGLB_EG_F_REDIRECT;
		e->why = MAGLB_EGW_VETH_PEER_GRO;
	} else {
		e->why = MAGLB_EGW_VETH_PEER_BARE;
	}
}

/* A real driver: redirected frames need ndo_xdp_xmit (xdp-features says,
 * where the kernel has the netdev family; else we assume it may), and
 * since many drivers set up their XDP transmit queues only for a program
 * of their own, a native program on the device too. XDP_TX needs only
 * that program (ours runs there). A driver that advertises ndo_xdp_xmit
 * only while a program is loaded reads as NO_XDP_XMIT without one.
 * peer_prog_id holds the device's own program, so that a change of it
 * ends a demotion as a veth peer's change does. */
static void decide_driver(struct probe *p, const struct link *l,
			  struct maglb_egress *e)
{
	int xmit = has_ndo_xdp_xmit(&p->xf, l->ifindex);

	e->peer_prog_id = l->drv_prog;
	if (l->drv_prog)
		e->flags |= MAGLB_EG_F_TX;
	if (!xmit)
		e->why = MAGLB_EGW_NO_XDP_XMIT;
	else if (!l->drv_prog)
		e->why = MAGLB_EGW_NO_PROG;
	else {
		e->flags |= MAGLB_EG_F_REDIRECT;
		e->why = MAGLB_EGW_XDP_XMIT;
	}
}

/* First match decides. */
static const struct egress_rule {
	bool (*match)(const struct link *l);
	void (*decide)(struct probe *p, const struct link *l,
		       struct maglb_egress *e);
} rules[] = {
	/* Loopback: nothing we forward leaves by it. */
	{ is_loopback, decide_none },
	/* Not Ethernet (ipip, sit, gre, wireguard, ...): no MACs to write,
	 * no ndo_xdp_xmit. */
	{ not_ether, decide_none },
	/* veth: as its peer allows. */
	{ is_veth, decide_veth },
	/* Every other rtnl kind (bridge, bond, vlan, macvlan, ipvlan, vxlan,
	 * geneve, gretap, tun, ...) is a software device whose XDP transmit
	 * is missing or not worth the risk: the kernel path. */
	{ has_kind, decide_none },
	/* No kind: a real driver (physical NIC, virtio_net, ...). */
	{ any, decide_driver },
};

static void classify(struct probe *p, const struct link *l,
		     struct maglb_egress *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->peer_nsid = -1;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].match(l)) {
			rules[i].decide(p, l, e);
			return;
		}
	}
}

/* ---- writing the maps ------------------------------------------------------ */

enum maglb_path egress_path(const struct maglb_egress *e, bool tx,
			    bool no_meta)
{
	__u32 f = tx ? MAGLB_EG_F_TX : MAGLB_EG_F_REDIRECT;

	if (e && (e->flags & f))
		return tx ? MAGLB_PATH_TX : MAGLB_PATH_REDIRECT;
	return no_meta ? MAGLB_PATH_STACK : MAGLB_PATH_TC;
}

const char *egress_dev_name(__u32 ifindex, char buf[IF_NAMESIZE + 8])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE + 8, "if%u", ifindex);
	return buf;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

int egress_ifindexes(const struct maglb_maps *m, __u32 **out)
{
	int n = maps_read_egress_ifindexes(m, out);

	if (n > 0)
		qsort(*out, n, sizeof(**out), cmp_u32);
	return n;
}

const char *const egress_xmit_names[EGRESS_XMIT_FIELDS] = {
	"devmap_drops", "devmap_errs", "tx_drops", "redirect_errs",
	"exceptions", "demotions",
};

int egress_read_counts(const struct maglb_maps *m, struct egress_counts **out)
{
	struct egress_counts *c;
	__u32 *v = NULL;
	int i, p, n = egress_ifindexes(m, &v);

	*out = NULL;
	if (n <= 0)
		return n;
	c = calloc(n, sizeof(*c));
	if (!c) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		c[i].ifindex = v[i];
		egress_dev_name(v[i], c[i].dev);
		for (p = 0; p < MAGLB_PATH_MAX; p++)
			maps_read_egress_stats(m, v[i], p, &c[i].path[p]);
		c[i].has_errs = !maps_read_xmit_errs(m, v[i], &c[i].errs);
	}
	free(v);
	*out = c;
	return n;
}

/* "redirect, xdp_tx", "redirect", "xdp_tx" or "tc": where frames go. */
static const char *paths_str(const struct maglb_egress *e, char *buf,
			     size_t len)
{
	bool r = e && (e->flags & MAGLB_EG_F_REDIRECT);
	bool t = e && (e->flags & MAGLB_EG_F_TX);

	snprintf(buf, len, "%s%s%s", r ? path_name(MAGLB_PATH_REDIRECT) : "",
		 r && t ? ", " : "", t ? path_name(MAGLB_PATH_TX) : "");
	if (!r && !t)
		snprintf(buf, len, "%s", path_name(MAGLB_PATH_TC));
	return buf;
}

static bool same_peer(const struct maglb_egress *a,
		      const struct maglb_egress *b)
{
	return a->peer_ifindex == b->peer_ifindex &&
	       a->peer_nsid == b->peer_nsid &&
	       a->peer_prog_id == b->peer_prog_id &&
	       a->peer_gro == b->peer_gro;
}

static bool in_list(const __u32 *v, int n, __u32 x)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* Write one device's entry. The devmap entry comes before a REDIRECT
 * flag and goes after one, so the datapath never redirects into a
 * device maglb_tx_ports lacks. A demoted entry stays as the tracing
 * program left it while its peer is unchanged. Unchanged entries are not
 * rewritten, which leaves a demotion racing our write (read, then put)
 * only on a device that changed too: the next failed transmit demotes
 * it again. */
static void probe_dev(struct probe *p, const struct link *l,
		      const __u32 *tx, int n_tx, bool log)
{
	struct maglb_egress old, e;
	char was[32], now[32];
	bool had = !maps_get_egress(p->m, l->ifindex, &old);
	bool demoted = had && (old.flags & MAGLB_EG_F_DEMOTED);
	int err;

	classify(p, l, &e);
	if (demoted && same_peer(&old, &e)) {
		if (in_list(tx, n_tx, l->ifindex))
			maps_del_tx_port(p->m, l->ifindex);
		return;
	}
	if (had && !demoted && !memcmp(&old, &e, sizeof(e)) &&
	    (!(e.flags & MAGLB_EG_F_REDIRECT) || in_list(tx, n_tx, l->ifindex)))
		return;
	if ((e.flags & MAGLB_EG_F_REDIRECT) && !in_list(tx, n_tx, l->ifindex) &&
	    (err = maps_put_tx_port(p->m, l->ifindex))) {
		pr_warn("maglb: egress %s: adding it to maglb_tx_ports: %s; kernel path\n",
			l->name, strerror(-err));
		e.flags &= ~MAGLB_EG_F_REDIRECT;
	}
	err = maps_put_egress(p->m, l->ifindex, &e);
	if (err) {
		pr_warn("maglb: egress %s: writing maglb_egress: %s\n", l->name,
			strerror(-err));
		return;
	}
	p->changed = true;
	if (!(e.flags & MAGLB_EG_F_REDIRECT) && in_list(tx, n_tx, l->ifindex))
		maps_del_tx_port(p->m, l->ifindex);
	if (!log)
		return;
	paths_str(had ? &old : NULL, was, sizeof(was));
	paths_str(&e, now, sizeof(now));
	if (demoted)
		pr_info("maglb: egress %s (ifindex %d): peer changed, demotion ended: %s -> %s (%s)\n",
			l->name, l->ifindex, was, now, egress_why_name(e.why));
	else if (strcmp(was, now))
		pr_info("maglb: egress %s (ifindex %d): %s -> %s (%s)\n",
			l->name, l->ifindex, was, now, egress_why_name(e.why));
}

/* Entries, counters and devmap slots of ifindexes no device has now. */
static void drop_vanished(struct probe *p)
{
	__u32 *v = NULL;
	int i, n;

	n = maps_read_egress_ifindexes(p->m, &v);
	for (i = 0; i < n; i++) {
		if (find_link(&p->links, v[i]))
			continue;
		maps_del_tx_port(p->m, v[i]);
		maps_del_egress(p->m, v[i]);
		maps_del_egress_counters(p->m, v[i]);
		p->changed = true;
	}
	free(v);
}

/* maglb_tx_ports slots of devices that do not take redirected frames
 * (an older attach put every attached device there). */
static void drop_stale_tx_ports(struct probe *p)
{
	struct maglb_egress e;
	__u32 *v = NULL;
	int i, n;

	n = maps_read_tx_ports(p->m, &v);
	for (i = 0; i < n; i++)
		if (maps_get_egress(p->m, v[i], &e) ||
		    !(e.flags & MAGLB_EG_F_REDIRECT))
			maps_del_tx_port(p->m, v[i]);
	free(v);
}

int egress_probe(const struct maglb_maps *m, bool log_changes)
{
	struct probe p = { .m = m, .ns.self = -1 };
	__u32 *tx = NULL;
	int i, n_tx, err;

	p.rt = nl_open(NETLINK_ROUTE);
	if (p.rt < 0)
		return p.rt;
	p.ns.self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	err = p.ns.self < 0 ? -errno : dump_links(p.rt, &p.links);
	if (err) {
		pr_warn("maglb: egress: listing devices: %s\n", strerror(-err));
		goto out;
	}
	read_xdp_features(&p.xf);
	n_tx = maps_read_tx_ports(m, &tx);
	for (i = 0; i < p.links.n; i++)
		probe_dev(&p, &p.links.v[i], tx, n_tx < 0 ? 0 : n_tx,
			  log_changes);
	drop_vanished(&p);
	drop_stale_tx_ports(&p);
	/* New flows then look their next hop up with the flags just
	 * written, not a second later (NH_CACHE_NS, bpf/lib/forward.h).
	 * Established flows keep theirs until it ages out. */
	if (p.changed && (i = maps_forget_backend_nh(m)))
		pr_warn("maglb: egress: emptying maglb_backend_nh: %s\n", strerror(-i));
out:
	free(tx);
	free(p.links.v);
	free(p.xf.v);
	netns_free(&p.ns);
	if (p.ns.self >= 0)
		close(p.ns.self);
	close(p.rt);
	return err;
}

/* ---- the agent's side ------------------------------------------------------ */

int egress_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

bool egress_monitor_drain(int fd)
{
	char buf[8192] __attribute__((aligned(4)));
	bool due = false;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == ENOBUFS)	/* events lost: look again */
				due = true;
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break;
		}
		for (h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			due |= h->nlmsg_type == RTM_NEWLINK ||
			       h->nlmsg_type == RTM_DELLINK;
	}
	return due;
}

static bool was_seen(const struct egress_seen *s, __u32 ifindex, __u64 ns)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].ifindex == ifindex && s->v[i].demoted_ns == ns)
			return true;
	return false;
}

void egress_log_demotions(const struct maglb_maps *m,
			  struct egress_seen *seen)
{
	struct egress_seen now = {};
	struct maglb_egress e;
	char name[IF_NAMESIZE + 8];
	__u32 *v = NULL;
	int i, n;

	n = maps_read_egress_ifindexes(m, &v);
	now.v = n > 0 ? calloc(n, sizeof(*now.v)) : NULL;
	for (i = 0; now.v && i < n; i++) {
		struct maglb_xmit_errs x = {};

		if (maps_get_egress(m, v[i], &e) ||
		    !(e.flags & MAGLB_EG_F_DEMOTED))
			continue;
		now.v[now.n++] = (struct egress_demotion){ v[i], e.demoted_ns };
		if (was_seen(seen, v[i], e.demoted_ns))
			continue;
		maps_read_xmit_errs(m, v[i], &x);
		log_event("warn", "msg=\"egress demoted to the kernel path: the kernel dropped XDP frames there\" dev=%s ifindex=%u devmap_drops=%llu devmap_errs=%llu tx_drops=%llu redirect_errs=%llu exceptions=%llu demotions=%llu",
			  egress_dev_name(v[i], name), v[i], x.devmap_drops,
			  x.devmap_errs, x.tx_drops, x.redirect_errs,
			  x.exceptions, x.demotions);
	}
	free(v);
	if (n > 0 && !now.v)
		return;		/* out of memory: keep what was seen */
	free(seen->v);
	*seen = now;
}
