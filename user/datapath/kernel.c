// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kernel.c - the kernel check `maglb attach` runs before it loads anything.
 *
 * maglb is tested on 6.1, 6.12 and 6.18 (docs/kernels.md). An older
 * kernel fails on a missing helper long before any verifier question, and
 * libbpf's answer to that is a verifier log ending in "unknown func". So
 * attach asks the kernel first, helper by helper, with the probe libbpf
 * runs for `bpftool feature`, and names what is missing. Only helpers of
 * 5.10 and later are listed: anything older comes with them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "common/log.h"
#include "datapath/kernel.h"

static const struct {
	enum bpf_prog_type type;
	enum bpf_func_id func;
	const char *name;
	const char *since;	/* the Linux release that added it */
} needed[] = {
	{ BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns", "5.11" },
	{ BPF_PROG_TYPE_XDP, BPF_FUNC_loop, "bpf_loop", "5.17" },
	{ BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes", "5.18" },
	{ BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_store_bytes, "bpf_xdp_store_bytes", "5.18" },
	{ BPF_PROG_TYPE_XDP, BPF_FUNC_ktime_get_tai_ns, "bpf_ktime_get_tai_ns", "6.1" },
	{ BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_peer, "bpf_redirect_peer", "5.10" },
	{ BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_redirect_neigh, "bpf_redirect_neigh", "5.10" },
};

int kernel_check(const char *who)
{
	struct utsname u;
	size_t i;
	int ok;

	if (uname(&u))
		u.release[0] = 0;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		ok = libbpf_probe_bpf_helper(needed[i].type, needed[i].func, NULL);
		if (ok == 1)
			continue;
		if (ok < 0) {
			/* Not a "no": the probe itself failed (no bpf()
			 * for us, a seccomp filter). The load will say more. */
			pr_debug("maglb: %s: probing %s: %s\n", who,
				 needed[i].name, strerror(-ok));
			continue;
		}
		pr_warn("maglb: %s: this kernel (%s) has no %s, which Linux %s added; maglb needs Linux 6.1 or later\n",
			who, u.release, needed[i].name, needed[i].since);
		return -1;
	}
	return 0;
}
