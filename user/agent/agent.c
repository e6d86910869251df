// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * agent.c - `maglb agent`, the long-running loop (`maglb apply`, once, is
 * cli/apply.c).
 *
 * The agent owns no datapath state: programs, links and maps are pinned, so
 * stopping or restarting it never interrupts traffic. It re-applies when a
 * config file changes (inotify on their directories, which also catches
 * editors' rename-into-place and Kubernetes ConfigMap symlink swaps), on
 * SIGHUP, and with --kubernetes when the cluster's Services or
 * EndpointSlices change (kubeapi.c); it sweeps conntrack on a timer. A bad
 * config is logged and ignored: the last good one keeps serving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include "agent/agent.h"
#include "agent/health.h"
#include "agent/lease.h"
#include "agent/metrics.h"
#include "agent/status.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "datapath/egress.h"
#include "datapath/maps.h"
#include "datapath/neigh.h"
#include "datapath/sweep.h"
#include "input/kubeapi.h"
#include "input/load.h"
#include "model/config.h"
#include "reconcile/apply.h"

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define MAX_FILES 8
/* The Lease that picks the one agent writing Gateway API status. */
#define STATUS_LEASE_NAME "maglb-status"

/* The agent's options. */
struct agent_opts {
	const char *files[MAX_FILES];
	int n_files;
	long sweep_s;
	const char *metrics;
	bool kubernetes;		/* Services, EndpointSlices, Gateway API */
	const char *kubeconfig;		/* else in-cluster */
	bool kube_allow_http;		/* an http:// server (the token in clear) */
	const char *lease_ns;		/* the status lease's namespace */
	const char *identity;		/* our name in it */
};

static int parse_agent_opts(int argc, char **argv, const char *use,
			    struct agent_opts *o)
{
	struct cli_strs files = { o->files, 0, MAX_FILES };
	struct cli_opt opts[] = {
		{ "file", 'f', CLI_STRS, &files },
		{ "sweep-interval", 's', CLI_LONG, &o->sweep_s, 1, 86400 },
		{ "metrics-address", 'm', CLI_STR, &o->metrics },
		{ "kubernetes", 0, CLI_FLAG, &o->kubernetes },
		{ "kubeconfig", 0, CLI_STR, &o->kubeconfig, .also = &o->kubernetes },
		{ "kube-allow-http", 0, CLI_FLAG, &o->kube_allow_http },
		{ "lease-namespace", 0, CLI_STR, &o->lease_ns },
		{ "identity", 0, CLI_STR, &o->identity },
		{}
	};
	int rc;

	rc = cli_parse(argc, argv, opts, use, false);
	if (rc < 0)
		return rc == CLI_HELP ? -1 : 2;
	o->n_files = files.n;
	if (!o->n_files) {
		fprintf(stderr, "Usage: %s\n", use);
		return 2;
	}
	return 0;
}

/* The bytes of every file, one after the other: what was applied, to
 * skip events that change nothing. Read as config_load_files() reads them
 * (regular files of at most 1 MiB, opened without blocking), so a FIFO
 * put in their place cannot hold the agent. */
static char *slurp(const char *const *paths, int n_paths, size_t *len,
		   char *err, size_t errlen)
{
	char *buf = NULL, *text, *t;
	size_t n = 0, l;
	int i;

	for (i = 0; i < n_paths; i++) {
		if (config_read_file(paths[i], &text, &l, err, errlen)) {
			free(buf);
			return NULL;
		}
		t = realloc(buf, n + l + 1);
		if (!t) {
			snprintf(err, errlen, "%s: out of memory", paths[i]);
			free(text);
			free(buf);
			return NULL;
		}
		buf = t;
		memcpy(buf + n, text, l);
		n += l;
		free(text);
	}
	*len = n;
	return buf;
}

struct agent {
	struct agent_opts o;
	struct maglb_maps maps;
	struct maglb_config *cfg;	/* last good config */
	char *applied;			/* its bytes, to skip no-op events */
	size_t applied_len;
	struct health *health;		/* probes of the config's backends */
	struct metrics_state ms;	/* shared with the metrics thread */
	struct kube *kube;		/* --kubernetes: the cluster's view */
	int kube_fd;			/* eventfd: the view changed */
	int link_fd;			/* rtnetlink link events */
	struct lease *lease;		/* --kubernetes: who writes status */
	struct status_writer *status;
	struct egress_seen demoted;	/* demotions already logged */
	bool waiting;			/* for the first list: nothing applied */
};

/* Load the files (and the cluster's objects) and apply them. force: even
 * if the files did not change (SIGHUP, a Kubernetes event). */
static void reload(struct agent *a, bool force)
{
	const char *file = a->o.files[0];
	char err[CFG_ERR_LEN];
	struct maglb_config *cfg;
	struct apply_stats st;
	struct health *h;
	size_t len = 0;
	char *text = slurp(a->o.files, a->o.n_files, &len, err, sizeof(err));
	int rc, i;

	/* Before every kind is listed the cluster view lacks endpoints or
	 * Gateways: applying it would empty services. What is pinned keeps
	 * serving until the API server has answered, however long that is. */
	if (a->kube && !kube_synced(a->kube)) {
		free(text);
		if (!a->waiting)
			log_event("warn", "msg=\"kubernetes not listed yet; the pinned state keeps serving\"");
		a->waiting = true;
		return;
	}
	if (a->waiting)
		log_event("info", "msg=\"kubernetes listed; applying\"");
	a->waiting = false;
	if (!text) {
		log_event("error", "msg=\"cannot read config\" file=%s error=\"%s\"",
			  file, err);
		return;
	}
	if (!force && a->applied && len == a->applied_len &&
	    !memcmp(text, a->applied, len)) {
		free(text);
		return;
	}
	cfg = config_load_files(a->o.files, a->o.n_files,
				a->kube ? kube_source(a->kube) : NULL,
				err, sizeof(err));
	if (!cfg) {
		log_event("error", "msg=\"config rejected, previous config stays\" error=\"%s\"",
			  err);
		free(text);
		return;
	}
	for (i = 0; i < cfg->n_notes; i++)
		log_event("info", "msg=\"config note\" note=\"%s\"", cfg->notes[i]);
	/* Health state carries over, so a reload never resurrects a backend
	 * that is down; the new checker points into cfg, so it replaces the
	 * old one only once cfg is live. */
	h = health_new(cfg, a->health);
	pthread_mutex_lock(&a->ms.lock);
	rc = apply_config_health(&a->maps, cfg, health_overlay(h), &st);
	a->ms.last_apply = time(NULL);
	a->ms.last_ok = !rc;
	if (!rc) {
		a->ms.generation++;
		a->ms.cfg = cfg;
		a->ms.health = health_overlay(h);
	}
	pthread_mutex_unlock(&a->ms.lock);
	if (rc) {
		log_event("error", "msg=\"apply failed\" file=%s error=\"%s\"",
			  file, strerror(-rc));
		health_free(h);
		config_free(cfg);
		free(text);
		return;
	}
	health_free(a->health);
	a->health = h;
	log_event("info", "msg=\"config applied\" file=%s services=%d backends=%d services_added=%d services_removed=%d backends_added=%d backends_removed=%d conns_closed=%d",
		  file, st.services, st.backends, st.svc_added, st.svc_removed,
		  st.be_added, st.be_removed, st.ct_closed);
	{
		/* maxEntries is fixed when attach makes the maps: a config
		 * that differs takes effect only at the next detach + attach. */
		__u32 max4, max6;

		if (!maps_ct_max_entries(&a->maps, &max4, &max6) &&
		    (max4 != cfg->ct_max_entries * 2 ||
		     max6 != cfg->ct_max_entries * 2))
			log_event("warn", "msg=\"conntrack.maxEntries differs from the live maps; it applies at the next attach after a detach\" file=%s maxEntries=%u live_ct4=%u live_ct6=%u",
				  file, cfg->ct_max_entries, max4 / 2, max6 / 2);
	}
	neigh_warm(cfg);
	config_free(a->cfg);
	free(a->applied);
	a->cfg = cfg;
	a->applied = text;
	a->applied_len = len;
	/* What this node now serves is what the status says, if we write it. */
	if (a->lease && lease_held(a->lease))
		status_sync(a->status, a->cfg);
}

/* The status lease's turn: renew or try to take it; a new holder reads
 * every object's status before writing (another wrote meanwhile), and
 * the holder retries what failed to write. */
static void lease_turn(struct agent *a)
{
	if (lease_tick(a->lease, mono_ns()) > 0)
		status_forget(a->status);
	if (lease_held(a->lease) && a->cfg && !a->waiting)
		status_sync(a->status, a->cfg);
}

/* An environment variable, NULL when unset or empty. */
static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* The lease's namespace: ours (the downward API's POD_NAMESPACE); our
 * identity: the node's name, as a DaemonSet has one agent per node. */
static int lease_start(struct agent *a)
{
	const char *ns = a->o.lease_ns ?: env_or_null("POD_NAMESPACE") ?: "maglb-system";
	const char *id = a->o.identity ?: env_or_null("NODE_NAME");
	char host[256];

	if (!id || !id[0]) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "maglb-%d", getpid());
		host[sizeof(host) - 1] = 0;
		id = host;
	}
	a->status = status_new(a->kube);
	a->lease = a->status ? lease_new(a->kube, ns, STATUS_LEASE_NAME, id) : NULL;
	return a->lease ? 0 : -1;
}

/* Did an inotify batch touch one of our files? ConfigMaps swap a "..data"
 * symlink, which counts too. */
static bool ours(const struct agent *a, const struct inotify_event *ev)
{
	char buf[512];
	int i;

	if (!ev->len)
		return false;
	if (!strncmp(ev->name, "..", 2))
		return true;
	for (i = 0; i < a->o.n_files; i++) {
		snprintf(buf, sizeof(buf), "%s", a->o.files[i]);
		if (!strcmp(ev->name, basename(buf)))
			return true;
	}
	return false;
}

/* A reachable API server lists within this: start with its view rather
 * than log that it is missing. */
#define KUBE_FIRST_WAIT_MS 2000
/* Kubernetes events come in bursts (a rollout touches many slices):
 * apply once the burst has settled this long. */
#define KUBE_SETTLE_MS 100
/* Link events too (a pod's veth pair comes with several). */
#define LINK_SETTLE_MS 100
/* A veth peer's change in another netns raises no event here: look at
 * every device this often anyway. */
#define EGRESS_PROBE_MS 2000

static void probe_egress(struct agent *a)
{
	egress_probe(&a->maps, true);
	egress_log_demotions(&a->maps, &a->demoted);
}

/* Milliseconds from now until due, for poll (0 if past). */
static int ms_until(__u64 due, __u64 now)
{
	return due > now ? (int)((due - now) / 1000000) + 1 : 0;
}

int do_agent(int argc, char **argv)
{
	struct agent a = { .o.sweep_s = 5, .kube_fd = -1, .link_fd = -1 };
	char dirbuf[512];
	__u64 next_sweep, next_probe, kube_due = 0, link_due = 0;
	bool changed;
	sigset_t mask;
	int sfd = -1, ifd = -1, rc = 1, i;
	struct metrics *metrics = NULL;
	struct pollfd pfd[4];

	rc = parse_agent_opts(argc, argv,
			      "maglb agent -f FILE [-f FILE...] [--kubernetes] [--kubeconfig PATH] [--kube-allow-http]\n"
			      "                   [--lease-namespace NS] [--identity NAME]\n"
			      "                   [--sweep-interval SECONDS] [--metrics-address [IP]:PORT]",
			      &a.o);
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
	if (a.o.metrics && !(metrics = metrics_start(a.o.metrics, &a.ms)))
		goto out;
	if (a.o.kubernetes) {
		char err[CFG_ERR_LEN];

		a.kube_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		a.kube = a.kube_fd < 0 ? NULL :
			 kube_start(a.o.kubeconfig, a.o.kube_allow_http, a.kube_fd, err, sizeof(err));
		if (!a.kube) {
			log_event("error", "msg=\"cannot watch kubernetes\" error=\"%s\"",
				  a.kube_fd < 0 ? strerror(errno) : err);
			goto out;
		}
		if (lease_start(&a))
			goto out;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ifd < 0)
		goto out;
	/* With --kubernetes, the first apply waits for the first complete
	 * list (reload() says so), in the loop below, where a signal is
	 * answered at once. */
	for (i = 0; a.kube && i < KUBE_FIRST_WAIT_MS / 10 && !kube_synced(a.kube); i++) {
		struct pollfd sp = { .fd = sfd, .events = POLLIN };

		if (poll(&sp, 1, 10) > 0)
			break;	/* a signal: the loop below reads it */
	}
	reload(&a, true);
	if (!a.cfg && !a.waiting) {
		log_event("error", "msg=\"no valid config to start with\" file=%s",
			  a.o.files[0]);
		goto out;
	}
	/* Subscribe before the first probe, so no change falls in between. */
	a.link_fd = egress_monitor_open();
	if (a.link_fd < 0) {
		log_event("error", "msg=\"cannot watch links\" error=\"%s\"",
			  strerror(-a.link_fd));
		goto out;
	}
	probe_egress(&a);
	for (i = 0; i < a.o.n_files; i++) {
		snprintf(dirbuf, sizeof(dirbuf), "%s", a.o.files[i]);
		if (inotify_add_watch(ifd, dirname(dirbuf), IN_CLOSE_WRITE |
				      IN_MOVED_TO | IN_CREATE) < 0) {
			log_event("error", "msg=\"cannot watch config\" dir=%s error=\"%s\"",
				  dirbuf, strerror(errno));
			goto out;
		}
	}
	log_event("info", "msg=\"agent running\" file=%s files=%d kubernetes=%s pin_dir=%s sweep_interval=%lds",
		  a.o.files[0], a.o.n_files, a.kube ? "yes" : "no", pin_dir,
		  a.o.sweep_s);

	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ifd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = a.kube_fd, .events = POLLIN };	/* -1: none */
	pfd[3] = (struct pollfd){ .fd = a.link_fd, .events = POLLIN };
	next_sweep = mono_ns() + a.o.sweep_s * 1000000000ULL;
	next_probe = mono_ns() + EGRESS_PROBE_MS * 1000000ULL;
	for (;;) {
		__u64 now = mono_ns();
		int timeout = ms_until(next_sweep, now);
		int hw = health_wait_ms(a.health, now / 1000000);

		if (hw >= 0 && hw < timeout)
			timeout = hw;
		if (kube_due && ms_until(kube_due, now) < timeout)
			timeout = ms_until(kube_due, now);
		if (ms_until(next_probe, now) < timeout)
			timeout = ms_until(next_probe, now);
		if (link_due && ms_until(link_due, now) < timeout)
			timeout = ms_until(link_due, now);
		if (a.lease && ms_until(lease_due(a.lease), now) < timeout)
			timeout = ms_until(lease_due(a.lease), now);

		if (poll(pfd, 4, timeout) < 0 && errno != EINTR)
			break;
		if ((pfd[3].revents & POLLIN) && egress_monitor_drain(a.link_fd) &&
		    !link_due)
			link_due = mono_ns() + LINK_SETTLE_MS * 1000000ULL;
		if ((link_due && mono_ns() >= link_due) || mono_ns() >= next_probe) {
			link_due = 0;
			probe_egress(&a);
			next_probe = mono_ns() + EGRESS_PROBE_MS * 1000000ULL;
		}
		if (a.kube && (pfd[2].revents & POLLIN)) {
			__u64 n;

			if (read(a.kube_fd, &n, sizeof(n)) == sizeof(n) && !kube_due)
				kube_due = mono_ns() + KUBE_SETTLE_MS * 1000000ULL;
		}
		if (kube_due && mono_ns() >= kube_due) {
			kube_due = 0;
			reload(&a, true);
		}
		/* After the signals' turn when one is pending: a stop does not
		 * wait for the lease (its requests give up on a pending
		 * SIGTERM anyway). */
		if (a.lease && !(pfd[0].revents & POLLIN) &&
		    mono_ns() >= lease_due(a.lease))
			lease_turn(&a);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					log_event("info", "msg=\"SIGHUP: reloading\"");
					reload(&a, true);
				} else {
					log_event("info", "msg=\"stopping; datapath stays pinned\" signal=%u",
					      si.ssi_signo);
					rc = 0;
					break;
				}
			}
		}
		if (pfd[1].revents & POLLIN) {
			char buf[4096] __attribute__((aligned(8)));
			bool mine = false;
			ssize_t len;

			while ((len = read(ifd, buf, sizeof(buf))) > 0) {
				char *p = buf;

				while (p < buf + len) {
					struct inotify_event *ev = (void *)p;

					mine |= ours(&a, ev);
					p += sizeof(*ev) + ev->len;
				}
			}
			if (mine)
				reload(&a, false);
		}
		pthread_mutex_lock(&a.ms.lock);
		changed = health_poll(a.health, mono_ns() / 1000000);
		pthread_mutex_unlock(&a.ms.lock);
		if (changed) {
			struct apply_stats st;
			int err;

			pthread_mutex_lock(&a.ms.lock);
			err = apply_config_health(&a.maps, a.cfg,
						  health_overlay(a.health), &st);
			pthread_mutex_unlock(&a.ms.lock);

			log_event(err ? "error" : "info", "msg=\"health change applied\" result=%s",
			      err ? strerror(-err) : "ok");
		}
		/* Nothing applied yet (waiting for the API server): the
		 * timeouts are not known; entries wait for the first sweep. */
		if (mono_ns() >= next_sweep && a.cfg) {
			int n = ct_sweep(&a.maps, a.cfg, mono_ns());

			neigh_warm(a.cfg);
			if (n > 0)
				log_event("debug", "msg=\"conntrack sweep\" expired=%d", n);
			next_sweep = mono_ns() + a.o.sweep_s * 1000000000ULL;
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (ifd >= 0)
		close(ifd);
	if (a.link_fd >= 0)
		close(a.link_fd);
	free(a.demoted.v);
	metrics_stop(metrics);	/* before the state it reads goes away */
	lease_release(a.lease);	/* so another agent writes status at once */
	status_free(a.status);
	kube_stop(a.kube);
	if (a.kube_fd >= 0)
		close(a.kube_fd);
	health_free(a.health);
	config_free(a.cfg);
	free(a.applied);
	maps_close(&a.maps);
	return rc;
}
