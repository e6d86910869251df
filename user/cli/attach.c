// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * attach.c - `maglb attach|detach|status`: where the XDP program meets a
 * device. Links and maps are pinned under the pin directory, so neither
 * this process nor the agent has to stay alive for packets to flow.
 * Attaching to a device that already has our link swaps the program in
 * place (bpf_link_update): an upgrade drops nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "common/addr.h"
#include "common/cliopt.h"
#include "common/log.h"
#include "common/names.h"
#include "datapath/egress.h"
#include "datapath/kernel.h"
#include "datapath/maps.h"
#include "input/load.h"
#include "input/source.h"
#include "model/config.h"
#include "maglb.skel.h"
#include "maglb_tc.skel.h"
#include "maglb_trace.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static int mkdir_p(const char *dir)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Mount bpffs at /sys/fs/bpf when the node has none (minimal hosts). */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		pr_warn("maglb: /sys/fs/bpf is not bpffs and mounting it failed: %m\n");
		return -errno;
	}
	pr_info("maglb: mounted bpffs at /sys/fs/bpf\n");
	return 0;
}

/* Our TC filter: ingress, one fixed handle and priority per device. */
#define MAGLB_TC_HANDLE		0x6d6c	/* "ml" */
#define MAGLB_TC_PRIORITY	1

static int attach_tc(unsigned int ifindex, int prog_fd, const char *dev)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MAGLB_TC_HANDLE,
		    .priority = MAGLB_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		pr_warn("maglb: attach: %s: creating the clsact qdisc: %s\n", dev,
			strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("maglb: attach: %s: TC ingress filter: %s\n", dev,
			strerror(-err));
	return err;
}

static void detach_tc(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MAGLB_TC_HANDLE,
		    .priority = MAGLB_TC_PRIORITY);

	bpf_tc_detach(&hook, &opts);	/* the qdisc may serve others: keep */
}

static void link_path(char *buf, size_t len, const char *dev)
{
	snprintf(buf, len, "%s/links/%s", pin_dir, dev);
}

static int attach_dev(int prog_fd, int tc_fd, const char *dev, __u32 mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = mode);
	unsigned int ifindex = if_nametoindex(dev);
	char path[512];
	int fd, err;

	if (!ifindex) {
		pr_warn("maglb: attach: no device named %s\n", dev);
		return -ENODEV;
	}
	link_path(path, sizeof(path), dev);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (err)
			pr_warn("maglb: attach: updating program on %s: %s\n",
				dev, strerror(-err));
		else
			pr_info("maglb: %s: program replaced in place\n", dev);
		return err ?: attach_tc(ifindex, tc_fd, dev);
	}
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	if (fd < 0) {
		err = -errno;
		if (mode == XDP_FLAGS_DRV_MODE &&
		    (err == -EOPNOTSUPP || err == -EINVAL))
			pr_warn("maglb: attach: %s: native XDP is not supported by this driver (%s); use --mode generic\n",
				dev, strerror(-err));
		else if (err == -EBUSY || err == -EEXIST)
			pr_warn("maglb: attach: %s already has an XDP program that is not maglb's; remove it first\n",
				dev);
		else
			pr_warn("maglb: attach: %s: %s\n", dev, strerror(-err));
		return err;
	}
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		pr_warn("maglb: attach: pinning %s: %m\n", path);
		close(fd);	/* closing the only reference detaches */
		return err;
	}
	close(fd);
	err = attach_tc(ifindex, tc_fd, dev);
	if (!err)
		pr_info("maglb: attached to %s (ifindex %u, %s mode)\n", dev,
			ifindex, mode == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	return err;
}

/* The tracing programs' links live under trace/, one per program, apart
 * from links/ (which lists the devices we are attached to). */
static void trace_path(char *buf, size_t len, const char *prog)
{
	snprintf(buf, len, "%s/trace/%s", pin_dir, prog);
}

/* Detach and unpin a pinned tracing link, if there is one. */
static void trace_unpin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return;
	bpf_link_detach(fd);	/* other holders must not keep it */
	close(fd);
	unlink(path);
}

/* Attach every program of the loaded tracing object and pin its link,
 * replacing the link an earlier attach pinned: tracing links cannot swap
 * their program (no bpf_link_update), so the old one goes first and the
 * events are never counted twice. */
static int trace_attach_all(struct maglb_trace_bpf *trace)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[512];
	int err;

	bpf_object__for_each_program(prog, trace->obj) {
		trace_path(path, sizeof(path), bpf_program__name(prog));
		trace_unpin(path);
		link = bpf_program__attach(prog);	/* tp_btf or raw_tp */
		if (!link)
			return -errno;
		err = bpf_link__pin(link, path);
		bpf_link__destroy(link);	/* the pin holds it */
		if (err)
			return err;
	}
	return 0;
}

/* Load and attach maglb_trace.bpf.c beside the XDP object, on its maps.
 * Forwarding does not depend on it, so a kernel that refuses it (no
 * tp_btf for these events) gets one warning and an attach that goes on;
 * libbpf's own lines about it only with -v. */
static void trace_setup(struct bpf_object *xdp)
{
	libbpf_print_fn_t libbpf_print = NULL;
	struct maglb_trace_bpf *trace;
	char dir[512];
	struct stat ns;
	int err;

	snprintf(dir, sizeof(dir), "%s/trace", pin_dir);
	if (log_level < LOG_DEBUG)
		libbpf_print = libbpf_set_print(NULL);
	trace = maglb_trace_bpf__open();
	err = trace ? 0 : -errno;
	/* Only our namespace's devices count (maglb_trace.bpf.c). */
	if (!err && !stat("/proc/self/ns/net", &ns))
		trace->rodata->maglb_netns_ino = ns.st_ino;
	if (!err)
		err = maps_share(xdp, trace->obj);
	if (!err)
		err = maglb_trace_bpf__load(trace);
	if (!err)
		err = mkdir_p(dir);
	if (!err)
		err = trace_attach_all(trace);
	if (log_level < LOG_DEBUG)
		libbpf_set_print(libbpf_print);
	if (err)
		pr_warn("maglb: attach: the kernel's XDP transmit errors will not be counted and devices whose transmits fail not demoted (loading or attaching maglb_trace: %s; -v for libbpf's log); forwarding goes on\n",
			strerror(-err));
	maglb_trace_bpf__destroy(trace);
}

/* Detach every tracing link pinned under trace/ and remove the dir. */
static void trace_unpin_all(void)
{
	char dir[512], path[1024];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/trace", pin_dir);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		trace_unpin(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* Maps an older release pinned and this one does not. attach refuses to
 * run beside them (the old program's state is in them), and detach removes
 * them, so the upgrade is detach + attach and leaves nothing behind. */
static const char *const retired_pins[] = {
	"maglb_ct",	/* split by family into maglb_ct4 and maglb_ct6 */
};

/* The first retired pin present under the pin dir, or NULL. */
static const char *retired_pin_present(void)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(retired_pins) / sizeof(retired_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, retired_pins[i]);
		if (!access(path, F_OK))
			return retired_pins[i];
	}
	return NULL;
}

/*
 * The conntrack's size is fixed when its maps are made. A pin from before
 * (an LRU of an older release, or another maxEntries) is checked here,
 * before libbpf would fail on it with a bare EINVAL: with no device
 * attached it is replaced (its entries belong to no one); with devices
 * attached it is refused, naming the pin and the fix. want: the entries
 * asked for, 0 = whatever the pin has (no size given: keep it).
 * Returns 0 (pin reusable, or gone), or 1 (refused).
 */
static int ct_pin_check(const char *name, __u32 key_size, __u32 want,
			bool attached)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512], why[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;	/* nothing pinned: attach makes it */
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return 0;	/* let libbpf say what is wrong */
	}
	close(fd);
	if (info.type != BPF_MAP_TYPE_HASH)
		snprintf(why, sizeof(why), "is of map type %u (an older release's LRU), not a hash",
			 info.type);
	else if (info.key_size != key_size ||
		 info.value_size != sizeof(struct maglb_ct_entry))
		snprintf(why, sizeof(why), "has %u-byte keys and %u-byte values, this release %u and %zu",
			 info.key_size, info.value_size, key_size,
			 sizeof(struct maglb_ct_entry));
	else if (want && info.max_entries != want)
		snprintf(why, sizeof(why), "holds %u entries (%u connections), conntrack.maxEntries asks %u connections",
			 info.max_entries, info.max_entries / 2, want / 2);
	else
		return 0;
	if (attached) {
		pr_warn("maglb: attach: %s %s; its tracked connections cannot carry over: run `maglb detach` on every device (it drops them) and attach again, or attach without --config/--ct-max-entries to keep it\n",
			path, why);
		return 1;
	}
	if (unlink(path)) {
		pr_warn("maglb: attach: %s %s and cannot be removed: %m\n", path, why);
		return 1;
	}
	pr_info("maglb: attach: %s %s; no device was attached, so it is made anew\n",
		path, why);
	return 0;
}

/*
 * The tail-call array of an older release can have fewer slots
 * (MAGLB_PROG_MAX), which libbpf would refuse to reuse. It holds only
 * programs, which attach puts in again: with no device attached it is
 * made anew; with devices attached their programs still use it, so it is
 * refused, as ct_pin_check does. Returns 0 or 1 (refused).
 */
static int progs_pin_check(bool attached)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/maglb_progs", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.max_entries == MAGLB_PROG_MAX) {
		close(fd);
		return 0;
	}
	close(fd);
	if (attached) {
		pr_warn("maglb: attach: %s has %u slots, this release %u: run `maglb detach` on every device and attach again\n",
			path, info.max_entries, MAGLB_PROG_MAX);
		return 1;
	}
	if (unlink(path)) {
		pr_warn("maglb: attach: %s has %u slots, this release %u, and cannot be removed: %m\n",
			path, info.max_entries, MAGLB_PROG_MAX);
		return 1;
	}
	return 0;
}

static int links_left(void);

/* The Gateway API objects of an API server not asked yet: none. */
static int no_manifests(void *arg, struct cfg_doc **docs, int *n)
{
	(void)arg;
	(void)docs;
	(void)n;
	return 0;
}

int do_attach(int argc, char **argv)
{
	const char *mode_name = "native", *cfg_file = NULL;
	long ct_max = 0;
	struct cli_opt opts[] = {
		{ "mode", 'm', CLI_STR, &mode_name },
		{ "config", 'f', CLI_STR, &cfg_file },
		{ "ct-max-entries", 0, CLI_LONG, &ct_max, MAGLB_CT_MIN_CONNS,
		  MAGLB_CT_MAX_CONNS },
		{}
	};
	const char *use = "maglb attach DEV... [--mode native|generic] [--config FILE] [--ct-max-entries CONNECTIONS]";
	__u32 ct_conns = 0, max4 = 0, max6 = 0;
	bool attached;
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct maglb_bpf *skel = NULL;
	struct maglb_tc_bpf *tc = NULL;
	struct maglb_maps m;
	__u32 mode = XDP_FLAGS_DRV_MODE;
	char links[512], tx_pin[512];
	const char *old_pin;
	int c, i, err = 0, tx_fd = -1;

	maps_init(&m);
	c = cli_parse(argc, argv, opts, use, false);
	if (c < 0)
		return c == CLI_HELP ? 0 : 2;
	if (!strcmp(mode_name, "generic")) {
		mode = XDP_FLAGS_SKB_MODE;
	} else if (strcmp(mode_name, "native")) {
		fprintf(stderr, "maglb: --mode: native or generic, not '%s'\nUsage: %s\n",
			mode_name, use);
		return 2;
	}
	if (c >= argc) {
		pr_warn("maglb: attach: name at least one device\n");
		return 2;
	}
	/* conntrack.maxEntries from the config, unless --ct-max-entries
	 * says otherwise; neither: the pinned maps' size, or the default. */
	if (cfg_file && !ct_max) {
		/* Read as the agent with --kubernetes reads it, before the API
		 * server has given it any object: the DaemonSet's maglb.yaml
		 * has a gateway block whose Gateways come from there. */
		const struct cfg_source api = { .manifests = no_manifests };
		char err[CFG_ERR_LEN];
		struct maglb_config *cfg = config_load_files(&cfg_file, 1, &api,
							     err, sizeof(err));

		if (!cfg) {
			pr_warn("maglb: attach: invalid config: %s\n", err);
			return 1;
		}
		ct_conns = cfg->ct_max_entries;
		config_free(cfg);
	} else if (ct_max) {
		ct_conns = ct_max;
	}
	if (kernel_check("attach") || ensure_bpffs())
		return 1;
	old_pin = retired_pin_present();
	if (old_pin) {
		pr_warn("maglb: attach: %s/%s is an older release's map: its tracked connections cannot carry over; run `maglb detach` (it drops them) and attach again\n",
			pin_dir, old_pin);
		return 1;
	}
	snprintf(links, sizeof(links), "%s/links", pin_dir);
	err = mkdir_p(links);
	if (err) {
		pr_warn("maglb: attach: creating %s: %s\n", links, strerror(-err));
		return 1;
	}

	attached = links_left() > 0;
	if (ct_pin_check("maglb_ct4", sizeof(struct maglb_flow4), ct_conns * 2,
			 attached) ||
	    ct_pin_check("maglb_ct6", sizeof(struct maglb_flow), ct_conns * 2,
			 attached) ||
	    progs_pin_check(attached))
		return 1;

	oopts.pin_root_path = pin_dir;
	skel = maglb_bpf__open_opts(&oopts);
	if (!skel) {
		pr_warn("maglb: attach: opening BPF object: %m\n");
		return 1;
	}
	/* Pins that exist keep their size (checked above); new ones get it. */
	err = maps_set_ct_size(skel->obj, ct_conns ? ct_conns :
			       MAGLB_CT_DEFAULT_CONNS);
	if (err) {
		pr_warn("maglb: attach: sizing the conntrack: %s\n", strerror(-err));
		goto cleanup;
	}
	/* See maglb_tx_ports in bpf/lib/maps.h for why this one is manual. */
	snprintf(tx_pin, sizeof(tx_pin), "%s/maglb_tx_ports", pin_dir);
	tx_fd = bpf_obj_get(tx_pin);
	if (tx_fd >= 0 && bpf_map__reuse_fd(skel->maps.maglb_tx_ports, tx_fd)) {
		pr_warn("maglb: attach: cannot reuse %s: %m\n", tx_pin);
		err = -errno;
		goto cleanup;
	}
	err = maglb_bpf__load(skel);
	if (!err && tx_fd < 0)
		err = bpf_map__pin(skel->maps.maglb_tx_ports, tx_pin);
	if (err) {
		pr_warn("maglb: attach: loading BPF program failed: %s (run with -v for the verifier log)\n",
			strerror(-err));
		goto cleanup;
	}
	err = maps_from_object(skel->obj, &m);
	if (!err)
		err = maps_put_progs(&m, skel->obj);
	if (!err) {
		/* A node's first attach picks a random syncookie key; a config
		 * with syncookieKey replaces it so that nodes agree. */
		struct maglb_secret key;

		if (getrandom(&key, sizeof(key), 0) != sizeof(key))
			err = -errno;
		else
			err = maps_put_secret(&m, &key, true);
	}
	if (err) {
		pr_warn("maglb: attach: setting up maps: %s\n", strerror(-err));
		goto cleanup;
	}
	/* What the operator pays for maxEntries: preallocated, so all of it
	 * from now on, as the kernel counts it (fdinfo memlock). */
	if (!maps_ct_max_entries(&m, &max4, &max6)) {
		long long b4 = maps_memlock(m.ct4), b6 = maps_memlock(m.ct6);

		pr_info("maglb: conntrack: %u connections (maglb_ct4 %u entries, %.1f MiB; maglb_ct6 %u entries, %.1f MiB)\n",
			max4 / 2, max4, b4 / 1048576.0, max6, b6 / 1048576.0);
		/* The connections above are snat's and delayed binding's,
		 * which take two entries each; a plain NAT one takes one. */
		pr_info("maglb: conntrack: up to %u plain NAT connections (one entry each)\n",
			max4);
	}
	tc = maglb_tc_bpf__open();
	err = tc ? maps_share(skel->obj, tc->obj) : -errno;
	if (!err)
		err = maglb_tc_bpf__load(tc);
	if (err) {
		pr_warn("maglb: attach: loading the TC program: %s\n",
			strerror(-err));
		goto cleanup;
	}
	trace_setup(skel->obj);
	for (i = c; i < argc; i++) {
		err = attach_dev(bpf_program__fd(skel->progs.maglb_xdp),
				 bpf_program__fd(tc->progs.maglb_tc), argv[i],
				 mode);
		if (err)
			goto cleanup;
	}
	/* With our programs on the devices: which XDP frames each takes. */
	err = egress_probe(&m, false);
cleanup:
	if (tx_fd >= 0)
		close(tx_fd);
	maps_close(&m);
	maglb_tc_bpf__destroy(tc);	/* the TC filter holds its program */
	maglb_bpf__destroy(skel);	/* pins keep maps and links alive */
	return err ? 1 : 0;
}

static int links_left(void)
{
	char dir[512];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/links", pin_dir);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp)))
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void unpin_all(void)
{
	char path[512];
	size_t i;

#define X(n)								\
	snprintf(path, sizeof(path), "%s/maglb_" #n, pin_dir);		\
	unlink(path);
	MAGLB_MAPS(X)
#undef X
	for (i = 0; i < sizeof(retired_pins) / sizeof(retired_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, retired_pins[i]);
		unlink(path);
	}
	trace_unpin_all();
	snprintf(path, sizeof(path), "%s/links", pin_dir);
	rmdir(path);
	if (rmdir(pin_dir) && errno != ENOENT)
		pr_warn("maglb: detach: %s not removed: %m\n", pin_dir);
	else
		pr_info("maglb: last device detached; removed %s\n", pin_dir);
}

int do_detach(int argc, char **argv)
{
	struct maglb_maps m;
	char path[512];
	int i, fd, rc = 0;
	bool have_maps;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("Usage: maglb detach DEV...\n");
		return argc < 2 ? 2 : 0;
	}
	have_maps = !maps_open_pinned(pin_dir, &m);
	for (i = 1; i < argc; i++) {
		unsigned int ifindex = if_nametoindex(argv[i]);

		link_path(path, sizeof(path), argv[i]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			pr_warn("maglb: detach: %s is not attached (no %s)\n",
				argv[i], path);
			rc = 1;
			continue;
		}
		/* Detach explicitly: other holders of the link (a bpftool
		 * session) must not keep the program on the device. */
		if (bpf_link_detach(fd))
			pr_warn("maglb: detach: %s: %m\n", argv[i]);
		close(fd);
		unlink(path);
		if (ifindex)
			detach_tc(ifindex);
		pr_info("maglb: detached from %s\n", argv[i]);
	}
	/* A driver without our program takes no XDP frames now. */
	if (have_maps && links_left() && egress_probe(&m, false))
		rc = 1;
	if (have_maps)
		maps_close(&m);
	if (!links_left())
		unpin_all();
	return rc;
}

/* How packets leave by each device maglb_egress has, by ifindex. */
static void print_egress(const struct maglb_maps *m)
{
	struct maglb_handoff h = {};
	struct timespec ts;
	__u32 *v = NULL;
	__u64 now;
	int i, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	maps_get_handoff(m, &h);
	n = egress_ifindexes(m, &v);
	printf(json_output ? ",\"egress\":[" : "egress:\n");
	if (!json_output && n > 0)
		printf("  %-16s %7s  %-10s %-8s %-12s %s\n", "DEVICE", "IFINDEX",
		       "REDIRECTED", "XDP_TX", "DEMOTED", "WHY");
	for (i = 0; i < n; i++) {
		struct maglb_egress e;
		char name[IF_NAMESIZE + 8], since[32] = "no";
		const char *rp, *tp;
		double ago = 0;
		bool dem;

		if (maps_get_egress(m, v[i], &e))
			continue;
		egress_dev_name(v[i], name);
		rp = path_name(egress_path(&e, false, h.no_meta));
		tp = path_name(egress_path(&e, true, h.no_meta));
		dem = e.flags & MAGLB_EG_F_DEMOTED;
		if (dem && e.demoted_ns && e.demoted_ns <= now)
			ago = (now - e.demoted_ns) / 1e9;
		if (dem)
			snprintf(since, sizeof(since), "%.0fs ago", ago);
		if (json_output)
			printf("%s{\"dev\":\"%s\",\"ifindex\":%u,\"redirect_path\":\"%s\",\"tx_path\":\"%s\",\"redirect\":%s,\"xdp_tx\":%s,\"peer_redirect\":%s,\"demoted\":%s,\"demoted_s_ago\":%.1f,\"why\":\"%s\",\"peer_ifindex\":%u,\"peer_nsid\":%d,\"peer_prog_id\":%u,\"peer_gro\":%u}",
			       i ? "," : "", name, v[i], rp, tp,
			       e.flags & MAGLB_EG_F_REDIRECT ? "true" : "false",
			       e.flags & MAGLB_EG_F_TX ? "true" : "false",
			       e.flags & MAGLB_EG_F_PEER ? "true" : "false",
			       dem ? "true" : "false", ago,
			       egress_why_name(e.why), e.peer_ifindex,
			       e.peer_nsid, e.peer_prog_id, e.peer_gro);
		else
			printf("  %-16s %7u  %-10s %-8s %-12s %s\n", name, v[i],
			       rp, tp, since,
			       egress_why_name(e.why));
	}
	if (json_output)
		printf("]");
	else if (n <= 0)
		printf("  (none)\n");
	free(v);
}

int do_status(int argc, char **argv)
{
	struct svc_item *svcs = NULL;
	struct maglb_backend *all;
	struct maglb_maps m;
	char dir[512], ap[ADDR_STRLEN];
	struct dirent *d;
	DIR *dp;
	int i, n, first = 1;

	if ((i = cli_simple_opts(argc, argv, "maglb status [--json]")) < 0)
		return i == CLI_HELP ? 0 : 2;
	snprintf(dir, sizeof(dir), "%s/links", pin_dir);
	printf(json_output ? "{\"pin_dir\":\"%s\",\"links\":[" :
			     "pin dir: %s\nattached:\n", pin_dir);
	dp = opendir(dir);
	while (dp && (d = readdir(dp))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		char path[1024], name[IF_NAMESIZE] = "?";
		int fd;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		if_indextoname(info.xdp.ifindex, name);
		if (json_output)
			printf("%s{\"dev\":\"%s\",\"ifindex\":%u,\"link_id\":%u,\"prog_id\":%u}",
			       first ? "" : ",", d->d_name, info.xdp.ifindex,
			       info.id, info.prog_id);
		else
			printf("  %-12s ifindex %u (%s) link %u prog %u\n",
			       d->d_name, info.xdp.ifindex, name, info.id,
			       info.prog_id);
		first = 0;
	}
	if (dp)
		closedir(dp);
	if (!json_output && first)
		printf("  (nothing)\n");
	printf(json_output ? "],\"services\":[" : "services:\n");
	if (maps_open_pinned(pin_dir, &m)) {
		printf(json_output ? "]}\n" : "  (no pinned maps)\n");
		return 0;
	}
	n = maps_read_services(&m, &svcs);
	all = maps_read_backends(&m);
	for (i = 0; all && i < n; i++) {
		const struct maglb_service *s = &svcs[i].svc;
		__u32 b, nb = 0, *slots, size = 0;

		for (b = 0; b < MAGLB_MAX_BACKENDS; b++)
			nb += backend_serves(&all[b], s->id);
		if (!maps_read_ring(&m, s->id, &slots, &size))
			free(slots);
		addr_port_str(&svcs[i].key.addr, svcs[i].key.family,
			      svcs[i].key.port, ap);
		if (json_output)
			printf("%s{\"name\":\"%s\",\"id\":%u,\"vip\":\"%s\",\"protocol\":\"%s\",\"hash\":\"%s\",\"forwarding\":\"%s\",\"backends\":%u,\"table_size\":%u}",
			       i ? "," : "", s->name, s->id, ap,
			       proto_str(svcs[i].key.proto),
			       hash_name(s->hash_type),
			       s->forwarding == MAGLB_FWD_SNAT ? "snat" : "nat",
			       nb, size);
		else
			printf("  %-20s %s/%s hash %s forwarding %s backends %u table %u\n",
			       s->name, ap, proto_str(svcs[i].key.proto),
			       hash_name(s->hash_type),
			       s->forwarding == MAGLB_FWD_SNAT ? "snat" : "nat",
			       nb, size);
	}
	if (json_output)
		printf("]");
	else if (n <= 0)
		printf("  (none)\n");
	print_egress(&m);
	if (json_output)
		printf("}\n");
	free(all);
	free(svcs);
	maps_close(&m);
	return 0;
}
