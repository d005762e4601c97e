/* Crash safety of a change of the work tree: the intent record, written
 * before the first file is touched and removed once the change is committed
 * or undone, and at the start of every cycle what an interrupted earlier
 * cycle left (the change of the record, rollback copies and temp files). A
 * change of the agent's own is undone rather than finished: its decisions
 * are made again from the registry anyway. */
#include "publish_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/obs.h"
#include "magos/state.h"

#define MD_INTENT_FILE_MAX (64u << 20) /* a file of a reverted stack */

static void log_removed(const char *msg, const struct md_strv *removed)
{
	for (size_t i = 0; i < removed->n; i++)
		md_log(MD_LOG_WARN, msg, "path", removed->v[i], NULL);
}

/* ---- the intent record ------------------------------------------------------- */

static int add_decisions(const struct md_cycle_report *rep, struct md_intent *in)
{
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_change *ch = &rep->changes[i];
		char *line = md_asprintf("%s: %s -> %s (%s:%d)", ch->image, ch->from, ch->to,
					 ch->file, ch->line);
		int rc = line ? md_strv_push(&in->decisions, line) : -1;

		free(line);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int md_publish__intent_begin(const struct md_publish_ctx *p, const struct md_publish_edit *e,
			     size_t n, struct md_err *err)
{
	struct md_intent in;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	in.files = calloc(n ? n : 1, sizeof(*in.files));
	if (!in.files)
		return md_err_set(err, "out of memory");
	if (md_git_head(p->git, in.head, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct md_intent_file *d = &in.files[in.nfiles];

		d->path = (char *)(uintptr_t)e[i].path; /* borrowed, never written */
		if (md_git_blob_id(e[i].old_data, e[i].old_len, d->old_id, err) < 0 ||
		    md_git_blob_id(e[i].new_data, e[i].new_len, d->new_id, err) < 0)
			goto out;
		in.nfiles++;
	}
	if (add_decisions(p->rep, &in) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = md_state_intent_save(p->s->state_dir, &in, err);
out:
	free(in.files);
	md_strv_clear(&in.decisions);
	return rc;
}

/* The blob id of path at commit into out ("" when it has none there). */
static int id_at(struct md_git *git, const char *commit, const char *path, char out[41],
		 struct md_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = md_git_file_at(git, commit, path, MD_INTENT_FILE_MAX, &data, &len, err);

	out[0] = '\0';
	if (rc == 0)
		rc = md_git_blob_id(data, len, out, err);
	free(data);
	return rc < 0 ? -1 : 0;
}

int md_publish__intent_begin_revert(const struct md_publish_ctx *p, const char *good,
				    const struct md_strv *paths, struct md_err *err)
{
	struct md_intent in;
	char *what = md_asprintf("revert to %.12s", good);
	int rc = -1;

	memset(&in, 0, sizeof(in));
	in.files = calloc(paths->n ? paths->n : 1, sizeof(*in.files));
	if (!in.files || !what || md_strv_push(&in.decisions, what) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (md_git_head(p->git, in.head, err) < 0)
		goto out;
	for (size_t i = 0; i < paths->n; i++) {
		struct md_intent_file *d = &in.files[in.nfiles++];

		d->path = paths->v[i]; /* borrowed */
		if (id_at(p->git, in.head, d->path, d->old_id, err) < 0 ||
		    id_at(p->git, good, d->path, d->new_id, err) < 0)
			goto out;
	}
	rc = md_state_intent_save(p->s->state_dir, &in, err);
out:
	free(what);
	free(in.files);
	md_strv_clear(&in.decisions);
	return rc;
}

void md_publish__intent_done(const struct md_publish_ctx *p)
{
	struct md_err err;

	if (md_state_intent_remove(p->s->state_dir, &err) < 0)
		md_log(MD_LOG_WARN, "cannot remove the intent record", "error", err.msg, NULL);
}

static void log_undone(const struct md_intent *in, const struct md_strv *foreign,
		       const char *when)
{
	for (size_t i = 0; i < in->nfiles; i++)
		if (!md_strv_contains(foreign, in->files[i].path))
			md_log(MD_LOG_WARN, "interrupted change undone", "file", in->files[i].path,
			       "when", when, NULL);
	for (size_t i = 0; i < in->decisions.n; i++)
		md_log(MD_LOG_INFO, "undone change will be decided again", "change",
		       in->decisions.v[i], NULL);
	for (size_t i = 0; i < foreign->n; i++)
		md_log(MD_LOG_WARN, "file of an interrupted change holds other content; left to "
		       "its owner", "file", foreign->v[i], NULL);
}

int md_publish__intent_undo(struct md_git *git, const char *state_dir, const char *when,
			    struct md_err *err)
{
	struct md_intent *in = NULL;
	struct md_git_owned *files = NULL;
	struct md_strv foreign = { 0 };
	char *warning = NULL;
	int rc;

	rc = md_state_intent_load(state_dir, &in, &warning, err);
	if (warning)
		md_log(MD_LOG_WARN, warning, NULL);
	free(warning);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	files = calloc(in->nfiles ? in->nfiles : 1, sizeof(*files));
	if (!files) {
		md_state_intent_free(in);
		return md_err_set(err, "out of memory");
	}
	for (size_t i = 0; i < in->nfiles; i++) {
		files[i].path = in->files[i].path;
		files[i].old_id = in->files[i].old_id;
		files[i].new_id = in->files[i].new_id;
	}
	rc = md_git_undo_change(git, files, in->nfiles, &foreign, err);
	if (rc == 0) {
		log_undone(in, &foreign, when);
		/* Done with it: what is left (a person's content) is refused as
		 * any local change is. */
		if (md_state_intent_remove(state_dir, err) < 0)
			rc = -1;
	}
	md_strv_clear(&foreign);
	free(files);
	md_state_intent_free(in);
	return rc;
}

/* Everything of the agent's own in its work tree from an earlier cycle. */
int md_publish_recover_worktree(struct md_git *git, const char *state_dir, struct md_err *err)
{
	struct md_strv removed = { 0 };
	int rc;

	if (md_publish__intent_undo(git, state_dir, "an earlier run", err) < 0)
		return md_err_prefix(err, "cannot undo an interrupted change");
	rc = md_git_clear_leftovers(git, &removed, err);
	log_removed("removed a temporary file left in the work tree by an earlier run", &removed);
	md_strv_clear(&removed);
	return rc;
}
