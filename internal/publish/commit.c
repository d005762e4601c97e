/* Step 6, push mode: write the patched files, make one commit, push it — or
 * have GitHub make it through the Git Data API (MD_COMMIT_VIA_API, signed).
 * A push that loses a race is redone on top of the remote with the same
 * decisions; the retry loop (md_publish__retry) is the only one, reverts
 * (revert.c) go through it too. */
#include "publish_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/obs.h"

void md_publish__git_op(const struct md_publish_ctx *p)
{
	if (p->git_op)
		p->git_op(p->git_op_arg);
}

void md_publish__progress(const struct md_publish_ctx *p)
{
	if (p->progress)
		p->progress(p->progress_arg);
}

unsigned md_publish__blob_mode(unsigned perm)
{
	return (perm & 0111) ? 0100755 : 0100644;
}

/* Substitute {count}, {images} and {changes} in the commit template. The
 * change list is always part of the message: appended when the template
 * does not place it. A message cut short by a cap is no message. */
char *md_publish_commit_message(const char *t, const struct md_cycle_report *rep)
{
	struct md_buf list, images, out;
	int has_changes = strstr(t, "{changes}") != NULL, ok = 1;

	md_buf_init(&list, 1024 * 1024);
	md_buf_init(&images, 64 * 1024);
	md_buf_init(&out, 2 * 1024 * 1024);
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_change *ch = &rep->changes[i];

		ok &= md_buf_printf(&list, "%s- %s: %s -> %s (%s:%d)", i ? "\n" : "", ch->image,
				    ch->from, ch->to, ch->file, ch->line) == 0;
		ok &= md_buf_printf(&images, "%s%s", i ? ", " : "", ch->image) == 0;
	}
	while (*t && ok) {
		if (!strncmp(t, "{count}", 7)) {
			ok &= md_buf_printf(&out, "%zu", rep->nchanges) == 0;
			t += 7;
		} else if (!strncmp(t, "{images}", 8)) {
			ok &= md_buf_puts(&out, images.data ? images.data : "") == 0;
			t += 8;
		} else if (!strncmp(t, "{changes}", 9)) {
			ok &= md_buf_puts(&out, list.data ? list.data : "") == 0;
			t += 9;
		} else {
			ok &= md_buf_append(&out, t++, 1) == 0;
		}
	}
	if (ok && !has_changes)
		ok &= md_buf_printf(&out, "\n\n%s", list.data ? list.data : "") == 0;
	if (ok)
		ok &= md_buf_puts(&out, "\n") == 0;
	md_buf_clear(&list);
	md_buf_clear(&images);
	if (!ok) {
		md_buf_clear(&out);
		return NULL;
	}
	return md_buf_steal(&out);
}

/* ---- the retry loop ---------------------------------------------------------- */

int md_publish__retry(const struct md_publish_ctx *p, md_publish__attempt_fn attempt,
		      md_publish__again_fn again, void *arg, const char *retry_log,
		      int *attempts, struct md_err *err)
{
	int max = p->s->push_retries + 1;

	for (int n = 1;; n++) {
		int rc = attempt(arg, err);

		*attempts = n;
		if (rc != 1)
			return rc;
		if (n >= max || (p->stop && *p->stop))
			return 1;
		if (retry_log)
			md_log(MD_LOG_INFO, retry_log, NULL);
		md_publish__git_op(p);
		if (md_git_sync(p->git, err) < 0 || again(arg, err) < 0)
			return -1;
	}
}

/* ---- write and commit --------------------------------------------------------- */

struct commit_run {
	const struct md_publish_ctx *p;
	struct md_publish_source *src;
};

/* Put back the original bytes of the first `upto` files. */
static void restore_files(const struct md_publish_ctx *p, const struct md_publish_edit *e,
			  size_t upto)
{
	const char *wd = md_git_workdir(p->git);

	for (size_t i = 0; i < upto; i++) {
		char *abs = md_asprintf("%s/%s", wd, e[i].path);

		if (abs)
			md_file_write_atomic(abs, e[i].old_data, e[i].old_len, e[i].mode, NULL);
		free(abs);
	}
}

/* Write every patched file; on failure put back what was already written
 * so the work tree is never left half-changed. */
static int write_files(const struct md_publish_ctx *p, const struct md_publish_edit *e, size_t n,
		       struct md_err *err)
{
	const char *wd = md_git_workdir(p->git);

	for (size_t i = 0; i < n; i++) {
		char *abs = md_asprintf("%s/%s", wd, e[i].path);
		int rc = abs ? md_file_write_atomic(abs, e[i].new_data, e[i].new_len, e[i].mode, err)
			     : md_err_set(err, "out of memory");

		free(abs);
		if (rc < 0) {
			restore_files(p, e, i);
			return -1;
		}
		if (i == 0)
			md_testhook("compose-write");
	}
	return 0;
}

static int commit_files(const struct md_publish_ctx *p, const struct md_publish_source *src,
			struct md_err *err)
{
	const char **paths = calloc(src->nedits ? src->nedits : 1, sizeof(*paths));
	char *msg = md_publish_commit_message(p->s->commit_template, p->rep);
	int rc = -1;

	if (!paths || !msg) {
		md_err_set(err, !paths ? "out of memory" : "the commit message is too long");
		goto out;
	}
	for (size_t i = 0; i < src->nedits; i++)
		paths[i] = src->edits[i].path;
	/* Recorded first: killed from here on, the next start undoes exactly
	 * this change and never mistakes it for a person's edit. */
	if (md_publish__intent_begin(p, src->edits, src->nedits, err) < 0)
		goto out;
	if (write_files(p, src->edits, src->nedits, err) < 0) {
		md_publish__intent_done(p);
		goto out;
	}
	rc = md_git_commit(p->git, paths, src->nedits, msg, p->rep->commit, err);
	if (rc == 0) {
		md_publish__intent_done(p);
	} else {
		struct md_err uerr;

		/* Bytes back, then the index entries (the commit may have failed
		 * after staging, e.g. on a held ref lock). */
		restore_files(p, src->edits, src->nedits);
		p->rep->commit[0] = '\0';
		if (md_publish__intent_undo(p->git, p->s->state_dir, "this cycle", &uerr) < 0)
			md_log(MD_LOG_ERROR, "cannot undo the failed commit's change", "error",
			       uerr.msg, NULL);
	}
out:
	free(paths);
	free(msg);
	return rc;
}

static int nothing_to_commit(const struct commit_run *cr)
{
	return !cr->p->rep->nchanges || !cr->src->nedits;
}

static int again(void *arg, struct md_err *err)
{
	struct commit_run *cr = arg;

	return cr->src->again(cr->src, err);
}

/* ---- through git ---------------------------------------------------------------- */

static int git_attempt(void *arg, struct md_err *err)
{
	struct commit_run *cr = arg;
	const struct md_publish_ctx *p = cr->p;
	int pushed;

	if (nothing_to_commit(cr))
		return 0;
	if (commit_files(p, cr->src, err) < 0)
		return -1;
	md_publish__git_op(p);
	pushed = md_git_push(p->git, err);
	if (pushed == 0) {
		md_log(MD_LOG_INFO, "pushed", "commit", p->rep->commit, "branch", p->s->branch, NULL);
		p->rep->pushed = 1;
		return 0;
	}
	/* Our commit is reproducible from the decisions; drop it so the clone
	 * matches the remote again whatever happens next. */
	if (md_git_reset_to_remote(p->git, NULL) < 0)
		md_log(MD_LOG_ERROR, "cannot reset the clone to the remote after a failed push", NULL);
	p->rep->commit[0] = '\0';
	return pushed < 0 ? -1 : 1;
}

/* ---- MD_COMMIT_VIA_API: the Git Data API makes the commit, GitHub signs it ---- */

static int api_attempt(void *arg, struct md_err *err)
{
	struct commit_run *cr = arg;
	const struct md_publish_ctx *p = cr->p;
	const struct md_publish_source *src = cr->src;
	struct md_github_file *files = NULL;
	char parent[41], *msg = NULL;
	struct md_err serr;
	int rc = -1;

	if (nothing_to_commit(cr))
		return 0;
	if (md_git_head(p->git, parent, err) < 0)
		return -1;
	files = calloc(src->nedits ? src->nedits : 1, sizeof(*files));
	msg = md_publish_commit_message(p->s->commit_template, p->rep);
	if (!files || !msg) {
		md_err_set(err, !files ? "out of memory" : "the commit message is too long");
		goto out;
	}
	for (size_t i = 0; i < src->nedits; i++)
		files[i] = (struct md_github_file){ .path = src->edits[i].path,
						    .data = src->edits[i].new_data,
						    .len = src->edits[i].new_len,
						    .mode = md_publish__blob_mode(src->edits[i].mode) };
	rc = md_github_commit(p->gh, p->s->branch, parent, files, src->nedits, msg, 0,
			      p->rep->commit, err);
	if (rc != 0) {
		p->rep->commit[0] = '\0';
		goto out;
	}
	md_log(MD_LOG_INFO, "pushed", "commit", p->rep->commit, "branch", p->s->branch, "via",
	       "GitHub API", NULL);
	p->rep->pushed = 1;
	md_publish__git_op(p);
	if (md_git_sync(p->git, &serr) < 0)
		md_log(MD_LOG_WARN, "committed through the GitHub API, but cannot fast-forward the "
		       "clone yet", "error", serr.msg, NULL);
out:
	free(files);
	free(msg);
	return rc;
}

int md_publish_commit(const struct md_publish_ctx *p, struct md_publish_source *src,
		      struct md_err *err)
{
	struct commit_run cr = { .p = p, .src = src };
	int attempts = 0, rc;

	if (p->s->commit_via_api) {
		if (!p->gh)
			return md_err_set(err, "MD_COMMIT_VIA_API needs a GitHub App");
		rc = md_publish__retry(p, api_attempt, again, &cr,
				       "the branch moved while committing through the GitHub API; "
				       "re-syncing and re-applying", &attempts, err);
		if (rc == 1)
			rc = md_err_set(err, "commit to %s through the GitHub API refused %d time(s) "
					"because the branch kept moving; giving up until the next "
					"cycle", p->s->branch, attempts);
	} else {
		rc = md_publish__retry(p, git_attempt, again, &cr,
				       "push lost a race with another push; re-syncing and "
				       "re-applying", &attempts, err);
		if (rc == 1)
			rc = md_err_set(err, "push to origin/%s rejected %d time(s) because the remote "
					"kept moving; giving up until the next cycle",
					p->s->branch, attempts);
	}
	/* whatever git operation comes next (the applier's) starts afresh */
	md_publish__git_op(p);
	return rc;
}
