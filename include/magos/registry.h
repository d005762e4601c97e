/* registry — a client for the OCI distribution API (Docker Registry v2).
 *
 * Probes /v2/, answers Bearer challenges (anonymously or with Basic
 * credentials from a containers auth.json), lists tags following `Link`
 * pagination and resolves tag digests with HEAD. Every body is bounded and
 * every request has a connect and a total timeout. The client never logs;
 * it returns one error sentence naming the registry, repository and URL. */
#ifndef MAGOS_REGISTRY_H
#define MAGOS_REGISTRY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	/* More places to find credentials, in order, after auth_file (missing
	 * ones are skipped); see md_registry_auth_files(). */
	const struct md_strv *auth_files;
	int auth_file_exclusive;              /* auth_file set: ignore auth_files */
	/* How to wait before a retry (429, 5xx) or until a throttled host's
	 * Retry-After has passed; NULL = nanosleep. The daemon can make it
	 * return early to cancel a wait; tests record the schedule. */
	void (*sleep_ms)(void *ctx, int64_t ms);
	void *sleep_ctx;
	int concurrency;                      /* tag lists in flight per host, 0 = 4 */
	/* A stop request (may be NULL): once *stop is set, a request in flight
	 * is aborted within about a second and no new one is sent; the call
	 * fails with a "stopped" error that is not retried. The flag must
	 * outlive the client. */
	volatile sig_atomic_t *stop;
	/* Called (may be NULL) each time an HTTP response has been received
	 * in full, never while waiting on one: a hung connection is not
	 * progress. The daemon ties its watchdog pings to it. */
	void (*progress)(void *arg);
	void *progress_arg;
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

/* The tag lists of n repositories at once (md_registry_list_tags_many). */
struct md_tag_query {
	const char *domain, *path; /* as for md_registry_list_tags */
	struct md_strv tags;       /* out: appended like md_registry_list_tags' out */
	char *error;               /* out: the sentence md_registry_list_tags gives, or NULL */
};

/* List the tags of every query, first pages concurrently over one libcurl
 * multi handle (at most opts->concurrency in flight per registry host).
 * Any answer that is not a complete single-page JSON list (auth, paging,
 * errors) is handed to md_registry_list_tags as the reply to its first
 * request, and hosts it has not met yet or that asked us to wait are listed
 * by it alone, so results and request counts equal calling it n times. Per-query failures go to q[i].error
 * (malloc'd); returns -1 only when the batch cannot run at all (OOM). */
int md_registry_list_tags_many(struct md_registry *r, struct md_tag_query *q, size_t n,
			       struct md_err *err);

/* HEAD the manifest of a tag (or digest) with the full Accept list;
 * *digest receives "sha256:…" (caller frees), *media_type the Content-Type
 * (caller frees, may be NULL). */
int md_registry_head_manifest(struct md_registry *r, const char *domain, const char *path,
			      const char *reference, char **digest, char **media_type,
			      struct md_err *err);

/* GET the manifest by digest ("sha256:…", e.g. what a HEAD's
 * Docker-Content-Digest claimed) and check that the exact bytes received
 * hash to it: a registry (or anything between) cannot make us pin a digest
 * it does not serve. 0 when they do; -1 otherwise, the error naming the
 * registry, the repository and both digests (or why nothing came). */
int md_registry_verify_manifest(struct md_registry *r, const char *domain, const char *path,
				const char *digest, struct md_err *err);

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
	uint64_t retries;       /* requests repeated after a 429 or 5xx */
	uint64_t retry_wait_ms; /* time spent waiting for them */
};
void md_registry_stats(const struct md_registry *r, struct md_registry_stats *out);

/* The environment values podman's auth file lookup depends on (NULL or ""
 * = unset); the daemon fills them, the registry module reads no
 * environment itself. */
struct md_registry_auth_env {
	const char *md_registry_auth_file; /* MD_REGISTRY_AUTH_FILE */
	const char *registry_auth_file;    /* REGISTRY_AUTH_FILE */
	const char *xdg_runtime_dir;
	const char *xdg_config_home;
	const char *home;
	const char *docker_config;         /* DOCKER_CONFIG */
	uid_t uid;
};

/* The ordered candidate auth files (docs/protocols.md, Credential files and helpers), appended to out:
 * an explicit file alone; else $XDG_RUNTIME_DIR/containers/auth.json (or
 * /run/containers/<uid>/auth.json), ${XDG_CONFIG_HOME:-~/.config}/
 * containers/auth.json, $DOCKER_CONFIG/config.json (or ~/.docker/
 * config.json) and the legacy ~/.dockercfg. Entries needing HOME are left
 * out when it is unset. Returns -1 only on OOM. */
int md_registry_auth_files(struct md_strv *out, const struct md_registry_auth_env *env,
			   struct md_err *err);

/* ---- transport counters ------------------------------------------------- */

/* Requests by (registry host, method, status class), for metrics. The
 * table holds MD_REGISTRY_COUNTERS rows; when it is full the last row
 * ("other", "other", "other") counts the rest. status_class is "2xx",
 * "3xx", "4xx", "5xx" or "error" (no HTTP answer). Strings belong to r and
 * live until the next request or md_registry_free. */
#define MD_REGISTRY_COUNTERS 64
struct md_registry_counter {
	const char *host;   /* "host[:port]" the request went to */
	const char *method; /* "GET", "HEAD", "POST" */
	const char *status_class;
	uint64_t n;
};
/* Row i (0, 1, … until it returns -1). */
int md_registry_counter(const struct md_registry *r, size_t i,
			struct md_registry_counter *out);

/* The latest Docker Hub style rate-limit headers seen per host
 * (ratelimit-limit / ratelimit-remaining, "76;w=21600"): limit is 0 when
 * only remaining was sent. Row i (0, 1, … until it returns -1). */
struct md_registry_ratelimit {
	const char *host;
	int64_t limit, remaining, window; /* window in seconds, 0 when unknown */
};
int md_registry_ratelimit(const struct md_registry *r, size_t i,
			  struct md_registry_ratelimit *out);

/* ---- image source ------------------------------------------------------- */

/* The org.opencontainers.image.source of reference (a tag or digest): the
 * manifest's or index's annotation, else (for an index, its first image
 * entry) the image config's Labels. Only an http(s) URL of safe characters
 * (at most 512) is returned; *source (caller frees) is NULL when the image
 * does not say. At most three bounded, digest-checked requests. */
int md_registry_image_source(struct md_registry *r, const char *domain, const char *path,
			     const char *reference, char **source, struct md_err *err);

#endif
