/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - every map of the datapath, declared once. All are pinned by name
 * under the pin directory (default /sys/fs/bpf/maglb) because the agent and
 * the CLI reopen each of them; the layouts live in include/maglb.h. The
 * per-CPU scratch, which is not pinned, is declared in scratch.h, composed
 * of each feature's part, so that this file takes in no feature's types.
 */
#ifndef MAGLB_BPF_MAPS_H
#define MAGLB_BPF_MAPS_H

#include "maglb.h"
#include "maglb_hash.h"
#include "maps_egress.h"

/* VIP (address, port, protocol) -> service settings. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_MAX_SERVICES);
	__type(key, struct maglb_vip_key);
	__type(value, struct maglb_service);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_vips SEC(".maps");

/* Addresses that carry at least one VIP (port/proto zeroed). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_MAX_SERVICES);
	__type(key, struct maglb_vip_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_vip_addrs SEC(".maps");

/*
 * Template for one service's Maglev ring: slot 0 = M, slots 1..M = backend
 * ids. BPF_F_INNER_MAP lets each service have its own M; the price is that
 * the verifier no longer knows max_entries, so every lookup is NULL-checked.
 */
struct maglb_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	/* MMAPABLE: the agent fills a new ring through mmap (maps.c). */
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, MAGLB_RING_HDR + 1);
	__type(key, __u32);
	__type(value, __u32);
};

/* Service id -> its live ring. Replacing an entry is the atomic swap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAGLB_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct maglb_ring);	/* must be the last member */
} maglb_rings SEC(".maps");

/* Backend id -> address, port, owning service. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_backends SEC(".maps");

/* Backend id -> the next hop toward it: a new flow's first packet skips
 * bpf_fib_lookup while this is fresh (forward.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglb_backend_nh);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_backend_nh SEC(".maps");

/* Backend address and port -> the VIPs it serves whose connections have
 * one conntrack entry (maglb.h, MAGLB_REVNAT_VIPS; bpf/lib/ct_reply.h).
 * One key per backend address, so as many as there are backends. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_MAX_BACKENDS);
	__type(key, struct maglb_revnat_key);
	__type(value, struct maglb_revnat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_revnat SEC(".maps");

/* The ports maglb_revnat's keys have, a bit each (maglb.h): a packet is
 * looked up there only when its source port's bit is set, so a client's
 * packet pays one array read for it, not a hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLB_REVNAT_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_revnat_ports SEC(".maps");

/* Connection affinity: flow as it arrives -> the rewrite to apply, one
 * map per family (the smaller IPv4 key is cheaper per lookup). Reached
 * only through ct_lookup/ct_update/ct_delete (conntrack.h). A plain
 * preallocated hash, not an LRU: a full table refuses a new flow
 * (drop_ct_full) instead of evicting a live connection for it; the agent's
 * sweep frees entries (user/datapath/sweep.c). max_entries is set at
 * attach from conntrack.maxEntries (two entries per connection, which
 * snat and spliced connections take; a plain NAT one takes one,
 * MAGLB_CT_F_ONE). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow4);
	__type(value, struct maglb_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAGLB_CT_DEFAULT_SIZE);
	__type(key, struct maglb_flow);
	__type(value, struct maglb_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_ct6 SEC(".maps");

/* Per-service counters, indexed by service id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct maglb_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_svc_stats SEC(".maps");

/* Per-backend counters, indexed by backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct maglb_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_backend_stats SEC(".maps");

/* Pass/drop/tx counters, indexed by enum maglb_reason. (Array maps take
 * only an integer key type in BTF, so the key cannot be the enum itself.) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAGLB_REASON_MAX);
	__type(key, __u32);
	__type(value, struct maglb_reason_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_reasons SEC(".maps");

/* Devices we may redirect into (attach and the agent keep it to those
 * maglb_egress lets take redirected frames). Not pinned by
 * libbpf: the kernel adds BPF_F_RDONLY_PROG to every devmap (and refuses it
 * at creation), so libbpf's reuse check would always fail; attach.c reuses
 * and pins it by hand. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, MAGLB_MAX_EGRESS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} maglb_tx_ports SEC(".maps");

/* Whether XDP could mark the packets it passes to TC (handoff.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maglb_handoff);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_handoff SEC(".maps");

/* Tail-call targets (enum maglb_prog); `maglb attach` fills it. A tail call
 * starts with a fresh stack, which the first-data path needs. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MAGLB_PROG_MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_progs SEC(".maps");

/* Delayed binding in progress: client's flow -> the stream held so far
 * and the handshake facts needed to open the backend side (stash.h). An
 * entry lives from the first data to the backend's ACK of all of it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);	/* handshakes in flight, ~10.7 KiB each */
	__type(key, struct maglb_flow);
	__type(value, struct maglb_splice);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_splice SEC(".maps");

/* Client address -> how many maglb_splice entries it holds: the
 * per-source bound (stash.h). An LRU: a source forgotten under pressure
 * starts again from 0, which errs towards letting it in. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAGLB_STASH_SOURCES);
	__type(key, struct maglb_stash_src_key);
	__type(value, struct maglb_stash_src);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_stash_src SEC(".maps");

/* Each listener's HTTP route matches, in precedence order (route.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct maglb_match_key);
	__type(value, struct maglb_route_match);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_matches SEC(".maps");

/* Per service: the Set-Cookie line for generated cookies (cookie.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAGLB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct maglb_cookie_line);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_cookies SEC(".maps");

/* The syncookie master key; attach and the agent write it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maglb_secret);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} maglb_secret SEC(".maps");

/* Syncookie replay records, 2 x 131072 buckets of 8 (16 MB): fixed, so a
 * flood fills cells but never evicts a live one (bpf/lib/syncookie.h).
 * Not pinned: an upgrade starts empty, see docs/splicing.md. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MAGLB_COOKIE_USED_BUCKETS);
	__type(key, __u32);
	__type(value, struct maglb_cookie_used);
} maglb_cookie_used SEC(".maps");

#endif /* MAGLB_BPF_MAPS_H */
