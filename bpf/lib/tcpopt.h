/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpopt.h - TCP options, read into a stack copy (bpf_xdp_load_bytes) so the
 * walk indexes a 64-byte array under a mask instead of chasing a packet
 * pointer the verifier must re-prove at every step.
 */
#ifndef MAGLB_BPF_TCPOPT_H
#define MAGLB_BPF_TCPOPT_H

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WS	3
#define TCPOPT_SACKOK	4
#define TCPOPT_SACK	5
#define TCPOPT_TS	8
#define TCPOPT_MAX	40
#define TCPOPT_BUF	64	/* a power of 2 above it, for buf_idx() */
#define WSCALE_NONE	0xff

struct tcp_opts {
	__u8 buf[TCPOPT_BUF];	/* options as on the wire; 40 used at most */
	__u8 len;
	__u8 wscale;		/* WSCALE_NONE if absent */
	__u8 sack_ok;
	__u8 ts_ok;
	__u8 ts_at;		/* index of the TS option in buf */
	__u8 sack_at;		/* index of the SACK option, 0 = none */
	__u8 sack_len;
	__u8 walk;		/* tcpopt_step()'s position (see there) */
	__u16 mss;		/* 0 if absent */
	__u32 tsval;		/* host order */
	__u32 tsecr;
};

static __always_inline __u32 opt_get32(const __u8 *b, __u32 i)
{
	return ((__u32)b[buf_idx(i, TCPOPT_BUF)] << 24) |
	       ((__u32)b[buf_idx(i + 1, TCPOPT_BUF)] << 16) |
	       ((__u32)b[buf_idx(i + 2, TCPOPT_BUF)] << 8) |
	       b[buf_idx(i + 3, TCPOPT_BUF)];
}

static __always_inline void opt_put32(__u8 *b, __u32 i, __u32 v)
{
	b[buf_idx(i, TCPOPT_BUF)] = v >> 24;
	b[buf_idx(i + 1, TCPOPT_BUF)] = v >> 16;
	b[buf_idx(i + 2, TCPOPT_BUF)] = v >> 8;
	b[buf_idx(i + 3, TCPOPT_BUF)] = v;
}

struct tcpopt_walk {
	struct tcp_opts *o;
};

/*
 * One option per call, from bpf_loop(). The verifier re-checks a callback
 * until its states converge, so the position lives in o->walk (map memory,
 * which it does not track) rather than on the stack, where every offset
 * would be a new state.
 */
static __noinline long tcpopt_step(__u32 i, void *data)
{
	struct tcpopt_walk *w = data;
	struct tcp_opts *o = w->o;
	__u32 off = o->walk;
	__u8 kind, olen;

	if (off >= o->len || off >= TCPOPT_MAX)
		return 1;
	kind = o->buf[buf_idx(off, TCPOPT_BUF)];
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		o->walk = off + 1;
		return 0;
	}
	olen = o->buf[buf_idx(off + 1, TCPOPT_BUF)];
	if (olen < 2 || off + olen > o->len)
		return 1;		/* malformed: stop, keep what we have */
	if (kind == TCPOPT_MSS && olen == 4) {
		o->mss = (o->buf[buf_idx(off + 2, TCPOPT_BUF)] << 8) | o->buf[buf_idx(off + 3, TCPOPT_BUF)];
	} else if (kind == TCPOPT_WS && olen == 3) {
		o->wscale = o->buf[buf_idx(off + 2, TCPOPT_BUF)];
		if (o->wscale > 14)
			o->wscale = 14;
	} else if (kind == TCPOPT_SACKOK && olen == 2) {
		o->sack_ok = 1;
	} else if (kind == TCPOPT_TS && olen == 10) {
		o->ts_ok = 1;
		o->ts_at = off;
		o->tsval = opt_get32(o->buf, off + 2);
		o->tsecr = opt_get32(o->buf, off + 6);
	} else if (kind == TCPOPT_SACK && (olen - 2) % 8 == 0) {
		o->sack_at = off;
		o->sack_len = olen;
	}
	o->walk = off + olen;
	return 0;
}

/* Load and index the options of the TCP header at th_off (doff known). */
static __always_inline int tcpopt_load(CTX *ctx, __u32 th_off,
				       __u32 doff_bytes, struct tcp_opts *o)
{
	struct tcpopt_walk w = { .o = o };
	__u32 len;

	__builtin_memset(o, 0, sizeof(*o));
	o->wscale = WSCALE_NONE;
	if (doff_bytes < 20 || doff_bytes > 20 + TCPOPT_MAX)
		return -1;
	len = doff_bytes - 20;
	o->len = len;
	if (len == 0)
		return 0;
	if (len > TCPOPT_MAX ||
	    ctx_load_bytes(ctx, th_off + 20, o->buf, len, sizeof(o->buf)))
		return -1;
	bpf_loop(TCPOPT_MAX, tcpopt_step, &w, 0);
	return 0;
}

/* One's complement sum of the option bytes as 16-bit words; the options
 * start 4-byte aligned in the header, so word boundaries agree. */
static __always_inline __u32 tcpopt_sum(const struct tcp_opts *o)
{
	__u32 s = 0, i;

	for (i = 0; i < TCPOPT_MAX / 2; i++) {
		if (2 * i >= o->len)
			break;
		s += *(const __u16 *)&o->buf[buf_idx(2 * i, TCPOPT_BUF)];
	}
	return s;
}

#endif /* MAGLB_BPF_TCPOPT_H */
