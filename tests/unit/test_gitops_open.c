/* gitops: opening a checkout: cloning (other branches, empty remotes),
 * switching branches, refusing a foreign directory or URL, read-only
 * handles, an unborn HEAD until the first sync. */
#include "unit.h"
#include "gitops_fixture.h"

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
	/* the branch may come with the first fetch (a clone cut short, or git
	 * init + remote add): open leaves it to sync, which fetches first */
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "has no branch nope and no origin/nope to create it from");
	md_git_free(g);
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
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}
