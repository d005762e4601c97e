/* gitops history: changed paths between commits, ancestry, file content at
 * a commit, authors of the changes to a path set, reverting a path set. */
#include "unit.h"
#include "gitops_fixture.h"

/* Seed (Other) → c1 by the agent (web) → c2 by Other (README, db) → c3 by
 * the agent (web again). Returns the clone, synced to c3. */
static struct md_git *history(struct fx *f, char c1[41], char c2[41], char c3[41])
{
	static const char *const other[] = { "README.md", "changed\n", "compose/db.yaml",
					     "image: db:1\n" };
	struct md_git *g = open_ok(f, 0);
	struct md_err err;

	commit_ok(g, "compose/web.yaml", "services:\n  web:\n    image: web:1.1\n", c1);
	assert_int_equal(md_git_push(g, &err), 0);
	remote_commit(f->remote, "main", other, 2, "by someone\n", c2);
	assert_int_equal(md_git_sync(g, &err), 0);
	commit_ok(g, "compose/web.yaml", "services:\n  web:\n    image: web:1.2\n", c3);
	assert_int_equal(md_git_push(g, &err), 0);
	return g;
}

static void test_changed_paths(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41];
	struct md_git *g = history(f, c1, c2, c3);
	struct md_strv p = { 0 };
	struct md_err err;

	assert_int_equal(md_git_changed_paths(g, f->seed, c3, &p, &err), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.v[0], "README.md");
	assert_string_equal(p.v[1], "compose/db.yaml");
	assert_string_equal(p.v[2], "compose/web.yaml");
	md_strv_clear(&p);
	assert_int_equal(md_git_changed_paths(g, c2, c3, &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0], "compose/web.yaml");
	md_strv_clear(&p);
	/* Same commit: nothing; no base: every file. */
	assert_int_equal(md_git_changed_paths(g, c3, c3, &p, &err), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(md_git_changed_paths(g, NULL, f->seed, &p, &err), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.v[0], ".gitignore");
	md_strv_clear(&p);
	/* Abbreviated ids work; junk is refused by name. */
	assert_int_equal(md_git_changed_paths(g, (char[8]){ c2[0], c2[1], c2[2], c2[3], c2[4],
							    c2[5], c2[6], 0 }, c3, &p, &err), 0);
	assert_int_equal(p.n, 1);
	md_strv_clear(&p);
	assert_int_equal(md_git_changed_paths(g, "zzzz", c3, &p, &err), -1);
	assert_contains(err.msg, "\"zzzz\" is not a commit id");
	md_git_free(g);
}

static void test_is_ancestor(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41];
	struct md_git *g = history(f, c1, c2, c3);
	struct md_err err;

	assert_int_equal(md_git_is_ancestor(g, c1, c3, &err), 1);
	assert_int_equal(md_git_is_ancestor(g, c3, c3, &err), 1);
	assert_int_equal(md_git_is_ancestor(g, c3, c1, &err), 0);
	/* A commit this repository never had (a state from elsewhere). */
	assert_int_equal(md_git_is_ancestor(g, "0123456789012345678901234567890123456789", c3,
					    &err), 0);
	assert_int_equal(md_git_is_ancestor(g, c1, "0123456789012345678901234567890123456789",
					    &err), -1);
	md_git_free(g);
}

static void test_file_at(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41];
	struct md_git *g = history(f, c1, c2, c3);
	struct md_err err;
	char *data;
	size_t len;

	assert_int_equal(md_git_file_at(g, c1, "compose/web.yaml", 4096, &data, &len, &err), 0);
	assert_string_equal(data, "services:\n  web:\n    image: web:1.1\n");
	assert_int_equal(len, strlen(data));
	free(data);
	assert_int_equal(md_git_file_at(g, f->seed, "compose/web.yaml", 4096, &data, &len, &err),
			 0);
	assert_string_equal(data, SEED_WEB);
	free(data);
	/* Absent at that commit; a directory is not a file. */
	assert_int_equal(md_git_file_at(g, c1, "compose/db.yaml", 4096, &data, &len, &err), 1);
	assert_null(data);
	assert_int_equal(md_git_file_at(g, c3, "compose", 4096, &data, &len, &err), 1);
	/* Bounded, and paths must stay inside. */
	assert_int_equal(md_git_file_at(g, c1, "compose/web.yaml", 10, &data, &len, &err), -1);
	assert_contains(err.msg, "larger than 10 bytes");
	assert_int_equal(md_git_file_at(g, c1, "../x", 10, &data, &len, &err), -1);
	assert_contains(err.msg, "not a path inside");
	md_git_free(g);
}

static void test_authors_between(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41];
	struct md_git *g = history(f, c1, c2, c3);
	struct md_strv paths = { 0 }, who = { 0 };
	struct md_err err;

	/* Only the agent touched web since the seed. */
	assert_int_equal(md_strv_push(&paths, "compose/web.yaml"), 0);
	assert_int_equal(md_git_authors_between(g, f->seed, c3, &paths, &who, &err), 0);
	assert_int_equal(who.n, 1);
	assert_string_equal(who.v[0], "bot@example.org");
	md_strv_clear(&who);
	md_strv_clear(&paths);
	/* A directory covers the files under it: both authors, newest first. */
	assert_int_equal(md_strv_push(&paths, "compose"), 0);
	assert_int_equal(md_git_authors_between(g, f->seed, c3, &paths, &who, &err), 0);
	assert_int_equal(who.n, 2);
	assert_string_equal(who.v[0], "bot@example.org");
	assert_string_equal(who.v[1], "other@example.org");
	md_strv_clear(&who);
	/* From c2 on, only c3 counts. */
	assert_int_equal(md_git_authors_between(g, c2, c3, &paths, &who, &err), 0);
	assert_int_equal(who.n, 1);
	assert_string_equal(who.v[0], "bot@example.org");
	md_strv_clear(&who);
	md_strv_clear(&paths);
	/* "." is everything; a path nobody touched has no authors. */
	assert_int_equal(md_strv_push(&paths, "nothing/here"), 0);
	assert_int_equal(md_git_authors_between(g, f->seed, c3, &paths, &who, &err), 0);
	assert_int_equal(who.n, 0);
	md_strv_clear(&paths);
	assert_int_equal(md_strv_push(&paths, "."), 0);
	assert_int_equal(md_git_authors_between(g, c1, c3, &paths, &who, &err), 0);
	assert_int_equal(who.n, 2);
	md_strv_clear(&who);
	md_strv_clear(&paths);
	md_git_free(g);
}

static void test_revert_paths(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41], oid[41], tip[41];
	struct md_git *g = history(f, c1, c2, c3);
	const char *paths[] = { "compose/web.yaml", "compose/db.yaml" };
	struct md_strv changed = { 0 };
	struct md_err err;
	char *data;

	/* Back to c1: web as it was then, db (absent then) removed. */
	assert_int_equal(md_git_revert_paths(g, c1, paths, 2, "revert web\n", oid, &err), 0);
	assert_int_equal(strlen(oid), 40);
	data = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(data, "services:\n  web:\n    image: web:1.1\n");
	free(data);
	{
		char db[256];

		snprintf(db, sizeof(db), "%s/compose/db.yaml", f->path[0]);
		assert_int_equal(md_path_exists(db), 0);
	}
	assert_int_equal(md_git_changed_paths(g, c3, oid, &changed, &err), 0);
	assert_int_equal(changed.n, 2);
	md_strv_clear(&changed);
	/* README (not in the set) keeps c2's content. */
	data = read_all(f->path[0], "README.md");
	assert_string_equal(data, "changed\n");
	free(data);
	assert_int_equal(md_git_head(g, tip, &err), 0);
	assert_string_equal(tip, oid);
	/* The work tree is clean: sync and push work. */
	assert_int_equal(md_git_push(g, &err), 0);
	assert_int_equal(md_git_sync(g, &err), 0);
	/* Again: nothing to revert, nothing changed. */
	assert_int_equal(md_git_revert_paths(g, c1, paths, 2, "revert web\n", oid, &err),
			 MD_GIT_NOTHING_TO_REVERT);
	assert_contains(err.msg, "nothing to revert");
	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_head(g, oid, &err), 0);
	assert_string_equal(oid, tip);
	md_git_free(g);
}

static void test_revert_refuses(void **state)
{
	struct fx *f = *state;
	char c1[41], c2[41], c3[41], oid[41];
	struct md_git *g = history(f, c1, c2, c3);
	const char *bad[] = { "../escape" };
	const char *web[] = { "compose/web.yaml" };
	struct md_err err;

	assert_int_equal(md_git_revert_paths(g, c1, bad, 1, "x", oid, &err), -1);
	assert_contains(err.msg, "not a path inside the work tree");
	assert_int_equal(md_git_revert_paths(g, c1, web, 1, "", oid, &err), -1);
	assert_contains(err.msg, "empty commit message");
	/* Local work in the way: refused, nothing touched. */
	write_file(f->path[0], "README.md", "local edit\n");
	assert_int_equal(md_git_revert_paths(g, c1, web, 1, "x", oid, &err), -1);
	assert_contains(err.msg, "uncommitted changes");
	md_git_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changed_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_ancestor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authors_between, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revert_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revert_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}
