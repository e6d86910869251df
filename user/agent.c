// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * agent.c - `maglb apply` (once) and `maglb agent` (long-running).
 *
 * The agent owns no datapath state: programs, links and maps are pinned, so
 * stopping or restarting it never interrupts traffic. It re-applies when the
 * config file changes (inotify on its directory, which also catches editors'
 * rename-into-place and Kubernetes ConfigMap symlink swaps) or on SIGHUP,
 * and sweeps conntrack on a timer. A bad config is logged and ignored: the
 * last good one keeps serving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "apply.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "maps.h"
#include "health.h"
#include "metrics.h"
#include "neigh.h"
#include "sweep.h"

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One logfmt line per event. */
static void event(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void event(const char *level, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	va_list ap;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(stderr, "ts=%s level=%s ", ts, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse_file_opt(int argc, char **argv, const char *use,
			  const char **file, long *sweep_s, const char **metrics,
			  bool *check)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "sweep-interval", required_argument, NULL, 's' },
		{ "metrics-address", required_argument, NULL, 'm' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:s:m:h", opts, NULL)) != -1) {
		if (c == 'c' && check) {
			*check = true;
		} else if (c == 'm' && metrics) {
			*metrics = optarg;
		} else if (c == 'f') {
			*file = optarg;
		} else if (c == 's' && sweep_s) {
			*sweep_s = strtol(optarg, NULL, 10);
			if (*sweep_s < 1) {
				pr_warn("maglb: --sweep-interval must be >= 1\n");
				return 2;
			}
		} else {
			fprintf(c == 'h' ? stdout : stderr, "Usage: %s\n", use);
			return c == 'h' ? -1 : 2;
		}
	}
	if (!*file) {
		fprintf(stderr, "Usage: %s\n", use);
		return 2;
	}
	return 0;
}

int do_apply(int argc, char **argv)
{
	struct maglb_config *cfg;
	struct apply_stats st;
	const char *file = NULL;
	struct maglb_maps m;
	char err[CFG_ERR_LEN];
	bool check = false;
	int rc;

	rc = parse_file_opt(argc, argv, "maglb apply -f CONFIG [--check]", &file,
			    NULL, NULL, &check);
	if (rc)
		return rc < 0 ? 0 : rc;
	cfg = config_load(file, err, sizeof(err));
	if (!cfg) {
		pr_warn("maglb: invalid config: %s\n", err);
		return 1;
	}
	if (check) {	/* validate only: no maps needed */
		printf("%s: valid (%d services)\n", file, cfg->n_services);
		config_free(cfg);
		return 0;
	}
	if (maps_open_pinned(pin_dir, &m)) {
		config_free(cfg);
		return 1;
	}
	rc = apply_config(&m, cfg, &st);
	if (!rc)
		neigh_warm(cfg);
	if (!rc)
		printf("applied %s: %d services, %d backends (services +%d -%d, backends +%d -%d, connections closed %d)\n",
		       file, st.services, st.backends, st.svc_added,
		       st.svc_removed, st.be_added, st.be_removed, st.ct_closed);
	maps_close(&m);
	config_free(cfg);
	return rc ? 1 : 0;
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			char *t = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!t) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = t;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return buf;
}

struct agent {
	const char *file;
	struct maglb_maps maps;
	struct maglb_config *cfg;	/* last good config */
	char *applied;			/* its bytes, to skip no-op events */
	size_t applied_len;
	struct health *health;		/* probes of the config's backends */
	struct metrics_state ms;	/* shared with the metrics thread */
};

static void reload(struct agent *a, bool force)
{
	char err[CFG_ERR_LEN];
	struct maglb_config *cfg;
	struct apply_stats st;
	struct health *h;
	size_t len = 0;
	char *text = slurp(a->file, &len);
	int rc;

	if (!text) {
		event("error", "msg=\"cannot read config\" file=%s error=\"%s\"",
		      a->file, strerror(errno));
		return;
	}
	if (!force && a->applied && len == a->applied_len &&
	    !memcmp(text, a->applied, len)) {
		free(text);
		return;
	}
	cfg = config_load(a->file, err, sizeof(err));
	if (!cfg) {
		event("error", "msg=\"config rejected, previous config stays\" error=\"%s\"",
		      err);
		free(text);
		return;
	}
	/* Health state carries over, so a reload never resurrects a backend
	 * that is down; the new checker points into cfg, so it replaces the
	 * old one only once cfg is live. */
	h = health_new(cfg, a->health);
	pthread_mutex_lock(&a->ms.lock);
	rc = apply_config(&a->maps, cfg, &st);
	a->ms.last_apply = time(NULL);
	a->ms.last_ok = !rc;
	if (!rc) {
		a->ms.generation++;
		a->ms.cfg = cfg;
	}
	pthread_mutex_unlock(&a->ms.lock);
	if (rc) {
		event("error", "msg=\"apply failed\" file=%s error=\"%s\"",
		      a->file, strerror(-rc));
		health_free(h);
		config_free(cfg);
		free(text);
		return;
	}
	health_free(a->health);
	a->health = h;
	event("info", "msg=\"config applied\" file=%s services=%d backends=%d services_added=%d services_removed=%d backends_added=%d backends_removed=%d conns_closed=%d",
	      a->file, st.services, st.backends, st.svc_added, st.svc_removed,
	      st.be_added, st.be_removed, st.ct_closed);
	neigh_warm(cfg);
	config_free(a->cfg);
	free(a->applied);
	a->cfg = cfg;
	a->applied = text;
	a->applied_len = len;
}

int do_agent(int argc, char **argv)
{
	struct agent a = {};
	char dirbuf[512], basebuf[512], *dir, *base;
	__u64 next_sweep;
	long sweep_s = 5;
	bool changed;
	sigset_t mask;
	int sfd = -1, ifd = -1, rc = 1;
	const char *metrics_addr = NULL;
	struct metrics *metrics = NULL;
	struct pollfd pfd[2];

	rc = parse_file_opt(argc, argv,
			    "maglb agent -f CONFIG [--sweep-interval SECONDS] [--metrics-address [IP]:PORT]",
			    &a.file, &sweep_s, &metrics_addr, NULL);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = 1;
	if (maps_open_pinned(pin_dir, &a.maps))
		return 1;
	/* Block the signals before any thread exists: threads inherit the
	 * mask, and a metrics thread that did not block SIGTERM would take
	 * it with the default action, killing the agent uncleanly. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pthread_mutex_init(&a.ms.lock, NULL);
	a.ms.maps = &a.maps;
	if (metrics_addr && !(metrics = metrics_start(metrics_addr, &a.ms)))
		goto out;
	reload(&a, true);
	if (!a.cfg) {
		event("error", "msg=\"no valid config to start with\" file=%s",
		      a.file);
		goto out;
	}

	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	snprintf(dirbuf, sizeof(dirbuf), "%s", a.file);
	snprintf(basebuf, sizeof(basebuf), "%s", a.file);
	dir = dirname(dirbuf);
	base = basename(basebuf);
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ifd < 0 ||
	    inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
				       IN_CREATE) < 0) {
		event("error", "msg=\"cannot watch config\" dir=%s error=\"%s\"",
		      dir, strerror(errno));
		goto out;
	}
	event("info", "msg=\"agent running\" file=%s pin_dir=%s sweep_interval=%lds",
	      a.file, pin_dir, sweep_s);

	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ifd, .events = POLLIN };
	next_sweep = mono_ns() + sweep_s * 1000000000ULL;
	for (;;) {
		__u64 now = mono_ns();
		int timeout = now >= next_sweep ? 0 :
			      (int)((next_sweep - now) / 1000000) + 1;
		int hw = health_wait_ms(a.health, now / 1000000);

		if (hw >= 0 && hw < timeout)
			timeout = hw;

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					event("info", "msg=\"SIGHUP: reloading\"");
					reload(&a, true);
				} else {
					event("info", "msg=\"stopping; datapath stays pinned\" signal=%u",
					      si.ssi_signo);
					rc = 0;
					break;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			char buf[4096] __attribute__((aligned(8)));
			bool ours = false;
			ssize_t len;

			while ((len = read(ifd, buf, sizeof(buf))) > 0) {
				char *p = buf;

				while (p < buf + len) {
					struct inotify_event *ev = (void *)p;

					/* ConfigMaps swap a "..data" symlink. */
					if (ev->len && (!strcmp(ev->name, base) ||
							!strncmp(ev->name, "..", 2)))
						ours = true;
					p += sizeof(*ev) + ev->len;
				}
			}
			if (ours)
				reload(&a, false);
		}
		pthread_mutex_lock(&a.ms.lock);
		changed = health_poll(a.health, a.cfg, mono_ns() / 1000000);
		pthread_mutex_unlock(&a.ms.lock);
		if (changed) {
			struct apply_stats st;
			int err;

			pthread_mutex_lock(&a.ms.lock);
			err = apply_config(&a.maps, a.cfg, &st);
			pthread_mutex_unlock(&a.ms.lock);

			event(err ? "error" : "info", "msg=\"health change applied\" result=%s",
			      err ? strerror(-err) : "ok");
		}
		if (mono_ns() >= next_sweep) {
			int n = ct_sweep(&a.maps, a.cfg, mono_ns());

			neigh_warm(a.cfg);

			if (n > 0)
				event("debug", "msg=\"conntrack sweep\" expired=%d", n);
			next_sweep = mono_ns() + sweep_s * 1000000000ULL;
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (ifd >= 0)
		close(ifd);
	metrics_stop(metrics);	/* before the state it reads goes away */
	health_free(a.health);
	config_free(a.cfg);
	free(a.applied);
	maps_close(&a.maps);
	return rc;
}
