// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * keyhash.c - runs the datapath's own request parser (bpf/lib/http.h) and
 * hashes the same key block (include/maglb_hash.h), so `maglb lookup` and
 * the tests predict exactly what the XDP program picks.
 */
#include <stdio.h>
#include <string.h>
#include "model/keyhash.h"
#include "maglb_hash.h"
#include "lib/http.h"

int request_key_hash(const struct maglb_service *svc, const char *req,
		     int len, __u64 *hash)
{
	char name[HTTP_NAME_MAX] = {};
	struct maglb_key_block blk = {};
	struct http_parser ps;
	int i;

	if (svc->hash_type != MAGLB_HASH_COOKIE &&
	    svc->hash_type != MAGLB_HASH_HEADER)
		return -1;
	memcpy(name, svc->key_name, sizeof(name) - 1);
	http_init(&ps, svc->hash_type == MAGLB_HASH_COOKIE ? HTTP_MODE_COOKIE :
		  HTTP_MODE_HEADER, name, svc->key_len);
	for (i = 0; i < len && !http_feed(&ps, req[i]); i++)
		;
	if (ps.result != HTTP_FOUND)
		return -1;
	memcpy(blk.v, ps.value + ps.value_off, ps.value_len);
	blk.len = ps.value_len;
	*hash = maglb_key_hash(&blk);
	return 0;
}

int kv_key_hash(const struct maglb_service *svc, const char *kv, __u64 *hash)
{
	const char *eq = kv ? strchr(kv, '=') : NULL;
	char req[1024];
	int n;

	if (!eq)
		return -1;
	if (svc->hash_type == MAGLB_HASH_COOKIE)
		n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nCookie: %s\r\n\r\n", kv);
	else
		n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%.*s: %s\r\n\r\n",
			     (int)(eq - kv), kv, eq + 1);
	if (n <= 0 || n >= (int)sizeof(req))
		return -1;
	return request_key_hash(svc, req, n, hash);
}
