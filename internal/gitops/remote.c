/* gitops: talking to origin — credentials, ls-remote, fetch, push. */
#include "gitops_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- credentials ------------------------------------------------------- */

void md_git__op_init(struct md_git_op *op, md_git_cred_fn cred, void *cred_ctx)
{
	memset(op, 0, sizeof(*op));
	op->cred = cred;
	op->cred_ctx = cred_ctx;
}

/* Counts attempts per URL: libgit2 calls back after every 401 and would
 * retry a rejected token until its own replay limit. */
static int cred_attempt_allowed(struct md_git_op *op, const char *url)
{
	if (strncmp(op->cred_url, url, sizeof(op->cred_url) - 1) != 0) {
		md_strlcpy(op->cred_url, url, sizeof(op->cred_url));
		op->cred_attempts = 0;
	}
	if (op->cred_attempts >= MD_GIT_CRED_ATTEMPTS)
		return 0;
	op->cred_attempts++;
	return 1;
}

int md_git__cred_cb(git_credential **out, const char *url, const char *user_from_url,
		    unsigned int allowed_types, void *payload)
{
	struct md_git_op *op = payload;
	char user[256] = "";
	char pass[4096] = "";
	int rc;

	if (!op->cred || !(allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_PASSTHROUGH;
	if (!url)
		url = "";
	if (!cred_attempt_allowed(op, url)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the remote refused the credentials %d times; "
			 "giving up", MD_GIT_CRED_ATTEMPTS);
		git_error_set_str(GIT_ERROR_NET, msg);
		return GIT_EAUTH;
	}
	if (user_from_url)
		md_strlcpy(user, user_from_url, sizeof(user));
	rc = op->cred(op->cred_ctx, url, user, sizeof(user), pass, sizeof(pass));
	user[sizeof(user) - 1] = '\0';
	pass[sizeof(pass) - 1] = '\0';
	if (rc == 1) {
		rc = GIT_PASSTHROUGH;
	} else if (rc < 0) {
		git_error_set_str(GIT_ERROR_NET, "the credentials callback failed");
		rc = GIT_EUSER;
	} else if (git_credential_userpass_plaintext_new(out, user, pass) < 0) {
		rc = -1;
	} else {
		rc = 0;
	}
	md_memzero(user, sizeof(user));
	md_memzero(pass, sizeof(pass));
	return rc;
}

/* ---- ls-remote before clone -------------------------------------------- */

int md_git__remote_check_branch(const char *url, const char *branch, struct md_git_op *op,
				struct md_err *err)
{
	git_remote_callbacks cb;
	const git_remote_head **heads;
	git_remote *r = NULL;
	size_t n, branches = 0;
	char want[300];
	int found = 0, rc = -1;

	snprintf(want, sizeof(want), "refs/heads/%s", branch);
	if (git_remote_create_detached(&r, url) < 0)
		return md_git__fail(err, "invalid git url %s", url);
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb.credentials = md_git__cred_cb;
	cb.payload = op;
	if (git_remote_connect(r, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0) {
		md_git__fail(err, "cannot connect to git remote %s", url);
		goto out;
	}
	if (git_remote_ls(&heads, &n, r) < 0) {
		md_git__fail(err, "cannot list the branches of git remote %s", url);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (md_str_has_prefix(heads[i]->name, "refs/heads/"))
			branches++;
		if (strcmp(heads[i]->name, want) == 0)
			found = 1;
	}
	if (!branches)
		md_err_set(err, "git remote %s is empty (it has no branches yet); push an "
			   "initial commit to branch %s first", url, branch);
	else if (!found)
		md_err_set(err, "git remote %s has no branch %s", url, branch);
	else
		rc = 0;
	if (rc < 0 && err)
		md_git__redact(err->msg);
out:
	git_remote_free(r);
	return rc;
}

/* ---- origin without git_remote_lookup ------------------------------------ */

int md_git__origin_url(git_repository *repo, int push, char **out, struct md_err *err)
{
	git_config *cfg = NULL;
	const char *url = NULL;
	int rc;

	*out = NULL;
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return md_git__fail(err, "cannot read the git config of %s",
				    git_repository_path(repo));
	rc = push ? git_config_get_string(&url, cfg, "remote.origin.pushurl") : GIT_ENOTFOUND;
	if (rc == GIT_ENOTFOUND)
		rc = git_config_get_string(&url, cfg, "remote.origin.url");
	if (rc == GIT_ENOTFOUND || (rc == 0 && !url[0])) {
		rc = 1;
	} else if (rc < 0) {
		rc = md_git__fail(err, "cannot read remote.origin.url of %s",
				  git_repository_path(repo));
	} else {
		*out = md_strdup(url);
		rc = *out ? 0 : md_err_set(err, "out of memory");
	}
	git_config_free(cfg);
	return rc;
}

int md_git__clone_remote_cb(git_remote **out, git_repository *repo, const char *name,
			    const char *url, void *payload)
{
	git_remote_create_options o;

	(void)payload;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.name = name;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, url, &o);
}

int md_git__origin_remote(struct md_git *g, int push, git_remote **out, char **url,
			  struct md_err *err)
{
	git_remote_create_options o;
	int rc = md_git__origin_url(g->repo, push, url, err);

	if (rc == 1)
		return md_err_set(err, "repository %s has no remote \"origin\"", g->workdir);
	if (rc < 0)
		return -1;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = g->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(out, *url, &o) < 0) {
		md_git__fail(err, "invalid url %s of origin in %s", *url, g->workdir);
		free(*url);
		*url = NULL;
		return -1;
	}
	return 0;
}

/* ---- fetch ------------------------------------------------------------- */

/* The first transfer progress of a fetch is a test hook point: the pack
 * is being received, no ref has moved yet. */
static int fetch_progress_cb(const git_indexer_progress *stats, void *payload)
{
	struct md_git_op *op = payload;

	(void)stats;
	if (!op->progress_seen) {
		op->progress_seen = 1;
		md_testhook("fetch");
	}
	return 0;
}

int md_git__fetch_spec(struct md_git *g, git_remote *r, char *spec, const char *reflog_msg)
{
	git_fetch_options fo;
	git_strarray specs = { &spec, 1 };
	struct md_git_op op;

	md_git__op_init(&op, g->cred, g->cred_ctx);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.callbacks.credentials = md_git__cred_cb;
	fo.callbacks.transfer_progress = fetch_progress_cb;
	fo.callbacks.payload = &op;
	return git_remote_fetch(r, &specs, &fo, reflog_msg);
}

int md_git__fetch(struct md_git *g, struct md_err *err)
{
	git_remote *origin = NULL;
	char spec[600];
	char *url = NULL;
	int rc = 0;

	if (md_git__origin_remote(g, 0, &origin, &url, err) < 0)
		return -1;
	/* Forced like git's default refspec: the tracking ref mirrors origin. */
	snprintf(spec, sizeof(spec), "+%s:%s", g->local_ref, g->remote_ref);
	if (md_git__fetch_spec(g, origin, spec, "magos-dominus: fetch") < 0)
		rc = md_git__fail(err, "git fetch origin (%s)", url);
	git_remote_free(origin);
	free(url);
	return rc;
}

/* ---- push -------------------------------------------------------------- */

static int push_update_ref_cb(const char *refname, const char *status, void *payload)
{
	struct md_git_op *op = payload;

	if (status && !op->push_status[0]) {
		md_strlcpy(op->push_ref, refname ? refname : "", sizeof(op->push_ref));
		md_strlcpy(op->push_status, status[0] ? status : "rejected",
			   sizeof(op->push_status));
	}
	return 0;
}

int md_git__push_spec(struct md_git *g, git_remote *r, char *spec, struct md_git_op *op)
{
	git_push_options po;
	git_strarray specs = { &spec, 1 };

	md_git__op_init(op, g->cred, g->cred_ctx);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.credentials = md_git__cred_cb;
	po.callbacks.push_update_reference = push_update_ref_cb;
	po.callbacks.payload = op;
	/* push_result() reads git_error_last(): no stale message may remain. */
	git_error_clear();
	return git_remote_push(r, &specs, &po);
}

/* Someone else moved the branch: git's and libgit2's words for it, on the
 * local transport, from the server's report-status, and for a concurrent
 * update caught by the server's ref lock. */
static int is_push_race(const char *msg)
{
	static const char *const words[] = {
		"non-fast-forward", "non-fastforward", "fetch first", "failed to update ref",
		"cannot lock ref", "not present locally", "old reference value does not match",
		"stale info",
	};

	for (size_t i = 0; msg && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(msg, words[i]))
			return 1;
	return 0;
}

/* After a successful push origin/<branch> is what we pushed; recording it
 * keeps ahead/behind right even without a fetch. A transaction, so the
 * test hook sits where the ref's lock file is held (a kill there leaves it
 * behind, which the next start removes). */
static int update_tracking_ref(struct md_git *g, struct md_err *err)
{
	git_transaction *tx = NULL;
	git_signature *sig = NULL;
	git_oid id;
	int rc = -1;

	if (git_reference_name_to_id(&id, g->repo, g->local_ref) < 0 ||
	    (g->author_name && g->author_email &&
	     git_signature_now(&sig, g->author_name, g->author_email) < 0) ||
	    git_transaction_new(&tx, g->repo) < 0 || git_transaction_lock_ref(tx, g->remote_ref) < 0)
		goto out;
	md_testhook("remote-tracking");
	if (git_transaction_set_target(tx, g->remote_ref, &id, sig, "magos-dominus: push") < 0 ||
	    git_transaction_commit(tx) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		md_git__fail(err, "pushed, but cannot update %s in %s", g->remote_ref, g->workdir);
	git_transaction_free(tx);
	git_signature_free(sig);
	return rc;
}

static int push_result(struct md_git *g, int rc, const struct md_git_op *op, const char *url,
		       struct md_err *err)
{
	const git_error *e;

	if (rc < 0) {
		e = git_error_last();
		if (rc == GIT_ENONFASTFORWARD || (e && is_push_race(e->message))) {
			md_git__fail(err, "git push origin (%s) was rejected as non-fast-forward "
				     "(someone else pushed first)", url);
			return 1;
		}
		return md_git__fail(err, "git push origin (%s)", url);
	}
	if (op->push_status[0]) {
		if (is_push_race(op->push_status)) {
			md_err_set(err, "git push origin (%s): %s was rejected as non-fast-forward "
				   "(%s)", url, op->push_ref, op->push_status);
			rc = 1;
		} else {
			rc = md_err_set(err, "git push origin (%s): the remote rejected %s: %s",
					url, op->push_ref, op->push_status);
		}
		if (err)
			md_git__redact(err->msg);
		return rc;
	}
	md_testhook("push"); /* origin has the commit; the tracking ref is still old */
	return update_tracking_ref(g, err);
}

int md_git_push(struct md_git *g, struct md_err *err)
{
	git_remote *origin = NULL;
	struct md_git_op op;
	char spec[600];
	char *url = NULL;
	int rc;

	if (md_git__require_writable(g, "push", err) < 0 ||
	    md_git__origin_remote(g, 1, &origin, &url, err) < 0)
		return -1;
	snprintf(spec, sizeof(spec), "%s:%s", g->local_ref, g->local_ref);
	rc = md_git__push_spec(g, origin, spec, &op);
	rc = push_result(g, rc, &op, url, err);
	git_remote_free(origin);
	free(url);
	return rc;
}
