/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kernel_types.h - the kernel-internal types maglb_trace.bpf.c reads from
 * the xdp tracepoints' arguments, with only the fields it reads. Everything
 * else the programs use is UAPI (linux/bpf.h, linux/ip.h, ...), the same on
 * every kernel. These layouts are not, so they are not taken from one
 * kernel (a vmlinux.h dumped on the build host would fix them to its
 * offsets): preserve_access_index makes every access a CO-RE relocation,
 * which libbpf resolves at load by struct and field name in the running
 * kernel's BTF. One object then serves 6.1, 6.12 and 6.18, and on a kernel
 * without such a field it fails to load with libbpf naming the relocation.
 */
#ifndef MAGLB_BPF_KERNEL_TYPES_H
#define MAGLB_BPF_KERNEL_TYPES_H

/* include/linux/ns_common.h, include/net/net_namespace.h */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

/* possible_net_t, a typedef of an unnamed struct in the kernel. */
struct maglb_possible_net {
	struct net *net;
} __attribute__((preserve_access_index));

/* include/linux/netdevice.h */
struct net_device {
	int ifindex;
	struct maglb_possible_net nd_net;
} __attribute__((preserve_access_index));

/* kernel/bpf/devmap.c: a DEVMAP or DEVMAP_HASH slot, what
 * xdp_redirect_err's tgt points to for those maps. */
struct bpf_dtab_netdev {
	struct net_device *dev;
} __attribute__((preserve_access_index));

/* xdp_redirect_err's program; only its pointer is in the prototype. */
struct bpf_prog;

#endif
