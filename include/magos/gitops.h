/* gitops — the agent's clone of the GitOps repository, through libgit2.
 *
 * Open or clone, fetch + fast-forward, refuse a dirty or diverged work tree
 * (never overwrite a user's work), commit the files the agent changed and
 * push to origin. A push rejected as non-fast-forward is reported as such
 * so the caller can re-sync and re-apply its decisions. Remotes over
 * file:// and smart HTTP(S) both work. Credentials, when needed, come from
 * a callback (the GitHub module plugs in there) and never reach the
 * remote URL stored in .git/config. */
#ifndef MAGOS_GITOPS_H
#define MAGOS_GITOPS_H

#include <stddef.h>

#include "magos/util.h"

/* Fill user/pass (bounded) for url; return 0 when credentials are given,
 * 1 to continue without, -1 on error. */
typedef int (*md_git_cred_fn)(void *ctx, const char *url, char *user, size_t userlen,
			      char *pass, size_t passlen);

struct md_git_opts {
	const char *path;         /* work tree of the agent's clone */
	const char *url;          /* clone from here when path does not exist; may be NULL */
	const char *branch;       /* e.g. "main" */
	const char *author_name;  /* commit author and committer */
	const char *author_email;
	const char *ca_file;      /* extra CA for HTTPS remotes, or NULL */
	md_git_cred_fn cred;      /* may be NULL */
	void *cred_ctx;
};

struct md_git;

/* Open the clone (cloning it first when path is absent and url is set).
 * Checks out opts->branch. */
int md_git_open(struct md_git **out, const struct md_git_opts *opts, struct md_err *err);
/* Open an existing clone without touching the network or the disk (plan). */
int md_git_open_readonly(struct md_git **out, const struct md_git_opts *opts,
			 struct md_err *err);
void md_git_free(struct md_git *g);

const char *md_git_workdir(const struct md_git *g);

/* Fetch origin/<branch> and fast-forward the local branch and work tree.
 * Fails with a message naming the files when the work tree has uncommitted
 * changes. Local commits not on origin are dropped when every one of them
 * was made by the agent's own identity (an interrupted cycle; reproducible),
 * and refused otherwise — naming both commits when the branches diverged. */
int md_git_sync(struct md_git *g, struct md_err *err);

/* Commit the given work-tree files (paths relative to the work tree) with
 * message. oid receives the 40-hex commit id. */
int md_git_commit(struct md_git *g, const char *const *paths, size_t n, const char *message,
		  char oid[41], struct md_err *err);

/* Push the local branch to origin. Returns 0 when pushed, 1 when the remote
 * rejected it as non-fast-forward (someone else pushed first), -1 on any
 * other failure. */
int md_git_push(struct md_git *g, struct md_err *err);

/* Drop local commits not on origin/<branch> and restore the work tree to
 * origin/<branch> — only ever used to undo the agent's own unpushed commit
 * before re-applying its decisions after a push race. */
int md_git_reset_to_remote(struct md_git *g, struct md_err *err);

/* HEAD's commit id (40 hex), or "" for an empty repository. */
int md_git_head(struct md_git *g, char oid[41], struct md_err *err);

/* A unified diff (git style, a/ b/ prefixes) between two versions of path. */
int md_git_diff_buffers(char **out, const char *path, const char *old_data, size_t old_len,
			const char *new_data, size_t new_len, struct md_err *err);

/* Work-tree files matching any of the globs (fnmatch, with "**" matching any
 * number of directories), relative paths, sorted. .git is skipped. */
int md_git_list_files(const struct md_git *g, const struct md_strv *globs, struct md_strv *out,
		      struct md_err *err);

#endif
