/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* names.h - printable names of the datapath's enums (include/maglb.h). */
#ifndef MAGLB_NAMES_H
#define MAGLB_NAMES_H

const char *reason_name(int reason);	/* enum maglb_reason */
const char *hash_name(int type);	/* enum maglb_hash_type */
const char *path_name(int path);	/* enum maglb_path */
const char *egress_why_name(int why);	/* enum maglb_egress_why */

#endif
