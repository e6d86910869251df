/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * load.h - files to the desired state. config_load() either returns a
 * config in which every field has been checked, or an error that names
 * the file, the line, the field and the reason.
 */
#ifndef MAGLB_LOAD_H
#define MAGLB_LOAD_H

#include "input/source.h"
#include "model/config.h"

/* What a config file may hold (docs/configuration.md#limits): its size,
 * and how deep its mappings and lists nest. */
#define MAGLB_CONFIG_MAX_BYTES	(1 << 20)
#define MAGLB_CONFIG_MAX_DEPTH	64

/* A config file's bytes, NUL-terminated (*buf to free): a regular file
 * (symlinks followed) of at most MAGLB_CONFIG_MAX_BYTES, opened without
 * blocking, so a FIFO in its place is an error at once. -1 with err
 * filled ("FILE: REASON"). */
int config_read_file(const char *path, char **buf, size_t *len,
		     char *err, size_t errlen);

/* Returns NULL with err filled ("FILE:LINE: FIELD: REASON"). */
struct maglb_config *config_load(const char *path, char *err, size_t errlen);
/* Several files: at most one maglb config document, and any number of
 * Kubernetes objects (Gateway API manifests; see gateway.h). */
struct maglb_config *config_load_files(const char *const *paths, int n,
				       const struct cfg_source *src,
				       char *err, size_t errlen);

#endif
