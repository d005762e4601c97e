/* gitops: what the applier asks of history — changed paths between two
 * commits, ancestry, old file contents, who changed a path set, and a
 * revert of a path set to an older commit's content. */
#include "gitops_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MD_GIT_HISTORY_MAX_PATHS 100000u /* changed paths listed at once */

/* ---- lookups ------------------------------------------------------------ */

static int parse_oid(struct md_git *g, const char *hex, git_oid *out, struct md_err *err)
{
	size_t n = hex ? strlen(hex) : 0;
	git_object *obj = NULL;

	if (n < 4 || n > GIT_OID_HEXSZ || strspn(hex, "0123456789abcdefABCDEF") != n)
		return md_err_set(err, "\"%.80s\" is not a commit id", hex ? hex : "(null)");
	if (n == GIT_OID_HEXSZ)
		return git_oid_fromstr(out, hex) < 0 ? md_git__fail(err, "bad commit id %s", hex) : 0;
	if (git_revparse_single(&obj, g->repo, hex) < 0)
		return md_git__fail(err, "no commit %s in %s", hex, g->workdir);
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

static int lookup_commit(struct md_git *g, const char *hex, git_commit **out, struct md_err *err)
{
	git_oid id;

	*out = NULL;
	if (parse_oid(g, hex, &id, err) < 0)
		return -1;
	if (git_commit_lookup(out, g->repo, &id) < 0)
		return md_git__fail(err, "no commit %s in %s", hex, g->workdir);
	return 0;
}

static int commit_tree(struct md_git *g, const char *hex, git_tree **out, struct md_err *err)
{
	git_commit *c = NULL;
	int rc;

	*out = NULL;
	if (lookup_commit(g, hex, &c, err) < 0)
		return -1;
	rc = git_commit_tree(out, c) < 0 ? md_git__fail(err, "cannot read the tree of commit %s "
							 "in %s", hex, g->workdir) : 0;
	git_commit_free(c);
	return rc;
}

/* Relative, no "." or ".." components, not into .git. */
static int rel_path_ok(const char *p)
{
	const char *s = p;

	if (!p || !*p || *p == '/' || p[strlen(p) - 1] == '/')
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    (n == 4 && strncasecmp(s, ".git", 4) == 0))
			return 0;
		s += n;
		if (*s == '/')
			s++;
	}
	return 1;
}

/* ---- changed paths ----------------------------------------------------- */

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates in place. */
static void strv_sort_unique(struct md_strv *v)
{
	size_t k = 0;

	if (v->n < 2)
		return;
	qsort(v->v, v->n, sizeof(*v->v), strp_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (k && strcmp(v->v[k - 1], v->v[i]) == 0) {
			free(v->v[i]);
			continue;
		}
		v->v[k++] = v->v[i];
	}
	v->n = k;
	v->v[k] = NULL;
}

static int push_delta_paths(const git_diff *diff, struct md_strv *out, struct md_err *err)
{
	size_t nd = git_diff_num_deltas(diff);

	if (nd > MD_GIT_HISTORY_MAX_PATHS)
		return md_err_set(err, "%zu changed paths exceed the limit of %u", nd,
				  MD_GIT_HISTORY_MAX_PATHS);
	for (size_t i = 0; i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if ((d->old_file.path && md_strv_push(out, d->old_file.path) < 0) ||
		    (d->new_file.path && strcmp(d->new_file.path, d->old_file.path ? d->old_file.path : "") &&
		     md_strv_push(out, d->new_file.path) < 0))
			return md_err_set(err, "out of memory");
	}
	return 0;
}

int md_git_changed_paths(struct md_git *g, const char *from, const char *to,
			 struct md_strv *out, struct md_err *err)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options o;
	int rc = -1;

	if ((from && *from && commit_tree(g, from, &a, err) < 0) || commit_tree(g, to, &b, err) < 0)
		goto out;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	if (git_diff_tree_to_tree(&diff, g->repo, a, b, &o) < 0) {
		md_git__fail(err, "cannot compare commits %.12s and %.12s in %s",
			     from && *from ? from : "(none)", to, g->workdir);
		goto out;
	}
	if (push_delta_paths(diff, out, err) < 0)
		goto out;
	strv_sort_unique(out);
	rc = 0;
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}

/* ---- ancestry ------------------------------------------------------------ */

int md_git_is_ancestor(struct md_git *g, const char *ancestor, const char *commit,
		       struct md_err *err)
{
	git_commit *anc = NULL, *c = NULL;
	int rc;

	if (lookup_commit(g, commit, &c, err) < 0)
		return -1;
	/* A commit the repository does not know cannot be behind HEAD. */
	if (lookup_commit(g, ancestor, &anc, NULL) < 0) {
		git_commit_free(c);
		return 0;
	}
	if (git_oid_equal(git_commit_id(anc), git_commit_id(c)))
		rc = 1;
	else if ((rc = git_graph_descendant_of(g->repo, git_commit_id(c), git_commit_id(anc))) < 0)
		rc = md_git__fail(err, "cannot tell whether %.12s is an ancestor of %.12s in %s",
				  ancestor, commit, g->workdir);
	git_commit_free(anc);
	git_commit_free(c);
	return rc;
}

/* ---- file content ------------------------------------------------------- */

int md_git_file_at(struct md_git *g, const char *commit, const char *path, size_t max,
		   char **out, size_t *len, struct md_err *err)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_object_size_t size;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (!rel_path_ok(path))
		return md_err_set(err, "\"%.200s\" is not a path inside the repository",
				  path ? path : "(null)");
	if (commit_tree(g, commit, &tree, err) < 0)
		return -1;
	if (git_tree_entry_bypath(&e, tree, path) < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = 1;
		goto out;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		md_git__fail(err, "cannot read %s at commit %.12s in %s", path, commit, g->workdir);
		goto out;
	}
	size = git_blob_rawsize(blob);
	if (size > (git_object_size_t)max) {
		md_err_set(err, "%s at commit %.12s is larger than %zu bytes", path, commit, max);
		goto out;
	}
	/* Whole bytes (NULs included) plus a terminator for text users. */
	if (!(*out = malloc((size_t)size + 1))) {
		md_err_set(err, "out of memory");
		goto out;
	}
	memcpy(*out, git_blob_rawcontent(blob), (size_t)size);
	(*out)[size] = '\0';
	*len = (size_t)size;
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

/* ---- authors --------------------------------------------------------------- */

/* p is in the set: equal to an entry, under an entry as a directory, or
 * the set holds ".". */
static int path_in_set(const char *p, const struct md_strv *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const char *s = set->v[i];
		size_t n = strlen(s);

		if (!strcmp(s, ".") || !strcmp(s, p) || (strncmp(p, s, n) == 0 && p[n] == '/'))
			return 1;
	}
	return 0;
}

/* 1 when commit c changes a path of set against its first parent. */
static int commit_touches(struct md_git *g, git_commit *c, const struct md_strv *set,
			  struct md_err *err)
{
	git_commit *parent = NULL;
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options o;
	int rc = -1;

	if ((git_commit_parentcount(c) > 0 &&
	     (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&a, parent) < 0)) ||
	    git_commit_tree(&b, c) < 0) {
		md_git__fail(err, "cannot read the trees of a commit in %s", g->workdir);
		goto out;
	}
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	if (git_diff_tree_to_tree(&diff, g->repo, a, b, &o) < 0) {
		md_git__fail(err, "cannot diff a commit in %s", g->workdir);
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < git_diff_num_deltas(diff) && !rc; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		rc = (d->old_file.path && path_in_set(d->old_file.path, set)) ||
		     (d->new_file.path && path_in_set(d->new_file.path, set));
	}
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	git_commit_free(parent);
	return rc;
}

static int walk_authors(struct md_git *g, git_revwalk *walk, const struct md_strv *paths,
			struct md_strv *emails, struct md_err *err)
{
	git_oid id;
	size_t count = 0;
	int step;

	while ((step = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		int touches;

		if (++count > MD_GIT_HISTORY_MAX_COMMITS)
			return md_err_set(err, "more than %d commits to look through in %s",
					  MD_GIT_HISTORY_MAX_COMMITS, g->workdir);
		if (git_commit_lookup(&c, g->repo, &id) < 0)
			return md_git__fail(err, "cannot read a commit in %s", g->workdir);
		touches = commit_touches(g, c, paths, err);
		if (touches == 1 && !md_strv_contains(emails, git_commit_author(c)->email) &&
		    md_strv_push(emails, git_commit_author(c)->email) < 0)
			touches = md_err_set(err, "out of memory");
		git_commit_free(c);
		if (touches < 0)
			return -1;
	}
	if (step != GIT_ITEROVER)
		return md_git__fail(err, "cannot walk the history of %s", g->workdir);
	return 0;
}

int md_git_authors_between(struct md_git *g, const char *from, const char *to,
			   const struct md_strv *paths, struct md_strv *emails,
			   struct md_err *err)
{
	git_revwalk *walk = NULL;
	git_oid a, b;
	int rc = -1;

	if (parse_oid(g, to, &b, err) < 0 || (from && *from && parse_oid(g, from, &a, err) < 0))
		return -1;
	if (git_revwalk_new(&walk, g->repo) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, &b) < 0 || (from && *from && git_revwalk_hide(walk, &a) < 0)) {
		md_git__fail(err, "cannot walk the history of %s from %.12s", g->workdir, to);
		goto out;
	}
	rc = walk_authors(g, walk, paths, emails, err);
out:
	git_revwalk_free(walk);
	return rc;
}

/* ---- revert ---------------------------------------------------------------- */

/* Write (or remove) one path as it was in tree, and stage it. */
static int restore_path(struct md_git *g, git_index *idx, git_tree *tree, const char *path,
			struct md_err *err)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	char *abs = md_asprintf("%s/%s", g->workdir, path), *slash;
	int rc = -1;

	if (!abs)
		return md_err_set(err, "out of memory");
	if (git_tree_entry_bypath(&e, tree, path) < 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		if (unlink(abs) < 0 && errno != ENOENT) {
			md_err_set(err, "cannot remove %s: %s", abs, strerror(errno));
			goto out;
		}
		if (git_index_remove_bypath(idx, path) < 0) {
			md_git__fail(err, "cannot unstage %s in %s", path, g->workdir);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		md_git__fail(err, "cannot read the old content of %s in %s", path, g->workdir);
		goto out;
	}
	slash = strrchr(abs, '/');
	*slash = '\0';
	if (md_mkdir_p(abs, 0755, err) < 0)
		goto out;
	*slash = '/';
	if (md_file_write_atomic(abs, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
				 git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755
											: 0644,
				 err) < 0)
		goto out;
	if (git_index_add_bypath(idx, path) < 0) {
		md_git__fail(err, "cannot stage %s in %s", path, g->workdir);
		goto out;
	}
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	free(abs);
	return rc;
}

/* Undo a half-done revert: index and work tree back to HEAD for paths. */
static void undo_paths(struct md_git *g, git_commit *head, const char *const *paths, size_t n)
{
	git_checkout_options co;
	git_strarray ps = { (char **)(uintptr_t)paths, n };

	git_reset_default(g->repo, (const git_object *)head, &ps);
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	co.paths = ps;
	git_checkout_head(g->repo, &co);
}

static int make_commit(struct md_git *g, git_index *idx, git_commit *head, const char *message,
		       char oid[41], struct md_err *err)
{
	const git_commit *parents[1] = { head };
	git_oid tree_id;

	if (git_index_write(idx) < 0 || git_index_write_tree(&tree_id, idx) < 0)
		return md_git__fail(err, "cannot write the index of %s", g->workdir);
	if (git_oid_equal(&tree_id, git_commit_tree_id(head))) {
		md_err_set(err, "nothing to revert in %s: the files already hold that content",
			   g->workdir);
		return MD_GIT_NOTHING_TO_REVERT;
	}
	if (md_git__commit_tree(g, g->local_ref, &tree_id, message, parents, 1, oid) < 0)
		return md_git__fail(err, "cannot commit the revert in %s", g->workdir);
	return 0;
}

static int check_revert_args(struct md_git *g, const char *const *paths, size_t n,
			     const char *message, struct md_err *err)
{
	if (md_git__require_writable(g, "revert", err) < 0)
		return -1;
	if (!n || !paths || n > MD_GIT_COMMIT_MAX_PATHS)
		return md_err_set(err, "cannot revert %zu paths in %s", n, g->workdir);
	for (size_t i = 0; i < n; i++)
		if (!rel_path_ok(paths[i]))
			return md_err_set(err, "cannot revert \"%.200s\": not a path inside the work "
					  "tree of %s", paths[i] ? paths[i] : "(null)", g->workdir);
	if (!message || !*message)
		return md_err_set(err, "cannot revert in %s: empty commit message", g->workdir);
	if (!g->author_name || !*g->author_name || !g->author_email || !*g->author_email)
		return md_err_set(err, "cannot revert in %s: no author name and email configured",
				  g->workdir);
	return md_git__require_on_branch(g, err) < 0 ? -1 : md_git__require_clean(g, err);
}

int md_git_revert_paths(struct md_git *g, const char *commit, const char *const *paths,
			size_t n, const char *message, char oid[41], struct md_err *err)
{
	git_commit *head = NULL;
	git_tree *old = NULL;
	git_index *idx = NULL;
	git_object *obj = NULL;
	int rc = -1, touched = 0;

	oid[0] = '\0';
	if (check_revert_args(g, paths, n, message, err) < 0 || commit_tree(g, commit, &old, err) < 0)
		return -1;
	if (git_revparse_single(&obj, g->repo, "HEAD^{commit}") < 0) {
		md_git__fail(err, "cannot read HEAD of %s", g->workdir);
		goto out;
	}
	head = (git_commit *)obj;
	if (git_repository_index(&idx, g->repo) < 0 || git_index_read(idx, 0) < 0) {
		md_git__fail(err, "cannot read the index of %s", g->workdir);
		goto out;
	}
	touched = 1;
	for (size_t i = 0; i < n; i++)
		if (restore_path(g, idx, old, paths[i], err) < 0)
			goto out;
	md_testhook("revert"); /* the files are written, nothing committed */
	rc = make_commit(g, idx, head, message, oid, err);
out:
	/* rc may be MD_GIT_NOTHING_TO_REVERT: undone as any failure */
	if (rc < 0 && touched)
		undo_paths(g, head, paths, n);
	git_index_free(idx);
	git_commit_free(head);
	git_tree_free(old);
	return rc;
}
