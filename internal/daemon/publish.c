/* Step 7: write the patched files, make one commit, push it. A push that
 * loses a race is redone on top of the remote with the same decisions. */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/obs.h"

/* Substitute {count}, {images} and {changes} in the commit template. The
 * change list is always part of the message: appended when the template
 * does not place it. */
char *cycle_commit_message(const struct cycle *c)
{
	const struct md_cycle_report *rep = c->rep;
	const char *t = c->s->commit_template;
	struct md_buf list, images, out;
	int has_changes = strstr(t, "{changes}") != NULL;

	md_buf_init(&list, 1024 * 1024);
	md_buf_init(&images, 64 * 1024);
	md_buf_init(&out, 2 * 1024 * 1024);
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_change *ch = &rep->changes[i];

		md_buf_printf(&list, "%s- %s: %s -> %s (%s:%d)", i ? "\n" : "", ch->image,
			      ch->from, ch->to, ch->file, ch->line);
		md_buf_printf(&images, "%s%s", i ? ", " : "", ch->image);
	}
	while (*t) {
		if (!strncmp(t, "{count}", 7)) {
			md_buf_printf(&out, "%zu", rep->nchanges);
			t += 7;
		} else if (!strncmp(t, "{images}", 8)) {
			md_buf_puts(&out, images.data ? images.data : "");
			t += 8;
		} else if (!strncmp(t, "{changes}", 9)) {
			md_buf_puts(&out, list.data ? list.data : "");
			t += 9;
		} else {
			md_buf_append(&out, t++, 1);
		}
	}
	if (!has_changes)
		md_buf_printf(&out, "\n\n%s", list.data ? list.data : "");
	md_buf_puts(&out, "\n");
	md_buf_clear(&list);
	md_buf_clear(&images);
	return md_buf_steal(&out);
}

/* Put back the original bytes of the first `upto` files that were patched. */
static void restore_files(struct cycle *c, size_t upto)
{
	const char *wd = md_git_workdir(c->git);

	for (size_t i = 0; i < upto; i++) {
		struct cycle_file *f = &c->files[i];
		char *abs;

		if (!f->patched)
			continue;
		abs = md_asprintf("%s/%s", wd, f->path);
		if (abs)
			md_file_write_atomic(abs, f->data, f->len, f->mode, NULL);
		free(abs);
	}
}

/* Write every patched file; on failure put back what was already written
 * so the work tree is never left half-changed. */
static int write_files(struct cycle *c, struct md_err *err)
{
	const char *wd = md_git_workdir(c->git);
	int written = 0;

	for (size_t i = 0; i < c->nfiles; i++) {
		struct cycle_file *f = &c->files[i];
		char *abs;
		int rc;

		if (!f->patched)
			continue;
		abs = md_asprintf("%s/%s", wd, f->path);
		rc = abs ? md_file_write_atomic(abs, f->patched, f->patched_len, f->mode, err)
			 : md_err_set(err, "out of memory");
		free(abs);
		if (rc < 0) {
			restore_files(c, i);
			return -1;
		}
		if (!written++)
			md_testhook("compose-write");
	}
	return 0;
}

static int commit_files(struct cycle *c, struct md_err *err)
{
	const char **paths = calloc(c->nfiles ? c->nfiles : 1, sizeof(*paths));
	char *msg = cycle_commit_message(c);
	size_t n = 0;
	int rc = -1;

	if (!paths || !msg) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].patched)
			paths[n++] = c->files[i].path;
	/* Recorded first: killed from here on, the next start undoes exactly
	 * this change and never mistakes it for a person's edit. */
	if (cycle_intent_begin(c, err) < 0)
		goto out;
	if (write_files(c, err) < 0) {
		cycle_intent_done(c);
		goto out;
	}
	rc = md_git_commit(c->git, paths, n, msg, c->rep->commit, err);
	if (rc == 0) {
		cycle_intent_done(c);
	} else {
		struct md_err uerr;

		/* Bytes back, then the index entries (the commit may have failed
		 * after staging, e.g. on a held ref lock). */
		restore_files(c, c->nfiles);
		c->rep->commit[0] = '\0';
		if (cycle_intent_undo(c, "this cycle", &uerr) < 0)
			md_log(MD_LOG_ERROR, "cannot undo the failed commit's change", "error",
			       uerr.msg, NULL);
	}
out:
	free(paths);
	free(msg);
	return rc;
}

static int any_patched(const struct cycle *c)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].patched)
			return 1;
	return 0;
}

static int publish_via_git(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);

/* ---- MD_COMMIT_VIA_API: the Git Data API makes the commit, GitHub signs it ---- */

/* The patched files as the GitHub module wants them (pointers into c). */
static struct md_github_file *api_files(const struct cycle *c, size_t *n)
{
	struct md_github_file *v = calloc(c->nfiles ? c->nfiles : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < c->nfiles; i++) {
		const struct cycle_file *f = &c->files[i];

		if (!f->patched)
			continue;
		v[*n].path = f->path;
		v[*n].data = f->patched;
		v[*n].len = f->patched_len;
		v[*n].mode = (f->mode & 0111) ? 0100755 : 0100644;
		(*n)++;
	}
	return v;
}

/* One attempt: 0 committed, 1 the branch moved meanwhile, -1 error. */
static int api_commit_once(struct cycle *c, struct md_err *err)
{
	struct md_github_file *files = NULL;
	char parent[41], *msg = NULL;
	size_t n;
	int rc = -1;

	if (md_git_head(c->git, parent, err) < 0)
		return -1;
	files = api_files(c, &n);
	msg = cycle_commit_message(c);
	if (!files || !msg) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = md_github_commit(c->ctx->gh, c->s->branch, parent, files, n, msg, 0, c->rep->commit,
			      err);
	if (rc != 0)
		c->rep->commit[0] = '\0';
out:
	free(files);
	free(msg);
	return rc;
}

/* Commits through the API with HEAD (just synced) as parent; a refused
 * fast-forward is a push race: re-sync, re-apply, try again. The clone then
 * fetches what GitHub made, so the next cycle starts from it. */
static int publish_via_api(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	int attempts = c->s->push_retries + 1;
	struct md_err serr;

	if (cycle_github(c, err) < 0)
		return -1;
	for (int attempt = 1;; attempt++) {
		int rc;

		if (!c->rep->nchanges || !any_patched(c))
			return 0;
		rc = api_commit_once(c, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			md_log(MD_LOG_INFO, "pushed", "commit", c->rep->commit, "branch",
			       c->s->branch, "via", "GitHub API", NULL);
			c->rep->pushed = 1;
			cycle_gh_git_op(c);
			if (md_git_sync(c->git, &serr) < 0)
				md_log(MD_LOG_WARN, "committed through the GitHub API, but cannot "
				       "fast-forward the clone yet", "error", serr.msg, NULL);
			return 0;
		}
		if (attempt >= attempts || (stop && *stop))
			return md_err_set(err,
					  "commit to %s through the GitHub API refused %d time(s) "
					  "because the branch kept moving; giving up until the next "
					  "cycle", c->s->branch, attempt);
		md_log(MD_LOG_INFO, "the branch moved while committing through the GitHub API; "
		       "re-syncing and re-applying", NULL);
		cycle_gh_git_op(c);
		if (md_git_sync(c->git, err) < 0 || cycle_reapply(c, err) < 0)
			return -1;
	}
}

int cycle_publish(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	int rc = c->s->commit_via_api ? publish_via_api(c, stop, err)
				      : publish_via_git(c, stop, err);

	/* whatever git operation comes next (the applier's) starts afresh */
	cycle_gh_git_op(c);
	return rc;
}

static int publish_via_git(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	int attempts = c->s->push_retries + 1;

	for (int attempt = 1;; attempt++) {
		int pushed;

		if (!c->rep->nchanges || !any_patched(c))
			return 0;
		if (commit_files(c, err) < 0)
			return -1;
		cycle_gh_git_op(c);
		pushed = md_git_push(c->git, err);
		if (pushed == 0) {
			md_log(MD_LOG_INFO, "pushed", "commit", c->rep->commit, "branch", c->s->branch,
			       NULL);
			c->rep->pushed = 1;
			return 0;
		}
		/* Our commit is reproducible from the decisions; drop it so the
		 * clone matches the remote again whatever happens next. */
		if (md_git_reset_to_remote(c->git, NULL) < 0)
			md_log(MD_LOG_ERROR, "cannot reset the clone to the remote after a failed push",
			       NULL);
		c->rep->commit[0] = '\0';
		if (pushed < 0)
			return -1;
		if (attempt >= attempts || (stop && *stop))
			return md_err_set(err,
					  "push to origin/%s rejected %d time(s) because the remote "
					  "kept moving; giving up until the next cycle",
					  c->s->branch, attempt);
		md_log(MD_LOG_INFO, "push lost a race with another push; re-syncing and re-applying",
		       NULL);
		cycle_gh_git_op(c);
		if (md_git_sync(c->git, err) < 0 || cycle_reapply(c, err) < 0)
			return -1;
	}
}
