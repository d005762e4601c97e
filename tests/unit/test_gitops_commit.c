/* gitops: commit and push: commits landing on the remote, nothing to
 * commit, path checks, other staged changes, a lost push race. */
#include "unit.h"
#include "gitops_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_commit_push_lands),
		T(test_commit_nothing),
		T(test_commit_bad_paths),
		T(test_commit_refuses_other_staged),
		T(test_commit_too_many_paths),
		T(test_push_race_then_reset),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}
