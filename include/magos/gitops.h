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
/* 1 when path (relative) matches one of the globs as md_git_list_files
 * matches: fnmatch with FNM_PATHNAME ("*" never crosses "/"), "**" + "/"
 * for zero or more directories, a trailing "/" + "**" for all below. */
int md_git_glob_any(const struct md_strv *globs, const char *path);

/* ---- after a crash ---- */

/* Call these only under the instance lock: they assume no other process of
 * the agent writes the clone. */

/* Remove "<parent>/.<name>.magos-clone-XXXXXX" siblings of path: clones a
 * killed process did not finish (a clone is made there and renamed into
 * place). removed (may be NULL) receives what was removed. */
int md_git_clear_clone_leftovers(const char *path, struct md_strv *removed, struct md_err *err);

/* Remove every *.lock file under path/.git (objects excepted): index.lock,
 * HEAD.lock, config.lock, packed-refs.lock, refs/... — left by a process
 * killed while it held them, they would fail every later operation. */
int md_git_clear_stale_locks(const char *path, struct md_strv *removed, struct md_err *err);

/* The applier runs an older version of a stack from copies named
 * MD_GIT_ROLLBACK_PREFIX "<compose file>" in the stack's directory. */
#define MD_GIT_ROLLBACK_PREFIX ".magos-rollback."

/* Remove untracked work-tree files of the agent's own naming: rollback
 * copies and temp files of atomic writes (see md_file_is_atomic_tmp).
 * removed (relative paths) may be NULL. */
int md_git_clear_leftovers(struct md_git *g, struct md_strv *removed, struct md_err *err);

/* The git blob id (40 hex) of data. */
int md_git_blob_id(const void *data, size_t len, char out[41], struct md_err *err);

/* One file of a change the agent was making: its blob ids before and after
 * ("" where the file does not exist). */
struct md_git_owned {
	const char *path; /* relative */
	const char *old_id;
	const char *new_id;
};

/* Undo an interrupted change of the agent's: every file whose work-tree
 * content and index entry are its old, new or HEAD's content is the
 * agent's own and goes back to HEAD (index entry and file). Anything else
 * is a person's: left untouched and its path appended to foreign (may be
 * NULL), so the usual refusal of a dirty work tree applies to it. */
int md_git_undo_change(struct md_git *g, const struct md_git_owned *files, size_t n,
		       struct md_strv *foreign, struct md_err *err);

/* ---- history ---- */

/* What the applier needs from history: which paths changed between two
 * commits, whether the applied commit is still behind HEAD, old file
 * contents, who made the changes, and a revert of a path set. Commits are
 * given as 40-hex ids (any unambiguous prefix of at least 4 works). */
#define MD_GIT_HISTORY_MAX_COMMITS 10000 /* commits walked by authors_between */

/* Paths (relative, sorted, unique) whose content or mode differs between
 * the trees of from and to; both sides of a rename count (no rename
 * detection). from NULL or "": every file of to. */
int md_git_changed_paths(struct md_git *g, const char *from, const char *to,
			 struct md_strv *out, struct md_err *err);

/* 1 when ancestor is commit itself or one of its ancestors; 0 when it is
 * not, or when ancestor is not a commit of this repository (a state file
 * from elsewhere); -1 on error. */
int md_git_is_ancestor(struct md_git *g, const char *ancestor, const char *commit,
		       struct md_err *err);

/* The content of path (relative) at commit: 0 with *out (caller frees,
 * NUL-terminated) and *len; 1 when commit has no file there; -1 on error,
 * including a file over max bytes. */
int md_git_file_at(struct md_git *g, const char *commit, const char *path, size_t max,
		   char **out, size_t *len, struct md_err *err);

/* Author e-mails (unique, newest commit first) of the commits reachable
 * from to and not from from that change a path in paths, compared with
 * their first parent. A path matches itself and, as a directory,
 * everything under it; "." matches every path. from NULL or "": all of
 * to's history. At most MD_GIT_HISTORY_MAX_COMMITS commits are walked
 * (more is an error: the caller must not guess). */
int md_git_authors_between(struct md_git *g, const char *from, const char *to,
			   const struct md_strv *paths, struct md_strv *emails,
			   struct md_err *err);

/* Revert paths (relative files) to their content at commit: write it to
 * the work tree (removing a path commit did not have), stage exactly
 * those paths and commit them on the branch as the agent with message;
 * oid receives the new commit's id. The work tree must be clean first.
 * Returns MD_GIT_NOTHING_TO_REVERT, leaving the work tree and index as
 * they were, when the paths already hold that content. */
#define MD_GIT_NOTHING_TO_REVERT (-2)
int md_git_revert_paths(struct md_git *g, const char *commit, const char *const *paths,
			size_t n, const char *message, char oid[41], struct md_err *err);

/* ---- PR branches ---- */

/* A file's whole new content, for commits built without the work tree. */
struct md_git_blob {
	const char *path; /* relative to the repository root */
	const char *data;
	size_t len;
	unsigned mode;    /* permission bits of the work-tree file: 0755-ish is executable */
};

/* Blobs with the buffers they point into (owned[i] is v[i].data's, or NULL
 * when borrowed), as a caller builds them for md_git_branch_commit. */
struct md_git_blobs {
	struct md_git_blob *v;
	char **owned;
	size_t n;
};
/* Room for max blobs (zeroed); -1 on OOM. */
int md_git_blobs_init(struct md_git_blobs *b, size_t max);
void md_git_blobs_clear(struct md_git_blobs *b);

/* origin's URL as configured in the clone at path, read without touching
 * the network (owner/repo for the GitHub App). *url (caller frees) is NULL
 * and 1 returned when there is no clone or it has no origin. */
int md_git_origin_url_at(const char *path, char **url, struct md_err *err);

/* "<prefix><image path>" made a valid branch name: characters git refuses
 * become '-', components never start with '.' nor end in ".lock".
 * *out caller frees. */
int md_git_branch_name(char **out, const char *prefix, const char *image_path,
		       struct md_err *err);

/* Fetch origin's branches under prefix (e.g. "magos/") into
 * refs/remotes/origin/<prefix>…; tracking refs of branches origin no longer
 * has are dropped. */
int md_git_branches_fetch(struct md_git *g, const char *prefix, struct md_err *err);

/* The tip of origin/<configured branch> (the base of PR branches). */
int md_git_base_head(struct md_git *g, char oid[41], struct md_err *err);

/* The commit PR branch `branch` should hold: origin/<base>'s tree with only
 * `files` replaced (built in memory, the work tree and index untouched),
 * one commit whose parent is origin/<base>. Returns 1 when
 * refs/remotes/origin/<branch> already is exactly such a commit (oid = its
 * id: nothing to push), 0 when it is not — then with make_commit a new
 * commit (the handle's author) is written to the object database and oid
 * receives it, without it oid is "". -1 on error. */
int md_git_branch_commit(struct md_git *g, const char *branch, const struct md_git_blob *files,
			 size_t n, const char *message, int make_commit, char oid[41],
			 struct md_err *err);

/* Force-push commit oid to origin's refs/heads/<branch> and record it as
 * refs/remotes/origin/<branch>. */
int md_git_branch_push(struct md_git *g, const char *branch, const char *oid,
		       struct md_err *err);

#endif
