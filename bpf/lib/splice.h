/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice.h - TCP delayed binding for Cookie and Header services: the key
 * lives in the first request, which a client only sends after a handshake,
 * so the handshake is ours and the backend connection opens afterwards.
 *
 *  client SYN        -> SYN-ACK with a syncookie; no state (splice_syn.h)
 *  client ACK        -> cookie checked, absorbed; no state
 *  client data       -> cookie checked, the head held in maglb_splice and
 *                       parsed segment by segment (stash.h); once it names
 *                       the key, the backend is picked and the segment
 *                       becomes a SYN to it with the client's own ISN
 *                       (splice_first.h)
 *  backend SYN-ACK   -> becomes the first held segment, each backend ACK
 *                       the next; the sequence and timestamp offsets go
 *                       into conntrack (splice_setup.h)
 *  steady state      -> seq/ack, SACK, TSval/TSecr and window translated in
 *                       both directions (splice_translate.h), then the
 *                       usual NAT and forwarding
 *
 * XDP has no timer that sends, so client retransmits are the clock: a
 * retransmitted first segment re-sends the backend SYN, and one arriving
 * after splice_timeout_ns becomes an RST to the client. A backend RST
 * during setup reaches the client as an RST too. The backend side reuses
 * the client's ISN, so client->backend sequence numbers never change.
 */
#ifndef MAGLB_BPF_SPLICE_H
#define MAGLB_BPF_SPLICE_H

/* The steps, in the order a connection meets them. cookie_insert.h, TC's
 * only, comes after these in maglb_tc.bpf.c. */
#include "splice_syn.h"
#include "splice_first.h"
#include "splice_setup.h"
#include "splice_translate.h"

#endif /* MAGLB_BPF_SPLICE_H */
