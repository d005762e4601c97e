/* Step 7 (MD_APPLY): which stacks this host applies this cycle and why —
 * every stack whose files changed between the last applied commit and
 * HEAD (whoever changed them), every stack on first start, stacks whose
 * last apply failed — then drift repair for the others. plan only lists
 * what would be applied. */
#include "rollout_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/applier.h"
#include "magos/obs.h"
#include "magos/state.h"

#define STOPPED(stop) ((stop) && *(stop))

/* ---- stacks ---------------------------------------------------------------- */

/* The stack directory of a compose file path: its directory, "." at the top. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? md_strndup(path, (size_t)(slash - path)) : md_strdup(".");
}

static struct md_rollout__stack *find_stack(struct md_rollout__run *r, const char *dir)
{
	for (size_t i = 0; i < r->nstacks; i++)
		if (!strcmp(r->stacks[i].dir, dir))
			return &r->stacks[i];
	return NULL;
}

/* MD_STACKS limits which stacks this host applies (empty: all). */
int md_rollout__host_applies(const struct md_strv *stacks, const char *dir)
{
	if (!stacks->n)
		return 1;
	for (size_t i = 0; i < stacks->n; i++)
		if (fnmatch(stacks->v[i], dir, 0) == 0)
			return 1;
	return 0;
}

static int add_file(struct md_rollout__run *r, const char *path, struct md_err *err)
{
	char *dir = dir_of(path);
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct md_rollout__stack *s, *v;
	int rc = -1;

	if (!dir)
		return md_err_set(err, "out of memory");
	if (!md_rollout__host_applies(&r->x->s->stacks, dir)) {
		free(dir);
		return 0;
	}
	if ((s = find_stack(r, dir))) {
		/* One compose file per stack: the one compose itself would pick. */
		if (md_rollout__file_rank(name) < md_rollout__file_rank(s->files.v[0])) {
			free(s->files.v[0]);
			if (!(s->files.v[0] = md_strdup(name)))
				goto oom;
		}
		free(dir);
		return 0;
	}
	if (!(v = realloc(r->stacks, (r->nstacks + 1) * sizeof(*v))))
		goto oom;
	r->stacks = v;
	s = &r->stacks[r->nstacks++];
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	dir = NULL;
	if (md_strv_push(&s->files, name) < 0)
		goto oom;
	return 0;
oom:
	free(dir);
	md_err_set(err, "out of memory");
	return rc;
}

static int stack_cmp(const void *a, const void *b)
{
	return strcmp(((const struct md_rollout__stack *)a)->dir, ((const struct md_rollout__stack *)b)->dir);
}

static int find_stacks(struct md_rollout__run *r, struct md_err *err)
{
	struct md_strv paths = { 0 };
	int rc = 0;

	if (md_git_list_files(r->x->git, &r->x->s->compose_globs, &paths, err) < 0)
		return -1;
	for (size_t i = 0; i < paths.n && rc == 0; i++)
		rc = add_file(r, paths.v[i], err);
	md_strv_clear(&paths);
	if (r->nstacks > 1)
		qsort(r->stacks, r->nstacks, sizeof(*r->stacks), stack_cmp);
	return rc;
}

/* ---- what to apply ---------------------------------------------------------- */

static int mark(struct md_rollout__stack *s, const char *reason)
{
	if (s->reason)
		return 0;
	return (s->reason = md_strdup(reason)) ? 0 : -1;
}

static int mark_reason(char **reasons, size_t k, const char *reason)
{
	if (reasons[k])
		return 0;
	return (reasons[k] = md_strdup(reason)) ? 0 : -1;
}

int md_rollout__choose(const char *const *dirs, size_t n, const struct md_rollout__history *h,
		       char **reasons)
{
	char reason[128];

	if (!h->applied || !h->ancestor) {
		if (!h->applied)
			snprintf(reason, sizeof(reason), "first start");
		else
			snprintf(reason, sizeof(reason), "first start: the applied commit %.7s is "
				 "not an ancestor of HEAD", h->applied);
		for (size_t i = 0; i < n; i++)
			if (mark_reason(reasons, i, reason) < 0)
				return -1;
		return 0;
	}
	if (strcmp(h->applied, h->head) && h->changed) {
		snprintf(reason, sizeof(reason), "changed in %.7s..%.7s", h->applied, h->head);
		for (size_t i = 0; i < h->changed->n; i++) {
			size_t k = md_rollout__owner_index(dirs, n, h->changed->v[i]);

			if (k < n && mark_reason(reasons, k, reason) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (h->failed && h->failed[i] &&
		    mark_reason(reasons, i, "retry: the last apply failed") < 0)
			return -1;
	return 0;
}

/* Gather what the choice needs from Git and the state, then choose. */
static int select_stacks(struct md_rollout__run *r, struct md_err *err)
{
	struct md_rollout__history h = { .applied = md_state_applied_commit(r->x->st),
					 .head = r->head };
	struct md_strv changed = { 0 };
	const char **dirs = md_rollout__dirs(r);
	char **reasons = calloc(r->nstacks ? r->nstacks : 1, sizeof(*reasons));
	int *failed = calloc(r->nstacks ? r->nstacks : 1, sizeof(*failed));
	int rc = -1;

	if (!dirs || !reasons || !failed) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (h.applied && (h.ancestor = md_git_is_ancestor(r->x->git, h.applied, r->head, err)) < 0)
		goto out;
	if (h.applied && h.ancestor && strcmp(h.applied, r->head) &&
	    md_git_changed_paths(r->x->git, h.applied, r->head, &changed, err) < 0)
		goto out;
	h.changed = &changed;
	for (size_t i = 0; i < r->nstacks; i++)
		failed[i] = md_state_stack_status(r->x->st, r->stacks[i].dir) ==
			    MD_STACK_STATUS_FAILED;
	h.failed = failed;
	if (md_rollout__choose(dirs, r->nstacks, &h, reasons) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->nstacks; i++) {
		r->stacks[i].reason = reasons[i];
		reasons[i] = NULL;
	}
	rc = 0;
out:
	for (size_t i = 0; reasons && i < r->nstacks; i++)
		free(reasons[i]);
	free(reasons);
	free(failed);
	free(dirs);
	md_strv_clear(&changed);
	return rc;
}

/* ---- stacks gone from the repository --------------------------------------- */

#define PRUNE_REASON "removed from the repository: prune"

/* Stacks the state knows (this host applied them) that HEAD no longer
 * declares: the directory lost its compose file or left MD_STACKS. */
static int gone_stacks(struct md_rollout__run *r, struct md_strv *gone, struct md_err *err)
{
	struct md_strv known = { 0 };
	int rc = 0;

	if (md_state_stack_list(r->x->st, &known) < 0)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < known.n && rc == 0; i++)
		if (!find_stack(r, known.v[i]) && md_strv_push(gone, known.v[i]) < 0)
			rc = md_err_set(err, "out of memory");
	md_strv_clear(&known);
	return rc;
}

/* The compose project of a stack directory, whether or not it still exists. */
static char *project_of(struct md_rollout__run *r, const char *dir)
{
	char *abs = strcmp(dir, ".") ? md_asprintf("%s/%s", md_git_workdir(r->x->git), dir)
				     : md_strdup(md_git_workdir(r->x->git));
	char *project = abs ? md_applier_project_name(abs) : NULL;

	free(abs);
	return project;
}

/* The compose file (relative path) of dir at commit — the one compose would
 * pick, as add_file does; *out NULL when the commit has none there. */
static int old_compose_file(struct md_rollout__run *r, const char *dir, const char *commit,
			    char **out, struct md_err *err)
{
	struct md_strv paths = { 0 };
	const char *best = NULL;

	*out = NULL;
	if (md_git_changed_paths(r->x->git, NULL, commit, &paths, err) < 0)
		return -1;
	for (size_t i = 0; i < paths.n; i++) {
		char *d = dir_of(paths.v[i]);
		const char *name = strrchr(paths.v[i], '/') ? strrchr(paths.v[i], '/') + 1
							    : paths.v[i];
		int mine = d && !strcmp(d, dir) && md_git_glob_any(&r->x->s->compose_globs, paths.v[i]);

		free(d);
		if (mine && (!best || md_rollout__file_rank(name) < md_rollout__file_rank(strrchr(best, '/') ?
								   strrchr(best, '/') + 1 : best)))
			best = paths.v[i];
	}
	if (best && !(*out = md_strdup(best))) {
		md_strv_clear(&paths);
		return md_err_set(err, "out of memory");
	}
	md_strv_clear(&paths);
	return 0;
}

static void remove_private(const char *dir, const char *file)
{
	if (file && unlink(file) < 0 && errno != ENOENT)
		md_log(MD_LOG_ERROR, "cannot remove a temporary compose file", "file", file,
		       "error", strerror(errno), NULL);
	if (dir && rmdir(dir) < 0 && errno != ENOENT)
		md_log(MD_LOG_ERROR, "cannot remove a temporary directory", "dir", dir, "error",
		       strerror(errno), NULL);
}

/* Write rel's content at commit into a private dir and run `down` on it
 * (the stack directory is gone, and the file only names the containers). */
static int down_at(struct md_rollout__run *r, const char *dir, const char *project,
		   const char *commit, const char *rel, struct md_err *err)
{
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char *tmp = NULL, *file = NULL, *data = NULL, *output = NULL;
	const char *files[1];
	struct md_stack_spec spec;
	size_t len = 0;
	int at, rc = -1;

	at = md_git_file_at(r->x->git, commit, rel, MD_COMPOSE_MAX_FILE, &data, &len, err);
	if (at == 1)
		md_err_set(err, "%s did not exist in commit %.7s", rel, commit);
	if (at != 0)
		goto out;
	if (!(tmp = md_rollout__private_dir(r->x->s->runtime_dir, "prune-", err)))
		goto out;
	if (!(file = md_asprintf("%s/%s", tmp, name))) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (md_file_write_atomic(file, data, len, 0600, err) < 0)
		goto out;
	files[0] = file;
	memset(&spec, 0, sizeof(spec));
	spec.dir = tmp;
	spec.files = files;
	spec.nfiles = 1;
	spec.project = project;
	rc = md_applier_down(r->a, &spec, &output, err);
	md_rollout__progress(r);
	if (output && *output)
		md_log(MD_LOG_DEBUG, "compose output", "stack", dir, "output", output, NULL);
out:
	if (tmp)
		remove_private(tmp, file);
	free(output);
	free(data);
	free(file);
	free(tmp);
	return rc;
}

/* A stack of HEAD with the same project name (the directory moved): `down`
 * would stop what it runs now. 1 with *owner set, 0 when none, -1 on OOM. */
static int project_owner(struct md_rollout__run *r, const char *project, const char **owner)
{
	*owner = NULL;
	for (size_t i = 0; i < r->nstacks; i++) {
		char *p = project_of(r, r->stacks[i].dir);
		int same;

		if (!p)
			return -1;
		same = !strcmp(p, project);
		free(p);
		if (same) {
			*owner = r->stacks[i].dir;
			return 1;
		}
	}
	return 0;
}

/* MD_PRUNE: `down` the stack's last version; forgotten once it is down, kept
 * (retried next cycle) when that fails. */
static int prune_one(struct md_rollout__run *r, const char *dir, const char *project,
		     struct md_err *err)
{
	const char *good = md_state_stack_good(r->x->st, dir);
	const char *owner;
	char commit[65] = "";
	char *rel = NULL;
	struct md_err perr;
	int rc = 0;

	if (!good)
		good = md_state_applied_commit(r->x->st);
	if (good)
		snprintf(commit, sizeof(commit), "%s", good);
	if ((rc = project_owner(r, project, &owner)) < 0)
		return md_err_set(err, "out of memory");
	if (rc == 1) {
		md_log(MD_LOG_WARN, "stack removed from the repository; its compose project is now "
		       "another stack's, not pruned", "stack", dir, "project", project, "now", owner,
		       NULL);
		md_state_stack_forget(r->x->st, dir);
		return 0;
	}
	rc = 0;
	if (commit[0] && old_compose_file(r, dir, commit, &rel, &perr) < 0)
		goto failed;
	if (!rel) {
		md_log(MD_LOG_WARN, "stack removed from the repository, but its last applied "
		       "version has no compose file to prune with; its containers keep running",
		       "stack", dir, "project", project, "commit", commit[0] ? commit : "(none)",
		       NULL);
		md_state_stack_forget(r->x->st, dir);
		return 0;
	}
	if (down_at(r, dir, project, commit, rel, &perr) < 0)
		goto failed;
	md_log(MD_LOG_INFO, "stack pruned", "stack", dir, "project", project, "commit", commit,
	       NULL);
	if (md_rollout__report(r, dir, "removed from the repository: pruned", MD_STACK_APPLIED,
			 NULL) < 0)
		rc = md_err_set(err, "out of memory");
	else
		md_state_stack_forget(r->x->st, dir);
	free(rel);
	return rc;
failed:
	md_log(MD_LOG_ERROR, "cannot prune the stack removed from the repository; retrying next "
	       "cycle", "stack", dir, "project", project, "error", perr.msg, NULL);
	free(rel);
	if (md_rollout__report(r, dir, PRUNE_REASON, MD_STACK_FAILED, perr.msg) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

/* Stacks gone from HEAD leave the state. Without MD_PRUNE what they started
 * keeps running — removing a service is destructive, so the user opts in —
 * and the warning comes once: the cycle they disappear. */
static int handle_gone(struct md_rollout__run *r, volatile sig_atomic_t *stop, struct md_err *err)
{
	struct md_strv gone = { 0 };
	int rc = 0;

	if (gone_stacks(r, &gone, err) < 0)
		return -1;
	for (size_t i = 0; i < gone.n && rc == 0 && !STOPPED(stop); i++) {
		char *project = project_of(r, gone.v[i]);

		if (!project) {
			rc = md_err_set(err, "out of memory");
			break;
		}
		if (r->x->s->prune) {
			rc = prune_one(r, gone.v[i], project, err);
		} else {
			md_log(MD_LOG_WARN, "stack removed from the repository; its containers keep "
			       "running (set MD_PRUNE=true to remove them)", "stack", gone.v[i],
			       "project", project, NULL);
			md_state_stack_forget(r->x->st, gone.v[i]);
		}
		free(project);
	}
	md_strv_clear(&gone);
	return rc;
}

/* plan: with MD_PRUNE, what `once` would bring down. */
static int plan_gone(struct md_rollout__run *r, struct md_err *err)
{
	struct md_strv gone = { 0 };
	int rc = 0;

	if (!r->x->s->prune)
		return 0;
	if (gone_stacks(r, &gone, err) < 0)
		return -1;
	for (size_t i = 0; i < gone.n && rc == 0; i++)
		if (md_rollout__report(r, gone.v[i], PRUNE_REASON, MD_STACK_PLANNED, NULL) < 0)
			rc = md_err_set(err, "out of memory");
	md_strv_clear(&gone);
	return rc;
}

/* ---- drift ---------------------------------------------------------------- */

static int check_drift(struct md_rollout__run *r, const struct md_rollout__stack *s, struct md_err *err)
{
	char *abs = md_asprintf("%s/%s", md_git_workdir(r->x->git), s->dir);
	char *project = abs ? md_applier_project_name(abs) : NULL;
	struct md_stack_spec spec = {
		.dir = abs, .files = (const char *const *)s->files.v, .nfiles = s->files.n,
		.project = project,
	};
	char *drift = NULL, *reason = NULL;
	struct md_err derr;
	int rc = 0;

	if (!abs || !project) {
		rc = md_err_set(err, "out of memory");
		goto out;
	}
	if (md_applier_drift(r->a, &spec, &drift, &derr) < 0) {
		md_log(MD_LOG_WARN, "cannot check the stack for drift", "stack", s->dir, "error",
		       derr.msg, NULL);
		goto out;
	}
	md_rollout__progress(r);
	if (!drift)
		goto out;
	if (!(reason = md_asprintf("drift: %s", drift))) {
		rc = md_err_set(err, "out of memory");
		goto out;
	}
	md_log(MD_LOG_WARN, "drift found; re-applying the stack", "stack", s->dir, "drift", drift,
	       NULL);
	rc = md_rollout__apply(r, s, reason, 1, err);
out:
	free(reason);
	free(drift);
	free(project);
	free(abs);
	return rc;
}

/* ---- the step ------------------------------------------------------------ */

/* plan: a stack whose compose file this plan would patch is applied once
 * the change is committed. */
static int mark_planned_changes(struct md_rollout__run *r, struct md_err *err)
{
	const struct md_cycle_report *rep = r->x->rep;

	for (size_t i = 0; i < rep->nchanges; i++) {
		size_t k = md_rollout__stack_index(r, rep->changes[i].file);
		char *reason;
		int rc;

		if (k >= r->nstacks || r->stacks[k].reason)
			continue;
		reason = md_asprintf("image update: %s %s -> %s", rep->changes[i].image,
				     rep->changes[i].from, rep->changes[i].to);
		rc = reason ? mark(&r->stacks[k], reason) : -1;
		free(reason);
		if (rc < 0)
			return md_err_set(err, "out of memory");
	}
	return 0;
}

static int plan_stacks(struct md_rollout__run *r, struct md_err *err)
{
	if (mark_planned_changes(r, err) < 0 || plan_gone(r, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nstacks; i++)
		if (r->stacks[i].reason &&
		    md_rollout__report(r, r->stacks[i].dir, r->stacks[i].reason, MD_STACK_PLANNED,
				 NULL) < 0)
			return md_err_set(err, "out of memory");
	return 0;
}

static int apply_all(struct md_rollout__run *r, volatile sig_atomic_t *stop, struct md_err *err)
{
	int stopped = 0;

	for (size_t i = 0; i < r->nstacks && !stopped; i++) {
		if ((stopped = STOPPED(stop)))
			break;
		if (r->stacks[i].reason &&
		    md_rollout__apply(r, &r->stacks[i], r->stacks[i].reason, 0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->nstacks && !stopped; i++) {
		const struct md_rollout__stack *s = &r->stacks[i];

		if ((stopped = STOPPED(stop)))
			break;
		if (!s->reason && md_state_stack_status(r->x->st, s->dir) == MD_STACK_STATUS_OK &&
		    check_drift(r, s, err) < 0)
			return -1;
	}
	/* A stop half-way leaves the applied commit where it was: the stacks
	 * not reached are applied by the next cycle. */
	if (!stopped && md_state_set_applied_commit(r->x->st, r->applied_to) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

static void free_stacks(struct md_rollout__run *r)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		free(r->stacks[i].dir);
		free(r->stacks[i].reason);
		md_strv_clear(&r->stacks[i].files);
	}
	free(r->stacks);
	r->stacks = NULL;
	r->nstacks = 0;
}

int md_rollout_run(const struct md_rollout_ctx *x, struct md_err *err)
{
	struct md_rollout__run r = { .x = x };
	volatile sig_atomic_t *stop = x->stop;
	int rc = -1;

	if (!x->git || !x->st)
		return md_err_set(err, "MD_APPLY needs the repository and the state");
	if (md_git_head(x->git, r.head, err) < 0)
		return -1;
	if (!r.head[0])
		return 0; /* an empty repository declares nothing */
	memcpy(r.applied_to, r.head, sizeof(r.head));
	if (find_stacks(&r, err) < 0 || select_stacks(&r, err) < 0)
		goto out;
	if (x->plan) {
		rc = plan_stacks(&r, err);
		goto out;
	}
	if (md_rollout__run_init(&r, err) < 0)
		goto out;
	/* Gone stacks first: a stack moved to another directory may need the
	 * ports its old self holds. */
	if (handle_gone(&r, stop, err) < 0)
		goto out;
	rc = apply_all(&r, stop, err);
out:
	md_rollout__run_clear(&r);
	free_stacks(&r);
	return rc;
}
