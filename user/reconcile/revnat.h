/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * revnat.h - maglb_revnat and maglb_revnat_ports brought in line with the
 * services and backends the maps hold (include/maglb.h).
 */
#ifndef MAGLB_REVNAT_H
#define MAGLB_REVNAT_H

#include "datapath/maps.h"

/* Returns 0 or -errno; on an error the maps are left as they were or
 * with fewer VIPs listed, never with a port bit for a key not written:
 * a connection whose VIP is not listed just gets two entries. */
int revnat_sync(const struct maglb_maps *m);

#endif
