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

/* Returns NULL with err filled ("FILE:LINE: FIELD: REASON"). */
struct maglb_config *config_load(const char *path, char *err, size_t errlen);
/* Several files: at most one maglb config document, and any number of
 * Kubernetes objects (Gateway API manifests; see gateway.h). */
struct maglb_config *config_load_files(const char *const *paths, int n,
				       const struct cfg_source *src,
				       char *err, size_t errlen);

#endif
