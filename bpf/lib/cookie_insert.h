/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cookie_insert.h - TC only (maglb_tc.bpf.c includes it): a response's
 * first segment grown by the Set-Cookie line that cookie.h decided on.
 */
#ifndef MAGLB_BPF_COOKIE_INSERT_H
#define MAGLB_BPF_COOKIE_INSERT_H

#include "cookie.h"
#include "forward.h"
#include "nat.h"
#include "scratch.h"
#include "splice_translate.h"

#ifndef MAGLB_TC
#error "cookie_insert.h is TC's: skb growth"
#endif

/*
 * The response's first segment, grown by the Set-Cookie line, translated,
 * NATed and forwarded. Returns a TC action. Without room or a status line
 * in it the segment goes on unchanged (no cookie, the session still works).
 */
static __always_inline int cookie_insert(CTX *ctx, struct pkt *p,
					 struct maglb_ct_entry *ct,
					 enum maglb_reason *why)
{
	struct tcphdr *th = (struct tcphdr *)p->ports;
	struct maglb_cookie_line *line;
	struct maglb_scratch *sc;
	struct seg *s;
	__u32 zero = 0, svc = ct->svc_id, hlen, plen, len, ins, l4_off;
	__u64 *w;
	int i, action;

	sc = bpf_map_lookup_elem(&maglb_scratch, &zero);
	line = bpf_map_lookup_elem(&maglb_cookies, &svc);
	if (!sc || !line || !(ct->flags & MAGLB_CT_F_COOKIE_SENT))
		goto drop;
	hlen = th->doff * 4;
	plen = p->l3_off + pkt_l3_len(p) - p->l4_off - hlen;
	len = ct->cookie_len;
	/* XDP committed the shift after the same check (cookie_commit) */
	ins = cookie_fits(ctx, p, &sc->cookie, len);
	if (!ins || tcpopt_load(ctx, p->l4_off, hlen, &sc->seg.opts))
		goto drop;
	/* The line (all of its buffer: what follows is overwritten next),
	 * then the value, then the rest of the response after it. The masks
	 * are the bounds the verifier can see: ins <= 256, len <= 256. */
	w = (__u64 *)(sc->cookie.grow + buf_idx(ins, 2 * MAGLB_COOKIE_LINE_MAX));
	for (i = 0; i < MAGLB_COOKIE_LINE_MAX / 8; i++)
		w[i] = ((__u64 *)line->text)[i];
	cookie_hex(sc->cookie.grow + buf_idx(ins + buf_idx(line->val_off, MAGLB_COOKIE_LINE_MAX),
				      2 * MAGLB_COOKIE_LINE_MAX), ct->cookie_val);
	if (plen > ins &&
	    ctx_load_bytes(ctx, p->l4_off + hlen + ins,
			   sc->cookie.grow + buf_idx(ins + len, 4 * MAGLB_COOKIE_LINE_MAX),
			   plen - ins, MAGLB_SEG_BUF))
		goto drop;
	plen += len;
	sc->cookie.grow[buf_idx(plen, 2 * MAGLB_SEG_BUF)] = 0;
	sc->cookie.grow[buf_idx(plen + 1, 2 * MAGLB_SEG_BUF)] = 0;
	sc->cookie.grow[buf_idx(plen + 2, 2 * MAGLB_SEG_BUF)] = 0;

	s = &sc->seg.seg;
	__builtin_memset(s, 0, sizeof(*s));
	s->saddr = p->flow.saddr;
	s->daddr = p->flow.daddr;
	s->sport = p->flow.sport;
	s->dport = p->flow.dport;
	s->seq = bpf_ntohl(th->seq);
	s->ack = bpf_ntohl(th->ack_seq);
	s->flags = p->tcp_flags;
	s->window = bpf_ntohs(th->window);
	s->optlen = sc->seg.opts.len & 0x3c;
	__builtin_memcpy(s->opts, sc->seg.opts.buf, TCPOPT_MAX);
	if (seg_write(ctx, p, s, sc->cookie.grow, plen,
		      csum_buf(sc->cookie.grow, plen), &sc->seg.tbuf))
		goto drop;
	count_reason(MAGLB_COOKIE_INSERTED, p->len);
	/* This segment starts where the shift does: translate it without
	 * (the shared entry stays as it is for the other CPUs). */
	i = splice_translate(ctx, p, ct, ct->cookie_len, &sc->seg.opts);
	if (i || !nat_rewrite(p, ct))
		goto drop;
	count_entry(ct, p->len, false);
	l4_off = p->l4_off;
	/* the reply entry's next hop toward the client, as XDP uses it */
	action = forward_cached(ctx, p, &ct->nh, NULL, bpf_ktime_get_coarse_ns(),
				why, &sc->l4.fib);
	splice_store_opts(ctx, l4_off, &sc->seg.opts);
	return action;
drop:
	/* The shift is committed: this segment cannot go out without the
	 * line. The backend resends it, and the resend is tried again. */
	*why = MAGLB_DROP_SPLICE_UNSUPPORTED;
	return ACT_DROP;
}

#endif /* MAGLB_BPF_COOKIE_INSERT_H */
