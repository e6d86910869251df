// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/addr.h"

int addr_parse(const char *s, union maglb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1)
		return MAGLB_AF_INET;
	if (inet_pton(AF_INET6, s, a->v6) == 1)
		return MAGLB_AF_INET6;
	return 0;
}

int addr_port_parse(const char *s, union maglb_addr *a, __u16 *port)
{
	char buf[ADDR_STRLEN];
	const char *p;
	char *end;
	long v;
	int fam;

	*port = 0;
	if (strlen(s) >= sizeof(buf))
		return 0;
	if (s[0] == '[') {
		p = strchr(s, ']');
		if (!p)
			return 0;
		memcpy(buf, s + 1, p - s - 1);
		buf[p - s - 1] = 0;
		p++;
	} else if ((p = strchr(s, ':')) && !strchr(p + 1, ':')) {
		memcpy(buf, s, p - s);
		buf[p - s] = 0;
	} else {
		snprintf(buf, sizeof(buf), "%s", s);
		p = NULL;
	}
	fam = addr_parse(buf, a);
	if (!fam)
		return 0;
	if (p && *p) {
		if (*p != ':')
			return 0;
		v = strtol(p + 1, &end, 10);
		if (*end || v < 1 || v > 65535)
			return 0;
		*port = v;
	}
	return fam;
}

const char *addr_str(const union maglb_addr *a, int family, char *buf)
{
	if (family == MAGLB_AF_INET6)
		inet_ntop(AF_INET6, a->v6, buf, ADDR_STRLEN);
	else
		inet_ntop(AF_INET, &a->v4, buf, ADDR_STRLEN);
	return buf;
}

const char *addr_port_str(const union maglb_addr *a, int family, __be16 port,
			  char *buf)
{
	char ip[INET6_ADDRSTRLEN];

	addr_str(a, family, ip);
	if (family == MAGLB_AF_INET6)
		snprintf(buf, ADDR_STRLEN, "[%s]:%u", ip, ntohs(port));
	else
		snprintf(buf, ADDR_STRLEN, "%s:%u", ip, ntohs(port));
	return buf;
}

const char *proto_str(int proto)
{
	return proto == IPPROTO_UDP ? "UDP" : "TCP";
}
