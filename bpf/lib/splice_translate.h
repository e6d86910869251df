/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice_translate.h - a spliced connection's steady state: seq/ack, SACK
 * edges, timestamps and the window moved into the other side's space.
 * Part of splice.h.
 */
#ifndef MAGLB_BPF_SPLICE_TRANSLATE_H
#define MAGLB_BPF_SPLICE_TRANSLATE_H

#include "csum.h"
#include "parse.h"
#include "tcpopt.h"

struct sack_walk {
	struct tcp_opts *o;
	__u32 add;
};

/* Move one SACK edge (a callback: unrolled, 8 edges times the fast path's
 * states overran the verifier). */
static __noinline long sack_step(__u32 i, void *data)
{
	struct sack_walk *w = data;
	struct tcp_opts *o = w->o;
	__u32 at;

	if (i >= 8 || 4 * i + 2 >= o->sack_len)
		return 1;
	at = o->sack_at + 2 + 4 * i;
	opt_put32(o->buf, at, opt_get32(o->buf, at) + w->add);
	return 0;
}

/*
 * Steady state: move seq/ack, SACK edges, timestamps and the window into
 * the other side's space. Header fields are patched in place; the option
 * block is patched in o and written back by splice_store_opts() once no
 * packet pointer is needed any more (bpf_xdp_store_bytes invalidates them).
 */
static __always_inline int splice_translate(CTX *ctx, struct pkt *p,
					    const struct maglb_ct_entry *e,
					    __u32 seq_less, struct tcp_opts *o)
{
	__u32 seq_add = e->seq_add - seq_less;
	struct tcphdr *th = tcp_hdr(p);
	__u32 old, new;
	__u64 d = 0;

	o->len = 0;
	if (!pkt_tcp(ctx, p))
		return -1;
	if (seq_add) {
		old = th->seq;
		new = bpf_htonl(bpf_ntohl(old) + seq_add);
		th->seq = new;
		d = csum_delta32(d, old, new);
	}
	if (e->ack_add && (p->tcp_flags & TCP_F_ACK)) {
		old = th->ack_seq;
		new = bpf_htonl(bpf_ntohl(old) + e->ack_add);
		th->ack_seq = new;
		d = csum_delta32(d, old, new);
	}
	if (e->win_shift) {
		__u16 w = bpf_ntohs(th->window), nw;
		__u32 x = w;

		if (e->win_shift > 0)
			x <<= e->win_shift & 15;
		else
			x >>= -e->win_shift & 15;
		nw = x > 0xffff ? 0xffff : x;
		d = csum_delta16(d, th->window, bpf_htons(nw));
		th->window = bpf_htons(nw);
	}
	/* The usual segment carries only NOP NOP TS: patch it in place, no
	 * option walk and no store helper (the steady state's main cost). */
	if (th->doff == 8 && (e->tsval_add || e->tsecr_add)) {
		__u8 *opt = (__u8 *)(th + 1);

		if ((void *)(opt + 12) <= ctx_data_end(ctx) && opt[0] == 1 &&
		    opt[1] == 1 && opt[2] == 8 && opt[3] == 10) {
			__be32 *tv = (__be32 *)(opt + 4), *te = (__be32 *)(opt + 8);

			old = *tv;
			new = bpf_htonl(bpf_ntohl(old) + e->tsval_add);
			*tv = new;
			d = csum_delta32(d, old, new);
			if (*te) {
				old = *te;
				new = bpf_htonl(bpf_ntohl(old) + e->tsecr_add);
				*te = new;
				d = csum_delta32(d, old, new);
			}
			goto out;
		}
	}
	if (th->doff > 5 && (e->tsval_add || e->tsecr_add || e->sack_add)) {
		__u32 before, after;

		if (tcpopt_load(ctx, p->l4_off, th->doff * 4, o))
			return -1;
		before = tcpopt_sum(o);
		if (o->ts_ok) {
			opt_put32(o->buf, o->ts_at + 2, o->tsval + e->tsval_add);
			if (o->tsecr)
				opt_put32(o->buf, o->ts_at + 6,
					  o->tsecr + e->tsecr_add);
		}
		if (o->sack_at && e->sack_add) {
			struct sack_walk w = { .o = o, .add = e->sack_add };

			bpf_loop(8, sack_step, &w, 0);
		}
		after = tcpopt_sum(o);
		d += (__u16)~csum_fold64(before) + csum_fold64(after);
	}
out:
	if (d)
		*p->l4_csum = csum_apply(*p->l4_csum, d);
	return 0;
}

static __always_inline void splice_store_opts(CTX *ctx,
					      __u32 l4_off,
					      const struct tcp_opts *o)
{
	__u32 len = o->len;

	if (len > TCPOPT_MAX)
		return;
	ctx_store_bytes(ctx, l4_off + 20, o->buf, len, sizeof(o->buf));
}

#endif /* MAGLB_BPF_SPLICE_TRANSLATE_H */
