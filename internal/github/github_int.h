/* github — private declarations shared by the module's files (and by its
 * unit tests and fuzz target, which reach the parsers directly). */
#ifndef MAGOS_GITHUB_INT_H
#define MAGOS_GITHUB_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "magos/github.h"

/* Caps on what GitHub may send us. */
#define MD_GH_BODY_MAX (1u << 20)   /* one response body */
#define MD_GH_LINK_MAX 8192         /* one Link header */
#define MD_GH_TOKEN_MAX 4096        /* an installation token */
#define MD_GH_PAGES_MAX 10          /* pages of a paginated list */
#define MD_GH_KEY_MAX (64u * 1024u) /* the PEM key file */
#define MD_GH_RENEW_BEFORE 300      /* renew a token this long before it expires */

struct md_github {
	char *api_url;
	char *app_id;
	char *key_file;
	char *installation_id; /* given, or looked up and cached */
	char *owner;
	char *repo;
	char *ca_file;
	char *user_agent;
	long timeout;
	int64_t (*now)(void *ctx);
	void *now_ctx;

	EVP_PKEY *key;
	CURL *curl; /* one handle, so the connection is reused */
	size_t body_max;

	char *token;       /* installation token, zeroed when dropped */
	int64_t token_exp; /* its expires_at */

	char *bot_name;
	char *bot_email;

	int64_t blocked_until; /* from retry-after: no request before this */
	struct md_github_stats st;
};

int64_t md_github__now(const struct md_github *gh);

/* ---- encoding ------------------------------------------------------------- */

/* base64 (url: the URL-safe alphabet without padding). NULL on OOM. */
char *md_github__b64(const void *data, size_t len, int url);
/* Percent-encode everything but RFC 3986 unreserved characters (and '/'
 * when keep_slash). NULL on OOM. */
char *md_github__pct(const char *s, int keep_slash);

/* ---- HTTP ----------------------------------------------------------------- */

enum md_gh_auth { MD_GH_AUTH_JWT, MD_GH_AUTH_TOKEN };

struct md_gh_req {
	const char *method; /* GET POST PATCH DELETE */
	const char *url;    /* absolute, under api_url */
	const char *body;   /* JSON, or NULL */
	enum md_gh_auth auth;
	const char *need;   /* the permission a 403 means is missing, or NULL */
	const long *accept; /* 0-terminated non-2xx statuses the caller handles */
};

struct md_gh_resp {
	long status;
	struct md_buf body;
	char *link_next; /* absolute URL of rel="next", or NULL */
	int64_t retry_after; /* -1 when absent */
	int64_t rate_remaining; /* this answer's x-ratelimit-remaining, -1 when absent */
	int link_overflow;
	int body_overflow;
};

void md_github__resp_init(struct md_gh_resp *r, size_t max);
void md_github__resp_clear(struct md_gh_resp *r);

/* Send req (minting a JWT or taking the installation token as req->auth
 * says; a 401 with the token re-mints it and retries once). Returns 0 for
 * a 2xx answer or one listed in req->accept, else -1 with the sentence the
 * status deserves. */
int md_github__call(struct md_github *gh, const struct md_gh_req *req, struct md_gh_resp *resp,
	       struct md_err *err);
/* The body as a JSON object (or array with want_array). */
int md_github__resp_json(const struct md_gh_req *req, const struct md_gh_resp *resp, int want_array,
		    json_t **out, struct md_err *err);
/* "<api_url>/repos/<owner>/<repo><suffix>", owner and repo encoded; suffix
 * is used as given. NULL (err set) when no repository is configured. */
char *md_github__repo_url(const struct md_github *gh, const char *suffix, struct md_err *err);
/* JSON text of o (compact, key order kept); NULL on OOM. */
char *md_github__json_text(json_t *o);

/* One call to a repository endpoint with the installation token. */
struct md_gh_repo_req {
	const char *method;
	const char *suffix;   /* after /repos/<owner>/<repo> */
	json_t *body;         /* or NULL */
	const char *need;     /* the permission a 403 means is missing */
	const long *accept;   /* 0-terminated non-2xx statuses that come back */
	int want_json;        /* parse a 2xx answer (but 204) into answer.json */
};

struct md_gh_answer {
	long status;
	json_t *json;  /* the object of a 2xx answer when wanted (caller decrefs) */
	char msg[512]; /* GitHub's error text, for non-2xx answers */
};

/* Send rr; a status in rr->accept comes back in a instead of failing. */
int md_github__repo_call(struct md_github *gh, const struct md_gh_repo_req *rr, struct md_gh_answer *a,
		    struct md_err *err);

/* ---- parsers of GitHub's answers (fuzzed) -------------------------------------- */

/* {token, expires_at} from POST .../access_tokens. The token must be
 * printable ASCII without blanks (it goes into a header). */
int md_github__parse_token(const char *body, size_t len, char **token, int64_t *expires_at,
		      struct md_err *err);

/* One pull request object. */
int md_github__parse_pr(json_t *o, struct md_github_pr *pr, struct md_err *err);

/* A growing array of PRs. */
struct md_gh_prv {
	struct md_github_pr *v;
	size_t n, cap;
};
void md_github__prv_free(struct md_gh_prv *pv);
/* Append the PRs of one page (a JSON array) to pv, keeping only those whose
 * head.repo.full_name equals full_name and head.ref starts with prefix
 * (either NULL: no filter). `what` names the request in errors. */
int md_github__parse_pr_list(const char *body, size_t len, const char *full_name,
			const char *prefix, struct md_gh_prv *pv, const char *what,
			struct md_err *err);

/* The rel="next" target of a Link header value, or *out = NULL. -1 only on
 * OOM. */
int md_github__link_next(const char *link, char **out);

/* GitHub's "message" and first "errors[].message" (or errors[].code) from
 * an error body, joined as "message: first error"; "" when there is none.
 * Control characters are replaced so a message stays one line. */
void md_github__error_text(const char *body, size_t len, char *out, size_t outlen);

/* The 40-hex "sha" of j (of j.key when key is given) into out; else an
 * error naming what (the request). */
int md_github__answer_sha(json_t *j, const char *key, const char *what, char out[41],
		     struct md_err *err);

/* The first closed, unmerged PR of arr (GET .../pulls?state=closed) from
 * the branch head of full ("owner/repo"), whose body holds marker (NULL:
 * any) → *out (caller frees), or *out NULL when there is none. */
int md_github__pick_closed(json_t *arr, const char *full, const char *head, const char *marker,
		      const char *what, struct md_github_pr **out, struct md_err *err);

/* o's positive integer "id" (installation, user), or 0. */
long long md_github__positive_id(json_t *o);

/* An App slug safe to use as a commit author name and in a URL. */
int md_github__valid_slug(const char *s);

/* True when s is 40 lowercase hex digits. */
int md_github__is_oid(const char *s);

#endif
