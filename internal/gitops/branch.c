/* gitops: PR branches — commits built in memory on origin/<base>, pushed
 * with force to refs/heads/magos/…; the work tree and index never move. */
#include "gitops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRANCH_MAX 200
#define PUSH_REF "refs/magos-dominus/push"

/* ---- origin URL without opening a handle ---------------------------------- */

int md_git_origin_url_at(const char *path, char **url, struct md_err *err)
{
	git_repository *repo = NULL;
	int rc;

	*url = NULL;
	if (!path || !md_path_exists(path))
		return 1;
	if (md_git__lib_init(err) < 0)
		return -1;
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = git_error_last() ? md_git__fail(err, "cannot open repository %s", path)
				      : md_err_set(err, "cannot open repository %s", path);
		md_git__lib_shutdown();
		return rc;
	}
	rc = md_git__origin_url(repo, 0, url, err);
	git_repository_free(repo);
	md_git__lib_shutdown();
	return rc;
}

/* ---- branch names ---------------------------------------------------------- */

static int ref_char_ok(unsigned char ch)
{
	/* git-check-ref-format forbids controls, space ~ ^ : ? * [ \ and DEL;
	 * stay with what image paths may hold anyway. */
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.' || ch == '/';
}

/* Append one path component, made acceptable to git. */
static void put_component(struct md_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (b->len && b->data[b->len - 1] != '/')
		md_buf_append(b, "/", 1);
	if (s[0] == '.')
		md_buf_append(b, "_", 1);
	for (size_t i = 0; i < n; i++) {
		char ch = ref_char_ok((unsigned char)s[i]) ? s[i] : '-';

		/* ".." anywhere is forbidden: keep the first dot only. */
		if (ch == '.' && i && s[i - 1] == '.')
			ch = '-';
		md_buf_append(b, &ch, 1);
	}
	if (b->len >= 5 && !memcmp(b->data + b->len - 5, ".lock", 5))
		b->data[b->len - 5] = '-';
	if (b->data[b->len - 1] == '.')
		b->data[b->len - 1] = '-';
}

int md_git_branch_name(char **out, const char *prefix, const char *image_path,
		       struct md_err *err)
{
	struct md_buf b;
	char ref[BRANCH_MAX + 16];
	int valid = 0;
	const char *s;

	*out = NULL;
	md_buf_init(&b, BRANCH_MAX + 1);
	for (s = prefix ? prefix : ""; *s;) {
		size_t n = strcspn(s, "/");

		put_component(&b, s, n);
		s += n + (s[n] == '/');
	}
	for (s = image_path ? image_path : ""; *s;) {
		size_t n = strcspn(s, "/");

		put_component(&b, s, n);
		s += n + (s[n] == '/');
	}
	if (!b.data || !b.len || b.len > BRANCH_MAX) {
		md_buf_clear(&b);
		return md_err_set(err, "cannot make a branch name from image path \"%.200s\"",
				  image_path ? image_path : "");
	}
	snprintf(ref, sizeof(ref), "refs/heads/%s", b.data);
	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid) {
		md_err_set(err, "cannot make a valid branch name from image path \"%.200s\" (%s)",
			   image_path ? image_path : "", b.data);
		md_buf_clear(&b);
		return -1;
	}
	*out = md_buf_steal(&b);
	return *out ? 0 : md_err_set(err, "out of memory");
}

/* ---- talking to origin ------------------------------------------------------ */

static int drop_tracking(struct md_git *g, const char *prefix, struct md_err *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	char glob[300];
	int rc = 0;

	snprintf(glob, sizeof(glob), "refs/remotes/origin/%s*", prefix);
	if (git_reference_iterator_glob_new(&it, g->repo, glob) < 0)
		return md_git__fail(err, "cannot list %s in %s", glob, g->workdir);
	while (rc == 0 && git_reference_next(&ref, it) == 0) {
		if (git_reference_delete(ref) < 0)
			rc = md_git__fail(err, "cannot delete %s in %s", git_reference_name(ref),
					  g->workdir);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return rc;
}

int md_git_branches_fetch(struct md_git *g, const char *prefix, struct md_err *err)
{
	git_remote *r = NULL;
	char spec[600];
	char *url = NULL;
	int rc = -1;

	if (md_git__require_writable(g, "fetch", err) < 0 ||
	    md_git__origin_remote(g, 0, &r, &url, err) < 0)
		return -1;
	/* The objects stay; only the names go, so a branch origin deleted
	 * disappears here too and the fetch stays cheap. */
	if (drop_tracking(g, prefix, err) < 0)
		goto out;
	snprintf(spec, sizeof(spec), "+refs/heads/%s*:refs/remotes/origin/%s*", prefix, prefix);
	if (md_git__fetch_spec(g, r, spec, "magos-dominus: fetch PR branches") < 0)
		md_git__fail(err, "git fetch origin (%s) %s*", url, prefix);
	else
		rc = 0;
out:
	git_remote_free(r);
	free(url);
	return rc;
}

int md_git_base_head(struct md_git *g, char oid[41], struct md_err *err)
{
	git_oid id;

	oid[0] = '\0';
	if (git_reference_name_to_id(&id, g->repo, g->remote_ref) < 0)
		return md_git__fail(err, "cannot read %s in %s", g->remote_ref, g->workdir);
	git_oid_tostr(oid, 41, &id);
	return 0;
}

/* ---- the branch commit -------------------------------------------------------- */

/* origin/<base>'s tree with files replaced, written to the object database. */
static int build_tree(struct md_git *g, git_commit *base, const struct md_git_blob *files,
		      size_t n, git_oid *tree_id, struct md_err *err)
{
	git_index *idx = NULL;
	git_tree *tree = NULL;
	int rc = -1;

	if (git_index_new(&idx) < 0 || git_commit_tree(&tree, base) < 0 ||
	    git_index_read_tree(idx, tree) < 0) {
		md_git__fail(err, "cannot read the tree of origin/%s in %s", g->branch, g->workdir);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		git_index_entry e;

		memset(&e, 0, sizeof(e));
		e.path = files[i].path;
		e.mode = (files[i].mode & 0111) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
		if (git_blob_create_from_buffer(&e.id, g->repo, files[i].data, files[i].len) < 0 ||
		    git_index_add(idx, &e) < 0) {
			md_git__fail(err, "cannot stage %s for a branch in %s", files[i].path,
				     g->workdir);
			goto out;
		}
	}
	if (git_index_write_tree_to(tree_id, idx, g->repo) < 0) {
		md_git__fail(err, "cannot write a branch tree in %s", g->workdir);
		goto out;
	}
	rc = 0;
out:
	git_tree_free(tree);
	git_index_free(idx);
	return rc;
}

/* 1 when refs/remotes/origin/<branch> is one commit with tree on base. */
static int branch_holds(struct md_git *g, const char *branch, const git_oid *base,
			const git_oid *tree, git_oid *tip)
{
	git_commit *c = NULL;
	char ref[300];
	int same;

	snprintf(ref, sizeof(ref), "refs/remotes/origin/%s", branch);
	if (git_reference_name_to_id(tip, g->repo, ref) < 0 ||
	    git_commit_lookup(&c, g->repo, tip) < 0) {
		git_error_clear();
		return 0;
	}
	same = git_commit_parentcount(c) == 1 && git_oid_equal(git_commit_parent_id(c, 0), base) &&
	       git_oid_equal(git_commit_tree_id(c), tree);
	git_commit_free(c);
	return same;
}

static int check_branch_args(struct md_git *g, const char *branch,
			     const struct md_git_blob *files, size_t n, struct md_err *err)
{
	if (md_git__require_writable(g, "commit", err) < 0)
		return -1;
	if (!branch || !branch[0] || strlen(branch) > BRANCH_MAX)
		return md_err_set(err, "no valid branch name given in %s", g->workdir);
	if (!n || !files)
		return md_err_set(err, "nothing to commit on branch %s in %s: no files given",
				  branch, g->workdir);
	if (n > MD_GIT_COMMIT_MAX_PATHS)
		return md_err_set(err, "refusing to commit %zu files on branch %s at once", n,
				  branch);
	return 0;
}

int md_git_branch_commit(struct md_git *g, const char *branch, const struct md_git_blob *files,
			 size_t n, const char *message, int make_commit, char oid[41],
			 struct md_err *err)
{
	git_commit *base = NULL;
	const git_commit *parents[1];
	git_oid base_id, tree_id, id;
	int rc = -1;

	oid[0] = '\0';
	if (check_branch_args(g, branch, files, n, err) < 0)
		return -1;
	if (git_reference_name_to_id(&base_id, g->repo, g->remote_ref) < 0 ||
	    git_commit_lookup(&base, g->repo, &base_id) < 0)
		return md_git__fail(err, "cannot read %s in %s", g->remote_ref, g->workdir);
	if (build_tree(g, base, files, n, &tree_id, err) < 0)
		goto out;
	if (branch_holds(g, branch, &base_id, &tree_id, &id)) {
		git_oid_tostr(oid, 41, &id);
		rc = 1;
		goto out;
	}
	rc = 0;
	if (!make_commit)
		goto out;
	rc = -1;
	if (!message || !message[0] || !g->author_name || !g->author_email) {
		md_err_set(err, "cannot commit on branch %s in %s: no message or author", branch,
			   g->workdir);
		goto out;
	}
	parents[0] = base;
	if (md_git__commit_tree(g, NULL, &tree_id, message, parents, 1, oid) < 0) {
		md_git__fail(err, "cannot commit on branch %s in %s", branch, g->workdir);
		goto out;
	}
	rc = 0;
out:
	git_commit_free(base);
	return rc;
}

/* ---- force push ------------------------------------------------------------------ */

static int record_tracking(struct md_git *g, const char *branch, const git_oid *id,
			   struct md_err *err)
{
	git_reference *ref = NULL;
	char name[300];

	snprintf(name, sizeof(name), "refs/remotes/origin/%s", branch);
	if (git_reference_create(&ref, g->repo, name, id, 1, "magos-dominus: push") < 0)
		return md_git__fail(err, "pushed, but cannot update %s in %s", name, g->workdir);
	git_reference_free(ref);
	return 0;
}

int md_git_branch_push(struct md_git *g, const char *branch, const char *oid,
		       struct md_err *err)
{
	git_reference *staged = NULL;
	git_remote *r = NULL;
	struct md_git_op op;
	git_oid id;
	char spec[600];
	char *url = NULL;
	int rc = -1;

	if (md_git__require_writable(g, "push", err) < 0)
		return -1;
	if (!branch || strlen(branch) > BRANCH_MAX || !oid || git_oid_fromstrn(&id, oid, 40) < 0 ||
	    strlen(oid) != 40)
		return md_err_set(err, "cannot push branch %s from %s: bad branch or commit id",
				  branch ? branch : "(null)", g->workdir);
	/* libgit2 pushes from a reference, not from a bare commit id: name
	 * the commit for the duration of the push. */
	if (git_reference_create(&staged, g->repo, PUSH_REF, &id, 1, "magos-dominus: stage") < 0)
		return md_git__fail(err, "cannot stage branch %s for a push in %s", branch,
				    g->workdir);
	if (md_git__origin_remote(g, 1, &r, &url, err) < 0)
		goto out;
	snprintf(spec, sizeof(spec), "+" PUSH_REF ":refs/heads/%s", branch);
	if (md_git__push_spec(g, r, spec, &op) < 0) {
		md_git__fail(err, "git push origin (%s) %s", url, branch);
	} else if (op.push_status[0]) {
		md_err_set(err, "git push origin (%s): the remote rejected %s: %s", url, op.push_ref,
			   op.push_status);
		if (err)
			md_git__redact(err->msg);
	} else {
		rc = record_tracking(g, branch, &id, err);
	}
out:
	if (staged) {
		git_reference_delete(staged);
		git_reference_free(staged);
	}
	git_remote_free(r);
	free(url);
	return rc;
}

int md_git_blobs_init(struct md_git_blobs *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->v = calloc(max ? max : 1, sizeof(*b->v));
	b->owned = calloc(max ? max : 1, sizeof(*b->owned));
	if (!b->v || !b->owned) {
		md_git_blobs_clear(b);
		return -1;
	}
	return 0;
}

void md_git_blobs_clear(struct md_git_blobs *b)
{
	for (size_t i = 0; b->owned && i < b->n; i++)
		free(b->owned[i]);
	free(b->owned);
	free(b->v);
	memset(b, 0, sizeof(*b));
}
