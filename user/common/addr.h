/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* addr.h - parse and print maglb addresses (IPv4 and IPv6). */
#ifndef MAGLB_ADDR_H
#define MAGLB_ADDR_H

#include <stdbool.h>
#include <netinet/in.h>
#include "maglb.h"

#define ADDR_STRLEN 64

/* Parse "1.2.3.4" or "2001:db8::1"; returns family (4/6) or 0. */
int addr_parse(const char *s, union maglb_addr *a);
/* Parse "IP", "IP:PORT" or "[IPv6]:PORT"; port stays 0 when absent. */
int addr_port_parse(const char *s, union maglb_addr *a, __u16 *port);
const char *addr_str(const union maglb_addr *a, int family, char *buf);
/* "IP:PORT" or "[IP]:PORT"; port in network order. */
const char *addr_port_str(const union maglb_addr *a, int family, __be16 port,
			  char *buf);
const char *proto_str(int proto);

#endif
