/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cfgparse.h - checked reading of YAML nodes: every helper either yields a
 * valid value or fills the error with the file, the line, the dotted field
 * path and the reason, and returns -1 (or NULL).
 */
#ifndef MAGLB_CFGPARSE_H
#define MAGLB_CFGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "maglb.h"

#define PATH_LEN 256

struct cfg_ctx {
	const char *file;	/* or "apiserver EndpointSlice ns/name" */
	bool no_lines;		/* the document was built, not read */
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

struct enum_name {
	const char *name;
	int value;
};

int cfg_fail(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *cfg_scalar(yaml_node_t *n);
/* Field key of map; NULL when absent or when map is not a mapping. */
yaml_node_t *cfg_get(struct cfg_ctx *c, yaml_node_t *map, const char *key);
/* Reject fields that are not in the NULL-terminated known list, by name. */
int cfg_check_fields(struct cfg_ctx *c, yaml_node_t *map, const char *path,
		     const char *const *known);
/* The same for an API that maglb implements in part: a field of the API
 * that maglb does not implement (in unsupported) is "not supported by
 * maglb" rather than an "unknown field", so the user learns that valid
 * input would be ignored, not that it is a typo. */
int cfg_check_api_fields(struct cfg_ctx *c, yaml_node_t *map, const char *path,
			 const char *const *known,
			 const char *const *unsupported);
/* A sequence's length (0 when n is not one), and its i-th item. */
int cfg_seq_len(yaml_node_t *n);
yaml_node_t *cfg_seq_at(struct cfg_ctx *c, yaml_node_t *n, int i);
int cfg_str(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	    const char **out);
/* Field NAME of MAP, its dotted path written to p (PATH_LEN). cfg_opt()
 * returns NULL when it is absent; cfg_need() also fails ("required") then. */
yaml_node_t *cfg_opt(struct cfg_ctx *c, yaml_node_t *map, const char *path,
		     const char *name, char *p);
yaml_node_t *cfg_need(struct cfg_ctx *c, yaml_node_t *map, const char *path,
		      const char *name, char *p, const char *hint);
int cfg_uint(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	     unsigned long min, unsigned long max, unsigned long *out);
int cfg_bool(struct cfg_ctx *c, yaml_node_t *n, const char *path, bool *out);
/* "250ms", "90", "90s", "5m", "6h": milliseconds up to 1h, or whole
 * seconds (at least 1s, up to a year). */
int cfg_duration_ms(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    __u32 *out);
int cfg_duration(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		 __u32 *out);
/* An optional field with a fixed set of names; *out keeps its default
 * when the field is absent. */
int cfg_enum(struct cfg_ctx *c, yaml_node_t *map, const char *field,
	     const char *path, const struct enum_name *names, int *out);
int cfg_addr(struct cfg_ctx *c, yaml_node_t *n, const char *path,
	     union maglb_addr *a, __u8 *family);
/* RFC 7230 token characters: what header and cookie names may hold. */
bool cfg_is_token(const char *s);

#endif
