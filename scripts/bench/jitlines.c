// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * jitlines.c - where each source line of a loaded BPF program starts in its
 * JIT image, from the kernel's jited line info. Debian's bpftool is built
 * without libbfd and cannot dump JIT code; this is enough to attribute
 * perf samples ("prog+0xOFF") to source lines (scripts/bench/profile.sh).
 *
 *   jitlines PROG_ID    prints: <offset hex> <file>:<line> <source text>
 *
 * Offsets are from the start of the program's first function; lines of its
 * other functions (bpf_loop callbacks) are left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nl, njl, nk, i;
	struct bpf_line_info *li;
	__u64 *jl, *ks, end = 0;
	struct btf *btf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: jitlines PROG_ID\n");
		return 2;
	}
	fd = bpf_prog_get_fd_by_id(atoi(argv[1]));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		perror("jitlines: program");
		return 1;
	}
	nl = info.nr_line_info;
	njl = info.nr_jited_line_info;
	nk = info.nr_jited_ksyms;
	li = calloc(nl ?: 1, sizeof(*li));
	jl = calloc(njl ?: 1, sizeof(*jl));
	ks = calloc(nk ?: 1, sizeof(*ks));
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!li || !jl || !ks || !btf || !nk) {
		fprintf(stderr, "jitlines: no line info (BTF) for program %s\n", argv[1]);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_line_info = njl;
	info.jited_line_info_rec_size = sizeof(*jl);
	info.jited_line_info = (__u64)(unsigned long)jl;
	info.nr_jited_ksyms = nk;
	info.jited_ksyms = (__u64)(unsigned long)ks;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		perror("jitlines: line info");
		return 1;
	}
	/* the first function ends where the next one above it starts */
	for (i = 1; i < nk; i++)
		if (ks[i] > ks[0] && (!end || ks[i] < end))
			end = ks[i];
	for (i = 0; i < njl && i < nl; i++) {
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);
		const char *line = btf__name_by_offset(btf, li[i].line_off);
		const char *base = file ? strrchr(file, '/') : NULL;

		if (jl[i] < ks[0] || (end && jl[i] >= end))
			continue;
		printf("%llx %s:%u %s\n", (unsigned long long)(jl[i] - ks[0]),
		       base ? base + 1 : file ? file : "?",
		       BPF_LINE_INFO_LINE_NUM(li[i].line_col), line ? line : "");
	}
	btf__free(btf);
	return 0;
}
