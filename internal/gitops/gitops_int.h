/* gitops — private declarations shared by the module's .c files.
 * Not part of the contract: only the module's own .c files include this. */
#ifndef MAGOS_GITOPS_INT_H
#define MAGOS_GITOPS_INT_H

#include <git2.h>

#include "magos/gitops.h"

/* Credential attempts per URL and operation before giving up: libgit2 asks
 * again after every 401, and a wrong token would otherwise loop. */
#define MD_GIT_CRED_ATTEMPTS 3
#define MD_GIT_COMMIT_MAX_PATHS 10000
/* Lists of offending paths in error sentences stop after this many. */
#define MD_GIT_LIST_MAX 5

struct md_git {
	git_repository *repo;
	char *workdir;    /* no trailing slash */
	char *branch;     /* "main" */
	char *local_ref;  /* "refs/heads/main" */
	char *remote_ref; /* "refs/remotes/origin/main" */
	char *author_name;
	char *author_email;
	md_git_cred_fn cred;
	void *cred_ctx;
	int readonly;
};

/* State of one network operation (clone, ls, fetch, push): libgit2 hands
 * the same payload to every callback of the operation. */
struct md_git_op {
	md_git_cred_fn cred;
	void *cred_ctx;
	char cred_url[512]; /* the URL the attempts below count for */
	unsigned cred_attempts;
	int progress_seen; /* the test hook fired for this operation */
	/* push: first per-ref rejection reported by the remote */
	char push_ref[256];
	char push_status[256];
};

void md_git__op_init(struct md_git_op *op, md_git_cred_fn cred, void *cred_ctx);
/* The libgit2 credentials callback (payload: struct md_git_op). */
int md_git__cred_cb(git_credential **out, const char *url, const char *user_from_url,
		    unsigned int allowed_types, void *payload);

/* Set err to "<what>: <libgit2's last message>", with any user:password@ in
 * URLs masked. Returns -1. */
int md_git__fail(struct md_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Mask the userinfo of every URL in s: "https://u:p@h" keeps scheme and host,
 * the "u:p" becomes three stars. */
void md_git__redact(char *s);

/* libgit2 global init/shutdown, refcounted by libgit2 itself. */
int md_git__lib_init(struct md_err *err);
void md_git__lib_shutdown(void);

/* Fail with the "uncommitted changes" sentence when the work tree or index
 * differs from HEAD (ignored files excepted). */
int md_git__require_clean(struct md_git *g, struct md_err *err);
/* Make HEAD point at the configured branch, creating it from origin/<branch>
 * when missing. Refuses when that needs a checkout over local changes. With
 * defer, a branch that cannot be made yet (neither it nor origin/<branch>
 * exists: nothing fetched so far) is left to sync, which fetches first. */
int md_git__ensure_branch(struct md_git *g, int defer, struct md_err *err);
/* Fail unless HEAD is the configured branch (born or unborn). */
int md_git__require_on_branch(struct md_git *g, struct md_err *err);
/* Fail for a read-only handle; what names the refused operation. */
int md_git__require_writable(const struct md_git *g, const char *what, struct md_err *err);

/* Connect to url and check it has refs/heads/<branch>: a clear error for an
 * empty remote before cloning. */
int md_git__remote_check_branch(const char *url, const char *branch, struct md_git_op *op,
				struct md_err *err);
/* origin's configured URL ("remote.origin.url", or with push set
 * "remote.origin.pushurl" when present) into *out (caller frees).
 * Returns 0, 1 when origin has no URL, -1 on error.
 *
 * Why not git_remote_lookup(): in libgit2 1.5 it applies url.*.insteadOf
 * through a regex config iterator that leaks pcre2 match data (~20 KiB) for
 * every config entry it does not match, on every call. A daemon fetching
 * every few minutes cannot afford that, so the module reads the URL itself
 * and talks to origin through an in-memory remote. */
int md_git__origin_url(git_repository *repo, int push, char **out, struct md_err *err);
/* The clone's remote_cb: creates "origin" without the insteadOf pass. */
int md_git__clone_remote_cb(git_remote **out, git_repository *repo, const char *name,
			    const char *url, void *payload);
/* Fetch origin's branch into refs/remotes/origin/<branch> (no prune). */
int md_git__fetch(struct md_git *g, struct md_err *err);
/* An in-memory remote for origin's URL (see md_git__origin_url on why not
 * git_remote_lookup): no config writes, no refspecs of its own (every
 * operation passes its refspec), no insteadOf. *url (caller frees) names it
 * in errors; "no remote origin" is an error here. */
int md_git__origin_remote(struct md_git *g, int push, git_remote **out, char **url,
			  struct md_err *err);
/* Fetch one refspec from r with g's credentials, no pruning, no tags.
 * Returns libgit2's result; the caller reports (md_git__fail). */
int md_git__fetch_spec(struct md_git *g, git_remote *r, char *spec, const char *reflog_msg);
/* Push one refspec to r with g's credentials; op (initialised here) holds
 * the remote's first per-ref rejection afterwards. Returns libgit2's
 * result; the caller reports. */
int md_git__push_spec(struct md_git *g, git_remote *r, char *spec, struct md_git_op *op);
/* Commit tree_id on parents with the handle's author as author and
 * committer, moving update_ref (NULL: no ref moves); oid gets the hex id.
 * Returns libgit2's result; the caller reports (md_git__fail). */
int md_git__commit_tree(struct md_git *g, const char *update_ref, const git_oid *tree_id,
			const char *message, const git_commit **parents, size_t nparents,
			char oid[41]);

/* Short (7 hex) form of an oid; buf needs 8 bytes. */
const char *md_git__short(const git_oid *id, char buf[8]);

#endif
