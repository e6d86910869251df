/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglb.h - every key, value, enum and limit shared by the BPF datapath
 * (bpf/) and the agent/CLI (user/). Both sides include this file; nothing
 * here is ever copied. Fields are explicitly padded so that hash keys never
 * carry stack garbage and `bpftool map dump` prints named fields.
 */
#ifndef MAGLB_H
#define MAGLB_H

#include <linux/types.h>

#define MAGLB_MAX_SERVICES	1024
#define MAGLB_MAX_BACKENDS	32768
/* Conntrack map entries when nothing says otherwise; a connection takes
 * two (forward and reply), so conntrack.maxEntries (connections) defaults
 * to half of it. attach sets the maps' size from maxEntries. */
#define MAGLB_CT_DEFAULT_SIZE	262144
#define MAGLB_CT_DEFAULT_CONNS	(MAGLB_CT_DEFAULT_SIZE / 2)
#define MAGLB_CT_MIN_CONNS	1024
#define MAGLB_CT_MAX_CONNS	16777216	/* 2^25 entries, ~8 GiB a map */
#define MAGLB_NAME_LEN		48
#define MAGLB_KEY_NAME_LEN	64	/* cookie/header name, = HTTP_NAME_MAX */
/* Cilium allows 251..131071; Envoy up to 5,000,011. We follow Envoy. */
#define MAGLB_TABLE_MIN		251
#define MAGLB_TABLE_MAX		5000011
#define MAGLB_TABLE_DEFAULT	65537
/* Slot 0 of every ring holds its size M; slots 1..M hold backend ids. */
#define MAGLB_RING_HDR		1
#define MAGLB_NO_BACKEND	0xffffffffU

enum maglb_family {
	MAGLB_AF_INET = 4,
	MAGLB_AF_INET6 = 6,
};

enum maglb_hash_type {
	MAGLB_HASH_SOURCE_IP = 0,
	MAGLB_HASH_TUPLE = 1,
	MAGLB_HASH_COOKIE = 2,
	MAGLB_HASH_HEADER = 3,
};

enum maglb_forwarding {
	MAGLB_FWD_NAT = 0,	/* DNAT; replies come back through this node */
	MAGLB_FWD_SNAT = 1,	/* full NAT from a node address */
};

/* Slots of maglb_progs, the tail-call table. */
enum maglb_prog {
	MAGLB_PROG_SPLICE_FIRST = 0,	/* a Cookie/Header client's first data */
	MAGLB_PROG_REPLY_ONE,		/* the reply of a connection with one
					 * entry (bpf/lib/ct_reply.h) */
	MAGLB_PROG_MAX,
};

/* Why a packet was passed, dropped or sent. Index of maglb_reasons. */
enum maglb_reason {
	MAGLB_PASS_NON_IP = 0,		/* not IPv4/IPv6 (ARP, LLDP, ...) */
	MAGLB_PASS_NON_VIP,		/* IP, but neither VIP nor tracked reply */
	MAGLB_PASS_MALFORMED_L2,	/* truncated Ethernet/VLAN header */
	MAGLB_PASS_MALFORMED_L3,	/* truncated or invalid IP header */
	MAGLB_PASS_NOT_L4,		/* IP, but not TCP/UDP (ICMP, ...) */
	MAGLB_PASS_FRAGMENT,		/* non-VIP fragment: not ours */
	MAGLB_PASS_MALFORMED_L4,	/* non-VIP, L4 header cut short */
	MAGLB_DROP_FRAGMENT,		/* fragment addressed to a VIP */
	MAGLB_DROP_TRUNCATED_L4,	/* VIP-bound, L4 header cut short */
	MAGLB_DROP_NO_BACKEND,		/* VIP with an empty table */
	MAGLB_DROP_SNAT_EXHAUSTED,	/* no free source port for snat */
	MAGLB_DROP_FIB,			/* no route to the backend/client */
	MAGLB_PASS_FIB_NEIGH,		/* rewritten, kernel resolves neighbour */
	MAGLB_PASS_FIB_OTHER,		/* rewritten, kernel forwards */
	MAGLB_TX,			/* rewritten, sent back out ingress */
	MAGLB_REDIRECT,			/* rewritten, redirected to another dev */
	/* Cookie/Header services: TCP delayed binding (bpf/lib/splice.h) */
	MAGLB_SYNCOOKIE_SENT,		/* SYN answered with a SYN-ACK cookie */
	MAGLB_DROP_HANDSHAKE_ACK,	/* valid cookie ACK absorbed, no state */
	MAGLB_DROP_BAD_COOKIE,		/* ACK/data whose cookie does not verify */
	MAGLB_DROP_BAD_CSUM,		/* first data segment fails its checksum */
	MAGLB_DROP_SPLICE_UNSUPPORTED,	/* IP options, oversized first segment */
	MAGLB_DROP_SPLICE_WAIT,		/* client segment while binding */
	MAGLB_DROP_NO_STATE,		/* FIN/RST/other with no connection */
	MAGLB_SPLICE_SYN,		/* first data turned into backend SYN */
	MAGLB_SPLICE_ACK,		/* backend SYN-ACK turned into data ACK */
	MAGLB_SPLICE_RST,		/* setup failed: RST sent to the client */
	MAGLB_KEY_FALLBACK,		/* key absent: fallback hash used */
	MAGLB_PASS_TO_TC,		/* backend SYN-ACK: TC grows it (splice.h) */
	MAGLB_ROUTE_NOT_FOUND,		/* no route matched: 404 and FIN sent */
	MAGLB_ROUTE_RESET,		/* no route matched: RST sent */
	MAGLB_ROUTE_REPARSE,		/* route hashes by another key: head re-read */
	MAGLB_COOKIE_GENERATED,		/* no cookie, ttl set: one made for it */
	MAGLB_COOKIE_INSERTED,		/* Set-Cookie written into a response */
	MAGLB_PASS_IPV6_EXT,		/* IPv6 with an extension header: not ours */
	MAGLB_SPLICE_TW_RESET,		/* backend's TIME_WAIT reset, SYN re-sent */
	MAGLB_PASS_KERNEL_TC,		/* rewritten; the device takes no XDP
					 * frames: TC sends the skb (egress.h) */
	MAGLB_PASS_KERNEL_STACK,	/* rewritten, MACs left: the kernel
					 * routes it (no XDP metadata) */
	/* request heads over several segments (bpf/lib/stash.h) */
	MAGLB_SPLICE_HEAD_ACK,		/* head segment held, acknowledged */
	MAGLB_SPLICE_HEAD_DUP,		/* segment held already or past a gap:
					 * acknowledged again, not kept */
	MAGLB_SPLICE_HEAD_HELD,		/* segment held while the backend opens */
	MAGLB_HEAD_TOO_LONG,		/* no blank line in MAGLB_HEAD_MAX bytes */
	MAGLB_SPLICE_CHUNK,		/* a further held segment to the backend */
	/* Path MTU (bpf/lib/icmp.h): a packet bigger than its next hop takes */
	MAGLB_ICMP_TOO_BIG,		/* answered with ICMP frag-needed / ICMPv6
					 * packet-too-big; the packet dropped */
	MAGLB_DROP_TOO_BIG,		/* IPv4 without DF, spliced, bigger than
					 * the backend takes: dropped */
	MAGLB_PASS_FIB_FRAG,		/* rewritten, bigger than the egress MTU,
					 * IPv4 without DF: the kernel fragments */
	/* Conntrack hardening (RFC 5961): what a stranger's segment cannot do */
	MAGLB_SYN_CHALLENGE_ACK,	/* bare SYN on a live, confirmed entry:
					 * nothing changes; passed on (translated
					 * when spliced), the endpoint's stack
					 * sends the challenge ACK. Counted besides
					 * the forwarding verdict */
	MAGLB_DROP_RST_OUT_OF_WINDOW,	/* RST whose seq no receiver can accept
					 * (conntrack.h, ct_rst_check) */
	MAGLB_ROUTE_BAD_REQUEST,	/* routed listener, head refused
					 * (http.h http_bad): 400 and FIN */
	/* Syncookie replay (bpf/lib/syncookie.h): refused with an RST */
	MAGLB_DROP_COOKIE_REPLAY,	/* first data of a handshake whose cookie
					 * opened a connection already */
	MAGLB_DROP_COOKIE_USED_FULL,	/* first data whose replay record has no
					 * free cell: refused, not evicted */
	/* The splice fails closed (bpf/lib/stash.h) */
	MAGLB_SPLICE_SOURCE_LIMIT,	/* first data refused: its source holds
					 * MAGLB_STASH_PER_SOURCE stashes already;
					 * RST sent to the client */
	MAGLB_SPLICE_STASH_LOST,	/* a setup whose stash is gone (evicted
					 * from maglb_splice): its segment is
					 * answered with an RST */
	MAGLB_SPLICE_RST_BACKEND,	/* setup abandoned: RST sent to the
					 * backend, which holds our SYN */
	MAGLB_SPLICE_CLIENT_RST,	/* client RST on a head being collected,
					 * at its exact next byte: stash freed */
	MAGLB_DROP_CT_FULL,		/* new flow refused: the conntrack is
					 * full (conntrack.h, ct_create) */
	MAGLB_DROP_NO_PROG,		/* a tail call's target is missing
					 * (maglb_progs not filled) */
	MAGLB_REASON_MAX,
};

union maglb_addr {
	__be32 v4;
	__be32 v6[4];
	__u64 _align[2];	/* 8-byte alignment: hashed as u64 words */
};

/* A flow as seen on the wire: the Tuple hash input, and the key of the
 * IPv6 conntrack (maglb_ct6). */
struct maglb_flow {
	union maglb_addr saddr;
	union maglb_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;		/* enum maglb_family */
	__u16 pad;
};

/*
 * maglb_ct4 key: an IPv4 flow in 16 bytes. The kernel hashes and compares
 * a hash map's whole key on every lookup, and a 40-byte maglb_flow costs an
 * IPv4 packet 10-40 ns more per hit than this (bench_pkt's "part" rows);
 * Cilium splits its conntrack by family for the same reason.
 */
struct maglb_flow4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Between the two keys. The datapath's ct_*() (bpf/lib/conntrack.h) and
 * the agent's maps_*_ct() (user/datapath/maps.c) convert with these. */
static inline __attribute__((always_inline)) void
maglb_flow4_of(struct maglb_flow4 *k, const struct maglb_flow *f)
{
	k->saddr = f->saddr.v4;
	k->daddr = f->daddr.v4;
	k->sport = f->sport;
	k->dport = f->dport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

static inline __attribute__((always_inline)) void
maglb_flow_of4(struct maglb_flow *f, const struct maglb_flow4 *k)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->saddr.v4 = k->saddr;
	f->daddr.v4 = k->daddr;
	f->sport = k->sport;
	f->dport = k->dport;
	f->proto = k->proto;
	f->family = MAGLB_AF_INET;
}

/* maglb_vips key: a service's virtual address. A listener with HTTP
 * routes has one entry per route too, at the same address with route > 0:
 * each route is a service of its own (table, backends, hash, counters). */
struct maglb_vip_key {
	union maglb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 family;
	__u32 route;		/* 0: the listener; N: its route N */
};

/* maglb_vip_addrs key is a maglb_vip_key with port, proto = 0: every
 * address that carries a VIP, so fragments and truncated packets (which
 * have no usable port) can still be recognised as ours. */

/* maglb_vips value: everything the datapath needs to serve a VIP. */
#define MAGLB_SVC_F_NO_MATCH_RESET	(1U << 0)	/* no route: RST, not 404 */
#define MAGLB_SVC_F_SET_COOKIE		(1U << 1)	/* cookie ttl set: generate */

struct maglb_service {
	__u32 id;		/* index into maglb_rings and maglb_svc_stats */
	__u32 flags;		/* MAGLB_SVC_F_* */
	__u8 hash_type;		/* enum maglb_hash_type */
	__u8 fallback_hash;	/* used when Cookie/Header key is absent */
	__u8 forwarding;	/* enum maglb_forwarding */
	__u8 n_matches;		/* listener: maglb_matches entries to try */
	__u16 snat_port_min;	/* host order */
	__u16 snat_port_max;
	union maglb_addr snat_addr;
	char name[MAGLB_NAME_LEN];
	/* Cookie: the cookie's name; Header: the header's name, lowercase */
	char key_name[MAGLB_KEY_NAME_LEN];
	__u8 key_len;
	__u8 pad0;
	/* Path MTU toward the backends (IP packet bytes), host order: the
	 * smallest over them of the route's MTU (else the device's) and the
	 * configured `mtu`; a listener's is its routes' smallest. Cookie/
	 * Header: our SYN-ACK promises at most this less 40 (v4) / 60 (v6)
	 * as MSS. 0: not known, 1500 assumed. */
	__u16 mtu;
	__u8 pad1[4];
};

#define MAGLB_BE_F_ACTIVE	(1U << 0)

/*
 * HTTP route matching (Gateway API HTTPRoute hostnames and path matches):
 * a listener's matches in precedence order, the first that fits the
 * request's Host and path names the route. The agent sorts them.
 */
#define MAGLB_MAX_MATCHES	32	/* per listener */
#define MAGLB_MATCH_LEN		64	/* = HTTP_HOST_MAX = HTTP_PATH_MAX */

enum maglb_match {
	MAGLB_MATCH_ANY = 0,
	MAGLB_MATCH_EXACT,
	MAGLB_MATCH_PREFIX,	/* path: PathPrefix; host: a wildcard's suffix */
};

struct maglb_match_key {
	__u32 svc_id;		/* the listener's */
	__u32 idx;		/* 0 .. n_matches-1, in precedence order */
};

struct maglb_route_match {
	__u8 host_match;	/* enum maglb_match */
	__u8 path_match;
	__u8 host_len;
	__u8 path_len;
	__u32 route;		/* maglb_vip_key.route of the route's service */
	/* Lowercase, right-aligned: a wildcard "*.example.com" is the
	 * suffix ".example.com" and compares as the last host_len bytes. */
	char host[MAGLB_MATCH_LEN];
	char path[MAGLB_MATCH_LEN];	/* left-aligned, zero padded */
};

/* maglb_backends value, indexed by backend id (one id per service+backend). */
struct maglb_backend {
	union maglb_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad0;
	__u32 flags;		/* MAGLB_BE_F_* */
	__u32 svc_id;
	__u32 gen;		/* bumped whenever the id is (re)assigned */
	__u32 weight;
	__u32 pad1;
};

#define MAGLB_CT_F_REPLY	(1U << 0)	/* backend -> client direction */
#define MAGLB_CT_F_FIN		(1U << 1)	/* FIN seen in this direction */
#define MAGLB_CT_F_RST		(1U << 2)	/* RST seen: connection is over */
#define MAGLB_CT_F_SNAT		(1U << 3)
#define MAGLB_CT_F_SPLICE	(1U << 4)	/* translate seq/ack/TS/window */
#define MAGLB_CT_F_PENDING	(1U << 5)	/* delayed binding in progress */
#define MAGLB_CT_F_STASH	(1U << 6)	/* maglb_splice holds the payload */
#define MAGLB_CT_F_SET_COOKIE	(1U << 7)	/* reply: the first response gets
						 * a Set-Cookie (cookie_*) */
#define MAGLB_CT_F_COOKIE_SENT	(1U << 8)	/* reply: inserted; seq_add, and
						 * the other side's ack/sack_add,
						 * include cookie_len */
#define MAGLB_CT_F_UNCONFIRMED	(1U << 9)	/* forward, TCP: made by a SYN, no
						 * ACK of the backend's SYN-ACK
						 * from the client yet; the
						 * sweep gives it synTimeout */
#define MAGLB_CT_F_SEQ		(1U << 10)	/* seq_next holds this direction's
						 * SND.NXT */
#define MAGLB_CT_F_SYN_ACK	(1U << 11)	/* reply, TCP: the backend's
						 * SYN-ACK is recorded in
						 * syn_ack_next */
#define MAGLB_CT_F_ONE		(1U << 12)	/* the connection's only entry:
						 * the reply direction is in
						 * rev, found through
						 * maglb_revnat (include/
						 * maglb_ct_reply.h) */

/* A next hop from bpf_fib_lookup(), kept for reuse (bpf/lib/forward.h). */
struct maglb_nh {
	__u32 ifindex;		/* 0: nothing cached */
	__u16 len_ok;		/* largest L3 length the FIB accepted */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 eg_flags;		/* ifindex's maglb_egress flags, when
				 * looked up (bpf/lib/egress.h) */
	__u8 pad;
	__u64 time_ns;		/* when looked up */
};

/*
 * The reply direction of a connection that has one entry (MAGLB_CT_F_ONE):
 * what is its own. The rest a reply needs, the forward entry has (ids,
 * times) or its key is (the client and the VIP); include/maglb_ct_reply.h
 * puts the two together.
 */
struct maglb_ct_rev {
	__u32 flags;		/* the reply direction's MAGLB_CT_F_FIN, RST,
				 * SEQ and SYN_ACK */
	__u32 seq_next;		/* as maglb_ct_entry's, of the backend */
	__u32 syn_ack_next;
	__u32 pad;
	__u64 fast_jiffies;
	struct maglb_nh nh;	/* toward the client */
};

/*
 * maglb_revnat: which VIPs a backend address and port serves without snat
 * on the L4 path, the ones whose connections have one entry. A packet
 * from a backend that has no entry of its own is looked up here, and its
 * connection's entry found under each VIP in turn (bpf/lib/ct_reply.h).
 * The agent writes it (user/reconcile/revnat.c); a new flow gets one entry
 * only when its VIP is listed for its backend, two otherwise.
 */
#define MAGLB_REVNAT_VIPS	4
/* maglb_revnat_ports: a bit per port (host order) that some maglb_revnat
 * key has, in 1024 words of 64. */
#define MAGLB_REVNAT_PORT_WORDS	1024

struct maglb_revnat_key {
	union maglb_addr addr;
	__be16 port;
	__u8 family;
	__u8 pad;
};

struct maglb_revnat_vip {
	union maglb_addr addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct maglb_revnat {
	__u32 n;
	struct maglb_revnat_vip vip[MAGLB_REVNAT_VIPS];
};

/* maglb_backend_nh: the next hop toward a backend, for its new flows. */
struct maglb_backend_nh {
	struct maglb_nh nh;
	__u32 gen;		/* the maglb_backend.gen it was looked up for */
	__u32 pad;
};

/*
 * maglb_ct4/maglb_ct6 value. Both directions of a connection have an
 * entry keyed by the flow as it arrives; the value says what to write into
 * the headers, so forward and reply rewrites are one code path.
 */
struct maglb_ct_entry {
	union maglb_addr nat_saddr;
	union maglb_addr nat_daddr;
	__be16 nat_sport;
	__be16 nat_dport;
	__u32 flags;		/* MAGLB_CT_F_* */
	__u32 svc_id;
	__u32 backend_id;
	__u32 backend_gen;
	/* Spliced connections: added to each field, in this direction. */
	__u32 seq_add;
	__u32 ack_add;
	__u32 sack_add;		/* SACK block edges */
	__u32 tsval_add;
	__u32 tsecr_add;
	__s8 win_shift;		/* window <<= shift (or >>= -shift) */
	__u8 pad[3];
	struct maglb_nh nh;	/* where this direction's packets go next */
	__u64 fast_jiffies;	/* last confirmed for the fast path (fastpath.h) */
	__u64 created_ns;	/* bpf_ktime_get_coarse_ns(), CLOCK_MONOTONIC */
	__u64 last_seen_ns;
	/* Reply side of a connection that gets a generated cookie */
	__u64 cookie_val;	/* rendered as 16 lowercase hex digits */
	__u32 cookie_seq;	/* backend seq of the response's first byte */
	__u16 cookie_len;	/* bytes the Set-Cookie line adds */
	/* Spliced, client -> backend: the largest IP packet the backend
	 * takes, its SYN-ACK's MSS + 40 (v4) / 60 (v6); bigger ones are
	 * answered with ICMP too-big (icmp.h). 0: no limit. */
	__u16 l3_max;
	/* TCP, with MAGLB_CT_F_SEQ: the sequence number after the last byte
	 * this direction sent (its SND.NXT, as it arrived, before any
	 * translation), host order. Only an RST carrying it closes the
	 * entry (bpf/lib/conntrack.h, ct_touch). */
	__u32 seq_next;
	/* Reply, with MAGLB_CT_F_SYN_ACK: the backend's ISN + 1, from the
	 * first SYN-ACK of a connection still UNCONFIRMED. Only an ACK from
	 * the client in [syn_ack_next, seq_next], which a blind spoofer
	 * cannot know, confirms the forward entry (bpf/lib/conntrack.h,
	 * ct_acks_syn_ack). Host order. */
	__u32 syn_ack_next;
	/* MAGLB_CT_F_ONE: the reply direction's own state, where a reply
	 * entry would hold it. Zero in every other entry. */
	struct maglb_ct_rev rev;
};

/* maglb_handoff: how TC (maglb_tc.bpf.c) knows which packets XDP passed
 * up for it (bpf/lib/handoff.h). XDP metadata, just before the frame. */
#define MAGLB_HANDOFF_MARK	0x6d6c7463	/* "mltc": TC has work in it */
#define MAGLB_HANDOFF_FWD	0x6d6c6677	/* "mlfw": rewritten, TC sends it
						 * out of ifindex (egress.h) */

struct maglb_meta {
	__u32 ifindex;		/* MAGLB_HANDOFF_FWD: the egress device */
	__u32 mark;		/* MAGLB_HANDOFF_*; last, next to the frame */
};

struct maglb_handoff {
	__u32 no_meta;		/* 1: a device refused XDP metadata, so TC
				 * looks at every TCP packet */
	__u32 pad;
};

/*
 * Delayed binding holds the client's stream from its first byte until the
 * backend has acknowledged it: the whole request head (its blank line) and
 * whatever follows it before the backend connection is open, up to
 * MAGLB_HEAD_MAX bytes. Our SYN-ACK's window ends exactly there, so a
 * client never sends past it. A head longer than that is balanced by what
 * its first MAGLB_HEAD_MAX bytes hold (counted as head_too_long). 8 KiB is
 * nginx's default large_client_header_buffers size: the longest request
 * line or header line nginx itself takes.
 */
#define MAGLB_HEAD_MAX		8192	/* power of 2: offsets mask into it */
#define MAGLB_SEG_MAX		1500	/* payload of one segment we write */
#define MAGLB_SEG_BUF		2048	/* power of 2 >= MAGLB_SEG_MAX + 3 */
/* A segment's worth past the head, so a write at any offset below
 * MAGLB_HEAD_MAX stays inside the buffer as the verifier sees it. */
#define MAGLB_STASH_BUF		(MAGLB_HEAD_MAX + MAGLB_SEG_BUF)
#define MAGLB_PARSER_BYTES	448	/* >= BPF's struct http_parser */
#define MAGLB_SPLICE_WSCALE	7	/* window scale we promise clients */

/*
 * The per-source bound on stashes (bpf/lib/stash.h): one client address
 * (an IPv6 one by its /64, which one host may hold whole) holds at most
 * this many in maglb_splice at once, so that it cannot evict the others'
 * handshakes. A stash lives a round trip or two to the pod, so even a big
 * NAT in front of many clients rarely has more than a few in flight.
 */
#define MAGLB_STASH_PER_SOURCE	32
#define MAGLB_STASH_SOURCES	16384	/* maglb_stash_src entries */

/* maglb_stash_src key: a client address, IPv6 cut to its /64. */
struct maglb_stash_src_key {
	union maglb_addr addr;
	__u8 family;		/* enum maglb_family */
	__u8 pad[7];
};

/* maglb_stash_src value. */
struct maglb_stash_src {
	__s32 n;		/* stashes held (may dip below 0 in a race) */
	__u32 pad;
	__u64 since_ns;		/* when n last rose from 0 */
};

enum maglb_stash_state {
	MAGLB_STASH_COLLECTING = 0,	/* head not complete: no backend yet */
	MAGLB_STASH_OPENING,		/* backend picked, its SYN sent */
	MAGLB_STASH_REPLAYING,		/* connected: the stream goes over */
};

/*
 * maglb_splice value: a connection between the client's first data segment
 * and the backend acknowledging everything held. Keyed like the client's
 * flow. Offsets count from the client's ISN + 1.
 */
struct maglb_splice {
	__u32 isn_client;	/* client's ISN; the backend gets the same */
	__u32 isn_cookie;	/* our SYN-ACK ISN (the syncookie) */
	__u32 tsval_client;	/* client's latest TSval */
	__u32 tsval_ours;	/* TSval of our SYN-ACK, echoed by the client */
	__u16 have;		/* bytes of the stream held: payload[0..have) */
	__u16 acked;		/* of those, acknowledged by the backend */
	__u16 chunk;		/* payload per segment toward the backend */
	__u16 mss;		/* client's MSS, from the cookie */
	__u16 window;		/* client's window (scaled by wscale) */
	__u8 wscale;		/* client's window scale, 0xff = none */
	__u8 sack_ok;
	__u8 ts_ok;
	__u8 state;		/* enum maglb_stash_state */
	__u16 cookie_len;	/* Set-Cookie to come: the backend's MSS less this */
	__u64 created_ns;
	__u8 parser[MAGLB_PARSER_BYTES];	/* the head parser, while collecting */
	__u8 payload[MAGLB_STASH_BUF];	/* zero padded past have */
};

/*
 * maglb_cookies value, by service id: the Set-Cookie line a generated
 * cookie is answered with (Envoy's format), written by the agent with
 * 16 '0's where the value goes:
 *   Set-Cookie: NAME="0000000000000000"; Max-Age=TTL; Path=/; ATTRS; HttpOnly\r\n
 */
#define MAGLB_COOKIE_LINE_MAX	256

struct maglb_cookie_line {
	__u16 len;
	__u16 val_off;		/* where the 16 hex digits go */
	__u32 pad;
	char text[MAGLB_COOKIE_LINE_MAX];
};

/* maglb_secret value: the syncookie master key. Same key, same cookies:
 * every node with it accepts the others' handshakes. The key each slot
 * uses is derived from it (include/maglb_syncookie.h). */
struct maglb_secret {
	__u64 k0;
	__u64 k1;
};

/*
 * maglb_cookie_used value: one bucket of replay records (bpf/lib/
 * syncookie.h). A cell is (slot << 32 | fingerprint) of a handshake whose
 * first data opened a connection; 0 is empty. Buckets [0, N) hold even
 * slots, [N, 2N) odd ones, so a cell is only reused by a cookie two slots
 * younger, when the one it records no longer verifies.
 */
#define MAGLB_COOKIE_USED_BUCKETS	131072	/* per slot parity */
#define MAGLB_COOKIE_USED_WAYS		8

struct maglb_cookie_used {
	__u64 cell[MAGLB_COOKIE_USED_WAYS];
};

/* maglb_svc_stats and maglb_backend_stats value (per CPU). */
struct maglb_counters {
	__u64 packets;		/* client -> backend */
	__u64 bytes;
	__u64 new_conns;
	__u64 reply_packets;	/* backend -> client */
	__u64 reply_bytes;
};

/*
 * Egress: how a rewritten packet leaves by a device (bpf/lib/egress.h).
 * A veth takes an XDP frame only while its peer runs NAPI (an XDP program
 * or GRO there), many drivers only with an XDP program of their own, and a
 * bridge or a tunnel not at all; the kernel drops a refused frame after
 * our verdict. So XDP frames go only where maglb_egress says they are
 * taken, and every other device gets the skb from TC (or the stack).
 */
enum maglb_path {
	MAGLB_PATH_REDIRECT = 0,	/* XDP_REDIRECT by maglb_tx_ports */
	MAGLB_PATH_TX,			/* XDP_TX, back out of ingress */
	MAGLB_PATH_TC,			/* XDP_PASS, marked: TC redirects */
	MAGLB_PATH_STACK,		/* XDP_PASS: the kernel forwards */
	MAGLB_PATH_MAX,
};

#define MAGLB_EG_F_REDIRECT	(1U << 0)	/* takes redirected XDP frames */
#define MAGLB_EG_F_TX		(1U << 1)	/* takes XDP_TX frames */
#define MAGLB_EG_F_PEER		(1U << 2)	/* veth, peer in another netns:
						 * TC uses bpf_redirect_peer */
#define MAGLB_EG_F_DEMOTED	(1U << 3)	/* the kernel dropped our frames
						 * here: kernel path until the
						 * device or its peer changes */

/* What the agent saw of a device (maglb status says it in words). */
enum maglb_egress_why {
	MAGLB_EGW_UNKNOWN = 0,		/* not looked at yet */
	MAGLB_EGW_VETH_PEER_XDP,	/* veth whose peer has an XDP program */
	MAGLB_EGW_VETH_PEER_GRO,	/* veth whose peer has GRO on */
	MAGLB_EGW_VETH_PEER_BARE,	/* veth whose peer has neither */
	MAGLB_EGW_XDP_XMIT,		/* driver with ndo_xdp_xmit and our
					 * XDP program */
	MAGLB_EGW_NO_XDP_XMIT,		/* bridge, bond, tunnel, loopback, a
					 * driver without ndo_xdp_xmit */
	MAGLB_EGW_NO_PROG,		/* driver that needs an XDP program of
					 * its own and has none */
	MAGLB_EGW_MAX,
};

/* maglb_egress value, by ifindex; written by attach and the agent, read
 * by the datapath. A device with no entry gets the kernel path. */
struct maglb_egress {
	__u32 flags;		/* MAGLB_EG_F_* */
	__u32 why;		/* enum maglb_egress_why */
	__u32 peer_ifindex;	/* veth: the peer, in peer_nsid's netns */
	__s32 peer_nsid;	/* -1: same netns or none */
	__u32 peer_prog_id;	/* what the probe saw: a change of these */
	__u32 peer_gro;		/* ends a demotion (MAGLB_EG_F_DEMOTED) */
	__u64 demoted_ns;	/* CLOCK_MONOTONIC, when demoted; 0: never */
};

/* maglb_egress_stats key (per CPU, value maglb_reason_counters): what
 * left by which device on which path. */
struct maglb_egress_key {
	__u32 ifindex;
	__u32 path;		/* enum maglb_path */
};

/* maglb_xmit_errs value (per CPU), by ifindex: the kernel's failed XDP
 * transmits after our verdict, read from its xdp tracepoints by
 * maglb_trace.bpf.c. */
struct maglb_xmit_errs {
	__u64 devmap_drops;	/* redirected frames refused: at the flush
				 * (xdp_devmap_xmit) or at the redirect
				 * (xdp_redirect_err naming this device) */
	__u64 devmap_errs;	/* xdp_devmap_xmit events with err set */
	__u64 tx_drops;		/* xdp_bulk_tx: XDP_TX frames refused */
	__u64 redirect_errs;	/* xdp_redirect_err/_map_err, by ingress */
	__u64 exceptions;	/* xdp_exception, by ingress */
	__u64 demotions;	/* times this device was moved to the
				 * kernel path for it */
};

/* maglb_reasons value (per CPU). */
struct maglb_reason_counters {
	__u64 packets;
	__u64 bytes;
};

#endif /* MAGLB_H */
