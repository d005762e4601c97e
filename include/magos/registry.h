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

/* What a tag's image says about itself, for the arch and minAge gates and
 * the `newest` policy. */
struct md_image_facts {
	char *digest;              /* "sha256:…" of the manifest or index fetched */
	int64_t created;           /* epoch seconds, 0 when the image does not say */
	struct md_strv platforms;  /* "os/arch[/variant]", distinct, in index order */
};

/* GET the manifest of reference (a tag or a digest) and learn its facts:
 * an index or manifest list gives the platforms of its image entries
 * (attestation and unknown entries skipped) and its created time from the
 * org.opencontainers.image.created annotation, else from the first image
 * entry (its descriptor annotation, its manifest, then its config blob); a
 * single image manifest gives both from its config blob (an annotation on
 * the manifest wins for created). At most three requests: the manifest, one
 * more manifest and one blob, each bounded and checked against its digest.
 * out is cleared first; on failure it is left empty. */
int md_registry_image_facts(struct md_registry *r, const char *domain, const char *path,
			    const char *reference, struct md_image_facts *out,
			    struct md_err *err);
void md_registry_image_facts_clear(struct md_image_facts *f);

/* Request counters, for logs now and metrics later: requests counts every
 * HTTP exchange (registry, token service and redirect hops alike),
 * token_requests the token fetches among them, errors the list_tags,
 * head_manifest and image_facts calls that failed. */
struct md_registry_stats {
	uint64_t requests;
	uint64_t token_requests;
	uint64_t errors;
};
void md_registry_stats(const struct md_registry *r, struct md_registry_stats *out);

#endif
