// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * helpers.c - what several packet test files use (pkt.h): counters, conntrack
 * keys, Maglev's answer for a flow, TCP options, the single-packet case
 * check, and the client's side of a delayed-binding handshake.
 */
#include "pkt.h"

__u64 reason_count(enum maglb_reason why)
{
	struct maglb_reason_counters c;

	maps_read_reason(&maps, why, &c);
	return c.packets;
}

/* Conntrack key of the client 10.10.0.2:sport to vip:80 over TCP. */
void client_key(const char *vip, unsigned short sport,
		       struct maglb_flow *k)
{
	memset(k, 0, sizeof(*k));
	k->family = MAGLB_AF_INET;
	k->proto = IPPROTO_TCP;
	inet_pton(AF_INET, "10.10.0.2", &k->saddr);
	inet_pton(AF_INET, vip, &k->daddr);
	k->sport = htons(sport);
	k->dport = htons(80);
}

struct svc_item *find_svc(const char *name, struct svc_item *out)
{
	struct svc_item *all;
	int i, n = maps_read_services(&maps, &all);

	for (i = 0; i < n; i++)
		if (!strcmp(all[i].svc.name, name))
			*out = all[i];
	free(all);
	return out;
}

/* What `maglb lookup` answers for this client flow: the backend address. */
void maglev_answer(const char *svc_name, const struct pkt_spec *s,
			  char *addr, unsigned short *port)
{
	struct maglb_flow f = {};
	struct svc_item it = {};
	struct maglb_backend be;
	__u32 *slots, size;

	find_svc(svc_name, &it);
	f.family = s->family == 6 ? MAGLB_AF_INET6 : MAGLB_AF_INET;
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->src, &f.saddr);
	inet_pton(s->family == 6 ? AF_INET6 : AF_INET, s->dst, &f.daddr);
	f.sport = htons(s->sport);
	f.dport = htons(s->dport);
	f.proto = s->proto;
	maps_read_ring(&maps, it.svc.id, &slots, &size);
	maps_get_backend(&maps, slots[maglb_ring_slot(
		maglb_flow_hash(&f, it.svc.hash_type), size) - 1], &be);
	inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, &be.addr, addr, 64);
	*port = ntohs(be.port);
	free(slots);
}

int send_and_view(const struct pkt_spec *s, const char *dev,
			 int want_action, struct pkt_view *v)
{
	struct run r;

	ASSERT_OK(run_pkt(s, dev, &r));
	ASSERT_EQ(r.action, want_action);
	ASSERT_OK(pkt_view(r.out, r.out_len, v));
	ASSERT_TRUE(v->csum_ok, "checksums do not verify");
	return 0;
}

bool ct_has(const struct maglb_flow *k)
{
	struct maglb_ct_entry e;

	return !maps_get_ct(&maps, k, &e);
}

int check_case(const struct pkt_case *c, int idx)
{
	const char *dev = c->dev ? c->dev : "c0";
	__u64 before = reason_count(c->reason);
	struct pkt_view v;
	struct run r;
	char want_dst[64];
	unsigned short want_port;

	ASSERT_OK(run_pkt(&c->in, dev, &r));
	ASSERT_EQ(r.action, c->action);
	ASSERT_EQ(reason_count(c->reason) - before, 1);
	ASSERT_EQ(r.out_len, r.in_len);
	if (!c->svc) {
		ASSERT_TRUE(!memcmp(r.in, r.out, r.in_len),
			    "packet changed although it was not ours");
		return 0;
	}
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	maglev_answer(c->svc, &c->in, want_dst, &want_port);
	ASSERT_TRUE(v.csum_ok, "checksums do not verify after rewrite");
	ASSERT_TRUE(!strcmp(v.dst, want_dst), "dst %s, Maglev says %s", v.dst,
		    want_dst);
	ASSERT_TRUE(!strcmp(v.src, c->src), "src %s, want %s", v.src, c->src);
	ASSERT_EQ(v.dport, c->dport);
	ASSERT_EQ(want_port, c->dport);
	ASSERT_TRUE(v.sport >= c->sport_min &&
		    v.sport <= (c->sport_max ? c->sport_max : c->sport_min),
		    "sport %u", v.sport);
	ASSERT_EQ(v.ttl, c->ttl);
	ASSERT_EQ(v.vlans, c->in.vlans);
	if (c->in.udp_no_csum)
		ASSERT_EQ(v.udp_csum, 0);
	if (c->action == XDP_REDIRECT || c->action == XDP_TX)
		ASSERT_TRUE(v.dmac[0] == 2 && v.dmac[5] != 0xa,
			    "destination MAC not taken from the FIB");
	return 0;
}

/* The backend's SYN-ACK to the client SYN that left as *syn (what the
 * rewrite made of it: the backend is its destination, and its source is
 * the client or the snat address and port). In through dev, with ISN
 * isn_b, acknowledging the SYN; it must leave as want_action. The reply
 * entry records it, and a client ACK of isn_b + 1 then confirms the
 * connection (bpf/lib/conntrack.h, ct_acks_syn_ack). */
int l4_syn_ack(const struct pkt_view *syn, const char *dev,
	       unsigned int isn_b, int want_action)
{
	struct pkt_spec b = { .family = syn->family, .src = syn->dst,
			      .dst = syn->src, .sport = syn->dport,
			      .dport = syn->sport, .proto = IPPROTO_TCP,
			      .tcp_flags = TF_SYN | TF_ACK, .seq = isn_b,
			      .ack = syn->seq + 1 };
	struct pkt_view v;

	return send_and_view(&b, dev, want_action, &v);
}

/* A whole L4 handshake, every segment leaving as want_action: s's SYN
 * (at s->seq, 0 meaning 1000, as pkt_build) in through c0, the backend's
 * SYN-ACK (ISN L4_BACKEND_ISN) in through bdev, the client's ACK of it.
 * s is left the ACK, *v its view: the connection is confirmed. */
int l4_handshake(struct pkt_spec *s, const char *bdev, int want_action,
		 struct pkt_view *v)
{
	unsigned int isn = s->seq ? s->seq : 1000;

	s->tcp_flags = TF_SYN;
	s->seq = isn;
	if (send_and_view(s, "c0", want_action, v) ||
	    l4_syn_ack(v, bdev, L4_BACKEND_ISN, want_action))
		return -1;
	s->tcp_flags = TF_ACK;
	s->seq = isn + 1;
	s->ack = L4_BACKEND_ISN + 1;
	return send_and_view(s, "c0", want_action, v);
}

const __u8 *view_opt(const struct pkt_view *v, int kind)
{
	int i = 0;

	while (i < v->optlen) {
		if (v->opts[i] == 0)
			break;
		if (v->opts[i] == 1) {
			i++;
			continue;
		}
		if (v->opts[i] == kind)
			return v->opts + i;
		i += v->opts[i + 1] ? v->opts[i + 1] : 1;
	}
	return NULL;
}

unsigned int get32(const __u8 *p)
{
	return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/* 32 bits at offset off of option kind; a missing option reads as a value
 * no test wants. */
unsigned int opt32(const struct pkt_view *v, int kind, int off)
{
	const __u8 *o = view_opt(v, kind);

	return o ? get32(o + off) : 0xdeadbeef;
}

void put32(__u8 *p, unsigned int v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

int mss_of(const struct pkt_view *v)
{
	const __u8 *o = view_opt(v, 2);

	return o ? (o[2] << 8) | o[3] : -1;
}

/* Client SYN: our SYN-ACK gives the cookie and our TSval. */
int hs_syn(struct hs *h)
{
	struct pkt_spec s = { CK, .sport = h->sport, .tcp_flags = TF_SYN,
			      .seq = h->isn, .opts = syn_opts, .optlen = 20 };
	struct pkt_view v;
	const __u8 *ts;
	struct run r;

	if (h->vip)
		s.dst = h->vip;
	ASSERT_OK(run_pkt(&s, "c0", &r));
	ASSERT_EQ(r.action, XDP_TX);
	ASSERT_OK(pkt_view(r.out, r.out_len, &v));
	ASSERT_TRUE(v.csum_ok, "SYN-ACK checksums");
	ts = view_opt(&v, 8);
	ASSERT_TRUE(ts, "no timestamps in SYN-ACK");
	h->cookie = v.seq;
	h->tsval_ours = get32(ts + 2);
	h->ts_opts[0] = h->ts_opts[1] = 1;
	h->ts_opts[2] = 8;
	h->ts_opts[3] = 10;
	put32(h->ts_opts + 4, 800);
	put32(h->ts_opts + 8, h->tsval_ours);
	return 0;
}

struct pkt_spec hs_data(const struct hs *h, const char *req)
{
	struct pkt_spec s = { CK, .sport = h->sport,
			      .tcp_flags = TF_ACK | TF_PSH, .seq = h->isn + 1,
			      .ack = h->cookie + 1, .opts = h->ts_opts,
			      .optlen = 12, .data = req, .window = 502 };

	if (h->vip)
		s.dst = h->vip;
	return s;
}

/* Client SYN and first data: the backend SYN comes out (the view points
 * into *r, which the caller owns). */
int hs_open(struct hs *h, const char *req, struct run *r,
		   struct pkt_view *syn)
{
	struct pkt_spec s;

	if (hs_syn(h))
		return -1;
	s = hs_data(h, req);
	ASSERT_OK(run_pkt(&s, "c0", r));
	ASSERT_EQ(r->action, XDP_REDIRECT);
	ASSERT_OK(pkt_view(r->out, r->out_len, syn));
	ASSERT_TRUE(syn->csum_ok, "backend SYN checksums");
	snprintf(h->backend, sizeof(h->backend), "%s", syn->src[0] ? syn->dst : "");
	return 0;
}

/* The backend's SYN-ACK to our SYN. */
struct pkt_spec hs_synack(const struct hs *h, const __u8 *opts)
{
	struct pkt_spec s = { .family = 4, .src = h->backend, .sport = 3000,
			      .dst = "10.10.0.2", .dport = h->sport,
			      .proto = IPPROTO_TCP, .tcp_flags = TF_SYN | TF_ACK,
			      .seq = h->isn_b, .ack = h->isn + 1, .opts = opts,
			      .optlen = 20 };
	return s;
}

/* The backend's SYN-ACK options: MSS 1460, SACK ok, TS 5000/800, WS 9. */
const unsigned char backend_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
	0, 0, 0x13, 0x88, 0, 0, 0x03, 0x20, 1, 3, 3, 9 };

/* After hs_open: the backend's SYN-ACK (left in *s) becomes, in TC, the
 * ACK with the stashed request. The connection is spliced. */
int hs_splice(struct hs *h, struct pkt_spec *s, struct run *r)
{
	*s = hs_synack(h, backend_opts);
	ASSERT_OK(run_tc(s, "b0", r));
	ASSERT_EQ(r->action, 7);		/* TC_ACT_REDIRECT */
	return 0;
}

/* A segment XDP must hand up (pass_to_tc) and TC then grows and sends on:
 * both run, TC's output is left viewed in *v with its checksums checked. */
int run_grown(const struct pkt_spec *s, const char *dev, struct run *r,
	      struct pkt_view *v)
{
	ASSERT_OK(run_pkt(s, dev, r));
	ASSERT_EQ(r->action, XDP_PASS);
	ASSERT_OK(run_tc(s, dev, r));
	ASSERT_EQ(r->action, 7);		/* TC_ACT_REDIRECT */
	ASSERT_OK(pkt_view(r->out, r->out_len, v));
	ASSERT_TRUE(v->csum_ok, "checksums of what TC sent");
	return 0;
}
