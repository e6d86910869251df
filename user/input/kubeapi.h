/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kubeapi.h - Services, EndpointSlices and the Gateway API objects from the
 * Kubernetes API server, kept current by list and watch; handed to
 * config_load_files() as a cfg_source.
 */
#ifndef MAGLB_KUBEAPI_H
#define MAGLB_KUBEAPI_H

#include <stdbool.h>
#include "input/source.h"

struct kube;

/* Connect with kubeconfig (NULL: in-cluster service account) and start
 * watching. Every change writes 1 to notify_fd (an eventfd). */
struct kube *kube_start(const char *kubeconfig, bool allow_http, int notify_fd,
			char *err, size_t errlen);
/* Every resource listed at least once (a kind the server does not serve
 * counts as listed): until then a config built from the store would miss
 * backends or Gateways. */
bool kube_synced(struct kube *k);
const struct cfg_source *kube_source(struct kube *k);
/* One request to the API server with the watches' auth, at most timeout_ms
 * long: method (GET, POST, PUT, PATCH), path ("/apis/..."), an optional
 * body of content_type. 0 with *status the HTTP status and *resp the
 * answer (malloc'd, NUL-terminated; resp may be NULL), or -errno when no
 * answer came: -ETIMEDOUT, -ECANCELED (kube_stop(), or SIGTERM/SIGINT
 * pending while the caller blocks them), -EIO. */
int kube_request(struct kube *k, const char *method, const char *path,
		 const char *content_type, const char *body, int timeout_ms,
		 long *status, char **resp);
void kube_stop(struct kube *k);

#endif
