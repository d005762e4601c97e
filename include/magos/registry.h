/* registry — a client for the OCI distribution API (Docker Registry v2).
 *
 * Probes /v2/, answers Bearer challenges (anonymously or with Basic
 * credentials from a containers auth.json), lists tags following `Link`
 * pagination and resolves tag digests with HEAD. Every body is bounded and
 * every request has a connect and a total timeout. The client never logs;
 * it returns one error sentence naming the registry, repository and URL. */
#ifndef MAGOS_REGISTRY_H
#define MAGOS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

#define MD_REGISTRY_MAX_BODY (8u * 1024 * 1024)
#define MD_REGISTRY_MAX_TAGS 100000

struct md_registry_opts {
	const struct md_strv *insecure_hosts; /* hosts reached over plain HTTP */
	const char *ca_file;                  /* extra CA bundle, or NULL */
	const char *auth_file;                /* containers auth.json, or NULL */
	int64_t connect_timeout;              /* seconds */
	int64_t timeout;                      /* seconds, per request */
	const char *user_agent;
	int page_size;                        /* tags per list request (n=), 0 = 1000 */
};

struct md_registry;

int md_registry_new(struct md_registry **out, const struct md_registry_opts *opts,
		    struct md_err *err);
void md_registry_free(struct md_registry *r);

/* domain is the normalised registry domain ("docker.io", "ghcr.io",
 * "127.0.0.1:5000"); path the repository path ("library/nginx").
 * The tags of every page are appended to out only when the whole listing
 * succeeded; strings that are not valid tags are skipped. */
int md_registry_list_tags(struct md_registry *r, const char *domain, const char *path,
			  struct md_strv *out, struct md_err *err);

/* HEAD the manifest of a tag (or digest) with the full Accept list;
 * *digest receives "sha256:…" (caller frees), *media_type the Content-Type
 * (caller frees, may be NULL). */
int md_registry_head_manifest(struct md_registry *r, const char *domain, const char *path,
			      const char *reference, char **digest, char **media_type,
			      struct md_err *err);

/* Request counters, for logs now and metrics later: requests counts every
 * HTTP exchange (registry, token service and redirect hops alike),
 * token_requests the token fetches among them, errors the list_tags and
 * head_manifest calls that failed. */
struct md_registry_stats {
	uint64_t requests;
	uint64_t token_requests;
	uint64_t errors;
};
void md_registry_stats(const struct md_registry *r, struct md_registry_stats *out);

#endif
