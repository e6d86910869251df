// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pathmtu.c - `ip route get ADDR` by rtnetlink (RTM_GETROUTE with RTA_DST):
 * the answer's RTAX_MTU metric when the route has one (`ip route ... mtu
 * N`, or a PMTU the kernel learned), else the MTU of its RTA_OIF device.
 * A raw socket, as egress.c does: one request, one answer.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "datapath/pathmtu.h"

static unsigned dev_mtu(int ifindex)
{
	struct ifreq ifr = {};
	int fd, rc;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return rc ? 0 : (unsigned)ifr.ifr_mtu;
}

/* The RTAX_MTU inside an RTA_METRICS attribute, or 0. */
static unsigned metrics_mtu(struct rtattr *m)
{
	int len = RTA_PAYLOAD(m);
	struct rtattr *a;

	for (a = RTA_DATA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTAX_MTU && RTA_PAYLOAD(a) >= sizeof(__u32))
			return *(__u32 *)RTA_DATA(a);
	return 0;
}

unsigned path_mtu(const union maglb_addr *addr, __u8 family)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req = {};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[8192];
	struct nlmsghdr *nh;
	struct rtattr *a;
	unsigned mtu = 0;
	int fd, n, len, alen = family == MAGLB_AF_INET ? 4 : 16, oif = 0;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = family == MAGLB_AF_INET ? AF_INET : AF_INET6;
	req.rt.rtm_dst_len = alen * 8;
	a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	a->rta_type = RTA_DST;
	a->rta_len = RTA_LENGTH(alen);
	memcpy(RTA_DATA(a), addr, alen);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(a->rta_len);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 0;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		goto out;
	n = recv(fd, buf, sizeof(buf), 0);
	for (nh = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(nh, (unsigned)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct rtmsg *rt = NLMSG_DATA(nh);

		if (nh->nlmsg_type != RTM_NEWROUTE)
			break;	/* NLMSG_ERROR: no route */
		len = RTM_PAYLOAD(nh);
		for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
			if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= 4)
				oif = *(int *)RTA_DATA(a);
			else if (a->rta_type == RTA_METRICS)
				mtu = metrics_mtu(a);
		}
		break;
	}
	if (!mtu && oif)
		mtu = dev_mtu(oif);
out:
	close(fd);
	return mtu;
}
