/* Step 8 (MD_APPLY): which stacks this host applies this cycle and why —
 * every stack whose files changed between the last applied commit and
 * HEAD (whoever changed them), every stack on first start, stacks whose
 * last apply failed — then drift repair for the others. plan only lists
 * what would be applied. */
#include "daemon_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/applier.h"
#include "magos/obs.h"
#include "magos/state.h"

#define STOPPED(stop) ((stop) && *(stop))

int apply_report(struct cycle *c, const char *dir, const char *reason,
		 enum md_stack_outcome outcome, const char *error)
{
	struct md_cycle_report *rep = c->rep;
	struct md_stack_report *v = realloc(rep->stacks, (rep->nstacks + 1) * sizeof(*v));

	if (!v)
		return -1;
	rep->stacks = v;
	v = &rep->stacks[rep->nstacks++];
	v->dir = md_strdup(dir);
	v->reason = md_strdup(reason ? reason : "");
	v->outcome = outcome;
	v->error = error ? md_strdup(error) : NULL;
	return v->dir && v->reason && (!error || v->error) ? 0 : -1;
}

/* ---- stacks ---------------------------------------------------------------- */

/* The stack directory of a compose file path: its directory, "." at the top. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? md_strndup(path, (size_t)(slash - path)) : md_strdup(".");
}

static struct apply_stack *find_stack(struct apply_run *r, const char *dir)
{
	for (size_t i = 0; i < r->nstacks; i++)
		if (!strcmp(r->stacks[i].dir, dir))
			return &r->stacks[i];
	return NULL;
}

/* MD_STACKS limits which stacks this host applies (empty: all). */
static int host_applies(const struct md_settings *s, const char *dir)
{
	if (!s->stacks.n)
		return 1;
	for (size_t i = 0; i < s->stacks.n; i++)
		if (fnmatch(s->stacks.v[i], dir, 0) == 0)
			return 1;
	return 0;
}

/* Compose's own preference when a directory holds more than one file:
 * compose.yaml first; the rest in name order. */
static int file_rank(const char *name)
{
	static const char *const pref[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
					    "docker-compose.yml" };

	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (!strcmp(name, pref[i]))
			return (int)i;
	return 100;
}

static int add_file(struct apply_run *r, const char *path, struct md_err *err)
{
	char *dir = dir_of(path);
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct apply_stack *s, *v;
	int rc = -1;

	if (!dir)
		return md_err_set(err, "out of memory");
	if (!host_applies(r->c->s, dir)) {
		free(dir);
		return 0;
	}
	if ((s = find_stack(r, dir))) {
		/* One compose file per stack: the one compose itself would pick. */
		if (file_rank(name) < file_rank(s->files.v[0])) {
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
	return strcmp(((const struct apply_stack *)a)->dir, ((const struct apply_stack *)b)->dir);
}

static int find_stacks(struct apply_run *r, struct md_err *err)
{
	struct md_strv paths = { 0 };
	int rc = 0;

	if (md_git_list_files(r->c->git, &r->c->s->compose_globs, &paths, err) < 0)
		return -1;
	for (size_t i = 0; i < paths.n && rc == 0; i++)
		rc = add_file(r, paths.v[i], err);
	md_strv_clear(&paths);
	if (r->nstacks > 1)
		qsort(r->stacks, r->nstacks, sizeof(*r->stacks), stack_cmp);
	return rc;
}

/* The index of the stack a path belongs to: the deepest stack directory
 * holding it (the top "." holds everything else); nstacks when none. */
static size_t owner_index(const struct apply_run *r, const char *path)
{
	size_t best = r->nstacks, best_len = 0;

	for (size_t i = 0; i < r->nstacks; i++) {
		const char *d = r->stacks[i].dir;
		size_t n = strlen(d);

		if (!strcmp(d, ".")) {
			if (best == r->nstacks)
				best = i;
			continue;
		}
		if (strncmp(path, d, n) == 0 && path[n] == '/' && n >= best_len) {
			best = i;
			best_len = n;
		}
	}
	return best;
}

const struct apply_stack *apply_owner(const struct apply_run *r, const char *path)
{
	size_t i = owner_index(r, path);

	return i < r->nstacks ? &r->stacks[i] : NULL;
}

/* ---- what to apply ---------------------------------------------------------- */

static int mark(struct apply_stack *s, const char *reason)
{
	if (s->reason)
		return 0;
	return (s->reason = md_strdup(reason)) ? 0 : -1;
}

static int mark_all(struct apply_run *r, const char *reason, struct md_err *err)
{
	for (size_t i = 0; i < r->nstacks; i++)
		if (mark(&r->stacks[i], reason) < 0)
			return md_err_set(err, "out of memory");
	return 0;
}

static int mark_changed(struct apply_run *r, const char *applied, struct md_err *err)
{
	struct md_strv paths = { 0 };
	char reason[64];
	int rc = 0;

	snprintf(reason, sizeof(reason), "changed in %.7s..%.7s", applied, r->head);
	if (md_git_changed_paths(r->c->git, applied, r->head, &paths, err) < 0)
		return -1;
	for (size_t i = 0; i < paths.n && rc == 0; i++) {
		size_t k = owner_index(r, paths.v[i]);

		if (k < r->nstacks && mark(&r->stacks[k], reason) < 0)
			rc = md_err_set(err, "out of memory");
	}
	md_strv_clear(&paths);
	return rc;
}

static int select_stacks(struct apply_run *r, struct md_err *err)
{
	const char *applied = md_state_applied_commit(r->c->st);
	char reason[128];
	int anc;

	if (!applied)
		return mark_all(r, "first start", err);
	if ((anc = md_git_is_ancestor(r->c->git, applied, r->head, err)) < 0)
		return -1;
	if (!anc) {
		snprintf(reason, sizeof(reason), "first start: the applied commit %.7s is not an "
			 "ancestor of HEAD", applied);
		return mark_all(r, reason, err);
	}
	if (strcmp(applied, r->head) && mark_changed(r, applied, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nstacks; i++)
		if (md_state_stack_status(r->c->st, r->stacks[i].dir) == MD_STACK_STATUS_FAILED &&
		    mark(&r->stacks[i], "retry: the last apply failed") < 0)
			return md_err_set(err, "out of memory");
	return 0;
}

/* ---- stacks gone from the repository --------------------------------------- */

#define PRUNE_REASON "removed from the repository: prune"

/* Stacks the state knows (this host applied them) that HEAD no longer
 * declares: the directory lost its compose file or left MD_STACKS. */
static int gone_stacks(struct apply_run *r, struct md_strv *gone, struct md_err *err)
{
	struct md_strv known = { 0 };
	int rc = 0;

	if (md_state_stack_list(r->c->st, &known) < 0)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < known.n && rc == 0; i++)
		if (!find_stack(r, known.v[i]) && md_strv_push(gone, known.v[i]) < 0)
			rc = md_err_set(err, "out of memory");
	md_strv_clear(&known);
	return rc;
}

/* The compose project of a stack directory, whether or not it still exists. */
static char *project_of(struct apply_run *r, const char *dir)
{
	char *abs = strcmp(dir, ".") ? md_asprintf("%s/%s", md_git_workdir(r->c->git), dir)
				     : md_strdup(md_git_workdir(r->c->git));
	char *project = abs ? md_applier_project_name(abs) : NULL;

	free(abs);
	return project;
}

/* MD_COMPOSE_GLOBS on a path of an old commit (the work tree no longer has
 * it): without FNM_PATHNAME "*" crosses "/", and a leading "**" + "/" also
 * matches at the top, as md_git_list_files does. */
static int compose_path(const struct md_settings *s, const char *path)
{
	for (size_t i = 0; i < s->compose_globs.n; i++) {
		const char *g = s->compose_globs.v[i];

		if (fnmatch(g, path, 0) == 0 ||
		    (!strncmp(g, "**/", 3) && fnmatch(g + 3, path, 0) == 0))
			return 1;
	}
	return 0;
}

/* The compose file (relative path) of dir at commit — the one compose would
 * pick, as add_file does; *out NULL when the commit has none there. */
static int old_compose_file(struct apply_run *r, const char *dir, const char *commit,
			    char **out, struct md_err *err)
{
	struct md_strv paths = { 0 };
	const char *best = NULL;

	*out = NULL;
	if (md_git_changed_paths(r->c->git, NULL, commit, &paths, err) < 0)
		return -1;
	for (size_t i = 0; i < paths.n; i++) {
		char *d = dir_of(paths.v[i]);
		const char *name = strrchr(paths.v[i], '/') ? strrchr(paths.v[i], '/') + 1
							    : paths.v[i];
		int mine = d && !strcmp(d, dir) && compose_path(r->c->s, paths.v[i]);

		free(d);
		if (mine && (!best || file_rank(name) < file_rank(strrchr(best, '/') ?
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

/* A fresh 0700 directory under MD_RUNTIME_DIR for the old compose file. */
static char *private_dir(struct apply_run *r, struct md_err *err)
{
	const char *base = r->c->s->runtime_dir;
	char *dir;

	if (md_mkdir_p(base, 0700, err) < 0) {
		md_err_prefix(err, "MD_RUNTIME_DIR");
		return NULL;
	}
	if (!(dir = md_asprintf("%s/prune-XXXXXX", base))) {
		md_err_set(err, "out of memory");
		return NULL;
	}
	if (!mkdtemp(dir)) {
		md_err_set(err, "cannot create a private directory in %s: %s", base,
			   strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
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
static int down_at(struct apply_run *r, const char *dir, const char *project,
		   const char *commit, const char *rel, struct md_err *err)
{
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char *tmp = NULL, *file = NULL, *data = NULL, *output = NULL;
	const char *files[1];
	struct md_stack_spec spec;
	size_t len = 0;
	int at, rc = -1;

	at = md_git_file_at(r->c->git, commit, rel, MD_COMPOSE_MAX_FILE, &data, &len, err);
	if (at == 1)
		md_err_set(err, "%s did not exist in commit %.7s", rel, commit);
	if (at != 0)
		goto out;
	if (!(tmp = private_dir(r, err)))
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
	cycle_progress(r->c);
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
static int project_owner(struct apply_run *r, const char *project, const char **owner)
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
static int prune_one(struct apply_run *r, const char *dir, const char *project,
		     struct md_err *err)
{
	const char *good = md_state_stack_good(r->c->st, dir);
	const char *owner;
	char commit[65] = "";
	char *rel = NULL;
	struct md_err perr;
	int rc = 0;

	if (!good)
		good = md_state_applied_commit(r->c->st);
	if (good)
		snprintf(commit, sizeof(commit), "%s", good);
	if ((rc = project_owner(r, project, &owner)) < 0)
		return md_err_set(err, "out of memory");
	if (rc == 1) {
		md_log(MD_LOG_WARN, "stack removed from the repository; its compose project is now "
		       "another stack's, not pruned", "stack", dir, "project", project, "now", owner,
		       NULL);
		md_state_stack_forget(r->c->st, dir);
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
		md_state_stack_forget(r->c->st, dir);
		return 0;
	}
	if (down_at(r, dir, project, commit, rel, &perr) < 0)
		goto failed;
	md_log(MD_LOG_INFO, "stack pruned", "stack", dir, "project", project, "commit", commit,
	       NULL);
	if (apply_report(r->c, dir, "removed from the repository: pruned", MD_STACK_APPLIED,
			 NULL) < 0)
		rc = md_err_set(err, "out of memory");
	else
		md_state_stack_forget(r->c->st, dir);
	free(rel);
	return rc;
failed:
	md_log(MD_LOG_ERROR, "cannot prune the stack removed from the repository; retrying next "
	       "cycle", "stack", dir, "project", project, "error", perr.msg, NULL);
	free(rel);
	if (apply_report(r->c, dir, PRUNE_REASON, MD_STACK_FAILED, perr.msg) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

/* Stacks gone from HEAD leave the state. Without MD_PRUNE what they started
 * keeps running — removing a service is destructive, so the user opts in —
 * and the warning comes once: the cycle they disappear. */
static int handle_gone(struct apply_run *r, volatile sig_atomic_t *stop, struct md_err *err)
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
		if (r->c->s->prune) {
			rc = prune_one(r, gone.v[i], project, err);
		} else {
			md_log(MD_LOG_WARN, "stack removed from the repository; its containers keep "
			       "running (set MD_PRUNE=true to remove them)", "stack", gone.v[i],
			       "project", project, NULL);
			md_state_stack_forget(r->c->st, gone.v[i]);
		}
		free(project);
	}
	md_strv_clear(&gone);
	return rc;
}

/* plan: with MD_PRUNE, what `once` would bring down. */
static int plan_gone(struct apply_run *r, struct md_err *err)
{
	struct md_strv gone = { 0 };
	int rc = 0;

	if (!r->c->s->prune)
		return 0;
	if (gone_stacks(r, &gone, err) < 0)
		return -1;
	for (size_t i = 0; i < gone.n && rc == 0; i++)
		if (apply_report(r->c, gone.v[i], PRUNE_REASON, MD_STACK_PLANNED, NULL) < 0)
			rc = md_err_set(err, "out of memory");
	md_strv_clear(&gone);
	return rc;
}

/* ---- drift ---------------------------------------------------------------- */

static int check_drift(struct apply_run *r, const struct apply_stack *s, struct md_err *err)
{
	char *abs = md_asprintf("%s/%s", md_git_workdir(r->c->git), s->dir);
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
	cycle_progress(r->c);
	if (!drift)
		goto out;
	if (!(reason = md_asprintf("drift: %s", drift))) {
		rc = md_err_set(err, "out of memory");
		goto out;
	}
	md_log(MD_LOG_WARN, "drift found; re-applying the stack", "stack", s->dir, "drift", drift,
	       NULL);
	rc = apply_stack(r, s, reason, 1, err);
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
static int mark_planned_changes(struct apply_run *r, struct md_err *err)
{
	const struct md_cycle_report *rep = r->c->rep;

	for (size_t i = 0; i < rep->nchanges; i++) {
		size_t k = owner_index(r, rep->changes[i].file);
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

static int plan_stacks(struct apply_run *r, struct md_err *err)
{
	if (mark_planned_changes(r, err) < 0 || plan_gone(r, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nstacks; i++)
		if (r->stacks[i].reason &&
		    apply_report(r->c, r->stacks[i].dir, r->stacks[i].reason, MD_STACK_PLANNED,
				 NULL) < 0)
			return md_err_set(err, "out of memory");
	return 0;
}

static int apply_all(struct apply_run *r, volatile sig_atomic_t *stop, struct md_err *err)
{
	int stopped = 0;

	for (size_t i = 0; i < r->nstacks && !stopped; i++) {
		if ((stopped = STOPPED(stop)))
			break;
		if (r->stacks[i].reason &&
		    apply_stack(r, &r->stacks[i], r->stacks[i].reason, 0, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->nstacks && !stopped; i++) {
		const struct apply_stack *s = &r->stacks[i];

		if ((stopped = STOPPED(stop)))
			break;
		if (!s->reason && md_state_stack_status(r->c->st, s->dir) == MD_STACK_STATUS_OK &&
		    check_drift(r, s, err) < 0)
			return -1;
	}
	/* A stop half-way leaves the applied commit where it was: the stacks
	 * not reached are applied by the next cycle. */
	if (!stopped && md_state_set_applied_commit(r->c->st, r->applied_to) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

static void free_stacks(struct apply_run *r)
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

int cycle_apply(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	struct apply_run r = { .c = c };
	int rc = -1;

	if (!c->git || !c->st)
		return md_err_set(err, "MD_APPLY needs the repository and the state");
	if (md_git_head(c->git, r.head, err) < 0)
		return -1;
	if (!r.head[0])
		return 0; /* an empty repository declares nothing */
	memcpy(r.applied_to, r.head, sizeof(r.head));
	if (find_stacks(&r, err) < 0 || select_stacks(&r, err) < 0)
		goto out;
	if (c->mode == MD_CYCLE_PLAN) {
		rc = plan_stacks(&r, err);
		goto out;
	}
	if (apply_run_init(&r, err) < 0)
		goto out;
	/* Gone stacks first: a stack moved to another directory may need the
	 * ports its old self holds. */
	if (handle_gone(&r, stop, err) < 0)
		goto out;
	rc = apply_all(&r, stop, err);
out:
	apply_run_clear(&r);
	free_stacks(&r);
	return rc;
}
