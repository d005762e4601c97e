/* gitops: real repositories in a temporary directory, built with libgit2;
 * remotes over file:// and a tiny in-process HTTP server for credentials. */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/gitops.h"

#define SEED_WEB "services:\n  web:\n    image: web:1.0\n"

struct fx {
	char root[64];
	char remote[128];
	char url[160];
	char path[4][128]; /* clones a, b, c, d */
	char seed[41];
};

/* ---- helpers ----------------------------------------------------------- */

static void write_file(const char *dir, const char *rel, const char *data)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	*strrchr(full, '/') = '\0';
	assert_int_equal(md_mkdir_p(full, 0755, NULL), 0);
	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	assert_int_equal(md_file_write_atomic(full, data, strlen(data), 0644, NULL), 0);
}

static char *read_all(const char *dir, const char *rel)
{
	char full[PATH_MAX];
	char *out;
	size_t n;

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	assert_int_equal(md_file_read(full, 1 << 20, &out, &n, NULL), 0);
	return out;
}

/* Commit files (path, content pairs; NULL content deletes) directly into
 * the bare remote's branch on top of its tip: "someone else pushed". */
static void remote_commit(const char *bare, const char *branch, const char *const *files,
			  size_t nfiles, const char *msg, char oid[41])
{
	git_repository *repo;
	git_index *idx;
	git_oid blob, tree_id, id;
	git_tree *tree;
	git_commit *parent = NULL;
	git_signature *sig;
	char ref[128];
	const git_commit *parents[1];

	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	assert_int_equal(git_repository_open(&repo, bare), 0);
	assert_int_equal(git_index_new(&idx), 0);
	if (git_reference_name_to_id(&id, repo, ref) == 0) {
		git_tree *pt;

		assert_int_equal(git_commit_lookup(&parent, repo, &id), 0);
		assert_int_equal(git_commit_tree(&pt, parent), 0);
		assert_int_equal(git_index_read_tree(idx, pt), 0);
		git_tree_free(pt);
	}
	for (size_t i = 0; i < nfiles; i++) {
		git_index_entry e;

		if (!files[2 * i + 1]) {
			assert_int_equal(git_index_remove_bypath(idx, files[2 * i]), 0);
			continue;
		}
		memset(&e, 0, sizeof(e));
		assert_int_equal(git_blob_create_from_buffer(&blob, repo, files[2 * i + 1],
							     strlen(files[2 * i + 1])), 0);
		e.path = files[2 * i];
		e.mode = GIT_FILEMODE_BLOB;
		e.id = blob;
		assert_int_equal(git_index_add(idx, &e), 0);
	}
	assert_int_equal(git_index_write_tree_to(&tree_id, idx, repo), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_signature_new(&sig, "Other", "other@example.org", 1700000000, 0), 0);
	parents[0] = parent;
	assert_int_equal(git_commit_create(&id, repo, ref, sig, sig, NULL, msg, tree,
					   parent ? 1 : 0, parents), 0);
	if (oid)
		git_oid_tostr(oid, 41, &id);
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	git_index_free(idx);
	git_repository_free(repo);
}

static void ref_hex(const char *repo_path, const char *ref, char out[41])
{
	git_repository *repo;
	git_oid id;

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	out[0] = '\0';
	if (git_reference_name_to_id(&id, repo, ref) == 0)
		git_oid_tostr(out, 41, &id);
	git_repository_free(repo);
}

/* Config values read and written directly: git_remote_lookup() and friends
 * leak in libgit2 1.5 (see internal/gitops/gitops_int.h). */
static void config_get(const char *repo_path, const char *key, char *out, size_t outlen)
{
	git_repository *repo;
	git_config *cfg;
	const char *v = "";

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	assert_int_equal(git_repository_config_snapshot(&cfg, repo), 0);
	git_config_get_string(&v, cfg, key);
	md_strlcpy(out, v, outlen);
	git_config_free(cfg);
	git_repository_free(repo);
}

static void config_set(const char *repo_path, const char *key, const char *val)
{
	git_repository *repo;
	git_config *cfg;

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	assert_int_equal(git_repository_config(&cfg, repo), 0);
	assert_int_equal(git_config_set_string(cfg, key, val), 0);
	git_config_free(cfg);
	git_repository_free(repo);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static struct md_git_opts opts_for(const struct fx *f, int i)
{
	struct md_git_opts o;

	memset(&o, 0, sizeof(o));
	o.path = f->path[i];
	o.url = f->url;
	o.branch = "main";
	o.author_name = "Magos Bot";
	o.author_email = "bot@example.org";
	return o;
}

static struct md_git *open_ok(const struct fx *f, int i)
{
	struct md_git_opts o = opts_for(f, i);
	struct md_git *g = NULL;
	struct md_err err = { "" };
	int rc = md_git_open(&g, &o, &err);

	if (rc != 0)
		fail_msg("md_git_open: %s", err.msg);
	return g;
}

/* A handle on clone i committing as someone other than the agent. */
static struct md_git *open_as_user(const struct fx *f, int i)
{
	struct md_git_opts o = opts_for(f, i);
	struct md_git *g = NULL;
	struct md_err err = { "" };

	o.author_name = "Some User";
	o.author_email = "user@example.org";
	if (md_git_open(&g, &o, &err) != 0)
		fail_msg("md_git_open: %s", err.msg);
	return g;
}

static void commit_ok(struct md_git *g, const char *rel, const char *data, char oid[41])
{
	const char *paths[1] = { rel };
	struct md_err err = { "" };

	write_file(md_git_workdir(g), rel, data);
	if (md_git_commit(g, paths, 1, "update", oid, &err) != 0)
		fail_msg("md_git_commit: %s", err.msg);
}

static void stage(struct md_git *g, const char *rel)
{
	git_repository *repo;
	git_index *idx;

	assert_int_equal(git_repository_open(&repo, md_git_workdir(g)), 0);
	assert_int_equal(git_repository_index(&idx, repo), 0);
	assert_int_equal(git_index_add_bypath(idx, rel), 0);
	assert_int_equal(git_index_write(idx), 0);
	git_index_free(idx);
	git_repository_free(repo);
}

#define assert_contains(hay, needle)                                                       \
	do {                                                                               \
		if (!strstr((hay), (needle)))                                              \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));       \
	} while (0)

/* ---- fixture: bare remote with a seed commit on main ------------------------- */

static int setup(void **state)
{
	static const char *const seed[] = {
		"README.md", "hello\n",
		"compose/web.yaml", SEED_WEB,
		".gitignore", "*.log\nignored/\n",
	};
	git_repository *bare;
	git_repository_init_options io;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->root, "/tmp/md-gitops-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->remote, sizeof(f->remote), "%s/remote.git", f->root);
	snprintf(f->url, sizeof(f->url), "file://%s", f->remote);
	for (int i = 0; i < 4; i++) {
		char p[sizeof(f->path[i])];

		snprintf(p, sizeof(p), "%s/%c", f->root, 'a' + i);
		memcpy(f->path[i], p, sizeof(p));
	}
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	assert_int_equal(git_repository_init_ext(&bare, f->remote, &io), 0);
	git_repository_free(bare);
	remote_commit(f->remote, "main", seed, 3, "seed\n", f->seed);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- open ----------------------------------------------------------------- */

static void test_open_clones(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char head[41], *web, val[256];
	struct md_err err;

	assert_string_equal(md_git_workdir(g), f->path[0]);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, f->seed);
	web = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(web, SEED_WEB);
	free(web);
	config_get(f->path[0], "remote.origin.url", val, sizeof(val));
	assert_string_equal(val, f->url);
	config_get(f->path[0], "remote.origin.fetch", val, sizeof(val));
	assert_string_equal(val, "+refs/heads/*:refs/remotes/origin/*");
	config_get(f->path[0], "branch.main.remote", val, sizeof(val));
	assert_string_equal(val, "origin");
	md_git_free(g);
	md_git_free(NULL);
	/* reopening the existing clone works and changes nothing */
	g = open_ok(f, 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, f->seed);
	md_git_free(g);
}

static void test_open_clone_other_branch(void **state)
{
	static const char *const rel[] = { "compose/web.yaml", "image: web:2.0\n" };
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g = NULL;
	struct md_err err;
	char want[41], head[41], *web;

	remote_commit(f->remote, "release", rel, 1, "release\n", want);
	o.branch = "release";
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, want);
	web = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(web, "image: web:2.0\n");
	free(web);
	md_git_free(g);
}

static void test_open_switches_branch(void **state)
{
	static const char *const rel[] = { "compose/web.yaml", "image: web:2.0\n" };
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g;
	struct md_err err;
	char want[41], head[41], *web, web_merge[64];

	remote_commit(f->remote, "release", rel, 1, "release\n", want);
	md_git_free(open_ok(f, 0)); /* on main; the clone knows origin/release */
	o.branch = "nope";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "has no branch nope and no origin/nope to create it from");
	/* a dirty tree is never switched */
	write_file(f->path[0], "README.md", "local\n");
	o.branch = "release";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "uncommitted changes (README.md)");
	write_file(f->path[0], "README.md", "hello\n");
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, want);
	web = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(web, "image: web:2.0\n");
	free(web);
	config_get(f->path[0], "branch.release.merge", web_merge, sizeof(web_merge));
	assert_string_equal(web_merge, "refs/heads/release");
	assert_int_equal(md_git_sync(g, &err), 0); /* nothing moves */
	md_git_free(g);
}

static void test_open_url_mismatch(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g = open_ok(f, 0);
	struct md_err err;

	md_git_free(g);
	o.url = "https://x-access-token:s3cret@example.org/other.git";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_null(g);
	assert_contains(err.msg, f->url);
	assert_contains(err.msg, "https://***@example.org/other.git");
	assert_null(strstr(err.msg, "s3cret"));
	/* no url at all: the existing origin is accepted */
	o.url = NULL;
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	md_git_free(g);
}

static void test_open_empty_remote(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g = NULL;
	git_repository *bare;
	char path[160], url[200];
	struct md_err err;

	snprintf(path, sizeof(path), "%s/empty.git", f->root);
	snprintf(url, sizeof(url), "file://%s", path);
	assert_int_equal(git_repository_init(&bare, path, 1), 0);
	git_repository_free(bare);
	o.url = url;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "is empty (it has no branches yet)");
	assert_contains(err.msg, url);
	assert_false(md_path_exists(f->path[0]));
	/* a branch the remote lacks */
	o.url = f->url;
	o.branch = "nope";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "has no branch nope");
	o.branch = "bad..name";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "not a valid branch name");
}

static void test_open_not_a_clone(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g = NULL;
	git_repository *repo;
	struct md_err err;

	o.url = NULL;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "does not exist and no url");
	assert_int_equal(mkdir(f->path[0], 0700), 0);
	write_file(f->path[0], "x", "x\n");
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "exists but is not a git repository");
	assert_int_equal(git_repository_init(&repo, f->path[1], 0), 0);
	git_repository_free(repo);
	o.path = f->path[1];
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "has no remote \"origin\"");
	o.path = f->remote;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "is bare");
	/* an empty directory (systemd StateDirectory=) is cloned into */
	assert_int_equal(mkdir(f->path[2], 0700), 0);
	o = opts_for(f, 2);
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	md_git_free(g);
	/* a CA file that cannot be loaded is an error, never ignored */
	o = opts_for(f, 3);
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_contains(err.msg, "cannot load CA file /nonexistent/ca.pem");
}

static void test_open_readonly(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct md_git *g = NULL;
	const char *paths[] = { "README.md" };
	char head[41], oid[41];
	struct md_err err;

	assert_int_equal(md_git_open_readonly(&g, &o, &err), -1);
	assert_contains(err.msg, "does not exist");
	assert_false(md_path_exists(f->path[0]));
	md_git_free(open_ok(f, 0));
	assert_int_equal(md_git_open_readonly(&g, &o, &err), 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, f->seed);
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "read-only");
	write_file(f->path[0], "README.md", "changed\n");
	assert_int_equal(md_git_commit(g, paths, 1, "x", oid, &err), -1);
	assert_contains(err.msg, "read-only");
	assert_int_equal(md_git_push(g, &err), -1);
	assert_int_equal(md_git_reset_to_remote(g, &err), -1);
	md_git_free(g);
}

/* A clone whose remote was empty: HEAD is unborn until the first sync. */
static void test_head_unborn_then_sync(void **state)
{
	struct fx *f = *state;
	git_repository_init_options io;
	git_repository *repo;
	struct md_git *g;
	char head[41];
	struct md_err err;

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	assert_int_equal(git_repository_init_ext(&repo, f->path[0], &io), 0);
	git_repository_free(repo);
	config_set(f->path[0], "remote.origin.url", f->url);
	config_set(f->path[0], "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
	g = open_ok(f, 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, "");
	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, f->seed);
	{
		char *web = read_all(f->path[0], "compose/web.yaml");

		assert_string_equal(web, SEED_WEB);
		free(web);
	}
	md_git_free(g);
}

/* ---- sync ------------------------------------------------------------------- */

static void test_sync_fast_forwards(void **state)
{
	struct fx *f = *state;
	static const char *const gone[] = { "README.md", NULL,
					    "stacks/db/compose.yaml", "image: db:1\n" };
	struct md_git *a = open_ok(f, 0), *b = open_ok(f, 1);
	char oid[41], head[41], path[PATH_MAX], *web;
	struct md_err err;

	commit_ok(b, "compose/web.yaml", "image: web:1.1\n", oid);
	assert_int_equal(md_git_push(b, &err), 0);
	assert_int_equal(md_git_sync(a, &err), 0);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, oid);
	web = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(web, "image: web:1.1\n");
	free(web);
	/* nothing new: a no-op */
	assert_int_equal(md_git_sync(a, &err), 0);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, oid);
	/* files deleted upstream disappear, new ones appear */
	remote_commit(f->remote, "main", gone, 2, "rm\n", oid);
	assert_int_equal(md_git_sync(a, &err), 0);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, oid);
	snprintf(path, sizeof(path), "%s/README.md", f->path[0]);
	assert_false(md_path_exists(path));
	web = read_all(f->path[0], "stacks/db/compose.yaml");
	assert_string_equal(web, "image: db:1\n");
	free(web);
	md_git_free(a);
	md_git_free(b);
}

static void test_sync_refuses_modified(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_err err;

	write_file(f->path[0], "compose/web.yaml", "image: web:9\n");
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_string_equal(strstr(err.msg, "has uncommitted changes"),
			    "has uncommitted changes (compose/web.yaml); commit or stash them "
			    "— magos-dominus never overwrites local work");
	assert_contains(err.msg, f->path[0]);
	md_git_free(g);
}

static void test_sync_refuses_untracked(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_err err;

	write_file(f->path[0], "new.yaml", "x: 1\n");
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "uncommitted changes (new.yaml)");
	md_git_free(g);
}

static void test_sync_refuses_staged_and_deleted(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char path[PATH_MAX];
	struct md_err err;

	write_file(f->path[0], "staged.yaml", "x: 1\n");
	stage(g, "staged.yaml");
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "uncommitted changes (staged.yaml)");
	unlink(strcat(strcpy(path, f->path[0]), "/staged.yaml"));
	/* the staged file is still in the index (staged add, deleted in tree) */
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "staged.yaml");
	md_git_free(g);

	md_git_free(open_ok(f, 1));
	g = open_ok(f, 1);
	snprintf(path, sizeof(path), "%s/README.md", f->path[1]);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "uncommitted changes (README.md)");
	md_git_free(g);
}

static void test_sync_lists_five_and_more(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_err err;
	char name[32];

	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "n%d.yaml", i);
		write_file(f->path[0], name, "x\n");
	}
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "(n0.yaml, n1.yaml, n2.yaml, n3.yaml, n4.yaml and 2 more)");
	md_git_free(g);
}

static void test_sync_ignores_ignored(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_err err;

	write_file(f->path[0], "debug.log", "noise\n");
	write_file(f->path[0], "ignored/cache.yaml", "x\n");
	write_file(f->path[0], "tmp/only-ignored.log", "x\n");
	assert_int_equal(md_git_sync(g, &err), 0);
	md_git_free(g);
}

static void test_sync_diverged(void **state)
{
	struct fx *f = *state;
	struct md_git *a = open_ok(f, 0), *b = open_ok(f, 1), *u = open_as_user(f, 0);
	char oa[41], ob[41], head[41], want[256];
	struct md_err err;

	commit_ok(b, "compose/web.yaml", "image: web:1.1\n", ob);
	assert_int_equal(md_git_push(b, &err), 0);
	commit_ok(u, "README.md", "mine\n", oa);
	assert_int_equal(md_git_sync(a, &err), -1);
	snprintf(want, sizeof(want), "local branch main (%.7s) and origin/main (%.7s) have "
		 "diverged; resolve it by hand — magos-dominus never rewrites history", oa, ob);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, oa);
	md_git_free(a);
	md_git_free(b);
	md_git_free(u);
}

static void test_sync_user_commit_ahead_refused(void **state)
{
	struct fx *f = *state;
	struct md_git *a = open_ok(f, 0), *u = open_as_user(f, 0);
	char oa[41], head[41], tip[41], want[300];
	struct md_err err;

	ref_hex(f->remote, "refs/heads/main", tip);
	commit_ok(u, "README.md", "unpushed\n", oa);
	assert_int_equal(md_git_sync(a, &err), -1);
	snprintf(want, sizeof(want), "local branch main (%.7s) has 1 commit(s) not on origin/main "
		 "that magos-dominus did not make; push or remove them by hand — magos-dominus "
		 "never pushes work it did not make", oa);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, oa);
	md_git_free(a);
	md_git_free(u);
}

static void test_sync_drops_own_unpushed_commit(void **state)
{
	struct fx *f = *state;
	struct md_git *a = open_ok(f, 0), *b = open_ok(f, 1);
	char oa[41], ob[41], head[41];
	struct md_err err;

	/* an interrupted cycle left the agent's own commit unpushed, and the
	 * remote moved meanwhile: the commit is reproducible, so it goes */
	commit_ok(a, "compose/web.yaml", "image: web:1.1\n", oa);
	commit_ok(b, "README.md", "theirs\n", ob);
	assert_int_equal(md_git_push(b, &err), 0);
	assert_int_equal(md_git_sync(a, &err), 0);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, ob);
	md_git_free(a);
	md_git_free(b);
}

/* ---- commit and push ---------------------------------------------------------- */

static void test_commit_push_lands(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	const char *paths[] = { "compose/web.yaml", "README.md" };
	const char *msg = "magos: web 1.0 -> 1.1\n\nweb.yaml:3 semver ^1\n";
	git_repository *repo;
	git_commit *c;
	git_oid id;
	char oid[41], tip[41];
	struct md_err err;

	write_file(f->path[0], "compose/web.yaml", "image: web:1.1\n");
	write_file(f->path[0], "README.md", "hello again\n");
	assert_int_equal(md_git_commit(g, paths, 2, msg, oid, &err), 0);
	assert_int_equal(strlen(oid), 40);
	assert_int_equal(md_git_push(g, &err), 0);
	ref_hex(f->remote, "refs/heads/main", tip);
	assert_string_equal(tip, oid);
	ref_hex(f->path[0], "refs/remotes/origin/main", tip);
	assert_string_equal(tip, oid);
	assert_int_equal(git_repository_open(&repo, f->remote), 0);
	assert_int_equal(git_oid_fromstr(&id, oid), 0);
	assert_int_equal(git_commit_lookup(&c, repo, &id), 0);
	assert_string_equal(git_commit_author(c)->name, "Magos Bot");
	assert_string_equal(git_commit_author(c)->email, "bot@example.org");
	assert_string_equal(git_commit_committer(c)->name, "Magos Bot");
	assert_string_equal(git_commit_committer(c)->email, "bot@example.org");
	assert_string_equal(git_commit_message(c), msg);
	assert_int_equal(git_commit_parentcount(c), 1);
	git_oid_tostr(tip, sizeof(tip), git_commit_parent_id(c, 0));
	assert_string_equal(tip, f->seed);
	git_commit_free(c);
	git_repository_free(repo);
	/* the tree is clean again */
	assert_int_equal(md_git_sync(g, &err), 0);
	/* pushing again with nothing new is fine */
	assert_int_equal(md_git_push(g, &err), 0);
	md_git_free(g);
}

static void test_commit_nothing(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	const char *paths[] = { "compose/web.yaml" };
	char oid[41], head[41];
	struct md_err err;

	assert_int_equal(md_git_commit(g, paths, 1, "noop", oid, &err), -1);
	assert_contains(err.msg, "nothing to commit");
	assert_int_equal(md_git_commit(g, paths, 0, "noop", oid, &err), -1);
	assert_contains(err.msg, "nothing to commit");
	write_file(f->path[0], "compose/web.yaml", "image: web:1.1\n");
	assert_int_equal(md_git_commit(g, paths, 1, "", oid, &err), -1);
	assert_contains(err.msg, "empty commit message");
	assert_int_equal(md_git_head(g, head, &err), 0);
	assert_string_equal(head, f->seed);
	md_git_free(g);
}

static void test_commit_bad_paths(void **state)
{
	static const struct {
		const char *path, *want;
	} bad[] = {
		{ "../outside.yaml", "not a path inside the work tree" },
		{ "/etc/passwd", "not a path inside the work tree" },
		{ ".git/config", "not a path inside the work tree" },
		{ "compose/./web.yaml", "not a path inside the work tree" },
		{ "missing.yaml", "missing.yaml" },
		{ "compose", "not a file" },
		{ "esc/outside.yaml", "outside the work tree" },
	};
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char link[PATH_MAX], oid[41];
	struct md_err err;

	write_file(f->root, "outside.yaml", "x\n");
	snprintf(link, sizeof(link), "%s/esc", f->path[0]);
	assert_int_equal(symlink(f->root, link), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *paths[] = { "README.md", bad[i].path };

		write_file(f->path[0], "README.md", "changed\n");
		assert_int_equal(md_git_commit(g, paths, 2, "x", oid, &err), -1);
		assert_contains(err.msg, bad[i].want);
	}
	md_git_free(g);
}

static void test_commit_refuses_other_staged(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	const char *paths[] = { "compose/web.yaml" };
	char oid[41];
	struct md_err err;

	write_file(f->path[0], "README.md", "user edit\n");
	stage(g, "README.md");
	write_file(f->path[0], "compose/web.yaml", "image: web:1.1\n");
	assert_int_equal(md_git_commit(g, paths, 1, "x", oid, &err), -1);
	assert_contains(err.msg, "other staged changes (README.md)");
	md_git_free(g);
}

static void test_commit_too_many_paths(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	const char **paths = calloc(10001, sizeof(*paths));
	char oid[41];
	struct md_err err;

	for (size_t i = 0; i < 10001; i++)
		paths[i] = "README.md";
	assert_int_equal(md_git_commit(g, paths, 10001, "x", oid, &err), -1);
	assert_contains(err.msg, "refusing to commit 10001 files");
	free(paths);
	md_git_free(g);
}

static void test_push_race_then_reset(void **state)
{
	struct fx *f = *state;
	struct md_git *a = open_ok(f, 0), *b = open_ok(f, 1);
	const char *paths[] = { "compose/web.yaml" };
	char oa[41], ob[41], head[41], tip[41], *readme;
	git_repository *repo;
	git_commit *c;
	git_oid id;
	struct md_err err;

	commit_ok(b, "README.md", "theirs\n", ob);
	assert_int_equal(md_git_push(b, &err), 0);
	commit_ok(a, "compose/web.yaml", "image: web:1.1\n", oa);
	assert_int_equal(md_git_push(a, &err), 1);
	assert_contains(err.msg, "non-fast-forward");
	assert_contains(err.msg, f->url);
	ref_hex(f->remote, "refs/heads/main", tip);
	assert_string_equal(tip, ob);
	/* the daemon's race path: reset, sync, re-apply, push */
	assert_int_equal(md_git_reset_to_remote(a, &err), 0);
	assert_int_equal(md_git_sync(a, &err), 0);
	assert_int_equal(md_git_head(a, head, &err), 0);
	assert_string_equal(head, ob);
	readme = read_all(f->path[0], "README.md");
	assert_string_equal(readme, "theirs\n");
	free(readme);
	write_file(f->path[0], "compose/web.yaml", "image: web:1.1\n");
	assert_int_equal(md_git_commit(a, paths, 1, "again", oa, &err), 0);
	assert_int_equal(md_git_push(a, &err), 0);
	ref_hex(f->remote, "refs/heads/main", tip);
	assert_string_equal(tip, oa);
	assert_int_equal(git_repository_open(&repo, f->remote), 0);
	assert_int_equal(git_oid_fromstr(&id, oa), 0);
	assert_int_equal(git_commit_lookup(&c, repo, &id), 0);
	git_oid_tostr(tip, sizeof(tip), git_commit_parent_id(c, 0));
	assert_string_equal(tip, ob);
	git_commit_free(c);
	git_repository_free(repo);
	md_git_free(a);
	md_git_free(b);
}

/* ---- files and diffs --------------------------------------------------------- */

static void expect_files(struct md_git *g, const char *const *globs, size_t nglobs,
			 const char *const *want, size_t nwant)
{
	struct md_strv gv = { 0 }, out = { 0 };
	struct md_err err;

	for (size_t i = 0; i < nglobs; i++)
		assert_int_equal(md_strv_push(&gv, globs[i]), 0);
	if (md_git_list_files(g, &gv, &out, &err) != 0)
		fail_msg("md_git_list_files: %s", err.msg);
	for (size_t i = 0; i < out.n && i < nwant; i++)
		assert_string_equal(out.v[i], want[i]);
	assert_int_equal(out.n, nwant);
	md_strv_free(&gv);
	md_strv_free(&out);
}

static void test_list_files(void **state)
{
	static const char *const g1[] = { "**/compose.yaml" };
	static const char *const w1[] = { "compose.yaml", "stacks/db/compose.yaml",
					  "stacks/db/deep/x/compose.yaml", "stacks/web/compose.yaml" };
	static const char *const g2[] = { "stacks/**/compose.yaml", "*.md" };
	static const char *const w2[] = { "README.md", "stacks/db/compose.yaml",
					  "stacks/db/deep/x/compose.yaml", "stacks/web/compose.yaml" };
	static const char *const g3[] = { "stacks/*/compose.yaml", "compose/**" };
	static const char *const w3[] = { "compose/web.yaml", "stacks/db/compose.yaml",
					  "stacks/web/compose.yaml" };
	static const char *const g4[] = { "**/*.log", "stacks/db/**/x/*.yaml" };
	static const char *const w4[] = { "stacks/db/deep/x/compose.yaml" };
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char link[PATH_MAX];

	write_file(f->path[0], "compose.yaml", "a\n");
	write_file(f->path[0], "stacks/web/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/deep/x/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/compose.yml", "a\n");
	write_file(f->path[0], "ignored/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/.gitignore", "old/\n");
	write_file(f->path[0], "stacks/old/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/web/x.log", "a\n");
	snprintf(link, sizeof(link), "%s/linked", f->path[0]);
	assert_int_equal(symlink("stacks", link), 0);
	snprintf(link, sizeof(link), "%s/stacks/web/alias.yaml", f->path[0]);
	assert_int_equal(symlink("compose.yaml", link), 0);
	expect_files(g, g1, 1, w1, 4);
	expect_files(g, g2, 2, w2, 4);
	expect_files(g, g3, 2, w3, 3);
	expect_files(g, g4, 2, w4, 1);
	md_git_free(g);
}

static void test_diff_buffers(void **state)
{
	const char *old = "services:\n  web:\n    image: web:1.0\n    ports: [80]\n";
	const char *new = "services:\n  web:\n    image: web:1.1\n    ports: [80]\n";
	char *out = NULL;
	struct md_err err;

	(void)state;
	assert_int_equal(md_git_diff_buffers(&out, "compose/web.yaml", old, strlen(old), new,
					     strlen(new), &err), 0);
	assert_string_equal(out,
		"diff --git a/compose/web.yaml b/compose/web.yaml\n"
		"index e7ba630..a9ece8c 100644\n"
		"--- a/compose/web.yaml\n"
		"+++ b/compose/web.yaml\n"
		"@@ -1,4 +1,4 @@\n"
		" services:\n"
		"   web:\n"
		"-    image: web:1.0\n"
		"+    image: web:1.1\n"
		"     ports: [80]\n");
	free(out);
	assert_int_equal(md_git_diff_buffers(&out, "a.yaml", old, strlen(old), old, strlen(old),
					     &err), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(md_git_diff_buffers(&out, "", old, 1, new, 1, &err), -1);
	assert_null(out);
	assert_int_equal(md_git_diff_buffers(&out, "big", old, (size_t)64 << 20, new, 1, &err),
			 -1);
	assert_contains(err.msg, "big");
}

/* ---- credentials over HTTP ------------------------------------------------------ */

/* Answers every request with 401 Basic and records what it was sent. */
struct httpd {
	int fd;
	int port;
	volatile int stop;
	int requests;
	char auth[256];
	pthread_t th;
};

static void *httpd_run(void *arg)
{
	static const char resp[] = "HTTP/1.1 401 Unauthorized\r\n"
				   "WWW-Authenticate: Basic realm=\"test\"\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct httpd *h = arg;

	while (!h->stop) {
		struct pollfd p = { h->fd, POLLIN, 0 };
		char req[8192];
		size_t n = 0;
		char *a;
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		while (n < sizeof(req) - 1) {
			ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[n] = '\0';
		h->requests++;
		a = strstr(req, "Authorization: ");
		if (a)
			snprintf(h->auth, sizeof(h->auth), "%.*s", (int)strcspn(a, "\r\n"), a);
		if (write(c, resp, sizeof(resp) - 1) < 0)
			h->stop = h->stop;
		close(c);
	}
	return NULL;
}

static void httpd_start(struct httpd *h)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(h, 0, sizeof(*h));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->fd >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->fd, 8), 0);
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sa, &len), 0);
	h->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&h->th, NULL, httpd_run, h), 0);
}

static void httpd_stop(struct httpd *h)
{
	h->stop = 1;
	pthread_join(h->th, NULL);
	close(h->fd);
}

struct credlog {
	int calls;
	int answer; /* what the callback returns */
	char url[256];
};

static int test_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
		     size_t passlen)
{
	struct credlog *l = ctx;

	l->calls++;
	md_strlcpy(l->url, url, sizeof(l->url));
	md_strlcpy(user, "x-access-token", userlen);
	md_strlcpy(pass, "s3cret-token", passlen);
	return l->answer;
}

static void test_credentials_limited(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct credlog log = { 0, 0, "" };
	struct md_git *g = NULL;
	struct httpd h;
	char url[128];
	struct md_err err;

	httpd_start(&h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/acme/gitops.git", h.port);
	o.url = url;
	o.cred = test_cred;
	o.cred_ctx = &log;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 3);
	assert_contains(log.url, url);
	assert_contains(err.msg, url);
	assert_contains(err.msg, "refused the credentials 3 times");
	assert_null(strstr(err.msg, "s3cret"));
	/* base64("x-access-token:s3cret-token") */
	assert_string_equal(h.auth, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46czNjcmV0LXRva2Vu");
	assert_false(md_path_exists(f->path[0]));

	/* the callback declines: one call, then a plain authentication error */
	log.calls = 0;
	log.answer = 1;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 1);
	/* the callback fails (say, no token could be minted) */
	log.calls = 0;
	log.answer = -1;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 1);
	assert_contains(err.msg, "the credentials callback failed");
	/* and fetch of an existing clone is wired the same way */
	md_git_free(open_ok(f, 1));
	config_set(f->path[1], "remote.origin.url", url);
	o.path = f->path[1];
	log.answer = 0;
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	log.calls = 0;
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_int_equal(log.calls, 3);
	assert_contains(err.msg, "git fetch origin (");
	assert_null(strstr(err.msg, "s3cret"));
	log.calls = 0;
	assert_int_equal(md_git_push(g, &err), -1);
	assert_int_equal(log.calls, 3);
	md_git_free(g);
	httpd_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open_clones),
		T(test_open_clone_other_branch),
		T(test_open_switches_branch),
		T(test_open_url_mismatch),
		T(test_open_empty_remote),
		T(test_open_not_a_clone),
		T(test_open_readonly),
		T(test_head_unborn_then_sync),
		T(test_sync_fast_forwards),
		T(test_sync_refuses_modified),
		T(test_sync_refuses_untracked),
		T(test_sync_refuses_staged_and_deleted),
		T(test_sync_lists_five_and_more),
		T(test_sync_ignores_ignored),
		T(test_sync_diverged),
		T(test_sync_user_commit_ahead_refused),
		T(test_sync_drops_own_unpushed_commit),
		T(test_commit_push_lands),
		T(test_commit_nothing),
		T(test_commit_bad_paths),
		T(test_commit_refuses_other_staged),
		T(test_commit_too_many_paths),
		T(test_push_race_then_reset),
		T(test_list_files),
		cmocka_unit_test(test_diff_buffers),
		T(test_credentials_limited),
#undef T
	};
	char cfg[] = "/tmp/md-gitops-cfg-XXXXXX";
	int rc;

	/* Keep the tests independent of the user's and the system's git config. */
	git_libgit2_init();
	if (!mkdtemp(cfg))
		return 1;
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, cfg);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, cfg);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, cfg);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, cfg);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(cfg);
	git_libgit2_shutdown();
	return rc;
}
