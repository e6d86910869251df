/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* neigh.h - keep the kernel's neighbour entries for backends resolved. */
#ifndef MAGLB_NEIGH_H
#define MAGLB_NEIGH_H

#include "model/config.h"

/* Send one empty UDP datagram (discard port) to every backend. */
void neigh_warm(const struct maglb_config *cfg);

#endif
