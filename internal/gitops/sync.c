/* gitops: refusing local work, fetch + fast-forward, reset after a race. */
#include "gitops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the work tree must be clean --------------------------------------- */

static const char *status_path(const git_status_entry *e)
{
	const git_diff_delta *d = e->head_to_index ? e->head_to_index : e->index_to_workdir;

	if (!d)
		return "?";
	return d->new_file.path ? d->new_file.path : d->old_file.path;
}

/* "a, b, c, d, e and 3 more" into b (bounded by the error size anyway). */
static void list_paths(char *b, size_t blen, const char *const *paths, size_t n)
{
	size_t shown = n < MD_GIT_LIST_MAX ? n : MD_GIT_LIST_MAX;
	size_t len = 0;

	b[0] = '\0';
	for (size_t i = 0; i < shown && len < blen; i++)
		len += (size_t)snprintf(b + len, blen - len, "%s%s", i ? ", " : "", paths[i]);
	if (n > shown && len < blen)
		snprintf(b + len, blen - len, " and %zu more", n - shown);
}

int md_git__require_clean(struct md_git *g, struct md_err *err)
{
	git_status_options so;
	git_status_list *list = NULL;
	const char *paths[MD_GIT_LIST_MAX];
	char names[MD_ERR_MAX];
	size_t n, dirty = 0;

	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	/* Untracked directories are reported as "dir/", like git status. */
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED;
	if (git_status_list_new(&list, g->repo, &so) < 0)
		return md_git__fail(err, "cannot read the status of repository %s", g->workdir);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		if (!e || e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED))
			continue;
		if (dirty < MD_GIT_LIST_MAX)
			paths[dirty] = status_path(e);
		dirty++;
	}
	if (dirty) {
		/* list_paths only reads the first MD_GIT_LIST_MAX entries */
		list_paths(names, sizeof(names), paths, dirty);
		md_err_set(err, "repository %s has uncommitted changes (%s); commit or stash "
			   "them — magos-dominus never overwrites local work", g->workdir, names);
	}
	git_status_list_free(list);
	return dirty ? -1 : 0;
}

/* ---- sync -------------------------------------------------------------- */

/* Check out upstream over HEAD (safe: the tree is clean), then move the
 * branch; a failed checkout leaves the branch where it was. */
static int fast_forward(struct md_git *g, int have_local, const git_oid *upstream,
			struct md_err *err)
{
	git_checkout_options co;
	git_reference *ref = NULL, *moved = NULL;
	git_commit *commit = NULL;
	char sid[8];
	int rc = -1;

	if (git_commit_lookup(&commit, g->repo, upstream) < 0) {
		md_git__fail(err, "cannot read commit %s of origin/%s in %s",
			     md_git__short(upstream, sid), g->branch, g->workdir);
		goto out;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (git_checkout_tree(g->repo, (const git_object *)commit, &co) < 0) {
		md_git__fail(err, "cannot check out origin/%s (%s) in %s", g->branch,
			     md_git__short(upstream, sid), g->workdir);
		goto out;
	}
	if (have_local) {
		if (git_reference_lookup(&ref, g->repo, g->local_ref) < 0 ||
		    git_reference_set_target(&moved, ref, upstream,
					     "magos-dominus: fast-forward") < 0) {
			md_git__fail(err, "cannot fast-forward branch %s in %s", g->branch,
				     g->workdir);
			goto out;
		}
	} else if (git_reference_create(&moved, g->repo, g->local_ref, upstream, 0,
					"magos-dominus: branch from origin") < 0) {
		md_git__fail(err, "cannot create branch %s in %s", g->branch, g->workdir);
		goto out;
	}
	rc = 0;
out:
	git_reference_free(moved);
	git_reference_free(ref);
	git_commit_free(commit);
	return rc;
}

static int remote_tip(struct md_git *g, git_oid *out, struct md_err *err)
{
	char *url = NULL;
	int rc = git_reference_name_to_id(out, g->repo, g->remote_ref);

	if (rc == GIT_ENOTFOUND) {
		if (md_git__origin_url(g->repo, 0, &url, NULL) != 0)
			return md_err_set(err, "repository %s has no %s", g->workdir,
					  g->remote_ref);
		md_err_set(err, "origin (%s) of repository %s has no branch %s; push an initial "
			   "commit to it first", url, g->workdir, g->branch);
		free(url);
		if (err)
			md_git__redact(err->msg);
		return -1;
	}
	if (rc < 0)
		return md_git__fail(err, "cannot read %s in %s", g->remote_ref, g->workdir);
	return 0;
}

/* 1 when every commit reachable from local but not from upstream was made
 * by the agent's identity (author and committer), 0 otherwise. */
static int only_agent_commits(struct md_git *g, const git_oid *local, const git_oid *upstream,
			      struct md_err *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = 1, step;

	if (git_revwalk_new(&walk, g->repo) < 0 || git_revwalk_push(walk, local) < 0 ||
	    git_revwalk_hide(walk, upstream) < 0) {
		git_revwalk_free(walk);
		return md_git__fail(err, "cannot list unpushed commits in %s", g->workdir);
	}
	while (rc == 1 && (step = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		const git_signature *a, *cm;

		if (git_commit_lookup(&c, g->repo, &id) < 0) {
			rc = md_git__fail(err, "cannot read an unpushed commit in %s", g->workdir);
			break;
		}
		a = git_commit_author(c);
		cm = git_commit_committer(c);
		if (strcmp(a->name, g->author_name) || strcmp(a->email, g->author_email) ||
		    strcmp(cm->name, g->author_name) || strcmp(cm->email, g->author_email))
			rc = 0;
		git_commit_free(c);
	}
	git_revwalk_free(walk);
	return rc;
}

int md_git_sync(struct md_git *g, struct md_err *err)
{
	git_oid local, upstream;
	size_t ahead = 0, behind = 0;
	char sl[8], sr[8];
	int rc;

	if (md_git__require_writable(g, "sync", err) < 0 || md_git__require_clean(g, err) < 0)
		return -1;
	if (md_git__fetch(g, err) < 0 || md_git__ensure_branch(g, 0, err) < 0)
		return -1;
	if (remote_tip(g, &upstream, err) < 0)
		return -1;
	rc = git_reference_name_to_id(&local, g->repo, g->local_ref);
	if (rc == GIT_ENOTFOUND) /* unborn: the clone of a then-empty remote */
		return fast_forward(g, 0, &upstream, err);
	if (rc < 0)
		return md_git__fail(err, "cannot read branch %s in %s", g->branch, g->workdir);
	if (git_oid_equal(&local, &upstream))
		return 0;
	if (git_graph_ahead_behind(&ahead, &behind, g->repo, &local, &upstream) < 0)
		return md_git__fail(err, "cannot compare branch %s with origin/%s in %s",
				    g->branch, g->branch, g->workdir);
	if (ahead) {
		/* Unpushed commits left by an interrupted cycle of our own are
		 * reproducible from the registry: drop them. Anyone else's are
		 * never touched. */
		rc = only_agent_commits(g, &local, &upstream, err);
		if (rc < 0)
			return -1;
		if (rc == 0 && behind)
			return md_err_set(err, "local branch %s (%s) and origin/%s (%s) have diverged; "
					  "resolve it by hand — magos-dominus never rewrites history",
					  g->branch, md_git__short(&local, sl), g->branch,
					  md_git__short(&upstream, sr));
		if (rc == 0)
			return md_err_set(err, "local branch %s (%s) has %zu commit(s) not on origin/%s "
					  "that magos-dominus did not make; push or remove them by hand "
					  "— magos-dominus never pushes work it did not make",
					  g->branch, md_git__short(&local, sl), ahead, g->branch);
		return md_git_reset_to_remote(g, err);
	}
	return fast_forward(g, 1, &upstream, err);
}

/* ---- reset after a push race --------------------------------------------- */

int md_git_reset_to_remote(struct md_git *g, struct md_err *err)
{
	git_checkout_options co;
	git_object *target = NULL;
	git_oid upstream;
	char sid[8];
	int rc = 0;

	if (md_git__require_writable(g, "reset", err) < 0 ||
	    md_git__require_on_branch(g, err) < 0 || remote_tip(g, &upstream, err) < 0)
		return -1;
	if (git_object_lookup(&target, g->repo, &upstream, GIT_OBJECT_COMMIT) < 0)
		return md_git__fail(err, "cannot read commit %s of origin/%s in %s",
				    md_git__short(&upstream, sid), g->branch, g->workdir);
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_reset(g->repo, target, GIT_RESET_HARD, &co) < 0)
		rc = md_git__fail(err, "cannot reset branch %s in %s to origin/%s", g->branch,
				  g->workdir, g->branch);
	git_object_free(target);
	return rc;
}
