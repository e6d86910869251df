/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pathmtu.h - the MTU of the path toward an address, as this netns's
 * kernel routes to it: what a Cookie/Header service's SYN-ACK may promise
 * (maglb_service.mtu; docs/splicing.md, "Path MTU").
 */
#ifndef MAGLB_PATHMTU_H
#define MAGLB_PATHMTU_H

#include "maglb.h"

/* The route's MTU (its mtu metric, a learned PMTU included), else its
 * egress device's; 0 when there is no route or netlink fails. */
unsigned path_mtu(const union maglb_addr *a, __u8 family);

#endif
