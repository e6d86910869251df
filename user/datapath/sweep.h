/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sweep.h - expire idle and closed conntrack entries. */
#ifndef MAGLB_SWEEP_H
#define MAGLB_SWEEP_H

#include "datapath/maps.h"
#include "model/config.h"

/* Returns the number of entries deleted, or -errno. */
int ct_sweep(const struct maglb_maps *m, const struct maglb_config *cfg,
	     __u64 now_ns);

#endif
