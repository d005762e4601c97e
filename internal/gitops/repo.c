/* gitops: opening or cloning the agent's repository, HEAD and branch. */
#include "gitops_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A clone is made in a hidden sibling "<parent>/.<name>" CLONE_TMP_INFIX
 * "XXXXXX" and renamed into place, so a process killed half-way never
 * leaves a partial repository at the configured path, only that sibling,
 * which the next start removes (md_git_clear_clone_leftovers). */
#define CLONE_TMP_INFIX ".magos-clone-"

/* ---- errors ----------------------------------------------------------- */

void md_git__redact(char *s)
{
	char *p = s;

	while ((p = strstr(p, "://")) != NULL) {
		char *host = p + 3;
		size_t n = strcspn(host, "/@ \t\n'\"");

		if (host[n] == '@' && !(n == 3 && memcmp(host, "***", 3) == 0)) {
			/* scheme://userinfo@host -> scheme://(three stars)@host */
			memmove(host + 3, host + n, strlen(host + n) + 1);
			memcpy(host, "***", 3);
		}
		p = host;
	}
}

int md_git__fail(struct md_err *err, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	md_err_setv(err, fmt, ap);
	va_end(ap);
	if (e && e->message && e->message[0]) {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", e->message);
	}
	md_git__redact(err->msg);
	return -1;
}

const char *md_git__short(const git_oid *id, char buf[8])
{
	git_oid_tostr(buf, 8, id);
	return buf;
}

int md_git__require_writable(const struct md_git *g, const char *what, struct md_err *err)
{
	if (g->readonly)
		return md_err_set(err, "cannot %s in %s: the repository was opened read-only",
				  what, g->workdir);
	return 0;
}

/* ---- libgit2 lifetime -------------------------------------------------- */

int md_git__lib_init(struct md_err *err)
{
	if (git_libgit2_init() < 0)
		return md_git__fail(err, "cannot initialise libgit2");
	return 0;
}

void md_git__lib_shutdown(void)
{
	git_libgit2_shutdown();
}

/* libgit2 keeps one process-wide CA setting, and forgets it when its last
 * user shuts it down: set it on every open. With the mbedTLS backend
 * (Debian's) the file replaces the default bundle instead of adding to it. */
static int set_ca_file(const char *ca_file, struct md_err *err)
{
	if (ca_file && *ca_file &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca_file, NULL) < 0)
		return md_git__fail(err, "cannot load CA file %s", ca_file);
	return 0;
}

/* ---- handle ------------------------------------------------------------ */

void md_git_free(struct md_git *g)
{
	if (!g)
		return;
	if (g->repo) {
		git_repository_free(g->repo);
		md_git__lib_shutdown();
	}
	free(g->workdir);
	free(g->branch);
	free(g->local_ref);
	free(g->remote_ref);
	free(g->author_name);
	free(g->author_email);
	free(g);
}

const char *md_git_workdir(const struct md_git *g)
{
	return g->workdir;
}

static int check_opts(const struct md_git_opts *opts, struct md_err *err)
{
	char ref[512];
	int valid = 0;

	if (!opts || !opts->path || !opts->path[0])
		return md_err_set(err, "git: no repository path given");
	if (!opts->branch || !opts->branch[0])
		return md_err_set(err, "git: no branch given for repository %s", opts->path);
	if (snprintf(ref, sizeof(ref), "refs/heads/%s", opts->branch) >= (int)sizeof(ref) ||
	    git_reference_name_is_valid(&valid, ref) < 0 || !valid)
		return md_err_set(err, "git: \"%s\" is not a valid branch name", opts->branch);
	return 0;
}

static struct md_git *handle_new(const struct md_git_opts *opts)
{
	struct md_git *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->branch = md_strdup(opts->branch);
	g->local_ref = md_asprintf("refs/heads/%s", opts->branch);
	g->remote_ref = md_asprintf("refs/remotes/origin/%s", opts->branch);
	g->author_name = opts->author_name ? md_strdup(opts->author_name) : NULL;
	g->author_email = opts->author_email ? md_strdup(opts->author_email) : NULL;
	g->cred = opts->cred;
	g->cred_ctx = opts->cred_ctx;
	if (!g->branch || !g->local_ref || !g->remote_ref ||
	    (opts->author_name && !g->author_name) || (opts->author_email && !g->author_email)) {
		md_git_free(g);
		return NULL;
	}
	return g;
}

/* Keep libgit2's workdir without its trailing slash, as paths are joined
 * with "/" everywhere else. */
static int take_workdir(struct md_git *g, struct md_err *err)
{
	const char *wd = git_repository_workdir(g->repo);
	size_t n;

	if (!wd)
		return md_err_set(err, "repository %s is bare; magos-dominus needs a work tree",
				  git_repository_path(g->repo));
	n = strlen(wd);
	while (n > 1 && wd[n - 1] == '/')
		n--;
	g->workdir = md_strndup(wd, n);
	if (!g->workdir)
		return md_err_set(err, "out of memory");
	return 0;
}

/* A directory that is missing or empty is cloned into; anything else must
 * already be a repository. */
static int needs_clone(const char *path)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if (!md_path_exists(path))
		return 1;
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* Open without searching parent directories: a wrong MD_REPO must not
 * silently land in some enclosing repository. */
static int open_existing(struct md_git *g, const struct md_git_opts *opts, struct md_err *err)
{
	char *have = NULL;
	int rc;

	rc = git_repository_open_ext(&g->repo, opts->path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND) {
		g->repo = NULL;
		return md_err_set(err, "%s exists but is not a git repository", opts->path);
	}
	if (rc < 0) {
		g->repo = NULL;
		return md_git__fail(err, "cannot open git repository %s", opts->path);
	}
	if (git_repository_is_bare(g->repo))
		return md_err_set(err, "repository %s is bare; magos-dominus needs a work tree",
				  opts->path);
	rc = md_git__origin_url(g->repo, 0, &have, err);
	if (rc == 1)
		return md_err_set(err, "repository %s has no remote \"origin\"", opts->path);
	if (rc < 0)
		return -1;
	if (opts->url && strcmp(have, opts->url) != 0) {
		md_err_set(err, "repository %s has origin %s but the configured url is %s",
			   opts->path, have, opts->url);
		if (err)
			md_git__redact(err->msg);
		rc = -1;
	}
	free(have);
	return rc;
}

/* The first transfer progress of an operation is a test hook point: the
 * pack is being received (a kill there leaves partial objects). */
static int clone_progress_cb(const git_indexer_progress *stats, void *payload)
{
	struct md_git_op *op = payload;

	(void)stats;
	if (!op->progress_seen) {
		op->progress_seen = 1;
		md_testhook("clone");
	}
	return 0;
}

static int clone_into(const struct md_git_opts *opts, const char *dest, struct md_err *err)
{
	git_repository *repo = NULL;
	git_clone_options co;
	struct md_git_op op;

	md_git__op_init(&op, opts->cred, opts->cred_ctx);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.checkout_branch = opts->branch;
	co.checkout_opts.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.remote_cb = md_git__clone_remote_cb;
	co.fetch_opts.callbacks.credentials = md_git__cred_cb;
	co.fetch_opts.callbacks.transfer_progress = clone_progress_cb;
	co.fetch_opts.callbacks.payload = &op;
	if (git_clone(&repo, opts->url, dest, &co) < 0)
		return md_git__fail(err, "git clone %s into %s", opts->url, opts->path);
	git_repository_free(repo);
	return 0;
}

/* "<parent>/.<name>" CLONE_TMP_INFIX into buf; -1 when path has no name. */
static int clone_tmp_prefix(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path) : 1;
	int n;

	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -1;
	n = snprintf(buf, len, "%.*s/.%s" CLONE_TMP_INFIX, dirlen,
		     slash ? (slash == path ? "/" : path) : ".", name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A mount point (a volume mounted at MD_REPO) cannot be renamed over. */
static int is_mount_point(const char *path)
{
	char parent[4096];
	struct stat a, b;

	if (stat(path, &a) < 0 || snprintf(parent, sizeof(parent), "%s/..", path) >=
					  (int)sizeof(parent) || stat(parent, &b) < 0)
		return 0;
	return a.st_dev != b.st_dev;
}

/* The mode MD_REPO has (an empty directory made for it), or the one
 * mkdir would give it. */
static mode_t target_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(077);
	umask(mask);
	return 0777 & ~mask;
}

static int clone_repo(struct md_git *g, const struct md_git_opts *opts, struct md_err *err)
{
	struct md_git_op op;
	char tmp[4096 + 32];
	int rc;

	md_git__op_init(&op, opts->cred, opts->cred_ctx);
	if (md_git__remote_check_branch(opts->url, opts->branch, &op, err) < 0)
		return -1;
	if (clone_tmp_prefix(opts->path, tmp, sizeof(tmp) - 6) < 0 || is_mount_point(opts->path))
		return clone_into(opts, opts->path, err) < 0 ? -1 : open_existing(g, opts, err);
	md_strlcpy(tmp + strlen(tmp), "XXXXXX", 7);
	if (!mkdtemp(tmp)) {
		/* a parent we may not write to: clone in place */
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return clone_into(opts, opts->path, err) < 0 ? -1
								    : open_existing(g, opts, err);
		return md_err_set(err, "cannot create a directory to clone %s into next to %s: %s",
				  opts->url, opts->path, strerror(errno));
	}
	rc = clone_into(opts, tmp, err);
	/* rename(2) replaces an empty directory: MD_REPO may exist, empty,
	 * and keeps its mode (mkdtemp made ours 0700) */
	if (rc == 0 && chmod(tmp, target_mode(opts->path)) < 0)
		rc = md_err_set(err, "cannot set the mode of %s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, opts->path) < 0)
		rc = md_err_set(err, "cannot move the new clone into %s: %s", opts->path,
				strerror(errno));
	if (rc < 0) {
		md_remove_tree(tmp, NULL);
		return -1;
	}
	return open_existing(g, opts, err);
}

int md_git_clear_clone_leftovers(const char *path, struct md_strv *removed, struct md_err *err)
{
	char prefix[4096 + 32], *slash, *base;
	struct dirent *de;
	size_t blen;
	DIR *d;
	int rc = 0;

	if (clone_tmp_prefix(path, prefix, sizeof(prefix)) < 0)
		return 0;
	slash = strrchr(prefix, '/');
	*slash = '\0';
	base = slash + 1;
	blen = strlen(base);
	d = opendir(prefix[0] ? prefix : "/");
	if (!d)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot read directory %s: %s", prefix,
							  strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *full;

		if (strncmp(de->d_name, base, blen) != 0 || strlen(de->d_name + blen) != 6)
			continue;
		full = md_asprintf("%s/%s", prefix[0] ? prefix : "", de->d_name);
		if (!full) {
			rc = md_err_set(err, "out of memory");
			break;
		}
		rc = md_remove_tree(full, err);
		if (rc == 0 && removed && md_strv_push(removed, full) < 0)
			rc = md_err_set(err, "out of memory");
		free(full);
	}
	closedir(d);
	return rc;
}

static int open_common(struct md_git **out, const struct md_git_opts *opts, int readonly,
		       struct md_err *err)
{
	struct md_git *g = NULL;
	int rc = -1;

	*out = NULL;
	if (check_opts(opts, err) < 0)
		return -1;
	if (md_git__lib_init(err) < 0)
		return -1;
	g = handle_new(opts);
	if (!g) {
		md_err_set(err, "out of memory");
		goto out;
	}
	g->readonly = readonly;
	if (!readonly && set_ca_file(opts->ca_file, err) < 0)
		goto out;
	if (needs_clone(opts->path)) {
		if (readonly || !opts->url) {
			md_err_set(err, "repository %s %s%s", opts->path,
				   md_path_exists(opts->path) ? "is an empty directory"
							      : "does not exist",
				   readonly ? "" : " and no url is configured to clone it from");
			goto out;
		}
		if (clone_repo(g, opts, err) < 0)
			goto out;
	} else if (open_existing(g, opts, err) < 0) {
		goto out;
	}
	if (take_workdir(g, err) < 0)
		goto out;
	if (!readonly && md_git__ensure_branch(g, 1, err) < 0)
		goto out;
	*out = g;
	g = NULL;
	rc = 0;
out:
	if (rc < 0 && (!g || !g->repo))
		md_git__lib_shutdown(); /* md_git_free only shuts down with a repo */
	md_git_free(g);
	return rc;
}

int md_git_open(struct md_git **out, const struct md_git_opts *opts, struct md_err *err)
{
	return open_common(out, opts, 0, err);
}

int md_git_open_readonly(struct md_git **out, const struct md_git_opts *opts,
			 struct md_err *err)
{
	return open_common(out, opts, 1, err);
}

/* ---- HEAD and branch --------------------------------------------------- */

int md_git_head(struct md_git *g, char oid[41], struct md_err *err)
{
	git_oid id;
	int rc;

	oid[0] = '\0';
	rc = git_repository_head_unborn(g->repo);
	if (rc == 1)
		return 0;
	if (rc < 0 || git_reference_name_to_id(&id, g->repo, "HEAD") < 0)
		return md_git__fail(err, "cannot resolve HEAD of repository %s", g->workdir);
	git_oid_tostr(oid, 41, &id);
	return 0;
}

/* The symbolic target of HEAD ("refs/heads/x"), or NULL when detached. */
static int head_target(struct md_git *g, char **out, struct md_err *err)
{
	git_reference *head = NULL;
	const char *t;

	*out = NULL;
	if (git_reference_lookup(&head, g->repo, "HEAD") < 0)
		return md_git__fail(err, "cannot read HEAD of repository %s", g->workdir);
	t = git_reference_symbolic_target(head);
	if (t) {
		*out = md_strdup(t);
		if (!*out) {
			git_reference_free(head);
			return md_err_set(err, "out of memory");
		}
	}
	git_reference_free(head);
	return 0;
}

int md_git__require_on_branch(struct md_git *g, struct md_err *err)
{
	char *target = NULL;
	int rc;

	if (head_target(g, &target, err) < 0)
		return -1;
	rc = target && strcmp(target, g->local_ref) == 0 ? 0 : -1;
	if (rc < 0)
		md_err_set(err, "repository %s has %s checked out, not branch %s", g->workdir,
			   target ? target : "a detached HEAD", g->branch);
	free(target);
	return rc;
}

/* branch.<b>.remote/merge, as git_branch_set_upstream() would write them
 * (which goes through the leaking remote iteration, see gitops_int.h). */
static int set_upstream(struct md_git *g, struct md_err *err)
{
	git_config *cfg = NULL;
	char key[300];
	int rc = 0;

	if (git_repository_config(&cfg, g->repo) < 0)
		return md_git__fail(err, "cannot open the git config of %s", g->workdir);
	snprintf(key, sizeof(key), "branch.%s.remote", g->branch);
	if (git_config_set_string(cfg, key, "origin") < 0)
		rc = -1;
	snprintf(key, sizeof(key), "branch.%s.merge", g->branch);
	if (rc == 0 && git_config_set_string(cfg, key, g->local_ref) < 0)
		rc = -1;
	if (rc < 0)
		md_git__fail(err, "cannot set the upstream of branch %s in %s", g->branch,
			     g->workdir);
	git_config_free(cfg);
	return rc;
}

/* The commit the local branch should be switched to: the branch itself, or
 * a new branch created at origin/<branch> (with upstream set). */
static int branch_commit(struct md_git *g, git_commit **out, struct md_err *err)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int rc;

	rc = git_reference_lookup(&ref, g->repo, g->local_ref);
	if (rc == GIT_ENOTFOUND) {
		if (git_revparse_single(&obj, g->repo, g->remote_ref) < 0)
			return md_err_set(err, "repository %s has no branch %s and no origin/%s "
				"to create it from", g->workdir, g->branch, g->branch);
		rc = git_branch_create(&ref, g->repo, g->branch, (git_commit *)obj, 0);
		git_object_free(obj);
		obj = NULL;
		if (rc < 0)
			return md_git__fail(err, "cannot create branch %s in %s", g->branch,
					    g->workdir);
		if (set_upstream(g, err) < 0) {
			git_reference_free(ref);
			return -1;
		}
	} else if (rc < 0) {
		return md_git__fail(err, "cannot read branch %s in %s", g->branch, g->workdir);
	}
	rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	if (rc < 0)
		return md_git__fail(err, "branch %s in %s does not point at a commit", g->branch,
				    g->workdir);
	*out = (git_commit *)obj;
	return 0;
}

/* 1 when the ref exists. */
static int ref_exists(struct md_git *g, const char *name)
{
	git_oid id;

	return git_reference_name_to_id(&id, g->repo, name) == 0;
}

int md_git__ensure_branch(struct md_git *g, int defer, struct md_err *err)
{
	git_checkout_options co;
	git_commit *commit = NULL;
	char *target = NULL;
	int rc = -1;

	if (head_target(g, &target, err) < 0)
		return -1;
	if (target && strcmp(target, g->local_ref) == 0) {
		free(target);
		return 0; /* already there (possibly unborn: sync creates it) */
	}
	free(target);
	/* A clone cut short, or `git init` + `remote add origin`: the branch
	 * comes with the first fetch, which sync makes before asking again. */
	if (defer && !ref_exists(g, g->local_ref) && !ref_exists(g, g->remote_ref))
		return 0;
	/* Switching rewrites the work tree: only ever over a clean one. */
	if (md_git__require_clean(g, err) < 0)
		return -1;
	if (branch_commit(g, &commit, err) < 0)
		return -1;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (git_checkout_tree(g->repo, (const git_object *)commit, &co) < 0) {
		md_git__fail(err, "cannot check out branch %s in %s", g->branch, g->workdir);
		goto out;
	}
	if (git_repository_set_head(g->repo, g->local_ref) < 0) {
		md_git__fail(err, "cannot switch HEAD of %s to branch %s", g->workdir, g->branch);
		goto out;
	}
	rc = 0;
out:
	git_commit_free(commit);
	return rc;
}
