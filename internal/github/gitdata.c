/* github — the Git Data API: blobs, a tree, a commit GitHub signs (no
 * author, committer or signature of ours), and the ref pointing at it. */
#include "github_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NEED_CONTENTS "Contents: write"

/* method suffix [body] → answer, with the object of a 2xx answer.
 * Statuses in accept come back instead of failing. */
static int git_call(struct md_github *gh, const char *method, const char *suffix, json_t *body,
		    const long *accept, struct md_gh_answer *a, struct md_err *err)
{
	struct md_gh_repo_req rr = { method, suffix, body, NEED_CONTENTS, accept, 1 };

	return md_github__repo_call(gh, &rr, a, err);
}

int md_github__answer_sha(json_t *j, const char *key, const char *what, char out[41],
		     struct md_err *err)
{
	json_t *o = key ? json_object_get(j, key) : j;
	const char *s = json_string_value(json_object_get(o, "sha"));

	if (!s || !md_github__is_oid(s))
		return md_err_set(err, "GitHub's answer to %s has no valid %s\"sha\"", what,
				  key ? "tree " : "");
	memcpy(out, s, 41);
	return 0;
}

static int make_blob(struct md_github *gh, const struct md_github_file *f, char sha[41],
		     struct md_err *err)
{
	struct md_gh_answer a;
	char *b64 = md_github__b64(f->data, f->len, 0);
	json_t *body = b64 ? json_pack("{s:s, s:s}", "content", b64, "encoding", "base64") : NULL;
	int rc = -1;

	if (!body) {
		md_err_set(err, "out of memory encoding %s for GitHub", f->path);
		goto out;
	}
	if (git_call(gh, "POST", "/git/blobs", body, NULL, &a, err) < 0) {
		md_err_prefix(err, "uploading %s", f->path);
		goto out;
	}
	rc = md_github__answer_sha(a.json, NULL, "POST /git/blobs", sha, err);
	json_decref(a.json);
out:
	json_decref(body);
	free(b64);
	return rc;
}

static int parent_tree(struct md_github *gh, const char *parent, char tree[41],
		       struct md_err *err)
{
	char suffix[64];
	struct md_gh_answer a;
	int rc;

	snprintf(suffix, sizeof(suffix), "/git/commits/%s", parent);
	if (git_call(gh, "GET", suffix, NULL, NULL, &a, err) < 0)
		return -1;
	rc = md_github__answer_sha(a.json, "tree", "GET /git/commits", tree, err);
	json_decref(a.json);
	return rc;
}

static int make_tree(struct md_github *gh, const char *base, const struct md_github_file *files,
		     char (*blobs)[41], size_t n, char tree[41], struct md_err *err)
{
	json_t *entries = json_array(), *body = NULL;
	struct md_gh_answer a;
	int rc = -1;

	if (!entries)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const char *mode = (files[i].mode & 0111) ? "100755" : "100644";
		json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "path", files[i].path, "mode", mode,
				      "type", "blob", "sha", blobs[i]);

		if (!e || json_array_append_new(entries, e) < 0)
			goto oom;
	}
	body = json_pack("{s:s, s:O}", "base_tree", base, "tree", entries);
	if (!body)
		goto oom;
	if (git_call(gh, "POST", "/git/trees", body, NULL, &a, err) < 0)
		goto out;
	rc = md_github__answer_sha(a.json, NULL, "POST /git/trees", tree, err);
	json_decref(a.json);
	goto out;
oom:
	md_err_set(err, "out of memory building the tree for %s/%s", gh->owner, gh->repo);
out:
	json_decref(entries);
	json_decref(body);
	return rc;
}

static int make_commit(struct md_github *gh, const char *tree, const char *parent,
		       const char *message, char oid[41], struct md_err *err)
{
	/* No author/committer/signature: GitHub then signs it as the App. */
	json_t *body = json_pack("{s:s, s:s, s:[s]}", "message", message, "tree", tree, "parents",
				 parent);
	struct md_gh_answer a;
	int rc;

	if (!body)
		return md_err_set(err, "out of memory building the commit for %s/%s", gh->owner,
				  gh->repo);
	rc = git_call(gh, "POST", "/git/commits", body, NULL, &a, err);
	json_decref(body);
	if (rc < 0)
		return -1;
	rc = md_github__answer_sha(a.json, NULL, "POST /git/commits", oid, err);
	json_decref(a.json);
	return rc;
}

/* POST /git/refs for a branch GitHub does not have yet. 1: it appeared
 * meanwhile (another writer), so the caller re-syncs. */
static int create_ref(struct md_github *gh, const char *branch, const char *oid,
		      struct md_err *err)
{
	static const long accept[] = { 422, 0 };
	char *ref = md_asprintf("refs/heads/%s", branch);
	json_t *body = ref ? json_pack("{s:s, s:s}", "ref", ref, "sha", oid) : NULL;
	struct md_gh_answer a;
	int rc = -1;

	if (!body) {
		md_err_set(err, "out of memory creating the branch %s", branch);
		goto out;
	}
	if (git_call(gh, "POST", "/git/refs", body, accept, &a, err) < 0)
		goto out;
	json_decref(a.json);
	if (a.status == 422 && strcasestr(a.msg, "already exists")) {
		rc = 1;
		goto out;
	}
	if (a.status == 422) {
		md_err_set(err, "GitHub refused to create the branch %s on %s/%s (422): %s", branch,
			   gh->owner, gh->repo, a.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(body);
	free(ref);
	return rc;
}

static int update_ref(struct md_github *gh, const char *branch, const char *oid, int force,
		      struct md_err *err)
{
	static const long accept[] = { 404, 422, 0 };
	char *enc = md_github__pct(branch, 1), *suffix = NULL;
	json_t *body = json_pack("{s:s, s:b}", "sha", oid, "force", force ? 1 : 0);
	struct md_gh_answer a;
	int rc = -1;

	if (!enc || !body || !(suffix = md_asprintf("/git/refs/heads/%s", enc))) {
		md_err_set(err, "out of memory updating the branch %s", branch);
		goto out;
	}
	if (git_call(gh, "PATCH", suffix, body, accept, &a, err) < 0)
		goto out;
	json_decref(a.json);
	if (a.status == 404 || (a.status == 422 && strcasestr(a.msg, "does not exist")))
		rc = create_ref(gh, branch, oid, err);
	else if (a.status == 422 && strcasestr(a.msg, "not a fast forward"))
		rc = 1;
	else if (a.status == 422)
		md_err_set(err, "GitHub refused to move the branch %s of %s/%s (422): %s", branch,
			   gh->owner, gh->repo, a.msg);
	else
		rc = 0;
out:
	json_decref(body);
	free(enc);
	free(suffix);
	return rc;
}

static int valid_branch(const char *b)
{
	return b && *b && strlen(b) < 256 && !strstr(b, "..") && b[0] != '/' &&
	       !md_str_has_suffix(b, "/");
}

int md_github_commit(struct md_github *gh, const char *branch, const char *parent,
		     const struct md_github_file *files, size_t nfiles, const char *message,
		     int force, char oid[41], struct md_err *err)
{
	char (*blobs)[41] = NULL;
	char tree[41], base[41];
	int rc = -1;

	oid[0] = '\0';
	if (!valid_branch(branch))
		return md_err_set(err, "'%s' is not a branch name GitHub can update",
				  branch ? branch : "");
	if (!parent || !md_github__is_oid(parent))
		return md_err_set(err, "the parent of a commit on %s must be 40 hex digits", branch);
	if (nfiles == 0 || nfiles > 1000)
		return md_err_set(err, "a commit on %s needs 1 to 1000 files, not %zu", branch,
				  nfiles);
	for (size_t i = 0; i < nfiles; i++)
		if (!files[i].path || !*files[i].path || files[i].path[0] == '/' ||
		    (files[i].mode != 0100644 && files[i].mode != 0100755))
			return md_err_set(err, "file %zu of the commit on %s has no relative path "
					       "or a mode other than 100644/100755",
					  i, branch);
	blobs = calloc(nfiles, sizeof(*blobs));
	if (!blobs)
		return md_err_set(err, "out of memory committing to %s", branch);
	for (size_t i = 0; i < nfiles; i++)
		if (make_blob(gh, &files[i], blobs[i], err) < 0)
			goto out;
	if (parent_tree(gh, parent, base, err) < 0 ||
	    make_tree(gh, base, files, blobs, nfiles, tree, err) < 0 ||
	    make_commit(gh, tree, parent, message ? message : "", oid, err) < 0)
		goto out;
	rc = update_ref(gh, branch, oid, force, err);
out:
	free(blobs);
	return rc;
}

int md_github_branch_delete(struct md_github *gh, const char *branch, struct md_err *err)
{
	static const long accept[] = { 404, 422, 0 };
	char *enc, *suffix = NULL;
	struct md_gh_answer a;
	int rc = -1;

	if (!valid_branch(branch))
		return md_err_set(err, "'%s' is not a branch name GitHub can delete",
				  branch ? branch : "");
	enc = md_github__pct(branch, 1);
	if (!enc || !(suffix = md_asprintf("/git/refs/heads/%s", enc))) {
		md_err_set(err, "out of memory deleting the branch %s", branch);
		goto out;
	}
	/* 404/422: already gone, which is what we wanted. */
	if (git_call(gh, "DELETE", suffix, NULL, accept, &a, err) < 0)
		goto out;
	json_decref(a.json);
	rc = 0;
out:
	free(enc);
	free(suffix);
	return rc;
}
