/* gitops: committing exactly the files the agent changed. */
#include "gitops_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Relative, no "." / ".." components, not into .git. */
static int path_is_relative_inside(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/')
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (n == 4 && strncasecmp(s, ".git", 4) == 0)
			return 0;
		s += n;
		if (*s == '/')
			s++;
	}
	return p[strlen(p) - 1] != '/';
}

/* The file must exist, be a file, and its directory must resolve inside
 * the work tree (a symlinked directory must not smuggle files in). */
static int check_path(const struct md_git *g, const char *real_wd, const char *rel,
		      struct md_err *err)
{
	char full[PATH_MAX], dir[PATH_MAX], real_dir[PATH_MAX];
	struct stat st;
	char *slash;
	size_t wl = strlen(real_wd);

	if (!rel || !path_is_relative_inside(rel))
		return md_err_set(err, "cannot commit \"%s\": not a path inside the work tree "
				  "of %s", rel ? rel : "(null)", g->workdir);
	if (snprintf(full, sizeof(full), "%s/%s", g->workdir, rel) >= (int)sizeof(full))
		return md_err_set(err, "cannot commit %s in %s: path too long", rel, g->workdir);
	if (lstat(full, &st) < 0)
		return md_err_set(err, "cannot commit %s in %s: %s", rel, g->workdir,
				  strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return md_err_set(err, "cannot commit %s in %s: not a file", rel, g->workdir);
	md_strlcpy(dir, full, sizeof(dir));
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (!realpath(dir, real_dir))
		return md_err_set(err, "cannot commit %s in %s: %s", rel, g->workdir,
				  strerror(errno));
	if (strncmp(real_dir, real_wd, wl) != 0 || (real_dir[wl] != '\0' && real_dir[wl] != '/'))
		return md_err_set(err, "cannot commit %s: it lies outside the work tree of %s "
				  "(through a symbolic link)", rel, g->workdir);
	return 0;
}

static int in_list(const char *const *paths, size_t n, const char *p)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(paths[i], p) == 0)
			return 1;
	return 0;
}

/* Anything staged besides our paths would ride along unnoticed: refuse. */
static int check_only_ours(struct md_git *g, git_tree *head_tree, git_index *idx,
			   const char *const *paths, size_t n, struct md_err *err)
{
	git_diff *diff = NULL;
	const char *other[MD_GIT_LIST_MAX];
	size_t nd, count = 0;
	struct md_buf b;

	if (git_diff_tree_to_index(&diff, g->repo, head_tree, idx, NULL) < 0)
		return md_git__fail(err, "cannot compare the index of %s with HEAD", g->workdir);
	nd = git_diff_num_deltas(diff);
	for (size_t i = 0; i < nd; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *p = d->new_file.path ? d->new_file.path : d->old_file.path;

		if (in_list(paths, n, p))
			continue;
		if (count < MD_GIT_LIST_MAX)
			other[count] = p;
		count++;
	}
	if (count) {
		md_buf_init(&b, MD_ERR_MAX);
		for (size_t i = 0; i < count && i < MD_GIT_LIST_MAX; i++)
			md_buf_printf(&b, "%s%s", i ? ", " : "", other[i]);
		if (count > MD_GIT_LIST_MAX)
			md_buf_printf(&b, " and %zu more", count - MD_GIT_LIST_MAX);
		md_err_set(err, "repository %s has other staged changes (%s); magos-dominus "
			   "commits only the files it changed", g->workdir, b.data ? b.data : "");
		md_buf_clear(&b);
	}
	git_diff_free(diff);
	return count ? -1 : 0;
}

static int stage_paths(struct md_git *g, git_index *idx, const char *const *paths, size_t n,
		       struct md_err *err)
{
	char real_wd[PATH_MAX];

	if (!realpath(g->workdir, real_wd))
		return md_err_set(err, "cannot resolve work tree %s: %s", g->workdir,
				  strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (check_path(g, real_wd, paths[i], err) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (git_index_add_bypath(idx, paths[i]) < 0)
			return md_git__fail(err, "cannot stage %s in %s", paths[i], g->workdir);
	if (git_index_write(idx) < 0)
		return md_git__fail(err, "cannot write the index of %s", g->workdir);
	return 0;
}

static int check_commit_args(struct md_git *g, const char *const *paths, size_t n,
			     const char *message, struct md_err *err)
{
	if (md_git__require_writable(g, "commit", err) < 0)
		return -1;
	if (n == 0 || !paths)
		return md_err_set(err, "nothing to commit in %s: no files given", g->workdir);
	if (n > MD_GIT_COMMIT_MAX_PATHS)
		return md_err_set(err, "refusing to commit %zu files in %s at once (at most %d)",
				  n, g->workdir, MD_GIT_COMMIT_MAX_PATHS);
	if (!message || !message[0])
		return md_err_set(err, "cannot commit in %s: empty commit message", g->workdir);
	if (!g->author_name || !g->author_name[0] || !g->author_email || !g->author_email[0])
		return md_err_set(err, "cannot commit in %s: no author name and email configured",
				  g->workdir);
	return md_git__require_on_branch(g, err);
}

int md_git__commit_tree(struct md_git *g, const char *update_ref, const git_oid *tree_id,
			const char *message, const git_commit **parents, size_t nparents,
			char oid[41])
{
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid id;
	int rc = -1;

	/* git_signature_now, not the repository's config: the handle's author
	 * is the one configured for the agent. */
	if (git_tree_lookup(&tree, g->repo, tree_id) < 0 ||
	    git_signature_now(&sig, g->author_name, g->author_email) < 0 ||
	    git_commit_create(&id, g->repo, update_ref, sig, sig, NULL, message, tree, nparents,
			      parents) < 0)
		goto out;
	git_oid_tostr(oid, 41, &id);
	rc = 0;
out:
	git_signature_free(sig);
	git_tree_free(tree);
	return rc;
}

int md_git_commit(struct md_git *g, const char *const *paths, size_t n, const char *message,
		  char oid[41], struct md_err *err)
{
	git_commit *parent = NULL;
	const git_commit *parents[1];
	git_tree *head_tree = NULL;
	git_index *idx = NULL;
	git_oid tree_id;
	int rc = -1;

	oid[0] = '\0';
	if (check_commit_args(g, paths, n, message, err) < 0)
		return -1;
	if (git_repository_index(&idx, g->repo) < 0 || git_index_read(idx, 0) < 0) {
		md_git__fail(err, "cannot read the index of %s", g->workdir);
		goto out;
	}
	if (stage_paths(g, idx, paths, n, err) < 0)
		goto out;
	if (git_repository_head_unborn(g->repo) != 1) {
		git_object *obj = NULL;

		if (git_revparse_single(&obj, g->repo, "HEAD^{commit}") < 0 ||
		    git_commit_tree(&head_tree, (git_commit *)obj) < 0) {
			git_object_free(obj);
			md_git__fail(err, "cannot read HEAD of %s", g->workdir);
			goto out;
		}
		parent = (git_commit *)obj;
	}
	if (check_only_ours(g, head_tree, idx, paths, n, err) < 0)
		goto out;
	if (git_index_write_tree(&tree_id, idx) < 0) {
		md_git__fail(err, "cannot write a tree from the index of %s", g->workdir);
		goto out;
	}
	if (head_tree && git_oid_equal(&tree_id, git_tree_id(head_tree))) {
		md_err_set(err, "nothing to commit in %s: the files are identical to HEAD",
			   g->workdir);
		goto out;
	}
	parents[0] = parent;
	md_testhook("commit"); /* staged and written, the branch not yet moved */
	if (md_git__commit_tree(g, g->local_ref, &tree_id, message, parents, parent ? 1 : 0,
				oid) < 0) {
		md_git__fail(err, "cannot commit in %s", g->workdir);
		goto out;
	}
	rc = 0;
out:
	git_tree_free(head_tree);
	git_commit_free(parent);
	git_index_free(idx);
	return rc;
}
