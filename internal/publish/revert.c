/* A revert of the agent's own failed update (the applier decided it, see
 * rollout/rollback.c), published one of two ways.
 *
 * Push mode: a revert commit on the branch, pushed through the one retry
 * loop; a lost race is retried unless the stack's paths changed on the
 * remote meanwhile (theirs wins, no revert).
 *
 * MD_MODE=pr: with branch protection the base branch takes no direct push,
 * and a human reviews every change to it anyway. The revert lives on
 * magos/revert/<stack dir>: one commit on origin/<base> holding the stack's
 * files as they were at the last good commit, force-updated when another
 * revert of the same stack is needed. Until the PR is merged the host runs
 * the last good version. */
#include "publish_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/obs.h"

/* ---- push mode ---------------------------------------------------------------- */

struct revert_run {
	const struct md_publish_ctx *p;
	const char *good, *head, *message;
	const struct md_strv *paths;
	char *oid;
};

/* 1 when one of paths differs between commits a and b. */
static int paths_moved(struct md_git *git, const char *a, const char *b,
		       const struct md_strv *paths)
{
	struct md_strv changed = { 0 };
	int moved = 0;

	if (md_git_changed_paths(git, a, b, &changed, NULL) < 0)
		return 1;
	for (size_t i = 0; i < changed.n && !moved; i++)
		moved = md_strv_contains(paths, changed.v[i]);
	md_strv_clear(&changed);
	return moved;
}

static int revert_attempt(void *arg, struct md_err *err)
{
	struct revert_run *rr = arg;
	const struct md_publish_ctx *p = rr->p;
	int pushed, rc;

	/* Killed half-way, the next start undoes exactly this revert. */
	if (md_publish__intent_begin_revert(p, rr->good, rr->paths, err) < 0)
		return -1;
	rc = md_git_revert_paths(p->git, rr->good, (const char *const *)rr->paths->v,
				 rr->paths->n, rr->message, rr->oid, err);
	/* Committed, or failed and undone by md_git_revert_paths itself (which
	 * never touches a work tree that was not clean). */
	md_publish__intent_done(p);
	if (rc == MD_GIT_NOTHING_TO_REVERT) {
		rr->oid[0] = '\0';
		return 0;
	}
	if (rc < 0)
		return -1;
	md_publish__git_op(p);
	pushed = md_git_push(p->git, err);
	md_publish__progress(p);
	if (pushed == 0)
		return 0;
	if (md_git_reset_to_remote(p->git, NULL) < 0)
		md_log(MD_LOG_ERROR, "cannot reset the clone to the remote after a failed push", NULL);
	rr->oid[0] = '\0';
	return pushed < 0 ? -1 : 1;
}

/* Someone changed the stack meanwhile: theirs wins, no revert. */
static int revert_again(void *arg, struct md_err *err)
{
	struct revert_run *rr = arg;
	char now[41];

	if (md_git_head(rr->p->git, now, err) < 0)
		return -1;
	if (paths_moved(rr->p->git, rr->head, now, rr->paths))
		return md_err_set(err, "the stack changed on origin/%s meanwhile", rr->p->s->branch);
	return 0;
}

int md_publish_revert_push(const struct md_publish_ctx *p, const char *good, const char *head,
			   const struct md_strv *paths, const char *message, char oid[41],
			   struct md_err *err)
{
	struct revert_run rr = { .p = p, .good = good, .head = head, .message = message,
				 .paths = paths, .oid = oid };
	int attempts = 0, rc;

	oid[0] = '\0';
	rc = md_publish__retry(p, revert_attempt, revert_again, &rr, NULL, &attempts, err);
	if (rc == 1)
		rc = md_err_set(err, "push of the revert to origin/%s rejected %d time(s)",
				p->s->branch, attempts);
	return rc;
}

/* ---- MD_MODE=pr --------------------------------------------------------------- */

/* Commit the revert on the branch and push it (or have GitHub commit it).
 * 1 when the branch already holds exactly this revert. */
static int push_branch(const struct md_publish_ctx *p, const char *branch,
		       const struct md_git_blob *files, size_t n, const char *message,
		       struct md_err *err)
{
	char base[41];

	if (md_git_base_head(p->git, base, err) < 0)
		return -1;
	return md_publish__branch(p, branch, base, files, n, message, err);
}

int md_publish_revert_pr(const struct md_publish_ctx *p, const char *stack,
			 const struct md_git_blob *files, size_t n, const char *title,
			 const char *body, const char *message, long *number, struct md_err *err)
{
	struct md_github_pr *pr = NULL;
	enum md_pr_action action = MD_PR_UNCHANGED;
	char *branch = NULL;
	int same, rc = -1;

	*number = 0;
	if (!p->gh)
		return md_err_set(err, "MD_MODE=pr needs a GitHub App");
	if (md_git_branch_name(&branch, MD_PUBLISH_REVERT_PREFIX, stack, err) < 0)
		return -1;
	/* The tracking ref tells whether the branch already holds this revert. */
	md_publish__git_op(p);
	if (md_git_branches_fetch(p->git, MD_PUBLISH_PR_PREFIX, err) < 0)
		goto out;
	if ((same = push_branch(p, branch, files, n, message, err)) < 0)
		goto out;
	if (md_github_pr_find(p->gh, branch, p->s->branch, &pr, err) < 0)
		goto out;
	if (!pr) {
		if (md_github_pr_create(p->gh, branch, p->s->branch, title, body, &pr, err) < 0)
			goto out;
		action = MD_PR_OPENED;
	} else if (!same || strcmp(pr->title ? pr->title : "", title)) {
		if (md_github_pr_update(p->gh, pr->number, title, body, err) < 0)
			goto out;
		action = MD_PR_UPDATED;
	}
	*number = pr->number;
	/* The applier logs the revert with its stack; no image to name here. */
	if (md_publish__pr_report(p, NULL, branch, action, pr->number, pr->html_url) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = same;
out:
	if (pr) {
		md_github_pr_clear(pr);
		free(pr);
	}
	free(branch);
	return rc;
}
