/* registry internals: pure parsing helpers (unit-tested and fuzzed on their
 * own) and the private client structure shared by the module's files.
 *
 * Nothing in here performs I/O except md_registry__http_do() (http.c), the one
 * seam through which every request goes, and the tag-list fast path
 * (multi.c), which configures its handles with http.c's code and hands any
 * answer it cannot finish to the synchronous path. */
#ifndef MAGOS_REGISTRY_INT_H
#define MAGOS_REGISTRY_INT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "magos/ref.h"
#include "magos/registry.h"
#include "magos/util.h"

/* Caps on what a registry or token service may send us. */
#define MD_REG_MAX_HEADER 8192         /* one collected header value */
#define MD_REG_MAX_TOKEN_BODY (256u * 1024)
#define MD_REG_MAX_AUTH_FILE (1024u * 1024)
#define MD_REG_MAX_REDIRECTS 5
#define MD_REG_MAX_PAGES 5000
#define MD_REG_TOKEN_MARGIN 10         /* seconds before expiry a token is dropped */
#define MD_REG_TOKEN_CACHE 128         /* cached tokens */
#define MD_REG_HOST_CACHE 64           /* remembered challenges per host */

/* ---- parse.c: WWW-Authenticate --------------------------------------- */

enum md_reg_scheme { MD_REG_SCHEME_NONE, MD_REG_SCHEME_BASIC, MD_REG_SCHEME_BEARER };

struct md_reg_challenge {
	enum md_reg_scheme scheme;
	char *realm;   /* NULL when absent */
	char *service; /* NULL when absent */
	char *scope;   /* NULL when absent */
	char *error;   /* RFC 6750 error="...", NULL when absent */
};

/* Parse a WWW-Authenticate value (several header lines may be joined with
 * ", "). Picks the Bearer challenge when one is offered, else Basic.
 * Returns -1 when neither scheme is present or the syntax is broken;
 * `what` names the source (a URL) in the error. */
int md_registry__challenge_parse(struct md_reg_challenge *out, const char *header,
			   const char *what, struct md_err *err);
void md_registry__challenge_clear(struct md_reg_challenge *c);

/* ---- parse.c: Link, headers, bodies ----------------------------------- */

/* The target of the first link whose rel contains "next" (case-insensitive),
 * copied verbatim into *out, or *out = NULL when there is none. Returns -1
 * only on OOM. */
int md_registry__link_next(const char *header, char **out);

/* Split one raw header line ("Name: value\r\n") into a lowercased name
 * (at most name_size-1 bytes) and the trimmed value span. Returns 0, or -1
 * for a line that is not a header (status line, blank line, no colon). */
int md_registry__header_split(const char *line, size_t len, char *name, size_t name_size,
			const char **value, size_t *value_len);

/* Content-Type without parameters or surrounding blanks; NULL on OOM or
 * when ct is NULL/empty. */
char *md_registry__media_type(const char *ct);

/* "CODE: message" built from an OCI error body {"errors":[{code,message}]}
 * (first error only, control characters replaced, length capped), or NULL
 * when the body is not such a document. */
char *md_registry__error_summary(const char *body, size_t len);

/* Parse a token response: token or access_token, expires_in (default 60),
 * issued_at. *expires_at is an absolute epoch second based on `now`
 * (issued_at is trusted only when it does not push expiry into the past
 * or future because of clock skew). `url` names the endpoint in errors. */
int md_registry__token_parse(const char *body, size_t len, int64_t now, const char *url,
		       char **token, int64_t *expires_at, struct md_err *err);

/* Append the tags of one tags/list page to out, refusing to grow past
 * max_total entries. Entries that are not valid tag strings are skipped
 * (they could never be written to a compose file safely). */
int md_registry__tags_parse(const char *body, size_t len, const char *url, struct md_strv *out,
		      size_t max_total, struct md_err *err);

/* ---- parse.c: names and URLs ------------------------------------------ */

/* "https://<api host>" (md_ref_domain_api_host) or "http://…" when the
 * domain or API host is listed in insecure (exact host[:port] match). NULL
 * on OOM. What is spliced into URLs is checked by md_registry__check_names. */
char *md_registry__base_url(const char *domain, const struct md_strv *insecure);
/* Percent-encode everything but RFC 3986 unreserved characters. */
char *md_registry__urlencode(const char *s);
/* realm + "?service=…&scope=…" (or "&" when realm has a query already);
 * service may be NULL. NULL on OOM. */
char *md_registry__token_url(const char *realm, const char *service, const char *scope);
/* Resolve ref against base with curl's URL API (no I/O). */
int md_registry__url_resolve(const char *base, const char *ref, char **out, struct md_err *err);
/* "scheme://host:port" of a URL (port made explicit, host lowercased), to
 * decide whether credentials may follow a redirect; NULL when unparsable. */
char *md_registry__url_origin(const char *url);
/* 1 when url is plain http:// and its host[:port] is listed in insecure
 * (a bare listed host stands for port 80): the only plain-HTTP places
 * credentials may go. 0 otherwise (https, unlisted, unparsable). */
int md_registry__url_plain_listed(const char *url, const struct md_strv *insecure);

/* ---- authfile.c: containers auth.json --------------------------------- */

/* Standard base64 (with padding). decode returns -1 on any invalid input;
 * *out is NUL-terminated, *outlen excludes the terminator. */
char *md_registry__base64_encode(const void *data, size_t len);
int md_registry__base64_decode(const char *s, unsigned char **out, size_t *outlen);

/* Look up credentials for domain/path in an auth.json document (most
 * specific key first, Docker Hub aliases, http(s):// keys reduced to their
 * host). Returns 1 with *user and *pass set (caller zeroes and frees), 0
 * when no key matches or the matching entry has no "auth", -1 on a
 * malformed document or entry; `file` names the source in errors. */
int md_registry__auth_lookup(const char *json, size_t len, const char *file, const char *domain,
		       const char *path, char **user, char **pass, struct md_err *err);
/* Zero and free a string that held a secret. */
void md_registry__secret_free(char *s);

/* ---- http.c: the request seam ----------------------------------------- */

struct md_reg_request {
	const char *method;       /* "GET", "HEAD", or "POST" with post_form */
	const char *url;
	const char *accept;       /* full Accept value, or NULL */
	const char *authorization; /* full Authorization value, or NULL */
	const char *what;         /* registry name used in error sentences */
	size_t max_body;          /* 0 = MD_REGISTRY_MAX_BODY */
	const char *post_form;    /* application/x-www-form-urlencoded body, or NULL */
};

struct md_reg_response {
	long status;
	char *url;              /* URL that produced this response (after redirects) */
	char *www_authenticate; /* all values joined with ", ", or NULL */
	char *link;
	char *content_type;
	char *digest;           /* Docker-Content-Digest */
	char *retry_after;
	char *location;
	struct md_buf body;
};

void md_registry__response_init(struct md_reg_response *resp);
void md_registry__response_clear(struct md_reg_response *resp);

/* Perform one request, following up to MD_REG_MAX_REDIRECTS redirects
 * ourselves and dropping Authorization when the origin changes. Returns 0
 * when any HTTP response arrived (whatever the status), -1 on transport
 * failures, oversize bodies or bad redirects. */
int md_registry__http_do(struct md_registry *r, const struct md_reg_request *req,
		   struct md_reg_response *resp, struct md_err *err);

/* One exchange on an easy handle, split so the synchronous path (http.c)
 * and the multi-handle scheduler (multi.c) configure, count and word
 * transfers with the same code: prepare (resets resp and the handle, sets
 * every option and header), perform it, finish (counts it, reads the
 * status, words a transport error), release (drops and wipes headers). */
struct md_reg_xfer {
	struct md_reg_response *resp;
	int body_overflow;
	int header_overflow;
	/* Docker Hub rate-limit headers: kept here, not in the response,
	 * since only the per-host memory in retry.c wants them. */
	char rl_limit[64], rl_remaining[64];
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	volatile sig_atomic_t *stop; /* the client's, for the xferinfo callback */
	int stopped;                 /* aborted because *stop was set */
};
int md_registry__xfer_prepare(struct md_registry *r, CURL *c, const struct md_reg_request *req,
			const char *url, const char *authorization,
			struct md_reg_response *resp, struct md_reg_xfer *x,
			struct md_err *err);
int md_registry__xfer_finish(struct md_registry *r, CURL *c, const struct md_reg_request *req,
		       const char *url, CURLcode cc, struct md_reg_xfer *x,
		       struct md_err *err);
void md_registry__xfer_release(CURL *c, struct md_reg_xfer *x);
/* 1 when the caller asked us to stop (opts.stop set): no request is sent. */
int md_registry__stopping(const struct md_registry *r);
/* The "stopped" error sentence for req (not retried, host not held off).
 * Returns -1. */
int md_registry__stopped_error(const struct md_reg_request *req, const char *url,
			 struct md_err *err);

/* ---- manifest.c: manifests, indexes and image configs ------------------ */

#define MD_REG_MAX_MANIFEST (4u * 1024 * 1024) /* what registries accept on push */
#define MD_REG_MAX_CONFIG (4u * 1024 * 1024)
#define MD_REG_MAX_PLATFORMS 64                /* distinct platforms in one index */
#define MD_REG_MAX_INDEX_ENTRIES 4096

#define MD_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MD_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MD_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MD_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MD_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MD_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* Every type we handle, for Accept on manifest requests. */
#define MD_REG_MANIFEST_ACCEPT                                                            \
	MD_MT_OCI_INDEX ", " MD_MT_DOCKER_LIST ", " MD_MT_OCI_MANIFEST ", " MD_MT_DOCKER_MANIFEST

enum md_reg_manifest_kind { MD_REG_INDEX = 1, MD_REG_IMAGE };

struct md_reg_manifest {
	enum md_reg_manifest_kind kind;
	int64_t created;          /* org.opencontainers.image.created, 0 when absent */
	/* index / manifest list */
	struct md_strv platforms; /* "os/arch[/variant]" of the image entries, distinct */
	char *first;              /* sha256 digest of the first image entry, or NULL */
	int64_t first_created;    /* that entry's descriptor annotation, 0 when absent */
	/* image manifest */
	char *config;             /* sha256 digest of the config blob, or NULL when the
				   * config is not an image config (artifacts) */
};

/* Parse a manifest or index. content_type is the response's Content-Type
 * (parameters allowed, may be NULL); a body mediaType that disagrees with
 * it is an error, as is a type we do not handle. `url` names the document
 * in errors. */
int md_registry__manifest_parse(struct md_reg_manifest *out, const char *body, size_t len,
			  const char *content_type, const char *url, struct md_err *err);
void md_registry__manifest_clear(struct md_reg_manifest *m);

/* Parse an image config blob: *platform (caller frees) is "os/arch[/variant]"
 * or NULL when os/architecture are absent; *created is 0 when absent. */
int md_registry__config_parse(const char *body, size_t len, const char *url, char **platform,
			int64_t *created, struct md_err *err);

/* ---- registry.c: shared by the request files ----------------------------- */

/* Validate what goes into a URL; ref may be NULL. */
int md_registry__check_names(const char *domain, const char *path, const char *ref,
		       struct md_err *err);
/* The registry's origin ("http://127.0.0.1:5000", "https://ghcr.io:443"):
 * where its credentials and the tokens its challenges earn may go. NULL on
 * OOM. */
char *md_registry__home_origin(struct md_registry *r, const char *domain);
/* "<base>/v2/<path>/<kind>/<ref>", kind "manifests" or "blobs"; NULL on OOM. */
char *md_registry__object_url(struct md_registry *r, const char *domain, const char *path,
			const char *kind, const char *ref);
/* The error sentence for a 404 naming `what`. Returns -1. */
int md_registry__not_found(const char *domain, const char *what, const struct md_reg_request *req,
		     const struct md_reg_response *resp, struct md_err *err);

/* ---- registry.c: the client --------------------------------------------- */

struct md_reg_token {
	char *origin;     /* the registry origin whose challenge it answered */
	char *realm, *service, *scope;
	char *path;       /* repository the token was fetched for */
	char *token;      /* secret: zeroed on free */
	int64_t expires_at;
};

struct md_reg_host {
	char *domain;
	enum md_reg_scheme scheme;
	char *realm, *service;
};

struct md_registry {
	void *curl; /* CURL *, reused so connections are kept alive */
	struct md_strv insecure;
	char *ca_file, *auth_file, *user_agent;
	struct md_strv auth_files; /* where credentials are looked up, in order (auth.c) */
	int64_t connect_timeout, timeout;
	int page_size;
	struct md_reg_token tokens[MD_REG_TOKEN_CACHE];
	size_t ntokens;
	struct md_reg_host hosts[MD_REG_HOST_CACHE];
	size_t nhosts;
	struct md_registry_stats stats;
	struct md_reg_net *net; /* retry.c: backoff, per-host memory, counters */
	int concurrency;        /* multi.c: tag lists in flight per host */
	struct md_reg_primed *primed; /* multi.c: an answer already received */
	/* http.c: the caller's stop flag and progress hook (opts). */
	volatile sig_atomic_t *stop;
	void (*progress)(void *arg);
	void *progress_arg;
};

/* multi.c: a fast-path answer handed to the synchronous path, so the
 * request it answers is not sent (or counted) twice. When the synchronous
 * path is about to send exactly this request (method GET, same URL, same
 * Authorization), md_registry__primed_take gives it this answer instead, once:
 * 1 taken (resp filled), -1 taken and it was a transport failure (err
 * filled), 0 not this request. */
struct md_reg_primed {
	const char *url;
	const char *authz;
	struct md_reg_response *resp;
	int failed;
	struct md_err err;
};
int md_registry__primed_take(struct md_registry *r, const struct md_reg_request *req,
		       const char *url, const char *authorization,
		       struct md_reg_response *resp, struct md_err *err);

/* registry.c: the first tag-list URL (n > 0 asks for that page size, 0
 * sends no n) and the Content-Type test a tag list must pass. */
char *md_registry__tags_url(struct md_registry *r, const char *domain, const char *path, int n);
int md_registry__is_json_type(const char *ct);
/* auth.c: the Authorization value the synchronous path would send up front
 * for domain/path, without any network request (*authz NULL: none). Returns
 * 1, or 0 when the host is known to want a Bearer token we do not hold (the
 * request would only earn a 401), -1 on error. */
int md_registry__auth_upfront(struct md_registry *r, const char *domain, const char *path,
			char **authz, struct md_err *err);

/* Perform req for repository path, answering one auth challenge. On
 * success resp holds the final response; 401/403 after authenticating is
 * already an error sentence. Credentials and tokens are scoped to the
 * registry's origin: req->url must be on it (else an error, nothing sent),
 * and a challenge from another origin (after a redirect) is not answered. */
int md_registry__authed_do(struct md_registry *r, const char *domain, const char *path,
		     const struct md_reg_request *req, struct md_reg_response *resp,
		     struct md_err *err);
/* The error sentence for an unexpected status (denied, rate limited, or
 * the registry's own error code and message). Returns -1. */
int md_registry__status_error(struct md_registry *r, const char *domain, const char *path,
			const struct md_reg_request *req, const struct md_reg_response *resp,
			struct md_err *err);
/* Wipe and free cached tokens and host memory. */
void md_registry__auth_free(struct md_registry *r);

/* ---- authfile.c / credhelper.c: credentials ------------------------------ */

/* What one lookup found: Basic credentials, an identity (OAuth2 refresh)
 * token, or the name of a credential helper still to be run. */
struct md_reg_cred {
	char *user;   /* secret; NULL for an identity token from a helper */
	char *secret; /* password, or the identity token when identity is set */
	int identity;
	char *helper; /* credHelpers suffix ("docker-credential-<helper>") */
};
void md_registry__cred_clear(struct md_reg_cred *c);

/* Look domain/path up in one auth file's text: credHelpers by host first,
 * then auths most specific key first (`legacy` = ~/.dockercfg, where the
 * document is the auths map itself). 1 when found (credentials or a
 * helper), 0 when not, -1 on a malformed document. */
int md_registry__auth_find(const char *json, size_t len, const char *file, int legacy,
		     const char *domain, const char *path, struct md_reg_cred *out,
		     struct md_err *err);
/* Parse a helper's `get` answer {"ServerURL","Username","Secret"}. */
int md_registry__credhelper_parse(const char *json, size_t len, const char *helper,
			    struct md_reg_cred *out, struct md_err *err);
/* The OAuth2 refresh-token form body (urlencoded); service/scope may be
 * NULL. NULL on OOM. Caller wipes it (it holds the token). */
char *md_registry__refresh_form(const char *refresh_token, const char *service, const char *scope);

/* Set up r->auth_files from opts and check the files that exist (the
 * explicit auth_file must exist). Called by md_registry_new. */
int md_registry__auth_init(struct md_registry *r, const struct md_registry_opts *opts,
		     struct md_err *err);
/* Credentials for domain/path from the first auth file that has them,
 * running a credential helper when one is named. 1 found, 0 none, -1 error. */
int md_registry__creds_get(struct md_registry *r, const char *domain, const char *path,
		     struct md_reg_cred *out, struct md_err *err);
/* OAuth2 refresh-token flow: POST form to realm; *body receives the JSON
 * answer (bounded), *status the HTTP status. */
int md_registry__token_post(struct md_registry *r, const char *realm, const char *form,
		      long *status, struct md_buf *body, struct md_err *err);

#define MD_REG_HELPER_TIMEOUT_MS 10000
#define MD_REG_HELPER_MAX_OUT (64u * 1024)

/* ---- retry.c: retries, per-host memory, counters ------------------------------ */

#define MD_REG_RETRY_ATTEMPTS 4            /* tries of one request on 429 / 5xx */
#define MD_REG_RETRY_BASE_MS 500           /* first backoff step */
#define MD_REG_RETRY_MAX_DELAY_MS 30000    /* longest single wait */
#define MD_REG_RETRY_AFTER_MAX 86400       /* Retry-After values are clamped to a day */
#define MD_REG_NET_HOST_MAX 256            /* "host[:port]" keys */
#define MD_REG_PAGE_MIN 100                /* page sizes halve down to this, then no n */

struct md_reg_net;
struct md_reg_net *md_registry__net_new(void (*sleep_ms)(void *ctx, int64_t ms), void *ctx);
void md_registry__net_free(struct md_reg_net *n);

/* "host[:port]" of an absolute URL, lowercased, userinfo dropped. */
int md_registry__url_host(const char *url, char *out, size_t size);
/* Retry-After (delta seconds or an HTTP date, relative to epoch `now`) in
 * milliseconds, clamped to [0, MD_REG_RETRY_AFTER_MAX s]; -1 when absent or
 * unparsable. */
int64_t md_registry__retry_after_ms(const char *value, int64_t now);
/* Backoff before retry number attempt+1: base·2^attempt capped at
 * MD_REG_RETRY_MAX_DELAY_MS, then "equal jitter" from rnd: [d/2, d]. */
int64_t md_registry__backoff_ms(int attempt, uint64_t rnd);
/* "2xx".."5xx", or "error" for anything that is no HTTP status. */
const char *md_registry__status_class(long status);
/* "76;w=21600" → 76 and 21600 (window 0 when absent). */
int md_registry__ratelimit_parse(const char *value, int64_t *n, int64_t *window);

/* The tag page size remembered for the URL's host (-1 unknown, 0 = no n). */
int md_registry__net_page_size(const struct md_registry *r, const char *url);
void md_registry__net_set_page_size(struct md_registry *r, const char *url, int n);
/* 1 when the URL's host asked us to wait (Retry-After, backoff) and that
 * time has not passed yet. */
int md_registry__net_deferred(const struct md_registry *r, const char *url);
/* Count one exchange (status 0 = transport failure). */
void md_registry__net_count(struct md_registry *r, const char *method, const char *url,
		      long status);
void md_registry__net_ratelimit(struct md_registry *r, const char *url, const char *limit,
			  const char *remaining);

/* One request with redirects, no retries (http.c). md_registry__http_do wraps
 * it in md_registry__retry_do: 429 and 5xx are retried with backoff within the
 * request's budget (MD_REGISTRY_TIMEOUT of waiting in total); a 429 that
 * outlasts it is an error sentence naming the registry and Retry-After. */
int md_registry__http_once(struct md_registry *r, const struct md_reg_request *req,
		     struct md_reg_response *resp, struct md_err *err);
int md_registry__retry_do(struct md_registry *r, const struct md_reg_request *req,
		    struct md_reg_response *resp, struct md_err *err);

#endif
