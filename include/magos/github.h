/* github — the agent as a GitHub App (docs/protocols.md, GitHub App authentication and REST): RS256 App JWTs,
 * installation tokens minted on demand and renewed before they expire, and
 * the few REST calls the agent makes (installation lookup, pull requests,
 * the Git Data API for commits GitHub signs).
 *
 * Tokens and the private key never appear in an error message. Every
 * response body is capped; 401/403/404/422 and rate limits get messages
 * that say what to do. Nothing here logs or reads the environment. */
#ifndef MAGOS_GITHUB_H
#define MAGOS_GITHUB_H

#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

struct md_github_opts {
	const char *api_url;         /* e.g. "https://api.github.com", no trailing '/' */
	const char *app_id;          /* the JWT's iss: app id or client id */
	const char *key_file;        /* PEM private key (PKCS#1 or PKCS#8) */
	const char *installation_id; /* digits, or NULL: GET /repos/{owner}/{repo}/installation */
	const char *owner;           /* repository the agent works on */
	const char *repo;
	const char *ca_file;         /* CA bundle, or NULL; when given it REPLACES the system
	                              * bundle for GitHub calls (GHES, tests) */
	const char *user_agent;      /* required by GitHub */
	long timeout;                /* seconds per request */
	/* Clock, for tests (NULL: time(NULL)). */
	int64_t (*now)(void *ctx);
	void *now_ctx;
};

struct md_github;

/* Load the key (refusing a file readable by group or others, with the
 * chmod to run) and set up the client. No request is made yet. */
int md_github_new(struct md_github **out, const struct md_github_opts *opts,
		  struct md_err *err);
void md_github_free(struct md_github *gh);

/* owner and repo from a remote URL: https://HOST/OWNER/REPO(.git),
 * http://..., git@HOST:OWNER/REPO(.git), ssh://git@HOST/OWNER/REPO. */
int md_github_parse_remote(const char *url, char **owner, char **repo, struct md_err *err);

/* The App JWT for time `now`: iat = now - 60, exp = now + 540, iss = app id.
 * *out is "header.claims.signature" (caller frees). */
int md_github_jwt(struct md_github *gh, int64_t now, char **out, struct md_err *err);

/* A valid installation token (minted when there is none or the cached one
 * expires within 5 minutes). *token stays owned by gh and valid until the
 * next call. The installation id is looked up on first use when not given. */
int md_github_token(struct md_github *gh, const char **token, struct md_err *err);
/* Forget the cached token (after a 401 from git): the next call mints one. */
void md_github_token_invalidate(struct md_github *gh);
/* Seconds since the epoch at which the cached token expires, 0 if none. */
int64_t md_github_token_expiry(const struct md_github *gh);

/* The App's slug and its bot user's id, for the default commit identity
 * "<slug>[bot] <<id>+<slug>[bot]@users.noreply.github.com>". Looked up once
 * (GET /app with the JWT, GET /users/<slug>[bot] with the token). */
int md_github_bot_identity(struct md_github *gh, char **name, char **email, struct md_err *err);

/* ---- pull requests ------------------------------------------------------ */

struct md_github_pr {
	long number;
	char *head;     /* branch name, without "owner:" */
	char *base;
	char *title;
	char *body;
	char *html_url;
	char *head_sha;
};
void md_github_pr_clear(struct md_github_pr *pr);

/* The open PR from head (a branch of this repository) into base, or
 * *out = NULL when there is none. */
int md_github_pr_find(struct md_github *gh, const char *head, const char *base,
		      struct md_github_pr **out, struct md_err *err);
/* Open PRs whose head branch starts with prefix (all pages), for finding
 * the agent's PRs that are no longer needed. *out is an array of *n. */
int md_github_pr_list(struct md_github *gh, const char *prefix, const char *base,
		      struct md_github_pr **out, size_t *n, struct md_err *err);
/* Open a PR; when GitHub answers 422 "already exists", the existing one is
 * looked up and returned instead (a restart never duplicates a PR). */
int md_github_pr_create(struct md_github *gh, const char *head, const char *base,
			const char *title, const char *body, struct md_github_pr **out,
			struct md_err *err);
int md_github_pr_update(struct md_github *gh, long number, const char *title, const char *body,
			struct md_err *err);
/* Comment on the PR (an issue comment), then close it. */
int md_github_pr_close(struct md_github *gh, long number, const char *comment,
		       struct md_err *err);

/* ---- Git Data API: commits GitHub signs ---------------------------------- */

struct md_github_file {
	const char *path; /* relative to the repository root */
	const char *data;
	size_t len;
	unsigned mode;    /* 0100644 or 0100755 */
};

/* Create a commit with the files changed on top of parent (40 hex), with no
 * author or committer so GitHub signs it: blobs, a tree on the parent's
 * tree, the commit. Then point refs/heads/<branch> at it: a fast-forward
 * update when force is 0 (returns 1 when GitHub refuses it as not a
 * fast-forward, so the caller can re-sync), a forced one otherwise; the ref
 * is created when it does not exist. *oid receives the new commit. */
int md_github_commit(struct md_github *gh, const char *branch, const char *parent,
		     const struct md_github_file *files, size_t nfiles, const char *message,
		     int force, char oid[41], struct md_err *err);

/* Delete refs/heads/<branch> (a PR branch no longer needed); a missing ref
 * is not an error. */
int md_github_branch_delete(struct md_github *gh, const char *branch, struct md_err *err);

/* ---- what happened, for metrics ------------------------------------------ */

struct md_github_stats {
	uint64_t requests;    /* REST requests made */
	uint64_t errors;      /* answered with 4xx/5xx or failed */
	uint64_t tokens;      /* installation tokens minted */
	int64_t rate_remaining; /* last x-ratelimit-remaining, -1 unknown */
	int64_t rate_reset;     /* last x-ratelimit-reset (epoch s), 0 unknown */
};
void md_github_stats(const struct md_github *gh, struct md_github_stats *out);

/* ---- closed pull requests ------------------------------------------------ */

/* The newest pull request from head into base that was closed WITHOUT being
 * merged (merged_at null) and whose body contains marker (NULL: any), or
 * *out = NULL when there is none. Only the first page of
 * GET /pulls?state=closed&head=<owner>:<head>&base=<base> is read: a
 * refusal worth respecting is a recent one. */
int md_github_pr_find_closed(struct md_github *gh, const char *head, const char *base,
			     const char *marker, struct md_github_pr **out, struct md_err *err);

#endif
