// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglb_trace.bpf.c - the kernel's failed XDP transmits, after our verdict.
 * An XDP program only returns XDP_TX or XDP_REDIRECT; the driver sends the
 * frame later, in a flush, and a frame it refuses there is freed with no
 * trace in our counters. The kernel's xdp tracepoints see those flushes:
 * these programs count the failures into maglb_xmit_errs by device and
 * demote a device whose transmits fail (see demote()).
 *
 * What fires where. veth_xdp_xmit and veth_xdp_flush_bq read in the
 * drivers/net/veth.c of a 6.1 and a 6.12 tree (the same code in both);
 * devmap's side and the xdp_features gate as in mainline; on 6.18
 * measured (tests/e2e/test_xmit_errors.sh):
 * - xdp_devmap_xmit(from_dev, to_dev, sent, drops, err): bq_xmit_all, once
 *   per devmap flush of to_dev, successful ones included. veth's
 *   ndo_xdp_xmit returns -ENXIO when the peer has no NAPI (no XDP program,
 *   no GRO): sent 0, drops all, err -ENXIO.
 * - xdp_bulk_tx(dev, sent, drops, err): veth_xdp_flush_bq, the end of a
 *   NAPI poll that returned XDP_TX. It calls veth_xdp_xmit(rq->dev) too,
 *   so a peer without NAPI refuses every XDP_TX frame: err -ENXIO, drops
 *   all. dev is the veth that ran the program (XDP_TX leaves by it).
 *   Other drivers (mlx5, i40e, ...) count XDP_TX failures in their own
 *   ethtool stats and fire nothing.
 * - xdp_redirect_err(dev, xdp, tgt, err, map_type, map_id, index):
 *   xdp_do_redirect failing at once (an empty devmap slot, a device down,
 *   too big a frame); dev is the ingress device, and for a devmap tgt is
 *   the slot (struct bpf_dtab_netdev, whose dev is the target). Since 6.3
 *   this is where a veth with a bare peer refuses redirects:
 *   veth_set_xdp_features() gives a veth NETDEV_XDP_ACT_NDO_XMIT only
 *   while its peer has an XDP program or GRO, and devmap's __xdp_enqueue
 *   fails with -EOPNOTSUPP without it, before any flush. So on 6.12 and
 *   6.18 the frames refused show here (measured on 6.18: redirect_errs on
 *   the ingress device, no xdp_devmap_xmit drops), on 6.1 in
 *   xdp_devmap_xmit; a frame queued just before the peer changed still
 *   fails at the flush. xdp_redirect_map_err is defined on 6.1 and
 *   6.12 but fired by nothing (map errors go to xdp_redirect_err), and
 *   was removed in 2025: it is not on 6.18, so we do not attach it.
 * - xdp_exception(dev, xdp, act): XDP_ABORTED, an unknown verdict, or a
 *   driver's failure to queue an XDP_TX frame; dev is the ingress device.
 * The prototypes of these four are the same in 6.1, 6.12 and 6.18
 * (include/trace/events/xdp.h; 6.18 also from its BTF, btf_trace_xdp_*),
 * so one object serves all; the programs name only the arguments they
 * read, a prefix of each.
 *
 * These tracepoints are the kernel's, not our program's: they also fire
 * for every other XDP program on the node, in every namespace. Only
 * devices in maglb's own namespace are counted (maglb_netns_ino); a drop
 * counted on one maglb is not attached to may be another program's, and
 * demotion only touches devices with a maglb_egress entry, which maglb
 * made.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "maglb.h"
#include "lib/kernel_types.h"
#include "lib/maps_egress.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The inode of the network namespace maglb attached in (attach sets it;
 * 0 means any). ifindexes are per namespace: a pod's eth0 may have the
 * ifindex of one of ours, and its drivers' drops must not demote ours. */
const volatile __u32 maglb_netns_ino;

/* DEV's ifindex if DEV is in maglb's namespace, else 0 (no device). */
static __always_inline __u32 our_ifindex(const struct net_device *dev)
{
	if (maglb_netns_ino &&
	    BPF_CORE_READ(dev, nd_net.net, ns.inum) != maglb_netns_ino)
		return 0;
	return BPF_CORE_READ(dev, ifindex);
}

/* This CPU's counters for ifindex; created zero on first use. NULL for
 * ifindex 0, what our_ifindex() says of a device not ours. */
static __always_inline struct maglb_xmit_errs *errs_of(__u32 ifindex)
{
	static const struct maglb_xmit_errs zero;
	struct maglb_xmit_errs *e;

	if (!ifindex)
		return NULL;
	e = bpf_map_lookup_elem(&maglb_xmit_errs, &ifindex);
	if (e)
		return e;
	/* -EEXIST: another CPU inserted it first; the entry is there. */
	bpf_map_update_elem(&maglb_xmit_errs, &ifindex, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&maglb_xmit_errs, &ifindex);
}

/*
 * The kernel dropped frames we sent by `lost` on ifindex: stop sending
 * XDP frames there. Without this the datapath keeps redirecting into a
 * device that refuses them until the agent's next probe, and every
 * packet in between is lost; here it takes one flush. The datapath reads
 * the flags through its next-hop caches, so it sends by the kernel path
 * (TC or the stack) within NH_CACHE_NS (1 s). DEMOTED keeps the probe
 * from granting the verdict again until the device or its peer changes.
 */
static __always_inline void demote(__u32 ifindex, __u32 lost,
				   struct maglb_xmit_errs *errs)
{
	struct maglb_egress *eg;
	__u32 old;

	eg = bpf_map_lookup_elem(&maglb_egress, &ifindex);
	if (!eg || !(eg->flags & lost))
		return;
	/* Atomic, so that of two CPUs flushing drops at once only the one
	 * that cleared the flag counts the demotion. */
	old = __sync_fetch_and_and(&eg->flags,
				   ~(MAGLB_EG_F_REDIRECT | MAGLB_EG_F_TX));
	if (!(old & lost))
		return;
	__sync_fetch_and_or(&eg->flags, MAGLB_EG_F_DEMOTED);
	eg->demoted_ns = bpf_ktime_get_ns();
	errs->demotions++;
}

SEC("tp_btf/xdp_devmap_xmit")
int BPF_PROG(maglb_devmap_xmit, const struct net_device *from_dev,
	     const struct net_device *to_dev, int sent, int drops, int err)
{
	struct maglb_xmit_errs *e;
	__u32 ifindex;

	/* Every flush fires this, on every device: leave the good ones at
	 * once, they are nearly all. */
	if (!drops && !err)
		return 0;
	ifindex = our_ifindex(to_dev);
	e = errs_of(ifindex);
	if (!e)
		return 0;
	e->devmap_drops += drops;
	e->devmap_errs += err != 0;
	if (drops > 0)
		demote(ifindex, MAGLB_EG_F_REDIRECT, e);
	return 0;
}

SEC("tp_btf/xdp_bulk_tx")
int BPF_PROG(maglb_bulk_tx, const struct net_device *dev, int sent,
	     int drops, int err)
{
	struct maglb_xmit_errs *e;
	__u32 ifindex;

	if (drops <= 0)
		return 0;
	ifindex = our_ifindex(dev);
	e = errs_of(ifindex);
	if (!e)
		return 0;
	e->tx_drops += drops;
	demote(ifindex, MAGLB_EG_F_TX, e);
	return 0;
}

/* A devmap redirect refused at once is a redirected frame the target
 * dropped, as one refused at the flush is: count and demote the target
 * too. Other redirects (cpumap, xskmap, bpf_redirect) name no device
 * here that maglb sends to. */
static __always_inline void redirect_refused(const void *tgt,
					     enum bpf_map_type type)
{
	const struct bpf_dtab_netdev *slot = tgt;
	struct maglb_xmit_errs *e;
	__u32 ifindex;

	if (type != BPF_MAP_TYPE_DEVMAP && type != BPF_MAP_TYPE_DEVMAP_HASH)
		return;
	ifindex = our_ifindex(BPF_CORE_READ(slot, dev));
	e = errs_of(ifindex);
	if (!e)
		return;
	e->devmap_drops++;
	demote(ifindex, MAGLB_EG_F_REDIRECT, e);
}

/* raw_tp, not tp_btf: 6.1's BTF check refuses any read of a "const void *"
 * tracepoint argument (tgt), where later kernels read it as a scalar. The
 * arguments are the same u64 array; BPF_CORE_READ reads through
 * bpf_probe_read_kernel() either way. */
SEC("raw_tp/xdp_redirect_err")
int BPF_PROG(maglb_redirect_err, const struct net_device *dev,
	     const struct bpf_prog *xdp, const void *tgt, int err,
	     enum bpf_map_type map_type)
{
	struct maglb_xmit_errs *e = errs_of(our_ifindex(dev));

	if (e)
		e->redirect_errs++;
	if (tgt)
		redirect_refused(tgt, map_type);
	return 0;
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(maglb_exception, const struct net_device *dev)
{
	struct maglb_xmit_errs *e = errs_of(our_ifindex(dev));

	if (e)
		e->exceptions++;
	return 0;
}
