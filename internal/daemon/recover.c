/* Crash safety: what a process killed half-way leaves behind, cleared
 * under the instance lock — on start (md_daemon_recover: an unfinished
 * clone, stale git lock files, decrypted secrets, temp files of the state)
 * and at the start of every cycle (the intent record of an interrupted
 * change, rollback copies and temp files in the work tree). A change of
 * the agent's own is undone rather than finished: its decisions are made
 * again from the registry anyway. */
#include "daemon_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/obs.h"
#include "magos/state.h"

#define MD_INTENT_FILE_MAX (64u << 20) /* a file of a reverted stack */

static void log_removed(const char *msg, const struct md_strv *removed)
{
	for (size_t i = 0; i < removed->n; i++)
		md_log(MD_LOG_WARN, msg, "path", removed->v[i], NULL);
}

/* state.json / intent.json temp files of a write cut short. */
static int clear_state_tmp(const char *dir, struct md_strv *removed, struct md_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot read MD_STATE_DIR %s: %s", dir,
							  strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if ((!md_str_has_prefix(de->d_name, "state.json" MD_FILE_TMP_INFIX) &&
		     !md_str_has_prefix(de->d_name, "intent.json" MD_FILE_TMP_INFIX)) ||
		    !md_file_is_atomic_tmp(de->d_name))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			rc = md_err_set(err, "cannot remove %s/%s: %s", dir, de->d_name,
					strerror(errno));
		else if (md_strv_push(removed, de->d_name) < 0)
			rc = md_err_set(err, "out of memory");
	}
	closedir(d);
	return rc;
}

int md_daemon_recover(const struct md_config *cfg, struct md_err *err)
{
	const struct md_settings *s = md_config_settings(cfg);
	struct md_strv clones = { 0 }, locks = { 0 }, secrets = { 0 }, tmp = { 0 };
	int rc = -1;

	if (md_git_clear_clone_leftovers(s->repo, &clones, err) < 0 ||
	    md_git_clear_stale_locks(s->repo, &locks, err) < 0 ||
	    apply_secrets_clear_stale(s->runtime_dir, &secrets, err) < 0 ||
	    clear_state_tmp(s->state_dir, &tmp, err) < 0)
		goto out;
	rc = 0;
out:
	log_removed("removed an unfinished clone left by an earlier run", &clones);
	log_removed("removed a stale git lock file left by an earlier run", &locks);
	log_removed("removed decrypted secrets left by an earlier run", &secrets);
	log_removed("removed a temporary state file left by an earlier run", &tmp);
	md_strv_clear(&clones);
	md_strv_clear(&locks);
	md_strv_clear(&secrets);
	md_strv_clear(&tmp);
	return rc;
}

/* ---- the intent record ------------------------------------------------------- */

static int add_decisions(const struct cycle *c, struct md_intent *in)
{
	for (size_t i = 0; i < c->rep->nchanges; i++) {
		const struct md_change *ch = &c->rep->changes[i];
		char *line = md_asprintf("%s: %s -> %s (%s:%d)", ch->image, ch->from, ch->to,
					 ch->file, ch->line);
		int rc = line ? md_strv_push(&in->decisions, line) : -1;

		free(line);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cycle_intent_begin(struct cycle *c, struct md_err *err)
{
	struct md_intent in;
	int rc = -1;

	memset(&in, 0, sizeof(in));
	in.files = calloc(c->nfiles ? c->nfiles : 1, sizeof(*in.files));
	if (!in.files)
		return md_err_set(err, "out of memory");
	if (md_git_head(c->git, in.head, err) < 0)
		goto out;
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct cycle_file *f = &c->files[i];
		struct md_intent_file *d = &in.files[in.nfiles];

		if (!f->patched)
			continue;
		d->path = f->path; /* borrowed */
		if (md_git_blob_id(f->data, f->len, d->old_id, err) < 0 ||
		    md_git_blob_id(f->patched, f->patched_len, d->new_id, err) < 0)
			goto out;
		in.nfiles++;
	}
	if (add_decisions(c, &in) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = md_state_intent_save(c->s->state_dir, &in, err);
out:
	free(in.files);
	md_strv_clear(&in.decisions);
	return rc;
}

/* The blob id of path at commit into out ("" when it has none there). */
static int id_at(struct cycle *c, const char *commit, const char *path, char out[41],
		 struct md_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = md_git_file_at(c->git, commit, path, MD_INTENT_FILE_MAX, &data, &len, err);

	out[0] = '\0';
	if (rc == 0)
		rc = md_git_blob_id(data, len, out, err);
	free(data);
	return rc < 0 ? -1 : 0;
}

int cycle_intent_begin_revert(struct cycle *c, const char *good, const struct md_strv *paths,
			      struct md_err *err)
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
	if (md_git_head(c->git, in.head, err) < 0)
		goto out;
	for (size_t i = 0; i < paths->n; i++) {
		struct md_intent_file *d = &in.files[in.nfiles++];

		d->path = paths->v[i]; /* borrowed */
		if (id_at(c, in.head, d->path, d->old_id, err) < 0 ||
		    id_at(c, good, d->path, d->new_id, err) < 0)
			goto out;
	}
	rc = md_state_intent_save(c->s->state_dir, &in, err);
out:
	free(what);
	free(in.files);
	md_strv_clear(&in.decisions);
	return rc;
}

void cycle_intent_done(struct cycle *c)
{
	struct md_err err;

	if (md_state_intent_remove(c->s->state_dir, &err) < 0)
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

int cycle_intent_undo(struct cycle *c, const char *when, struct md_err *err)
{
	struct md_intent *in = NULL;
	struct md_git_owned *files = NULL;
	struct md_strv foreign = { 0 };
	char *warning = NULL;
	int rc;

	rc = md_state_intent_load(c->s->state_dir, &in, &warning, err);
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
	rc = md_git_undo_change(c->git, files, in->nfiles, &foreign, err);
	if (rc == 0) {
		log_undone(in, &foreign, when);
		/* Done with it: what is left (a person's content) is refused as
		 * any local change is. */
		if (md_state_intent_remove(c->s->state_dir, err) < 0)
			rc = -1;
	}
	md_strv_clear(&foreign);
	free(files);
	md_state_intent_free(in);
	return rc;
}

/* Everything of the agent's own in its work tree from an earlier cycle. */
int cycle_recover_worktree(struct cycle *c, struct md_err *err)
{
	struct md_strv removed = { 0 };
	int rc;

	if (cycle_intent_undo(c, "an earlier run", err) < 0)
		return md_err_prefix(err, "cannot undo an interrupted change");
	rc = md_git_clear_leftovers(c->git, &removed, err);
	log_removed("removed a temporary file left in the work tree by an earlier run", &removed);
	md_strv_clear(&removed);
	return rc;
}
