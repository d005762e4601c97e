/* gitops: what a process killed half-way leaves in its own clone, cleared
 * on the next start (under the instance lock the agent is the clone's only
 * writer, so none of it can belong to a live operation of its own): stale
 * lock files, temp files of atomic writes and rollback copies, and an
 * interrupted change of its own, undone file by file. */
#include "gitops_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_WALK_MAX_DEPTH 32
#define UNDO_FILE_MAX (64u << 20)

/* ---- stale lock files -------------------------------------------------------- */

static int clear_locks_in(int dfd, const char *dir, int depth, struct md_strv *removed,
			  struct md_err *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dfd);
		return md_err_set(err, "cannot read directory %s: %s", dir, strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		struct stat st;
		char *full;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    (depth == 0 && !strcmp(name, "objects")))
			continue; /* objects are written under temp names, never locked */
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!(full = md_asprintf("%s/%s", dir, name))) {
			rc = md_err_set(err, "out of memory");
			break;
		}
		if (S_ISDIR(st.st_mode) && depth < LOCK_WALK_MAX_DEPTH) {
			int fd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			rc = fd < 0 ? md_err_set(err, "cannot open directory %s: %s", full,
						 strerror(errno))
				    : clear_locks_in(fd, full, depth + 1, removed, err);
		} else if (S_ISREG(st.st_mode) && md_str_has_suffix(name, ".lock")) {
			if (unlinkat(dirfd(d), name, 0) < 0 && errno != ENOENT)
				rc = md_err_set(err, "cannot remove the stale lock file %s: %s", full,
						strerror(errno));
			else if (removed && md_strv_push(removed, full) < 0)
				rc = md_err_set(err, "out of memory");
		}
		free(full);
	}
	closedir(d);
	return rc;
}

int md_git_clear_stale_locks(const char *path, struct md_strv *removed, struct md_err *err)
{
	char *gitdir = md_asprintf("%s/.git", path);
	int fd, rc;

	if (!gitdir)
		return md_err_set(err, "out of memory");
	fd = open(gitdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* no clone yet, or .git is a file (a linked work tree): nothing of ours */
		free(gitdir);
		return 0;
	}
	rc = clear_locks_in(fd, gitdir, 0, removed, err);
	free(gitdir);
	return rc;
}

/* ---- leftovers in the work tree ------------------------------------------------ */

static int is_leftover_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	return md_str_has_prefix(base, MD_GIT_ROLLBACK_PREFIX) || md_file_is_atomic_tmp(base);
}

int md_git_clear_leftovers(struct md_git *g, struct md_strv *removed, struct md_err *err)
{
	git_status_options so;
	git_status_list *list = NULL;
	size_t n;
	int rc = 0;

	if (md_git__require_writable(g, "clean up", err) < 0)
		return -1;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED;
	if (git_status_list_new(&list, g->repo, &so) < 0)
		return md_git__fail(err, "cannot read the status of repository %s", g->workdir);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const char *p;
		char *abs;

		if (!e || !(e->status & GIT_STATUS_WT_NEW) || !e->index_to_workdir)
			continue;
		p = e->index_to_workdir->new_file.path;
		if (!p || md_str_has_suffix(p, "/") || !is_leftover_name(p))
			continue;
		if (!(abs = md_asprintf("%s/%s", g->workdir, p))) {
			rc = md_err_set(err, "out of memory");
			break;
		}
		if (unlink(abs) < 0 && errno != ENOENT)
			rc = md_err_set(err, "cannot remove %s: %s", abs, strerror(errno));
		else if (removed && md_strv_push(removed, p) < 0)
			rc = md_err_set(err, "out of memory");
		free(abs);
	}
	git_status_list_free(list);
	return rc;
}

/* ---- blob ids ---------------------------------------------------------------- */

int md_git_blob_id(const void *data, size_t len, char out[41], struct md_err *err)
{
	git_oid id;
	int rc = 0;

	out[0] = '\0';
	if (md_git__lib_init(err) < 0)
		return -1;
	if (git_odb_hash(&id, data, len, GIT_OBJECT_BLOB) < 0)
		rc = md_git__fail(err, "cannot hash a blob");
	else
		git_oid_tostr(out, 41, &id);
	md_git__lib_shutdown();
	return rc;
}

/* The blob id of the work-tree file at rel ("" when there is none); 1 when
 * it is not a regular file (a person's doing, never ours). */
static int worktree_id(struct md_git *g, const char *rel, char out[41], struct md_err *err)
{
	char *abs = md_asprintf("%s/%s", g->workdir, rel), *data = NULL;
	struct stat st;
	size_t len = 0;
	git_oid id;
	int rc = 0;

	out[0] = '\0';
	if (!abs)
		return md_err_set(err, "out of memory");
	if (lstat(abs, &st) < 0) {
		rc = errno == ENOENT ? 0 : md_err_set(err, "cannot stat %s: %s", abs,
						      strerror(errno));
	} else if (!S_ISREG(st.st_mode) || (size_t)st.st_size > UNDO_FILE_MAX) {
		rc = 1;
	} else if (md_file_read(abs, UNDO_FILE_MAX, &data, &len, err) < 0) {
		rc = -1;
	} else if (git_odb_hash(&id, data, len, GIT_OBJECT_BLOB) < 0) {
		rc = md_git__fail(err, "cannot hash %s", abs);
	} else {
		git_oid_tostr(out, 41, &id);
	}
	free(data);
	free(abs);
	return rc;
}

/* The id at path in tree ("" when absent). */
static void tree_id(git_tree *tree, const char *path, char out[41])
{
	git_tree_entry *e = NULL;

	out[0] = '\0';
	if (tree && git_tree_entry_bypath(&e, tree, path) == 0 &&
	    git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		git_oid_tostr(out, 41, git_tree_entry_id(e));
	git_tree_entry_free(e);
}

/* The staged id of path ("" when not in the index). */
static void index_id(git_index *idx, const char *path, char out[41])
{
	const git_index_entry *e = git_index_get_bypath(idx, path, 0);

	out[0] = '\0';
	if (e)
		git_oid_tostr(out, 41, &e->id);
}

static int owned_id(const struct md_git_owned *f, const char *id, const char *head_id)
{
	return !strcmp(id, f->old_id) || !strcmp(id, f->new_id) || !strcmp(id, head_id);
}

/* Reset the index entries of paths to HEAD and check them out from HEAD,
 * removing those HEAD does not have. */
static int restore_to_head(struct md_git *g, git_object *head, char **paths, size_t n,
			   struct md_err *err)
{
	git_checkout_options co;
	git_strarray ps = { paths, n };

	if (git_reset_default(g->repo, head, &ps) < 0)
		return md_git__fail(err, "cannot reset the index entries of the interrupted "
				    "change in %s", g->workdir);
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED |
			       GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	co.paths = ps;
	if (head ? git_checkout_tree(g->repo, head, &co) < 0 : git_checkout_index(g->repo, NULL, &co) < 0)
		return md_git__fail(err, "cannot restore the files of the interrupted change in %s",
				    g->workdir);
	return 0;
}

/* Sort f into ours (work tree and index hold its old, new or HEAD's
 * content) or a person's. */
static int classify(struct md_git *g, git_tree *tree, git_index *idx,
		    const struct md_git_owned *f, int *ours, struct md_err *err)
{
	char wt[41], ix[41], hd[41];
	int rc;

	*ours = 0;
	if (!f->path || !f->old_id || !f->new_id)
		return md_err_set(err, "an interrupted change names no path or blob");
	rc = worktree_id(g, f->path, wt, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	tree_id(tree, f->path, hd);
	index_id(idx, f->path, ix);
	*ours = owned_id(f, wt, hd) && owned_id(f, ix, hd);
	return 0;
}

int md_git_undo_change(struct md_git *g, const struct md_git_owned *files, size_t n,
		       struct md_strv *foreign, struct md_err *err)
{
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_index *idx = NULL;
	char **paths = calloc(n ? n : 1, sizeof(*paths));
	size_t k = 0;
	int rc = -1;

	if (!paths)
		return md_err_set(err, "out of memory");
	if (md_git__require_writable(g, "undo", err) < 0)
		goto out;
	if (git_repository_head_unborn(g->repo) != 1 &&
	    (git_revparse_single(&head, g->repo, "HEAD^{commit}") < 0 ||
	     git_commit_tree(&tree, (git_commit *)head) < 0)) {
		md_git__fail(err, "cannot read HEAD of %s", g->workdir);
		goto out;
	}
	if (git_repository_index(&idx, g->repo) < 0 || git_index_read(idx, 1) < 0) {
		md_git__fail(err, "cannot read the index of %s", g->workdir);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int ours;

		if (classify(g, tree, idx, &files[i], &ours, err) < 0)
			goto out;
		if (ours)
			paths[k++] = (char *)(uintptr_t)files[i].path;
		else if (foreign && md_strv_push(foreign, files[i].path) < 0) {
			md_err_set(err, "out of memory");
			goto out;
		}
	}
	rc = k ? restore_to_head(g, head, paths, k, err) : 0;
out:
	git_index_free(idx);
	git_tree_free(tree);
	git_object_free(head);
	free(paths);
	return rc;
}
