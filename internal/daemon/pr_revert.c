/* MD_MODE=pr: the applier's revert of the agent's own failed update goes
 * through a pull request too. With branch protection the base branch
 * takes no direct push, and a human reviews every change to it anyway.
 *
 * The revert lives on magos/revert/<stack dir>: one commit on origin/<base>
 * holding the stack's files as they were at the last good commit, force-
 * updated when another revert of the same stack is needed. Until the PR is
 * merged the host runs the last good version (apply_rollback.c). */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"

/* Commit the revert on the branch and push it (or have GitHub commit it).
 * 1 when the branch already holds exactly this revert. */
static int push_branch(struct cycle *c, const char *branch, const struct md_git_blob *files,
		       size_t n, const char *message, struct md_err *err)
{
	char base[41];

	if (md_git_base_head(c->git, base, err) < 0)
		return -1;
	return cycle_branch_publish(c, branch, base, files, n, message, err);
}

int cycle_pr_revert(struct cycle *c, const char *stack, const struct md_git_blob *files,
		    size_t n, const char *title, const char *body, const char *message,
		    long *number, struct md_err *err)
{
	struct md_github_pr *pr = NULL;
	const char *action = "unchanged";
	char *branch = NULL;
	int same, rc = -1;

	*number = 0;
	if (cycle_github(c, err) < 0)
		return -1;
	if (md_git_branch_name(&branch, PR_REVERT_PREFIX, stack, err) < 0)
		return -1;
	/* The tracking ref tells whether the branch already holds this revert. */
	cycle_gh_git_op(c);
	if (md_git_branches_fetch(c->git, PR_PREFIX, err) < 0)
		goto out;
	if ((same = push_branch(c, branch, files, n, message, err)) < 0)
		goto out;
	if (md_github_pr_find(c->ctx->gh, branch, c->s->branch, &pr, err) < 0)
		goto out;
	if (!pr) {
		if (md_github_pr_create(c->ctx->gh, branch, c->s->branch, title, body, &pr, err) < 0)
			goto out;
		action = "opened";
	} else if (!same || strcmp(pr->title ? pr->title : "", title)) {
		if (md_github_pr_update(c->ctx->gh, pr->number, title, body, err) < 0)
			goto out;
		action = "updated";
	}
	*number = pr->number;
	/* The applier logs the revert with its stack; no image to name here. */
	if (cycle_pr_report(c, NULL, branch, action, pr->number, pr->html_url) < 0) {
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
