// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * harness.c - the one instance of the programs, maps and namespace that a
 * packet test or benchmark process works on (harness.h), and the fixture
 * config it applies, read from tests/fixtures/ at run time.
 */
#include "harness.h"		/* first: it asks for _GNU_SOURCE */
#include "input/load.h"
#include <libgen.h>
#include <limits.h>

struct maglb_bpf *skel;
struct maglb_tc_bpf *tc_skel;
int prog_fd, tc_fd;
struct maglb_maps maps;
const struct maglb_secret test_key = { 0x0706050403020100ULL,
				       0x0f0e0d0c0b0a0908ULL };
char fixture_path[4096];

/* 100.64.0.0/10, the conntrack tests' and the scale bench's many
 * clients, is routed through the client 10.10.0.2: their backends'
 * SYN-ACKs go back out of c0 as the real clients' do. */
static const char *topology =
	"set -e\n"
	"ip link set lo up\n"
	"ip link add c0 address 02:00:00:00:c0:01 type veth peer name c0p\n"
	"ip link add b0 address 02:00:00:00:b0:01 type veth peer name b0p\n"
	"for d in c0 c0p b0 b0p; do ip link set $d up; done\n"
	"ip addr add 10.10.0.1/24 dev c0\n"
	"ip addr add fd00:10::1/64 dev c0 nodad\n"
	"ip addr add 10.20.1.1/24 dev b0\n"
	"ip addr add fd00:20::1/64 dev b0 nodad\n"
	"ip neigh add 10.10.0.2 lladdr 02:00:00:00:c0:02 dev c0 nud permanent\n"
	"ip neigh add 10.10.0.11 lladdr 02:00:00:00:c0:11 dev c0 nud permanent\n"
	"ip neigh add fd00:10::2 lladdr 02:00:00:00:c0:02 dev c0 nud permanent\n"
	"for i in 2 3 4; do\n"
	"  ip neigh add 10.20.1.$i lladdr 02:00:00:00:b0:0$i dev b0 nud permanent\n"
	"  ip neigh add fd00:20::$i lladdr 02:00:00:00:b0:0$i dev b0 nud permanent\n"
	"done\n"
	"ip route add 100.64.0.0/10 via 10.10.0.2 dev c0\n"
	"sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1\n";

static int apply_file(const char *path)
{
	char err[CFG_ERR_LEN];
	struct maglb_config *cfg;
	struct apply_stats st;
	int rc;

	cfg = config_load(path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "config: %s\n", err);
		return -EINVAL;
	}
	rc = apply_config(&maps, cfg, &st);
	config_free(cfg);
	return rc;
}

int apply_yaml(const char *yaml)
{
	char path[] = "/tmp/maglb-pkt-XXXXXX";
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
		rc = -errno;
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return rc;
	}
	close(fd);
	rc = apply_file(path);
	unlink(path);
	return rc;
}

int apply_fixture(void)
{
	return apply_file(fixture_path);
}

/*
 * tests/fixtures/NAME of the tree the binary was built in: build/tests/ and
 * build/bench/ are two levels below its top. That holds wherever the
 * binary is started from, also in the qemu guests (scripts/qemu/boot.sh),
 * which mount the tree read-only at the host's path. Failing that (a binary
 * copied elsewhere), relative to the working directory.
 */
static int find_fixture(const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = 0;
		snprintf(fixture_path, sizeof(fixture_path),
			 "%s/../../tests/fixtures/%s", dirname(exe), name);
		if (!access(fixture_path, R_OK))
			return 0;
	}
	snprintf(fixture_path, sizeof(fixture_path), "tests/fixtures/%s", name);
	if (!access(fixture_path, R_OK))
		return 0;
	fprintf(stderr, "fixture %s: not found beside the binary's tree nor in ./tests/fixtures\n",
		name);
	return -ENOENT;
}

__u32 harness_ct_conns(void)
{
	const char *e = getenv("MAGLB_TEST_CT_CONNS");

	return e && atoi(e) > 0 ? (__u32)atoi(e) : HARNESS_CT_CONNS;
}

/* The namespace and the programs, their maps empty. */
static int setup_programs(void)
{
	struct bpf_map *map;
	int err;

	if (unshare(CLONE_NEWNET)) {
		perror("unshare");
		return -1;
	}
	if (system(topology)) {
		fprintf(stderr, "topology setup failed\n");
		return -1;
	}
	skel = maglb_bpf__open();
	if (!skel)
		return -1;
	/* Test instances never touch the pins of a real installation. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	/* Short enough for a test to outwait. */
	skel->rodata->splice_timeout_ns = 1000000000ULL;
	/* The conntrack at a size a flood can fill in a test's time
	 * (tests/pkt/ct.c); MAGLB_TEST_CT_CONNS for the million stage. */
	err = maps_set_ct_size(skel->obj, harness_ct_conns());
	if (err)
		return err;
	err = maglb_bpf__load(skel);
	if (err)
		return err;
	prog_fd = bpf_program__fd(skel->progs.maglb_xdp);
	err = maps_from_object(skel->obj, &maps);
	if (err)
		return err;
	err = maps_put_progs(&maps, skel->obj);
	if (err)
		return err;
	tc_skel = maglb_tc_bpf__open();
	if (tc_skel)
		tc_skel->rodata->splice_timeout_ns = 1000000000ULL;
	if (!tc_skel || maps_share(skel->obj, tc_skel->obj) ||
	    maglb_tc_bpf__load(tc_skel))
		return -1;
	tc_fd = bpf_program__fd(tc_skel->progs.maglb_tc);
	/* test_run cannot give an skb XDP metadata: TC looks at every TCP
	 * packet, as on a driver without it (bpf/lib/handoff.h). */
	if (set_handoff_no_meta(1))
		return -1;
	maps_put_secret(&maps, &test_key, false);
	/* Both devices take XDP frames, as veths whose peers run NAPI do; the
	 * egress tests (tests/pkt/egress.c) change that per case. */
	if (set_egress("c0", MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX) ||
	    set_egress("b0", MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX))
		return -1;
	return 0;
}

int setup(const char *yaml)
{
	int err = setup_programs();

	return err ? err : apply_yaml(yaml);
}

int setup_fixture(const char *name)
{
	int err = find_fixture(name) ? -1 : setup_programs();

	return err ? err : apply_fixture();
}

void teardown(void)
{
	maps_close(&maps);
	maglb_tc_bpf__destroy(tc_skel);
	maglb_bpf__destroy(skel);
}
