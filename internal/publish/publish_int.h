/* Private to the publish module. */
#ifndef MAGOS_PUBLISH_INT_H
#define MAGOS_PUBLISH_INT_H

#include "magos/publish.h"

void md_publish__git_op(const struct md_publish_ctx *p);
void md_publish__progress(const struct md_publish_ctx *p);

/* ---- commit.c: the one push-race retry loop ---- */

/* One attempt at publishing: 0 done (or nothing to do), 1 the remote moved
 * (a lost push race, or a refused fast-forward through the API; the clone
 * is back on the remote), -1 error. */
typedef int (*md_publish__attempt_fn)(void *arg, struct md_err *err);
/* After the lost race the clone was synced: get ready for the next attempt
 * (re-apply the decisions, or refuse when the remote changed what this was
 * about). -1 stops the loop with err. */
typedef int (*md_publish__again_fn)(void *arg, struct md_err *err);

/* Attempt up to MD_PUSH_RETRIES + 1 times, re-syncing between attempts
 * (said with retry_log, when not NULL). 0 done, -1 error, 1 every attempt
 * lost its race (*attempts says how many; the caller words the error). */
int md_publish__retry(const struct md_publish_ctx *p, md_publish__attempt_fn attempt,
		      md_publish__again_fn again, void *arg, const char *retry_log,
		      int *attempts, struct md_err *err);

/* Git file mode (0100755/0100644) of work-tree permission bits. */
unsigned md_publish__blob_mode(unsigned perm);

/* Make branch hold one commit on base_oid with files replaced, pushed with
 * git or created through the Git Data API (MD_COMMIT_VIA_API), forced. 1
 * when the branch already holds exactly that; 0 published; -1 error. */
int md_publish__branch(const struct md_publish_ctx *p, const char *branch, const char *base_oid,
		       const struct md_git_blob *files, size_t n, const char *message,
		       struct md_err *err);

/* Add a PR to the report and log "pull request <action>" (not for
 * unchanged nor declined; image may be NULL). -1 only on OOM. */
int md_publish__pr_report(const struct md_publish_ctx *p, const char *image, const char *branch,
			  enum md_pr_action action, long number, const char *url);

/* ---- intent.c: the intent record of a change of the work tree, written
 * before the first file is touched and removed once committed or undone. */
int md_publish__intent_begin(const struct md_publish_ctx *p, const struct md_publish_edit *e,
			     size_t n, struct md_err *err);
int md_publish__intent_begin_revert(const struct md_publish_ctx *p, const char *good,
				    const struct md_strv *paths, struct md_err *err);
void md_publish__intent_done(const struct md_publish_ctx *p);
/* when says which run the undone change belonged to. */
int md_publish__intent_undo(struct md_git *git, const char *state_dir, const char *when,
			    struct md_err *err);

/* ---- pr.c: decisions as pure functions ---- */

/* Which group (branch) each change goes to: group[i] for change i, an
 * index into branches (distinct, in order of first appearance). */
int md_publish__group(const char *const *change_branches, size_t n, size_t *group,
		      size_t *ngroups);

/* Whether an open PR of ours (head branch) is withdrawn this cycle: not a
 * revert branch, not one of this cycle's branches, and none of its sites
 * undecided. */
int md_publish__withdraw(const char *head, const char *const *branches, size_t nbranches,
			 int undecided);

#endif
