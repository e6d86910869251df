/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* keyhash.h - the Cookie/Header key hash of a request, as the datapath
 * computes it (same parser, same key block). */
#ifndef MAGLB_KEYHASH_H
#define MAGLB_KEYHASH_H

#include "maglb.h"

/* Hash of the key in request head `req` for service svc. Returns 0, or -1
 * when svc is not Cookie/Header or the head carries no such key. */
int request_key_hash(const struct maglb_service *svc, const char *req,
		     int len, __u64 *hash);

/* Same, for a request that carries just `kv` (NAME=VALUE) as a cookie or a
 * header, per the service's hash type. */
int kv_key_hash(const struct maglb_service *svc, const char *kv, __u64 *hash);

#endif
