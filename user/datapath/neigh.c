// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * neigh.c - bpf_fib_lookup() only returns a next-hop MAC that the kernel
 * already knows; XDP cannot resolve one. On a miss the datapath passes the
 * rewritten packet to the kernel, which forwards it in nat mode but drops it
 * in snat mode (its source is the node's own address). So the agent makes
 * the kernel resolve every backend ahead of the first packet: an empty UDP
 * datagram to the discard port does it. STALE entries still carry a MAC, so
 * a refresh every few seconds is plenty.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "datapath/neigh.h"

#define DISCARD_PORT 9

void neigh_warm(const struct maglb_config *cfg)
{
	int i, j;

	for (i = 0; i < cfg->n_services; i++) {
		const struct cfg_service *s = &cfg->services[i];

		for (j = 0; j < s->n_backends; j++) {
			const struct cfg_backend *b = &s->backends[j];
			struct sockaddr_storage ss = {};
			socklen_t len;
			int fd;

			if (b->family == MAGLB_AF_INET) {
				struct sockaddr_in *sin = (void *)&ss;

				sin->sin_family = AF_INET;
				sin->sin_port = htons(DISCARD_PORT);
				sin->sin_addr.s_addr = b->addr.v4;
				len = sizeof(*sin);
			} else {
				struct sockaddr_in6 *sin6 = (void *)&ss;

				sin6->sin6_family = AF_INET6;
				sin6->sin6_port = htons(DISCARD_PORT);
				memcpy(&sin6->sin6_addr, b->addr.v6, 16);
				len = sizeof(*sin6);
			}
			fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			sendto(fd, "", 0, MSG_DONTWAIT, (void *)&ss, len);
			close(fd);
		}
	}
}
