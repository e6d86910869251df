/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps_egress.h - the maps that say how packets leave by each device and
 * what happened to them there. Part of maps.h; on their own here because
 * the tracing program (maglb_trace.bpf.c) shares them and nothing else.
 */
#ifndef MAGLB_BPF_MAPS_EGRESS_H
#define MAGLB_BPF_MAPS_EGRESS_H

#include "maglb.h"

#define MAGLB_MAX_EGRESS	4096	/* devices: a node's pods, each a veth */

/* ifindex -> which XDP verdicts the device takes (struct maglb_egress).
 * Missing: none, the kernel path (bpf/lib/egress.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_MAX_EGRESS);
	__type(key, __u32);
	__type(value, struct maglb_egress);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_egress SEC(".maps");

/* (ifindex, path) -> packets and bytes that left that way. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAGLB_MAX_EGRESS * MAGLB_PATH_MAX);
	__type(key, struct maglb_egress_key);
	__type(value, struct maglb_reason_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_egress_stats SEC(".maps");

/* ifindex -> the kernel's failed XDP transmits (maglb_trace.bpf.c). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAGLB_MAX_EGRESS);
	__type(key, __u32);
	__type(value, struct maglb_xmit_errs);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_xmit_errs SEC(".maps");

#endif /* MAGLB_BPF_MAPS_EGRESS_H */
