/* gitops: sync: fast-forwards, refusals on local changes (modified,
 * untracked, staged, deleted; ignored files do not count), divergence,
 * the agent's own unpushed commits. */
#include "unit.h"
#include "gitops_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_sync_fast_forwards),
		T(test_sync_refuses_modified),
		T(test_sync_refuses_untracked),
		T(test_sync_refuses_staged_and_deleted),
		T(test_sync_lists_five_and_more),
		T(test_sync_ignores_ignored),
		T(test_sync_diverged),
		T(test_sync_user_commit_ahead_refused),
		T(test_sync_drops_own_unpushed_commit),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}
