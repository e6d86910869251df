// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * connrate.c - how many TCP connections one client thread opens per second
 * through an option. It keeps CONC non-blocking connects in flight; a
 * connect that completes counts, and the socket is then closed with an RST
 * (SO_LINGER 0), so neither side keeps TIME_WAIT and a run of any length
 * never runs out of ports. Run it pinned to one core (taskset) so the
 * figure is per client core.
 *
 * With HEAD_FILE, each connection also sends that request head in one
 * write once connected, and counts when the first bytes of an "HTTP/1.1
 * 200" answer arrive; then the RST. Four '@' in the head are replaced by a
 * counter (0000-0999), so 1000 cookies take turns.
 *
 *   connrate ADDR PORT SECONDS [CONC [HEAD_FILE]]
 *   prints: <opened> <failed> <per second>
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define MAX_FD 65536
static char head[16384], *head_ctr;
static int head_len;
static unsigned char sent_head[MAX_FD];	/* per fd: the head is out */

static int load_head(const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	head_len = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	head[head_len] = 0;
	head_ctr = strstr(head, "@@@@");
	return head_len > 0 ? 0 : -1;
}

/* Connected: send the head (one write); 0 if it all went. */
static int send_head(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	static unsigned int n;
	char d[5];

	if (head_ctr) {
		snprintf(d, sizeof(d), "%04u", n++ % 1000);
		memcpy(head_ctr, d, 4);
	}
	if (write(fd, head, head_len) != head_len)
		return -1;
	sent_head[fd] = 1;
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static int start_connect(int ep, const struct sockaddr_in *to)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || fd >= MAX_FD) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sent_head[fd] = 0;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct epoll_event evs[256];
	long opened = 0, failed = 0;
	double secs, t0, end;
	int ep, conc, i, n, inflight = 0;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: connrate ADDR PORT SECONDS [CONC [HEAD_FILE]]\n");
		return 2;
	}
	if (argc > 5 && load_head(argv[5])) {
		fprintf(stderr, "connrate: cannot read a head from %s\n", argv[5]);
		return 2;
	}
	to.sin_port = htons(atoi(argv[2]));
	secs = atof(argv[3]);
	conc = argc > 4 ? atoi(argv[4]) : 32;
	ep = epoll_create1(0);
	if (ep < 0)
		return 1;
	t0 = now_s();
	end = t0 + secs;
	while (now_s() < end) {
		while (inflight < conc && !start_connect(ep, &to))
			inflight++;
		n = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t len = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err || (evs[i].events & (EPOLLERR | EPOLLHUP))) {
				failed++;
			} else if (head_len && !sent_head[fd]) {
				if (!send_head(ep, fd))
					continue;	/* now wait for the answer */
				failed++;
			} else if (head_len) {
				char buf[4096];
				ssize_t got = read(fd, buf, sizeof(buf));

				if (got >= 12 && !memcmp(buf, "HTTP/1.1 200", 12))
					opened++;
				else
					failed++;
			} else {
				opened++;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			inflight--;
		}
	}
	printf("%ld %ld %.0f\n", opened, failed, opened / (now_s() - t0));
	return 0;
}
