/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice_scratch.h - the splice path's part of the per-CPU scratch
 * (scratch.h). Types only, apart from the splice steps, because those
 * steps take the whole scratch and scratch.h must see this part first.
 */
#ifndef MAGLB_BPF_SPLICE_SCRATCH_H
#define MAGLB_BPF_SPLICE_SCRATCH_H

#include "maglb.h"
#include "maglb_hash.h"
#include "http.h"
#include "syncookie.h"

struct splice_scratch {
	struct http_parser ps;		/* the head being parsed (stash.h) */
	struct maglb_splice sp;		/* a new stash, before it is stored */
	struct cookie_in syncookie;	/* a syncookie's input (syncookie.h) */
	struct maglb_key_block key;	/* the head's key, to be hashed */
	__u8 seg_copy[MAGLB_SEG_BUF];	/* a held segment being checked
					 * (stash.h); our 404 (splice_first.h) */
	struct maglb_stash_src_key src_key;	/* the per-source bound (stash.h) */
	struct maglb_stash_src src_val;
};

#endif /* MAGLB_BPF_SPLICE_SCRATCH_H */
